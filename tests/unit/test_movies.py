"""The movies catalog: parsing and transformations on the real partial files,
checked against ast.literal_eval and plain arithmetic done here; malformed rows."""

from __future__ import annotations

import ast
import io
import json
import math
import random
from collections import Counter
from datetime import date

import pandas as pd
import pytest

from etl_job.movies import DROPPED, META_COLUMNS, NUMBERS, Unreadable, clean_movies, directors, field_values, main_cast
from etl_job.quality import QualityReport
from tests.reference import literal_names


@pytest.fixture(scope="module")
def raw(shared_data):
    meta = pd.read_csv(shared_data / "movies" / "movies_metadata.csv", dtype=str, keep_default_na=False)
    credits = pd.read_csv(shared_data / "movies" / "credits.csv", dtype=str, keep_default_na=False)
    return meta, credits


@pytest.fixture(scope="module")
def cleaned(raw):
    report = QualityReport("movies")
    return clean_movies(*raw, report).set_index("id", drop=False), report


def test_rows_without_date_and_repeated_ids_are_rejected_and_counted(cleaned, raw):
    movies, report = cleaned
    meta, _ = raw
    no_date = (meta["release_date"] == "").sum()
    repeated = meta["id"].duplicated().sum()
    assert report.rejects["movies"] == {"missing_release_date": no_date, "duplicate_id": repeated}
    assert len(movies) == len(meta) - no_date - repeated == report.rows_out["movies"]
    rejected = (meta["release_date"] == "") | meta["id"].duplicated()
    assert set(report.rejected_rows()["id"]) == set(meta.loc[rejected, "id"])


def test_nested_values_match_literal_eval(cleaned, raw):
    movies, _ = cleaned
    meta, _ = raw
    kept = meta[(meta["release_date"] != "") & ~meta["id"].duplicated()]
    for _, row in kept.iterrows():
        got = movies.loc[int(row["id"])]
        assert list(got["genres"]) == literal_names(row["genres"])
        assert list(got["companies"]) == literal_names(row["production_companies"])
        assert list(got["countries"]) == literal_names(row["production_countries"])
        assert list(got["languages"]) == literal_names(row["spoken_languages"], "iso_639_1")
        collection = literal_names(row["belongs_to_collection"])
        served = got["collection"] if isinstance(got["collection"], str) else None
        assert served == (collection[0] if collection else None)


def test_credits_give_main_cast_and_directors(cleaned, raw):
    movies, _ = cleaned
    _, credits = raw
    for _, row in credits.iterrows():
        cast = sorted(ast.literal_eval(row["cast"]), key=lambda c: c["order"])[:5]
        crew = ast.literal_eval(row["crew"])
        got = movies.loc[int(row["id"])]
        assert list(got["cast"]) == [c["name"] for c in cast]
        assert list(got["directors"]) == [c["name"] for c in crew if c["job"] == "Director"]
    assert list(movies.loc[862, "directors"]) == ["John Lasseter"]


def test_numbers_dates_return_and_dropped_columns(cleaned, raw):
    movies, _ = cleaned
    meta, _ = raw
    kept = meta[(meta["release_date"] != "") & ~meta["id"].duplicated()]
    for _, row in kept.sample(400, random_state=0).iterrows():
        got = movies.loc[int(row["id"])]
        budget, revenue = float(row["budget"] or 0), float(row["revenue"] or 0)
        assert (got["budget"], got["revenue"]) == (budget, revenue)
        assert got["return"] == pytest.approx(revenue / budget if budget else 0.0)
        assert got["release_date"] == row["release_date"] and got["release_year"] == int(row["release_date"][:4])
    assert not set(DROPPED) & set(movies.columns)
    assert movies.loc[862, "return"] == pytest.approx(373554033 / 30000000)


