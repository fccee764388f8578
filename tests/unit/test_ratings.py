"""Ratings validation, unknown ids, superseded duplicates and title scores."""

from __future__ import annotations

import io
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from etl_job.catalog import InputError
from etl_job.quality import QualityReport
from etl_job.ratings import clean_ratings, read_ratings_csv, title_scores

TITLES = pd.Series(["as1", "as2", "ns1", "hs7"])
NOW = 1_700_000_000


def _csv(rows: list[str]) -> bytes:
    return ("userId,rating,timestamp,movieId\n" + "\n".join(rows) + "\n").encode()


def test_bad_rows_are_rejected_with_reasons_and_kept():
    data = _csv([
        "1,4.0,1600000000,as1",
        "1,3.5,1600000001,ns1",
        "2,6.0,1600000000,as1",        # out of scale
        "2,3.3,1600000000,as2",        # not a half star
        "x,4.0,1600000000,as2",        # bad user
        "3,4.0,12,as2",                # timestamp before 1995
        "3,4.0,1600000000,",           # no title id
        "3,4.0,1600000000,zz99",       # unknown title
        "4,2.0,1600000000,AS2",        # ids are matched case-insensitively
    ])
    report = QualityReport("ratings")
    clean = clean_ratings([read_ratings_csv(data, "r.csv")], TITLES, report, now=NOW)
    assert len(clean) == 3
    assert sorted(zip(clean["user"], TITLES[clean["item"]].tolist())) == [(1, "as1"), (1, "ns1"), (4, "as2")]
    counts = defaultdict(int)
    for per in report.rejects.values():
        for reason, n in per.items():
            counts[reason] += n
    assert dict(counts) == {"bad_rating": 2, "bad_user_id": 1, "bad_timestamp": 1, "missing_movie_id": 1,
                            "unknown_title": 1}
    rejected = report.rejected_rows()
    assert len(rejected) == 6 and "zz99" in set(rejected["movieId"])
    assert report.rows_in["ratings"] == 9 and report.rows_out["ratings"] == 3
    assert any("absent from the catalogs" in note for note in report.notes)


def test_a_blank_user_id_in_a_numeric_file_rejects_that_row_only():
    """A blank id made pyarrow read the whole column as floats: first a TypeError stopped the ETL (pandas 3
    keeps NaN a float through astype(str)), then every id of the file read "1.0" and every row was rejected."""
    data = _csv(["1,4.0,1600000000,as1", ",4.0,1600000000,as2", "3,4.5,1600000001,ns1", "NA,3.0,1600000002,ns1"])
    report = QualityReport("ratings")
    clean = clean_ratings([read_ratings_csv(data, "r.csv")], TITLES, report, now=NOW)
    assert sorted(clean["user"].tolist()) == [1, 3]
    assert report.total_rejected == 2 and report.rows_in["ratings"] == 4
    rejected = report.rejected_rows()
    assert sorted(rejected["movieId"]) == ["as2", "ns1"]
    assert all(reason == "bad_user_id" for reason in rejected["reject_reason"])
    assert b"1.0" not in report.rejects_csv()


def test_only_a_users_latest_rating_of_a_title_counts():
    data = _csv(["1,1.0,1600000000,as1", "1,5.0,1600000500,as1", "1,3.0,1600000100,as1", "2,2.0,1600000000,as1"])
    report = QualityReport("ratings")
    clean = clean_ratings([read_ratings_csv(data, "r.csv")], TITLES, report, now=NOW)
    assert sorted(zip(clean["user"], clean["rating"])) == [(1, 5.0), (2, 2.0)]
    assert report.rejects["ratings:amazon"] == {"superseded_by_later_rating": 2}


def test_a_rating_superseded_in_a_later_file_and_one_from_the_future_are_rejected():
    """The latest rating wins across files too (an older export read after a newer one changes nothing);
    a timestamp more than a day after the run cannot be a rating yet."""
    newer = _csv(["1,5.0,1600000500,as1", "2,4.0,1600000000,ns1"])
    older = _csv(["1,1.0,1600000000,as1", f"3,4.0,{NOW + 86_400 + 1},as2", f"4,4.0,{NOW + 3_600},as2"])
    report = QualityReport("ratings")
    clean = clean_ratings([read_ratings_csv(newer, "b.csv"), read_ratings_csv(older, "a.csv")], TITLES, report,
                          now=NOW)
    assert sorted(zip(clean["user"], clean["rating"])) == [(1, 5.0), (2, 4.0), (4, 4.0)]
    assert report.rejects["ratings:amazon"] == {"superseded_by_later_rating": 1, "bad_timestamp": 1}
    kept = report.rejected_rows().set_index("reject_reason")
    assert kept.loc["superseded_by_later_rating", "rating"] == "1.0"
    assert kept.loc["bad_timestamp", "userId"] == "3"


