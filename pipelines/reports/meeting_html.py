"""The weekly table as real HTML (text in the page, not a canvas): metrics as rows and trusts as
columns (or trusts as rows), each cell a link to the trust's drill-down with its long words as a
tooltip and accessible name.

Hand-built rather than with great-tables: great-tables escapes body text (good) but per-cell links,
tooltips and aria labels would mean passing raw HTML into every cell, bypassing that escaping, and a
pinned first column needs our own CSS anyway. So every text from a file or a user goes through
``html.escape`` here, in one place (``_e``), and the markup around it is ours.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

from pipelines.reports.presentation import (
    KEY_TEXT,
    NHS_INK,
    SPC_COLOUR,
    STATUS_FILL,
    TableCell,
    format_value,
    spc_kind,
)
from pipelines.reports.weekly_table import SYSTEM_NAME, MetricRow, hidden_line

INK = NHS_INK  # NHS black: body text, at least 4.5:1 on every status fill
LINK = "#003087"  # NHS dark blue
METRIC_COLUMN_PX, AMBITION_COLUMN_PX, MIN_CELL_PX, NOTE_COLUMN_PX = 124, 58, 56, 100
SYSTEM_COLUMN_PX = 80  # Combined, among squeezed columns: room for the system's "1,352, +1%" on one line
# A few trusts on a wide screen: columns no wider than this, so the eye does not cross 400 px of white
# from a metric's name to its figures (a group of four at 1920 px wide).
MAX_CELL_PX = 150
# Up to 14 cells a row (13 trusts and Combined) squeeze into a laptop's width (1366 px). Wider tables
# scroll sideways instead, each column as wide as its header's longest word, and scroll inside a box
# of the window's height so that the header row stays in view.
SQUEEZE_COLUMNS = 15
HEADER_CHAR_PX = 7  # a header character at 0.75rem semibold, with room for wide letters ("m", "W")
# A projected screen (1366 x 768 read from the back of a room): figures 14 px, marks and headers 12 px,
# and every metric row, the header row and the key inside the first screen (tests/test_e2e_meeting_screen.py).
STREAMLIT_HEADER = "3.75rem"  # Streamlit's own bar across the top: the pinned header row stops under it
def _e(text: object) -> str:
    return escape(str(text), quote=True)


def drilldown_href(org_code: str, metric: str | None = None, group: str | None = None) -> str:
    """The trust page's address, relative to the app root: 'trust?trust=RCD&metric=...&group=...', the
    discharge group carried so that the drill-down shows that group's place-lead comments."""
    return "trust?" + urlencode({"trust": org_code, **({"metric": metric} if metric else {}),
                                 **({"group": group} if group else {})})


