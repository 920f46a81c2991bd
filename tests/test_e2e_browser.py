"""End to end: the real app served by ``streamlit run``, viewed in headless Chromium: the weekly
table's layout at 1366x768 on the sample data, and axe-core (WCAG 2.2 AA) on every page.

The AppTest tests in test_pages.py check what each page computes; this one checks that the served
app renders it in a browser. The server, Chromium and what a test reads from a page are shared by every
browser test (tests/browser_fixtures.py; the ``browser`` and ``laptop`` fixtures in conftest.py).

``st.dataframe`` draws its cells on a canvas (glide data grid), but the grid also keeps an
accessible ``<table role="grid">`` inside the canvas element with the rendered rows and column
headers; ``read_grid`` reads that. Note the grid is virtualised: only rows in view are in it.

To cover another page, add a test that calls ``open_page(page, streamlit_app, "<url path>")``,
waits for what it needs, reads it and calls ``screenshot(page, "<name>")``.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from browser_fixtures import (
    ARTIFACTS,
    BROKEN_WORDS_JS,
    axe_violations,
    contrast_on_white,
    new_context,
    open_page,
    read_grid,
    read_weekly_table,
    screenshot,
    serve,
    settled,
    window,
)
from helpers import load_rows_directly, needs_installing, sitrep_row, trust_table, week_of_rows, write_csv
from playwright.sync_api import Browser, Locator, Page, expect

from pipelines.ingest.load import ensure_database
from pipelines.reports.meeting_html import table_html
from pipelines.warehouse import open_for_write

APP_DB: list[Path] = []  # the database streamlit_app serves, for a test that adds to it


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
    yield from serve(db, workdir)


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the bundled sample data (13 trusts), as a new user first sees it."""
    workdir = tmp_path_factory.mktemp("e2e-sample")
    db = workdir / "flow.duckdb"
    ensure_database(db)
    yield from serve(db, workdir)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from window(browser, 1400, 900)


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


def test_home_page_shows_every_trust_side_by_side_at_1366x768(sample_app: str, laptop: Page) -> None:
    """A laptop or a meeting-room projector: all 13 trusts of the sample readable without scrolling sideways,
    the trusts' header row on the first screen, and no name broken mid-word ("Calderdal / e"): no sidebar
    takes a fifth of the width (the page list is across the top, the sign-in mode one line)."""
    page = open_page(laptop, sample_app)
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


def test_printed_charts_shrink_to_the_sheet(sample_app: str, laptop: Page, tmp_path: Path) -> None:
    """Plotly lays a chart out at the screen's width and not again for the sheet: printed on portrait
    A4 a heatmap of 06/08 to 30/09 stopped at 31/08. Now each chart shrinks to the sheet, so its last
    day's label is on the printed page; after printing the screen is as it was. (The data quality
    page's submissions heatmap: the OPEL page, where this was seen, is an HTML table now.)"""
    if shutil.which("pdftotext") is None:
        needs_installing("pdftotext", "apt-get install poppler-utils")
    page = open_page(laptop, sample_app, "data-quality")
    not_found = page.get_by_role("dialog").filter(has_text="Page not found")
    if not_found.count():  # Streamlit shows this over the right page on a new server's first visit (streamlit#9992)
        page.keyboard.press("Escape")
    page.get_by_role("tab", name="Submissions").click()
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.first.locator(".xtick text").last).to_be_attached()
    last_days = [chart.locator(".xtick text").last.text_content() for chart in charts.all()]
    widths = charts.locator(".svg-container").evaluate_all("boxes => boxes.map(b => b.style.width)")
    assert all(float(w.removesuffix("px")) > 900 for w in widths), widths  # wider than the sheet
    pdf = tmp_path / "submissions.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True,
             margin={side: "0.4in" for side in ("top", "right", "bottom", "left")})
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for day in set(last_days):
        assert text.count(day) >= last_days.count(day), (day, last_days)
    # the screen after printing: the charts' own sizes, no viewBox left behind
    assert charts.locator(".svg-container").evaluate_all("boxes => boxes.map(b => b.style.width)") == widths
    assert charts.locator("svg.main-svg[viewBox]").count() == 0