def test_scores_are_means_with_counts():
    rng = np.random.default_rng(3)
    rows = [f"{u},{rng.integers(1, 11) / 2},{1600000000 + k},{rng.choice(TITLES)}"
            for k, u in enumerate(rng.integers(1, 50, 400))]
    raw = pd.read_csv(io.BytesIO(_csv(rows)))
    raw = raw.sort_values("timestamp").drop_duplicates(["userId", "movieId"], keep="last")
    expected = raw.groupby("movieId")["rating"].agg(["mean", "size"])
    clean = clean_ratings([read_ratings_csv(_csv(rows), "r.csv")], TITLES, QualityReport("ratings"), now=NOW)
    scores = title_scores(clean, TITLES).set_index("id")
    for title_id in TITLES:
        if title_id in expected.index:
            assert scores.loc[title_id, "score"] == pytest.approx(expected.loc[title_id, "mean"], abs=1e-4)
            assert scores.loc[title_id, "rating_count"] == expected.loc[title_id, "size"]
        else:
            assert scores.loc[title_id, "rating_count"] == 0 and np.isnan(scores.loc[title_id, "score"])


def test_files_with_wrong_columns_or_none_at_all_are_input_errors():
    with pytest.raises(InputError, match="missing column"):
        read_ratings_csv(b"user,rating,when,title\n1,4,1600000000,as1\n", "bad.csv")
    with pytest.raises(InputError, match="no ratings to clean"):
        clean_ratings([], TITLES, QualityReport("ratings"))


def test_a_trailing_comma_on_every_line_is_rejected_positionally_in_linear_space():
    """10,000 rows of one user, each with one field more than the header: before, pandas took the first
    column as an index and the rejects were selected by label (k^2 = 10 million reject rows)."""
    rows = [f"7,4.0,{1600000000 + k},as1," for k in range(10_000)]
    report = QualityReport("ratings")
    frame = read_ratings_csv(_csv(rows), "trailing.csv")
    clean = clean_ratings([frame], TITLES, report, now=NOW)
    assert len(frame) == 0 and len(clean) == 0
    assert report.rejects["malformed"] == {"wrong_field_count": 10_000}
    assert report.total_rejected == 10_000 and report.rows_in["ratings"] == 10_000
    kept = report.rejected_rows()
    assert len(kept) == 1_000 and kept["line"].tolist()[:3] == [2, 3, 4]
    assert kept["text"].iloc[0] == rows[0] and kept["fields"].iloc[0] == "5 (header: 4)"


def test_a_row_with_an_extra_field_is_rejected_with_its_line_and_the_rest_kept():
    rows = ["1,4.0,1600000000,as1", "1,4,5,1600000001,ns1", "2,3.5,1600000002,as2", "3,x,1600000003,as1",
            "3,2.0,1600000004,hs7,extra"]
    report = QualityReport("ratings")
    clean = clean_ratings([read_ratings_csv(_csv(rows), "middle.csv")], TITLES, report, now=NOW)
    assert sorted(zip(clean["user"], TITLES[clean["item"]].tolist())) == [(1, "as1"), (2, "as2")]
    kept = report.rejected_rows()
    wrong = kept[kept["reject_reason"] == "wrong_field_count"]
    assert wrong["line"].tolist() == [3, 6] and wrong["text"].tolist() == [rows[1], rows[4]]
    assert report.rejects["ratings:amazon"] == {"bad_rating": 1}
    assert report.rows_in["ratings"] == 5 and report.total_rejected == 3


def test_the_rejects_csv_is_bounded_but_every_reject_is_counted(monkeypatch):
    monkeypatch.setattr("etl_job.quality.MAX_REJECT_ROWS", 50)
    rows = [f"{k},9.0,1600000000,as1" for k in range(1, 201)]
    report = QualityReport("ratings")
    clean_ratings([read_ratings_csv(_csv([*rows, "500,4.0,1600000000,as1"]), "r.csv")], TITLES, report, now=NOW)
    assert report.total_rejected == 200 and report.rejects["ratings:amazon"]["bad_rating"] == 200
    assert len(report.rejected_rows()) == 50
    assert report.to_dict()["rejected_rows_in_csv"] == 50


