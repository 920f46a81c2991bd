"""The tables of NHS England's Acute Daily Discharge SitRep workbooks (DOMAIN 2.2) as tidy Polars frames.

A sheet is read once as text (a ``Grid``: one String column per used Excel column, named by
its letter; grid row i is Excel row i + 1). Nothing is found by position: the row of column
labels is found by its wording, the period row is the one just above it, and the row blocks
(England and regions, then ``Region | ICB Code | ICB Name``, then ``Region | Org Code | Org
Name``) are found by their header cells, because NHS England moves rows between months.

Every fact keeps its provenance: sheet, Excel row, and the Excel column where its period's
block starts. ``-`` (not submitted or suppressed) is stored as null, never 0.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import fastexcel
import polars as pl

from pipelines.readers import FileRejected

HEADER_SEARCH_ROWS = 40
TRUST, ICB, REGION, ENGLAND = "trust", "icb", "region", "england"
_LEVEL_WORDS = {TRUST: "trust", ICB: "ICB", REGION: "region", ENGLAND: "England"}
# Markers NHS England uses for a value that is missing: not submitted, suppressed, not applicable.
MISSING_MARKERS = ("-", "*", "..", "[c]", "[x]", "[z]", "[u]")
ICB_CODE = r"^Q[A-Z0-9]{2}$"  # ICB ODS codes (QOQ, QH8); trust codes never start with Q
REGION_CODE = r"^Y\d{2}$"  # NHS England region codes (Y56 ... Y63)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_EXCEL_DAY0 = date(1899, 12, 30)  # Excel serial 0 in the 1900 date system (serials from 61 are exact)

# ---------------------------------------------------------------------------------------------
# Published labels -> our names
# ---------------------------------------------------------------------------------------------
DAILY_MEASURES = ("nctr_patients", "nctr_discharged", "nctr_remaining",
                  "nctr_discharged_by_5pm", "nctr_discharged_after_5pm")
BED_DAY_MEASURES = ("additional_bed_days_los_7plus", "additional_bed_days_los_14plus", "additional_bed_days_los_21plus")


def norm(text: object) -> str:
    """Lower case, single spaces, plain dashes: 'P2 - Care Home \\n(short' -> 'p2 - care home (short'."""
    return re.sub(r"\s+", " ", str(text or "").replace("\u2013", "-").replace("\u202f", " ")).strip().lower()


def tidy_label(text: str) -> str:
    """A published label with its line breaks and double spaces removed (what we store)."""
    return re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u202f", " ")).strip()


def table2_measure(label: object) -> str | None:
    """Table 2 column label -> measure. Both layouts: 3 measures a day, or the older 4 with the 17:00 split."""
    text = norm(label)
    if "remaining" in text or "not discharged" in text:
        return "nctr_remaining"
    if "discharged" in text:
        if re.search(r"17[:.]01|23[:.]59|after 5 ?pm|after 17", text):
            return "nctr_discharged_after_5pm"
        if re.search(r"17[:.]00|by 5 ?pm|before 5 ?pm", text):
            return "nctr_discharged_by_5pm"
        return "nctr_discharged"
    if "no longer meet" in text and "criteria to reside" in text:
        return "nctr_patients"
    return None


def bed_days_measure(label: object) -> str | None:
    """'Number of additional bed days, patients with length of stay of 14+ days' -> additional_bed_days_los_14plus."""
    found = re.search(r"additional bed days.*?(\d+)\s*\+\s*days", norm(label))
    return f"additional_bed_days_los_{found.group(1)}plus" if found else None


# Table 4 destination labels as published (2022-04, 2023-11 and the national time series)
# -> (destination code, pathway). DOMAIN 5: P0 home with no new support, P1 home with support,
# P2 short-term bedded rehabilitation/recovery, P3 new care home placement.
DESTINATIONS: dict[str, tuple[str, int]] = {
    "P0 - Domestic home without reablement support": ("P0", 0),
    "P0 - Other without reablement support": ("P0", 0),
    "P1 - Domestic home with reablement support": ("P1", 1),
    "P1 - Other with reablement support": ("P1", 1),
    "P1 - Hotel with reablement support": ("P1", 1),
    "P2 - Care Home (short term 24hr support)": ("P2", 2),
    "P2 - Designated Setting (isolation before moving to care home)": ("P2", 2),
    # Hospice is published only for England and regions: trust and ICB cells are '-' (disclosure control).
    "P2 - Hospice (short term 24hr support)": ("P2", 2),
    "P2 - Community Rehab Setting (short term 24hr support)": ("P2", 2),
    "P3 - Care Home (new admission, likely permanent)": ("P3", 3),
    # P3b: an existing care home resident going back to their care home. Not a new placement, but
    # NHS England publishes it under P3, so it rolls up to pathway 3; destination_code keeps it apart.
    "P3b - Care Home (existing resident discharged back)": ("P3b", 3),
    "P3 - Designated Setting (isolation before moving to care home as new admission)": ("P3", 3),
}
_DESTINATION_KEYS = {norm(label): mapped for label, mapped in DESTINATIONS.items()}


def destination(label: object) -> tuple[str | None, int | None, bool]:
    """(code, pathway, known) of a Table 4 label; an unknown label is mapped by its 'Pn' prefix, if any."""
    text = norm(label)
    if text in _DESTINATION_KEYS:
        return (*_DESTINATION_KEYS[text], True)
    prefix = re.match(r"^p([0-3])(b?)\b", text)
    if prefix:
        return f"P{prefix.group(1)}{prefix.group(2)}", int(prefix.group(1)), False
    return None, None, False


# Table 5: the 18 delay reasons as published (the reason column stores the tidied label itself).
DELAY_REASONS = (
    "Awaiting a medical decision/intervention including writing the discharge summary",
    "Awaiting community equipment and adaptations to housing",
    "Awaiting confirmation from community hub/single point of access that referral received and actioned",
    "Awaiting Diagnostic test",
    "Awaiting medicines to take home",
    "Awaiting referral to community single point of access",
    "Awaiting therapy decision to discharge",
    "Awaiting transport",
    "Declared as not meeting the criteria to reside at morning board round and then later in day meets the "
    "criteria to reside so discharge stopped",
    "Homeless/no right of recourse to public funds/no place to discharge to",
    "Individual/family not in agreement with discharge plans",
    "No Plan",
    "Pathway 1: awaiting availability of resource for assessment and start of care at home",
    "Pathway 2: awaiting availability of rehabilitation bed in community hospital or other bedded setting",
    "Pathway 3: awaiting availability of a bed in a residential or nursing home that is likely to be a permanent "
    "placement",
    "Remains in hospital to avoid spread of (non-Covid 19) infectious disease and because there is no other "
    "suitable location to discharge to",
    "Repatriation/Transfer to another acute trust for specialist treatment or ongoing treatment",
    "Safeguarding concern preventing discharge or Court of protection",
)
_REASON_KEYS = {norm(r) for r in DELAY_REASONS}


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
_REASON = {"reason": pl.String(), "patients": pl.Float64()}
DELAY_REASON_SCHEMA = {**_PERIOD, **ORG, **_REASON, **SOURCE}
DELAY_REASON_AREA_SCHEMA = {**_PERIOD, **AREA, **_REASON, **SOURCE}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


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
    """(value as Float64 or null, status: 'ok' | 'blank' | 'suppressed' | 'bad')."""
    clean = text.str.strip_chars()
    number = clean.str.replace_all(",", "").cast(pl.Float64, strict=False)
    status = (pl.when(clean.is_null() | (clean == "")).then(pl.lit("blank"))
              .when(clean.str.to_lowercase().is_in(MISSING_MARKERS)).then(pl.lit("suppressed"))
              .when(number.is_null()).then(pl.lit("bad"))
              .otherwise(pl.lit("ok")))
    return number, status


# ---------------------------------------------------------------------------------------------
# Grids and layouts
# ---------------------------------------------------------------------------------------------
@dataclass
class Grid:
    """One sheet's cells as text. Columns are named by Excel letter; grid row i is Excel row i + 1."""
    sheet: str
    frame: pl.DataFrame
    rows: list[tuple] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = self.frame.rows()

    @property
    def letters(self) -> list[str]:
        return self.frame.columns


