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
