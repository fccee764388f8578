"""Ratings: read every file, validate every row, join to the titles, score.

Files are read with a typed fast path; a file that does not parse that way is
re-read as text so that each bad row is found, counted and kept with its
reason instead of failing the whole run.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from streamlens.platforms import BY_CODE

from .catalog import InputError, check_columns
from .quality import QualityReport

RATING_COLUMNS = ["userId", "rating", "timestamp", "movieId"]
VALID_RATINGS = np.arange(1, 11) / 2.0
MIN_TIMESTAMP = 788_918_400  # 1995-01-01, before any streaming service took ratings

_TYPED = {"userId": pa.int64(), "rating": pa.float64(), "timestamp": pa.int64(), "movieId": pa.string()}


def read_ratings_csv(data: bytes, source: str) -> pd.DataFrame:
    """One ratings file; typed when clean, all-text when some value is not."""
    try:
        table = pacsv.read_csv(io.BytesIO(data), convert_options=pacsv.ConvertOptions(column_types=_TYPED))
        frame = table.to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, on_bad_lines="warn")
    check_columns(frame, RATING_COLUMNS, source)
    frame = frame[RATING_COLUMNS]
    frame.insert(len(frame.columns), "source", source)
    return frame


def _group_of(movie_ids: pd.Series) -> pd.Series:
    first = movie_ids.astype(str).str[:1]
    return first.map({code: p.name for code, p in BY_CODE.items()}).fillna("unknown")


def _describe(row: pd.Series) -> dict:
    return {c: row.get(c) for c in ("source", "userId", "movieId", "rating", "timestamp")}


def validate_ratings(
    frame: pd.DataFrame, title_ids: pd.Series, report: QualityReport, now: float | None = None
) -> pd.DataFrame:
    """Clean ratings as columns user, item (row index into title_ids), rating, timestamp."""
    now = time.time() if now is None else now
    report.rows_in["ratings"] = report.rows_in.get("ratings", 0) + len(frame)
    user = pd.to_numeric(frame["userId"], errors="coerce")
    rating = pd.to_numeric(frame["rating"], errors="coerce")
    stamp = pd.to_numeric(frame["timestamp"], errors="coerce")
    movie = frame["movieId"].astype("string").str.strip().str.lower()
    item = pd.Index(title_ids).get_indexer(movie.fillna(""))

    reasons = pd.Series("", index=frame.index, dtype=object)
    checks = {
        "bad_user_id": user.isna() | (user <= 0) | (user != np.floor(user)),
        "bad_rating": ~rating.isin(VALID_RATINGS),
        "bad_timestamp": stamp.isna() | (stamp < MIN_TIMESTAMP) | (stamp > now + 86_400),
        "missing_movie_id": movie.isna() | (movie == ""),
    }
    for name, mask in checks.items():
        mask = mask.to_numpy(dtype=bool, na_value=True)
        reasons[mask] = np.where(reasons[mask] == "", name, reasons[mask] + "; " + name)
    unknown = (item < 0) & (reasons == "").to_numpy()
    reasons[unknown] = "unknown_title"

    good = (reasons == "").to_numpy()
    clean = pd.DataFrame({
        "user": user[good].astype(np.int64).to_numpy(),
        "item": item[good].astype(np.int32),
        "rating": rating[good].astype(np.float32).to_numpy(),
        "timestamp": stamp[good].astype(np.int64).to_numpy(),
    })
    clean, superseded = _drop_superseded(clean, len(title_ids))
    if len(superseded):
        where = np.flatnonzero(good)[superseded]
        reasons.iloc[where] = "superseded_by_later_rating"
    bad = (reasons != "").to_numpy()
    if bad.any():
        rows = frame[bad].astype(str)
        for group, index in rows.groupby(_group_of(rows["movieId"])).groups.items():
            report.rejected(group if group == "unknown" else f"ratings:{group}", reasons[index],
                            rows.loc[index], _describe)
    report.rows_out["ratings"] = report.rows_out.get("ratings", 0) + len(clean)
    if unknown.any():
        report.notes.append(f"{int(unknown.sum()):,} ratings name a title id absent from the catalogs "
                            "(kept in the rejects report, not used for scores or training)")
    return clean


def _drop_superseded(clean: pd.DataFrame, n_items: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Keep only a user's latest rating of a title; return the positions dropped."""
    key = clean["user"].to_numpy() * np.int64(n_items) + clean["item"].to_numpy()
    repeated = pd.Series(key).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return clean, np.empty(0, dtype=np.int64)
    candidates = np.flatnonzero(repeated)
    sub = clean.iloc[candidates]
    order = np.lexsort((-sub["timestamp"].to_numpy(), key[candidates]))
    ranked = candidates[order]
    dropped = ranked[1:][key[ranked][1:] == key[ranked][:-1]]
    keep = np.ones(len(clean), dtype=bool)
    keep[dropped] = False
    return clean[keep].reset_index(drop=True), np.sort(dropped)


def title_scores(clean: pd.DataFrame, title_ids: pd.Series) -> pd.DataFrame:
    """Mean rating and number of ratings per title (score null where unrated)."""
    n = len(title_ids)
    counts = np.bincount(clean["item"].to_numpy(), minlength=n)
    sums = np.bincount(clean["item"].to_numpy(), weights=clean["rating"].to_numpy(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pd.DataFrame({"id": title_ids.to_numpy(), "score": np.round(score, 4), "rating_count": counts})


def load_ratings(blobs: dict[str, bytes]) -> pd.DataFrame:
    """All ratings files concatenated; an empty dict is an input error."""
    if not blobs:
        raise InputError("no ratings files found")
    frames = [read_ratings_csv(data, name) for name, data in sorted(blobs.items())]
    return pd.concat(frames, ignore_index=True)
