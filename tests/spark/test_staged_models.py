"""AWS under -c engine=spark with training: the Spark job (etl_job/spark/job.py) fits both models with Spark
MLlib and stages them beside the ratings; the task publishes them without training (etl_job/stage.py)."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from etl_job import pipeline
from etl_job.__main__ import run_command
from etl_job.catalog import InputError
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.sample_data import generate_ratings, write_ratings, write_sample_catalogs
from etl_job.sources import CATALOG_DIR, RATINGS_DIR, DataSource
from etl_job.spark.job import build_parser
from etl_job.stage import CARD, PREDICTOR, RANKING
from streamlens.config import get_settings
from streamlens.layout import RATINGS_TABLE, RECOMMENDER_BUNDLE, RECOMMENDER_MODEL, RECOMMENDER_MODEL_CARD
from streamlens.ranking import RankingModel
from streamlens.recommend import Recommender
from tests.memory_store import MemoryStore

STAGE = "stage/run-7/"


@pytest.fixture(scope="module")
def rated_dir(tmp_path_factory):
    """Sample catalogs and 3,000 generated ratings in files, as a raw/ upload."""
    folder = tmp_path_factory.mktemp("rated")
    write_sample_catalogs(folder / CATALOG_DIR, titles_per_platform=40, seed=5)
    titles = pipeline.clean_catalog_files(DataSource(str(folder)), pipeline.QualityReport("catalogs"))
    write_ratings(generate_ratings(titles, 3_000, 200, seed=4), folder / RATINGS_DIR, rows_per_file=1_000)
    return folder


@pytest.fixture(scope="module")
def staged(rated_dir, tmp_path_factory, spark) -> dict[str, bytes]:
    """The job's files, by their keys once EMR has left them in the bucket under STAGE."""
    stage_dir = tmp_path_factory.mktemp("stage")
    assert run_command(build_parser(), ["--data-dir", str(rated_dir), "--stage", str(stage_dir)]) == 0
    return {f"{STAGE}{path.relative_to(stage_dir).as_posix()}": path.read_bytes()
            for path in sorted(stage_dir.rglob("*")) if path.is_file()}


def _release_objects(store: MemoryStore) -> dict[str, bytes]:
    return {key.split("/", 2)[-1]: stored.body for key, stored in store.objects.items()
            if key.startswith("releases/")}


def _refuse_training(*_args, **_kwargs):
    raise AssertionError("the task trained although the stage holds models")


def test_the_task_publishes_the_models_the_job_fitted_with_spark(staged, rated_dir, monkeypatch):
    monkeypatch.setattr(pipeline, "train_models", _refuse_training)
    store = MemoryStore.holding(staged)
    summary = run_etl(DataSource(str(rated_dir)), store, get_settings(), EtlOptions(ratings_stage=STAGE))
    release = _release_objects(store)

    assert release[RECOMMENDER_MODEL] == staged[f"{STAGE}{PREDICTOR}"]
    card = json.loads(release[RECOMMENDER_MODEL_CARD])
    assert card["ratings_engine"] == "spark"
    assert card["release_id"] == summary["release_id"]
    staged_card = json.loads(staged[f"{STAGE}{CARD}"])
    assert {k: v for k, v in card.items() if k in staged_card} == staged_card
    assert summary["model"]["trained"] and summary["model"]["chosen"] == staged_card["chosen"]["name"]

    # The bundle the recommender Lambdas load serves the staged ranking model over the staged ratings.
    served = Recommender.from_bytes(release[RECOMMENDER_MODEL], release[RECOMMENDER_BUNDLE])
    with np.load(io.BytesIO(staged[f"{STAGE}{RANKING}"])) as arrays:
        ranking = RankingModel.from_arrays(dict(arrays))
    np.testing.assert_array_equal(served.ranking.item_factors, ranking.item_factors)
    ratings = pd.read_parquet(io.BytesIO(release[RATINGS_TABLE]))
    assert len(ratings) == summary["counts"]["ratings"] == sum(json.loads(staged[f"{STAGE}ratings.json"])
                                                                ["report"]["rows_out"].values())


def test_staged_models_of_another_liked_threshold_are_refused(staged, rated_dir):
    store = MemoryStore.holding(staged)
    settings = replace(get_settings(), recommend_threshold=4.0)
    with pytest.raises(InputError, match=r"count a rating of 3\.5 or more as liked, this run 4\.0"):
        run_etl(DataSource(str(rated_dir)), store, settings, EtlOptions(ratings_stage=STAGE))
    assert not any(key.endswith("manifest.json") for key in store.objects)
    # Without training the models are not read, so the threshold does not matter.
    assert run_etl(DataSource(str(rated_dir)), store, settings,
                   EtlOptions(train=False, ratings_stage=STAGE))["model"] == {"trained": False}
