"""Model selection of the rating predictor, apart from its training as Surprise keeps its model_selection apart
from its algorithms: a grid search (GridSearchCV on a sample), the candidates scored on one held-out split
against the baselines (BaselineOnly, a global mean, user-based KNNWithMeans on a sample of whole users), and the
diagnostics of the chosen one (learning curve, predicted against actual ratings). Each step takes what it needs
as arguments and returns its section of the model card; etl_job/training.py runs them in order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from surprise import SVD, AlgoBase, BaselineOnly, KNNWithMeans, Trainset, accuracy
from surprise.model_selection import KFold, train_test_split
from surprise.model_selection.validation import fit_and_score

from .progress import Progress
from .svd import fit_svd, to_dataset, to_trainset

LEARNING_CURVE_SHARES = (0.1, 0.25, 0.5)     # of the training part, up to LEARNING_CURVE_MAX_ROWS; then all of it
LEARNING_CURVE_MAX_ROWS = 200_000


class GlobalMean(AlgoBase):
    """Predicts the training set's mean rating for everyone: the floor any model must beat."""

    def estimate(self, u, i):
        return self.trainset.global_mean


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


def grid_search(ratings: pd.DataFrame, grid: dict[str, list], cv: int, seed: int, n_jobs: int,
                max_rows: int, say: Progress | None = None) -> dict:
    """Surprise's GridSearchCV of SVD over the grid, on at most max_rows ratings: the same fits of every
    combination on every fold (surprise's fit_and_score), scored the same way, but each fit is a step of the
    run's progress when it is done, so that a search of minutes shows it. The card's `grid_search` section."""
    frame = _sample(ratings, max_rows, seed)
    t0 = time.perf_counter()
    folds = list(KFold(n_splits=cv, random_state=seed, shuffle=True).split(to_dataset(frame)))
    combos = [dict(zip(grid, values)) for values in product(*grid.values())]
    fits = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(fit_and_score)(SVD(**params, random_state=seed), trainset, testset, ["rmse", "mae"])
        for params, (trainset, testset) in product(combos, folds))
    scores = []
    with (say or Progress(quiet=True)).begin("grid search", len(combos) * cv, "fits") as steps:
        for measures, *_ in fits:
            scores.append(measures)
            steps.advance()
    rmse, mae = (np.asarray([m[name] for m in scores]).reshape(len(combos), cv).mean(axis=1)
                 for name in ("rmse", "mae"))
    rows = [{"params": params, "rmse": round(float(r), 5), "mae": round(float(m), 5)}
            for params, r, m in zip(combos, rmse, mae)]
    return {"sample_rows": len(frame), "cv": cv, "grid": grid, "results": rows, "best": combos[int(np.argmin(rmse))],
            "seconds": round(time.perf_counter() - t0, 1)}


@dataclass
class Holdout:
    """The one split every candidate and baseline is scored on: the ratings it was drawn from (a sample above
    a size), their training part (a surprise Trainset) and their held-out part."""
    ratings: pd.DataFrame
    trainset: Trainset
    testset: list
    test_size: float

    def card(self, all_rows: int) -> dict:
        return {"test_size": self.test_size, "rows": len(self.ratings), "sampled": len(self.ratings) < all_rows}


def holdout(ratings: pd.DataFrame, max_rows: int, test_size: float, seed: int) -> Holdout:
    frame = _sample(ratings, max_rows, seed)
    trainset, testset = train_test_split(to_dataset(frame), test_size=test_size, random_state=seed)
    return Holdout(frame, trainset, testset, test_size)


def score_candidates(candidates: dict[str, dict], split: Holdout, seed: int,
                     say: Progress) -> tuple[dict, dict[str, SVD]]:
    """Each SVD candidate fitted on the split's training part and scored on its held-out part:
    (the card's rows, the fitted SVDs)."""
    results: dict[str, dict] = {}
    fitted: dict[str, SVD] = {}
    for name, params in candidates.items():
        t0 = time.perf_counter()
        with say.begin(f"candidate {name}", split.trainset.n_ratings, "ratings"):
            fitted[name] = fit_svd(params, split.trainset, seed)
        results[name] = {"algorithm": "SVD", "params": params, **_scores(fitted[name].test(split.testset)),
                         "fit_seconds": round(time.perf_counter() - t0, 1)}
        say("candidate", name=name, **results[name])
    return results, fitted


