"""NHS England's acute discharge sitrep workbooks: the monthly workbook (Tables 2 to 7), recognised and read
into ``NhseRead``; ``detect_workbook`` also recognises the national time series, which
``pipelines.publication.timeseries`` reads.

Each sheet is read through ``pipelines.publication.grid``; the frames are shaped by ``pipelines.publication.tables``.
"""
from __future__ import annotations

import re
from datetime import date

import fastexcel
import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.publication.cover import check_dates, cover_dates, cover_day, cover_sheet
from pipelines.publication.grid import (
    HEADER_SEARCH_ROWS,
    Grid,
    block_facts,
    date_blocks,
    find_label_row,
    load_grid,
    locate,
    row_sections,
    sheet_month,
    sheets_by_name,
    single_period,
)
from pipelines.publication.icb_sections import icbs_by_adding_up
from pipelines.publication.lookup import is_provider_lookup, read_provider_lookup
from pipelines.publication.names import icb_short_name
from pipelines.publication.tables import (
    BED_DAY_MEASURES,
    BED_DAYS_AREA_SCHEMA,
    BED_DAYS_SCHEMA,
    COMMUNITY,
    DAILY_AREA_SCHEMA,
    DAILY_MEASURES,
    DAILY_SCHEMA,
    DELAY_REASON_AREA_SCHEMA,
    DELAY_REASON_SCHEMA,
    DELAY_REASONS,
    DESTINATION_AREA_SCHEMA,
    DESTINATION_SCHEMA,
    MONTHLY,
    REASON_KEYS,
    TIMESERIES,
    TRUST,
    TRUST_ICB_SCHEMA,
    Facts,
    Log,
    NhseRead,
    bed_days_measure,
    destination,
    impossible_zeros,
    length_of_stay_cohort,
    norm,
    parse_day,
    shape,
    table2_measure,
    tidy_label,
    whole_numbers,
    wide,
    with_destinations,
    with_discharged_total,
)


# ---------------------------------------------------------------------------------------------
# Recognition
# ---------------------------------------------------------------------------------------------
def detect_workbook(book: fastexcel.ExcelReader) -> str | None:
    """By the cover's title when there is one, else by the wording of Table 2 / Daily Series."""
    sheets = sheets_by_name(book)
    title = norm(" ".join(cover_sheet(book).get("title", [])))
    series = "daily series" in sheets or "weekly series" in sheets
    if "discharge" in title and ("situation report" in title or "sitrep" in title):
        if "community" in title:
            return COMMUNITY
        if "acute" in title:  # a damaged acute workbook (no Table 2) is still ours, to be rejected clearly
            return TIMESERIES if series and "table 2" not in sheets else MONTHLY
    if "table 2" in sheets and _has_nctr_label(book, sheets["table 2"]):
        return MONTHLY
    if "daily series" in sheets and _has_nctr_label(book, sheets["daily series"]):
        return TIMESERIES
    return None


def _has_nctr_label(book: fastexcel.ExcelReader, sheet: str) -> bool:
    grid = load_grid(book, sheet, n_rows=HEADER_SEARCH_ROWS)
    return any(table2_measure(c) == "nctr_patients" for row in grid.rows for c in row if c and len(str(c)) < 200)


