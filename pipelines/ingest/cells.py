"""A file's cells as text, before any mapping to the template: CSV (any of the encodings trusts
export) or .xlsx, the header row found among title rows, and rows that do not fit the header named.

Limits are checked before anything is parsed, so a small hostile file cannot take the server down
(docs/security.md, "Input limits"): a file's size; a workbook's uncompressed size from its zip
directory, and its cells counted in each sheet's XML as it streams past (a sheet's <dimension> may
lie: one declaring A1:R8 held 9.9 million cells), the count stopping at the limit; a CSV's number
of lines, and its line and field lengths, from its bytes (measured in characters only where the
bytes say a line may be over a limit). Together they bound the memory one file can take.
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

import fastexcel
import numpy as np
import polars as pl

from pipelines.catalogue.columns import canonical_name
from pipelines.catalogue.issues import FileRejected

HEADER_SEARCH_ROWS = 30
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f]")  # control bytes never found in a text CSV
# Resource limits, checked before parsing so a huge or crafted file costs no memory: far above any
# real sitrep (a national year is about 50,000 rows of 18 columns, under 10 MB), and low enough that
# the largest file they allow is read and checked in well under 1 GiB (tests/test_memory_limits.py measures it).
MAX_FILE_BYTES = 50 * 1024 * 1024  # one file, uploaded or on the command line
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ROWS = 100_000  # lines of a CSV
MAX_CELLS = 2_000_000
# Problems in one file: past this many the file is surely not in the template's layout, and is
# rejected whole rather than one stored message per cell (1.5 million of them took 2 GB).
MAX_ISSUES = 200_000  # cells of a workbook, counted in its sheets' XML; rows times header columns of a CSV
MAX_SHEETS = 50
MAX_LINE_CHARS = 100_000
MAX_FIELD_CHARS = 1_000
_DAMAGED_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, zlib.error,
                OSError)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"(?:[A-Z]+\d+:)?([A-Z]+)(\d+)\"")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")  # a cell element of SpreadsheetML, any namespace prefix
_CHUNK_BYTES = 1 << 20


@dataclass
class Table:
    """A file's cells as text, before mapping to the template."""
    header: Sequence[str | None]
    header_row: int  # source row of the header
    body: pl.DataFrame  # source_row, then one String column per header cell
    reader: str
    notes: list[str]
    misfits: pl.DataFrame | None = None  # source_row, fields: rows that do not fit the header
    unclosed_quotes: tuple[int, ...] = ()  # source rows with a quote that never closes: not read


def too_large_message(name: str, size: int) -> str:
    return (f"{name} is {size / 1024 / 1024:.1f} MB, over the {MAX_FILE_BYTES // 1024 // 1024} MB limit for one "
            "file; nothing from it was loaded. Please split it into smaller files (for example one per month) "
            "and load those.")


def too_large(name: str, size: int) -> FileRejected | None:
    """The rejection of a file over MAX_FILE_BYTES (None when it is not): ask before reading its bytes."""
    return FileRejected(too_large_message(name, size)) if size > MAX_FILE_BYTES else None


def load_cells(name: str, data: bytes) -> Table:
    if rejection := too_large(name, len(data)):
        raise rejection
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
    declared = 0
    for sheet in sheets:
        with archive.open(sheet) as stream:
            found = _DIMENSION.search(stream.read(4096))
        if found:  # ref="A1:R400": 18 columns by 400 rows (the Excel library sizes its grid by it)
            declared += _column_number(found.group(1)) * int(found.group(2))
    if declared > MAX_CELLS:
        raise _too_many_cells(name, f"the workbook's sheets span {declared:,} cells")
    cells = 0
    for sheet in sheets:
        cells = _count_cells(name, archive, sheet, cells)


def too_many_issues(count: int, example: str) -> FileRejected:
    return FileRejected(f"the file has {count:,} problems, over the limit of {MAX_ISSUES:,}: it is probably not in "
                        f"the template's layout (the first: {example}); nothing was loaded from it.")


def _too_many_cells(name: str, what: str) -> FileRejected:
    return FileRejected(f"{name}: {what}, over the limit of {MAX_CELLS:,}; nothing was read from it. "
                        "Please save only the sitrep's rows and columns, or split the file (one per month, say).")


