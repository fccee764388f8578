"""Recommendations with numpy alone: the ranking model decides what to show, the SVD predicts ratings.

The ETL writes one serving bundle (`build_bundle`): the catalog (ids, titles, platforms, types,
maturity families, years), every user's rated titles and ratings (CSR), the ranking model's item
factors (streamlens.ranking) and the cold-start facts. A user's top-n is computed from what they
rated, by the same function whether the ratings come from the release or from a visitor's request,
so a known user and the same ratings sent anonymously get the same list. Ties: title id A-Z.

`recommend` on GET /recommend agrees with the ranking: true when the title is in the user's top
RECOMMEND_TOP_K (100, the longest list the top-n route returns) among the titles of its platform
they have not rated; the SVD's predicted rating is reported beside it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BadParameter, NotFound
from .factor_model import FactorModel
from .maturity import FAMILIES, level
from .queries import platform_name
from .ranking import FoldedUser, RankingModel, top_positions

COLD_START_MIN_RATINGS = 20
RECOMMEND_TOP_K = 100
HEAVY_USER_RATINGS = 500     # above this, a user's A^-1 is precomputed (building A costs k x f^2 per request)
TYPES = ("movie", "tv show")
MAX_VISITOR_RATINGS = 500
RATING_VALUES = "0.5 to 5 in half stars"


@dataclass(frozen=True)
class Filters:
    """What a top-n may contain: one platform, one type, a maximum maturity family, a release-year range."""
    platform: str | None = None
    type: str | None = None
    max_maturity: str | None = None
    year_min: int | None = None
    year_max: int | None = None

    @classmethod
    def parse(cls, platform: str | None = None, type: str | None = None, max_maturity: str | None = None,
              year_min: int | None = None, year_max: int | None = None) -> Filters:
        kind = None if type is None else str(type).strip().lower()
        if kind is not None and kind not in TYPES:
            raise BadParameter("type", f"unknown type {type!r}", list(TYPES))
        family = None if max_maturity is None else str(max_maturity).strip().lower()
        if family is not None and family not in FAMILIES:
            raise BadParameter("max_maturity", f"unknown maturity family {max_maturity!r}", list(FAMILIES))
        if year_min is not None and year_max is not None and year_min > year_max:
            raise BadParameter("year_min", f"year_min {year_min} is after year_max {year_max}",
                               "year_min <= year_max")
        return cls(platform_name(platform), kind, family, year_min, year_max)

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def build_bundle(catalog_ids: np.ndarray, titles: np.ndarray, platforms: np.ndarray, types: np.ndarray,
                 maturity: np.ndarray, years: np.ndarray, scores: np.ndarray, counts: np.ndarray,
                 model: FactorModel, ranking: RankingModel, rating_users: np.ndarray, rating_items: np.ndarray,
                 rating_values: np.ndarray, min_ratings: int = COLD_START_MIN_RATINGS,
                 display_titles: np.ndarray | None = None) -> bytes:
    """rating_users: raw user ids (all in the model); rating_items: catalog positions; rating_values: 0.5..5;
    display_titles: the titles as people read them (`titles` are the brief's lowercase ones)."""
    shown: dict[str, Any] = {} if display_titles is None else {"display_titles": np.asarray(display_titles).astype(str)}
    position = {tid: k for k, tid in enumerate(catalog_ids.tolist())}
    model_to_catalog = np.asarray([position[i] for i in model.item_ids.tolist()], dtype=np.int32)
    sorter = np.argsort(model.user_ids)
    users = sorter[np.searchsorted(model.user_ids, rating_users, sorter=sorter)].astype(np.int64)
    order = np.lexsort((rating_items, users))
    indptr = np.zeros(len(model.user_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=len(model.user_ids)), out=indptr[1:])
    item_type = np.uint16 if len(catalog_ids) <= np.iinfo(np.uint16).max else np.int32
    items_sorted, values_sorted = np.asarray(rating_items)[order], np.asarray(rating_values)[order]
    heavy = np.flatnonzero(np.diff(indptr) > HEAVY_USER_RATINGS).astype(np.int32)
    factors = ranking.item_factors.shape[1]
    inverses = np.zeros((len(heavy), factors, factors), dtype=np.float32)
    for row, u in enumerate(heavy):
        span = slice(indptr[u], indptr[u + 1])
        inverses[row] = ranking.inverse(items_sorted[span], values_sorted[span])
    buffer = io.BytesIO()
    np.savez(   # uncompressed: these arrays hardly compress, and inflating them would dominate a cold start
        buffer, catalog_ids=catalog_ids.astype(str), titles=titles.astype(str), platforms=platforms.astype(str),
        types=np.asarray(types).astype(str), maturity=np.asarray([level(f) for f in maturity], dtype=np.int8),
        years=np.asarray(years, dtype=np.int16), model_to_catalog=model_to_catalog, rated_indptr=indptr,
        rated_items=items_sorted.astype(item_type), rated_halves=np.round(values_sorted * 2).astype(np.uint8),
        heavy_users=heavy, heavy_inverse=inverses,
        scores=scores.astype(np.float64), counts=counts.astype(np.int64),
        cold_start_min_ratings=np.int64(min_ratings), **ranking.to_arrays(), **shown,
    )
    return buffer.getvalue()


@dataclass
class Recommender:
    model: FactorModel             # the SVD: predicted ratings
    ranking: RankingModel          # what to show
    catalog_ids: np.ndarray
    titles: np.ndarray
    platforms: np.ndarray
    types: np.ndarray
    maturity: np.ndarray
    years: np.ndarray
    model_to_catalog: np.ndarray
    rated_indptr: np.ndarray
    rated_items: np.ndarray
    rated_halves: np.ndarray
    heavy_users: np.ndarray        # sorted user indices whose A^-1 is stored
    heavy_inverse: np.ndarray
    scores: np.ndarray
    counts: np.ndarray
    cold_start_min_ratings: int
    display_titles: np.ndarray | None = None
    _position: dict | None = field(default=None, init=False, repr=False)
    _masks: dict = field(default_factory=dict, init=False, repr=False)
    _cold: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        eligible = (self.counts >= self.cold_start_min_ratings) & ~np.isnan(self.scores)
        self._cold = np.where(eligible, np.nan_to_num(self.scores), -np.inf)

    @classmethod
    def from_bytes(cls, model: bytes, bundle: bytes) -> Recommender:
        with np.load(io.BytesIO(bundle), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        ranking = RankingModel.from_arrays({k: arrays.pop(k) for k in list(arrays) if k.startswith("rank_")})
        arrays["cold_start_min_ratings"] = int(arrays["cold_start_min_ratings"])
        return cls(model=FactorModel.from_npz(model), ranking=ranking, **arrays)

    def _index(self) -> dict[str, int]:
        if self._position is None:
            self._position = {tid: k for k, tid in enumerate(self.catalog_ids.tolist())}
        return self._position

    def position(self, title_id: str, parameter: str = "title_id") -> int:
        key = str(title_id).strip().lower()
        if key not in self._index():
            raise NotFound(f"unknown title_id {title_id!r}: ids are the platform letter and show_id, e.g. 'ns1'",
                           parameter=parameter)
        return self._index()[key]

    def describe(self, k: int) -> dict:
        shown = {} if self.display_titles is None else {"display_title": str(self.display_titles[k])}
        return {"title_id": str(self.catalog_ids[k]), "title": str(self.titles[k]), **shown,
                "platform": str(self.platforms[k])}

    def _item(self, k: int) -> dict:
        """A listed title: what a card shows beside the title."""
        return {**self.describe(k), "type": str(self.types[k]), "release_year": int(self.years[k])}

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """The titles the filters let through (None: all); computed once per distinct filter set."""
        if filters == Filters():
            return None
        if filters not in self._masks:
            mask = np.ones(len(self.catalog_ids), dtype=bool)
            if filters.platform is not None:
                mask &= self.platforms == filters.platform
            if filters.type is not None:
                mask &= self.types == filters.type
            if filters.max_maturity is not None:
                mask &= self.maturity <= level(filters.max_maturity)
            if filters.year_min is not None:
                mask &= self.years >= filters.year_min
            if filters.year_max is not None:
                mask &= self.years <= filters.year_max
            if len(self._masks) >= 256:
                self._masks.clear()
            self._masks[filters] = mask
        return self._masks[filters]

    def user(self, user_id: int) -> FoldedUser | None:
        """The user's ratings folded into the ranking model; None for a user with no ratings."""
        u = self.model.user_index.get(user_id)
        if u is None:
            return None
        span = slice(self.rated_indptr[u], self.rated_indptr[u + 1])
        k = np.searchsorted(self.heavy_users, u)
        inverse = self.heavy_inverse[k] if k < len(self.heavy_users) and self.heavy_users[k] == u else None
        return self.ranking.fold_in(self.rated_items[span].astype(np.int64), self.rated_halves[span] / 2.0, inverse)

    def predict(self, user_id: int, title_id: str, threshold: float) -> dict:
        k = self.position(title_id)
        est = self.model.estimate(user_id, str(self.catalog_ids[k]))
        rated = self.user(user_id)
        already = rated is not None and bool(np.isin(k, rated.items))
        rank = None if already else self._rank_on_platform(k, rated)
        return {"user_id": user_id, **self.describe(k), "predicted_rating": round(est, 4), "threshold": threshold,
                "recommend": rank is not None and rank <= RECOMMEND_TOP_K, "rank_on_platform": rank,
                "already_rated": already, "cold_start": rated is None}

    def _rank_on_platform(self, k: int, rated: FoldedUser | None) -> int:
        """1-based place of title k in the user's ranking of the unrated titles of its platform."""
        scores = self._cold.copy() if rated is None else rated.scores()
        if rated is not None:
            scores[rated.items] = -np.inf
        peers = self.allowed(Filters(platform=str(self.platforms[k])))   # the cached platform mask
        ahead = peers & ((scores > scores[k]) | ((scores == scores[k]) & (self.catalog_ids < self.catalog_ids[k])))
        return int(ahead.sum()) + 1

    def top_n(self, user_id: int, n: int, filters: Filters = Filters()) -> dict:
        rated = self.user(user_id)
        head = {"user_id": user_id, **filters.describe(), "n": n}
        if rated is None:
            return {**head, **self._cold_start(n, filters, f"user {user_id} has no ratings yet")}
        return {**head, "cold_start": False, "items": self._ranked(rated, n, filters)}

    def for_ratings(self, ratings: list[tuple[str, float]], n: int, filters: Filters = Filters()) -> dict:
        """A visitor's top-n from a few ratings, folded into the model at once (nothing is stored)."""
        unknown = [tid for tid, _ in ratings if str(tid).strip().lower() not in self._index()]
        if unknown:
            raise BadParameter("ratings", f"unknown title_id{'s' if len(unknown) > 1 else ''}: "
                               f"{', '.join(map(repr, unknown[:10]))}", "title ids of the catalog, e.g. 'ns1'")
        items = np.asarray([self.position(tid) for tid, _ in ratings], dtype=np.int64)
        distinct, times = np.unique(items, return_counts=True)
        repeated = [str(self.catalog_ids[i]) for i in distinct[times > 1]]
        if repeated:
            raise BadParameter("ratings", f"title_id rated more than once: {', '.join(repeated[:10])}",
                               "each title once")
        values = np.asarray([r for _, r in ratings], dtype=np.float64)
        return {**filters.describe(), "n": n, "rated": len(items), "cold_start": False,
                "items": self._ranked(self.ranking.fold_in(items, values), n, filters)}

    def _ranked(self, user: FoldedUser, n: int, filters: Filters) -> list[dict]:
        scores = user.scores()
        best = top_positions(scores, n, user.items, self.allowed(filters), self.catalog_ids)
        because: np.ndarray | list[int] = user.because(best) if len(best) else []
        return [{**self._item(int(i)), "score": round(float(scores[i]), 4),
                 "because_you_rated": self.describe(int(user.items[j]))} for i, j in zip(best, because)]

    def _cold_start(self, n: int, filters: Filters, why: str) -> dict:
        best = top_positions(self._cold, n, None, self.allowed(filters), self.catalog_ids)
        items = [{**self._item(int(k)), "score": round(float(self.scores[k]), 4),
                  "rating_count": int(self.counts[k])} for k in best]
        return {"cold_start": True, "items": items,
                "message": f"{why}: these are the best-scored titles with at least "
                           f"{self.cold_start_min_ratings} ratings"}
