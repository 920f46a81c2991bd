"""The DuckDB warehouse: schema, views, reference data, and safe connections.

Writes never happen in the live file. A writer takes an exclusive file lock, copies the
database, writes the copy (one transaction per file) and atomically renames it over the
original. Readers (the dashboard, analysts' tools) open the live file read-only and so
never meet DuckDB's single-writer lock; a crash mid-write leaves the live file untouched.
"""
from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipelines import config
from pipelines.catalogue.columns import COLUMNS
from pipelines.catalogue.metrics import METRICS, metric_parts_sql

_MEASURES = ",\n    ".join(f"{c.name} {'DATE' if c.kind == 'date' else 'VARCHAR' if c.kind == 'code' else 'INTEGER'}"
                           for c in COLUMNS)

SCHEMA_SQL = f"""
CREATE TABLE IF NOT EXISTS ingest_files (
    file_id INTEGER PRIMARY KEY,
    file_name VARCHAR NOT NULL,
    file_path VARCHAR,
    content_hash VARCHAR NOT NULL,
    size_bytes BIGINT,
    received_at TIMESTAMP NOT NULL,
    reader VARCHAR,
    status VARCHAR NOT NULL,          -- loaded | loaded_with_rejections | rejected
    rows_read INTEGER NOT NULL,
    rows_loaded INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    rows_warned INTEGER NOT NULL,
    rows_superseded INTEGER NOT NULL, -- current rows of earlier files this file replaced
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS sitrep_history (
    file_id INTEGER NOT NULL,
    source_row INTEGER NOT NULL,
    source VARCHAR NOT NULL,
    {_MEASURES}
);
CREATE TABLE IF NOT EXISTS sitrep_daily (
    {_MEASURES},
    source VARCHAR NOT NULL,
    file_id INTEGER NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected_rows (
    file_id INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    source_row INTEGER,
    org_code VARCHAR,
    period_date DATE,
    column_name VARCHAR,
    rule VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,        -- error: row rejected | warning: row loaded and flagged
    message VARCHAR NOT NULL,
    raw_values VARCHAR                -- the row as the file had it, as JSON
);
CREATE TABLE IF NOT EXISTS narratives (
    narrative_id INTEGER PRIMARY KEY,
    week_ending DATE NOT NULL,
    metric VARCHAR NOT NULL,
    org_code VARCHAR,                 -- NULL: the system narrative (the weekly table's column)
    text VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    saved_at TIMESTAMP NOT NULL       -- every save is a new row: nothing is overwritten
);
CREATE TABLE IF NOT EXISTS spc_settings (
    org_code VARCHAR NOT NULL, metric VARCHAR NOT NULL,
    baseline_start DATE, baseline_end DATE,        -- limits from these weeks only (both or neither)
    recalculate_from DATE[] NOT NULL,              -- known service changes: limits start again
    reason VARCHAR, set_by VARCHAR NOT NULL, set_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_code, metric)
);
-- Every write, by whom (pipelines.access.record): in the same transaction as the write it records.
CREATE TABLE IF NOT EXISTS audit_log (
    recorded_at TIMESTAMP NOT NULL,   -- UK local time
    actor VARCHAR NOT NULL,           -- the email from the identity token; the typed name without sign-in
    actor_source VARCHAR NOT NULL,    -- token | single_analyst | server (the command line)
    action VARCHAR NOT NULL,          -- file_received | narrative_saved | spc_settings_changed
    org_code VARCHAR,                 -- the trust concerned; NULL for the system narrative or a whole file
    detail VARCHAR NOT NULL           -- file name and outcome, narrative week and metric, the settings
);
CREATE TABLE IF NOT EXISTS spc_latest (
    org_code VARCHAR, metric VARCHAR, week_ending DATE, variation VARCHAR, assurance VARCHAR, message VARCHAR
);
CREATE TABLE IF NOT EXISTS trusts (
    org_code VARCHAR PRIMARY KEY, name VARCHAR, short_name VARCHAR, region VARCHAR,
    icb_code VARCHAR, icb_name VARCHAR, place VARCHAR, local_authority VARCHAR, source VARCHAR
);
CREATE TABLE IF NOT EXISTS ambitions (
    metric VARCHAR, comparison VARCHAR, threshold DOUBLE, amber_tolerance DOUBLE,
    effective_from DATE, source VARCHAR
);
CREATE TABLE IF NOT EXISTS metric_definitions (
    metric VARCHAR PRIMARY KEY, label VARCHAR, unit VARCHAR, better VARCHAR, aggregate VARCHAR,
    numerator VARCHAR, denominator VARCHAR, definition VARCHAR, display_order INTEGER
);
"""

