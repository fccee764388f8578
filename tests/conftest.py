"""Shared fixtures: the real data folder (skipped when absent), generated data folders, releases built once per
session, a moto S3 and the local run."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from etl_job.pipeline import EtlOptions
from tests.aws import moto_bucket
from tests.helpers import REPO, SMALL_TRAINING, free_port
from tests.releases import Published, publish_once

pytest_plugins = ["tests.ci_skips", "tests.node_ids", "pytester"]

SHARED_DATA = Path(os.environ.get("STREAMLENS_SHARED_DATA", REPO.parent / "shared" / "data"))
REAL_DATA_FIXTURES = {"shared_data", "ratings_small", "raw_rows", "real_data_dir", "real_release"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads the real exports, through any fixture, carries the `realdata` marker, so that
    `pytest -m "not realdata"` runs everything else on a machine without them."""
    for item in items:
        if REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.realdata)


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


@pytest.fixture(scope="session")
def real_data_dir(shared_data, tmp_path_factory) -> Path:
    """The real catalogs and movies files, linked into a data folder of their own (no ratings files:
    the ETL generates them)."""
    folder = tmp_path_factory.mktemp("real-data")
    for sub, pattern in (("streaming", "*_titles.csv"), ("movies", "*.csv")):
        (folder / sub).mkdir()
        for csv_file in (shared_data / sub).glob(pattern):
            (folder / sub / csv_file.name).symlink_to(csv_file)
    return folder


@pytest.fixture(scope="session")
def full_data_dir(sample_data_dir, tmp_path_factory) -> Path:
    """The generated streaming data (catalogs and ratings) with a generated movies catalog beside it."""
    import shutil

    from etl_job.sample_movies import write_sample_movies

    folder = tmp_path_factory.mktemp("full-data")
    shutil.copytree(sample_data_dir, folder, dirs_exist_ok=True)
    write_sample_movies(folder / "movies", n_movies=300)
    return folder


@pytest.fixture(scope="session")
def full_release(full_data_dir) -> Published:
    """The generated streaming and movies data, published with a small training grid (built once)."""
    return publish_once(full_data_dir, EtlOptions(train_config=SMALL_TRAINING))


@pytest.fixture(scope="session")
def real_release(real_data_dir) -> Published:
    """The real catalogs and movies files with generated ratings, published without training (built once)."""
    return publish_once(real_data_dir, EtlOptions(train=False, sample_ratings=40_000, sample_users=800))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The local run, as `make run` starts it, on generated data; yields its base URL and the data folder."""
    data = tmp_path_factory.mktemp("web-data")
    from etl_job.__main__ import main as etl_main

    assert etl_main(["sample", "--out", str(data), "--ratings", "30000", "--users", "600", "--movies", "300"]) == 0
    port = free_port()
    env = {**os.environ, "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}", "PORT": str(port),
           "STREAMLENS_DATA_DIR": str(data), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    with open(data / "local-run.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "local_run"], cwd=tmp_path_factory.mktemp("run"),
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 600
            while True:
                assert server.poll() is None, (data / "local-run.log").read_text()[-3000:]
                try:
                    if httpx.get(base + "catalog", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the local run did not start within 10 minutes"
                time.sleep(1)
            yield base, data
        finally:
            server.terminate()
            server.wait(timeout=30)