def load_grid(book: fastexcel.ExcelReader, sheet: str, n_rows: int | None = None) -> Grid:
    # skip_rows=0 keeps leading empty rows (fastexcel otherwise starts at the first used row), and
    # absolute_index gives each column's true position because leading empty columns are dropped.
    loaded = book.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string", n_rows=n_rows)
    frame = loaded.to_polars()
    frame.columns = [column_letter(c.absolute_index) for c in loaded.selected_columns]
    return Grid(sheet, frame)


@dataclass
class Facts:
    """One table's cells in long form, before shaping: one row per (sheet row, data column)."""
    frame: pl.DataFrame  # source_row, level, code, name, region, period, measure, source_column, text, value, status
    notes: list[str]
    issues: list[dict]


def find_label_row(grid: Grid, is_label: Callable[[object], object]) -> tuple[int, int] | None:
    """(row, first column index) of the first row within the search window with a recognised label."""
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        hits = [c for c, cell in enumerate(row) if cell and is_label(cell)]
        if hits:
            return r, hits[0]
    return None


def date_blocks(grid: Grid, table: str, label_row: int, first: int, classify: Callable[[object], str | None],
                parse: Callable[[object], date | None], notes: list[str]) -> pl.DataFrame:
    """Column -> (period, measure, block's first column) for tables with one period per block of columns.

    The period row is the nearest row above the labels with a value over the data columns;
    each period cell starts a block that runs to the next one.
    """
    period_row = next((r for r in range(label_row - 1, max(label_row - 4, -1), -1)
                       if any(grid.rows[r][first:])), None)
    if period_row is None:
        raise FileRejected(f"{table}: no date row found above the column labels on row {label_row + 1}.")
    mapping, ignored, block = [], [], None
    for c in range(first, len(grid.letters)):
        letter, head, label = grid.letters[c], grid.rows[period_row][c], grid.rows[label_row][c]
        if head is not None and str(head).strip():
            day = parse(head)
            if day is None:
                raise FileRejected(f"{table} cell {letter}{period_row + 1}: '{head}' is not a date.")
            block = (day, letter)
        if not label:
            continue
        measure = classify(label)
        if measure is None:
            ignored.append(f"{letter} ('{tidy_label(str(label))[:60]}')")
        elif block is None:
            raise FileRejected(f"{table} column {letter}: no date above the label '{tidy_label(str(label))}'.")
        else:
            mapping.append((letter, block[0], measure, block[1]))
    if ignored:
        notes.append(f"{table}: ignored column(s) with labels not recognised: {', '.join(ignored)}")
    frame = pl.DataFrame(mapping, schema={"column": pl.String, "period": pl.Date, "measure": pl.String,
                                          "source_column": pl.String}, orient="row")
    clash = frame.group_by("period", "measure").len().filter(pl.col("len") > 1)
    if clash.height:
        raise FileRejected(f"{table}: the date {clash['period'][0]:%d/%m/%Y} heads more than one block of columns.")
    return frame


