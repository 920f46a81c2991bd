"""Is a file that claims to be NHS England's publication really one?

A publication is trusted only as a publication: before anything of it is stored, what it says
is checked against what every real one holds. Real monthly workbooks (2022-04, 2023-11) have an
England row for every day equal to the sum of the trust rows on patients not meeting the criteria
to reside, and regions that add up to England: a crafted file (a trust row with 9,999 patients, a
trust code nobody knows) does not add up, and is rejected as a whole.
"""
from __future__ import annotations

import polars as pl

from pipelines.catalogue.issues import FileRejected
from pipelines.publication.tables import NhseRead

MEASURE = "nctr_patients"  # published for every trust; nothing is held back from it (sheet notes)
# Within rounding: a publication may round or suppress a handful of patients.
TOLERANCE_PATIENTS, TOLERANCE_SHARE = 5, 0.005


def _sums(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.group_by("period_date").agg(pl.col(MEASURE).sum().alias(name))


def _first_mismatch(totals: pl.DataFrame, whole: str, parts: str) -> dict | None:
    off = (pl.col(whole) - pl.col(parts)).abs() > pl.max_horizontal(
        pl.lit(TOLERANCE_PATIENTS), pl.col(whole).abs() * TOLERANCE_SHARE)
    mismatches = totals.filter(off.fill_null(True)).sort("period_date")
    return mismatches.row(0, named=True) if mismatches.height else None


def check_adds_up(name: str, read: NhseRead) -> None:
    """FileRejected unless the trust rows add up to the England rows (and the regions to England)
    on every day, within rounding. Files with no trust rows (national time series) add no trust.
    The discharge sitrep formats' check (``pipelines.publication.formats``): the UEC and monthly beds
    publications are loaded by administrators only, and have no add-up rule of their own yet."""
    if read.daily.is_empty():
        return
    if read.england.is_empty():
        raise FileRejected(f"{name}: this file is laid out like NHS England's publication but has no England row; "
                           "every real publication has one, so it was not loaded. Load a publication as downloaded "
                           "from NHS England.")
    totals = _sums(read.england, "england").join(_sums(read.daily, "trusts"), on="period_date", how="full",
                                                 coalesce=True)
    if bad := _first_mismatch(totals, "england", "trusts"):
        raise FileRejected(f"{name}: on {bad['period_date']:%d/%m/%Y} its trusts add up to {bad['trusts'] or 0:,} "
                           f"patients not meeting the criteria to reside but its England row says "
                           f"{bad['england'] or 0:,}; a real NHS England publication adds up, so it was not loaded.")
    if read.daily_regions.height:
        regions = _sums(read.england, "england").join(_sums(read.daily_regions, "regions"), on="period_date")
        if bad := _first_mismatch(regions, "england", "regions"):
            raise FileRejected(f"{name}: on {bad['period_date']:%d/%m/%Y} its regions add up to {bad['regions']:,} "
                               f"but its England row says {bad['england']:,}; a real NHS England publication adds "
                               "up, so it was not loaded.")
