"""The weekly narrative table as an Excel workbook (xlsxwriter).

Sheets: "Weekly position" (the Word pack's table, printed as it: each cell the figure as a real
number, as shown, with its marks in the number format and a red/amber/green fill; the key, the rows
left out and the narratives under it), "Data" (the CSV's tidy rows, numbers as numbers) and
"Definitions" (metric definitions, ambitions with their sources, the data as-at date and the source files).
"""
from __future__ import annotations

import io
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
from pipelines.reports.presentation import NHS_PALE_GREY, STATUS_FILL, TableCell, format_ambition, shown_figure
from pipelines.reports.weekly_table import SYSTEM_NAME, WeeklyTable, hidden_line

# Percentages are stored as fractions (39.2% as 0.392) so that Excel's percentage arithmetic works.
NUMBER_FORMATS: dict[str, str] = {Unit.PERCENT: "0{places}%", Unit.DAYS: "0{places}",
                                  Unit.PATIENTS: "#,##0{places}", Unit.LEVEL: "0{places}"}
HEADER = {"bold": True, "text_wrap": True, "bg_color": NHS_PALE_GREY, "border": 1, "align": "center",
          "valign": "vcenter"}
HEADER_ROW = 2  # under the title and the subtitle; the rows down to here stay frozen
# The first sheet is the Word pack's table: Metric, Ambition, Combined, then the trusts, a cell each
# ("92.1% ✗ ▼": the figure as a number, its marks in the number format), every row one line high.
WIDTHS = {"metric": 16, "ambition": 7, "trust": 10.5}  # "1,352, +11% ⬆" in a trust's column
TRUSTS_PER_PAGE = 14  # printed: Metric, Ambition and Combined on every page, then up to 14 trusts
A4_LANDSCAPE_PRINTABLE_PT = 841.9 - 2 * 0.4 * 72
# LibreOffice lays columns out up to a tenth wider than Excel's character widths say (Carlito for
# Calibri): the print scale leaves that room, so the 14th trust is never pushed onto a page of its own.
WIDTH_ROOM = 0.9
LINE_PT = 13  # a line of 10 pt text
ROW_PT = 18  # every metric row: one line and a little air


class _Sheet:
    """A worksheet that writes only typed cells: strings with ``write_string`` (never read as a
    formula) and numbers with ``write_number``. xlsxwriter needs each format made once per
    workbook, so formats are kept here by their properties."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, formats: dict[tuple, Format]) -> None:
        self.book, self.sheet, self._formats = book, book.add_worksheet(name), formats

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


def number_format(cell: TableCell, places: int) -> str:
    """The figure's format to the places shown, with the rest of the cell's text as a literal: the
    delays' change ('1,352, +1%') and the marks ('✗ ▼'), so one cell reads as the Word pack's."""
    unit = cell.catalogue.unit
    form = NUMBER_FORMATS[unit].format(places=f".{'0' * places}" if places else "")
    tail = cell.text.removeprefix(cell.figure()) + (f" {cell.marks}" if cell.marks else "")
    return form + (f'"{tail}"' if tail else "")


def _trust_cell(out: _Sheet, row: int, col: int, cell: TableCell | None) -> None:
    """The figure (a number, as shown) and its marks in one cell, filled by status; a trust without a
    figure gets the page's '–' (no submission) or 'n/r' (not reported)."""
    props = {"align": "center", "valign": "vcenter", "border": 1, "border_color": "#AEB7BD"}
    if cell is None or cell.value is None:
        out.text(row, col, cell.text if cell is not None else "–", **props)
        return
    figure, places = shown_figure(cell.value, cell.catalogue.decimals, cell.ambition)
    fill = {} if cell.status == "none" else {"bg_color": STATUS_FILL[cell.status]}
    value = figure / 100 if cell.catalogue.is_ratio else figure
    # Shrunk to fit rather than '###' where a long count and its marks outgrow the column.
    out.number(row, col, value, number_format(cell, places), bold=True, shrink=True, **props, **fill)


