"""The recommender's serving code (streamlens/factor_model.py, streamlens/ranking.py, streamlens/recommend.py) on
small hand-made factors; every expected prediction, score, explanation and ranking is computed here with plain
numpy and Python from the formulas the modules' docstrings state."""

from __future__ import annotations

import io

import numpy as np
import pytest

from streamlens.errors import BadParameter, NotFound
from streamlens.factor_model import FactorModel
from streamlens.ranking import RankingModel, confidence, top_positions
from streamlens.recommend import Filters, Recommender, build_bundle

# -- an independent implementation of the formulas -------------------------------------------------------------


def svd_estimate(mu, user_bias, item_bias, p, q, low=0.5, high=5.0) -> float:
    """surprise: mu + b_u + b_i + q_i . p_u, each term only when its ids are known, clipped to the scale."""
    est = mu + (user_bias or 0.0) + (item_bias or 0.0)
    if p is not None and q is not None:
        est += sum(a * b for a, b in zip(p, q))
    return min(high, max(low, est))


def als_user(y: np.ndarray, reg: float, alpha: float, items: list[int], ratings: list[float]):
    """implicit's recalculate_user, written out: A = YtY + reg I + sum_j (c_j - 1) y_j y_j^T, b = sum_j c_j y_j."""
    f = y.shape[1]
    a = sum(np.outer(row, row) for row in y) + reg * np.eye(f)
    b = np.zeros(f)
    for j, r in zip(items, ratings):
        c = alpha * r
        a = a + (c - 1) * np.outer(y[j], y[j])
        b = b + c * y[j]
    inverse = np.linalg.inv(a)
    x = inverse @ b
    scores = [float(row @ x) for row in y]
    because = {i: max(range(len(items)), key=lambda n: alpha * ratings[n] * (y[items[n]] @ inverse @ y[i]))
               for i in range(len(y))}
    return a, b, x, scores, because


def best(scores, ids, n, excluded=(), allowed=None) -> list[int]:
    """Positions by score high to low, then id A-Z; excluded and disallowed positions left out."""
    keep = [k for k in range(len(scores)) if k not in excluded and (allowed is None or allowed[k])]
    return sorted(keep, key=lambda k: (-scores[k], ids[k]))[:n]


# -- FactorModel -----------------------------------------------------------------------------------------------

MU = 3.0
USERS = np.array([7, 9, 8])                                          # the SVD's own orders, not sorted ones
ITEMS = np.array(["as1", "ns1", "ns2", "ns3", "hs1", "as2"])         # nor the catalog's
USER_BIAS = np.array([0.5, 0.3, -0.25])
ITEM_BIAS = np.array([0.1, 0.2, -0.3, 0.0, 0.4, -0.5])
P = np.array([[1.0, 0.5], [0.7131, -0.4573], [-1.0, 2.0]])
Q = np.array([[0.2, 0.1], [1.5, 1.0], [0.3, -0.2], [-3.0, -3.0], [0.5, 0.5], [4.0, 4.0]], dtype=np.float32)


@pytest.fixture
def svd() -> FactorModel:
    return FactorModel(MU, USERS, ITEMS, USER_BIAS, ITEM_BIAS, P, Q)


@pytest.mark.parametrize("u", range(3))
@pytest.mark.parametrize("i", range(6))
def test_estimate_is_surprises_formula_clipped(svd, u, i):
    expected = svd_estimate(MU, USER_BIAS[u], ITEM_BIAS[i], P[u], Q[i].astype(float))
    assert svd.estimate(int(USERS[u]), str(ITEMS[i])) == pytest.approx(expected, abs=1e-6)


def test_estimate_leaves_out_what_is_unknown(svd):
    assert svd.estimate(99, "ns1") == pytest.approx(MU + 0.2)
    assert svd.estimate(7, "zz9") == pytest.approx(MU + 0.5)
    assert svd.estimate(99, "zz9") == MU


