"""Read-only questions the trust drill-down page asks of the warehouse. No Streamlit here.

Every function takes a read-only connection first and hashable arguments (dates, strings),
so the page can run it through ``ui.data.read``. Weekly figures come from the documented
views (``weekly_position``, ``daily_metric``); the per-site figures, which no view holds,
are generated from the formulas in ``pipelines.catalogue.metrics`` so no formula is written twice.
The SPC chart reads the series ``metric_spc`` is built from (``store.weekly_series``), and
NHS England's publication adds its monthly pathway mix and delay reasons (``nhse_destinations``,
``nhse_delay_reasons``) for the trusts it covers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from pipelines.catalogue.columns import COLUMN_NAMES
from pipelines.catalogue.dates import uk_date
from pipelines.catalogue.metrics import METRICS, Metric
from pipelines.publication.beds_csv import MONTHLY_POINTS
from pipelines.queries import weekly
from pipelines.queries.published import DATED_BY_LOAD, published_source
from pipelines.spc import store
from pipelines.spc.explain import change_sentence
from pipelines.spc.xmr import SpcResult, xmr_many

_BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}

# The values of ``sitrep_daily.source`` (``pipelines.ingest.load.SOURCE`` and ``pipelines.publication.store.SOURCE``;
# written out here so the page does not import the loaders and their contract library).
TRUST_SITREP, PUBLICATION = "trust_sitrep", "nhse_publication"
# The only sitrep fields NHS England's publication supplies, day by day (``load_publication.store_publication``).
PUBLICATION_FIELDS = frozenset({"nctr_patients", "nctr_discharged", "nctr_discharged_by_5pm"})
_BED_FIELDS = frozenset({"ga_beds_open", "ga_beds_occupied", "covid_beds_occupied", "los_7plus", "los_14plus",
                         "los_21plus"})
PATHWAY_METRIC = "pathway_0_1_pct"  # its ambition is the "home" line of the monthly pathway mix
DEFAULT_WEEKS = 26  # the page opens on this many latest weeks


def week_ending(day: date) -> date:
    """The Sunday that closes the Monday-to-Sunday week holding ``day``."""
    return day + timedelta(days=6 - day.weekday())


def weeks_in_range(first: date, last: date, earliest: date, latest: date) -> tuple[date, date]:
    """The first and last week (by Sunday) to show for the days ``first`` to ``last``: the weeks
    wholly inside them, so no weekly figure counts days outside the range, plus a part week at an
    end where the data itself starts or stops (``earliest``, ``latest``); if no whole week fits,
    the weeks the range touches."""
    first_week = week_ending(first if first == earliest else first + timedelta(days=6))
    last_week = week_ending(last if last == latest else last - timedelta(days=6))
    return (first_week, last_week) if first_week <= last_week else (week_ending(first), week_ending(last))


def default_window(earliest: date, latest: date, trust_last: date | None,
                   weeks: int = DEFAULT_WEEKS) -> tuple[date, date]:
    """The days the page opens on: the latest ``weeks`` weeks (Monday to Sunday) with figures; a trust
    whose figures stop earlier (one known only from an older NHS England publication, say) opens on
    its own latest weeks instead of an empty range."""
    def start(end: date) -> date:
        return max(earliest, week_ending(end) - timedelta(weeks=weeks) + timedelta(days=1))

    end = trust_last if trust_last is not None and trust_last < start(latest) else latest
    return start(end), end


@dataclass(frozen=True)
class TrustWeeks:
    """The weeks the page shows for the chosen days: ``weekly`` the trust's ``weekly_position`` rows
    from ``first_week`` to ``last_week`` (by Sunday), ``week`` the summary week (None: no figures)."""
    first_week: date
    last_week: date
    weekly: pl.DataFrame
    week: date | None


def trust_weeks(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                extent: tuple[date, date]) -> TrustWeeks:
    """The trust's weeks for the days ``first`` to ``last`` (``weeks_in_range``, ``extent`` the first and
    last day of the data); when its only figures are in a part week at an end of the range, that week.
    The summary week is the latest ending on or before ``last`` (else the only, part, week)."""
    first_week, last_week = weeks_in_range(first, last, *extent)
    rows = trust_weekly(con, org_code, first_week, last_week)
    if rows.is_empty():
        first_week, last_week = week_ending(first), week_ending(last)
        rows = trust_weekly(con, org_code, first_week, last_week)
    complete = rows.filter(pl.col("week_ending") <= last)["week_ending"]
    week = (complete if not complete.is_empty() else rows["week_ending"]).max()
    return TrustWeeks(first_week, last_week, rows, week)  # type: ignore[arg-type]  # a date or None


def trusts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every known trust (and any code with figures but no reference row), by short name,
    with its ICB, place, local authority and the first and last day it reported."""
    return con.sql("""
        WITH reported AS (
            SELECT org_code, min(period_date) AS first_date, max(period_date) AS last_date
            FROM sitrep_daily GROUP BY org_code
        )
        SELECT org_code, coalesce(t.short_name, org_code) AS short_name, t.name, t.icb_code, t.icb_name, t.place,
            t.local_authority, r.first_date, r.last_date
        FROM trusts t FULL JOIN reported r USING (org_code)
        ORDER BY short_name, org_code
    """).pl()


