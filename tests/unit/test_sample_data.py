"""The ratings generator: deterministic, right schema, skewed like real activity, learnable tastes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from surprise import SVD, BaselineOnly, accuracy
from surprise.model_selection import train_test_split

from etl_job.catalog import clean_catalogs
from etl_job.pipeline import read_catalog_frames
from etl_job.quality import QualityReport
from etl_job.sample_data import generate_ratings
from etl_job.sources import DataSource
from etl_job.svd import to_dataset


@pytest.fixture(scope="module")
def titles(sample_data_dir):
    return clean_catalogs(read_catalog_frames(DataSource(str(sample_data_dir))), QualityReport("c"))


@pytest.fixture(scope="module")
def ratings(titles):
    return generate_ratings(titles, 40_000, 800, seed=5)


def test_deterministic_for_a_seed(titles, ratings):
    again = generate_ratings(titles, 40_000, 800, seed=5)
    pd.testing.assert_frame_equal(ratings, again)
    assert not generate_ratings(titles, 40_000, 800, seed=6).equals(ratings)


def test_schema_and_value_ranges(titles, ratings):
    assert list(ratings.columns) == ["userId", "rating", "timestamp", "movieId"]   # the production schema
    assert 0.9 * 40_000 <= len(ratings) <= 40_000
    assert set(ratings["rating"].unique()) <= set(np.arange(1, 11) / 2)
    assert ratings["timestamp"].between(1_420_070_400, 1_640_995_200).all()   # 2015..2021
    assert not ratings.duplicated(["userId", "movieId"]).any()
    unknown = ~ratings["movieId"].isin(titles["id"])
    assert 0 < unknown.sum() <= 0.001 * len(ratings)


def test_activity_and_popularity_are_heavy_tailed(ratings):
    per_user = ratings.groupby("userId").size().sort_values(ascending=False)
    per_title = ratings.groupby("movieId").size().sort_values(ascending=False)
    assert per_user.head(len(per_user) // 10).sum() > 0.3 * len(ratings)     # uniform would give 10%
    assert per_title.head(len(per_title) // 10).sum() > 0.25 * len(ratings)
    assert per_user.max() > 10 * per_user.median()


def test_tastes_give_a_model_something_to_learn(ratings):
    frame = ratings.rename(columns={"userId": "user", "movieId": "item"})
    train, test = train_test_split(to_dataset(frame), test_size=0.2, random_state=0)
    svd = accuracy.rmse(SVD(n_factors=20, n_epochs=30, random_state=0).fit(train).test(test), verbose=False)
    baseline = accuracy.rmse(BaselineOnly(verbose=False).fit(train).test(test), verbose=False)
    assert svd < baseline - 0.01
