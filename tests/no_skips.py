"""pytest plugin: a skipped test fails the run.

branchwatch's tests have no optional parts: a test skipped because PostgreSQL, Chromium, FFmpeg
or a model is missing means the machine is not set up, which must not pass as green.
"""

from __future__ import annotations

import pytest

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped; every dependency must be installed "
            "(run .ci/run): " + ", ".join(_skipped[:10]),
            red=True,
        )
