"""NHS England's UEC daily sitrep winter time series (docs/domain.md 2.3) -> trust-day bed and long-stay figures.

Sheet ``G&A beds``: per day core, escalation and total beds open and beds occupied (newer years
split adult and paediatric); sheet ``Beds Occ by long stay patients``: per day ``> 7 days``,
``> 14 days``, ``> 21 days`` (older years two of them; 2016-17 has no such sheet). Dates sit in
a row above the header row holding ``Code`` and ``Name``; an ENGLAND row and a blank row come
before the trusts. Everything is found by its label, never by position, because every winter's
workbook differs. Empty, ``-``, ``[z]`` and error cells are "not reported" (null), never 0, and
each kind is counted in the notes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import cast

import fastexcel
import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.publication.grid import HEADER_SEARCH_ROWS, Grid, block_facts, load_grid, sheets_by_name
from pipelines.publication.tables import ENGLAND, REGION, TRUST, is_trust, norm, parse_day, tidy_label

UEC_WORKBOOK = "nhse_uec_sitrep_workbook"
BEDS_SHEET, LONG_STAY_SHEET = "g&a beds", "beds occ by long stay patients"
_BED_PARTS = ("core_beds_open", "escalation_beds_open", "beds_open", "beds_occupied")
BED_MEASURES = tuple(f"{group}{part}" for group in ("", "adult_", "paediatric_") for part in _BED_PARTS)
LOS_MEASURES = ("los_7plus", "los_14plus", "los_21plus")
UEC_MEASURES = BED_MEASURES + LOS_MEASURES
_PROVENANCE = {"beds_source_row": pl.Int64(), "los_source_row": pl.Int64(), "source_column": pl.String()}
UEC_DAILY_SCHEMA = pl.Schema({"period_date": pl.Date(), "org_code": pl.String(), "org_name": pl.String(),
                              "region": pl.String(), **{m: pl.Int64() for m in UEC_MEASURES}, **_PROVENANCE})
UEC_AREA_SCHEMA = pl.Schema({"period_date": pl.Date(), "level": pl.String(), "area_code": pl.String(),
                             "area_name": pl.String(), **{m: pl.Int64() for m in UEC_MEASURES}, **_PROVENANCE})
_STATUS_WORDS = {"blank": "empty", "suppressed": "'-' or another not-available marker", "error": "an Excel error",
                 "bad": "text that is not a number", "fraction": "not a whole number"}


@dataclass
class UecRead:
    """Everything read from one UEC sitrep workbook: trust-days, England (and region) rows, notes."""
    kind: str
    reader: str
    daily: pl.DataFrame
    areas: pl.DataFrame
    has_long_stay: bool
    adult_split: bool
    notes: list[str] = field(default_factory=list)
    issues: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))

    def sitrep_rows(self) -> pl.DataFrame:
        """The trust-day figures the metrics read: adult G&A beds where the workbook splits them."""
        group = "adult_" if self.adult_split else ""
        return self.daily.select(
            "period_date", "org_code", ga_beds_open=pl.col(f"{group}beds_open"),
            ga_beds_occupied=pl.col(f"{group}beds_occupied"), los_7plus="los_7plus", los_14plus="los_14plus",
            los_21plus="los_21plus", source_row=pl.coalesce("beds_source_row", "los_source_row"))


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------
def beds_measure(label: object) -> str | None:
    """'Core Beds Open' -> core_beds_open, "Adult G&A beds occ'd" -> adult_beds_occupied; rates -> None."""
    text = norm(label)
    if not text or "rate" in text or "%" in text or "_" in text:  # field-name rows (ganda_core_beds) are not labels
        return None
    group = "paediatric_" if re.search(r"paed|child", text) else "adult_" if "adult" in text else ""
    if "core" in text:
        part = "core_beds_open"
    elif "escalation" in text:
        part = "escalation_beds_open"
    elif "occ" in text:
        part = "beds_occupied"
    elif re.search(r"open|avail|total", text):
        part = "beds_open"
    else:
        return None
    return group + part


def los_measure(label: object) -> str | None:
    """'> 7 days' -> los_7plus, 'Adult > 21 days' -> los_21plus; paediatric columns are not ours."""
    text = norm(label)
    found = re.search(r"(\d+)\s*(?:\+|days?|or more)", text)
    if "_" in text or not found or found.group(1) not in ("7", "14", "21") or re.search(r"paed|child", text):
        return None
    return f"los_{found.group(1)}plus"


# ---------------------------------------------------------------------------------------------
# Recognition and reading
# ---------------------------------------------------------------------------------------------
def detect_uec(book: fastexcel.ExcelReader) -> bool:
    """A 'G&A beds' sheet titled as a daily hospital situation report, or whose header row has Code, Name
    and bed labels (a damaged one is still ours, to be rejected with a reason)."""
    sheet = sheets_by_name(book).get(BEDS_SHEET)
    if sheet is None:
        return False
    grid = load_grid(book, sheet, n_rows=HEADER_SEARCH_ROWS)
    titled = any("daily hospital situation report" in norm(c) for row in grid.rows[:12] for c in row if c)
    return titled or _header(grid, beds_measure) is not None


def _header(grid: Grid, classify) -> tuple[int, int, int, int | None] | None:
    """(label row, Code column, Name column, region column) of the first row with Code, Name and a measure."""
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        words = [norm(c) for c in row]
        if "code" in words and "name" in words and any(classify(c) for c in row if c):
            region = next((c for c, w in enumerate(words) if "region" in w), None)
            return r, words.index("code"), words.index("name"), region
    return None


def _columns(grid: Grid, label_row: int, first: int, classify, notes: list[str]) -> pl.DataFrame:
    """Column -> (day, measure, the day's first column). The day row is the nearest row above the
    labels whose cells over the data columns are all dates (a row of field names may sit between)."""
    def all_days(r: int) -> bool:
        cells = [c for c in grid.rows[r][first:] if c is not None and str(c).strip()]
        return bool(cells) and all(parse_day(c) for c in cells)

    day_row = next((r for r in range(label_row - 1, max(label_row - 5, -1), -1) if all_days(r)), None)
    if day_row is None:
        raise FileRejected(f"{grid.sheet}: no row of dates found above the column labels on row {label_row + 1}.")
    mapping, ignored, block = [], [], None
    for c in range(first, len(grid.letters)):
        if (head := grid.rows[day_row][c]) is not None and str(head).strip():
            block = (parse_day(head), grid.letters[c])
        label = grid.rows[label_row][c]
        if not label or block is None:
            continue
        if (measure := classify(label)) is None:
            ignored.append(tidy_label(str(label)))
        else:
            mapping.append((grid.letters[c], block[0], measure, block[1]))
    if ignored:
        counts = {label: ignored.count(label) for label in dict.fromkeys(ignored)}
        notes.append(f"{grid.sheet}: columns not used (computed from the counts, or not G&A): "
                     + ", ".join(f"'{label}' x {n}" for label, n in counts.items()))
    frame = pl.DataFrame(mapping, schema={"column": pl.String, "period": pl.Date, "measure": pl.String,
                                          "source_column": pl.String}, orient="row")
    if frame.group_by("period", "measure").len().filter(pl.col("len") > 1).height:
        raise FileRejected(f"{grid.sheet}: a date heads more than one block of columns with the same labels.")
    return frame


def _rows(grid: Grid, start: int, code_col: int, name_col: int, region_col: int | None,
          notes: list[str]) -> pl.DataFrame:
    """Data rows below the labels: ENGLAND, region totals (a name and no code) and trusts."""
    found: list[tuple[int, str, str | None, str, str | None]] = []
    skipped: list[int] = []
    for r in range(start, len(grid.rows)):
        row = grid.rows[r]
        code = str(row[code_col] or "").strip().upper()
        name = str(row[name_col] or "").strip()
        region = str(row[region_col] or "").strip() if region_col is not None else ""
        has_values = any(c is not None and str(c).strip() for c in row[max(code_col, name_col) + 1:])
        if not has_values:
            continue  # blank lines and the notes under the table
        if norm(name).startswith("england"):
            found.append((r + 1, ENGLAND, None, "ENGLAND", None))
        elif re.fullmatch(r"[A-Z0-9]{3,5}", code) and is_trust(code, name):
            found.append((r + 1, TRUST, code, name, region if region not in ("", "-") else None))
        elif name and code in ("", "-"):
            found.append((r + 1, REGION, None, name, name))
        else:
            skipped.append(r + 1)
    if skipped:
        notes.append(f"{grid.sheet}: row(s) {', '.join(map(str, skipped[:10]))} have figures but no trust code "
                     "or name, so they were skipped")
    return pl.DataFrame(found, schema={"source_row": pl.Int64, "level": pl.String, "code": pl.String,
                                       "name": pl.String, "region": pl.String}, orient="row")


def _sheet_facts(grid: Grid, classify, example: str, notes: list[str]) -> pl.DataFrame:
    """One sheet's cells in long form: row, level, code, name, period, measure, value (null = not reported)."""
    header = _header(grid, classify)
    if header is None:
        raise FileRejected(f"{grid.sheet}: no header row with 'Code', 'Name' and labels such as '{example}' "
                           f"in the first {HEADER_SEARCH_ROWS} rows.")
    label_row, code_col, name_col, region_col = header
    first = max(code_col, name_col) + 1
    columns = _columns(grid, label_row, first, classify, notes)
    if columns.is_empty():
        raise FileRejected(f"{grid.sheet}: no columns with labels such as '{example}'.")
    rows = _rows(grid, label_row + 1, code_col, name_col, region_col, notes)
    if rows.filter(pl.col("level") == TRUST).is_empty():
        raise FileRejected(f"{grid.sheet}: no trust rows found under the header on row {label_row + 1}.")
    long = block_facts(grid, grid.sheet, columns, rows).frame
    whole = pl.col("value") == pl.col("value").round(0)
    long = long.with_columns(status=pl.when((pl.col("status") == "ok") & ~whole).then(pl.lit("fraction"))
                             .otherwise(pl.col("status")))
    _note_not_reported(grid.sheet, long, notes)
    return long.with_columns(value=pl.when(pl.col("status") == "ok").then(pl.col("value")).cast(pl.Int64))


def _note_not_reported(sheet: str, long: pl.DataFrame, notes: list[str]) -> None:
    """One note per kind of cell stored as "not reported" (null, never 0), with the first cells named."""
    missing = long.filter((pl.col("status") != "ok") & (pl.col("level") == TRUST)).sort("source_row", "column")
    for status, cells in missing.group_by("status", maintain_order=True):
        examples = ", ".join(f"{r['code']} {r['period']:%d/%m/%Y} ({r['column']}{r['source_row']})"
                             for r in cells.head(3).iter_rows(named=True))
        notes.append(f"{sheet}: {cells.height:,} trust cell(s) {_STATUS_WORDS[status[0]]}, stored as not reported "
                     f"(not 0), e.g. {examples}")


def _wide(long: pl.DataFrame, measures: tuple[str, ...], row_name: str) -> pl.DataFrame:
    keys = ["level", "code", "name", "region", "period"]
    out = (long.pivot(on="measure", index=keys, values="value", aggregate_function="first")
           .join(long.group_by(keys).agg(pl.col("source_row").first().alias(row_name),
                                         pl.col("source_column").first()), on=keys, nulls_equal=True))
    return out.with_columns([pl.lit(None, pl.Int64).alias(m) for m in measures if m not in out.columns])


def read_uec(book: fastexcel.ExcelReader) -> UecRead:
    sheets = sheets_by_name(book)
    notes: list[str] = []
    if BEDS_SHEET not in sheets:
        raise FileRejected("no 'G&A beds' sheet: not an NHS England UEC daily sitrep workbook.")
    beds = _wide(_sheet_facts(load_grid(book, sheets[BEDS_SHEET], exact=False), beds_measure, "Total Beds Open", notes),
                 BED_MEASURES, "beds_source_row")
    keys = ["level", "code", "name", "region", "period"]
    has_long_stay = LONG_STAY_SHEET in sheets
    if has_long_stay:
        los = _wide(_sheet_facts(load_grid(book, sheets[LONG_STAY_SHEET], exact=False), los_measure, "> 7 days", notes),
                    LOS_MEASURES, "los_source_row")
        both = beds.join(los.drop("source_column"), on=keys, how="full", coalesce=True, nulls_equal=True)
        missing = [m for m in LOS_MEASURES if los[m].is_null().all()]
        if missing:
            notes.append(f"Beds Occ by long stay patients: no {', '.join(missing)} columns in this workbook, so those "
                         "figures are not reported")
    else:
        both = beds.with_columns(los_source_row=pl.lit(None, pl.Int64))
        notes.append("this workbook has no 'Beds Occ by long stay patients' sheet: no long-stay figures "
                     "(7+, 14+, 21+ days) are reported, only beds")
    both = both.with_columns([pl.lit(None, pl.Int64).alias(m) for m in UEC_MEASURES if m not in both.columns])
    adult = any(both[m].is_not_null().any() for m in BED_MEASURES if m.startswith("adult_"))
    trust, area = pl.col("level") == TRUST, pl.col("level") != TRUST
    daily = both.filter(trust).rename({"code": "org_code", "name": "org_name", "period": "period_date"}).select(
        *UEC_DAILY_SCHEMA).cast(UEC_DAILY_SCHEMA).sort("period_date", "org_code")
    areas = both.filter(area).rename({"code": "area_code", "name": "area_name", "period": "period_date"}).select(
        *UEC_AREA_SCHEMA).cast(UEC_AREA_SCHEMA).sort("period_date", "level", "area_name")
    if adult:
        notes.append("G&A beds: adult and paediatric beds are published apart; the metrics use the adult beds")
    days = daily["period_date"]
    # a Date column: its min and max are dates (None only if empty, as before)
    first, last = cast("date | None", days.min()), cast("date | None", days.max())
    reader = (f"NHS England UEC daily sitrep winter workbook (G&A beds{', long stays' if has_long_stay else ''}; "
              f"{daily['org_code'].n_unique()} trusts, {first:%d/%m/%Y} to {last:%d/%m/%Y})")
    return UecRead(UEC_WORKBOOK, reader, daily, areas, has_long_stay, adult, notes)
