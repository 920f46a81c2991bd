"""End to end (issue 21): a discharge group's link opened on a fresh server, in headless Chromium at
1366x768. The first visit is ``?group=`` while the first start builds the sample database; the weekly
table's columns are then exactly the group's four trusts (DOMAIN.md section 1: York, Harrogate, South
Tees and Airedale, in three ICBs), and the narratives shown are the group's own, never those another
group saved for the same week and metric. axe-core finds no serious or critical violation on either page.
Fixtures and helpers are tests/browser_fixtures.py's (system Chromium, ``npm ci`` in tests/js for axe-core)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from browser_fixtures import ARTIFACTS, axe_violations, open_page, read_weekly_table, screenshot, serve, settled
from helpers import query
from playwright.sync_api import Page, expect

from pipelines.catalogue.metrics import DEFAULT_ROWS, METRIC_BY_ID
from pipelines.reports.meeting_html import MAX_CELL_PX
from pipelines.reports.narrative import save_narrative

FOUR = "york-harrogate-tees-airedale"
FOUR_NAMES = ["Airedale", "Harrogate", "South Tees", "York and Scarborough"]
SAMPLE_WEEK = date(2025, 9, 28)  # the sample's last complete week
STRANDED = "stranded_7plus_pct"
OURS, THEIRS = "The four: Harrogate over, York within but rising.", "Humber: Hull steady."
PATHWAY_2 = "Pathway 2: two community beds closed at Harrogate."

@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app started with no database: the first visit builds it from the bundled sample."""
    workdir = tmp_path_factory.mktemp("e2e-groups")
    db = workdir / "flow.duckdb"
    for base_url in serve(db, workdir):
        yield base_url, db


def test_a_groups_link_on_a_fresh_server_shows_its_four_trusts_and_its_own_narrative(
        fresh_app: tuple[str, Path], laptop: Page) -> None:
    base_url, db = fresh_app
    page = laptop
    page.goto(f"{base_url}/?group={FOUR}")  # the first visit: the database is built meanwhile
    expect(page.locator("table.wt")).to_be_visible(timeout=180_000)
    open_page(page, base_url, f"?group={FOUR}")
    expect(page.get_by_role("combobox", name="Discharge group")).to_have_value(
        "York, Harrogate, South Tees and Airedale (4 trusts)")
    header, *_ = read_weekly_table(page)
    assert header[3:] == FOUR_NAMES, header

    # Two groups write the same week and metric; York is in both. Each sees only its own.
    save_narrative(db, SAMPLE_WEEK, STRANDED, None, OURS, "Ann", group_id=FOUR)
    save_narrative(db, SAMPLE_WEEK, STRANDED, None, THEIRS, "Bob", group_id="icb-qoq")
    open_page(page, base_url, f"?group={FOUR}")
    expect(page.get_by_text(f"Discharge group (Ann): {OURS}")).to_be_visible()
    expect(page.get_by_text(THEIRS)).to_have_count(0)
    settled(page)
    screenshot(page, "groups_weekly")
    page.screenshot(path=str(ARTIFACTS / "groups_weekly_1366x768.png"))  # the first screen only
    assert page.get_by_role("combobox", name="Discharge group").bounding_box()["y"] < 768  # type: ignore[index]
    assert axe_violations(page) == []


def test_the_narrative_page_of_a_group_fits_one_screen_with_save_and_the_groups_text(
        fresh_app: tuple[str, Path], laptop: Page) -> None:
    base_url, db = fresh_app
    page = laptop
    open_page(page, base_url, f"narrative?group={FOUR}")
    expect(page.get_by_role("heading", name="Weekly narrative")).to_be_visible()
    stranded = page.get_by_role("textbox", name="Stranded: occupied beds with LoS 7+ days")
    expect(stranded).to_have_value(OURS)  # the group's saved text, not Humber's
    # One screen (issue 21 item 8): Save and the box of every row the group shows, no scrolling either way
    for name in ["Save", *(METRIC_BY_ID[metric].label for metric in DEFAULT_ROWS)]:
        element = page.get_by_role("button", name=name, exact=True) if name == "Save" else page.get_by_role(
            "textbox", name=name, exact=True)
        box = element.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, (name, box)
    assert page.get_by_test_id("stMain").evaluate("main => main.scrollWidth <= main.clientWidth"), "sideways scroll"
    page.screenshot(path=str(ARTIFACTS / "groups_narrative_first_screen_1366x768.png"))
    # The other metrics are folded below, in the same form: opened, their boxes are saved by the same Save
    page.get_by_text(re.compile(r"^Other metrics \(\d+\)")).click()
    page.get_by_role("textbox", name="Discharges on pathway 2", exact=True).fill(PATHWAY_2)
    page.get_by_role("textbox", name="Your name").fill("Ann")
    # Keyboard: Ctrl+Enter in a box saves the form
    stranded.focus()
    stranded.fill(OURS + " Discussed.")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"^Saved \d+ narratives of York, Harrogate, South Tees and Airedale\."))
           ).to_be_visible()
    expect(stranded).to_have_value(OURS + " Discussed.")
    assert query(db, "SELECT text, author FROM narratives WHERE group_id = ? AND metric = 'pathway_2_pct'",
                 [FOUR]) == [(PATHWAY_2, "Ann")]
    settled(page)
    screenshot(page, "groups_narrative")
    page.screenshot(path=str(ARTIFACTS / "groups_narrative_1366x768.png"))
    assert axe_violations(page) == []


def test_a_cell_of_the_groups_table_opens_the_drilldown_with_the_groups_comments(
        fresh_app: tuple[str, Path], laptop: Page) -> None:
    """The drill-down showed the 'all' group's place-lead comments whichever group's table it was opened from.
    York is in the four-trust group and in Humber's: the cell's link keeps the group, and with it its comment."""
    base_url, db = fresh_app
    page = laptop
    save_narrative(db, SAMPLE_WEEK, STRANDED, "RCB", "York: two wards shut.", "Yve", group_id=FOUR)
    save_narrative(db, SAMPLE_WEEK, STRANDED, "RCB", "Humber: discharge hub open.", "Zed", group_id="icb-qoq")
    open_page(page, base_url, f"?group={FOUR}")
    # The script can finish before the browser has drawn st.html's table (its code is fetched when first needed).
    expect(page.locator("table.wt")).to_be_visible()
    # A group of four on a wide window: columns no wider than MAX_CELL_PX, not a quarter of the screen each.
    widths = page.locator("table.wt thead th").evaluate_all("ths => ths.map(th => th.getBoundingClientRect().width)")
    assert max(widths[3:]) <= MAX_CELL_PX + 1, widths
    page.locator(f'table.wt a.wt-cell[href="trust?trust=RCB&metric={STRANDED}&group={FOUR}"]').click()
    expect(page.get_by_role("heading", name="York and Scarborough (RCB)")).to_be_visible()
    assert f"group={FOUR}" in page.url
    expect(page.get_by_text("Place lead's comment on Stranded: occupied beds with LoS 7+ days (Yve): "
                            "York: two wards shut.")).to_be_visible()
    expect(page.get_by_text("Humber: discharge hub open.")).to_have_count(0)
