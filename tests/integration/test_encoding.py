"""Issue 13, encoding: a row that is not UTF-8 is rejected (`not_utf8`) with the physical line and the
absolute byte offset of its first bad byte, and the rest of the file is used; a file is refused only when
nothing in it can be trusted (its header, or every row), naming the true line and byte.

Every expected line and byte is computed here, independently of etl_job.csv_input: the bad bytes are put
at known places, found again by a hand-written UTF-8 checker (Unicode's table of well-formed sequences),
and lines are counted on the bytes."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from etl_job import csv_input
from etl_job.catalog import RAW_COLUMNS, InputError, clean_platform, read_input_csv
from etl_job.csv_input import mark_invalid_utf8, record_taken_out
from etl_job.movies import clean_movies
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.quality import QualityReport
from etl_job.ratings import clean_ratings, read_ratings_csv
from etl_job.sources import DataSource
from streamlens.platforms import BY_CODE
from streamlens.release import read_manifest

NETFLIX = BY_CODE["n"]
MARK = "§"                        # stands for the bad bytes in the rows built below; replaced in the bytes


def ill_formed(data: bytes) -> list[int]:
    """Offsets at which an ill-formed UTF-8 sequence starts (Unicode 15, table 3-7), by hand."""
    tails = {**{b: [(0x80, 0xBF)] for b in range(0xC2, 0xE0)},
             0xE0: [(0xA0, 0xBF), (0x80, 0xBF)], 0xED: [(0x80, 0x9F), (0x80, 0xBF)],
             **{b: [(0x80, 0xBF)] * 2 for b in (*range(0xE1, 0xED), 0xEE, 0xEF)},
             0xF0: [(0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)], 0xF4: [(0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)],
             **{b: [(0x80, 0xBF)] * 3 for b in (0xF1, 0xF2, 0xF3)}}
    bad, i = [], 0
    while i < len(data):
        if data[i] < 0x80:
            i += 1
            continue
        need = tails.get(data[i])
        tail = data[i + 1:i + 1 + len(need or ())]
        if need and len(tail) == len(need) and all(lo <= c <= hi for c, (lo, hi) in zip(tail, need)):
            i += 1 + len(need)
        else:
            bad.append(i)
            i += 1
    return bad


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def build(header: list[str], rows: list[list[str]], bad: dict[int, bytes] | None = None,
          encoding: str = "utf-8") -> tuple[bytes, list[tuple[int, int]]]:
    """A CSV file (csv module, \\r\\n like the real exports) and each row's byte span; in row k of `bad`,
    MARK is replaced by those bytes."""
    def record(fields) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(fields)
        return out.getvalue().encode(encoding)

    parts, spans, offset = [record(header)], [], 0
    offset = len(parts[0])
    for k, fields in enumerate(rows):
        body = record(fields)
        if bad and k in bad:
            body = body.replace(MARK.encode(encoding), bad[k])
        parts.append(body)
        spans.append((offset, offset + len(body)))
        offset += len(body)
    return b"".join(parts), spans


def first_bad(data: bytes, spans) -> list[tuple[int, int, int]]:
    """(row, line, byte) of each row holding a bad byte, the first of that row."""
    offsets, out = ill_formed(data), []
    for k, (start, end) in enumerate(spans):
        inside = [o for o in offsets if start <= o < end]
        if inside:
            out.append((k, line_of(data, inside[0]), inside[0]))
    return out


def catalog_row(k: int, description: str = "A story.") -> list[str]:
    return [f"s{k}", "Movie", f"Title {k}", "", "", "", "March 30, 2021", "2020", "PG", "90 min", "Drama",
            description]


def not_utf8(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.attrs["not_utf8"].rows


# --- the fast path ----------------------------------------------------------------------------------------

def test_a_valid_file_is_read_as_before_with_no_copy_and_no_rejects():
    rows = [catalog_row(k, f"Zoë, naïve café 😀 東京 {k}\nsecond line") for k in range(50)]
    data, _ = build(RAW_COLUMNS, rows)
    assert mark_invalid_utf8(data).data is data
    frame = read_input_csv(data, "ok.csv")
    expected = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    pd.testing.assert_frame_equal(frame, expected)
    assert "not_utf8" not in frame.attrs


def _one_row_recorded(frame: pd.DataFrame, reason: str, line: int, byte: int, rows: int) -> QualityReport:
    """Clean a Netflix frame whose row s27 was taken out for `reason`, and check the catalogs report counts
    it in and out and keeps it in the rejects CSV with its line and byte; returns the report."""
    report = QualityReport("catalogs")
    titles = clean_platform(frame, NETFLIX, report)
    assert record_taken_out(report, NETFLIX.name, frame, rows_in=NETFLIX.name) == 1
    assert len(titles) == rows - 1
    assert report.rows_in[NETFLIX.name] == rows and report.rows_out[NETFLIX.name] == rows - 1
    assert report.rejects[NETFLIX.name] == {reason: 1}
    csv_rows = pd.read_csv(io.BytesIO(report.rejects_csv()), dtype=str, keep_default_na=False)
    assert csv_rows[["group", "reject_reason", "line", "byte", "show_id"]].values.tolist() == [
        [NETFLIX.name, reason, str(line), str(byte), "s27"]]
    return report


# --- a row that is not UTF-8 ------------------------------------------------------------------------------

def test_a_cp1252_byte_on_the_second_line_of_a_quoted_description_rejects_that_row_with_its_physical_line():
    rows = [catalog_row(k, f"First line {k}.\nSecond line.\nThird.") for k in range(40)]
    rows[27] = catalog_row(27, f"Opening line.\nThe hero{MARK}s return, in a second line.")
    data, spans = build(RAW_COLUMNS, rows, {27: b"\x92"})
    [(row, line, byte)] = first_bad(data, spans)
    assert row == 27 and data[byte] == 0x92
    assert line == 1 + 27 * 3 + 2, "the second physical line of row 27's record (3 lines per record)"

    frame = read_input_csv(data, "streaming/netflix_titles.csv")
    assert len(frame) == 39 and "s27" not in set(frame["show_id"])
    assert frame["show_id"].tolist() == [f"s{k}" for k in range(40) if k != 27]
    rejected = not_utf8(frame)
    assert rejected[["line", "byte", "invalid_bytes"]].values.tolist() == [[line, byte, "0x92"]]
    assert rejected["show_id"].tolist() == ["s27"] and "hero\ufffds return" in rejected["description"].iloc[0]

    report = _one_row_recorded(frame, "not_utf8", line, byte, rows=40)
    assert any(f"line {line:,}, byte offset {byte:,}" in note for note in report.notes)


@pytest.mark.parametrize("bad", [
    b"\x92",                    # cp1252 right quote
    b"\xe9",                    # Latin-1 e acute
    b"\xc3",                    # a two-byte character cut after its first byte
    b"\xe2\x80",                # a three-byte character cut
    b"\xed\xa0\x80",            # an encoded surrogate
    b"\xc0\xaf",                # an overlong '/'
    b"\xf4\x90\x80\x80",        # beyond U+10FFFF
    b"\x80",                    # a lone continuation byte
    b"\xff\xfe",                # never in UTF-8
    b"ok \xe9 and \x92 twice",  # two in one row: the first is reported
])
def test_every_kind_of_ill_formed_sequence_rejects_its_row_at_its_first_byte(bad):
    rows = [catalog_row(k, f"Plain {k}.") for k in range(12)]
    rows[5] = catalog_row(5, f"Before{MARK}after")
    data, spans = build(RAW_COLUMNS, rows, {5: bad})
    [(row, line, byte)] = first_bad(data, spans)
    frame = read_input_csv(data, "x.csv")
    assert row == 5 and len(frame) == 11 and "s5" not in set(frame["show_id"])
    assert not_utf8(frame)[["line", "byte"]].values.tolist() == [[line, byte]]


def test_a_latin1_catalog_keeps_its_ascii_rows_and_rejects_each_other_row_with_its_line_and_byte():
    names = ["José Luis", "Zoë", "Ana", "Björk", "Plain", "Renée\nFleming", "Ok", "Ça va"]
    rows = [catalog_row(k, f"{names[k % len(names)]} {k}") for k in range(64)]
    data, spans = build(RAW_COLUMNS, rows, encoding="latin-1")
    expected = first_bad(data, spans)
    assert len(expected) == 40
    frame = read_input_csv(data, "latin1.csv")
    assert not_utf8(frame)[["line", "byte"]].values.tolist() == [[line, byte] for _, line, byte in expected]
    assert frame["show_id"].tolist() == [f"s{k}" for k in range(64) if k not in {r for r, _, _ in expected}]


@pytest.mark.parametrize("chunk", [4, 5, 6, 7, 8, 13])
def test_decoding_by_chunks_never_cuts_a_character_and_finds_the_same_bytes(monkeypatch, chunk):
    """The slow path decodes 8 MB at a time; with tiny chunks every boundary falls somewhere in a
    character, a bad sequence or a run of them."""
    data = ("é€😀a" * 20).encode() + b"\xe2\x80A\xf0\x9f\x98\x80\x80\x80\x80\xc3" + "é😀".encode() + \
        b"\xed\xa0\x80z\xff" + "é€😀a".encode() * 3 + b"\x92\xc3"
    monkeypatch.setattr(csv_input, "_CHUNK", chunk)
    marked = mark_invalid_utf8(data, check=False)
    assert marked.readable(marked.data.decode()) == data.decode("utf-8", "replace"), "same sequences, same grouping"
    bad = ill_formed(data)
    assert {start for start, _ in marked.spans} <= set(bad)
    assert all(any(start <= o < end for start, end in marked.spans) for o in bad)


# --- files that cannot be trusted at all --------------------------------------------------------------------

def test_a_header_that_is_not_utf8_refuses_the_file_naming_line_1_and_the_byte():
    data, _ = build([*RAW_COLUMNS[:-1], "descripción"], [catalog_row(k) for k in range(5)], encoding="latin-1")
    [offset] = ill_formed(data)
    with pytest.raises(InputError, match=rf"wrong encoding.*header.*0xf3 on line 1, at byte offset {offset}\b"):
        read_input_csv(data, "header.csv")


def test_a_utf16_catalog_is_refused_naming_its_byte_order_mark():
    """'Ĭ' is 0x2c 0x01 in UTF-16: a comma byte, so the rows no longer parse; the header still says why."""
    rows = [",".join(catalog_row(1, "Plain")), ",".join(catalog_row(2, "Ĭ Ĭ Ĭ"))]
    data = "\n".join([",".join(RAW_COLUMNS), *rows]).encode("utf-16")
    with pytest.raises(InputError, match=r"wrong encoding.*byte 0xff on line 1, at byte offset 0.*UTF-16"):
        read_input_csv(data, "utf16.csv")


def test_a_file_with_no_utf8_row_is_refused_naming_the_true_line_and_byte_of_the_first_bad_one():
    rows = [catalog_row(k, f"Line one.\nLine two.\nCafé {k}") for k in range(6)]
    data, spans = build(RAW_COLUMNS, rows, encoding="latin-1")
    (_, line, byte), *_ = first_bad(data, spans)
    assert line == 4, "the header, then row 0's first two lines: the bad byte is on the third"
    with pytest.raises(InputError, match=rf"none of its 6 rows is UTF-8.*0xe9 on line 4, at byte offset {byte:,}"):
        read_input_csv(data, "all-latin1.csv")


# --- ratings (pyarrow) ---------------------------------------------------------------------------------------

TITLES = pd.Series(["as1", "as2", "ns1", "hs7"])
NOW = 1_700_000_000
RATING_HEADER = ["userId", "rating", "timestamp", "movieId"]


def test_pyarrow_refuses_a_whole_file_for_one_invalid_byte_and_crashes_on_a_bad_header():
    """Why the ratings reader marks the bytes first: what pyarrow does on its own."""
    data = b"userId,rating,timestamp,movieId\n1,4.0,1600000000,as1\n2,4.0,1600000000,a\xe9s2\n"
    for movie_id in (pa.string(), pa.dictionary(pa.int32(), pa.string())):     # the reader's two types
        with pytest.raises(pa.ArrowInvalid, match="invalid UTF8"):
            pacsv.read_csv(io.BytesIO(data), convert_options=pacsv.ConvertOptions(column_types={"movieId": movie_id}))
    assert pacsv.read_csv(io.BytesIO(data)).schema.field("movieId").type == pa.binary(), "untyped: bytes, unchecked"
    with pytest.raises(pa.ArrowInvalid, match="invalid value"):
        pacsv.read_csv(io.BytesIO(data.replace(b"\n2,", b"\n2\xe9,")),
                       convert_options=pacsv.ConvertOptions(column_types={"userId": pa.int64()}))
    with pytest.raises(UnicodeDecodeError):
        pacsv.read_csv(io.BytesIO(data.replace(b"movieId", b"movie\xe9Id"))).to_pandas()


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_a_ratings_row_that_is_not_utf8_is_rejected_with_its_line_and_the_rest_used(column):
    rows = [[str(1 + k), "4.0", str(1_600_000_000 + k), ["as1", "as2", "ns1", "hs7"][k % 4]]
            for k in range(2_000)]
    rows[1234][column] = rows[1234][column][:1] + MARK + rows[1234][column][1:]
    data, spans = build(RATING_HEADER, rows, {1234: b"\x92"})
    [(row, line, byte)] = first_bad(data, spans)
    assert (row, line) == (1234, 1236)
    frame = read_ratings_csv(data, "r.csv")
    assert len(frame) == 1_999
    report = QualityReport("ratings")
    clean = clean_ratings([frame], TITLES, report, now=NOW)
    assert report.rejects["malformed"] == {"not_utf8": 1}
    assert report.rows_in["ratings"] == 2_000 and report.total_rejected == 1 and len(clean) == 1_999
    kept = report.rejected_rows()
    mine = kept[kept["reject_reason"] == "not_utf8"]
    assert mine[["line", "byte", "source"]].values.tolist() == [[line, byte, "r.csv"]]


def test_a_ratings_file_with_a_bad_byte_and_a_wrong_field_count_keeps_both_lines():
    rows = [[str(1 + k), "4.0", str(1_600_000_000 + k), "as1"] for k in range(10)]
    data, _ = build(RATING_HEADER, rows)
    lines = data.split(b"\r\n")
    lines[4] += b",extra"                       # row 3, line 5: a field too many
    lines[8] = lines[8].replace(b"as1", b"as\x921")   # row 7, line 9
    data = b"\r\n".join(lines)
    [byte] = ill_formed(data)
    report = QualityReport("ratings")
    clean_ratings([read_ratings_csv(data, "both.csv")], TITLES, report, now=NOW)
    assert report.rejects["malformed"] == {"wrong_field_count": 1, "not_utf8": 1}
    kept = report.rejected_rows().set_index("reject_reason")
    assert kept.loc["wrong_field_count", "line"] == 5 and kept.loc["not_utf8", "line"] == 9 == line_of(data, byte)
    assert kept.loc["not_utf8", "byte"] == byte and report.rows_in["ratings"] == 10


def test_a_ratings_header_that_is_not_utf8_is_refused_not_a_crash():
    data = b"userId,rating,timestamp,movie\xe9Id\n1,4.0,1600000000,as1\n"
    with pytest.raises(InputError, match=r"r\.csv: wrong encoding.*header.*0xe9 on line 1, at byte offset 29"):
        read_ratings_csv(data, "r.csv")


def test_a_ratings_file_of_which_no_row_is_utf8_is_refused_with_the_first_line():
    data = b"userId,rating,timestamp,movieId\n1,4.0,1600000000,as\xe91\n2,4.0,1600000000,as\xe92\n"
    first = data.index(b"\xe9")
    with pytest.raises(InputError, match=rf"none of its 2 rows is UTF-8.*0xe9 on line 2, at byte offset {first}\b"):
        read_ratings_csv(data, "r.csv")


# --- the real files ------------------------------------------------------------------------------------------

def _record_spans(data: bytes) -> list[tuple[int, int]]:
    """Each record's byte span, from the csv module's physical line count (Latin-1: one byte per char)."""
    starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
    reader = csv.reader(io.StringIO(data.decode("latin-1"), newline=""))
    spans, previous = [], 0
    for _ in reader:
        spans.append((starts[previous], starts[reader.line_num] if reader.line_num < len(starts) else len(data)))
        previous = reader.line_num
    return spans[1:]


def test_the_real_movies_metadata_with_a_cp1252_byte_in_a_multi_line_overview(shared_data):
    data = (shared_data / "movies" / "movies_metadata.csv").read_bytes()
    records = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    k = max(i for i, r in enumerate(records) if "\n" in r["overview"])     # the last multi-line overview
    overview = records[k]["overview"].replace('"', '""').encode()          # as the file quotes it
    at = data.index(overview) + overview.index(b"\n") + 1
    at += data[at:].index(b" ")                 # after the first word of the overview's second line
    mangled = data[:at] + b"\x92" + data[at:]
    assert ill_formed(mangled) == [at] and line_of(mangled, at) > line_of(data, data.index(overview)) > k + 2

    frame = read_input_csv(mangled, "movies/movies_metadata.csv")
    assert len(frame) == len(records) - 1 and records[k]["id"] not in set(frame["id"])
    rejected = not_utf8(frame)
    assert rejected[["line", "byte", "id"]].values.tolist() == [[line_of(mangled, at), at, records[k]["id"]]]
    report = QualityReport("movies")
    movies = clean_movies(frame, None, report)
    before = len(clean_movies(read_input_csv(data, "m.csv"), None, QualityReport("movies")))
    record_taken_out(report, "movies", frame, rows_in="movies")
    assert len(movies) == before - 1 and report.rejects["movies"]["not_utf8"] == 1
    assert report.rows_in["movies"] == len(records)


def test_the_real_netflix_catalog_exported_as_latin1(shared_data, raw_rows):
    data = (shared_data / "streaming" / NETFLIX.filename).read_bytes().decode().encode("latin-1", "replace")
    spans = _record_spans(data)
    assert len(spans) == len(raw_rows["n"])
    expected = first_bad(data, spans)
    expected_ids = {raw_rows["n"][k]["show_id"] for k, _, _ in expected}
    assert expected_ids == {r["show_id"] for r in raw_rows["n"]
                            if any("\x80" <= c <= "\xff" for v in r.values() for c in v)}
    frame = read_input_csv(data, NETFLIX.filename)
    found = frame.attrs["not_utf8"]
    assert found.count == len(expected) > 1_000 and len(frame) == len(raw_rows["n"]) - len(expected)
    assert found.rows[["line", "byte"]].values.tolist() == [[line, byte] for _, line, byte in expected[:1_000]]
    assert (expected[0][1], expected[0][2]) == (8, data.index(b"\xe9"))
    assert not expected_ids & set(frame["show_id"])
    report = QualityReport("catalogs")
    clean_platform(frame, NETFLIX, report)
    record_taken_out(report, NETFLIX.name, frame, rows_in=NETFLIX.name)
    assert report.rejects[NETFLIX.name]["not_utf8"] == len(expected) and report.rows_in[NETFLIX.name] == len(spans)


# --- the ETL, end to end --------------------------------------------------------------------------------------

def _mangle(path, needle: bytes, bad: bytes = b"\x92") -> tuple[int, int]:
    """Put `bad` before the first `needle` after the file's middle; (line, byte) of it."""
    data = path.read_bytes()
    at = data.index(needle, len(data) // 2)
    path.write_bytes(data[:at] + bad + data[at:])
    return line_of(data, at), at


def test_the_etl_publishes_with_the_bad_rows_in_the_rejects_and_refuses_a_file_with_a_bad_header(
        s3_env, full_data_dir, tmp_path):
    settings, store = s3_env
    folder = tmp_path / "data"
    shutil.copytree(full_data_dir, folder)
    catalog = _mangle(folder / "streaming" / NETFLIX.filename, b",Movie,")
    ratings = _mangle(min((folder / "streaming" / "ratings").glob("*.csv")), b",4,")
    movies = _mangle(folder / "movies" / "movies_metadata.csv", b"'name'")

    summary = run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress(io.StringIO()))
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"]
    quality = json.loads(store.get(manifest["objects"]["reports/quality.json"]["key"]))
    assert quality["catalogs"]["rejects"][NETFLIX.name]["not_utf8"] == 1
    assert quality["ratings"]["rejects"]["malformed"]["not_utf8"] == 1
    assert quality["movies"]["rejects"]["movies"]["not_utf8"] == 1
    for name, (line, byte) in (("catalogs", catalog), ("ratings", ratings), ("movies", movies)):
        rejects = pd.read_csv(io.BytesIO(store.get(manifest["objects"][f"reports/rejects_{name}.csv"]["key"])),
                              dtype=str, keep_default_na=False)
        mine = rejects[rejects["reject_reason"] == "not_utf8"]
        assert mine[["line", "byte"]].values.tolist() == [[str(line), str(byte)]], name

    header = folder / "streaming" / "hulu_titles.csv"
    header.write_bytes(header.read_bytes().replace(b"description", b"descripci\xf3n", 1))
    with pytest.raises(InputError, match=r"hulu_titles\.csv: wrong encoding.*header.*0xf3 on line 1, at byte offset"):
        run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress(io.StringIO()))
    assert read_manifest(store, settings)["release_id"] == summary["release_id"]


