"""A biased matrix-factorisation model served with numpy alone.

It reproduces scikit-surprise's `SVD.predict()` (Lambdas must not need
surprise): est = mu + b_u + b_i + q_i . p_u, where a term is left out when the
user or item is unknown to the training set, and the result is clipped to
the rating scale. A linear blend of such models is again such a model
(scaled, concatenated factors), so whatever is trained exports to this.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FactorModel:
    global_mean: float
    user_ids: np.ndarray          # raw user ids, position = inner id
    item_ids: np.ndarray          # raw item ids, position = inner id
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray      # n_users x k
    item_factors: np.ndarray      # n_items x k
    rating_scale: tuple[float, float] = (0.5, 5.0)
    _user_index: dict | None = field(default=None, init=False, repr=False)
    _item_index: dict | None = field(default=None, init=False, repr=False)
    _item_factors64: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def user_index(self) -> dict:
        if self._user_index is None:
            self._user_index = {u: k for k, u in enumerate(self.user_ids.tolist())}
        return self._user_index

    @property
    def item_index(self) -> dict:
        if self._item_index is None:
            self._item_index = {i: k for k, i in enumerate(self.item_ids.tolist())}
        return self._item_index

    def estimate(self, user, item) -> float:
        """surprise's rules for known and unknown ids, then clipping."""
        u = self.user_index.get(user)
        i = self.item_index.get(item)
        est = self.global_mean
        if u is not None:
            est += float(self.user_bias[u])
        if i is not None:
            est += float(self.item_bias[i])
        if u is not None and i is not None:
            est += float(np.dot(self.item_factors[i].astype(np.float64), self.user_factors[u].astype(np.float64)))
        low, high = self.rating_scale
        return min(high, max(low, est))

    def scores_for_user(self, user) -> np.ndarray | None:
        """Clipped predictions for every item, in inner-id order; None if the user is unknown."""
        u = self.user_index.get(user)
        if u is None:
            return None
        if self._item_factors64 is None:   # stored as float32 to halve the download; computed in float64
            self._item_factors64 = self.item_factors.astype(np.float64)
        est = (self.global_mean + float(self.user_bias[u]) + self.item_bias
               + self._item_factors64 @ self.user_factors[u].astype(np.float64))
        return np.clip(est, *self.rating_scale)

    def to_npz(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(   # uncompressed: factors are noise to zlib, and inflating them slows a cold start
            buffer,
            global_mean=np.float64(self.global_mean),
            rating_scale=np.asarray(self.rating_scale, dtype=np.float64),
            user_ids=self.user_ids, item_ids=self.item_ids,
            user_bias=self.user_bias, item_bias=self.item_bias,
            user_factors=self.user_factors, item_factors=self.item_factors,
        )
        return buffer.getvalue()

    @classmethod
    def from_npz(cls, data: bytes) -> FactorModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            low, high = (float(x) for x in npz["rating_scale"])
            return cls(
                global_mean=float(npz["global_mean"]),
                user_ids=npz["user_ids"], item_ids=npz["item_ids"],
                user_bias=npz["user_bias"], item_bias=npz["item_bias"],
                user_factors=npz["user_factors"], item_factors=npz["item_factors"],
                rating_scale=(low, high),
            )
