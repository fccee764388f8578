"""The models' training on Spark, chosen and evaluated as the pandas engine's are, with cards of the same shape.

The fits are Spark MLlib's (etl_job/spark/models.py); what chooses and measures stays the single-machine code on
the driver, on the same samples: the rating predictor's grid on surprise's KFold folds of the same sample, its
candidates and baselines (BaselineOnly, the global mean) on the same holdout (etl_job/model_selection.py); the
ranking model on the same per-user split, ranked as served by evaluate_topn against the same popularity, SVD
ranking and random baselines (etl_job/topn_eval.py). Those samples are bounded (config.eval_sample,
config.ranking.eval_max_ratings), so the driver's share does not grow with the ratings; the final fits read
every rating in Spark.
"""

from __future__ import annotations

import time
from dataclasses import replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from streamlens.factor_model import FactorModel
from streamlens.ranking import RankingModel, top_positions

from ..model_selection import (
    LEARNING_CURVE_MAX_ROWS,
    Holdout,
    _sample,
    best_candidate,
    holdout,
    predicted_vs_actual,
    score_baselines,
)
from ..progress import Progress
from ..ranker import (
    RankConfig,
    RankResult,
    _model_scorer,
    _whole_users,
    fill_from_content,
    recommend_rule_precision,
)
from ..svd import RATING_SCALE
from ..topn_eval import Split, evaluate_topn, make_split, popularity_scorer, random_scorer
from ..training import TrainConfig, TrainResult
from .models import BIAS_REG_ITEM, BIAS_REG_USER, BIAS_ROUNDS, fit_explicit, fit_ranker, mllib_reg_param

# MLlib's explicit ALS on the residuals of the biases, regParam per rating (ALS-WR). Small: every fit costs
# Spark's job overhead (seconds in local mode); on ratings_small rank 50 with regParam 0.1 scores about the
# grid-searched SVD's RMSE (bench/results/spark_models.json).
SPARK_GRID: dict[str, list] = {"rank": [50], "maxIter": [10], "regParam": [0.1, 0.2]}
# One smaller fit for the learning curve (the pandas engine makes three): each Spark fit pays its jobs' overhead.
CURVE_SHARES = (0.5,)
PREDICTOR = "spark_als_grid_best"
ALGORITHM = "Spark MLlib ALS (explicit) on the residuals of regularised user and item biases"


def _frame(spark, users: np.ndarray, items: np.ndarray, ratings: np.ndarray):
    """Driver arrays -> a Spark DataFrame user, item, rating (the models' input)."""
    return spark.createDataFrame(pd.DataFrame({"user": np.asarray(users, dtype=np.int64),
                                               "item": np.asarray(items, dtype=np.int64),
                                               "rating": np.asarray(ratings, dtype=np.float64)}))


def _rows_frame(spark, rows: list):
    """surprise's raw (user, item, rating) rows -> a Spark DataFrame."""
    users, items, ratings = zip(*rows) if rows else ((), (), ())
    return _frame(spark, np.asarray(users), np.asarray(items), np.asarray(ratings))


def _predict(model: FactorModel, rows: list) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) of the served estimate on surprise's raw rows."""
    actual = np.asarray([r for _, _, r in rows], dtype=np.float64)
    return actual, np.asarray([model.estimate(u, i) for u, i, _ in rows], dtype=np.float64)


def _scores(model: FactorModel, rows: list) -> dict[str, float]:
    actual, predicted = _predict(model, rows)
    return {"rmse": round(float(np.sqrt(np.mean((predicted - actual) ** 2))), 5),
            "mae": round(float(np.mean(np.abs(predicted - actual))), 5)}


def _biases_only(model: FactorModel) -> FactorModel:
    """The fitted biases without the factors: what the biases alone predict (beside surprise's BaselineOnly)."""
    return replace(model, user_factors=np.zeros_like(model.user_factors[:, :1]),
                   item_factors=np.zeros_like(model.item_factors[:, :1]))


