"""Narratives: the drafted wording checked sentence by sentence on small fixtures, and saving
(every save kept, the limits and their messages)."""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import load_rows_directly, query, week_of_rows

from pipelines.reports import narrative
from pipelines.reports.weekly_table import WeeklyTable, build_weekly_table

WEEK_1, WEEK_2 = date(2024, 4, 1), date(2024, 4, 8)  # Mondays; the weeks end on 7 and 14 April 2024
SUNDAY_1, SUNDAY_2 = date(2024, 4, 7), date(2024, 4, 14)


@pytest.fixture
def two_weeks(db: Path) -> Path:
    """Figures per 100 occupied beds, so each percentage is its count:

    * Harrogate (RCD): stranded 49% then 52%; 14+ days 20% then 25%; super-stranded 15% then 11%;
      recorded delays 10 then 11 a day; trust OPEL 3 both weeks; pathways 0-1 90% both weeks.
    * York and Scarborough (RCB): stranded 37% then 39%; 14+ days 20% both weeks; super-stranded
      10% then 13%; recorded delays 10 then 8; trust OPEL 2 then 3; pathways 0-1 95% then 90%.
    * South Tees (RTR): week 1 only.
    """
    york_1 = dict(los_7plus=37, los_21plus=10, trust_opel=2, discharges_p0=19, discharges_p1=0)
    load_rows_directly(db, week_of_rows("RCD", WEEK_1, ga_beds_occupied=100, los_7plus=49, los_21plus=15, trust_opel=3)
                       + week_of_rows("RCD", WEEK_2, ga_beds_occupied=100, los_7plus=52, los_14plus=25, los_21plus=11,
                                      nctr_patients=16, trust_opel=3)
                       + week_of_rows("RCB", WEEK_1, ga_beds_occupied=100, **york_1)
                       + week_of_rows("RCB", WEEK_2, ga_beds_occupied=100, los_7plus=39, los_21plus=13,
                                      nctr_patients=13, trust_opel=3)
                       + week_of_rows("RTR", WEEK_1))
    return db


def weekly_table(db: Path, week: date, icbs: tuple[str, ...] = ()) -> WeeklyTable:
    with duckdb.connect(str(db), read_only=True) as con:
        return build_weekly_table(con, week, icbs)


@pytest.fixture
def table(two_weeks: Path) -> WeeklyTable:
    return weekly_table(two_weeks, SUNDAY_2)


@pytest.mark.parametrize("metric, expected", [
    ("stranded_7plus_pct",
     "Harrogate remains over the ambition at 52.0% and worsened by 3.0 points; York and Scarborough remains within it "
     "at 39.0% but worsened by 2.0 points. No figures this week from South Tees."),
    ("super_stranded_21plus_pct",
     "Harrogate is back within the ambition at 11.0% and improved by 4.0 points; York and Scarborough has gone just "
     "over it at 13.0% and worsened by 3.0 points. No figures this week from South Tees."),
    ("stranded_14plus_pct",  # no ambition: the level and the change only
     "Harrogate is at 25.0% and worsened by 5.0 points; York and Scarborough is at 20.0%, unchanged on last week. "
     "No figures this week from South Tees."),
    ("pathway_0_1_pct",  # higher is better: below the ambition, not over it
     "Harrogate remains below the ambition at 90.0%, unchanged on last week; York and Scarborough has fallen below it "
     "at 90.0% and worsened by 5.0 points. No figures this week from South Tees."),
    ("recorded_delays",
     "Harrogate: 11, up 10% on last week; York and Scarborough: 8, down 20% on last week. "
     "No figures this week from South Tees."),
    ("trust_opel_max",
     "Harrogate: highest level 3, the same as last week; York and Scarborough: highest level 3, up from 2 last week. "
     "No figures this week from South Tees."),
])
def test_draft_narrative_in_the_discharge_groups_style(table, metric, expected):
    assert narrative.draft_narrative(table, metric) == expected


def with_spc(table: WeeklyTable, org_code: str, variation: str, assurance: str | None) -> WeeklyTable:
    position = table.position.with_columns(
        variation=pl.when(pl.col("org_code") == org_code).then(pl.lit(variation)).otherwise(pl.col("variation")),
        assurance=pl.when(pl.col("org_code") == org_code).then(pl.lit(assurance)).otherwise(pl.col("assurance")))
    return dataclasses.replace(table, position=position)


def test_draft_narrative_says_what_spc_adds_beyond_noise(table):
    spc_table = with_spc(table, "RCB", "concern_high", "fail")
    assert narrative.draft_narrative(spc_table, "stranded_7plus_pct") == (
        "Harrogate remains over the ambition at 52.0% and worsened by 3.0 points; York and Scarborough remains within "
        "it at 39.0% but worsened by 2.0 points (special-cause concern, consistently failing the ambition). "
        "No figures this week from South Tees.")
    # common cause and hit or miss go unsaid
    assert narrative.draft_narrative(with_spc(table, "RCB", "common_cause", "hit_or_miss"), "stranded_7plus_pct") == (
        narrative.draft_narrative(table, "stranded_7plus_pct"))


def test_draft_for_a_part_week_with_no_week_before(db):
    load_rows_directly(db, week_of_rows("RTR", WEEK_2, ga_beds_occupied=100, los_7plus=45)[:5])
    table = weekly_table(db, SUNDAY_2)
    assert narrative.draft_narrative(table, "stranded_7plus_pct") == (
        "South Tees is over the ambition at 45.0% (5 of 7 days), with no figure for the week before.")
    assert narrative.draft_narrative(table, "recorded_delays") == (
        "South Tees: 10 (5 of 7 days), with no figure for the week before.")
    assert narrative.draft_narrative(table, "trust_opel_max") == "South Tees: highest level 2."


