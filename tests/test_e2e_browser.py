"""End to end: the real app served by ``streamlit run``, viewed in headless Chromium: the weekly
table's layout at 1366x768 on the sample data, and axe-core (WCAG 2.2 AA) on every page.

The AppTest tests in test_pages.py check what each page computes; this one checks that the served
app renders it in a browser. Playwright's own browser download does not work here, so the test uses
the system Chromium at /usr/bin/chromium. Without it (or axe-core, or pdftotext) the tests fail,
saying what to install: .ci/run installs them all.

Every wait (each ``expect()``, navigation, server start) ends on what it waits for; the bounds are
only hang guards scaled to the machine's slowness (tests/patience.py), set once in ``new_context``.

``st.dataframe`` draws its cells on a canvas (glide data grid), but the grid also keeps an
accessible ``<table role="grid">`` inside the canvas element with the rendered rows and column
headers; ``read_grid`` reads that. Note the grid is virtualised: only rows in view are in it.

To cover another page, add a test that calls ``open_page(browser, streamlit_app, "<url path>")``,
waits for what it needs, reads it and calls ``screenshot(page, "<name>")``.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from helpers import load_rows_directly, needs_installing, sitrep_row, stop_process, trust_table, week_of_rows, write_csv
from patience import guard_ms, guard_s
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from pipelines.ingest.load import ensure_database
from pipelines.reports.meeting_html import table_html
from pipelines.warehouse import open_for_write

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"  # `npm ci` in tests/js
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
SERVER_START_GUARD_S = guard_s(20)  # hang guards only (tests/patience.py): a busy machine never reaches them
BROWSER_WAIT_GUARD_MS = guard_ms(10)  # for each browser wait and expect()



def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=guard_s(1)) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def wait_until_up(url: str, process: subprocess.Popen, log: Path, answers=_healthy) -> None:  # noqa: ANN001
    """Poll until ``url`` answers: fail at once if the server exits, or after a hang guard, with its output."""
    deadline = time.monotonic() + SERVER_START_GUARD_S
    while not answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            state = f"exited with {process.returncode}" if process.poll() is not None else "not answering"
            pytest.fail(f"{url}: {state} (hang guard {SERVER_START_GUARD_S:.0f} s); output:\n"
                        + log.read_text(errors="replace"))
        time.sleep(0.25)


def new_context(browser: Browser, **options) -> BrowserContext:  # noqa: ANN003
    """A browser context (``options`` as Playwright's ``new_context``) whose waits, navigations and
    ``expect()`` checks end on what they wait for, bounded only by a hang guard scaled to the machine."""
    expect.set_options(timeout=BROWSER_WAIT_GUARD_MS)
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_WAIT_GUARD_MS)
    context.set_default_navigation_timeout(BROWSER_WAIT_GUARD_MS)
    return context


APP_DB: list[Path] = []  # the database streamlit_app serves, for a test that adds to it


def _serve(db: Path, workdir: Path) -> Iterator[str]:
    """``streamlit run dashboard.py`` on ``db``; yields the base URL, stops the server after."""
    port = _free_port()
    log_path = workdir / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py",
               "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "FLOW_DB": str(db)},
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base_url}/_stcore/health", server, log_path)
        yield base_url
    finally:
        stop_process(server)


@pytest.fixture(scope="module")
def streamlit_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a known database; yields the base URL.

    Harrogate (RCD): 90 beds occupied, 45 then 36 with LoS 7+ days, so stranded 50.0% in the week
    ending 7 April 2024 and 40.0% in the week ending 14 April 2024.
    """
    workdir = tmp_path_factory.mktemp("e2e")
    db = workdir / "flow.duckdb"
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=90, los_7plus=36))
    APP_DB.append(db)
    yield from _serve(db, workdir)


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the bundled sample data (13 trusts), as a new user first sees it."""
    workdir = tmp_path_factory.mktemp("e2e-sample")
    db = workdir / "flow.duckdb"
    ensure_database(db)
    yield from _serve(db, workdir)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        needs_installing(f"Chromium at {CHROMIUM}", "apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              timeout=BROWSER_WAIT_GUARD_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def window(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A page in a new browser context of this window size, closed afterwards (the browser fixtures' body)."""
    context = new_context(browser, viewport={"width": width, "height": height})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from window(browser, 1400, 900)


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