def _grid_search(spark, frame: pd.DataFrame, grid: dict[str, list], cv: int, seed: int, max_rows: int,
                 say: Progress) -> dict:
    """The pandas engine's search on the same folds (surprise's KFold of the same sample), each fit Spark's."""
    from surprise.model_selection import KFold

    from ..svd import to_dataset

    t0 = time.perf_counter()
    sample = _sample(frame, max_rows, seed)
    folds = [(_rows_frame(spark, train.build_testset()), test)
             for train, test in KFold(n_splits=cv, random_state=seed, shuffle=True).split(to_dataset(sample))]
    combos = [dict(zip(grid, values)) for values in product(*grid.values())]
    rows: list[dict[str, Any]] = []
    with say.begin("grid search", len(combos) * cv, "fits") as steps:
        for params in combos:
            scores = []
            for train, test in folds:
                scores.append(_scores(fit_explicit(train, params, seed).export(), test))
                steps.advance()
            rows.append({"params": params, "rmse": round(float(np.mean([s["rmse"] for s in scores])), 5),
                         "mae": round(float(np.mean([s["mae"] for s in scores])), 5)})
    best = min(rows, key=lambda r: r["rmse"])["params"]
    return {"sample_rows": len(sample), "cv": cv, "grid": grid, "results": rows, "best": best,
            "seconds": round(time.perf_counter() - t0, 1)}


def _learning_curve(spark, model: FactorModel, params: dict, split: Holdout, train_rows: list, seed: int,
                    shares: tuple[float, ...]) -> list[dict]:
    """model_selection.learning_curve with Spark fits: the parameters on growing parts of the training part
    (at most LEARNING_CURVE_MAX_ROWS), the last point being `model` (fitted on all of it)."""
    order = np.random.default_rng(seed).permutation(len(train_rows))
    sample = [train_rows[k] for k in order[:LEARNING_CURVE_MAX_ROWS]]
    curve = []
    for share in shares:
        size = max(1, int(share * min(len(train_rows), LEARNING_CURVE_MAX_ROWS)))
        smaller = fit_explicit(_rows_frame(spark, sample[:size]), params, seed).export()
        curve.append({"train_rows": size, "train_rmse": _scores(smaller, sample[:size])["rmse"],
                      "test_rmse": _scores(smaller, split.testset)["rmse"]})
    curve.append({"train_rows": len(train_rows), "train_rmse": _scores(model, sample)["rmse"],
                  "test_rmse": _scores(model, split.testset)["rmse"]})
    return curve


