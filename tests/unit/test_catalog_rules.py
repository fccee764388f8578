"""Cleaning rules on small hand-made catalogs: each repair, each reject reason."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from etl_job.catalog import RAW_COLUMNS, InputError, clean_platform, parse_date, parse_duration
from etl_job.quality import QualityReport
from streamlens.platforms import BY_CODE

BASE = {"show_id": "s1", "type": "Movie", "title": "A Title", "director": "Jo Doe", "cast": "Ann Lee, Bo Ray",
        "country": "Spain", "date_added": "March 30, 2021", "release_year": "2019", "rating": "PG",
        "duration": "90 min", "listed_in": "Drama", "description": "Something happens."}


def _clean(*overrides, code="n"):
    rows = [{**BASE, "show_id": f"s{k + 1}", **o} for k, o in enumerate(overrides)]
    report = QualityReport("catalogs")
    out = clean_platform(pd.DataFrame(rows, columns=RAW_COLUMNS, dtype=str), BY_CODE[code], report)
    return out, report


@pytest.mark.parametrize("text, iso", [
    ("March 30, 2021", "2021-03-30"), ("  March 3, 2021 ", "2021-03-03"), ("Mar 30, 2021", "2021-03-30"),
    ("30 March 2021", "2021-03-30"), ("2021-03-30", "2021-03-30"), ("2021/03/30", "2021-03-30"),
    ("30-Mar-21", "2021-03-30"), ("march 30, 2021", "2021-03-30"),
])
def test_known_date_formats(text, iso):
    assert parse_date(text).isoformat() == iso


@pytest.mark.parametrize("text", ["03/04/2021", "sometime in 2021", "2021-13-01", "31 February 2021"])
def test_ambiguous_or_invalid_dates_are_not_guessed(text):
    assert parse_date(text) is None


@pytest.mark.parametrize("text, parsed", [("1 Season", (1, "season")), ("3 Seasons", (3, "season")),
                                          ("90 min", (90, "min")), ("45 min", (45, "min")), ("ninety", None)])
def test_duration_parsing(text, parsed):
    assert parse_duration(text) == parsed


def test_every_reject_reason_is_counted_and_kept():
    out, report = _clean(
        {},                                                   # good
        {"date_added": "03/04/2021"},                         # ambiguous date
        {"release_year": "20x1"},                             # bad year
        {"type": "TV Show", "duration": "45 min"},            # show measured in minutes
        {"type": "Podcast"},                                  # unknown type
        {"title": ""},                                        # no title
        {"show_id": "s1"},                                    # duplicate of the first row
        {"duration": "ninety minutes"},                       # unreadable duration
        {"show_id": ""},                                      # no id
        {"release_year": "1879"},                             # before cinema
        {"show_id": "s 9"},                                   # not an id
    )
    assert list(out["id"]) == ["ns1"]
    assert report.rejects["netflix"] == {"bad_date_added": 1, "bad_release_year": 2, "type_duration_conflict": 1,
                                         "bad_type": 1, "missing_title": 1, "duplicate_show_id": 1,
                                         "bad_duration": 1, "missing_show_id": 1, "bad_show_id": 1}
    rejected = report.rejected_rows()
    assert len(rejected) == 10
    assert set(rejected["show_id"]) == {"s1", "s2", "s3", "s4", "s5", "s6", "s8", "", "s10", "s 9"}
    assert report.rows_in["netflix"] == 11 and report.rows_out["netflix"] == 1


def test_a_movie_with_seasons_is_a_tv_show_and_ids_differing_in_case_are_duplicates():
    out, report = _clean({}, {"type": "Movie", "duration": "3 Seasons"}, {"show_id": "S1"})
    rows = out.set_index("id")
    assert list(rows.index) == ["ns1", "ns2"]
    assert (rows.loc["ns2", "type"], rows.loc["ns2", "duration_int"], rows.loc["ns2", "duration_type"]) == \
        ("tv show", 3, "season")
    assert report.repairs["netflix"]["movie_with_seasons_is_a_tv_show"] == 1
    assert report.rejects["netflix"] == {"duplicate_show_id": 1}
    assert report.rejected_rows()["show_id"].tolist() == ["S1"]


def test_unambiguous_repairs():
    out, report = _clean(
        {"rating": "74 min", "duration": ""},                          # duration sat in the rating column
        {"director": "Same text.", "description": "Same text."},       # description copied into director
        {"country": ", France, Belgium,", "cast": "Ann Lee,\u00a0 Bo  Ray, 1"},
        {"title": "\u200bZero Width", "rating": ""},
        {"duration": ""},                                              # missing and unrecoverable: kept
    )
    rows = out.set_index("id")
    assert tuple(rows.loc["ns1", ["duration_int", "duration_type", "rating"]]) == (74, "min", "g")
    assert rows.loc["ns2", "director"] is None and rows.loc["ns2", "description"] == "same text."
    assert rows.loc["ns3", "country"] == "france, belgium"
    assert rows.loc["ns3", "cast"] == "ann lee, bo ray"
    assert rows.loc["ns4", "title"] == "zero width" and rows.loc["ns4", "rating"] == "g"
    assert pd.isna(rows.loc["ns5", "duration_int"]) and report.missing["netflix"]["duration_int"] == 1
    repairs = report.repairs["netflix"]
    assert repairs["duration_in_rating_column"] == 1
    assert repairs["description_in_director_column"] == 1
    assert repairs["country_stray_commas"] == 1 and repairs["cast_placeholder_name"] == 1
    assert report.total_rejected == 0


def test_missing_columns_are_an_input_error():
    frame = pd.DataFrame([BASE]).drop(columns=["duration"])
    with pytest.raises(InputError, match=r"missing column.*duration"):
        clean_platform(frame, BY_CODE["a"], QualityReport("catalogs"))


def test_sample_catalog_carries_every_defect(sample_data_dir):
    from etl_job.catalog import clean_catalogs
    from etl_job.pipeline import read_catalog_frames
    from etl_job.sources import DataSource

    report = QualityReport("catalogs")
    clean_catalogs(read_catalog_frames(DataSource(str(sample_data_dir))), report)
    repairs = {kind for per in report.repairs.values() for kind in per}
    rejects = {reason for per in report.rejects.values() for reason in per}
    assert {"duration_in_rating_column", "description_in_director_column", "date_added_stray_spaces",
            "country_stray_commas", "cast_placeholder_name", "title_whitespace_or_invisible_chars"} <= repairs
    assert {"type_duration_conflict", "bad_date_added", "bad_release_year", "duplicate_show_id"} <= rejects
    assert "movie_with_seasons_is_a_tv_show" in repairs
    assert any("cast column is empty" in note for note in report.notes)


def test_a_date_added_after_the_run_becomes_unknown_and_is_recorded():
    today = date.today()
    out, report = _clean(
        {"date_added": "January 1, 2999"},
        {"date_added": (today + timedelta(days=10)).strftime("%B %d, %Y")},
        {"date_added": today.strftime("%B %d, %Y")},
        {"date_added": (today + timedelta(days=1)).strftime("%B %d, %Y")},   # the tolerance: a day ahead
    )
    rows = out.set_index("id")
    assert list(rows.index) == ["ns1", "ns2", "ns3", "ns4"] and report.total_rejected == 0
    assert rows.loc["ns1", "date_added"] is None and rows.loc["ns2", "date_added"] is None
    assert rows.loc["ns3", "date_added"] == today.isoformat()
    assert rows.loc["ns4", "date_added"] == (today + timedelta(days=1)).isoformat()
    assert report.repairs["netflix"] == {"date_added_in_future": 2}


def test_show_ids_differing_only_in_leading_zeros_are_duplicates_and_show_ids_are_ascii():
    out, report = _clean({}, {"show_id": "s01"}, {"show_id": "s\u0661\u0662\u0663"}, {"show_id": "s10"},
                         {"show_id": "s0100"}, {"show_id": "\uff53\uff17"}, {"show_id": "S001"})
    assert list(out["id"]) == ["ns1", "ns10", "ns0100"]
    assert report.rejects["netflix"] == {"duplicate_show_id": 2, "bad_show_id": 2}
    assert report.rejected_rows()["show_id"].tolist() == ["s01", "s\u0661\u0662\u0663", "\uff53\uff17", "S001"]


@pytest.mark.parametrize("year, kept", [("1", False), ("0001", False), ("1879", False), ("9999", False),
                                        (str(date.today().year + 2), False), ("1880", True),
                                        (str(date.today().year + 1), True)])
def test_release_years_outside_1880_to_next_year_are_rejected(year, kept):
    out, report = _clean({}, {"release_year": year})
    assert list(out["id"]) == (["ns1", "ns2"] if kept else ["ns1"])
    assert report.rejects.get("netflix", {}) == ({} if kept else {"bad_release_year": 1})