STYLE = f"""<style>
.wt-wrap {{ max-width: 100%; }}
.wt {{ border-collapse: separate; border-spacing: 0; table-layout: fixed; width: 100%; font-size: 0.875rem;
  color: {INK}; }}
.wt th, .wt td {{ border: 0 solid #AEB7BD; border-width: 0 1px 1px 0; padding: 1px 2px; vertical-align: middle; }}
.wt tr > :first-child {{ border-left-width: 1px; }}
.wt thead th {{ border-top-width: 1px; background: #E8EDEE; font-weight: 600; font-size: 0.75rem; line-height: 1.1;
  text-align: center; overflow-wrap: break-word; hyphens: auto; }}  /* "Scarbor-ough", not "Scarborou / gh" */
/* The header row stays in view as the page scrolls: Streamlit's main area is the scroller, and its bar
   covers the top 3.75rem. A table too wide for the window scrolls in its own box instead (.wt-scroll). */
.wt thead th {{ position: sticky; top: {STREAMLIT_HEADER}; z-index: 2; }}
.wt-scroll {{ max-height: calc(100vh - 5rem); overflow: auto; }}
.wt-scroll .wt thead th {{ top: 0; }}
.wt-scroll .wt thead th:first-child, .wt-scroll .wt tbody th {{ position: sticky; left: 0; z-index: 1; }}
.wt-scroll .wt thead th:first-child {{ z-index: 3; }}
.wt thead th:first-child, .wt tbody th {{ text-align: left; }}
.wt tbody th {{ background: #FFFFFF; font-weight: 600; line-height: 1.1; }}
.wt td {{ text-align: center; white-space: nowrap; }}
.wt td.wt-amb {{ font-size: 0.75rem; }}
{"".join(f".wt td.st-{status} {{ background: {fill}; }}" for status, fill in STATUS_FILL.items())}
.wt .wt-sys {{ border-left: 2px solid {INK}; border-right: 2px solid {INK}; }}
.wt a {{ color: {LINK}; text-decoration: none; }}
/* A trust's name links to its drill-down: the link fills its header cell, at least 24 px high (WCAG 2.5.8). */
.wt th a {{ display: flex; align-items: center; min-height: 24px; }}
.wt thead th a {{ justify-content: center; }}
.wt thead th:first-child a {{ justify-content: flex-start; }}
.wt a:hover, .wt a:focus-visible {{ text-decoration: underline; }}
.wt :is(a, [tabindex]):focus-visible {{ outline: 3px solid #FFB81C; outline-offset: -1px;
  box-shadow: 0 0 0 4px {INK}; }}
/* A cell: the figure on its own line, then the marks (status, SPC, days) at 12 px. */
.wt .wt-cell {{ display: block; color: {INK}; font-size: 0.75rem; line-height: 1; font-weight: 700; }}
.wt .v {{ display: block; font-size: 0.875rem; line-height: 1.1; white-space: normal; }}
{"".join(f".wt-spc-{kind} {{ color: {colour}; }}" for kind, colour in SPC_COLOUR.items())}
/* The triangles and arrows are small glyphs: drawn at 16 px, in the marks' line height, so the rows stay
   as tall. The change's arrow is in ink: a week on the last is a word beside the status, not a signal. */
.wt :is([class^="wt-spc-"], .wt-chg) {{ font-size: 1rem; line-height: 0.75rem; }}
.wt td:is(.st-red, .st-amber) [class^="wt-spc-"] {{ color: {INK}; }}  /* blue or orange: too faint on these fills */
.wt .wt-site {{ font-size: 0.75rem; font-weight: 400; }}
/* With the narrative column the trusts' columns are narrower: their names in regular weight stay whole. */
.wt-notes thead th {{ font-weight: 400; }}
.wt td.wt-note {{ white-space: normal; text-align: left; font-size: 0.75rem; line-height: 1.1; }}
.wt .wt-note-text {{ display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; }}
.wt .wt-note-text:is(:focus, :hover) {{ -webkit-line-clamp: unset; }}
.wt-key {{ font-size: 0.75rem; line-height: 1.3; color: {INK}; margin: 0.15rem 0 0 0; }}
@media print {{
  .wt-wrap, .wt-scroll {{ overflow: visible; max-height: none; }}
  .wt {{ min-width: 0 !important; font-size: 8pt; }}
  .wt col.wt-c {{ width: auto !important; }}  /* the sheet's width shared, as the screen's is up to 14 columns */
  .wt thead th, .wt .wt-cell, .wt td.wt-amb {{ font-size: 7pt; position: static; }}
  .wt .v {{ font-size: 8pt; }}
  .wt td, .wt th {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  .wt .wt-note-text {{ -webkit-line-clamp: unset; }}  /* on paper the whole narrative */
}}
</style>"""


def _spc_mark(cell: TableCell) -> str:
    if not (mark := cell.spc_mark):
        return ""
    return f'<span class="wt-spc-{spc_kind(cell.variation)}">{_e(mark)}</span>'


def _change_mark(cell: TableCell) -> str:
    """The change's arrow, asked for as text (U+FE0E): some systems draw a heavy arrow as a colour emoji."""
    return f'<span class="wt-chg">{_e(mark)}\ufe0e</span>' if (mark := cell.change_mark) else ""


def _marks(cell: TableCell) -> str:
    """The second line: status symbol, change on last week, SPC mark and a part week, as
    ``TableCell.marks`` in plain text."""
    parts = [_e(cell.symbol), _change_mark(cell), _spc_mark(cell)]
    if cell.value is not None and cell.days_with_data < 7:
        parts.append(f"{cell.days_with_data}d")
    return " ".join(p for p in parts if p)


# Every rerun of the weekly page draws the table again from the same cells (each click, each widget): their
# HTML is kept, so a rerun costs a look-up per cell, not its details, marks and link (a 10-trust table's
# 182 cells took 36 ms of a 150 ms rerun, profiled). Cells are frozen, so equal cells give equal HTML; 4,096
# holds the national table (140 trusts x 16 metrics) with room to spare.
@lru_cache(maxsize=4096)
def cell_html(cell: TableCell, comment: str = "", group: str | None = None) -> str:
    """A ``<td>``: filled by status, a link to the drill-down (trust cells, in ``group``) carrying the details."""
    details = cell.details + (f" {comment}" if comment else "")
    status = cell.status if cell.value is not None else "none"
    system = " wt-sys" if cell.org_code is None else ""
    marks = _marks(cell) + (' <span aria-hidden="true">✎</span>' if comment else "")
    body = f'<span class="v">{_e(cell.text)}</span>{marks or "&nbsp;"}'
    # The link's name is what the cell shows (WCAG 2.5.3, label in name); the long words are its
    # title, which is also its accessible description. Kept this lean: 140 trusts make 2,240 cells.
    if cell.org_code is None:
        inner = f'<span class="wt-cell" tabindex="0" title="{_e(details)}">{body}</span>'
    else:
        href = drilldown_href(cell.org_code, cell.metric, group)
        inner = f'<a class="wt-cell" href="{_e(href)}" title="{_e(details)}">{body}</a>'
    return f'<td class="st-{status}{system}">{inner}</td>'


