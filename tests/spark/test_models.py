"""The models fitted with Spark MLlib: the exported models reproduce Spark's own predictions and solves, the biases
recover planted ones, and both models score within the documented parity tolerance of the single-machine ones on
the same split (small data: every Spark fit costs seconds of job overhead)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from etl_job.spark.models import (
    BIAS_REG_ITEM,
    BIAS_REG_USER,
    PRECISION_TOLERANCE,
    RMSE_TOLERANCE,
    fit_explicit,
    fit_implicit,
    fit_ranker,
)
from streamlens.factor_model import FactorModel


def _frame(spark, users, items, ratings):
    return spark.createDataFrame(pd.DataFrame({"user": np.asarray(users, dtype=np.int64),
                                               "item": np.asarray(items, dtype=np.int64),
                                               "rating": np.asarray(ratings, dtype=np.float64)}))


@pytest.fixture(scope="module")
def planted():
    """Every user rates every title: r = mu + b_u + b_i + p_u . q_i + noise, the biases and the factors centred,
    so that the interaction adds nothing to any user's or title's mean."""
    rng = np.random.default_rng(3)
    n_users, n_items = 120, 50
    user_bias, item_bias = rng.normal(0, 0.4, n_users), rng.normal(0, 0.4, n_items)
    user_bias, item_bias = user_bias - user_bias.mean(), item_bias - item_bias.mean()
    p, q = rng.normal(0, 0.6, (n_users, 2)), rng.normal(0, 0.6, (n_items, 2))
    p, q = p - p.mean(axis=0), q - q.mean(axis=0)
    users, items = np.repeat(np.arange(n_users), n_items), np.tile(np.arange(n_items), n_users)
    ratings = 3.2 + user_bias[users] + item_bias[items] + (p[users] * q[items]).sum(axis=1)
    ratings += rng.normal(0, 0.05, len(users))
    return {"users": users + 1000, "items": items, "ratings": ratings, "user_bias": user_bias,
            "item_bias": item_bias, "n_users": n_users, "n_items": n_items}


@pytest.fixture(scope="module")
def predictor(spark, planted):
    frame = _frame(spark, planted["users"], planted["items"], planted["ratings"])
    # The title ids as the ETL passes them: a pandas column's values (an object array of str).
    return fit_explicit(frame, {"rank": 4, "maxIter": 5, "regParam": 0.05}, seed=1,
                        item_ids=pd.Series([f"t{k}" for k in range(planted["n_items"])]).to_numpy())


def test_the_exported_model_reproduces_sparks_own_predictions(spark, planted, predictor):
    model = FactorModel.from_npz(predictor.export().to_npz())     # as the recommender Lambdas load it
    rng = np.random.default_rng(0)
    picked = rng.choice(len(planted["users"]), 300, replace=False)
    pairs = pd.DataFrame({"user": planted["users"][picked], "item": planted["items"][picked]})
    unknown = pd.DataFrame({"user": [1, 1000, 1], "item": [3, 10_000, 10_000]})    # new user, new title, both
    got = predictor.transform(spark.createDataFrame(pd.concat([pairs, unknown]))).toPandas()
    assert len(got) == len(pairs) + len(unknown)
    served = [model.estimate(int(u), f"t{i}" if i < planted["n_items"] else "new") for u, i in
              zip(got["user"], got["item"])]
    assert np.abs(np.asarray(served) - got["prediction"].to_numpy()).max() < 1e-5
    assert model.user_factors.dtype == np.float32 and model.item_factors.dtype == np.float32
    assert set(model.user_ids.tolist()) == set(planted["users"].tolist())
    assert model.item_ids.tolist() == [f"t{k}" for k in range(planted["n_items"])]


def test_the_biases_recover_the_planted_ones(planted, predictor):
    """With every user rating every title and centred biases, surprise's regularised means have a closed form:
    b_i = n_users / (n_users + reg_i) x the planted b_i, b_u = n_items / (n_items + reg_u) x the planted b_u."""
    model = predictor.export()
    n_users, n_items = planted["n_users"], planted["n_items"]
    assert model.global_mean == pytest.approx(3.2, abs=0.01)
    expected_items = n_users / (n_users + BIAS_REG_ITEM) * planted["item_bias"]
    order = [int(k[1:]) for k in model.item_ids]
    assert np.abs(model.item_bias - expected_items[order]).max() < 0.02
    expected_users = n_items / (n_items + BIAS_REG_USER) * planted["user_bias"]
    assert np.abs(model.user_bias - expected_users[model.user_ids - 1000]).max() < 0.02
    # the factors explain the planted interaction the biases leave: far better than the biases alone
    served = np.asarray([model.estimate(int(u), f"t{i}") for u, i in zip(planted["users"], planted["items"])])
    biases = model.global_mean + model.user_bias[model.user_ids.searchsorted(planted["users"])] + \
        model.item_bias[planted["items"]]
    truth = planted["ratings"]
    assert np.sqrt(np.mean((served - truth) ** 2)) < 0.5 * np.sqrt(np.mean((biases - truth) ** 2))


def test_mllib_implicit_als_solves_users_as_the_served_model_does(spark):
    """Where every user and every title has the same number of ratings, the mapping (confidence alpha x rating,
    regParam = lambda / ratings per user) makes MLlib's system implicit's: MLlib's last half-step solves each
    user from the item factors, and RankingModel.fold_in must give the same factors from the exported ones."""
    rng = np.random.default_rng(5)
    n, per_user = 40, 8
    users = np.repeat(np.arange(n), per_user)
    items = (users + np.tile(np.arange(per_user), n)) % n           # each title rated by 8 users as well
    ratings = rng.choice(np.arange(1.5, 5.01, 0.5), len(users))     # alpha x rating > 1: no floor applies
    fitted = fit_implicit(_frame(spark, users, items, ratings), {"factors": 4, "regularization": 2.0, "alpha": 1.3},
                          seed=2, n_items=n, iterations=3)
    assert fitted.reg_param == pytest.approx(2.0 / per_user)
    mllib = fitted.als.userFactors.toPandas().set_index("id")["features"]
    for u in range(n):
        mine = users == u
        solved = fitted.model.fold_in(items[mine], ratings[mine]).factors
        assert np.allclose(solved, np.asarray(mllib[u], dtype=np.float64), rtol=1e-3, atol=1e-4), u


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Ratings generated over the sample catalogs, validated as the ETL validates them."""
    from etl_job.catalog import clean_catalogs, read_input_csv
    from etl_job.quality import QualityReport
    from etl_job.ratings import clean_ratings
    from etl_job.sample_data import generate_ratings, write_sample_catalogs
    from etl_job.sources import CATALOG_DIR, DataSource

    folder = tmp_path_factory.mktemp("spark-models")
    write_sample_catalogs(folder / CATALOG_DIR, titles_per_platform=150)
    raw = {code: read_input_csv(data, code) for code, data in DataSource(str(folder)).catalogs().items()}
    titles = clean_catalogs(raw, QualityReport("catalogs"))
    ratings = generate_ratings(titles, 12_000, 300, seed=4)
    valid = clean_ratings([ratings.assign(movieId=ratings["movieId"].astype("category"))], titles["id"],
                          QualityReport("ratings"))
    return titles, valid


