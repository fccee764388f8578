"""Recommender training with scikit-surprise, generic over (user, item, rating).

The flow follows the brief: a Reader on the 0.5..5 scale, train_test_split,
RMSE and MAE on the held-out part, a small GridSearchCV (on a sample when the
data are large), then the best SVD refitted on all ratings. BaselineOnly, a
global-mean predictor and user-based KNNWithMeans (Pearson) are scored on the
same split. The result exports to a numpy FactorModel for serving.

Here: the configuration, the candidates the time budget allows, the steps in
order, the final fit and the export. The steps that choose (grid search, the
held-out split, the baselines, the diagnostics) are etl_job/model_selection.py;
the surprise glue (dataset, fit, export) is etl_job/svd.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from surprise import SVD

from streamlens.factor_model import FactorModel
from streamlens.ranking import RankingModel

from .model_selection import (
    best_candidate,
    diagnostics,
    grid_search,
    holdout,
    score_baselines,
    score_candidates,
    score_knn,
)
from .progress import Progress
from .ranker import RankConfig
from .svd import RATING_SCALE, export_svd, fit_svd, to_dataset

# Found by random search then hill-climbing on one fold of ratings_small
# (bench/ratings_small_quality.py reports it on a different 5-fold split):
# very strong regularisation of item biases is what matters on a sparse
# catalog where most titles have few ratings.
TUNED_SVD = dict(n_factors=200, n_epochs=100, lr_bu=0.00215, lr_bi=0.0015, lr_pu=0.0171, lr_qi=0.0025,
                 reg_bu=0.0362, reg_bi=2.9672, reg_pu=0.0658, reg_qi=0.06285, init_std_dev=0.01)
DEFAULT_GRID: dict[str, list] = {
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
    name: str = "full"          # which configuration the model card says was used


# The reference run on ratings_small (100,000 real ratings) for the model report: the same code with a
# smaller grid, so that it adds well under a minute to an ETL run.
REFERENCE_CONFIG = TrainConfig(grid={"n_factors": [50, 100], "n_epochs": [20], "lr_all": [0.005],
                                     "reg_all": [0.02, 0.1]}, final_fit=False)


# Below this many ratings (the local run's generated sample has 200,000; a generated "million" keeps about
# 998,000 valid ones, and gets the full search) a first run must serve within about a minute: config_for
# gives a small search. The full one (16 combinations on 3 folds, the tuned candidate, three
# ranking models) is for real and production-size data, where its choice matters and its minutes are a small
# part of a run. docs/recommender.md compares the two on the sample.
SMALL_DATA_ROWS = 500_000
SMALL_CONFIG = TrainConfig(
    grid={"n_factors": [50, 100], "n_epochs": [40], "lr_all": [0.01], "reg_all": [0.1]}, cv=2, grid_sample=50_000,
    extra_candidates={}, knn_sample=20_000, name="small",
    ranking=RankConfig(grid=(RankConfig().grid[1],), eval_max_users=1_000))


def config_for(rows: int) -> TrainConfig:
    """The training configuration for a run on `rows` ratings, when none was chosen."""
    return SMALL_CONFIG if rows < SMALL_DATA_ROWS else TrainConfig()


@dataclass
class TrainResult:
    model: FactorModel | None          # None when the config asks for no final fit
    card: dict[str, Any]
    algo: SVD | None


@dataclass
class TrainedModels:
    """What a release serves of the training, whichever engine fitted it and wherever (the ETL, or the Spark
    job that staged it: etl_job/stage.py): the rating predictor, the ranking model and their card."""
    predictor: FactorModel
    ranking: RankingModel
    card: dict[str, Any]


def within_budget(rows: int, config: TrainConfig) -> tuple[dict, dict[str, dict], dict]:
    """The grid and the extra candidates whose final refit on `rows` ratings fits config.final_budget
    (rating-epochs), and the card's `left_out_for_time` section naming what was left out."""
    def affordable(params: dict) -> bool:
        return rows * params.get("n_epochs", 20) <= config.final_budget

    epochs = [e for e in config.grid["n_epochs"] if affordable({"n_epochs": e})] or [min(config.grid["n_epochs"])]
    extras = {name: p for name, p in config.extra_candidates.items() if affordable(p)}
    left_out = {"grid_epochs": sorted(set(config.grid["n_epochs"]) - set(epochs)),
                "candidates": sorted(set(config.extra_candidates) - set(extras)),
                "final_budget_rating_epochs": config.final_budget}
    return {**config.grid, "n_epochs": epochs}, extras, left_out


def train_recommender(ratings: pd.DataFrame, config: TrainConfig | None = None,
                      progress: Progress | None = None) -> TrainResult:
    """Tune, evaluate against baselines, refit on everything, export."""
    config = config or TrainConfig()
    say = progress or Progress(quiet=True)
    started = time.perf_counter()
    card: dict[str, Any] = {"rows": len(ratings), "users": int(ratings["user"].nunique()),
                            "items": int(ratings["item"].nunique()), "rating_scale": list(RATING_SCALE),
                            "seed": config.seed, "config": config.name}
    grid, extras, card["left_out_for_time"] = within_budget(len(ratings), config)

    searched = card["grid_search"] = grid_search(ratings, grid, config.cv, config.seed, config.n_jobs,
                                                 config.grid_sample, say)
    say("grid search", rows=searched["sample_rows"], combos=len(searched["results"]), best=searched["best"])

    split = holdout(ratings, config.eval_sample, config.test_size, config.seed)
    candidates = {"svd_grid_best": searched["best"], **extras}
    results, fitted = score_candidates(candidates, split, config.seed, say)
    results.update(score_baselines(split, say))
    results["knn_with_means_user_pearson"] = score_knn(split, candidates["svd_grid_best"], config.knn_sample,
                                                       config.seed)
    say("baseline", name="knn_with_means_user_pearson", **results["knn_with_means_user_pearson"])

    chosen = best_candidate(candidates, results)
    card["split"] = split.card(len(ratings))
    card["candidates"] = results
    card["chosen"] = {"name": chosen, "params": candidates[chosen]}
    t0 = time.perf_counter()
    with say.begin("diagnostics"):
        card["diagnostics"] = diagnostics(fitted[chosen], candidates[chosen], split, config.seed)
    say("diagnostics", seconds=round(time.perf_counter() - t0, 1))
    del split, fitted
    if not config.final_fit:
        card["train_seconds"] = round(time.perf_counter() - started, 1)
        return TrainResult(model=None, card=card, algo=None)

    t0 = time.perf_counter()
    with say.begin("final fit", len(ratings), "ratings"):
        final = fit_svd(candidates[chosen], to_dataset(ratings).build_full_trainset(), config.seed)
    card["final_fit_seconds"] = round(time.perf_counter() - t0, 1)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    say("final fit", name=chosen, seconds=card["final_fit_seconds"])
    return TrainResult(model=export_svd(final), card=card, algo=final)
