"""NHS England's discharge ready date (DRD) publication (docs/domain.md section 2.5), read by its labels.

Two workbooks, recognised by content: the monthly ``Provider`` sheet (one row per trust for one month)
and the England ``Timeseries`` sheet (one row per month). Both name their measures alike; the
Provider sheet has had three layouts, told apart by the labels of the header row (the row whose first
cell is ``Region``, or ``Code`` in November 2023):

* September 2023 to March 2024: 22 columns, ``Region, ICB, Org Code, Org Name``, the two "providers
  with acceptable data" columns, ``Data Source``, then 15 measures (``BASE``);
* November 2023: the same without ``Region``, ``ICB`` and ``Data Source``; codes under ``Code``;
* from April 2024: 39 columns, the 15 and 17 more (``FROM_APRIL_2024``); April 2024 has one more column
  at the end, kept under its own label.

Percentages are published as fractions and kept so (``value``); every measure keeps its published label.
A trust row's "acceptable data" flag is kept with it: a month whose data NHS England did not accept
is shown, never coloured against an ambition.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import fastexcel
import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.publication.grid import HEADER_SEARCH_ROWS, Grid, load_grid, sheets_by_name
from pipelines.publication.tables import column_letter, is_trust, norm, parse_day, parse_month, parse_values, tidy_label

DRD_WORKBOOK = "nhse_drd_workbook"
PROVIDER_SHEET, TIMESERIES_SHEET = "provider", "timeseries"
_BAND = r"(no|\d+(?:-\d+)?\+?)"


def _band(text: str) -> str:
    """'no' -> '0', '2-3' -> '2_3', '21+' -> '21plus'."""
    return {"no": "0"}.get(text, text.replace("-", "_").replace("+", "plus"))


def drd_measure(label: object) -> str | None:
    """A published DRD label -> our name (None when it is not a DRD measure); trailing spaces do not matter."""
    text = norm(label)
    fixed = {"total # of patients discharged": "patients_discharged", "total bed days lost to dd": "bed_days_lost",
             "dod is same as drd (%)": "pct_dod_same_as_drd", "dod is 1+ days after drd (%)": "pct_dod_after_drd",
             "# of providers with acceptable data": "providers_acceptable",
             "% of providers with acceptable data": "pct_providers_acceptable"}
    if text in fixed:
        return fixed[text]
    if found := re.fullmatch(_BAND + r"(?: day)? delay between dod & drd \((#|%)\)", text):
        return ("pct_" if found.group(2) == "%" else "") + f"delay_{_band(found.group(1))}_days"
    if found := re.fullmatch(r"patients delayed but discharged within (\d+(?:-\d+)?) days?( or more)? \(%\)", text):
        return f"pct_delayed_within_{_band(found.group(1))}{'plus' if found.group(2) else ''}_days"
    if found := re.fullmatch(r"total bed days after drd for patients discharged within (\d+(?:-\d+)?) days?( or more)?",
                             text):
        return f"bed_days_after_drd_within_{_band(found.group(1))}{'plus' if found.group(2) else ''}_days"
    if found := re.fullmatch(r"average days from drd to dod \((inc|exc) 0-day delays\)", text):
        return f"avg_days_drd_to_dod_{found.group(1)}_0_day"
    return None


_BANDS = ("1", "2_3", "4_6", "7_13", "14_20", "21plus")
ACCEPTABLE = ("providers_acceptable", "pct_providers_acceptable")
# The 15 measures of every Provider sheet, and the 17 added from April 2024.
BASE = ("pct_dod_same_as_drd", "pct_dod_after_drd", *(f"pct_delayed_within_{b}_days" for b in _BANDS),
        *(f"bed_days_after_drd_within_{b}_days" for b in _BANDS), "avg_days_drd_to_dod_exc_0_day")
FROM_APRIL_2024 = ("patients_discharged", "bed_days_lost", *(f"delay_{b}_days" for b in ("0", *_BANDS)),
                   *(f"pct_delay_{b}_days" for b in ("0", *_BANDS)), "avg_days_drd_to_dod_inc_0_day")
_WITHIN = {"1": "1 day", "2_3": "2-3 days", "4_6": "4-6 days", "7_13": "7-13 days", "14_20": "14-20 days",
           "21plus": "21 days or more"}
_DELAY = {"0": "No delay", "1": "1 day delay", "2_3": "2-3 day delay", "4_6": "4-6 day delay",
          "7_13": "7-13 day delay", "14_20": "14-20 day delay", "21plus": "21+ day delay"}
# Each measure's label as NHS England publishes it (the Timeseries sheet's spelling), for messages and tests.
LABELS: dict[str, str] = {
    "region": "Region", "icb": "ICB", "org code": "Org Code", "org name": "Org Name", "data source": "Data Source",
    "providers_acceptable": "# of providers with acceptable data",
    "pct_providers_acceptable": "% of providers with acceptable data",
    "patients_discharged": "Total # of patients discharged", "bed_days_lost": "Total bed days lost to DD",
    "pct_dod_same_as_drd": "DoD is same as DRD (%)", "pct_dod_after_drd": "DoD is 1+ days after DRD (%)",
    **{f"delay_{b}_days": f"{words} between DoD & DRD (#)" for b, words in _DELAY.items()},
    **{f"pct_delay_{b}_days": f"{words} between DoD & DRD (%)" for b, words in _DELAY.items()},
    **{f"pct_delayed_within_{b}_days": f"Patients delayed but discharged within {words} (%)"
       for b, words in _WITHIN.items()},
    **{f"bed_days_after_drd_within_{b}_days": f"Total bed days after DRD for patients discharged within {words}"
       for b, words in _WITHIN.items()},
    "avg_days_drd_to_dod_inc_0_day": "Average days from DRD to DoD (inc 0-day delays)",
    "avg_days_drd_to_dod_exc_0_day": "Average days from DRD to DoD (exc 0-day delays)",
}
# What each Provider layout's header row must hold (beyond the measures, the identity columns).
LAYOUTS: dict[str, tuple[str, ...]] = {
    "September 2023 to March 2024 (22 columns)": ("region", "icb", "org code", "org name", "data source",
                                                  *ACCEPTABLE, *BASE),
    "November 2023 (no Region, ICB or Data Source)": ("org code", "org name", *ACCEPTABLE, *BASE),
    "from April 2024 (39 columns)": ("region", "icb", "org code", "org name", "data source", *ACCEPTABLE, *BASE,
                                     *FROM_APRIL_2024),
}
_IDENTITY = {"region": "region", "icb": "icb", "org code": "org code", "organisation code": "org code",
             "code": "org code", "org name": "org name", "organisation name": "org name", "name": "org name",
             "data source": "data source"}

MEASURE_ROWS = {"measure": pl.String(), "label": pl.String(), "value": pl.Float64(), "source_sheet": pl.String(),
                "source_row": pl.Int64(), "source_column": pl.String()}
DRD_MONTHLY_SCHEMA = pl.Schema({"month": pl.Date(), "org_code": pl.String(), "org_name": pl.String(),
                                "region": pl.String(), "icb": pl.String(), "data_source": pl.String(),
                                "acceptable_data": pl.Boolean(), **MEASURE_ROWS})
DRD_ENGLAND_SCHEMA = pl.Schema({"month": pl.Date(), **MEASURE_ROWS})


@dataclass
class DrdRead:
    """Everything read from one DRD workbook: trust-month measures, England's months, notes."""
    kind: str
    reader: str
    monthly: pl.DataFrame
    england: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    issues: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))


