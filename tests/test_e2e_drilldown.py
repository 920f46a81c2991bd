"""End to end: the trust drill-down's first screen at 1366x768 in headless Chromium, on a served app.

A place lead opening a trust must see, without scrolling, what SPC says changed, the counts behind
the chosen metric (its numerator and denominator) and its last weeks' SPC chart (SVG, no Plotly), and
the page must have no serious or critical axe-core (WCAG 2.2 AA) violation. The server, browser and axe
helpers are tests/browser_fixtures.py's.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from browser_fixtures import axe_violations, contrast_on_white, open_page, screenshot, serve, settled, window
from helpers import load_rows_directly, week_of_rows
from playwright.sync_api import Browser, Page, expect

FIRST_MONDAY = date(2024, 1, 1)
# Harrogate (RCD): 15 weeks near 45 of 90 beds a day with a stay of 7+ days, then 15 weeks near 36: a shift
# down from the week ending 21/04/2024 (lower is better: an improvement). Worked by hand in test_trust_spc.py.
STEP = [45, 46] * 7 + [45] + [36, 37] * 7 + [36]
SENTENCE = ("Shift down since the week ending 21/04/2024 (special cause improvement): patients staying 7+ days "
            "down 9.0 a day (from 45 to 36) while occupied G&A beds stayed level (about 90 a day).")
COUNTS = ("Week ending Sun 28/07/2024: 36 patients staying 7+ days a day of 90 occupied G&A beds (40.0%); "
          "the week before: 37 of 90 (41.1%).")


@pytest.fixture(scope="module")
def step_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("e2e-drilldown")
    db = workdir / "flow.duckdb"
    load_rows_directly(db, [row for week, level in enumerate(STEP)
                            for row in week_of_rows("RCD", FIRST_MONDAY + timedelta(weeks=week),
                                                    ga_beds_occupied=90, los_7plus=level)])
    yield from serve(db, workdir)


def within_first_screen(page: Page, text: str) -> bool:
    """Whether the element showing ``text`` is drawn wholly within the first 768 px, without scrolling."""
    box = page.get_by_test_id("stMain").get_by_text(text, exact=False).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768


def test_the_first_screen_shows_what_changed_and_the_counts_behind_it(step_app: str, laptop: Page) -> None:
    page = open_page(laptop, step_app, "trust?trust=RCD&metric=stranded_7plus_pct")
    expect(page.get_by_role("heading", name="Harrogate (RCD)")).to_be_visible()
    expect(page.get_by_text(SENTENCE)).to_be_visible()
    expect(page.get_by_text(COUNTS)).to_be_visible()
    assert within_first_screen(page, SENTENCE), "SPC's sentence is below the first screen"
    assert within_first_screen(page, COUNTS), "the numerator and denominator are below the first screen"
    # The week-by-week table beside it: the counts a day, read across the weeks.
    counts_row = page.locator("table.rt").locator("tr").filter(has_text="Patients staying 7+ days (a day)")
    expect(counts_row).to_contain_text("37")
    assert within_first_screen(page, "Patients staying 7+ days (a day)")
    # The last weeks' SPC chart starts on the first screen: drawn by the server (SVG), an image with its words.
    trend = page.get_by_role("img", name=re.compile(r"^Stranded 7\+ days, the \d+ complete weeks to the week ending"))
    expect(trend).to_be_visible()
    assert trend.bounding_box()["y"] < 768
    # No interactive chart on the first screen: it never waits for plotly.js.
    assert all(box["y"] >= 768 for box in page.get_by_test_id("stPlotlyChart").evaluate_all(
        "charts => charts.map(c => c.getBoundingClientRect().toJSON())")), "a Plotly chart on the first screen"
    # The counts day by day and week by week: drawn when opened, under the small chart.
    page.get_by_text("Counts day by day (interactive chart)").click()
    chart = page.get_by_test_id("stExpander").filter(has_text="Counts day by day").locator(".js-plotly-plot")
    expect(chart.locator(".main-svg").first).to_be_visible()
    # Its panel titles (annotations, which the page's chart CSS does not reach) are readable: 4.5:1 on white.
    titles = chart.locator(".annotation-text").evaluate_all(
        "titles => titles.map(t => [t.textContent, getComputedStyle(t).fill])")
    assert [t for t, _ in titles] == ["Patients staying 7+ days (a day)", "Occupied G&A beds (a day)"]
    assert all(contrast_on_white(fill) >= 4.5 for _, fill in titles), titles

    page.wait_for_timeout(500)  # charts draw after the script has run
    settled(page)
    assert axe_violations(page) == []
    screenshot(page, "trust_drilldown_first_screen")


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_a_section_below_opens_from_the_keyboard_drawn_and_kept_in_the_link(step_app: str, browser: Browser,
                                                                            width: int, height: int) -> None:
    """Below the first screen every section is closed and sends nothing until opened (issue 24): opened from the
    keyboard, its chart is drawn, the URL says it is open, and that link opens the page with it drawn."""
    for page in window(browser, width, height):
        open_page(page, step_app, "trust?trust=RCD&metric=stranded_7plus_pct")
        expect(page.get_by_role("heading", name="Harrogate (RCD)")).to_be_visible()
        assert page.get_by_test_id("stPlotlyChart").count() == 0, "a Plotly chart sent before any section is opened"
        section = page.get_by_test_id("stExpander").filter(has_text="SPC chart").first
        section.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(section.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        expect(page).to_have_url(re.compile(r"[?&]spc=true"))
        settled(page)
        assert axe_violations(page) == []
        screenshot(page, f"trust_drilldown_spc_opened_{width}x{height}")
        open_page(page, step_app, page.url.split("/", 3)[3])  # the link, in a fresh run
        section = page.get_by_test_id("stExpander").filter(has_text="SPC chart").first
        expect(section.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        assert page.get_by_test_id("stPlotlyChart").count() == 1  # only the open section's chart


def test_the_upload_page_has_no_serious_accessibility_violation(step_app: str, laptop: Page) -> None:
    page = open_page(laptop, step_app, "data-quality")
    not_found = page.get_by_role("dialog").filter(has_text="Page not found")
    if not_found.count():  # Streamlit shows this over the right page on a new server's first visit (streamlit#9992)
        page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="Data quality and upload")).to_be_visible()
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    assert axe_violations(page) == []
