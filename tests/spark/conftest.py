"""Spark tests: local mode (local[2]), marked `spark`, skipped with what to install where Java or pyspark
is missing (CI installs both: .ci/run)."""

from __future__ import annotations

import pytest

from etl_job.spark.session import get_session, spark_missing


def pytest_collection_modifyitems(items) -> None:
    reason = spark_missing()
    for item in items:
        if "tests/spark/" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("spark/"):
            item.add_marker(pytest.mark.spark)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def spark():
    session = get_session("local[2]", app_name="streamlens-tests")
    yield session
    session.stop()