def _train_predictor(spark_ratings, users: np.ndarray, items: np.ndarray, values: np.ndarray,
                     config: TrainConfig, grid: dict[str, list], item_ids: np.ndarray | None,
                     curve_shares: tuple[float, ...], say: Progress) -> TrainResult:
    """train_recommender's steps with MLlib's fits: grid, holdout candidate and baselines, diagnostics, final fit."""
    spark = spark_ratings.sparkSession
    started = time.perf_counter()
    frame = pd.DataFrame({"user": users, "item": items, "rating": np.asarray(values, dtype=np.float64)})
    card: dict[str, Any] = {
        "engine": "spark", "algorithm": ALGORITHM, "rows": len(frame), "users": int(frame["user"].nunique()),
        "items": int(frame["item"].nunique()), "rating_scale": list(RATING_SCALE), "seed": config.seed,
        "config": config.name,
        "biases": {"rounds": BIAS_ROUNDS, "reg_user": BIAS_REG_USER, "reg_item": BIAS_REG_ITEM,
                   "why": "MLlib's ALS has no bias terms; the served FactorModel has them (surprise's "
                          "BaselineOnly, fitted first; ALS factorises the residuals)"},
        "left_out_for_time": {"candidates": sorted(config.extra_candidates), "grid_epochs": [],
                              "why": "surprise SVD parameters (the pandas engine's); the Spark grid is SPARK_GRID"}}
    searched = card["grid_search"] = _grid_search(spark, frame, grid, config.cv, config.seed, config.grid_sample, say)
    say("grid search", rows=searched["sample_rows"], combos=len(searched["results"]), best=searched["best"])

    split = holdout(frame, config.eval_sample, config.test_size, config.seed)
    train_rows = split.trainset.build_testset()
    t0 = time.perf_counter()
    with say.begin(f"candidate {PREDICTOR}", len(train_rows), "ratings"):
        fitted = fit_explicit(_rows_frame(spark, train_rows), searched["best"], config.seed).export()
    results = {PREDICTOR: {"algorithm": ALGORITHM, "params": searched["best"], **_scores(fitted, split.testset),
                           "fit_seconds": round(time.perf_counter() - t0, 1)}}
    say("candidate", name=PREDICTOR, **results[PREDICTOR])
    results["spark_biases_only"] = {"algorithm": "the biases above, without factors",
                                    **_scores(_biases_only(fitted), split.testset)}
    results.update(score_baselines(split, say))
    candidates = {PREDICTOR: searched["best"]}
    chosen = best_candidate(candidates, results)
    card["split"] = split.card(len(frame))
    card["candidates"] = results
    card["chosen"] = {"name": chosen, "params": candidates[chosen]}
    t0 = time.perf_counter()
    with say.begin("diagnostics"):
        actual, predicted = _predict(fitted, split.testset)
        card["diagnostics"] = {"learning_curve": _learning_curve(spark, fitted, candidates[chosen], split, train_rows,
                                                                 config.seed, curve_shares),
                               "predicted_vs_actual": predicted_vs_actual(actual, predicted)}
    say("diagnostics", seconds=round(time.perf_counter() - t0, 1))
    del split, train_rows, frame
    if not config.final_fit:
        card["train_seconds"] = round(time.perf_counter() - started, 1)
        return TrainResult(model=None, card=card, algo=None)

    t0 = time.perf_counter()
    with say.begin("final fit", len(users), "ratings"):
        final = fit_explicit(spark_ratings, candidates[chosen], config.seed, item_ids).export()
    card["final_fit_seconds"] = round(time.perf_counter() - t0, 1)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    say("final fit", name=chosen, seconds=card["final_fit_seconds"])
    return TrainResult(model=final, card=card, algo=None)


def _fit(spark, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_items: int, params: dict,
         config: RankConfig) -> RankingModel:
    return fit_ranker(_frame(spark, users, items, ratings), params, config.seed, n_items, config.iterations)


def _select(spark, split: Split, config: RankConfig, tie_key) -> tuple[dict, list[dict]]:
    """ranker._select with Spark's fits: the grid on a validation holdout of the training part, by NDCG at k."""
    inner = make_split(*split.part(False), split.n_items, config.test_share, config.seed + 1)
    rows = []
    for params in config.grid:
        t0 = time.perf_counter()
        model = _fit(spark, *inner.part(False), inner.n_items, params, config)
        got = evaluate_topn(inner, {"model": _model_scorer(model)}, config.k, config.threshold, tie_key=tie_key,
                            max_users=config.eval_max_users, seed=config.seed)
        rows.append({"params": params, **got["all"]["model"], "fit_seconds": round(time.perf_counter() - t0, 1)})
    best = max(rows, key=lambda r: r["ndcg"] or 0.0)
    return best["params"], rows


def _svd_scorer(spark, split: Split, params: dict, seed: int):
    """The rating predictor's ranking as served before the ranking model, fitted on the split's training part."""
    svd = fit_explicit(_frame(spark, *split.part(False)), params, seed).export()
    known = svd.item_ids.astype(np.int64)

    def score(u: int, _items, _ratings) -> np.ndarray:
        out = np.full(split.n_items, -np.inf)
        got = svd.scores_for_user(u)
        if got is not None:
            out[known] = got
        return out

    return score, svd