def test_estimate_clips_to_the_rating_scale(svd):
    assert svd.estimate(7, "as2") == 5.0                       # 3 + 0.5 - 0.5 + 6: far above the scale
    assert svd.estimate(7, "ns3") == 0.5                       # 3 + 0.5 + 0 - 4.5: below it
    narrow = FactorModel(MU, USERS, ITEMS, USER_BIAS, ITEM_BIAS, P, Q, rating_scale=(1.0, 4.0))
    assert narrow.estimate(7, "as2") == 4.0 and narrow.estimate(7, "ns3") == 1.0
    assert narrow.estimate(99, "zz9") == 3.0


def test_scores_for_user_are_every_items_clipped_estimate_in_model_order(svd):
    for u, user in enumerate(USERS):
        expected = [svd_estimate(MU, USER_BIAS[u], ITEM_BIAS[i], P[u], Q[i].astype(float)) for i in range(6)]
        np.testing.assert_allclose(svd.scores_for_user(int(user)), expected, atol=1e-6)
    assert svd.scores_for_user(99) is None
    narrow = FactorModel(MU, USERS, ITEMS, USER_BIAS, ITEM_BIAS, P, Q, rating_scale=(1.0, 4.0))
    assert narrow.scores_for_user(7).max() == 4.0 and narrow.scores_for_user(7).min() == 1.0


def test_the_model_survives_its_npz(svd):
    narrow = FactorModel(MU, USERS, ITEMS, USER_BIAS, ITEM_BIAS, P, Q, rating_scale=(1.0, 4.0))
    back = FactorModel.from_npz(narrow.to_npz())
    assert back.global_mean == MU and back.rating_scale == (1.0, 4.0)
    for name in ("user_ids", "item_ids", "user_bias", "item_bias", "user_factors", "item_factors"):
        np.testing.assert_array_equal(getattr(back, name), getattr(narrow, name))
    assert back.item_factors.dtype == np.float32
    assert back.estimate(8, "ns2") == narrow.estimate(8, "ns2")


# -- RankingModel ----------------------------------------------------------------------------------------------

Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, -0.5], [0.0, 1.0], [-1.0, 0.3]])   # ns2 and as2 alike
REG, ALPHA = 0.1, 2.0


@pytest.fixture
def ranking() -> RankingModel:
    return RankingModel(Y.astype(np.float32), REG, ALPHA)


def test_confidence_is_alpha_times_the_rating():
    np.testing.assert_allclose(confidence([0.5, 5], 2.0), [1.0, 10.0])
    np.testing.assert_allclose(confidence(np.array([3]), 1.0), [3.0])


def test_the_users_system_and_its_inverse(ranking):
    a, b, c = ranking.system(np.array([0, 4]), np.array([5.0, 1.5]))
    exp_a, exp_b, *_ = als_user(Y, REG, ALPHA, [0, 4], [5.0, 1.5])
    np.testing.assert_allclose(a, exp_a, atol=1e-6)
    np.testing.assert_allclose(b, exp_b, atol=1e-6)
    np.testing.assert_allclose(c, [10.0, 3.0])
    np.testing.assert_allclose(ranking.inverse(np.array([0, 4]), np.array([5.0, 1.5])), np.linalg.inv(exp_a),
                               atol=1e-6)
    assert ranking.n_items == 6


@pytest.mark.parametrize("items, ratings", [([0], [4.0]), ([1, 2], [0.5, 5.0]), ([5, 3, 4], [3.0, 2.5, 4.5])])
def test_fold_in_scores_and_explanations_are_implicits(ranking, items, ratings):
    *_, x, scores, because = als_user(Y, REG, ALPHA, items, ratings)
    user = ranking.fold_in(np.array(items), np.array(ratings))
    np.testing.assert_allclose(user.factors, x, atol=1e-6)
    np.testing.assert_allclose(user.scores(), scores, atol=1e-6)
    np.testing.assert_allclose(ranking.scores(np.array(items), np.array(ratings)), scores, atol=1e-6)
    targets = np.arange(6)
    assert user.because(targets).tolist() == [because[i] for i in targets]
    assert user.items.tolist() == items
    np.testing.assert_allclose(user.confidence, [ALPHA * r for r in ratings])