def test_rmse_within_tolerance_of_surprise_svd_on_the_same_holdout(spark, generated):
    from etl_job.model_selection import holdout, score_baselines
    from etl_job.progress import Progress
    from etl_job.svd import export_svd, fit_svd

    _, valid = generated
    frame = valid[["user", "item", "rating"]].astype({"rating": np.float64})
    split = holdout(frame, len(frame), 0.2, seed=42)
    truth = np.asarray([r for _, _, r in split.testset])

    def rmse(model) -> float:
        return float(np.sqrt(np.mean((np.asarray([model.estimate(u, i) for u, i, _ in split.testset]) - truth) ** 2)))

    svd = rmse(export_svd(fit_svd({"n_factors": 10, "n_epochs": 40, "lr_all": 0.01, "reg_all": 0.1},
                                  split.trainset, 42)))
    train = pd.DataFrame(split.trainset.build_testset(), columns=["user", "item", "rating"])
    spark_rmse = rmse(fit_explicit(_frame(spark, train["user"], train["item"], train["rating"]),
                                   {"rank": 10, "maxIter": 8, "regParam": 0.1}, seed=42).export())
    mean = score_baselines(split, Progress(quiet=True))["global_mean"]["rmse"]
    assert spark_rmse < mean - 0.05 and svd < mean - 0.05       # both learn something from the ratings
    assert spark_rmse <= svd + RMSE_TOLERANCE, (spark_rmse, svd)


