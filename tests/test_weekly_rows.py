"""The weekly table's rows: the catalogue's default set (the plan's asks included, few enough for one screen),
a "Rows shown" choice kept in the URL, and every metric still available. Nothing here names the set."""
from __future__ import annotations

from datetime import date

import pytest
from helpers import DRD_ROW, load_rows_directly, week_of_rows
from streamlit.testing.v1 import AppTest
from test_pages import ROOT, run_page, weekly_table

from pipelines.catalogue.metrics import DEFAULT_ROWS, METRIC_BY_ID, METRIC_IDS, METRICS, weekly_rows

# About 14 rows fit one 1366 x 768 screen above the key.
MOST_DEFAULT_ROWS = 14


def test_the_default_rows_fit_one_screen_and_include_every_ask_of_the_plan():
    assert 0 < len(DEFAULT_ROWS) <= MOST_DEFAULT_ROWS
    assert {m.id for m in METRICS if m.optional and m.default_row} <= set(DEFAULT_ROWS)
    assert any(m.optional for m in METRICS if m.id in DEFAULT_ROWS)  # the discharge ready date asks are shown


@pytest.mark.parametrize("chosen, expected", [
    (None, DEFAULT_ROWS), ([], DEFAULT_ROWS), (["no_such_metric"], DEFAULT_ROWS),
    (list(reversed(METRIC_IDS)), METRIC_IDS),  # catalogue order, whatever the order chosen
    ([METRIC_IDS[-1], METRIC_IDS[0]], (METRIC_IDS[0], METRIC_IDS[-1])),
])
def test_weekly_rows_are_the_chosen_metrics_in_catalogue_order_else_the_default(chosen, expected):
    assert weekly_rows(chosen) == expected


@pytest.fixture
def drd_weeks(db):
    """Harrogate: a week without discharge ready date figures, then a week with them; South Tees: both weeks
    with them (a row nobody has figures for is left out of the table)."""
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1)) + week_of_rows("RCD", date(2024, 4, 8), **DRD_ROW)
                       + week_of_rows("RTR", date(2024, 4, 1), **DRD_ROW)
                       + week_of_rows("RTR", date(2024, 4, 8), **DRD_ROW))
    return db


def labels(metric_ids) -> list[str]:
    return [METRIC_BY_ID[m].short_label for m in metric_ids]


def test_the_weekly_page_shows_the_default_rows_with_the_discharge_ready_date_metrics(drd_weeks):
    app = run_page("pages/weekly_position.py")
    assert not app.exception
    table = weekly_table(app)
    assert [label for label in table if label] == labels(DEFAULT_ROWS)
    # 10 discharges with a DRD each day, 1 of them 21+ days after it; 3 patients waiting 21+ days past it
    assert table[METRIC_BY_ID["delay_21plus_pct"].short_label]["Harrogate"].startswith("10.0%")
    assert table[METRIC_BY_ID["past_drd_21plus"].short_label]["Harrogate"].startswith("3")
    assert "rows" not in app.query_params  # the default needs no URL parameter


def test_a_week_before_the_first_figure_says_not_collected_not_zero(drd_weeks):
    app = AppTest.from_file(str(ROOT / "pages/weekly_position.py"), default_timeout=60)
    app.query_params["week"] = "2024-04-07"
    app.run()
    table = weekly_table(app)
    for metric in (m for m in METRICS if m.optional and m.id in DEFAULT_ROWS):
        assert table[metric.short_label]["Harrogate"] == "not collected before 08/04/2024", metric.id


def test_rows_shown_can_be_any_metric_and_are_kept_in_the_url(drd_weeks):
    app = run_page("pages/weekly_position.py")
    rows = next(m for m in app.multiselect if m.label == "Rows shown")
    hidden = [m for m in METRIC_IDS if m not in DEFAULT_ROWS]
    rows.set_value([*hidden, DEFAULT_ROWS[0]]).run()
    assert not app.exception
    shown = weekly_rows([*hidden, DEFAULT_ROWS[0]])
    assert [label for label in weekly_table(app) if label] == labels(shown)
    assert app.query_params["rows"] == list(shown)

    linked = AppTest.from_file(str(ROOT / "pages/weekly_position.py"), default_timeout=60)
    linked.query_params["rows"] = list(shown)
    linked.run()
    assert [label for label in weekly_table(linked) if label] == labels(shown)  # a link opens the same rows