def _opel_grid(page: Page) -> Locator:
    grid = page.get_by_role("table", name=re.compile(r"^Trust OPEL level by day"))
    expect(grid).to_be_visible()
    return grid


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_the_opel_page_is_a_table_of_trusts_by_day_without_plotly(sample_app: str, browser: Browser, width: int,
                                                                  height: int) -> None:
    """The OPEL page's first screen is HTML from the server: every sample trust a row, the latest 4 weeks'
    days as columns (four whole weeks, Monday to Sunday, and the sample's last two days, Monday 29 and Tuesday
    30/09/2025), each cell its level; the browser loads no plotly.js (it drew two heatmaps of up to 39,205
    cells before). The 30 days fit a laptop's width without scrolling sideways."""
    context = new_context(browser, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        plotly_files: list[str] = []
        page.on("request", lambda request: "plotly" in request.url.lower() and plotly_files.append(request.url))
        open_page(page, sample_app, "opel")
        grid = _opel_grid(page)
        trusts = grid.locator("tbody th[scope='row']")
        assert trusts.count() == 13
        assert grid.locator("thead tr").nth(1).locator("th").count() == 30
        levels = grid.locator("tbody td").all_inner_texts()
        assert len(levels) == 13 * 30 and set(levels) <= {"1", "2", "3", "4", "–"}, set(levels)
        box = trusts.first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, box  # the first trust on the first screen
        assert page.locator(".og-wrap").first.evaluate("wrap => wrap.scrollWidth <= wrap.clientWidth")
        assert page.locator(".js-plotly-plot").count() == 0 and plotly_files == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"opel_{width}x{height}.png"))
    finally:
        context.close()


def test_the_printed_opel_grid_is_landscape_with_every_day_and_trust(sample_app: str, browser: Browser) -> None:
    """Printed (a board paper): landscape A4, every trust and every week of the grid on the sheet, not cut
    off at its edge."""
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        needs_installing("pdftotext and pdfinfo", "apt-get install poppler-utils")
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        page = open_page(context.new_page(), sample_app, "opel")
        grid = _opel_grid(page)
        trusts = grid.locator("tbody th[scope='row']").all_inner_texts()
        weeks = [w for w in grid.locator("th.og-week").all_inner_texts() if w.startswith("w/e")]
        ARTIFACTS.mkdir(exist_ok=True)
        pdf = ARTIFACTS / "opel_print.pdf"
        page.pdf(path=str(pdf), print_background=True, prefer_css_page_size=True)
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
        assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
        first_page = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], check=True, capture_output=True,
                                    text=True).stdout
        assert [t for t in trusts if t not in first_page] == []
        assert len(weeks) >= 4 and [w for w in weeks if w not in first_page] == []
    finally:
        context.close()