def read_grid(page: Page, index: int = 0) -> list[list[str]]:
    """The header row and rendered rows of the index-th ``st.dataframe``, read from the grid's
    accessible table (the visible cells are drawn on a canvas)."""
    grid = page.get_by_test_id("stDataFrame").nth(index).locator('table[role="grid"]')
    expect(grid.locator('[role="gridcell"]').first).to_be_attached()
    return grid.evaluate("""table => Array.from(table.querySelectorAll('tr[role="row"]'),
        row => Array.from(row.querySelectorAll('[role="columnheader"], [role="gridcell"]'),
                          cell => cell.textContent.trim()))""")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png and check it is not empty."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 10_000, f"screenshot {path} missing or near empty"
    return path


def read_weekly_table(page: Page) -> list[list[str]]:
    """The weekly table's header row and rows as text (it is real HTML: text in the page)."""
    table = page.locator("table.wt")
    expect(table).to_be_visible()
    return table.evaluate("""table => Array.from(table.querySelectorAll('tr'),
        row => Array.from(row.querySelectorAll('th, td'), cell => cell.innerText.replace(/\\s+/g, ' ').trim()))""")


def test_weekly_position_in_the_browser(streamlit_app: str, page: Page) -> None:
    open_page(page, streamlit_app)
    expect(page.get_by_role("heading", name="Weekly position")).to_be_visible()
    expect(page.get_by_role("combobox", name="Week ending (Sunday)")).to_have_value("Sun 14/04/2024")
    expect(page.get_by_text("Monday 08/04/2024 to Sunday 14/04/2024")).to_be_visible()

    header, *rows = read_weekly_table(page)
    assert header == ["Metric", "Ambition", "Combined", "Harrogate"]
    by_metric = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    stranded = by_metric["Stranded 7+ days"]
    assert stranded["Ambition"] == "< 40%"
    # down and better than last week (the arrow asked for as text); two weeks: a run chart, no SPC mark
    assert stranded["Harrogate"] == "40% ! ↓\ufe0e", stranded
    # the long words are the cell's tooltip and accessible name, and the cell opens the drill-down
    cell = page.locator("table.wt a.wt-cell[title^='Harrogate, Stranded 7+ days: 40.0%.']")
    expect(cell).to_have_attribute("title", re.compile(r"10\.0 pts better than last week \(50\.0%\)"))
    expect(cell).to_have_accessible_description(re.compile(r"^Harrogate, Stranded 7\+ days: 40\.0%\."))
    cell.focus()  # reachable by keyboard
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Harrogate (RCD)")).to_be_visible()
    assert "metric=stranded_7plus_pct" in page.url

    screenshot(page, "weekly_position")


def test_home_page_shows_every_trust_side_by_side_at_1366x768(sample_app: str, browser: Browser) -> None:
    """A laptop or a meeting-room projector: all 13 trusts of the sample readable without scrolling sideways,
    the trusts' header row on the first screen, and no name broken mid-word ("Calderdal / e"): no sidebar
    takes a fifth of the width (the page list is across the top, the sign-in mode one line)."""
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        page = open_page(context.new_page(), sample_app)
        headers = page.locator("table.wt thead th")
        expect(headers.first).to_be_visible()
        names = [t.strip() for t in headers.all_inner_texts()][3:]  # after Metric, Ambition, Combined
        assert len(names) == 13, names
        for th in headers.all():
            box = th.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1366, (th.inner_text(), box)
            assert box["y"] < 768, (th.inner_text(), box)
        expect(page.get_by_test_id("stSidebar")).to_have_count(0)
        assert headers.evaluate_all(BROKEN_WORDS_JS) == []
        scroller = page.locator(".wt-wrap")
        assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table scrolls sideways"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "weekly_position_1366x768.png"))
    finally:
        context.close()


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


