"""Input CSV files decoded as UTF-8 row by row: a row holding bytes that are not UTF-8 is taken out
with the line and byte offset of its first bad byte, and the rest of the file is used.

The all-valid case costs one pass of Arrow's UTF-8 validator over the bytes (about 14 ms for 190 MB).
Only when it fails is the file decoded again in Python, every invalid sequence replaced by a token
(two private-use characters around its index) that no CSV parser treats as a delimiter, quote or
newline: the file parses exactly as it would have, and the rows that hold a token are the rows that
are not UTF-8, wherever their quoted fields put their line breaks. Nothing is repaired: a byte that is
not UTF-8 says the row came from another encoding, and which one (cp1252, Latin-1, Mac Roman) cannot
be told from the bytes, so no guess is made.

A file that ends inside a quoted field (an interrupted upload, cut in the middle of a description) is
read up to the record holding the unterminated quote, and that record is taken out as
`unterminated_quote` with the line and byte offset where it starts and its text. Only when pandas refuses
the file is it scanned for that: a file that parses costs nothing more.

Rows taken out (either kind) are in frame.attrs[reason], a TakenOutRows, and record_taken_out records
them all into a QualityReport, each with its reason.

A file is refused (Unreadable, raised by callers as their InputError) only when nothing in it can be
trusted: its header is not UTF-8 or is cut inside a quoted field, or none of its rows is UTF-8 or
complete. Lines are 1-based physical lines of the file (line breaks counted as `\\n`; a file with none
counts `\\r`), byte offsets 0-based from its first byte.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from .quality import QualityReport

NOT_UTF8 = "not_utf8"
UNTERMINATED_QUOTE = "unterminated_quote"
TAKEN_OUT = (NOT_UTF8, UNTERMINATED_QUOTE)   # the reasons rows are taken out for; each its frame.attrs key
ATTR = NOT_UTF8                   # frame.attrs key of the rows that are not UTF-8: a TakenOutRows
MAX_KEPT_ROWS = 1_000             # rejected rows kept whole per file; every one is counted
_CHUNK = 1 << 23                  # bytes decoded at a time on the slow path (bounds the str in memory)
MAX_TEXT = 500                    # characters of a cut record's text kept in its reject
_ERRORS = "streamlens-mark-not-utf8"
_state = threading.local()


class Unreadable(ValueError):
    """The file cannot be used at all; the message names it, and the line and byte when it is the encoding."""


def _mark(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):    # registered for decoding only
        raise exc
    spans = _state.spans
    spans.append((_state.base + exc.start, _state.base + exc.end))
    return f"{_state.sentinel}{len(spans) - 1}{_state.sentinel}", exc.end


codecs.register_error(_ERRORS, _mark)


def is_utf8(data: bytes) -> bool:
    """Arrow's validator, on the bytes as they are (no copy)."""
    if data.isascii():
        return True
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


@dataclass
class Marked:
    """A file's bytes with each invalid UTF-8 sequence k replaced by the token SENTINEL k SENTINEL."""
    original: bytes
    data: bytes                                       # the original itself when it is all UTF-8
    spans: list[tuple[int, int]] = field(default_factory=list)   # (start, end) of sequence k in original
    sentinel: str = ""

    @property
    def clean(self) -> bool:
        return not self.spans

    @property
    def token(self) -> re.Pattern:
        return re.compile(f"{self.sentinel}(\\d+){self.sentinel}")

    def readable(self, text: str) -> str:
        """A marked value as shown in reports: each invalid sequence as U+FFFD."""
        return self.token.sub("\ufffd", text) if self.sentinel and self.sentinel in text else text

    def invalid_bytes(self, k: int) -> str:
        start, end = self.spans[k]
        return " ".join(f"0x{b:02x}" for b in self.original[start:end])

    def lines(self, offsets) -> list[int]:
        """The 1-based physical line of each byte offset (offsets in increasing order), in one forward scan."""
        newline = b"\n" if b"\n" in self.original else b"\r"
        out, line, previous = [], 1, 0
        for offset in offsets:
            line += self.original.count(newline, previous, offset)
            previous = offset
            out.append(line)
        return out

    def where(self, k: int) -> str:
        start, end = self.spans[k]
        return (f"{'byte' if end - start == 1 else 'bytes'} {self.invalid_bytes(k)} on line "
                f"{self.lines([start])[0]:,}, at byte offset {start:,}")

    def offset_in_data(self, offset: int) -> int:
        """Where the original's byte `offset` (never inside an invalid sequence) is in `data`."""
        shift = 0
        for k, (start, end) in enumerate(self.spans):
            if start >= offset:
                break
            shift += len(f"{self.sentinel}{k}{self.sentinel}".encode()) - (end - start)
        return offset + shift


