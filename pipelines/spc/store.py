"""SPC over the warehouse: weekly series in, variation and assurance out. No Streamlit here.

Every trust's weekly value of every metric (the ``weekly_position`` view) is charted by the
Making Data Count rules of ``pipelines.spc.xmr``, with the ambition in force in the week charted as
the target, and the baseline and recalculation dates stored per trust and metric in
``spc_settings``. OPEL levels are not charted: a weekly maximum of a 1-4 scale is not a
measurement an XmR chart suits.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines import access, config
from pipelines.catalogue.metrics import METRICS
from pipelines.spc import totals
from pipelines.spc.xmr import MIN_POINTS, xmr_from_totals, xmr_latest
from pipelines.warehouse import open_for_write
from pipelines.warehouse.derived import rebuild_weekly_parts, refresh_weekly_parts
from pipelines.warehouse.session import one_thread

log = logging.getLogger(__name__)

SPC_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.has_spc)
KEYS = ("org_code", "metric")
# Up to this many trust-weeks (a day of every trust in England is about 140) a refresh runs on one thread.
ONE_THREAD_WEEKS = 2_000


# Straight from weekly_metric_parts (the weekly_position view adds joins SPC does not need).
_POINTS_SQL = """SELECT p.org_code, p.metric, p.week_ending AS period,
        metric_value(d.aggregate, p.numerator, p.denominator) AS value
    FROM weekly_metric_parts p JOIN metric_definitions d USING (metric)
    WHERE p.days_with_data = 7 AND value IS NOT NULL"""
# The settings that place a series' points in segments and baselines, for the series in {series}.
_SEGMENT_SETTINGS_SQL = """CREATE OR REPLACE TEMP TABLE {table} AS
    WITH mergers AS (  -- a merger changes the process: limits start again at it, without anyone asking
        SELECT successor AS org_code, list(succession_date) AS dates FROM trust_successions GROUP BY successor
    )
    SELECT c.org_code, c.metric, s.baseline_start, s.baseline_end,
        list_sort(list_distinct(list_concat(coalesce(s.recalculate_from, []::DATE[]),
                                            coalesce(m.dates, []::DATE[])))) AS recalculate_from
    FROM {series} c LEFT JOIN spc_settings s USING (org_code, metric) LEFT JOIN mergers m USING (org_code)"""


def weekly_points(con: duckdb.DuckDBPyConnection, up_to_week: date | None = None,
                  org_codes: Sequence[str] | None = None, metrics: Sequence[str] = SPC_METRICS) -> pl.DataFrame:
    """One row per trust, metric and complete week (up to ``up_to_week``) with a value: org_code, metric,
    period, value. A week whose denominator is 0 has no value (every discharge on its discharge ready date
    leaves no delayed patient to average): it is no point of the chart."""
    return con.sql(f"""{_POINTS_SQL} AND (? OR p.week_ending <= ?) AND p.metric IN (SELECT unnest(?::VARCHAR[]))
          AND (? OR p.org_code IN (SELECT unnest(?::VARCHAR[])))
    """, params=[up_to_week is None, up_to_week, list(metrics), org_codes is None, list(org_codes or [])]).pl()


def series_settings(con: duckdb.DuckDBPyConnection, points: pl.DataFrame,
                    segment_settings: str | None = None) -> pl.DataFrame:
    """One row per series of ``points`` (``weekly_points``) with what ``xmr_many`` needs besides the
    points: the metric's direction, the ambition in force in the series' last week as the target, and
    the stored baseline and recalculation dates, plus the dates other trusts merged into it; those
    dates from ``segment_settings`` when the caller made that table already (``_SEGMENT_SETTINGS_SQL``
    of these series or more)."""
    last_weeks = points.group_by(KEYS).agg(period=pl.col("period").max())
    made = segment_settings is None
    con.register("spc_last_weeks", last_weeks)
    try:
        if made:
            segment_settings = "spc_last_settings"
            con.execute(_SEGMENT_SETTINGS_SQL.format(series="spc_last_weeks", table=segment_settings))
        return con.sql(f"""
            SELECT l.org_code, l.metric, d.better, a.threshold AS target, a.comparison AS target_comparison,
                s.baseline_start, s.baseline_end, s.recalculate_from
            FROM spc_last_weeks l JOIN metric_definitions d USING (metric)
            LEFT JOIN LATERAL ambition_in_force(l.metric, l.period) a ON true
            LEFT JOIN {segment_settings} s USING (org_code, metric)
        """).pl()
    finally:
        con.unregister("spc_last_weeks")
        if made:
            con.execute("DROP TABLE IF EXISTS spc_last_settings")


def weekly_series(con: duckdb.DuckDBPyConnection, up_to_week: date | None = None,
                  org_codes: Sequence[str] | None = None, metrics: Sequence[str] = SPC_METRICS) -> pl.DataFrame:
    """``weekly_points`` with their series' settings on every row: an ``xmr_many`` input frame."""
    points = weekly_points(con, up_to_week, org_codes, metrics)
    return points.join(series_settings(con, points), on=list(KEYS))


