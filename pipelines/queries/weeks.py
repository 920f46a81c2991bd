"""Which days and weeks the warehouse holds: the date bounds and week choices every page starts from."""
from __future__ import annotations

from datetime import date, timedelta

import duckdb

DEFAULT_WEEKS = 26  # the trust drill-down opens on this many latest weeks


# The weeks with data are read from the weekly parts (a row for every trust-week of ``sitrep_trust_day``, kept in
# week order by every write), not from the trust-day view, which rolls up every day of the history to list them.


def latest_complete_week(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest week (Monday to Sunday) whose Sunday is covered by the data."""
    return con.execute("""
        SELECT max(week_ending) FROM weekly_metric_parts
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
        "SELECT DISTINCT week_ending FROM weekly_metric_parts ORDER BY week_ending DESC").fetchall()]


def week_ending(day: date) -> date:
    """The Sunday that closes the Monday-to-Sunday week holding ``day``."""
    return day + timedelta(days=6 - day.weekday())


def weeks_in_range(first: date, last: date, earliest: date, latest: date) -> tuple[date, date]:
    """The first and last week (by Sunday) to show for the days ``first`` to ``last``: the weeks
    wholly inside them, so no weekly figure counts days outside the range, plus a part week at an
    end where the data itself starts or stops (``earliest``, ``latest``); if no whole week fits,
    the weeks the range touches."""
    first_week = week_ending(first if first == earliest else first + timedelta(days=6))
    last_week = week_ending(last if last == latest else last - timedelta(days=6))
    return (first_week, last_week) if first_week <= last_week else (week_ending(first), week_ending(last))


def default_window(earliest: date, latest: date, trust_last: date | None,
                   weeks: int = DEFAULT_WEEKS) -> tuple[date, date]:
    """The days the trust drill-down opens on: the latest ``weeks`` weeks (Monday to Sunday) with figures; a trust
    whose figures stop earlier (one known only from an older NHS England publication, say) opens on
    its own latest weeks instead of an empty range."""
    def start(end: date) -> date:
        return max(earliest, week_ending(end) - timedelta(weeks=weeks) + timedelta(days=1))

    end = trust_last if trust_last is not None and trust_last < start(latest) else latest
    return start(end), end
