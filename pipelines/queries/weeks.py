"""Which days and weeks the warehouse holds: the date bounds and week choices every page starts from."""
from __future__ import annotations

from datetime import date

import duckdb


def latest_complete_week(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest week (Monday to Sunday) whose Sunday is covered by the data."""
    return con.execute("""
        SELECT max(week_ending) FROM (SELECT DISTINCT week_ending FROM sitrep_trust_day)
        WHERE week_ending <= (SELECT max(period_date) FROM sitrep_daily)
    """).fetchall()[0][0]


def date_extent(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """The first and last day with any figures: (None, None) for an empty database."""
    first, last = con.execute("SELECT min(period_date), max(period_date) FROM sitrep_daily").fetchall()[0]
    return first, last


def clamp_range(first: date, last: date, earliest: date, latest: date) -> tuple[date, date]:
    """A range from a shared link, moved inside the data (the date picker refuses dates outside it)."""
    last = min(max(last, earliest), latest)
    return min(max(first, earliest), last), last


def weeks_with_data(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every week ending with any data, newest first."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT week_ending FROM sitrep_trust_day ORDER BY week_ending DESC").fetchall()]
