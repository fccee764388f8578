"""Recommender training with scikit-surprise, generic over (user, item, rating).

The flow follows the brief: a Reader on the 0.5..5 scale, train_test_split,
RMSE and MAE on the held-out part, a small GridSearchCV (on a sample when the
data are large), then the best SVD refitted on all ratings. BaselineOnly, a
global-mean predictor and user-based KNNWithMeans (Pearson) are scored on the
same split. The result exports to a numpy FactorModel for serving.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from surprise import SVD, AlgoBase, BaselineOnly, Dataset, KNNWithMeans, Reader, accuracy
from surprise.model_selection import GridSearchCV, train_test_split

from streamlens.factor_model import FactorModel

from .ranker import RankConfig

log = logging.getLogger(__name__)
RATING_SCALE = (0.5, 5.0)

# Found by random search then hill-climbing on one fold of ratings_small
# (bench/ratings_small_quality.py reports it on a different 5-fold split):
# very strong regularisation of item biases is what matters on a sparse
# catalog where most titles have few ratings.
TUNED_SVD = dict(n_factors=200, n_epochs=100, lr_bu=0.00215, lr_bi=0.0015, lr_pu=0.0171, lr_qi=0.0025,
                 reg_bu=0.0362, reg_bi=2.9672, reg_pu=0.0658, reg_qi=0.06285, init_std_dev=0.01)
DEFAULT_GRID = {
    "n_factors": [50, 100],
    "n_epochs": [20, 40],
    "lr_all": [0.005, 0.01],
    "reg_all": [0.02, 0.1],
}


@dataclass
class TrainConfig:
    seed: int = 42
    test_size: float = 0.2
    grid: dict[str, list] = field(default_factory=lambda: dict(DEFAULT_GRID))
    extra_candidates: dict[str, dict] = field(default_factory=lambda: {"tuned": dict(TUNED_SVD)})
    cv: int = 3
    grid_sample: int = 150_000
    eval_sample: int = 1_000_000
    knn_sample: int = 60_000
    n_jobs: int = 2
    # ratings x epochs the final refit may cost (~1 s per million on this machine):
    # candidates beyond it are left out so that training stays within its 5-minute target.
    final_budget: float = 220e6
    recommend_threshold: float = 3.5
    final_fit: bool = True      # False: evaluate only (a reference run that serves no model)
    ranking: RankConfig = field(default_factory=RankConfig)    # the top-n ranking model (etl_job/ranker.py)


LEARNING_CURVE_SHARES = (0.1, 0.25, 0.5)     # of the training part, up to LEARNING_CURVE_MAX_ROWS; then all of it
LEARNING_CURVE_MAX_ROWS = 200_000
# The reference run on ratings_small (100,000 real ratings) for the model report: the same code with a
# smaller grid, so that it adds well under a minute to an ETL run.
REFERENCE_CONFIG = TrainConfig(grid={"n_factors": [50, 100], "n_epochs": [20], "lr_all": [0.005],
                                     "reg_all": [0.02, 0.1]}, final_fit=False)


class GlobalMean(AlgoBase):
    """Predicts the training set's mean rating for everyone: the floor any model must beat."""

    def estimate(self, u, i):
        return self.trainset.global_mean


@dataclass
class TrainResult:
    model: FactorModel | None          # None when the config asks for no final fit
    card: dict[str, Any]
    algo: SVD | None


def to_dataset(frame: pd.DataFrame) -> Dataset:
    """frame columns user, item, rating -> surprise Dataset on the 0.5..5 scale."""
    return Dataset.load_from_df(frame[["user", "item", "rating"]], Reader(rating_scale=RATING_SCALE))


def export_svd(algo: SVD) -> FactorModel:
    """Copy a fitted surprise SVD into a FactorModel (ids in inner-id order)."""
    trainset = algo.trainset
    users = np.asarray([trainset.to_raw_uid(u) for u in range(trainset.n_users)])
    items = np.asarray([trainset.to_raw_iid(i) for i in range(trainset.n_items)])
    return FactorModel(
        global_mean=float(trainset.global_mean), user_ids=users, item_ids=items,
        user_bias=np.asarray(algo.bu, dtype=np.float64), item_bias=np.asarray(algo.bi, dtype=np.float64),
        user_factors=np.asarray(algo.pu, dtype=np.float32), item_factors=np.asarray(algo.qi, dtype=np.float32),
        rating_scale=RATING_SCALE,
    )