def _comment(comments: dict[tuple[str, str | None], str], metric: str, org_code: str | None) -> str:
    return comments.get((metric, org_code), "")


def table_html(rows: list[MetricRow], trusts: list[tuple[str, str]], orientation: str = "columns",
               comments: dict[tuple[str, str | None], str] | None = None, caption: str = "",
               notes: dict[str, str] | None = None, hidden: Sequence[str] = (), group: str | None = None) -> str:
    """The whole table with its style and one-line key. ``trusts``: (org_code, short name) in column
    order. ``comments``: (metric, org_code or None) -> 'Place lead's comment (author): text', added to
    the cell's details and marked ✎. ``orientation``: 'columns' (trusts as columns) or 'rows'.
    ``notes``: metric -> the discharge group's narrative, shown as a last column (trusts as columns;
    None: no column). ``hidden``: the labels of the rows left out for having no figures. ``group``: the
    discharge group (``?group=``) the drill-down links carry."""
    comments = comments or {}
    has_system = any(r.system for r in rows)
    caption_html = f'<caption style="caption-side:top;text-align:left;font-size:0.75rem">{_e(caption)}</caption>' \
        if caption else ""
    extra, max_width, big = 0, "", scrolls(rows, trusts)
    if orientation == "rows":
        # the metrics' short labels as headers: whole words always ("occupanc / y" was unreadable)
        widths = [whole_word_px(f"{r.short_label} {r.ambition}") for r in rows]
        body = _trusts_as_rows(rows, trusts, comments, has_system, widths, group)
    else:
        names = ([SYSTEM_NAME] if has_system else []) + [name for _, name in trusts]
        widths = [whole_word_px(name) for name in names] if big else [MIN_CELL_PX] * len(names)
        body = _trusts_as_columns(rows, trusts, comments, has_system, widths if big else None, notes, group)
        extra = AMBITION_COLUMN_PX + (NOTE_COLUMN_PX if notes is not None else 0)
        if not big:
            max_width = f"max-width:{METRIC_COLUMN_PX + extra + SYSTEM_COLUMN_PX + MAX_CELL_PX * len(trusts)}px;"
    min_width = METRIC_COLUMN_PX + extra + sum(widths)
    wrap = "wt-wrap wt-scroll" if big else "wt-wrap"
    return (f'{STYLE}<div class="{wrap}" role="region" aria-label="Weekly position table" tabindex="0">'
            f'<table class="wt{" wt-notes" * (notes is not None)}" lang="en-GB" '
            f'style="min-width:{min_width}px;{max_width}">'
            f'{caption_html}{body}</table></div>'
            f"{key_html()}{hidden_html(hidden)}")


def scrolls(rows: list[MetricRow], trusts: list[tuple[str, str]]) -> bool:
    """Whether the table has more columns of figures (trusts and Combined) than squeeze into a laptop's width,
    so that it scrolls in a box of its own."""
    return len(trusts) + any(r.system for r in rows) > SQUEEZE_COLUMNS


def whole_word_px(header: str) -> int:
    """A column's width in pixels that keeps every word of its header whole (a word may still
    break after a hyphen), at least MIN_CELL_PX."""
    longest = max((len(word) for word in re.split(r"\s+|(?<=-)", header)), default=0)
    return max(MIN_CELL_PX, longest * HEADER_CHAR_PX + 8)


def _cols(widths: list[int] | None, count: int) -> str:
    return "".join(f'<col class="wt-c" style="width:{w}px">' for w in widths) if widths else "<col>" * count


def _trust_link(code: str, name: str, group: str | None) -> str:
    return f'<a href="{_e(drilldown_href(code, group=group))}" target="_self">{_e(name)}</a>'


