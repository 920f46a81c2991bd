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
from html import escape
from urllib.parse import urlencode

from pipelines.reports.presentation import SPC_MARK, STATUS_FILL, TableCell, format_value, spc_kind
from pipelines.reports.weekly_table import SYSTEM_NAME, MetricRow

INK = "#212B32"  # NHS black: body text, at least 4.5:1 on every status fill
BETTER_INK = "#004220"  # dark green, for a change that is better
WORSE_INK = "#6E0F2C"  # dark red, for a change that is worse
LINK = "#003087"  # NHS dark blue
SPC_BADGE = {"improvement": ("#005EB8", "#FFFFFF"), "concern": ("#ED8B00", INK), "common": ("transparent", INK)}
METRIC_COLUMN_PX, AMBITION_COLUMN_PX, MIN_CELL_PX = 124, 58, 56
# Up to 14 cells a row (13 trusts and Combined) squeeze into a laptop's width (1366 px). Wider tables
# scroll sideways instead, each column as wide as its header's longest word, and scroll inside a box
# of the window's height so that the header row stays in view.
SQUEEZE_COLUMNS = 14
HEADER_CHAR_PX = 7  # a header character at 0.72rem semibold, with room for wide letters ("m", "W")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def drilldown_href(org_code: str, metric: str | None = None) -> str:
    """The trust page's address, relative to the app root: 'trust?trust=RCD&metric=...'."""
    return "trust?" + urlencode({"trust": org_code, **({"metric": metric} if metric else {})})


STYLE = f"""<style>
.wt-wrap {{ overflow-x: auto; max-width: 100%; }}
.wt {{ border-collapse: collapse; table-layout: fixed; width: 100%; font-size: 0.8rem; color: {INK}; }}
.wt th, .wt td {{ border: 1px solid #AEB7BD; padding: 2px 3px; vertical-align: middle; }}
.wt thead th {{ background: #E8EDEE; font-weight: 600; font-size: 0.72rem; line-height: 1.15; text-align: center;
  overflow-wrap: break-word; hyphens: auto; }}  /* "Scarbor-ough", not "Scarborou / gh" */
.wt thead th:first-child, .wt tbody th {{ position: sticky; left: 0; z-index: 1; text-align: left; }}
.wt thead th {{ position: sticky; top: 0; z-index: 2; }}
.wt thead th:first-child {{ z-index: 3; }}
.wt-scroll {{ max-height: calc(100vh - 5rem); overflow: auto; }}
.wt tbody th {{ background: #FFFFFF; font-weight: 600; }}
.wt td {{ text-align: center; white-space: nowrap; }}
.wt td.wt-amb {{ font-size: 0.75rem; }}
{"".join(f".wt td.st-{status} {{ background: {fill}; }}" for status, fill in STATUS_FILL.items())}
.wt .wt-sys {{ border-left: 2px solid {INK}; border-right: 2px solid {INK}; }}
.wt a {{ color: {LINK}; text-decoration: none; }}
.wt a:hover, .wt a:focus-visible {{ text-decoration: underline; }}
.wt a:focus-visible {{ outline: 3px solid #FFB81C; outline-offset: -1px; box-shadow: 0 0 0 4px {INK}; }}
/* A cell: the value on its own line, then the marks in small type (bare text: 2,240 cells for 140 trusts). */
.wt .wt-cell {{ display: block; color: {INK}; font-size: 0.72rem; line-height: 1.1; }}
.wt .v {{ display: block; font-size: 0.8rem; line-height: 1.6; font-weight: 600; white-space: normal; }}
.wt .better {{ color: {BETTER_INK}; font-weight: 700; }}
.wt .worse {{ color: {WORSE_INK}; font-weight: 700; }}
.wt .spc {{ display: inline-block; min-width: 1.1em; border-radius: 0.6em; padding: 0 2px; font-weight: 700; }}
{"".join(f".spc-{kind} {{ background: {background}; color: {ink}; }}" for kind, (background, ink) in SPC_BADGE.items())}
.wt .note {{ font-weight: 700; }}
.wt .wt-site {{ font-size: 0.72rem; font-weight: 400; }}
@media print {{
  .wt-wrap {{ overflow: visible; max-height: none; }}
  .wt {{ min-width: 0 !important; font-size: 7pt; }}
  .wt col.wt-c {{ width: auto !important; }}  /* the sheet's width shared, as the screen's is up to 14 columns */
  .wt thead th {{ font-size: 7pt; }}  /* a landscape A4 sheet is narrower than a laptop: names stay whole */
  .wt td, .wt th {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
}}
.wt-key {{ font-size: 0.8rem; color: {INK}; margin: 0.2rem 0 0.4rem 0; }}
.wt-key .spc {{ display: inline-block; min-width: 1.1em; border-radius: 0.6em; padding: 0 2px; font-weight: 700;
  text-align: center; }}
</style>"""


