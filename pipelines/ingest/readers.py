"""Read a daily trust sitrep file (CSV or .xlsx, docs/domain.md section 2.1) into the canonical frame.

Trust files are made by hand or exported from Excel: odd encodings, title rows above the
header, header aliases, UK dates, thousands separators, a totals row at the bottom. All of
that is tolerated without flags. Every cell that cannot be parsed becomes null in ``frame``
and one row in ``issues``; the whole file is rejected (FileRejected) only when nothing
sensible can be read from it. Range and cross-column rules are the contract's job, not ours.

The file's cells as text, within the limits that keep a hostile file from taking the server down,
come from ``pipelines.ingest.cells``; here they are mapped to the template and parsed. A row with
more or fewer fields than the header is rejected (rule row_fits_header), never read with its
values shifted; so is a row with a quote that never closes (rule unclosed_quote), alone. A header
naming one template column twice rejects the file: which of the two holds the figures cannot be told.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.catalogue.columns import COLUMN_NAMES, COLUMNS, SCHEMA, Column, canonical_name, required_columns
from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.ingest.cells import MAX_ISSUES, Table, load_cells, too_many_issues
from pipelines.safe_text import clean

_KEY, _PARSED, _FILE = "_text", "_parsed:", "_file"  # internal column names, never template names
_TOTALS = r"(?i)^((grand\s+)?totals?:?|england)$"
_EXCEL_EPOCH_SERIAL = 25569  # Excel serial of 1970-01-01 in the 1900 date system
# Serial 60 is Excel's fictitious 29/02/1900, so only serials from 61 (01/03/1900) map correctly.
_SERIAL_RANGE = (61, 2958465)
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


def read_sitrep(path: str | Path, content: bytes | None = None) -> SitrepRead:
    """Read a sitrep from ``path``, or from ``content`` when the bytes are already in memory."""
    name = Path(path).name
    if content is None:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise FileRejected(f"{name}: the file could not be opened ({exc.strerror or exc}).") from exc
    table = _table(name, content)
    cells, notes = _template_cells(name, table)
    return _finish(name, table, _parsed(cells), notes)


def read_sitreps(files: Sequence[tuple[str, bytes]]) -> list[SitrepRead | FileRejected]:
    """``read_sitrep`` of each (name, content), or the FileRejected it raises: the files' cells are parsed
    as one frame, so many small files (the first start's sample) pay the parse's fixed costs once."""
    results: dict[int, SitrepRead | FileRejected] = {}
    read: list[tuple[int, Table, list[str]]] = []
    frames = []
    for index, (name, content) in enumerate(files):
        try:
            table = _table(name, content)
            cells, notes = _template_cells(name, table)
        except FileRejected as rejection:
            results[index] = rejection
            continue
        read.append((index, table, notes))
        frames.append(cells.with_columns(pl.lit(index, pl.Int32).alias(_FILE)))
    if frames:
        combined = pl.concat(frames)
        parts = pl.concat([combined.select(_FILE), _parsed(combined)], how="horizontal").partition_by(
            _FILE, as_dict=True, include_key=False)
        for index, table, notes in read:
            try:
                results[index] = _finish(files[index][0], table, parts[(index,)], notes)
            except FileRejected as rejection:
                results[index] = rejection
    return [results[index] for index in range(len(files))]


def _table(name: str, content: bytes) -> Table:
    """The file's cells as text; FileRejected when there are none or it is not a CSV or workbook."""
    if not content or content.isspace():
        raise FileRejected(f"{name}: the file is empty.")
    try:
        return load_cells(name, content)
    except FileRejected:
        raise
    except Exception as exc:  # any library error on malformed input must reach the user as a rejection
        raise FileRejected(f"{name}: the file could not be read as CSV or Excel (.xlsx); it may be damaged.") from exc


def _map_header(file_name: str, table: Table) -> tuple[dict[str, str], list[str]]:
    """Template column -> body column, plus notes on header cells that were not used; FileRejected
    when two columns mean the same template column (the file's figures would be a guess)."""
    mapping: dict[str, str] = {}
    first_label: dict[str, tuple[int, str]] = {}
    unknown: list[str] = []
    notes: list[str] = []
    for number, (cell, column) in enumerate(zip(table.header, table.body.columns[1:], strict=False), start=1):
        label = (cell or "").strip()
        name = canonical_name(label)
        if name is None:
            unknown += [label] if label else []
        elif name in mapping:
            earlier, earlier_label = first_label[name]
            raise FileRejected(f"{file_name}: the header (row {table.header_row}) has two columns for {name}: "
                               f"'{clean(earlier_label)}' (column {earlier}) and '{clean(label)}' (column {number}); "
                               "nothing was read from the file. Please keep one of them and send it again.")
        else:
            mapping[name] = column
            first_label[name] = number, label
    if unknown:
        notes.insert(0, f"ignored column(s) not in the template: {', '.join(map(repr, unknown))}")
    return mapping, notes


def _template_cells(name: str, table: Table) -> tuple[pl.DataFrame, list[str]]:
    """source_row and every template column's cell text (null where the file has no such column), and the
    notes on the header; FileRejected when a required column is missing."""
    mapping, header_notes = _map_header(name, table)
    missing = [column for column in required_columns() if column not in mapping]
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
    return cells, notes


def _parsed(cells: pl.DataFrame) -> pl.DataFrame:
    """source_row, then each template column's text and its parsed value (``_read_columns``)."""
    return pl.concat([cells.select("source_row"), *_read_columns(cells)], how="horizontal")


def _finish(name: str, table: Table, both: pl.DataFrame, notes: list[str]) -> SitrepRead:
    """The file's parsed cells (``_parsed``) as its frame, raw text and issues: blank and totals rows
    dropped; FileRejected when no data row is left or too many cells did not parse."""
    both = both.filter(pl.any_horizontal(pl.col(COLUMN_NAMES).is_not_null()))  # blank rows are not data
    both, totals_notes = _drop_totals(both)
    if both.is_empty():
        raise FileRejected(f"{name}: the header row (row {table.header_row}) has no data rows below it.")
    raw = both.select("source_row", *COLUMN_NAMES)
    frame = both.select("source_row", *[pl.col(_PARSED + c).alias(c) for c in COLUMN_NAMES]).cast(SCHEMA)
    issues = _issues(name, raw, frame)
    if table.misfits is not None and table.misfits.height:
        issues = pl.concat([issues, _misfit_issues(table.misfits.join(raw.select("source_row"), on="source_row"),
                                                   len(table.header))]).sort("source_row", maintain_order=True)
    if table.unclosed_quotes:
        unclosed = raw.select("source_row").filter(pl.col("source_row").is_in(table.unclosed_quotes))
        issues = pl.concat([issues.join(unclosed, on="source_row", how="anti"), _unclosed_quote_issues(unclosed)]
                           ).sort("source_row", maintain_order=True)
    return SitrepRead(frame, raw, issues, notes + totals_notes, table.reader)


def _unclosed_quote_issues(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        "source_row", column_name=pl.lit(None, pl.String), rule=pl.lit("unclosed_quote"), severity=pl.lit("error"),
        message=pl.format('row {}: a quote mark (") opens a value that never closes, so where its values end cannot '
                          'be told; the row is not loaded (a quote inside a value is written twice: "")',
                          "source_row")).cast(ISSUE_SCHEMA)


def _misfit_issues(misfits: pl.DataFrame, width: int) -> pl.DataFrame:
    return misfits.select(
        "source_row", column_name=pl.lit(None, pl.String), rule=pl.lit("row_fits_header"), severity=pl.lit("error"),
        message=pl.format(f"row {{}}: has {{}} values but the header has {width} columns, so its values would land "
                          "under the wrong headings (a number written with a comma, such as 1,200, must be in "
                          "quotes); the row is not loaded", "source_row", "fields")).cast(ISSUE_SCHEMA)


def _read_columns(cells: pl.DataFrame) -> list[pl.DataFrame]:
    """Each column's stripped text (blank as null) and its parsed value (named _PARSED + name).

    A column of counts or OPEL levels whose every cell Polars casts to a whole number is read by that
    cast alone: Polars accepts only an optional sign and digits (no space, comma, point or blank),
    which the careful parse reads the same (tests/test_readers.py checks it on any text). Any other
    column, or any cell the cast does not take, goes the careful way (``_read_text``). The casts are
    one query for all the columns: a query per column cost more than the casts.
    """
    whole = [c for c in COLUMNS if c.kind in ("count", "opel")]
    cast = cells.select(pl.col(c.name).cast(c.dtype, strict=False).alias(_PARSED + c.name) for c in whole)
    given_nulls = cells.select(c.name for c in whole).null_count().row(0)
    tidy = {c.name for c, given, parsed in zip(whole, given_nulls, cast.null_count().row(0), strict=True)
            if given == parsed}
    return [pl.DataFrame([cells.get_column(c.name), cast.get_column(_PARSED + c.name)]) if c.name in tidy
            else _read_text(cells, c) for c in COLUMNS]


def _read_text(cells: pl.DataFrame, column: Column) -> pl.DataFrame:
    """``_read_columns`` for any text: each distinct cell text is parsed once and joined back (a
    sitrep repeats the same few dates and counts, and the regex parsing is far slower than the join
    on 360,000 rows)."""
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


def _issues(name: str, raw: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """One error per cell that had text but did not parse (FileRejected past MAX_ISSUES of them)."""
    parsed = [c for c in COLUMNS if c.kind in _RULES]
    names = [c.name for c in parsed]
    # Every column's mask in one query: one call per column cost more than the whole check on a tidy file.
    unparsed = pl.concat([raw.select(names), frame.select(pl.col(names).name.prefix(_PARSED))], how="horizontal"
                         ).select(pl.col(n).is_not_null() & pl.col(_PARSED + n).is_null() for n in names)
    counts = unparsed.sum().row(0, named=True)
    if (count := sum(counts.values())) > MAX_ISSUES:
        column = next(c for c in parsed if counts[c.name])
        row, text = raw.filter(unparsed[column.name]).select("source_row", column.name).row(0)
        raise FileRejected(f"{name}: " + str(too_many_issues(count, f"row {row}: {column.name} ('{clean(text)[:40]}') "
                                                                     f"{_RULES[column.kind][1]}")))
    if not count:  # the usual file: no issue frames built column by column
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    parts = []
    for column in (c for c in parsed if counts[c.name]):
        rule, problem = _RULES[column.kind]
        bad = raw.filter(unparsed[column.name])
        parts.append(bad.select(
            "source_row",
            column_name=pl.lit(column.name),
            rule=pl.lit(rule),
            severity=pl.lit("error"),
            message=pl.format(f"row {{}}: {column.name} ('{{}}') {problem}", "source_row", column.name),
        ))
    return pl.concat(parts).cast(ISSUE_SCHEMA).sort("source_row", maintain_order=True)