def single_period(grid: Grid, label_row: int, first: int, period: date,
                  classify: Callable[[object], str | None]) -> pl.DataFrame:
    """Column -> (period, measure) for tables with one period for the whole sheet (Tables 4 and 5)."""
    mapping = [(letter, period, classify(label), letter)
               for letter, label in zip(grid.letters[first:], grid.rows[label_row][first:]) if label]
    return pl.DataFrame([m for m in mapping if m[2]], schema={
        "column": pl.String, "period": pl.Date, "measure": pl.String, "source_column": pl.String}, orient="row")


def sheet_month(grid: Grid, label_row: int, first: int) -> date | None:
    """The month named just above the labels, e.g. 'November 2023 - Total number of patients discharged'."""
    for r in range(label_row - 1, max(label_row - 4, -1), -1):
        for cell in grid.rows[r][first:]:
            if cell and (month := parse_month(cell)):
                return month
    return None


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


def row_sections(grid: Grid, table: str, start: int, first: int) -> tuple[pl.DataFrame, list[str]]:
    """Each data row below the labels with its level (england/region/icb/trust), code, name and region.

    Rows above the first 'Region | ... Code | ... Name' header are England and the regions;
    the header's wording says whether the rows under it are ICBs or trusts.
    """
    notes: list[str] = []
    found: list[tuple] = []
    section, keys = None, {}
    for r in range(start, len(grid.rows)):
        row = grid.rows[r]
        key_cells = [str(c).strip() if c is not None else "" for c in row[:first]]
        has_values = any(c is not None and str(c).strip() for c in row[first:])
        words = [norm(c) for c in key_cells]
        if "org code" in words or "icb code" in words:
            section = TRUST if "org code" in words else ICB
            keys = {w.split()[-1]: i for i, w in enumerate(words) if w in ("region", "org code", "icb code",
                                                                             "org name", "icb name")}
            continue
        if not any(key_cells):
            if has_values:
                notes.append(f"{table} row {r + 1}: figures without an organisation name were skipped")
            continue
        if section is None:  # England and region totals above the ICB and trust blocks
            name = next(c for c in reversed(key_cells) if c)
            level = ENGLAND if norm(name).startswith("england") else REGION
            found.append((r + 1, level, None, name, None if level == ENGLAND else name))
            continue
        code = key_cells[keys["code"]].upper() if "code" in keys else ""
        name = key_cells[keys["name"]] if "name" in keys else ""
        region = key_cells[keys["region"]] if "region" in keys else None
        if not code:
            if has_values:
                notes.append(f"{table} row {r + 1} ('{name or region}'): no organisation code, so it was skipped")
            continue
        level = section
        if section == TRUST and not is_trust(code, name):
            notes.append(f"{table} row {r + 1} ({code} {name}): not a trust, so it was skipped")
            continue
        found.append((r + 1, level, code, name, region))
    frame = pl.DataFrame(found, schema={"source_row": pl.Int64, "level": pl.String, "code": pl.String,
                                        "name": pl.String, "region": pl.String}, orient="row")
    return frame.with_columns(per_value(frame, "region", region_name)), notes


