"""The weekly table as a Word document for a board paper (python-docx).

Landscape A4, the same compact cells as the home page (value, then status symbol, change arrow and
SPC mark; shaded by status), the combined column beside the trusts, the header row repeated on
every page, 8 pt at least; the narratives and the place leads' comments follow as a section. Up to
14 trusts fit one page (tests/test_board_pack.py converts the file to PDF with LibreOffice to prove
it); more trusts continue on further pages, each with the metric and ambition columns.
"""
from __future__ import annotations

import io

import polars as pl
from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

from pipelines.reports.export_common import STATUS_KEY, WeekSources, submitted, title, week_range
from pipelines.reports.narrative import narrative_text
from pipelines.reports.presentation import NHS_PALE_GREY, SPC_COLOUR, STATUS_FILL, TableCell, spc_kind
from pipelines.reports.weekly_table import SYSTEM_NAME, MetricRow, WeeklyTable, hidden_line

PAGE = (Mm(297), Mm(210))  # A4, landscape
MARGIN = Mm(10)
TABLE_FONT = Pt(8)
# Named, not left to the template's theme: LibreOffice does not read a theme font and set the pack in a
# wide serif, so a converted pack (and the fits-one-page test) broke words that Word keeps whole.
# Calibri is Word's own default; LibreOffice uses its metric twin Carlito (fonts-crosextra-carlito).
FONT = "Calibri"
# "Ambition" in bold 8 pt Calibri is 11 mm, plus the cell margins: at 11 mm it broke as "Ambit / ion".
WIDTHS = {"metric": Mm(28), "ambition": Mm(13)}  # the combined and trust columns share what is left
# A column's share of what is left grows with the longest word of its name (at least this many characters,
# the width of a cell's "1,352, +1%"): "Huddersfield" gets room to stay whole where "Hull" needs none.
MIN_WORD_CHARS = 9
COLUMNS_PER_TABLE = 15  # the combined column and 14 trusts: one landscape page (tests/test_board_pack.py)


def _shade(cell: _Cell, colour: str) -> None:
    """Cell shading: python-docx has no API for it, so the w:shd element is written directly."""
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour.lstrip("#"))
    cell._tc.get_or_add_tcPr().append(shading)


def _write(cell: _Cell, text: str, bold: bool = False, centre: bool = False) -> Paragraph:
    """The text as a plain run in the table's font (narratives keep their line breaks)."""
    paragraph = cell.paragraphs[0] if not cell.paragraphs[0].runs else cell.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    if centre:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, text, bold)
    return paragraph


def _run(paragraph: Paragraph, text: str, bold: bool, colour: str = "") -> None:
    run = paragraph.add_run(text)
    run.font.size = TABLE_FONT
    run.bold = bold
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))


def _repeat_as_header(row: _Row) -> None:
    """Repeat the header row at the top of every page the table runs onto."""
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _cell(out: _Cell, cell: TableCell | None) -> None:
    """The page's compact cell: the figure, then its marks (``TableCell.marks``), the SPC mark in its
    colour on the pale fills (▲ improvement, ▼ concern: told apart by shape too); shaded by status."""
    if cell is None:
        _write(out, "–", centre=True)
        return
    _write(out, cell.text, bold=True, centre=True)
    if cell.marks:
        colour = SPC_COLOUR.get(spc_kind(cell.variation), "") if cell.status in ("green", "none") else ""
        line = _write(out, "", centre=True)
        for i, mark in enumerate(cell.marks.split()):
            _run(line, f"{' ' * bool(i)}{mark}", bold=True, colour=colour if mark == cell.spc_mark else "")
    if cell.value is not None and cell.status != "none":
        _shade(out, STATUS_FILL[cell.status])


def _table(document: WordDocument, table: WeeklyTable) -> None:
    """The combined column and the trusts, at most ``COLUMNS_PER_TABLE`` to a page: a region of 40
    trusts is three readable pages, not one page of columns a letter wide."""
    rows = table.rows
    columns = ([(SYSTEM_NAME, [r.system for r in rows])] if any(r.system for r in rows) else []) + [
        (name, [r.cells[j] for r in rows]) for j, name in enumerate(table.trusts["trust"])]
    for start in range(0, max(len(columns), 1), COLUMNS_PER_TABLE):
        if start:
            document.add_page_break()
        _grid(document, rows, columns[start:start + COLUMNS_PER_TABLE])


