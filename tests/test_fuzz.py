"""Property-based fuzzing of every route with schemathesis, from the app's own OpenAPI document:
no 5xx, every status code documented, every body of the documented type and schema.

A bounded run here (STREAMLENS_FUZZ_EXAMPLES per route, 25 by default); `make fuzz` runs a longer one."""

from __future__ import annotations

import io
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.combined_app import build_app

from .aws import moto_bucket
from .test_functions import SMALL_TRAINING

EXAMPLES = int(os.environ.get("STREAMLENS_FUZZ_EXAMPLES", "25"))
APP = build_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def release(full_data_dir):
    """A full release (streaming with a trained model, movies) behind the app."""
    with moto_bucket("fuzz-test") as (settings_, store):
        run_etl(DataSource(str(full_data_dir)), store, settings_, EtlOptions(train_config=SMALL_TRAINING),
                Progress(io.StringIO()))
        yield


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_route_answers_within_its_documented_contract(case, release):
    case.call_and_validate(checks=CHECKS)
