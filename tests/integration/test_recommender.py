"""The recommender Lambda against the libraries themselves: its top-n equals implicit's own ranking, its
explanations implicit's `explain`, its predictions surprise's; a visitor's fold-in reproduces a user's
list; filters, the recommend rule and every error of POST /recommendations."""

from __future__ import annotations

import glob
import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from surprise import SVD, Dataset, Reader

from etl_job.catalog import clean_catalogs
from etl_job.pipeline import read_catalog_frames
from etl_job.quality import QualityReport
from etl_job.ranker import RankConfig, fit_als, to_ranking_model
from etl_job.sources import DataSource
from etl_job.svd import export_svd
from streamlens.api import MAX_BODY_BYTES
from streamlens.combined_app import load_handler
from streamlens.layout import RECOMMENDER_BUNDLE, RECOMMENDER_MODEL
from streamlens.maturity import family_of
from streamlens.recommend import build_bundle
from streamlens.release import ReleaseWriter
from tests.helpers import v1_event, v2_event

PARAMS = {"factors": 16, "regularization": 1.0, "alpha": 1.0}


@pytest.fixture
def published(s3_env, sample_data_dir, monkeypatch):
    """surprise's SVD and implicit's ALS trained here on the raw ratings files, exported and published.
    Users with more than 100 ratings get their A^-1 precomputed (500 in production), so both paths are tested."""
    monkeypatch.setattr("streamlens.recommend.HEAVY_USER_RATINGS", 100)
    settings, store = s3_env
    titles = clean_catalogs(read_catalog_frames(DataSource(str(sample_data_dir))), QualityReport("c"))
    raw = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(str(sample_data_dir / "streaming/ratings/*.csv"))))
    raw = raw[raw["movieId"].isin(set(titles["id"]))].drop_duplicates(["userId", "movieId"], keep="last")
    algo = SVD(n_factors=12, n_epochs=25, random_state=0).fit(
        Dataset.load_from_df(raw[["userId", "movieId", "rating"]], Reader(rating_scale=(0.5, 5))).build_full_trainset())
    items = pd.Index(titles["id"]).get_indexer(raw["movieId"])
    rows, users = pd.factorize(raw["userId"])
    als = fit_als(rows, items, raw["rating"].to_numpy(), len(users), len(titles), PARAMS, RankConfig(iterations=8))
    stats = raw.groupby("movieId")["rating"].agg(["mean", "size"]).reindex(titles["id"])
    writer = ReleaseWriter(store, settings)
    writer.put(RECOMMENDER_MODEL, export_svd(algo).to_npz())
    writer.put(RECOMMENDER_BUNDLE, build_bundle(
        titles["id"].to_numpy(), titles["title"].to_numpy(), titles["platform"].astype(str).to_numpy(),
        titles["type"].astype(str).to_numpy(), titles["maturity"].astype(str).to_numpy(),
        titles["release_year"].to_numpy(), stats["mean"].to_numpy(), stats["size"].fillna(0).astype(int).to_numpy(),
        export_svd(algo), to_ranking_model(als, PARAMS), raw["userId"].to_numpy(), items, raw["rating"].to_numpy()))
    writer.publish(inputs={})
    matrix = sparse.csr_matrix((raw["rating"].to_numpy(np.float32), (rows, items)), shape=(len(users), len(titles)))
    return {"algo": algo, "als": als, "raw": raw, "titles": titles, "users": pd.Index(users), "matrix": matrix}


def handler():
    return load_handler("recommender").handler


def post(path: str, query: dict, body=None, raw_body: str | None = None) -> tuple[int, dict]:
    """The same POST through API Gateway REST (v1) and HTTP API (v2) events; both must agree."""
    text = raw_body if raw_body is not None else json.dumps(body)
    v1 = {**v1_event(path, query), "httpMethod": "POST", "body": text}
    v1["requestContext"]["httpMethod"] = "POST"
    v1["headers"]["Content-Type"] = "application/json"
    v2 = {**v2_event(path, query), "body": text}
    v2["requestContext"]["http"]["method"] = "POST"
    v2["headers"]["content-type"] = "application/json"
    first, second = handler()(v1, None), handler()(v2, None)
    assert first["statusCode"] == second["statusCode"] and first["body"] == second["body"]
    return first["statusCode"], json.loads(first["body"])


