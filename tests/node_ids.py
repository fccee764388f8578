"""One node id per test, which pytest-xdist needs: it schedules tests by id, so items sharing one would run
once (make test runs the suite on workers)."""

from __future__ import annotations

from collections import Counter

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest 9 the items schemathesis makes per route (tests/integration/test_fuzz.py) all carry their
    function's id (pytest builds it from a callspec they do not have): each gets the id its name states, with
    the route. Any other duplicate stops the run rather than losing tests."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        base = getattr(item, "originalname", item.name)
        if counts[item.nodeid] > 1 and item.name.startswith(f"{base}[") and item.name.endswith("]"):
            # pytest's own attribute (no public setter); if it moves, the check below fails the run loudly
            item._id = item.parent.id.child(base).with_params(item.name[len(base) + 1:-1])
    duplicated = sorted(nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1)
    if duplicated:
        raise pytest.UsageError(f"tests with the same node id would run once under xdist: {duplicated}")
