"""Training of the top-n ranking model: implicit-feedback ALS (the `implicit` library), chosen by the
top-n evaluation as served (etl_job/topn_eval.py) against popularity, the SVD ranking and random.

The SVD stays the rating predictor (GET /recommend); this model decides what to show. Ranking every
title by a predicted rating surfaces obscure titles with few ratings; a model of who rated what learns
which titles a user is likely to watch at all, weighted by how much they liked what they watched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from streamlens.factor_model import FactorModel
from streamlens.ranking import RankingModel, top_positions

from .progress import Progress
from .svd import export_svd, fit_svd, to_dataset
from .topn_eval import Split, evaluate_topn, make_split, popularity_scorer, random_scorer

# Around the best of a wider search on a validation split of ratings_small (16-200 factors, regularisation
# 0.01-300, alpha 0.1-3, binary or rating confidences, 15-40 iterations): strong regularisation and
# rating-weighted confidence matter most. Each ETL picks among these on its own validation holdout.
DEFAULT_GRID = (
    {"factors": 32, "regularization": 10.0, "alpha": 1.0},
    {"factors": 64, "regularization": 30.0, "alpha": 1.0},
    {"factors": 128, "regularization": 30.0, "alpha": 1.0},
)
RECOMMEND_TOP_K = 100        # /recommend says true for a title in the user's top 100 on its platform


@dataclass
class RankConfig:
    seed: int = 42
    test_share: float = 0.2
    grid: tuple[dict, ...] = DEFAULT_GRID
    iterations: int = 15
    k: int = 10
    threshold: float = 3.5
    recommend_top_k: int = RECOMMEND_TOP_K
    eval_max_ratings: int = 500_000      # whole users, for the evaluation's fits (keeps the ETL within 5 minutes)
    eval_max_users: int = 2_000          # users ranked per evaluation
    new_title_share: float = 0.05        # titles held out entirely to measure the content path
    threads: int = 2
    svd_params: dict = field(default_factory=dict)
    # ratings x factors^2 the final fit may cost (11 million ratings x 64^2 take about a minute here):
    # larger candidates are left out so that the whole ETL stays within its 5-minute target
    final_budget: float = 11e6 * 64**2


def _matrix(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int, n_items: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((ratings.astype(np.float32), (users, items)), shape=(n_users, n_items))


def fit_als(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int, n_items: int, params: dict,
            config: RankConfig):
    """implicit's ALS on user x item ratings (in float64, so that its own scoring is exact to compare with);
    returns the fitted library model."""
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):   # implicit parallelises over users itself; a BLAS pool fights it
        model = AlternatingLeastSquares(factors=params["factors"], regularization=params["regularization"],
                                        alpha=params["alpha"], iterations=config.iterations, dtype=np.float64,
                                        random_state=config.seed, num_threads=config.threads,
                                        calculate_training_loss=False)
        model.fit(_matrix(users, items, ratings, n_users, n_items), show_progress=False)
    return model


def to_ranking_model(als, params: dict) -> RankingModel:
    factors = als.item_factors
    factors = factors.to_numpy() if hasattr(factors, "to_numpy") else np.asarray(factors)
    return RankingModel(item_factors=factors.astype(np.float32), regularization=float(params["regularization"]),
                        alpha=float(params["alpha"]))


def fill_from_content(model: RankingModel, rated: np.ndarray, neighbours: np.ndarray | None,
                      similarity: np.ndarray | None) -> tuple[RankingModel, int]:
    """Titles nobody rated get the similarity-weighted mean of the factors of their rated content
    neighbours, so a title added today can be recommended to users who liked titles like it."""
    factors = model.item_factors.astype(np.float32).copy()
    cold = np.flatnonzero(~rated)
    filled = 0
    if neighbours is not None and cold.size:
        if similarity is None:
            raise ValueError("content neighbours need their similarity")
        index = neighbours[cold]
        weight = np.where((index >= 0) & rated[np.maximum(index, 0)], similarity[cold].astype(np.float32), 0.0)
        total = weight.sum(axis=1)
        mean = np.einsum("ck,ckf->cf", weight, factors[np.maximum(index, 0)]) / np.maximum(total, 1e-9)[:, None]
        factors[cold] = np.where(total[:, None] > 0, mean, 0.0)
        filled = int((total > 0).sum())
    else:
        factors[cold] = 0.0
    return RankingModel(factors, model.regularization, model.alpha), filled


def _whole_users(users: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """A mask of the ratings of randomly chosen whole users, about `limit` ratings in all."""
    if len(users) <= limit:
        return np.ones(len(users), dtype=bool)
    ids, counts = np.unique(users, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(ids))
    chosen = ids[order][np.cumsum(counts[order]) <= limit]
    return np.isin(users, chosen)


def _model_scorer(model: RankingModel):
    return lambda u, items, ratings: model.scores(items, ratings)


def _svd_scorer(split: Split, params: dict, seed: int):
    """The SVD ranking as served before this model: every title the SVD knows, by predicted rating."""
    users, items, ratings = split.part(False)
    frame = pd.DataFrame({"user": users, "item": items, "rating": ratings})
    svd = export_svd(fit_svd(params, to_dataset(frame).build_full_trainset(), seed))
    known = svd.item_ids.astype(np.int64)

    def score(u: int, _items, _ratings) -> np.ndarray:
        out = np.full(split.n_items, -np.inf)
        got = svd.scores_for_user(u)
        if got is not None:
            out[known] = got
        return out

    return score, svd


def _select(split: Split, config: RankConfig, tie_key) -> tuple[dict, list[dict]]:
    """The grid on a validation holdout of the training part, by NDCG at k."""
    users, items, ratings = split.part(False)
    inner = make_split(users, items, ratings, split.n_items, config.test_share, config.seed + 1)
    rows = []
    for params in config.grid:
        t0 = time.perf_counter()
        train = inner.part(False)
        als = fit_als(*train, inner.n_users, inner.n_items, params, config)
        got = evaluate_topn(inner, {"model": _model_scorer(to_ranking_model(als, params))}, config.k,
                            config.threshold, tie_key=tie_key, max_users=config.eval_max_users, seed=config.seed)
        rows.append({"params": params, **got["all"]["model"], "fit_seconds": round(time.perf_counter() - t0, 1)})
    best = max(rows, key=lambda r: r["ndcg"] or 0.0)
    return best["params"], rows


def recommend_rule_precision(split: Split, model: RankingModel, svd: FactorModel, groups: np.ndarray | None,
                             top_k: int, threshold: float, max_users: int, seed: int) -> dict:
    """Of the held-out (user, title) pairs, how many the recommend rule flags and how many of those the
    user rated >= threshold; beside it, the SVD's `predicted >= threshold` rule on the same pairs."""
    users, items, ratings = split.part(False)
    t_users, t_items, t_ratings = split.part(True)
    chosen = np.unique(t_users)
    if len(chosen) > max_users:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, max_users, replace=False))
    order = np.argsort(users, kind="stable")
    starts = np.searchsorted(users[order], chosen)
    stops = np.searchsorted(users[order], chosen, side="right")
    flagged_pairs: list[bool] = []
    flagged_svd_pairs: list[bool] = []
    liked_pairs: list[bool] = []
    for u, a, b in zip(chosen, starts, stops):
        rated = items[order][a:b]
        scores = model.scores(rated, ratings[order][a:b])
        scores[rated] = -np.inf
        mine = t_users == u
        for item, rating in zip(t_items[mine], t_ratings[mine]):
            peers = scores if groups is None else scores[groups == groups[item]]
            flagged_pairs.append(int((peers > scores[item]).sum()) < top_k)
            flagged_svd_pairs.append(svd.estimate(int(u), int(item)) >= threshold)
            liked_pairs.append(rating >= threshold)
    flagged, flagged_svd, liked = map(np.asarray, (flagged_pairs, flagged_svd_pairs, liked_pairs))
    share = lambda mask: round(float(liked[mask].mean()), 4) if mask.any() else None   # noqa: E731
    return {"pairs": len(liked), "base_rate": round(float(liked.mean()), 4),
            "rule": f"in the user's top {top_k} on the title's platform by the ranking model",
            "flagged_share": round(float(flagged.mean()), 4), "precision": share(flagged),
            "svd_threshold_rule": {"flagged_share": round(float(flagged_svd.mean()), 4),
                                   "precision": share(flagged_svd)}}


