"""The ratings stages on Spark: read every ratings file, validate every row with the pandas engine's rules
and reasons (etl_job/ratings.py), keep the latest rating per (user, title), score each title, and feed the
same QualityReport, so that the rejects report and its notes are the pandas engine's.

Arrival order. The pandas engine reports rejects in the order it meets them: file by file, and in a file
the wrong-field rows, then each platform group (sorted) in line order; the superseded ratings after every
file. Spark's CSV reader has no line numbers, so each file is read as text (one row per physical line) with
`_metadata.file_block_start` (the byte where its split starts) and monotonically_increasing_id(), which
counts the rows of a split consecutively within its task. The lines per split, gathered on the driver (one
row per split), give each split its first line number: line = lines of the earlier splits of the file +
position in the split + 1. No shuffle, nothing but the split counts on the driver.

Parsing. Each line is split on the commas outside double quotes and unquoted as pyarrow does. A file is
read "typed" by the pandas engine when pyarrow converts every user id and timestamp to int64 and every
rating to float64 (blanks, spaces around a number, NA-like tokens and 0x hexadecimal integers included),
"as text" otherwise; the reasons and the reject rows' text follow the same choice here (`_typed_checks`).
Not supported, and told apart from the pandas engine's results: a quoted value that spans lines (each
line is a record here), and rows that are not UTF-8: a file holding one is refused with its line and byte
(use the pandas engine, which takes such rows out as not_utf8).

Only bounded data reaches the driver: counts per file, group and reason, the reject rows the report
keeps (at most MAX_REJECTS_PER_KEY per user and reason, ranked in Spark, then the first MAX_REJECT_ROWS),
MAX_EXAMPLES examples per reason, the per-title sums and counts.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from streamlens.platforms import BY_CODE
from streamlens.storage import split_s3_url

from ..catalog import InputError, check_columns
from ..csv_input import mark_invalid_utf8
from ..quality import MAX_EXAMPLES, MAX_REJECT_ROWS, MAX_REJECTS_PER_KEY, QualityReport
from ..ratings import (
    MAX_USER_ID,
    MAX_WRONG_FIELD_ROWS,
    MIN_TIMESTAMP,
    RATING_COLUMNS,
    REASONS,
    VALID_RATINGS,
    _describe,
    clean_frame,
)
from ..sources import DataSource
from .session import get_session

# pyarrow's default null tokens: a typed column takes them as null (<NA> in the pandas engine's Int64 columns).
_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "N/A", "NA",
          "NULL", "NaN", "n/a", "nan", "null"]
_INT = r"^[ \t]*-?0*([0-9]+)[ \t]*$"
_HEX = r"^[ \t]*0[xX]0*([0-9a-fA-F]{1,16})[ \t]*$"
_FLOAT = r"^[ \t]*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity))[ \t]*$"
_PY_SPACE = r"[\t\n\x0B\f\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
_QUOTED_COMMA = ',(?=(?:[^"]*"[^"]*")*[^"]*$)'
_PHASE_MALFORMED, _PHASE_RATINGS, _PHASE_SUPERSEDED = 0, 1, 2
_UNKNOWN_ONLY = 1 << REASONS.index("unknown_title")


@dataclass
class RatingsInput:
    """One input of the ratings: a file Spark reads (its name in the report, the path Spark opens), or the
    generated ratings (a pandas frame, typed: userId, rating, timestamp, movieId)."""
    name: str
    path: str | None = None
    frame: pd.DataFrame | None = None


@dataclass
class SparkRatings:
    clean: DataFrame          # user, item, rating, timestamp, file, line: the training input, persisted
    scores: pd.DataFrame      # per title: id, score, rating_count (title_scores' frame)

    def to_pandas(self) -> pd.DataFrame:
        """The clean ratings in arrival order, as the pandas engine returns them (the release needs them)."""
        ordered = self.clean.orderBy("file", "line").select("user", "item", "rating", "timestamp")
        frame: pd.DataFrame = ordered.toPandas()
        return clean_frame(frame["user"], frame["item"], frame["rating"], frame["timestamp"])


def _platform(movie_id: str) -> str:
    """_group_of for one id: the platform of its first letter, else unknown."""
    found = BY_CODE.get(movie_id[:1])
    return found.name if found else "unknown"


def spark_path(source: DataSource, name: str) -> str:
    """Where Spark opens a ratings file of the source: its absolute local path, or s3:// (EMRFS on EMR)."""
    if source.location.startswith("s3://"):
        bucket, prefix = split_s3_url(source.location)
        return f"s3://{bucket}/{prefix}{name}"
    return str((Path(source.location) / name).resolve())


