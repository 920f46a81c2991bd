"""Every rule of the data contract, its severity and its message, row by row."""
from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from helpers import sitrep_row, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.catalogue.columns import CONTRACT_FILE, DRD_COLUMNS, SCHEMA, required_columns
from pipelines.catalogue.issues import ISSUE_SCHEMA
from pipelines.ingest.contract import Reference, contract_frame, validate
from pipelines.ingest.readers import read_sitrep

KNOWN = ["RCB", "RCD", "RTR", "RCF"]
TODAY = date(2025, 10, 1)


def issues_for(tmp_path, rows, today=TODAY):
    read = read_sitrep(write_csv(tmp_path / "file.csv", rows))
    return validate(read.frame, read.issues, KNOWN, today).to_dicts()


@pytest.mark.parametrize("overrides, rule, column, message", [
    ({"los_7plus": -3}, "non_negative", "los_7plus", "row 2: los_7plus (-3) is negative"),
    ({"los_21plus": 57, "los_14plus": 40, "los_7plus": 60}, "los_21plus_le_los_14plus", "los_21plus",
     "row 2: los_21plus (57) is more than los_14plus (40)"),
    ({"los_14plus": 45}, "los_14plus_le_los_7plus", "los_14plus", "row 2: los_14plus (45) is more than los_7plus (40)"),
    ({"los_7plus": 95, "ga_beds_open": 100}, "los_7plus_le_ga_beds_occupied", "los_7plus",
     "row 2: los_7plus (95) is more than ga_beds_occupied (90)"),
    ({"covid_beds_occupied": 91}, "covid_beds_occupied_le_ga_beds_occupied", "covid_beds_occupied",
     "row 2: covid_beds_occupied (91) is more than ga_beds_occupied (90)"),
    ({"nctr_discharged_by_5pm": 6}, "nctr_discharged_by_5pm_le_nctr_discharged", "nctr_discharged_by_5pm",
     "row 2: nctr_discharged_by_5pm (6) is more than nctr_discharged (5)"),
    ({"nctr_discharged": 16, "nctr_discharged_by_5pm": 2}, "nctr_discharged_le_nctr_patients", "nctr_discharged",
     "row 2: nctr_discharged (16) is more than nctr_patients (15)"),
    ({"trust_opel": 5}, "opel_1_to_4", "trust_opel", "row 2: trust_opel (5) is not an OPEL level from 1 to 4"),
    ({"la_opel": 0}, "opel_1_to_4", "la_opel", "row 2: la_opel (0) is not an OPEL level from 1 to 4"),
    ({"period_date": "2025-10-02"}, "date_not_in_future", "period_date",
     "row 2: period_date (02/10/2025) is in the future"),
    ({"org_code": "ZZZ"}, "known_ods_code", "org_code", "row 2: org_code (ZZZ) is not a known trust ODS code"),
    ({"nctr_patients": ""}, "required_value", "nctr_patients", "row 2: nctr_patients is blank"),
    ({"discharges_p2": "twelve"}, "whole_number", "discharges_p2",
     "row 2: discharges_p2 ('twelve') is not a whole number"),
])
def test_error_rule_rejects_the_row_with_a_plain_message(tmp_path, overrides, rule, column, message):
    issues = issues_for(tmp_path, [sitrep_row(**overrides)])
    matching = [i for i in issues if i["rule"] == rule]
    assert len(matching) == 1, issues
    assert matching[0]["severity"] == "error"
    assert matching[0]["column_name"] == column
    assert matching[0]["source_row"] == 2
    assert matching[0]["message"].startswith(message)


def test_valid_row_has_no_issues(tmp_path):
    assert issues_for(tmp_path, [sitrep_row()]) == []


def test_today_is_not_in_the_future(tmp_path):
    assert issues_for(tmp_path, [sitrep_row(period_date=TODAY.isoformat())]) == []


def test_occupied_above_open_is_a_warning_not_an_error(tmp_path):
    issues = issues_for(tmp_path, [sitrep_row(ga_beds_open=85, ga_beds_occupied=90)])
    assert [(i["rule"], i["severity"]) for i in issues] == [("occupied_above_open", "warning")]
    assert issues[0]["message"].startswith("row 2: ga_beds_occupied (90) is more than ga_beds_open (85)")