# --- a file cut inside a quoted field (an interrupted upload) -------------------------------------------------
# The expected line and byte of the cut record come from build()'s record spans or the csv module's records,
# never from etl_job.csv_input; the rows kept are compared with a csv-module parse of the same bytes.

def csv_records(data: bytes) -> list[list[str]]:
    """The csv module's reading of the bytes: its last record, cut, comes out as far as it goes."""
    return list(csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline="")))


def cut_record(frame: pd.DataFrame) -> pd.Series:
    found = frame.attrs["unterminated_quote"]
    assert found.count == 1 and len(found.rows) == 1
    return found.rows.iloc[0]


def multi_line_catalog() -> tuple[bytes, list[tuple[int, int]]]:
    """Descriptions over three physical lines, with `,"`, `",` and doubled quotes inside: a scan that took
    any of them for a field or record boundary would cut in the wrong place."""
    rows = [catalog_row(k, f'Line one of {k}, "quoted",\nline two, "a ""b"" c"\n"last", line.') for k in range(40)]
    return build(RAW_COLUMNS, rows)


@pytest.mark.parametrize("into", [
    1,                            # just after the description's opening quote
    20,                           # in its first line
    "\n",                         # just after its first line break
    '""b',                        # inside a doubled-quote run, after a whole pair
    '""b""',                      # after the run's closing pair
    "\nline two",                 # on its second line
])
def test_a_catalog_cut_inside_a_multi_line_quoted_description_keeps_the_rows_before_and_rejects_the_cut_one(into):
    data, spans = multi_line_catalog()
    start, end = spans[27]
    quote = data.rindex(b',"Line one', start, end) + 1             # the description's opening quote
    at = quote + into if isinstance(into, int) else data.index(into.encode(), quote) + len(into)
    cut = data[:at]
    line = line_of(data, start)
    assert line == 1 + 27 * 3 + 1, "after the header and 27 records of 3 physical lines each"

    frame = read_input_csv(cut, "streaming/netflix_titles.csv")
    records = csv_records(cut)
    assert records[-1][0] == "s27" and len(records) == 1 + 28
    assert frame.columns.tolist() == records[0] and frame.values.tolist() == records[1:-1]
    assert frame["show_id"].tolist() == [f"s{k}" for k in range(27)] and "not_utf8" not in frame.attrs
    rejected = cut_record(frame)
    assert (rejected["line"], rejected["byte"]) == (line, start)
    assert rejected["text"] == cut[start:].decode() and rejected["show_id"] == "s27"
    assert rejected["title"] == "Title 27" and rejected["source"] == "streaming/netflix_titles.csv"

    report = _one_row_recorded(frame, "unterminated_quote", line, start, rows=28)
    assert any(f"unterminated_quote (the first on line {line:,}, byte offset {start:,})" in n for n in report.notes)


