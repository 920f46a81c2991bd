"""SPC over the warehouse: weekly series in, variation and assurance out. No Streamlit here.

Every trust's weekly value of every metric (the ``weekly_position`` view) is charted by the
Making Data Count rules of ``pipelines.spc.xmr``, with the ambition in force in the week charted as
the target, and the baseline and recalculation dates stored per trust and metric in
``spc_settings``. OPEL levels are not charted: a weekly maximum of a 1-4 scale is not a
measurement an XmR chart suits.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines import access, config
from pipelines.catalogue.metrics import METRICS
from pipelines.spc.xmr import xmr_many
from pipelines.warehouse import open_for_write

SPC_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.aggregate != "max")
KEYS = ("org_code", "metric")


def weekly_series(con: duckdb.DuckDBPyConnection, up_to_week: date | None = None,
                  org_codes: Sequence[str] | None = None, metrics: Sequence[str] = SPC_METRICS) -> pl.DataFrame:
    """One row per trust, metric and complete week (up to ``up_to_week``), with what ``xmr_many``
    needs: the metric's direction, the ambition in force in the series' last week as the target,
    and the stored baseline and recalculation dates."""
    # Straight from weekly_metric_parts (the weekly_position view adds joins SPC does not need).
    return con.sql("""
        WITH series AS (
            SELECT p.org_code, p.metric, p.week_ending AS period,
                metric_value(d.aggregate, p.numerator, p.denominator) AS value, d.better
            FROM weekly_metric_parts p JOIN metric_definitions d USING (metric)
            WHERE p.days_with_data = 7 AND (? OR p.week_ending <= ?)
              AND p.metric IN (SELECT unnest(?::VARCHAR[]))
              AND (? OR p.org_code IN (SELECT unnest(?::VARCHAR[])))
        ),
        last_week AS (SELECT org_code, metric, max(period) AS period FROM series GROUP BY org_code, metric),
        target AS (
            SELECT l.org_code, l.metric, a.threshold AS target, a.comparison AS target_comparison
            FROM last_week l LEFT JOIN LATERAL ambition_in_force(l.metric, l.period) a ON true
        )
        SELECT series.*, t.target, t.target_comparison, s.baseline_start, s.baseline_end,
            coalesce(s.recalculate_from, []::DATE[]) AS recalculate_from
        FROM series JOIN target t USING (org_code, metric)
        LEFT JOIN spc_settings s USING (org_code, metric)
    """, params=[up_to_week is None, up_to_week, list(metrics), org_codes is None, list(org_codes or [])]).pl()


_SUMMARY_SCHEMA = {"org_code": pl.String, "metric": pl.String, "week_ending": pl.Date, "variation": pl.String,
                   "assurance": pl.String, "message": pl.String}


def _latest_points(con: duckdb.DuckDBPyConnection, up_to_week: date | None,
                   org_codes: Sequence[str] | None) -> pl.DataFrame:
    """Variation and assurance at the last point of each series."""
    series = weekly_series(con, up_to_week, org_codes)
    if series.is_empty():
        return pl.DataFrame(schema=_SUMMARY_SCHEMA)
    _, summary = xmr_many(series, keys=KEYS)
    return summary.select(*KEYS, week_ending="last_period", variation="variation", assurance="assurance",
                          message="message").cast(_SUMMARY_SCHEMA)


def spc_summary(con: duckdb.DuckDBPyConnection, week_ending: date,
                org_codes: Sequence[str] | None = None) -> pl.DataFrame:
    """Variation and assurance of each trust and metric as at ``week_ending`` (the series up to it);
    a series without a complete figure for that week has no row."""
    return _latest_points(con, week_ending, org_codes).filter(pl.col("week_ending") == week_ending)


def refresh_spc_latest(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ``spc_latest`` (read through the view ``metric_spc``): every trust and metric at
    its latest complete week."""
    con.register("summary", _latest_points(con, None, None))
    con.execute("DELETE FROM spc_latest; INSERT INTO spc_latest SELECT * FROM summary")
    con.unregister("summary")


def save_spc_settings(db: Path, org_code: str, metric: str, baseline: tuple[date, date] | None,
                      recalculate_from: Sequence[date], set_by: access.Identity | str, reason: str = "") -> None:
    """Fix a baseline and/or dates to recalculate limits from, for one trust and metric.

    ``set_by`` is the acting identity, checked against the permission rules (a plain name: the
    single-analyst mode without sign-in); the change is recorded in the audit log."""
    actor = set_by if isinstance(set_by, access.Identity) else access.single_analyst(set_by)
    access.require(actor, "change_spc", org_code)
    if baseline and baseline[0] > baseline[1]:
        raise ValueError("the baseline must start before it ends")
    set_at = config.uk_now()
    dates = sorted(set(recalculate_from))
    with open_for_write(db) as con:
        con.execute("INSERT OR REPLACE INTO spc_settings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [org_code, metric, baseline[0] if baseline else None, baseline[1] if baseline else None,
                     dates, reason or None, actor.name, set_at])
        shown = (f"baseline {baseline[0]:%d/%m/%Y} to {baseline[1]:%d/%m/%Y}" if baseline else "no baseline")
        recalc = ", ".join(f"{d:%d/%m/%Y}" for d in dates) or "none"
        access.record(con, actor, "spc_settings_changed", org_code,
                      f"{metric}: {shown}; recalculate from {recalc}" + (f"; reason: {reason}" if reason else ""),
                      at=set_at)