# The ambition in force for a metric on a day: the latest row of ``ambitions`` effective on or before
# it (ambitions change by planning year). Every view, query and export joins it the same way:
#   LEFT JOIN LATERAL ambition_in_force(v.metric, v.week_ending) a ON true
AMBITION_MACRO_SQL = """
CREATE OR REPLACE {temp} MACRO ambition_in_force(metric_id, day) AS TABLE
    SELECT comparison, threshold, amber_tolerance, effective_from, source FROM ambitions
    WHERE metric = metric_id AND effective_from <= day
    ORDER BY effective_from DESC LIMIT 1;
"""

# Formulas that every view shares, kept as SQL macros so analysts can use them too.
MACROS_SQL = AMBITION_MACRO_SQL.format(temp="") + """
CREATE OR REPLACE MACRO metric_value(aggregate, numerator, denominator) AS CASE aggregate
    WHEN 'ratio' THEN 100.0 * numerator / nullif(denominator, 0)
    WHEN 'daily_average' THEN numerator / nullif(denominator, 0)
    ELSE numerator END;
-- Several trusts combined (a system figure): ratios of summed parts, summed daily averages, highest level.
CREATE OR REPLACE MACRO combined_value(aggregate, numerator, denominator) AS CASE aggregate
    WHEN 'ratio' THEN 100.0 * sum(numerator) / nullif(sum(denominator), 0)
    WHEN 'daily_average' THEN sum(numerator / nullif(denominator, 0))
    ELSE max(numerator) END;
CREATE OR REPLACE MACRO rag_status(value, comparison, threshold, tolerance) AS CASE
    WHEN value IS NULL OR threshold IS NULL THEN 'none'
    WHEN (comparison = '<' AND value < threshold) OR (comparison = '<=' AND value <= threshold)
      OR (comparison = '>' AND value > threshold) OR (comparison = '>=' AND value >= threshold) THEN 'green'
    WHEN (comparison IN ('<', '<=') AND value <= threshold + tolerance)
      OR (comparison IN ('>', '>=') AND value >= threshold - tolerance) THEN 'amber'
    ELSE 'red' END;
CREATE OR REPLACE MACRO change_direction(change, better) AS CASE
    WHEN change IS NULL THEN NULL
    WHEN change = 0 THEN 'same'
    WHEN (change < 0) = (better = 'lower') THEN 'better'
    ELSE 'worse' END;
"""

_SUMMED = [c.name for c in COLUMNS if c.kind == "count"]
_TRUST_DAY_COLUMNS = ",\n    ".join(
    # A trust-day total is only known when every site reported the figure.
    [f"CASE WHEN count({c}) = count(*) THEN sum({c}) END AS {c}" for c in _SUMMED]
    + ["max(trust_opel) AS trust_opel", "max(la_opel) AS la_opel"])

# Weekly parts are read by every page view, so they are kept as a table, rebuilt at the end of
# every write session; daily figures stay views (queries on them filter by trust or date).
WEEKLY_PARTS_SQL = metric_parts_sql("week_ending")

DAILY_VIEWS_SQL = f"""
CREATE OR REPLACE VIEW sitrep_trust_day AS
SELECT org_code, period_date,
    period_date + CAST(7 - isodow(period_date) AS INTEGER) AS week_ending,
    count(*) AS rows_reported,
    {_TRUST_DAY_COLUMNS}
FROM sitrep_daily
GROUP BY org_code, period_date;

CREATE OR REPLACE VIEW daily_metric_parts AS {metric_parts_sql("period_date")};

CREATE OR REPLACE VIEW daily_metric AS
SELECT p.period_date, p.org_code, p.metric, metric_value(d.aggregate, p.numerator, p.denominator) AS value,
    p.numerator, p.denominator
FROM daily_metric_parts p JOIN metric_definitions d USING (metric);
"""