def test_printed_weekly_table_uses_the_whole_sheet_and_keeps_names_whole(sample_app: str, browser: Browser) -> None:
    """Printed on landscape A4 (1047 px inside the browser's default margins): no sidebar or page list
    taking a fifth of the width, and no trust's name broken mid-word ("Huddersfiel / d")."""
    context = new_context(browser, viewport={"width": 1047, "height": 740})
    try:
        page = open_page(context.new_page(), sample_app)
        expect(page.locator("table.wt")).to_be_visible()
        page.emulate_media(media="print")
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()
        box = page.locator("table.wt").bounding_box()
        assert box is not None and box["x"] < 20 and box["width"] > 1000, box
        assert page.locator("table.wt thead th").evaluate_all(BROKEN_WORDS_JS) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.pdf(path=str(ARTIFACTS / "weekly_position_print.pdf"), format="A4", landscape=True, print_background=True)
    finally:
        context.close()


def test_printed_charts_shrink_to_the_sheet(sample_app: str, browser: Browser, tmp_path: Path) -> None:
    """Plotly lays a chart out at the screen's width and not again for the sheet: printed on portrait
    A4 the OPEL heatmap of 06/08 to 30/09 stopped at 31/08. Now each chart shrinks to the sheet, so
    its last day's label is on the printed page; after printing the screen is as it was."""
    if shutil.which("pdftotext") is None:
        needs_installing("pdftotext", "apt-get install poppler-utils")
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        page = open_page(context.new_page(), sample_app, "opel")
        charts = page.get_by_test_id("stPlotlyChart")
        expect(charts.nth(1).locator(".xtick text").last).to_be_attached()
        last_days = [chart.locator(".xtick text").last.text_content() for chart in charts.all()]
        widths = charts.locator(".svg-container").evaluate_all("boxes => boxes.map(b => b.style.width)")
        assert all(float(w.removesuffix("px")) > 900 for w in widths), widths  # wider than the sheet
        pdf = tmp_path / "opel.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True,
                 margin={side: "0.4in" for side in ("top", "right", "bottom", "left")})
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
        for day in set(last_days):
            assert text.count(day) >= last_days.count(day), (day, last_days)
        # the screen after printing: the charts' own sizes, no viewBox left behind
        assert charts.locator(".svg-container").evaluate_all("boxes => boxes.map(b => b.style.width)") == widths
        assert charts.locator("svg.main-svg[viewBox]").count() == 0
    finally:
        context.close()


# A national table's kind of names (119 trusts): long single words that squeezed columns broke.
NATIONAL_NAMES = [f"{name} {i}" for i in range(10) for name in [
    "Blackpool", "Buckinghamshire Healthcare", "Calderdale and Huddersfield", "Gloucestershire Hospitals",
    "Wrightington, Wigan and Leigh", "Nottinghamshire", "Northumbria Healthcare", "Barts Health",
    "Oxleas", "Walsall", "Shrewsbury and Telford", "Portsmouth"]][:119]


@pytest.mark.parametrize("orientation", ["columns", "rows"])
def test_a_national_table_keeps_words_whole_and_its_first_column_and_header_in_view(
        sample_app: str, browser: Browser, orientation: str) -> None:
    """119 trusts at 1366x768: columns were squeezed until "Combine / d" and "Buckingh / amshire"
    broke, and with trusts as rows the metric header row scrolled away on a 6,500 px page
    ("occupanc / y" broken too). The table's HTML for 119 trusts is put in the served page (its
    fonts and width) in place of the sample's."""
    table = trust_table(NATIONAL_NAMES)
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        page = open_page(context.new_page(), sample_app)
        page.locator(".wt-wrap").evaluate("(wrap, html) => { wrap.outerHTML = html; }",
                                          table_html(table.rows, list(table.trusts.iter_rows()), orientation))
        broken = page.locator("table.wt thead th").evaluate_all(BROKEN_WORDS_JS)
        assert [w for w in broken if "-" not in w] == []  # a word may break after its hyphen only
        wrap = page.locator(".wt-wrap")
        first = page.locator("table.wt tbody th").first
        corner = page.locator("table.wt thead th").first
        before = (first.bounding_box(), corner.bounding_box())
        wrap.evaluate("wrap => { wrap.scrollLeft = wrap.scrollWidth; wrap.scrollTop = wrap.scrollHeight; }")
        assert wrap.evaluate("wrap => wrap.clientHeight <= innerHeight"), "the box is taller than the window"
        if orientation == "columns":
            assert wrap.evaluate("wrap => wrap.scrollLeft > 0"), "120 columns do not scroll sideways"
        box, head = first.bounding_box(), corner.bounding_box()
        assert box and before[0] and abs(box["x"] - before[0]["x"]) < 2  # the first column stays pinned
        wrap_box = wrap.bounding_box()
        assert head and wrap_box and abs(head["y"] - wrap_box["y"]) < 2  # the header row stays at the top
        if orientation == "rows":
            assert wrap.evaluate("wrap => wrap.scrollTop > 0")  # the 119 rows scroll under the header
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"weekly_position_national_{orientation}.png"))
    finally:
        context.close()


