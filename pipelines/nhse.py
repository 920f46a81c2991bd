"""NHS England's published Acute Daily Discharge SitRep (DOMAIN 2.2) -> tidy Polars frames.

Three publications are recognised by their content, never by file name (``detect``):

* ``nhse_monthly_workbook``: Cover Sheet, Contents, Table 1 ... Table 5 (sometimes lookup sheets).
  Table 2 per organisation per day (3 measures a day; older issues 4, with the 17:00 split),
  Table 3 weekly additional bed days lost, Table 4 month discharges by destination, Table 5
  the month's average of weekly snapshots of NCTR patients with LoS 14+ by delay reason.
* ``nhse_timeseries_workbook``: national figures only, 'Daily Series' (Table 2 measures and
  destinations per day) and 'Weekly Series' (bed days lost and delay reasons per week).
* ``nhse_long_csv`` (2024 on): ``Level, Region, ICB, Org Code, Org Name, Period, Metric, Metric
  Type, Metric Group, Value``.

``nhse_community_workbook`` (the Community Discharge SitRep) is recognised so that it can be
rejected with a clear message. Trust rows, and England/region/ICB rows, are kept in separate
frames so an aggregate can never be counted as a trust. The workbook layout is handled in
``pipelines.nhse_tables``.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import fastexcel
import polars as pl

from pipelines import nhse_tables as t
from pipelines.readers import ISSUE_SCHEMA, FileRejected

MONTHLY, TIMESERIES, LONG_CSV, COMMUNITY = (
    "nhse_monthly_workbook", "nhse_timeseries_workbook", "nhse_long_csv", "nhse_community_workbook")
SUPPORTED = (MONTHLY, TIMESERIES, LONG_CSV)
LONG_CSV_COLUMNS = ("level", "region", "icb", "org_code", "org_name", "period", "metric", "metric_type",
                    "metric_group", "value")
_LONG_CSV_REQUIRED = {"level", "org_code", "period", "metric", "value"}


@dataclass
class NhseRead:
    """Everything read from one publication. Trust frames hold trust rows only; ``*_areas`` frames hold
    England, region and ICB rows (column ``level``), never to be added to the trusts."""
    kind: str
    reader: str  # e.g. "NHS England acute discharge sitrep workbook (Table 2 daily, 3 measures per day)"
    daily: pl.DataFrame = field(default_factory=lambda: t.empty(t.DAILY_SCHEMA))
    daily_areas: pl.DataFrame = field(default_factory=lambda: t.empty(t.DAILY_AREA_SCHEMA))
    weekly_bed_days_lost: pl.DataFrame = field(default_factory=lambda: t.empty(t.BED_DAYS_SCHEMA))
    weekly_bed_days_lost_areas: pl.DataFrame = field(default_factory=lambda: t.empty(t.BED_DAYS_AREA_SCHEMA))
    monthly_destinations: pl.DataFrame = field(default_factory=lambda: t.empty(t.DESTINATION_SCHEMA))
    destinations_areas: pl.DataFrame = field(default_factory=lambda: t.empty(t.DESTINATION_AREA_SCHEMA))
    delay_reasons: pl.DataFrame = field(default_factory=lambda: t.empty(t.DELAY_REASON_SCHEMA))
    delay_reasons_areas: pl.DataFrame = field(default_factory=lambda: t.empty(t.DELAY_REASON_AREA_SCHEMA))
    trusts: pl.DataFrame = field(default_factory=lambda: t.empty(TRUST_SCHEMA))
    icbs: pl.DataFrame = field(default_factory=lambda: t.empty(ICB_SCHEMA))
    issues: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))
    notes: list[str] = field(default_factory=list)
    period: tuple[date, date] | None = None  # the publication's period (Cover Sheet), when stated
    published: date | None = None

    def _level(self, level: str) -> pl.DataFrame:
        return self.daily_areas.filter(pl.col("level") == level)

    @property
    def daily_icb(self) -> pl.DataFrame:
        return self._level(t.ICB)

    @property
    def daily_regions(self) -> pl.DataFrame:
        return self._level(t.REGION)

    @property
    def england(self) -> pl.DataFrame:
        return self._level(t.ENGLAND)


# ---------------------------------------------------------------------------------------------
# Recognition
# ---------------------------------------------------------------------------------------------
def detect(name: str, content: bytes) -> str | None:
    """Which NHS England publication ``content`` is, or None. Reads only the sheet names, the cover
    and the top of Table 2 (or a CSV's first line), so it is cheap for a trust sitrep."""
    if content[:4] == b"PK\x03\x04":
        try:
            return _detect_workbook(fastexcel.read_excel(content))
        except Exception:  # damaged or not a workbook: not ours to judge here
            return None
    header = _csv_header(content)
    return LONG_CSV if header is not None and _LONG_CSV_REQUIRED <= set(header) else None


def _sheets(book: fastexcel.ExcelReader) -> dict[str, str]:
    """Sheet names by their normalised spelling: 'table 2' -> 'Table 2'."""
    return {t.norm(s): s for s in book.sheet_names}


def _cover(book: fastexcel.ExcelReader) -> dict[str, list[str]]:
    """'Title:', 'Period:', 'Published:' ... of the Cover Sheet, each with the cells to its right."""
    sheet = _sheets(book).get("cover sheet")
    if sheet is None:
        return {}
    grid = t.load_grid(book, sheet, n_rows=20)
    return {t.norm(row[0]).rstrip(":"): [str(c) for c in row[1:] if c is not None]
            for row in grid.rows if row and row[0]}


def _detect_workbook(book: fastexcel.ExcelReader) -> str | None:
    """By the cover's title when there is one, else by the wording of Table 2 / Daily Series."""
    sheets = _sheets(book)
    title = t.norm(" ".join(_cover(book).get("title", [])))
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
    grid = t.load_grid(book, sheet, n_rows=t.HEADER_SEARCH_ROWS)
    return any(t.table2_measure(c) == "nctr_patients" for row in grid.rows for c in row if c and len(str(c)) < 200)


def _column_key(name: str) -> str:
    """'Org Code' -> 'org_code', 'Period (dd/mm/yyyy)' -> 'period'."""
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"\(.*?\)", "", name).strip().lower()).strip("_")


