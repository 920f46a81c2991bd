"""Read-only questions the trust drill-down page asks of the warehouse. No Streamlit here.

Every function takes a read-only connection first and hashable arguments (dates, strings),
so the page can run it through ``ui.data.read``. Weekly figures come from the documented
views (``weekly_position``, ``daily_metric``); the per-site figures, which no view holds,
are generated from the formulas in ``pipelines.metrics`` so no formula is written twice.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from pipelines import queries
from pipelines.metrics import METRICS, Metric

_BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}


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


def date_bounds(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """First and last day with any figures, or None when nothing is loaded yet."""
    first, last = con.execute("SELECT min(period_date), max(period_date) FROM sitrep_daily").fetchall()[0]
    return None if first is None else (first, last)


def trusts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every known trust (and any code with figures but no reference row), by short name,
    with its ICB, place, local authority and the first and last day it reported."""
    return con.sql("""
        WITH reported AS (
            SELECT org_code, min(period_date) AS first_date, max(period_date) AS last_date
            FROM sitrep_daily GROUP BY org_code
        )
        SELECT org_code, coalesce(t.short_name, org_code) AS short_name, t.name, t.icb_code, t.icb_name, t.place,
            t.local_authority, r.first_date, r.last_date
        FROM trusts t FULL JOIN reported r USING (org_code)
        ORDER BY short_name, org_code
    """).pl()


def trust_weekly(con: duckdb.DuckDBPyConnection, org_code: str, first_week: date, last_week: date) -> pl.DataFrame:
    """The trust's ``weekly_position`` rows (every metric) for the weeks ending in the range."""
    return con.sql("""
        SELECT * FROM weekly_position
        WHERE org_code = ? AND week_ending BETWEEN ? AND ?
        ORDER BY week_ending, display_order
    """, params=[org_code, first_week, last_week]).pl()


def trust_daily(con: duckdb.DuckDBPyConnection, org_code: str, metrics: tuple[str, ...], first: date,
                last: date) -> pl.DataFrame:
    """Daily values of the given metrics for the trust (sites rolled up), from ``daily_metric``."""
    return con.sql("""
        SELECT period_date, metric, value, numerator, denominator FROM daily_metric
        WHERE org_code = ? AND metric IN (SELECT unnest(?::VARCHAR[])) AND period_date BETWEEN ? AND ?
        ORDER BY metric, period_date
    """, params=[org_code, list(metrics), first, last]).pl()


def icb_members(con: duckdb.DuckDBPyConnection, org_code: str) -> list[str]:
    """The trusts in the same ICB as ``org_code`` (itself included), or just itself if it has no ICB."""
    rows = con.execute("""
        SELECT org_code FROM trusts
        WHERE icb_code = (SELECT icb_code FROM trusts WHERE org_code = ?) ORDER BY org_code
    """, [org_code]).fetchall()
    return [r[0] for r in rows] or [org_code]


def system_weekly(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, first_week: date,
                  last_week: date) -> pl.DataFrame:
    """The metric for all trusts of the trust's ICB combined, per week (``queries.system_weekly``)."""
    combined = queries.system_weekly(con, tuple(icb_members(con, org_code)), first_week, last_week)
    return combined.filter(pl.col("metric") == metric)


def peers(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, week: date) -> pl.DataFrame:
    """Every trust of the trust's ICB that reported in the week: its value, ambition and status."""
    return con.sql("""
        SELECT org_code, coalesce(trust, org_code) AS trust, value, unit, ambition, ambition_comparison, status,
            days_with_data
        FROM weekly_position
        WHERE metric = ? AND week_ending = ? AND value IS NOT NULL
          AND org_code IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY value, trust
    """, params=[metric, week, icb_members(con, org_code)]).pl()


def _site_value_sql(metric: Metric) -> tuple[str, str]:
    """One site-day's numerator and denominator as SQL over a ``sitrep_daily`` row, from the
    catalogue: a ratio's own denominator, one day for a daily average, none for a maximum."""
    numerator = f"CAST(({metric.numerator}) AS DOUBLE)"
    if metric.aggregate == "ratio":
        denominator = f"CAST(({metric.denominator}) AS DOUBLE)"
    elif metric.aggregate == "daily_average":
        denominator = f"CASE WHEN ({metric.numerator}) IS NOT NULL THEN CAST(1 AS DOUBLE) END"
    else:
        denominator = "CAST(NULL AS DOUBLE)"
    return numerator, denominator


def site_metric(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, first: date, last: date) -> pl.DataFrame:
    """The metric per site per day for a trust that submits per site; empty for trust-level rows."""
    definition = _BY_ID[metric]  # a KeyError for an unknown id: only catalogue SQL is ever interpolated
    numerator, denominator = _site_value_sql(definition)
    return con.sql(f"""
        SELECT period_date, site_code, {numerator} AS numerator, {denominator} AS denominator,
            metric_value(?, {numerator}, {denominator}) AS value
        FROM sitrep_daily
        WHERE org_code = ? AND site_code IS NOT NULL AND period_date BETWEEN ? AND ?
        ORDER BY site_code, period_date
    """, params=[definition.aggregate, org_code, first, last]).pl()


def sources(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> dict[str, object]:
    """Where the trust's figures in the range came from: file names (in date order), the
    sources (e.g. ``trust_sitrep``) and when the latest of them was loaded."""
    rows = con.execute("""
        SELECT source_file, source, max(loaded_at) AS loaded_at
        FROM sitrep_daily WHERE org_code = ? AND period_date BETWEEN ? AND ?
        GROUP BY file_id, source_file, source
        ORDER BY min(period_date), file_id
    """, [org_code, first, last]).fetchall()
    loaded: list[datetime] = [r[2] for r in rows if r[2] is not None]
    return {"files": [r[0] for r in rows], "sources": sorted({r[1] for r in rows}),
            "loaded_at": max(loaded) if loaded else None}
