"""Read-only questions the pages and exports ask of the warehouse views. No Streamlit here.

DuckDB 2 note: ``con.sql(...).pl()`` for frames; ``con.execute(...).fetchall()`` for small
answers (a partly fetched ``execute`` result blocks the connection's next ``sql`` call).
"""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl


def latest_complete_week(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest week (Monday to Sunday) whose Sunday is covered by the data."""
    return con.execute("""
        SELECT max(week_ending) FROM (SELECT DISTINCT week_ending FROM sitrep_trust_day)
        WHERE week_ending <= (SELECT max(period_date) FROM sitrep_daily)
    """).fetchall()[0][0]


def weeks_with_data(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every week ending with any data, newest first."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT week_ending FROM sitrep_trust_day ORDER BY week_ending DESC").fetchall()]


def weekly_position(con: duckdb.DuckDBPyConnection, week_ending: date) -> pl.DataFrame:
    """One row per trust and metric for the week, from the ``weekly_position`` view."""
    return con.sql("SELECT * FROM weekly_position WHERE week_ending = ? ORDER BY display_order, trust",
                   params=[week_ending]).pl()


def system_weekly(con: duckdb.DuckDBPyConnection, org_codes: list[str], first_week: date,
                  last_week: date) -> pl.DataFrame:
    """The selected trusts combined, per week and metric (ratios of sums), with status by the ambition."""
    return con.sql("""
        WITH combined AS (
            SELECT p.week_ending, p.metric, d.aggregate, d.better, d.display_order, d.label AS metric_label, d.unit,
                combined_value(d.aggregate, p.numerator, p.denominator) AS value,
                count(DISTINCT p.org_code) FILTER (WHERE p.days_with_data > 0) AS trusts_reporting
            FROM weekly_metric_parts p JOIN metric_definitions d USING (metric)
            WHERE p.org_code IN (SELECT unnest(?::VARCHAR[])) AND p.week_ending BETWEEN ? AND ?
            GROUP BY p.week_ending, p.metric, d.aggregate, d.better, d.display_order, d.label, d.unit
        )
        SELECT c.*, a.threshold AS ambition, a.comparison AS ambition_comparison, a.amber_tolerance,
            rag_status(c.value, a.comparison, a.threshold, a.amber_tolerance) AS status
        FROM combined c
        ASOF LEFT JOIN ambitions a ON a.metric = c.metric AND c.week_ending >= a.effective_from
        ORDER BY c.week_ending, c.display_order
    """, params=[org_codes, first_week, last_week]).pl()
