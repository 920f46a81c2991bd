"""Narrative drafts of the discharge ready date metrics: the plan's asks in words, checked on small fixtures."""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from helpers import DRD_ROW, load_rows_directly, week_of_rows

from pipelines.reports import narrative
from pipelines.reports.weekly_table import WeeklyTable, build_weekly_table

WEEK_1 = date(2025, 6, 2)  # a Monday: the plan's ambitions are in force from 1 June 2025
SUNDAY_2 = WEEK_1 + timedelta(days=13)


@pytest.fixture
def table(db) -> WeeklyTable:
    """Harrogate (RCD): 7 then 3 patients a day waiting 21+ days beyond their DRD, no internal delays; its mean
    delay 4.0 days (40 over 10 discharges a day), then 2.0 (20: the 21+ patient gone, one more on the day).
    York (RCB): 2 waiting both weeks, 1 internal delay a day in week 2."""
    better = {**DRD_ROW, "drd_delay_0": 5, "drd_delay_21plus": 0, "drd_delay_days": 20}
    load_rows_directly(db, week_of_rows("RCD", WEEK_1,
                                        **{**DRD_ROW, "past_drd_21plus": 7, "internal_delay_48h_plus": 0})
                       + week_of_rows("RCD", WEEK_1 + timedelta(days=7),
                                      **{**better, "past_drd_21plus": 3, "internal_delay_48h_plus": 0})
                       + week_of_rows("RCB", WEEK_1, **{**DRD_ROW, "past_drd_21plus": 2, "internal_delay_48h_plus": 0})
                       + week_of_rows("RCB", WEEK_1 + timedelta(days=7),
                                      **{**DRD_ROW, "past_drd_21plus": 2, "internal_delay_48h_plus": 1}))
    with duckdb.connect(str(db), read_only=True) as con:
        return build_weekly_table(con, SUNDAY_2)


def test_a_trusts_draft_says_how_many_wait_21_days_and_that_the_plan_asks_for_none(table):
    assert narrative.draft_trust_narrative(table, "past_drd_21plus", "RCD") == (
        "Harrogate: 3 patients waiting 21+ days beyond their discharge ready date, down from 7; "
        "the plan asks for none.")


def test_the_system_draft_combines_the_trusts_counts(table):
    assert narrative.draft_narrative(table, "past_drd_21plus").startswith(
        "Combined: 5 patients waiting 21+ days beyond their discharge ready date, down from 9; "
        "the plan asks for none. Highest: Harrogate 3 and York and Scarborough 2.")


def test_internal_delays_up_from_none(table):
    assert narrative.draft_trust_narrative(table, "internal_delay_48h_plus", "RCB") == (
        "York and Scarborough: 1 patient delayed over 48 hours past their discharge ready date for a reason inside "
        "the hospital, up from 0; the plan asks for none.")


def test_a_mean_delay_changes_by_days_not_points(table):
    assert narrative.draft_trust_narrative(table, "avg_delay_days", "RCD") == (
        "Harrogate: 2.0 days, 2 days better than last week.")


def test_the_share_waiting_21_days_is_read_against_the_plans_ambition(table):
    assert narrative.draft_trust_narrative(table, "delay_21plus_pct", "RCD") == (
        "Harrogate: 0.0%, within the ambition (≤ 0.7%), 10 points better than last week.")