def _new_titles(spark, split: Split, params: dict, config: RankConfig, neighbours, similarity, tie_key) -> dict:
    """ranker.new_titles_effect with Spark's fit: titles held out of training entirely, given their content
    neighbours' factors, and how often they reach the top k of users who liked them."""
    rng = np.random.default_rng(config.seed + 2)
    rated_titles = np.unique(split.items)
    new = np.zeros(split.n_items, dtype=bool)
    new[rng.choice(rated_titles, max(1, int(config.new_title_share * len(rated_titles))), replace=False)] = True
    on_new = new[split.items]
    users, items, ratings = split.users[~on_new], split.items[~on_new], split.ratings[~on_new]
    rated = np.zeros(split.n_items, dtype=bool)
    rated[items] = True
    model, filled = fill_from_content(_fit(spark, users, items, ratings, split.n_items, params, config), rated,
                                      neighbours, similarity)
    liked_new = on_new & (split.ratings >= config.threshold)
    candidates = np.unique(split.users[liked_new])
    if len(candidates) > config.eval_max_users:
        candidates = np.sort(rng.choice(candidates, config.eval_max_users, replace=False))
    order = np.argsort(users, kind="stable")
    starts, stops = np.searchsorted(users[order], candidates), np.searchsorted(users[order], candidates, "right")
    found: dict[int, list[float]] = {10: [], 100: []}
    for u, a, b in zip(candidates, starts, stops):
        rated_items = items[order][a:b]
        targets = split.items[liked_new & (split.users == u)]
        top = top_positions(model.scores(rated_items, ratings[order][a:b]), 100, rated_items, None, tie_key)
        for k in found:
            found[k].append(np.isin(targets, top[:k]).mean())
    mean = lambda values: round(float(np.mean(values)), 4) if values else None   # noqa: E731
    return {"held_out_titles": int(new.sum()), "given_content_factors": filled, "users": len(candidates),
            "recall_at_10": mean(found[10]), "recall_at_100": mean(found[100]),
            "chance_at_10": round(10 / split.n_items, 5), "chance_at_100": round(100 / split.n_items, 5),
            "without_content": "0: a title no one rated has no factors, so it is never ranked"}


