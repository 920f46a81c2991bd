"""The weekly narrative table as a Word document for a board paper (python-docx).

Landscape A4: a title with the week, the table with metrics as rows and trusts as columns (each
cell the home page's words, shaded pale red, amber or green by status) and the system narrative,
then the trusts' own comments and where the figures came from.
"""
from __future__ import annotations

import io

import polars as pl
from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell, _Row

from pipelines.reports.export_common import STATUS_KEY, WeekSources, submitted, table_lines, title, week_range
from pipelines.reports.narrative import narrative_text
from pipelines.reports.presentation import NHS_PALE_GREY, STATUS_FILL
from pipelines.reports.weekly_table import WeeklyTable

PAGE = (Mm(297), Mm(210))  # A4, landscape
MARGIN = Mm(12)
TABLE_FONT = Pt(7.5)
WIDTHS = {"metric": Mm(42), "ambition": Mm(14), "narrative": Mm(62)}  # the trusts share what is left


def _shade(cell: _Cell, colour: str) -> None:
    """Cell shading: python-docx has no API for it, so the w:shd element is written directly."""
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour.lstrip("#"))
    cell._tc.get_or_add_tcPr().append(shading)


def _write(cell: _Cell, text: str, bold: bool = False) -> None:
    """The text as a plain run in the table's small font (narratives keep their line breaks)."""
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.font.size = TABLE_FONT
    run.bold = bold


def _repeat_as_header(row: _Row) -> None:
    """Repeat the header row at the top of every page the table runs onto."""
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _table(document: WordDocument, table: WeeklyTable, narratives: pl.DataFrame) -> None:
    trusts = list(table.trusts["trust"])
    lines = table_lines(table)
    grid = document.add_table(rows=1 + len(lines), cols=3 + len(trusts))
    grid.style = "Table Grid"
    grid.autofit = False
    usable = PAGE[0] - 2 * MARGIN - WIDTHS["metric"] - WIDTHS["ambition"] - WIDTHS["narrative"]
    widths = [WIDTHS["metric"], WIDTHS["ambition"], *[usable // max(len(trusts), 1)] * len(trusts), WIDTHS["narrative"]]
    for cell, name in zip(grid.rows[0].cells, ["Metric", "Ambition", *trusts, "Narrative"]):
        _write(cell, name, bold=True)
        _shade(cell, NHS_PALE_GREY)
    _repeat_as_header(grid.rows[0])
    for row, line in zip(grid.rows[1:], lines):
        _write(row.cells[0], line.label, bold=True)
        _write(row.cells[1], line.ambition)
        for cell, trust in zip(row.cells[2:], line.cells):
            _write(cell, trust.text)
            if trust.status != "none":
                _shade(cell, STATUS_FILL[trust.status])
        _write(row.cells[-1], narrative_text(narratives, line.metric))
    for row in grid.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _trust_comments(document: WordDocument, table: WeeklyTable, narratives: pl.DataFrame) -> None:
    """The place leads' comments (trust-level narratives) of the week, by metric."""
    comments = [(line.label, cell.trust, text) for line in table_lines(table) for cell in line.cells
                if (text := narrative_text(narratives, line.metric, cell.org_code))]
    if not comments:
        return
    document.add_heading("Comments by trust", level=2)
    for label, trust, text in comments:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{trust}, {label}: ").bold = True
        paragraph.add_run(text)


def to_docx(table: WeeklyTable, narratives: pl.DataFrame, sources: WeekSources) -> bytes:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = MARGIN
    document.core_properties.title = title(table.week_ending)
    document.add_heading(title(table.week_ending), level=1)
    as_at = f" Data as at {sources.as_at:%d/%m/%Y %H:%M}." if sources.as_at else ""
    document.add_paragraph(f"{week_range(table.week_ending)}: {submitted(table)}.{as_at} {STATUS_KEY}")
    _table(document, table, narratives)
    _trust_comments(document, table, narratives)
    files = list(sources.files["source_file"])
    if files:
        note = document.add_paragraph(f"Source: daily sitrep files {', '.join(files)}.")
        for run in note.runs:
            run.font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