def _csv_header(content: bytes) -> list[str] | None:
    """The first non-blank line of a text file as column keys; only the first 64 KB are looked at."""
    if b"\x00" in content[:4096]:
        return None
    head = content[:65536].decode("utf-8-sig", errors="replace")
    line = next((ln for ln in head.splitlines() if ln.strip()), "")
    try:
        return [_column_key(c) for c in next(csv.reader([line]))]
    except (csv.Error, StopIteration):
        return None


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
def read_publication(name: str, content: bytes) -> NhseRead:
    """Read an NHS England publication into tidy frames; FileRejected when it cannot be used as a whole."""
    if not content or content.isspace():
        raise FileRejected(f"{name}: the file is empty.")
    if content[:4] == b"PK\x03\x04":
        try:
            zipfile.ZipFile(io.BytesIO(content)).testzip()
        except (zipfile.BadZipFile, EOFError, OSError):
            raise FileRejected(f"{name}: the Excel file is damaged or incomplete (not a valid .xlsx).") from None
    kind = detect(name, content)
    if kind == COMMUNITY:
        raise FileRejected(f"{name}: this is NHS England's Community Discharge SitRep (community providers); "
                           "only the Acute Daily Discharge SitRep is supported.")
    if kind is None:
        raise FileRejected(f"{name}: not an NHS England Acute Discharge SitRep publication: expected the monthly "
                           "workbook (sheets 'Table 2' ... with 'Number of patients who no longer meet the criteria "
                           "to reside'), the national time series ('Daily Series'), or the long CSV with columns "
                           "Level, Region, ICB, Org Code, Org Name, Period, Metric, Metric Type, Metric Group, Value.")
    try:
        if kind == LONG_CSV:
            read = _read_long_csv(content)
        else:
            book = fastexcel.read_excel(content)
            read = _read_monthly(book) if kind == MONTHLY else _read_timeseries(book)
    except FileRejected as exc:
        raise FileRejected(f"{name}: {exc}") from None
    except Exception as exc:  # any library error on malformed input must reach the user as a rejection
        raise FileRejected(f"{name}: the file could not be read as an NHS England publication; it may be damaged "
                           f"({type(exc).__name__}).") from exc
    read.trusts, read.icbs = reference_rows(read)
    read.issues = pl.concat([read.issues, check_daily(read.daily)], how="diagonal_relaxed").sort(
        "source_row", maintain_order=True)
    return read


