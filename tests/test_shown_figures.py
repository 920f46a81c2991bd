"""A status never contradicts its figure: "92%" beside "≤ 92%" was marked amber (92.1%), on the page
and in Word. The rule (pipelines.reports.presentation.shown_figure): a figure is never rounded onto or
across a status boundary; it gets the places its status needs. Checked over values around every
kind of threshold, for the text the page and the packs show."""
from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.reports.presentation import MAX_DECIMALS, TableCell, format_shown, rag_status, shown_figure
from pipelines.warehouse.schema import MACROS_SQL

COMPARISONS = ["<", "<=", ">", ">="]


@st.composite
def figures(draw: st.DrawFn) -> tuple[float, int, tuple[str, float, float]]:
    """A value near a threshold or the end of its amber tolerance (or anywhere), the cell's places
    and the ambition."""
    threshold = draw(st.integers(0, 100).map(float) | st.sampled_from([0.5, 12.5, 92.25]))
    tolerance = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
    anchor = draw(st.sampled_from([threshold, threshold + tolerance, max(0.0, threshold - tolerance)]))
    value = draw(st.just(anchor) | st.floats(max(0.0, anchor - 0.02), anchor + 0.02) | st.floats(0, 100))
    return value, draw(st.sampled_from([0, 1])), (draw(st.sampled_from(COMPARISONS)), threshold, tolerance)


def read_back(text: str) -> float:
    return float(text.rstrip("%").replace(",", ""))


@settings(max_examples=2000)
@given(figures())
def test_the_shown_figure_never_contradicts_its_status(figure):
    value, decimals, ambition = figure
    text = format_shown(value, "%", decimals, ambition)
    assert rag_status(read_back(text), ambition) == rag_status(value, ambition), text
    # ... and it is the plain rounding whenever that agrees; else the value rounded to more places, and
    # at the most places, never more than one hundredth off
    places = len(text.rstrip("%").partition(".")[2])
    if rag_status(round(value, decimals), ambition) == rag_status(value, ambition):
        assert text == f"{value:.{decimals}f}%"
    elif places < MAX_DECIMALS or text == f"{value:.{places}f}%":
        assert text == f"{value:.{places}f}%"
    else:
        assert abs(read_back(text) - value) <= 10 ** -MAX_DECIMALS + 1e-9
    assert places <= max(decimals, MAX_DECIMALS)


@pytest.fixture(scope="module")
def warehouse_macros() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE ambitions (metric VARCHAR, comparison VARCHAR, threshold DOUBLE, "
                "amber_tolerance DOUBLE, effective_from DATE, source VARCHAR)")
    con.execute(MACROS_SQL)
    return con


@settings(max_examples=300)
@given(figures())
def test_the_figure_is_read_as_the_warehouse_reads_it(warehouse_macros, figure):
    """The status of a shown figure is decided by the warehouse's own rule, written again in Python."""
    value, _, (comparison, threshold, tolerance) = figure
    [(status,)] = warehouse_macros.execute("SELECT rag_status(?::DOUBLE, ?, ?::DOUBLE, ?::DOUBLE)",
                                           [value, comparison, threshold, tolerance]).fetchall()
    assert rag_status(value, (comparison, threshold, tolerance)) == status


@pytest.mark.parametrize("value, status, compact, full", [
    (92.1, "amber", "92.1%", "92.1%"),  # was "92%" beside "≤ 92%", marked amber
    (92.04, "amber", "92.04%", "92.04%"),
    (92.001, "amber", "92.01%", "92.01%"),  # within 0.005: rounded away from the threshold
    (92.0, "green", "92%", "92.0%"),
    (91.96, "green", "92%", "92.0%"),  # 92% meets "≤ 92%": no contradiction
    (94.04, "red", "94.04%", "94.04%"),  # past the amber tolerance (2 points)
    (93.4, "amber", "93%", "93.4%"),  # nothing to explain: the compact figure
])
def test_a_cell_shows_the_places_its_status_needs(value, status, compact, full):
    cell = TableCell("RCD", "Harrogate", "ga_occupancy_pct", value, status, ambition=("<=", 92.0, 2.0))
    assert (cell.text, cell.figure(full=True)) == (compact, full)
    assert cell.details.startswith(f"Harrogate, G&A occupancy: {full}.")


def test_without_an_ambition_a_figure_is_rounded_as_usual():
    assert shown_figure(39.96, 0, None) == (40.0, 0)
    assert format_shown(1352.4, "patients", 0, None) == "1,352"
