"""AppTest for every page: what a user would see on a known fixture."""
from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import load_rows_directly, week_of_rows, weekly_table_html
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest

from pipelines.reports.narrative import save_narrative
from pipelines.warehouse import open_for_write

ROOT = Path(__file__).resolve().parents[1]


def run_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / page), default_timeout=page_run_guard_s())
    return app.run()


class _TableText(HTMLParser):
    """The weekly table's rows as text, and each cell's details (its title)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.titles: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
            self.titles.append([])
        elif tag in ("th", "td"):
            self._cell = []
        elif (tag in ("a", "span") and self._cell is not None and (title := dict(attrs).get("title"))
              and (tag == "a" or "wt-cell" in (dict(attrs).get("class") or ""))):
            self.titles[-1].append(title)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def weekly_table(app: AppTest) -> dict[str, dict[str, str]]:
    """{metric short label: {column: cell text}} from the page's HTML table."""
    parser = _TableText()
    parser.feed(weekly_table_html(app))
    header, *rows = parser.rows
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows} | {"": dict.fromkeys(header, "")}


def cell_details(app: AppTest) -> list[str]:
    parser = _TableText()
    parser.feed(weekly_table_html(app))
    return [t for row in parser.titles for t in row]


@pytest.fixture
def two_weeks(db):
    """Harrogate at 50% then 40% stranded; South Tees at 45% in the second week only."""
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=90, los_7plus=36)
                       + week_of_rows("RTR", date(2024, 4, 8), ga_beds_occupied=80, los_7plus=36))
    return db


def test_weekly_position_shows_latest_week_by_trust(two_weeks):
    app = run_page("pages/weekly_position.py")
    assert not app.exception
    assert app.selectbox[1].value == date(2024, 4, 14)
    table = weekly_table(app)
    assert list(table[""]) == ["Metric", "Ambition", "Combined", "Harrogate", "South Tees"]
    stranded = table["Stranded 7+ days"]
    assert stranded["Ambition"] == "< 40%"
    # just misses; ↓ down and better than last week (asked for as text, U+FE0E); no SPC with two weeks
    assert stranded["Harrogate"] == "40% ! ↓\ufe0e"
    assert stranded["South Tees"] == "45% ✗"
    # the selected trusts combined: a ratio of the two trusts' sums, 42.35%: past the amber tolerance (42%),
    # so shown to the place that says so ("42%" would read as within it)
    assert stranded["Combined"].startswith(f"{100 * (7 * 36 + 7 * 36) / (7 * 90 + 7 * 80):.1f}% ✗")
    details = cell_details(app)
    assert ("Harrogate, Stranded 7+ days: 40.0%. ! just misses the ambition (within the amber "
            "tolerance). 10.0 pts better than last week (50.0%).") in details
    table_html = weekly_table_html(app)
    assert "2 of 2 selected trusts submitted figures" in table_html


def test_weekly_position_week_picker_changes_the_table(two_weeks):
    app = run_page("pages/weekly_position.py")
    app.selectbox[1].set_value(date(2024, 4, 7)).run()
    table = weekly_table(app)
    assert table["Stranded 7+ days"]["Harrogate"] == "50% ✗"
    assert {row["South Tees"] for label, row in table.items() if label} == {"–"}  # no submission: never a zero
    assert app.query_params["week"] == "2024-04-07"


def test_weekly_position_trusts_as_rows(two_weeks):
    app = run_page("pages/weekly_position.py")
    app.selectbox[2].set_value("rows").run()
    assert app.query_params["view"] == "rows"
    parser = _TableText()
    parser.feed(weekly_table_html(app))
    assert [row[0] for row in parser.rows] == ["Trust", "Combined", "Harrogate", "South Tees"]


def test_weekly_position_narrative_column_is_a_layout_kept_in_the_link(two_weeks):
    save_narrative(two_weeks, date(2024, 4, 14), "stranded_7plus_pct", None, "Two wards reopened", "Gail")
    app = run_page("pages/weekly_position.py")
    assert not app.toggle and "Two wards reopened</span></td>" not in weekly_table_html(app)
    app.selectbox[2].set_value("notes").run()
    assert app.query_params["view"] == "notes"
    assert "Two wards reopened</span></td>" in weekly_table_html(app)  # the narrative column, beside the row
    linked = AppTest.from_file(str(ROOT / "pages/weekly_position.py"), default_timeout=page_run_guard_s())
    linked.query_params["view"] = "notes"
    linked.run()
    assert linked.selectbox[2].value == "notes" and "wt-note-text" in weekly_table_html(linked)


def test_weekly_position_downloads_are_drawn_when_their_section_is_opened(two_weeks):
    app = run_page("pages/weekly_position.py")
    assert not app.download_button
    assert [e for e in app.expander if e.label.startswith("Download this table")]
    app.session_state["downloads"] = True
    app.run()
    assert [b.label for b in app.download_button] == ["Excel (.xlsx)", "Word (.docx)", "CSV"]


