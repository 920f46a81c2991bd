"""How figures are written: the words and symbols users read in the table, tiles and exports."""
from __future__ import annotations

import polars as pl
import pytest

from pipelines.reports.presentation import (
    NO_SUBMISSION,
    cell_text,
    format_ambition,
    format_change,
    format_delta,
    format_value,
    position_grid,
)


@pytest.mark.parametrize("value, unit, text", [(39.16, "%", "39.2%"), (1352.4, "patients", "1,352"),
                                               (3.0, "level", "3"), (None, "%", "not reported")])
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize("change, direction, unit, text", [
    (2.04, "worse", "%", "↑ 2.0 pts worse"), (-10, "better", "%", "↓ 10.0 pts better"),
    (0.02, "worse", "%", "→ no change"), (0, "same", "level", "→ no change"), (-22, "better", "patients", "↓ 22 better"),
    (None, None, "%", "")])
def test_format_change_says_better_or_worse(change, direction, unit, text):
    assert format_change(change, direction, unit) == text


def test_format_delta_and_ambition():
    assert format_delta(-0.24, "better", "%") == "-0.2 pts, better"
    assert format_ambition("<=", 92.0, "%") == "≤ 92%"
    assert format_ambition("<", 40.0, "%") == "< 40%"
    assert format_ambition(None, None, "%") == "none"


def position_row(**overrides):
    row = {"trust": "Harrogate", "org_code": "RCD", "metric_label": "Stranded", "display_order": 3, "value": 52.0,
           "unit": "%", "status": "red", "change": 3.0, "change_direction": "worse", "days_with_data": 7,
           "ambition": 40.0, "ambition_comparison": "<"}
    return {**row, **overrides}


def test_cell_text_names_status_change_and_part_weeks():
    assert cell_text(position_row()) == "52.0% ✗ misses ambition, ↑ 3.0 pts worse"
    assert cell_text(position_row(days_with_data=4, status="green", value=39.0, change=None, change_direction=None)) == (
        "39.0% ✓ meets ambition (4 of 7 days)")


def test_position_grid_marks_trusts_without_a_submission():
    text, status = position_grid(pl.DataFrame([position_row()]), ["Harrogate", "York"])
    assert text.columns == ["Metric", "Ambition", "Harrogate", "York"]
    assert text.row(0) == ("Stranded", "< 40%", "52.0% ✗ misses ambition, ↑ 3.0 pts worse", NO_SUBMISSION)
    assert status.row(0)[2:] == ("red", "none")
