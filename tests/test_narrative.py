"""Narratives: the drafted wording checked sentence by sentence on small fixtures, and saving
(every save kept, the limits and their messages)."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import load_rows_directly, query, week_of_rows

from pipelines import config
from pipelines.queries import weekly
from pipelines.reports import narrative
from pipelines.reports.presentation import TableCell
from pipelines.reports.weekly_table import WeeklyTable, build_weekly_table, metric_rows
from pipelines.warehouse import connect_read

WEEK_1, WEEK_2 = date(2024, 4, 1), date(2024, 4, 8)  # Mondays; the weeks end on 7 and 14 April 2024
SUNDAY_1, SUNDAY_2 = date(2024, 4, 7), date(2024, 4, 14)


@pytest.fixture
def two_weeks(db: Path) -> Path:
    """Figures per 100 occupied beds, so each percentage is its count:

    * Harrogate (RCD): stranded 49% then 52%; 14+ days 20% then 25%; super-stranded 15% then 11%;
      recorded delays 10 then 11 a day; trust OPEL 3 both weeks; pathways 0-1 90% both weeks.
    * York and Scarborough (RCB): stranded 37% then 39%; 14+ days 20% both weeks; super-stranded
      10% then 13%; recorded delays 10 then 8; trust OPEL 2 then 3; pathways 0-1 95% then 90%.
    * South Tees (RTR): week 1 only, so the combined change is like for like over Harrogate and York:
      stranded (49 + 37) / 200 = 43% to (52 + 39) / 200 = 45.5%, 2.5 points worse; recorded delays
      10 + 10 = 20 to 11 + 8 = 19 a day, down 5% (not down 37% against a week 1 that included South Tees).
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
     "Combined: 46%, over the ambition (< 40%), 2.5 points worse than last week. 1 of 2 over the ambition: "
     "Harrogate 52%; Harrogate worsened most, by 3 points. York and Scarborough within but rising; no figures from "
     "South Tees."),
    ("super_stranded_21plus_pct",  # one decimal place where the compact figure would read as the ambition itself
     "Combined: 12.0%, over the ambition (< 12%), 0.5 points better than last week. 1 of 2 over the ambition: "
     "York and Scarborough 13%; York and Scarborough worsened most, by 3 points. No figures from South Tees."),
    ("stranded_14plus_pct",  # no ambition: highest first and who worsened most
     "Combined: 22%, 2.5 points worse than last week. Highest: Harrogate 25% and York and Scarborough 20%; "
     "Harrogate worsened most, by 5 points. No figures from South Tees."),
    ("pathway_0_1_pct",  # higher is better: below the ambition, not over it
     "Combined: 90%, below the ambition (≥ 95%), 3.3 points worse than last week. Both below the ambition: "
     "Harrogate 90% and York and Scarborough 90%; York and Scarborough worsened most, by 5 points. "
     "No figures from South Tees."),
    ("recorded_delays",  # counts as the seed table writes them: the percentage change
     "Combined: 19, down 5% on last week. Highest: Harrogate 11 and York and Scarborough 8; Harrogate rose most, "
     "by 10%. No figures from South Tees."),
    ("trust_opel_max",  # two trusts, not three: the comma before the list's own "and"
     "Highest level this week: 3, unchanged on last week. By trust, level 3: Harrogate, and York and Scarborough. "
     "No figures from South Tees."),
])
def test_draft_narrative_system_first_then_trusts_grouped(table, metric, expected):
    assert narrative.draft_narrative(table, metric) == expected


@pytest.mark.parametrize("names, text", [
    (["Harrogate", "Hull"], "Harrogate and Hull"),
    (["Northern Lincolnshire", "York and Scarborough"], "Northern Lincolnshire, and York and Scarborough"),
    (["Airedale", "Bradford", "Calderdale and Huddersfield"], "Airedale, Bradford, and Calderdale and Huddersfield"),
    (["Harrogate 25%", "York and Scarborough 20%"], "Harrogate 25% and York and Scarborough 20%"),  # figures part them
])
def test_a_list_of_trusts_reads_as_that_many_trusts(names, text):
    assert narrative._names(names) == text