def test_weekly_position_icb_filter_from_the_url(two_weeks):
    app = AppTest.from_file(str(ROOT / "pages/weekly_position.py"), default_timeout=page_run_guard_s())
    app.query_params["icb"] = "NHS North East and North Cumbria ICB"
    app.run()
    assert not app.exception
    assert app.multiselect[0].value == ["NHS North East and North Cumbria ICB"]
    assert list(weekly_table(app)[""]) == ["Metric", "Ambition", "Combined", "South Tees"]


def test_place_leads_comment_shows_beside_the_table_marked_as_theirs(two_weeks):
    save_narrative(two_weeks, date(2024, 4, 14), "stranded_7plus_pct", "RCD", "<b>Two wards</b> reopened", "Hal")
    app = run_page("pages/weekly_position.py")
    assert weekly_table(app)["Stranded 7+ days"]["Harrogate"] == "40% ! ↓\ufe0e ✎"
    assert any(d.endswith("Place lead's comment (Hal): <b>Two wards</b> reopened") for d in cell_details(app))
    assert "Harrogate place lead (Hal): <b>Two wards</b> reopened" in [t.value for t in app.text]  # plain text


def test_weekly_position_without_a_database_says_how_to_load(db):
    app = run_page("pages/weekly_position.py")
    assert not app.exception
    assert "No data yet" in app.info[0].value


def test_dashboard_builds_the_sample_database_on_first_start(db):
    app = run_page("dashboard.py")
    assert not app.exception
    assert db.exists()
    assert {"York and Scarborough", "Harrogate", "South Tees", "Airedale"} <= set(weekly_table(app)[""])
    assert app.selectbox[1].value == date(2025, 9, 28)  # the sample's last complete week


def test_new_data_shows_on_the_next_view_without_a_restart(two_weeks, tmp_path):
    app = run_page("pages/weekly_position.py")
    assert app.selectbox[1].value == date(2024, 4, 14)
    load_rows_directly(two_weeks, week_of_rows("RCD", date(2024, 4, 15)))
    app.run()
    assert app.selectbox[1].value == date(2024, 4, 21)


def test_pages_keep_answering_while_an_ingest_is_writing(two_weeks):
    with open_for_write(two_weeks) as writer:
        writer.execute("DELETE FROM sitrep_daily")  # uncommitted work in the ingest's private copy
        app = run_page("pages/weekly_position.py")
        assert not app.exception
        assert "Harrogate" in weekly_table(app)[""]


def test_weekly_position_cells_carry_the_spc_reading(db):
    # 20 weeks at 50% stranded, then 8 weeks at 40%: a shift below the mean, an improvement (lower is better)
    rows = []
    for week in range(28):
        monday = date(2024, 1, 1) + timedelta(weeks=week)
        los_7plus = 45 if week < 20 else 36
        rows += week_of_rows("RCD", monday, ga_beds_occupied=90, los_7plus=los_7plus + week % 2,
                             los_14plus=20, los_21plus=10)
    load_rows_directly(db, rows)
    app = run_page("pages/weekly_position.py")
    cell = weekly_table(app)["Stranded 7+ days"]["Harrogate"]
    assert cell.endswith(" ▲")  # the SPC mark: special cause improvement (low, the details say)
    # limits from all 28 weeks: mean 47.7, lower limit 43.9, above the 40% ambition: consistently failing
    assert any(d.startswith("Harrogate, Stranded") and d.endswith(
        "SPC: Special cause improvement (low); consistently failing the ambition.") for d in cell_details(app))
    # the key to the marks is drawn once its section is opened (a rerun), not on every visit
    assert not any(c.value.startswith("▲ improvement") for c in app.caption)
    app.session_state["spc_legend"] = True
    legend = [c.value for c in app.run().caption]
    assert "▲ improvement (low): Special cause improvement (low)" in legend
    assert sum(m.value.startswith("<svg") for m in app.markdown) == 8  # each mark's icon, with its alt text


def test_place_leads_comment_shows_on_the_drilldown(two_weeks):
    save_narrative(two_weeks, date(2024, 4, 14), "stranded_7plus_pct", "RCD", "Two wards reopened", "Hal")
    app = AppTest.from_file(str(ROOT / "pages/trust.py"), default_timeout=page_run_guard_s())
    app.query_params["trust"] = "RCD"
    app.run()
    assert not app.exception
    assert ("Place lead's comment on Stranded: occupied beds with LoS 7+ days (Hal): Two wards reopened"
            in [t.value for t in app.text])


def test_a_trust_submitting_per_site_shows_its_sites_by_name(db):
    """York and Scarborough (RCB) per site: York Hospital 30 of 60 stranded (50%), Scarborough 8 of 40 (20%)."""
    monday = date(2024, 4, 8)
    load_rows_directly(db, [{**row, "site_code": site} for site, beds, stranded in (("RCB55", 60, 30), ("RCBCA", 40, 8))
                            for row in week_of_rows("RCB", monday, ga_beds_occupied=beds, los_7plus=stranded)])
    app = run_page("pages/weekly_position.py")
    assert weekly_table(app)["Stranded 7+ days"]["York and Scarborough"].startswith("38%")  # the trust: 38 of 100
    york = next(d for d in cell_details(app) if d.startswith("York and Scarborough, Stranded"))
    assert "by site: York Hospital 50% / Scarborough Hospital 20%" in york
