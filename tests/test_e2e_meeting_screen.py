"""The weekly table as a discharge group meets over it: projected at 1366x768 in Chromium, on the
sample's largest set of trusts (all 13, with the Combined column: the size of a large ICB).

Measured in the browser, not read from the HTML: every metric row, the trusts' header row and the
one-line key inside the first 768 px; no sideways scroll; figures at least 14 px and marks at least
12 px (computed style); the header row pinned under Streamlit's bar as the page scrolls; the
narrative column beside the metrics when asked for; no serious or critical axe-core violation.
Fixtures and helpers from tests/browser_fixtures.py (they fail, saying what to install, without Chromium).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_fixtures import ARTIFACTS, BROKEN_WORDS_JS, axe_violations, open_page, serve
from playwright.sync_api import Page, expect

from pipelines.catalogue.metrics import METRICS
from pipelines.ingest.load import ensure_database
from pipelines.queries.weeks import latest_complete_week
from pipelines.reports.narrative import save_narrative
from pipelines.warehouse import connect_read

SCREEN = {"width": 1366, "height": 768}  # the ``laptop`` fixture's window (conftest.py)
# The narrative of one row: long enough to need more than the column's two lines.
NARRATIVE = ("Occupancy stayed above the ambition at three trusts; escalation beds opened at Hull and "
             "Northern Lincolnshire over the weekend, and the system call agreed extra care home capacity "
             "from Monday to bring the long stays down before the winter plan starts.")


@pytest.fixture(scope="module")
def meeting_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the bundled sample data (13 trusts) with the discharge group's narrative on one row."""
    workdir = tmp_path_factory.mktemp("e2e-meeting")
    db = workdir / "flow.duckdb"
    ensure_database(db)
    con = connect_read(db)
    try:
        week = latest_complete_week(con)
    finally:
        con.close()
    assert week is not None
    save_narrative(db, week, "ga_occupancy_pct", None, NARRATIVE, "Discharge lead")
    yield from serve(db, workdir)


# Each box the test needs, in the window's pixels, and the computed font sizes of what people read.
MEASURE_JS = """() => {
  const box = el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                                                                     right: r.right}; };
  const size = el => parseFloat(getComputedStyle(el).fontSize);
  const all = selector => Array.from(document.querySelectorAll(selector));
  const main = document.querySelector('[data-testid="stMain"]');
  return {
    headers: all('table.wt thead th').map(th => ({text: th.innerText.trim(), ...box(th)})),
    rows: all('table.wt tbody tr').map(tr => ({text: tr.cells[0].innerText.trim(), ...box(tr)})),
    keys: all('.wt-key').map(p => ({text: p.innerText, size: size(p), ...box(p)})),
    values: all('table.wt .v').map(size),
    marks: all('table.wt .wt-cell').filter(c => c.innerText.includes('\\n')).map(size),
    arrows: all('table.wt .wt-chg').map(el => ({text: el.innerText.replace('\\ufe0e', ''), size: size(el)})),
    headerSizes: all('table.wt thead th').map(size),
    sideways: main.scrollWidth > main.clientWidth || document.querySelector('.wt-wrap').scrollWidth >
              document.querySelector('.wt-wrap').clientWidth,
  };
}"""


