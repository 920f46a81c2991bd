"""Soak (issue 14, item 8): one ``streamlit run dashboard.py`` server, several browser sessions that
keep loading the weekly, trust and data quality pages while ``python -m pipelines ingest`` swaps
the database file under them again and again.

It fails on a hang, not only on an error: every page load and wait, and the server's
``/_stcore/health`` answer (checked throughout by its own thread), is bounded by a hang guard that
scales with the machine's slowness (tests/patience.py: a busy machine is slow, never failed), the
server process must still be alive at the end, and the whole run is bounded in rounds and by a guard.
The rounds go on until at least one ingest has swapped the file while sessions were loading pages.
Any exception shown on a page (``stException``) or a "Traceback" in its text fails it too.
(A run of 10 sessions during swaps once deadlocked the server: Polars workers waiting for the GIL.)

The server, the browser and the page checks are test_e2e_browser's, so this fails under the same
conditions: without Chromium, saying what to install.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import load_rows_directly, week_of_rows, write_csv
from patience import guard_s
from test_e2e_browser import ROOT, Browser, Page, _serve, browser, expect, new_context  # fails without Chromium

__all__ = ["browser"]  # the Chromium fixture, shared with test_e2e_browser

SESSIONS = 5
ROUNDS = 3  # at least; each session loads each of the three pages once per round
PAGES = ("", "trust?trust=RCD", "data-quality")  # weekly position, trust drill-down, data quality
HEALTH_GUARD_S = guard_s(1)  # hang guards (tests/patience.py): a deadlocked server never answers
INGEST_GUARD_S = guard_s(5)
MAX_INGESTS = 40  # at most this many swaps in all (about one every 5 s on a quiet machine)
SOAK_GUARD_S = guard_s(60)  # the whole loop, as a last guard against a hang the waits' own guards miss
FIRST_DAY = date(2024, 4, 15)  # after the fixture's two weeks, one new day per ingest


@pytest.fixture(scope="module")
def soak_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Harrogate for the weeks ending 7 and 14 April 2024, served by one dashboard."""
    workdir = tmp_path_factory.mktemp("soak")
    db = workdir / "flow.duckdb"
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=90, los_7plus=36))
    for url in _serve(db, workdir):
        yield db, url


class HealthWatch(threading.Thread):
    """Polls the server's health check until stopped; keeps every failure and the slowest answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.slowest = f"{url}/_stcore/health", threading.Event(), 0.0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.wait(0.5):
            start = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=HEALTH_GUARD_S) as answer:
                    body = answer.read().strip()
                if body != b"ok":
                    self.failures.append(f"health answered {body!r}")
            except OSError as error:
                self.failures.append(f"no health answer within {HEALTH_GUARD_S:.0f} s (a hang guard): {error}")
            self.slowest = max(self.slowest, time.monotonic() - start)


class Swapper(threading.Thread):
    """Ingests one new day of Harrogate after another until stopped (or MAX_INGESTS): each swaps the file."""

    def __init__(self, db: Path, workdir: Path) -> None:
        super().__init__(daemon=True)
        self.db, self.workdir, self.stop = db, workdir, threading.Event()
        self.swaps = 0
        self.failures: list[str] = []

    def run(self) -> None:
        for number in range(MAX_INGESTS):
            if self.stop.is_set():
                return
            day = FIRST_DAY + timedelta(days=number)
            csv = write_csv(self.workdir / f"harrogate_{day.isoformat()}.csv",
                            week_of_rows("RCD", day, ga_beds_occupied=90, los_7plus=30 + number)[:1])
            inode = self.db.stat().st_ino
            try:
                done = subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(csv), "--db", str(self.db)],
                                      cwd=ROOT, capture_output=True, text=True, timeout=INGEST_GUARD_S, check=False)
            except subprocess.TimeoutExpired:
                self.failures.append(f"ingest of {csv.name} not finished after {INGEST_GUARD_S:.0f} s (a hang guard)")
                return
            if done.returncode != 0:
                self.failures.append(f"ingest of {csv.name} exited {done.returncode}: {done.stdout}{done.stderr}")
            elif self.db.stat().st_ino == inode:
                self.failures.append(f"ingest of {csv.name} did not swap the file")
            else:
                self.swaps += 1


def start_loading(page: Page, url: str) -> None:
    """Navigate without waiting, so every session's script runs on the server at the same time."""
    page.goto(url, wait_until="commit")