def _read_monthly(book: fastexcel.ExcelReader) -> NhseRead:
    sheets, log = _sheets(book), t.Log()
    cover = _cover(book)
    period = _cover_dates(cover.get("period", []))
    published = _cover_dates(cover.get("published", []))
    if "table 2" not in sheets:
        raise FileRejected("Table 2 (patients not meeting the criteria to reside, per trust per day) is missing.")
    daily, daily_areas, layout = t.read_table2(t.load_grid(book, sheets["table 2"]), log)
    days = daily_areas["period_date"].unique().sort()
    _check_dates(days, period, "Table 2")
    month = period[0].replace(day=1) if period else days[0].replace(day=1)
    read = NhseRead(MONTHLY, f"NHS England acute discharge sitrep workbook (Table 2 daily, {layout})",
                    daily=daily, daily_areas=daily_areas, period=period, published=published and published[0])
    if "table 3" in sheets:
        grid = t.load_grid(book, sheets["table 3"])
        read.weekly_bed_days_lost, read.weekly_bed_days_lost_areas = t.read_table3(grid, log)
        _check_weeks(read.weekly_bed_days_lost_areas, period)
    if "table 4" in sheets:
        grid = t.load_grid(book, sheets["table 4"])
        read.monthly_destinations, read.destinations_areas = t.read_table4(grid, month, log)
        _check_dates(read.destinations_areas["period_start"].unique(), period, "Table 4")
    if "table 5" in sheets:
        grid = t.load_grid(book, sheets["table 5"])
        read.delay_reasons, read.delay_reasons_areas = t.read_table5(grid, month, log)
        _check_dates(read.delay_reasons_areas["period_start"].unique(), period, "Table 5")
    missing = [f"Table {n}" for n in (3, 4, 5) if f"table {n}" not in sheets]
    if missing:
        log.notes.append(f"sheet(s) not in this workbook, so not loaded: {', '.join(missing)}")
    ignored = [s for key, s in sheets.items() if key not in {"cover sheet", "table 2", "table 3", "table 4", "table 5"}]
    if ignored:  # contents, Table 1 (count of organisations not submitting) and lookups: no per-trust figures
        log.notes.insert(0, f"sheet(s) ignored, having no per-organisation figures: {', '.join(map(repr, ignored))}")
    log.notes.append("ICB, region and England rows are kept apart from the trusts (frames *_areas)")
    read.notes, read.issues = log.notes, pl.DataFrame(log.issues, schema=ISSUE_SCHEMA)
    return read


def _read_timeseries(book: fastexcel.ExcelReader) -> NhseRead:
    sheets, log = _sheets(book), t.Log()
    cover = _cover(book)
    read = NhseRead(TIMESERIES, "NHS England acute discharge sitrep national time series (Daily Series: 3 measures "
                                "per day and discharges by destination; Weekly Series: bed days lost, delay reasons)",
                    period=_cover_dates(cover.get("period", [])))
    if "daily series" not in sheets and "weekly series" not in sheets:
        raise FileRejected("neither a 'Daily Series' nor a 'Weekly Series' sheet was found.")
    if "daily series" in sheets:
        read.daily_areas, read.destinations_areas = t.read_daily_series(t.load_grid(book, sheets["daily series"]), log)
        _check_dates(read.daily_areas["period_date"].unique(), read.period, "Daily Series")
    if "weekly series" in sheets:
        read.weekly_bed_days_lost_areas, read.delay_reasons_areas = t.read_weekly_series(
            t.load_grid(book, sheets["weekly series"]), log)
    log.notes.insert(0, "national figures only (level 'england'): no trust rows in this publication")
    read.notes, read.issues = log.notes, pl.DataFrame(log.issues, schema=ISSUE_SCHEMA)
    return read


def _cover_dates(cells: list[str]) -> tuple[date, date] | None:
    """'Period:' 2023-11-01, '-', 2023-11-30 -> (first, last); 'Published:' 2023-12-14 -> (that day, that day)."""
    days = [d for c in cells if (d := t.parse_day(c)) is not None]
    return (days[0], days[-1]) if days else None


def _check_dates(days: pl.Series, period: tuple[date, date] | None, table: str) -> None:
    """Dates are known dates: inside the publication's stated period, never in the future."""
    today = date.today()
    for day in days.drop_nulls().to_list():
        if day > today:
            raise FileRejected(f"{table}: the date {day:%d/%m/%Y} is in the future.")
        if period and not period[0] <= day <= period[1]:
            raise FileRejected(f"{table}: the date {day:%d/%m/%Y} is outside the workbook's period "
                               f"({period[0]:%d/%m/%Y} to {period[1]:%d/%m/%Y}).")


def _check_weeks(weeks: pl.DataFrame, period: tuple[date, date] | None) -> None:
    """A week may start before the month (w/c 30/10/2023 in November) but must overlap it."""
    if not period:
        return
    for start, end in weeks.select("week_commencing", "week_ending").unique().iter_rows():
        if end < period[0] or start > period[1]:
            raise FileRejected(f"Table 3: the week commencing {start:%d/%m/%Y} is outside the workbook's period "
                               f"({period[0]:%d/%m/%Y} to {period[1]:%d/%m/%Y}).")