def validate_with_spark(source: DataSource, generated: pd.DataFrame | None, title_ids: pd.Series,
                        report: QualityReport, spark: SparkSession | None = None) -> SparkRatings:
    """The ratings of the source (or the generated ones) cleaned on Spark into `report`; the files'
    checksums go into source.checksums as DataSource.read records them (the release's inputs)."""
    spark = spark or get_session()
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    if generated is not None:
        inputs = [RatingsInput(str(generated.attrs.get("source", "generated")), frame=generated)]
    else:
        inputs = [RatingsInput(name, spark_path(source, name)) for name in source.ratings_files()]
        source.checksums.update(_checksums(spark, inputs))
    return clean_ratings_spark(spark, inputs, title_ids, report, source.read)


def _checksums(spark: SparkSession, inputs: list[RatingsInput]) -> dict[str, dict]:
    """sha256 and size of each file, computed by the executors (one row per file comes back)."""
    parts = [spark.read.format("binaryFile").load(str(item.path)).select(
        F.lit(index).alias("file"), F.sha2("content", 256).alias("sha256"), F.col("length").alias("size"))
        for index, item in enumerate(inputs)]
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.unionByName(part)
    found = {r["file"]: r for r in frame.collect()}
    return {item.name: {"sha256": found[i]["sha256"], "size": int(found[i]["size"])} for i, item in enumerate(inputs)}


def _strip(column: Column) -> Column:
    """Python's str.strip(): the validation strips ids as the pandas engine does."""
    return F.regexp_replace(column, f"^{_PY_SPACE}+|{_PY_SPACE}+$", "")


def _trim(column: Column) -> Column:
    return F.regexp_replace(column, r"^[ \t]+|[ \t]+$", "")


def _int64(column: Column) -> Column:
    """pyarrow's int64 conversion of a CSV value (decimal or 0x hexadecimal, spaces around), null if none.
    Casts only what fits (no try_cast: EMR Serverless runs Spark 3.5, where ANSI casts would fail instead)."""
    digits = F.regexp_extract(column, _INT, 1)
    fits = (F.length(digits) < len(MAX_USER_ID)) | ((F.length(digits) == len(MAX_USER_ID))
                                                   & (digits <= F.lit(MAX_USER_ID)))
    hexa = F.regexp_extract(column, _HEX, 1)
    return (F.when(column.rlike(_INT) & fits, _trim(column).cast("bigint"))
            .when(column.rlike(_HEX), F.conv(hexa, 16, -10).cast("bigint")))


def _float64(column: Column) -> Column:
    """pyarrow's (and pd.to_numeric's) float conversion: null where the value is not a number."""
    text = F.lower(_trim(column))
    return (F.when(~column.rlike(_FLOAT), F.lit(None).cast("double"))
            .when(text.isin("inf", "+inf", "infinity", "+infinity"), F.lit(float("inf")))
            .when(text.isin("-inf", "-infinity"), F.lit(float("-inf")))
            .otherwise(_trim(column).cast("double")))


def _not_utf8(column: Column) -> Column:
    """The line's bytes differ from their UTF-8 re-encoding (invalid bytes become U+FFFD): is_valid_utf8 of
    Spark 4, written so that Spark 3.5 (EMR Serverless) runs it too."""
    return column.cast("binary") != F.encode(column, "UTF-8")