def test_a_stored_inverse_gives_the_same_user(ranking):
    items, ratings = np.array([1, 2]), np.array([0.5, 5.0])
    a, *_ = als_user(Y, REG, ALPHA, [1, 2], [0.5, 5.0])
    stored = ranking.fold_in(items, ratings, np.linalg.inv(a).astype(np.float32))
    solved = ranking.fold_in(items, ratings)
    np.testing.assert_allclose(stored.scores(), solved.scores(), atol=1e-5)
    assert stored.because(np.arange(6)).tolist() == solved.because(np.arange(6)).tolist()
    np.testing.assert_allclose(stored.confidence, [1.0, 10.0])


def test_no_ratings_score_zero_everywhere(ranking):
    np.testing.assert_array_equal(ranking.scores(np.array([], dtype=int), np.array([])), np.zeros(6))


def test_the_ranking_model_survives_its_arrays(ranking):
    arrays = ranking.to_arrays()
    assert sorted(arrays) == ["rank_alpha", "rank_item_factors", "rank_regularization"]
    assert arrays["rank_item_factors"].dtype == np.float32
    back = RankingModel.from_arrays(arrays)
    assert (back.regularization, back.alpha) == (REG, ALPHA)
    np.testing.assert_allclose(back.scores(np.array([3]), np.array([4.0])),
                               als_user(Y, REG, ALPHA, [3], [4.0])[3], atol=1e-6)


# -- top_positions ---------------------------------------------------------------------------------------------

def test_top_positions_by_score_then_tie_key_then_position():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    assert top_positions(scores, 5).tolist() == [1, 2, 4, 3, 0]
    assert top_positions(scores, 2, tie_key=np.array(["e", "d", "c", "b", "a"])).tolist() == [4, 2]
    assert top_positions(scores, 3, tie_key=np.array(["x", "b", "a", "y", "a"])).tolist() == [2, 4, 1]


def test_top_positions_keeps_every_tie_at_the_cutoff_before_ordering():
    scores = np.array([5.0, 2.0, 2.0, 2.0, 1.0, 2.0])
    ids = np.array(["f", "e", "d", "c", "b", "a"])
    assert top_positions(scores, 2, tie_key=ids).tolist() == [0, 5]
    assert top_positions(scores, 3, tie_key=ids).tolist() == [0, 5, 3]


def test_top_positions_never_returns_an_excluded_or_disallowed_position():
    scores = np.array([9.0, 8.0, 7.0, 6.0, 5.0])
    allowed = np.array([True, True, False, True, True])
    assert top_positions(scores, 3, excluded=np.array([0])).tolist() == [1, 2, 3]
    assert top_positions(scores, 3, excluded=np.array([0]), allowed=allowed).tolist() == [1, 3, 4]
    assert top_positions(scores, 10, excluded=np.array([], dtype=int), allowed=allowed).tolist() == [0, 1, 3, 4]
    assert top_positions(scores, 3, allowed=np.zeros(5, dtype=bool)).tolist() == []
    assert scores.tolist() == [9.0, 8.0, 7.0, 6.0, 5.0], "the caller's scores are not changed"


def test_top_positions_takes_integer_scores():
    counts = np.array([3, 1, 2, 7], dtype=np.int64)          # a popularity baseline's rating counts
    assert top_positions(counts, 2, excluded=np.array([3])).tolist() == [0, 2]
    assert top_positions(counts, 2, allowed=np.array([False, True, True, False])).tolist() == [2, 1]


def test_top_positions_leaves_out_minus_infinity():
    assert top_positions(np.array([-np.inf, 1.0, -np.inf]), 3).tolist() == [1]


# -- Filters ---------------------------------------------------------------------------------------------------

