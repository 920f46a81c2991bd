"""The daily trust sitrep template (docs/domain.md section 2.1): canonical columns, types and header aliases.

Every reader turns its input into a Polars frame with exactly these columns (plus
``source_row``), so the contract, the loader and the warehouse speak one language.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

import polars as pl

from pipelines.config import CONTRACTS_DIR

CONTRACT_FILE = CONTRACTS_DIR / "sitrep_daily.json"


@cache
def _required_by_contract() -> frozenset[str]:
    """Required columns are a rule of the data contract, so they are read from it: once, when first asked
    (importing the catalogue reads no file)."""
    suite = json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))
    return frozenset(e["kwargs"]["column"] for e in suite["expectations"] if e["type"] == "expect_column_to_exist")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    kind: str  # "date", "code", "count" or "opel": decides how raw text is parsed
    aliases: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """Must be present in the header (and, by the contract, never blank)."""
        return self.name in _required_by_contract()


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
    Column("drd_discharges", pl.Int64(), "count", ("discharges_with_drd", "drd_patients_discharged")),
    Column("drd_delay_0", pl.Int64(), "count", ("drd_no_delay", "discharged_on_drd", "drd_delay_0_days")),
    Column("drd_delay_1", pl.Int64(), "count", ("drd_delay_1_day",)),
    Column("drd_delay_2_3", pl.Int64(), "count", ("drd_delay_2_3_days",)),
    Column("drd_delay_4_6", pl.Int64(), "count", ("drd_delay_4_6_days",)),
    Column("drd_delay_7_13", pl.Int64(), "count", ("drd_delay_7_13_days",)),
    Column("drd_delay_14_20", pl.Int64(), "count", ("drd_delay_14_20_days",)),
    Column("drd_delay_21plus", pl.Int64(), "count", ("drd_delay_21_plus", "drd_delay_21_days_plus")),
    Column("drd_delay_days", pl.Int64(), "count", ("drd_bed_days_lost", "bed_days_lost_to_delay")),
    Column("past_drd_21plus", pl.Int64(), "count", ("past_drd_21_plus", "drd_21plus_days_ago")),
    Column("internal_delay_48h_plus", pl.Int64(), "count",
           ("internal_delay_48h", "internal_delay_48h+", "internal_delays_48h_plus")),
    Column("trust_opel", pl.Int64(), "opel", ("opel", "opel_level", "trust_opel_level")),
    Column("la_opel", pl.Int64(), "opel", ("local_authority_opel", "la_opel_level", "social_care_opel")),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "count")
# The discharge ready date columns (docs/domain.md sections 2.1, 2.5): optional, from 2024; the delay bands in order.
DRD_BANDS: tuple[str, ...] = ("drd_delay_0", "drd_delay_1", "drd_delay_2_3", "drd_delay_4_6", "drd_delay_7_13",
                              "drd_delay_14_20", "drd_delay_21plus")
DRD_COLUMNS: tuple[str, ...] = ("drd_discharges", *DRD_BANDS, "drd_delay_days", "past_drd_21plus",
                                "internal_delay_48h_plus")


def required_columns() -> tuple[str, ...]:
    """The columns every file must have, in template order (the data contract says which)."""
    return tuple(c.name for c in COLUMNS if c.required)

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