# ---------------------------------------------------------------------------------------------
# The long CSV (2024 on)
# ---------------------------------------------------------------------------------------------
# The one place a long-CSV Metric (normalised) is mapped: -> (frame, measure or published label).
# No real file was available: names follow the workbook's labels and DOMAIN 2.2; an unknown metric
# is listed in the notes (by its Metric Group, destinations and delay reasons are still recognised).
LONG_CSV_METRICS: dict[str, tuple[str, str]] = {
    "number of patients who no longer meet the criteria to reside": ("daily", "nctr_patients"),
    "patients who no longer meet the criteria to reside": ("daily", "nctr_patients"),
    "number of patients discharged": ("daily", "nctr_discharged"),
    "number of patients who no longer meet the criteria to reside who were discharged": ("daily", "nctr_discharged"),
    "number of patients remaining in hospital who no longer meet the criteria to reside": ("daily", "nctr_remaining"),
    "number of patients discharged by 17:00": ("daily", "nctr_discharged_by_5pm"),
    "number of patients discharged between 17:01 and 23:59": ("daily", "nctr_discharged_after_5pm"),
    **{t.norm(f"Number of additional bed days, patients with length of stay of {n}+ days"):
       ("bed_days", f"additional_bed_days_los_{n}plus") for n in (7, 14, 21)},
    **{t.norm(label): ("destination", label) for label in t.DESTINATIONS},
    **{t.norm(reason): ("reason", reason) for reason in t.DELAY_REASONS},
}
_LEVELS = {"national": t.ENGLAND, "england": t.ENGLAND, "region": t.REGION, "regional": t.REGION,
           "icb": t.ICB, "integrated care board": t.ICB, "provider": t.TRUST, "trust": t.TRUST,
           "acute trust": t.TRUST, "organisation": t.TRUST, "org": t.TRUST}
_CSV = "CSV"  # source_sheet of long-CSV rows; their source_row is the line number
ISSUE_LIMIT = 1000


def _read_long_csv(content: bytes) -> NhseRead:
    log = t.Log()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252")
    raw = pl.read_csv(text.encode(), infer_schema=False, truncate_ragged_lines=True)
    raw.columns = [_column_key(c) for c in raw.columns]
    frame = raw.select([pl.col(c) if c in raw.columns else pl.lit(None, pl.String).alias(c) for c in LONG_CSV_COLUMNS])
    frame = _long_metrics(_long_levels(frame.with_row_index("source_row", offset=2), log), log)
    value, status = t.parse_values(pl.col("value"))
    frame = frame.with_columns(
        text=pl.col("value"), column=pl.lit("Value"), source_column=pl.lit(None, pl.String),
        period=pl.coalesce(pl.col("period").str.strip_chars().str.to_date("%d/%m/%Y", strict=False),
                           pl.col("period").str.strip_chars().str.to_date("%Y-%m-%d", strict=False)),
        period_text=pl.col("period"), value=value, status=status)
    frame = _long_row_problems(frame, log)
    read = NhseRead(LONG_CSV, "NHS England acute discharge sitrep long CSV (a row per organisation, period, metric)")
    # one wide row per organisation and period: its provenance is the line of its first metric
    first_line = pl.col("source_row").min().over(["level", "code", "name", "region", "period", "kind"])
    wide_facts = frame.with_columns(source_row=first_line)
    daily_facts = wide_facts.filter(pl.col("kind") == "daily")
    daily = t.wide(t.whole_numbers(daily_facts, _CSV, log.issues), t.DAILY_MEASURES)
    daily = t.with_discharged_total(daily, set(daily_facts["measure"]), _CSV, log)
    read.daily, read.daily_areas = t.shape(daily, t.DAILY_SCHEMA, t.DAILY_AREA_SCHEMA, _CSV,
                                           period_date=pl.col("period"))
    icb_of = (frame.filter((pl.col("level") == t.TRUST) & pl.col("icb").str.contains(t.ICB_CODE))
              .group_by(org_code="code").agg(icb_code=pl.col("icb").first()))
    read.daily = read.daily.drop("icb_code").join(icb_of, on="org_code", how="left").select(t.DAILY_SCHEMA.keys())
    bed_days = t.wide(t.whole_numbers(wide_facts.filter(pl.col("kind") == "bed_days"), _CSV, log.issues),
                      t.BED_DAY_MEASURES)
    read.weekly_bed_days_lost, read.weekly_bed_days_lost_areas = t.shape(
        bed_days, t.BED_DAYS_SCHEMA, t.BED_DAYS_AREA_SCHEMA, _CSV, week_commencing=pl.col("period"),
        week_ending=pl.col("period") + pl.duration(days=6))
    read.monthly_destinations, read.destinations_areas = _long_destinations(frame, log)
    reasons = frame.filter(pl.col("kind") == "reason").with_columns(period_end=_period_end())
    read.delay_reasons, read.delay_reasons_areas = t.shape(
        reasons, t.DELAY_REASON_SCHEMA, t.DELAY_REASON_AREA_SCHEMA, _CSV, period_start=pl.col("period"),
        reason=pl.col("measure"), patients=pl.col("value"))
    read.notes, read.issues = log.notes, pl.DataFrame(log.issues, schema=ISSUE_SCHEMA)
    return read


