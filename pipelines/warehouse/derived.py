"""The weekly parts table, refreshed for the trust-weeks a write changed, not rebuilt whole.

Rebuilding only the touched trust-weeks gives the same table as a full rebuild: a trust-week's parts
depend on that trust's days of that week and nothing else (tests/test_incremental.py checks it).
"""
from __future__ import annotations

import logging
import time

import duckdb
import polars as pl

from pipelines.catalogue.metrics import metric_parts_sql
from pipelines.warehouse.schema import REBUILD_WEEKLY_PARTS_SQL, WEEK_ENDING_SQL, trust_day_sql

log = logging.getLogger(__name__)

# The touched weeks' rows, copied once into a small table the parts are then built from. The date
# range first, so DuckDB skips the row groups of other years before joining on the weeks.
_TOUCHED_DAILY = f"""CREATE OR REPLACE TEMP TABLE touched_daily AS SELECT d.* FROM sitrep_daily d
    SEMI JOIN touched_weeks w ON d.org_code = w.org_code AND d.{WEEK_ENDING_SQL} = w.week_ending
    WHERE d.period_date BETWEEN $first AND $last"""
_TOUCHED_PARTS_SQL = metric_parts_sql("week_ending", f"({trust_day_sql('touched_daily')})")
# The same parts when every touched trust-day is one row (a day's file of trust-level rows, most loads): the
# whole query cost about 70 ms to plan whatever its rows, three times what this one costs to plan and run.
_ONE_ROW_PARTS_SQL = metric_parts_sql("week_ending", f"({trust_day_sql('touched_daily', several_rows=False)})")
_SEVERAL_ROWS_SQL = """SELECT EXISTS (SELECT 1 FROM touched_daily GROUP BY org_code, period_date
    HAVING count(*) > 1)"""
# A series' SPC reads only its complete weeks, through these columns; the date range first, as above.
_COMPLETE = """SELECT org_code, metric, week_ending, numerator, denominator FROM {table}
    SEMI JOIN touched_weeks USING (org_code, week_ending)
    WHERE days_with_data = 7 AND week_ending BETWEEN $first AND $last"""


def rebuild_weekly_parts(con: duckdb.DuckDBPyConnection) -> None:
    """The whole table from ``sitrep_daily``: after reference or schema changes, and as the reference for tests."""
    started = time.perf_counter()
    con.execute(REBUILD_WEEKLY_PARTS_SQL)
    log.info("weekly parts rebuilt in %.3f s", time.perf_counter() - started)


def refresh_weekly_parts(con: duckdb.DuckDBPyConnection, trust_days: pl.DataFrame) -> pl.DataFrame:
    """Rebuild the weeks of the (org_code, period_date) pairs given; returns the (org_code, metric)
    series whose complete weeks changed, the only ones whose SPC can have changed. Runs on the threads
    the caller set (``spc.store.refresh_derived`` sets one for a day's few hundred rows).
    """
    started = time.perf_counter()
    con.register("touched_days", trust_days.select("org_code", "period_date"))
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE touched_weeks AS
                        SELECT DISTINCT org_code, {WEEK_ENDING_SQL} AS week_ending FROM touched_days""")
    finally:
        con.unregister("touched_days")
    weeks, first, last = con.execute(
        "SELECT count(*), min(week_ending) - 6, max(week_ending) FROM touched_weeks").fetchall()[0]
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE complete_before AS {_COMPLETE.format(table='weekly_metric_parts')}",
            {"first": first, "last": last})
        con.execute("""DELETE FROM weekly_metric_parts p USING touched_weeks w
                       WHERE p.org_code = w.org_code AND p.week_ending = w.week_ending
                       AND p.week_ending BETWEEN $first AND $last""", {"first": first, "last": last})
        con.execute(_TOUCHED_DAILY, {"first": first, "last": last})
        parts = _TOUCHED_PARTS_SQL if con.execute(_SEVERAL_ROWS_SQL).fetchall()[0][0] else _ONE_ROW_PARTS_SQL
        con.execute(f"INSERT INTO weekly_metric_parts BY NAME {parts}")
        changed = con.sql(f"""
            WITH after AS ({_COMPLETE.format(table='weekly_metric_parts')})
            SELECT DISTINCT org_code, metric FROM (
                (SELECT * FROM complete_before EXCEPT SELECT * FROM after)
                UNION ALL (SELECT * FROM after EXCEPT SELECT * FROM complete_before))
            ORDER BY org_code, metric""", params={"first": first, "last": last}).pl()
    finally:
        con.execute("DROP TABLE IF EXISTS touched_weeks; DROP TABLE IF EXISTS touched_daily; "
                    "DROP TABLE IF EXISTS complete_before")
    log.info("weekly parts refreshed for %d trust-weeks in %.3f s; %d series with changed complete weeks",
             weeks, time.perf_counter() - started, changed.height)
    return changed
