"""The tidy tables read from NHS England's Acute Daily Discharge SitRep (docs/domain.md section 2.2): levels and codes,
output schemas, ``NhseRead`` (everything read from one publication), cell parsers, and the shaping
every reader shares (``pipelines.publication.workbook`` for the workbooks, ``pipelines.publication.long_csv`` for
the long CSV). The published labels are in ``pipelines.publication.labels`` and re-exported here.

Every fact keeps its provenance: sheet, Excel row, and the Excel column where its period's
block starts. ``-`` (not submitted or suppressed) is stored as null, never 0.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA

# The published labels, re-exported: the readers use them as nhse_tables.norm and so on.
from pipelines.publication.labels import (  # noqa: F401
    BED_DAY_MEASURES,
    DAILY_MEASURES,
    DELAY_REASONS,
    DESTINATIONS,
    REASON_KEYS,
    bed_days_measure,
    destination,
    length_of_stay_cohort,
    norm,
    table2_measure,
    tidy_label,
)

TRUST, ICB, REGION, ENGLAND = "trust", "icb", "region", "england"
# Markers NHS England uses for a value that is missing: not submitted, suppressed, not applicable.
MISSING_MARKERS = ("-", "*", "..", "[c]", "[x]", "[z]", "[u]")
EXCEL_ERROR = r"^#(?:DIV/0!|N/A|VALUE!|REF!|NUM!|NAME\?|NULL!|SPILL!|CALC!|GETTING_DATA)$"  # a cell's error value
ICB_CODE = r"^Q[A-Z0-9]{2}$"  # ICB ODS codes (QOQ, QH8); trust codes never start with Q
REGION_CODE = r"^Y\d{2}$"  # NHS England region codes (Y56 ... Y63)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_EXCEL_DAY0 = date(1899, 12, 30)  # Excel serial 0 in the 1900 date system (serials from 61 are exact)


# ---------------------------------------------------------------------------------------------
# Output schemas
# ---------------------------------------------------------------------------------------------
SOURCE = {"source_sheet": pl.String(), "source_row": pl.Int64(), "source_column": pl.String()}
ORG = {"org_code": pl.String(), "org_name": pl.String(), "region": pl.String()}
AREA = {"level": pl.String(), "area_code": pl.String(), "area_name": pl.String(), "region": pl.String()}
_COUNTS = {m: pl.Int64() for m in DAILY_MEASURES}
DAILY_SCHEMA = {"period_date": pl.Date(), **ORG, "icb_code": pl.String(), **_COUNTS, **SOURCE}
DAILY_AREA_SCHEMA = {"period_date": pl.Date(), **AREA, **_COUNTS, **SOURCE}
_WEEK = {"week_commencing": pl.Date(), "week_ending": pl.Date()}
_BED_DAYS = {m: pl.Int64() for m in BED_DAY_MEASURES}
BED_DAYS_SCHEMA = {**_WEEK, **ORG, **_BED_DAYS, **SOURCE}
BED_DAYS_AREA_SCHEMA = {**_WEEK, **AREA, **_BED_DAYS, **SOURCE}
_DESTINATION = {"destination_code": pl.String(), "destination": pl.String(), "pathway": pl.Int64(),
                "discharges": pl.Int64()}
DESTINATION_SCHEMA = {"month": pl.Date(), **ORG, **_DESTINATION, **SOURCE}
_PERIOD = {"period_start": pl.Date(), "period_end": pl.Date()}
DESTINATION_AREA_SCHEMA = {**_PERIOD, **AREA, **_DESTINATION, **SOURCE}
# length_of_stay: the cohort a reason's figure counts ('14+' in Table 5; the long CSV's Metric Group says 7+ or 14+)
_REASON = {"reason": pl.String(), "length_of_stay": pl.String(), "patients": pl.Float64()}
DELAY_REASON_SCHEMA = {**_PERIOD, **ORG, **_REASON, **SOURCE}
DELAY_REASON_AREA_SCHEMA = {**_PERIOD, **AREA, **_REASON, **SOURCE}
# The trusts and ICBs a publication names (``pipelines.publication.names.reference_rows``)
TRUST_SCHEMA = pl.Schema({"org_code": pl.String(), "name": pl.String(), "short_name": pl.String(),
                          "region": pl.String(), "icb_code": pl.String(), "icb_name": pl.String(),
                          "icb_source": pl.String(), "published_name": pl.String()})
# Each trust's ICB as a publication attributes it, and where that came from ('acute workbook ICB section' ...).
TRUST_ICB_SCHEMA = pl.Schema({"org_code": pl.String(), "icb_code": pl.String(), "icb_name": pl.String(),
                              "icb_source": pl.String()})
ICB_SCHEMA = pl.Schema({"icb_code": pl.String(), "name": pl.String(), "short_name": pl.String(),
                        "region": pl.String(), "published_name": pl.String()})


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


# ---------------------------------------------------------------------------------------------
# Publications
# ---------------------------------------------------------------------------------------------
MONTHLY, TIMESERIES, LONG_CSV, COMMUNITY = (
    "nhse_monthly_workbook", "nhse_timeseries_workbook", "nhse_long_csv", "nhse_community_workbook")
SUPPORTED = (MONTHLY, TIMESERIES, LONG_CSV)


@dataclass
class NhseRead:
    """Everything read from one publication. Trust frames hold trust rows only; ``*_areas`` frames hold
    England, region and ICB rows (column ``level``), never to be added to the trusts."""
    kind: str
    reader: str  # e.g. "NHS England acute discharge sitrep workbook (Table 2 daily, 3 measures per day)"
    daily: pl.DataFrame = field(default_factory=lambda: empty(DAILY_SCHEMA))
    daily_areas: pl.DataFrame = field(default_factory=lambda: empty(DAILY_AREA_SCHEMA))
    weekly_bed_days_lost: pl.DataFrame = field(default_factory=lambda: empty(BED_DAYS_SCHEMA))
    weekly_bed_days_lost_areas: pl.DataFrame = field(default_factory=lambda: empty(BED_DAYS_AREA_SCHEMA))
    monthly_destinations: pl.DataFrame = field(default_factory=lambda: empty(DESTINATION_SCHEMA))
    destinations_areas: pl.DataFrame = field(default_factory=lambda: empty(DESTINATION_AREA_SCHEMA))
    delay_reasons: pl.DataFrame = field(default_factory=lambda: empty(DELAY_REASON_SCHEMA))
    delay_reasons_areas: pl.DataFrame = field(default_factory=lambda: empty(DELAY_REASON_AREA_SCHEMA))
    trusts: pl.DataFrame = field(default_factory=lambda: empty(TRUST_SCHEMA))
    # each trust's ICB as NHS England attributes it (the workbook's 'Lkp - Prov' sheet or its ICB section)
    trust_icbs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TRUST_ICB_SCHEMA))
    icbs: pl.DataFrame = field(default_factory=lambda: empty(ICB_SCHEMA))
    issues: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))
    notes: list[str] = field(default_factory=list)
    period: tuple[date, date] | None = None  # the publication's period (Cover Sheet), when stated
    published: date | None = None  # the cover's 'Published:' date
    revised: date | None = None  # the cover's 'Revised:' date, when the file is a re-issue

    def _level(self, level: str) -> pl.DataFrame:
        return self.daily_areas.filter(pl.col("level") == level)

    @property
    def daily_icb(self) -> pl.DataFrame:
        return self._level(ICB)

    @property
    def daily_regions(self) -> pl.DataFrame:
        return self._level(REGION)

    @property
    def england(self) -> pl.DataFrame:
        return self._level(ENGLAND)


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------
def column_letter(index: int) -> str:
    """0 -> 'A', 27 -> 'AB'."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def parse_day(text: object) -> date | None:
    """A date cell as fastexcel gives it ('2023-11-01 00:00:00'), dd/mm/yyyy text (also inside
    'w/c 30/10/2023 (daily snapshot)'), or an Excel serial number."""
    value = str(text or "").strip()
    try:
        if found := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?", value):
            return date(*map(int, found.groups()))
        if found := re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", value):
            day, month, year = map(int, found.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{5}(\.0+)?", value) and 61 <= float(value) < 2958466:
            return _EXCEL_DAY0 + timedelta(days=int(float(value)))
    except ValueError:  # e.g. 31/02/2023
        return None
    return None


def parse_month(text: object) -> date | None:
    """'November 2023 - Total number of patients discharged' -> 2023-11-01."""
    found = re.search(r"\b([A-Za-z]{3,9})\s+(\d{4})\b", str(text or ""))
    if found and found.group(1).lower() in _MONTHS:
        return date(int(found.group(2)), _MONTHS[found.group(1).lower()], 1)
    return None


def month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_values(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(value as Float64 or null, status: 'ok' | 'blank' | 'suppressed' | 'error' | 'bad')."""
    clean = text.str.strip_chars()
    number = clean.str.replace_all(",", "").cast(pl.Float64, strict=False)
    status = (pl.when(clean.is_null() | (clean == "")).then(pl.lit("blank"))
              .when(clean.str.to_lowercase().is_in(MISSING_MARKERS)).then(pl.lit("suppressed"))
              .when(clean.str.contains(EXCEL_ERROR)).then(pl.lit("error"))
              .when(number.is_null()).then(pl.lit("bad"))
              .otherwise(pl.lit("ok")))
    return number, status


# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------
def is_trust(code: str, name: str) -> bool:
    """Trust rows are never England, region or ICB figures, even if one strays into the trust block."""
    upper = name.upper()
    return not (re.match(ICB_CODE, code) or re.match(REGION_CODE, code) or "INTEGRATED CARE BOARD" in upper
                or upper.startswith("ENGLAND"))


def is_trust_expr(code: pl.Expr, name: pl.Expr) -> pl.Expr:
    """``is_trust`` for whole columns (a long CSV has millions of rows)."""
    upper = name.fill_null("").str.to_uppercase()
    return ~(code.fill_null("").str.contains(ICB_CODE) | code.fill_null("").str.contains(REGION_CODE)
             | upper.str.contains("INTEGRATED CARE BOARD", literal=True) | upper.str.starts_with("ENGLAND"))


def per_value(frame: pl.DataFrame, column: str, function: Callable[[str], str | None]) -> pl.Expr:
    """``function`` applied once per distinct value of ``column`` (names repeat on every row)."""
    values = frame[column].unique().drop_nulls().to_list()
    return pl.col(column).replace_strict({v: function(v) for v in values}, default=None, return_dtype=pl.String)


def region_name(text: str | None) -> str | None:
    """'NORTH EAST AND YORKSHIRE' -> 'North East and Yorkshire' (the reference data's spelling)."""
    if not text:
        return None
    words = text.strip().lower().split()
    return " ".join(w if (i and w in ("and", "of", "the")) else w.capitalize() for i, w in enumerate(words))


# ---------------------------------------------------------------------------------------------
# Facts, the log and shaping
# ---------------------------------------------------------------------------------------------
@dataclass
class Facts:
    """One table's cells in long form, before shaping: one row per (sheet row, data column)."""
    frame: pl.DataFrame  # source_row, level, code, name, region, period, measure, source_column, text, value, status
    notes: list[str]
    issues: list[dict]


@dataclass
class Log:
    """Notes and row issues collected while reading one file."""
    notes: list[str] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)

    def add(self, facts: Facts) -> None:
        self.notes.extend(facts.notes)
        self.issues.extend(facts.issues)


def whole_numbers(long: pl.DataFrame, table: str, issues: list[dict]) -> pl.DataFrame:
    """Counts must be whole: a fractional value becomes null and an issue."""
    fraction = long.filter(pl.col("value").is_not_null() & (pl.col("value") != pl.col("value").round(0)))
    issues.extend({"source_row": row["source_row"], "column_name": row["measure"], "rule": "whole_number",
                   "severity": "error",
                   "message": f"{table} row {row['source_row']}, column {row['column']}: '{row['text']}' is not a "
                              "whole number"} for row in fraction.iter_rows(named=True))
    return long.with_columns(pl.when(pl.col("value") == pl.col("value").round(0)).then(pl.col("value"))
                             .cast(pl.Int64).alias("value"))


def wide(long: pl.DataFrame, measures: tuple[str, ...]) -> pl.DataFrame:
    """One row per (sheet row, period) with a column per measure (absent measures are null)."""
    keys = ["source_row", "level", "code", "name", "region", "period", "source_column"]
    if long.is_empty():
        return pl.DataFrame(schema={**long.select(keys).schema, **{m: pl.Int64 for m in measures}})
    out = long.pivot(on="measure", index=keys, values="value")
    return out.with_columns([pl.lit(None, pl.Int64).alias(m) for m in measures if m not in out.columns])


def shape(frame: pl.DataFrame, trust_schema: dict, area_schema: dict, sheet: str,
          **renames: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split facts into the trust frame and the area (England/region/ICB) frame, in their schemas."""
    frame = frame.with_columns(source_sheet=pl.lit(sheet), **renames)
    trusts = frame.filter(pl.col("level") == TRUST).with_columns(
        org_code=pl.col("code"), org_name=pl.col("name"))
    areas = frame.filter(pl.col("level") != TRUST).with_columns(
        area_code=pl.col("code"), area_name=pl.col("name"))
    return _conform(trusts, trust_schema), _conform(areas, area_schema)


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([(pl.col(n) if n in frame.columns else pl.lit(None)).cast(t).alias(n)
                         for n, t in schema.items()])


def with_discharged_total(daily: pl.DataFrame, measures: set[str], table: str, log: Log) -> pl.DataFrame:
    """The older layout publishes only the two parts of the day: discharged = by 17:00 + 17:01-23:59."""
    if "nctr_discharged" in measures or "nctr_discharged_by_5pm" not in measures:
        return daily
    log.notes.append(f"{table}: patients discharged = discharged by 17:00 + discharged 17:01-23:59 "
                     "(this layout publishes only the two parts)")
    return daily.with_columns(nctr_discharged=pl.col("nctr_discharged_by_5pm") + pl.col("nctr_discharged_after_5pm"))


def with_destinations(frame: pl.DataFrame, label: str, log: Log) -> pl.DataFrame:
    """Add destination_code and pathway to a frame whose ``label`` column holds published destination labels."""
    labels = frame[label].unique().drop_nulls().to_list()
    lookup = {text: destination(text) for text in labels}
    unknown = [t for t, (_, _, known) in lookup.items() if not known]
    if unknown:
        mapped = [f"'{text}' -> " + (f"pathway {lookup[text][1]}" if lookup[text][1] is not None else "no pathway")
                  for text in unknown]
        log.notes.append("destination label(s) not seen before, mapped by their 'Pn' prefix where they have one: "
                         + "; ".join(mapped))
    codes = pl.DataFrame({label: labels, "destination_code": [lookup[t][0] for t in labels],
                          "pathway": [lookup[t][1] for t in labels]},
                         schema={label: pl.String, "destination_code": pl.String, "pathway": pl.Int64})
    return frame.join(codes, on=label, how="left")


def impossible_zeros(frame: pl.DataFrame, sheet: str, log: Log) -> pl.DataFrame:
    """A 7+ day figure of 0 beside a positive 14+ figure cannot be true (14+ is a subset of 7+): the 7+
    measure was not collected then (the national series has 0 until February 2022), so it is missing."""
    seven, fourteen = pl.col("additional_bed_days_los_7plus"), pl.col("additional_bed_days_los_14plus")
    impossible = (seven == 0) & (fourteen > 0)
    count = frame.select(impossible.fill_null(False).sum()).item()
    if count:
        log.notes.append(f"{sheet}: {count} additional bed days 7+ figure(s) of 0 beside a positive 14+ figure "
                         "were stored as missing (not collected)")
    return frame.with_columns(pl.when(impossible.fill_null(False)).then(None).otherwise(seven)
                              .alias("additional_bed_days_los_7plus"))
