"""What the three Acute Daily Discharge SitRep formats share (the monthly workbook, the national time
series and the long CSV all read into ``NhseRead``): its checks, its tables and how it is stored.

One truth per field: ``sitrep_daily`` keeps the current row of each source for a trust-day, and
the trust-day view (``sitrep_trust_day``) takes each field from the highest-precedence source that
reports it (``pipelines.catalogue.sources``: the trust's own file, then the UEC sitrep, then this
publication), whichever order the files arrive in. Every row also stays in ``sitrep_history``
and ``nhse_daily``. A later publication replaces an earlier one's figures for the same key.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import cast

import duckdb
import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA
from pipelines.catalogue.sources import DISCHARGE_SITREP
from pipelines.publication import tables
from pipelines.publication.formats.base import SQL_AREA, SQL_ORG, SQL_PUBLISHED, Probe
from pipelines.publication.names import reference_rows
from pipelines.publication.rows import own_file_days, provenance, replace, store_icbs, with_names
from pipelines.publication.tables import NhseRead
from pipelines.publication.workbook import detect_workbook

SOURCE = DISCHARGE_SITREP

_NCTR = "nctr_patients BIGINT, nctr_discharged BIGINT, nctr_remaining BIGINT, nctr_discharged_by_5pm BIGINT, " \
        "nctr_discharged_after_5pm BIGINT"
_BED_DAYS = "additional_bed_days_los_7plus BIGINT, additional_bed_days_los_14plus BIGINT, " \
            "additional_bed_days_los_21plus BIGINT"
_DESTINATION = "destination_code VARCHAR, destination VARCHAR, pathway BIGINT, discharges BIGINT"
DDL = f"""
CREATE TABLE IF NOT EXISTS nhse_daily (period_date DATE, {SQL_ORG}, icb_code VARCHAR, {_NCTR}, {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_daily_area (period_date DATE, {SQL_AREA}, {_NCTR}, {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_bed_days_lost (week_commencing DATE, week_ending DATE, {SQL_ORG}, {_BED_DAYS},
    {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_bed_days_lost_area (week_commencing DATE, week_ending DATE, {SQL_AREA}, {_BED_DAYS},
    {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_destinations (month DATE, {SQL_ORG}, {_DESTINATION}, {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_destinations_area (period_start DATE, period_end DATE, {SQL_AREA}, {_DESTINATION},
    {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_delay_reasons (period_start DATE, period_end DATE, {SQL_ORG}, reason VARCHAR,
    length_of_stay VARCHAR, patients DOUBLE, {SQL_PUBLISHED});
CREATE TABLE IF NOT EXISTS nhse_delay_reasons_area (period_start DATE, period_end DATE, {SQL_AREA}, reason VARCHAR,
    length_of_stay VARCHAR, patients DOUBLE, {SQL_PUBLISHED});
-- Files from before reasons at 7+ and 14+ days were kept apart.
ALTER TABLE nhse_delay_reasons ADD COLUMN IF NOT EXISTS length_of_stay VARCHAR;
ALTER TABLE nhse_delay_reasons_area ADD COLUMN IF NOT EXISTS length_of_stay VARCHAR;
"""

# Warehouse table -> (NhseRead attribute, its schema, the key a later publication replaces). Area keys
# hold the period end and the name: a national time series' weekly row and a month's row can start
# on the same day, and region rows have no code.
TABLES: dict[str, tuple[str, dict, tuple[str, ...]]] = {
    "nhse_daily_area": ("daily_areas", tables.DAILY_AREA_SCHEMA, ("period_date", "level", "area_code", "area_name")),
    "nhse_bed_days_lost": ("weekly_bed_days_lost", tables.BED_DAYS_SCHEMA, ("week_commencing", "org_code")),
    "nhse_bed_days_lost_area": ("weekly_bed_days_lost_areas", tables.BED_DAYS_AREA_SCHEMA,
                                ("week_commencing", "level", "area_code", "area_name")),
    "nhse_destinations": ("monthly_destinations", tables.DESTINATION_SCHEMA, ("month", "org_code", "destination")),
    "nhse_destinations_area": ("destinations_areas", tables.DESTINATION_AREA_SCHEMA,
                               ("period_start", "period_end", "level", "area_code", "area_name", "destination")),
    "nhse_delay_reasons": ("delay_reasons", tables.DELAY_REASON_SCHEMA,
                           ("period_start", "org_code", "reason", "length_of_stay")),
    "nhse_delay_reasons_area": ("delay_reasons_areas", tables.DELAY_REASON_AREA_SCHEMA,
                                ("period_start", "period_end", "level", "area_code", "area_name", "reason",
                                 "length_of_stay")),
}


# A revised publication replaces its periods' figures; the figures it replaced stay on record in
# <table>_superseded, so a chart can show a period "as published on" a date (pipelines.queries.published).
DDL += "".join(f"CREATE TABLE IF NOT EXISTS {table}_superseded AS SELECT *, NULL::INTEGER AS superseded_by, "
               f"NULL::TIMESTAMP AS superseded_at FROM {table} LIMIT 0;\n" for table in TABLES)
# Each file's own date: the cover's Revised date, else its Published date, else (no cover, the long CSV) the
# day it was loaded; ``dated_by`` says which. "As published on" a day goes by these dates.
DATED_BY_REVISED, DATED_BY_PUBLISHED, DATED_BY_LOAD = (
    "the file's revised date", "the file's published date", "the day it was loaded (the file states no date)")
DDL += "CREATE TABLE IF NOT EXISTS nhse_publication_dates (file_id INTEGER, published_on DATE, dated_by VARCHAR, " \
       "loaded_at TIMESTAMP);\n"
# <table>_as_published(day): the table as NHS England had published it by the end of ``day``: the rows of the
# files dated by then, less those a file dated by then replaced. A file loaded before files were dated goes by
# the day it was loaded.
_FILE_DAY = "coalesce({p}.published_on, CAST({t}.{at} AS DATE))"
DDL += "".join(f"""CREATE OR REPLACE MACRO {table}_as_published(day) AS TABLE
    SELECT t.* FROM {table} t LEFT JOIN nhse_publication_dates p ON p.file_id = t.file_id
    WHERE {_FILE_DAY.format(p="p", t="t", at="loaded_at")} <= day
    UNION ALL BY NAME
    SELECT s.* EXCLUDE (superseded_by, superseded_at) FROM {table}_superseded s
    LEFT JOIN nhse_publication_dates p ON p.file_id = s.file_id
    LEFT JOIN nhse_publication_dates r ON r.file_id = s.superseded_by
    WHERE {_FILE_DAY.format(p="p", t="s", at="loaded_at")} <= day
      AND {_FILE_DAY.format(p="r", t="s", at="superseded_at")} > day;
""" for table in TABLES)


# ---------------------------------------------------------------------------------------------
# Reading: what every discharge format does after its own reader
# ---------------------------------------------------------------------------------------------
def finish(read: NhseRead) -> NhseRead:
    """The trusts and ICBs the file names, and the contract rules over its trust-days."""
    read.trusts, read.icbs = reference_rows(read)
    read.issues = pl.concat([read.issues, check_daily(read.daily)], how="diagonal_relaxed").sort(
        "source_row", maintain_order=True)
    return read


_WORDS = {"nctr_patients": "patients not meeting the criteria to reside", "nctr_discharged": "discharged",
          "nctr_remaining": "remaining", "nctr_discharged_by_5pm": "discharged by 17:00",
          "nctr_discharged_after_5pm": "discharged 17:01-23:59"}


def check_daily(daily: pl.DataFrame, today: date | None = None) -> pl.DataFrame:
    """The contract rules of issue item 7 over a ``daily`` frame, as ISSUE_SCHEMA rows (pure: no I/O)."""
    today = today or date.today()
    where = (pl.when(pl.col("source_column").is_null())
             .then(pl.format("{} line {} ({}, {})", "source_sheet", "source_row", "org_code", "day"))
             .otherwise(pl.format("{} row {}, column {} ({})", "source_sheet", "source_row", "source_column", "day")))
    frame = daily.with_columns(day=pl.col("period_date").dt.strftime("%d/%m/%Y").fill_null("no date"))
    rules: list[tuple[pl.Expr, str, str, str, pl.Expr]] = [
        (pl.col(m) < 0, m, "non_negative", "error", pl.format(f"{_WORDS[m]} ({{}}) is negative", m))
        for m in tables.DAILY_MEASURES]
    rules += [
        (pl.col("nctr_discharged") > pl.col("nctr_patients"), "nctr_discharged", "nctr_discharged_le_nctr_patients",
         "error", pl.format("discharged ({}) is more than patients not meeting the criteria to reside ({})",
                            "nctr_discharged", "nctr_patients")),
        (pl.col("nctr_discharged_by_5pm") > pl.col("nctr_discharged"), "nctr_discharged_by_5pm",
         "nctr_discharged_by_5pm_le_nctr_discharged", "error",
         pl.format("discharged by 17:00 ({}) is more than discharged ({})",
                   "nctr_discharged_by_5pm", "nctr_discharged")),
        (pl.col("nctr_remaining") != pl.col("nctr_patients") - pl.col("nctr_discharged"), "nctr_remaining",
         "nctr_remaining_eq_nctr_patients_minus_nctr_discharged", "warning",
         pl.format("remaining ({}) is not patients not meeting the criteria to reside ({}) minus discharged ({})",
                   "nctr_remaining", "nctr_patients", "nctr_discharged")),
        (pl.len().over("period_date", "org_code") > 1, "org_code", "one_row_per_trust_day", "error",
         pl.format("{} has more than one row for this day", "org_code")),
        (pl.col("period_date").is_null(), "period_date", "known_date", "error", pl.lit("the date is not known")),
        (pl.col("period_date") > today, "period_date", "date_not_in_future", "error",
         pl.lit("the date is in the future")),
    ]
    # org_code and period_date name the trust-day an issue is about: one Excel row holds many days.
    parts = [frame.filter(test.fill_null(False)).select(
        "source_row", column_name=pl.lit(column), rule=pl.lit(rule), severity=pl.lit(severity),
        message=pl.format("{}: {}", where, message), org_code="org_code", period_date="period_date")
        for test, column, rule, severity, message in rules]
    return pl.concat(parts).cast(ISSUE_SCHEMA).sort("source_row", maintain_order=True)


# ---------------------------------------------------------------------------------------------
# Storing
# ---------------------------------------------------------------------------------------------
def store(con: duckdb.DuckDBPyConnection, read: NhseRead, file_id: int, file_name: str,
          loaded_at: datetime) -> dict[str, int]:
    """Everything from one publication, inside the caller's transaction; returns the counts."""
    issues = read.issues.with_columns(
        pl.col(c) if c in read.issues.columns else pl.lit(None, dtype).alias(c)
        for c, dtype in (("org_code", pl.String), ("period_date", pl.Date)))
    errors = issues.filter((pl.col("severity") == "error") & pl.col("org_code").is_not_null())
    warned = issues.filter((pl.col("severity") == "warning") & pl.col("org_code").is_not_null())
    stamp = provenance(file_id, loaded_at)
    daily = read.daily.join(errors.select("org_code", "period_date").unique(), on=["org_code", "period_date"],
                            how="anti").with_columns(**stamp)

    raw = read.daily.select("org_code", "period_date",
                            raw_values=pl.struct(*tables.DAILY_MEASURES).struct.json_encode())
    flagged = issues.join(raw.unique(["org_code", "period_date"]), on=["org_code", "period_date"], how="left")
    con.register("flagged", flagged.with_columns(file_id=pl.lit(file_id), file_name=pl.lit(file_name)))
    con.execute("INSERT INTO rejected_rows BY NAME SELECT * FROM flagged")
    con.unregister("flagged")

    con.register("incoming", daily)
    con.execute("INSERT INTO nhse_daily BY NAME SELECT * FROM incoming")
    con.execute(f"""
        INSERT INTO sitrep_history BY NAME
        SELECT file_id, source_row, '{SOURCE}' AS source, period_date, org_code,
            nctr_patients, nctr_discharged, nctr_discharged_by_5pm FROM incoming""")
    superseded = con.execute(f"""
        DELETE FROM sitrep_daily d USING incoming i
        WHERE d.source = '{SOURCE}' AND d.org_code = i.org_code AND d.period_date = i.period_date
    """).fetchall()[0][0]
    # Current for its source; the trust-day view takes each field from the highest-precedence source
    # that reports it (catalogue.sources), so a trust's own file wins whichever arrives first.
    con.execute(f"""
        INSERT INTO sitrep_daily BY NAME
        SELECT period_date, org_code, nctr_patients, nctr_discharged, nctr_discharged_by_5pm,
            '{SOURCE}' AS source, file_id, '{file_name.replace("'", "''")}' AS source_file, source_row, loaded_at
        FROM incoming""")
    current = daily.height - own_file_days(con, "incoming")
    con.unregister("incoming")

    # period_date is a Date column, so its max is a date (None when empty)
    period_end = read.period[1] if read.period else cast("date | None", read.daily["period_date"].max())
    added = with_names(con, read.trusts, period_end, stamp)
    store_icbs(con, read.trusts.filter(pl.col("icb_code").is_not_null()).select(
        "org_code", "icb_code", "icb_name", "icb_source"), period_end, stamp)
    _store_date(con, read, file_id, loaded_at)
    revised = 0
    for table, (attribute, _, key) in TABLES.items():
        frame = getattr(read, attribute)
        if frame.height:
            revised += replace(con, table, frame.with_columns(**stamp), key, kept_in=f"{table}_superseded")
    if revised:
        read.notes.append(f"revises {revised:,} figure(s) of an earlier publication for the same periods: this "
                          "file's figures are current, the earlier ones stay on record (tables *_superseded)")
    return {"rows_read": read.daily.height, "rows_loaded": daily.height, "rows_current": current,
            "rows_rejected": errors.select("org_code", "period_date").n_unique(),
            "rows_warned": warned.join(errors, on=["org_code", "period_date"], how="anti")
            .select("org_code", "period_date").n_unique(),
            "rows_superseded": superseded, "trusts_added": added}


def _store_date(con: duckdb.DuckDBPyConnection, read: NhseRead, file_id: int, loaded_at: datetime) -> None:
    """The file's own date (``nhse_publication_dates``), and a note saying which date it is."""
    published_on, dated_by = ((read.revised, DATED_BY_REVISED) if read.revised else
                              (read.published, DATED_BY_PUBLISHED) if read.published else
                              (loaded_at.date(), DATED_BY_LOAD))
    con.execute("INSERT INTO nhse_publication_dates VALUES (?, ?, ?, ?)", [file_id, published_on, dated_by, loaded_at])
    read.notes.append(f"dated {published_on:%d/%m/%Y}, {dated_by}: its figures show 'as published on' that day")


def acute_workbook_kind(probe: Probe) -> str | None:
    """Which acute (or community) discharge workbook the probe is, read once for every format that asks."""
    book = probe.book
    return probe.once("acute workbook", lambda: detect_workbook(book)) if book is not None else None