def test_filters_parse_and_normalise():
    assert Filters.parse("N", " Movie ", " TEENS ", 2000, 2010) == Filters("netflix", "movie", "teens", 2000, 2010)
    assert Filters.parse() == Filters()
    assert Filters.parse(type="TV Show").type == "tv show"
    assert Filters.parse(year_min=2000, year_max=2000) == Filters(year_min=2000, year_max=2000)


def test_filters_describe_only_what_is_set():
    assert Filters("hulu", None, "kids", None, 2001).describe() == {"platform": "hulu", "max_maturity": "kids",
                                                                    "year_max": 2001}
    assert Filters().describe() == {}


def test_filters_refuse_an_unknown_type_family_platform_or_an_empty_year_range():
    with pytest.raises(BadParameter) as caught:
        Filters.parse(type="film")
    assert caught.value.message == "unknown type 'film'"
    assert caught.value.details == {"parameter": "type", "valid_values": ["movie", "tv show"]}
    with pytest.raises(BadParameter) as caught:
        Filters.parse(max_maturity="toddlers")
    assert caught.value.message == "unknown maturity family 'toddlers'"
    assert caught.value.details == {"parameter": "max_maturity",
                                    "valid_values": ["kids", "older_kids", "teens", "young_adults", "adults"]}
    with pytest.raises(BadParameter) as caught:
        Filters.parse(year_min=2011, year_max=2010)
    assert caught.value.message == "year_min 2011 is after year_max 2010"
    assert caught.value.details == {"parameter": "year_min", "valid_values": "year_min <= year_max"}
    with pytest.raises(BadParameter, match="unknown platform"):
        Filters.parse(platform="hbo")


# -- Recommender -----------------------------------------------------------------------------------------------

CATALOG = np.array(["ns1", "ns2", "ns3", "as1", "as2", "hs1"])
TITLES = np.array(["N One", "N Two", "N Three", "A One", "A Two", "H One"])
PLATFORMS = np.array(["netflix", "netflix", "netflix", "amazon", "amazon", "hulu"])
TYPES = np.array(["movie", "tv show", "movie", "movie", "tv show", "movie"])
MATURITY = np.array(["kids", "adults", "teens", "older_kids", "young_adults", "kids"])
YEARS = np.array([2000, 2010, 2020, 1999, 2015, 2021])
MEANS = np.array([4.0, 3.123456, np.nan, 4.5, 3.123456, 4.987654])     # a tie, and more than 4 decimals
COUNTS = np.array([25, 30, 40, 19, 20, 20])            # the cold start needs 20 ratings: as1 has too few
RATINGS = {7: [("ns1", 5.0), ("as1", 4.0)], 8: [("ns2", 1.5)], 9: [("hs1", 3.0), ("ns3", 0.5), ("as2", 4.5)]}
FAMILY_LEVEL = {"kids": 0, "older_kids": 1, "teens": 2, "young_adults": 3, "adults": 4}


def pos(tid: str) -> int:
    return CATALOG.tolist().index(tid)


def make(min_ratings: int = 20) -> Recommender:
    ranking = RankingModel(Y.astype(np.float32), REG, ALPHA)
    users = [u for u, rated in RATINGS.items() for _ in rated]
    items = [pos(t) for rated in RATINGS.values() for t, _ in rated]
    values = [r for rated in RATINGS.values() for _, r in rated]
    svd = FactorModel(MU, USERS, ITEMS, USER_BIAS, ITEM_BIAS, P, Q)
    bundle = build_bundle(CATALOG, TITLES, PLATFORMS, TYPES, MATURITY, YEARS, MEANS, COUNTS, svd, ranking,
                          np.array(users), np.array(items), np.array(values), min_ratings=min_ratings)
    return Recommender.from_bytes(svd.to_npz(), bundle)


@pytest.fixture
def rec() -> Recommender:
    return make()


def expected_user(user: int):
    rated = RATINGS[user]
    items = [pos(t) for t, _ in rated]
    order = sorted(range(len(items)), key=lambda n: items[n])        # stored by catalog position
    return als_user(Y, REG, ALPHA, [items[n] for n in order], [rated[n][1] for n in order]), [items[n] for n in order]