def test_malformed_rows_are_rejected_with_reasons_never_a_crash():
    good = {c: "" for c in META_COLUMNS} | {"id": "1", "title": "Fine", "release_date": "2001-02-03",
                                           "budget": "10", "revenue": "25", "genres": "[{'id': 1, 'name': 'Drama'}]"}
    shifted = dict(good, id="1997-08-20", budget="/ff9qCepilowshEtG2GYWwzt2bs4.jpg", genres="Released")
    frame = pd.DataFrame([good, shifted, dict(good, release_date="20/08/1997", id="2"),
                          dict(good, id="3", runtime="NaN minutes")], dtype=str)
    report = QualityReport("movies")
    movies = clean_movies(frame, None, report)
    assert list(movies["id"]) == [1] and movies.loc[0, "return"] == 2.5
    assert report.rejects["movies"] == {"bad_id": 1, "bad_number": 2, "malformed_nested_value": 1,
                                        "bad_release_date": 1}
    assert "no credits.csv" in " ".join(report.notes)


@pytest.mark.parametrize("text", [
    "[{'id': 1, 'name': 'Shaquille O\\'Neal'}, {'id': 2, 'name': \"Guns N' Roses\"}]",
    "[{'id': 3, 'name': 'Zoë Kravitz'}, {'id': 4, 'name': 'back\\\\slash'}]",
    "[]", "",
])
def test_quoted_and_escapedliteral_names(text):
    assert field_values(text) == literal_names(text)


def test_directors_fall_back_to_literal_eval_when_keys_are_reordered():
    crew = "[{'name': 'Ana Ortiz', 'job': 'Director'}, {'job': 'Screenplay', 'name': 'Bo Ray'}]"
    assert directors(crew) == ["Ana Ortiz"]
    assert main_cast("[{'name': 'A'}, {'name': 'B'}]", size=1) == ["A"]


def test_generated_movies_carry_the_originals_defects_and_parse_like_literal_eval(tmp_path):
    from etl_job.sample_movies import write_sample_movies

    write_sample_movies(tmp_path, n_movies=400, seed=5)
    meta = pd.read_csv(tmp_path / "movies_metadata.csv", dtype=str, keep_default_na=False)
    credits = pd.read_csv(tmp_path / "credits.csv", dtype=str, keep_default_na=False)
    report = QualityReport("movies")
    movies = clean_movies(meta, credits, report).set_index("id")
    assert {"missing_release_date", "duplicate_id", "bad_id", "malformed_nested_value"} <= set(report.rejects["movies"])
    for _, row in credits.drop_duplicates("id").sample(50, random_state=1).iterrows():
        if int(row["id"]) in movies.index:
            crew = ast.literal_eval(row["crew"])
            assert list(movies.loc[int(row["id"]), "directors"]) == [c["name"] for c in crew if c["job"] == "Director"]
            assert list(movies.loc[int(row["id"]), "cast"]) == [c["name"] for c in ast.literal_eval(row["cast"])][:5]
    for _, row in meta[meta["genres"].str.startswith("[")].sample(50, random_state=2).iterrows():
        if row["id"].isdigit() and int(row["id"]) in movies.index:
            assert list(movies.loc[int(row["id"]), "genres"]) == literal_names(row["genres"])
            assert list(movies.loc[int(row["id"]), "companies"]) == literal_names(row["production_companies"])
    kept_whole = report.rejected_rows()
    repeated = credits[credits["id"].duplicated()].iloc[0]
    assert kept_whole.loc[kept_whole["group"] == "credits", "crew"].iloc[0] == repeated["crew"], "nothing truncated"
    again = tmp_path / "again"
    write_sample_movies(again, n_movies=400, seed=5)
    assert (again / "credits.csv").read_bytes() == (tmp_path / "credits.csv").read_bytes()


