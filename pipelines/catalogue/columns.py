"""The daily trust sitrep template (docs/domain.md section 2.1): canonical columns, types and header aliases.

Every reader turns its input into a Polars frame with exactly these columns (plus
``source_row``), so the contract, the loader and the warehouse speak one language.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import polars as pl

from pipelines.config import CONTRACTS_DIR

CONTRACT_FILE = CONTRACTS_DIR / "sitrep_daily.json"


def _required_by_contract() -> frozenset[str]:
    """Required columns are a rule of the data contract, so they are read from it."""
    suite = json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))
    return frozenset(e["kwargs"]["column"] for e in suite["expectations"] if e["type"] == "expect_column_to_exist")


_REQUIRED = _required_by_contract()


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    kind: str  # "date", "code", "count" or "opel": decides how raw text is parsed
    aliases: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """Must be present in the header (and, by the contract, never blank)."""
        return self.name in _REQUIRED


COLUMNS: tuple[Column, ...] = (
    Column("period_date", pl.Date(), "date", ("date", "period", "reporting_date", "snapshot_date", "day")),
    Column("org_code", pl.String(), "code",
           ("org", "organisation_code", "organization_code", "ods_code", "trust_code", "provider_code", "trust")),
    Column("site_code", pl.String(), "code", ("site", "site_ods_code", "ods_site_code")),
    Column("ga_beds_open", pl.Int64(), "count", ("ga_beds", "beds_open", "g_a_beds_open", "ga_beds_available")),
    Column("ga_beds_occupied", pl.Int64(), "count", ("beds_occupied", "g_a_beds_occupied", "occupied_beds")),
    Column("covid_beds_occupied", pl.Int64(), "count",
           ("covid_beds", "covid_19_beds_occupied", "covid19_beds_occupied")),
    Column("los_7plus", pl.Int64(), "count", ("los_7", "los_7_plus", "los_7_days", "stranded", "los_7_days_plus")),
    Column("los_14plus", pl.Int64(), "count", ("los_14", "los_14_plus", "los_14_days", "los_14_days_plus")),
    Column("los_21plus", pl.Int64(), "count",
           ("los_21", "los_21_plus", "los_21_days", "super_stranded", "los_21_days_plus")),
    Column("nctr_patients", pl.Int64(), "count", ("nctr", "patients_nctr", "no_criteria_to_reside", "nctr_total")),
    Column("nctr_discharged", pl.Int64(), "count", ("nctr_discharges", "discharged_nctr")),
    Column("nctr_discharged_by_5pm", pl.Int64(), "count",
           ("nctr_discharged_by_17_00", "nctr_discharged_by_1700", "nctr_discharged_before_5pm", "discharged_by_5pm")),
    Column("discharges_p0", pl.Int64(), "count", ("p0", "pathway_0", "discharges_pathway_0", "p0_discharges")),
    Column("discharges_p1", pl.Int64(), "count", ("p1", "pathway_1", "discharges_pathway_1", "p1_discharges")),
    Column("discharges_p2", pl.Int64(), "count", ("p2", "pathway_2", "discharges_pathway_2", "p2_discharges")),
    Column("discharges_p3", pl.Int64(), "count", ("p3", "pathway_3", "discharges_pathway_3", "p3_discharges")),
    Column("trust_opel", pl.Int64(), "opel", ("opel", "opel_level", "trust_opel_level")),
    Column("la_opel", pl.Int64(), "opel", ("local_authority_opel", "la_opel_level", "social_care_opel")),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "count")
OPEL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "opel")
KEY: tuple[str, ...] = ("period_date", "org_code", "site_code")

# Canonical schema of a reader's output. ``source_row`` is the row number the user sees
# in Excel or a text editor (1-based, counting title rows and the header).
SCHEMA = pl.Schema({"source_row": pl.Int64(), **{c.name: c.dtype for c in COLUMNS}})


def normalise_header(text: str) -> str:
    """'G&A Beds Open ' -> 'ga_beds_open', 'LoS 7+' -> 'los_7plus', 'Org Code' -> 'org_code'."""
    text = text.strip().lower().replace("&", "").replace("+", "plus").replace("%", "pct")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.name, *column.aliases):
            index[normalise_header(name)] = column.name
    return index


ALIASES: dict[str, str] = _alias_index()


def canonical_name(header: str) -> str | None:
    """The template column a header cell stands for, or None when it is not one of ours."""
    return ALIASES.get(normalise_header(header))