def score_baselines(split: Holdout, say: Progress) -> dict[str, dict]:
    """BaselineOnly and the global mean on the same split."""
    results: dict[str, dict] = {}
    for name, algo in (("baseline_only", BaselineOnly(verbose=False)), ("global_mean", GlobalMean())):
        t0 = time.perf_counter()
        algo.fit(split.trainset)
        results[name] = {"algorithm": type(algo).__name__, **_scores(algo.test(split.testset)),
                         "fit_seconds": round(time.perf_counter() - t0, 1)}
        say("baseline", name=name, **results[name])
    return results


def score_knn(split: Holdout, svd_params: dict, sample_ratings: int, seed: int) -> dict:
    """User-based KNN is quadratic in users: score it, and the SVD of svd_params beside it, on a sample of
    whole users of the split (about sample_ratings ratings)."""
    t0 = time.perf_counter()
    trainset, testset = split.trainset, split.testset
    users = set(_user_sample(split.ratings, sample_ratings, seed)["user"])
    train_rows = [(trainset.to_raw_uid(u), trainset.to_raw_iid(i), r)
                  for u, i, r in trainset.all_ratings() if trainset.to_raw_uid(u) in users]
    test_rows = [row for row in testset if row[0] in users]
    small = to_trainset(train_rows)
    knn = KNNWithMeans(k=40, sim_options={"name": "pearson", "user_based": True}, verbose=False).fit(small)
    out = {"algorithm": "KNNWithMeans", "params": {"k": 40, "sim": "pearson", "user_based": True},
           **_scores(knn.test(test_rows)), "sample_users": len(users), "sample_test_rows": len(test_rows)}
    out["svd_grid_best_on_same_sample"] = _scores(fit_svd(svd_params, small, seed).test(test_rows))
    out["fit_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def best_candidate(candidates: dict[str, dict], results: dict[str, dict]) -> str:
    """The candidate of lowest held-out RMSE (the baselines are scored, never chosen)."""
    return min(candidates, key=lambda n: results[n]["rmse"])


def learning_curve(algo: SVD, params: dict, trainset, testset, seed: int) -> list[dict]:
    """Training and held-out RMSE of the parameters fitted on growing parts of the training set, the
    last point being `algo` (fitted on all of it). The smaller fits use at most LEARNING_CURVE_MAX_ROWS
    and training error is measured on at most that many ratings, so that large data costs little."""
    rows = list(trainset.all_ratings())
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    raw = lambda picked: [(trainset.to_raw_uid(u), trainset.to_raw_iid(i), r)   # noqa: E731
                          for u, i, r in (rows[k] for k in picked)]
    sample = raw(order[:LEARNING_CURVE_MAX_ROWS])
    curve = []
    for share in LEARNING_CURVE_SHARES:
        size = max(1, int(share * min(len(rows), LEARNING_CURVE_MAX_ROWS)))
        smaller = fit_svd(params, to_trainset(raw(order[:size])), seed)
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
        out.append({"actual": float(value), "count": len(got), "mean": round(float(got.mean()), 4),
                    "p10": round(float(p10), 4), "p50": round(float(p50), 4), "p90": round(float(p90), 4)})
    return out


def diagnostics(algo: SVD, params: dict, split: Holdout, seed: int) -> dict:
    """The model report's figures for the chosen candidate (fitted on the split's training part)."""
    predictions = algo.test(split.testset)
    actual = np.asarray([p.r_ui for p in predictions], dtype=np.float64)
    predicted = np.asarray([p.est for p in predictions], dtype=np.float64)
    return {
        "learning_curve": learning_curve(algo, params, split.trainset, split.testset, seed),
        "predicted_vs_actual": predicted_vs_actual(actual, predicted),
    }