def _count_cells(name: str, archive: zipfile.ZipFile, sheet: zipfile.ZipInfo, counted: int) -> int:
    """``counted`` plus the cells in the sheet's XML, read a chunk at a time (never the whole sheet
    at once); FileRejected as soon as the total passes MAX_CELLS."""
    carried = b""
    with archive.open(sheet) as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            text = carried + chunk
            cut = text.rfind(b"<")  # an element cut by the chunk's end is counted with the next chunk
            cut = len(text) if cut < 0 else cut
            counted += len(_CELL.findall(text, 0, cut))
            carried = text[cut:]
            if counted > MAX_CELLS:
                raise _too_many_cells(name, f"the workbook holds more than {MAX_CELLS:,} cells")
    return counted + len(_CELL.findall(carried))


def check_size(name: str, data: bytes) -> None:
    """FileRejected when a workbook would inflate past the limits: call before anything opens it."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                check_workbook_size(name, archive)
        except _DAMAGED_ZIP:
            pass  # damaged: the reader says so in its own words


def _load_xlsx(name: str, data: bytes) -> Table:
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
        return Table(list(grid.row(index)), index + 1, body, f"xlsx (sheet '{sheet}')", notes)
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


def _check_rows(name: str, data: bytes) -> None:
    """Reject a CSV with more lines than MAX_ROWS, counted in its bytes before anything is decoded."""
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if lines > MAX_ROWS:
        raise FileRejected(f"{name}: the file has {lines:,} lines, over the limit of {MAX_ROWS:,} rows for one file; "
                           "nothing was read from it. Please split it into smaller files (one per month, say).")


def _load_csv(name: str, data: bytes) -> Table:
    _check_rows(name, data)
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
    # Every row gets a value (or a blank) under every header column: a header thousands of columns
    # wide over short lines would make far more cells than the file holds characters.
    if (cells := (separators.newlines.size + 1 - reader.line_num) * len(record)) > MAX_CELLS:
        raise _too_many_cells(name, f"the file's rows under its {len(record):,} header columns make {cells:,} cells")
    parts = text.split("\n", reader.line_num)
    body = parts[-1] if len(parts) > reader.line_num else ""
    # UTF-8 is read as it came; other text is passed to Polars as UTF-8.
    body_bytes = raw[separators.newlines[reader.line_num - 1] + 1:] if encoding.startswith("utf-8") else body.encode()
    body_rows, counts, unclosed = _csv_body(body, body_bytes, separators, reader.line_num, len(record))
    return Table(record, header_line, body_rows, f"csv ({encoding})", [], _misfits(record, counts), unclosed)


def _field_counts(lines: pl.Series) -> pl.DataFrame:
    """Each line's number of fields, with and without the empty fields at its end (``fields``, ``filled``)."""
    unquoted = lines.str.replace_all(r'"(?:[^"]|"")*"', "x")
    return pl.DataFrame({"fields": unquoted.str.count_matches(",") + 1,
                         "filled": unquoted.str.replace(r"[,\s]*$", "").str.count_matches(",") + 1}).cast(pl.Int64)


_NO_COUNTS = pl.DataFrame(schema={"source_row": pl.Int64, "fields": pl.Int64, "filled": pl.Int64})
_SPAN_LINES = 20  # a quoted value spans at most this many lines; a quote still open then is a stray one