def sample_users(raw: pd.DataFrame, most: int | None = None) -> list[int]:
    """The most active user, a median one and the least active (with at most `most` ratings)."""
    counts = raw["userId"].value_counts()
    counts = counts[counts <= most] if most else counts
    return [int(counts.index[0]), int(counts.index[len(counts) // 2]), int(counts.index[-1])]


@pytest.mark.parametrize("n, platform", [(10, None), (5, "netflix"), (25, "hulu"), (1, None)])
def test_top_n_equals_implicit_ranking(published, n, platform):
    """implicit's recommend() with the user's factors recalculated from their ratings: same titles, same
    order, scores to 1e-6."""
    titles, als, matrix = published["titles"], published["als"], published["matrix"]
    allowed = None if platform is None else np.flatnonzero(titles["platform"].astype(str) == platform)
    for user in sample_users(published["raw"]):
        row = published["users"].get_loc(user)
        ids, scores = als.recommend(row, matrix[row], N=n, filter_already_liked_items=True, recalculate_user=True,
                                    items=allowed)
        body = handler()({"user_id": user, "n": n, **({"platform": platform} if platform else {})})
        assert [i["title_id"] for i in body["items"]] == titles["id"].to_numpy()[ids].tolist()
        assert [i["score"] for i in body["items"]] == pytest.approx(scores.tolist(), abs=1e-4)   # rounded to 4
        rated = set(published["raw"].loc[published["raw"]["userId"] == user, "movieId"])
        assert not rated & {i["title_id"] for i in body["items"]}


def test_exported_scores_equal_implicit_to_1e6(published):
    from streamlens.ranking import RankingModel

    als, matrix = published["als"], published["matrix"]
    model = RankingModel(to_ranking_model(als, PARAMS).item_factors, PARAMS["regularization"], PARAMS["alpha"])
    for user in sample_users(published["raw"]):
        row = published["users"].get_loc(user)
        factors = als.recalculate_user(row, matrix[row])
        expected = als.item_factors @ np.ravel(factors)
        got = model.scores(matrix[row].indices, matrix[row].data)
        assert np.abs(got - expected).max() < 1e-6


def test_because_you_rated_is_implicit_explain(published):
    titles, als, matrix = published["titles"], published["als"], published["matrix"]
    user = sample_users(published["raw"])[1]
    row = published["users"].get_loc(user)
    body = handler()({"user_id": user, "n": 5})
    for item in body["items"]:
        _, contributions, _ = als.explain(row, matrix, int(np.flatnonzero(titles["id"] == item["title_id"])[0]))
        assert item["because_you_rated"]["title_id"] == titles["id"].iloc[contributions[0][0]]


def test_a_stored_inverse_gives_the_same_ranking_as_the_fold_in(published):
    from streamlens.combined_app import load_handler as load

    recommender = load("recommender").fn.cache.built()
    counts = published["raw"]["userId"].value_counts()
    heavy = [int(u) for u in counts.index[counts > 100][:5]]
    assert heavy and len(recommender.heavy_users) == int((counts > 100).sum())
    for user in heavy:
        stored = recommender.user(user)
        plain = recommender.ranking.fold_in(stored.items, stored.confidence / recommender.ranking.alpha)
        assert np.abs(stored.scores() - plain.scores()).max() < 1e-5
        targets = np.argsort(-plain.scores())[:10]
        assert stored.because(targets).tolist() == plain.because(targets).tolist()


def test_visitor_fold_in_reproduces_the_users_list(published):
    raw = published["raw"]
    for user in sample_users(raw, most=500):
        mine = raw[raw["userId"] == user]
        ratings = [{"title_id": t, "rating": float(r)} for t, r in zip(mine["movieId"], mine["rating"])]
        as_user = handler()({"user_id": user, "n": 10, "platform": "n"})
        status, as_visitor = post("/recommendations", {}, body={"ratings": ratings, "n": 10,
                                                                          "platform": "n"})
        assert status == 200 and as_visitor["rated"] == len(ratings)
        assert as_visitor["items"] == as_user["items"]
        assert handler()({"ratings": ratings, "n": 10, "platform": "n"})["items"] == as_user["items"]


@pytest.mark.parametrize("filters", [{"type": "movie"}, {"type": "TV Show", "platform": "a"},
                                     {"max_maturity": "kids"}, {"max_maturity": "teens", "year_min": 2015},
                                     {"year_min": 1990, "year_max": 2000}])
def test_filters_keep_the_ranking_order_within_them(published, filters):
    titles, als, matrix = published["titles"], published["als"], published["matrix"]
    ok = np.ones(len(titles), dtype=bool)
    if "platform" in filters:
        ok &= titles["id"].str[0].to_numpy() == filters["platform"]
    if "type" in filters:
        ok &= titles["type"].astype(str).to_numpy() == filters["type"].lower()
    if "max_maturity" in filters:
        order = ["kids", "older_kids", "teens", "young_adults", "adults"]
        ok &= titles["maturity"].astype(str).map(order.index).to_numpy() <= order.index(filters["max_maturity"])
    ok &= titles["release_year"].between(filters.get("year_min", 0), filters.get("year_max", 9999)).to_numpy()
    user = sample_users(published["raw"])[0]
    row = published["users"].get_loc(user)
    ids, _ = als.recommend(row, matrix[row], N=10, filter_already_liked_items=True, recalculate_user=True,
                           items=np.flatnonzero(ok))
    body = handler()({"user_id": user, "n": 10, **filters})
    assert [i["title_id"] for i in body["items"]] == titles["id"].to_numpy()[ids].tolist() and body["items"]
    cold = handler()({"user_id": 10**9, "n": 10, **filters})
    assert cold["cold_start"] and all(ok[titles["id"] == i["title_id"]].all() for i in cold["items"])


def test_kids_filter_never_shows_an_unrated_title(published):
    titles = published["titles"]
    assert family_of(None) == "adults" and family_of("NR") == "adults" and family_of("TV-Y") == "kids"
    body = handler()({"user_id": sample_users(published["raw"])[0], "n": 100, "max_maturity": "kids"})
    shown = titles.set_index("id").loc[[i["title_id"] for i in body["items"]]]
    assert set(shown["rating"].astype(str)) <= {"g", "tv-g", "tv-y", "all", "all_ages"}
    assert (shown["maturity"] == "kids").all()


def test_recommend_agrees_with_the_ranking(published):
    raw, titles = published["raw"], published["titles"]
    user = sample_users(raw)[1]
    top = handler()({"user_id": user, "n": 100, "platform": "d"})["items"]
    for item in [*top[::9], top[-1]]:
        body = handler()({"user_id": user, "title_id": item["title_id"]})
        assert body["recommend"] is True and body["rank_on_platform"] == top.index(item) + 1
    shown = {i["title_id"] for i in top}
    rated = set(raw.loc[raw["userId"] == user, "movieId"])
    outside = [t for t in titles["id"] if t.startswith("d") and t not in shown and t not in rated][:5]
    for title_id in outside:
        body = handler()({"user_id": user, "title_id": title_id})
        assert body["recommend"] is False and body["rank_on_platform"] > 100
    body = handler()({"user_id": user, "title_id": next(iter(rated))})
    assert body["already_rated"] is True and body["recommend"] is False


def test_single_prediction_equals_surprise(published):
    algo, raw, titles = published["algo"], published["raw"], published["titles"]
    user = int(raw["userId"].iloc[0])
    for tid in titles["id"].sample(30, random_state=1):
        body = handler()({"user_id": user, "title_id": tid})
        assert body["predicted_rating"] == pytest.approx(algo.predict(user, tid).est, abs=1e-4)
    unknown = handler()({"user_id": 10**9, "title_id": titles["id"].iloc[0]})
    assert unknown["cold_start"] is True
    assert unknown["predicted_rating"] == pytest.approx(algo.predict(10**9, titles["id"].iloc[0]).est, abs=1e-4)
    assert handler()({"user_id": user, "n": 0})["error"]["status"] == 422


@pytest.mark.parametrize("body, status, parameter, needle", [
    ({"ratings": [{"title_id": "ns1", "rating": 5}, {"title_id": "zz42", "rating": 4}]}, 400, "ratings", "'zz42'"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}, {"title_id": "NS1", "rating": 4}]}, 400, "ratings", "ns1"),
    ({"ratings": [{"title_id": "ns1", "rating": 4.3}]}, 422, "rating", "multiple of 0.5"),
    ({"ratings": [{"title_id": "ns1", "rating": 6}]}, 422, "rating", "less than or equal to 5"),
    ({"ratings": []}, 422, "ratings", "at least 1"),
    ({"ratings": [{"title_id": f"ns{k}", "rating": 4} for k in range(1, 502)]}, 422, "ratings", "at most 500"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}], "n": 101}, 422, "n", "less than or equal to 100"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}], "platform": "xbox"}, 400, "platform", "'xbox'"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}], "type": "film"}, 400, "type", "'film'"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}], "max_maturity": "pg"}, 400, "max_maturity", "'pg'"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}], "year_min": 2020, "year_max": 2010}, 400, "year_min", "after"),
    ({"ratings": [{"title_id": "ns1", "rating": 5}], "genre": "drama"}, 422, "genre", "Extra inputs"),
    ({"ratings": "ns1"}, 422, "ratings", "valid list"),
])
def test_visitor_route_errors(published, body, status, parameter, needle):
    got_status, got = post("/recommendations", {}, body=body)
    assert got_status == status, got
    assert got["error"]["parameter"] == parameter and needle in json.dumps(got["error"]), got
    if status == 400:
        assert got["error"]["valid_values"]
    direct = handler()(body)
    assert direct["error"]["status"] == status


def test_visitor_route_refuses_large_bodies_and_query_parameters(published):
    padded = {"ratings": [{"title_id": "ns1", "rating": 5}], "platform": None, "pad": "x" * MAX_BODY_BYTES}
    status, body = post("/recommendations", {}, body=padded)
    assert status == 413 and str(MAX_BODY_BYTES) in body["error"]["message"]
    status, body = post("/recommendations", {"n": 3}, body={"ratings": [{"title_id": "ns1", "rating": 5}]})
    assert status == 400 and body["error"]["parameter"] == "n"
    status, body = post("/recommendations", {}, raw_body="{not json")
    assert status == 422
