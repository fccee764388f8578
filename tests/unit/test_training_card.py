"""The model cards are a contract: the rating predictor's (train_recommender: grid search, candidates,
baselines, diagnostics, final fit) and the ranking model's (train_ranker, the SVD as served beside it), trained
on a small fixed-seed sample, equal the copies saved in tests/data/training_cards.json, timings aside. A
change to what training chooses, measures or reports shows here; when it is meant, regenerate the copy:

    python -m tests.unit.test_training_card
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from etl_job.ranker import RankConfig, train_ranker
from etl_job.training import train_recommender
from tests.helpers import GRID_OF_TWO, SAVED, two_taste_ratings

CARDS = SAVED / "training_cards.json"
CONFIG = replace(GRID_OF_TWO, grid_sample=4_000, eval_sample=5_000)
RANKING = RankConfig(grid=({"factors": 8, "regularization": 1.0, "alpha": 1.0},
                           {"factors": 16, "regularization": 5.0, "alpha": 1.0}),
                     iterations=5, eval_max_users=100, threads=1, new_title_share=0.1)


def sample() -> pd.DataFrame:
    """160 users of two tastes over 120 titles, 30 ratings each (seeded)."""
    users, items, rating = two_taste_ratings(seed=7, users=160, titles=120, per_user=30, noise=0.6)
    return pd.DataFrame({"user": users + 500, "item": items, "rating": rating})


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def cards() -> dict:
    ratings = sample()
    svd = train_recommender(ratings, CONFIG).card
    n_items = 120
    neighbours = np.stack([(np.arange(n_items) + k) % n_items for k in (2, 4, 6)], axis=1)
    similarity = np.full(neighbours.shape, 0.5, dtype=np.float32)
    ranking = train_ranker(ratings["user"].to_numpy(), ratings["item"].to_numpy(), ratings["rating"].to_numpy(),
                           n_items, RankConfig(**{**RANKING.__dict__, "svd_params": svd["chosen"]["params"]}),
                           tie_key=np.array([f"t{i:03d}" for i in range(n_items)]),
                           groups=np.array(["a", "b", "c"])[np.arange(n_items) % 3],
                           neighbours=neighbours, similarity=similarity).card
    return json.loads(json.dumps({"recommender": without_timings(svd), "ranking": without_timings(ranking)},
                                 default=str))


def dump(value: dict) -> str:
    return json.dumps(value, indent=1) + "\n"


@pytest.fixture(scope="module")
def current() -> dict:
    return cards()


@pytest.fixture(scope="module")
def saved() -> dict:
    return json.loads(CARDS.read_text(encoding="utf-8"))


def test_the_recommender_model_card_is_unchanged(current, saved):
    assert current["recommender"] == saved["recommender"]
    assert list(current["recommender"]) == list(saved["recommender"]), "the card's sections keep their order"


def test_the_ranking_model_card_is_unchanged(current, saved):
    assert current["ranking"] == saved["ranking"]
    assert list(current["ranking"]) == list(saved["ranking"]), "the card's sections keep their order"


if __name__ == "__main__":
    CARDS.write_text(dump(cards()), encoding="utf-8")
    print(f"wrote {CARDS}")


def test_the_grid_search_is_the_same_whatever_numpys_global_generator_holds():
    """Before, GridSearchCV drew its folds from numpy's global generator, not the card's seed: two runs on
    the same ratings could choose different parameters."""
    from etl_job.model_selection import grid_search

    ratings = sample()
    results = []
    for state in (1, 2):
        np.random.seed(state)
        found = grid_search(ratings, CONFIG.grid, cv=3, seed=42, n_jobs=1, max_rows=len(ratings))
        results.append(without_timings(found))
    assert results[0] == results[1]
