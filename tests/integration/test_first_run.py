"""A first run as a newcomer sees it: on small data the ETL trains with the small search and says what each
long stage is doing, the terminal gets one line of data quality (the rest is in the release), and the local
run ends with calls that work on the release it just loaded."""

from __future__ import annotations

import contextlib
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from etl_job.__main__ import main as etl_main
from etl_job.training import DEFAULT_GRID, SMALL_DATA_ROWS
from local_run.app import local_app
from local_run.examples import example_calls, serving_banner
from streamlens.layout import QUALITY_REPORT, RECOMMENDER_MODEL_CARD
from streamlens.release import object_key, read_manifest
from tests.aws import moto_bucket

BASE = "http://127.0.0.1:8000"
LONG_STAGES = ("similar titles search", "training: grid search", "training: candidate svd_grid_best",
               "training: diagnostics", "training: final fit", "training: ranking grid", "training: ranking evaluation",
               "training: new titles", "training: ranking final fit")


@contextlib.contextmanager
def _published(bucket: str, sample_data_dir, *flags: str):
    """An ETL run on the sample (30,000 ratings) as `python -m etl_job run` makes it: its bucket and output."""
    with moto_bucket(bucket) as (settings, store):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert etl_main(["run", "--data-dir", str(sample_data_dir), *flags]) == 0
        yield settings, store, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def published(sample_data_dir):
    """A run with the default options, kept for the module."""
    with _published("first-run", sample_data_dir) as run:
        yield run


def test_small_data_trains_with_the_small_search(published):
    settings, store, _, _ = published
    manifest = read_manifest(store, settings)
    card = json.loads(store.get(object_key(manifest, RECOMMENDER_MODEL_CARD)))
    assert manifest["counts"]["ratings"] < SMALL_DATA_ROWS
    assert card["config"] == "small"
    searched = card["grid_search"]
    full = 1
    for values in DEFAULT_GRID.values():
        full *= len(values)
    assert len(searched["results"]) < full and searched["cv"] < 3
    assert card["candidates"][card["chosen"]["name"]]["rmse"] < card["candidates"]["baseline_only"]["rmse"]


def test_every_long_stage_says_when_it_starts_and_when_it_ends(published):
    _, _, _, err = published
    lines = [re.sub(r"^\[\s*[\d.]+s\] ", "", line) for line in err.splitlines()]
    for stage in LONG_STAGES:
        started = [i for i, line in enumerate(lines) if line.startswith(f"{stage}: started")]
        assert len(started) == 1, (stage, lines)
    order = [next(i for i, line in enumerate(lines) if line.startswith(f"{stage}: started")) for stage in LONG_STAGES]
    assert order == sorted(order), "in the order the run takes them"


def test_the_terminal_gets_one_line_of_data_quality_and_the_release_has_every_figure(published):
    settings, store, out, _ = published
    quality_lines = [line for line in out.splitlines() if line.startswith("data quality")]
    assert len(quality_lines) == 1 and "repairs" not in out
    quality = json.loads(store.get(object_key(read_manifest(store, settings), QUALITY_REPORT)))
    for name, report in quality.items():
        rows_in = sum(report["rows_in"].values())
        assert f"{name} {rows_in:,} rows in" in quality_lines[0], name


def test_the_example_calls_of_the_end_block_answer_on_the_release_just_loaded(published):
    _check_example_calls(*published[:2], trained=True)


def test_without_a_model_the_example_calls_need_none(sample_data_dir):
    with _published("first-run-untrained", sample_data_dir, "--skip-training") as (settings, store, _, _):
        _check_example_calls(settings, store, trained=False)


def _check_example_calls(settings, store, trained: bool) -> None:
    calls = example_calls(store, settings, BASE)
    assert len(calls) == 3 and all(call.startswith(f"{BASE}/") for call in calls)
    assert ("/recommendations" in calls[2]) is trained
    client = TestClient(local_app())
    for call in calls:
        url = urlsplit(call)
        response = client.get(f"{url.path}?{url.query}")
        assert response.status_code == 200, (call, response.text)
        assert response.json(), call
    banner = serving_banner(BASE, calls)
    assert banner.splitlines()[:3] == [f"streamlens is serving on {BASE}", f"  web page   {BASE}/",
                                       f"  API docs   {BASE}/docs"]
    assert all(f"curl '{call}'" in banner for call in calls)
