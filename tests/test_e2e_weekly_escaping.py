"""End to end: the weekly table is put in the page without st.html's cleaning (ui.escaped_html), so every text
in it from a file or a user must arrive escaped (pipelines.reports.meeting_html). Hostile markup in a trust's
name, the discharge group's narrative and a place lead's comment shows as its characters, runs nothing, and
the table keeps its links, headers and axe-core result."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from browser_fixtures import axe_violations, open_page, screenshot, serve, window
from helpers import load_rows_directly, week_of_rows
from playwright.sync_api import Browser, Page, expect

from pipelines.reports.meeting_html import SQUEEZE_COLUMNS
from pipelines.reports.narrative import save_narrative
from pipelines.warehouse import open_for_write

# Each would run, or draw an image, if the table's markup let it through unescaped.
EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'
WEEK = date(2024, 4, 14)
OTHERS = [f"Z{n:02d}" for n in range(SQUEEZE_COLUMNS)]  # with Harrogate and Combined: too wide to squeeze


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Harrogate (RCD) named with hostile markup, with a group narrative and a place lead's comment made of it,
    beside enough other trusts for a table that scrolls (the one put in without st.html's cleaning)."""
    workdir = tmp_path_factory.mktemp("e2e-escaping")
    db = workdir / "flow.duckdb"
    load_rows_directly(db, [row for code in ("RCD", *OTHERS) for monday in (date(2024, 4, 1), date(2024, 4, 8))
                            for row in week_of_rows(code, monday)])
    with open_for_write(db) as con:
        con.execute("UPDATE trusts SET short_name = ?, name = ? WHERE org_code = 'RCD'", [f"Harrogate {EVIL}"] * 2)
        con.executemany("INSERT OR REPLACE INTO trusts (org_code, short_name, name) VALUES (?, ?, ?)",
                        [(code, f"Trust {code}", f"Trust {code}") for code in OTHERS])
    save_narrative(db, WEEK, "stranded_7plus_pct", None, f"Group says {EVIL}", "Gail")
    save_narrative(db, WEEK, "stranded_7plus_pct", "RCD", f"Lead says {EVIL}", "Hal")
    yield from serve(db, workdir)


@pytest.fixture
def laptop_page(browser: Browser) -> Iterator[Page]:
    yield from window(browser, 1366, 768)


def test_hostile_text_in_the_weekly_table_shows_as_text_and_runs_nothing(hostile_app: str, laptop_page: Page) -> None:
    page = laptop_page
    open_page(page, hostile_app, "")
    page.get_by_test_id("stSelectbox").filter(has_text="Layout").click()  # the group's narrative beside the rows
    page.get_by_role("option", name="Trusts as columns + narrative").click()
    table = page.locator("table.wt")
    expect(table.get_by_text(f"Group says {EVIL}")).to_be_visible()
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")

    assert page.locator(".wt-scroll").count() == 1 and page.get_by_test_id("stHtml").locator("table.wt").count() == 0
    assert page.evaluate("() => window.__pwned") is None  # no handler and no script ran
    assert table.locator("img, script, b").count() == 0  # markup from the data is text, not elements
    header = table.locator("thead th", has_text="Harrogate")
    expect(header).to_have_text(f"Harrogate {EVIL}")
    # the place lead's comment is in the cell's words (its title, the accessible description), as written
    cell = table.locator("a.wt-cell[title*='Lead says']").first
    assert cell.get_attribute("title").endswith(f"Place lead's comment (Hal): Lead says {EVIL}")
    # still the table a user reads: its links open the drill-down, its headers are headers, axe finds nothing
    assert header.locator("a").get_attribute("href") == "trust?trust=RCD&group=all"
    assert table.locator("th[scope=col]").count() >= 4 and table.locator("th[scope=row]").count() > 0
    assert axe_violations(page) == []
    screenshot(page, "weekly_hostile_text")


def test_the_table_is_drawn_again_when_the_week_changes(hostile_app: str, laptop_page: Page) -> None:
    # The markup is set again only when it changed: another week in the picker must replace the table.
    page = laptop_page
    open_page(page, hostile_app, "")
    caption = page.locator("table.wt caption")
    expect(caption).to_contain_text("to Sunday 14/04/2024")
    page.get_by_test_id("stSelectbox").filter(has_text="Week ending").click()
    page.get_by_role("option", name="Sun 07/04/2024").click()
    expect(caption).to_contain_text("to Sunday 07/04/2024")
