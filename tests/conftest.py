"""Shared fixtures: the real data folder (skipped when absent) and a moto S3."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from .aws import moto_bucket

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("STREAMLENS_SHARED_DATA", REPO.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path}: set STREAMLENS_SHARED_DATA to the shared data folder "
                    "(the one holding streaming/ and movies/) to run this test")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _require(SHARED_DATA / "streaming" / "netflix_titles.csv").parents[1]


@pytest.fixture(scope="session")
def ratings_small() -> Path:
    return _require(SHARED_DATA / "movies" / "ratings_small.csv")


@pytest.fixture(scope="session")
def raw_rows(shared_data):
    """The raw real catalogs read with the csv module: an independent view of the inputs."""
    from streamlens.platforms import PLATFORMS

    rows = {}
    for platform in PLATFORMS:
        with open(shared_data / "streaming" / platform.filename, newline="", encoding="utf-8") as handle:
            rows[platform.code] = list(csv.DictReader(handle))
    return rows


@pytest.fixture
def s3_env():
    """A moto-mocked S3 with the bucket created; settings point at it."""
    with moto_bucket("streamlens-test") as env:
        yield env


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory) -> Path:
    """A generated data folder: the sample catalog with every defect, and ratings files."""
    from etl_job.__main__ import main

    folder = tmp_path_factory.mktemp("sample-data")
    assert main(["sample", "--out", str(folder), "--ratings", "30000", "--users", "600",
                 "--rows-per-file", "12000"]) == 0
    return folder