# ---------------------------------------------------------------------------------------------
# Reading a workbook
# ---------------------------------------------------------------------------------------------
def read_monthly(book: fastexcel.ExcelReader) -> NhseRead:
    sheets, log = sheets_by_name(book), Log()
    cover = cover_sheet(book)
    period = cover_dates(cover.get("period", []))
    if "table 2" not in sheets:
        raise FileRejected("Table 2 (patients not meeting the criteria to reside, per trust per day) is missing.")
    daily, daily_areas, layout = read_table2(load_grid(book, sheets["table 2"]), log)
    days = daily_areas["period_date"].unique().sort()
    check_dates(days, period, "Table 2")
    month = period[0].replace(day=1) if period else days[0].replace(day=1)
    read = NhseRead(MONTHLY, f"NHS England acute discharge sitrep workbook (Table 2 daily, {layout})",
                    daily=daily, daily_areas=daily_areas, period=period, published=cover_day(cover, "published"),
                    revised=cover_day(cover, "revised"))
    if "table 3" in sheets:
        grid = load_grid(book, sheets["table 3"])
        read.weekly_bed_days_lost, read.weekly_bed_days_lost_areas = read_table3(grid, log)
        _check_weeks(read.weekly_bed_days_lost_areas, period)
    if "table 4" in sheets:
        grid = load_grid(book, sheets["table 4"])
        read.monthly_destinations, read.destinations_areas = read_table4(grid, month, log)
        read.monthly_destinations = _unsubmitted_months(read.monthly_destinations, daily, grid.sheet, log)
        check_dates(read.destinations_areas["period_start"].unique(), period, "Table 4")
    reason_tables = _reason_tables(book, sheets, month, period, log)
    if reason_tables:
        read.delay_reasons, read.delay_reasons_areas = (pl.concat(frames) for frames in zip(*reason_tables.values(),
                                                                                            strict=True))
    lookup = next((s for s in book.sheet_names if is_provider_lookup(s)), None)
    if lookup is not None:
        read.trust_icbs = read_provider_lookup(load_grid(book, lookup), log.notes)
    read.trust_icbs = _with_icb_sections(read, log)
    missing = [f"Table {n}" for n in (3, 4, 5) if f"table {n}" not in sheets]
    if missing:
        log.notes.append(f"sheet(s) not in this workbook, so not loaded: {', '.join(missing)}")
    read_sheets = {"cover sheet", "table 2", "table 3", "table 4", *(norm(s) for s in reason_tables)}
    ignored = [s for key, s in sheets.items() if key not in read_sheets and s != lookup]
    # A numbered table this version cannot read (a Table 6 or 7 of no delay reasons, a Table 8): the notes say so.
    unread = [s for s in ignored if re.fullmatch(r"table [5-9]", norm(s))]
    ignored = [s for s in ignored if s not in unread]
    if unread:
        log.notes.insert(0, f"sheet(s) not read by this version, nothing from them was loaded: "
                            f"{', '.join(map(repr, unread))}")
    if ignored:  # contents, Table 1 (count of organisations not submitting) and lookups: no per-trust figures
        log.notes.insert(0, f"sheet(s) ignored, having no per-organisation figures: {', '.join(map(repr, ignored))}")
    log.notes.append("ICB, region and England rows are kept apart from the trusts (frames *_areas)")
    read.notes, read.issues = log.notes, pl.DataFrame(log.issues, schema=ISSUE_SCHEMA)
    return read


def _with_icb_sections(read: NhseRead, log: Log) -> pl.DataFrame:
    """The lookup sheet's ICBs, and for the trusts it does not name, the ICB their figures add up to in
    Table 2's ICB section (``pipelines.publication.icb_sections``)."""
    named = icbs_by_adding_up(read.daily, read.daily_areas).join(read.trust_icbs, on="org_code", how="anti")
    if named.is_empty():
        return read.trust_icbs
    names = read.daily_icb.select(icb_code="area_code", name="area_name").unique("icb_code")
    named = named.join(names, on="icb_code", how="left").select(
        "org_code", "icb_code", icb_name=pl.col("name").map_elements(icb_short_name, return_dtype=pl.String),
        icb_source="icb_source")
    log.notes.append(f"Table 2: the ICB of {named.height} trust(s) from its ICB section (each ICB's figures are "
                     "the sum of its trusts')")
    return pl.concat([read.trust_icbs, named.cast(TRUST_ICB_SCHEMA)])


def _unsubmitted_months(destinations: pl.DataFrame, daily: pl.DataFrame, sheet: str, log: Log) -> pl.DataFrame:
    """A trust that submitted nothing all month in Table 2 (every day '-') shows 0 discharges in Table 4:
    that is "not reported", not a month with no discharges."""
    silent = daily.group_by("org_code").agg(pl.col("nctr_patients").is_null().all().alias("silent")).filter("silent")
    zero = destinations.group_by("org_code").agg((pl.col("discharges").fill_null(0) == 0).all().alias("zero"))
    empty = silent.join(zero.filter("zero"), on="org_code")["org_code"].sort().to_list()
    if not empty:
        return destinations
    log.notes.append(f"{sheet}: {len(empty)} trust(s) submitted nothing all month ({', '.join(empty)}): their 0 "
                     "discharges by destination are stored as not reported")
    return destinations.with_columns(discharges=pl.when(pl.col("org_code").is_in(empty)).then(None)
                                     .otherwise(pl.col("discharges")))