def _long_levels(frame: pl.DataFrame, log: t.Log) -> pl.DataFrame:
    """Level -> england/region/icb/trust, and each row's code and name; unknown levels and
    non-trusts in trust rows are left out with a note."""
    frame = frame.with_columns(
        pl.col("level").str.strip_chars().str.to_lowercase().replace_strict(_LEVELS, default=None).alias("level"),
        level_text=pl.col("level"),
        code=pl.col("org_code").str.strip_chars().str.to_uppercase().replace("", None),
        name=pl.coalesce(pl.col("org_name").str.strip_chars().replace("", None),
                         pl.col("icb").str.strip_chars().replace("", None), pl.col("region").str.strip_chars()),
        region=pl.col("region").str.strip_chars(),
        icb=pl.col("icb").str.strip_chars().str.to_uppercase())
    frame = frame.with_columns(t.per_value(frame, "region", t.region_name))
    frame = frame.with_columns(
        code=pl.when((pl.col("level") == t.ICB) & pl.col("code").is_null() & pl.col("icb").str.contains(t.ICB_CODE))
        .then(pl.col("icb")).otherwise(pl.col("code")),
        name=pl.when(pl.col("level") == t.ENGLAND).then(pl.coalesce(pl.col("org_name"), pl.lit("ENGLAND")))
        .otherwise(pl.col("name")))
    unknown = frame.filter(pl.col("level").is_null()).group_by("level_text").len().sort("level_text")
    if unknown.height:
        log.notes.append("rows with a Level not recognised were not loaded: "
                         + ", ".join(f"'{lvl}' ({n:,} rows)" for lvl, n in unknown.iter_rows()))
    trust = pl.col("level") == t.TRUST
    stray = frame.filter(trust & (pl.col("code").is_null() | ~t.is_trust_expr(pl.col("code"), pl.col("name"))))
    if stray.height:
        lines = ", ".join(map(str, stray["source_row"].head(10)))
        log.notes.append(f"{stray.height:,} trust-level row(s) without a trust code, or with an ICB, region or "
                         f"England code, were not loaded as trusts (lines {lines})")
    return frame.filter(pl.col("level").is_not_null()).join(stray.select("source_row"), on="source_row", how="anti")


def _long_metrics(frame: pl.DataFrame, log: t.Log) -> pl.DataFrame:
    """Metric -> (kind, measure) through LONG_CSV_METRICS; destinations and delay reasons not in it are
    recognised by their Metric Group; anything else is reported in the notes, not silently dropped."""
    mapping: dict[str, tuple[str, str]] = {}
    unknown: list[str] = []
    for metric, group in frame.select("metric", "metric_group").unique().drop_nulls("metric").iter_rows():
        key = t.norm(metric)
        if key in LONG_CSV_METRICS:
            mapping[metric] = LONG_CSV_METRICS[key]
        elif "destination" in t.norm(group) and t.destination(metric)[0]:
            mapping[metric] = ("destination", t.tidy_label(metric))
        elif re.search(r"delay|reason", t.norm(group)):
            mapping[metric] = ("reason", t.tidy_label(metric))
        elif metric not in mapping:
            unknown.append(metric)
    if unknown:
        counts = frame.filter(pl.col("metric").is_in(unknown)).group_by("metric").len().sort("metric")
        log.notes.append("metric(s) not recognised, so not loaded: "
                         + "; ".join(f"'{m}' ({n:,} rows)" for m, n in counts.iter_rows()))
    return frame.with_columns(
        kind=pl.col("metric").replace_strict({k: v[0] for k, v in mapping.items()}, default=None),
        measure=pl.col("metric").replace_strict({k: v[1] for k, v in mapping.items()}, default=None),
    ).filter(pl.col("kind").is_not_null())


