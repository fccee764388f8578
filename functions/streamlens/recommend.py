"""Recommendations from the exported factors, with numpy alone.

The ETL writes one serving bundle (`build_bundle`): the catalog (ids, titles,
platforms), each model item's catalog position, every user's rated items
(CSR, to leave them out of the top-n) and the cold-start ranking. Ranking
ties are broken by title id A-Z, so answers are deterministic.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from .errors import NotFound
from .factor_model import FactorModel
from .queries import platform_name

COLD_START_MIN_RATINGS = 20
COLD_START_SIZE = 1000


def build_bundle(catalog_ids: np.ndarray, titles: np.ndarray, platforms: np.ndarray, scores: np.ndarray,
                 counts: np.ndarray, model: FactorModel, rating_users: np.ndarray, rating_items: np.ndarray,
                 min_ratings: int = COLD_START_MIN_RATINGS) -> bytes:
    """rating_users: raw user ids; rating_items: catalog positions of the rated titles."""
    position = {tid: k for k, tid in enumerate(catalog_ids.tolist())}
    model_to_catalog = np.asarray([position[i] for i in model.item_ids.tolist()], dtype=np.int32)
    catalog_to_model = np.full(len(catalog_ids), -1, dtype=np.int32)
    catalog_to_model[model_to_catalog] = np.arange(len(model_to_catalog), dtype=np.int32)

    sorter = np.argsort(model.user_ids)
    users = sorter[np.searchsorted(model.user_ids, rating_users, sorter=sorter)].astype(np.int64)
    items = catalog_to_model[rating_items]
    order = np.lexsort((items, users))
    indptr = np.zeros(len(model.user_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=len(model.user_ids)), out=indptr[1:])

    eligible = np.flatnonzero((counts >= min_ratings) & ~np.isnan(scores))
    ranked = eligible[np.lexsort((catalog_ids[eligible], -scores[eligible]))][:COLD_START_SIZE]
    item_type = np.uint16 if len(model_to_catalog) <= np.iinfo(np.uint16).max else np.int32
    buffer = io.BytesIO()
    np.savez(   # uncompressed: these arrays hardly compress, and inflating them would dominate a cold start
        buffer, catalog_ids=catalog_ids.astype(str), titles=titles.astype(str), platforms=platforms.astype(str),
        model_to_catalog=model_to_catalog, rated_indptr=indptr, rated_items=items[order].astype(item_type),
        cold_start=ranked.astype(np.int32), scores=scores.astype(np.float64), counts=counts.astype(np.int64),
        cold_start_min_ratings=np.int64(min_ratings),
    )
    return buffer.getvalue()


@dataclass
class Recommender:
    model: FactorModel
    catalog_ids: np.ndarray
    titles: np.ndarray
    platforms: np.ndarray
    model_to_catalog: np.ndarray
    rated_indptr: np.ndarray
    rated_items: np.ndarray
    cold_start: np.ndarray
    scores: np.ndarray
    counts: np.ndarray
    cold_start_min_ratings: int
    _position: dict = field(default=None, init=False, repr=False)
    _masks: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.model_ids = self.catalog_ids[self.model_to_catalog]      # tie-break key, model order

    def _platform_mask(self, name: str) -> np.ndarray:
        """Model items not on the platform (computed once per platform)."""
        if name not in self._masks:
            self._masks[name] = self.platforms[self.model_to_catalog] != name
        return self._masks[name]

    @classmethod
    def from_bytes(cls, model: bytes, bundle: bytes) -> "Recommender":
        with np.load(io.BytesIO(bundle), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays["cold_start_min_ratings"] = int(arrays["cold_start_min_ratings"])
        return cls(model=FactorModel.from_npz(model), **arrays)

    def position(self, title_id: str) -> int:
        if self._position is None:
            self._position = {tid: k for k, tid in enumerate(self.catalog_ids.tolist())}
        key = str(title_id).strip().lower()
        if key not in self._position:
            raise NotFound(f"unknown title_id {title_id!r}: ids are the platform letter and show_id, e.g. 'ns1'")
        return self._position[key]

    def describe(self, k: int) -> dict:
        return {"title_id": str(self.catalog_ids[k]), "title": str(self.titles[k]), "platform": str(self.platforms[k])}

    def predict(self, user_id: int, title_id: str, threshold: float) -> dict:
        k = self.position(title_id)
        est = self.model.estimate(user_id, str(self.catalog_ids[k]))
        return {"user_id": user_id, **self.describe(k), "predicted_rating": round(est, 4), "threshold": threshold,
                "recommend": est >= threshold, "cold_start": user_id not in self.model.user_index}

    def top_n(self, user_id: int, n: int, platform: str | None = None) -> dict:
        name = platform_name(platform)
        u = self.model.user_index.get(user_id)
        if u is None:
            return self._cold_start(user_id, n, name)
        scores = self.model.scores_for_user(user_id)
        scores[self.rated_items[self.rated_indptr[u]:self.rated_indptr[u + 1]]] = -np.inf
        if name is not None:
            scores[self._platform_mask(name)] = -np.inf
        candidates = np.flatnonzero(np.isfinite(scores))
        if candidates.size > n:
            cutoff = np.partition(scores[candidates], candidates.size - n)[candidates.size - n]
            candidates = candidates[scores[candidates] >= cutoff]
        best = candidates[np.lexsort((self.model_ids[candidates], -scores[candidates]))][:n]
        items = [{**self.describe(int(self.model_to_catalog[i])), "predicted_rating": round(float(scores[i]), 4)}
                 for i in best]
        return {"user_id": user_id, "platform": name, "n": n, "cold_start": False, "items": items}

    def _cold_start(self, user_id: int, n: int, name: str | None) -> dict:
        ranked = self.cold_start if name is None else self.cold_start[self.platforms[self.cold_start] == name]
        items = [{**self.describe(int(k)), "score": round(float(self.scores[k]), 4),
                  "rating_count": int(self.counts[k])} for k in ranked[:n]]
        return {"user_id": user_id, "platform": name, "n": n, "cold_start": True, "items": items,
                "message": f"user {user_id} has no ratings yet: these are the best-scored titles with at least "
                           f"{self.cold_start_min_ratings} ratings"}
