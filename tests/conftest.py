"""Fixtures: a temporary database, the tests' own reference data (tests/fixtures/reference), and for the
browser tests headless Chromium (``browser``, one per test module) and a 1366x768 page of it (``laptop``).
Hooks: under CI (environment variable CI set) a skipped test fails instead, since CI must run every
test; hypothesis has no per-example deadline (a busy machine is slow, not broken); the end of the
session prints the suite's wall time and the load average, to tell a quiet run from a busy one.

Shared helpers (rows, files, queries) are in tests/helpers.py: ``from helpers import ...``; hang
guards that scale with the machine are in tests/patience.py; the served app and what the browser tests
read from a page in tests/browser_fixtures.py (imported only by them: Playwright loads only for them).
"""
from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers import REFERENCE_FIXTURES, in_ci
from hypothesis import settings
from patience import measured_slowness

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

settings.register_profile("any_machine", deadline=None)
settings.load_profile("any_machine")

_STARTED: list[float] = []


@pytest.fixture(autouse=True)
def reference_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test reads the tests' own trusts and ambitions, never reference_data/ (which users edit)."""
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(REFERENCE_FIXTURES))
    return REFERENCE_FIXTURES


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database path, also set as $FLOW_DB for code that reads the default."""
    path = tmp_path / "flow.duckdb"
    monkeypatch.setenv("FLOW_DB", str(path))
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, shared by one module's browser tests."""
    from browser_fixtures import launch_chromium  # noqa: PLC0415  (Playwright only where a test uses it)
    yield from launch_chromium()


@pytest.fixture
def laptop(browser: Browser) -> Iterator[Page]:
    """A page in a 1366x768 window (a place lead's laptop, a meeting room's projector), closed after the test."""
    from browser_fixtures import window  # noqa: PLC0415  (Playwright only where a test uses it)
    yield from window(browser, 1366, 768)


def _fail_skips_under_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every test must run: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, pytest.TestReport,
                                                                                        pytest.TestReport]:
    report = yield
    _fail_skips_under_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport,
                                                                          pytest.CollectReport]:
    report = yield  # a module that skips itself as it is imported
    _fail_skips_under_ci(report)
    return report


def pytest_sessionstart(session: pytest.Session) -> None:
    _STARTED.append(time.monotonic())


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The suite's duration with how busy the machine was, so a duration can be read as quiet or busy."""
    one, five, fifteen = os.getloadavg()
    terminalreporter.write_line(
        f"suite wall time {time.monotonic() - _STARTED[0]:.0f} s; load average {one:.1f} (1 min), {five:.1f} (5 min), "
        f"{fifteen:.1f} (15 min) on {os.cpu_count()} cores; CPU workload {measured_slowness():.1f}x its quiet time")
