"""Downloads of the weekly narrative table (CSV, Excel, Word) and of a trust's daily figures.

The browser and ``python -m pipelines export`` both call ``render``, which builds the table with
``weekly_table.build_weekly_table`` exactly as the home page does, so a download always has the
page's trusts, metrics, values and statuses. Text that a spreadsheet could run as a formula is
neutralised (``export_common.neutralise_column``); numbers stay numbers.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from pipelines.catalogue.columns import COLUMN_NAMES
from pipelines.groups import ALL_GROUP
from pipelines.reports.export_common import neutralise_column, tidy, week_sources
from pipelines.reports.formats import FORMATS
from pipelines.reports.narrative import current_narratives
from pipelines.reports.weekly_table import WeeklyTable, build_weekly_table

__all__ = ["FORMATS", "daily_figures_csv", "file_name", "render", "render_table", "tidy", "to_csv"]


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows trust names and narratives' accents correctly
    when the file is double-clicked; every text cell neutralised."""
    safe = frame.with_columns(neutralise_column(name) for name, dtype in frame.schema.items() if dtype == pl.String)
    buffer = io.BytesIO()
    safe.write_csv(buffer, include_bom=True)
    return buffer.getvalue()


def to_csv(table: WeeklyTable, narratives: pl.DataFrame) -> bytes:
    return _csv_bytes(tidy(table, narratives))


def daily_figures_csv(con: duckdb.DuckDBPyConnection, org_code: str, start: date, end: date) -> bytes:
    """The trust's daily sitrep figures as loaded (per site where it submits per site), with the
    file each row came from, for the days from ``start`` to ``end`` inclusive."""
    if start > end:
        raise ValueError(f"The start date {start:%d/%m/%Y} is after the end date {end:%d/%m/%Y}.")
    frame = con.sql(f"""
        SELECT {', '.join(COLUMN_NAMES)}, source, source_file, source_row, loaded_at
        FROM sitrep_daily WHERE org_code = ? AND period_date BETWEEN ? AND ?
        ORDER BY period_date, site_code NULLS FIRST
    """, params=[org_code, start, end]).pl()
    return _csv_bytes(frame)


def render(con: duckdb.DuckDBPyConnection, week_ending: date, icbs: Sequence[str], places: Sequence[str],
           fmt: str, org_codes: Sequence[str] = (), group_id: str | None = ALL_GROUP) -> bytes:
    """The weekly narrative table for the week and selection, in ``fmt`` (a key of ``FORMATS``): the trusts
    of the ICBs, places and ODS codes given, with the narratives of the discharge group ``group_id``
    (None: trusts picked by hand, whose narratives are drafts, never saved, so none)."""
    return render_table(con, build_weekly_table(con, week_ending, icbs, places, org_codes), fmt, group_id)


def render_table(con: duckdb.DuckDBPyConnection, table: WeeklyTable, fmt: str,
                 group_id: str | None = ALL_GROUP) -> bytes:
    """``render`` for a table already built (the command line checks it has figures first)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: expected one of {', '.join(FORMATS)}.")
    narratives = current_narratives(con, table.week_ending, group_id)
    if fmt == "csv":
        return to_csv(table, narratives)
    # XlsxWriter and python-docx only when such a download is asked for: every page showing the download
    # buttons imports this module, a first start's home page while the database is built.
    if fmt == "xlsx":
        from pipelines.reports.export_xlsx import to_xlsx  # noqa: PLC0415
        return to_xlsx(table, narratives, week_sources(con, table))
    from pipelines.reports.export_docx import to_docx  # noqa: PLC0415
    return to_docx(table, narratives, week_sources(con, table))


def file_name(week_ending: date, fmt: str) -> str:
    return f"weekly-discharge-position-{week_ending.isoformat()}.{fmt}"
