"""NHS England's monthly beds publication (docs/domain.md 2.3), a long CSV: ``Period, Level, Region, ICB, Org Code,
Org Name, Metric, Type, Value``, a row per organisation, month and metric (monthly averages of the
daily UEC sitrep). Trust rows go to ``nhse_beds_monthly``; National, Region and ICB rows to
``nhse_beds_monthly_area``. Values are read as exact doubles; ``-``, ``[z]`` and empty values are
"not reported" (null, never 0) and counted in the notes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.publication.long_csv import read_text_csv
from pipelines.publication.names import icb_short_name
from pipelines.publication.tables import ENGLAND, ICB, REGION, TRUST, is_trust_expr, norm, parse_values

BEDS_CSV = "nhse_beds_monthly_csv"
BEDS_CSV_COLUMNS = ("period", "level", "region", "icb", "org_code", "org_name", "metric", "type", "value")
_LEVELS = {"national": ENGLAND, "england": ENGLAND, "region": REGION, "icb": ICB, "provider": TRUST, "trust": TRUST}
_ROWS = {"month": pl.Date(), "metric": pl.String(), "measure": pl.String(), "org_type": pl.String(),
         "value": pl.Float64(), "source_row": pl.Int64()}
BEDS_MONTHLY_SCHEMA = pl.Schema({"org_code": pl.String(), "org_name": pl.String(), "region": pl.String(),
                                 "icb_name": pl.String(), **_ROWS})
BEDS_MONTHLY_AREA_SCHEMA = pl.Schema({"level": pl.String(), "area_code": pl.String(), "area_name": pl.String(),
                                      "region": pl.String(), **_ROWS})
# The monthly figures the drill-down sets beside a metric's daily series: metric -> (numerator, denominator
# measure, or None for a published share). Adult beds, as the metrics use (docs/domain.md section 2.1).
MONTHLY_POINTS: dict[str, tuple[str, str | None]] = {
    "ga_occupancy_pct": ("adult_ga_beds_occupied", "adult_ga_beds_available"),
    "stranded_7plus_pct": ("pct_los_7plus", None),
    "stranded_14plus_pct": ("pct_los_14plus", None),
    "super_stranded_21plus_pct": ("pct_los_21plus", None),
}


def measure_name(metric: str) -> str:
    """'Adult G&A beds occupied' -> adult_ga_beds_occupied; 'Number of G&A beds occupied by patients with a
    length of stay of - 7 or more days' -> los_7plus; the '% occupied ...' share -> pct_los_7plus."""
    text = norm(metric)
    if found := re.search(r"length of stay of\W*(\d+) or more days", text):
        return ("pct_" if text.startswith("%") else "") + f"los_{found.group(1)}plus"
    return re.sub(r"[^a-z0-9]+", "_", text.replace("g&a", "ga").replace("%", "pct")).strip("_")


def is_beds_csv(header: list[str] | None) -> bool:
    """The header names Metric and Type (not the discharge CSV's Metric Type) and an organisation."""
    return header is not None and {"period", "level", "org_code", "metric", "type", "value"} <= set(header)


@dataclass
class BedsMonthlyRead:
    kind: str
    reader: str
    monthly: pl.DataFrame
    areas: pl.DataFrame
    trust_icbs: pl.DataFrame  # org_code, icb_code, icb_name: each trust's ICB as NHS England attributes it
    notes: list[str] = field(default_factory=list)
    issues: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))


