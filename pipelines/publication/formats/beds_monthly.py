"""NHS England's monthly beds publication (long CSV; docs/domain.md section 2.3), read in
``pipelines.publication.beds_csv``: trust rows to ``nhse_beds_monthly``, the rest to
``nhse_beds_monthly_area``. Monthly averages never enter the trust-day figures."""
from __future__ import annotations

from datetime import date, datetime
from typing import cast

import duckdb

from pipelines.publication import tables
from pipelines.publication.beds_csv import BEDS_CSV, BedsMonthlyRead, is_beds_csv, read_beds_csv
from pipelines.publication.formats.base import SQL_AREA, SQL_ORG, Format, Probe
from pipelines.publication.rows import provenance, replace, store_icbs, trust_rows, with_names

_BEDS = "month DATE, metric VARCHAR, measure VARCHAR, org_type VARCHAR, value DOUBLE, source_row BIGINT, " \
        "file_id INTEGER, loaded_at TIMESTAMP"
DDL = f"""
CREATE TABLE IF NOT EXISTS nhse_beds_monthly ({SQL_ORG}, icb_name VARCHAR, {_BEDS});
CREATE TABLE IF NOT EXISTS nhse_beds_monthly_area ({SQL_AREA}, {_BEDS});
"""


def store(con: duckdb.DuckDBPyConnection, read: BedsMonthlyRead, file_id: int, file_name: str,
          loaded_at: datetime) -> dict[str, int]:
    """The monthly beds CSV, inside the caller's transaction; returns the counts."""
    stamp = provenance(file_id, loaded_at)
    before = con.execute("SELECT count(*) FROM nhse_beds_monthly").fetchall()[0][0]
    replace(con, "nhse_beds_monthly", read.monthly.with_columns(**stamp), ("month", "org_code", "metric", "org_type"))
    replaced = before + read.monthly.height - con.execute("SELECT count(*) FROM nhse_beds_monthly").fetchall()[0][0]
    if read.areas.height:
        replace(con, "nhse_beds_monthly_area", read.areas.with_columns(**stamp),
                ("month", "level", "area_code", "metric", "org_type"))
    month_end = cast("date | None", read.monthly["month"].max())  # a Date column: a date, None when empty
    month_end = month_end and tables.month_end(month_end)
    added = with_names(con, trust_rows(read.monthly), month_end, stamp)
    store_icbs(con, read.trust_icbs, month_end, stamp)
    rows = read.monthly.height + read.areas.height
    return {"rows_read": rows, "rows_loaded": rows, "rows_current": rows, "rows_rejected": 0, "rows_warned": 0,
            "rows_superseded": replaced, "trusts_added": added}


def _detect(probe: Probe) -> bool:
    """The header names Metric and Type (not the discharge CSV's Metric Type): ask before the discharge CSV,
    whose columns are a subset of these."""
    return is_beds_csv(probe.header)


FORMAT = Format(kind=BEDS_CSV, described="the monthly beds CSV (Period, Level, Region, ICB, Org Code, Org Name, "
                                         "Metric, Type, Value)",
                detect=_detect, read=read_beds_csv, store=store, ddl=DDL)