def _grid(document: WordDocument, rows: list[MetricRow],
          columns: list[tuple[str, list[TableCell | None]]]) -> None:
    names = ["Metric", "Ambition", *(name for name, _ in columns)]
    grid = document.add_table(rows=1 + len(rows), cols=len(names))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    _narrow_margins(grid)
    widths = [WIDTHS["metric"], WIDTHS["ambition"], *_shares(names[2:])]
    for cell, name in zip(grid.rows[0].cells, names, strict=False):
        _write(cell, name, bold=name in ("Metric", "Ambition", SYSTEM_NAME), centre=name != "Metric")
        _shade(cell, NHS_PALE_GREY)
    _repeat_as_header(grid.rows[0])
    for i, (out, row) in enumerate(zip(grid.rows[1:], rows, strict=False)):
        _write(out.cells[0], row.short_label, bold=True)
        _write(out.cells[1], row.ambition if row.ambition != "none" else "–", centre=True)
        for target, (_, cells) in zip(out.cells[2:], columns, strict=False):
            _cell(target, cells[i])
    for column, width in zip(grid.columns, widths, strict=False):
        column.width = width  # the table grid: what LibreOffice and Word lay out by
    for row in grid.rows:
        keep_together = OxmlElement("w:cantSplit")  # a row never breaks across pages
        keep_together.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(keep_together)
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width


def _shares(names: list[str]) -> list[int]:
    """The combined and trust columns' widths (EMU), sharing the page's width by their longest word."""
    usable = PAGE[0] - 2 * MARGIN - WIDTHS["metric"] - WIDTHS["ambition"]
    longest = [max(MIN_WORD_CHARS, *(len(word) for word in name.split())) for name in names]
    return [usable * chars // sum(longest) for chars in longest]


def _narrow_margins(grid: Table) -> None:
    """Cell margins of 0.7 mm instead of Word's 1.9 mm: with 15 columns that is most of a column."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "40")  # twentieths of a point
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    # In the schema's order (before tblLook): Word and LibreOffice ignore a tblCellMar placed after it.
    look = grid._tbl.tblPr.find(qn("w:tblLook"))
    if look is None:
        grid._tbl.tblPr.append(margins)
    else:
        look.addprevious(margins)


def _small(document: WordDocument, text: str, bold_head: str = "") -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(2)
    if bold_head:
        head = paragraph.add_run(bold_head)
        head.bold = True
        head.font.size = Pt(9)
    run = paragraph.add_run(text)
    run.font.size = Pt(9)


def _narratives(document: WordDocument, table: WeeklyTable, narratives: pl.DataFrame) -> None:
    """The system narratives, then the place leads' comments (trust-level narratives), by metric."""
    system = [(row.label, text) for row in table.rows if (text := narrative_text(narratives, row.metric))]
    comments = [(row.label, cell.name, text) for row in table.rows for cell in row.cells
                if cell.org_code and (text := narrative_text(narratives, row.metric, cell.org_code))]
    if system:
        document.add_heading("Narrative", level=2)
        for label, text in system:
            _small(document, text, f"{label}: ")
    if comments:
        document.add_heading("Comments by trust (place leads)", level=2)
        for label, trust, text in comments:
            _small(document, text, f"{trust}, {label}: ")


def to_docx(table: WeeklyTable, narratives: pl.DataFrame, sources: WeekSources) -> bytes:
    document = Document()
    for style in ("Normal", "Heading 1", "Heading 2"):
        document.styles[style].font.name = FONT
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = MARGIN
    document.core_properties.title = title(table.week_ending)
    heading = document.add_heading(title(table.week_ending), level=1)
    heading.paragraph_format.space_before = Pt(0)
    as_at = f" Data as at {sources.as_at:%d/%m/%Y %H:%M}." if sources.as_at else ""
    _small(document, f"{week_range(table.week_ending)}: {submitted(table)}.{as_at} {STATUS_KEY}")
    _table(document, table)
    if table.hidden:
        _small(document, hidden_line(table.hidden))
    _narratives(document, table, narratives)
    files = list(sources.files["source_file"])
    if files:
        _small(document, f"Source: daily sitrep files {', '.join(files)}.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
