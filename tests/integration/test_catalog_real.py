"""Every catalog transformation on the real exports, against expectations
computed here from the raw CSV rows (csv module), not by the cleaner."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from etl_job.catalog import clean_catalogs
from etl_job.quality import QualityReport
from streamlens.platforms import BY_CODE, PLATFORMS

DURATION = re.compile(r"^(\d+) (min|Seasons?)$")


@pytest.fixture(scope="module")
def cleaned(raw_rows):
    frames = {code: pd.DataFrame(rows, dtype=str) for code, rows in raw_rows.items()}
    report = QualityReport("catalogs")
    titles = clean_catalogs(frames, report)
    return titles.set_index("id", drop=False), report


def _shifted(row) -> bool:
    return row["duration"].strip() == "" and bool(DURATION.match(row["rating"].strip()))


def _movie_with_seasons(row) -> bool:
    """Typed Movie, with a duration in seasons (shifted into the rating column on the real files)."""
    text = row["duration"].strip() or (row["rating"].strip() if _shifted(row) else "")
    return row["type"] == "Movie" and "Season" in text


def _kept(raw_rows):
    for code, rows in raw_rows.items():
        for row in rows:
            yield code, row


def test_every_real_row_is_kept(cleaned, raw_rows):
    titles, report = cleaned
    for code, rows in raw_rows.items():
        name = BY_CODE[code].name
        assert report.rows_in[name] == len(rows)
        assert report.rows_out[name] == len(rows)
        assert (titles["platform"] == name).sum() == len(rows)
    assert report.total_rejected == 0


def test_id_is_platform_letter_plus_show_id(cleaned, raw_rows):
    titles, _ = cleaned
    expected = {code + row["show_id"] for code, row in _kept(raw_rows)}
    assert set(titles["id"]) == expected
    assert titles.loc["as680", "title"] == next(r["title"] for r in raw_rows["a"] if r["show_id"] == "s680").lower()


def test_null_rating_becomes_g_and_text_is_lowercase(cleaned, raw_rows):
    titles, _ = cleaned
    empty = [(code + row["show_id"]) for code, row in _kept(raw_rows)
             if row["rating"].strip() == "" or _shifted(row)]
    assert len(empty) > 300
    assert (titles.loc[empty, "rating"] == "g").all()
    for column in ("type", "title", "director", "cast", "country", "rating", "listed_in", "description"):
        values = titles[column].dropna()
        assert (values == values.str.lower()).all(), column
    plain = [(code + row["show_id"], row["title"]) for code, row in _kept(raw_rows)
             if row["title"] == " ".join(row["title"].split()) and row["title"].isascii()]
    assert len(plain) > 20_000
    ids, raw_titles = zip(*plain)
    assert list(titles.loc[list(ids), "title"]) == [t.lower() for t in raw_titles]


def test_date_added_is_iso(cleaned, raw_rows):
    titles, _ = cleaned
    checked = padded = 0
    for code, row in _kept(raw_rows):
        raw = row["date_added"]
        got = titles.loc[code + row["show_id"], "date_added"]
        if raw.strip() == "":
            assert got is None
            continue
        assert got == datetime.strptime(raw.strip(), "%B %d, %Y").strftime("%Y-%m-%d")
        checked += 1
        padded += raw != raw.strip()
    assert checked > 12_000 and padded == 88   # the real Netflix export has 88 padded dates


def test_duration_split_into_int_and_type(cleaned, raw_rows):
    titles, _ = cleaned
    seen = {"min": 0, "season": 0, "missing": 0}
    for code, row in _kept(raw_rows):
        text = row["duration"].strip() or (row["rating"].strip() if _shifted(row) else "")
        got = titles.loc[code + row["show_id"], ["duration_int", "duration_type"]]
        match = DURATION.match(text)
        if not match:
            assert (pd.isna(got["duration_int"]) and got["duration_type"] is None) or pd.isna(got["duration_type"])
            seen["missing"] += 1
            continue
        unit = "min" if match.group(2) == "min" else "season"
        assert (int(got["duration_int"]), got["duration_type"]) == (int(match.group(1)), unit)
        seen[unit] += 1
    assert seen["season"] > 5_000 and seen["min"] > 15_000
    assert set(titles["duration_type"].dropna().astype(str)) == {"min", "season"}


def test_repairs_and_rejects_are_reported(cleaned, raw_rows):
    _, report = cleaned
    for code, rows in raw_rows.items():
        name = BY_CODE[code].name
        shifted = sum(_shifted(r) for r in rows)
        assert report.repairs[name].get("duration_in_rating_column", 0) == shifted
        padded = sum(r["date_added"] != r["date_added"].strip() for r in rows)
        assert report.repairs[name].get("date_added_stray_spaces", 0) == padded
        copies = sum(r["director"] != "" and r["director"] == r["description"] for r in rows)
        assert report.repairs[name].get("description_in_director_column", 0) == copies
        series = sum(_movie_with_seasons(r) for r in rows)
        assert report.repairs[name].get("movie_with_seasons_is_a_tv_show", 0) == series
    assert report.repairs["hulu"]["duration_in_rating_column"] == 292
    assert report.repairs["hulu"]["movie_with_seasons_is_a_tv_show"] == 62
    assert report.repairs["netflix"]["duration_in_rating_column"] == 3
    assert report.examples["repair:movie_with_seasons_is_a_tv_show"], "repairs need examples"


def test_movies_with_seasons_are_kept_as_tv_shows(cleaned, raw_rows):
    titles, report = cleaned
    series = [BY_CODE["h"].code + r["show_id"] for r in raw_rows["h"] if _movie_with_seasons(r)]
    assert len(series) == 62
    assert (titles.loc[series, "type"] == "tv show").all() and (titles.loc[series, "duration_type"] == "season").all()
    assert "yashahime: princess half-demon" in set(titles.loc[series, "title"])
    rejects = pd.read_csv(io.BytesIO(report.rejects_csv()), dtype=str, keep_default_na=False)
    assert rejects.empty


def test_placeholder_people_are_removed(cleaned, raw_rows):
    titles, report = cleaned
    only = [code + r["show_id"] for code, r in _kept(raw_rows) if r["cast"].strip() == "1"]
    assert only, "the real Amazon export carries QA rows with cast '1'"
    assert titles.loc[only, "cast"].isna().all()
    placeholders = [code + r["show_id"] for code, r in _kept(raw_rows)
                    if any(p.strip().isdigit() for p in r["cast"].split(","))]
    people = titles["cast"].dropna().str.split(", ").explode()
    assert not people.str.fullmatch(r"\d+").any()
    assert report.repairs["amazon"]["cast_placeholder_name"] == len(placeholders)


def test_movie_counts_per_platform(cleaned, raw_rows):
    titles, _ = cleaned
    for platform in PLATFORMS:
        expected = sum(r["type"] == "Movie" and not _movie_with_seasons(r) for r in raw_rows[platform.code])
        got = ((titles["platform"] == platform.name) & (titles["type"] == "movie")).sum()
        assert got == expected
    assert ((titles["platform"] == "netflix") & (titles["type"] == "movie")).sum() == 6131


def test_no_real_date_is_in_the_future_and_titles_added_before_their_release_year_are_kept(cleaned, raw_rows):
    titles, report = cleaned
    latest = (date.today() + timedelta(days=1)).isoformat()
    early = []
    for code, row in _kept(raw_rows):
        raw = row["date_added"].strip()
        if raw:
            added = datetime.strptime(raw, "%B %d, %Y").date()
            assert added.isoformat() <= latest
            if added.year < int(row["release_year"]):
                early.append(code + row["show_id"])
    assert not any("date_added_in_future" in per for per in report.repairs.values())
    # a series' release_year is its latest season's: 20 real titles were added before it, none by mistake
    assert len(early) == 20 and titles.loc[early, "date_added"].notna().all()
