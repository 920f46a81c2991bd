"""Read a daily trust sitrep file (CSV or .xlsx, DOMAIN section 2.1) into the canonical frame.

Trust files are made by hand or exported from Excel: odd encodings, title rows above the
header, header aliases, UK dates, thousands separators, a totals row at the bottom. All of
that is tolerated without flags. Every cell that cannot be parsed becomes null in ``frame``
and one row in ``issues``; the whole file is rejected (FileRejected) only when nothing
sensible can be read from it. Range and cross-column rules are the contract's job, not ours.

Limits are checked before anything is parsed, so a small hostile file cannot take the server down:
a workbook's uncompressed size and cell count come from its zip directory and each sheet's
<dimension>; a CSV's line and field lengths from its text. A row with more or fewer fields than
the header is rejected (rule row_fits_header), never read with its values shifted.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import numpy as np
import polars as pl

from pipelines.catalogue.columns import COLUMN_NAMES, COLUMNS, REQUIRED, SCHEMA, Column, canonical_name
from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected

HEADER_SEARCH_ROWS = 30
_KEY, _PARSED = "_text", "_parsed:"  # internal column names, never template names
_TOTALS = r"(?i)^((grand\s+)?totals?:?|england)$"
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f]")  # control bytes never found in a text CSV
_EXCEL_EPOCH_SERIAL = 25569  # Excel serial of 1970-01-01 in the 1900 date system
# Serial 60 is Excel's fictitious 29/02/1900, so only serials from 61 (01/03/1900) map correctly.
_SERIAL_RANGE = (61, 2958465)
# Resource limits, checked before parsing (issue 14): far above any real sitrep (a national year is
# about 50,000 rows of 18 columns, under 10 MB).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_CELLS = 5_000_000
MAX_SHEETS = 50
MAX_LINE_CHARS = 100_000
MAX_FIELD_CHARS = 1_000
_DAMAGED_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, zlib.error,
                OSError)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"(?:[A-Z]+\d+:)?([A-Z]+)(\d+)\"")
# Zero-width and other invisible characters that NFKC keeps; removed from codes with all spaces.
_INVISIBLE = r"[\p{Z}\u200B-\u200D\u2060\uFEFF\u00AD\u180E]"
# (rule, what the message says the cell is not) per column kind that is parsed
_RULES = {
    "date": ("date", "is not a date (expected dd/mm/yyyy, yyyy-mm-dd or an Excel date)"),
    "count": ("whole_number", "is not a whole number"),
    "opel": ("opel_level", "is not an OPEL level (expected a whole number such as 3 or 'OPEL 3')"),
}


@dataclass
class SitrepRead:
    frame: pl.DataFrame  # exactly columns.SCHEMA; unparseable values are null
    raw: pl.DataFrame  # same rows: source_row + every template column as stripped cell text
    issues: pl.DataFrame  # ISSUE_SCHEMA: one row per unparseable cell
    notes: list[str]  # plain-English notes for the user
    reader: str  # e.g. "csv (utf-8 with BOM)", "xlsx (sheet 'Daily data')"


@dataclass
class _Table:
    """A file's cells as text, before mapping to the template."""
    header: Sequence[str | None]
    header_row: int  # source row of the header
    body: pl.DataFrame  # source_row, then one String column per header cell
    reader: str
    notes: list[str]
    misfits: pl.DataFrame | None = None  # source_row, fields: rows that do not fit the header


def read_sitrep(path: str | Path, content: bytes | None = None) -> SitrepRead:
    """Read a sitrep from ``path``, or from ``content`` when the bytes are already in memory."""
    name = Path(path).name
    if content is None:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise FileRejected(f"{name}: the file could not be opened ({exc.strerror or exc}).") from exc
    if not content or content.isspace():
        raise FileRejected(f"{name}: the file is empty.")
    try:
        table = _load(name, content)
    except FileRejected:
        raise
    except Exception as exc:  # any library error on malformed input must reach the user as a rejection
        raise FileRejected(f"{name}: the file could not be read as CSV or Excel (.xlsx); it may be damaged.") from exc
    return _build(name, table)


