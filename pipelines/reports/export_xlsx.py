"""The weekly narrative table as an Excel workbook (xlsxwriter).

Sheets: "Weekly position" (the home page's table: each trust's value as a real number with a
percentage or count format and a red/amber/green fill, beside it the status and change in words,
and the system narrative), "Data" (the CSV's tidy rows, numbers as numbers) and "Definitions"
(metric definitions, ambitions with their sources, the data as-at date and the source files).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipelines.catalogue.metrics import Unit
from pipelines.reports.export_common import (
    STATUS_KEY,
    WeekSources,
    is_formula_like,
    submitted,
    tidy,
    title,
    week_range,
)
from pipelines.reports.narrative import narrative_text
from pipelines.reports.presentation import (
    NHS_PALE_GREY,
    NO_SUBMISSION,
    NOT_REPORTED,
    STATUS_FILL,
    STATUS_TEXT,
    TableCell,
    format_ambition,
    format_change,
)
from pipelines.reports.weekly_table import SYSTEM_NAME, WeeklyTable

# Percentages are stored as fractions (39.2% as 0.392) so that Excel's percentage arithmetic works.
NUMBER_FORMATS: dict[str, str] = {Unit.PERCENT: "0.0%", Unit.DAYS: "0.0", Unit.PATIENTS: "#,##0", Unit.LEVEL: "0"}
HEADER = {"bold": True, "text_wrap": True, "bg_color": NHS_PALE_GREY, "bottom": 1}
HEADER_ROW = 2  # under the title and the subtitle; the rows down to here stay frozen
WIDTHS = {"metric": 42, "ambition": 10, "value": 11, "status": 27, "narrative": 70}
# Printing: landscape A4 with 0.4" side margins. Fitted to one page wide only while the 10 pt text
# stays at least 7 pt (70%); wider tables print at 80% (8 pt, the Word pack's floor) over several
# pages, a break between trusts, the metric and ambition columns and the header rows on every page.
A4_LANDSCAPE_PRINTABLE_PT = 841.9 - 2 * 0.4 * 72
MIN_FIT_SCALE, PRINT_SCALE = 70, 80
LINE_PT = 13  # a line of 10 pt text


class _Sheet:
    """A worksheet that writes only typed cells: strings with ``write_string`` (never read as a
    formula) and numbers with ``write_number``. xlsxwriter needs each format made once per
    workbook, so formats are kept here by their properties."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, formats: dict[tuple, Format]) -> None:
        self.book, self.sheet, self._formats = book, book.add_worksheet(name), formats
        self.wrapped: dict[int, list[tuple[int, str]]] = {}  # row -> (column, text) of its wrapped cells

    def format(self, **props: object) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format({"valign": "top", "font_size": 10, **props})
        return self._formats[key]

    def text(self, row: int, col: int, text: str | None, **props: object) -> None:
        """Text that a spreadsheet could run as a formula also gets Excel's quote prefix: it stays
        text even when someone edits the cell, and still reads exactly as it was written."""
        if not text:
            self.sheet.write_blank(row, col, None, self.format(**props))
        else:
            if props.get("text_wrap"):
                self.wrapped.setdefault(row, []).append((col, text))
            self.sheet.write_string(row, col, text, self.format(quote_prefix=is_formula_like(text), **props))

    def number(self, row: int, col: int, value: float | None, num_format: str, **props: object) -> None:
        if value is None:
            self.sheet.write_blank(row, col, None, self.format(**props))
        else:
            self.sheet.write_number(row, col, value, self.format(num_format=num_format, **props))

    def when(self, row: int, col: int, value: date | datetime | None, num_format: str) -> None:
        if value is None:
            self.sheet.write_blank(row, col, None, self.format())
        else:
            self.sheet.write_datetime(row, col, value, self.format(num_format=num_format, align="left"))

    def header(self, row: int, names: list[str]) -> None:
        for col, name in enumerate(names):
            self.text(row, col, name, **HEADER)


def status_note(cell: TableCell) -> str:
    """The cell's words beside its number: '✗ misses ambition, ▲ 0.3 pts worse', from its typed fields."""
    words = [STATUS_TEXT[cell.status], format_change(cell.change, cell.change_direction, cell.catalogue.unit)]
    if cell.days_with_data < 7:
        words.append(f"{cell.days_with_data} of 7 days")
    return ", ".join(w for w in words if w)