def new_titles_effect(split: Split, params: dict, config: RankConfig, neighbours, similarity, tie_key) -> dict:
    """Hold a share of titles out of training entirely; give them factors from their content neighbours;
    measure how often they reach the top k of users who rated them >= threshold."""
    rng = np.random.default_rng(config.seed + 2)
    rated_titles = np.unique(split.items)
    new = np.zeros(split.n_items, dtype=bool)
    new[rng.choice(rated_titles, max(1, int(config.new_title_share * len(rated_titles))), replace=False)] = True
    on_new = new[split.items]
    users, items, ratings = split.users[~on_new], split.items[~on_new], split.ratings[~on_new]
    als = fit_als(users, items, ratings, split.n_users, split.n_items, params, config)
    rated = np.zeros(split.n_items, dtype=bool)
    rated[items] = True
    model, filled = fill_from_content(to_ranking_model(als, params), rated, neighbours, similarity)
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
        scores = model.scores(rated_items, ratings[order][a:b])
        top = top_positions(scores, 100, rated_items, None, tie_key)
        for k in found:
            found[k].append(np.isin(targets, top[:k]).mean())
    chance = {k: k / split.n_items for k in found}
    return {"held_out_titles": int(new.sum()), "given_content_factors": filled, "users": len(candidates),
            "recall_at_10": round(float(np.mean(found[10])), 4) if found[10] else None,
            "recall_at_100": round(float(np.mean(found[100])), 4) if found[100] else None,
            "chance_at_10": round(chance[10], 5), "chance_at_100": round(chance[100], 5),
            "without_content": "0: a title no one rated has no factors, so it is never ranked"}


