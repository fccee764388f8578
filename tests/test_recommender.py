"""The recommender Lambda's top-n equals a brute-force ranking with surprise itself."""

from __future__ import annotations

import glob

import numpy as np
import pandas as pd
import pytest
from surprise import SVD, Dataset, Reader

from etl_job.catalog import clean_catalogs
from etl_job.pipeline import read_catalog_frames
from etl_job.quality import QualityReport
from etl_job.sources import DataSource
from etl_job.training import export_svd
from streamlens.combined_app import load_handler
from streamlens.recommend import build_bundle
from streamlens.release import ReleaseWriter
from streamlens.slices import RECOMMENDER_BUNDLE, RECOMMENDER_MODEL


@pytest.fixture
def published(s3_env, sample_data_dir):
    """surprise's SVD trained here on the raw ratings files, exported and published as a release."""
    settings, store = s3_env
    titles = clean_catalogs(read_catalog_frames(DataSource(str(sample_data_dir))), QualityReport("c"))
    raw = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(str(sample_data_dir / "streaming/ratings/*.csv"))))
    raw = raw[raw["movieId"].isin(set(titles["id"]))]
    algo = SVD(n_factors=12, n_epochs=25, random_state=0).fit(
        Dataset.load_from_df(raw[["userId", "movieId", "rating"]], Reader(rating_scale=(0.5, 5))).build_full_trainset())
    position = pd.Index(titles["id"])
    stats = raw.groupby("movieId")["rating"].agg(["mean", "size"]).reindex(titles["id"])
    writer = ReleaseWriter(store, settings)
    writer.put(RECOMMENDER_MODEL, export_svd(algo).to_npz())
    writer.put(RECOMMENDER_BUNDLE, build_bundle(
        titles["id"].to_numpy(), titles["title"].to_numpy(), titles["platform"].astype(str).to_numpy(),
        stats["mean"].to_numpy(), stats["size"].fillna(0).astype(int).to_numpy(), export_svd(algo),
        raw["userId"].to_numpy(), position.get_indexer(raw["movieId"])))
    writer.publish(inputs={})
    return algo, raw, titles


def brute_force(algo, raw, titles, user, n, platform=None):
    rated = set(raw.loc[raw["userId"] == user, "movieId"])
    pool = titles[titles["id"].isin(set(raw["movieId"])) & ~titles["id"].isin(rated)]
    if platform:
        pool = pool[pool["platform"] == platform]
    ranked = sorted(((algo.predict(user, tid).est, tid) for tid in pool["id"]), key=lambda p: (-p[0], p[1]))
    return ranked[:n]


@pytest.mark.parametrize("n, platform", [(10, None), (5, "netflix"), (25, "hulu"), (1, None)])
def test_top_n_equals_brute_force(published, n, platform):
    algo, raw, titles = published
    handler = load_handler("recommender").handler
    users = raw["userId"].value_counts()
    for user in [int(users.index[0]), int(users.index[len(users) // 2]), int(users.index[-1])]:
        body = handler({"user_id": user, "n": n, **({"platform": platform} if platform else {})})
        expected = brute_force(algo, raw, titles, user, n, platform)
        assert [i["title_id"] for i in body["items"]] == [tid for _, tid in expected]
        assert [i["predicted_rating"] for i in body["items"]] == pytest.approx([e for e, _ in expected], abs=1e-4)


def test_single_prediction_equals_surprise(published):
    algo, raw, titles = published
    handler = load_handler("recommender").handler
    user = int(raw["userId"].iloc[0])
    for tid in titles["id"].sample(30, random_state=1):
        body = handler({"user_id": user, "title_id": tid})
        assert body["predicted_rating"] == pytest.approx(algo.predict(user, tid).est, abs=1e-4)
    unknown = handler({"user_id": 10**9, "title_id": titles["id"].iloc[0]})
    assert unknown["cold_start"] is True
    assert unknown["predicted_rating"] == pytest.approx(algo.predict(10**9, titles["id"].iloc[0]).est, abs=1e-4)
    assert np.isclose(handler({"user_id": user, "n": 0}).get("error", {}).get("status", 0), 422)
