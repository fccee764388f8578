"""Every test keeps its own node id (tests/node_ids.py), so that the suite's workers (pytest-xdist, which
schedules by id) run each one: items made as schemathesis makes its per-route items, without a callspec."""

from __future__ import annotations

import pytest

from tests.helpers import REPO

# Three items of one function, named per route the way schemathesis names them; each records that it ran.
PLUGIN = """
import pytest

ROUTES = ("GET /a", "GET /b", "POST /c")


class PerRoute(pytest.Function):
    pass


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(collector, name, obj):
    result = yield
    if name != "test_route":
        return result
    return [PerRoute.from_parent(collector, name=f"{name}[{route}]", callobj=obj, originalname=name)
            for route in ROUTES]
"""
SUITE = """
import os

def test_route(request):
    with open(os.environ["RAN_FILE"], "a") as ran:
        ran.write(request.node.name + "\\n")

def test_other():
    pass
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("RAN_FILE", str(pytester.path / "ran.txt"))
    pytester.makeconftest(PLUGIN)
    pytester.makepyfile(test_routes=SUITE)
    return pytester


def _ran(pytester) -> list[str]:
    return sorted((pytester.path / "ran.txt").read_text().splitlines())


def test_items_without_a_callspec_keep_their_routes_in_their_ids_and_all_run_on_workers(suite):
    collected = suite.runpytest_subprocess("-p", "tests.node_ids", "--collect-only", "-q")
    collected.stdout.fnmatch_lines(["test_routes.py::test_route[[]GET /a[]]", "test_routes.py::test_route[[]GET /b[]]",
                                    "test_routes.py::test_route[[]POST /c[]]", "test_routes.py::test_other"])
    result = suite.runpytest_subprocess("-p", "tests.node_ids", "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=4)
    assert _ran(suite) == ["test_route[GET /a]", "test_route[GET /b]", "test_route[POST /c]"]


def test_without_the_plugin_the_workers_lose_all_but_one(suite):
    """What tests/node_ids.py prevents, shown on the same suite: one of the three routes runs."""
    result = suite.runpytest_subprocess("-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=2)
    assert len(_ran(suite)) == 1


def test_any_other_shared_id_stops_the_run_naming_it(suite):
    suite.makeconftest(PLUGIN.replace('name=f"{name}[{route}]"', "name=name"))
    result = suite.runpytest_subprocess("-p", "tests.node_ids")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*same node id would run once under xdist*test_routes.py::test_route*"])