def finish_loading(page: Page, what: str) -> None:
    """Wait (to a hang guard, new_context's) until the page's script has run, then fail on any exception shown."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED")
    expect(page.get_by_test_id("stMainBlockContainer").get_by_test_id("stElementContainer").first).to_be_attached()
    expect(app).to_have_attribute("data-test-script-state", "notRunning")
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, f"{what} raised: " + "\n".join(exceptions.all_inner_texts())
    assert "Traceback" not in page.locator("body").inner_text(), f"{what} shows a traceback"


def test_sessions_keep_loading_pages_while_ingests_swap_the_database(
        soak_server: tuple[Path, str], browser: Browser, tmp_path: Path) -> None:
    db, url = soak_server
    server = server_process(url)
    contexts = [new_context(browser, viewport={"width": 1366, "height": 768}) for _ in range(SESSIONS)]
    health, swapper = HealthWatch(url), Swapper(db, tmp_path)
    health.start()
    swapper.start()
    started, loads, rounds = time.monotonic(), 0, 0
    try:
        pages = [context.new_page() for context in contexts]
        # ROUNDS at least, and on until an ingest has swapped the file while pages were loading (on a
        # busy machine the first ingest, paying the Great Expectations import, can outlast ROUNDS)
        while rounds < ROUNDS or swapper.swaps == 0:
            round_number, rounds = rounds, rounds + 1
            for step in range(len(PAGES)):
                # the sessions are spread over the three pages at once, and each visits all three per round
                paths = [PAGES[(step + session) % len(PAGES)] for session in range(SESSIONS)]
                for page, path in zip(pages, paths, strict=True):
                    start_loading(page, f"{url}/{path}")
                for session, (page, path) in enumerate(zip(pages, paths, strict=True)):
                    finish_loading(page, f"session {session}, round {round_number}, page /{path}")
                    loads += 1
                assert time.monotonic() - started < SOAK_GUARD_S, f"the soak took over {SOAK_GUARD_S:.0f} s: a hang?"
                assert not health.failures, health.failures
            assert swapper.is_alive() or swapper.swaps, f"no ingest swapped the file: {swapper.failures}"
    finally:
        swapper.stop.set()
        swapper.join(INGEST_GUARD_S)
        health.stop.set()
        health.join(HEALTH_GUARD_S)
        for context in contexts:
            context.close()
    assert not swapper.is_alive(), "the last ingest did not finish"
    assert not swapper.failures, swapper.failures
    assert swapper.swaps >= 1, "no ingest swapped the file during the soak, so nothing was tested"
    assert not health.failures, health.failures
    assert alive(server), "the server process died"
    assert _health_ok(url), "the server stopped answering"
    assert loads == SESSIONS * rounds * len(PAGES)
    print(f"soak: {loads} page loads by {SESSIONS} sessions, {swapper.swaps} swaps, "
          f"{time.monotonic() - started:.0f} s, slowest health answer {health.slowest:.2f} s")


def server_process(url: str) -> Path:
    """The /proc entry of the ``streamlit run`` serving ``url`` (test_e2e_browser's _serve keeps its Popen)."""
    port = url.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in command and port.encode() in command and b"dashboard.py" in command:
            return entry
    raise AssertionError(f"no streamlit process serving port {port}")


def alive(process: Path) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        return (process / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=HEALTH_GUARD_S) as answer:
            return answer.read().strip() == b"ok"
    except OSError:
        return False