# Every Plotly chart on the page has drawn its SVG (a chart draws after the page's script has run).
CHARTS_DRAWN_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    .every(chart => chart.querySelector('.main-svg'))"""


THEME_APPLIED_JS = """() => [...document.querySelectorAll('style')].some(
                              s => s.textContent.includes('stCaptionContainer'))
                       && [...document.querySelectorAll('[data-testid="stCaptionContainer"] p')].every(
                              p => getComputedStyle(p).color === 'rgb(76, 98, 114)')"""


def axe_violations(page: Page) -> list[str]:
    """Serious and critical WCAG 2.2 A/AA violations axe-core finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})).violations""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(f"{n['target'][0]} {n['html'][:160]} ({n['failureSummary'][:160]})" for n in v["nodes"][:3])
            for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path, heading", [("", "Weekly position"), ("trust?trust=RCD", "Harrogate (RCD)"),
                                           ("opel", "OPEL levels"), ("narrative", "Weekly narrative"),
                                           ("data-quality", "Data quality and upload")])
def test_no_serious_accessibility_violation_on_any_page(sample_app: str, page: Page, path: str, heading: str) -> None:
    if not AXE.exists():
        needs_installing("axe-core", f"cd {AXE.parents[2]} && npm ci")
    open_page(page, sample_app, path)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    page.wait_for_function(CHARTS_DRAWN_JS)  # charts draw after the script has run
    # Not mid-rerun: Streamlit fades stale elements while a script runs, which axe would read as low contrast.
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    # The theme's CSS, which gives captions NHS dark grey, is on the page (Streamlit adds it after the elements).
    page.wait_for_function(THEME_APPLIED_JS)
    assert axe_violations(page) == []