def test_the_rejects_csv_keeps_a_few_rows_per_user_and_reason_and_counts_them_all():
    """One user with 300 bad ratings in two files: the CSV shows enough of them to fix the export, not the
    user's whole history; every row is still counted."""
    from etl_job.quality import MAX_REJECTS_PER_KEY

    heavy = [f"7,9.0,{1600000000 + k},as1" for k in range(150)]
    light = ["8,9.0,1600000000,as1", "8,4.0,1,as2"]
    report = QualityReport("ratings")
    clean_ratings([read_ratings_csv(_csv(heavy + light), "a.csv"), read_ratings_csv(_csv(heavy), "b.csv")],
                  TITLES, report, now=NOW)
    assert report.total_rejected == 302 and report.rejects["ratings:amazon"] == {"bad_rating": 301,
                                                                                 "bad_timestamp": 1}
    kept = report.rejected_rows()
    per_user = kept.groupby(["userId", "reject_reason"]).size().to_dict()
    assert per_user == {("7", "bad_rating"): MAX_REJECTS_PER_KEY, ("8", "bad_rating"): 1, ("8", "bad_timestamp"): 1}
    assert kept.loc[kept["userId"] == "7", "timestamp"].tolist() == [str(1600000000 + k)
                                                                     for k in range(MAX_REJECTS_PER_KEY)]
    assert report.to_dict()["rejected_rows_in_csv"] == len(kept)


def test_the_rejects_csv_fits_a_lambda_response_and_says_how_many_rows_it_holds():
    """20,000 catalog-sized rows full of quotes and non-ASCII text: before, the CSV was unbounded as a
    JSON-escaped response body (60 MB), far over Lambda's 6 MB; now it is cut at a row boundary under the bound."""
    import csv
    import json

    from etl_job.quality import MAX_REJECTS_JSON_BYTES

    text = 'a "quoted" description, « naïve » 東京 ' * 40
    rows = pd.DataFrame({"show_id": [f"s{k}" for k in range(20_000)], "description": text})
    report = QualityReport("catalogs")
    report.rejected("netflix", pd.Series("bad_type", index=rows.index), rows, lambda r: {})
    body = report.rejects_csv()
    assert len(json.dumps(rows.to_csv(index=False))) > 6_000_000   # what it was before
    assert len(json.dumps(body.decode())) <= MAX_REJECTS_JSON_BYTES
    parsed = list(csv.DictReader(io.StringIO(body.decode())))
    assert 0 < len(parsed) < 20_000 and len(parsed) == report.to_dict()["rejected_rows_in_csv"]
    assert [r["show_id"] for r in parsed] == [f"s{k}" for k in range(len(parsed))]
    assert all(r["description"] == text for r in parsed) and report.total_rejected == 20_000


def test_movielens_ratings_are_validated_like_the_streaming_ones():
    """ratings_small.csv with garbage rows: before, training crashed on them after two minutes."""
    from etl_job.ratings import clean_movielens_ratings

    data = (b"userId,movieId,rating,timestamp\n"
            b"1,31,2.5,1260759144\n"
            b"1,1029,3.0,1260759179\n"
            b"abc,xyz,4.5,zzz\n"             # nothing readable
            b"2,10,9.0,835355493\n"          # off the scale
            b"2,-5,4.0,835355493\n"          # not a movie id
            b"3,60,4.0,835355493,extra\n"    # a field too many
            b"3,60,4.0,835355681\n")
    report = QualityReport("ratings_small")
    clean = clean_movielens_ratings(data, "ratings_small.csv", report)
    assert clean.to_dict("list") == {"userId": [1, 1, 3], "movieId": [31, 1029, 60], "rating": [2.5, 3.0, 4.0],
                                     "timestamp": [1260759144, 1260759179, 835355681]}
    assert report.total_rejected == 4 and report.rows_in["ratings"] == 7
    reasons = set(report.rejected_rows()["reject_reason"])
    assert {"wrong_field_count", "bad_rating"} <= reasons and any("bad_user_id" in r for r in reasons)


def test_user_ids_are_integers_parsed_as_integers_and_range_checked():
    big = 2**53 + 1
    data = _csv(["inf,4.0,1600000000,as1", "1e30,4.0,1600000000,as1", "9223372036854775808,4.0,1600000000,as1",
                 "-3,4.0,1600000000,as1", "4.5,4.0,1600000000,as1", "\u0663,4.0,1600000000,as1",
                 f"{big},4.0,1600000000,as1", f"{big + 1},3.0,1600000000,as1",
                 "9223372036854775807,5.0,1600000000,ns1"])
    report = QualityReport("ratings")
    clean = clean_ratings([read_ratings_csv(data, "r.csv")], TITLES, report, now=NOW)
    assert sorted(clean["user"].tolist()) == [big, big + 1, 2**63 - 1], "no two ids merge, none is rounded"
    assert report.rejects["ratings:amazon"] == {"bad_user_id": 6}