def detect_drd(book: fastexcel.ExcelReader) -> bool:
    """A 'Provider' or 'Timeseries' sheet with a DRD measure among its top rows' labels."""
    for key in (PROVIDER_SHEET, TIMESERIES_SHEET):
        if (sheet := sheets_by_name(book).get(key)) is not None:
            grid = load_grid(book, sheet, n_rows=HEADER_SEARCH_ROWS)
            if any(drd_measure(c) for row in grid.rows for c in row if c and len(str(c)) < 200):
                return True
    return False


def _header_row(grid: Grid, first_words: tuple[str, ...]) -> int | None:
    return next((r for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS])
                 if row and norm(next((c for c in row if c is not None), "")) in first_words), None)


def _columns(grid: Grid, r: int) -> dict[int, tuple[str, str]]:
    """Column index -> (our name, published label) for every labelled column of header row ``r``."""
    found = {}
    for c, cell in enumerate(grid.rows[r]):
        if cell is None or not str(cell).strip():
            continue
        name = _IDENTITY.get(norm(cell)) or drd_measure(cell) or norm(cell)
        found[c] = (name, tidy_label(str(cell)))
    return found


def _layout(sheet: str, names: set[str]) -> str:
    """The layout the header matches (the one needing every label it has); FileRejected naming what the
    nearest layout lacked."""
    lacking = {layout: [n for n in need if n not in names] for layout, need in LAYOUTS.items()}
    complete = [layout for layout, missing in lacking.items() if not missing]
    if complete:
        return max(complete, key=lambda layout: len(LAYOUTS[layout]))
    nearest = min(lacking, key=lambda layout: len(lacking[layout]))
    raise FileRejected(f"sheet '{sheet}' matches none of the DRD Provider layouts; the nearest, {nearest}, also "
                       f"has: {', '.join(repr(LABELS[n]) for n in lacking[nearest])}.")


