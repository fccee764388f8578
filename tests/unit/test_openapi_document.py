"""The OpenAPI document is a contract: the combined app's (served by the docs function at /openapi.json) and
each function's own app's equal the copy saved in tests/data/openapi.json. A change to a route, a parameter, a
response model or an error status shows here; when it is meant, regenerate the copy:

    python -m tests.unit.test_openapi_document
"""

from __future__ import annotations

import json

import pytest

from streamlens.combined_app import FUNCTIONS, build_app, load_handler
from tests.helpers import SAVED

DOCUMENT = SAVED / "openapi.json"
FUNCTION_APPS = (*FUNCTIONS, "docs")


def documents() -> dict:
    return {"combined": build_app().openapi(),
            "functions": {name: load_handler(name).app.openapi() for name in sorted(FUNCTION_APPS)}}


def dump(value: dict) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def saved() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current() -> dict:
    return json.loads(dump(documents()))     # through JSON, as served: tuples become lists


def test_the_combined_openapi_document_is_unchanged(saved, current):
    assert current["combined"] == saved["combined"]


@pytest.mark.parametrize("name", sorted(FUNCTION_APPS))
def test_each_functions_openapi_document_is_unchanged(saved, current, name):
    assert current["functions"][name] == saved["functions"][name]


def test_every_function_is_in_the_saved_copy(saved):
    assert sorted(saved["functions"]) == sorted(FUNCTION_APPS)


if __name__ == "__main__":
    DOCUMENT.write_text(dump(documents()), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