def _cut(data: bytes, start: int, end: int) -> int:
    """`end`, or the start of the multi-byte sequence that `end` would cut (its lead byte is among the
    last 3 bytes before `end` and announces a length reaching past it): a valid character is never split."""
    for back in range(1, 4):
        i = end - back
        if i <= start or end >= len(data):
            return end
        lead = data[i]
        if lead & 0xC0 != 0x80:                      # not a continuation byte: ASCII or a lead byte
            length = 2 if 0xC0 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF8 else 1
            return i if length > back else end
    return end


def mark_invalid_utf8(data: bytes, *, check: bool = True) -> Marked:
    """The file as it is when it is UTF-8 (check=False skips the fast validator), else marked."""
    if check and is_utf8(data):
        return Marked(data, data)
    sentinel = next(c for c in map(chr, range(0x10FFFD, 0xF0000, -1)) if c.encode() not in data)
    _state.spans, _state.sentinel = [], sentinel
    pieces, start, n = [], 0, len(data)
    try:
        while start < n:
            end = _cut(data, start, min(start + max(_CHUNK, 4), n))
            _state.base = start
            pieces.append(data[start:end].decode("utf-8", _ERRORS).encode("utf-8"))
            start = end
        spans = _state.spans
    finally:
        del _state.spans, _state.sentinel
    if not spans:
        return Marked(data, data)
    return Marked(data, b"".join(pieces), spans, sentinel)


@dataclass(frozen=True, eq=False)
class TakenOutRows:
    """The rows of one file taken out for one reason (frame.attrs[reason]): all counted, the first
    MAX_KEPT_ROWS kept with their source, line, byte offset, the column that says why (`detail`: the invalid
    bytes of a row that is not UTF-8, the text of a cut record) and their fields; `what` describes them in
    the report's note. Shared, never copied, by the frames pandas derives (attrs are deep-copied on every
    operation)."""
    source: str
    count: int
    rows: pd.DataFrame
    detail: str = "invalid_bytes"
    what: str = "not valid UTF-8"
    detail_in_note: bool = True                  # the first row's detail is short enough for the note

    def __deepcopy__(self, memo):
        return self




def _first_token(column: pd.Series, marked: Marked) -> np.ndarray:
    """Per value, the index of the first invalid sequence it holds, or -1."""
    pattern = marked.token.pattern
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return np.full(len(column), -1, dtype=np.int64)      # parsed as numbers: no token in them
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = pd.Series(column.cat.categories.astype(str))
        first = pd.to_numeric(categories.str.extract(pattern, expand=False), errors="coerce").fillna(-1)
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, first.to_numpy(dtype=np.int64)[codes], -1)
    text = column.astype(str)
    has = text.str.contains(marked.sentinel, regex=False).to_numpy(dtype=bool, na_value=False)
    first = np.full(len(text), -1, dtype=np.int64)
    if has.any():
        first[has] = pd.to_numeric(text[has].str.extract(pattern, expand=False)).to_numpy(dtype=np.int64)
    return first