def test_draft_counts_from_none_last_week(db):
    load_rows_directly(db, week_of_rows("RTR", WEEK_1, nctr_patients=5, nctr_discharged=5, nctr_discharged_by_5pm=2)
                       + week_of_rows("RTR", WEEK_2))
    assert narrative.draft_narrative(weekly_table(db, SUNDAY_2), "recorded_delays") == "South Tees: 10, up from 0 last week."


def test_draft_when_no_selected_trust_reported(two_weeks):
    table = weekly_table(two_weeks, SUNDAY_2, ("NHS North East and North Cumbria ICB",))
    assert narrative.draft_narrative(table, "stranded_7plus_pct") == "No figures this week from South Tees."


def test_trust_draft_names_the_ambition(table):
    assert narrative.draft_trust_narrative(table, "stranded_7plus_pct", "RCD") == (
        "Harrogate remains over the ambition (< 40%) at 52.0% and worsened by 3.0 points.")
    assert narrative.draft_trust_narrative(with_spc(table, "RCB", "concern_low", "fail"), "pathway_0_1_pct",
                                           "RCB") == (
        "York and Scarborough has fallen below the ambition (≥ 95%) at 90.0% and worsened by 5.0 points "
        "(special-cause concern, consistently failing the ambition).")
    assert narrative.draft_trust_narrative(table, "stranded_7plus_pct", "RTR") == "South Tees has no figures for this week."
    with pytest.raises(ValueError, match="not one of the table's trusts"):
        narrative.draft_trust_narrative(table, "stranded_7plus_pct", "RXP")


# --- Saving -----------------------------------------------------------------------------------

def history(db: Path, metric: str = "stranded_7plus_pct", org_code: str | None = None) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return narrative.narrative_history(con, SUNDAY_2, metric, org_code)


def current(db: Path) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return narrative.current_narratives(con, SUNDAY_2)


def test_every_save_is_kept_and_the_latest_is_current(two_weeks):
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", None, "  First text.  ", "Ann")
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", None, "Second text.", "Bob")
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", "RCD", "Harrogate's comment.", "Cat")
    saved = history(two_weeks)
    assert saved["text"].to_list() == ["Second text.", "First text."]  # newest first, stripped
    assert saved["author"].to_list() == ["Bob", "Ann"]
    assert saved["saved_at"][0] >= saved["saved_at"][1]
    assert history(two_weeks, org_code="RCD")["text"].to_list() == ["Harrogate's comment."]
    now = current(two_weeks)
    assert now.select("metric", "org_code", "text", "author").rows() == [
        ("stranded_7plus_pct", None, "Second text.", "Bob"), ("stranded_7plus_pct", "RCD", "Harrogate's comment.", "Cat")]
    assert narrative.narrative_text(now, "stranded_7plus_pct") == "Second text."
    assert narrative.narrative_text(now, "stranded_7plus_pct", "RCD") == "Harrogate's comment."
    assert narrative.narrative_text(now, "recorded_delays") == ""
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(3,)]


def test_length_limit_with_a_clear_message(two_weeks):
    narrative.save_narrative(two_weeks, SUNDAY_2, "recorded_delays", None, "x" * narrative.MAX_LENGTH, "Ann")
    with pytest.raises(ValueError) as problem:
        narrative.save_narrative(two_weeks, SUNDAY_2, "recorded_delays", None, "x" * 2001, "Ann")
    assert str(problem.value) == ("The narrative is 2,001 characters long; the limit is 2,000. "
                                  "Please shorten it by 1 character.")
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(1,)]


@pytest.mark.parametrize("week, metric, org_code, text, author, message", [
    (SUNDAY_2, "stranded_7plus_pct", None, " \n\t ", "Ann", "The narrative is empty"),
    (SUNDAY_2, "stranded_7plus_pct", None, "Text.", "  ", "Please give your name"),
    (SUNDAY_2, "no_such_metric", None, "Text.", "Ann", "'no_such_metric' is not a metric"),
    (date(2024, 4, 13), "stranded_7plus_pct", None, "Text.", "Ann", "13/04/2024 is not a Sunday"),
    (SUNDAY_2, "stranded_7plus_pct", "ZZZ", "Text.", "Ann", "'ZZZ' is not a known trust ODS code"),
])
def test_rejected_saves_write_nothing(two_weeks, week, metric, org_code, text, author, message):
    with pytest.raises(ValueError, match=message):
        narrative.save_narrative(two_weeks, week, metric, org_code, text, author)
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]


def test_text_is_cleaned_for_documents(two_weeks):
    """Control characters (which .docx and .xlsx cannot hold) are dropped; line breaks kept as \\n."""
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", None, "Line one\r\nLine\x00 two\x07\r", "Ann")
    assert history(two_weeks)["text"].to_list() == ["Line one\nLine two"]


def test_table_with_the_narrative_column(two_weeks):
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", None, "York within, Harrogate over.", "Ann")
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", "RCD", "A trust comment, not shown.", "Hal")
    table = weekly_table(two_weeks, SUNDAY_2)
    text, status = narrative.with_narratives(table, current(two_weeks))
    assert text.columns == [*table.text.columns, "Narrative"] and status.columns == text.columns
    by_metric = dict(zip(text["Metric"], text["Narrative"]))
    assert by_metric["Stranded: occupied beds with LoS 7+ days"] == "York within, Harrogate over."
    assert by_metric["G&A bed occupancy"] == ""
    assert set(status["Narrative"]) == {"none"}