def describe(k: int) -> dict:
    return {"title_id": CATALOG[k], "title": TITLES[k], "platform": PLATFORMS[k]}


def listed(k: int) -> dict:
    """A title in a top-n: also its type and year, for the card."""
    return {**describe(k), "type": TYPES[k], "release_year": YEARS[k]}


def test_the_bundle_holds_the_catalog_the_ratings_and_the_model_mapping(rec):
    assert rec.catalog_ids.tolist() == CATALOG.tolist() and rec.titles.tolist() == TITLES.tolist()
    assert rec.maturity.tolist() == [FAMILY_LEVEL[f] for f in MATURITY]
    assert rec.years.tolist() == YEARS.tolist() and rec.types.tolist() == TYPES.tolist()
    assert [CATALOG[k] for k in rec.model_to_catalog] == ITEMS.tolist()
    assert rec.rated_indptr.tolist() == [0, 2, 5, 6]                  # users 7, 9, 8: the model's order
    assert rec.rated_items.tolist() == [0, 3, 2, 4, 5, 1]             # each user's by catalog position
    assert rec.rated_halves.tolist() == [10, 8, 1, 9, 6, 3]
    assert rec.cold_start_min_ratings == 20 and rec.heavy_users.tolist() == []
    np.testing.assert_array_equal(rec.scores, MEANS)
    assert rec.counts.tolist() == COUNTS.tolist()


def test_the_bundle_stores_each_array_in_its_smallest_type(rec):
    """A cold start downloads the bundle: sizes matter (years int16, maturity int8, half stars uint8...)."""
    assert {name: getattr(rec, name).dtype for name in ("maturity", "years", "model_to_catalog", "rated_indptr",
                                                        "rated_items", "rated_halves", "heavy_users", "heavy_inverse",
                                                        "scores", "counts")} == {
        "maturity": np.int8, "years": np.int16, "model_to_catalog": np.int32, "rated_indptr": np.int64,
        "rated_items": np.uint16, "rated_halves": np.uint8, "heavy_users": np.int32, "heavy_inverse": np.float32,
        "scores": np.float64, "counts": np.int64}
    assert rec.ranking.item_factors.dtype == np.float32


@pytest.mark.parametrize("titles, kind", [(65_535, np.uint16), (65_536, np.int32)])
def test_rated_items_are_uint16_while_every_position_fits(titles, kind):
    catalog = np.array([f"ns{k}" for k in range(titles)])
    svd = FactorModel(3.0, np.array([1]), catalog[:1], np.zeros(1), np.zeros(1), np.ones((1, 2)),
                      np.ones((1, 2), dtype=np.float32))
    ranking = RankingModel(np.ones((titles, 2), dtype=np.float32), 0.1, 1.0)
    bundle = build_bundle(catalog, catalog, catalog, catalog, np.array(["kids"] * titles), np.zeros(titles),
                          np.zeros(titles), np.zeros(titles), svd, ranking, np.array([1]), np.array([titles - 1]),
                          np.array([3.0]))
    with np.load(io.BytesIO(bundle)) as npz:
        assert npz["rated_items"].dtype == kind and npz["rated_items"].tolist() == [titles - 1]