def test_the_opel_sections_below_open_from_the_keyboard_and_stay_in_the_link(sample_app: str, laptop: Page) -> None:
    """The local authorities' grid and the table of days are drawn when their section is opened (issue 24: England's
    two grids and table were most of a click to the page); the URL says which are open."""
    page = open_page(laptop, sample_app, "opel")
    _opel_grid(page)
    assert page.locator("table.og").count() == 1 and page.get_by_test_id("stDataFrame").count() == 0
    section = page.get_by_test_id("stExpander").filter(has_text="Local authority OPEL by day").first
    section.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(section.get_by_role("table", name=re.compile(r"^Local authority OPEL level by day"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]la=true"))
    open_page(page, sample_app, "opel?days=true")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(page.locator("table.og")).to_have_count(1)


def test_the_weekly_downloads_open_from_the_keyboard_and_stay_in_the_link(sample_app: str, laptop: Page) -> None:
    """The packs' three buttons are drawn when their section is opened (a new tab fetched their code before its
    first screen was complete); the URL says it is open, so a link opens it."""
    page = open_page(laptop, sample_app)
    expect(page.locator("table.wt")).to_be_visible()
    assert page.get_by_test_id("stDownloadButton").count() == 0
    section = page.get_by_test_id("stExpander").filter(has_text="Download this table").first
    section.locator("summary").focus()
    page.keyboard.press("Enter")
    for label in ("Excel (.xlsx)", "Word (.docx)", "CSV"):
        expect(section.get_by_role("button", name=label)).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]downloads=true"))
    open_page(page, sample_app, "?downloads=true")
    expect(page.get_by_role("button", name="Word (.docx)")).to_be_visible()


# A national table's kind of names (119 trusts): long single words that squeezed columns broke.
NATIONAL_NAMES = [f"{name} {i}" for i in range(10) for name in [
    "Blackpool", "Buckinghamshire Healthcare", "Calderdale and Huddersfield", "Gloucestershire Hospitals",
    "Wrightington, Wigan and Leigh", "Nottinghamshire", "Northumbria Healthcare", "Barts Health",
    "Oxleas", "Walsall", "Shrewsbury and Telford", "Portsmouth"]][:119]


@pytest.mark.parametrize("orientation", ["columns", "rows"])
def test_a_national_table_keeps_words_whole_and_its_first_column_and_header_in_view(
        sample_app: str, laptop: Page, orientation: str) -> None:
    """119 trusts at 1366x768: columns were squeezed until "Combine / d" and "Buckingh / amshire"
    broke, and with trusts as rows the metric header row scrolled away on a 6,500 px page
    ("occupanc / y" broken too). The table's HTML for 119 trusts is put in the served page (its
    fonts and width) in place of the sample's."""
    table = trust_table(NATIONAL_NAMES)
    page = open_page(laptop, sample_app)
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


# Every Plotly chart on the page has drawn its SVG (a chart draws after the page's script has run).
CHARTS_DRAWN_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    .every(chart => chart.querySelector('.main-svg'))"""


THEME_APPLIED_JS = """() => [...document.querySelectorAll('style')].some(
                              s => s.textContent.includes('stCaptionContainer'))
                       && [...document.querySelectorAll('[data-testid="stCaptionContainer"] p')].every(
                              p => getComputedStyle(p).color === 'rgb(76, 98, 114)')"""


# The drill-down as it opens and with every section below its first screen open (each closed until opened).
TRUST_OPEN = "trust?trust=RCD&" + "&".join(f"{key}=true" for key in ("daily", "spc", "system", "pathways", "bands"))


@pytest.mark.parametrize("path, heading", [("", "Weekly position"), ("trust?trust=RCD", "Harrogate (RCD)"),
                                           (TRUST_OPEN, "Harrogate (RCD)"), ("opel", "OPEL levels"),
                                           ("opel?la=true&days=true", "OPEL levels"),  # its sections open
                                           ("narrative", "Weekly narrative"),
                                           ("data-quality", "Data quality and upload")])
def test_no_serious_accessibility_violation_on_any_page(sample_app: str, page: Page, path: str, heading: str) -> None:
    open_page(page, sample_app, path)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    page.wait_for_function(CHARTS_DRAWN_JS)  # charts draw after the script has run
    settled(page)
    # The theme's CSS, which gives captions NHS dark grey, is on the page (Streamlit adds it after the elements).
    page.wait_for_function(THEME_APPLIED_JS)
    assert axe_violations(page) == []


def test_trust_drilldown_in_the_browser(streamlit_app: str, page: Page) -> None:
    open_page(page, streamlit_app, TRUST_OPEN)  # a link with its sections open
    expect(page.get_by_role("heading", name="Harrogate (RCD)")).to_be_visible()
    stranded = page.get_by_role("list", name=re.compile("^Headline figures")).get_by_role("listitem").filter(
        has_text="Stranded 7+ days")
    expect(stranded).to_contain_text("40.0%")  # week ending 14/04/2024
    # The last weeks' SPC chart: the server's SVG, an image with its words, not a Plotly chart.
    expect(page.get_by_role("img", name=re.compile(r"^Stranded 7\+ days, the 2 complete weeks"))).to_be_visible()
    # Further down, in the sections the link opened: the chosen metric, its SPC chart, the system, the peers and the
    # pathway mix (the counts' chart is drawn when its expander is opened): five Plotly figures.
    charts = page.locator(".js-plotly-plot")
    expect(charts).to_have_count(5)
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


@pytest.mark.parametrize("path", [TRUST_OPEN])  # the OPEL page has no chart now
def test_chart_labels_are_readable(sample_app: str, page: Page, path: str) -> None:
    """axe does not check text inside charts: Streamlit's Plotly theme drew ticks, axis titles and legends
    in a grey of 3.75:1 on white, under WCAG AA's 4.5:1."""
    open_page(page, sample_app, path)
    expect(page.locator(".js-plotly-plot .xtick text").first).to_be_attached()
    page.wait_for_function(f"({CHART_TEXT_FILLS_JS})().length > 20")  # the other charts drawn too, not only the first
    texts = page.evaluate(CHART_TEXT_FILLS_JS)
    assert len(texts) > 20
    assert [(text, fill) for text, fill in texts if contrast_on_white(fill) < 4.5] == []


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
    # The file box is drawn when "Submit a file" is opened (from the keyboard here), which the link then keeps
    assert page.get_by_test_id("stFileUploader").count() == 0
    submit_box = page.get_by_test_id("stExpander").filter(has_text="Submit a file").first
    submit_box.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]submit=true"))

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