def _capped(rows: pl.DataFrame, what: str, log: t.Log) -> Iterator[dict]:
    """At most ISSUE_LIMIT rows to word as issues (a broken national file could have millions)."""
    if rows.height > ISSUE_LIMIT:
        log.notes.append(f"{rows.height:,} lines with {what}: only the first {ISSUE_LIMIT:,} are listed as issues")
    return rows.head(ISSUE_LIMIT).iter_rows(named=True)


def _long_row_problems(frame: pl.DataFrame, log: t.Log) -> pl.DataFrame:
    """Issues for unreadable dates and values and repeated metrics; notes on '[z]' and other markers."""
    for row in _capped(frame.filter(pl.col("period").is_null()), "a Period that is not a date", log):
        message = f"CSV line {row['source_row']}: Period '{row['period_text']}' is not a date (expected dd/mm/yyyy)"
        log.issues.append({"source_row": row["source_row"], "column_name": "period", "rule": "date",
                           "severity": "error", "message": message})
    for row in _capped(frame.filter(pl.col("status") == "bad"), "a Value that is not a number", log):
        log.issues.append({"source_row": row["source_row"], "column_name": row["measure"], "rule": "number",
                           "severity": "error",
                           "message": f"CSV line {row['source_row']}: Value '{row['text']}' is not a number"})
    markers = (frame.filter(pl.col("status") == "suppressed")
               .group_by(pl.col("text").str.strip_chars()).len().sort("text"))
    if markers.height:
        log.notes.append("values stored as missing, not 0: " + ", ".join(
            f"'{m}' x {n:,}" + (" (not applicable)" if m.lower() == "[z]" else "") for m, n in markers.iter_rows()))
    frame = frame.filter(pl.col("period").is_not_null())
    repeated = ~pl.struct("level", "code", "name", "period", "kind", "measure").is_first_distinct()
    for row in _capped(frame.filter(repeated), "a metric given again", log):
        log.issues.append({"source_row": row["source_row"], "column_name": row["measure"],
                           "rule": "one_value_per_metric", "severity": "error",
                           "message": f"CSV line {row['source_row']}: {row['metric']} for {row['code'] or row['name']} "
                                      f"on {row['period']:%d/%m/%Y} is given again; the first value was used"})
    return frame.filter(~repeated)


def _period_end() -> pl.Expr:
    """A delay-reason figure's period from its Metric Type: a week, a month, or the day itself."""
    kind = pl.col("metric_type").fill_null("").str.to_lowercase()
    return (pl.when(kind.str.contains("week")).then(pl.col("period") + pl.duration(days=6))
            .when(kind.str.contains("month")).then(pl.col("period").dt.month_end())
            .otherwise(pl.col("period")))