def take_out_marked(frame: pd.DataFrame, marked: Marked, source: str) -> pd.DataFrame:
    """The frame without the rows that are not UTF-8 (those are in frame.attrs[ATTR]); Unreadable when
    the header is not UTF-8 or no row is."""
    if marked.clean:
        return frame
    header = [int(m.group(1)) for c in frame.columns if (m := marked.token.search(str(c)))]
    if header:
        k = min(header)
        bom = ("; it starts with a UTF-16 byte-order mark: it is UTF-16 text"
               if marked.original[:2] in (b"\xff\xfe", b"\xfe\xff") else "")
        raise Unreadable(f"{source}: wrong encoding, not UTF-8 text: the header is not UTF-8 "
                         f"({marked.where(k)}{bom}); export it as UTF-8")
    firsts = [_first_token(frame[c], marked) for c in frame.columns]
    if not isinstance(frame.index, pd.RangeIndex):
        firsts.append(_first_token(frame.index.to_series(), marked))
    first = np.full(len(frame), -1, dtype=np.int64)
    for column in firsts:
        first = np.where((column >= 0) & ((first < 0) | (column < first)), column, first)
    bad = first >= 0
    if not bad.any():
        return frame
    if bad.all():
        raise Unreadable(f"{source}: wrong encoding, not UTF-8 text: none of its {len(frame):,} rows is UTF-8 "
                         f"(the first invalid one: {marked.where(int(first.min()))}); export it as UTF-8")
    ks = first[bad][:MAX_KEPT_ROWS]
    starts = [marked.spans[k][0] for k in ks]
    kept = frame[bad].iloc[:MAX_KEPT_ROWS].reset_index(drop=True)
    kept = kept.apply(lambda c: c.astype(str).map(marked.readable)) if len(kept) else kept
    rows = pd.concat([pd.DataFrame({"line": pd.Series(marked.lines(starts), dtype=object),   # ints, also in
                                    "byte": pd.Series(starts, dtype=object),        # a CSV where others have none
                                    "invalid_bytes": [marked.invalid_bytes(k) for k in ks], "source": source}),
                      kept.astype(object)], axis=1)
    good = frame[~bad].reset_index(drop=True)
    good.attrs = {**frame.attrs, ATTR: TakenOutRows(source, int(bad.sum()), rows)}
    return good


_QUOTED = re.compile(rb'[,\r\n]"(?:[^"]+|"")*("?)')   # a quoted field after a delimiter or a line break
_QUOTED_FIRST = re.compile(rb'"(?:[^"]+|"")*("?)')  # ... at the start of the file
_DIALECT = {"sep", "delimiter", "quotechar", "quoting", "doublequote", "escapechar", "lineterminator",
            "skipinitialspace", "comment", "dialect", "engine", "header", "skiprows", "skipfooter", "nrows"}


@dataclass(frozen=True)
class Cut:
    """The record the file ends in, inside an unterminated quoted field: it starts at byte `start` of the
    original, its quote opens at byte `quote`."""
    start: int
    quote: int


def _quoted_fields(data: bytes, pos: int):
    """(offset of its opening quote, match) of each quoted field from `pos`, left to right."""
    first = _QUOTED_FIRST.match(data, pos)
    if first:
        yield first.start(), first
        pos = first.end()
    for match in _QUOTED.finditer(data, pos):
        yield match.start() + 1, match


def find_unterminated(data: bytes) -> Cut | None:
    """The record that the end of the file leaves inside a quoted field, or None.

    Read as pandas' C parser reads it: a quote opens a quoted field only at the start of a field (after a
    delimiter, a line break or the file's start; elsewhere it is a literal), `""` inside is a quote, and
    a quote followed by anything else closes it. Quoted fields are matched left to right, so a `,"` or a
    line break inside one is never taken for a field or a record start: a record starts after a line
    break between them, and the last one tells whether the file ends inside it. Memory does not grow with
    the file: only the current record's start is kept."""
    end = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0   # of the last quoted field
    record, quote, match = 0, 0, None
    for quote, match in _quoted_fields(data, end):
        brk = max(data.rfind(b"\n", end, quote), data.rfind(b"\r", end, quote))
        if brk >= 0:
            record = brk + 1
        end = match.end()
    if match is None or match.group(1):
        return None
    return Cut(record, quote)


def _parse(data: bytes, kwargs: dict) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8", **kwargs)