def _sample(frame: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= size else frame.sample(n=size, random_state=seed)


def _user_sample(frame: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """Whole users until about `size` ratings: KNN needs each user's full history."""
    if len(frame) <= size:
        return frame
    counts = frame.groupby("user").size().sample(frac=1.0, random_state=seed)
    chosen = counts.index[np.cumsum(counts.to_numpy()) <= size]
    return frame[frame["user"].isin(chosen)]


def _scores(predictions) -> dict[str, float]:
    return {"rmse": round(accuracy.rmse(predictions, verbose=False), 5),
            "mae": round(accuracy.mae(predictions, verbose=False), 5)}


def train_recommender(ratings: pd.DataFrame, config: TrainConfig | None = None, progress=None) -> TrainResult:
    """Tune, evaluate against baselines, refit on everything, export."""
    config = config or TrainConfig()
    say = progress or (lambda stage, **kw: log.info("%s %s", stage, kw))
    started = time.perf_counter()
    card: dict[str, Any] = {"rows": int(len(ratings)), "users": int(ratings["user"].nunique()),
                            "items": int(ratings["item"].nunique()), "rating_scale": list(RATING_SCALE),
                            "seed": config.seed}

    def affordable(params: dict) -> bool:
        return len(ratings) * params.get("n_epochs", 20) <= config.final_budget

    epochs = [e for e in config.grid["n_epochs"] if affordable({"n_epochs": e})] or [min(config.grid["n_epochs"])]
    grid = {**config.grid, "n_epochs": epochs}
    extras = {name: p for name, p in config.extra_candidates.items() if affordable(p)}
    card["left_out_for_time"] = {"grid_epochs": sorted(set(config.grid["n_epochs"]) - set(epochs)),
                                 "candidates": sorted(set(config.extra_candidates) - set(extras)),
                                 "final_budget_rating_epochs": config.final_budget}

    grid_frame = _sample(ratings, config.grid_sample, config.seed)
    t0 = time.perf_counter()
    search = GridSearchCV(SVD, {**grid, "random_state": [config.seed]}, measures=["rmse", "mae"],
                          cv=config.cv, n_jobs=config.n_jobs, joblib_verbose=0)
    search.fit(to_dataset(grid_frame))
    grid_rows = [{"params": {k: v for k, v in p.items() if k != "random_state"},
                  "rmse": round(float(r), 5), "mae": round(float(m), 5)}
                 for p, r, m in zip(search.cv_results["params"], search.cv_results["mean_test_rmse"],
                                    search.cv_results["mean_test_mae"])]
    grid_best = {k: v for k, v in search.best_params["rmse"].items() if k != "random_state"}
    card["grid_search"] = {"sample_rows": int(len(grid_frame)), "cv": config.cv, "grid": grid,
                           "results": grid_rows, "best": grid_best,
                           "seconds": round(time.perf_counter() - t0, 1)}
    say("grid search", rows=len(grid_frame), combos=len(grid_rows), best=grid_best)

    eval_frame = _sample(ratings, config.eval_sample, config.seed)
    trainset, testset = train_test_split(to_dataset(eval_frame), test_size=config.test_size,
                                         random_state=config.seed)
    candidates = {"svd_grid_best": grid_best, **extras}
    results: dict[str, dict] = {}
    fitted: dict[str, SVD] = {}
    for name, params in candidates.items():
        t0 = time.perf_counter()
        fitted[name] = SVD(**params, random_state=config.seed).fit(trainset)
        results[name] = {"algorithm": "SVD", "params": params, **_scores(fitted[name].test(testset)),
                         "fit_seconds": round(time.perf_counter() - t0, 1)}
        say("candidate", name=name, **results[name])
    for name, algo in (("baseline_only", BaselineOnly(verbose=False)), ("global_mean", GlobalMean())):
        t0 = time.perf_counter()
        algo.fit(trainset)
        results[name] = {"algorithm": type(algo).__name__, **_scores(algo.test(testset)),
                         "fit_seconds": round(time.perf_counter() - t0, 1)}
        say("baseline", name=name, **results[name])
    results["knn_with_means_user_pearson"] = _knn_on_user_sample(eval_frame, trainset, testset, candidates,
                                                                 config)
    say("baseline", name="knn_with_means_user_pearson", **results["knn_with_means_user_pearson"])

    chosen = min(candidates, key=lambda n: results[n]["rmse"])
    card["split"] = {"test_size": config.test_size, "rows": int(len(eval_frame)),
                     "sampled": len(eval_frame) < len(ratings)}
    card["candidates"] = results
    card["chosen"] = {"name": chosen, "params": candidates[chosen]}
    t0 = time.perf_counter()
    card["diagnostics"] = diagnostics(fitted[chosen], candidates[chosen], trainset, testset, config)
    say("diagnostics", seconds=round(time.perf_counter() - t0, 1))
    if not config.final_fit:
        card["train_seconds"] = round(time.perf_counter() - started, 1)
        return TrainResult(model=None, card=card, algo=None)

    t0 = time.perf_counter()
    final = SVD(**candidates[chosen], random_state=config.seed).fit(to_dataset(ratings).build_full_trainset())
    card["final_fit_seconds"] = round(time.perf_counter() - t0, 1)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    say("final fit", name=chosen, seconds=card["final_fit_seconds"])
    return TrainResult(model=export_svd(final), card=card, algo=final)


def learning_curve(algo: SVD, params: dict, trainset, testset, seed: int) -> list[dict]:
    """Training and held-out RMSE of the parameters fitted on growing parts of the training set, the
    last point being `algo` (fitted on all of it). The smaller fits use at most LEARNING_CURVE_MAX_ROWS
    and training error is measured on at most that many ratings, so that large data costs little."""
    rows = list(trainset.all_ratings())
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    raw = lambda picked: pd.DataFrame([(trainset.to_raw_uid(u), trainset.to_raw_iid(i), r)   # noqa: E731
                                       for u, i, r in (rows[k] for k in picked)], columns=["user", "item", "rating"])
    sample = [(trainset.to_raw_uid(u), trainset.to_raw_iid(i), r)
              for u, i, r in (rows[k] for k in order[:LEARNING_CURVE_MAX_ROWS])]
    curve = []
    for share in LEARNING_CURVE_SHARES:
        size = max(1, int(share * min(len(rows), LEARNING_CURVE_MAX_ROWS)))
        subset = to_dataset(raw(order[:size])).build_full_trainset()
        smaller = SVD(**params, random_state=seed).fit(subset)
        curve.append({"train_rows": size, "train_rmse": _scores(smaller.test(sample[:size]))["rmse"],
                      "test_rmse": _scores(smaller.test(testset))["rmse"]})
    curve.append({"train_rows": len(rows), "train_rmse": _scores(algo.test(sample))["rmse"],
                  "test_rmse": _scores(algo.test(testset))["rmse"]})
    return curve


def predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """Per actual rating: how many, and the spread of what the model predicted for them."""
    out = []
    for value in np.unique(actual):
        got = predicted[actual == value]
        p10, p50, p90 = np.percentile(got, [10, 50, 90])
        out.append({"actual": float(value), "count": int(len(got)), "mean": round(float(got.mean()), 4),
                    "p10": round(float(p10), 4), "p50": round(float(p50), 4), "p90": round(float(p90), 4)})
    return out


def diagnostics(algo: SVD, params: dict, trainset, testset, config: TrainConfig) -> dict:
    """The model report's figures for the chosen candidate (fitted on the split's training part)."""
    predictions = algo.test(testset)
    actual = np.asarray([p.r_ui for p in predictions], dtype=np.float64)
    predicted = np.asarray([p.est for p in predictions], dtype=np.float64)
    return {
        "learning_curve": learning_curve(algo, params, trainset, testset, config.seed),
        "predicted_vs_actual": predicted_vs_actual(actual, predicted),
    }


def _knn_on_user_sample(eval_frame, trainset, testset, candidates, config) -> dict:
    """User-based KNN is quadratic in users: score it, and SVD beside it, on a user sample of the split."""
    t0 = time.perf_counter()
    users = set(_user_sample(eval_frame, config.knn_sample, config.seed)["user"])
    train_rows = [(trainset.to_raw_uid(u), trainset.to_raw_iid(i), r)
                  for u, i, r in trainset.all_ratings() if trainset.to_raw_uid(u) in users]
    test_rows = [row for row in testset if row[0] in users]
    small = Dataset.load_from_df(pd.DataFrame(train_rows, columns=["user", "item", "rating"]),
                                 Reader(rating_scale=RATING_SCALE)).build_full_trainset()
    knn = KNNWithMeans(k=40, sim_options={"name": "pearson", "user_based": True}, verbose=False).fit(small)
    out = {"algorithm": "KNNWithMeans", "params": {"k": 40, "sim": "pearson", "user_based": True},
           **_scores(knn.test(test_rows)), "sample_users": len(users), "sample_test_rows": len(test_rows)}
    svd = SVD(**candidates["svd_grid_best"], random_state=config.seed).fit(small)
    out["svd_grid_best_on_same_sample"] = _scores(svd.test(test_rows))
    out["fit_seconds"] = round(time.perf_counter() - t0, 1)
    return out
