"""Logs: every line carries the request id, and no query value, header or body reaches them, not even on the
paths that log an exception's text (an unexpected exception's 500, the release cache's failures)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from streamlens import movie_queries
from streamlens.combined_app import build_app, load_handler
from streamlens.layout import QUALITY_REPORT
from streamlens.release import object_key, read_manifest
from tests.helpers import v1_event, v2_event

SECRET = "S3CR3T-token-4242"


@pytest.fixture
def released(s3_env, full_release):
    """The generated streaming and movies release, so that the movie queries answer."""
    settings, store = s3_env
    full_release.copy_into(store)
    return settings, store


def _secret_event(path: str, params: dict) -> dict:
    """An HTTP API event carrying the secret in its headers too."""
    event = v2_event(path, params)
    event["headers"].update({"authorization": f"Bearer {SECRET}", "x-api-key": SECRET, "cookie": f"s={SECRET}"})
    return event


def _logged(caplog) -> str:
    """Everything the records hold: messages, their arguments and the formatted tracebacks."""
    return caplog.text + " ".join(str(r.args) for r in caplog.records)


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
    handler(_secret_event("/max-duration", {"platform": SECRET, "year": SECRET}), SimpleNamespace(aws_request_id="r"))
    handler({"platform": SECRET, "user": "someone@example.com"}, SimpleNamespace(aws_request_id="r"))
    country = load_handler("peliculas_pais").handler
    answer = json.loads(country(_secret_event("/movies/country", {"pais": SECRET}), None)["body"])
    assert answer["error"]["status"] == 404 and answer["error"]["message"].startswith(
        f"no production country matches {SECRET!r}")
    assert country({"pais": SECRET}, None) == answer, "the direct invocation reached the query too"
    assert "loaded release" in caplog.text, "the function read the release"
    assert SECRET not in _logged(caplog) and "someone@example.com" not in _logged(caplog)


def test_an_unexpected_exception_is_logged_without_the_request(released, caplog, monkeypatch):
    """The 500 handler logs the exception with its traceback; the request's values stay out of it."""
    def broken(data, pais):
        raise RuntimeError("the country index is corrupt")

    monkeypatch.setattr(movie_queries, "peliculas_pais", broken)
    caplog.set_level(logging.DEBUG)
    response = load_handler("peliculas_pais").handler(_secret_event("/movies/country", {"pais": SECRET}), None)
    assert response["statusCode"] == 500 and SECRET not in response["body"]
    assert "unhandled error on /movies/country" in caplog.text
    assert "RuntimeError: the country index is corrupt" in caplog.text, "the traceback is logged"
    assert SECRET not in _logged(caplog)


def test_the_release_cache_logs_its_failures_without_the_request(released, caplog, monkeypatch):
    """A warm function whose manifest check fails, a cold one that cannot read the release and a report that
    cannot be read each log S3's message; none logs the request that ran into it."""
    settings, store = released
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    caplog.set_level(logging.DEBUG)
    warm = load_handler("peliculas_pais").handler
    reports = load_handler("reports").handler
    assert warm(_secret_event("/movies/country", {"pais": SECRET}), None)["statusCode"] == 404
    assert reports(_secret_event("/reports", {}), None)["statusCode"] == 200
    store.delete(object_key(read_manifest(store, settings), QUALITY_REPORT))
    assert reports(_secret_event("/reports/quality.json", {}), None)["statusCode"] == 503
    assert "reading reports/quality.json of release" in caplog.text

    store.put(settings.manifest_key, b"{not json")
    assert warm(_secret_event("/movies/country", {"pais": SECRET}), None)["statusCode"] == 404, "the warm copy"
    assert "refresh failed" in caplog.text
    cold = load_handler("peliculas_pais").handler
    assert cold(_secret_event("/movies/country", {"pais": SECRET}), None)["statusCode"] == 503
    assert "the data release cannot be read: " in caplog.text
    assert SECRET not in _logged(caplog)


def test_the_local_app_answers_with_the_request_id(released):
    client = TestClient(build_app())
    assert client.get("/count-platform", params={"platform": "n"}, headers={"x-request-id": "abc-1"}) \
        .headers["x-request-id"] == "abc-1"
    assert len(client.get("/count-platform", params={"platform": "n"}).headers["x-request-id"]) == 32