def _load(name: str, data: bytes) -> _Table:
    # Decide by content, not extension: uploads are often renamed.
    if data.startswith(b"PK\x03\x04"):
        return _load_xlsx(name, data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2 container: .xls, .doc or an encrypted workbook
        raise FileRejected(f"{name}: this is an old-style Excel (.xls) or password-protected file; "
                           "please save it as .xlsx (without a password) or CSV.")
    return _load_csv(name, data)


def _no_header(name: str) -> FileRejected:
    return FileRejected(f"{name}: no header row found in the first {HEADER_SEARCH_ROWS} rows: "
                        "expected columns such as period_date and org_code.")


def _find_header(rows: Iterable[Sequence[object]]) -> int | None:
    """Index of the first row naming period_date, org_code and at least one more template column."""
    for index, row in enumerate(rows):
        names = {canonical_name(str(cell)) for cell in row if cell is not None} - {None}
        if {"period_date", "org_code"} <= names and len(names) >= 3:
            return index
    return None


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_workbook_size(name: str, archive: zipfile.ZipFile) -> None:
    """Reject a workbook that would inflate past the limits, from its zip directory and the first
    bytes of each sheet (its <dimension>), before anything is parsed."""
    entries = archive.infolist()
    inflated = sum(entry.file_size for entry in entries)
    if inflated > MAX_UNCOMPRESSED_BYTES:
        raise FileRejected(f"{name}: the workbook would unpack to {inflated / 1024 / 1024:,.0f} MB, over the "
                           f"{MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB limit; nothing was read from it.")
    sheets = [e for e in entries if e.filename.startswith("xl/worksheets/") and e.filename.endswith(".xml")]
    if len(sheets) > MAX_SHEETS:
        raise FileRejected(f"{name}: the workbook has {len(sheets):,} sheets, over the limit of {MAX_SHEETS}.")
    cells = 0
    for sheet in sheets:
        with archive.open(sheet) as stream:
            found = _DIMENSION.search(stream.read(4096))
        if found:  # ref="A1:R400": 18 columns by 400 rows
            cells += _column_number(found.group(1)) * int(found.group(2))
    if cells > MAX_CELLS:
        raise FileRejected(f"{name}: the workbook's sheets span {cells:,} cells, over the limit of {MAX_CELLS:,}; "
                           "nothing was read from it. Please save only the sitrep's rows and columns.")


def check_size(name: str, data: bytes) -> None:
    """FileRejected when a workbook would inflate past the limits: call before anything opens it."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                check_workbook_size(name, archive)
        except _DAMAGED_ZIP:
            pass  # damaged: the reader says so in its own words


def _load_xlsx(name: str, data: bytes) -> _Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            is_workbook = "xl/workbook.xml" in archive.namelist()
            if is_workbook:
                check_workbook_size(name, archive)
    except _DAMAGED_ZIP:
        raise FileRejected(f"{name}: the Excel file is damaged or incomplete (not a valid .xlsx).") from None
    if not is_workbook:
        raise FileRejected(f"{name}: this is a zip file but not an Excel workbook (.xlsx), "
                           "e.g. a Word .docx; please upload the sitrep as .xlsx or CSV.")
    book = fastexcel.read_excel(data)  # calamine reads stored values only: no formulas or macros run
    skipped: list[str] = []
    for sheet in book.sheet_names:
        # header_row=None with skip_rows=0 keeps leading empty rows, so grid row i is Excel row i + 1
        # (fastexcel otherwise starts at the first used row; see fastexcel issue #209).
        grid = book.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string").to_polars()
        index = _find_header(grid.head(HEADER_SEARCH_ROWS).rows())
        if index is None:
            skipped.append(sheet)
            continue
        notes = [f"used sheet '{sheet}'"
                 + (f"; skipped sheet(s) without a header row: {', '.join(map(repr, skipped))}" if skipped else "")]
        body = grid.slice(index + 1).with_row_index("source_row", offset=index + 2)
        return _Table(list(grid.row(index)), index + 1, body, f"xlsx (sheet '{sheet}')", notes)
    raise _no_header(name)


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """The text and the encoding's name: UTF-8 (with or without BOM), else Windows-1252."""
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8):]
    if _BINARY.search(data, 0, 65536):
        raise FileRejected(f"{name}: this is not a CSV or Excel (.xlsx) file (it contains binary data).")
    try:
        return data.decode("utf-8"), "utf-8 with BOM" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        raise FileRejected(f"{name}: this is not a CSV or Excel (.xlsx) file (unreadable text).") from None