def _lines(spark: SparkSession, inputs: list[RatingsInput]) -> tuple[DataFrame, dict[int, dict]]:
    """file, line (1-based physical line), value: every line of every file (module docstring: arrival order);
    and per file what the header checks need, from the same pass: has it content, a line that is not UTF-8,
    its header (the first non-empty line, as pyarrow takes it) and the header's line."""
    parts = [spark.read.text(str(item.path)).select(
        F.lit(index).alias("file"), F.col("_metadata.file_block_start").alias("block"),
        F.monotonically_increasing_id().alias("seq"), "value")
        for index, item in enumerate(inputs)]
    lines = parts[0]
    for part in parts[1:]:
        lines = lines.unionByName(part)
    filled = F.when(F.col("value") != "", F.col("seq"))
    splits = sorted(lines.groupBy("file", "block").agg(
        F.count("*").alias("n"), F.min("seq").alias("first"),
        F.max(F.col("value").rlike(r"[^ \t\n\r\x0B\f]")).alias("content"),
        F.bool_or(_not_utf8(F.col("value"))).alias("not_utf8"),
        F.min(filled).alias("header_seq"), F.min_by("value", filled).alias("header")).collect(),
        key=lambda r: (r["file"], r["block"]))
    bases: list[tuple] = []
    facts: dict[int, dict] = {}
    seen = 0
    for split in splits:
        fact = facts.setdefault(split["file"], {"content": False, "not_utf8": False, "header": None})
        seen = seen if bases and bases[-1][0] == split["file"] else 0
        bases.append((split["file"], split["block"], seen, split["first"]))
        fact["content"] |= bool(split["content"])
        fact["not_utf8"] |= bool(split["not_utf8"])
        if fact["header"] is None and split["header_seq"] is not None:
            fact["header"], fact["header_line"] = split["header"], seen + split["header_seq"] - split["first"] + 1
        seen += split["n"]
    base = spark.createDataFrame(bases, "file int, block long, base long, first long")
    numbered = (lines.join(F.broadcast(base), ["file", "block"])
                .select("file", (F.col("base") + F.col("seq") - F.col("first") + 1).alias("line"), "value"))
    return numbered.persist(), facts


def _generated_lines(spark: SparkSession, frame: pd.DataFrame) -> tuple[DataFrame, list[str]]:
    """The generated ratings as the lines of one typed file (header first), in their order."""
    body = pd.DataFrame({"file": np.int32(0), "line": np.arange(2, len(frame) + 2, dtype=np.int64),
                         "value": (frame["userId"].astype(str) + "," + frame["rating"].astype(str) + ","
                                   + frame["timestamp"].astype(str) + "," + frame["movieId"].astype(str))})
    header = pd.DataFrame({"file": [np.int32(0)], "line": [np.int64(1)], "value": [",".join(RATING_COLUMNS)]})
    schema = "file int, line long, value string"
    return spark.createDataFrame(pd.concat([header, body], ignore_index=True), schema), RATING_COLUMNS


@dataclass
class _File:
    name: str
    header_line: int
    columns: list[str]


def _headers(facts: dict[int, dict], inputs: list[RatingsInput], read: Callable[[str], bytes]) -> list[_File]:
    """Each file's header, checked in file order with the pandas engine's errors: an empty file, a file that
    is not UTF-8 (refused: module docstring), missing columns."""
    files = []
    for index, item in enumerate(inputs):
        fact = facts.get(index)
        if fact is None or not fact["content"]:
            raise InputError(f"{item.name}: the file is empty")
        if fact["not_utf8"]:
            where = mark_invalid_utf8(read(item.name)).where(0)
            raise InputError(f"{item.name}: not UTF-8 text ({where}): the Spark engine does not take rows that "
                             "are not UTF-8 out of a file; run with --engine pandas, which rejects them as not_utf8 "
                             "and uses the rest of the file, or export the file as UTF-8")
        columns = next(csv.reader([fact["header"].removeprefix("\ufeff")]))
        check_columns(pd.DataFrame(columns=columns), RATING_COLUMNS, item.name)
        files.append(_File(item.name, int(fact["header_line"]), columns))
    return files