def _row(**values) -> dict:
    base = {c: "" for c in META_COLUMNS}
    base.update({"id": "1", "title": "A Movie", "release_date": "2000-01-01", "budget": "10", "revenue": "20",
                 "genres": "[{'id': 16, 'name': 'Animation'}]",
                 "belongs_to_collection": "{'id': 10194, 'name': 'Toy Story Collection'}",
                 "production_countries": "[{'iso_3166_1': 'US', 'name': 'United States of America'}]"})
    return {**base, **values}


@pytest.mark.parametrize("field, value", [
    ("belongs_to_collection", "{'id': 10194, 'name': 'Toy Story Collection', 'poster_path': '/7G9"),   # truncated
    ("production_countries", "[{'iso_3166_1': 'US', 'name': 'United States of America'}, {'iso_3166_1': 'F"),
    ("genres", "[{'id': 16, 'name': 'Foo\\x'}]"),                                                     # bad escape
    ("genres", "{'id': 16, 'name': 'Animation'}"),                                                   # not a list
])
def test_a_value_the_literal_grammar_refuses_is_rejected_never_read_by_the_fast_path(field, value):
    shape = dict if field == "belongs_to_collection" else list
    try:
        refused = not isinstance(ast.literal_eval(value), shape)
    except (SyntaxError, ValueError):
        refused = True
    assert refused, "the case must be one the grammar refuses"
    report = QualityReport("movies")
    meta = pd.DataFrame([_row(), _row(id="2", **{field: value})], dtype=str)
    movies = clean_movies(meta, None, report)
    assert movies["id"].tolist() == [1]
    assert report.rejects["movies"] == {"malformed_nested_value": 1}


def test_ids_too_long_for_an_integer_and_unreadable_credits_are_rejected_not_crashes():
    report = QualityReport("movies")
    meta = pd.DataFrame([_row(), _row(id="12345678901234567890"), _row(id="3")], dtype=str)
    good_crew = "[{'credit_id': 'x', 'department': 'Directing', 'gender': 2, 'id': 7, 'job': 'Director', 'name': 'Jo'}]"
    credits = pd.DataFrame([
        {"id": "1", "cast": "[{'name': 'Ann', 'order': 0}]", "crew": good_crew},
        {"id": "3", "cast": "[{'name': 'Foo\\x', 'order': 0}]", "crew": "[]"},                 # invalid escape
        {"id": "4", "cast": "[]", "crew": "{'job': 'Director', 'name': 'Jo'}"},                 # not a list
        {"id": "5", "cast": "[]", "crew": "[" * 100_000 + "'Director'" + "]" * 100_000},      # deep brackets
        {"id": "99999999999999999999", "cast": "[]", "crew": "[]"},
    ], dtype=str)
    movies = clean_movies(meta, credits, report)
    assert movies["id"].tolist() == [1, 3]
    assert movies.set_index("id").loc[1, "directors"] == ["Jo"] and movies.set_index("id").loc[3, "cast"] == []
    assert report.rejects["movies"] == {"bad_id": 1}
    assert report.rejects["credits"] == {"unreadable_cast": 1, "unreadable_crew": 2, "bad_id": 1}


def _credits(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"cast": "[]", "crew": "[]", **row} for row in rows], dtype=str)