def _train_ranking(spark_ratings, users: np.ndarray, items: np.ndarray, values: np.ndarray, n_items: int,
                   config: RankConfig, svd_params: dict, tie_key, groups, neighbours, similarity, final_fit: bool,
                   say: Progress) -> RankResult:
    """train_ranker's steps with MLlib's implicit ALS: grid, evaluation as served, new titles, final fit."""
    spark = spark_ratings.sparkSession
    started = time.perf_counter()
    users, items, values = np.asarray(users), np.asarray(items), np.asarray(values, dtype=np.float64)
    sample = _whole_users(users, config.eval_max_ratings, config.seed)
    split = make_split(users[sample], items[sample], values[sample], n_items, config.test_share, config.seed)
    card: dict[str, Any] = {
        "engine": "spark", "algorithm": "Spark MLlib ALS, implicitPrefs (implicit-feedback matrix factorisation)",
        "confidence": "alpha x rating (MLlib: preference alpha x rating - 1 with alpha' 1, floored at 1e-6)",
        "regularization_mapping": "MLlib regParam = lambda / mean ratings per user (ALS-WR scales it by each "
                                  "user's and title's count); the served model keeps lambda",
        "mllib_reg_param_per_lambda": round(mllib_reg_param(1.0, len(users) / max(1, len(np.unique(users)))), 6),
        "iterations": config.iterations,
        "protocol": {"test_share": config.test_share, "seed": config.seed, "k": config.k,
                     "relevant": f"held-out rating >= {config.threshold:g}", "threshold": config.threshold,
                     "ranked": "every title the user did not rate in the training part",
                     "sample_ratings": int(sample.sum()), "sampled": bool(not sample.all()),
                     "max_users_ranked": config.eval_max_users}}
    affordable = tuple(p for p in config.grid if len(users) * p["factors"] ** 2 <= config.final_budget)
    card["left_out_for_time"] = [p for p in config.grid if p not in affordable]
    with say.begin("ranking grid", len(affordable or config.grid[:1]), "models"):
        params, grid = _select(spark, split, replace(config, grid=affordable or config.grid[:1]), tie_key)
    card["grid"] = grid
    card["chosen"] = params
    say("ranking grid", best=params, ndcg=max(r["ndcg"] or 0 for r in grid))

    with say.begin("ranking evaluation"):
        train = split.part(False)
        rated = np.zeros(n_items, dtype=bool)
        rated[train[1]] = True
        model, _ = fill_from_content(_fit(spark, *train, n_items, params, config), rated, neighbours, similarity)
        svd_scorer, svd = _svd_scorer(spark, split, svd_params, config.seed)
        scorers = {"ranking_model": _model_scorer(model), "popularity": popularity_scorer(split),
                   "svd_as_served": svd_scorer, "random": random_scorer(n_items, config.seed)}
        allowed: dict[str, np.ndarray | None] = {"all": None}
        if groups is not None:
            allowed.update({str(g): groups == g for g in np.unique(groups)})
        card["evaluation"] = evaluate_topn(split, scorers, config.k, config.threshold, allowed, tie_key,
                                           config.eval_max_users, config.seed)
    top = card["evaluation"]["all"]
    say("ranking evaluation", model=top["ranking_model"]["precision"], popularity=top["popularity"]["precision"])
    card["recommend_rule"] = recommend_rule_precision(split, model, svd, groups, config.recommend_top_k,
                                                      config.threshold, min(500, config.eval_max_users), config.seed)
    if neighbours is not None:
        with say.begin("new titles"):
            card["new_titles"] = _new_titles(spark, split, params, config, neighbours, similarity, tie_key)
        say("new titles", **{k: card["new_titles"][k] for k in ("recall_at_10", "chance_at_10")})
    card["evaluation_seconds"] = round(time.perf_counter() - started, 1)
    if not final_fit:
        return RankResult(None, card)

    t0 = time.perf_counter()
    with say.begin("ranking final fit", len(users), "ratings"):
        fitted = fit_ranker(spark_ratings, params, config.seed, n_items, config.iterations)
    rated = np.zeros(n_items, dtype=bool)
    rated[items] = True
    final, filled = fill_from_content(fitted, rated, neighbours, similarity)
    card["final_fit_seconds"] = round(time.perf_counter() - t0, 1)
    card["titles_without_ratings"] = int((~rated).sum())
    card["titles_given_content_factors"] = filled
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    say("ranking final fit", seconds=card["final_fit_seconds"], content_filled=filled)
    return RankResult(final, card)


def train_with_spark(spark_ratings, users: np.ndarray, items: np.ndarray, values: np.ndarray, n_items: int,
                     config: TrainConfig, tie_key: np.ndarray | None = None, groups: np.ndarray | None = None,
                     neighbours: np.ndarray | None = None, similarity: np.ndarray | None = None,
                     progress: Progress | None = None, *, item_ids: np.ndarray | None = None,
                     grid: dict[str, list] | None = None,
                     curve_shares: tuple[float, ...] = CURVE_SHARES) -> tuple[TrainResult, RankResult]:
    """Both models as train_recommender and train_ranker return them, fitted with Spark MLlib.

    spark_ratings: user, item (the title's catalog position), rating, every valid rating; users, items, values:
    the same ratings on the driver (their evaluation samples; the release's bundle needs them anyway). item_ids:
    the raw title id of each position (the FactorModel's item_ids, as the pandas engine's); None keeps positions.
    grid: the predictor's MLlib grid (SPARK_GRID); curve_shares: the learning curve's smaller fits."""
    say = progress or Progress(quiet=True)
    predictor = _train_predictor(spark_ratings, np.asarray(users), np.asarray(items), np.asarray(values), config,
                                 grid or SPARK_GRID, item_ids, curve_shares, say)
    ranking = replace(config.ranking, threshold=config.recommend_threshold)
    ranked = _train_ranking(spark_ratings, users, items, values, n_items, ranking, predictor.card["chosen"]["params"],
                            tie_key, groups, neighbours, similarity, config.final_fit, say)
    return predictor, ranked
