"""SPC's running totals in the warehouse, so a completed week is judged without rereading every week.

The limits of a series come from all its baseline points (their mean and mean moving range), so a
reading from the points alone rereads the whole history of every series a write changed: every
series, on the day that completes a week. ``spc_blocks`` keeps instead, per trust, metric, block of
52 weeks and count of recalculation dates passed (the segment), the sums the limits need: points,
their total, their moving ranges (each point's range to the point before it, when both are in one
segment), and the same for the points within a fixed baseline. A write redoes only the blocks its
weeks fall in, and the next block kept (its first moving range reaches back into them), or, when they
all follow the series' last point kept (a week completed), adds the new points to its sums (added up in
the order of the points, so to the last bit what a redo gives); a reading
adds up a series' rows (one per year) and reads its last ``RUN_POINTS`` points. A series with no row
yet, or whose settings changed, is redone whole.

Every function takes the names of two relations: ``points`` (org_code, metric, period, value: one row
per charted point) and ``settings`` (org_code, metric, baseline_start, baseline_end, recalculate_from:
one row per series to redo or read). The rules themselves stay in ``pipelines.spc.xmr``.
"""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines.spc.xmr import RUN_POINTS

BLOCK_WEEKS = 52
ORIGIN = date(2000, 1, 2)  # a Sunday: blocks run from here in steps of BLOCK_WEEKS weeks

def _block(period: str) -> str:
    return f"CAST(floor(({period} - DATE '{ORIGIN}') / {7 * BLOCK_WEEKS}) AS INTEGER)"


def _passed(period: str) -> str:
    """How many of the series' recalculation dates are on or before the point: its segment, undensed."""
    return f"len(list_filter(list_distinct(s.recalculate_from), lambda d: d <= {period}))"


# The blocks to redo: those the touched weeks fall in, and the next block kept after each.
_REDO_SQL = f"""CREATE OR REPLACE TEMP TABLE spc_redo AS
WITH kept AS (SELECT DISTINCT org_code, metric FROM spc_blocks SEMI JOIN {{settings}} USING (org_code, metric)),
touched AS (
    SELECT DISTINCT k.org_code, k.metric, {_block('w.week_ending')} AS block
    FROM kept k JOIN {{weeks}} w USING (org_code)
)
SELECT * FROM touched
UNION SELECT t.org_code, t.metric, min(b.block) FROM touched t JOIN spc_blocks b USING (org_code, metric)
    WHERE b.block > t.block GROUP BY t.org_code, t.metric, t.block"""
# Per series, the points to read: from the last point before its first block redone (whose moving range
# the block's first point needs) to the end of its last; a series redone whole has no first_block.
_RANGE_SQL = """CREATE OR REPLACE TEMP TABLE spc_range AS
WITH redo AS (SELECT org_code, metric, min(block) AS first_block, max(block) AS last_block FROM spc_redo
              GROUP BY ALL)
SELECT r.org_code, r.metric, r.first_block, r.last_block, max(b.last_period) AS since
FROM redo r LEFT JOIN spc_blocks b ON b.org_code = r.org_code AND b.metric = r.metric AND b.block < r.first_block
GROUP BY ALL
UNION ALL SELECT org_code, metric, NULL, NULL, NULL FROM {settings} s
    WHERE NOT EXISTS (SELECT 1 FROM spc_blocks b WHERE b.org_code = s.org_code AND b.metric = s.metric)
    {whole}"""