POSITION_VIEW_SQL = """
CREATE OR REPLACE VIEW metric_spc AS
SELECT s.week_ending, s.org_code, t.short_name AS trust, s.metric, d.label AS metric_label,
    s.variation, s.assurance, s.message
FROM spc_latest s LEFT JOIN trusts t USING (org_code) LEFT JOIN metric_definitions d USING (metric);
CREATE OR REPLACE VIEW narrative_current AS
SELECT * FROM narratives
QUALIFY row_number() OVER (PARTITION BY week_ending, metric, org_code ORDER BY saved_at DESC, narrative_id DESC) = 1;

CREATE OR REPLACE VIEW weekly_position AS
WITH valued AS (
    SELECT p.*, metric_value(d.aggregate, p.numerator, p.denominator) AS value
    FROM weekly_metric_parts p JOIN metric_definitions d USING (metric)
)
SELECT v.week_ending, v.org_code, t.short_name AS trust, t.icb_code, t.place,
    v.metric, d.label AS metric_label, d.unit, d.better, d.display_order,
    v.value, v.numerator, v.denominator, v.days_with_data, v.days_reported,
    a.threshold AS ambition, a.comparison AS ambition_comparison, a.amber_tolerance,
    rag_status(v.value, a.comparison, a.threshold, a.amber_tolerance) AS status,
    prev.value AS previous_value,
    v.value - prev.value AS change,
    change_direction(v.value - prev.value, d.better) AS change_direction
FROM valued v
JOIN metric_definitions d USING (metric)
LEFT JOIN trusts t USING (org_code)
LEFT JOIN LATERAL ambition_in_force(v.metric, v.week_ending) a ON true
LEFT JOIN valued prev ON prev.org_code = v.org_code AND prev.metric = v.metric
    AND prev.week_ending = v.week_ending - INTERVAL 7 DAY;
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing and (re)define the macros and views; safe to run every time."""
    con.execute(SCHEMA_SQL)
    con.execute(MACROS_SQL)
    con.execute(DAILY_VIEWS_SQL)
    con.execute(f"CREATE TABLE IF NOT EXISTS weekly_metric_parts AS {WEEKLY_PARTS_SQL}")
    con.execute(POSITION_VIEW_SQL)
    from pipelines.publication.store import ensure_publication_tables  # writers only: keeps page imports light

    ensure_publication_tables(con)


def refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the tables derived from sitrep_daily, once per write session."""
    from pipelines.spc.store import refresh_spc_latest  # it writes through this module: import late

    con.execute(f"CREATE OR REPLACE TABLE weekly_metric_parts AS {WEEKLY_PARTS_SQL}")
    refresh_spc_latest(con)


def refresh_reference(con: duckdb.DuckDBPyConnection, reference_dir: Path | None = None) -> None:
    """Load the reference files: trusts are upserted (other sources may have added trusts),
    ambitions and metric definitions replaced, so editing a file and re-ingesting is enough."""
    reference_dir = reference_dir or config.reference_dir()
    trusts = pl.read_csv(reference_dir / "trusts.csv", infer_schema=False).with_columns(source=pl.lit("reference_data"))
    con.register("trusts_file", trusts)
    con.execute("INSERT OR REPLACE INTO trusts BY NAME SELECT * FROM trusts_file")
    con.unregister("trusts_file")
    ambitions = pl.read_csv(reference_dir / "ambitions.csv", schema_overrides={
        "threshold": pl.Float64, "amber_tolerance": pl.Float64, "effective_from": pl.Date})
    con.register("ambitions_file", ambitions)
    con.execute("DELETE FROM ambitions; INSERT INTO ambitions BY NAME SELECT * FROM ambitions_file")
    con.unregister("ambitions_file")
    definitions = pl.DataFrame([
        {"metric": m.id, "label": m.label, "unit": m.unit, "better": m.better, "aggregate": m.aggregate,
         "numerator": m.numerator, "denominator": m.denominator, "definition": m.definition, "display_order": i}
        for i, m in enumerate(METRICS, start=1)])
    con.register("definitions", definitions)
    con.execute("DELETE FROM metric_definitions; INSERT INTO metric_definitions BY NAME SELECT * FROM definitions")
    con.unregister("definitions")


def connect_read(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the live file: never blocked by an ingest (see module doc).
    The ambition macro is also defined for the session, so a file written before it existed still answers."""
    con = duckdb.connect(str(db), read_only=True)
    con.execute(AMBITION_MACRO_SQL.format(temp="TEMP"))
    return con


def database_version(db: Path) -> tuple[int, int] | None:
    """Changes whenever an ingest swaps in a new file: a cache key that follows the data."""
    try:
        stat = db.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


@contextmanager
def write_lock(db: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Exclusive lock for writers of one database file, held across processes."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{db}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def open_for_write(db: Path, on_wait: Callable[[], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Write to a private copy of the database and swap it in when the block succeeds."""
    with write_lock(db, on_wait):
        work = db.with_name(f"{db.name}.writing")  # only ever touched under the lock
        for leftover in (work, Path(f"{work}.wal")):  # from a writer that was killed
            leftover.unlink(missing_ok=True)
        if db.exists():
            shutil.copyfile(db, work)
        con = duckdb.connect(str(work))
        try:
            ensure_schema(con)
            refresh_reference(con)
            yield con
            refresh_derived(con)
            con.execute("CHECKPOINT")
            con.close()
            os.replace(work, db)
        except BaseException:
            con.close()
            work.unlink(missing_ok=True)
            Path(f"{work}.wal").unlink(missing_ok=True)
            raise