def _trust_cell(out: _Sheet, row: int, col: int, cell: TableCell | None) -> None:
    """The value (a number) and beside it the status and change in words, both filled by status;
    a trust without a figure gets the page's words ('no submission this week', 'not reported')."""
    if cell is None or cell.value is None:
        words = (cell.uncollected or NOT_REPORTED) if cell is not None and cell.submitted else NO_SUBMISSION
        out.text(row, col, words, text_wrap=True, italic=True)
        out.sheet.write_blank(row, col + 1, None, out.format())
        return
    unit = cell.catalogue.unit
    fill = {"text_wrap": True} | ({} if cell.status == "none" else {"bg_color": STATUS_FILL[cell.status]})
    value = cell.value / 100 if cell.catalogue.is_ratio else cell.value
    out.number(row, col, value, NUMBER_FORMATS[unit], **fill)
    out.text(row, col + 1, status_note(cell), **fill)


def _position_sheet(out: _Sheet, table: WeeklyTable, narratives: pl.DataFrame, sources: WeekSources) -> None:
    columns = [SYSTEM_NAME, *table.trusts["trust"]]  # the selected trusts combined first, as on the page
    narrative_col = 2 + 2 * len(columns)
    as_at = f"; data as at {sources.as_at:%d/%m/%Y %H:%M}" if sources.as_at else ""
    subtitle = f"{week_range(table.week_ending)}: {submitted(table)}{as_at}."
    out.text(0, 0, title(table.week_ending), bold=True, font_size=14)
    out.text(1, 0, subtitle)
    out.header(HEADER_ROW, ["Metric", "Ambition", *[n for t in columns for n in (t, f"{t}: status and change")],
                            "Narrative"])
    for row, line in enumerate(table.rows, start=HEADER_ROW + 1):
        out.text(row, 0, line.label, text_wrap=True, bold=True)
        out.text(row, 1, line.ambition)
        for j, cell in enumerate([line.system, *line.cells]):
            _trust_cell(out, row, 2 + 2 * j, cell)
        out.text(row, narrative_col, narrative_text(narratives, line.metric), text_wrap=True)
    sheet = out.sheet
    sheet.freeze_panes(HEADER_ROW + 1, 2)
    widths = [WIDTHS["metric"], WIDTHS["ambition"], *[WIDTHS[k] for _ in columns for k in ("value", "status")],
              WIDTHS["narrative"]]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    # The key under the metric and ambition columns, so that it prints on every page.
    key_row = HEADER_ROW + 1 + len(table.rows)
    sheet.merge_range(key_row, 0, key_row, 1, f"Key: {STATUS_KEY}", out.format(text_wrap=True, italic=True))
    sheet.set_row(key_row, LINE_PT * wrapped_lines(f"Key: {STATUS_KEY}", WIDTHS["metric"] + WIDTHS["ambition"]))
    _fit_rows(out, widths)
    _print_setup(sheet, len(columns))
    # The title rows spill across the columns on screen; printed, they are the page's header and footer.
    sheet.print_area(HEADER_ROW, 0, key_row, narrative_col)
    sheet.set_header(f"&L&\"-,Bold\"{_header_text(title(table.week_ending))}")
    sheet.set_footer(f"&L{_header_text(subtitle)}&RPage &P of &N")


