"""Under CI=true a skipped test fails the run: a wrong data path, a failed Chromium install or a broken
package install must not turn tests into skips that pass CI with nothing run. Locally, skips stay skips,
each with its message."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if not in_ci():
        return
    reporter.ensure_newline()
    reporter.write_line(f"CI: {len(skipped)} skipped test(s)")
    if skipped:
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reporter.write_line(f"  skipped in CI: {report.nodeid}: {reason}")
        reporter.write_line("CI: a skip fails the run (see tests/ci_skips.py); fix what the reasons say is missing")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