def test_a_cut_record_keeps_500_characters_of_its_text():
    rows = [catalog_row(k) for k in range(5)] + [catalog_row(5, "Long, " + "é" * 2_000)]
    data, spans = build(RAW_COLUMNS, rows)
    frame = read_input_csv(data[:-300], "x.csv")
    assert len(frame) == 5
    assert cut_record(frame)["text"] == data[spans[5][0]:].decode()[:500]


def test_a_cut_file_with_a_row_that_is_not_utf8_rejects_both_at_their_bytes_in_the_original():
    """The not-UTF-8 bytes are replaced by longer tokens while parsing: the cut is still reported where
    it is in the file, and both rejects go through the same recording with their own reason."""
    rows = [catalog_row(k, f"Plain, {k}.\nSecond line.") for k in range(12)]
    rows[4] = catalog_row(4, f"Caf{MARK}, again")
    data, spans = build(RAW_COLUMNS, rows, {4: b"\xe9\x92"})
    [(_, bad_line, bad_byte)] = first_bad(data, spans)
    start = spans[9][0]
    cut = data[:data.index(b"Second", start)]
    frame = read_input_csv(cut, "x.csv")
    assert frame["show_id"].tolist() == [f"s{k}" for k in range(9) if k != 4]
    assert not_utf8(frame)[["line", "byte", "show_id"]].values.tolist() == [[bad_line, bad_byte, "s4"]]
    assert (cut_record(frame)["line"], cut_record(frame)["byte"]) == (line_of(data, start), start)
    report = QualityReport("catalogs")
    clean_platform(frame, NETFLIX, report)
    assert record_taken_out(report, NETFLIX.name, frame, rows_in=NETFLIX.name) == 2
    assert report.rejects[NETFLIX.name] == {"not_utf8": 1, "unterminated_quote": 1}
    assert report.rows_in[NETFLIX.name] == 10
    kept = report.rejected_rows().set_index("reject_reason")
    assert kept.loc["not_utf8", "invalid_bytes"] == "0xe9 0x92" and kept.loc["unterminated_quote", "byte"] == start


