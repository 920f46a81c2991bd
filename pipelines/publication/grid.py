"""One sheet of an NHS England discharge sitrep workbook as a grid of text, and its layout found by wording.

A sheet is read once as text (a ``Grid``: one String column per used Excel column, named by
its letter; grid row i is Excel row i + 1). Nothing is found by position: the row of column
labels is found by its wording, the period row is the one just above it, and the row blocks
(England and regions, then ``Region | ICB Code | ICB Name``, then ``Region | Org Code | Org
Name``) are found by their header cells, because NHS England moves rows between months.
"""
from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import fastexcel
import polars as pl

from pipelines.catalogue.issues import FileRejected
from pipelines.publication.tables import (
    ENGLAND,
    ICB,
    REGION,
    TRUST,
    Facts,
    column_letter,
    is_trust,
    norm,
    parse_month,
    parse_values,
    per_value,
    region_name,
    tidy_label,
)

HEADER_SEARCH_ROWS = 40
_LEVEL_WORDS = {TRUST: "trust", ICB: "ICB", REGION: "region", ENGLAND: "England"}


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


def sheets_by_name(book: fastexcel.ExcelReader) -> dict[str, str]:
    """A workbook's sheet names by their normalised spelling ('table 2' -> 'Table 2'): NHS England's
    spelling and spacing of a sheet's name varies between issues."""
    return {norm(s): s for s in book.sheet_names}


def load_grid(book: fastexcel.ExcelReader, sheet: str, n_rows: int | None = None, exact: bool = True) -> Grid:
    # skip_rows=0 keeps leading empty rows (fastexcel otherwise starts at the first used row), and
    # absolute_index gives each column's true position because leading empty columns are dropped.
    loaded = book.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string", n_rows=n_rows)
    frame = loaded.to_polars()
    frame.columns = [column_letter(c.absolute_index) for c in loaded.selected_columns]
    if n_rows is not None:
        return Grid(sheet, frame)
    if exact:  # whole counts (the UEC sitrep) are exact as text already
        frame = _exact_numbers(book, sheet, frame)
    errors = book.errors_in(sheet) if isinstance(book, Book) else {}
    if errors:  # the error's text in place of the empty cell fastexcel gives, so it is noted as an error
        frame = frame.with_row_index("_row").with_columns(
            pl.col("_row").replace_strict({r: text for (r, c), text in errors.items() if c == letter},
                                          default=pl.col(letter), return_dtype=pl.String).alias(letter)
            for letter in {c for _, c in errors} if letter in frame.columns).drop("_row")
    return Grid(sheet, frame)


def _exact_numbers(book: fastexcel.ExcelReader, sheet: str, text: pl.DataFrame) -> pl.DataFrame:
    """Numeric cells as the shortest text that reads back to the workbook's double: fastexcel's text
    of a number keeps only ~10 significant digits (12.666666666666666 -> '12.666666667')."""
    rounded = text.select(pl.all().str.contains(r"\.\d{9}").any()).row(0)  # only these may have lost digits
    letters = [letter for letter, lost in zip(text.columns, rounded, strict=False) if lost]
    if not letters:
        return text
    loaded = book.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="float")
    numbers = loaded.to_polars()
    numbers.columns = [column_letter(c.absolute_index) for c in loaded.selected_columns]
    exact = []
    for letter in letters:
        if letter not in numbers.columns:
            continue
        value = numbers.get_column(letter)
        whole = (value == value.round(0)) & (value.abs() < 2**53)
        as_text = (pl.when(whole).then(value.cast(pl.Int64, strict=False).cast(pl.String))
                   .otherwise(value.cast(pl.String)))
        is_number = (pl.col(letter).str.strip_chars().str.replace_all(",", "")
                     .cast(pl.Float64, strict=False).is_not_null())
        exact.append(pl.when(is_number & value.is_not_null()).then(as_text).otherwise(pl.col(letter)).alias(letter))
    return text.with_columns(exact) if text.height == numbers.height else text


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
               for letter, label in zip(grid.letters[first:], grid.rows[label_row][first:], strict=False) if label]
    return pl.DataFrame([m for m in mapping if m[2]], schema={
        "column": pl.String, "period": pl.Date, "measure": pl.String, "source_column": pl.String}, orient="row")


def sheet_month(grid: Grid, label_row: int, first: int) -> date | None:
    """The month named just above the labels, e.g. 'November 2023 - Total number of patients discharged'."""
    for r in range(label_row - 1, max(label_row - 4, -1), -1):
        for cell in grid.rows[r][first:]:
            if cell and (month := parse_month(cell)):
                return month
    return None


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
    errors = long.filter(pl.col("status") == "error").sort("source_row", "column")
    if errors.height:
        cells = ", ".join(f"{r['column']}{r['source_row']} ({r['text']})" for r in errors.head(5).iter_rows(named=True))
        notes.append(f"{table}: {errors.height:,} cell(s) hold an Excel error and are stored as missing, "
                     f"not 0: {cells}")
    bad = long.filter(pl.col("status") == "bad").sort("source_row", "column")
    issues = [{"source_row": row["source_row"], "column_name": row["measure"], "rule": "number", "severity": "error",
               "message": f"{table} row {row['source_row']}, column {row['column']}: '{row['text']}' is not a number"}
              for row in bad.iter_rows(named=True)]
    return notes, issues


def _label_finder(test: Callable[[object], bool]) -> Callable[[object], bool]:
    """A label test that never takes a sheet's title or notes cell for a column label."""
    return lambda cell: not norm(cell).startswith(("note", "table ", "source", "*")) and test(cell)


def locate(grid: Grid, test: Callable[[object], bool], example: str) -> tuple[int, int]:
    found = find_label_row(grid, _label_finder(test))
    if found is None:
        raise FileRejected(f"{grid.sheet}: no row of column labels found in the first {HEADER_SEARCH_ROWS} rows "
                           f"(expected labels such as '{example}').")
    return found


# ---------------------------------------------------------------------------------------------
# Excel error cells: fastexcel reads them as empty, so they are found in the sheet XML
# ---------------------------------------------------------------------------------------------
_CELL_ERROR = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(?:<f[^>]*?(?:/>|>.*?</f>))?<v>([^<]*)</v>')


class Book:
    """A fastexcel workbook that also knows its error cells (#DIV/0!, #N/A ...), so they are noted as
    errors rather than read as empty cells. A sheet's XML is scanned only when the sheet is loaded."""

    def __init__(self, content: bytes) -> None:
        self.reader = fastexcel.read_excel(content)
        self.content = content

    def __getattr__(self, name: str) -> object:
        return getattr(self.reader, name)

    def errors_in(self, sheet: str) -> dict[tuple[int, str], str]:
        """{(grid row, column letter): error text} of one sheet."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.content))
            book, rels = archive.read("xl/workbook.xml"), archive.read("xl/_rels/workbook.xml.rels")
        except (KeyError, zipfile.BadZipFile):
            return {}
        targets = dict(re.findall(rb'Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
        targets |= {rid: target for target, rid in re.findall(rb'Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
        for name, rid in re.findall(rb'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', book):
            if html.unescape(name.decode()) != sheet:
                continue
            target = targets.get(rid, b"").decode().lstrip("/")
            try:
                xml = archive.read(target if target.startswith("xl/") else f"xl/{target}")
            except KeyError:
                return {}
            return {(int(row) - 1, col.decode()): value.decode() for col, row, value in _CELL_ERROR.findall(xml)}
        return {}