def _fields(lines: DataFrame, files: list[_File], spark: SparkSession) -> DataFrame:
    """Each data line split into fields (quotes as pyarrow reads them), its header's field count and the
    four rating fields as they are written."""
    layout = spark.createDataFrame(
        [(i, f.header_line, len(f.columns), *(f.columns.index(c) for c in RATING_COLUMNS))
         for i, f in enumerate(files)], "file int, header_line long, width int, pu int, pr int, pt int, pm int")
    split = F.when(F.col("value").contains('"'), F.split("value", _QUOTED_COMMA, -1)).otherwise(
        F.split("value", ",", -1))
    unquote = F.transform(split, lambda x: F.when(
        x.rlike('^".*"$'), F.regexp_replace(x.substr(F.lit(2), F.length(x) - 2), '""', '"')).otherwise(x))
    rows = (lines.join(F.broadcast(layout), "file")
            .where((F.col("line") > F.col("header_line")) & (F.col("value") != ""))
            .withColumn("fields", unquote))
    return rows.select(
        "file", "line", "value", F.size("fields").alias("n_fields"), "width",
        *(F.col("fields")[F.col(p)].alias(c) for p, c in zip(("pu", "pr", "pt", "pm"), ("u", "r", "t", "m"))))


def _typed_checks(rows: DataFrame) -> DataFrame:
    """Per file: does pyarrow read it typed (every user id and timestamp an int64, every rating a float64,
    or a null token)."""
    def null(c: str) -> Column:
        return F.col(c).isin(_NULLS)

    ok = ((null("u") | _int64(F.col("u")).isNotNull()) & (null("t") | _int64(F.col("t")).isNotNull())
          & (null("r") | F.col("r").rlike(_FLOAT)))
    return rows.groupBy("file").agg(F.bool_and(ok).alias("typed"))


def _validated(rows: DataFrame, titles: DataFrame, now: float) -> DataFrame:
    """Every row that has the header's field count, with its reason bits (REASONS order), its values and
    the key the report ranks its rejects by (the user id as the pandas engine writes it, and the reasons)."""
    typed = F.col("typed")
    text_user = _strip(F.col("u"))
    text_ok = text_user.rlike("^[1-9][0-9]{0,18}$") & ((F.length(text_user) < len(MAX_USER_ID))
                                                      | (text_user <= F.lit(MAX_USER_ID)))
    typed_user = _int64(F.col("u"))
    user = F.when(typed, typed_user).otherwise(F.when(text_ok, text_user.cast("bigint")))
    bad_user = F.when(typed, F.coalesce(typed_user <= 0, F.lit(True))).otherwise(~text_ok)
    rating = _float64(F.col("r"))
    stamp = F.when(typed, _int64(F.col("t")).cast("double")).otherwise(_float64(F.col("t")))
    name = F.lower(_strip(F.col("m")))
    checks = [
        bad_user,
        ~F.coalesce(rating.isin(*(float(v) for v in VALID_RATINGS)), F.lit(False)),
        F.coalesce(~(stamp >= MIN_TIMESTAMP) | (stamp > now + 86_400), F.lit(True)),
        name == "",
    ]
    bits = sum((F.when(check, 1 << bit).otherwise(0) for bit, check in enumerate(checks)), F.lit(0))
    rows = (rows.withColumn("user", user).withColumn("rating", rating).withColumn("stamp", stamp)
            .withColumn("name", name).withColumn("bits", bits)
            .join(F.broadcast(titles), "name", "left")
            .withColumn("flags", F.when((F.col("bits") == 0) & F.col("item").isNull(), _UNKNOWN_ONLY)
                        .otherwise(F.col("bits"))))
    reasons = F.concat_ws("; ", *(F.when((F.col("flags").bitwiseAND(1 << b)) != 0, r) for b, r in enumerate(REASONS)))
    platform = F.create_map(*(x for code, p in sorted(BY_CODE.items()) for x in (F.lit(code), F.lit(p.name))))
    group = F.coalesce(platform[F.substring("m", 1, 1)], F.lit("unknown"))   # _group_of: the id as written
    user_text = F.when(~typed, F.col("u")).otherwise(F.coalesce(typed_user.cast("string"), F.lit("<NA>")))
    return rows.select("*", reasons.alias("reasons"), group.alias("group"), user_text.alias("key_user"))


