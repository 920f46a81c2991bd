"""The Cover Sheet of an NHS England workbook ('Title:', 'Period:', 'Published:', 'Revised:') and the
check every table's dates must pass against it: inside the stated period, never in the future."""
from __future__ import annotations

from datetime import date

import fastexcel
import polars as pl

from pipelines.catalogue.issues import FileRejected
from pipelines.publication.grid import load_grid, sheets_by_name
from pipelines.publication.tables import norm, parse_day


def cover_sheet(book: fastexcel.ExcelReader) -> dict[str, list[str]]:
    """'Title:', 'Period:', 'Published:' ... of the Cover Sheet, each with the cells to its right."""
    sheet = sheets_by_name(book).get("cover sheet")
    if sheet is None:
        return {}
    grid = load_grid(book, sheet, n_rows=20)
    return {norm(row[0]).rstrip(":"): [str(c) for c in row[1:] if c is not None]
            for row in grid.rows if row and row[0]}


def cover_dates(cells: list[str]) -> tuple[date, date] | None:
    """'Period:' 2023-11-01, '-', 2023-11-30 -> (first, last); 'Published:' 2023-12-14 -> (that day, that day)."""
    days = [d for c in cells if (d := parse_day(c)) is not None]
    return (days[0], days[-1]) if days else None


def cover_day(cover: dict[str, list[str]], label: str) -> date | None:
    """The cover's 'Published:' or 'Revised:' date; None when it has none ('Revised: -')."""
    days = cover_dates(cover.get(label, []))
    return days[0] if days else None


def check_dates(days: pl.Series, period: tuple[date, date] | None, table: str) -> None:
    """Dates are known dates: inside the publication's stated period, never in the future."""
    today = date.today()
    for day in days.drop_nulls().to_list():
        if day > today:
            raise FileRejected(f"{table}: the date {day:%d/%m/%Y} is in the future.")
        if period and not period[0] <= day <= period[1]:
            raise FileRejected(f"{table}: the date {day:%d/%m/%Y} is outside the workbook's period "
                               f"({period[0]:%d/%m/%Y} to {period[1]:%d/%m/%Y}).")
