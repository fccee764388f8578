"""The top-n evaluation protocol on hand-made cases whose answers are worked out here, and the ranking
model's training on generated data against the popularity baseline."""

from __future__ import annotations

import numpy as np
import pytest

from etl_job.ranker import RankConfig, fill_from_content, train_ranker
from etl_job.topn_eval import Split, evaluate_topn, per_user_holdout, popularity_scorer
from streamlens.ranking import RankingModel, top_positions


def test_holdout_takes_a_fifth_of_each_user_and_depends_on_the_seed():
    users = np.repeat([7, 3, 9], [10, 4, 23])
    mask = per_user_holdout(users, 0.2, seed=1)
    assert [int(mask[users == u].sum()) for u in (7, 3, 9)] == [2, 0, 4]
    assert np.array_equal(mask, per_user_holdout(users, 0.2, seed=1))
    assert not np.array_equal(mask, per_user_holdout(users, 0.2, seed=2))


def hand_split() -> Split:
    """Two users, six items. User 0 trained on items 0, 1; held out 2 (liked) and 3 (disliked).
    User 1 trained on item 0; held out 4 (liked) and 5 (liked)."""
    users = np.array([0, 0, 0, 0, 1, 1, 1])
    items = np.array([0, 1, 2, 3, 0, 4, 5])
    ratings = np.array([5, 4, 5, 1, 3, 4, 4.5])
    test = np.array([False, False, True, True, False, True, True])
    return Split(users, items, ratings, test, n_users=2, n_items=6)


def test_metrics_on_a_hand_made_case():
    split = hand_split()
    fixed = np.array([9, 8, 1, 7, 6, 2], dtype=float)     # ranks unrated items: 3, 4, 5, 2 (0, 1 excluded)
    got = evaluate_topn(split, {"fixed": lambda u, items, ratings: fixed}, k=2, threshold=3.5)["all"]["fixed"]
    # user 0: top 2 of {2, 3, 4, 5} = [3, 4]: no hit (3 is disliked). user 1: top 2 of {1..5} = [1, 3]: no hit.
    assert got["precision"] == 0 and got["hit_rate"] == 0 and got["users"] == 2
    order = np.array([1, 2, 9, 0, 8, 7], dtype=float)     # ranks item 2 first, then 4, then 5
    got = evaluate_topn(split, {"o": lambda u, items, ratings: order}, k=2, threshold=3.5)["all"]["o"]
    # user 0: top [2, 4]: 1 hit of 1 relevant; dcg 1, idcg 1. user 1: top [2, 4]: 1 hit (4) of 2; dcg 1/log2(3),
    # idcg 1 + 1/log2(3).
    assert got["precision"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert got["recall"] == pytest.approx((1 + 1 / 2) / 2)
    assert got["ndcg"] == pytest.approx((1 + (1 / np.log2(3)) / (1 + 1 / np.log2(3))) / 2, abs=1e-4)
    assert got["hit_rate"] == 1 and got["coverage"] == pytest.approx(2 / 6, abs=1e-4)
    only_odd = {"odd": np.arange(6) % 2 == 1}
    got = evaluate_topn(split, {"o": lambda u, items, ratings: order}, k=2, threshold=3.5, allowed=only_odd)
    # relevant odd items: user 0 none (3 is disliked), user 1 item 5: top odd unrated of user 1 = [5, 1]
    assert got["odd"]["o"]["users"] == 1 and got["odd"]["o"]["precision"] == pytest.approx(0.5)


def test_popularity_counts_only_the_training_part():
    split = hand_split()
    assert popularity_scorer(split)(0, None, None).tolist() == [2, 1, 0, 0, 0, 0]


def test_top_positions_ties_and_exclusions():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    ids = np.array(["e", "c", "a", "d", "b"])
    assert top_positions(scores, 3, np.array([4]), None, ids).tolist() == [2, 1, 3]
    assert top_positions(scores, 10, None, np.array([True, False, True, True, False]), ids).tolist() == [2, 3, 0]


def test_unrated_titles_take_their_content_neighbours_factors():
    model = RankingModel(np.array([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [0.0, 0.0]], dtype=np.float32), 0.1, 1.0)
    rated = np.array([True, True, False, False])
    neighbours = np.array([[1, 2, -1], [0, -1, -1], [0, 1, 3], [2, -1, -1]])
    similarity = np.array([[.5, .4, 0], [.9, 0, 0], [.3, .1, .2], [.8, 0, 0]])
    filled, count = fill_from_content(model, rated, neighbours, similarity)
    # title 2: (0.3 x [1, 0] + 0.1 x [0, 2]) / 0.4 (title 3 is unrated too); title 3: no rated neighbour
    assert filled.item_factors[2].tolist() == pytest.approx([0.75, 0.5])
    assert filled.item_factors[3].tolist() == [0, 0] and count == 1
    assert filled.item_factors[:2].tolist() == model.item_factors[:2].tolist()


def test_ranking_model_beats_popularity_on_generated_ratings(sample_data_dir):
    """The generated users have tastes over genres; a ranking model must find them where popularity cannot."""
    import glob

    import pandas as pd

    from etl_job.catalog import clean_catalogs
    from etl_job.pipeline import read_catalog_frames
    from etl_job.quality import QualityReport
    from etl_job.sources import DataSource

    titles = clean_catalogs(read_catalog_frames(DataSource(str(sample_data_dir))), QualityReport("c"))
    raw = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(str(sample_data_dir / "streaming/ratings/*.csv"))))
    raw = raw[raw["movieId"].isin(set(titles["id"]))].drop_duplicates(["userId", "movieId"], keep="last")
    items = pd.Index(titles["id"]).get_indexer(raw["movieId"])
    result = train_ranker(raw["userId"].to_numpy(), items, raw["rating"].to_numpy(), len(titles),
                          RankConfig(svd_params={"n_factors": 8, "n_epochs": 10}), tie_key=titles["id"].to_numpy(),
                          groups=titles["platform"].astype(str).to_numpy(), final_fit=False)
    figures = result.card["evaluation"]["all"]
    assert figures["ranking_model"]["precision"] > 1.5 * figures["popularity"]["precision"]
    assert figures["ranking_model"]["ndcg"] > max(figures["svd_as_served"]["ndcg"], figures["random"]["ndcg"])
    assert figures["random"]["coverage"] > figures["ranking_model"]["coverage"] > figures["popularity"]["coverage"]
    assert set(result.card["evaluation"]) == {"all", "amazon", "disney", "hulu", "netflix"}
    rule = result.card["recommend_rule"]
    assert 0 < rule["flagged_share"] < 1 and rule["precision"] > rule["base_rate"]


def test_a_platform_whose_titles_all_rank_below_the_first_thousand_still_gets_n_answers():
    """The cold-start list and the filtered top-n rank inside the filter, not a global top 1,000 then filter."""
    from streamlens.ranking import top_positions

    rng = np.random.default_rng(11)
    scores = np.concatenate([rng.uniform(3, 5, 3_000), rng.uniform(0, 1, 50)])
    allowed = np.zeros(len(scores), dtype=bool)
    allowed[3_000:] = True
    ids = np.array([f"t{k:05d}" for k in range(len(scores))])
    best = top_positions(scores, 10, None, allowed, ids)
    expected = sorted(range(3_000, 3_050), key=lambda k: (-scores[k], ids[k]))[:10]
    assert best.tolist() == expected
