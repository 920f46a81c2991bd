"""AppTest for every page: what a user would see on a known fixture."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import load_rows_directly, week_of_rows
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def run_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / page), default_timeout=60)
    return app.run()


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
    assert app.selectbox[0].value == date(2024, 4, 14)
    table = app.dataframe[0].value
    assert list(table.columns[:4]) == ["Metric", "Ambition", "Harrogate", "South Tees"]
    stranded = table.set_index("Metric").loc["Stranded: occupied beds with LoS 7+ days"]
    assert stranded["Ambition"] == "< 40%"
    assert stranded["Harrogate"].startswith("40.0% ! just misses")
    assert stranded["Harrogate"].endswith("↓ 10.0 pts better")
    assert stranded["South Tees"].startswith("45.0% ✗ misses ambition")


def test_weekly_position_week_picker_changes_the_table(two_weeks):
    app = run_page("pages/weekly_position.py")
    app.selectbox[0].set_value(date(2024, 4, 7)).run()
    table = app.dataframe[0].value.set_index("Metric")
    assert table.loc["Stranded: occupied beds with LoS 7+ days", "Harrogate"].startswith("50.0% ✗ misses ambition")
    assert set(table["South Tees"]) == {"no submission this week"}
    assert app.query_params["week"] == "2024-04-07"


def test_weekly_position_headline_combines_selected_trusts(two_weeks):
    app = run_page("pages/weekly_position.py")
    stranded = next(m for m in app.metric if m.label == "Stranded 7+ days")
    assert stranded.value == f"{100 * (7 * 36 + 7 * 36) / (7 * 90 + 7 * 80):.1f}%"  # ratio of the two trusts' sums
    assert "trusts submitted" in app.caption[0].value and "2 of 2" in app.caption[0].value


def test_weekly_position_icb_filter_from_the_url(two_weeks):
    app = AppTest.from_file(str(ROOT / "pages/weekly_position.py"), default_timeout=60)
    app.query_params["icb"] = "NHS North East and North Cumbria ICB"
    app.run()
    assert not app.exception
    assert app.multiselect[0].value == ["NHS North East and North Cumbria ICB"]
    assert list(app.dataframe[0].value.columns) == ["Metric", "Ambition", "South Tees", "Narrative"]


def test_weekly_position_without_a_database_says_how_to_load(db):
    app = run_page("pages/weekly_position.py")
    assert not app.exception
    assert "No data yet" in app.info[0].value


def test_dashboard_builds_the_sample_database_on_first_start(db):
    app = run_page("dashboard.py")
    assert not app.exception
    assert db.exists()
    table = app.dataframe[0].value
    assert {"York and Scarborough", "Harrogate", "South Tees", "Airedale"} <= set(table.columns)
    assert app.selectbox[0].value == date(2025, 9, 28)  # the sample's last complete week


def test_new_data_shows_on_the_next_view_without_a_restart(two_weeks, tmp_path):
    app = run_page("pages/weekly_position.py")
    assert app.selectbox[0].value == date(2024, 4, 14)
    load_rows_directly(two_weeks, week_of_rows("RCD", date(2024, 4, 15)))
    app.run()
    assert app.selectbox[0].value == date(2024, 4, 21)


def test_pages_keep_answering_while_an_ingest_is_writing(two_weeks):
    from pipelines.warehouse import open_for_write

    with open_for_write(two_weeks) as writer:
        writer.execute("DELETE FROM sitrep_daily")  # uncommitted work in the ingest's private copy
        app = run_page("pages/weekly_position.py")
        assert not app.exception
        assert "Harrogate" in app.dataframe[0].value.columns


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
    cell = app.dataframe[0].value.set_index("Metric").loc["Stranded: occupied beds with LoS 7+ days", "Harrogate"]
    # limits from all 28 weeks: mean 47.7, lower limit 43.9, above the 40% ambition: consistently failing
    assert cell.endswith("SPC ⇩ improvement, failing")
    legend = [c.value for c in app.caption]
    assert "SPC ⇩ improvement: Special cause improvement (low)" in legend