@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_the_cut_record_starts_after_the_last_line_break_outside_quotes_whatever_the_line_breaks(eol):
    text = eol.join(["a,b,c", '1,"x,\ny",z', '2,a 5" screen,"w', 'v"', '3,"open', "still, open"])
    frame = read_input_csv(text.encode(), "x.csv")
    assert frame.values.tolist() == [["1", "x,\ny", "z"], ["2", 'a 5" screen', f"w{eol}v"]]
    start = text.index("3,")
    rejected = cut_record(frame)
    assert rejected["byte"] == start and rejected["text"] == text[start:]
    assert rejected["line"] == text[:start].count("\n" if "\n" in text else "\r") + 1
    assert rejected[["a"]].tolist() == ["3"] and "b" not in rejected


def test_a_file_cut_inside_its_header_is_refused_naming_the_line_and_byte():
    data = b'show_id,type,"title\n'
    with pytest.raises(InputError,
                       match=r"ends inside its header.*opened on line 1, at byte offset 13, is never closed"):
        read_input_csv(data, "header.csv")


def test_a_file_whose_only_row_is_cut_is_refused():
    data, _ = build(RAW_COLUMNS, [catalog_row(0, "Cut, here")])
    quote = data.rindex(b'"Cut')
    with pytest.raises(InputError, match=rf"ends inside its first row, which starts on line 2 .*byte offset "
                                         rf"{quote}, is never closed.*no row of it is complete"):
        read_input_csv(data[:-5], "one.csv")