def _position_sheet(out: _Sheet, table: WeeklyTable, narratives: pl.DataFrame, sources: WeekSources) -> None:
    columns = [SYSTEM_NAME, *table.trusts["trust"]]  # the selected trusts combined first, as on the page
    last_col = 1 + len(columns)
    as_at = f"; data as at {sources.as_at:%d/%m/%Y %H:%M}" if sources.as_at else ""
    subtitle = f"{week_range(table.week_ending)}: {submitted(table)}{as_at}."
    out.text(0, 0, title(table.week_ending), bold=True, font_size=14)
    out.text(1, 0, subtitle)
    out.header(HEADER_ROW, ["Metric", "Ambition", *columns])
    sheet = out.sheet
    sheet.set_row(HEADER_ROW, LINE_PT * max(wrapped_lines(name, WIDTHS["trust"]) for name in columns))
    for row, line in enumerate(table.rows, start=HEADER_ROW + 1):
        out.text(row, 0, line.short_label, bold=True, valign="vcenter", border=1, border_color="#AEB7BD")
        out.text(row, 1, line.ambition if line.ambition != "none" else "–", align="center", valign="vcenter",
                 border=1, border_color="#AEB7BD")
        for j, cell in enumerate([line.system, *line.cells]):
            _trust_cell(out, row, 2 + j, cell)
        sheet.set_row(row, ROW_PT)
    sheet.freeze_panes(HEADER_ROW + 1, 3)
    sheet.set_column(0, 0, WIDTHS["metric"])
    sheet.set_column(1, 1, WIDTHS["ambition"])
    sheet.set_column(2, last_col, WIDTHS["trust"])
    # Under the table, across the first page's width: the key, the rows left out, then the narratives.
    page_cols = 2 + min(len(columns), 1 + TRUSTS_PER_PAGE)
    width = WIDTHS["metric"] + WIDTHS["ambition"] + (page_cols - 2) * WIDTHS["trust"]
    notes = [f"Key: {STATUS_KEY}", hidden_line(table.hidden)] + _narrative_lines(table, narratives)
    row = HEADER_ROW + 1 + len(table.rows)
    for text in (t for t in notes if t):
        sheet.merge_range(row, 0, row, page_cols - 1, text, out.format(text_wrap=True))
        sheet.set_row(row, LINE_PT * wrapped_lines(text, width))
        row += 1
    _print_setup(sheet, len(columns))
    # The title rows spill across the columns on screen; printed, they are the page's header and footer.
    sheet.print_area(HEADER_ROW, 0, row - 1, last_col)
    sheet.set_header(f"&L&\"-,Bold\"{_header_text(title(table.week_ending))}")
    sheet.set_footer(f"&L{_header_text(subtitle)}&RPage &P of &N")


def _narrative_lines(table: WeeklyTable, narratives: pl.DataFrame) -> list[str]:
    """'Narrative, G&A occupancy: ...' then the place leads' comments, as the Word pack lists them."""
    system = [f"Narrative, {row.short_label}: {text}" for row in table.rows
              if (text := narrative_text(narratives, row.metric))]
    comments = [f"{cell.name}, {row.short_label}: {text}" for row in table.rows for cell in row.cells
                if cell.org_code and (text := narrative_text(narratives, row.metric, cell.org_code))]
    return system + comments


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


def column_points(width: float) -> float:
    """A column's printed width in points: Excel's pixels for a width in characters of the default
    font (7 px a digit, 5 px padding), at 96 px to the inch."""
    return (int(width * 7 + 0.5) + 5) * 0.75


def _print_setup(sheet: Worksheet, columns: int) -> None:
    """Landscape A4 as the Word pack: Metric, Ambition and Combined on every page, then up to 14
    trusts, scaled so that a page of 14 fits the sheet's width (about 8 pt text)."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.set_margins(left=0.4, right=0.4)
    sheet.repeat_rows(HEADER_ROW)
    sheet.repeat_columns(0, 2)
    page = column_points(WIDTHS["metric"]) + column_points(WIDTHS["ambition"]) + \
        min(columns, 1 + TRUSTS_PER_PAGE) * column_points(WIDTHS["trust"])
    sheet.set_print_scale(min(100, int(100 * WIDTH_ROOM * A4_LANDSCAPE_PRINTABLE_PT / page)))
    sheet.set_v_pagebreaks(list(range(3 + TRUSTS_PER_PAGE, 2 + columns, TRUSTS_PER_PAGE)))


def _print_wide(sheet: Worksheet) -> None:
    """The later sheets (for analysis, not the paper) printed one page wide on landscape A4."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


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
    _print_wide(out.sheet)
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
    _print_wide(out.sheet)
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
