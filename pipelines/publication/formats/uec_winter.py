"""NHS England's UEC daily sitrep winter time series (docs/domain.md section 2.3): beds and long stays per
trust per day, read in ``pipelines.publication.uec``. Stored as published to ``nhse_uec_daily`` (and the
area table); the trust-day figures the metrics read go to ``sitrep_daily`` under source nhse_uec_sitrep."""
from __future__ import annotations

from datetime import date, datetime
from typing import cast

import duckdb

from pipelines.catalogue.sources import UEC_SITREP
from pipelines.publication.formats.base import SQL_ORG, Format, Probe, workbook
from pipelines.publication.rows import current_rows, provenance, replace, trust_rows, with_names
from pipelines.publication.uec import UEC_WORKBOOK, UecRead, detect_uec, read_uec

_UEC_BEDS = ", ".join(f"{group}{kind} BIGINT" for group in ("", "adult_", "paediatric_")
                      for kind in ("core_beds_open", "escalation_beds_open", "beds_open", "beds_occupied"))
_UEC = f"{_UEC_BEDS}, los_7plus BIGINT, los_14plus BIGINT, los_21plus BIGINT, beds_source_row BIGINT, " \
       "los_source_row BIGINT, source_column VARCHAR, file_id INTEGER, loaded_at TIMESTAMP"
DDL = f"""
CREATE TABLE IF NOT EXISTS nhse_uec_daily (period_date DATE, {SQL_ORG}, {_UEC});
CREATE TABLE IF NOT EXISTS nhse_uec_daily_area (period_date DATE, level VARCHAR, area_code VARCHAR,
    area_name VARCHAR, {_UEC});
"""


def store(con: duckdb.DuckDBPyConnection, read: UecRead, file_id: int, file_name: str,
          loaded_at: datetime) -> dict[str, int]:
    """A UEC daily sitrep workbook, inside the caller's transaction; returns the counts."""
    stamp = provenance(file_id, loaded_at)
    replace(con, "nhse_uec_daily", read.daily.with_columns(**stamp), ("period_date", "org_code"))
    if read.areas.height:
        replace(con, "nhse_uec_daily_area", read.areas.with_columns(**stamp),
                ("period_date", "level", "area_code", "area_name"))
    rows = read.sitrep_rows().with_columns(**stamp)
    superseded = current_rows(con, rows, UEC_SITREP, file_name)
    # period_date is a Date column: its max is a date (None when empty)
    return {"rows_read": rows.height, "rows_loaded": rows.height, "rows_current": rows.height,
            "rows_rejected": 0, "rows_warned": 0, "rows_superseded": superseded,
            "trusts_added": with_names(con, trust_rows(read.daily),
                                       cast("date | None", read.daily["period_date"].max()), stamp)}


def _detect(probe: Probe) -> bool:
    return probe.book is not None and detect_uec(probe.book)


FORMAT = Format(kind=UEC_WORKBOOK, described="the UEC daily sitrep winter workbook (sheet 'G&A beds')",
                detect=_detect, read=lambda content: read_uec(workbook(content)), store=store, ddl=DDL)