def region_name(text: str | None) -> str | None:
    """'NORTH EAST AND YORKSHIRE' -> 'North East and Yorkshire' (the reference data's spelling)."""
    if not text:
        return None
    words = text.strip().lower().split()
    return " ".join(w if (i and w in ("and", "of", "the")) else w.capitalize() for i, w in enumerate(words))


def block_facts(grid: Grid, table: str, columns: pl.DataFrame, rows: pl.DataFrame) -> Facts:
    """Every (row, column) cell of the table body with its parsed value and status."""
    body = (grid.frame.select(columns["column"].to_list())
            .with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
            .join(rows, on="source_row", how="inner"))
    long = (body.unpivot(index=rows.columns, variable_name="column", value_name="text")
            .join(columns, on="column", how="left"))
    value, status = parse_values(pl.col("text"))
    long = long.with_columns(value=value, status=status)
    return Facts(long, *_cell_notes(table, long))


def _cell_notes(table: str, long: pl.DataFrame) -> tuple[list[str], list[dict]]:
    """Notes on suppressed cells, and one issue per cell that is neither a number nor a missing marker."""
    notes = []
    suppressed = long.filter(pl.col("status") == "suppressed").group_by("level").len()
    for level, count in sorted(suppressed.iter_rows()):
        notes.append(f"{table}: {count:,} {_LEVEL_WORDS[level]} cell(s) are '-' (not submitted or suppressed) "
                     "and are stored as missing, not 0")
    bad = long.filter(pl.col("status") == "bad").sort("source_row", "column")
    issues = [{"source_row": row["source_row"], "column_name": row["measure"], "rule": "number", "severity": "error",
               "message": f"{table} row {row['source_row']}, column {row['column']}: '{row['text']}' is not a number"}
              for row in bad.iter_rows(named=True)]
    return notes, issues


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


# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------
@dataclass
class Log:
    """Notes and row issues collected while reading one file."""
    notes: list[str] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)

    def add(self, facts: Facts) -> None:
        self.notes.extend(facts.notes)
        self.issues.extend(facts.issues)


