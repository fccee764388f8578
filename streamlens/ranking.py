"""The top-n ranking model, served with numpy alone: implicit-feedback ALS.

Trained in the ETL with the `implicit` library on who rated what (each rating
a confidence: the rating itself, so a 5 weighs ten times a 0.5). Serving
needs only the item factors: a user's factors are solved from their ratings
at request time, exactly as implicit's `recalculate_user` does,

    x_u = (YtY + reg I + sum_j (c_j - 1) y_j y_j^T)^-1  sum_j c_j y_j

so a user of the release and a new visitor's few ratings go through one
formula and no user factors are stored (for users with many ratings the
release keeps A^-1, which costs k x f^2 to build). The score of title i is
y_i . x_u; the contribution of a rated title j to it is c_j y_j^T A^-1 y_i
(implicit's `explain`), which names the `because_you_rated` title.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def confidence(ratings: np.ndarray, alpha: float) -> np.ndarray:
    """The confidence that a rated title was liked: alpha x the rating (0.5..5)."""
    return alpha * np.asarray(ratings, dtype=np.float64)


@dataclass
class RankingModel:
    item_factors: np.ndarray      # n_items x f, in catalog order (titles without ratings: see the ETL)
    regularization: float
    alpha: float
    _y64: np.ndarray = field(init=False, repr=False)
    _base: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._y64 = self.item_factors.astype(np.float64)
        self._base = self._y64.T @ self._y64 + self.regularization * np.eye(self._y64.shape[1])

    @property
    def n_items(self) -> int:
        return self._y64.shape[0]

    def system(self, items: np.ndarray, ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(A, b, c) of the user's least-squares problem: x_u solves A x = b."""
        c = confidence(ratings, self.alpha)
        y = self._y64[items]
        a = self._base + (y.T * (c - 1.0)) @ y
        return a, y.T @ c, c

    def fold_in(self, items: np.ndarray, ratings: np.ndarray, inverse: np.ndarray | None = None) -> FoldedUser:
        """A user who rated `items` (positions) with `ratings`. `inverse`: A^-1 when precomputed (the ETL
        stores it for users with many ratings, whose A costs k x f^2 to build)."""
        if inverse is not None:
            c = confidence(ratings, self.alpha)
            b = self._y64[items].T @ c
            solve = inverse.astype(np.float64).__matmul__
        else:
            a, b, c = self.system(items, ratings)
            solve = lambda rhs: np.linalg.solve(a, rhs)   # noqa: E731
        return FoldedUser(self, np.asarray(items), c, solve(b), solve)

    def inverse(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return np.linalg.inv(self.system(items, ratings)[0])

    def scores(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Every title's score for a user who rated `items` (catalog positions) with `ratings`."""
        if len(items) == 0:
            return np.zeros(self.n_items)
        return self.fold_in(items, ratings).scores()

    def to_arrays(self) -> dict[str, Any]:
        return {"rank_item_factors": self.item_factors.astype(np.float32),
                "rank_regularization": np.float64(self.regularization), "rank_alpha": np.float64(self.alpha)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RankingModel:
        return cls(item_factors=arrays["rank_item_factors"], regularization=float(arrays["rank_regularization"]),
                   alpha=float(arrays["rank_alpha"]))


@dataclass
class FoldedUser:
    model: RankingModel
    items: np.ndarray
    confidence: np.ndarray
    factors: np.ndarray
    solve: Callable[[np.ndarray], np.ndarray]      # rhs -> A^-1 rhs

    def scores(self) -> np.ndarray:
        return self.model._y64 @ self.factors

    def because(self, targets: np.ndarray) -> np.ndarray:
        """For each target title, the position in `items` of the rated title that contributed most."""
        y = self.model._y64
        contributions = (y[self.items] * self.confidence[:, None]) @ self.solve(y[targets].T)   # rated x targets
        return np.argmax(contributions, axis=0)


def top_positions(scores: np.ndarray, n: int, excluded: np.ndarray | None = None,
                  allowed: np.ndarray | None = None, tie_key: np.ndarray | None = None) -> np.ndarray:
    """The n best positions by score, never an excluded one (a title the user rated) and only allowed
    ones (the filters); ties broken by tie_key (the title id), then position. One function for the
    route and its offline evaluation, so the evaluation ranks exactly as the route does."""
    scores = np.array(scores, dtype=np.float64)
    if excluded is not None and len(excluded):
        scores[excluded] = -np.inf
    if allowed is not None:
        scores[~allowed] = -np.inf
    candidates = np.flatnonzero(scores > -np.inf)
    if candidates.size > n:
        cutoff = np.partition(scores[candidates], candidates.size - n)[candidates.size - n]
        candidates = candidates[scores[candidates] >= cutoff]
    keys = (candidates,) if tie_key is None else (candidates, tie_key[candidates])
    return candidates[np.lexsort((*keys, -scores[candidates]))][:n]