# Each point's moving range to the point before it (``ranged``: the points read, in segments) and its block.
# One window over every series in order, a point paired only with one of its own series: a window partitioned
# by series cost about 40 ms whatever the rows (2,000 series), this one a few.
_PAIRED_SQL = f"""paired AS (
    SELECT *, {_block('period')} AS block, abs(value - lag(value) OVER w) AS mr,
        coalesce(lag(org_code) OVER w = org_code AND lag(metric) OVER w = metric AND lag(passed) OVER w = passed,
                 false) AS pair,
        coalesce(lag(fixed) OVER w AND fixed, false) AS fixed_pair
    FROM ranged WINDOW w AS (ORDER BY org_code, metric, period)
)"""
# Each point of {points} (``paired``) as the terms it adds to its block's sums: 0 where it adds none.
_POINT_TERMS_SQL = """SELECT org_code, metric, block, passed, 1 AS height, period AS first_period,
    period AS last_period, value AS value_sum, pair::INTEGER AS mr_n, CASE WHEN pair THEN mr ELSE 0 END AS mr_sum,
    fixed::INTEGER AS fixed_n, CASE WHEN fixed THEN value ELSE 0 END AS fixed_sum,
    (pair AND fixed_pair)::INTEGER AS fixed_mr_n, CASE WHEN pair AND fixed_pair THEN mr ELSE 0 END AS fixed_mr_sum
FROM {points}"""
# A block's sums over {terms}, added in the order of its points: a sum kept with the points after it added to
# it is then, to the last bit, the sum of all of them added afresh (x + 0 is x, so the terms of 0 change none).
# Terms that count nothing (n = 0, a term of 0) are left out of the ordered sums, each of which sorts what it
# is given: a series without a fixed baseline (nearly all) sorts none for its two baseline sums, and a sum of
# no term is the 0 its zeros gave (a full build of the national history sorted 1.4 million zeros).
_SUMS_SQL = """SELECT org_code, metric, block, passed, sum(height) AS height, min(first_period) AS first_period,
    max(last_period) AS last_period, sum(value_sum ORDER BY last_period) AS value_sum, sum(mr_n) AS mr_n,
    coalesce(sum(mr_sum ORDER BY last_period) FILTER (WHERE mr_n > 0), 0) AS mr_sum, sum(fixed_n) AS fixed_n,
    coalesce(sum(fixed_sum ORDER BY last_period) FILTER (WHERE fixed_n > 0), 0) AS fixed_sum,
    sum(fixed_mr_n) AS fixed_mr_n,
    coalesce(sum(fixed_mr_sum ORDER BY last_period) FILTER (WHERE fixed_mr_n > 0), 0) AS fixed_mr_sum
FROM ({terms}) GROUP BY ALL"""
_POINT_SQL = f"""{_passed('p.period')} AS passed,
        coalesce(p.period BETWEEN s.baseline_start AND s.baseline_end, false) AS fixed"""
_BLOCKS_SQL = f"""CREATE OR REPLACE TEMP TABLE spc_new_blocks AS
WITH ranged AS (
    SELECT p.org_code, p.metric, p.period, p.value, g.first_block, {_POINT_SQL}
    FROM {{points}} p JOIN spc_range g USING (org_code, metric) JOIN {{settings}} s USING (org_code, metric)
    WHERE p.period >= $since AND (g.first_block IS NULL OR (
        p.period >= coalesce(g.since, DATE '{ORIGIN}' + 7 * {BLOCK_WEEKS} * g.first_block)
        AND {_block('p.period')} <= g.last_block))
), {_PAIRED_SQL}, redone AS (
    SELECT p.* FROM paired p LEFT JOIN spc_redo r ON r.org_code = p.org_code AND r.metric = p.metric
        AND r.block = p.block
    WHERE p.first_block IS NULL OR r.block IS NOT NULL
)
{_SUMS_SQL.format(terms=_POINT_TERMS_SQL.format(points="redone"))}"""
# Series whose touched weeks all come after their last point stored (a week completed, days loaded in order):
# their new points are added to the sums kept, not their blocks redone.
_APPENDED_SQL = """CREATE OR REPLACE TEMP TABLE spc_appended AS
WITH kept AS (SELECT org_code, metric, max(last_period) AS last_period FROM spc_blocks
              SEMI JOIN {settings} USING (org_code, metric) GROUP BY ALL)
SELECT * FROM kept k WHERE NOT EXISTS (
    SELECT 1 FROM {weeks} w WHERE w.org_code = k.org_code AND w.week_ending <= k.last_period)"""
# The new points' blocks: the sums kept of each (none for a new block) and the new points added to them, each
# point's moving range taken to the one before it (the last point stored, for the first).
_ADDED_SQL = f"""CREATE OR REPLACE TEMP TABLE spc_new_blocks AS
WITH ranged AS (
    SELECT p.org_code, p.metric, p.period, p.value, a.last_period AS kept_until, {_POINT_SQL}
    FROM {{points}} p JOIN spc_appended a USING (org_code, metric) JOIN {{settings}} s USING (org_code, metric)
    WHERE p.period >= $since AND p.period >= a.last_period
), {_PAIRED_SQL}, added AS (SELECT * FROM paired WHERE period > kept_until)
{_SUMS_SQL.format(terms="SELECT * FROM spc_blocks SEMI JOIN added USING (org_code, metric, block, passed) "
                  "UNION ALL BY NAME " + _POINT_TERMS_SQL.format(points="added"))}"""