def _label_finder(test: Callable[[object], bool]) -> Callable[[object], bool]:
    """A label test that never takes a sheet's title or notes cell for a column label."""
    return lambda cell: not norm(cell).startswith(("note", "table ", "source", "*")) and test(cell)


def _locate(grid: Grid, test: Callable[[object], bool], example: str) -> tuple[int, int]:
    found = find_label_row(grid, _label_finder(test))
    if found is None:
        raise FileRejected(f"{grid.sheet}: no row of column labels found in the first {HEADER_SEARCH_ROWS} rows "
                           f"(expected labels such as '{example}').")
    return found


def read_table2(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """Table 2: per organisation per day. Returns (trust rows, England/region/ICB rows, layout in words)."""
    label_row, first = _locate(grid, lambda c: table2_measure(c) == "nctr_patients",
                               "Number of patients who no longer meet the criteria to reside")
    columns = date_blocks(grid, grid.sheet, label_row, first, table2_measure, parse_day, log.notes)
    per_block = columns.group_by("period").agg(pl.col("measure"))
    for day, measures in per_block.sort("period").iter_rows():
        split = {"nctr_discharged_by_5pm", "nctr_discharged_after_5pm"} <= set(measures)
        if "nctr_patients" not in measures or not ("nctr_discharged" in measures or split):
            raise FileRejected(f"{grid.sheet}: the block for {day:%d/%m/%Y} does not have both the patients not "
                               "meeting the criteria to reside and the patients discharged.")
    rows, notes = row_sections(grid, grid.sheet, label_row + 1, first)
    log.notes.extend(notes)
    if rows.filter(pl.col("level") == TRUST).is_empty():
        raise FileRejected(f"{grid.sheet}: no trust rows found (expected a 'Region | Org Code | Org Name' header).")
    facts = block_facts(grid, grid.sheet, columns, rows)
    log.add(facts)
    daily = wide(whole_numbers(facts.frame, grid.sheet, log.issues), DAILY_MEASURES)
    measures = set(columns["measure"])
    daily = with_discharged_total(daily, measures, grid.sheet, log)
    count = len(measures)
    layout = f"{count} measures per day" + (" (discharged by 17:00 and 17:01-23:59)"
                                             if "nctr_discharged_by_5pm" in measures else "")
    return *shape(daily, DAILY_SCHEMA, DAILY_AREA_SCHEMA, grid.sheet, period_date=pl.col("period")), layout


def with_discharged_total(daily: pl.DataFrame, measures: set[str], table: str, log: Log) -> pl.DataFrame:
    """The older layout publishes only the two parts of the day: discharged = by 17:00 + 17:01-23:59."""
    if "nctr_discharged" in measures or "nctr_discharged_by_5pm" not in measures:
        return daily
    log.notes.append(f"{table}: patients discharged = discharged by 17:00 + discharged 17:01-23:59 "
                     "(this layout publishes only the two parts)")
    return daily.with_columns(nctr_discharged=pl.col("nctr_discharged_by_5pm") + pl.col("nctr_discharged_after_5pm"))


def _impossible_zeros(frame: pl.DataFrame, sheet: str, log: Log) -> pl.DataFrame:
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


def read_table3(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Table 3: weekly snapshot of additional bed days lost, in blocks headed 'w/c dd/mm/yyyy (daily snapshot)'."""
    label_row, first = _locate(grid, lambda c: bed_days_measure(c) is not None,
                               "Number of additional bed days, patients with length of stay of 7+ days")
    columns = date_blocks(grid, grid.sheet, label_row, first, bed_days_measure, parse_day, log.notes)
    rows, notes = row_sections(grid, grid.sheet, label_row + 1, first)
    log.notes.extend(notes)
    facts = block_facts(grid, grid.sheet, columns, rows)
    log.add(facts)
    weekly = _impossible_zeros(wide(whole_numbers(facts.frame, grid.sheet, log.issues), BED_DAY_MEASURES),
                               grid.sheet, log)
    return shape(weekly, BED_DAYS_SCHEMA, BED_DAYS_AREA_SCHEMA, grid.sheet, week_commencing=pl.col("period"),
                 week_ending=pl.col("period") + pl.duration(days=6))


def _monthly_table(grid: Grid, test: Callable[[object], bool], example: str, month: date | None,
                   log: Log) -> Facts:
    """Tables 4 and 5: one month for the whole sheet, named above the labels ('November 2023 - ...')."""
    label_row, first = _locate(grid, test, example)
    found = sheet_month(grid, label_row, first) or month
    if found is None:
        raise FileRejected(f"{grid.sheet}: no month found above the column labels on row {label_row + 1}.")
    columns = single_period(grid, label_row, first, found, lambda c: tidy_label(str(c)) or None)
    rows, notes = row_sections(grid, grid.sheet, label_row + 1, first)
    log.notes.extend(notes)
    facts = block_facts(grid, grid.sheet, columns, rows)
    log.add(facts)
    return facts


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


def read_table4(grid: Grid, month: date | None, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Table 4: month total discharges by intended destination, one column per destination."""
    facts = _monthly_table(grid, lambda c: destination(c)[0] is not None,
                           "P0 - Domestic home without reablement support", month, log)
    long = with_destinations(whole_numbers(facts.frame, grid.sheet, log.issues), "measure", log)
    return shape(long, DESTINATION_SCHEMA, DESTINATION_AREA_SCHEMA, grid.sheet, month=pl.col("period"),
                 period_start=pl.col("period"), period_end=pl.col("period").dt.month_end(),
                 destination=pl.col("measure"), discharges=pl.col("value"))


def read_table5(grid: Grid, month: date | None, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Table 5: the month's average of weekly snapshots of NCTR patients with LoS 14+ days, by delay reason."""
    facts = _monthly_table(grid, lambda c: norm(c) in _REASON_KEYS, DELAY_REASONS[0], month, log)
    new = sorted(set(facts.frame["measure"]) - set(DELAY_REASONS))
    if new:
        log.notes.append(f"{grid.sheet}: delay reason(s) not seen before, kept as published: {'; '.join(new)}")
    return shape(facts.frame, DELAY_REASON_SCHEMA, DELAY_REASON_AREA_SCHEMA, grid.sheet,
                 period_start=pl.col("period"), period_end=pl.col("period").dt.month_end(),
                 reason=pl.col("measure"), patients=pl.col("value"))


# ---------------------------------------------------------------------------------------------
# The national time series: one row per day ('Daily Series') or week ('Weekly Series')
# ---------------------------------------------------------------------------------------------
def _series_facts(grid: Grid, label_row: int, period_label: str,
                  classify: Callable[[object], tuple[str, str] | None]) -> Facts:
    """Facts of a sheet with a period per row. ``classify`` gives each label (kind, measure)."""
    labels = grid.rows[label_row]
    period_col = next((c for c, cell in enumerate(labels) if norm(cell) == period_label), None)
    if period_col is None:
        raise FileRejected(f"{grid.sheet}: no '{period_label}' column on the label row {label_row + 1}.")
    mapping = [(grid.letters[c], *kind) for c, cell in enumerate(labels)
               if c != period_col and cell and (kind := classify(cell))]
    columns = pl.DataFrame(mapping, schema={"column": pl.String, "kind": pl.String, "measure": pl.String},
                           orient="row")
    # a row-per-period layout's 'block' is the row: its first column of each kind is the provenance column
    columns = columns.with_columns(source_column=pl.col("column").first().over("kind"))
    periods = [(r + 1, day) for r in range(label_row + 1, len(grid.rows))
               if (day := parse_day(grid.rows[r][period_col])) is not None]
    if not periods:
        raise FileRejected(f"{grid.sheet}: no dates found in the '{period_label}' column.")
    rows = pl.DataFrame(periods, schema={"source_row": pl.Int64, "period": pl.Date}, orient="row").with_columns(
        level=pl.lit(ENGLAND), code=pl.lit(None, pl.String), name=pl.lit("ENGLAND"), region=pl.lit(None, pl.String))
    facts = block_facts(grid, grid.sheet, columns, rows)
    # destinations and reasons are stored per column; Table 2 measures per row
    facts.frame = facts.frame.with_columns(
        source_column=pl.when(pl.col("kind").is_in(["destination", "reason"])).then(pl.col("column"))
        .otherwise(pl.col("source_column")))
    return facts


def _not_collected_before(grid: Grid, label_row: int) -> date | None:
    """'1. Discharge location data was not collected prior to 12/05/2021' in the notes above the labels."""
    for row in grid.rows[:label_row]:
        for cell in row:
            if cell and (found := re.search(r"not collected prior to (\d{1,2}/\d{1,2}/\d{4})", str(cell))):
                return parse_day(found.group(1))
    return None


def read_daily_series(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """National daily Table 2 measures and discharges by destination. Returns (daily England rows, destinations)."""
    label_row, _ = _locate(grid, lambda c: table2_measure(c) == "nctr_patients",
                           "Number of patients who no longer meet the criteria to reside")

    def classify(cell: object) -> tuple[str, str] | None:
        if destination(cell)[0] is not None:
            return "destination", tidy_label(str(cell))
        measure = table2_measure(cell)
        return ("daily", measure) if measure else None

    facts = _series_facts(grid, label_row, "date", classify)
    log.add(facts)
    long = whole_numbers(facts.frame, grid.sheet, log.issues)
    daily = wide(long.filter(pl.col("kind") == "daily"), DAILY_MEASURES)
    _, england = shape(daily, DAILY_SCHEMA, DAILY_AREA_SCHEMA, grid.sheet, period_date=pl.col("period"))
    destinations = long.filter(pl.col("kind") == "destination")
    cutoff = _not_collected_before(grid, label_row)
    if cutoff is not None:  # all-zero rows before the collection started are "not collected", not zero
        unrecorded = (pl.col("period") < cutoff) & (pl.col("value").fill_null(0).sum().over("period") == 0)
        days = destinations.filter(unrecorded)["period"].n_unique()
        destinations = destinations.with_columns(value=pl.when(unrecorded).then(None).otherwise(pl.col("value")))
        if days:
            log.notes.append(f"{grid.sheet}: discharges by destination on {days} day(s) before {cutoff:%d/%m/%Y} are "
                             "all 0 and were stored as missing (the sheet notes they were not collected)")
    destinations = with_destinations(destinations, "measure", log)
    _, by_destination = shape(destinations, DESTINATION_SCHEMA, DESTINATION_AREA_SCHEMA, grid.sheet,
                              period_start=pl.col("period"), period_end=pl.col("period"),
                              destination=pl.col("measure"), discharges=pl.col("value"))
    return england, by_destination


def read_weekly_series(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """National weekly additional bed days lost and delay reasons. Returns (bed days, delay reasons)."""
    label_row, _ = _locate(grid, lambda c: bed_days_measure(c) is not None,
                           "Number of additional bed days, patients with length of stay of 7+ days")

    def classify(cell: object) -> tuple[str, str] | None:
        if measure := bed_days_measure(cell):
            return "bed_days", measure
        return ("reason", tidy_label(str(cell))) if norm(cell) != "week commencing" else None

    facts = _series_facts(grid, label_row, "week commencing", classify)
    log.add(facts)
    long = facts.frame
    bed_days = _impossible_zeros(wide(whole_numbers(long.filter(pl.col("kind") == "bed_days"), grid.sheet,
                                                    log.issues), BED_DAY_MEASURES), grid.sheet, log)
    _, weekly = shape(bed_days, BED_DAYS_SCHEMA, BED_DAYS_AREA_SCHEMA, grid.sheet, week_commencing=pl.col("period"),
                      week_ending=pl.col("period") + pl.duration(days=6))
    _, reasons = shape(long.filter(pl.col("kind") == "reason"), DELAY_REASON_SCHEMA, DELAY_REASON_AREA_SCHEMA,
                       grid.sheet, period_start=pl.col("period"), period_end=pl.col("period") + pl.duration(days=6),
                       reason=pl.col("measure"), patients=pl.col("value"))
    return weekly, reasons