# Title rows whose dates are not the month the figures are for (NHS England's 'Published:', 'Revised:' ...).
_NOT_THE_MONTH = ("published", "revised", "contact", "summary")


def _sheet_month(grid: Grid, header: int) -> date | None:
    """The month the Provider sheet is for, above its header: the 'Period:' row's when there is one (NHS
    England's title block), else the first month named in a title ('... September 2023'), never the
    publication or revision date."""
    def first_month(rows: list[tuple]) -> date | None:
        return next((m.replace(day=1) for row in rows for c in row if c and (m := parse_month(c) or parse_day(c))),
                    None)

    def label(row: tuple) -> str:
        return norm(next((c for c in row if c is not None), "")).rstrip(":")

    titles = grid.rows[:header]
    period = [row[1:] for row in titles if row and label(row) == "period"]
    return first_month(period) or first_month([row for row in titles if label(row) not in _NOT_THE_MONTH])


def _measures_long(rows: pl.DataFrame, columns: dict[int, tuple[str, str]], grid: Grid,
                   keep: list[str]) -> pl.DataFrame:
    """One row per (sheet row, measure column): the ``keep`` columns, measure, label, value, provenance."""
    parts = []
    for c, (name, label) in columns.items():
        if name in _IDENTITY.values() or name == "month":
            continue
        value, _ = parse_values(pl.col(grid.letters[c]))
        parts.append(rows.select(*keep, measure=pl.lit(name), label=pl.lit(label), value=value,
                                 source_sheet=pl.lit(grid.sheet), source_row="source_row",
                                 source_column=pl.lit(column_letter(c))))
    return pl.concat(parts)


