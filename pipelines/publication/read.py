"""NHS England's published Acute Daily Discharge SitRep (docs/domain.md section 2.2) -> tidy Polars frames.

Five publications are recognised by their content, never by file name (``detect``):

* ``nhse_monthly_workbook``: Cover Sheet, Contents, Table 1 ... Table 5 (sometimes lookup sheets).
  Table 2 per organisation per day (3 measures a day; older issues 4, with the 17:00 split),
  Table 3 weekly additional bed days lost, Table 4 month discharges by destination, Table 5
  the month's average of weekly snapshots of NCTR patients with LoS 14+ by delay reason.
* ``nhse_timeseries_workbook``: national figures only, 'Daily Series' (Table 2 measures and
  destinations per day) and 'Weekly Series' (bed days lost and delay reasons per week).
* ``nhse_uec_sitrep_workbook``: the UEC daily sitrep winter time series (beds and long stays per
  trust per day), read in ``pipelines.publication.uec``.
* ``nhse_beds_monthly_csv``: the monthly beds publication (long CSV), ``pipelines.publication.beds_csv``.
* ``nhse_long_csv`` (2024 on): ``Level, Region, ICB, Org Code, Org Name, Period, Metric, Metric
  Type, Metric Group, Value``.

``nhse_community_workbook`` (the Community Discharge SitRep) is recognised so that it can be
rejected with a clear message. Trust rows, and England/region/ICB rows, are kept in separate
frames so an aggregate can never be counted as a trust.

This module is the public interface. The workbooks are read in ``pipelines.publication.workbook`` (each sheet
as a grid, ``pipelines.publication.grid``), the long CSV in ``pipelines.publication.long_csv``, the trusts' and ICBs'
names in ``pipelines.publication.names``; schemas, ``NhseRead`` and shared helpers are in
``pipelines.publication.tables``.
"""
from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import cast

import fastexcel
import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.publication import tables as t
from pipelines.publication.beds_csv import BEDS_CSV, BedsMonthlyRead, is_beds_csv, read_beds_csv
from pipelines.publication.grid import Book
from pipelines.publication.long_csv import (
    ISSUE_LIMIT,
    LONG_CSV_COLUMNS,
    LONG_CSV_METRICS,
    LONG_CSV_REQUIRED,
    csv_header,
    read_long_csv,
)
from pipelines.publication.names import icb_short_name, reference_rows, short_name, title_case
from pipelines.publication.tables import (
    COMMUNITY,
    ICB_SCHEMA,
    LONG_CSV,
    MONTHLY,
    SUPPORTED,
    TIMESERIES,
    TRUST_SCHEMA,
    NhseRead,
)
from pipelines.publication.uec import UEC_WORKBOOK, UecRead, detect_uec, read_uec
from pipelines.publication.workbook import detect_workbook, read_monthly, read_timeseries

__all__ = ["COMMUNITY", "ICB_SCHEMA", "ISSUE_LIMIT", "LONG_CSV", "LONG_CSV_COLUMNS", "LONG_CSV_METRICS", "MONTHLY",
           "SUPPORTED", "TIMESERIES", "TRUST_SCHEMA", "NhseRead", "check_daily", "detect", "icb_short_name",
           "pathway_totals", "read_publication", "reference_rows", "short_name", "title_case"]


# ---------------------------------------------------------------------------------------------
# Recognition
# ---------------------------------------------------------------------------------------------
def detect(name: str, content: bytes) -> str | None:
    """Which NHS England publication ``content`` is, or None. Reads only the sheet names, the cover
    and the top of Table 2 (or a CSV's first line), so it is cheap for a trust sitrep."""
    if content[:4] == b"PK\x03\x04":
        try:
            book = fastexcel.read_excel(content)
            return detect_workbook(book) or (UEC_WORKBOOK if detect_uec(book) else None)
        except Exception:  # damaged or not a workbook: not ours to judge here
            return None
    header = csv_header(content)
    if is_beds_csv(header):  # before the discharge CSV: its columns are a subset of the beds CSV's
        return BEDS_CSV
    return LONG_CSV if header is not None and set(header) >= LONG_CSV_REQUIRED else None


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
def read_publication(name: str, content: bytes) -> NhseRead | UecRead | BedsMonthlyRead:
    """Read an NHS England publication into tidy frames; FileRejected when it cannot be used as a whole."""
    if not content or content.isspace():
        raise FileRejected(f"{name}: the file is empty.")
    if content[:4] == b"PK\x03\x04":
        try:
            zipfile.ZipFile(io.BytesIO(content)).testzip()
        except (zipfile.BadZipFile, EOFError, OSError):
            raise FileRejected(f"{name}: the Excel file is damaged or incomplete (not a valid .xlsx).") from None
    kind = detect(name, content)
    if kind == COMMUNITY:
        raise FileRejected(f"{name}: this is NHS England's Community Discharge SitRep (community providers); "
                           "only the Acute Daily Discharge SitRep is supported.")
    if kind is None:
        raise FileRejected(f"{name}: not an NHS England Acute Discharge SitRep publication: expected the monthly "
                           "workbook (sheets 'Table 2' ... with 'Number of patients who no longer meet the criteria "
                           "to reside'), the national time series ('Daily Series'), the long CSV with columns "
                           "Level, Region, ICB, Org Code, Org Name, Period, Metric, Metric Type, Metric Group, Value, "
                           "the UEC daily sitrep winter workbook (sheet 'G&A beds') or the monthly beds CSV "
                           "(Period, Level, Region, ICB, Org Code, Org Name, Metric, Type, Value).")
    try:
        if kind == UEC_WORKBOOK:
            return read_uec(cast(fastexcel.ExcelReader, Book(content)))  # Book forwards ExcelReader's attributes
        if kind == BEDS_CSV:
            return read_beds_csv(content)
        if kind == LONG_CSV:
            read = read_long_csv(content)
        else:
            book = cast(fastexcel.ExcelReader, Book(content))  # Book forwards ExcelReader's attributes
            read = read_monthly(book) if kind == MONTHLY else read_timeseries(book)
    except FileRejected as exc:
        raise FileRejected(f"{name}: {exc}") from None
    except Exception as exc:  # any library error on malformed input must reach the user as a rejection
        raise FileRejected(f"{name}: the file could not be read as an NHS England publication; it may be damaged "
                           f"({type(exc).__name__}).") from exc
    read.trusts, read.icbs = reference_rows(read)
    read.issues = pl.concat([read.issues, check_daily(read.daily)], how="diagonal_relaxed").sort(
        "source_row", maintain_order=True)
    return read


# ---------------------------------------------------------------------------------------------
# Checks and roll-ups
# ---------------------------------------------------------------------------------------------
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
        for m in t.DAILY_MEASURES]
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


def pathway_totals(monthly_destinations: pl.DataFrame) -> pl.DataFrame:
    """Per trust-month: discharges_p0 .. discharges_p3 (the trust sitrep's names), each the sum of its
    destination columns; null when all of them are missing. ``details_missing`` counts missing cells
    (at trust level the P2 hospice column is always suppressed)."""
    def total(p: int) -> pl.Expr:
        cells = pl.col("discharges").filter(pl.col("pathway") == p)
        return pl.when(cells.count() > 0).then(cells.sum()).alias(f"discharges_p{p}")

    summed = monthly_destinations.filter(pl.col("pathway").is_not_null()).group_by("month", "org_code").agg(
        *[total(p) for p in range(4)], details_missing=pl.col("discharges").null_count().cast(pl.Int64))
    return summed.sort("month", "org_code")
