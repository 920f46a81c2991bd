"""NHS England's national Acute Discharge SitRep time series, read into ``NhseRead``: England only, the
'Daily Series' (Table 2's measures and discharges by destination, a row per day) and the 'Weekly Series'
(additional bed days lost and delay reasons, a row per week).

Each sheet is read through ``pipelines.publication.grid``; the frames are shaped by ``pipelines.publication.tables``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import fastexcel
import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.publication.cover import check_dates, cover_dates, cover_day, cover_sheet
from pipelines.publication.grid import Grid, block_facts, load_grid, locate, sheets_by_name
from pipelines.publication.tables import (
    BED_DAY_MEASURES,
    BED_DAYS_AREA_SCHEMA,
    BED_DAYS_SCHEMA,
    DAILY_AREA_SCHEMA,
    DAILY_MEASURES,
    DAILY_SCHEMA,
    DELAY_REASON_AREA_SCHEMA,
    DELAY_REASON_SCHEMA,
    DESTINATION_AREA_SCHEMA,
    DESTINATION_SCHEMA,
    ENGLAND,
    TIMESERIES,
    Facts,
    Log,
    NhseRead,
    bed_days_measure,
    destination,
    impossible_zeros,
    norm,
    parse_day,
    shape,
    table2_measure,
    tidy_label,
    whole_numbers,
    wide,
    with_destinations,
)


def read_timeseries(book: fastexcel.ExcelReader) -> NhseRead:
    sheets, log = sheets_by_name(book), Log()
    cover = cover_sheet(book)
    read = NhseRead(TIMESERIES, "NHS England acute discharge sitrep national time series (Daily Series: 3 measures "
                                "per day and discharges by destination; Weekly Series: bed days lost, delay reasons)",
                    period=cover_dates(cover.get("period", [])),
                    published=cover_day(cover, "published"), revised=cover_day(cover, "revised"))
    if "daily series" not in sheets and "weekly series" not in sheets:
        raise FileRejected("neither a 'Daily Series' nor a 'Weekly Series' sheet was found.")
    if "daily series" in sheets:
        read.daily_areas, read.destinations_areas = read_daily_series(load_grid(book, sheets["daily series"]), log)
        check_dates(read.daily_areas["period_date"].unique(), read.period, "Daily Series")
    if "weekly series" in sheets:
        read.weekly_bed_days_lost_areas, read.delay_reasons_areas = read_weekly_series(
            load_grid(book, sheets["weekly series"]), log)
    log.notes.insert(0, "national figures only (level 'england'): no trust rows in this publication")
    read.notes, read.issues = log.notes, pl.DataFrame(log.issues, schema=ISSUE_SCHEMA)
    return read


def _series_facts(grid: Grid, label_row: int, period_label: str,
                  classify: Callable[[object], tuple[str, str] | None]) -> Facts:
    """Facts of a sheet with a period per row. ``classify`` gives each label (kind, measure)."""
    labels = grid.rows[label_row]
    period_col = next((c for c, cell in enumerate(labels) if norm(cell) == period_label), None)
    if period_col is None:
        raise FileRejected(f"{grid.sheet}: no '{period_label}' column on the label row {label_row + 1}.")
    mapping = [(grid.letters[c], *kind) for c, cell in enumerate(labels)
               if c != period_col and cell and (kind := classify(cell))]
    columns = pl.DataFrame(mapping, schema={"column": pl.String, "kind": pl.String, "measure": pl.String},
                           orient="row")
    # a row-per-period layout's 'block' is the row: its first column of each kind is the provenance column
    columns = columns.with_columns(source_column=pl.col("column").first().over("kind"))
    periods = [(r + 1, day) for r in range(label_row + 1, len(grid.rows))
               if (day := parse_day(grid.rows[r][period_col])) is not None]
    if not periods:
        raise FileRejected(f"{grid.sheet}: no dates found in the '{period_label}' column.")
    rows = pl.DataFrame(periods, schema={"source_row": pl.Int64, "period": pl.Date}, orient="row").with_columns(
        level=pl.lit(ENGLAND), code=pl.lit(None, pl.String), name=pl.lit("ENGLAND"), region=pl.lit(None, pl.String))
    facts = block_facts(grid, grid.sheet, columns, rows)
    # destinations and reasons are stored per column; Table 2 measures per row
    facts.frame = facts.frame.with_columns(
        source_column=pl.when(pl.col("kind").is_in(["destination", "reason"])).then(pl.col("column"))
        .otherwise(pl.col("source_column")))
    return facts


def _not_collected_before(grid: Grid, label_row: int) -> date | None:
    """'1. Discharge location data was not collected prior to 12/05/2021' in the notes above the labels."""
    for row in grid.rows[:label_row]:
        for cell in row:
            if cell and (found := re.search(r"not collected prior to (\d{1,2}/\d{1,2}/\d{4})", str(cell))):
                return parse_day(found.group(1))
    return None


def read_daily_series(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """National daily Table 2 measures and discharges by destination. Returns (daily England rows, destinations)."""
    label_row, _ = locate(grid, lambda c: table2_measure(c) == "nctr_patients",
                          "Number of patients who no longer meet the criteria to reside")

    def classify(cell: object) -> tuple[str, str] | None:
        if destination(cell)[0] is not None:
            return "destination", tidy_label(str(cell))
        measure = table2_measure(cell)
        return ("daily", measure) if measure else None

    facts = _series_facts(grid, label_row, "date", classify)
    log.add(facts)
    long = whole_numbers(facts.frame, grid.sheet, log.issues)
    daily = wide(long.filter(pl.col("kind") == "daily"), DAILY_MEASURES)
    _, england = shape(daily, DAILY_SCHEMA, DAILY_AREA_SCHEMA, grid.sheet, period_date=pl.col("period"))
    destinations = long.filter(pl.col("kind") == "destination")
    cutoff = _not_collected_before(grid, label_row)
    if cutoff is not None:  # all-zero rows before the collection started are "not collected", not zero
        unrecorded = (pl.col("period") < cutoff) & (pl.col("value").fill_null(0).sum().over("period") == 0)
        days = destinations.filter(unrecorded)["period"].n_unique()
        destinations = destinations.with_columns(value=pl.when(unrecorded).then(None).otherwise(pl.col("value")))
        if days:
            log.notes.append(f"{grid.sheet}: discharges by destination on {days} day(s) before {cutoff:%d/%m/%Y} are "
                             "all 0 and were stored as missing (the sheet notes they were not collected)")
    destinations = with_destinations(destinations, "measure", log)
    _, by_destination = shape(destinations, DESTINATION_SCHEMA, DESTINATION_AREA_SCHEMA, grid.sheet,
                              period_start=pl.col("period"), period_end=pl.col("period"),
                              destination=pl.col("measure"), discharges=pl.col("value"))
    return england, by_destination


def read_weekly_series(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """National weekly additional bed days lost and delay reasons. Returns (bed days, delay reasons)."""
    label_row, _ = locate(grid, lambda c: bed_days_measure(c) is not None,
                          "Number of additional bed days, patients with length of stay of 7+ days")

    def classify(cell: object) -> tuple[str, str] | None:
        if measure := bed_days_measure(cell):
            return "bed_days", measure
        return ("reason", tidy_label(str(cell))) if norm(cell) != "week commencing" else None

    facts = _series_facts(grid, label_row, "week commencing", classify)
    log.add(facts)
    long = facts.frame
    bed_days = impossible_zeros(wide(whole_numbers(long.filter(pl.col("kind") == "bed_days"), grid.sheet,
                                                    log.issues), BED_DAY_MEASURES), grid.sheet, log)
    _, weekly = shape(bed_days, BED_DAYS_SCHEMA, BED_DAYS_AREA_SCHEMA, grid.sheet, week_commencing=pl.col("period"),
                      week_ending=pl.col("period") + pl.duration(days=6))
    _, reasons = shape(long.filter(pl.col("kind") == "reason"), DELAY_REASON_SCHEMA, DELAY_REASON_AREA_SCHEMA,
                       grid.sheet, period_start=pl.col("period"), period_end=pl.col("period") + pl.duration(days=6),
                       reason=pl.col("measure"), length_of_stay=pl.lit("14+"), patients=pl.col("value"))
    return weekly, reasons
