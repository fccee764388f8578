"""Ratings: read every file, validate every row, join to the titles, score.

Files are read with a typed fast path; a file that does not parse that way is
re-read as text so that each bad row is found, counted and kept with its
reason instead of failing the whole run. A row with more or fewer fields than
the header is taken out as it is met (pyarrow's invalid-row handler: linear
time, positional, never shifting the other rows) and rejected as
`wrong_field_count` with its line number and text. A row that is not UTF-8
(pyarrow refuses the whole file, or crashes on a header that is not) is taken
out with its line and byte offset and rejected as `not_utf8` (etl_job.csv_input).
"""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from streamlens.platforms import BY_CODE

from .catalog import InputError, check_columns, read_input_csv
from .csv_input import Unreadable, mark_invalid_utf8, record_taken_out, take_out_marked
from .quality import QualityReport

RATING_COLUMNS = ["userId", "rating", "timestamp", "movieId"]
VALID_RATINGS = np.arange(1, 11) / 2.0
MIN_TIMESTAMP = 788_918_400  # 1995-01-01, before any streaming service took ratings

_TYPED = {"userId": pa.int64(), "rating": pa.float64(), "timestamp": pa.int64(),
          "movieId": pa.dictionary(pa.int32(), pa.string())}
REASONS = ("bad_user_id", "bad_rating", "bad_timestamp", "missing_movie_id", "unknown_title")


_TEXT = {"userId": pa.string(), "rating": pa.string(), "timestamp": pa.string(),
         "movieId": pa.dictionary(pa.int32(), pa.string())}
MAX_WRONG_FIELD_ROWS = 1_000     # wrong-field rows kept with their line and text per file; all are counted


def _read_arrow(data: bytes, types: dict, wrong: list) -> pd.DataFrame:
    """Rows whose field count differs from the header's are skipped here and collected in `wrong`."""
    def skip(row) -> str:
        wrong.append((row.actual_columns, row.text if len(wrong) < MAX_WRONG_FIELD_ROWS else None))
        return "skip"

    table = pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
                           convert_options=pacsv.ConvertOptions(column_types=types))
    # Integers stay integers where a value is blank: as floats, one blank user id made every id of the file
    # "1.0", a bad_user_id.
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def _wrong_field_rows(data: bytes, wrong: list, expected: int) -> list[dict]:
    """The kept wrong-field rows with their 1-based line numbers, found by one forward scan of the file."""
    rows, offset, line = [], 0, 1
    for fields, text in wrong:
        if text is None:
            break
        found = data.find(text.encode("utf-8", "replace"), offset)
        if found >= 0:
            line += data.count(b"\n", offset, found)
            offset = found
        rows.append({"line": line if found >= 0 else "", "fields": f"{fields} (header: {expected})",
                     "text": text[:500]})
    return rows


def read_ratings_csv(data: bytes, source: str) -> pd.DataFrame:
    """One ratings file; typed when clean, all-text when some value is not.

    movieId arrives dictionary-encoded (a Categorical): ids repeat millions
    of times, so string work happens once per distinct id. Rows with the wrong
    number of fields are in attrs["wrong_field_count"] (count, kept rows); rows
    that are not UTF-8 in attrs["not_utf8"] (csv_input.TakenOutRows). The file
    is read with each invalid UTF-8 sequence replaced by a token (same rows,
    same line breaks), so pyarrow reads it and the marked rows are taken out.
    """
    if not data.strip():
        raise InputError(f"{source}: the file is empty")
    marked = mark_invalid_utf8(data)
    text = marked.data
    wrong: list = []
    try:
        frame = _read_arrow(text, _TYPED, wrong)
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError):
        wrong = []
        try:
            frame = _read_arrow(text, _TEXT, wrong)
        except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError):
            wrong = []
            frame = read_input_csv(text, source, index_col=False, on_bad_lines="warn")
    try:
        frame = take_out_marked(frame, marked, source)
    except Unreadable as exc:
        raise InputError(str(exc)) from exc
    check_columns(frame, RATING_COLUMNS, source)
    frame = frame[RATING_COLUMNS].assign(movieId=lambda f: f["movieId"].astype("category"))
    frame.attrs["source"] = source
    wrong_rows = _wrong_field_rows(text, wrong, len(RATING_COLUMNS))
    for row in wrong_rows:
        row["text"] = marked.readable(row["text"])
    frame.attrs["wrong_field_count"] = (len(wrong), wrong_rows)
    return frame


MAX_USER_ID = "9223372036854775807"     # 2^63 - 1