def _spc_badge(kind: str, mark: str) -> str:
    if not kind or not mark:
        return ""
    return f'<span class="spc spc-{kind}">{_e(mark)}</span>'


def _marks(cell: TableCell) -> str:
    """The small second line: status symbol, change arrow, SPC mark, part-week and comment notes."""
    parts = [_e(cell.symbol)] if cell.symbol else []
    if mark := cell.change_mark:
        parts.append(f'<span class="{cell.change_direction}">{mark}</span>')
    parts.append(_spc_badge(spc_kind(cell.variation), SPC_MARK.get(cell.variation or "", "")))
    if cell.value is not None and cell.days_with_data < 7:
        parts.append(f"{cell.days_with_data}d")
    return " ".join(p for p in parts if p)


def cell_html(cell: TableCell, comment: str = "") -> str:
    """A ``<td>``: filled by status, a link to the drill-down (trust cells) carrying the details."""
    details = cell.details + (f" {comment}" if comment else "")
    status = cell.status if cell.value is not None else "none"
    system = " wt-sys" if cell.org_code is None else ""
    marks = _marks(cell) + (' <span class="note" aria-hidden="true">✎</span>' if comment else "")
    body = f'<span class="v">{_e(cell.text)}</span>{marks or "&nbsp;"}'
    # The link's name is what the cell shows (WCAG 2.5.3, label in name); the long words are its
    # title, which is also its accessible description. Kept this lean: 140 trusts make 2,240 cells.
    if cell.org_code is None:
        inner = f'<span class="wt-cell" tabindex="0" title="{_e(details)}">{body}</span>'
    else:
        href = drilldown_href(cell.org_code, cell.metric)
        inner = f'<a class="wt-cell" href="{_e(href)}" title="{_e(details)}">{body}</a>'
    return f'<td class="st-{status}{system}">{inner}</td>'


def _comment(comments: dict[tuple[str, str | None], str], metric: str, org_code: str | None) -> str:
    return comments.get((metric, org_code), "")


def table_html(rows: list[MetricRow], trusts: list[tuple[str, str]], orientation: str = "columns",
               comments: dict[tuple[str, str | None], str] | None = None, caption: str = "") -> str:
    """The whole table with its style. ``trusts``: (org_code, short name) in column order.
    ``comments``: (metric, org_code or None) -> 'Place lead's comment (author): text', added to
    the cell's details and marked ✎. ``orientation``: 'columns' (trusts as columns) or 'rows'."""
    comments = comments or {}
    has_system = any(r.system for r in rows)
    caption_html = f'<caption style="caption-side:top;text-align:left;font-size:0.8rem">{_e(caption)}</caption>' \
        if caption else ""
    if orientation == "rows":
        # the metrics' short labels as headers: whole words always ("occupanc / y" was unreadable)
        widths = [whole_word_px(f"{r.short_label} {r.ambition}") for r in rows]
        body = _trusts_as_rows(rows, trusts, comments, has_system, widths)
        big = len(trusts) > SQUEEZE_COLUMNS
    else:
        names = ([SYSTEM_NAME] if has_system else []) + [name for _, name in trusts]
        big = len(names) > SQUEEZE_COLUMNS
        widths = [whole_word_px(name) for name in names] if big else [MIN_CELL_PX] * len(names)
        body = _trusts_as_columns(rows, trusts, comments, has_system, widths if big else None)
    min_width = METRIC_COLUMN_PX + (AMBITION_COLUMN_PX if orientation != "rows" else 0) + sum(widths)
    wrap = "wt-wrap wt-scroll" if big else "wt-wrap"
    return (f'{STYLE}<div class="{wrap}" role="region" aria-label="Weekly position table" tabindex="0">'
            f'<table class="wt" lang="en-GB" style="min-width:{min_width}px">{caption_html}{body}</table></div>')