def _header_text(text: str) -> str:
    """Text for a printed header or footer, where '&' starts a code."""
    return text.replace("&", "&&")


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped at word breaks in a column ``width`` characters wide
    (of the default font's digits: 10 pt text fits about 1.1 characters a unit)."""
    width *= 1.1
    lines, used = 0, width
    for paragraph in text.splitlines() or [""]:
        lines, used = lines + 1, 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > width:
                lines, used = lines + 1, 0
            used += len(word) + (1 if used else 0)
            while used > width:  # a word longer than the column breaks
                lines, used = lines + 1, used - width
    return lines


def _fit_rows(out: _Sheet, widths: Sequence[float]) -> None:
    """Row heights for the wrapped text, written out: LibreOffice does not fit rows to wrapped text
    on opening (Excel does), so its print overlapped lines."""
    for row, cells in out.wrapped.items():
        out.sheet.set_row(row, LINE_PT * max(wrapped_lines(text, widths[col]) for col, text in cells))


def column_points(width: float) -> float:
    """A column's printed width in points: Excel's pixels for a width in characters of the default
    font (7 px a digit, 5 px padding), at 96 px to the inch."""
    return (int(width * 7 + 0.5) + 5) * 0.75


def _print_setup(sheet: Worksheet, trust_columns: int) -> None:
    """Landscape A4, header rows and the metric and ambition columns repeated on every page; one page
    wide if that keeps the text readable, else 80% with a page break between trusts (a trust's
    value never printed apart from its words)."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.set_margins(left=0.4, right=0.4)
    sheet.repeat_rows(HEADER_ROW)
    sheet.repeat_columns(0, 1)
    titles = column_points(WIDTHS["metric"]) + column_points(WIDTHS["ambition"])
    trust = column_points(WIDTHS["value"]) + column_points(WIDTHS["status"])
    whole = titles + trust_columns * trust + column_points(WIDTHS["narrative"])
    if 100 * A4_LANDSCAPE_PRINTABLE_PT / whole >= MIN_FIT_SCALE:
        sheet.fit_to_pages(1, 0)
        return
    sheet.set_print_scale(PRINT_SCALE)
    per_page = max(1, int((A4_LANDSCAPE_PRINTABLE_PT * 100 / PRINT_SCALE - titles) // trust))
    sheet.set_v_pagebreaks([2 + 2 * j for j in range(per_page, trust_columns, per_page)])


def _data_sheet(out: _Sheet, table: WeeklyTable, narratives: pl.DataFrame) -> None:
    """The CSV's rows as a table of real numbers (values 0-100 as in the warehouse) for analysis."""
    frame = tidy(table, narratives)
    out.header(0, frame.columns)
    for row, record in enumerate(frame.iter_rows(named=True), start=1):
        for col, (name, value) in enumerate(record.items()):
            if name == "week_ending":
                out.when(row, col, value, "dd/mm/yyyy")
            elif frame.schema[name] == pl.Float64:
                out.number(row, col, value, "0.00")
            else:
                out.text(row, col, value)
    out.sheet.freeze_panes(1, 0)
    out.sheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
    out.sheet.set_column(0, frame.width - 2, 14)
    out.sheet.set_column(frame.width - 1, frame.width - 1, 70)


def _definitions_sheet(out: _Sheet, table: WeeklyTable, sources: WeekSources) -> None:
    out.text(0, 0, "Definitions and sources", bold=True, font_size=14)
    out.header(2, ["Metric", "Label", "Definition", "Better when", "Ambition", "Amber tolerance",
                   "Ambition in force from", "Source of the ambition"])
    row = 3
    for d in sources.definitions.iter_rows(named=True):
        for col, text in enumerate([d["metric"], d["label"], d["definition"], d["better"],
                                    format_ambition(d["comparison"], d["threshold"], d["unit"])]):
            out.text(row, col, text, text_wrap=True)
        out.number(row, 5, d["amber_tolerance"], "0.0")
        out.when(row, 6, d["effective_from"], "dd/mm/yyyy")
        out.text(row, 7, d["source"], text_wrap=True)
        row += 1
    as_at = f"{sources.as_at:%d/%m/%Y %H:%M}, when the latest of these figures was loaded" if sources.as_at else ""
    about = [("Week", week_range(table.week_ending)), ("Trusts", ", ".join(table.trusts["trust"])),
             ("Data as at", as_at), ("Status", STATUS_KEY),
             ("Figures", "Percentages are ratios of the week's sums; counts are daily averages; OPEL is the "
                         "highest level reported in the week.")]
    row += 1
    for label, text in about:
        out.text(row, 0, label, bold=True)
        out.text(row, 1, text)
        row += 1
    row += 1
    out.text(row, 0, "Source files", bold=True)
    out.header(row + 1, ["File", "File id", "Received", "Rows for this week"])
    for line, f in enumerate(sources.files.iter_rows(named=True), start=row + 2):
        out.text(line, 0, f["source_file"])
        out.number(line, 1, f["file_id"], "0")
        out.when(line, 2, f["received_at"], "dd/mm/yyyy hh:mm")
        out.number(line, 3, f["rows"], "#,##0")
    out.sheet.freeze_panes(3, 0)
    for col, width in enumerate([28, 40, 60, 12, 12, 14, 14, 70]):
        out.sheet.set_column(col, col, width)


def to_xlsx(table: WeeklyTable, narratives: pl.DataFrame, sources: WeekSources) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        book.set_properties({"title": title(table.week_ending), "subject": "Weekly discharge position"})
        formats: dict[tuple, Format] = {}
        _position_sheet(_Sheet(book, "Weekly position", formats), table, narratives, sources)
        _data_sheet(_Sheet(book, "Data", formats), table, narratives)
        _definitions_sheet(_Sheet(book, "Definitions", formats), table, sources)
    return buffer.getvalue()
