"""SPC over the warehouse: the metric_spc view, the weekly table's readings and the CSV columns."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import duckdb
import pytest
from helpers import load_rows_directly, query, week_of_rows

from pipelines.reports import export
from pipelines.spc.store import baseline_between, save_spc_settings, spc_summary

LAST_SUNDAY = date(2024, 7, 14)  # week 28


@pytest.fixture
def step_down(db):
    """Harrogate: 20 weeks at 50-51% stranded, then 8 weeks at 40-41%: a shift below the mean."""
    rows = []
    for week in range(28):
        los_7plus = (45 if week < 20 else 36) + week % 2
        rows += week_of_rows("RCD", date(2024, 1, 1) + timedelta(weeks=week), ga_beds_occupied=90,
                             los_7plus=los_7plus, los_14plus=20, los_21plus=10)
    load_rows_directly(db, rows)
    return db


def test_metric_spc_view_has_the_latest_weeks_reading(step_down):
    rows = query(step_down, "SELECT week_ending, trust, variation, assurance FROM metric_spc "
                            "WHERE org_code = 'RCD' AND metric = 'stranded_7plus_pct'")
    # limits from all 28 weeks: mean 47.7, lower limit 43.9 is above the 40% ambition
    assert rows == [(LAST_SUNDAY, "Harrogate", "improvement_low", "fail")]
    assert query(step_down, "SELECT count(*) FROM metric_spc WHERE metric = 'trust_opel_max'") == [(0,)]


def test_an_earlier_week_is_read_from_the_series_up_to_it(step_down):
    with duckdb.connect(str(step_down), read_only=True) as con:
        before_the_step = spc_summary(con, date(2024, 5, 19), ["RCD"])  # week 20: 20 points, all at ~50%
    stranded = before_the_step.filter(before_the_step["metric"] == "stranded_7plus_pct").to_dicts()[0]
    assert (stranded["variation"], stranded["assurance"]) == ("common_cause", "fail")


def test_recalculating_from_the_step_is_stored_and_changes_the_reading(step_down):
    save_spc_settings(step_down, "RCD", "stranded_7plus_pct", None, [date(2024, 5, 26)], "Analyst",
                      "new discharge-to-assess service")
    [(variation, message)] = query(step_down, "SELECT variation, message FROM metric_spc "
                                              "WHERE org_code = 'RCD' AND metric = 'stranded_7plus_pct'")
    assert variation == "run_chart"  # 8 weeks since the change: too few for new limits
    assert "Recalculated from 26 May 2024" in message
    assert query(step_down, "SELECT set_by, reason FROM spc_settings") == [("Analyst", "new discharge-to-assess service")]


def test_the_weekly_csv_carries_variation_and_assurance(step_down):
    with duckdb.connect(str(step_down), read_only=True) as con:
        content = export.render(con, LAST_SUNDAY, (), (), "csv")
    rows = {(r["metric"], r["trust"]): r for r in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}
    stranded = rows["stranded_7plus_pct", "Harrogate"]
    assert (stranded["variation"], stranded["assurance"]) == ("improvement_low", "fail")


@pytest.mark.parametrize("start, end, refusal", [
    (date(2024, 1, 7), None, "give both baseline dates, or neither"),
    (None, date(2024, 5, 19), "give both baseline dates, or neither"),
    (date(2024, 5, 19), date(2024, 1, 7), "the baseline must start before it ends"),
])
def test_a_baseline_is_both_dates_in_order_or_none(start, end, refusal):
    assert baseline_between(None, None) is None  # no baseline: limits from every point
    assert baseline_between(date(2024, 1, 7), date(2024, 5, 19)) == (date(2024, 1, 7), date(2024, 5, 19))
    assert baseline_between(date(2024, 1, 7), date(2024, 1, 7)) == (date(2024, 1, 7), date(2024, 1, 7))  # one week
    with pytest.raises(ValueError, match=refusal):
        baseline_between(start, end)