def test_one_row_per_trust_site_day_names_every_clashing_row(tmp_path):
    rows = [sitrep_row(), sitrep_row(org_code="RTR"), sitrep_row(nctr_patients=16)]
    issues = issues_for(tmp_path, rows)
    assert [(i["source_row"], i["rule"]) for i in issues] == [(2, "one_row_per_trust_site_day"),
                                                                (4, "one_row_per_trust_site_day")]
    assert issues[0]["message"] == "row 2: RCD on 01/04/2024 appears more than once in this file (rows 2, 4)"


def test_same_day_at_two_sites_is_not_a_duplicate(tmp_path):
    rows = [sitrep_row(org_code="RCB", site_code="RCB55"), sitrep_row(org_code="RCB", site_code="RCBCA")]
    assert issues_for(tmp_path, rows) == []


def test_unparseable_value_is_reported_once_not_also_as_blank(tmp_path):
    issues = issues_for(tmp_path, [sitrep_row(ga_beds_open="lots")])
    assert [(i["rule"], i["column_name"]) for i in issues] == [("whole_number", "ga_beds_open")]


def test_several_broken_rules_on_one_row_are_all_reported(tmp_path):
    issues = issues_for(tmp_path, [sitrep_row(los_7plus=-1, trust_opel=7)])
    assert {i["rule"] for i in issues} >= {"non_negative", "opel_1_to_4"}


def test_contract_file_is_a_readable_suite_with_every_rule():
    suite = json.loads(CONTRACT_FILE.read_text())
    rules = {e["meta"]["rule"] for e in suite["expectations"]}
    assert {"required_column", "required_value", "non_negative", "los_21plus_le_los_14plus", "los_14plus_le_los_7plus",
            "los_7plus_le_ga_beds_occupied", "covid_beds_occupied_le_ga_beds_occupied",
            "nctr_discharged_by_5pm_le_nctr_discharged", "nctr_discharged_le_nctr_patients", "opel_1_to_4",
            "date_not_in_future", "known_ods_code", "one_row_per_trust_site_day", "occupied_above_open",
            "no_control_characters", "code_length", "plausible_count", "date_not_before_window", "known_site_code",
            "one_level_per_trust_day", "site_rows_replace_whole_trust_day", "drd_bands_add_up",
            "drd_delay_days_within_bands", "past_drd_21plus_le_nctr_patients",
            "internal_delay_48h_plus_le_nctr_patients"} == rules
    assert {e["severity"] for e in suite["expectations"]} == {"critical", "warning"}
    assert set(required_columns()) == {e["kwargs"]["column"] for e in suite["expectations"]
                             if e["type"] == "expect_column_to_exist"}


# --- the whole value space (issue 14): any date, any 64-bit count, trust-level and site rows mixed ---
PROPERTY = settings(max_examples=80, deadline=None, derandomize=True)
SITES = pl.DataFrame({"site_code": ["RCB55", "RCBCA"], "org_code": ["RCB", "RCB"]})


def frame_of(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{**{c: None for c in SCHEMA}, **GOOD_VALUES, "source_row": i + 2, **r}
                         for i, r in enumerate(rows)], schema=SCHEMA)


def rules_by_row(frame: pl.DataFrame, **options) -> dict[int, set[str]]:
    issues = validate(frame, pl.DataFrame(schema=ISSUE_SCHEMA), KNOWN, TODAY, sites=SITES, **options)
    found: dict[int, set[str]] = {}
    for row, rule in zip(issues["source_row"], issues["rule"], strict=True):
        found.setdefault(row, set()).add(rule)
    return found


GOOD_VALUES = {"period_date": date(2024, 4, 1), "org_code": "RCD", "site_code": None, "ga_beds_open": 100,
               "ga_beds_occupied": 90, "covid_beds_occupied": 3, "los_7plus": 40, "los_14plus": 20, "los_21plus": 10,
               "nctr_patients": 15, "nctr_discharged": 5, "nctr_discharged_by_5pm": 2, "discharges_p0": 6,
               "discharges_p1": 3, "discharges_p2": 1, "discharges_p3": 0, "trust_opel": 2, "la_opel": 3}


