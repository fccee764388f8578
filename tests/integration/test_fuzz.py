"""Property-based fuzzing of every route with schemathesis, from the app's own OpenAPI document, with every
check schemathesis has and both kinds of generated data: schema-valid requests must be accepted (2xx, or a
404 when nothing matches; never a 400 or 422), schema-invalid ones refused (4xx); no 5xx, every status code
documented, every body of the documented type and schema.

A bounded run here (STREAMLENS_FUZZ_EXAMPLES per route and mode, 25 by default); `make fuzz` runs a longer one."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from streamlens.combined_app import build_app
from streamlens.layout import slice_object_name
from streamlens.release_cache import ReleaseCache
from streamlens.titles import TitleIndex
from tests.aws import moto_bucket

EXAMPLES = int(os.environ.get("STREAMLENS_FUZZ_EXAMPLES", "25"))
APP = build_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(modes=list(schemathesis.GenerationMode))   # positive and negative
schema.config.checks.update(included_check_names=["all"])


def _whole(value: object, in_body: bool) -> int | None:
    """A year as the route reads it: digits in a query; in a JSON body also a number without a fraction
    (1959.0 is 1959, as streamlens.params.JSON_NUMBER reads it)."""
    if in_body and isinstance(value, float) and value.is_integer():
        return int(value)
    return int(value) if str(value).isdigit() else None


def broken_rule(case) -> str | None:
    """The parameter a request names in breaking a rule across parameters, which an OpenAPI document cannot
    state (the routes' descriptions say them): such a request is schema-valid and still a 400 by design."""
    body = case.body if isinstance(case.body, dict) else {}
    values = {**(case.query or {}), **body}
    low, high = (_whole(values.get(name), in_body=name in body) for name in ("year_min", "year_max"))
    if low is not None and high is not None and low > high:
        return "year_min"                                           # year_min after year_max
    if case.path == "/similar":
        by_text, by_id = values.get("title") is not None, values.get("title_id") is not None
        if by_text == by_id:
            return "title"                                          # exactly one of title and title_id
        if by_id and values.get("year") is not None:
            return "year"                                           # year narrows a title given as text
    return None


@pytest.fixture(scope="module")
def release(full_release):
    """A full release (streaming with a trained model, movies) behind the app."""
    with moto_bucket("fuzz-test") as (_, store):
        full_release.copy_into(store)
        index = ReleaseCache({"index": (slice_object_name("titles"), TitleIndex.from_bytes)}).get("index")
        yield [row[index.fields.index("id")] for row in index.rows]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_route_answers_within_its_documented_contract(case, release):
    if case.meta is not None and case.meta.generation.mode.is_positive:
        if (parameter := broken_rule(case)) is not None:
            response = case.call()
            assert response.status_code == 400 and response.json()["error"]["parameter"] == parameter, response.text
            return
        if case.path == "/recommendations" and isinstance(case.body, dict):
            # a visitor's ratings name titles of the catalog (an unknown id is a 400 naming `ratings`, by design):
            # schema-valid ids are swapped for distinct real ones, so the request is valid data
            for rating, title_id in zip(case.body.get("ratings") or [], release):
                if isinstance(rating, dict):
                    rating["title_id"] = title_id
    case.call_and_validate()
