"""NHS England's acute discharge sitrep as a long CSV (2024 on): ``Level, Region, ICB, Org Code,
Org Name, Period, Metric, Metric Type, Metric Group, Value``, a row per organisation, period and
metric, read into ``NhseRead``.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import polars as pl

from pipelines.catalogue.issues import ISSUE_SCHEMA
from pipelines.publication import tables
from pipelines.publication.tables import LONG_CSV, NhseRead

# ---------------------------------------------------------------------------------------------
# Recognition: the header line
# ---------------------------------------------------------------------------------------------
LONG_CSV_COLUMNS = ("level", "region", "icb", "org_code", "org_name", "period", "metric", "metric_type",
                    "metric_group", "value")
LONG_CSV_REQUIRED = {"level", "org_code", "period", "metric", "value"}


def _column_key(name: str) -> str:
    """'Org Code' -> 'org_code', 'Period (dd/mm/yyyy)' -> 'period'."""
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"\(.*?\)", "", name).strip().lower()).strip("_")


def csv_header(content: bytes) -> list[str] | None:
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
# Reading the long CSV (2024 on)
# ---------------------------------------------------------------------------------------------
# The one place a long-CSV Metric (normalised) is mapped: -> (frame, measure or published label).
# No real file was available: names follow the workbook's labels and docs/domain.md section 2.2; an unknown metric
# is listed in the notes (by its Metric Group, destinations and delay reasons are still recognised).
LONG_CSV_METRICS: dict[str, tuple[str, str]] = {
    "number of patients who no longer meet the criteria to reside": ("daily", "nctr_patients"),
    "patients who no longer meet the criteria to reside": ("daily", "nctr_patients"),
    "number of patients discharged": ("daily", "nctr_discharged"),
    "number of patients who no longer meet the criteria to reside who were discharged": ("daily", "nctr_discharged"),
    "number of patients remaining in hospital who no longer meet the criteria to reside": ("daily", "nctr_remaining"),
    "number of patients discharged by 17:00": ("daily", "nctr_discharged_by_5pm"),
    "number of patients discharged between 17:01 and 23:59": ("daily", "nctr_discharged_after_5pm"),
    **{tables.norm(f"Number of additional bed days, patients with length of stay of {n}+ days"):
       ("bed_days", f"additional_bed_days_los_{n}plus") for n in (7, 14, 21)},
    **{tables.norm(label): ("destination", label) for label in tables.DESTINATIONS},
    **{tables.norm(reason): ("reason", reason) for reason in tables.DELAY_REASONS},
}
_LEVELS = {"national": tables.ENGLAND, "england": tables.ENGLAND, "region": tables.REGION, "regional": tables.REGION,
           "icb": tables.ICB, "integrated care board": tables.ICB, "provider": tables.TRUST, "trust": tables.TRUST,
           "acute trust": tables.TRUST, "organisation": tables.TRUST, "org": tables.TRUST}
_CSV = "CSV"  # source_sheet of long-CSV rows; their source_row is the line number
ISSUE_LIMIT = 1000


def read_text_csv(content: bytes) -> pl.DataFrame:
    """A publication's CSV as text columns named by ``_column_key`` (UTF-8 with or without BOM, else cp1252)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252")
    raw = pl.read_csv(text.encode(), infer_schema=False, truncate_ragged_lines=True)
    raw.columns = [_column_key(c) for c in raw.columns]
    return raw


def read_long_csv(content: bytes) -> NhseRead:
    log = tables.Log()
    raw = read_text_csv(content)
    frame = raw.select([pl.col(c) if c in raw.columns else pl.lit(None, pl.String).alias(c) for c in LONG_CSV_COLUMNS])
    frame = _long_metrics(_long_levels(frame.with_row_index("source_row", offset=2), log), log)
    value, status = tables.parse_values(pl.col("value"))
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
    daily = tables.wide(tables.whole_numbers(daily_facts, _CSV, log.issues), tables.DAILY_MEASURES)
    daily = tables.with_discharged_total(daily, set(daily_facts["measure"]), _CSV, log)
    read.daily, read.daily_areas = tables.shape(daily, tables.DAILY_SCHEMA, tables.DAILY_AREA_SCHEMA, _CSV,
                                                period_date=pl.col("period"))
    icb_of = (frame.filter((pl.col("level") == tables.TRUST) & pl.col("icb").str.contains(tables.ICB_CODE))
              .group_by(org_code="code").agg(icb_code=pl.col("icb").first()))
    read.daily = read.daily.drop("icb_code").join(icb_of, on="org_code", how="left").select(tables.DAILY_SCHEMA.keys())
    bed_days = tables.wide(tables.whole_numbers(wide_facts.filter(pl.col("kind") == "bed_days"), _CSV, log.issues),
                           tables.BED_DAY_MEASURES)
    read.weekly_bed_days_lost, read.weekly_bed_days_lost_areas = tables.shape(
        bed_days, tables.BED_DAYS_SCHEMA, tables.BED_DAYS_AREA_SCHEMA, _CSV, week_commencing=pl.col("period"),
        week_ending=pl.col("period") + pl.duration(days=6))
    read.monthly_destinations, read.destinations_areas = _long_destinations(frame, log)
    reasons = frame.filter(pl.col("kind") == "reason").with_columns(period_end=_period_end())
    read.delay_reasons, read.delay_reasons_areas = tables.shape(
        reasons, tables.DELAY_REASON_SCHEMA, tables.DELAY_REASON_AREA_SCHEMA, _CSV, period_start=pl.col("period"),
        reason=pl.col("measure"), patients=pl.col("value"))
    read.notes, read.issues = log.notes, pl.DataFrame(log.issues, schema=ISSUE_SCHEMA)
    return read