def trust_weekly(con: duckdb.DuckDBPyConnection, org_code: str, first_week: date, last_week: date) -> pl.DataFrame:
    """The trust's ``weekly_position`` rows (every metric) for the weeks ending in the range."""
    return con.sql("""
        SELECT * FROM weekly_position
        WHERE org_code = ? AND week_ending BETWEEN ? AND ?
        ORDER BY week_ending, display_order
    """, params=[org_code, first_week, last_week]).pl()


def trust_daily(con: duckdb.DuckDBPyConnection, org_code: str, metrics: tuple[str, ...], first: date,
                last: date) -> pl.DataFrame:
    """Daily values of the given metrics for the trust (sites rolled up), from ``daily_metric``."""
    return con.sql("""
        SELECT period_date, metric, value, numerator, denominator FROM daily_metric
        WHERE org_code = ? AND metric IN (SELECT unnest(?::VARCHAR[])) AND period_date BETWEEN ? AND ?
        ORDER BY metric, period_date
    """, params=[org_code, list(metrics), first, last]).pl()


def icb_members(con: duckdb.DuckDBPyConnection, org_code: str) -> list[str]:
    """The trusts in the same ICB as ``org_code`` (itself included), or just itself if it has no ICB."""
    rows = con.execute("""
        SELECT org_code FROM trusts
        WHERE icb_code = (SELECT icb_code FROM trusts WHERE org_code = ?) ORDER BY org_code
    """, [org_code]).fetchall()
    return [r[0] for r in rows] or [org_code]


def system_weekly(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, first_week: date,
                  last_week: date) -> pl.DataFrame:
    """The metric for all trusts of the trust's ICB combined, per week (``weekly.system_weekly``)."""
    combined = weekly.system_weekly(con, tuple(icb_members(con, org_code)), first_week, last_week)
    return combined.filter(pl.col("metric") == metric)


def peers(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, week: date) -> pl.DataFrame:
    """Every trust of the trust's ICB that reported in the week: its value, ambition and status."""
    return con.sql("""
        SELECT org_code, coalesce(trust, org_code) AS trust, value, unit, ambition, ambition_comparison, status,
            days_with_data
        FROM weekly_position
        WHERE metric = ? AND week_ending = ? AND value IS NOT NULL
          AND org_code IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY value, trust
    """, params=[metric, week, icb_members(con, org_code)]).pl()


def _site_value_sql(metric: Metric) -> tuple[str, str]:
    """One site-day's numerator and denominator as SQL over a ``sitrep_daily`` row, from the
    catalogue: a ratio's own denominator, one day for a daily average, none for a maximum."""
    numerator = f"CAST(({metric.numerator}) AS DOUBLE)"
    if metric.has_denominator:
        denominator = f"CAST(({metric.denominator}) AS DOUBLE)"
    elif metric.is_count:
        denominator = f"CASE WHEN ({metric.numerator}) IS NOT NULL THEN CAST(1 AS DOUBLE) END"
    else:
        denominator = "CAST(NULL AS DOUBLE)"
    return numerator, denominator