def _with_object_array(npz_bytes: bytes, name: str) -> bytes:
    with np.load(io.BytesIO(npz_bytes)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[name] = np.array(arrays[name].tolist(), dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_pickled_array_in_a_release_is_refused_never_unpickled(rec):
    """Loading a pickle runs code: a model or bundle holding one is refused."""
    svd = FactorModel(MU, USERS, ITEMS, USER_BIAS, ITEM_BIAS, P, Q)
    with pytest.raises(ValueError, match="allow_pickle"):
        FactorModel.from_npz(_with_object_array(svd.to_npz(), "user_ids"))
    ranking = RankingModel(Y.astype(np.float32), REG, ALPHA)
    bundle = build_bundle(CATALOG, TITLES, PLATFORMS, TYPES, MATURITY, YEARS, MEANS, COUNTS, svd, ranking,
                          np.array([7]), np.array([0]), np.array([4.0]))
    with pytest.raises(ValueError, match="allow_pickle"):
        Recommender.from_bytes(svd.to_npz(), _with_object_array(bundle, "catalog_ids"))


def test_position_ignores_case_and_space_and_an_unknown_id_is_a_404(rec):
    assert rec.position(" NS2 ") == 1 and rec.position("hs1") == 5
    with pytest.raises(NotFound) as caught:
        rec.position("xs9", parameter="ratings")
    assert caught.value.message == "unknown title_id 'xs9': ids are the platform letter and show_id, e.g. 'ns1'"
    assert caught.value.details == {"parameter": "ratings"}
    with pytest.raises(NotFound) as caught:
        rec.position("xs9")
    assert caught.value.details == {"parameter": "title_id"}


def test_a_user_is_their_ratings_folded_in(rec):
    (*_, scores, _), items = expected_user(9)
    user = rec.user(9)
    assert user.items.tolist() == items
    np.testing.assert_allclose(user.scores(), scores, atol=1e-5)
    assert rec.user(12345) is None


@pytest.mark.parametrize("user", [7, 8, 9])
@pytest.mark.parametrize("n", [1, 2, 10])
def test_top_n_is_the_best_unrated_titles_each_with_its_strongest_rated_title(rec, user, n):
    (_, _, _, scores, because), items = expected_user(user)
    answer = rec.top_n(user, n)
    ranked = best(scores, CATALOG, n, excluded=items)
    assert answer == {"user_id": user, "n": n, "cold_start": False, "items": [
        {**listed(k), "score": round(scores[k], 4), "because_you_rated": describe(items[because[k]])}
        for k in ranked]}


FILTERS = [Filters(platform="netflix"), Filters(type="movie"), Filters(max_maturity="older_kids"),
           Filters(year_min=2010), Filters(year_max=2015), Filters(year_min=2000, year_max=2015),
           Filters(platform="amazon", type="tv show"), Filters(max_maturity="adults"), Filters(max_maturity="kids"),
           Filters(platform="netflix", max_maturity="teens"), Filters(type="movie", year_min=2000),
           Filters(platform="amazon", year_max=2015), Filters("netflix", "movie", "teens", 2001, 2020)]


def allowed_by(f: Filters) -> list[bool]:
    return [(f.platform is None or PLATFORMS[k] == f.platform) and (f.type is None or TYPES[k] == f.type)
            and (f.max_maturity is None or FAMILY_LEVEL[MATURITY[k]] <= FAMILY_LEVEL[f.max_maturity])
            and (f.year_min is None or YEARS[k] >= f.year_min) and (f.year_max is None or YEARS[k] <= f.year_max)
            for k in range(len(CATALOG))]


@pytest.mark.parametrize("f", FILTERS, ids=str)
def test_filters_let_through_exactly_their_titles(rec, f):
    assert rec.allowed(f).tolist() == allowed_by(f)
    assert rec.allowed(Filters()) is None


@pytest.mark.parametrize("f", FILTERS, ids=str)
def test_a_filtered_top_n_is_the_ranking_within_the_filter(rec, f):
    (_, _, _, scores, _), items = expected_user(7)
    answer = rec.top_n(7, 10, f)
    assert [i["title_id"] for i in answer["items"]] == [
        CATALOG[k] for k in best(scores, CATALOG, 10, excluded=items, allowed=allowed_by(f))]
    assert {k: answer[k] for k in f.describe()} == f.describe()


def test_the_filter_cache_holds_at_most_256_filter_sets(rec):
    sizes = []
    for year in range(1000, 1300):
        rec.allowed(Filters(year_min=year))
        sizes.append(len(rec._masks))
    assert max(sizes) == 256 and sizes[:256] == list(range(1, 257))
    assert rec.allowed(Filters(year_min=1299)).tolist() == [True] * 6


def cold_scores(min_ratings: int = 20) -> list[float]:
    return [MEANS[k] if COUNTS[k] >= min_ratings and not np.isnan(MEANS[k]) else -np.inf for k in range(6)]


def test_an_unknown_user_gets_the_best_scored_titles_with_enough_ratings(rec):
    answer = rec.top_n(4242, 10)
    eligible = [k for k in best(cold_scores(), CATALOG, 10) if cold_scores()[k] > -np.inf]
    assert [CATALOG[k] for k in eligible] == ["hs1", "ns1", "as2", "ns2"]
    assert answer == {"user_id": 4242, "n": 10, "cold_start": True, "items": [
        {**listed(k), "score": round(MEANS[k], 4), "rating_count": COUNTS[k]} for k in eligible],
        "message": "user 4242 has no ratings yet: these are the best-scored titles with at least 20 ratings"}
    assert [i["title_id"] for i in rec.top_n(4242, 2, Filters(platform="netflix"))["items"]] == ["ns1", "ns2"]
    assert answer["items"][0]["score"] == 4.9877


def test_the_cold_start_threshold_is_inclusive():
    assert [i["title_id"] for i in make(min_ratings=19).top_n(1, 10)["items"]] == ["hs1", "as1", "ns1", "as2", "ns2"]
    assert [i["title_id"] for i in make(min_ratings=26).top_n(1, 10)["items"]] == ["ns2"]


def rank_on_platform(k: int, scores: list[float], excluded: list[int]) -> int:
    peers = [j for j in range(len(CATALOG)) if PLATFORMS[j] == PLATFORMS[k] and j not in excluded]
    return 1 + sum(1 for j in peers if scores[j] > scores[k] or (scores[j] == scores[k] and CATALOG[j] < CATALOG[k]))


@pytest.mark.parametrize("tid", CATALOG.tolist())
def test_predict_reports_the_svds_rating_and_the_place_on_the_platform(rec, tid):
    k = pos(tid)
    (_, _, _, scores, _), items = expected_user(9)
    answer = rec.predict(9, tid.upper(), 3.5)
    already = k in items
    rank = None if already else rank_on_platform(k, scores, items)
    m, u = ITEMS.tolist().index(tid), USERS.tolist().index(9)
    est = svd_estimate(MU, USER_BIAS[u], ITEM_BIAS[m], P[u], Q[m].astype(float))
    assert answer == {"user_id": 9, **describe(k), "predicted_rating": round(est, 4), "threshold": 3.5,
                      "recommend": not already, "rank_on_platform": rank, "already_rated": already,
                      "cold_start": False}


@pytest.mark.parametrize("tid", CATALOG.tolist())
def test_predict_for_an_unknown_user_ranks_by_the_cold_start_scores(rec, tid):
    k = pos(tid)
    answer = rec.predict(555, tid, 4.0)
    m = ITEMS.tolist().index(tid)
    assert answer["predicted_rating"] == round(svd_estimate(MU, None, ITEM_BIAS[m], None, None), 4)
    assert answer["rank_on_platform"] == rank_on_platform(k, cold_scores(), [])
    assert (answer["cold_start"], answer["already_rated"], answer["recommend"]) == (True, False, True)


def test_predict_of_an_unknown_title_is_a_404(rec):
    with pytest.raises(NotFound, match="unknown title_id 'zz1'"):
        rec.predict(7, "zz1", 3.5)


def one_platform(titles: int) -> Recommender:
    """Titles ns000, ns001, ... on one platform whose scores fall with the position; user 1 rated ns000."""
    catalog = np.array([f"ns{k:03d}" for k in range(titles)])
    y = np.column_stack([np.linspace(1, 0, titles), np.zeros(titles)])      # scores fall with the position
    ranking = RankingModel(y.astype(np.float32), 0.1, 1.0)
    svd = FactorModel(3.0, np.array([1]), catalog, np.zeros(1), np.zeros(titles), np.ones((1, 2)),
                      np.zeros((titles, 2), dtype=np.float32))
    bundle = build_bundle(catalog, catalog, np.array(["netflix"] * titles), np.array(["movie"] * titles),
                          np.array(["kids"] * titles), np.full(titles, 2000), np.full(titles, 3.0),
                          np.full(titles, 50), svd, ranking, np.array([1]), np.array([0]), np.array([5.0]))
    return Recommender.from_bytes(svd.to_npz(), bundle)


def test_recommend_is_a_place_in_the_top_100_of_the_platform():
    rec = one_platform(103)
    places = {tid: rec.predict(1, tid, 3.5) for tid in ("ns100", "ns101", "ns102")}
    assert {t: (p["rank_on_platform"], p["recommend"]) for t, p in places.items()} == {
        "ns100": (100, True), "ns101": (101, False), "ns102": (102, False)}
    assert rec.predict(1, "ns000", 3.5)["already_rated"] is True


def test_heavy_users_get_their_inverse_stored_and_the_same_answers(monkeypatch, rec):
    monkeypatch.setattr("streamlens.recommend.HEAVY_USER_RATINGS", 2)
    heavy = make()
    assert heavy.heavy_users.tolist() == [1]                   # user 9, the only one with more than 2 ratings
    a, *_ = expected_user(9)[0]
    np.testing.assert_allclose(heavy.heavy_inverse[0], np.linalg.inv(a), atol=1e-5)
    for user in (7, 8, 9):
        assert heavy.top_n(user, 10) == rec.top_n(user, 10)
    monkeypatch.setattr(heavy.ranking, "fold_in", lambda items, ratings, inverse=None: inverse)
    assert np.array_equal(heavy.user(9), heavy.heavy_inverse[0]), "user 9 is folded in with the stored inverse"
    assert heavy.user(7) is None and heavy.user(8) is None


def test_a_visitors_ratings_rank_like_a_user_with_the_same_ratings(rec):
    visitor = rec.for_ratings([("AS1", 4.0), ("ns1", 5.0)], 10)
    known = rec.top_n(7, 10)
    assert visitor == {"n": 10, "rated": 2, "cold_start": False, "items": known["items"]}
    filtered = rec.for_ratings([("ns1", 5.0), ("as1", 4.0)], 1, Filters(platform="amazon"))
    assert filtered["platform"] == "amazon" and filtered["items"] == rec.top_n(7, 1, Filters("amazon"))["items"]


def test_a_visitors_unknown_or_repeated_titles_are_400s_naming_them(rec):
    with pytest.raises(BadParameter) as caught:
        rec.for_ratings([("zz1", 4.0)], 5)
    assert caught.value.message == "unknown title_id: 'zz1'"
    assert caught.value.details == {"parameter": "ratings", "valid_values": "title ids of the catalog, e.g. 'ns1'"}
    with pytest.raises(BadParameter, match=r"^unknown title_ids: 'zz1', 'zz2'$"):
        rec.for_ratings([("zz1", 4.0), ("ns1", 3.0), ("zz2", 1.0)], 5)
    many = [(f"zz{k}", 1.0) for k in range(12)]
    with pytest.raises(BadParameter) as caught:
        rec.for_ratings(many, 5)
    assert caught.value.message == "unknown title_ids: " + ", ".join(f"'zz{k}'" for k in range(10))
    with pytest.raises(BadParameter) as caught:
        rec.for_ratings([("ns1", 4.0), ("NS1", 2.0), ("as1", 1.0)], 5)
    assert caught.value.message == "title_id rated more than once: ns1"
    assert caught.value.details == {"parameter": "ratings", "valid_values": "each title once"}


def test_a_visitor_who_repeats_many_titles_is_told_the_first_ten():
    twice = [(f"ns{k:03d}", 3.0) for k in range(12)] * 2
    with pytest.raises(BadParameter) as caught:
        one_platform(20).for_ratings(twice, 5)
    assert caught.value.message == "title_id rated more than once: " + ", ".join(f"ns{k:03d}" for k in range(10))