def test_numbers_that_are_not_finite_negative_or_not_an_amount_become_unknown_recorded_never_inf():
    from etl_job.movie_slices import build_movie_slices

    doubtful = {"2": {"revenue": "1e400"}, "3": {"budget": "-5"}, "4": {"runtime": "-90"}, "5": {"runtime": "inf"},
                "6": {"popularity": "nan"}, "7": {"vote_count": "-1e400"}, "8": {"vote_average": "NaN"},
                "9": {"revenue": "1.7e308"}, "10": {"revenue": "1.7e308"},      # one collection: the sum overflows
                "11": {"budget": "1e-320", "revenue": "1e10"},                  # the return overflows
                "12": {"budget": "1e13"}}
    meta = pd.DataFrame([_row(runtime="90"), *(_row(**{"id": i, "runtime": "90", **v}) for i, v in doubtful.items())],
                        dtype=str)
    crew = "[{'credit_id': 'x', 'department': 'Directing', 'gender': 2, 'id': 7, 'job': 'Director', 'name': 'Jo'}]"
    report = QualityReport("movies")
    movies = clean_movies(meta, _credits({"id": "11", "crew": crew}), report).set_index("id", drop=False)
    assert report.total_rejected == 0 and len(movies) == 12
    assert report.repairs["movies"] == {"revenue_not_finite": 1, "budget_negative": 1, "runtime_negative": 1,
                                        "runtime_not_finite": 1, "popularity_not_finite": 1,
                                        "vote_count_not_finite": 1, "vote_average_not_finite": 1,
                                        "revenue_out_of_range": 2, "budget_out_of_range": 2}
    assert (movies.loc[2, "revenue"], movies.loc[2, "return"], movies.loc[3, "budget"]) == (0.0, 0.0, 0.0)
    assert movies.loc[[4, 5], "runtime"].isna().all() and movies.loc[[1, 6], "runtime"].tolist() == [90.0, 90.0]
    assert (movies.loc[11, "budget"], movies.loc[11, "revenue"], movies.loc[11, "return"]) == (0.0, 1e10, 0.0)
    buffer = io.BytesIO()
    movies.reset_index(drop=True).to_parquet(buffer)
    published = pd.read_parquet(io.BytesIO(buffer.getvalue()))
    for column in ("budget", "revenue", "return", "popularity", "runtime", "vote_average", "vote_count"):
        values = published[column].dropna()
        assert values.map(math.isfinite).all(), column
    json.dumps(build_movie_slices(movies.reset_index(drop=True)), allow_nan=False)   # no Infinity, no NaN


@pytest.mark.parametrize("release_date, kept", [
    ("0001-01-01", False), ("9999-12-31", False), ("1869-12-31", False), (f"{date.today().year + 6}-01-01", False),
    ("1874-12-09", True), (f"{date.today().year + 5}-12-31", True),
])
def test_release_dates_before_cinema_or_far_ahead_are_rejected(release_date, kept):
    report = QualityReport("movies")
    movies = clean_movies(pd.DataFrame([_row(), _row(id="2", release_date=release_date)], dtype=str), None, report)
    assert movies["id"].tolist() == ([1, 2] if kept else [1])
    assert report.rejects.get("movies", {}) == ({} if kept else {"bad_release_date": 1})


def test_ids_with_leading_zeros_are_the_same_integer_and_ids_must_be_ascii_digits():
    ids = ["007", "7", "\u0661\u0662\u0663", "\u0667", "\uff18", "0"]      # Arabic-Indic 123 and 7, fullwidth 8
    meta = pd.DataFrame([_row(id=i, title=f"Movie {k}") for k, i in enumerate(ids)], dtype=str)
    credits = _credits({"id": "0007", "cast": "[{'name': 'Ann'}]"}, {"id": "7"}, {"id": "\u0667"})
    report = QualityReport("movies")
    movies = clean_movies(meta, credits, report)
    assert movies["id"].tolist() == [7, 0] and movies["title"].tolist() == ["Movie 0", "Movie 5"]
    assert movies.loc[0, "cast"] == ["Ann"]
    assert report.rejects["movies"] == {"duplicate_id": 1, "bad_id": 3}
    assert report.rejects["credits"] == {"duplicate_id": 1, "bad_id": 1}
    assert report.repairs["movies"] == {"id_leading_zeros": 1} and report.repairs["credits"] == {"id_leading_zeros": 1}


