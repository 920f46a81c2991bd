"""The OPEL page's day-by-day grids as real HTML tables (docs/domain.md section 4): trusts as rows, days
as columns, each cell the day's OPEL level written in its colour. Text in the page, not a chart: a
screen reader reads the headers of each cell, the page prints on landscape paper, and the browser
draws it without loading plotly.js. No Streamlit here.

Every text from a file (trust, ICB and local authority names) goes through ``pipelines.safe_text.clean``
and ``html.escape`` in one place (``pipelines.safe_text.html_text``); the markup around it is ours.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from pipelines.catalogue.dates import uk_date, uk_day
from pipelines.reports.presentation import NHS_INK, NHS_PALE_GREY, OPEL_COLOURS, OPEL_TEXT_COLOURS
from pipelines.safe_text import html_text

INK = NHS_INK  # NHS black, at least 4.5:1 on the pale grey of a day without a level
NO_SUBMISSION, NOT_REPORTED = "–", "n/r"  # as the weekly table's key writes them
STREAMLIT_HEADER = "3.75rem"  # Streamlit's own bar across the top of the window


STYLE = f"""<style>
.og-wrap {{ max-width: 100%; max-height: calc(100vh - {STREAMLIT_HEADER} - 1rem); overflow: auto; }}
.og {{ border-collapse: separate; border-spacing: 1px; font-size: 0.75rem; color: {INK}; }}
.og caption {{ caption-side: top; text-align: left; font-weight: 600; font-size: 0.875rem; padding: 0 0 0.25rem 0; }}
.og th, .og td {{ padding: 0 2px; text-align: center; min-width: 1.5rem; height: 1.5rem; line-height: 1.1; }}
/* The header rows and the trusts' names stay in view as the grid scrolls in its box. */
.og thead th {{ position: sticky; background: #FFFFFF; font-weight: 600; z-index: 2; }}
.og thead tr:first-child th {{ top: 0; }}
.og thead tr + tr th {{ top: 1.5rem; font-weight: 400; }}
.og tbody th, .og th.og-corner {{ position: sticky; left: 0; background: #FFFFFF; text-align: left;
  white-space: nowrap; font-weight: 600; z-index: 1; }}
.og th.og-corner {{ z-index: 3; }}
.og th.og-week {{ border-bottom: 2px solid {INK}; white-space: nowrap; }}
.og th.og-icb {{ position: static; padding-top: 0.35rem; font-weight: 400; font-style: italic; }}
.og td {{ font-weight: 700; font-variant-numeric: tabular-nums; }}
{"".join(f":is(.og, .og-key) .og-{n} {{ background: {OPEL_COLOURS[n]}; color: {OPEL_TEXT_COLOURS[n]}; }}"
         for n in OPEL_COLOURS)}
:is(.og, .og-key) .og-0 {{ background: {NHS_PALE_GREY}; font-weight: 400; }}
.og-sr {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
.og-key {{ font-size: 0.75rem; color: {INK}; margin: 0.25rem 0 0.75rem 0; }}
.og-key span {{ display: inline-block; min-width: 1.4rem; padding: 0 0.3rem; margin-right: 0.2rem;
  text-align: center; font-weight: 700; }}
.og-wrap:focus-visible {{ outline: 3px solid #FFB81C; box-shadow: 0 0 0 4px {INK}; }}
@page {{ size: A4 landscape; margin: 8mm; }}
@media print {{
  .og-wrap {{ max-height: none; overflow: visible; }}
  .og {{ width: 100%; table-layout: auto; font-size: 7pt; }}
  .og th, .og td {{ min-width: 0; height: auto; padding: 1px; position: static !important; }}
  .og td, .og th, .og-key span {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  .og tr {{ break-inside: avoid; }}
}}
</style>"""


def trust_grid(daily: pl.DataFrame, caption: str, order: Sequence[str] = ()) -> str:
    """Trust OPEL by day (the grid of ``pipelines.queries.opel.daily_opel``): one row per trust, by ICB; with
    ``order`` (every trust's org code) the rows in that order, without the ICBs' headings."""
    if order:
        daily = daily.sort(pl.col("org_code").replace_strict(order, range(len(order))), "period_date")
    return _grid(daily, "trust_opel", pl.col("trust"), "Trust", caption, by_icb=not order)


def la_grid(daily: pl.DataFrame, caption: str) -> str:
    """Local authority OPEL by day, a row per trust that reported it on at least one day of the grid:
    'City of York (York and Scarborough)'. '' when no trust did."""
    reporting = daily.filter(pl.col("la_opel").is_not_null().any().over("org_code"))
    if reporting.is_empty():
        return ""
    return _grid(reporting, "la_opel", pl.format("{} ({})", "local_authority", "trust"),
                 "Local authority (trust)", caption)


def key_html(with_not_reported: bool = False) -> str:
    """The grid's key: each level in its colour, and what a cell without one means."""
    levels = "".join(f'<span class="og-{n}">{n}</span>OPEL {n} ' for n in OPEL_COLOURS)
    blanks = f'<span class="og-0">{NO_SUBMISSION}</span>no submission'
    if with_not_reported:
        blanks += f' <span class="og-0">{NOT_REPORTED}</span>submitted without the local authority\'s level'
    return f'<p class="og-key">Key: {levels}{blanks}.</p>'


def _grid(daily: pl.DataFrame, level: str, row_label: pl.Expr, corner: str, caption: str, by_icb: bool = True) -> str:
    days: list[date] = daily["period_date"].unique().sort().to_list()
    # The grid is sorted by its rows, then by day, so each row's cells are its days in order. A row is a trust
    # (its org code), not a name: two trusts of one name in an ICB are two rows, never one of twice the days.
    rows = daily.with_columns(row=row_label).group_by("icb_name", "org_code", "row", maintain_order=True).agg(
        pl.col(level), pl.col("submitted"))
    # With trusts of several ICBs, each ICB's trusts under its name.
    sections = (rows.group_by("icb_name", maintain_order=True) if by_icb and rows["icb_name"].n_unique() > 1
                else [((None,), rows)])
    groups = []
    for (icb,), trusts in sections:
        lines = [f'<tr><th scope="rowgroup" colspan="{len(days) + 1}" class="og-icb">{html_text(icb)}</th></tr>'
                 ] if icb is not None else []
        lines += [f'<tr><th scope="row">{html_text(label)}</th>'
                  f'{"".join(_cell(v, s) for v, s in zip(values, submitted, strict=True))}</tr>'
                  for label, values, submitted in trusts.select("row", level, "submitted").iter_rows()]
        groups.append(f'<tbody>{"".join(lines)}</tbody>')
    return (f'<div class="og-wrap" tabindex="0" role="region" aria-label="{html_text(caption)}">'
            f'<table class="og"><caption>{html_text(caption)}</caption><thead>{_header(days, corner)}</thead>'
            f'{"".join(groups)}</table></div>')


def _header(days: list[date], corner: str) -> str:
    """Two header rows: the weeks (Monday to Sunday, 'w/e Sun 19/05/2024'), then each day."""
    weeks: dict[date, int] = {}
    for day in days:
        sunday = day + timedelta(days=6 - day.weekday())
        weeks[sunday] = weeks.get(sunday, 0) + 1
    top = "".join(f'<th scope="colgroup" colspan="{span}" class="og-week">'
                  f'{"w/e " + uk_date(sunday) if span > 2 else ""}'
                  f'<span class="og-sr">{"" if span > 2 else "week ending " + uk_date(sunday)}</span></th>'
                  for sunday, span in weeks.items())
    # The day's letter and number on screen; its whole date for a screen reader.
    each = "".join(f'<th scope="col"><span aria-hidden="true">{uk_day(day)[0]}<br>{day.day}</span>'
                   f'<span class="og-sr">{uk_day(day)}</span></th>' for day in days)
    return f'<tr><th scope="col" rowspan="2" class="og-corner">{html_text(corner)}</th>{top}</tr><tr>{each}</tr>'


def _cell(value: int | None, submitted: bool) -> str:
    if value is not None:
        return f'<td class="og-{value}">{value}</td>'
    blank, words = (NOT_REPORTED, "not reported") if submitted else (NO_SUBMISSION, "no submission")
    return f'<td class="og-0"><span aria-hidden="true">{blank}</span><span class="og-sr">{words}</span></td>'