_SUMMARY_SCHEMA = pl.Schema({
    "org_code": pl.String(), "metric": pl.String(), "week_ending": pl.Date(), "variation": pl.String(),
    "assurance": pl.String(), "message": pl.String()})


def _latest_points(con: duckdb.DuckDBPyConnection, up_to_week: date | None,
                   org_codes: Sequence[str] | None) -> pl.DataFrame:
    """Variation and assurance at the last point of each series."""
    points = weekly_points(con, up_to_week, org_codes)
    if points.is_empty():
        return pl.DataFrame(schema=_SUMMARY_SCHEMA)
    # The settings once per series, not on each of 700,000 points; the rules only where the last point needs them.
    summary = xmr_latest(points, keys=KEYS, settings=series_settings(con, points))
    return summary.select(*KEYS, week_ending="last_period", variation="variation", assurance="assurance",
                          message="message").cast(_SUMMARY_SCHEMA)


def spc_summary(con: duckdb.DuckDBPyConnection, week_ending: date,
                org_codes: Sequence[str] | None = None) -> pl.DataFrame:
    """Variation and assurance of each trust and metric as at ``week_ending`` (the series up to it);
    a series without a complete figure for that week has no row.

    A series whose latest complete week is ``week_ending`` is read from ``spc_latest`` (stored by
    every write that changed it); only series that have later weeks are charted here, up to that week.
    """
    stored = con.sql("""
        SELECT org_code, metric, week_ending, variation, assurance, message FROM spc_latest
        WHERE week_ending >= ? AND (? OR org_code IN (SELECT unnest(?::VARCHAR[])))
    """, params=[week_ending, org_codes is None, list(org_codes or [])]).pl().cast(_SUMMARY_SCHEMA)
    current = stored.filter(pl.col("week_ending") == week_ending)
    later = stored.filter(pl.col("week_ending") > week_ending)
    if later.is_empty():
        return current
    earlier = _latest_points(con, week_ending, later["org_code"].unique().to_list())
    earlier = earlier.join(later.select(*KEYS), on=list(KEYS), how="semi").filter(pl.col("week_ending") == week_ending)
    return pl.concat([current, earlier]).sort(KEYS)


def refresh_spc(con: duckdb.DuckDBPyConnection, series: pl.DataFrame | None = None,
                weeks: pl.DataFrame | None = None) -> None:
    """Store in ``spc_latest`` (read through the view ``metric_spc``) each series' reading at its
    latest complete week: for the (org_code, metric) series given, or for every series. With ``weeks``
    (org_code, week_ending: the weeks a write changed) only those weeks' running totals are redone
    (``pipelines.spc.totals``); without, each series' are redone whole (its settings changed)."""
    started = time.perf_counter()
    if series is None:
        con.execute("DELETE FROM spc_blocks; DELETE FROM spc_latest")
        series, weeks = con.sql(f"SELECT DISTINCT org_code, metric FROM ({_POINTS_SQL}) "
                                "WHERE metric IN (SELECT unnest(?::VARCHAR[]))", params=[list(SPC_METRICS)]).pl(), None
    series = series.select(*KEYS).filter(pl.col("metric").is_in(SPC_METRICS))
    if series.is_empty():
        return
    con.register("spc_changed", series)
    if weeks is not None:
        con.register("spc_weeks", weeks.select("org_code", "week_ending"))
    try:
        fresh = _readings_from_totals(con, weeks is not None)
        con.execute("DELETE FROM spc_latest s USING spc_changed c WHERE s.org_code = c.org_code "
                    "AND s.metric = c.metric")
    finally:
        con.unregister("spc_changed")
        if weeks is not None:
            con.unregister("spc_weeks")
        con.execute("DROP VIEW IF EXISTS spc_points; DROP TABLE IF EXISTS spc_changed_settings")
    con.register("summary", fresh)
    con.execute("INSERT INTO spc_latest BY NAME SELECT * FROM summary")
    con.unregister("summary")
    log.info("SPC refreshed for %s series in %.3f s", f"{series.height:,}", time.perf_counter() - started)