def _user_ids(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(ids as int64, bad mask). A user id is an integer from 1 to 2^63 - 1 in ASCII digits: `inf`, `1e30`,
    `4.5`, `-3`, 2^63 or digits of other scripts are rejected, never rounded through a float (which made
    ids above 2^53 merge and `inf` one bogus negative user)."""
    if pd.api.types.is_integer_dtype(column.dtype):   # the typed path: pyarrow parsed every value exactly
        missing = column.isna().to_numpy(dtype=bool)
        values = column.fillna(0).to_numpy(dtype=np.int64)
        return values, missing | (values <= 0)
    text = column.astype(str).str.strip()
    ok = (text.str.fullmatch(r"[1-9][0-9]{0,18}").fillna(False)
          & ((text.str.len() < len(MAX_USER_ID)) | (text <= MAX_USER_ID))).to_numpy(dtype=bool)
    values = np.zeros(len(text), dtype=np.int64)
    values[ok] = text[ok].astype(np.int64).to_numpy()
    return values, ~ok


def _group_of(movie_ids: pd.Series) -> pd.Series:
    first = movie_ids.astype(str).str[:1]
    return first.map({code: p.name for code, p in BY_CODE.items()}).fillna("unknown")


def _describe(row: pd.Series) -> dict:
    return {c: row.get(c) for c in ("source", "userId", "movieId", "rating", "timestamp")}


def _record_rejects(report: QualityReport, rows: pd.DataFrame, reasons: pd.Series) -> None:
    """Positionally: the rows' index is never trusted to be unique. A few rows per user and reason are
    kept whole (every one is counted): enough to fix the export, not anyone's whole history."""
    rows, reasons = rows.reset_index(drop=True), reasons.reset_index(drop=True)
    for group, positions in rows.groupby(_group_of(rows["movieId"])).indices.items():
        report.rejected(group if group == "unknown" else f"ratings:{group}", reasons.iloc[positions],
                        rows.iloc[positions], _describe, key=rows["userId"].iloc[positions])


def _record_wrong_fields(report: QualityReport, frame: pd.DataFrame) -> None:
    count, rows = frame.attrs.get("wrong_field_count", (0, []))
    if not count:
        return
    kept = pd.DataFrame(rows, columns=["line", "fields", "text"])
    report.rows_in["ratings"] = report.rows_in.get("ratings", 0) + count
    source = frame.attrs.get("source", "")
    report.rejected("malformed", pd.Series("wrong_field_count", index=kept.index), kept.assign(source=source),
                    lambda row: {"source": source, "line": row.get("line"), "text": row.get("text")})
    report.counted("malformed", "wrong_field_count", count - len(kept))
    report.notes.append(f"{source}: {count:,} rows with the wrong number of fields were rejected "
                        f"(the first {len(kept):,} kept with their line and text)")


def validate_ratings(
    frame: pd.DataFrame, title_ids: pd.Series, report: QualityReport, now: float | None = None
) -> pd.DataFrame:
    """One file's valid ratings as columns user, item (row in title_ids), rating, timestamp."""
    now = time.time() if now is None else now
    _record_wrong_fields(report, frame)
    record_taken_out(report, "malformed", frame, rows_in="ratings")
    report.rows_in["ratings"] = report.rows_in.get("ratings", 0) + len(frame)
    user, bad_user = _user_ids(frame["userId"])
    rating = pd.to_numeric(frame["rating"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    stamp = pd.to_numeric(frame["timestamp"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    movie = frame["movieId"].cat
    names = movie.categories.astype(str).str.strip().str.lower()
    codes = movie.codes.to_numpy()
    category_item = pd.Index(title_ids).get_indexer(names)
    item = np.where(codes >= 0, category_item[codes], -1)
    blank = np.asarray(names == "")

    with np.errstate(invalid="ignore"):
        checks = (
            bad_user,
            ~np.isin(rating, VALID_RATINGS),
            ~(stamp >= MIN_TIMESTAMP) | (stamp > now + 86_400),
            (codes < 0) | np.where(codes >= 0, blank[codes], True),
        )
    flags = np.zeros(len(frame), dtype=np.uint8)
    for bit, mask in enumerate(checks):
        flags |= mask.astype(np.uint8) << bit
    flags[(flags == 0) & (item < 0)] = 1 << REASONS.index("unknown_title")

    valid_otherwise = flags == 1 << REASONS.index("unknown_title")
    if len(frame) and not (item >= 0).any() and valid_otherwise.any():
        examples = ", ".join(sorted(set(names[codes[valid_otherwise][:1000]]))[:3])
        raise InputError(f"{frame.attrs.get('source', 'a ratings file')}: none of its {len(frame):,} ratings names a "
                         f"title of the catalogs (ids such as {examples}; ids are the platform letter and show_id, "
                         "e.g. ns1): is it the ratings of another catalog?")
    good = flags == 0
    if not good.all():
        labels = {int(f): "; ".join(r for b, r in enumerate(REASONS) if f & (1 << b)) for f in np.unique(flags[~good])}
        rows = frame[~good].astype(str).assign(source=frame.attrs.get("source", ""))
        _record_rejects(report, rows, pd.Series(flags[~good], index=rows.index).map(labels))
        unknown = int((flags == 1 << REASONS.index("unknown_title")).sum())
        if unknown:
            report.notes.append(f"{unknown:,} ratings in {frame.attrs.get('source', 'a file')} name a title id absent "
                                "from the catalogs (kept in the rejects report, not used for scores or training)")
    return clean_frame(user[good], item[good], rating[good], stamp[good])


def clean_frame(user, item, rating, timestamp) -> pd.DataFrame:
    """The clean ratings as every path hands them on (this engine, the Spark engine, a Spark job's stage):
    user int64, item int32 (the title's position in the catalog), rating float32, timestamp int64."""
    return pd.DataFrame({"user": np.asarray(user, np.int64), "item": np.asarray(item, np.int32),
                         "rating": np.asarray(rating, np.float32), "timestamp": np.asarray(timestamp, np.int64)})


def drop_superseded(clean: pd.DataFrame, title_ids: pd.Series, report: QualityReport) -> pd.DataFrame:
    """Keep only a user's latest rating of a title; the earlier ones are rejected, with their values."""
    key = clean["user"].to_numpy() * np.int64(len(title_ids)) + clean["item"].to_numpy()
    repeated = pd.Series(key).duplicated(keep=False).to_numpy()
    if repeated.any():
        candidates = np.flatnonzero(repeated)
        order = np.lexsort((-clean["timestamp"].to_numpy()[candidates], key[candidates]))
        ranked = candidates[order]
        dropped = np.sort(ranked[1:][key[ranked][1:] == key[ranked][:-1]])
        gone = clean.iloc[dropped]
        rows = pd.DataFrame({"userId": gone["user"], "rating": gone["rating"], "timestamp": gone["timestamp"],
                             "movieId": title_ids.to_numpy()[gone["item"].to_numpy()], "source": ""}).astype(str)
        _record_rejects(report, rows, pd.Series("superseded_by_later_rating", index=rows.index))
        keep = np.ones(len(clean), dtype=bool)
        keep[dropped] = False
        clean = clean[keep].reset_index(drop=True)
    report.rows_out["ratings"] = report.rows_out.get("ratings", 0) + len(clean)
    return clean


def clean_ratings(frames, title_ids: pd.Series, report: QualityReport, now: float | None = None) -> pd.DataFrame:
    """Validate each frame as it comes (memory stays one file deep), then resolve repeats across files."""
    parts = [validate_ratings(frame, title_ids, report, now) for frame in frames]
    if not parts:
        raise InputError("no ratings to clean")
    return drop_superseded(pd.concat(parts, ignore_index=True), title_ids, report)


def clean_movielens_ratings(data: bytes, source: str, report: QualityReport) -> pd.DataFrame:
    """MovieLens ratings (ratings_small.csv: userId, movieId, rating, timestamp) validated exactly as the
    streaming ratings are, a movie id being a positive integer; columns userId, movieId, rating, timestamp."""
    frame = read_ratings_csv(data, source)
    names = frame["movieId"].cat.categories.astype(str).str.strip()
    ids = pd.Series(sorted({n for n in names if n.isascii() and n.isdigit() and int(n) > 0}, key=int), dtype=object)
    clean = clean_ratings([frame], ids, report)
    return pd.DataFrame({"userId": clean["user"].to_numpy(), "movieId": ids.to_numpy()[clean["item"]].astype(np.int64),
                         "rating": clean["rating"].to_numpy(np.float64), "timestamp": clean["timestamp"].to_numpy()})


def title_scores(clean: pd.DataFrame, title_ids: pd.Series) -> pd.DataFrame:
    """Mean rating and number of ratings per title (score null where unrated)."""
    n = len(title_ids)
    counts = np.bincount(clean["item"].to_numpy(), minlength=n)
    sums = np.bincount(clean["item"].to_numpy(), weights=clean["rating"].to_numpy(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pd.DataFrame({"id": title_ids.to_numpy(), "score": np.round(score, 4), "rating_count": counts})