def _long_levels(frame: pl.DataFrame, log: tables.Log) -> pl.DataFrame:
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
    frame = frame.with_columns(tables.per_value(frame, "region", tables.region_name))
    frame = frame.with_columns(
        code=pl.when((pl.col("level") == tables.ICB) & pl.col("code").is_null()
                     & pl.col("icb").str.contains(tables.ICB_CODE))
        .then(pl.col("icb")).otherwise(pl.col("code")),
        name=pl.when(pl.col("level") == tables.ENGLAND).then(pl.coalesce(pl.col("org_name"), pl.lit("ENGLAND")))
        .otherwise(pl.col("name")))
    unknown = frame.filter(pl.col("level").is_null()).group_by("level_text").len().sort("level_text")
    if unknown.height:
        log.notes.append("rows with a Level not recognised were not loaded: "
                         + ", ".join(f"'{lvl}' ({n:,} rows)" for lvl, n in unknown.iter_rows()))
    trust = pl.col("level") == tables.TRUST
    stray = frame.filter(trust & (pl.col("code").is_null() | ~tables.is_trust_expr(pl.col("code"), pl.col("name"))))
    if stray.height:
        lines = ", ".join(map(str, stray["source_row"].head(10)))
        log.notes.append(f"{stray.height:,} trust-level row(s) without a trust code, or with an ICB, region or "
                         f"England code, were not loaded as trusts (lines {lines})")
    return frame.filter(pl.col("level").is_not_null()).join(stray.select("source_row"), on="source_row", how="anti")


def _long_metrics(frame: pl.DataFrame, log: tables.Log) -> pl.DataFrame:
    """Metric -> (kind, measure) through LONG_CSV_METRICS; destinations and delay reasons not in it are
    recognised by their Metric Group; anything else is reported in the notes, not silently dropped."""
    mapping: dict[str, tuple[str, str]] = {}
    unknown: list[str] = []
    for metric, group in frame.select("metric", "metric_group").unique().drop_nulls("metric").iter_rows():
        key = tables.norm(metric)
        if key in LONG_CSV_METRICS:
            mapping[metric] = LONG_CSV_METRICS[key]
        elif "destination" in tables.norm(group) and tables.destination(metric)[0]:
            mapping[metric] = ("destination", tables.tidy_label(metric))
        elif re.search(r"delay|reason", tables.norm(group)):
            mapping[metric] = ("reason", tables.tidy_label(metric))
        elif metric not in mapping:
            unknown.append(metric)
    if unknown:
        counts = frame.filter(pl.col("metric").is_in(unknown)).group_by("metric").len().sort("metric")
        log.notes.append("metric(s) not recognised, so not loaded: "
                         + "; ".join(f"'{m}' ({n:,} rows)" for m, n in counts.iter_rows()))
    return frame.with_columns(
        kind=pl.col("metric").replace_strict({k: v[0] for k, v in mapping.items()}, default=None),
        measure=pl.col("metric").replace_strict({k: v[1] for k, v in mapping.items()}, default=None),
        # the Metric Group says which cohort a delay reason counts: reasons at 7+ and 14+ days are different figures
        length_of_stay=pl.concat_str(pl.col("metric_group").str.extract(r"(\d+)\s*(?:\+|or more|plus)", 1),
                                     pl.lit("+")),
    ).filter(pl.col("kind").is_not_null())


def _capped(rows: pl.DataFrame, what: str, log: tables.Log) -> Iterator[dict]:
    """At most ISSUE_LIMIT rows to word as issues (a broken national file could have millions)."""
    if rows.height > ISSUE_LIMIT:
        log.notes.append(f"{rows.height:,} lines with {what}: only the first {ISSUE_LIMIT:,} are listed as issues")
    return rows.head(ISSUE_LIMIT).iter_rows(named=True)


def _long_row_problems(frame: pl.DataFrame, log: tables.Log) -> pl.DataFrame:
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
    repeated = ~pl.struct("level", "code", "name", "period", "kind", "measure", "length_of_stay").is_first_distinct()
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


def _long_destinations(frame: pl.DataFrame, log: tables.Log) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Destination figures by month (daily figures are summed to their month, with a note)."""
    long = tables.whole_numbers(frame.filter(pl.col("kind") == "destination"), _CSV, log.issues)
    keys = ["level", "code", "name", "region", "measure"]
    monthly = long.with_columns(period=pl.col("period").dt.truncate("1mo")).group_by([*keys, "period"]).agg(
        value=pl.when(pl.col("value").count() > 0).then(pl.col("value").sum()),
        source_row=pl.col("source_row").min(), days=pl.len())
    if monthly.filter(pl.col("days") > 1).height:
        log.notes.append("discharges by destination given for several periods in a month were summed to the month")
    monthly = tables.with_destinations(monthly.sort("source_row"), "measure", log)
    return tables.shape(monthly, tables.DESTINATION_SCHEMA, tables.DESTINATION_AREA_SCHEMA, _CSV,
                        month=pl.col("period"), period_start=pl.col("period"),
                        period_end=pl.col("period").dt.month_end(), destination=pl.col("measure"),
                        discharges=pl.col("value"))