def test_trust_drilldown_in_the_browser(streamlit_app: str, page: Page) -> None:
    open_page(page, streamlit_app, "trust?trust=RCD")
    expect(page.get_by_role("heading", name="Harrogate (RCD)")).to_be_visible()
    stranded = page.get_by_test_id("stMetric").filter(has_text="Stranded 7+ days")
    expect(stranded).to_contain_text("40.0%")  # week ending 14/04/2024
    # Its counts (numerator and denominator), the chosen metric, its SPC chart, the system, the peers and the
    # pathway mix: six Plotly figures.
    charts = page.locator(".js-plotly-plot")
    expect(charts).to_have_count(6)
    expect(charts.first.locator(".main-svg").first).to_be_visible()

    # The app scrolls inside its own container, so a full-page shot needs a window as tall as the page.
    page.set_viewport_size({"width": 1400,
                            "height": page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")})
    expect(charts.last.locator(".main-svg").first).to_be_visible()
    screenshot(page, "trust_drilldown")


# Each chart text drawn on white (ticks, axis titles, legends, labels outside bars) with its colour.
CHART_TEXT_FILLS_JS = """() => Array.from(document.querySelectorAll(
    '.js-plotly-plot :is(.xtick, .ytick, .xtick2, .ytick2, .g-xtitle, .g-ytitle) text, ' +
    '.js-plotly-plot :is(.legendtext, .bartext-outside, .scatterlayer .textpoint text)'),
    t => [t.textContent, getComputedStyle(t).fill])"""


def _contrast_on_white(rgb: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(int(v)) for v in re.findall(r"\d+", rgb)[:3])
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


@pytest.mark.parametrize("path", ["trust?trust=RCD", "opel"])
def test_chart_labels_are_readable(sample_app: str, page: Page, path: str) -> None:
    """axe does not check text inside charts: Streamlit's Plotly theme drew ticks, axis titles and legends
    in a grey of 3.75:1 on white, under WCAG AA's 4.5:1."""
    open_page(page, sample_app, path)
    expect(page.locator(".js-plotly-plot .xtick text").first).to_be_attached()
    page.wait_for_function(f"({CHART_TEXT_FILLS_JS})().length > 20")  # the other charts drawn too, not only the first
    texts = page.evaluate(CHART_TEXT_FILLS_JS)
    assert len(texts) > 20
    assert [(text, fill) for text, fill in texts if _contrast_on_white(fill) < 4.5] == []


def test_upload_with_one_bad_row_shows_the_rejection_in_the_browser(streamlit_app: str, page: Page,
                                                                      tmp_path: Path) -> None:
    # Harrogate in March 2024, before the fixture's weeks, so the other tests' figures do not change.
    upload = write_csv(tmp_path / "harrogate_march.csv", [
        sitrep_row(period_date="2024-03-01"), sitrep_row(period_date="2024-03-02", los_21plus=57, los_14plus=40),
        sitrep_row(period_date="2024-03-03")])
    open_page(page, streamlit_app, "data-quality")
    not_found = page.get_by_role("dialog").filter(has_text="Page not found")
    if not_found.count():  # Streamlit shows this over the right page on a new server's first visit (streamlit#9992)
        page.keyboard.press("Escape")
        expect(not_found).to_have_count(0)
    expect(page.get_by_role("heading", name="Data quality and upload")).to_be_visible()

    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(upload))
    expect(page.get_by_text("harrogate_march.csv")).to_be_visible()
    page.get_by_role("button", name="Load files").click()

    # The file's result (the same lines also sit in the collapsed progress box, hidden).
    result = page.get_by_test_id("stText").filter(has_text="harrogate_march.csv", visible=True)
    expect(result).to_contain_text("2 of 3 rows loaded, 1 rejected")
    expect(result).to_contain_text("row 3: los_21plus (57) is more than los_14plus (40)")
    expect(page.get_by_role("button", name="Download the 1 rejected row to fix (CSV)")).to_be_visible()
    header, *rows = read_grid(page)
    # with the row's date and trust, as the Rejected rows tab lists it (the grid's accessible text has the ISO date;
    # its canvas draws 02/03/2024)
    assert rows == [["3", "2024-03-02", "Harrogate", "error", "row 3: los_21plus (57) is more than los_14plus (40)",
                     "los_21plus", "los_21plus_le_los_14plus"]], (header, rows)

    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    page.set_viewport_size({"width": 1400, "height": 1300})
    screenshot(page, "data_quality_upload")


def test_names_from_files_show_as_plain_text_in_the_browser(streamlit_app: str, page: Page) -> None:
    """A trust name with Markdown link and image syntax, a bare address and a right-to-left override
    (as a publication or upload could bring) shows as its characters: no link, no image, no reordering.
    Last in this file: it adds a trust to the served database."""
    evil = "[x](https://evil.example) ![](https://evil.example/p.png)"
    load_rows_directly(APP_DB[0], week_of_rows("ZZX", date(2024, 4, 8)))
    with open_for_write(APP_DB[0]) as con:
        con.execute("INSERT OR REPLACE INTO trusts (org_code, short_name, name) VALUES ('ZZX', ?, ?)",
                    [evil, "Dr \u202eecilA\u202c www.evil.example"])
    open_page(page, streamlit_app, "trust?trust=ZZX")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading").filter(has_text="(ZZX)")).to_be_visible()

    def seen(texts: list[str]) -> list[str]:  # without the invisible word joiners that stop bare links
        return [t.replace("\u2060", "") for t in texts]

    assert f"{evil} (ZZX)" in seen(main.get_by_role("heading").all_inner_texts())
    captions = seen(main.get_by_test_id("stCaptionContainer").all_inner_texts())
    assert any(t.startswith("Dr ecilA www.evil.example") for t in captions), captions
    live = main.locator("a[href*='evil']:not([href^='#']), img[src*='evil']")  # a heading's own anchor is fine
    assert live.count() == 0, live.evaluate_all("found => found.map(e => e.parentElement.outerHTML)")
    screenshot(page, "trust_plain_text")
