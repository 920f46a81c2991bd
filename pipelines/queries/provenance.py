"""Where a trust's figures came from, for the trust drill-down: the sources and files behind its days,
which source each field came from, and what NHS England's publication alone can supply. No Streamlit
here; every function that reads takes a read-only connection first and hashable arguments (``ui.data.read``).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pipelines.catalogue.columns import COLUMN_NAMES
from pipelines.catalogue.metrics import METRIC_BY_ID, METRICS
from pipelines.catalogue.sources import DISCHARGE_SITREP

# The ``sitrep_daily.source`` of NHS England's discharge sitrep publication (a trust may have no other).
PUBLICATION = DISCHARGE_SITREP
# The only sitrep fields NHS England's publication supplies, day by day (``pipelines.publication.formats``).
PUBLICATION_FIELDS = frozenset({"nctr_patients", "nctr_discharged", "nctr_discharged_by_5pm"})
_BED_FIELDS = frozenset({"ga_beds_open", "ga_beds_occupied", "covid_beds_occupied", "los_7plus", "los_14plus",
                         "los_21plus"})


def source_groups(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> list[dict[str, object]]:
    """The trust's current figures in the range grouped by ``sitrep_daily.source``, earliest first:
    per source its files (in date order), the runs of consecutive days it covers (``spans``, a list
    of (first, last) pairs), its number of days and when its latest file was loaded."""
    files = con.execute("""
        SELECT source, source_file, max(loaded_at)
        FROM sitrep_daily WHERE org_code = ? AND period_date BETWEEN ? AND ?
        GROUP BY source, file_id, source_file
        ORDER BY source, min(period_date), file_id
    """, [org_code, first, last]).fetchall()
    spans = con.execute("""
        WITH days AS (
            SELECT DISTINCT source, period_date FROM sitrep_daily
            WHERE org_code = ? AND period_date BETWEEN ? AND ?
        ), runs AS (  -- consecutive days share period_date minus their position
            SELECT source, period_date,
                period_date - CAST(row_number() OVER (PARTITION BY source ORDER BY period_date) AS INTEGER) AS run
            FROM days
        )
        SELECT source, min(period_date), max(period_date), count(*) FROM runs
        GROUP BY source, run ORDER BY source, 2
    """, [org_code, first, last]).fetchall()
    groups: dict[str, dict[str, Any]] = {}  # heterogeneous: files and spans lists, a day count, a timestamp
    for source, start, end, days in spans:
        group = groups.setdefault(source, {"source": source, "files": [], "spans": [], "days": 0, "loaded_at": None})
        group["spans"].append((start, end))
        group["days"] += days
    for source, file_name, loaded_at in files:
        group = groups[source]
        group["files"].append(file_name)
        if loaded_at is not None and (group["loaded_at"] is None or loaded_at > group["loaded_at"]):
            group["loaded_at"] = loaded_at
    return sorted(groups.values(), key=lambda g: g["spans"][0][0])


def metric_fields(metric: str) -> frozenset[str]:
    """The sitrep fields a metric's formula reads (from the catalogue's SQL)."""
    definition = METRIC_BY_ID[metric]
    words = set(re.findall(r"[a-z_0-9]+", f"{definition.numerator} {definition.denominator or ''}"))
    return frozenset(words & set(COLUMN_NAMES))


def publication_gap(metric: str) -> str | None:
    """Why NHS England's publication cannot supply ``metric`` (for a trust whose figures come only
    from it), or None when it can: it has criteria-to-reside counts only, no beds or lengths of stay."""
    fields = metric_fields(metric)
    if fields <= PUBLICATION_FIELDS:
        return None
    if fields & _BED_FIELDS:
        return "NHS England's publication has no bed or length-of-stay figures"
    if any(f.startswith("discharges_p") for f in fields):
        return "NHS England's publication has discharges by pathway by month only: see the pathway mix by month"
    return "NHS England's publication has no OPEL levels"


def publication_metrics() -> tuple[str, ...]:
    """The metrics NHS England's publication supplies day by day (``publication_gap`` is None), in
    catalogue order: the tiles of a trust whose figures come only from it."""
    return tuple(m.id for m in METRICS if publication_gap(m.id) is None)


def field_sources(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> pl.DataFrame:
    """Which source each current field of the trust came from in the range (``sitrep_field_source``):
    field, source, days; most days first."""
    return con.sql("""
        SELECT field, source, count(*) AS days FROM sitrep_field_source
        WHERE org_code = ? AND period_date BETWEEN ? AND ? AND source IS NOT NULL
        GROUP BY field, source ORDER BY field, days DESC
    """, params=[org_code, first, last]).pl()