def _lines(text: str) -> pl.DataFrame:
    """The text's lines (split at each newline, as ``str.split``), numbered from 1, with their lengths."""
    return (pl.DataFrame({"text": pl.Series([text]).str.split("\n").explode()})
            .with_row_index("line", offset=1).with_columns(length=pl.col("text").str.len_chars()))


@dataclass
class _Separators:
    """Where a CSV's lines end and how many commas each has, from its bytes without the BOM: a newline,
    comma and quote are one byte in UTF-8 and Windows-1252 alike, and no other character holds them."""
    newlines: np.ndarray  # byte offset of each newline
    longest: int  # the longest line's length in bytes, at least its length in characters
    commas: np.ndarray  # commas on each line (quoted ones included)
    quoted: bool  # a quote somewhere in the file: commas may be inside values

    @classmethod
    def of(cls, raw: bytes) -> _Separators:
        codes = np.frombuffer(raw, np.uint8)
        separators = np.flatnonzero((codes == 10) | (codes == 44))
        ends = np.flatnonzero(codes[separators] == 10)  # positions of the newlines among the separators
        newlines = separators[ends]
        lengths = np.diff(newlines, prepend=-1, append=codes.size) - 1
        commas = np.diff(ends, prepend=-1, append=separators.size) - 1
        return cls(newlines, int(lengths.max()), commas, b'"' in raw)


def _check_text_size(name: str, lines: pl.DataFrame) -> None:
    """Reject a CSV with a line or a field far longer than any sitrep's, before it is parsed."""
    longest_line = lines.top_k(1, by="length").row(0, named=True)
    if longest_line["length"] > MAX_LINE_CHARS:
        raise FileRejected(f"{name}: line {longest_line['line']} is {longest_line['length']:,} characters long, over "
                           f"the limit of {MAX_LINE_CHARS:,}; nothing was read from the file.")
    # Only a line longer than the field limit can hold a field over it. Quoted sections aside, a field
    # is the text between separators.
    long_fields = lines.filter(pl.col("length") > MAX_FIELD_CHARS).with_columns(
        longest=pl.col("text").str.extract_all(r'"(?:[^"]|"")*"|[^,]+').list.eval(pl.element().str.len_chars())
        .list.max()).filter(pl.col("longest") > MAX_FIELD_CHARS)
    if long_fields.height:
        line, longest = long_fields.select("line", "longest").row(0)
        raise FileRejected(f"{name}: line {line} has a value {longest:,} characters long, over the limit "
                           f"of {MAX_FIELD_CHARS:,} for one value; nothing was read from the file.")