def _superseded(clean: DataFrame) -> DataFrame:
    """The clean rows with `latest`: the last rating of each (user, title) by timestamp, the first to arrive
    among equal timestamps (drop_superseded's stable sort)."""
    order = Window.partitionBy("user", "item").orderBy(F.desc("timestamp"), "file", "line")
    return clean.withColumn("latest", F.row_number().over(order) == 1)


def clean_ratings_spark(spark: SparkSession, inputs: list[RatingsInput], title_ids: pd.Series,
                        report: QualityReport, read: Callable[[str], bytes], now: float | None = None) -> SparkRatings:
    """The pandas engine's clean_ratings and title_scores, on Spark (module docstring); `read` gives a file's
    bytes for the message that refuses a file which is not UTF-8."""
    now = time.time() if now is None else now
    if inputs[0].frame is not None:
        lines, columns = _generated_lines(spark, inputs[0].frame)
        files = [_File(inputs[0].name, 1, columns)]
    else:
        lines, facts = _lines(spark, inputs)
        files = _headers(facts, inputs, read)
    rows = _fields(lines, files, spark)
    ids = title_ids.astype(str).to_numpy()
    titles = spark.createDataFrame(pd.DataFrame({"name": ids, "item": np.arange(len(ids), dtype=np.int32),
                                                 "title_group": [_platform(i) for i in ids]}))
    wrong = rows.where(F.col("n_fields") != F.col("width"))
    right = rows.where(F.col("n_fields") == F.col("width"))
    checked = right.join(F.broadcast(_typed_checks(right)), "file")
    valid = _validated(checked, titles, now).persist()
    per_file = {r["file"]: r for r in valid.groupBy("file").agg(
        F.count("*").alias("rows"), F.bool_or(F.col("item").isNotNull()).alias("matched"),
        F.sum((F.col("flags") == _UNKNOWN_ONLY).cast("long")).alias("unknown")).collect()}
    for index, file in enumerate(files):
        fact = per_file.get(index)
        if fact is not None and not fact["matched"] and fact["unknown"]:
            _no_title_matches(valid.where((F.col("file") == index) & (F.col("flags") == _UNKNOWN_ONLY)), file.name,
                              fact["rows"])

    clean = _superseded(valid.where(F.col("flags") == 0).select(
        "file", "line", "user", "item", "title_group", F.col("rating").cast("float").alias("rating"),
        F.col("stamp").cast("bigint").alias("timestamp"))).persist()
    _feed_report(report, files, per_file, _reject_stream(wrong, valid, clean, len(files)), title_ids)
    kept = clean.where("latest").drop("latest", "title_group").persist()
    sums = kept.groupBy("item").agg(F.count("*").alias("n"), F.sum(F.col("rating").cast("double")).alias("s")).collect()
    report.rows_out["ratings"] = report.rows_out.get("ratings", 0) + sum(r["n"] for r in sums)
    scores = _scores(sums, title_ids)
    for frame in (lines, valid, clean):
        frame.unpersist()
    return SparkRatings(kept, scores)


