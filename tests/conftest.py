"""Shared fixtures: the real data folder (skipped when absent) and a moto S3."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import pytest

from .aws import moto_bucket

pytest_plugins = ["tests.ci_skips", "pytester"]

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The local run, as `make run` starts it, on generated data; yields its base URL and the data folder."""
    data = tmp_path_factory.mktemp("web-data")
    from etl_job.__main__ import main as etl_main

    assert etl_main(["sample", "--out", str(data), "--ratings", "30000", "--users", "600", "--movies", "300"]) == 0
    port = free_port()
    env = {**os.environ, "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}", "PORT": str(port),
           "STREAMLENS_DATA_DIR": str(data), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    log = open(data / "local-run.log", "w")
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
        log.close()
