"""Top-n evaluation as served: what a user would see, scored against what they rated later.

Protocol: each user's ratings are split at random (seeded), a share held out;
for every user with a relevant held-out title (rating >= the recommend
threshold), every title they did not rate in the training part is ranked by
`streamlens.ranking.top_positions`, the route's own function, with the route's
platform filter when one is evaluated. Metrics at k: precision (hits / k),
recall (hits / relevant held-out titles), NDCG (binary gains), hit rate (at
least one hit) and catalog coverage (share of the candidate titles that
appear in anyone's top k).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamlens.ranking import top_positions

# scorer(user row, the user's training items, their ratings) -> a score for every item
Scorer = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Split:
    """Ratings as (user row, item position, rating) arrays, and which are held out."""
    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    test: np.ndarray              # bool per rating
    n_users: int
    n_items: int

    def part(self, held_out: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mask = self.test if held_out else ~self.test
        return self.users[mask], self.items[mask], self.ratings[mask]


def per_user_holdout(users: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A boolean mask holding out floor(share x n) random ratings of each user who has n."""
    rng = np.random.default_rng(seed)
    users = np.asarray(users)
    order = np.lexsort((rng.random(len(users)), users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, len(users)])
    rank = np.arange(len(users)) - np.repeat(starts, counts)
    held = rank < np.floor(share * np.repeat(counts, counts))
    mask = np.zeros(len(users), dtype=bool)
    mask[order] = held
    return mask


def make_split(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_items: int, share: float,
               seed: int) -> Split:
    """users: any ids (made rows 0..n-1); items: positions 0..n_items-1."""
    rows, uniques = pd.factorize(np.asarray(users))
    return Split(rows.astype(np.int64), np.asarray(items, dtype=np.int64), np.asarray(ratings, dtype=np.float64),
                 per_user_holdout(rows, share, seed), len(uniques), n_items)


def _by_user(users: np.ndarray, *columns: np.ndarray, n_users: int) -> tuple[np.ndarray, list[np.ndarray]]:
    order = np.argsort(users, kind="stable")
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    return indptr, [c[order] for c in columns]


def evaluate_topn(split: Split, scorers: dict[str, Scorer], k: int, threshold: float,
                  allowed: dict[str, np.ndarray | None] | None = None, tie_key: np.ndarray | None = None,
                  max_users: int | None = None, seed: int = 42) -> dict:
    """{filter: {scorer: metrics}} over the users with a relevant held-out title within the filter.

    allowed: filter name -> boolean mask of the items the route may return (None: every item)."""
    allowed = allowed or {"all": None}
    train_indptr, (train_items, train_ratings) = _by_user(*split.part(False), n_users=split.n_users)
    test_users, test_items, test_ratings = split.part(True)
    liked = test_ratings >= threshold
    test_indptr, (liked_items,) = _by_user(test_users[liked], test_items[liked], n_users=split.n_users)
    candidates = np.flatnonzero(np.diff(test_indptr) > 0)
    if max_users is not None and len(candidates) > max_users:
        candidates = np.sort(np.random.default_rng(seed).choice(candidates, max_users, replace=False))
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    out: dict[str, dict] = {}
    per_filter: dict[str, dict[str, dict[str, Any]]] = {
        name: {s: {"precision": [], "recall": [], "ndcg": [], "hit": [], "seen": set()} for s in scorers}
        for name in allowed}
    for u in candidates:
        items = train_items[train_indptr[u]:train_indptr[u + 1]]
        ratings = train_ratings[train_indptr[u]:train_indptr[u + 1]]
        relevant_all = liked_items[test_indptr[u]:test_indptr[u + 1]]
        scores = {name: scorer(int(u), items, ratings) for name, scorer in scorers.items()}
        for name, mask in allowed.items():
            relevant = relevant_all if mask is None else relevant_all[mask[relevant_all]]
            if relevant.size == 0:
                continue
            for scorer_name, s in scores.items():
                top = top_positions(s, k, items, mask, tie_key)
                hits = np.isin(top, relevant)
                acc = per_filter[name][scorer_name]
                acc["precision"].append(hits.sum() / k)
                acc["recall"].append(hits.sum() / relevant.size)
                acc["ndcg"].append((hits * discount[:len(hits)]).sum() / discount[:min(k, relevant.size)].sum())
                acc["hit"].append(bool(hits.any()))
                acc["seen"].update(top.tolist())
    mean = lambda values: round(float(np.mean(values)), 4) if values else None   # noqa: E731
    for name, mask in allowed.items():
        n_candidates = split.n_items if mask is None else int(mask.sum())
        out[name] = {s: {"precision": mean(a["precision"]), "recall": mean(a["recall"]), "ndcg": mean(a["ndcg"]),
                         "hit_rate": mean(a["hit"]), "coverage": round(len(a["seen"]) / max(1, n_candidates), 4),
                         "users": len(a["precision"])}
                     for s, a in per_filter[name].items()}
    return out


def popularity_scorer(split: Split) -> Scorer:
    """The most-rated titles of the training part (the same list for everyone)."""
    counts = np.bincount(split.part(False)[1], minlength=split.n_items).astype(np.float64)
    return lambda u, items, ratings: counts


def random_scorer(n_items: int, seed: int) -> Scorer:
    rng = np.random.default_rng(seed)
    return lambda u, items, ratings: rng.random(n_items)