_ADD_SQL = """
DELETE FROM spc_blocks b USING spc_new_blocks n
    WHERE b.org_code = n.org_code AND b.metric = n.metric AND b.block = n.block AND b.passed = n.passed;
INSERT INTO spc_blocks BY NAME SELECT * FROM spc_new_blocks;
DROP TABLE spc_new_blocks"""
# The series left for the blocks' redo.
_REDONE_SQL = """CREATE OR REPLACE TEMP VIEW spc_redone AS
    SELECT * FROM {settings} ANTI JOIN spc_appended USING (org_code, metric)"""
_REPLACE_SQL = """
DELETE FROM spc_blocks b USING spc_redo r WHERE b.org_code = r.org_code AND b.metric = r.metric AND b.block = r.block;
DELETE FROM spc_blocks b USING spc_range g
    WHERE b.org_code = g.org_code AND b.metric = g.metric AND g.first_block IS NULL;
INSERT INTO spc_blocks BY NAME SELECT * FROM spc_new_blocks;
DROP TABLE spc_new_blocks; DROP TABLE spc_range; DROP TABLE spc_redo"""


def redo(con: duckdb.DuckDBPyConnection, points: str, settings: str, weeks: str | None) -> None:
    """Bring ``spc_blocks`` up to date for the series of ``settings`` after a write changed their points in
    the ``weeks`` relation (org_code, week_ending); with ``weeks`` None (their settings changed, or
    everything is rebuilt) each series is redone whole. A series whose changed weeks all follow its last
    point stored has its new points added to its sums (``_add_new_points``)."""
    try:
        if weeks:
            if _add_new_points(con, points, settings, weeks):
                return  # every series' new points were added
            settings = "spc_redone"
        con.execute(_REDO_SQL.format(settings=settings, weeks=weeks or "(SELECT NULL AS org_code, NULL::DATE "
                                                                         "AS week_ending WHERE false)"))
        con.execute(_RANGE_SQL.format(settings=settings, whole="" if weeks else "OR true"))
        # One bound for every series, so DuckDB can skip the row groups of older weeks.
        since = con.execute(f"""SELECT CASE WHEN bool_or(first_block IS NULL) THEN NULL
            ELSE min(coalesce(since, DATE '{ORIGIN}' + 7 * {BLOCK_WEEKS} * first_block)) END FROM spc_range"""
                            ).fetchone()
        con.execute(_BLOCKS_SQL.format(points=points, settings=settings),
                    {"since": since[0] if since and since[0] else date.min})
        con.execute(_REPLACE_SQL)
    finally:
        con.execute("DROP VIEW IF EXISTS spc_redone; DROP TABLE IF EXISTS spc_appended")


def _add_new_points(con: duckdb.DuckDBPyConnection, points: str, settings: str, weeks: str) -> bool:
    """The series of ``settings`` whose changed ``weeks`` all follow their last point stored (the day that
    completes a week): their new points added to the sums kept of their block, or a block of their own, instead
    of every point of that block read again (up to 52 weeks of every series). True when that was every series
    of ``settings``; otherwise leaves the view ``spc_redone`` (the others, for the blocks' redo). Leaves
    ``spc_appended`` (those series)."""
    con.execute(_APPENDED_SQL.format(settings=settings, weeks=weeks))
    # The earliest last point of them (so DuckDB can skip the row groups of older weeks) and whether any series
    # is left for the redo, in one statement: each costs a daily load more to plan than to run.
    [(since, left)] = con.execute(
        f"SELECT min(last_period), (SELECT count(*) FROM {settings}) > count(*) FROM spc_appended").fetchall()
    if since is not None:  # none: the write changed only weeks already charted (a resubmitted past week)
        con.execute(_ADDED_SQL.format(points=points, settings=settings), {"since": since})
        con.execute(_ADD_SQL)
    if left:
        con.execute(_REDONE_SQL.format(settings=settings))
    return not left


