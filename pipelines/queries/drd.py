"""Discharge ready date (DRD) queries (docs/domain.md section 2.5): from the trust's own daily figures, when each
trust's figures start and the delay bands week by week; from NHS England's publication
(``publication_drd_monthly``), a trust's months, set beside the daily figures but never added to them."""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines.catalogue.columns import DRD_BANDS
from pipelines.catalogue.metrics import METRIC_BY_ID, OPTIONAL_METRICS
from pipelines.warehouse.schema import WEEK_ENDING_SQL

# The bands as people read them, in DRD_BANDS order.
BAND_LABELS: dict[str, str] = dict(zip(DRD_BANDS, ("On the day", "1 day", "2-3 days", "4-6 days", "7-13 days",
                                                   "14-20 days", "21+ days"), strict=True))


def first_figures(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], date]:
    """(org_code, metric) -> the first day the trust reported the figures of each optional metric (its
    numerator and denominator); a trust that never did has no entry."""
    firsts = []
    for metric_id in OPTIONAL_METRICS:
        metric = METRIC_BY_ID[metric_id]  # only catalogue SQL is interpolated
        parts = " AND ".join(f"({sql}) IS NOT NULL" for sql in (metric.numerator, metric.denominator) if sql)
        firsts.append(f"SELECT org_code, '{metric_id}' AS metric, min(period_date) AS first_day FROM sitrep_daily "
                      f"WHERE {parts} GROUP BY org_code")
    rows = con.execute(" UNION ALL ".join(firsts)).fetchall()
    return {(org, metric): day for org, metric, day in rows}


def not_collected(first_day: date | None, week_ending: date) -> str:
    """What a cell of an optional metric says for a week without a figure: 'not collected before 01/04/2024'
    before the trust's first figure, 'not collected' when it never sent one, '' after (then: not reported)."""
    if first_day is None:
        return "not collected"
    return f"not collected before {first_day:%d/%m/%Y}" if first_day > week_ending else ""


def weekly_bands(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> pl.DataFrame:
    """The trust's discharges with a discharge ready date, by delay band, per week of the range (Monday to
    Sunday, by the week-ending Sunday): week_ending, band, label, patients, share (per cent of the week's
    discharges in the bands). Days with a blank band are left out of their week; weeks without figures
    have no rows."""
    bands = ", ".join(f"CAST(sum({b}) AS BIGINT) AS {b}" for b in DRD_BANDS)
    complete = " AND ".join(f"{b} IS NOT NULL" for b in DRD_BANDS)
    weekly = con.sql(f"""
        SELECT {WEEK_ENDING_SQL} AS week_ending, {bands}
        FROM sitrep_trust_day
        WHERE org_code = ? AND period_date BETWEEN ? AND ? AND {complete}
        GROUP BY ALL ORDER BY week_ending""", params=[org_code, first, last]).pl()
    long = weekly.unpivot(index="week_ending", on=list(DRD_BANDS), variable_name="band", value_name="patients")
    return long.with_columns(
        label=pl.col("band").replace_strict(BAND_LABELS),
        share=100 * pl.col("patients") / pl.col("patients").sum().over("week_ending"),
    ).select("week_ending", "band", "label", "patients", "share").sort(
        "week_ending", pl.col("band").replace_strict({b: i for i, b in enumerate(DRD_BANDS)}))


# The measures the drill-down shows by default: the share discharged on their DRD, and the share of delayed
# patients who waited 21 days or more (the 2025/26 plan starts eliminating those).
HEADLINE = ("pct_dod_same_as_drd", "pct_delayed_within_21plus_days")


def trust_drd_months(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                     measures: tuple[str, ...] = HEADLINE) -> pl.DataFrame:
    """month, measure, label (as published), value (a share as a fraction), is_share, acceptable_data,
    may_be_rated (false: never coloured against an ambition), source_file; months overlapping the range."""
    return con.sql("""
        SELECT month, measure, label, value, is_share, acceptable_data, may_be_rated, source_file
        FROM publication_drd_monthly
        WHERE org_code = $1 AND month BETWEEN date_trunc('month', $2::DATE) AND $3 AND list_contains($4, measure)
        ORDER BY month, measure""", params=[org_code, first, last, list(measures)]).pl()
