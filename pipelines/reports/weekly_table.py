"""The discharge group's weekly table, assembled once for the home page and every export."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipelines import config
from pipelines.catalogue.metrics import METRICS, Metric
from pipelines.queries import drd, weekly
from pipelines.reports.presentation import TableCell, cell_from_row, format_ambition
from pipelines.safe_text import clean_text_columns
from pipelines.spc.store import spc_summary

SYSTEM_NAME = "Combined"  # the column of the selected trusts combined (the system figure)
SYSTEM_LONG_NAME = "Selected trusts combined"


@dataclass(frozen=True)
class MetricRow:
    """One metric row of the weekly table: its cells in the table's trust order and the combined one."""
    metric: str
    label: str
    short_label: str
    ambition: str  # as people read it: "< 40%", or "none"
    comparison: str | None
    threshold: float | None
    cells: list[TableCell]
    system: TableCell | None


@dataclass(frozen=True)
class WeeklyTable:
    week_ending: date
    trusts: pl.DataFrame  # the selected trusts: org_code, trust (short name), icb_name, place, ...
    position: pl.DataFrame  # weekly_position rows of those trusts for the week
    system: pl.DataFrame  # the selected trusts combined (weekly.system_weekly) for the week
    spc: pl.DataFrame  # variation and assurance per trust and metric as at the week (pipelines.spc.store.spc_summary)
    rows: list[MetricRow]  # metrics as rows, trusts as columns: what people read
    hidden: tuple[str, ...] = ()  # the short labels of rows left out: no figure for any selected trust


def has_figures(row: MetricRow) -> bool:
    """Whether any selected trust (or the combined column) has a figure in the row."""
    return any(cell.value is not None for cell in [*row.cells, *([row.system] if row.system else [])])


def hidden_line(hidden: Sequence[str]) -> str:
    """The line under the table and in the packs naming the rows left out."""
    return f"Not shown: no figures for these trusts: {', '.join(hidden)}." if hidden else ""


def select_trusts(trusts: pl.DataFrame, icbs: Sequence[str] = (), places: Sequence[str] = (),
                  org_codes: Sequence[str] = ()) -> pl.DataFrame:
    """Trusts in any of the ICBs (by name), places and trusts (ODS codes: a discharge group's, or picked
    by hand) given; all trusts when a filter is empty."""
    if org_codes:
        trusts = trusts.filter(pl.col("org_code").is_in(list(org_codes)))
    if icbs:
        trusts = trusts.filter(pl.col("icb_name").is_in(list(icbs)))
    if places:
        trusts = trusts.filter(pl.col("place").is_in(list(places)))
    return trusts


def site_names() -> dict[str, str]:
    """Site code -> name from reference_data/sites.csv (empty when the file is absent)."""
    path = config.reference_dir() / "sites.csv"
    if not path.exists():
        return {}
    frame = clean_text_columns(pl.read_csv(path, infer_schema=False))
    return dict(zip(frame["site_code"].str.strip_chars(), frame["name"].str.strip_chars(), strict=False))


def site_label(site_code: str, names: dict[str, str]) -> str:
    """'York Hospital (RCB55)': a site's name with its code, or the code when the name is unknown."""
    return f"{names[site_code]} ({site_code})" if site_code in names else site_code


def _uncollected(first_figures: dict[tuple[str, str], date] | None, metric: Metric, org_codes: list[str],
                 week_ending: date | None) -> str:
    """'not collected before 01/04/2024' for an optional metric's week before the first figure of any of
    ``org_codes``; '' otherwise."""
    if first_figures is None or week_ending is None or not metric.optional:
        return ""
    days = [day for code in org_codes if (day := first_figures.get((code, metric.id))) is not None]
    return drd.not_collected(min(days, default=None), week_ending)


def metric_rows(position: pl.DataFrame, system: pl.DataFrame, trusts: pl.DataFrame,
                sites: pl.DataFrame | None = None, names: dict[str, str] | None = None,
                first_figures: dict[tuple[str, str], date] | None = None) -> list[MetricRow]:
    """The table's rows from typed query rows, in catalogue order; only metrics someone reported.
    A trust with no figures in the week gets a cell with ``submitted`` False, never a zero; with
    ``first_figures`` (drd.first_figures), an optional metric's week before a trust's first figure
    says so ('not collected before 01/04/2024'), never a zero or 'n/r'."""
    found = {(r["metric"], r["org_code"]): r for r in position.to_dicts()}
    combined = {r["metric"]: r for r in system.to_dicts()}
    by_site: dict[tuple[str, str], list[tuple[str, float | None]]] = {}
    for r in (sites.to_dicts() if sites is not None else []):
        by_site.setdefault((r["metric"], r["org_code"]), []).append((names.get(r["site_code"], r["site_code"])
                                                                   if names else r["site_code"], r["value"]))
    reported = set(position["metric"]) if position.height else set()
    order = list(trusts.select("org_code", "trust").iter_rows())
    rows = []
    for metric in (m for m in METRICS if m.id in reported):
        first = next(r for (mid, _), r in found.items() if mid == metric.id)
        week, codes = first.get("week_ending"), [code for code, _ in order]
        cells = [cell_from_row(row, name, tuple(by_site.get((metric.id, code), ())),
                               _uncollected(first_figures, metric, [code], week))
                 if (row := found.get((metric.id, code)))
                 else TableCell(code, name, metric.id, None, "none", submitted=False) for code, name in order]
        system_row = combined.get(metric.id)
        rows.append(MetricRow(metric.id, metric.label, metric.short_label,
                              format_ambition(first["ambition_comparison"], first["ambition"], metric.unit),
                              first["ambition_comparison"], first["ambition"], cells,
                              cell_from_row({**system_row, "org_code": None}, SYSTEM_LONG_NAME,
                                            uncollected=_uncollected(first_figures, metric, codes, week))
                              if system_row else None))
    return rows


def build_weekly_table(con: duckdb.DuckDBPyConnection, week_ending: date, icbs: Sequence[str] = (),
                       places: Sequence[str] = (), org_codes: Sequence[str] = ()) -> WeeklyTable:
    trusts = clean_text_columns(select_trusts(weekly.trusts_with_data(con, week_ending), icbs, places, org_codes))
    org_codes = tuple(trusts["org_code"])
    spc = spc_summary(con, week_ending, org_codes)
    position = (weekly.weekly_position(con, week_ending).filter(pl.col("org_code").is_in(org_codes))
                .join(spc.select("org_code", "metric", "variation", "assurance"), on=["org_code", "metric"],
                      how="left"))
    system = weekly.system_weekly(con, org_codes, week_ending, week_ending)
    rows = metric_rows(position, system, trusts, weekly.site_weekly(con, week_ending, org_codes), site_names(),
                       drd.first_figures(con))
    shown = [r for r in rows if has_figures(r)]
    hidden = tuple(m.short_label for m in METRICS if m.id not in {r.metric for r in shown})
    return WeeklyTable(week_ending, trusts, position, system, spc, shown, hidden)