def segments(con: duckdb.DuckDBPyConnection, settings: str) -> pl.DataFrame:
    """One row per segment of each series of ``settings``, as ``xmr.xmr_from_totals`` takes them, with
    ``passed`` (its recalculation dates passed) and ``last_period``. The first segment's baseline is the
    fixed one when a series has it; every later segment's is all its points."""
    return con.sql(f"""
        WITH seg AS (
            SELECT org_code, metric, passed, sum(height) AS height, min(first_period) AS period,
                max(last_period) AS last_period, sum(value_sum) AS value_sum, sum(mr_n) AS mr_n,
                sum(mr_sum) AS mr_sum, sum(fixed_n) AS fixed_n, sum(fixed_sum) AS fixed_sum,
                sum(fixed_mr_n) AS fixed_mr_n, sum(fixed_mr_sum) AS fixed_mr_sum
            FROM spc_blocks SEMI JOIN {settings} USING (org_code, metric) GROUP BY ALL
        ), ranked AS (
            SELECT seg.*, dense_rank() OVER (PARTITION BY org_code, metric ORDER BY passed) - 1 AS segment,
                s.baseline_start IS NOT NULL AND passed = min(passed) OVER (PARTITION BY org_code, metric)
                    AS fixed_base
            FROM seg JOIN {settings} s USING (org_code, metric)
        )
        SELECT org_code, metric, segment, passed, period, last_period, height,
            CASE WHEN fixed_base THEN fixed_n ELSE height END AS n_base,
            CASE WHEN fixed_base THEN fixed_sum / nullif(fixed_n, 0) ELSE value_sum / height END AS mean,
            CASE WHEN fixed_base THEN fixed_mr_sum / nullif(fixed_mr_n, 0) ELSE mr_sum / nullif(mr_n, 0) END
                AS mr_bar
        FROM ranked ORDER BY org_code, metric, segment""").pl()


def tail(con: duckdb.DuckDBPyConnection, points: str, settings: str, segments: pl.DataFrame) -> pl.DataFrame:
    """The last ``RUN_POINTS`` points of each series of ``segments`` (``segments()``), with their segment:
    read from the last ``RUN_POINTS`` weeks of each series (all its last points, for a series charted every
    week), from its last year where those hold fewer, and from its whole history where that does too."""
    last = segments.group_by("org_code", "metric").agg(
        pl.col("last_period").max(), n_points=pl.col("height").sum())
    # Reading a year of every series cost a daily load twice what reading its last weeks does.
    windows = [pl.col("last_period") - pl.duration(weeks=RUN_POINTS - 1),
               (pl.col("last_period") - pl.duration(weeks=BLOCK_WEEKS)).dt.offset_by("-6d"), pl.lit(None, pl.Date)]
    found, short = [], last
    for since in windows:
        read = _points_since(con, points, settings, short.select("org_code", "metric", since=since))
        if since is not windows[-1]:  # a gap before the last points: those series read again, further back
            short = read.group_by("org_code", "metric").len().join(short, on=["org_code", "metric"]).filter(
                pl.col("len") < pl.min_horizontal("n_points", pl.lit(RUN_POINTS))).drop("len")
            read = read.join(short, on=["org_code", "metric"], how="anti")
        found.append(read)
        if short.is_empty():
            break
    return pl.concat(found).join(segments.select("org_code", "metric", "passed", "segment"),
                                 on=["org_code", "metric", "passed"])


def _points_since(con: duckdb.DuckDBPyConnection, points: str, settings: str, since: pl.DataFrame) -> pl.DataFrame:
    """The last ``RUN_POINTS`` points on or after ``since`` (per series; null: all) of each series given."""
    earliest = since["since"].min() if since["since"].null_count() == 0 else None
    con.register("spc_tail_since", since)
    try:
        return con.sql(f"""
            SELECT p.org_code, p.metric, p.period, p.value, {_passed('p.period')} AS passed
            FROM {points} p JOIN spc_tail_since t USING (org_code, metric) JOIN {settings} s USING (org_code, metric)
            WHERE p.period >= $earliest AND (t.since IS NULL OR p.period >= t.since)
            QUALIFY row_number() OVER (PARTITION BY p.org_code, p.metric ORDER BY p.period DESC) <= {RUN_POINTS}
        """, params={"earliest": earliest or date.min}).pl()
    finally:
        con.unregister("spc_tail_since")