def test_a_quote_left_open_in_a_file_that_is_otherwise_unreadable_is_still_refused():
    data, _ = build(RAW_COLUMNS, [catalog_row(k) for k in range(5)])
    lines = data.split(b"\r\n")
    lines[2] += b",extra,fields"                                 # row 1: too many fields
    with pytest.raises(InputError, match=r"not a readable CSV file .*Expected 12 fields in line 3, saw 14"):
        read_input_csv(b"\r\n".join(lines) + b's9,"open', "x.csv")


def test_the_real_netflix_catalog_cut_in_the_middle_of_a_description(shared_data):
    data = (shared_data / "streaming" / NETFLIX.filename).read_bytes()
    spans = _record_spans(data)
    records = csv_records(data)[1:]
    assert len(records) == len(spans)
    k = next(k for k in range(len(records) // 2, len(records)) if "," in records[k][-1])   # quoted: it has a comma
    start, end = spans[k]
    description = records[k][-1].replace('"', '""').encode()
    quote = data.rindex(b',"' + description, start, end) + 1
    at = data.index(b" ", quote + len(description) // 2)                  # at a space in its middle
    cut = data[:at]

    frame = read_input_csv(cut, NETFLIX.filename)
    expected = csv_records(cut)
    assert frame.columns.tolist() == expected[0] and len(expected) == k + 2
    assert frame.values.tolist() == expected[1:-1] == records[:k], "every row before, exactly as the csv module"
    rejected = cut_record(frame)
    assert (rejected["line"], rejected["byte"]) == (line_of(data, start), start)
    assert rejected["show_id"] == records[k][0] == expected[-1][0]
    assert rejected["text"] == cut[start:].decode()[:500]
    report = QualityReport("catalogs")
    clean_platform(frame, NETFLIX, report)
    assert record_taken_out(report, NETFLIX.name, frame, rows_in=NETFLIX.name) == 1
    assert report.rejects[NETFLIX.name]["unterminated_quote"] == 1 and report.rows_in[NETFLIX.name] == k + 1


def test_the_etl_publishes_a_catalog_cut_inside_a_quoted_field_with_the_cut_row_in_the_rejects(
        s3_env, full_data_dir, tmp_path):
    settings, store = s3_env
    folder = tmp_path / "data"
    shutil.copytree(full_data_dir, folder)
    path = folder / "streaming" / NETFLIX.filename
    data = path.read_bytes()
    spans = _record_spans(data)
    quote = data.rindex(b',"', 0, len(data) - 2_000) + 1                 # a quoted field of one of the last rows
    start = next(s for s, e in spans if s <= quote < e)
    path.write_bytes(data[:quote + 5])
    show_id = data[start:data.index(b",", start)].decode()

    summary = run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress(io.StringIO()))
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"]
    quality = json.loads(store.get(manifest["objects"]["reports/quality.json"]["key"]))
    assert quality["catalogs"]["rejects"][NETFLIX.name]["unterminated_quote"] == 1
    rejects = pd.read_csv(io.BytesIO(store.get(manifest["objects"]["reports/rejects_catalogs.csv"]["key"])),
                          dtype=str, keep_default_na=False)
    mine = rejects[rejects["reject_reason"] == "unterminated_quote"]
    assert mine[["group", "line", "byte", "show_id"]].values.tolist() == [
        [NETFLIX.name, str(line_of(data, start)), str(start), show_id]]