def _no_title_matches(unknown: DataFrame, source: str, rows: int) -> None:
    """validate_ratings' refusal of a file none of whose ratings names a title of the catalogs."""
    names = [r["name"] for r in unknown.orderBy("line").select("name").limit(1000).collect()]
    examples = ", ".join(sorted(set(names))[:3])
    raise InputError(f"{source}: none of its {rows:,} ratings names a title of the catalogs (ids such as {examples}; "
                     "ids are the platform letter and show_id, e.g. ns1): is it the ratings of another catalog?")


def _scores(sums: list, title_ids: pd.Series) -> pd.DataFrame:
    """title_scores' frame from the per-title counts and sums (exact: ratings are multiples of 0.5)."""
    n = len(title_ids)
    counts, totals = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.float64)
    for row in sums:
        counts[row["item"]], totals[row["item"]] = row["n"], row["s"]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
    return pd.DataFrame({"id": title_ids.to_numpy(), "score": np.round(score, 4), "rating_count": counts})


def _reject_stream(wrong: DataFrame, valid: DataFrame, clean: DataFrame, n_files: int) -> DataFrame:
    """Every rejected row once, in the order the pandas engine reports it: (file, phase, group, line); the
    superseded ratings after every file, by platform, in arrival order (their position `line` = the
    arrival rank of (file, line))."""
    columns = ["file", "phase", "group", "line", "reasons", "key_user", "u", "r", "t", "m", "user", "rating",
               "stamp", "item", "typed", "value", "n_fields"]
    malformed = wrong.select(
        "file", F.lit(_PHASE_MALFORMED).alias("phase"), F.lit("").alias("group"), "line",
        F.lit("wrong_field_count").alias("reasons"), F.lit(None).cast("string").alias("key_user"),
        *(F.lit(None).cast(t).alias(c) for c, t in (("u", "string"), ("r", "string"), ("t", "string"),
                                                    ("m", "string"), ("user", "bigint"), ("rating", "double"),
                                                    ("stamp", "double"), ("item", "int"), ("typed", "boolean"))),
        "value", "n_fields")
    rejected = valid.where(F.col("flags") != 0).select(
        "file", F.lit(_PHASE_RATINGS).alias("phase"), "group", "line", "reasons", "key_user", "u", "r", "t", "m",
        "user", "rating", "stamp", "item", "typed", "value", F.col("n_fields"))
    superseded = clean.where(~F.col("latest")).select(
        F.lit(n_files).alias("file"), F.lit(_PHASE_SUPERSEDED).alias("phase"), F.col("title_group").alias("group"),
        (F.col("file").cast("long") * (1 << 40) + F.col("line")).alias("line"),
        F.lit("superseded_by_later_rating").alias("reasons"), F.col("user").cast("string").alias("key_user"),
        *(F.lit(None).cast("string").alias(c) for c in ("u", "r", "t", "m")),
        "user", F.col("rating").cast("double").alias("rating"), F.col("timestamp").cast("double").alias("stamp"),
        "item", F.lit(None).cast("boolean").alias("typed"),
        F.lit(None).cast("string").alias("value"), F.lit(None).cast("int").alias("n_fields"))
    return malformed.select(columns).unionByName(rejected.select(columns)).unionByName(superseded.select(columns))


_ORDER = ["file", "phase", "group", "line"]