@dataclass
class RankResult:
    model: RankingModel | None
    card: dict[str, Any]


def train_ranker(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_items: int, config: RankConfig,
                 tie_key: np.ndarray | None = None, groups: np.ndarray | None = None,
                 neighbours: np.ndarray | None = None, similarity: np.ndarray | None = None,
                 final_fit: bool = True, progress: Progress | None = None) -> RankResult:
    """users: raw ids; items: positions 0..n_items-1 (the catalog's); groups: a platform per item."""
    say = progress or Progress(quiet=True)
    started = time.perf_counter()
    sample = _whole_users(np.asarray(users), config.eval_max_ratings, config.seed)
    split = make_split(np.asarray(users)[sample], np.asarray(items)[sample], np.asarray(ratings)[sample], n_items,
                       config.test_share, config.seed)
    card: dict[str, Any] = {"algorithm": "implicit ALS (implicit-feedback matrix factorisation)",
                            "confidence": "alpha x rating", "iterations": config.iterations,
                            "protocol": {"test_share": config.test_share, "seed": config.seed, "k": config.k,
                                         "relevant": f"held-out rating >= {config.threshold:g}",
                                         "threshold": config.threshold,
                                         "ranked": "every title the user did not rate in the training part",
                                         "sample_ratings": int(sample.sum()), "sampled": bool(not sample.all()),
                                         "max_users_ranked": config.eval_max_users}}
    affordable = tuple(p for p in config.grid if len(users) * p["factors"] ** 2 <= config.final_budget)
    card["left_out_for_time"] = [p for p in config.grid if p not in affordable]
    with say.begin("ranking grid", len(affordable or config.grid[:1]), "models"):
        params, grid = _select(split, replace(config, grid=affordable or config.grid[:1]), tie_key)
    card["grid"] = grid
    card["chosen"] = params
    say("ranking grid", best=params, ndcg=max(r["ndcg"] or 0 for r in grid))

    with say.begin("ranking evaluation"):
        train = split.part(False)
        als = fit_als(*train, split.n_users, n_items, params, config)
        rated = np.zeros(n_items, dtype=bool)
        rated[train[1]] = True
        model, _ = fill_from_content(to_ranking_model(als, params), rated, neighbours, similarity)
        scorers = {"ranking_model": _model_scorer(model), "popularity": popularity_scorer(split)}
        svd = None
        if config.svd_params:
            scorers["svd_as_served"], svd = _svd_scorer(split, config.svd_params, config.seed)
        scorers["random"] = random_scorer(n_items, config.seed)
        allowed: dict[str, np.ndarray | None] = {"all": None}
        if groups is not None:
            allowed.update({str(g): groups == g for g in np.unique(groups)})
        card["evaluation"] = evaluate_topn(split, scorers, config.k, config.threshold, allowed, tie_key,
                                           config.eval_max_users, config.seed)
    top = card["evaluation"]["all"]
    say("ranking evaluation", model=top["ranking_model"]["precision"], popularity=top["popularity"]["precision"])
    if svd is not None:
        card["recommend_rule"] = recommend_rule_precision(split, model, svd, groups, config.recommend_top_k,
                                                          config.threshold, min(500, config.eval_max_users),
                                                          config.seed)
    if neighbours is not None:
        with say.begin("new titles"):
            card["new_titles"] = new_titles_effect(split, params, config, neighbours, similarity, tie_key)
        say("new titles", **{k: card["new_titles"][k] for k in ("recall_at_10", "chance_at_10")})
    card["evaluation_seconds"] = round(time.perf_counter() - started, 1)
    if not final_fit:
        return RankResult(None, card)

    t0 = time.perf_counter()
    rows, uniques = pd.factorize(np.asarray(users))
    with say.begin("ranking final fit", len(rows), "ratings"):
        als = fit_als(rows, np.asarray(items), np.asarray(ratings, dtype=np.float64), len(uniques), n_items,
                      params, config)
    rated = np.zeros(n_items, dtype=bool)
    rated[np.asarray(items)] = True
    final, filled = fill_from_content(to_ranking_model(als, params), rated, neighbours, similarity)
    card["final_fit_seconds"] = round(time.perf_counter() - t0, 1)
    card["titles_without_ratings"] = int((~rated).sum())
    card["titles_given_content_factors"] = filled
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    say("ranking final fit", seconds=card["final_fit_seconds"], content_filled=filled)
    return RankResult(final, card)
