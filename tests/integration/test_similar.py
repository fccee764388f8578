"""Similar titles: the chunked neighbour search against a brute-force search
done here, the weighting against per-field cosines, the offline metrics
against plain loops, and the two routes against the published neighbours."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import etl_job.similar_titles as engine
from etl_job.catalog import clean_catalogs
from etl_job.movies import clean_movies, movie_ratings
from etl_job.pipeline import read_catalog_frames
from etl_job.quality import QualityReport
from etl_job.ratings import clean_movielens_ratings
from etl_job.sample_data import write_sample_catalogs
from etl_job.sample_movies import write_sample_movies
from etl_job.similar_eval import collection_share, random_neighbours, rating_agreement, share_metrics
from etl_job.similar_titles import (
    MOVIE_FIELDS,
    STREAMING_FIELDS,
    content_matrix,
    field_matrix,
    name_list,
    nearest_neighbours,
)
from etl_job.sources import DataSource
from streamlens.combined_app import load_handler
from streamlens.layout import MOVIE_SIMILAR_BUNDLE, SIMILAR_BUNDLE, SIMILAR_MODEL_CARD
from streamlens.release import object_key, read_manifest
from streamlens.similar import SimilarTitles
from streamlens.text import match_key
from tests.aws import moto_bucket
from tests.helpers import call


@pytest.fixture(scope="module")
def sample_movies(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("movies")
    write_sample_movies(folder, n_movies=600)
    meta, credits = (pd.read_csv(folder / name, dtype=str, keep_default_na=False)
                     for name in ("movies_metadata.csv", "credits.csv"))
    return clean_movies(meta, credits, QualityReport("movies"))


@pytest.fixture(scope="module")
def sample_titles(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("catalogs")
    write_sample_catalogs(folder / "streaming")
    return clean_catalogs(read_catalog_frames(DataSource(str(folder))), QualityReport("catalogs"))


def brute_force(matrix, k: int, works=None, allowed=None) -> list[list[tuple[int, float]]]:
    """Every pair compared (float64); per row: allowed, other work, positive, best first, one per work."""
    similarity = (matrix.astype(np.float64) @ matrix.T.astype(np.float64)).toarray()
    n = matrix.shape[0]
    works = np.arange(n) if works is None else works
    answers = []
    for row in range(n):
        candidates = [(j, similarity[row, j]) for j in range(n)
                      if works[j] != works[row] and similarity[row, j] > 1e-6 and (allowed is None or allowed[j])]
        candidates.sort(key=lambda c: (-c[1], c[0]))
        seen, kept = set(), []
        for j, value in candidates:
            if works[j] not in seen:
                seen.add(works[j])
                kept.append((j, value))
        answers.append(kept[:k])
    return answers


def assert_same_neighbours(found, expected, tolerance=1e-5):
    """Same scores; same titles wherever the order is not a tie within float rounding."""
    for row, want in enumerate(expected):
        got_index = [int(i) for i in found.index[row] if i >= 0]
        got_score = found.score[row][:len(got_index)]
        assert len(got_index) == len(want), row
        np.testing.assert_allclose(got_score, [v for _, v in want], atol=tolerance)
        for position, (j, value) in enumerate(want):
            clear = all(abs(value - other) > tolerance for _, other in want[:position] + want[position + 1:])
            if clear and (position + 1 < len(want) or len(want) < found.index.shape[1]):
                assert got_index[position] == j, (row, position)


@pytest.mark.parametrize("chunk, dense_share", [(engine.CHUNK_ROWS, engine.DENSE_DF_SHARE), (97, 0.0), (64, 2.0)])
def test_movie_neighbours_equal_a_brute_force_search(sample_movies, monkeypatch, chunk, dense_share):
    """Whatever the chunking and the dense/sparse split (all dense, all sparse), the answer is the same."""
    monkeypatch.setattr(engine, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(engine, "DENSE_DF_SHARE", dense_share)
    matrix = content_matrix(sample_movies, MOVIE_FIELDS)
    found = nearest_neighbours(matrix, k=7)["all"]
    assert found.index.shape == (len(sample_movies), 7)
    assert_same_neighbours(found, brute_force(matrix, 7))


def test_streaming_neighbours_per_platform_and_one_per_work(sample_titles):
    titles = sample_titles
    twin = titles.iloc[[0]].assign(id="zz1", platform="hulu")      # the same work on a second platform
    titles = pd.concat([titles, twin], ignore_index=True)
    matrix = content_matrix(titles, STREAMING_FIELDS)
    works = pd.factorize(pd.Series([f"{match_key(t)}|{y}" for t, y in zip(titles["title"], titles["release_year"])]))[0]
    platforms = titles["platform"].astype(str).to_numpy()
    groups = {name: platforms == name for name in ("disney", "hulu")}
    found = nearest_neighbours(matrix, k=5, works=works, groups=groups)
    assert_same_neighbours(found["all"], brute_force(matrix, 5, works))
    for name, mask in groups.items():
        assert_same_neighbours(found[name], brute_force(matrix, 5, works, mask))
    last = len(titles) - 1
    assert 0 not in found["all"].index[last] and last not in found["all"].index[0]


def test_similarity_is_the_weighted_mean_of_per_field_cosines(sample_movies):
    """Over all fields, a field either title lacks counting 0 (so a sparse record is not favoured)."""
    matrix = content_matrix(sample_movies, MOVIE_FIELDS)
    per_field = [(f.weight, field_matrix(sample_movies[f.column], f)) for f in MOVIE_FIELDS]
    total = sum(f.weight for f in MOVIE_FIELDS)
    rng = np.random.default_rng(3)
    for a, b in rng.integers(0, len(sample_movies), size=(40, 2)):
        norm = lambda m, row: np.sqrt(m[row].multiply(m[row]).sum())                  # noqa: E731
        cosines = [(w, float(m[a].multiply(m[b]).sum()) / (norm(m, a) * norm(m, b)))
                   for w, m in per_field if m[a].nnz and m[b].nnz]
        expected = sum(w * c for w, c in cosines) / total
        assert float(matrix[a].multiply(matrix[b]).sum()) == pytest.approx(expected, abs=1e-5)


def test_name_fields_are_whole_names_matched_without_case_or_accents():
    assert name_list("Zoë Kravitz, ZOE KRAVITZ,  , Tom Hanks") == ["zoe kravitz", "zoe kravitz", "tom hanks"]
    assert name_list(["A", "B", "C"], limit=2) == ["a", "b"]
    assert name_list(None) == [] and name_list(float("nan")) == []
    frame = pd.DataFrame({"cast": ["Zoë Kravitz, Ben Berg", "zoe kravitz", "Ben", None]})
    matrix = field_matrix(frame["cast"], MOVIE_FIELDS[4])
    assert matrix.shape == (4, 1) and matrix[3].nnz == 0, "one shared name; 'Ben' is not 'Ben Berg'"


def test_collection_and_genre_shares_match_plain_loops():
    rng = np.random.default_rng(5)
    n, k = 200, 5
    collections = pd.Series([f"c{v}" if v < 30 else None for v in rng.integers(0, 60, n)])
    genres = pd.Series([[f"g{g}" for g in rng.choice(8, rng.integers(0, 3), replace=False)] for _ in range(n)])
    neighbours = random_neighbours(n, k, seed=1)
    neighbours[::7, 3:] = -1
    size = collections.value_counts()
    rows = [i for i in range(n) if pd.notna(collections[i]) and size[collections[i]] > 1]
    expected = np.mean([sum(collections[j] == collections[i] for j in neighbours[i] if j >= 0) / k for i in rows])
    assert collection_share(neighbours, collections, k) == {"share": round(expected, 4), "movies": len(rows)}
    labels = [frozenset(g) for g in genres]
    shares = [sum(bool(labels[i] & labels[j]) for j in neighbours[i] if j >= 0) / k for i in range(n) if labels[i]]
    assert share_metrics(neighbours, labels, k)["share_any"] == round(float(np.mean(shares)), 4)


def test_random_neighbours_never_pick_the_title_itself():
    picks = random_neighbours(50, 40, seed=2)
    assert not (picks == np.arange(50)[:, None]).any() and picks.min() >= 0 and picks.max() < 50


def test_rating_agreement_matches_a_loop_over_users():
    rng = np.random.default_rng(8)
    n_titles, k = 40, 3
    ratings = pd.DataFrame({"user": rng.integers(0, 30, 900), "item": rng.integers(0, n_titles, 900),
                            "rating": rng.choice([1.0, 2.5, 4.0, 5.0], 900)}).drop_duplicates(["user", "item"])
    neighbours = random_neighbours(n_titles, k, seed=4)
    pairs = rated = liked = 0
    for _, mine in ratings.groupby("user"):
        score = dict(zip(mine["item"], mine["rating"]))
        for m, r in score.items():
            if r >= 4:
                for j in neighbours[m]:
                    pairs += 1
                    rated += j in score
                    liked += j in score and score[j] >= 4
    figures = rating_agreement(neighbours, ratings, k)
    assert figures["pairs"] == pairs
    assert figures["neighbour_rated"] == round(rated / pairs, 4)
    assert figures["rated_neighbour_liked"] == round(liked / rated, 4)


def test_ratings_small_maps_to_catalog_movies_through_links(shared_data):
    folder = shared_data / "movies"
    meta = pd.read_csv(folder / "movies_metadata.csv", dtype=str, keep_default_na=False)
    movies = clean_movies(meta, None, QualityReport("movies"))
    small = clean_movielens_ratings((folder / "ratings_small.csv").read_bytes(), "ratings_small.csv",
                                    QualityReport("ratings_small"))
    assert len(small) == 100_004, "the real file is clean: every rating kept"
    found, info = movie_ratings(small, (folder / "links.csv").read_bytes(), movies["id"].to_numpy())
    ratings = pd.read_csv(folder / "ratings_small.csv")
    links = pd.read_csv(folder / "links.csv").dropna(subset=["tmdbId"])
    joined = ratings.merge(links, on="movieId").merge(
        pd.DataFrame({"tmdbId": movies["id"].astype(float), "item": range(len(movies))}), on="tmdbId")
    assert info["used"] == len(joined) == len(found) and info["ratings"] == len(ratings)
    assert info["no_tmdb_id"] + info["movie_not_in_catalog"] + info["used"] == len(ratings)
    assert sorted(zip(found["user"], found["item"], found["rating"])) == \
        sorted(zip(joined["userId"], joined["item"], joined["rating"]))


@pytest.fixture(scope="module")
def release(real_release):
    with moto_bucket("similar-test") as (settings, store):
        real_release.copy_into(store)
        manifest = read_manifest(store, settings)
        objects = {name: store.get(object_key(manifest, name))
                   for name in (SIMILAR_BUNDLE, MOVIE_SIMILAR_BUNDLE, SIMILAR_MODEL_CARD)}
        yield {"recomendacion": load_handler("recomendacion").handler, "similar": load_handler("similar").handler,
               "objects": objects,
               **{name: pd.read_parquet(io.BytesIO(store.get(object_key(manifest, f"data/{name}.parquet"))))
                  for name in ("movies", "titles")}}


def _expected_top(frame: pd.DataFrame, fields, row: int, n: int) -> list[int]:
    """The n best rows by cosine, from the whole matrix (no chunking, no precomputation)."""
    matrix = content_matrix(frame, fields)
    similarity = np.asarray((matrix[row] @ matrix.T).todense()).ravel()
    similarity[row] = -1
    order = sorted(np.flatnonzero(similarity > 1e-6), key=lambda j: (-similarity[j], j))
    return order[:n]


def test_movie_recommendation_route(release):
    movies = release["movies"]
    votes = movies.loc[movies["title"] == "Toy Story", "vote_count"]
    row = int(votes.idxmax())
    expected = [movies["title"][j] for j in _expected_top(movies, MOVIE_FIELDS, row, 5)]
    status, body = call(release["recomendacion"], "/movies/recommendation", {"titulo": "TOY STORY"})
    assert status == 200 and body["recommendations"] == expected
    assert body["movie"] == {"id": str(movies["id"][row]), "title": "Toy Story",
                             "release_year": int(movies["release_year"][row])}
    year = body["movie"]["release_year"]
    assert body["message"] == f"Películas similares a Toy Story ({year}): " + ", ".join(expected)
    status, body = call(release["recomendacion"], "/movies/recommendation", {"titulo": "toy story", "n": 12})
    assert status == 200 and body["recommendations"][:5] == expected, "the first 5 are the n=5 answer"
    assert body["recommendations"] == [movies["title"][j] for j in _expected_top(movies, MOVIE_FIELDS, row, 12)]
    similarities = [s["similarity"] for s in body["similar"]]
    assert similarities == sorted(similarities, reverse=True)


def test_movie_recommendation_shared_titles_and_errors(release):
    movies = release["movies"]
    shared = movies.groupby(movies["title"].map(match_key)).filter(lambda g: g["release_year"].nunique() > 1)
    title = shared["title"].iloc[0]
    years = sorted(shared.loc[shared["title"].map(match_key) == match_key(title), "release_year"].unique())
    status, body = call(release["recomendacion"], "/movies/recommendation", {"titulo": title, "year": years[-1]})
    assert status == 200 and body["movie"]["release_year"] == years[-1]
    assert {m["release_year"] for m in body["other_matches"]} <= set(years) and body["other_matches"]
    status, body = call(release["recomendacion"], "/movies/recommendation", {"titulo": title, "year": 1801})
    assert status == 400 and body["error"]["parameter"] == "year"
    status, body = call(release["recomendacion"], "/movies/recommendation", {"titulo": "Toy Storry"})
    assert status == 404 and "Toy Story" in body["error"]["suggestions"]
    for params, parameter in (({"titulo": "  "}, "titulo"), ({"titulo": "Heat", "n": 0}, "n"),
                              ({"titulo": "Heat", "n": 21}, "n"), ({"titulo": "Heat", "top": 3}, "top")):
        status, body = call(release["recomendacion"], "/movies/recommendation", params)
        assert 400 <= status < 500 and body["error"]["parameter"] == parameter


def test_similar_route_on_the_streaming_catalog(release):
    titles = release["titles"]
    bundle = SimilarTitles.from_bytes(release["objects"][SIMILAR_BUNDLE])
    for title_id in ("ns1", "as10", "dS5", "hs100"):
        status, body = call(release["similar"], "/similar", {"title_id": title_id, "n": 6})
        k = bundle.by_id(title_id)
        assert status == 200 and body["source"]["id"] == title_id.lower() and len(body["similar"]) == 6
        assert [s["id"] for s in body["similar"]] == list(bundle.ids[bundle.neighbours["all"][k][:6]])
        sims = [s["similarity"] for s in body["similar"]]
        assert sims == sorted(sims, reverse=True) and sims[0] > 0
        same_work = (titles["title"] == titles["title"][k]) & (titles["release_year"] == titles["release_year"][k])
        assert not {s["id"] for s in body["similar"]} & set(titles.loc[same_work, "id"])
    status, body = call(release["similar"], "/similar", {"title": titles["title"][0], "platform": "Disney", "n": 8})
    assert status == 200 and len(body["similar"]) == 8 and {s["platform"] for s in body["similar"]} == {"disney"}


def test_similar_route_errors(release):
    for params, status, parameter in (({}, 400, "title"), ({"title": "x", "title_id": "ns1"}, 400, "title"),
                                      ({"title_id": "ns1", "platform": "hbo"}, 400, "platform"),
                                      ({"title_id": "zz9"}, 404, "title_id"), ({"title_id": "ns1", "n": "a"}, 422, "n"),
                                      ({"title_id": "ns1", "nn": 3}, 400, "nn")):
        got, body = call(release["similar"], "/similar", params)
        assert got == status and body["error"]["parameter"] == parameter, params


def test_model_card_shows_the_engine_beats_both_baselines_on_real_data(release):
    card = json.loads(release["objects"][SIMILAR_MODEL_CARD])
    movies = card["movies"]["evaluation"]
    assert [f["column"] for f in card["movies"]["fields"]] == [f.column for f in MOVIE_FIELDS]
    assert all(f["why"] for f in card["movies"]["fields"] + card["streaming"]["fields"])
    content, genre_only, chance = movies["content"], movies["genre_only"], movies["random"]
    assert content["collection"]["share"] > 2 * genre_only["collection"]["share"] > 0
    assert content["genres"]["share_any"] > chance["genres"]["share_any"]
    ratings = content["ratings"]
    assert ratings["neighbour_rated"] > 1.2 * ratings["neighbour_rated_by_chance"]
    assert ratings["rated_neighbour_liked"] > ratings["liked_by_chance"]
    assert card["movies"]["ratings"]["used"] > 50_000
    assert card["streaming"]["evaluation"]["content"]["genres"]["share_any"] > \
        card["streaming"]["evaluation"]["random"]["genres"]["share_any"]
