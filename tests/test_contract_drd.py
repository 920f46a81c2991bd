"""The discharge ready date columns' rules (docs/domain.md section 2.1), on both contract engines, row by row; and the
columns are optional: a file without them loads as before."""
from __future__ import annotations

import pytest
from helpers import DRD_ROW, sitrep_row, write_csv
from test_contract_engines import both_engines

from pipelines.catalogue.columns import COLUMN_NAMES, DRD_COLUMNS
from pipelines.ingest.readers import read_sitrep


def issues(tmp_path, **overrides: object) -> list[dict]:
    read = read_sitrep(write_csv(tmp_path / "drd.csv", [sitrep_row(**DRD_ROW) | overrides]))
    return both_engines(read.frame, read.issues).to_dicts()


def test_a_day_of_plausible_discharge_ready_date_figures_meets_every_rule(tmp_path):
    assert issues(tmp_path) == []


@pytest.mark.parametrize("overrides, rule, column, message", [
    ({"drd_delay_1": 3}, "drd_bands_add_up", "drd_discharges",
     "row 2: the discharge ready date bands drd_delay_0 to drd_delay_21plus add up to 11, not to drd_discharges (10)"),
    ({"drd_delay_days": 35}, "drd_delay_days_within_bands", "drd_delay_days",
     "row 2: drd_delay_days (35) is fewer than the delay bands allow: at least 36 (1 x drd_delay_1"),
    # with nobody waiting 21+ days the bands also set a most: 2x1 + 1x3 + 1x6 + 1x13 = 24 (one moved to no delay)
    ({"drd_delay_21plus": 0, "drd_delay_0": 5, "drd_delay_days": 25}, "drd_delay_days_within_bands", "drd_delay_days",
     "row 2: drd_delay_days (25) is more than the delay bands allow with nobody in drd_delay_21plus: at most 24"),
    ({"past_drd_21plus": 16}, "past_drd_21plus_le_nctr_patients", "past_drd_21plus",
     "row 2: past_drd_21plus (16) is more than nctr_patients (15)"),
    ({"internal_delay_48h_plus": 16}, "internal_delay_48h_plus_le_nctr_patients", "internal_delay_48h_plus",
     "row 2: internal_delay_48h_plus (16) is more than nctr_patients (15)"),
    ({"past_drd_21plus": -1}, "non_negative", "past_drd_21plus", "row 2: past_drd_21plus (-1) is negative"),
    ({"drd_delay_days": 600_000, "drd_delay_21plus": 1}, "plausible_count", "drd_delay_days",
     "row 2: drd_delay_days (600000) is more than 500,000"),
    ({"drd_discharges": "2.5"}, "whole_number", "drd_discharges",
     "row 2: drd_discharges ('2.5') is not a whole number"),
])
def test_each_rule_rejects_the_row_naming_row_column_and_rule(tmp_path, overrides, rule, column, message):
    found = [i for i in issues(tmp_path, **overrides) if i["rule"] == rule]
    assert len(found) == 1, found
    assert (found[0]["source_row"], found[0]["column_name"], found[0]["severity"]) == (2, column, "error")
    assert found[0]["message"].startswith(message), found[0]["message"]


def test_delay_days_have_no_upper_bound_once_anyone_waited_21_days(tmp_path):
    assert issues(tmp_path, drd_delay_days=400) == []  # one patient may have waited a year


def test_a_blank_band_leaves_the_sum_unchecked_rather_than_counting_it_as_0(tmp_path):
    assert issues(tmp_path, drd_delay_14_20="") == []


def test_a_file_without_the_discharge_ready_date_columns_reads_as_before(tmp_path):
    older = tuple(c for c in COLUMN_NAMES if c not in DRD_COLUMNS)
    read = read_sitrep(write_csv(tmp_path / "old.csv", [sitrep_row()], columns=older))
    assert both_engines(read.frame, read.issues).is_empty()
    assert read.frame.select(DRD_COLUMNS).null_count().row(0) == (1,) * len(DRD_COLUMNS)
    assert not any("ignored" in note or "missing" in note for note in read.notes)