def test_up_to_five_trusts_are_named_and_more_are_a_count():
    """A discharge group of five reads every trust by name (it said "and 2 more"); six or more are a count."""
    names = ["Airedale", "Bradford", "Calderdale and Huddersfield", "Hull", "Leeds"]
    assert narrative._count_or_names(names) == (
        "Airedale, Bradford, Calderdale and Huddersfield, Hull, and Leeds")
    assert narrative._count_or_names([*names, "York"]) == "6 trusts"


def with_spc(table: WeeklyTable, org_code: str, variation: str, assurance: str | None) -> WeeklyTable:
    position = table.position.with_columns(
        variation=pl.when(pl.col("org_code") == org_code).then(pl.lit(variation)).otherwise(pl.col("variation")),
        assurance=pl.when(pl.col("org_code") == org_code).then(pl.lit(assurance)).otherwise(pl.col("assurance")))
    return dataclasses.replace(table, position=position, rows=metric_rows(position, table.system, table.trusts))


SYSTEM_STRANDED = ("Combined: 46%, over the ambition (< 40%), 2.5 points worse than last week. 1 of 2 over the "
                   "ambition: Harrogate 52%; Harrogate worsened most, by 3 points. ")


def test_spc_never_contradicts_the_status(table):
    # York meets the ambition this week in a process that does not reliably meet it: said exactly so,
    # never "remains within it ... consistently failing the ambition"
    assert narrative.draft_narrative(with_spc(table, "RCB", "concern_high", "fail"), "stranded_7plus_pct") == (
        SYSTEM_STRANDED + "York and Scarborough within this week but not reliably (SPC); no figures from South Tees.")
    # Harrogate misses in a process that usually passes
    assert narrative.draft_narrative(with_spc(table, "RCD", "improvement_low", "pass"), "stranded_7plus_pct") == (
        SYSTEM_STRANDED + "York and Scarborough within but rising; Harrogate missed this week though it usually meets "
        "it (SPC); no figures from South Tees.")
    # an improvement on a trust still over the ambition is said with the status, not against it
    assert narrative.draft_narrative(with_spc(table, "RCD", "improvement_low", "fail"), "stranded_7plus_pct") == (
        SYSTEM_STRANDED + "York and Scarborough within but rising; special-cause improvement (SPC) at Harrogate though "
        "still short of the ambition; no figures from South Tees.")
    # common cause and hit or miss add nothing, so go unsaid
    assert narrative.draft_narrative(with_spc(table, "RCB", "common_cause", "hit_or_miss"), "stranded_7plus_pct") == (
        narrative.draft_narrative(table, "stranded_7plus_pct"))


def test_a_thirteen_trust_week_stays_within_three_sentences_and_about_sixty_words(db):
    """Every trust of the sample's size over the ambition and worsening: more than five trusts are a count."""
    codes = query_trusts(db)
    load_rows_directly(db, [row for i, code in enumerate(codes) for row in
                            week_of_rows(code, WEEK_1, ga_beds_occupied=100, los_7plus=40 + i)
                            + week_of_rows(code, WEEK_2, ga_beds_occupied=100, los_7plus=45 + i, los_21plus=5 + i)])
    with connect_read(db) as con:
        table = build_weekly_table(con, SUNDAY_2)
    assert table.trusts.height == len(codes) == 13
    for row in table.rows:
        draft = narrative.draft_narrative(table, row.metric)
        assert len(draft.split()) <= 65, draft
        assert draft.count(". ") + 1 <= 3, draft
    stranded = narrative.draft_narrative(table, "stranded_7plus_pct")
    assert "All 13 over the ambition; " in stranded and "more" not in stranded, stranded


def with_missing(table: WeeklyTable, metric: str, count: int) -> WeeklyTable:
    """``table`` with ``count`` more trusts (X000, X001, ...) that sent figures this week but none for ``metric``."""
    rows = [dataclasses.replace(r, cells=r.cells + [TableCell(f"X{i:03d}", f"Trust {i}", metric, None, "none")
                                                    for i in range(count)]) if r.metric == metric else r
            for r in table.rows]
    return dataclasses.replace(table, rows=rows)


