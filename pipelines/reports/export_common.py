"""What every download of the weekly table shares: its rows as the home page shows them,
where the figures came from, and the guard against spreadsheet formula injection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from pipelines.reports.narrative import narrative_text
from pipelines.reports.weekly_table import WeeklyTable

# A spreadsheet treats text starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SYSTEM_NAME = "Selected trusts combined"  # the home page's name for the selected trusts' combined figures
NO_SUBMISSION = "no submission"  # the tidy status of a trust with no figures that week
TIDY_SCHEMA = {"week_ending": pl.Date, "org_code": pl.String, "trust": pl.String, "metric": pl.String,
               "value": pl.Float64, "ambition": pl.String, "status": pl.String, "previous_value": pl.Float64,
               "change": pl.Float64, "narrative": pl.String, "variation": pl.String, "assurance": pl.String}
STATUS_KEY = ("✓ meets the ambition; ! misses it by no more than the amber tolerance; ✗ misses it by more. "
              "Then the change on the week before, better or worse.")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """Text a spreadsheet could run as a formula, made inert with a leading apostrophe (for CSV,
    which has no cell types). Only text: numbers, negative ones included, never pass through here."""
    return f"'{text}" if is_formula_like(text) else text


@dataclass(frozen=True)
class Cell:
    """One trust's cell of a metric row: the page's text and status, and its weekly_position row
    (None when the trust submitted nothing that week)."""
    org_code: str
    trust: str
    text: str
    status: str
    row: dict | None

    @property
    def value(self) -> float | None:
        return None if self.row is None else self.row["value"]


@dataclass(frozen=True)
class Line:
    """One metric row of the weekly table."""
    metric: str
    label: str
    unit: str
    ambition: str  # as the page writes it: "< 40%"
    comparison: str | None
    threshold: float | None
    cells: list[Cell]
    system: dict | None  # the selected trusts combined (queries.system_weekly)


def table_lines(table: WeeklyTable) -> list[Line]:
    """The weekly table row by row, taken from the very frames the home page shows, with the
    numbers behind each cell, so every download has the same trusts, metrics, values and statuses."""
    found = {(r["metric_label"], r["trust"] or r["org_code"]): r for r in table.position.to_dicts()}
    any_row = {r["metric_label"]: r for r in table.position.to_dicts()}
    system = {r["metric"]: r for r in table.system.to_dicts()}
    trusts = list(table.trusts.select("org_code", "trust").iter_rows())
    lines = []
    for text, status in zip(table.text.iter_rows(named=True), table.status.iter_rows(named=True)):
        first = any_row[text["Metric"]]  # every row of the table comes from at least one position row
        cells = [Cell(code, name, text[name], status[name], found.get((text["Metric"], name))) for code, name in trusts]
        lines.append(Line(first["metric"], text["Metric"], first["unit"], text["Ambition"], first["ambition_comparison"],
                          first["ambition"], cells, system.get(first["metric"])))
    return lines


def status_note(cell: Cell) -> str:
    """The cell's words without its figure: '✗ misses ambition, ↑ 0.3 pts worse' (the value goes in
    its own, numeric, spreadsheet cell). The page's text starts with the figure, so it is cut off."""
    return cell.text.split(" ", 1)[1] if cell.value is not None and " " in cell.text else ""


def _ambition(line: Line) -> str | None:
    """'<= 92': plain characters, so the CSV reads the same in any program."""
    return None if line.threshold is None else f"{line.comparison} {line.threshold:g}"


def _record(table: WeeklyTable, line: Line, narratives: pl.DataFrame, org_code: str | None, trust: str,
            row: dict | None, status: str) -> dict:
    return {"week_ending": table.week_ending, "org_code": org_code, "trust": trust, "metric": line.metric,
            "value": row and row["value"], "ambition": _ambition(line), "status": status,
            "previous_value": row and row["previous_value"], "change": row and row["change"],
            "narrative": narrative_text(narratives, line.metric, org_code) or None,
            # SPC reading of the trust's series (pipelines.spc.xmr codes); none for the combined row
            "variation": row and row.get("variation"), "assurance": row and row.get("assurance")}


def tidy(table: WeeklyTable, narratives: pl.DataFrame) -> pl.DataFrame:
    """The CSV's rows: one per trust per metric with the trust's own narrative, then one for the
    selected trusts combined, which carries the system narrative. Numbers rounded to 2 decimals."""
    records = []
    for line in table_lines(table):
        for cell in line.cells:
            status = cell.row["status"] if cell.row else NO_SUBMISSION
            records.append(_record(table, line, narratives, cell.org_code, cell.trust, cell.row, status))
        if line.system is not None:
            records.append(_record(table, line, narratives, None, SYSTEM_NAME, line.system, line.system["status"]))
    return pl.DataFrame(records, schema=TIDY_SCHEMA, orient="row").with_columns(
        pl.col("value", "previous_value", "change").round(2))


def week_range(week_ending: date) -> str:
    return f"Monday {week_ending - timedelta(days=6):%d/%m/%Y} to Sunday {week_ending:%d/%m/%Y}"


def title(week_ending: date) -> str:
    return f"Weekly discharge position: week ending Sunday {week_ending:%d/%m/%Y}"


def submitted(table: WeeklyTable) -> str:
    return (f"{table.position['org_code'].n_unique()} of {table.trusts.height} selected trusts "
            "submitted figures")


@dataclass(frozen=True)
class WeekSources:
    """Where the week's figures came from, for the definitions sheet and the board paper's footnote."""
    definitions: pl.DataFrame  # metric_definitions with the ambition in force that week and its source
    files: pl.DataFrame  # source_file, file_id, received_at, rows (of the week, selected trusts), loaded_at
    as_at: datetime | None  # when the latest of the week's figures was loaded


def week_sources(con: duckdb.DuckDBPyConnection, table: WeeklyTable) -> WeekSources:
    metrics = list(table.position["metric"].unique())
    definitions = con.sql("""
        WITH d AS (
            SELECT *, ?::DATE AS week_ending FROM metric_definitions WHERE metric IN (SELECT unnest(?::VARCHAR[]))
        )
        SELECT d.metric, d.label, d.unit, d.better, d.definition, a.comparison, a.threshold, a.amber_tolerance,
            a.effective_from, a.source
        FROM d LEFT JOIN LATERAL ambition_in_force(d.metric, d.week_ending) a ON true
        ORDER BY d.display_order
    """, params=[table.week_ending, metrics]).pl()
    files = con.sql("""
        SELECT s.source_file, s.file_id, i.received_at, count(*) AS rows, max(s.loaded_at) AS loaded_at
        FROM sitrep_daily s LEFT JOIN ingest_files i USING (file_id)
        WHERE s.period_date BETWEEN ?::DATE - 6 AND ?::DATE AND s.org_code IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY s.source_file, s.file_id, i.received_at
        ORDER BY s.file_id, s.source_file
    """, params=[table.week_ending, table.week_ending, list(table.trusts["org_code"])]).pl()
    return WeekSources(definitions, files, files["loaded_at"].max() if files.height else None)
