"""Hostile and odd inputs on every route (the matrix of bench/hostile_inputs.py, which writes the table in
docs/hostile_inputs.md): never a 5xx, always a JSON error that says what is wrong and, for a parameter,
names it."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.combined_app import build_app, load_handler

from .aws import moto_bucket
from .test_functions import SMALL_TRAINING

spec = importlib.util.spec_from_file_location("hostile_inputs", Path(__file__).resolve().parents[1] / "bench" /
                                              "hostile_inputs.py")
hostile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hostile)


@pytest.fixture(scope="module")
def client(full_data_dir):
    with moto_bucket("hostile-test") as (settings, store):
        run_etl(DataSource(str(full_data_dir)), store, settings, EtlOptions(train_config=SMALL_TRAINING),
                Progress(io.StringIO()))
        app = build_app()
        yield app, TestClient(app)


def test_every_hostile_input_gets_a_clear_4xx_or_an_answer_never_a_5xx(client):
    app, http = client
    cases = hostile.cases(app)
    gets = {path for path, operations in app.openapi()["paths"].items() if "get" in operations}
    assert {route for route, *_ in cases} == gets, "every GET route is tried (the POST one: test_recommender)"
    for route, label, parameter, params in cases:
        status, text = hostile.ask(http, route, params)
        assert status < 500, (route, label, text[:300])
        body = json.loads(text) if text.startswith("{") else None
        if status >= 400:
            assert body and body["error"]["message"] and body["error"]["status"] == status, (route, label)
            emptied_path = "{" + parameter + "}" in route and params.get(parameter) == ""   # another route then
            if status in (400, 422) and parameter and not emptied_path:
                assert body["error"]["parameter"] == parameter, (route, label, body)


def test_repeated_and_unknown_parameters_are_refused_by_name(client):
    _, http = client
    response = http.get("/count-platform", params=[("platform", "n"), ("platform", "a")])
    assert response.status_code == 400 and response.json()["error"]["parameter"] == "platform"
    assert "more than once" in response.json()["error"]["message"]
    response = http.get("/actor", params={"platform": "n", "yaer": "2020"})
    assert response.status_code == 400 and response.json()["error"]["valid_values"] == ["platform", "year"]
    response = http.get("/no-such-route")
    assert response.status_code == 404 and "routes are listed at /docs" in response.json()["error"]["message"]


def test_direct_invocations_that_are_too_big_or_malformed_are_refused(client):
    handler = load_handler("get_count_platform").handler
    for label, event in hostile.direct_cases():
        answer = handler(event, None)
        body = json.loads(answer["body"]) if "statusCode" in answer else answer
        assert body["error"]["type"] == "bad_parameter", label


@pytest.mark.parametrize("name", ["get_max_duration", "get_score_count", "get_count_platform", "get_actor",
                                  "recommender", "peliculas_idioma", "peliculas_duracion", "franquicia",
                                  "peliculas_pais", "productoras_exitosas", "get_director", "recomendacion",
                                  "similar", "titles", "reports"])
def test_a_lone_surrogate_in_a_direct_invocation_is_a_400_never_an_exception(client, name):
    handler = load_handler(name).handler
    for event in ({"platform": "\ud800"}, {"q": "a\udfff"}, {"ratings": [{"title_id": "\ud800", "rating": 5}]}):
        body = handler(event, None)
        assert body["error"]["status"] == 400 and "lone surrogate" in body["error"]["message"], (name, body)
        assert body["error"]["parameter"] == next(iter(event))


@pytest.mark.parametrize("name, event, parameter", [("reports", {"name": ""}, "name"),
                                                    ("reports", {"name": "  "}, "name"),
                                                    ("titles", {"title_id": ""}, "title_id")])
def test_empty_path_parameters_in_direct_invocations_are_a_400(client, name, event, parameter):
    body = load_handler(name).handler(event, None)
    assert body["error"]["status"] == 400 and body["error"]["parameter"] == parameter


def test_every_response_says_nosniff(client):
    _, http = client
    for path, params in (("/count-platform", {"platform": "n"}), ("/count-platform", {"platform": "xbox"}),
                         ("/no-such-route", {}), ("/docs", {}), ("/reports/model.html", {})):
        assert http.get(path, params=params).headers["x-content-type-options"] == "nosniff", path
    answer = load_handler("get_count_platform").handler(
        {"version": "2.0", "routeKey": "$default", "rawPath": "/count-platform", "rawQueryString": "platform=n",
         "headers": {"host": "x"}, "requestContext": {"http": {"method": "GET", "path": "/count-platform",
                                                                "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"}},
         "isBase64Encoded": False}, None)
    assert answer["headers"]["x-content-type-options"] == "nosniff"
