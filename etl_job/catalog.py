"""Cleaning of the four raw platform catalogs into one titles table.

Repairs are made only where the fix is unambiguous (a duration sitting alone
in the rating column, a description copied into the director column, stray
spaces and invisible characters); any row that stays contradictory or
unreadable is rejected with its reasons and kept in the rejects report.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pandas as pd

from streamlens.maturity import family_of
from streamlens.platforms import PLATFORMS, Platform

from .csv_input import Unreadable, read_text_csv
from .quality import QualityReport, join_reasons

RAW_COLUMNS = [
    "show_id", "type", "title", "director", "cast", "country",
    "date_added", "release_year", "rating", "duration", "listed_in", "description",
]
TEXT_COLUMNS = ["type", "title", "director", "cast", "country", "rating", "listed_in", "description"]
# The text people read, as the export wrote it (tidied, not lowercased): the lowercase columns are what the
# brief's queries match and answer with; pages and the title routes show these (`The Queen's Gambit`).
DISPLAY_COLUMNS = ["title", "director", "cast", "country", "listed_in", "description"]
TITLE_COLUMNS = [
    "id", "platform", "show_id", "type", "title", "director", "cast", "country", "date_added",
    "release_year", "rating", "maturity", "duration_int", "duration_type", "listed_in", "description",
    *(f"display_{column}" for column in DISPLAY_COLUMNS),
]
VALID_TYPES = {"movie", "tv show"}
DEFAULT_RATING = "G"
MIN_YEAR = 1880
DATE_ADDED_TOLERANCE = timedelta(days=1)    # the platform's calendar may be a day ahead of the run's

# Formats whose reading is unambiguous. Numeric day/month orders such as
# 03/04/2021 are deliberately absent: they are rejected, not guessed.
DATE_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y",
    "%d %B %Y", "%d %b %Y", "%d %B, %Y", "%d %b, %Y",
    "%Y-%m-%d", "%Y/%m/%d", "%d-%b-%Y", "%d-%b-%y", "%Y-%m-%dT%H:%M:%S",
)
_DURATION = re.compile(r"^(\d+)\s*(min|mins|minutes?|seasons?)$", re.IGNORECASE)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SHOW_ID = re.compile(r"[A-Za-z0-9_-]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


class InputError(ValueError):
    """An input file cannot be used at all (wrong columns, unreadable)."""


def parse_date(value: str) -> date | None:
    """Parse one date in any known format; None if no format matches."""
    text = " ".join(value.split())
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_duration(value: str) -> tuple[int, str] | None:
    match = _DURATION.match(value.strip())
    if not match:
        return None
    unit = "season" if match.group(2).lower().startswith("season") else "min"
    return int(match.group(1)), unit


def read_input_csv(data: bytes, source: str, **kwargs) -> pd.DataFrame:
    """A raw CSV read as text. Rows that are not UTF-8, and the last record of a file cut inside a quoted
    field, are taken out with their line and byte offset (csv_input.take_out_marked, take_out_cut: in
    frame.attrs, for the caller's report, see record_taken_out); an empty or unparsable file, or one with
    nothing UTF-8 or complete in it, is an InputError naming it (and the line and byte)."""
    try:
        return read_text_csv(data, source, **kwargs)
    except Unreadable as exc:
        raise InputError(str(exc)) from exc


def check_columns(frame: pd.DataFrame, expected: list[str], source: str) -> None:
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(expected)}, "
            f"found {', '.join(map(str, frame.columns))}"
        )


def _describe(row: pd.Series) -> dict:
    return {"show_id": row.get("show_id"), "title": row.get("title"),
            "values": {c: row.get(c) for c in ("type", "rating", "duration", "date_added", "release_year")}}


def _tidy_text(frame: pd.DataFrame, platform: Platform, report: QualityReport) -> pd.DataFrame:
    """Strip invisible characters and stray white space from every field."""
    frame = frame.copy()
    for column in RAW_COLUMNS:
        raw = frame[column].fillna("")
        tidy = raw.str.replace(_INVISIBLE, "", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
        changed = raw != tidy
        if changed.any():
            kind = "date_added_stray_spaces" if column == "date_added" else f"{column}_whitespace_or_invisible_chars"
            report.repaired(platform.name, kind, int(changed.sum()), [
                {"show_id": s, "field": column, "before": b, "after": a}
                for s, b, a in zip(frame.loc[changed, "show_id"], raw[changed], tidy[changed])
            ][:3])
        frame[column] = tidy
    return frame


def _repair_shifted_duration(frame: pd.DataFrame, platform: Platform, report: QualityReport) -> None:
    """A duration found in `rating` while `duration` is empty moved one column left."""
    shifted = (frame["duration"] == "") & frame["rating"].map(lambda v: parse_duration(v) is not None)
    if shifted.any():
        examples = [{"show_id": s, "field": "rating->duration", "before": {"rating": r, "duration": ""},
                     "after": {"rating": None, "duration": r}}
                    for s, r in zip(frame.loc[shifted, "show_id"], frame.loc[shifted, "rating"])]
        frame.loc[shifted, "duration"] = frame.loc[shifted, "rating"]
        frame.loc[shifted, "rating"] = ""
        report.repaired(platform.name, "duration_in_rating_column", int(shifted.sum()), examples)


def _repair_director_copy(frame: pd.DataFrame, platform: Platform, report: QualityReport) -> None:
    """A director value identical to the description is the description, not a name."""
    copied = (frame["director"] != "") & (frame["director"] == frame["description"])
    if copied.any():
        report.repaired(platform.name, "description_in_director_column", int(copied.sum()), [
            {"show_id": s, "field": "director", "before": d[:80], "after": None}
            for s, d in zip(frame.loc[copied, "show_id"], frame.loc[copied, "director"])
        ])
        frame.loc[copied, "director"] = ""


def _repair_lists(frame: pd.DataFrame, platform: Platform, report: QualityReport) -> None:
    """Comma lists lose empty items (', France,'); person lists lose placeholder
    names that are only digits ('1' in the Amazon QA entries), which no person is."""
    for column in ("country", "cast", "director", "listed_in"):
        people = column in ("cast", "director")
        raw = frame[column]
        items = raw.map(lambda v: [p.strip() for p in v.split(",")] if v else [])
        tidy = items.map(lambda parts, people=people: ", ".join(p for p in parts if p and not (people and p.isdigit())))
        changed = raw != tidy
        if not changed.any():
            continue
        placeholder = items.map(lambda parts, people=people: people and any(p.isdigit() for p in parts)) & changed
        for kind, mask in ((f"{column}_placeholder_name", placeholder),
                           (f"{column}_stray_commas", changed & ~placeholder)):
            report.repaired(platform.name, kind, int(mask.sum()), [
                {"show_id": s, "field": column, "before": b, "after": a or None}
                for s, b, a in zip(frame.loc[mask, "show_id"], raw[mask], tidy[mask])
            ][:3])
        frame[column] = tidy


def _repair_movie_with_seasons(frame: pd.DataFrame, durations: pd.Series, platform: Platform,
                               report: QualityReport) -> None:
    """A movie cannot have seasons: a row typed Movie whose duration is in seasons is a series (the 62
    Hulu rows, `Yashahime`, `Harrow`, `Good Morning America`...: genres and descriptions agree), so the
    unit decides the type. A TV show measured in minutes stays a reject: a special can be either."""
    unit = durations.map(lambda d: d[1] if d else None)
    series = (frame["type"].str.lower() == "movie") & (unit == "season")
    if series.any():
        report.repaired(platform.name, "movie_with_seasons_is_a_tv_show", int(series.sum()), [
            {"show_id": s, "field": "type", "before": t, "after": "TV Show", "duration": d}
            for s, t, d in zip(frame.loc[series, "show_id"], frame.loc[series, "type"], frame.loc[series, "duration"])
        ][:3])
        frame.loc[series, "type"] = "TV Show"


def _repair_future_date_added(dates: pd.Series, frame: pd.DataFrame, platform: Platform,
                              report: QualityReport) -> pd.Series:
    """A title cannot have been added after the run (`2999-01-01`): the date becomes unknown, the title stays."""
    future = dates.fillna("").astype(str) > (date.today() + DATE_ADDED_TOLERANCE).isoformat()
    report.repaired(platform.name, "date_added_in_future", int(future.sum()), [
        {"show_id": s, "field": "date_added", "before": d, "after": None}
        for s, d in zip(frame.loc[future, "show_id"], frame.loc[future, "date_added"])
    ][:3])
    return dates.where(~future, None)


def _show_id_key(show_ids: pd.Series) -> pd.Series:
    """What duplicates are found on: case ignored (`S1` and `s1` would publish one id) and leading zeros
    (`s01` and `s1` read as one id, so the second row is doubtful); the published id keeps the show_id as
    given, since ratings refer to it."""
    return show_ids.str.lower().str.replace(_LEADING_ZEROS, "", regex=True)


def _reject_reasons(frame: pd.DataFrame, durations: pd.Series, dates: pd.Series) -> pd.Series:
    """One '; '-joined reason string per row, empty where the row is good."""
    this_year = date.today().year
    year = pd.to_numeric(frame["release_year"].where(frame["release_year"].str.fullmatch(r"\d{4}")),
                         errors="coerce")
    kind = frame["type"].str.lower()
    unit = durations.map(lambda d: d[1] if d else None)
    checks = {
        "missing_show_id": frame["show_id"] == "",
        # ASCII letters, digits, '-' and '_': 's١٢٣' looks like s123 but is an id no ratings file writes
        "bad_show_id": (frame["show_id"] != "") & ~frame["show_id"].str.fullmatch(_SHOW_ID),
        "duplicate_show_id": (frame["show_id"] != "") & _show_id_key(frame["show_id"]).duplicated(keep="first"),
        "missing_title": frame["title"] == "",
        "bad_type": ~kind.isin(VALID_TYPES),
        "bad_release_year": year.isna() | (year < MIN_YEAR) | (year > this_year + 1),
        "bad_duration": (frame["duration"] != "") & durations.isna(),
        "type_duration_conflict": (kind == "tv show") & (unit == "min"),
        "bad_date_added": (frame["date_added"] != "") & dates.isna(),
    }
    return join_reasons(checks, frame.index)


def clean_platform(raw: pd.DataFrame, platform: Platform, report: QualityReport) -> pd.DataFrame:
    """Clean one platform's raw export (all columns read as strings)."""
    check_columns(raw, RAW_COLUMNS, platform.filename)
    report.rows_in[platform.name] = len(raw)
    frame = _tidy_text(raw[RAW_COLUMNS].astype(object).where(raw[RAW_COLUMNS].notna(), ""), platform, report)
    _repair_shifted_duration(frame, platform, report)
    _repair_director_copy(frame, platform, report)
    _repair_lists(frame, platform, report)

    iso_dates = {v: (d.isoformat() if (d := parse_date(v)) else None) for v in frame["date_added"].unique() if v}
    dates = frame["date_added"].map(iso_dates)
    durations = frame["duration"].map(lambda v: parse_duration(v) if v else None)

    _repair_movie_with_seasons(frame, durations, platform, report)
    reasons = _reject_reasons(frame, durations, dates)
    dates = _repair_future_date_added(dates, frame, platform, report)     # after: a readable date, not a reject
    bad = reasons != ""
    report.rejected(platform.name, reasons[bad], raw.loc[bad, RAW_COLUMNS].fillna(""), _describe)
    good = frame[~bad]
    durations, dates = durations[~bad], dates[~bad]

    out = pd.DataFrame({
        "id": platform.code + good["show_id"].str.lower(),
        "platform": platform.name,
        "show_id": good["show_id"].str.lower(),
    })
    rating = good["rating"].where(good["rating"] != "", DEFAULT_RATING)
    for column in TEXT_COLUMNS:
        values = rating if column == "rating" else good[column]
        out[column] = values.str.lower().where(values != "", None)
        if column in DISPLAY_COLUMNS:
            out[f"display_{column}"] = values.where(values != "", None)
    out["maturity"] = good["rating"].map(family_of)     # before the default: a missing rating is not "kids"
    out["date_added"] = dates.astype(object).where(dates.notna(), None)
    out["release_year"] = good["release_year"].astype(int)
    out["duration_int"] = durations.map(lambda d: d[0] if d else None).astype("Int32")
    out["duration_type"] = durations.map(lambda d: d[1] if d else None)
    out = out[TITLE_COLUMNS].reset_index(drop=True)

    report.rows_out[platform.name] = len(out)
    report.missing[platform.name] = {c: int(n) for c, n in out.isna().sum().items() if n}
    if out["cast"].isna().all():
        report.notes.append(f"{platform.name}: the cast column is empty for every title")
    return out


def clean_catalogs(raw_frames: dict[str, pd.DataFrame], report: QualityReport) -> pd.DataFrame:
    """Clean every platform present in raw_frames (keyed by platform code)."""
    frames = [clean_platform(raw_frames[p.code], p, report) for p in PLATFORMS if p.code in raw_frames]
    titles = pd.concat(frames, ignore_index=True)
    for column in ("type", "platform", "duration_type", "rating", "maturity"):
        titles[column] = titles[column].astype("category")
    return titles