def site_metric(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, first: date, last: date) -> pl.DataFrame:
    """The metric per site per day for a trust that submits per site; empty for trust-level rows."""
    definition = _BY_ID[metric]  # a KeyError for an unknown id: only catalogue SQL is ever interpolated
    numerator, denominator = _site_value_sql(definition)
    return con.sql(f"""
        SELECT period_date, site_code, {numerator} AS numerator, {denominator} AS denominator,
            metric_value(?, {numerator}, {denominator}) AS value
        FROM sitrep_daily
        WHERE org_code = ? AND site_code IS NOT NULL AND period_date BETWEEN ? AND ?
        ORDER BY site_code, period_date
    """, params=[definition.aggregate, org_code, first, last]).pl()


# --- where the figures came from -------------------------------------------------------------------

def source_groups(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> list[dict[str, object]]:
    """The trust's current figures in the range grouped by ``sitrep_daily.source``, earliest first:
    per source its files (in date order), the runs of consecutive days it covers (``spans``, a list
    of (first, last) pairs), its number of days and when its latest file was loaded."""
    files = con.execute("""
        SELECT source, source_file, max(loaded_at)
        FROM sitrep_daily WHERE org_code = ? AND period_date BETWEEN ? AND ?
        GROUP BY source, file_id, source_file
        ORDER BY source, min(period_date), file_id
    """, [org_code, first, last]).fetchall()
    spans = con.execute("""
        WITH days AS (
            SELECT DISTINCT source, period_date FROM sitrep_daily
            WHERE org_code = ? AND period_date BETWEEN ? AND ?
        ), runs AS (  -- consecutive days share period_date minus their position
            SELECT source, period_date,
                period_date - CAST(row_number() OVER (PARTITION BY source ORDER BY period_date) AS INTEGER) AS run
            FROM days
        )
        SELECT source, min(period_date), max(period_date), count(*) FROM runs
        GROUP BY source, run ORDER BY source, 2
    """, [org_code, first, last]).fetchall()
    groups: dict[str, dict[str, Any]] = {}  # heterogeneous: files and spans lists, a day count, a timestamp
    for source, start, end, days in spans:
        group = groups.setdefault(source, {"source": source, "files": [], "spans": [], "days": 0, "loaded_at": None})
        group["spans"].append((start, end))
        group["days"] += days
    for source, file_name, loaded_at in files:
        group = groups[source]
        group["files"].append(file_name)
        if loaded_at is not None and (group["loaded_at"] is None or loaded_at > group["loaded_at"]):
            group["loaded_at"] = loaded_at
    return sorted(groups.values(), key=lambda g: g["spans"][0][0])


def metric_fields(metric: str) -> frozenset[str]:
    """The sitrep fields a metric's formula reads (from the catalogue's SQL)."""
    definition = _BY_ID[metric]
    words = set(re.findall(r"[a-z_0-9]+", f"{definition.numerator} {definition.denominator or ''}"))
    return frozenset(words & set(COLUMN_NAMES))


def publication_gap(metric: str) -> str | None:
    """Why NHS England's publication cannot supply ``metric`` (for a trust whose figures come only
    from it), or None when it can: it has criteria-to-reside counts only, no beds or lengths of stay."""
    fields = metric_fields(metric)
    if fields <= PUBLICATION_FIELDS:
        return None
    if fields & _BED_FIELDS:
        return "NHS England's publication has no bed or length-of-stay figures"
    if any(f.startswith("discharges_p") for f in fields):
        return "NHS England's publication has discharges by pathway by month only: see the pathway mix by month"
    return "NHS England's publication has no OPEL levels"


def publication_metrics() -> tuple[str, ...]:
    """The metrics NHS England's publication supplies day by day (``publication_gap`` is None), in
    catalogue order: the tiles of a trust whose figures come only from it."""
    return tuple(m.id for m in METRICS if publication_gap(m.id) is None)


# --- NHS England's publication: monthly pathways and delay reasons ----------------------------------

def publication_versions(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> pl.DataFrame:
    """The versions of the publication's monthly tables on record for the trust over the range (Table 4's
    destinations and the delay reasons, current or replaced by a revised file), newest first: ``published_on``
    (each file's own date, ``nhse_publication_dates``), ``dated_by`` (which date that is) and ``files``."""
    touched = "\n            UNION ".join(
        f"SELECT file_id, loaded_at FROM {table}{kept} WHERE org_code = $1 AND {overlaps}"
        for table, overlaps in (("nhse_destinations", "month BETWEEN date_trunc('month', $2::DATE) AND $3"),
                                ("nhse_delay_reasons", "period_start <= $3 AND period_end >= $2"))
        for kept in ("", "_superseded"))
    return con.sql(f"""
        WITH touched AS ({touched})
        SELECT coalesce(p.published_on, CAST(t.loaded_at AS DATE)) AS published_on,
            coalesce(any_value(p.dated_by), $4) AS dated_by,
            string_agg(DISTINCT f.file_name, ', ' ORDER BY f.file_name) AS files
        FROM touched t LEFT JOIN nhse_publication_dates p USING (file_id) LEFT JOIN ingest_files f USING (file_id)
        GROUP BY 1 ORDER BY 1 DESC
    """, params=[org_code, first, last, DATED_BY_LOAD]).pl()


def publication_destinations(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                             published_on: date | None = None) -> pl.DataFrame:
    """Table 4 of the publication for the trust: discharges by destination for each month that
    overlaps the range, with the file it came from and the ambition for discharges home (P0-P1)
    in force at the start of the month; as published on ``published_on`` (None: the current figures)."""
    return con.sql(f"""
        SELECT d.month, d.destination_code, d.destination, d.pathway, d.discharges, f.file_name AS source_file,
            a.threshold AS ambition, a.comparison AS ambition_comparison
        FROM {published_source("nhse_destinations", published_on)} d
        LEFT JOIN ingest_files f USING (file_id)
        LEFT JOIN LATERAL ambition_in_force(?, d.month) a ON true
        WHERE d.org_code = ? AND d.month BETWEEN date_trunc('month', ?::DATE) AND ?
        ORDER BY d.month, d.pathway, d.destination_code, d.destination
    """, params=[PATHWAY_METRIC, org_code, first, last]).pl()


def pathway_share_metrics() -> tuple[str, ...]:
    """The catalogue's share of discharges on each single pathway (P0, P1, P2, P3 in order): the
    metrics with the home metric's denominator (all discharges) whose numerator is one pathway."""
    total = _BY_ID[PATHWAY_METRIC].denominator
    return tuple(m.id for m in METRICS
                 if m.denominator == total and re.fullmatch(r"discharges_p\d", m.numerator.strip()))


def publication_pathway_mix(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                            published_on: date | None = None) -> pl.DataFrame:
    """The publication's monthly discharges by pathway (Table 4, ``nhse_destinations``, as published on
    ``published_on``) as the catalogue's pathway metrics (``pathway_share_metrics`` and the home metric): per
    month with any discharges and metric, ``value`` (per cent), ``numerator`` and ``denominator`` (discharges),
    by the same formulas as the trust's own sitrep. A destination not published counts as none."""
    definitions = [_BY_ID[m] for m in (*pathway_share_metrics(), PATHWAY_METRIC)]
    pathways = ",\n            ".join(
        f"coalesce(sum(discharges) FILTER (WHERE pathway = {n}), 0) AS discharges_p{n}" for n in range(4))
    selects = "\n        UNION ALL ".join(
        f"SELECT month, '{d.id}' AS metric, {num} AS numerator, {den} AS denominator, "
        f"metric_value('{d.aggregate}', {num}, {den}) AS value FROM months"
        for d, (num, den) in ((d, _site_value_sql(d)) for d in definitions))
    return con.sql(f"""
        WITH months AS (
            SELECT month, {pathways}
            FROM {published_source("nhse_destinations", published_on)}
            WHERE org_code = ? AND month BETWEEN date_trunc('month', ?::DATE) AND ?
            GROUP BY month
        ), mix AS ({selects})
        SELECT * FROM mix WHERE denominator > 0 ORDER BY month, metric
    """, params=[org_code, first, last]).pl()


DEFAULT_STAY = "14+"  # the delay reasons' cohort every workbook publishes (Table 5); from 2024 also 7+ and 21+


def _reason_rows(table: str, published_on: date | None) -> str:
    """A delay reason table's rows, as published on ``published_on``; a file from before cohorts were kept
    apart (no ``length_of_stay``) counted 14+ days."""
    return f"""(SELECT * REPLACE (coalesce(length_of_stay, '{DEFAULT_STAY}') AS length_of_stay)
               FROM {published_source(table, published_on)})"""


def publication_delay_reasons(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                              top: int = 5, length_of_stay: str = DEFAULT_STAY,
                              published_on: date | None = None) -> pl.DataFrame:
    """Tables 5 to 7 of the publication for the trust: the average number of NCTR patients with a length
    of stay of ``length_of_stay`` days ('14+', Table 5) by delay reason, in each period overlapping the range,
    as published on ``published_on`` (None: the current figures), for the ``top`` reasons of the latest
    period that has figures (most patients first; ``rank`` 1 is the largest). A trust the publication does
    not list (a trust-level table has no row for it) gets its ICB's reasons instead, where the publication
    has them: ``area`` names the ICB then, and is null for the trust's own reasons. ``source_sheet`` names the
    table ('Table 6'; 'CSV' for the long CSV)."""
    return con.sql(f"""
        WITH own AS (
            SELECT period_start, period_end, reason, patients, file_id, source_sheet, CAST(NULL AS VARCHAR) AS area
            FROM {_reason_rows("nhse_delay_reasons", published_on)}
            WHERE org_code = $1 AND period_start <= $2 AND period_end >= $3 AND length_of_stay = $5
        ), icb AS (
            SELECT period_start, period_end, reason, patients, file_id, source_sheet, area_name AS area
            FROM {_reason_rows("nhse_delay_reasons_area", published_on)}
            WHERE level = 'icb' AND area_code = (SELECT icb_code FROM trusts WHERE org_code = $1)
              AND period_start <= $2 AND period_end >= $3 AND length_of_stay = $5
              AND NOT EXISTS (SELECT 1 FROM own)
        ), shown AS (
            SELECT r.*, f.file_name AS source_file
            FROM (SELECT * FROM own UNION ALL SELECT * FROM icb) r LEFT JOIN ingest_files f USING (file_id)
        ), latest AS (
            SELECT reason, row_number() OVER (ORDER BY patients DESC, reason) AS rank FROM shown
            WHERE period_start = (SELECT max(period_start) FROM shown WHERE patients IS NOT NULL)
              AND patients IS NOT NULL
        )
        SELECT s.period_start, s.period_end, s.reason, s.patients, s.source_file, s.source_sheet, s.area, l.rank
        FROM shown s JOIN latest l USING (reason)
        WHERE l.rank <= $4
        ORDER BY l.rank, s.period_start
    """, params=[org_code, last, first, top, length_of_stay]).pl()


def publication_delay_stays(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                            published_on: date | None = None) -> list[str]:
    """The length-of-stay cohorts ('7+', '14+', '21+') the publication gives delay reasons for, for the trust
    (or, when it lists none for the trust, its ICB) over the range, shortest stay first."""
    return [row[0] for row in con.execute(f"""
        WITH own AS (
            SELECT DISTINCT length_of_stay FROM {_reason_rows("nhse_delay_reasons", published_on)}
            WHERE org_code = $1 AND period_start <= $2 AND period_end >= $3
        ), icb AS (
            SELECT DISTINCT length_of_stay FROM {_reason_rows("nhse_delay_reasons_area", published_on)}
            WHERE level = 'icb' AND area_code = (SELECT icb_code FROM trusts WHERE org_code = $1)
              AND period_start <= $2 AND period_end >= $3 AND NOT EXISTS (SELECT 1 FROM own)
        )
        SELECT length_of_stay FROM (SELECT * FROM own UNION ALL SELECT * FROM icb)
        ORDER BY CAST(rtrim(length_of_stay, '+') AS INTEGER)
    """, [org_code, last, first]).fetchall()]


def delay_reasons_text(reasons: pl.DataFrame, shown: int = 3) -> str:
    """The largest delay reasons of the latest period in one line, from ``publication_delay_reasons``:
    'Largest delay reasons, 01/11/2023 to 30/11/2023 (NHS England publication; patients staying 14+ days
    not meeting the criteria to reside, average a day): Awaiting transport 12.5; ...', naming the ICB when
    they are its. Says so when no file loaded has them."""
    if reasons.is_empty():
        return "Delay reasons: none in the files loaded, for this trust or its ICB."
    latest = reasons.filter(pl.col("period_start") == pl.col("period_start").max()).sort("rank")
    first = latest.row(0, named=True)
    whose = f"{first['area']} (the trust's ICB), " if first["area"] else ""
    listed = "; ".join(f"{r['reason']} {r['patients']:,.1f}" for r in latest.head(shown).iter_rows(named=True)
                       if r["patients"] is not None)
    return (f"Largest delay reasons, {whose}{uk_date(first['period_start'])} to {uk_date(first['period_end'])} "
            f"(NHS England publication; patients staying 14+ days not meeting the criteria to reside, average "
            f"a day): {listed}.")


# --- statistical process control --------------------------------------------------------------------

@dataclass(frozen=True)
class TrustSpc:
    """One trust and metric charted as ``metric_spc`` charts it (``store.weekly_series``, then the
    Making Data Count rules): ``result`` the chart; ``ambition`` the weekly ambition in force
    (``week_ending``, ``ambition``, ``ambition_comparison``, ``unit``) for the chart's ambition line;
    ``settings`` the stored baseline and recalculation dates (None when none are stored); ``parts`` the
    charted weeks' numerator, denominator and days (``period``, ``numerator``, ``denominator``,
    ``days_with_data``), for the counts behind a change (``pipelines.spc.explain``)."""
    result: SpcResult
    better: str
    target: float | None
    target_comparison: str | None
    ambition: pl.DataFrame
    settings: dict[str, Any] | None  # one spc_settings row: DATE, DATE[], VARCHAR and TIMESTAMP values
    parts: pl.DataFrame

    def change_text(self, metric: Metric) -> str:
        """What the chart says changed and when, with the counts behind it (``explain.change_sentence``)."""
        return change_sentence(self.result.points, self.parts, metric.numerator_text, metric.denominator_text)


def trust_spc(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, up_to_week: date) -> TrustSpc:
    """The XmR chart of one trust's metric over its complete weeks up to ``up_to_week``."""
    series = store.weekly_series(con, up_to_week, [org_code], [metric])
    if series.is_empty():
        points, _ = xmr_many(series, keys=store.KEYS)
        result = SpcResult(points.drop(store.KEYS), "run_chart", None, "No complete weeks to chart.", 0, 0)
        target = comparison = None
    else:
        points, summary = xmr_many(series, keys=store.KEYS)
        row = summary.row(0, named=True)
        result = SpcResult(points.drop(store.KEYS), row["variation"], row["assurance"], row["message"],
                           row["n_points"], row["missing"])
        target, comparison = series["target"][0], series["target_comparison"][0]
    ambition = con.sql("""
        SELECT week_ending, ambition, ambition_comparison, unit FROM weekly_position
        WHERE org_code = ? AND metric = ? AND days_with_data = 7 AND week_ending <= ?
        ORDER BY week_ending
    """, params=[org_code, metric, up_to_week]).pl()
    stored = con.sql("""
        SELECT baseline_start, baseline_end, recalculate_from, reason, set_by, set_at
        FROM spc_settings WHERE org_code = ? AND metric = ?
    """, params=[org_code, metric]).pl()
    parts = con.sql("""
        SELECT week_ending AS period, numerator, denominator, days_with_data FROM weekly_metric_parts
        WHERE org_code = ? AND metric = ? AND days_with_data = 7 AND week_ending <= ?
        ORDER BY week_ending
    """, params=[org_code, metric, up_to_week]).pl()
    return TrustSpc(result, _BY_ID[metric].better, target, comparison, ambition,
                    stored.row(0, named=True) if stored.height else None, parts)


# --- NHS England's beds publications, merged trusts and where each field came from ------------------

def field_sources(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> pl.DataFrame:
    """Which source each current field of the trust came from in the range (``sitrep_field_source``):
    field, source, days; most days first."""
    return con.sql("""
        SELECT field, source, count(*) AS days FROM sitrep_field_source
        WHERE org_code = ? AND period_date BETWEEN ? AND ? AND source IS NOT NULL
        GROUP BY field, source ORDER BY field, days DESC
    """, params=[org_code, first, last]).pl()


def monthly_beds_points(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, first: date,
                        last: date) -> pl.DataFrame:
    """The monthly beds publication's average for ``metric`` (``MONTHLY_POINTS``), per month overlapping
    the range: month, value (a percentage), source_file. Empty when the publication has no such figure."""
    if metric not in MONTHLY_POINTS:
        return pl.DataFrame(schema={"month": pl.Date, "value": pl.Float64, "source_file": pl.String})
    numerator, denominator = MONTHLY_POINTS[metric]
    return con.sql("""
        WITH m AS (
            SELECT month, measure, value, file_id FROM nhse_beds_monthly
            WHERE org_code = $1 AND month BETWEEN date_trunc('month', $2::DATE) AND $3 AND measure IN ($4, $5)
        )
        SELECT n.month, 100.0 * CASE WHEN $5 IS NULL THEN n.value ELSE n.value / nullif(d.value, 0) END AS value,
            f.file_name AS source_file
        FROM m n LEFT JOIN m d ON d.month = n.month AND d.measure = $5
        LEFT JOIN ingest_files f ON f.file_id = n.file_id
        WHERE n.measure = $4 AND n.value IS NOT NULL
        ORDER BY n.month
    """, params=[org_code, first, last, numerator, denominator]).pl()


def bed_days_lost(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date) -> pl.DataFrame:
    """Table 3 of the discharge sitrep for the trust: weekly additional bed days lost for NCTR patients
    with stays of 7+, 14+ and 21+ days, for the weeks overlapping the range, with the file."""
    return con.sql("""
        SELECT b.week_commencing, b.week_ending, b.additional_bed_days_los_7plus AS los_7plus,
            b.additional_bed_days_los_14plus AS los_14plus, b.additional_bed_days_los_21plus AS los_21plus,
            f.file_name AS source_file
        FROM nhse_bed_days_lost b LEFT JOIN ingest_files f USING (file_id)
        WHERE b.org_code = ? AND b.week_ending >= ? AND b.week_commencing <= ?
        ORDER BY b.week_commencing
    """, params=[org_code, first, last]).pl()


def predecessors(con: duckdb.DuckDBPyConnection, org_code: str) -> pl.DataFrame:
    """Trusts merged into ``org_code`` (reference_data/successions.csv): predecessor, name, succession_date."""
    return con.sql("""
        SELECT s.predecessor, coalesce(t.short_name, s.predecessor) AS name, s.succession_date
        FROM trust_successions s LEFT JOIN trusts t ON t.org_code = s.predecessor
        WHERE s.successor = ? ORDER BY s.succession_date
    """, params=[org_code]).pl()


def combined_weekly(con: duckdb.DuckDBPyConnection, org_code: str, metric: str, first_week: date,
                    last_week: date) -> pl.DataFrame:
    """The trust's weekly metric with its predecessors' history added (ratios of summed parts, summed daily
    averages): week_ending, value, trusts (how many trusts' figures the week holds)."""
    return con.sql("""
        SELECT p.week_ending, combined_value(d.aggregate, p.numerator, p.denominator) AS value,
            count(DISTINCT p.org_code) FILTER (WHERE p.numerator IS NOT NULL) AS trusts
        FROM weekly_metric_parts p JOIN metric_definitions d USING (metric)
        WHERE p.metric = $2 AND p.week_ending BETWEEN $3 AND $4
          AND (p.org_code = $1 OR p.org_code IN (SELECT predecessor FROM trust_successions WHERE successor = $1))
        GROUP BY p.week_ending, d.aggregate ORDER BY p.week_ending
    """, params=[org_code, metric, first_week, last_week]).pl()