def _long_destinations(frame: pl.DataFrame, log: t.Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Destination figures by month (daily figures are summed to their month, with a note)."""
    long = t.whole_numbers(frame.filter(pl.col("kind") == "destination"), _CSV, log.issues)
    keys = ["level", "code", "name", "region", "measure"]
    monthly = long.with_columns(period=pl.col("period").dt.truncate("1mo")).group_by([*keys, "period"]).agg(
        value=pl.when(pl.col("value").count() > 0).then(pl.col("value").sum()),
        source_row=pl.col("source_row").min(), days=pl.len())
    if monthly.filter(pl.col("days") > 1).height:
        log.notes.append("discharges by destination given for several periods in a month were summed to the month")
    monthly = t.with_destinations(monthly.sort("source_row"), "measure", log)
    return t.shape(monthly, t.DESTINATION_SCHEMA, t.DESTINATION_AREA_SCHEMA, _CSV, month=pl.col("period"),
                   period_start=pl.col("period"), period_end=pl.col("period").dt.month_end(),
                   destination=pl.col("measure"), discharges=pl.col("value"))


# ---------------------------------------------------------------------------------------------
# Checks and roll-ups
# ---------------------------------------------------------------------------------------------
_WORDS = {"nctr_patients": "patients not meeting the criteria to reside", "nctr_discharged": "discharged",
          "nctr_remaining": "remaining", "nctr_discharged_by_5pm": "discharged by 17:00",
          "nctr_discharged_after_5pm": "discharged 17:01-23:59"}


def check_daily(daily: pl.DataFrame, today: date | None = None) -> pl.DataFrame:
    """The contract rules of issue item 7 over a ``daily`` frame, as ISSUE_SCHEMA rows (pure: no I/O)."""
    today = today or date.today()
    where = (pl.when(pl.col("source_column").is_null())
             .then(pl.format("{} line {} ({}, {})", "source_sheet", "source_row", "org_code", "day"))
             .otherwise(pl.format("{} row {}, column {} ({})", "source_sheet", "source_row", "source_column", "day")))
    frame = daily.with_columns(day=pl.col("period_date").dt.strftime("%d/%m/%Y").fill_null("no date"))
    rules: list[tuple[pl.Expr, str, str, str, pl.Expr]] = [
        (pl.col(m) < 0, m, "non_negative", "error", pl.format(f"{_WORDS[m]} ({{}}) is negative", m))
        for m in t.DAILY_MEASURES]
    rules += [
        (pl.col("nctr_discharged") > pl.col("nctr_patients"), "nctr_discharged", "nctr_discharged_le_nctr_patients",
         "error", pl.format("discharged ({}) is more than patients not meeting the criteria to reside ({})",
                            "nctr_discharged", "nctr_patients")),
        (pl.col("nctr_discharged_by_5pm") > pl.col("nctr_discharged"), "nctr_discharged_by_5pm",
         "nctr_discharged_by_5pm_le_nctr_discharged", "error",
         pl.format("discharged by 17:00 ({}) is more than discharged ({})",
                   "nctr_discharged_by_5pm", "nctr_discharged")),
        (pl.col("nctr_remaining") != pl.col("nctr_patients") - pl.col("nctr_discharged"), "nctr_remaining",
         "nctr_remaining_eq_nctr_patients_minus_nctr_discharged", "warning",
         pl.format("remaining ({}) is not patients not meeting the criteria to reside ({}) minus discharged ({})",
                   "nctr_remaining", "nctr_patients", "nctr_discharged")),
        (pl.len().over("period_date", "org_code") > 1, "org_code", "one_row_per_trust_day", "error",
         pl.format("{} has more than one row for this day", "org_code")),
        (pl.col("period_date").is_null(), "period_date", "known_date", "error", pl.lit("the date is not known")),
        (pl.col("period_date") > today, "period_date", "date_not_in_future", "error",
         pl.lit("the date is in the future")),
    ]
    # org_code and period_date name the trust-day an issue is about: one Excel row holds many days.
    parts = [frame.filter(test.fill_null(False)).select(
        "source_row", column_name=pl.lit(column), rule=pl.lit(rule), severity=pl.lit(severity),
        message=pl.format("{}: {}", where, message), org_code="org_code", period_date="period_date")
        for test, column, rule, severity, message in rules]
    return pl.concat(parts).cast(ISSUE_SCHEMA).sort("source_row", maintain_order=True)


def pathway_totals(monthly_destinations: pl.DataFrame) -> pl.DataFrame:
    """Per trust-month: discharges_p0 .. discharges_p3 (the trust sitrep's names), each the sum of its
    destination columns; null when all of them are missing. ``details_missing`` counts missing cells
    (at trust level the P2 hospice column is always suppressed)."""
    def total(p: int) -> pl.Expr:
        cells = pl.col("discharges").filter(pl.col("pathway") == p)
        return pl.when(cells.count() > 0).then(cells.sum()).alias(f"discharges_p{p}")

    summed = monthly_destinations.filter(pl.col("pathway").is_not_null()).group_by("month", "org_code").agg(
        *[total(p) for p in range(4)], details_missing=pl.col("discharges").null_count().cast(pl.Int64))
    return summed.sort("month", "org_code")


# ---------------------------------------------------------------------------------------------
# Reference data: the trusts and ICBs a publication names
# ---------------------------------------------------------------------------------------------
TRUST_SCHEMA = {"org_code": pl.String(), "name": pl.String(), "short_name": pl.String(), "region": pl.String(),
                "icb_code": pl.String(), "icb_name": pl.String(), "published_name": pl.String()}
ICB_SCHEMA = {"icb_code": pl.String(), "name": pl.String(), "short_name": pl.String(), "region": pl.String(),
              "published_name": pl.String()}
_UPPER_WORDS = {"NHS", "ICB", "UK", "CIC"}
_SMALL_WORDS = {"and", "of", "upon", "the", "on", "in", "at", "for", "by", "with", "under"}
_ORG_TYPE = re.compile(r"[\s,]*\b(NHS FOUNDATION TRUST|NHS TRUST|NATIONAL HEALTH SERVICE TRUST|FOUNDATION TRUST|"
                       r"NHS FT|TRUST)$")
# Words that say what kind of organisation it is rather than which one, dropped from the short name.
_GENERIC_HEAD = re.compile(r"^(THE\s+)?(UNIVERSITY HOSPITALS?\s+(OF\s+)?)?")
_GENERIC_TAIL = re.compile(r"\s+(UNIVERSITY TEACHING HOSPITALS?|TEACHING HOSPITALS?|UNIVERSITY HOSPITALS?|"
                           r"ACUTE HOSPITALS?|HOSPITALS UNIVERSITY|HOSPITALS?)$")


def title_case(text: str) -> str:
    """'THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST' -> 'The Newcastle upon Tyne Hospitals NHS
    Foundation Trust'; "KING'S" -> "King's"; 'STOKE-ON-TRENT' -> 'Stoke-on-Trent'."""
    parts = re.split(r"(\s+|-)", text.strip())
    out, first = [], True
    for part in parts:
        if not part or part.isspace() or part == "-":
            out.append(part)
            continue
        bare = re.sub(r"[^A-Za-z]", "", part).upper()
        if bare in _UPPER_WORDS:
            out.append(part.upper())
        elif not first and bare.lower() in _SMALL_WORDS:
            out.append(part.lower())
        else:
            out.append(part[:1].upper() + part[1:].lower())
        first = False
    return "".join(out)


def short_name(full_name: str) -> str:
    """The name a discharge group uses: 'YORK AND SCARBOROUGH TEACHING HOSPITALS NHS FOUNDATION TRUST' ->
    'York and Scarborough'. Drops the organisation type, a leading 'The'/'University Hospitals (of)' and
    a trailing '(Teaching/University/Acute) Hospital(s)', keeping what tells the trust apart."""
    name = re.sub(r"\s+", " ", full_name.upper()).strip()
    name = _ORG_TYPE.sub("", name).strip(" ,") or name
    for pattern in (_GENERIC_HEAD, _GENERIC_TAIL):
        shorter = pattern.sub("", name).strip(" ,")
        name = shorter or name
    return title_case(name)


def _short_names(names: dict[str, str]) -> dict[str, str]:
    """Short names for code -> full name; two trusts that would share one keep their fuller names."""
    short = {code: short_name(name) for code, name in names.items()}
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    return {code: value if counts[value] == 1 else title_case(_ORG_TYPE.sub("", names[code].upper()).strip(" ,"))
            for code, value in short.items()}


def icb_short_name(full_name: str) -> str:
    """'NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD' -> 'NHS Humber and North Yorkshire ICB'."""
    name = re.sub(r"\s*\*$", "", re.sub(r"\s+", " ", full_name).strip())  # a footnote star
    return title_case(re.sub(r"(?i)integrated care board$", "ICB", name))


def reference_rows(read: NhseRead) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The trusts and ICBs the publication names (first spelling seen), for adding to the reference data."""
    seen = pl.concat([frame.select("org_code", "org_name", "region") for frame in (
        read.daily, read.weekly_bed_days_lost, read.monthly_destinations, read.delay_reasons)])
    seen = seen.filter(pl.col("org_code").is_not_null()).unique("org_code", keep="first", maintain_order=True)
    icb_of = read.daily.filter(pl.col("icb_code").is_not_null()).unique("org_code").select("org_code", "icb_code")
    icbs = pl.concat([frame.filter(pl.col("level") == t.ICB).select("area_code", "area_name", "region") for frame in (
        read.daily_areas, read.weekly_bed_days_lost_areas, read.destinations_areas, read.delay_reasons_areas)])
    icbs = icbs.filter(pl.col("area_code").is_not_null()).unique("area_code", keep="first", maintain_order=True)
    icbs = icbs.select(icb_code="area_code", name=pl.col("area_name").map_elements(
        lambda n: title_case(re.sub(r"\s*\*$", "", n)), return_dtype=pl.String),
        short_name=pl.col("area_name").map_elements(icb_short_name, return_dtype=pl.String),
        region="region", published_name="area_name")
    shorts = _short_names(dict(seen.select("org_code", "org_name").iter_rows()))
    trusts = seen.join(icb_of, on="org_code", how="left").join(
        icbs.select("icb_code", icb_name="short_name"), on="icb_code", how="left").select(
        "org_code", name=pl.col("org_name").map_elements(title_case, return_dtype=pl.String),
        short_name=pl.col("org_code").replace_strict(shorts, default=None), region="region", icb_code="icb_code",
        icb_name="icb_name", published_name="org_name")
    return trusts.cast(TRUST_SCHEMA), icbs.cast(ICB_SCHEMA)
