"""The movies catalog: parsing and transformations on the real partial files,
checked against ast.literal_eval and plain arithmetic done here; malformed rows."""

from __future__ import annotations

import ast
import io

import pandas as pd
import pytest

from etl_job.movies import DROPPED, META_COLUMNS, clean_movies, directors, field_values, main_cast
from etl_job.quality import QualityReport

from .reference import literal_names


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
    assert set(report.rejected_rows()["id"]) == set(meta.loc[(meta["release_date"] == "") | meta["id"].duplicated(), "id"])


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
        assert (got["collection"] if isinstance(got["collection"], str) else None) == (collection[0] if collection else None)


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


def test_the_etl_publishes_the_movies_table(s3_env, shared_data, tmp_path):
    from etl_job.pipeline import EtlOptions, run_etl
    from etl_job.progress import Progress
    from etl_job.sources import DataSource
    from streamlens.release import object_key, read_manifest

    settings, store = s3_env
    for folder in ("streaming", "movies"):
        (tmp_path / folder).mkdir()
    for name in ("movies_metadata.csv", "credits.csv"):
        (tmp_path / "movies" / name).symlink_to(shared_data / "movies" / name)
    for csv in (shared_data / "streaming").glob("*_titles.csv"):
        (tmp_path / "streaming" / csv.name).symlink_to(csv)
    run_etl(DataSource(str(tmp_path)), store, settings, EtlOptions(train=False, sample_ratings=5_000,
                                                                    sample_users=300), Progress(io.StringIO()))
    manifest = read_manifest(store, settings)
    movies = pd.read_parquet(io.BytesIO(store.get(object_key(manifest, "data/movies.parquet"))))
    assert len(movies) == manifest["counts"]["movies"] == 4622
    assert list(movies.loc[movies["id"] == 862, "genres"].iloc[0]) == ["Animation", "Comedy", "Family"]
    assert "movies/credits.csv" in manifest["inputs"] and "reports/rejects_movies.csv" in manifest["objects"]


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
