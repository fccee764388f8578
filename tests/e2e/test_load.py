"""The local run under a bounded load from a second process (bench/load_test.py, `make load`, at a small
size): every route, 32 connections, no 5xx and no failed request. Throughput and latency are benchmark
figures (docs/reliability.md), not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO

# On two test workers under coverage, 1 request in 600 once met a connection reset (ReadError on /catalog),
# never seen with the machine otherwise loaded by busy loops (9,200 requests): the load runs alone.
pytestmark = pytest.mark.alone


def test_the_local_run_takes_a_bounded_load_from_another_process_without_errors(site, tmp_path):
    """bench/load_test.py (make load) at a small size: every route, 32 connections, no 5xx, no failure."""
    script = REPO / "bench" / "load_test.py"
    output = tmp_path / "load.json"
    run = subprocess.run([sys.executable, str(script), "--base", site[0], "--requests", "600", "--concurrency", "32",
                          "--output", str(output)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    [level] = json.loads(output.read_text())["levels"]
    assert level["errors"] == 0 and sum(level["status_counts"].values()) == 600
    assert not any(code.startswith("5") for code in level["status_counts"])