def test_the_whole_table_and_its_key_are_on_one_projected_screen(meeting_app: str, laptop: Page) -> None:
    """At 1366x768 only 12 of the 17 rows were on the first screen, the key far below, and the marks 8 px."""
    open_page(laptop, meeting_app)
    expect(laptop.locator("table.wt")).to_be_visible()
    seen = laptop.evaluate(MEASURE_JS)
    names = [h["text"] for h in seen["headers"]]
    assert names[:3] == ["Metric", "Ambition", "Combined"] and len(names) == 3 + 13, names
    default_rows = [m.short_label for m in METRICS if m.default_row]  # the sample has figures for every one
    assert [r["text"] for r in seen["rows"]] == default_rows
    bar = laptop.get_by_test_id("stHeader").bounding_box()
    assert bar is not None
    for header in seen["headers"]:
        assert bar["height"] - 1 <= header["top"] and header["bottom"] <= SCREEN["height"], header
        assert header["left"] >= 0 and header["right"] <= SCREEN["width"], header
    assert [r["text"] for r in seen["rows"] if r["bottom"] > SCREEN["height"]] == []
    key = seen["keys"][0]
    assert key["text"].startswith("Key: ✓ meets the ambition") and key["bottom"] <= SCREEN["height"], key
    assert key["bottom"] - key["top"] < 1.5 * key["size"] * 1.3, "the key takes more than one line"
    assert not seen["sideways"], "the page scrolls sideways"
    # Legible from the back of the room: figures 14 px, marks, headers and key 12 px at least.
    assert min(seen["values"]) >= 14 and len(seen["values"]) >= len(default_rows) * 14
    assert seen["marks"] and min(seen["marks"]) >= 12
    # the change on last week beside the status: an arrow, better or worse by its shape, as the key says
    assert {a["text"] for a in seen["arrows"]} <= set("↑↓⬆⬇") and len(seen["arrows"]) > len(default_rows)
    assert min(a["size"] for a in seen["arrows"]) >= 12
    assert "↑ ↓ better, ⬆ ⬇ worse" in key["text"]
    assert min(seen["headerSizes"]) >= 12 and key["size"] >= 12
    ARTIFACTS.mkdir(exist_ok=True)
    laptop.screenshot(path=str(ARTIFACTS / "meeting_screen_1366x768.png"))


def test_the_header_row_stays_pinned_when_the_page_scrolls(meeting_app: str, laptop: Page) -> None:
    """Scrolled down to the OPEL rows, the trusts' names stay above them, under Streamlit's bar."""
    laptop.set_viewport_size({"width": SCREEN["width"], "height": 500})  # short, so the page scrolls
    open_page(laptop, meeting_app)
    header = laptop.locator("table.wt thead th").nth(3)
    expect(header).to_be_visible()
    laptop.get_by_test_id("stMain").evaluate("main => { main.scrollTop = 400; }")
    laptop.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop >= 400")
    bar, box = laptop.get_by_test_id("stHeader").bounding_box(), header.bounding_box()
    assert bar is not None and box is not None
    assert abs(box["y"] - bar["height"]) < 2, (box, bar)  # stuck just under the bar, not scrolled away
    # Nothing drawn over it: the point at its middle is the header cell (or its link).
    on_top = laptop.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('th')?.innerText.trim()",
                             [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert on_top == header.inner_text().strip()
    last_row = laptop.locator("table.wt tbody tr").last.bounding_box()
    assert last_row is not None and last_row["y"] > box["y"] + box["height"]  # the rows go under it


def test_the_narrative_column_sits_beside_the_metrics(meeting_app: str, laptop: Page) -> None:
    open_page(laptop, meeting_app)
    laptop.get_by_test_id("stSelectbox").filter(has_text="Layout").click()  # the layout with the narrative
    laptop.get_by_role("option", name="Trusts as columns + narrative").click()
    expect(laptop.get_by_role("combobox", name="Layout")).to_have_value("Trusts as columns + narrative")
    note = laptop.locator("table.wt td.wt-note .wt-note-text")
    expect(note).to_have_count(1)
    expect(note).to_have_attribute("title", f"G&A occupancy: {NARRATIVE}")
    assert laptop.locator("table.wt thead th").last.inner_text().strip() == "Narrative"
    shown = note.bounding_box()
    assert shown is not None and shown["height"] < 3 * 16  # two lines of it in the table
    laptop.get_by_test_id("stMain").evaluate("main => { main.scrollTop = 0; }")
    seen = laptop.evaluate(MEASURE_JS)
    assert not seen["sideways"]
    assert [r["text"] for r in seen["rows"] if r["bottom"] > SCREEN["height"]] == []
    assert seen["keys"][0]["bottom"] <= SCREEN["height"]
    assert laptop.locator("table.wt thead th").evaluate_all(BROKEN_WORDS_JS) == []  # names still whole
    note.focus()  # the whole text on keyboard focus
    opened = note.bounding_box()
    assert opened is not None and opened["height"] > shown["height"]
    assert axe_violations(laptop) == []


def test_no_serious_accessibility_violation_on_the_projected_screen(meeting_app: str, laptop: Page) -> None:
    open_page(laptop, meeting_app)
    expect(laptop.locator("table.wt")).to_be_visible()
    expect(laptop.locator("[data-stale='true']")).to_have_count(0)
    assert axe_violations(laptop) == []