def _check_weeks(weeks: pl.DataFrame, period: tuple[date, date] | None) -> None:
    """A week may start before the month (w/c 30/10/2023 in November) but must overlap it."""
    if not period:
        return
    for start, end in weeks.select("week_commencing", "week_ending").unique().iter_rows():
        if end < period[0] or start > period[1]:
            raise FileRejected(f"Table 3: the week commencing {start:%d/%m/%Y} is outside the workbook's period "
                               f"({period[0]:%d/%m/%Y} to {period[1]:%d/%m/%Y}).")

# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------
def read_table2(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """Table 2: per organisation per day. Returns (trust rows, England/region/ICB rows, layout in words)."""
    label_row, first = locate(grid, lambda c: table2_measure(c) == "nctr_patients",
                              "Number of patients who no longer meet the criteria to reside")
    columns = date_blocks(grid, grid.sheet, label_row, first, table2_measure, parse_day, log.notes)
    per_block = columns.group_by("period").agg(pl.col("measure"))
    for day, measures in per_block.sort("period").iter_rows():
        split = {"nctr_discharged_by_5pm", "nctr_discharged_after_5pm"} <= set(measures)
        if "nctr_patients" not in measures or not ("nctr_discharged" in measures or split):
            raise FileRejected(f"{grid.sheet}: the block for {day:%d/%m/%Y} does not have both the patients not "
                               "meeting the criteria to reside and the patients discharged.")
    rows, notes = row_sections(grid, grid.sheet, label_row + 1, first)
    log.notes.extend(notes)
    if rows.filter(pl.col("level") == TRUST).is_empty():
        raise FileRejected(f"{grid.sheet}: no trust rows found (expected a 'Region | Org Code | Org Name' header).")
    facts = block_facts(grid, grid.sheet, columns, rows)
    log.add(facts)
    daily = wide(whole_numbers(facts.frame, grid.sheet, log.issues), DAILY_MEASURES)
    measures = set(columns["measure"])
    daily = with_discharged_total(daily, measures, grid.sheet, log)
    count = len(measures)
    layout = f"{count} measures per day" + (" (discharged by 17:00 and 17:01-23:59)"
                                             if "nctr_discharged_by_5pm" in measures else "")
    return *shape(daily, DAILY_SCHEMA, DAILY_AREA_SCHEMA, grid.sheet, period_date=pl.col("period")), layout


def read_table3(grid: Grid, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Table 3: weekly snapshot of additional bed days lost, in blocks headed 'w/c dd/mm/yyyy (daily snapshot)'."""
    label_row, first = locate(grid, lambda c: bed_days_measure(c) is not None,
                              "Number of additional bed days, patients with length of stay of 7+ days")
    columns = date_blocks(grid, grid.sheet, label_row, first, bed_days_measure, parse_day, log.notes)
    rows, notes = row_sections(grid, grid.sheet, label_row + 1, first)
    log.notes.extend(notes)
    facts = block_facts(grid, grid.sheet, columns, rows)
    log.add(facts)
    weekly = impossible_zeros(wide(whole_numbers(facts.frame, grid.sheet, log.issues), BED_DAY_MEASURES),
                               grid.sheet, log)
    return shape(weekly, BED_DAYS_SCHEMA, BED_DAYS_AREA_SCHEMA, grid.sheet, week_commencing=pl.col("period"),
                 week_ending=pl.col("period") + pl.duration(days=6))


def _monthly_table(grid: Grid, labels: tuple[int, int], month: date | None, log: Log) -> Facts:
    """Tables 4 and 5: one month for the whole sheet, named above the labels ('November 2023 - ...');
    ``labels``: the row and first column of the column labels."""
    label_row, first = labels
    found = sheet_month(grid, label_row, first) or month
    if found is None:
        raise FileRejected(f"{grid.sheet}: no month found above the column labels on row {label_row + 1}.")
    columns = single_period(grid, label_row, first, found, lambda c: tidy_label(str(c)) or None)
    rows, notes = row_sections(grid, grid.sheet, label_row + 1, first)
    log.notes.extend(notes)
    facts = block_facts(grid, grid.sheet, columns, rows)
    log.add(facts)
    return facts


def read_table4(grid: Grid, month: date | None, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Table 4: month total discharges by intended destination, one column per destination."""
    facts = _monthly_table(grid, locate(grid, lambda c: destination(c)[0] is not None,
                                        "P0 - Domestic home without reablement support"), month, log)
    long = with_destinations(whole_numbers(facts.frame, grid.sheet, log.issues), "measure", log)
    return shape(long, DESTINATION_SCHEMA, DESTINATION_AREA_SCHEMA, grid.sheet, month=pl.col("period"),
                 period_start=pl.col("period"), period_end=pl.col("period").dt.month_end(),
                 destination=pl.col("measure"), discharges=pl.col("value"))


def _reason_labels(grid: Grid) -> tuple[int, int]:
    """Where Table 5's reason labels are: the row with a reason known from earlier issues, else the row under
    the month's title ('June 2024 - Average number of people ...'): the reasons redefined from 27 May 2024
    are taken from the file itself."""
    if found := find_label_row(grid, lambda c: norm(c) in REASON_KEYS):
        return found
    if title := find_label_row(grid, lambda c: "average number of people" in norm(c)):
        return title[0] + 1, title[1]
    return locate(grid, lambda c: norm(c) in REASON_KEYS, DELAY_REASONS[0])  # rejected: says what was expected


def reason_cohort(grid: Grid) -> str | None:
    """The length-of-stay cohort a delay reason table counts, from its titles ('Table 6: Weekly snapshot average
    ... with length of stay 7 days or over ... broken down by the reasons ...' -> '7+'); None when its titles
    name no reasons or no cohort."""
    titles = [str(c) for row in grid.rows[:HEADER_SEARCH_ROWS] for c in row if c and len(str(c)) < 400]
    if not any("reason" in norm(t) for t in titles):
        return None
    return next((cohort for t in titles if (cohort := length_of_stay_cohort(t))), None)


def _reason_tables(book: fastexcel.ExcelReader, sheets: dict[str, str], month: date | None,
                   period: tuple[date, date] | None, log: Log) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Tables 5 to 7 (from 2024 the workbook has three): each a length-of-stay cohort's delay reasons, the
    cohort named in its titles (Table 5 counts 14+ days when its titles do not say). A Table 6 or 7 whose titles
    name no reasons and cohort is not read (the notes say so). Sheet -> (trust rows, area rows)."""
    found: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    by_cohort: dict[str, str] = {}
    for n in (5, 6, 7):
        if (sheet := sheets.get(f"table {n}")) is None:
            continue
        grid = load_grid(book, sheet)
        cohort = reason_cohort(grid) or ("14+" if n == 5 else None)
        if cohort is None:
            continue
        if cohort in by_cohort:
            raise FileRejected(f"{by_cohort[cohort]} and {sheet} both give the delay reasons of patients with a "
                               f"length of stay of {cohort} days; each cohort is published once.")
        by_cohort[cohort] = sheet
        found[sheet] = read_reason_table(grid, month, cohort, log)
        check_dates(found[sheet][1]["period_start"].unique(), period, sheet)
    return found


def read_reason_table(grid: Grid, month: date | None, cohort: str, log: Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tables 5 to 7: the month's average of weekly snapshots of NCTR patients with a length of stay of ``cohort``
    days ('14+'), by delay reason, under the labels the sheet gives them."""
    facts = _monthly_table(grid, _reason_labels(grid), month, log)
    new = sorted(set(facts.frame["measure"]) - set(DELAY_REASONS))
    if new:
        log.notes.append(f"{grid.sheet}: delay reason(s) not seen before, kept as published: {'; '.join(new)}")
    return shape(facts.frame, DELAY_REASON_SCHEMA, DELAY_REASON_AREA_SCHEMA, grid.sheet,
                 period_start=pl.col("period"), period_end=pl.col("period").dt.month_end(),
                 reason=pl.col("measure"), length_of_stay=pl.lit(cohort), patients=pl.col("value"))
