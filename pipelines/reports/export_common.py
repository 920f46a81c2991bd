"""What every download of the weekly table shares: its rows as the home page shows them,
where the figures came from, and the guard against spreadsheet formula injection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from pipelines.reports.narrative import narrative_text
from pipelines.reports.presentation import KEY_TEXT, STATUS_WORDS, TableCell, spc_words
from pipelines.reports.weekly_table import SYSTEM_LONG_NAME, MetricRow, WeeklyTable

# A spreadsheet treats text starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SYSTEM_NAME = SYSTEM_LONG_NAME  # the tidy rows' name for the selected trusts combined
NO_SUBMISSION = "no submission"  # the tidy status of a trust with no figures that week
# Ids and codes for programs, then the same in words for people (labels, the figure as shown, statuses).
TIDY_SCHEMA = {"week_ending": pl.Date, "org_code": pl.String, "trust": pl.String, "metric": pl.String,
               "value": pl.Float64, "ambition": pl.String, "status": pl.String, "previous_value": pl.Float64,
               "change": pl.Float64, "narrative": pl.String, "variation": pl.String, "assurance": pl.String,
               "trust_name": pl.String, "metric_label": pl.String, "shown": pl.String, "status_words": pl.String,
               "spc_words": pl.String}
STATUS_KEY = f"{KEY_TEXT}. Combined: the selected trusts together."


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise_column(column: str) -> pl.Expr:
    """Text a spreadsheet could run as a formula, made inert with a leading apostrophe (for CSV, which has
    no cell types), as a Polars expression over a text column (no Python per cell on the server). Only
    text columns pass through here: numbers, negative ones included, stay numbers."""
    formula_like = pl.any_horizontal([pl.col(column).str.starts_with(start) for start in FORMULA_STARTS])
    return pl.when(formula_like).then(pl.lit("'") + pl.col(column)).otherwise(pl.col(column)).alias(column)


def _ambition(row: MetricRow) -> str | None:
    """'<= 92': plain characters, so the CSV reads the same in any program."""
    return None if row.threshold is None else f"{row.comparison} {row.threshold:g}"


def _record(table: WeeklyTable, row: MetricRow, narratives: pl.DataFrame, cell: TableCell,
            names: dict[str, str]) -> dict:
    return {"week_ending": table.week_ending, "org_code": cell.org_code,
            "trust": cell.name if cell.org_code else SYSTEM_NAME, "metric": row.metric,
            "value": cell.value, "ambition": _ambition(row), "status": cell.status if cell.submitted else NO_SUBMISSION,
            "previous_value": cell.previous_value, "change": cell.change,
            "narrative": narrative_text(narratives, row.metric, cell.org_code) or None,
            # SPC reading of the trust's series (pipelines.spc.xmr codes); none for the combined row
            "variation": cell.variation, "assurance": cell.assurance,
            "trust_name": names.get(cell.org_code or "", SYSTEM_NAME), "metric_label": row.label,
            "shown": cell.figure(full=True) if cell.value is not None else cell.text,
            "status_words": STATUS_WORDS[cell.status] if cell.value is not None else
            ("not reported" if cell.submitted else NO_SUBMISSION),
            "spc_words": spc_words(cell.variation, cell.assurance) or None}


def tidy(table: WeeklyTable, narratives: pl.DataFrame) -> pl.DataFrame:
    """The CSV's rows: one per trust per metric with the trust's own narrative, then one for the
    selected trusts combined, which carries the system narrative. Numbers rounded to 2 decimals."""
    records = []
    names = full_names(table)
    for row in table.rows:
        for cell in row.cells:
            records.append(_record(table, row, narratives, cell, names))
        if row.system is not None:
            records.append(_record(table, row, narratives, row.system, names))
    return pl.DataFrame(records, schema=TIDY_SCHEMA, orient="row").with_columns(
        pl.col("value", "previous_value", "change").round(2))


def full_names(table: WeeklyTable) -> dict[str, str]:
    """Org code -> the trust's full name where the trusts list has it (else its short name)."""
    column = "name" if "name" in table.trusts.columns else "trust"
    return dict(zip(table.trusts["org_code"], table.trusts[column].fill_null(table.trusts["trust"]), strict=True))


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
