"""Hostile and odd inputs on every route (the matrix of bench/hostile_inputs.py, which writes the table in
docs/hostile_inputs.md): never a 5xx, always a JSON error that says what is wrong and, for a parameter,
names it."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Match

from local_run.app import local_app
from streamlens.combined_app import build_app, load_handler
from tests.aws import moto_bucket
from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("hostile_inputs", REPO / "bench" / "hostile_inputs.py")
hostile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hostile)


@pytest.fixture(scope="module")
def client(full_release):
    with moto_bucket("hostile-test") as (_, store):
        full_release.copy_into(store)
        app = build_app()
        yield app, TestClient(app)


def test_every_hostile_input_gets_a_clear_4xx_or_an_answer_never_a_5xx(client):
    app, http = client
    cases = hostile.cases(app)
    for route, label, parameter, params in cases:
        status, text = hostile.ask(http, route, params)
        assert status < 500, (route, label, text[:300])
        body = json.loads(text) if text.startswith("{") else None
        if status >= 400:
            assert body and body["error"]["message"] and body["error"]["status"] == status, (route, label)
            emptied_path = "{" + parameter + "}" in route and params.get(parameter) == ""   # another route then
            if status in (400, 422) and parameter and not emptied_path:
                assert body["error"]["parameter"] == parameter, (route, label, body)


def _served_by_a_function(app, path: str) -> bool:
    """Starlette's dispatch: the first route that fully matches a GET of the path answers it; the web
    interface, mounted at / last, matches every path, so a path that reaches it has no function route."""
    concrete = re.sub(r"\{[^}]+\}", "x1", path)
    scope = {"type": "http", "method": "GET", "path": concrete, "root_path": "", "query_string": b"", "headers": []}
    first = next(route for route in app.routes if route.matches(scope)[0] == Match.FULL)
    return getattr(first, "name", None) != "web"


def test_the_matrix_tries_every_get_route_the_stack_and_the_local_run_serve(client):
    """Not the OpenAPI document's own paths (the matrix is built from them): the GET routes the stack puts on
    API Gateway (infra's function table), each of which the local run's app answers with a function route."""
    from infra.data_api import FUNCTIONS

    app, _ = client
    tried = {route for route, *_ in hostile.cases(app)}
    on_the_stack = {route for spec in FUNCTIONS if spec.name != "docs" for route in spec.routes}
    assert tried == on_the_stack
    served = local_app()
    assert all(_served_by_a_function(served, route) for route in tried)
    assert not _served_by_a_function(served, "/no-such-route")


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


# Integers are ASCII digits with an optional leading minus: each other spelling int() or pydantic's lax mode
# reads as a number is a 422 naming the parameter, on every integer parameter, over HTTP and in a direct
# invocation alike.
INTEGER_SPELLINGS = {
    "digit group separator": lambda v: f"{v[0]}_{v[1:]}" if len(v) > 1 else f"0_{v}",
    "leading plus": lambda v: f"+{v}", "decimal point": lambda v: f"{v}.0", "leading space": lambda v: f" {v}",
    "trailing space": lambda v: f"{v} ", "full-width digits": lambda v: v.translate(str.maketrans("0123456789",
                                                                                                  "０１２３４５６７８９")),
}
INTEGER_VALUES = {"year": "2020", "year_min": "2000", "year_max": "2020", "n": "5", "limit": "5", "user_id": "42",
                  "offset": "5"}
FUNCTION_OF_ROUTE = {"/max-duration": "get_max_duration", "/score-count": "get_score_count", "/actor": "get_actor",
                     "/recommend": "recommender", "/users/{user_id}/recommendations": "recommender",
                     "/movies/duration": "peliculas_duracion", "/movies/recommendation": "recomendacion",
                     "/similar": "similar", "/titles": "titles"}


def integer_parameters(app) -> list[tuple[str, str]]:
    """(route, parameter) for every integer parameter of the OpenAPI document."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter["schema"]
            if "integer" in [s.get("type") for s in schema.get("anyOf", [schema])]:
                found.append((path, parameter["name"]))
    return found


def test_the_integer_parameters_are_all_tried(client):
    app, _ = client
    assert set(integer_parameters(app)) == {
        ("/max-duration", "year"), ("/score-count", "year"), ("/actor", "year"), ("/recommend", "user_id"),
        ("/users/{user_id}/recommendations", "user_id"), ("/users/{user_id}/recommendations", "n"),
        ("/users/{user_id}/recommendations", "year_min"), ("/users/{user_id}/recommendations", "year_max"),
        ("/movies/duration", "year"), ("/movies/recommendation", "n"), ("/movies/recommendation", "year"),
        ("/similar", "n"), ("/similar", "year"), ("/titles", "limit"), ("/titles", "offset"), ("/titles", "year_min"),
        ("/titles", "year_max")}


@pytest.mark.parametrize("spelling", INTEGER_SPELLINGS)
def test_every_integer_parameter_takes_plain_digits_only(client, spelling):
    app, http = client
    for route, name in integer_parameters(app):
        base = {**hostile.VALID[route], **({"title_id": None, "title": "heart"} if route == "/similar" else {})}
        base = {k: v for k, v in base.items() if v is not None}
        valid = {**base, name: INTEGER_VALUES[name]}
        status, _ = hostile.ask(http, route, valid)
        assert status in (200, 404), (route, name, "the plain spelling is accepted")
        value = INTEGER_SPELLINGS[spelling](INTEGER_VALUES[name])
        status, text = hostile.ask(http, route, {**base, name: value})
        error = json.loads(text)["error"]
        assert (status, error["parameter"]) == (422, name), (route, name, value, text)
        direct = load_handler(FUNCTION_OF_ROUTE[route]).handler({**base, name: value}, None)
        assert (direct["error"]["status"], direct["error"]["parameter"]) == (422, name), (route, name, direct)


@pytest.mark.parametrize("value", [2020.0, True, "2020.0", " 2020", [2020], [2020, 2021], {"year": 2020}])
def test_a_direct_invocation_applies_the_same_integer_rules(client, value):
    """A JSON event's number is sent as it is written: 2020.0 is not the integer 2020, true is not 1; a list or
    an object is not a single value."""
    body = load_handler("get_actor").handler({"platform": "n", "year": value}, None)
    status = 400 if isinstance(value, (list, dict)) else 422
    assert (body["error"]["status"], body["error"]["parameter"]) == (status, "year"), body
    assert load_handler("get_actor").handler({"platform": "n", "year": 2020}, None)["year"] == 2020


@pytest.mark.parametrize("value", ["3_5", "+3.5", " 3.5", "3.5 ", "nan", "inf", "３.５", "0x1p-1"])
def test_scored_is_a_number_in_decimal_notation(client, value):
    _, http = client
    response = http.get("/score-count", params={"platform": "n", "year": "2020", "scored": value})
    assert (response.status_code, response.json()["error"]["parameter"]) == (422, "scored"), response.text
    for plain in ("3.5", "3", "0", "5", "1e-05", "2.5E0"):
        response = http.get("/score-count", params={"platform": "n", "year": "2020", "scored": plain})
        assert response.status_code == 200 and response.json()["scored"] == float(plain), plain


@pytest.mark.parametrize("field, value", [("n", "10"), ("n", True), ("year_min", "2000"), ("year_max", False)])
def test_a_visitors_body_takes_json_numbers_only(client, field, value):
    _, http = client
    body = {"ratings": [{"title_id": "ns1", "rating": 5}], field: value}
    response = http.post("/recommendations", json=body)
    assert (response.status_code, response.json()["error"]["parameter"]) == (422, field), response.text
    direct = load_handler("recommender").handler(body, None)
    assert (direct["error"]["status"], direct["error"]["parameter"]) == (422, field)
    response = http.post("/recommendations", json={**body, field: 10 if field == "n" else 2000.0})
    assert response.status_code == 200, "a JSON integer, written 10 or 2000.0, is a number"
    response = http.post("/recommendations", json={"ratings": [{"title_id": "ns1", "rating": "5"}]})
    assert (response.status_code, response.json()["error"]["parameter"]) == (422, "rating")


@pytest.mark.parametrize("value", [" n", "n ", "nn", "\tnetflix", "netflix\n", "xbox", "ｎ"])
def test_platform_is_one_of_its_spellings_exactly(client, value):
    _, http = client
    response = http.get("/count-platform", params={"platform": value})
    error = response.json()["error"]
    assert (response.status_code, error["parameter"]) == (400, "platform"), response.text
    assert error["valid_values"] == ["a", "d", "h", "n", "amazon", "disney", "hulu", "netflix"]
    for spelling in ("N", "netflix", "NetFlix", "NETFLIX"):
        assert http.get("/count-platform", params={"platform": spelling}).json()["platform"] == "netflix"
