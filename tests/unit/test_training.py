"""Training flow and the numpy export, checked against surprise itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from surprise import SVD

from etl_job.model_selection import predicted_vs_actual
from etl_job.svd import export_svd, to_dataset
from etl_job.training import train_recommender
from streamlens.factor_model import FactorModel
from tests.helpers import GRID_OF_TWO as SMALL
from tests.helpers import two_taste_ratings


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    """Two tastes, so factors matter; extreme users and titles, so clipping happens."""
    users, items, rating = two_taste_ratings(seed=0, users=150, titles=200, per_user=40, noise=0.5)
    rating[users == 0] = 5.0
    rating[users == 1] = 0.5
    rating[items == 1] = np.where(users[items == 1] % 2 == 0, 5.0, 0.5)
    return pd.DataFrame({"user": users + 1000, "item": [f"nt{i}" for i in items], "rating": rating})


@pytest.fixture(scope="module")
def fitted(ratings):
    algo = SVD(n_factors=10, n_epochs=40, lr_all=0.02, reg_all=0.01, random_state=1)
    return algo.fit(to_dataset(ratings).build_full_trainset())


def test_numpy_prediction_equals_surprise(fitted, ratings):
    model = FactorModel.from_npz(export_svd(fitted).to_npz())
    pairs = [(u, i) for u in ratings["user"].unique()[:40] for i in ratings["item"].unique()[:60]]
    pairs += [(99999, "nt3"), (1000, "unknown-title"), (99999, "unknown-title")]
    clipped_high = clipped_low = 0
    for user, item in pairs:
        expected = fitted.predict(user, item).est
        raw = fitted.predict(user, item, clip=False).est
        clipped_high += raw > 5.0
        clipped_low += raw < 0.5
        assert model.estimate(user, item) == pytest.approx(expected, abs=1e-6)
    assert clipped_high and clipped_low, "the check must cover clipping at both ends"
    assert model.estimate(99999, "unknown-title") == pytest.approx(fitted.trainset.global_mean, abs=1e-9)


def test_scores_for_user_match_single_estimates(fitted, ratings):
    model = export_svd(fitted)
    user = int(ratings["user"].iloc[0])
    scores = model.scores_for_user(user)
    for k in range(0, len(model.item_ids), 17):
        assert scores[k] == pytest.approx(fitted.predict(user, model.item_ids[k]).est, abs=1e-6)
    assert model.scores_for_user(-1) is None


def test_training_flow_reports_every_candidate_and_baseline(ratings):
    result = train_recommender(ratings, SMALL)
    card = result.card
    expected = {"svd_grid_best", "tuned", "baseline_only", "global_mean", "knn_with_means_user_pearson"}
    assert expected <= set(card["candidates"])
    assert len(card["grid_search"]["results"]) == 2
    for scores in card["candidates"].values():
        assert 0 < scores["mae"] <= scores["rmse"] < 2.5
    chosen = card["candidates"][card["chosen"]["name"]]
    assert chosen["rmse"] < card["candidates"]["global_mean"]["rmse"]
    assert card["rows"] == len(ratings) and card["users"] == 150
    assert set(result.model.item_ids) == set(ratings["item"])
    some_user = int(ratings["user"].iloc[5])
    assert result.model.estimate(some_user, "nt7") == pytest.approx(result.algo.predict(some_user, "nt7").est, abs=1e-6)


def test_predicted_vs_actual_summarises_each_actual_rating():
    actual = np.array([1.0, 1.0, 1.0, 5.0, 5.0])
    predicted = np.array([2.0, 3.0, 4.0, 4.5, 3.5])
    rows = predicted_vs_actual(actual, predicted)
    assert [(r["actual"], r["count"], r["mean"], r["p50"]) for r in rows] == [(1.0, 3, 3.0, 3.0), (5.0, 2, 4.0, 4.0)]


def test_diagnostics_learning_curve(ratings):
    card = train_recommender(ratings, SMALL).card
    diagnostics = card["diagnostics"]
    curve = diagnostics["learning_curve"]
    train_rows = round(len(ratings) * (1 - SMALL.test_size))
    assert [p["train_rows"] for p in curve] == [int(s * train_rows) for s in (0.1, 0.25, 0.5)] + [train_rows]
    assert curve[-1]["test_rmse"] == card["candidates"][card["chosen"]["name"]]["rmse"]
    assert curve[0]["test_rmse"] > curve[-1]["test_rmse"], "more data, lower held-out error"
    counts = {r["actual"]: r["count"] for r in diagnostics["predicted_vs_actual"]}
    assert sum(counts.values()) == len(ratings) - curve[-1]["train_rows"]


def test_an_evaluation_only_run_fits_no_final_model(ratings):
    from dataclasses import replace

    result = train_recommender(ratings, replace(SMALL, final_fit=False))
    assert result.model is None and "final_fit_seconds" not in result.card and result.card["diagnostics"]
