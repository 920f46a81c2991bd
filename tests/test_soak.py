"""Soak (issue 14, item 8): one ``streamlit run dashboard.py`` server, several browser sessions that
keep loading the weekly, trust and data quality pages while ``python -m pipelines ingest`` swaps
the database file under them again and again.

It fails on a hang, not only on an error. A hang is told by lack of progress, never by the clock (a
busy machine is slow, not hung): the server's ``/_stcore/health`` is polled throughout by its own
thread, and a page load or an ingest that does not end while the server answers HANG_TICKS health
checks is a hang (the server is working, that session or ingest is not). Every health check must be
answered, the server process must still be alive at the end, and the run is bounded in rounds.
Any exception shown on a page (``stException``) or a "Traceback" in its text fails it too.
(A run of 10 sessions during swaps once deadlocked the server: Polars workers waiting for the GIL.)
``test_a_page_that_hangs_is_reported`` and ``test_an_ingest_that_hangs_is_reported`` show the checks
fail on an injected hang (issue 22 item 10).

The server and the browser are tests/browser_fixtures.py's, so this fails under the same conditions
as every browser test: without Chromium, saying what to install.
"""
from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser_fixtures import ROOT, new_context, serve
from helpers import load_rows_directly, week_of_rows, write_csv
from patience import guard_ms, guard_s
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

SESSIONS = 5
ROUNDS = 3  # each session loads each of the three pages once per round
PAGES = ("", "trust?trust=RCD", "data-quality")  # weekly position, trust drill-down, data quality
HANG_TICKS = 120  # health checks answered (one every half second or slower) while a page or ingest did not end
HEALTH_TIMEOUT_S = guard_s(2)  # a health check not answered at all within this (a hang guard scaled to the
# machine, tests/patience.py) is a failure: a dead or wedged server
NAVIGATION_TIMEOUT_MS = guard_ms(4)  # Playwright's own limit on starting a navigation: a hang guard too
MAX_INGESTS = 40  # at most this many swaps in all (about one every 5 s)
FIRST_DAY = date(2024, 4, 15)  # after the fixture's two weeks, one new day per ingest


@pytest.fixture(scope="module")
def soak_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Harrogate for the weeks ending 7 and 14 April 2024, served by one dashboard."""
    workdir = tmp_path_factory.mktemp("soak")
    db = workdir / "flow.duckdb"
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=90, los_7plus=36))
    for url in serve(db, workdir):
        yield db, url


class Hang(AssertionError):
    """A page load or an ingest made no progress while the server kept answering."""


class HealthWatch(threading.Thread):
    """Polls the server's health check until stopped; keeps every failure and the slowest answer. Each
    check (answered or not) is a tick of the clock hangs are measured by (``wait_until``)."""

    def __init__(self, url: str, interval_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.url, self.interval_s, self.stop, self.slowest = f"{url}/_stcore/health", interval_s, threading.Event(), 0.0
        self.failures: list[str] = []
        self.ticks = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval_s):
            start = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=HEALTH_TIMEOUT_S) as answer:
                    body = answer.read().strip()
                if body != b"ok":
                    self.failures.append(f"health answered {body!r}")
            except OSError as error:
                self.failures.append(f"no health answer within {HEALTH_TIMEOUT_S} s: {error}")
            self.slowest = max(self.slowest, time.monotonic() - start)
            self.ticks += 1


def wait_until(done: Callable[[], bool], clock: HealthWatch, what: str, patience: int = HANG_TICKS) -> None:
    """Wait for ``done()``; Hang when the server meanwhile answered ``patience`` health checks (it is
    working, so whatever ``done`` waits for is stuck), or when the health watch itself stopped."""
    start = clock.ticks
    while not done():
        if clock.ticks - start >= patience:
            raise Hang(f"{what}: no progress while the server answered {patience} health checks")
        if not clock.is_alive():
            raise Hang(f"{what}: the health watch stopped, so progress can no longer be told")
        time.sleep(0.1)


class Swapper(threading.Thread):
    """Ingests one new day of Harrogate after another until stopped (or MAX_INGESTS): each swaps the file."""

    def __init__(self, db: Path, workdir: Path, clock: HealthWatch, patience: int = HANG_TICKS) -> None:
        super().__init__(daemon=True)
        self.db, self.workdir, self.clock, self.patience, self.stop = db, workdir, clock, patience, threading.Event()
        self.swaps = 0
        self.failures: list[str] = []

    def command(self, csv: Path) -> list[str]:
        return [sys.executable, "-m", "pipelines", "ingest", str(csv), "--db", str(self.db)]

    def run(self) -> None:
        for number in range(MAX_INGESTS):
            if self.stop.is_set():
                return
            day = FIRST_DAY + timedelta(days=number)
            csv = write_csv(self.workdir / f"harrogate_{day.isoformat()}.csv",
                            week_of_rows("RCD", day, ga_beds_occupied=90, los_7plus=30 + number)[:1])
            inode = self.db.stat().st_ino
            with subprocess.Popen(self.command(csv), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) as ingest:
                try:
                    wait_until(lambda ingest=ingest: ingest.poll() is not None, self.clock, f"ingest of {csv.name}",
                               self.patience)
                except Hang as hang:
                    ingest.kill()
                    self.failures.append(str(hang))
                    return
                output = ingest.stdout.read() if ingest.stdout else ""
            if ingest.returncode != 0:
                self.failures.append(f"ingest of {csv.name} exited {ingest.returncode}: {output}")
            elif self.db.stat().st_ino == inode:
                self.failures.append(f"ingest of {csv.name} did not swap the file")
            else:
                self.swaps += 1


def start_loading(page: Page, url: str) -> None:
    """Navigate without waiting, so every session's script runs on the server at the same time."""
    page.goto(url, wait_until="commit", timeout=NAVIGATION_TIMEOUT_MS)


