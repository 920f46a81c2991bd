"""Read-only questions the pages and exports ask of the warehouse views. No Streamlit here.

DuckDB 2 note: ``con.sql(...).pl()`` for frames; ``con.execute(...).fetchall()`` for small
answers (a partly fetched ``execute`` result blocks the connection's next ``sql`` call).
"""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines.catalogue.metrics import METRICS


def weekly_position(con: duckdb.DuckDBPyConnection, week_ending: date) -> pl.DataFrame:
    """One row per trust and metric for the week, from the ``weekly_position`` view."""
    return con.sql("SELECT * FROM weekly_position WHERE week_ending = ? ORDER BY display_order, trust",
                   params=[week_ending]).pl()


def never_reported(con: duckdb.DuckDBPyConnection, metric: str, org_codes: tuple[str, ...],
                   week_ending: date) -> frozenset[str]:
    """Of ``org_codes``, the trusts with no figure for ``metric`` in any week up to ``week_ending``
    (a trust known only from NHS England's publication has no beds, so no occupancy, ever)."""
    rows = con.sql("""
        SELECT code FROM unnest(?::VARCHAR[]) AS t(code) WHERE code NOT IN (
            SELECT org_code FROM weekly_position WHERE metric = ? AND week_ending <= ? AND value IS NOT NULL)
    """, params=[list(org_codes), metric, week_ending]).fetchall()
    return frozenset(code for (code,) in rows)


def never_reported_each(con: duckdb.DuckDBPyConnection, metrics: tuple[str, ...], org_codes: tuple[str, ...],
                        week_ending: date) -> dict[str, frozenset[str]]:
    """``never_reported`` of each of ``metrics`` in one cached read: its arguments, the trusts' codes among them,
    hashed once rather than once a metric; still a query a metric (one for all held every metric's rows at once)."""
    return {metric: never_reported(con, metric, org_codes, week_ending) for metric in metrics}


def system_weekly(con: duckdb.DuckDBPyConnection, org_codes: tuple[str, ...], first_week: date,
                  last_week: date) -> pl.DataFrame:
    """The selected trusts combined, per week and metric (ratios of sums), with status by the
    ambition and the change on the week before (a week before ``first_week`` is read for it).

    The change is like for like: both weeks combined over the trusts that reported the metric in
    both (``trusts_compared`` of ``trusts_reporting``), so a trust that sent only one of the two
    weeks does not show as the system's rise or fall. ``previous_value`` is last week over those
    trusts, the base of the change."""
    return con.sql("""
        WITH parts AS (
            SELECT p.*, d.aggregate FROM weekly_metric_parts p JOIN metric_definitions d USING (metric)
            WHERE p.org_code IN (SELECT unnest(?::VARCHAR[])) AND p.week_ending BETWEEN ? - INTERVAL 7 DAY AND ?
        ), combined AS (
            SELECT p.week_ending, p.metric, d.aggregate, d.better, d.display_order, d.label AS metric_label, d.unit,
                combined_value(d.aggregate, p.numerator, p.denominator) AS value,
                count(DISTINCT p.org_code) FILTER (WHERE p.days_with_data > 0) AS trusts_reporting
            FROM parts p JOIN metric_definitions d USING (metric)
            GROUP BY p.week_ending, p.metric, d.aggregate, d.better, d.display_order, d.label, d.unit
        ), like_for_like AS (
            SELECT cur.week_ending, cur.metric,
                combined_value(cur.aggregate, cur.numerator, cur.denominator) AS value,
                combined_value(cur.aggregate, prev.numerator, prev.denominator) AS previous_value,
                count(*) AS trusts_compared
            FROM parts cur JOIN parts prev ON prev.org_code = cur.org_code AND prev.metric = cur.metric
                AND prev.week_ending = cur.week_ending - INTERVAL 7 DAY
            WHERE cur.days_with_data > 0 AND prev.days_with_data > 0
            GROUP BY cur.week_ending, cur.metric, cur.aggregate
        )
        SELECT c.*, a.threshold AS ambition, a.comparison AS ambition_comparison, a.amber_tolerance,
            rag_status(c.value, a.comparison, a.threshold, a.amber_tolerance) AS status,
            l.previous_value, l.value - l.previous_value AS change,
            change_direction(l.value - l.previous_value, c.better) AS change_direction,
            coalesce(l.trusts_compared, 0) AS trusts_compared
        FROM combined c
        LEFT JOIN LATERAL ambition_in_force(c.metric, c.week_ending) a ON true
        LEFT JOIN like_for_like l USING (week_ending, metric)
        WHERE c.week_ending >= ?
        ORDER BY c.week_ending, c.display_order
    """, params=[list(org_codes), first_week, last_week, first_week]).pl()


def trusts_with_data(con: duckdb.DuckDBPyConnection, week_ending: date | None = None) -> pl.DataFrame:
    """Trusts that have ever submitted, with names and the ICB and place they belong to. Given a week, a
    trust merged into another before that week began (``trust_successions``) is left out: it no longer
    exists, so it is not "no submission this week"."""
    return con.sql("""
        SELECT t.org_code, coalesce(t.short_name, t.org_code) AS trust, t.name, t.icb_code,
            coalesce(t.icb_name, t.icb_code) AS icb_name, t.place, t.local_authority
        FROM trusts t WHERE t.org_code IN (SELECT DISTINCT org_code FROM sitrep_daily)
          AND ($1::DATE IS NULL OR t.org_code NOT IN (
              SELECT predecessor FROM trust_successions WHERE succession_date <= $1::DATE - 6))
        ORDER BY trust
    """, params=[week_ending]).pl()


def site_weekly(con: duckdb.DuckDBPyConnection, week_ending: date, org_codes: tuple[str, ...]) -> pl.DataFrame:
    """Per-site weekly values of every metric for trusts that submit per site: org_code,
    site_code, metric, value (ratios of the week's sums, daily averages, highest level)."""
    parts = []
    for m in METRICS:
        numerator = f"CAST(({m.numerator}) AS DOUBLE)"
        if m.has_denominator:
            both = f"({m.numerator}) IS NOT NULL AND ({m.denominator}) IS NOT NULL"
            value = (f"{'100.0 * ' if m.is_ratio else ''}sum({numerator}) FILTER (WHERE {both}) / "
                     f"nullif(sum(CAST(({m.denominator}) AS DOUBLE)) FILTER (WHERE {both}), 0)")
        elif m.is_count:
            value = f"avg({numerator})"
        else:
            value = f"max({numerator})"
        parts.append(f"{{'metric': '{m.id}', 'value': {value}}}")
    return con.sql(f"""
        SELECT org_code, site_code, part.metric AS metric, part.value AS value FROM (
            SELECT org_code, site_code, unnest([{', '.join(parts)}]) AS part
            FROM sitrep_daily
            WHERE site_code IS NOT NULL AND org_code IN (SELECT unnest(?::VARCHAR[]))
              AND period_date BETWEEN ?::DATE - INTERVAL 6 DAY AND ?::DATE
            GROUP BY org_code, site_code)
        ORDER BY org_code, site_code
    """, params=[list(org_codes), week_ending, week_ending]).pl()
