"""What every browser test shares (tests/test_e2e_*.py, tests/test_scale_out.py): the app served by
``streamlit run``, headless Chromium, and what the tests read from a page. The ``browser`` and
``laptop`` fixtures (conftest.py) are built from ``launch_chromium`` and ``window``.

Playwright's own browser download does not work here, so the tests use the system Chromium at
/usr/bin/chromium. Without it (or axe-core) a test fails, saying what to install: .ci/run installs them all.

Every wait (each ``expect()``, navigation, server start) ends on what it waits for; the bounds are
only hang guards scaled to the machine's slowness (tests/patience.py), set once in ``new_context``.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import needs_installing, stop_process
from patience import guard_ms, guard_s
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"  # `npm ci` in tests/js
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
SERVER_START_GUARD_S = guard_s(20)  # hang guards only (tests/patience.py): a busy machine never reaches them
BROWSER_WAIT_GUARD_MS = guard_ms(10)  # for each browser wait and expect()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=guard_s(1)) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def wait_until_up(url: str, process: subprocess.Popen, log: Path,
                  answers: Callable[[str], bool] = _healthy) -> None:
    """Poll until ``url`` answers: fail at once if the server exits, or after a hang guard, with its output."""
    deadline = time.monotonic() + SERVER_START_GUARD_S
    while not answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            state = f"exited with {process.returncode}" if process.poll() is not None else "not answering"
            pytest.fail(f"{url}: {state} (hang guard {SERVER_START_GUARD_S:.0f} s); output:\n"
                        + log.read_text(errors="replace"))
        time.sleep(0.25)


def start_dashboard(port: int, log: Path, env: dict[str, str], *options: str) -> subprocess.Popen:
    """``streamlit run dashboard.py`` on 127.0.0.1:``port``, with ``env`` (FLOW_DB at least) added to the
    environment and further command-line ``options``; its output goes to ``log``."""
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", *options]
    with open(log, "wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=output,
                                stderr=subprocess.STDOUT)


def serve(db: Path, workdir: Path) -> Iterator[str]:
    """The dashboard on ``db``; yields the base URL once it answers, stops the server after."""
    port = free_port()
    log = workdir / "streamlit.log"
    server = start_dashboard(port, log, {"FLOW_DB": str(db)})
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base_url}/_stcore/health", server, log)
        yield base_url
    finally:
        stop_process(server)


def launch_chromium() -> Iterator[Browser]:
    """Headless Debian Chromium, closed after (the ``browser`` fixture's body)."""
    if not CHROMIUM.exists():
        needs_installing(f"Chromium at {CHROMIUM}", "apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              timeout=BROWSER_WAIT_GUARD_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_context(browser: Browser, **options) -> BrowserContext:  # noqa: ANN003
    """A browser context (``options`` as Playwright's ``new_context``) whose waits, navigations and
    ``expect()`` checks end on what they wait for, bounded only by a hang guard scaled to the machine."""
    expect.set_options(timeout=BROWSER_WAIT_GUARD_MS)
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_WAIT_GUARD_MS)
    context.set_default_navigation_timeout(BROWSER_WAIT_GUARD_MS)
    return context


def window(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A page in a new browser context of this window size, closed afterwards (the page fixtures' body)."""
    context = new_context(browser, viewport={"width": width, "height": height})
    try:
        yield context.new_page()
    finally:
        context.close()


def open_page(page: Page, base_url: str, path: str = "") -> Page:
    """Go to a page of the app and wait until its script has run without an exception."""
    page.goto(f"{base_url}/{path.lstrip('/')}")
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED")
    # The main block fills in once the script has run; then wait for the run to finish.
    expect(page.get_by_test_id("stMainBlockContainer").get_by_test_id("stElementContainer").first).to_be_attached()
    expect(app).to_have_attribute("data-test-script-state", "notRunning")
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, "the page raised: " + "\n".join(exceptions.all_inner_texts())
    return page


def settled(page: Page) -> None:
    """Not mid-rerun (Streamlit fades stale elements while a script runs, which axe would read as low contrast)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.locator("[data-stale='true']")).to_have_count(0)


def read_grid(page: Page, index: int = 0) -> list[list[str]]:
    """The header row and rendered rows of the index-th ``st.dataframe``, read from the grid's
    accessible table (the visible cells are drawn on a canvas; only the rows in view are in it)."""
    grid = page.get_by_test_id("stDataFrame").nth(index).locator('table[role="grid"]')
    expect(grid.locator('[role="gridcell"]').first).to_be_attached()
    return grid.evaluate("""table => Array.from(table.querySelectorAll('tr[role="row"]'),
        row => Array.from(row.querySelectorAll('[role="columnheader"], [role="gridcell"]'),
                          cell => cell.textContent.trim()))""")


def read_weekly_table(page: Page) -> list[list[str]]:
    """The weekly table's header row and rows as text (it is real HTML: text in the page)."""
    table = page.locator("table.wt")
    expect(table).to_be_visible()
    return table.evaluate("""table => Array.from(table.querySelectorAll('tr'),
        row => Array.from(row.querySelectorAll('th, td'), cell => cell.innerText.replace(/\\s+/g, ' ').trim()))""")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png and check it is not empty."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 10_000, f"screenshot {path} missing or near empty"
    return path


# The words of each element that the layout broke across lines (a word's range drawn as more than one box).
BROKEN_WORDS_JS = """elements => elements.flatMap(element => {
    const broken = [], walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            if (range.getClientRects().length > 1) broken.push(match[0]);
        }
    }
    return broken;
})"""


def axe_violations(page: Page) -> list[str]:
    """Serious and critical WCAG 2.2 A/AA violations axe-core finds on the page as it is now."""
    if not AXE.exists():
        needs_installing("axe-core", f"cd {AXE.parents[2]} && npm ci")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})).violations""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(f"{n['target'][0]} {n['html'][:160]} ({n['failureSummary'][:160]})" for n in v["nodes"][:3])
            for v in result if v["impact"] in ("serious", "critical")]


def contrast_on_white(rgb: str) -> float:
    """WCAG's contrast ratio of a CSS ``rgb(...)`` colour on white."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(int(v)) for v in re.findall(r"\d+", rgb)[:3])
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)