def _feed_report(report: QualityReport, files: list[_File], per_file: dict, rejects: DataFrame,
                 title_ids: pd.Series) -> None:
    """Replay, call by call, what validate_ratings and drop_superseded record into the report, from the
    bounded data Spark brings back: the counts of each call, the rows the report keeps, the examples."""
    rejects = rejects.persist()
    order = [F.col(c) for c in _ORDER]
    by_file = Window.partitionBy("file").orderBy("line")
    by_key = Window.partitionBy("key_user", "reasons").orderBy(*order)
    eligible = (rejects.withColumn("rank", F.when(F.col("phase") == _PHASE_MALFORMED, F.row_number().over(by_file))
                                   .otherwise(F.row_number().over(by_key)))
                .where(F.when(F.col("phase") == _PHASE_MALFORMED, F.col("rank") <= MAX_WRONG_FIELD_ROWS)
                       .when(F.col("key_user").isNull(), F.lit(True))
                       .otherwise(F.col("rank") <= MAX_REJECTS_PER_KEY)))
    kept: pd.DataFrame = eligible.orderBy(*order).limit(MAX_REJECT_ROWS).drop("rank").toPandas()
    by_reason = Window.partitionBy("reasons").orderBy(*order)
    first = rejects.withColumn("rank", F.row_number().over(by_reason)).where(F.col("rank") <= MAX_EXAMPLES)
    examples: pd.DataFrame = first.drop("rank").toPandas()
    calls: pd.DataFrame = (rejects.groupBy("file", "phase", "group", "reasons")
             .agg(F.count("*").alias("n"), F.min("line").alias("first")).toPandas())
    rejects.unpersist()
    ids = title_ids.astype(str).to_numpy()
    names = [f.name for f in files]
    for frame in (kept, examples):
        frame["source"] = [names[f] if f < len(names) else "" for f in frame["file"]]
    replay = _Replay(report, kept, examples, ids)
    for index, file in enumerate(files):
        malformed = calls[(calls["file"] == index) & (calls["phase"] == _PHASE_MALFORMED)]
        count = int(malformed["n"].sum())
        if count:
            report.rows_in["ratings"] = report.rows_in.get("ratings", 0) + count
            replay.call(index, _PHASE_MALFORMED, "", malformed)
            report.notes.append(f"{file.name}: {count:,} rows with the wrong number of fields were rejected "
                                f"(the first {min(count, MAX_WRONG_FIELD_ROWS):,} kept with their line and text)")
        fact = per_file.get(index)
        report.rows_in["ratings"] = report.rows_in.get("ratings", 0) + (fact["rows"] if fact else 0)
        mine = calls[(calls["file"] == index) & (calls["phase"] == _PHASE_RATINGS)]
        for group in sorted(mine["group"].unique()):
            replay.call(index, _PHASE_RATINGS, group, mine[mine["group"] == group])
        if fact is not None and fact["unknown"]:
            report.notes.append(f"{fact['unknown']:,} ratings in {file.name} name a title id absent "
                                "from the catalogs (kept in the rejects report, not used for scores or training)")
    later = calls[calls["phase"] == _PHASE_SUPERSEDED]
    for group in sorted(later["group"].unique()):
        replay.call(len(files), _PHASE_SUPERSEDED, group, later[later["group"] == group])


