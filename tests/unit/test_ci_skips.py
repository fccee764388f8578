"""CI never goes green by skipping (tests/ci_skips.py)."""

from __future__ import annotations

import pytest

from tests.helpers import REPO

SUITE = """
import pytest

def test_runs():
    assert True

def test_needs_data():
    pytest.skip("real data not found at /nowhere")
"""


@pytest.mark.parametrize("ci, code", [("true", pytest.ExitCode.TESTS_FAILED), ("", pytest.ExitCode.OK)])
def test_a_skip_fails_the_run_in_ci_and_stays_a_skip_locally(pytester, monkeypatch, ci, code):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-p", "tests.ci_skips")
    assert result.ret == code
    result.assert_outcomes(passed=1, skipped=1)
    if ci:
        result.stdout.fnmatch_lines(["CI: 1 skipped test(s)", "*skipped in CI:*test_needs_data*/nowhere*"])