def _trusts_as_columns(rows: list[MetricRow], trusts: list[tuple[str, str]],
                       comments: dict[tuple[str, str | None], str], has_system: bool, widths: list[int] | None,
                       notes: dict[str, str] | None, group: str | None) -> str:
    squeezed_system = has_system and widths is None
    cols = (f'<col style="width:{METRIC_COLUMN_PX}px"><col style="width:{AMBITION_COLUMN_PX}px">'
            + (f'<col style="width:{SYSTEM_COLUMN_PX}px">' if squeezed_system else "")
            + _cols(widths, len(trusts) + has_system - squeezed_system)
            + (f'<col style="width:{NOTE_COLUMN_PX}px">' if notes is not None else ""))
    head = ['<th scope="col">Metric</th>', '<th scope="col">Ambition</th>']
    if has_system:
        head.append(f'<th scope="col" class="wt-sys" title="The selected trusts combined: the system figure">'
                    f'{_e(SYSTEM_NAME)}</th>')
    head += [f'<th scope="col">{_trust_link(code, name, group)}</th>' for code, name in trusts]
    if notes is not None:
        head.append('<th scope="col">Narrative</th>')
    lines = []
    for row in rows:
        cells = [f'<th scope="row" title="{_e(row.label)}">{_e(row.short_label)}</th>',
                 f'<td class="wt-amb">{_e(row.ambition if row.ambition != "none" else "–")}</td>']
        if has_system:
            cells.append(cell_html(row.system, _comment(comments, row.metric, None)) if row.system
                         else '<td class="wt-sys">–</td>')
        cells += [cell_html(cell, _comment(comments, row.metric, cell.org_code), group) for cell in row.cells]
        if notes is not None:
            cells.append(note_html(row, notes.get(row.metric, "")))
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return f"<colgroup>{cols}</colgroup><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(lines)}</tbody>"


def _trusts_as_rows(rows: list[MetricRow], trusts: list[tuple[str, str]],
                    comments: dict[tuple[str, str | None], str], has_system: bool, widths: list[int],
                    group: str | None) -> str:
    cols = f'<col style="width:{METRIC_COLUMN_PX}px">' + _cols(widths, len(rows))
    head = ['<th scope="col">Trust</th>'] + [
        f'<th scope="col" title="{_e(r.label)}. Ambition: {_e(r.ambition)}">{_e(r.short_label)}'
        f'<br><span style="font-weight:400">{_e(r.ambition if r.ambition != "none" else "")}</span></th>' for r in rows]
    lines = []
    if has_system:
        cells = [f'<th scope="row" class="wt-sys">{_e(SYSTEM_NAME)}</th>']
        cells += [cell_html(r.system, _comment(comments, r.metric, None)) if r.system else "<td>–</td>" for r in rows]
        lines.append(f"<tr>{''.join(cells)}</tr>")
    for j, (code, name) in enumerate(trusts):
        cells = [f'<th scope="row">{_trust_link(code, name, group)}</th>']
        cells += [cell_html(r.cells[j], _comment(comments, r.metric, code), group) for r in rows]
        lines.append(f"<tr>{''.join(cells)}</tr>")
        lines += _site_rows([r.cells[j] for r in rows])
    return f"<colgroup>{cols}</colgroup><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(lines)}</tbody>"


def _site_rows(cells: list[TableCell]) -> list[str]:
    """Under a trust that submits per site, a row per site with its figures (named from sites.csv)."""
    sites = list(dict.fromkeys(name for cell in cells for name, _ in cell.sites))
    lines = []
    for site in sites:
        figures = []
        for cell in cells:
            value = dict(cell.sites).get(site)
            metric = cell.catalogue
            text = format_value(value, metric.unit, metric.decimals) if value is not None else "–"
            figures.append(f'<td class="wt-site">{_e(text)}</td>')
        lines.append(f'<tr><th scope="row" class="wt-site">↳ {_e(site)}</th>{"".join(figures)}</tr>')
    return lines


def note_html(row: MetricRow, text: str) -> str:
    """The narrative's cell: two lines of it, the whole text on hover or keyboard focus (and in print);
    the whole text is in the page, so a screen reader reads all of it."""
    if not text:
        return '<td class="wt-note"></td>'
    return (f'<td class="wt-note"><span class="wt-note-text" tabindex="0" '
            f'title="{_e(row.short_label)}: {_e(text)}">{_e(text)}</span></td>')


def key_html() -> str:
    """The table's legend in one line: what the fills and marks mean (the packs print the same words)."""
    return f'<p class="wt-key">Key: {_e(KEY_TEXT)}; ✎ a comment. Hover a cell for its words.</p>'


def hidden_html(hidden: Sequence[str]) -> str:
    """'Not shown: no figures for these trusts: Pathway 2, LA OPEL.' ('' when every row is shown)."""
    return f'<p class="wt-key">{_e(hidden_line(hidden))}</p>' if hidden else ""