def _load_csv(name: str, data: bytes) -> _Table:
    text, encoding = _decode(name, data)
    raw = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    separators = _Separators.of(raw)
    if separators.longest > MAX_FIELD_CHARS:  # a line may be over a limit: measure it in characters
        _check_text_size(name, _lines(text))
    # The header is near the top: parse only those lines (wrapping the whole text is slow).
    reader = csv.reader(line + "\n" for line in text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS])
    header_line = 1  # line on which the next record starts
    for _, record in zip(range(HEADER_SEARCH_ROWS), reader, strict=False):
        if _find_header([record]) is not None:
            break
        header_line = reader.line_num + 1
    else:
        raise _no_header(name)
    parts = text.split("\n", reader.line_num)
    body = parts[-1] if len(parts) > reader.line_num else ""
    # UTF-8 is read as it came; other text is passed to Polars as UTF-8.
    body_bytes = raw[separators.newlines[reader.line_num - 1] + 1:] if encoding.startswith("utf-8") else body.encode()
    body_rows, counts = _csv_body(body, body_bytes, separators, reader.line_num, len(record))
    return _Table(record, header_line, body_rows, f"csv ({encoding})", [], _misfits(record, counts))


def _field_counts(lines: pl.Series) -> pl.DataFrame:
    """Each line's number of fields, with and without the empty fields at its end (``fields``, ``filled``)."""
    unquoted = lines.str.replace_all(r'"(?:[^"]|"")*"', "x")
    return pl.DataFrame({"fields": unquoted.str.count_matches(",") + 1,
                         "filled": unquoted.str.replace(r"[,\s]*$", "").str.count_matches(",") + 1}).cast(pl.Int64)