def _read_marked(marked: Marked, source: str, kwargs: dict) -> tuple[pd.DataFrame, Cut | None]:
    """The marked file parsed; when pandas refuses it for ending inside a quoted field, the records
    before the one holding that quote (and the Cut). Unreadable when it cannot be parsed otherwise."""
    try:
        return _parse(marked.data, kwargs), None
    except pd.errors.ParserError as exc:
        if not marked.clean:      # a header that is not UTF-8 says more than the rows it garbled
            with contextlib.suppress(pd.errors.ParserError):
                header = pd.read_csv(io.BytesIO(marked.data), dtype=str, nrows=0, **kwargs)
                take_out_marked(header, marked, source)
        cut = None if _DIALECT & kwargs.keys() else find_unterminated(marked.original)
        if cut is None:
            raise Unreadable(f"{source}: not a readable CSV file ({marked.readable(str(exc))})") from exc
    where = (f"the quoted field opened on line {marked.lines([cut.quote])[0]:,}, at byte offset {cut.quote:,}, "
             "is never closed")
    if not marked.original[:cut.start].removeprefix(codecs.BOM_UTF8).strip():   # only blank lines before it
        raise Unreadable(f"{source}: not a readable CSV file: it ends inside its header ({where})")
    try:
        frame = _parse(marked.data[:marked.offset_in_data(cut.start)], kwargs)
    except pd.errors.ParserError as exc:
        raise Unreadable(f"{source}: not a readable CSV file ({marked.readable(str(exc))})") from exc
    if not len(frame):
        raise Unreadable(f"{source}: not a readable CSV file: it ends inside its first row, which starts on line "
                         f"{marked.lines([cut.start])[0]:,} ({where}): no row of it is complete")
    return frame, cut


def take_out_cut(frame: pd.DataFrame, marked: Marked, cut: Cut, source: str) -> pd.DataFrame:
    """The frame with the cut record in frame.attrs[UNTERMINATED_QUOTE]: its line, byte offset, its text
    (MAX_TEXT characters) and the fields complete before the unterminated one, under their columns."""
    data = marked.original
    text = data[cut.start:].decode("utf-8", "replace")
    before = data[cut.start:cut.quote].decode("utf-8", "replace")
    fields = next(csv.reader(io.StringIO(before[:-1], newline="")), [""]) if before else []
    first, last = marked.lines([cut.start, len(data)])
    info = {"line": first, "byte": cut.start, "text": text[:MAX_TEXT], "source": source}   # as take_out_marked's
    rows = pd.DataFrame({**{c: [v] for c, v in info.items()},
                         **{str(c): [v] for c, v in zip(frame.columns, fields) if str(c) not in info}}, dtype=object)
    what = (f"cut by the end of the file inside an unterminated quoted field (its last {last - first + 1:,} "
            f"line(s), {len(data) - cut.start:,} bytes)")
    frame.attrs = {**frame.attrs, UNTERMINATED_QUOTE: TakenOutRows(source, 1, rows, "text", what,
                                                                   detail_in_note=False)}
    return frame


def read_text_csv(data: bytes, source: str, **kwargs) -> pd.DataFrame:
    """A raw CSV read as text, every value a str; rows that are not UTF-8 taken out (take_out_marked), and
    the last record when the file ends inside its quoted field (take_out_cut). Unreadable when the file is
    empty, unparsable, or nothing of it is UTF-8 or complete."""
    if not data.strip():
        raise Unreadable(f"{source}: the file is empty")
    marked = mark_invalid_utf8(data)
    try:
        frame, cut = _read_marked(marked, source, kwargs)
    except UnicodeDecodeError:   # the validators disagreed: Python's decoder is the reference
        if not marked.clean:
            raise
        marked = mark_invalid_utf8(data, check=False)
        frame, cut = _read_marked(marked, source, kwargs)
    frame = take_out_marked(frame, marked, source)
    return take_out_cut(frame, marked, cut, source) if cut else frame


def record_taken_out(report: QualityReport, group: str, frame: pd.DataFrame, rows_in: str | None = None) -> int:
    """Record a frame's taken-out rows (each reason of TAKEN_OUT) as rejects of `group` with that reason, and
    count them into rows_in[rows_in] (call it after the cleaning that sets rows_in); returns how many."""
    total = 0
    for reason in TAKEN_OUT:
        found = frame.attrs.get(reason)
        if found is None or not found.count:
            continue
        rows, info = found.rows, ("source", "line", "byte", found.detail)
        report.rejected(group, pd.Series(reason, index=rows.index), rows,
                        lambda r, info=info: {c: r.get(c) for c in info})
        report.counted(group, reason, found.count - len(rows))
        if rows_in is not None:
            report.rows_in[rows_in] = report.rows_in.get(rows_in, 0) + found.count
        first = rows.iloc[0]
        detail = f": {first[found.detail]}" if found.detail_in_note else ""
        report.notes.append(f"{found.source}: {found.count:,} row(s) {found.what} rejected as {reason} (the first "
                            f"on line {first['line']:,}, byte offset {first['byte']:,}{detail}); "
                            "the file's other rows are used")
        total += found.count
    return total