_LOADED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && !!document.querySelector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]')
        && app.getAttribute('data-test-script-state') === 'notRunning';
}"""


def loaded(page: Page) -> bool:
    """Connected, something drawn and the page's script finished (asked once, without waiting)."""
    try:
        return bool(page.evaluate(_LOADED))
    except PlaywrightError:  # the document is still being replaced by the navigation
        return False


def finish_loading(page: Page, what: str, clock: HealthWatch, patience: int = HANG_TICKS) -> None:
    """Wait until the page's script has run (Hang when it makes no progress), then fail on any exception
    shown."""
    wait_until(lambda: loaded(page), clock, what, patience)
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, f"{what} raised: " + "\n".join(exceptions.all_inner_texts())
    assert "Traceback" not in page.locator("body").inner_text(), f"{what} shows a traceback"


def test_sessions_keep_loading_pages_while_ingests_swap_the_database(
        soak_server: tuple[Path, str], browser: Browser, tmp_path: Path) -> None:
    db, url = soak_server
    server = server_process(url)
    contexts = [new_context(browser, viewport={"width": 1366, "height": 768}) for _ in range(SESSIONS)]
    health = HealthWatch(url)
    swapper = Swapper(db, tmp_path, health)
    health.start()
    swapper.start()
    started, loads = time.monotonic(), 0
    try:
        pages = [context.new_page() for context in contexts]
        for context in contexts:
            context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        for round_number in range(ROUNDS):
            for step in range(len(PAGES)):
                # the sessions are spread over the three pages at once, and each visits all three per round
                paths = [PAGES[(step + session) % len(PAGES)] for session in range(SESSIONS)]
                for page, path in zip(pages, paths, strict=True):
                    start_loading(page, f"{url}/{path}")
                for session, (page, path) in enumerate(zip(pages, paths, strict=True)):
                    finish_loading(page, f"session {session}, round {round_number}, page /{path}", health)
                    loads += 1
                assert not health.failures, health.failures
    finally:
        swapper.stop.set()
        try:
            wait_until(lambda: not swapper.is_alive(), health, "the last ingest")
        finally:
            health.stop.set()
            health.join()
            for context in contexts:
                context.close()
    assert not swapper.failures, swapper.failures
    assert swapper.swaps >= 1, "no ingest swapped the file during the soak, so nothing was tested"
    assert not health.failures, health.failures
    assert alive(server), "the server process died"
    assert _health_ok(url), "the server stopped answering"
    assert loads == SESSIONS * ROUNDS * len(PAGES)
    print(f"soak: {loads} page loads by {SESSIONS} sessions, {swapper.swaps} swaps, "
          f"{time.monotonic() - started:.0f} s, slowest health answer {health.slowest:.2f} s")


def server_process(url: str) -> Path:
    """The /proc entry of the ``streamlit run`` serving ``url`` (browser_fixtures.serve keeps its Popen)."""
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
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=HEALTH_TIMEOUT_S) as answer:
            return answer.read().strip() == b"ok"
    except OSError:
        return False


# ---- the checks fail on an injected hang ----

class _HealthOnly(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the handler's name is http.server's)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[HealthWatch]:
    """A stand-in server that answers its health check (the server working) and a watch polling it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HealthOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    health = HealthWatch(f"http://127.0.0.1:{server.server_address[1]}", interval_s=0.05)
    health.start()
    yield health
    health.stop.set()
    health.join()
    server.shutdown()
    server.server_close()


def test_a_page_that_hangs_is_reported(answering: HealthWatch, browser: Browser) -> None:
    page = browser.new_page()
    try:  # a page whose script never ends, as a deadlocked session's would
        page.set_content('<div data-testid="stApp" data-test-connection-state="CONNECTED" '
                         'data-test-script-state="running"><div data-testid="stMainBlockContainer">'
                         '<div data-testid="stElementContainer">Weekly position</div></div></div>')
        with pytest.raises(Hang, match="the hanging page: no progress while the server answered 20 health checks"):
            finish_loading(page, "the hanging page", answering, patience=20)
        page.evaluate("document.querySelector('[data-testid=stApp]')"
                      ".setAttribute('data-test-script-state', 'notRunning')")
        finish_loading(page, "the same page, its script ended", answering, patience=20)  # passes once it ends
    finally:
        page.close()
    assert not answering.failures


def test_an_ingest_that_hangs_is_reported(answering: HealthWatch, tmp_path: Path) -> None:
    class HangingIngest(Swapper):
        def command(self, csv: Path) -> list[str]:
            return [sys.executable, "-c", "import threading; threading.Event().wait()"]

    db = tmp_path / "flow.duckdb"
    db.write_bytes(b"")
    swapper = HangingIngest(db, tmp_path, answering, patience=20)
    swapper.start()
    wait_until(lambda: not swapper.is_alive(), answering, "the swapper giving up", patience=400)
    assert swapper.failures == ["ingest of harrogate_2024-04-15.csv: no progress while the server answered 20 "
                                "health checks"]
    assert swapper.swaps == 0
