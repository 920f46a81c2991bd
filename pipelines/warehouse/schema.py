"""Every table's DDL, the macros and the views: the warehouse's stable interface, defined here only (NHS
England's formats declare their own tables in pipelines.publication.formats; gathered here as PUBLICATION_SQL).

``migrate`` brings a database file to this schema: a new file gets every table; an older file gets
what it lacks (tables, columns, views, derived tables rebuilt), decided by the hash of the generated
DDL kept in the file (docs/schema-migrations.md). Analysts' tools rely on the names (docs/warehouse.md).
"""
from __future__ import annotations

import hashlib
import logging
from functools import cache

import duckdb

from pipelines.catalogue.columns import COLUMNS, COUNT_COLUMNS
from pipelines.catalogue.metrics import metric_parts_sql
from pipelines.catalogue.sources import current_source_sql, current_value_sql, single_row_value_sql
from pipelines.publication.formats import DDL as FORMATS_DDL

log = logging.getLogger(__name__)

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
    saved_at TIMESTAMP NOT NULL,      -- every save is a new row: nothing is overwritten
    group_id VARCHAR                  -- the discharge group whose narrative it is ('all': every trust)
);
-- Discharge groups saved in the browser (pipelines.groups; reference_data/groups.csv seeds them): every
-- save a new row, the latest per group_id is current.
CREATE TABLE IF NOT EXISTS discharge_groups (
    version INTEGER PRIMARY KEY,
    group_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    org_codes VARCHAR[] NOT NULL,
    saved_by VARCHAR NOT NULL,
    saved_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS spc_settings (
    org_code VARCHAR NOT NULL, metric VARCHAR NOT NULL,
    baseline_start DATE, baseline_end DATE,        -- limits from these weeks only (both or neither)
    recalculate_from DATE[] NOT NULL,              -- known service changes: limits start again
    reason VARCHAR, set_by VARCHAR NOT NULL, set_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_code, metric)
);
CREATE TABLE IF NOT EXISTS spc_settings_history (  -- every save, including clearing: nothing is lost
    org_code VARCHAR NOT NULL, metric VARCHAR NOT NULL,
    baseline_start DATE, baseline_end DATE, recalculate_from DATE[] NOT NULL,
    reason VARCHAR, set_by VARCHAR NOT NULL, set_at TIMESTAMP NOT NULL
);
-- Every write, by whom (pipelines.access.record): in the same transaction as the write it records.
CREATE TABLE IF NOT EXISTS audit_log (
    recorded_at TIMESTAMP NOT NULL,   -- UK local time
    actor VARCHAR NOT NULL,           -- the email from the identity token; the typed name without sign-in
    actor_source VARCHAR NOT NULL,    -- token | single_analyst | server (the command line) | first_start
    action VARCHAR NOT NULL,          -- a key of pipelines.access.AUDIT_ACTION_WORDS
    org_code VARCHAR,                 -- the trust concerned; NULL for the system narrative or a whole file
    detail VARCHAR NOT NULL,          -- file name and outcome, narrative week and metric, the settings
    entry BIGINT,                     -- 1, 2, ...: the order of the chain of seals
    previous_hash VARCHAR,            -- the seal of entry - 1 ('' for the first)
    entry_hash VARCHAR                -- SHA-256 over entry, the columns above and previous_hash (pipelines.access)
);
-- Files from before the seals: the columns, then pipelines.access.seal_unsealed seals their rows once.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS entry BIGINT;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS previous_hash VARCHAR;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS entry_hash VARCHAR;
CREATE TABLE IF NOT EXISTS spc_latest (
    org_code VARCHAR, metric VARCHAR, week_ending DATE, variation VARCHAR, assurance VARCHAR, message VARCHAR
);
-- SPC's running totals per trust, metric, block of 52 weeks and segment (pipelines.spc.totals).
CREATE TABLE IF NOT EXISTS spc_blocks (
    org_code VARCHAR, metric VARCHAR, block INTEGER, passed INTEGER, height BIGINT, first_period DATE,
    last_period DATE, value_sum DOUBLE, mr_n BIGINT, mr_sum DOUBLE,
    fixed_n BIGINT, fixed_sum DOUBLE, fixed_mr_n BIGINT, fixed_mr_sum DOUBLE
);
CREATE TABLE IF NOT EXISTS trusts (
    org_code VARCHAR PRIMARY KEY, name VARCHAR, short_name VARCHAR, region VARCHAR,
    icb_code VARCHAR, icb_name VARCHAR, place VARCHAR, local_authority VARCHAR, source VARCHAR,
    icb_source VARCHAR  -- where the ICB came from: reference file, acute workbook ICB section, beds CSV ...
);
CREATE TABLE IF NOT EXISTS sites (
    site_code VARCHAR PRIMARY KEY, org_code VARCHAR NOT NULL, name VARCHAR  -- reference_data/sites.csv
);
CREATE TABLE IF NOT EXISTS ambitions (
    metric VARCHAR, comparison VARCHAR, threshold DOUBLE, amber_tolerance DOUBLE,
    effective_from DATE, source VARCHAR
);
CREATE TABLE IF NOT EXISTS metric_definitions (
    metric VARCHAR PRIMARY KEY, label VARCHAR, unit VARCHAR, better VARCHAR, aggregate VARCHAR,
    numerator VARCHAR, denominator VARCHAR, definition VARCHAR, display_order INTEGER
);
CREATE TABLE IF NOT EXISTS reference_state (  -- what the reference tables were loaded from
    content_hash VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS schema_state (  -- the schema this file was last brought to (``migrate``)
    ddl_hash VARCHAR NOT NULL,        -- the hash of every statement below: a different one migrates the file
    derived_hash VARCHAR NOT NULL     -- the hash of the weekly parts' definition: a different one rebuilds them
);
"""

# NHS England's publications: each format's tables are declared by its module (pipelines.publication.formats;
# tests/test_warehouse_schema.py checks that these columns are the readers' columns plus provenance).
PUBLICATION_SQL = FORMATS_DDL

# The names and ICBs each publication gives a trust, and the trust successions reference file.
BEDS_SQL = """
CREATE TABLE IF NOT EXISTS nhse_trust_names (org_code VARCHAR, published_name VARCHAR, period_end DATE,
    file_id INTEGER, loaded_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS nhse_trust_icb (org_code VARCHAR, icb_code VARCHAR, icb_name VARCHAR, period_end DATE,
    file_id INTEGER, loaded_at TIMESTAMP, icb_source VARCHAR);
-- Files from before the ICB's source was kept.
ALTER TABLE trusts ADD COLUMN IF NOT EXISTS icb_source VARCHAR;
ALTER TABLE nhse_trust_icb ADD COLUMN IF NOT EXISTS icb_source VARCHAR;
CREATE TABLE IF NOT EXISTS trust_successions (
    predecessor VARCHAR NOT NULL, successor VARCHAR NOT NULL, succession_date DATE NOT NULL,
    name VARCHAR,                  -- the successor's name when the reference file says so (else the latest published)
    note VARCHAR
);
"""

# Formulas that every view shares, kept as SQL macros so analysts can use them too.
# The ambition in force for a metric on a day: the latest row of ``ambitions`` effective on or before
# it (ambitions change by planning year). Every view, query and export joins it the same way:
#   LEFT JOIN LATERAL ambition_in_force(v.metric, v.week_ending) a ON true
AMBITION_MACRO_SQL = """
CREATE OR REPLACE {temp} MACRO ambition_in_force(metric_id, day) AS TABLE
    SELECT comparison, threshold, amber_tolerance, effective_from, source FROM ambitions
    WHERE metric = metric_id AND effective_from <= day
    ORDER BY effective_from DESC LIMIT 1;
"""

MACROS_SQL = AMBITION_MACRO_SQL.format(temp="") + """
CREATE OR REPLACE MACRO metric_value(aggregate, numerator, denominator) AS CASE aggregate
    WHEN 'ratio' THEN 100.0 * numerator / nullif(denominator, 0)
    WHEN 'mean' THEN numerator / nullif(denominator, 0)
    WHEN 'daily_average' THEN numerator / nullif(denominator, 0)
    ELSE numerator END;
-- Several trusts combined (a system figure): ratios and means of summed parts, summed daily averages,
-- highest level.
CREATE OR REPLACE MACRO combined_value(aggregate, numerator, denominator) AS CASE aggregate
    WHEN 'ratio' THEN 100.0 * sum(numerator) / nullif(sum(denominator), 0)
    WHEN 'mean' THEN sum(numerator) / nullif(sum(denominator), 0)
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

# The Sunday ending the Monday-to-Sunday week of period_date.
WEEK_ENDING_SQL = "period_date + CAST(7 - isodow(period_date) AS INTEGER)"
_SINGLE_ROW_COLUMNS = ",\n    ".join([f"{single_row_value_sql(c)} AS {c}" for c in COUNT_COLUMNS]
                                   + ["trust_opel", "la_opel"])
_TRUST_DAY_COLUMNS = ",\n    ".join(
    # Each field from the first source (catalogue.sources.PRECEDENCE) that reports it; from the
    # trust's own file only when every site reported the figure.
    [f"{current_value_sql(c)} AS {c}" for c in COUNT_COLUMNS]
    + ["max(trust_opel) AS trust_opel", "max(la_opel) AS la_opel"])


def grouped_trust_day_sql(daily: str) -> str:
    """Trust-days by grouping the rows of ``daily``: the definition ``trust_day_sql`` follows."""
    return f"""
SELECT org_code, period_date, {WEEK_ENDING_SQL} AS week_ending, count(*) AS rows_reported,
    {_TRUST_DAY_COLUMNS}
FROM {daily}
GROUP BY org_code, period_date"""


def trust_day_sql(daily: str = "sitrep_daily", several_rows: bool = True) -> str:
    """Sites rolled up to trust-days, from ``daily`` (the whole table, or a subquery of a few trust-days).

    Most trust-days are one row (one source, the trust as a whole); those pass through as they are,
    which is what grouping gives a single row (``single_row_value_sql``) at a tenth of the cost of
    117 filtered aggregates per trust-day. Only trust-days of several rows are grouped; with
    ``several_rows`` False the caller knows ``daily`` has none, and the grouping is left out of the
    query (planning its aggregates costs a daily load more than running them).
    """
    single = f"""
SELECT org_code, period_date, {WEEK_ENDING_SQL} AS week_ending, CAST(1 AS BIGINT) AS rows_reported,
    {_SINGLE_ROW_COLUMNS}
FROM {daily}"""
    if not several_rows:
        return single
    several = f"(SELECT org_code, period_date FROM {daily} GROUP BY org_code, period_date HAVING count(*) > 1)"
    return f"""{single} ANTI JOIN {several} USING (org_code, period_date)
UNION ALL BY NAME
{grouped_trust_day_sql(f"(SELECT * FROM {daily} SEMI JOIN {several} USING (org_code, period_date))")}"""


# Weekly parts are read by every page view, so they are kept as a table, refreshed by each write for
# the trust-weeks it changed (pipelines.warehouse.derived); daily figures stay views (queries on them
# filter by trust or date).
WEEKLY_PARTS_SQL = metric_parts_sql("week_ending")
# The table's columns are those WEEKLY_PARTS_SQL gives (tests/test_warehouse_schema.py checks it), declared
# rather than created AS the query: planning the query over an empty file cost a fifth of the new schema.
WEEKLY_PARTS_TABLE_SQL = """CREATE TABLE IF NOT EXISTS weekly_metric_parts (week_ending DATE, org_code VARCHAR,
    metric VARCHAR, numerator DOUBLE, denominator DOUBLE, days_with_data INTEGER, days_reported BIGINT)"""

# One truth per field, queryable: for every trust-day and field, the source its current value comes from.
FIELD_SOURCE_VIEW_SQL = "CREATE OR REPLACE VIEW sitrep_field_source AS\n" \
    "SELECT org_code, period_date, field, source FROM (\n" \
    "    SELECT org_code, period_date,\n        " + ",\n        ".join(
        f"{current_source_sql(c)} AS {c}" for c in COUNT_COLUMNS) + \
    "\n    FROM sitrep_daily GROUP BY org_code, period_date\n) UNPIVOT (source FOR field IN (" + \
    ", ".join(COUNT_COLUMNS) + "))"

DAILY_VIEWS_SQL = f"""
CREATE OR REPLACE VIEW sitrep_trust_day AS {trust_day_sql()};
{FIELD_SOURCE_VIEW_SQL};

CREATE OR REPLACE VIEW daily_metric_parts AS {metric_parts_sql("period_date")};

CREATE OR REPLACE VIEW daily_metric AS
SELECT p.period_date, p.org_code, p.metric, metric_value(d.aggregate, p.numerator, p.denominator) AS value,
    p.numerator, p.denominator
FROM daily_metric_parts p JOIN metric_definitions d USING (metric);
"""

# weekly_position values its rows in a CTE NOT MATERIALIZED, and finds the week before by a DATE minus 7 days (an
# INTERVAL would give a TIMESTAMP), so a reader's filter (one week, one trust) reaches both scans of
# weekly_metric_parts, kept in week order: materialized, the CTE valued every week of the history on every read
# (issue 24; benchmarks/sessions.py prints how a page's first view grows with the history).
POSITION_VIEW_SQL = """
CREATE OR REPLACE VIEW metric_spc AS
SELECT s.week_ending, s.org_code, t.short_name AS trust, s.metric, d.label AS metric_label,
    s.variation, s.assurance, s.message
FROM spc_latest s LEFT JOIN trusts t USING (org_code) LEFT JOIN metric_definitions d USING (metric);
CREATE OR REPLACE VIEW narrative_current AS
SELECT * FROM narratives
QUALIFY row_number() OVER (PARTITION BY group_id, week_ending, metric, org_code
                           ORDER BY saved_at DESC, narrative_id DESC) = 1;

CREATE OR REPLACE VIEW weekly_position AS
WITH valued AS NOT MATERIALIZED (
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
    AND prev.week_ending = v.week_ending - 7;
"""


# Data migration, idempotent: narratives saved before discharge groups belonged to no group. The selection
# they were written for was never recorded (neither the narrative nor its audit row kept the ICB and place
# filters), so every one goes to the built-in group of every trust, 'all' (pipelines.groups.ALL_GROUP).
NARRATIVE_GROUPS_SQL = """
ALTER TABLE narratives ADD COLUMN IF NOT EXISTS group_id VARCHAR;
UPDATE narratives SET group_id = 'all' WHERE group_id IS NULL;
"""


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Tables first, then (after any columns they lack are added) the macros and the views that read them.
_TABLES_SQL = ";\n".join([SCHEMA_SQL, NARRATIVE_GROUPS_SQL, PUBLICATION_SQL, BEDS_SQL, WEEKLY_PARTS_TABLE_SQL])
_VIEWS_SQL = ";\n".join([MACROS_SQL, DAILY_VIEWS_SQL, POSITION_VIEW_SQL])
# Changes whenever the generated SQL does (a new catalogue column or metric, a changed view): no number
# to bump by hand.
DERIVED_HASH = _hash(WEEKLY_PARTS_SQL)
SCHEMA_HASH = _hash("\n".join([_TABLES_SQL, _VIEWS_SQL, DERIVED_HASH]))
# In week order, so a read of the latest weeks (SPC's running totals, a refresh) skips the row groups of
# older ones; a refresh appends the weeks it rebuilt, which keeps the table in about that order.
REBUILD_WEEKLY_PARTS_SQL = "DELETE FROM weekly_metric_parts; INSERT INTO weekly_metric_parts BY NAME " \
    f"SELECT * FROM ({WEEKLY_PARTS_SQL}) ORDER BY week_ending"


def _stored_state(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(ddl_hash, derived_hash) the file was last migrated to; None for a new file or one of a release
    that kept a hand-bumped ``schema_version`` instead."""
    try:
        rows = con.execute("SELECT ddl_hash, derived_hash FROM schema_state").fetchall()
    except duckdb.CatalogException:
        return None
    return (rows[0][0], rows[0][1]) if rows else None


@cache
def _catalogue_columns() -> tuple[tuple[str, str, str], ...]:
    """(table, column, type) of every column the DDL defines, in order: read from an empty in-memory
    database the table statements ran on, so the DDL is the one column catalogue."""
    with duckdb.connect() as con:
        con.execute(_TABLES_SQL)
        return tuple(con.execute("""SELECT table_name, column_name, data_type FROM duckdb_columns()
            WHERE database_name = current_database() ORDER BY table_name, column_index""").fetchall())


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for each catalogue column an existing table lacks (CREATE TABLE IF NOT
    EXISTS leaves an existing table as it is); returns 'table.column' of each added. Added columns are
    NULL on the rows already there: a figure the file never had is not reported, never 0."""
    present = set(con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                              "WHERE database_name = current_database()").fetchall())
    added = []
    for table, column, data_type in _catalogue_columns():
        if (table, column) not in present:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {data_type}')
            added.append(f"{table}.{column}")
    return added


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """The file is of this schema (read-only: nothing to migrate)."""
    stored = _stored_state(con)
    return stored is not None and stored[0] == SCHEMA_HASH


def migrate(con: duckdb.DuckDBPyConnection) -> bool:
    """Bring the file to this schema when the hash it keeps differs from ``SCHEMA_HASH``: create the
    tables it lacks, add the columns its tables lack, recreate the macros and views, rebuild the weekly
    parts when their definition changed. Returns True when anything was done (a new or older file),
    False for a file already current. Runs inside a write session: a failure leaves the live file as it was."""
    stored = _stored_state(con)
    if stored is not None and stored[0] == SCHEMA_HASH:
        return False
    # An empty file (a first start, a new database) gets every column from the script and has no rows to
    # rebuild: the steps that upgrade an older file are skipped.
    new = stored is None and not con.execute(
        "SELECT EXISTS (FROM duckdb_tables() WHERE database_name = current_database())").fetchall()[0][0]
    # One transaction: one commit (one write and sync of DuckDB's log) for the script's statements, where each
    # committed on its own paid its own; a first start's new file runs about eighty.
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_TABLES_SQL)  # one script rather than a call per part: a new file pays it on every cold ingest
        added = [] if new else _add_missing_columns(con)
        con.execute("DROP TABLE IF EXISTS schema_version")  # the hand-bumped number of releases before the hash
        con.execute(_VIEWS_SQL)
        if not new and (stored is None or stored[1] != DERIVED_HASH):
            con.execute(REBUILD_WEEKLY_PARTS_SQL)
        con.execute("DELETE FROM schema_state; INSERT INTO schema_state VALUES (?, ?)", [SCHEMA_HASH, DERIVED_HASH])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("schema migrated to %s%s", SCHEMA_HASH, f"; columns added: {', '.join(added)}" if added else "")
    return True


# Names the empty database of this schema, on this DuckDB (its file format): new files are copies of it
# (pipelines.warehouse.session), so a changed schema or DuckDB never reuses an old one.
SCHEMA_KEY = _hash(f"{duckdb.__version__}\n{SCHEMA_HASH}")