def _csv_body(body: str, body_bytes: bytes, separators: _Separators, header_lines: int,
              width: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows below the header (the text after its first ``header_lines`` lines) as text, each with the
    line number it starts on; and the number of fields, with and without the empty fields at its end
    (source_row, ``fields``, ``filled``), of every row that may not fit the header."""
    first_line = header_lines + 1
    schema = {f"c{i}": pl.String for i in range(width)}
    no_counts = pl.DataFrame(schema={"source_row": pl.Int64, "fields": pl.Int64, "filled": pl.Int64})
    if not body or body.isspace():
        return pl.DataFrame(schema=schema).with_row_index("source_row"), no_counts
    # Polars keeps blank lines as all-null rows, so row i is line first_line + i ...
    rows = pl.read_csv(body_bytes, has_header=False, schema=schema,
                       truncate_ragged_lines=True, missing_columns="insert", extra_columns="ignore")
    commas = separators.commas[header_lines:]
    if rows.height == commas.size - body.endswith("\n"):
        rows = rows.with_row_index("source_row", offset=first_line)
        # A line without quotes and with exactly the header's number of separators fits it; only the
        # others (none in a tidy file) are counted field by field.
        suspect = pl.Series(commas[:rows.height] != width - 1)
        lines = pl.Series([body]).str.split("\n").explode().head(rows.height) if separators.quoted or suspect.any() \
            else None
        if lines is None:
            return rows, no_counts
        suspect |= lines.str.contains('"', literal=True)
        counts = pl.concat([rows.select(pl.col("source_row").cast(pl.Int64)).filter(suspect),
                            _field_counts(lines.filter(suspect))], how="horizontal")
        return rows, counts
    # ... unless a quoted cell spans lines; then ask the csv module where each record starts.
    records, starts, fields, consumed = [], [], [], 0
    reader = csv.reader(io.StringIO(body))
    for record in reader:
        starts.append(first_line + consumed)
        records.append((record + [None] * width)[:width])
        filled = len(record)
        while filled > 1 and not record[filled - 1].strip():
            filled -= 1
        fields.append((starts[-1], max(len(record), 1), filled))
        consumed = reader.line_num
    rows = pl.DataFrame(records, schema=schema, orient="row")
    return (rows.insert_column(0, pl.Series("source_row", starts)),
            pl.DataFrame(fields, schema=no_counts.schema, orient="row"))


def _misfits(header: Sequence[str | None], counts: pl.DataFrame) -> pl.DataFrame:
    """Rows with values beyond the header's last column, or fewer fields than its last named column
    (source_row, fields). Empty fields at a row's end are harmless; a row whose values would land
    under the wrong headings (an unquoted 1,200) is caught."""
    used = max((i + 1 for i, cell in enumerate(header) if cell and str(cell).strip()), default=0)
    return counts.filter((pl.col("filled") > len(header)) | (pl.col("fields") < used)).select("source_row", "fields")


def _map_header(header: Sequence[str | None], columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Template column -> body column, plus notes on header cells that were not used."""
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    notes: list[str] = []
    for cell, column in zip(header, columns, strict=False):
        label = (cell or "").strip()
        name = canonical_name(label)
        if name is None:
            unknown += [label] if label else []
        elif name in mapping:
            notes.append(f"column '{label}' also means {name}; only the first such column was used")
        else:
            mapping[name] = column
    if unknown:
        notes.insert(0, f"ignored column(s) not in the template: {', '.join(map(repr, unknown))}")
    return mapping, notes


def _build(name: str, table: _Table) -> SitrepRead:
    mapping, header_notes = _map_header(table.header, table.body.columns[1:])
    missing = [column for column in REQUIRED if column not in mapping]
    if missing:
        raise FileRejected(f"{name}: required column(s) missing from the header (row {table.header_row}): "
                           f"{', '.join(missing)}.")
    notes = table.notes + header_notes
    if table.header_row > 1:
        notes.append(f"header found on row {table.header_row}; the rows above it were skipped")
    cells = table.body.select(
        pl.col("source_row").cast(pl.Int64),
        *[(pl.col(mapping[c.name]) if c.name in mapping else pl.lit(None, pl.String)).alias(c.name) for c in COLUMNS],
    )
    both = pl.concat([cells.select("source_row"), *[_read_column(cells, c) for c in COLUMNS]], how="horizontal")
    both = both.filter(pl.any_horizontal(pl.col(COLUMN_NAMES).is_not_null()))  # blank rows are not data
    both, totals_notes = _drop_totals(both)
    if both.is_empty():
        raise FileRejected(f"{name}: the header row (row {table.header_row}) has no data rows below it.")
    raw = both.select("source_row", *COLUMN_NAMES)
    frame = both.select("source_row", *[pl.col(_PARSED + c).alias(c) for c in COLUMN_NAMES]).cast(SCHEMA)
    issues = _issues(raw, frame)
    if table.misfits is not None and table.misfits.height:
        issues = pl.concat([issues, _misfit_issues(table.misfits.join(raw.select("source_row"), on="source_row"),
                                                   len(table.header))]).sort("source_row", maintain_order=True)
    return SitrepRead(frame, raw, issues, notes + totals_notes, table.reader)


def _misfit_issues(misfits: pl.DataFrame, width: int) -> pl.DataFrame:
    return misfits.select(
        "source_row", column_name=pl.lit(None, pl.String), rule=pl.lit("row_fits_header"), severity=pl.lit("error"),
        message=pl.format(f"row {{}}: has {{}} values but the header has {width} columns, so its values would land "
                          "under the wrong headings (a number written with a comma, such as 1,200, must be in "
                          "quotes); the row is not loaded", "source_row", "fields")).cast(ISSUE_SCHEMA)


def _read_column(cells: pl.DataFrame, column: Column) -> pl.DataFrame:
    """The column's stripped text (blank as null) and its parsed value (named _PARSED + name).

    Each distinct cell text is parsed once and joined back: a sitrep repeats the same few dates
    and counts, and the regex parsing is far slower than the join on 360,000 rows.
    """
    text = pl.col(column.name)
    clean = text.str.strip_chars().replace("", None)
    distinct = cells.select(text.unique()).select(
        text.alias(_KEY), clean.alias(column.name), _parse(column, clean).alias(_PARSED + column.name))
    # Tidy files skip the join: no cell needed stripping and a plain cast gives every parsed value
    # (Polars has no plain cast from text to date, so dates always take the join).
    if column.kind != "date":
        plain = distinct[_KEY].cast(column.dtype, strict=False)
        if distinct[_KEY].equals(distinct[column.name]) and plain.equals(distinct[_PARSED + column.name]):
            return cells.select(text, text.cast(column.dtype, strict=False).alias(_PARSED + column.name))
    return (cells.select(text.alias(_KEY))
            .join(distinct, on=_KEY, how="left", nulls_equal=True, maintain_order="left").drop(_KEY))


def _drop_totals(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    labelled = pl.any_horizontal(pl.col("org_code", "period_date").str.contains(_TOTALS)).fill_null(False)
    # A trailing row without an org code is a totals row too; elsewhere the contract rejects it.
    last_without_org = (pl.int_range(pl.len()) == pl.len() - 1) & pl.col("org_code").is_null()
    marks = raw.select(labelled=labelled, last=last_without_org)
    skip = marks["labelled"] | marks["last"]
    notes = [f"row {row}: totals row skipped" + ("" if is_labelled else " (last row, no org_code)")
             for row, is_labelled in zip(raw["source_row"].filter(skip), marks["labelled"].filter(skip), strict=False)]
    return raw.filter(~skip), notes


def _parse(column: Column, text: pl.Expr) -> pl.Expr:
    if column.kind == "date":
        return _parse_date(text)
    if column.kind == "code":
        return normalise_code(text)
    if column.kind == "opel":
        return _parse_whole(text.str.replace(r"(?i)^opel[\s-]*", ""))
    return _parse_whole(text)


def normalise_code(text: pl.Expr) -> pl.Expr:
    """An ODS code as the rules see it: Unicode NFKC (full-width letters become plain ones), every
    space and zero-width character removed, upper case. Control characters stay for the contract's
    no_control_characters rule to reject; look-alike letters from other alphabets stay too and are
    unknown codes."""
    return text.str.normalize("NFKC").str.replace_all(_INVISIBLE, "").str.to_uppercase().replace("", None)


def _parse_whole(text: pl.Expr) -> pl.Expr:
    """'1,234' -> 1234, '12.0' -> 12; '12.5' and anything else not whole -> null."""
    plain = (pl.when(text.str.contains(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$"))
             .then(text.str.replace_all(",", "")).otherwise(text))
    return plain.str.replace(r"^([-+]?\d+)\.0*$", "${1}").cast(pl.Int64, strict=False)


def _parse_date(text: pl.Expr) -> pl.Expr:
    """ISO or UK day-first text (with or without a time of day), or an Excel serial number."""
    day = text.str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")  # drop a time of day
    # Rewrite every accepted layout as d/m/yyyy; "%d/%m/%Y" alone accepts unpadded days and months.
    dmy = (day.str.replace(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})$", "${3}/${2}/${1}")
              .str.replace(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", "${1}/${2}/${3}")
              .str.replace(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2})$", "${1}/${2}/20${3}"))
    from_text = pl.when(dmy.str.contains(r"^\d{1,2}/\d{1,2}/\d{4}$")).then(dmy.str.to_date("%d/%m/%Y", strict=False))
    serial = pl.when(day.str.contains(r"^\d+(\.\d+)?$")).then(day.cast(pl.Float64).floor().cast(pl.Int64))
    from_serial = pl.when(serial.is_between(*_SERIAL_RANGE)).then((serial - _EXCEL_EPOCH_SERIAL).cast(pl.Date))
    return pl.coalesce(from_text, from_serial)


def _issues(raw: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """One error per cell that had text but did not parse."""
    parts = []
    for column in COLUMNS:
        if column.kind not in _RULES:
            continue
        rule, problem = _RULES[column.kind]
        bad = raw.filter(raw[column.name].is_not_null() & frame[column.name].is_null())
        parts.append(bad.select(
            "source_row",
            column_name=pl.lit(column.name),
            rule=pl.lit(rule),
            severity=pl.lit("error"),
            message=pl.format(f"row {{}}: {column.name} ('{{}}') {problem}", "source_row", column.name),
        ))
    return pl.concat(parts).cast(ISSUE_SCHEMA).sort("source_row", maintain_order=True)