def read_provider(grid: Grid, notes: list[str]) -> pl.DataFrame:
    """The Provider sheet: one row per trust and measure (DRD_MONTHLY_SCHEMA)."""
    header = _header_row(grid, ("region", "code", "org code", "organisation code"))
    if header is None:
        raise FileRejected(f"sheet '{grid.sheet}' has no header row (a row starting 'Region', or 'Code').")
    columns = _columns(grid, header)
    layout = _layout(grid.sheet, {name for name, _ in columns.values()})
    month = _sheet_month(grid, header)
    if month is None:
        raise FileRejected(f"sheet '{grid.sheet}' names no month above its header row (e.g. 'September 2023').")
    known = set(LAYOUTS[layout])
    if extra := [label for name, label in columns.values() if name not in known and name not in _IDENTITY.values()]:
        notes.append(f"{grid.sheet}: column(s) beyond the layout {layout}, kept under their own labels: "
                     f"{', '.join(extra)}")
    at = {name: grid.letters[c] for c, (name, _) in columns.items()}
    body = grid.frame.slice(header + 1).with_row_index("source_row", offset=header + 2).with_columns(
        pl.col("source_row").cast(pl.Int64))

    def text(name: str) -> pl.Expr:
        return pl.col(at[name]).str.strip_chars() if name in at else pl.lit(None, pl.String)

    body = body.with_columns(org_code=text("org code").str.to_uppercase(), org_name=text("org name"),
                             region=text("region"), icb=text("icb"), data_source=text("data source"))
    trust = pl.struct("org_code", "org_name").map_elements(
        lambda r: bool(r["org_code"]) and is_trust(r["org_code"], r["org_name"] or ""), return_dtype=pl.Boolean)
    body = body.with_columns(trust=trust)
    skipped = body.filter(~pl.col("trust") & pl.col("org_code").is_not_null())
    if skipped.height:
        notes.append(f"{grid.sheet}: {skipped.height} row(s) not a trust, not loaded as one (first: row "
                     f"{skipped['source_row'][0]}, {skipped['org_code'][0]})")
    trusts = body.filter(pl.col("trust"))
    if trusts.is_empty():
        raise FileRejected(f"sheet '{grid.sheet}' has no trust rows under its header.")
    count, _ = parse_values(text("providers_acceptable"))
    share, _ = parse_values(text("pct_providers_acceptable"))
    trusts = trusts.with_columns(month=pl.lit(month), acceptable_data=pl.coalesce(count, share) > 0)
    notes.append(f"{grid.sheet}: {trusts.height} trusts for {month:%B %Y}, layout {layout}; "
                 f"{trusts.filter(~pl.col('acceptable_data').fill_null(False)).height} without acceptable data")
    keep = ["month", "org_code", "org_name", "region", "icb", "data_source", "acceptable_data"]
    return _measures_long(trusts, columns, grid, keep).cast(DRD_MONTHLY_SCHEMA)


def _row_month(text: object) -> date | None:
    """A Timeseries month cell: a date, 'September 2023' or 'Sep-23'."""
    if month := parse_day(text) or parse_month(text):
        return month.replace(day=1)
    found = re.fullmatch(r"([A-Za-z]{3})[- ](\d{2})", str(text or "").strip())
    return parse_month(f"{found.group(1)} 20{found.group(2)}") if found else None


def read_timeseries(grid: Grid, notes: list[str]) -> pl.DataFrame:
    """The England Timeseries sheet: one row per month and measure (DRD_ENGLAND_SCHEMA), as published."""
    header = _header_row(grid, ("month",))
    if header is None:
        raise FileRejected(f"sheet '{grid.sheet}' has no header row starting 'Month'.")
    columns = _columns(grid, header)
    names = {name for name, _ in columns.values()}
    if missing := [n for n in (*ACCEPTABLE, *BASE, *FROM_APRIL_2024) if n not in names]:
        raise FileRejected(f"sheet '{grid.sheet}' lacks the column(s) {', '.join(repr(LABELS[n]) for n in missing)}.")
    month_col = grid.letters[next(c for c, (name, _) in columns.items() if name == "month")]
    body = grid.frame.slice(header + 1).with_row_index("source_row", offset=header + 2).with_columns(
        pl.col("source_row").cast(pl.Int64),
        month=pl.col(month_col).map_elements(_row_month, return_dtype=pl.Date)).filter(pl.col("month").is_not_null())
    if body.is_empty():
        raise FileRejected(f"sheet '{grid.sheet}' has no month rows under its header.")
    months = body["month"].sort()
    notes.append(f"{grid.sheet}: England, {body.height} months ({months[0]:%b %Y} to {months[-1]:%b %Y})")
    return _measures_long(body, columns, grid, ["month"]).cast(DRD_ENGLAND_SCHEMA)


def read_drd(book: fastexcel.ExcelReader) -> DrdRead:
    sheets, notes = sheets_by_name(book), list[str]()
    monthly, england = pl.DataFrame(schema=DRD_MONTHLY_SCHEMA), pl.DataFrame(schema=DRD_ENGLAND_SCHEMA)
    if PROVIDER_SHEET in sheets:
        monthly = read_provider(load_grid(book, sheets[PROVIDER_SHEET]), notes)
    if TIMESERIES_SHEET in sheets:
        england = read_timeseries(load_grid(book, sheets[TIMESERIES_SHEET]), notes)
    what = " and ".join(p for p, frame in (("Provider", monthly), ("Timeseries", england)) if frame.height)
    return DrdRead(DRD_WORKBOOK, f"NHS England discharge ready date workbook ({what})", monthly, england, notes)