class _Replay:
    """One QualityReport.rejected() call of the pandas engine, replayed with the rows the report keeps."""

    def __init__(self, report: QualityReport, kept: pd.DataFrame, examples: pd.DataFrame, ids: np.ndarray):
        self.report, self.kept, self.examples, self.ids = report, kept, examples, ids

    def _rows(self, frame: pd.DataFrame, phase: int) -> pd.DataFrame:
        """The rows as the pandas engine hands them to the report (its columns, its text of each value)."""
        if phase == _PHASE_MALFORMED:
            return pd.DataFrame({"line": frame["line"].astype(np.int64).to_numpy(),
                                 "fields": [f"{int(n)} (header: {len(RATING_COLUMNS)})" for n in frame["n_fields"]],
                                 "text": [v[:500] for v in frame["value"]], "source": frame["source"].to_numpy()})
        if phase == _PHASE_SUPERSEDED:
            return pd.DataFrame({"userId": frame["user"].astype(np.int64), "rating": frame["rating"].astype(np.float32),
                                 "timestamp": frame["stamp"].astype(np.int64),
                                 "movieId": self.ids[frame["item"].astype(np.int64).to_numpy()],
                                 "source": ""}).astype(str)
        return pd.DataFrame([_text(r) for r in frame.itertuples(index=False)],
                            columns=[*RATING_COLUMNS, "source"], dtype=object).astype(str)

    def _describe(self, phase: int) -> Callable[[pd.Series], dict]:
        if phase == _PHASE_MALFORMED:
            return lambda row: {"source": row.get("source"), "line": row.get("line"), "text": row.get("text")}
        return _describe

    def call(self, file: int, phase: int, group_name: str, calls: pd.DataFrame) -> None:
        report = self.report
        group = "malformed" if phase == _PHASE_MALFORMED else (
            group_name if group_name == "unknown" else f"ratings:{group_name}")
        calls = calls.sort_values("first", kind="stable")
        counts = _value_counts(calls)
        per = report.rejects[group]
        totals = {reason: per.get(reason, 0) + n for reason, n in counts.items()}
        for reason in counts:
            per.setdefault(reason, 0)
        for reasons in calls["reasons"]:
            report.examples[f"reject:{reasons}"]     # the bucket's place in the report, as rejected() makes it
        kept = self.kept
        mine = kept[(kept["file"] == file) & (kept["phase"] == phase) & (kept["group"] == group_name)]
        if len(mine):
            rows = self._rows(mine, phase)
            reasons = pd.Series(mine["reasons"].to_numpy(), index=rows.index)
            key = None if phase == _PHASE_MALFORMED else pd.Series(mine["key_user"].to_numpy(), index=rows.index)
            report.rejected(group, reasons, rows, self._describe(phase), key=key)
        per.update(totals)
        report.counted_rows(int(calls["n"].sum()) - len(mine))
        upto = self.examples[(self.examples["file"] < file) | ((self.examples["file"] == file) & (
            (self.examples["phase"] < phase) | ((self.examples["phase"] == phase)
                                                & (self.examples["group"] <= group_name))))]
        upto = upto.sort_values(_ORDER, kind="stable")
        for reasons in calls["reasons"]:
            sample = upto[upto["reasons"] == reasons]
            describe = self._describe(phase)
            report.examples[f"reject:{reasons}"][:] = [
                {"group": _group_label(p, g), **describe(row)}
                for p, g, (_, row) in zip(sample["phase"], sample["group"],
                                          self._rows(sample, phase).iterrows(), strict=True)]


def _group_label(phase: int, group: str) -> str:
    if phase == _PHASE_MALFORMED:
        return "malformed"
    return group if group == "unknown" else f"ratings:{group}"


def _value_counts(calls: pd.DataFrame) -> dict[str, int]:
    """rejected()'s per-reason counts of one call in its order: reasons.str.split('; ').explode().value_counts()
    on the call's rows, from the count and first row of each reasons string."""
    first: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    for reasons, n, line in zip(calls["reasons"], calls["n"], calls["first"], strict=True):
        for position, reason in enumerate(reasons.split("; ")):
            counts[reason] = counts.get(reason, 0) + int(n)
            first[reason] = min(first.get(reason, (line, position)), (line, position))
    ordered = sorted(counts, key=lambda r: first[r])
    return pd.Series([counts[r] for r in ordered], index=ordered, dtype=np.int64).sort_values(ascending=False).to_dict()


def _text(row: Any) -> list:
    """A rejected row's values as the pandas engine writes them: as read from a file read as text; from a
    typed file, pyarrow's int64 and float64, a null token blank."""
    if not row.typed:
        return [row.u, row.r, row.t, row.m, row.source]

    def number(value: float | None, floats: bool) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        return str(float(value)) if floats else str(int(value))

    stamp = None if row.t in _NULLS else _int64_value(row.t)
    return [number(row.user, False), number(row.rating, True), number(stamp, False), row.m, row.source]


def _int64_value(text: str) -> int:
    """pyarrow's int64 of a value that converts (decimal, or 0x hexadecimal wrapping as int64)."""
    text = text.strip(" \t")
    if text[:2].lower() == "0x":
        value = int(text, 16)
        return value - (1 << 64) if value >= 1 << 63 else value
    return int(text)