def _readings_from_totals(con: duckdb.DuckDBPyConnection, some_weeks: bool) -> pl.DataFrame:
    """The latest readings of the series in ``spc_changed``: their running totals redone for the weeks in
    ``spc_weeks`` (all of them unless ``some_weeks``), then the rules run on each series' last points."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW spc_points AS {_POINTS_SQL}")
    con.execute(_SEGMENT_SETTINGS_SQL.format(series="spc_changed", table="spc_changed_settings"))
    totals.redo(con, "spc_points", "spc_changed_settings", "spc_weeks" if some_weeks else None)
    segments = totals.segments(con, "spc_changed_settings")
    if segments.is_empty():
        return pl.DataFrame(schema=_SUMMARY_SCHEMA)
    last_tail = totals.tail(con, "spc_points", "spc_changed_settings", segments)
    settings = series_settings(con, segments.select(*KEYS, period="last_period"), "spc_changed_settings")
    summary = xmr_from_totals(last_tail, segments, settings, keys=KEYS)
    return summary.select(*KEYS, week_ending="last_period", variation="variation", assurance="assurance",
                          message="message").cast(_SUMMARY_SCHEMA)


def refresh_derived(con: duckdb.DuckDBPyConnection, trust_days: pl.DataFrame | None = None) -> None:
    """After a write to ``sitrep_daily``: the weekly parts of the trust-weeks of ``trust_days``
    (org_code, period_date) and the SPC of the series whose complete weeks changed; everything
    when ``trust_days`` is None (after the reference data changed).

    A day's load (a few hundred rows, up to ONE_THREAD_WEEKS trust-weeks) refreshes both on one thread
    (``session.one_thread``): the SPC of the day that completes a week too, about 2,000 series of a few
    rows each, where handing work between threads costs more than it saves."""
    if trust_days is None:
        rebuild_weekly_parts(con)
        refresh_spc(con)
    elif trust_days.height:
        day = pl.col("period_date")
        weeks = trust_days.select("org_code", week_ending=day + pl.duration(days=7 - day.dt.weekday())).unique()
        with one_thread(con, weeks.height <= ONE_THREAD_WEEKS):
            refresh_spc(con, refresh_weekly_parts(con, trust_days), weeks)


def baseline_between(start: date | None, end: date | None) -> tuple[date, date] | None:
    """A fixed baseline from the two dates a user gave: both (the first no later than the second) or
    neither (None: limits from all the points). A ValueError, in words for the user, otherwise."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ValueError("give both baseline dates, or neither")
    if start > end:
        raise ValueError("the baseline must start before it ends")
    return start, end


def check_settings(weeks: pl.Series, baseline: tuple[date, date] | None, recalculate_from: Sequence[date]) -> None:
    """A ValueError, in words, unless the settings fit the series' complete ``weeks`` (their Sundays):
    a baseline within them holding at least MIN_POINTS weeks, and dates to recalculate from within them
    (a date counts from the week it falls in). No settings at all (clearing them) always fit."""
    if baseline is None and not recalculate_from:
        return
    if weeks.is_empty():
        raise ValueError("this trust has no complete week of this metric yet, so there is nothing to set")
    first, last = weeks.min(), weeks.max()
    assert isinstance(first, date) and isinstance(last, date)
    starts = first - timedelta(days=6)  # the Monday of the first week
    span = f"{starts:%d/%m/%Y} to {last:%d/%m/%Y}"
    if baseline:
        if baseline[0] < starts or baseline[1] > last:
            raise ValueError(f"the baseline {baseline[0]:%d/%m/%Y} to {baseline[1]:%d/%m/%Y} is outside the "
                             f"weeks charted ({span})")
        held = weeks.is_between(baseline[0], baseline[1]).sum()
        if held < MIN_POINTS:
            raise ValueError(f"the baseline holds {held} complete week{'s' * (held != 1)}: limits need at least "
                             f"{MIN_POINTS}, so choose a longer baseline")
    if outside := [d for d in recalculate_from if not starts <= d <= last]:
        raise ValueError(f"the date to recalculate from {', '.join(f'{d:%d/%m/%Y}' for d in outside)} is outside "
                         f"the weeks charted ({span})")


def save_spc_settings(db: Path, org_code: str, metric: str, baseline: tuple[date, date] | None,
                      recalculate_from: Sequence[date], set_by: access.Identity | str, reason: str = "") -> None:
    """Fix a baseline and/or dates to recalculate limits from, for one trust and metric. Every save is
    kept in ``spc_settings_history``; ``spc_settings`` holds the current ones. Refreshes that series' SPC.

    ``set_by`` is the acting identity, checked against the permission rules (a plain name: the
    single-analyst mode without sign-in); the change is recorded in the audit log."""
    actor = set_by if isinstance(set_by, access.Identity) else access.single_analyst(set_by)
    access.require(actor, "change_spc", org_code)
    if metric not in SPC_METRICS:
        raise ValueError(f"{metric!r} is not a metric with an SPC chart: expected one of {', '.join(SPC_METRICS)}")
    if baseline:
        baseline_between(*baseline)
    set_at = config.uk_now()
    dates = sorted(set(recalculate_from))
    values = [org_code, metric, baseline[0] if baseline else None, baseline[1] if baseline else None,
              dates, reason or None, actor.name, set_at]
    with open_for_write(db) as con:
        check_settings(weekly_points(con, None, [org_code], [metric])["period"], baseline, dates)
        con.execute("INSERT OR REPLACE INTO spc_settings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        con.execute("INSERT INTO spc_settings_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        shown = (f"baseline {baseline[0]:%d/%m/%Y} to {baseline[1]:%d/%m/%Y}" if baseline else "no baseline")
        recalc = ", ".join(f"{d:%d/%m/%Y}" for d in dates) or "none"
        access.record(con, actor, "spc_settings_changed", org_code,
                      f"{metric}: {shown}; recalculate from {recalc}" + (f"; reason: {reason}" if reason else ""),
                      at=set_at)
        refresh_spc(con, pl.DataFrame({"org_code": [org_code], "metric": [metric]}))