@given(st.dates())
@PROPERTY
def test_any_date_is_accepted_exactly_inside_the_window(day):
    found = rules_by_row(frame_of([{"period_date": day}]))
    expected = ({"date_not_in_future"} if day > TODAY else set()) | (
        {"date_not_before_window"} if day < date(2015, 1, 1) else set())
    assert found.get(2, set()) == expected


@given(st.sampled_from(["ga_beds_open", "covid_beds_occupied", "nctr_discharged_by_5pm", "discharges_p3"]),
       st.integers(-(2**63), 2**63 - 1))
@PROPERTY
def test_any_64_bit_count_is_rejected_outside_zero_to_5000_never_an_internal_error(column, value):
    found = rules_by_row(frame_of([{column: value}])).get(2, set())
    assert ("non_negative" in found) == (value < 0)
    assert ("plausible_count" in found) == (value > 5000)


@given(st.lists(st.sampled_from([None, "RCB55", "RCBCA"]), min_size=1, max_size=5),
       st.sampled_from([None, "trust", "site"]))
@PROPERTY
def test_trust_level_and_site_rows_of_a_trust_day(sites, loaded):
    """Mixed in one file: every row of the trust-day is a clash. Site rows onto a trust-level figure:
    rejected unless every site of the trust is there. Nothing else about levels is an issue."""
    frame = frame_of([{"org_code": "RCB", "site_code": s} for s in sites])
    levels = None if loaded is None else pl.DataFrame(
        {"org_code": ["RCB"], "period_date": [date(2024, 4, 1)], "loaded_level": [loaded]})
    found = rules_by_row(frame, loaded_levels=levels)
    mixed = None in sites and any(sites)
    partial = loaded == "trust" and not {"RCB55", "RCBCA"} <= set(sites)
    for row, site in enumerate(sites, start=2):
        assert ("one_level_per_trust_day" in found.get(row, set())) == mixed
        assert ("site_rows_replace_whole_trust_day" in found.get(row, set())) == (partial and site is not None)


TWO_TRUSTS_SITES = pl.DataFrame({"site_code": ["S1", "S2", "S3"], "org_code": ["A", "A", "B"]})
SOME_DAYS = [date(2024, 1, 1), date(2024, 1, 2), None]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", None]), st.sampled_from([None, None, "S1", "S2", "S3", "X"]),
                          st.sampled_from(SOME_DAYS)), max_size=10),
       st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(SOME_DAYS[:2]),
                          st.sampled_from(["trust", "site", "trust and site"])), max_size=3, unique_by=lambda r: r[:2]))
def test_each_rows_derived_columns_depend_only_on_its_own_trust_day(rows, loaded):
    """A row's file levels and what it replaces come from its own trust-day: adding a site row of
    another trust, or a loaded trust-day elsewhere, leaves them as they were (a file without site rows
    and a first load take a shortcut past the joins, which must give what the joins give)."""
    frame = pl.DataFrame([(i + 2, *row) for i, row in enumerate(rows)], orient="row",
                         schema={"source_row": pl.Int64, "org_code": pl.String, "site_code": pl.String,
                                 "period_date": pl.Date}).with_columns(  # and the counts the DRD sums read
                             pl.lit(None, pl.Int64).alias(c) for c in DRD_COLUMNS)
    levels = pl.DataFrame(loaded, orient="row",
                          schema={"org_code": pl.String, "period_date": pl.Date, "loaded_level": pl.String})
    reference = Reference(frozenset(["A", "B"]), TWO_TRUSTS_SITES, date(2024, 2, 1), date(2015, 1, 1), levels)
    alone = contract_frame(frame, reference)
    other_site = pl.DataFrame({"source_row": [999], "org_code": ["Z"], "site_code": ["Z1"],
                               "period_date": [date(2030, 1, 1)]}).with_columns(
                                   pl.lit(None, pl.Int64).alias(c) for c in DRD_COLUMNS)
    other_day = pl.DataFrame({"org_code": ["Z"], "period_date": [date(2030, 1, 1)], "loaded_level": ["site"]})
    joined = contract_frame(pl.concat([frame, other_site]),
                            Reference(frozenset(["A", "B"]), TWO_TRUSTS_SITES, date(2024, 2, 1), date(2015, 1, 1),
                                      pl.concat([levels, other_day])))
    assert_frame_equal(joined.filter(pl.col("source_row") != 999), alone)
