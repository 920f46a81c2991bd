"""NHS England's published Acute Daily Discharge SitRep (docs/domain.md section 2.2) -> tidy Polars frames.

Five publications are recognised by their content, never by file name (``detect``), each a format
of the registry ``pipelines.publication.formats``:

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

import polars as pl

from pipelines.catalogue.issues import FileRejected
from pipelines.publication.formats import FORMATS, recognise
from pipelines.publication.formats.base import Read
from pipelines.publication.formats.discharge import check_daily
from pipelines.publication.long_csv import ISSUE_LIMIT, LONG_CSV_COLUMNS, LONG_CSV_METRICS
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

__all__ = ["COMMUNITY", "ICB_SCHEMA", "ISSUE_LIMIT", "LONG_CSV", "LONG_CSV_COLUMNS", "LONG_CSV_METRICS", "MONTHLY",
           "SUPPORTED", "TIMESERIES", "TRUST_SCHEMA", "NhseRead", "check_daily", "detect", "icb_short_name",
           "pathway_totals", "read_publication", "reference_rows", "short_name", "title_case"]


def detect(name: str, content: bytes) -> str | None:
    """Which NHS England publication ``content`` is (its format's kind), or None. Cheap for a trust
    sitrep: only sheet names and the tops of sheets (or a CSV's first line) are read."""
    found = recognise(content)
    return found.kind if found else None


def read_publication(name: str, content: bytes) -> Read:
    """Read an NHS England publication into tidy frames; FileRejected when it cannot be used as a whole."""
    if not content or content.isspace():
        raise FileRejected(f"{name}: the file is empty.")
    if content[:4] == b"PK\x03\x04":
        try:
            zipfile.ZipFile(io.BytesIO(content)).testzip()
        except (zipfile.BadZipFile, EOFError, OSError):
            raise FileRejected(f"{name}: the Excel file is damaged or incomplete (not a valid .xlsx).") from None
    found = recognise(content)
    if found is None:
        known = ", ".join(f.described for f in FORMATS if f.store is not None)
        raise FileRejected(f"{name}: not an NHS England Acute Discharge SitRep publication: expected {known}.")
    try:
        return found.read(content)
    except FileRejected as exc:
        raise FileRejected(f"{name}: {exc}") from None
    except Exception as exc:  # any library error on malformed input must reach the user as a rejection
        raise FileRejected(f"{name}: the file could not be read as an NHS England publication; it may be damaged "
                           f"({type(exc).__name__}).") from exc


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