def test_more_than_five_missing_trusts_are_a_count_and_those_that_never_report_are_said_apart(table):
    """119 trusts with NHS England's publication: 106 of them have no beds, so no stranded figure, ever.
    Naming them ran to 75 words for one metric; a count keeps it near 60 and says why they are absent."""
    metric = "stranded_7plus_pct"
    many = with_missing(table, metric, 106)
    never = frozenset(f"X{i:03d}" for i in range(104))
    draft = narrative.draft_narrative(many, metric, never)
    assert draft.endswith("no figures from South Tees, Trust 104 and Trust 105; 104 trusts have never reported "
                          "this figure."), draft
    assert len(draft.split()) <= 60 and "Trust 0" not in draft, draft
    assert narrative.draft_narrative(with_missing(table, metric, 5), metric).endswith("no figures from 6 trusts.")
    assert narrative.draft_narrative(with_missing(table, metric, 4), metric).endswith(
        "no figures from South Tees, Trust 0, Trust 1, Trust 2 and Trust 3.")
    assert narrative.draft_narrative(with_missing(table, metric, 2), metric).endswith(
        "no figures from South Tees, Trust 0 and Trust 1.")
    one_never = narrative.draft_narrative(with_missing(table, metric, 1), metric, frozenset({"X000"}))
    assert one_never.endswith("no figures from South Tees; Trust 0 has never reported this figure.")


def test_never_reported_is_every_week_up_to_this_one(db):
    """South Tees sends no criteria-to-reside count in either week: it has never reported that figure;
    Harrogate sent week 1 only, so its figures are missing in week 2, not never reported."""
    load_rows_directly(db, week_of_rows("RCD", WEEK_1) + week_of_rows("RTR", WEEK_1, nctr_patients=None)
                       + week_of_rows("RTR", WEEK_2, nctr_patients=None))
    with duckdb.connect(str(db), read_only=True) as con:
        codes = ("RCD", "RTR")
        assert weekly.never_reported(con, "stranded_7plus_pct", codes, SUNDAY_2) == frozenset()
        assert weekly.never_reported(con, "nctr_pct_of_occupied", codes, SUNDAY_2) == {"RTR"}
        assert weekly.never_reported(con, "nctr_pct_of_occupied", codes, SUNDAY_1 - timedelta(days=7)) == {
            "RCD", "RTR"}
        # the narrative page's one read for the metrics it shows: the same answer, metric by metric
        assert weekly.never_reported_each(con, ("stranded_7plus_pct", "nctr_pct_of_occupied"), codes, SUNDAY_2) == {
            "stranded_7plus_pct": frozenset(), "nctr_pct_of_occupied": {"RTR"}}


def query_trusts(db: Path) -> list[str]:
    return pl.read_csv(config.reference_dir() / "trusts.csv")["org_code"].to_list()[:13]


def test_draft_for_a_part_week_with_no_week_before(db):
    load_rows_directly(db, week_of_rows("RTR", WEEK_2, ga_beds_occupied=100, los_7plus=45)[:5])
    table = weekly_table(db, SUNDAY_2)
    assert narrative.draft_narrative(table, "stranded_7plus_pct") == (
        "Combined: 45%, over the ambition (< 40%), no figure for the week before. Over the ambition: "
        "South Tees 45%.")
    assert narrative.draft_narrative(table, "recorded_delays") == (
        "Combined: 10, no figure for the week before. Highest: South Tees 10.")
    assert narrative.draft_narrative(table, "trust_opel_max") == (
        "Highest level this week: 2, no figure for the week before. By trust, level 2: South Tees.")


def test_draft_counts_from_none_last_week(db):
    load_rows_directly(db, week_of_rows("RTR", WEEK_1, nctr_patients=5, nctr_discharged=5, nctr_discharged_by_5pm=2)
                       + week_of_rows("RTR", WEEK_2))
    assert narrative.draft_narrative(weekly_table(db, SUNDAY_2), "recorded_delays") == (
        "Combined: 10, up from 0 last week. Highest: South Tees 10.")


def test_draft_when_no_selected_trust_reported(two_weeks):
    table = weekly_table(two_weeks, SUNDAY_2, ("NHS North East and North Cumbria ICB",))
    assert narrative.draft_narrative(table, "stranded_7plus_pct") == "No figures this week."