def _whole_list_of_objects(text: str, column: str = "cast") -> bool:
    """The oracle: what ast.literal_eval reads as a list of dicts (for a crew, with every Director named)."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        return False
    return (isinstance(value, list) and all(isinstance(v, dict) for v in value)
            and (column == "cast" or all(isinstance(v.get("name"), str) for v in value if v.get("job") == "Director")))


@pytest.mark.parametrize("column, value", [
    ("cast", "[{'name': 'A'}, {'na]"),                                                    # cut, then closed
    ("cast", "[{'cast_id': 1, 'name': 'A', 'order': 0}, {'cast_id': 2, 'character': 'Agent [X]"),   # cut after a ]
    ("cast", "[{'name': 'A'}, {'name': 'B'}, {'na}]"),
    ("cast", "[{'name': 'A'}]]"),
    ("cast", "[{'name': 'A', 'order': 007}]"),
    ("crew", "[{'job': 'Director', 'name': 'Jo'}, {'job': 'Director', 'name': 'An]"),
    ("cast", "[{'name': 'A'}, {'name': 'B'}]"),                                           # whole values, kept
    ("cast", "[{'name': 'Shaquille O\\'Neal', 'order': 0}, {'name': \"Guns N' Roses\", 'order': 1}]"),
    ("cast", "[{'name':'A',  'order':0}]"),
    ("cast", "[{'name': 'A', 'order': 0.5, 'aka': ['B'], 'profile_path': None}]"),
    ("crew", "[{'job': 'Director', 'name': 'Jo'}, {'name': 'An', 'job': 'Director'}]"),
])
def test_a_credits_value_is_read_only_when_it_is_a_whole_list(column, value):
    whole = _whole_list_of_objects(value, column)
    report = QualityReport("movies")
    movies = clean_movies(pd.DataFrame([_row()], dtype=str), _credits({"id": "1", column: value}), report)
    if whole:
        read = [v["name"] for v in ast.literal_eval(value) if column == "cast" or v["job"] == "Director"]
        assert movies.loc[0, "cast" if column == "cast" else "directors"] == read
        assert "credits" not in report.rejects
    else:
        assert report.rejects["credits"] == {f"unreadable_{column}": 1}
        assert movies.loc[0, "cast"] == [] and movies.loc[0, "directors"] == []


def test_real_credits_cut_anywhere_are_refused_exactly_when_literal_eval_refuses(raw):
    _, credits = raw
    rng = random.Random(13)
    tried = refused = 0
    for column, read in (("cast", main_cast), ("crew", directors)):
        for text in credits[column]:
            ends = [k + 1 for k, c in enumerate(text) if c in "]}"][:4]     # cuts just after a closing bracket
            for cut in rng.sample(range(1, len(text)), min(6, len(text) - 1)) + ends:
                for closing in ("", "]", "}]"):
                    value = text[:cut] + closing
                    whole = _whole_list_of_objects(value, column)
                    try:
                        read(value)
                        assert whole, value[-80:]
                    except Unreadable:
                        assert not whole, value[-80:]
                        refused += 1
                    tried += 1
    assert tried > 3_000 and refused > tried / 2


def test_no_real_movie_value_is_doubtful(cleaned, raw):
    movies, report = cleaned
    meta, credits = raw
    expected = Counter()
    for column in NUMBERS:
        for text in meta[column].str.strip():
            if text:
                x = float(text)
                kind = ("not_finite" if not math.isfinite(x) else "negative" if x < 0 else
                        "out_of_range" if column in ("budget", "revenue") and (0 < x < 1 or x > 1e12) else None)
                expected.update([f"{column}_{kind}"] if kind else [])
    expected.update("id_leading_zeros" for i in meta["id"] if len(i) > 1 and i.startswith("0"))
    assert report.repairs.get("movies", {}) == dict(expected) == {}
    assert report.repairs.get("credits", {}) == {}
    assert all(i.isascii() for i in list(meta["id"]) + list(credits["id"]))
    for column in ("budget", "revenue", "return", "popularity", "runtime", "vote_average", "vote_count"):
        assert movies[column].dropna().map(math.isfinite).all(), column