def test_ranker_beats_popularity_and_is_within_tolerance_of_implicit(spark, generated):
    from etl_job.ranker import RankConfig, _model_scorer, fit_als, to_ranking_model
    from etl_job.topn_eval import evaluate_topn, make_split, popularity_scorer

    titles, valid = generated
    split = make_split(valid["user"].to_numpy(), valid["item"].to_numpy(), valid["rating"].to_numpy(),
                       len(titles), 0.2, seed=42)
    params = {"factors": 16, "regularization": 10.0, "alpha": 1.0}
    users, items, ratings = split.part(False)
    kept = items >= 5                                     # titles 0-4 unrated in training, for both models
    train = users[kept], items[kept], ratings[kept]
    implicit = to_ranking_model(fit_als(*train, split.n_users, split.n_items, params, RankConfig(iterations=10)),
                                params)
    mllib = fit_ranker(_frame(spark, *train), params, seed=42, n_items=len(titles), iterations=10)
    assert mllib.item_factors.shape == (len(titles), 16)
    unrated = np.setdiff1d(np.arange(len(titles)), train[1])
    assert unrated.size >= 5 and not mllib.item_factors[unrated].any()     # zero, as implicit leaves them
    got = evaluate_topn(split, {"spark": _model_scorer(mllib), "implicit": _model_scorer(implicit),
                                "popularity": popularity_scorer(split)}, 10, 3.5,
                        tie_key=titles["id"].to_numpy())["all"]
    assert got["spark"]["precision"] > got["popularity"]["precision"], got
    assert got["spark"]["precision"] >= (1 - PRECISION_TOLERANCE) * got["implicit"]["precision"], got


def test_train_with_spark_cards_have_the_pandas_keys_and_render_in_the_model_report(spark, generated):
    from etl_job.model_report import model_report
    from etl_job.ranker import RankConfig, train_ranker
    from etl_job.similar_titles import STREAMING_FIELDS, content_matrix, nearest_neighbours
    from etl_job.spark.training import train_with_spark
    from etl_job.training import TrainConfig, train_recommender

    titles, valid = generated
    ids = titles["id"].to_numpy()
    users, items, values = (valid[c].to_numpy() for c in ("user", "item", "rating"))
    neighbours = nearest_neighbours(content_matrix(titles, STREAMING_FIELDS))["all"]
    ranking = RankConfig(grid=({"factors": 8, "regularization": 5.0, "alpha": 1.0},), iterations=5,
                         eval_max_users=150)
    config = TrainConfig(cv=2, grid_sample=4_000, extra_candidates={}, name="test", ranking=ranking,
                         grid={"n_factors": [8], "n_epochs": [10], "lr_all": [0.01], "reg_all": [0.1]})
    predictor, ranked = train_with_spark(_frame(spark, users, items, values), users, items, values, len(titles),
                                         config, tie_key=ids, groups=titles["platform"].astype(str).to_numpy(),
                                         neighbours=neighbours.index, similarity=neighbours.score, item_ids=ids,
                                         grid={"rank": [8], "maxIter": [5], "regParam": [0.1]})
    card = {**predictor.card, "ranking": ranked.card}
    assert card["engine"] == "spark" and ranked.card["engine"] == "spark"
    assert set(predictor.model.item_ids) <= set(ids) and set(predictor.model.user_ids) == set(users)
    assert ranked.model.item_factors.shape == (len(titles), 8)

    pandas = train_recommender(pd.DataFrame({"user": users, "item": ids[items], "rating": values}),
                               config).card
    pandas_ranked = train_ranker(users, items, values, len(titles), replace_svd(ranking), tie_key=ids,
                                 groups=titles["platform"].astype(str).to_numpy(), neighbours=neighbours.index,
                                 similarity=neighbours.score, final_fit=False).card
    assert set(pandas) <= set(predictor.card)
    assert set(pandas_ranked) - {"final_fit_seconds", "titles_without_ratings", "titles_given_content_factors",
                                 "train_seconds"} <= set(ranked.card)
    assert set(pandas_ranked["evaluation"]["all"]) == set(ranked.card["evaluation"]["all"])

    page = model_report({"streaming": card}, None).decode()
    found = dict(re.findall(r'<figure data-chart="([^"]+)".*?<figcaption>(.*?)</figcaption>', page, flags=re.S))
    assert set(found) == {"streaming_candidates", "streaming_learning_curve", "streaming_predicted_vs_actual",
                          "streaming_top_n"}
    chosen = card["candidates"][card["chosen"]["name"]]
    assert f"scores {chosen['rmse']:.4f}" in found["streaming_candidates"]
    assert f"{card['ranking']['evaluation']['all']['ranking_model']['precision']:.3f}" in found["streaming_top_n"]
    assert chosen["rmse"] < card["candidates"]["global_mean"]["rmse"]


def replace_svd(ranking):
    """The pandas ranker's config with a small SVD for its svd_as_served baseline."""
    from dataclasses import replace

    return replace(ranking, svd_params={"n_factors": 8, "n_epochs": 10})