def _csv_body(body: str, body_bytes: bytes, separators: _Separators, header_lines: int,
              width: int) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, ...]]:
    """Rows below the header (the text after its first ``header_lines`` lines) as text, each with the
    line number it starts on; the number of fields, with and without the empty fields at its end
    (source_row, ``fields``, ``filled``), of every row that may not fit the header; and the rows
    with a quote that never closes (see ``_careful_rows``)."""
    first_line = header_lines + 1
    schema = {f"c{i}": pl.String for i in range(width)}
    if not body or body.isspace():
        return pl.DataFrame(schema=schema).with_row_index("source_row"), _NO_COUNTS, ()
    try:  # Polars keeps blank lines as all-null rows, so row i is line first_line + i ...
        rows = pl.read_csv(body_bytes, has_header=False, schema=schema,
                           truncate_ragged_lines=True, missing_columns="insert", extra_columns="ignore")
    except pl.exceptions.ComputeError:  # a quote that never closes: Polars refuses the whole file
        return _careful_rows(body, first_line, width)
    commas = separators.commas[header_lines:]
    if rows.height == commas.size - body.endswith("\n"):
        rows = rows.with_row_index("source_row", offset=first_line)
        # A line without quotes and with exactly the header's number of separators fits it; only the
        # others (none in a tidy file) are counted field by field.
        misfits = commas[:rows.height] != width - 1
        if not separators.quoted and not misfits.any():  # checked in NumPy: a Series from NumPy imports numpy.ma
            return rows, _NO_COUNTS, ()
        lines = pl.Series([body]).str.split("\n").explode().head(rows.height)
        suspect = pl.Series(misfits) | lines.str.contains('"', literal=True)
        counts = pl.concat([rows.select(pl.col("source_row").cast(pl.Int64)).filter(suspect),
                            _field_counts(lines.filter(suspect))], how="horizontal")
        return rows, counts, ()
    # ... unless a quoted cell spans lines (or quotes are unbalanced): then line by line.
    return _careful_rows(body, first_line, width)


def _ends_in_quotes(text: str) -> bool:
    """Whether a quoted value is still open at the end of ``text`` (as the csv module reads quotes: only
    a quote starting a value opens one; ``""`` inside it is a quote character)."""
    inside = after_close = False
    at_start = True
    for ch in text:
        if inside:
            inside, after_close = ch != '"', ch == '"'
            continue
        if ch == '"' and (at_start or after_close):
            inside = True
        at_start, after_close = ch in ",\n", False
    return inside


def _record(text: str, strict: bool = False) -> list[str] | None:
    """The CSV record in ``text``; None when ``strict`` and a closing quote is followed by anything but
    a comma or the line's end (two stray quotes, not a quoted value)."""
    try:
        return next(csv.reader(io.StringIO(text), strict=strict), [])
    except csv.Error:
        return None


def _careful_rows(body: str, first_line: int, width: int) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, ...]]:
    """``_csv_body`` one record at a time. A quoted value may span lines when its closing quote ends the
    value (a comma or the line's end follows); a quote still open after _SPAN_LINES lines, or closed
    by what is plainly another row's stray quote, is a stray quote: only its own line is rejected (as
    an unclosed quote) and reading goes on at the next line, so one stray quote costs one row, not the file."""
    lines = body.split("\n")
    if body.endswith("\n"):
        lines.pop()
    records, fields, unclosed, start = [], [], [], 0
    while start < len(lines):
        end, text = start, lines[start]
        while _ends_in_quotes(text) and end + 1 < len(lines) and end - start < _SPAN_LINES:
            end += 1
            text += "\n" + lines[end]
        record = _record(text, strict=end > start)
        if record is None or _ends_in_quotes(text):
            unclosed.append(first_line + start)
            end, record = start, _record(lines[start]) or []
        filled = len(record)
        while filled > 1 and not record[filled - 1].strip():
            filled -= 1
        records.append((record + [None] * width)[:width])
        fields.append((first_line + start, max(len(record), 1), filled))
        start = end + 1
    rows = pl.DataFrame(records, schema={f"c{i}": pl.String for i in range(width)}, orient="row")
    counts = pl.DataFrame(fields, schema=_NO_COUNTS.schema, orient="row")
    return (rows.insert_column(0, pl.Series("source_row", [row for row, _, _ in fields])),
            counts.filter(~pl.col("source_row").is_in(unclosed)), tuple(unclosed))


def _misfits(header: Sequence[str | None], counts: pl.DataFrame) -> pl.DataFrame:
    """Rows with values beyond the header's last column, or fewer fields than its last named column
    (source_row, fields). Empty fields at a row's end are harmless; a row whose values would land
    under the wrong headings (an unquoted 1,200) is caught."""
    used = max((i + 1 for i, cell in enumerate(header) if cell and str(cell).strip()), default=0)
    return counts.filter((pl.col("filled") > len(header)) | (pl.col("fields") < used)).select("source_row", "fields")