def test_trust_draft_says_the_status_then_spc_only_where_it_adds(table):
    assert narrative.draft_trust_narrative(table, "stranded_7plus_pct", "RCD") == (
        "Harrogate: 52%, over the ambition (< 40%), 3 points worse than last week.")
    assert narrative.draft_trust_narrative(with_spc(table, "RCB", "concern_low", "fail"), "pathway_0_1_pct", "RCB") == (
        "York and Scarborough: 90%, below the ambition (≥ 95%), 5 points worse than last week. "
        "SPC: special-cause concern and consistently failing the ambition.")
    assert narrative.draft_trust_narrative(with_spc(table, "RCB", "improvement_low", "fail"), "stranded_7plus_pct",
                                           "RCB") == (
        "York and Scarborough: 39%, within the ambition (< 40%), 2 points worse than last week. It meets the ambition "
        "this week, but its process does not reliably meet it (SPC).")
    assert (narrative.draft_trust_narrative(table, "stranded_7plus_pct", "RTR")
            == "South Tees has no figures for this week.")
    with pytest.raises(ValueError, match="not one of the table's trusts"):
        narrative.draft_trust_narrative(table, "stranded_7plus_pct", "RXP")


# --- Saving -----------------------------------------------------------------------------------

def history(db: Path, metric: str = "stranded_7plus_pct", org_code: str | None = None) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return narrative.narrative_history(con, SUNDAY_2, org_code).filter(pl.col("metric") == metric)


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
        ("stranded_7plus_pct", None, "Second text.", "Bob"),
        ("stranded_7plus_pct", "RCD", "Harrogate's comment.", "Cat")]
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


def test_saved_narratives_and_comments_marked_as_whose_for_the_table(two_weeks):
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", None, "York within, Harrogate over.", "Ann")
    narrative.save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", "RCD", "Two wards reopened.", "Hal")
    assert narrative.comments_by_cell(current(two_weeks)) == {
        ("stranded_7plus_pct", None): "Narrative (Ann): York within, Harrogate over.",
        ("stranded_7plus_pct", "RCD"): "Place lead's comment (Hal): Two wards reopened."}


def test_combined_change_is_like_for_like_when_a_trust_sent_one_week(db):
    """South Tees sent week 2 only: the combined figure counts it, the change does not, and says so
    (Harrogate alone: 10 then 11 delays a day is up 10%; with South Tees' 10 it would read up 110%)."""
    load_rows_directly(db, week_of_rows("RCD", WEEK_1, ga_beds_occupied=100, los_7plus=49)
                       + week_of_rows("RCD", WEEK_2, ga_beds_occupied=100, los_7plus=52, nctr_patients=16)
                       + week_of_rows("RTR", WEEK_2, ga_beds_occupied=100, los_7plus=30))
    table = weekly_table(db, SUNDAY_2)
    assert narrative.draft_narrative(table, "recorded_delays").startswith(
        "Combined: 21, up 10% on last week (over the 1 that reported both weeks).")
    assert narrative.draft_narrative(table, "stranded_7plus_pct").startswith(
        "Combined: 41%, over the ambition (< 40%), 3 points worse than last week "
        "(over the 1 that reported both weeks).")
    stranded = next(row.system for row in table.rows if row.metric == "stranded_7plus_pct")
    assert stranded is not None
    assert "(49.0% for the 1 trust that reported both weeks)" in stranded.details


def test_one_save_stores_the_shown_rows_as_they_stand_and_folded_metrics_only_when_edited():
    starts = {"shown_draft": "Draft.", "shown_edited": "Draft.", "shown_saved": "As saved.", "shown_emptied": "Kept.",
              "folded_draft": "Draft.", "folded_edited": "Draft.", "folded_spaced": "Draft."}
    texts = {**starts, "shown_edited": "Edited.", "shown_emptied": "  ", "folded_edited": "Edited.",
             "folded_spaced": " Draft.\n"}
    saved = {"shown_saved": "As saved.", "shown_emptied": "Kept."}
    assert narrative.texts_to_save(texts, saved, starts, {"shown_draft", "shown_edited", "shown_saved",
                                                          "shown_emptied"}) == {
        "shown_draft": "Draft.", "shown_edited": "Edited.", "folded_edited": "Edited."}
