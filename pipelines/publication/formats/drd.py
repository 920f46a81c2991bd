"""NHS England's discharge ready date publication (docs/domain.md section 2.5), read in
``pipelines.publication.drd``: the monthly Provider sheet to ``nhse_drd_monthly`` (a row per trust,
month and measure, with the trust-month's "acceptable data" flag) and the England Timeseries sheet to
``nhse_drd_england``, as published. Monthly figures sit beside a trust's own daily figures and are
never summed with them: nothing of this publication enters ``sitrep_daily``. The views
``publication_drd_monthly`` and ``publication_drd_england`` are what pages and analysts read."""
from __future__ import annotations

from datetime import date, datetime
from typing import cast

import duckdb

from pipelines.publication import tables
from pipelines.publication.drd import DRD_WORKBOOK, DrdRead, detect_drd, read_drd
from pipelines.publication.formats.base import Format, Probe, workbook
from pipelines.publication.rows import provenance, replace, trust_rows, with_names

_MEASURE = "measure VARCHAR, label VARCHAR, value DOUBLE, source_sheet VARCHAR, source_row BIGINT, " \
           "source_column VARCHAR, file_id INTEGER, loaded_at TIMESTAMP"
DDL = f"""
CREATE TABLE IF NOT EXISTS nhse_drd_monthly (month DATE, org_code VARCHAR, org_name VARCHAR, region VARCHAR,
    icb VARCHAR, data_source VARCHAR, acceptable_data BOOLEAN, {_MEASURE});
CREATE TABLE IF NOT EXISTS nhse_drd_england (month DATE, {_MEASURE});
-- A trust-month NHS England did not accept is shown but never rated: may_be_rated is false.
CREATE OR REPLACE VIEW publication_drd_monthly AS
    SELECT d.month, d.org_code, coalesce(t.short_name, d.org_code) AS trust, d.measure, d.label, d.value,
        starts_with(d.measure, 'pct_') AS is_share, d.acceptable_data,
        coalesce(d.acceptable_data, false) AS may_be_rated, f.file_name AS source_file, d.source_row
    FROM nhse_drd_monthly d LEFT JOIN trusts t USING (org_code) LEFT JOIN ingest_files f USING (file_id);
CREATE OR REPLACE VIEW publication_drd_england AS
    SELECT e.month, e.measure, e.label, e.value, starts_with(e.measure, 'pct_') AS is_share,
        f.file_name AS source_file, e.source_row
    FROM nhse_drd_england e LEFT JOIN ingest_files f USING (file_id);
"""


def store(con: duckdb.DuckDBPyConnection, read: DrdRead, file_id: int, file_name: str,
          loaded_at: datetime) -> dict[str, int]:
    """A DRD workbook, inside the caller's transaction: a later file replaces a trust-month's (or England
    month's) measures; returns the counts."""
    stamp = provenance(file_id, loaded_at)
    before = con.execute("SELECT count(*) FROM nhse_drd_monthly").fetchall()[0][0]
    if read.monthly.height:
        replace(con, "nhse_drd_monthly", read.monthly.with_columns(**stamp), ("month", "org_code", "measure"))
    replaced = before + read.monthly.height - con.execute("SELECT count(*) FROM nhse_drd_monthly").fetchall()[0][0]
    if read.england.height:
        replace(con, "nhse_drd_england", read.england.with_columns(**stamp), ("month", "measure"))
    month = cast("date | None", read.monthly["month"].max())  # a Date column: a date, None when empty
    added = with_names(con, trust_rows(read.monthly.unique("org_code")), month and tables.month_end(month), stamp)
    rows = read.monthly.height + read.england.height
    return {"rows_read": rows, "rows_loaded": rows, "rows_current": rows, "rows_rejected": 0, "rows_warned": 0,
            "rows_superseded": replaced, "trusts_added": added}


def _detect(probe: Probe) -> bool:
    return probe.book is not None and detect_drd(probe.book)


FORMAT = Format(kind=DRD_WORKBOOK, described="the discharge ready date workbook (sheet 'Provider' or 'Timeseries')",
                detect=_detect, read=lambda content: read_drd(workbook(content)), store=store, ddl=DDL)