def whole_word_px(header: str) -> int:
    """A column's width in pixels that keeps every word of its header whole (a word may still
    break after a hyphen), at least MIN_CELL_PX."""
    longest = max((len(word) for word in re.split(r"\s+|(?<=-)", header)), default=0)
    return max(MIN_CELL_PX, longest * HEADER_CHAR_PX + 8)


def _cols(widths: list[int] | None, count: int) -> str:
    return "".join(f'<col class="wt-c" style="width:{w}px">' for w in widths) if widths else "<col>" * count


def _trust_header(code: str, name: str) -> str:
    return f'<th scope="col"><a href="{_e(drilldown_href(code))}" target="_self">{_e(name)}</a></th>'


def _trusts_as_columns(rows: list[MetricRow], trusts: list[tuple[str, str]],
                       comments: dict[tuple[str, str | None], str], has_system: bool, widths: list[int] | None) -> str:
    cols = (f'<col style="width:{METRIC_COLUMN_PX}px"><col style="width:{AMBITION_COLUMN_PX}px">'
            + _cols(widths, len(trusts) + has_system))
    head = ['<th scope="col">Metric</th>', '<th scope="col">Ambition</th>']
    if has_system:
        head.append(f'<th scope="col" class="wt-sys" title="The selected trusts combined: the system figure">'
                    f'{_e(SYSTEM_NAME)}</th>')
    head += [_trust_header(code, name) for code, name in trusts]
    lines = []
    for row in rows:
        cells = [f'<th scope="row" title="{_e(row.label)}">{_e(row.short_label)}</th>',
                 f'<td class="wt-amb">{_e(row.ambition if row.ambition != "none" else "–")}</td>']
        if has_system:
            cells.append(cell_html(row.system, _comment(comments, row.metric, None)) if row.system
                         else '<td class="wt-sys">–</td>')
        cells += [cell_html(cell, _comment(comments, row.metric, cell.org_code)) for cell in row.cells]
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return f"<colgroup>{cols}</colgroup><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(lines)}</tbody>"


def _trusts_as_rows(rows: list[MetricRow], trusts: list[tuple[str, str]],
                    comments: dict[tuple[str, str | None], str], has_system: bool, widths: list[int]) -> str:
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
        cells = [f'<th scope="row"><a href="{_e(drilldown_href(code))}" target="_self">{_e(name)}</a></th>']
        cells += [cell_html(r.cells[j], _comment(comments, r.metric, code)) for r in rows]
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


def key_html() -> str:
    """One line saying what the marks mean (the table's legend)."""
    return (f'<p class="wt-key">Fill and symbol: ✓ meets the ambition, ! just misses, ✗ misses. '
            f'Change on last week: <span style="color:{BETTER_INK};font-weight:700">↑ ↓</span> better, '
            f'<span style="color:{WORSE_INK};font-weight:700">▲ ▼</span> worse. '
            f'SPC: {_spc_badge("improvement", "H")} {_spc_badge("improvement", "L")} special-cause improvement, '
            f'{_spc_badge("concern", "H")} {_spc_badge("concern", "L")} concern (high or low), ~ common cause. '
            f'✎ a comment; 4d: 4 of 7 days; n/r: not reported; –: no submission. '
            f'Hover or focus a cell for the words; click it for the trust.</p>')