def read_beds_csv(content: bytes) -> BedsMonthlyRead:
    raw = read_text_csv(content)
    missing = [c for c in BEDS_CSV_COLUMNS if c not in raw.columns and c not in ("region", "icb", "org_name")]
    if missing:
        raise FileRejected(f"the monthly beds CSV has no column(s) {', '.join(missing)}.")
    frame = raw.select([pl.col(c) if c in raw.columns else pl.lit(None, pl.String).alias(c)
                        for c in BEDS_CSV_COLUMNS]).with_row_index("source_row", offset=2)
    notes: list[str] = []
    blank = pl.all_horizontal(pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in BEDS_CSV_COLUMNS)
    frame = frame.filter(~blank)
    value, status = parse_values(pl.col("value"))
    frame = frame.with_columns(
        source_row=pl.col("source_row").cast(pl.Int64),
        month=pl.col("period").str.strip_chars().str.to_date("%d/%m/%Y", strict=False).dt.truncate("1mo"),
        level=pl.col("level").str.strip_chars().str.to_lowercase().replace_strict(_LEVELS, default=None),
        code=pl.col("org_code").str.strip_chars().str.to_uppercase(), name=pl.col("org_name").str.strip_chars(),
        metric=pl.col("metric").str.strip_chars(), org_type=pl.col("type").str.strip_chars(),
        value=value, status=status, text=pl.col("value").str.strip_chars())
    frame = frame.with_columns(measure=pl.col("metric").map_elements(measure_name, return_dtype=pl.String),
                               region=pl.col("region").replace("[z]", None), icb=pl.col("icb").replace("[z]", None))
    issues = [{"source_row": r["source_row"], "column_name": "period", "rule": "date", "severity": "error",
               "message": f"CSV line {r['source_row']}: Period '{r['period']}' is not a date (expected dd/mm/yyyy)"}
              for r in frame.filter(pl.col("month").is_null()).head(100).iter_rows(named=True)]
    unknown = frame.filter(pl.col("level").is_null())
    if unknown.height:
        notes.append(f"{unknown.height:,} line(s) with a Level not recognised were not loaded (first: line "
                     f"{unknown['source_row'][0]})")
    frame = frame.filter(pl.col("month").is_not_null() & pl.col("level").is_not_null())
    for state, words in (("suppressed", "'-' or '[z]'"), ("blank", "empty"), ("bad", "not a number"),
                         ("error", "an Excel error")):
        cells = frame.filter(pl.col("status") == state)
        if cells.height:
            lines = ", ".join(f"{r['code']} line {r['source_row']}" for r in cells.head(3).iter_rows(named=True))
            notes.append(f"{cells.height:,} value(s) {words}, stored as not reported (not 0), e.g. {lines}")
    repeated = ~pl.struct("level", "code", "month", "metric", "org_type").is_first_distinct()
    if (count := frame.filter(repeated).height):
        notes.append(f"{count:,} line(s) repeat an organisation, month, metric and type: the first was used")
    frame = frame.filter(~repeated)
    trust = (pl.col("level") == TRUST) & is_trust_expr(pl.col("code"), pl.col("name"))
    monthly = frame.filter(trust).select(org_code="code", org_name="name", region="region", icb_name="icb",
                                         **{c: c for c in _ROWS}).cast(BEDS_MONTHLY_SCHEMA)
    areas = frame.filter(~trust).select("level", area_code="code", area_name="name", region="region",
                                        **{c: c for c in _ROWS}).cast(BEDS_MONTHLY_AREA_SCHEMA)
    icb_codes = frame.filter(pl.col("level") == ICB).select("icb", icb_code="code").drop_nulls().unique("icb")
    trust_icbs = (frame.filter(trust).select(org_code="code", icb="icb").unique("org_code", maintain_order=True)
                  .join(icb_codes, on="icb", how="left").filter(pl.col("icb_code").is_not_null())
                  .select("org_code", "icb_code", icb_name=pl.col("icb").map_elements(icb_short_name,
                                                                                       return_dtype=pl.String),
                          icb_source=pl.lit("beds CSV")))
    if monthly.is_empty():
        raise FileRejected("the monthly beds CSV has no provider (trust) rows.")
    months = monthly["month"].unique().sort()
    reader = (f"NHS England monthly beds CSV (monthly averages; {monthly['org_code'].n_unique()} trusts, "
              f"{', '.join(f'{m:%b %Y}' for m in months)})")
    return BedsMonthlyRead(BEDS_CSV, reader, monthly, areas, trust_icbs, notes,
                           pl.DataFrame(issues, schema=ISSUE_SCHEMA))
