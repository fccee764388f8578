"""Logs: every line carries the request id, and no query value, header or body reaches them."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.combined_app import build_app, load_handler
from tests.helpers import v1_event, v2_event

SECRET = "S3CR3T-token-4242"


@pytest.fixture
def released(s3_env, sample_data_dir):
    settings, store = s3_env
    run_etl(DataSource(str(sample_data_dir)), store, settings, EtlOptions(train=False), Progress())
    return settings, store


def test_every_log_line_of_an_invocation_carries_its_request_id(released, caplog):
    handler = load_handler("get_count_platform").handler
    caplog.set_level(logging.INFO)
    caplog.clear()
    handler(v2_event("/count-platform", {"platform": "n"}), SimpleNamespace(aws_request_id="lambda-req-1"))
    handler({"requestContext": {"http": 1}, "rawPath": 5}, SimpleNamespace(aws_request_id="lambda-req-2"))
    handler(v1_event("/count-platform", {"platform": "n"}), None)      # no context: API Gateway's id
    ids = [record.request_id for record in caplog.records]
    assert "lambda-req-1" in ids and "lambda-req-2" in ids and "req-1" in ids
    assert all(i in ("lambda-req-1", "lambda-req-2", "req-1") for i in ids), ids
    assert any(r.levelno == logging.WARNING and r.request_id == "lambda-req-2" for r in caplog.records)


def test_no_query_value_header_or_body_reaches_the_logs(released, caplog):
    caplog.set_level(logging.DEBUG)
    handler = load_handler("get_max_duration").handler
    event = v2_event("/max-duration", {"platform": SECRET, "year": SECRET})
    event["headers"].update({"authorization": f"Bearer {SECRET}", "x-api-key": SECRET, "cookie": f"s={SECRET}"})
    handler(event, SimpleNamespace(aws_request_id="r"))
    handler({"platform": SECRET, "user": "someone@example.com"}, SimpleNamespace(aws_request_id="r"))
    load_handler("peliculas_pais").handler({"pais": SECRET}, None)
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert caplog.records and SECRET not in text and "someone@example.com" not in text


def test_the_local_app_answers_with_the_request_id(released):
    client = TestClient(build_app())
    assert client.get("/count-platform", params={"platform": "n"}, headers={"x-request-id": "abc-1"}) \
        .headers["x-request-id"] == "abc-1"
    assert len(client.get("/count-platform", params={"platform": "n"}).headers["x-request-id"]) == 32
