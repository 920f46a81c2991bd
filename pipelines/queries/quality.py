"""Read-only questions the data quality page asks of the warehouse. No Streamlit here.

The file ledger, the rejected rows (and the fix-and-resubmit file built from their raw
values), submission completeness by trust and day, and the data contract's rules in plain
English. Reading the rules never imports Great Expectations: the suite is plain JSON.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.catalogue.columns import COLUMN_NAMES, required_columns
from pipelines.catalogue.dates import DATE
from pipelines.catalogue.sources import TRUST_SITREP
from pipelines.ingest.contract import load_suite_definition
from pipelines.ingest.ledger import FileOutcome
from pipelines.safe_text import clean_text_columns

# A file's status (ingest_files.status, FileOutcome.status) as the pages say it: the codes stay in the database.
STATUS_WORDS = {"loaded": "Loaded", "loaded_with_rejections": "Loaded, some rows rejected",
                "rejected": "Not loaded", "skipped": "Already loaded: nothing changed"}


def status_words(status: str) -> str:
    """'Loaded, some rows rejected' for 'loaded_with_rejections'; an unknown code in plain letters."""
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def outcome_counts(outcomes: Sequence[FileOutcome]) -> str:
    """'3 files: 2 loaded; 1 loaded, some rows rejected': what a load did, in one line."""
    if not outcomes:
        return "No file was loaded"
    counts = Counter(outcome.status for outcome in outcomes)
    said = "; ".join(f"{n} {status_words(status).lower()}" for status, n in counts.items())
    return f"{len(outcomes)} file{'s' * (len(outcomes) != 1)}: {said}"


# What a rule's severity means for the row, as the page says it.
OUTCOME = {"error": "row rejected", "warning": "row loaded and flagged", "file": "whole file rejected"}

# Completeness states of a trust-day, in the order the heatmap's legend shows them.
STATES = ("submitted", "partial", "missing")
PARTIAL_DEFINITION = (
    "Partial: the trust sent fewer rows that day than on most days of the range shown (for example "
    "one of its two hospital sites is missing), or a required figure is blank.")

# Excel runs a cell starting with one of these as a formula (CSV injection); numbers such as -2 are safe.
_FORMULA_START = r"^[=+\-@\t\r]"
_NUMBER = r"^[-+]?[\d,]*\.?\d+$"

# A submission is a row of the trust's own daily sitrep; figures taken from NHS England's
# publication for a day the trust did not cover (pipelines.publication.store) are not one.
_SUBMITTED = f"sitrep_daily WHERE source = '{TRUST_SITREP}'"

# Trusts expected to submit: every trust of the reference list, and any other trust that has submitted
# (trusts added from NHS England's publication are not expected to send us a sitrep).
_TRUSTS = f"""
    SELECT e.org_code, coalesce(t.short_name, e.org_code) AS trust
    FROM (SELECT org_code FROM trusts WHERE source = 'reference_data'
          UNION SELECT DISTINCT org_code FROM {_SUBMITTED}) e
    LEFT JOIN trusts t USING (org_code)
"""


def ledger(con: duckdb.DuckDBPyConnection, statuses: tuple[str, ...] = (), search: str = "") -> pl.DataFrame:
    """Files received, newest first, with their status in words (``status_words``) and row counts;
    ``statuses`` (codes) empty means all, ``search`` matches part of the file name (any case; taken
    literally, not as a pattern)."""
    files = con.sql("""
        SELECT file_id, file_name, received_at, status, rows_read, rows_loaded, rows_rejected, rows_warned,
            rows_superseded, coalesce(message, '') AS message
        FROM ingest_files
        WHERE (len($1::VARCHAR[]) = 0 OR list_contains($1::VARCHAR[], status))
          AND contains(lower(file_name), lower($2))
        ORDER BY file_id DESC
    """, params=[list(statuses), search]).pl().pipe(clean_text_columns)
    return files.with_columns(pl.col("status").replace(STATUS_WORDS))


def ledger_statuses(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT status FROM ingest_files ORDER BY 1").fetchall()]


def trusts_for_review(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Trusts that only NHS England's publication named (not in reference_data/trusts.csv): org_code,
    name, region, icb_name, days (of published figures) and first_file. A trust's own sitrep naming
    one is rejected (known_ods_code) until someone checks it and adds it to trusts.csv."""
    return con.sql("""
        WITH published AS (SELECT org_code, count(*) AS days, min(file_id) AS first_file_id
                           FROM nhse_daily GROUP BY org_code)
        SELECT t.org_code, t.name, t.region, t.icb_name, coalesce(p.days, 0) AS days, f.file_name AS first_file
        FROM trusts t LEFT JOIN published p USING (org_code) LEFT JOIN ingest_files f ON f.file_id = p.first_file_id
        WHERE t.source <> 'reference_data'
        ORDER BY t.org_code
    """).pl()


def files_with_issues(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Files with any rejected or flagged row, newest first: file_id, file_name, label, rows_rejected."""
    return con.sql("""
        SELECT f.file_id, f.file_name, format('#{} {}', f.file_id, f.file_name) AS label, f.rows_rejected
        FROM ingest_files f WHERE f.file_id IN (SELECT file_id FROM rejected_rows)
        ORDER BY f.file_id DESC
    """).pl()


_ISSUES = """
    SELECT r.file_id, r.file_name, r.source_row, r.period_date,
        coalesce(t.short_name, r.org_code, '(no org code)') AS trust, r.column_name, r.rule, r.severity, r.message
    FROM rejected_rows r LEFT JOIN trusts t USING (org_code)
"""


def issue_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The trusts, rules and severities that occur in rejected_rows, for the filters."""
    return {column: [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM ({_ISSUES}) ORDER BY 1").fetchall()]
            for column in ("trust", "rule", "severity")}


def rejected_rows(con: duckdb.DuckDBPyConnection, file_id: int | None = None, trusts: tuple[str, ...] = (),
                  rules: tuple[str, ...] = (), severities: tuple[str, ...] = ()) -> pl.DataFrame:
    """Every rule broken by a row, newest file first and by row; an empty filter means all."""
    return con.sql(f"""
        SELECT * FROM ({_ISSUES})
        WHERE ($1 IS NULL OR file_id = $1)
          AND (len($2::VARCHAR[]) = 0 OR list_contains($2::VARCHAR[], trust))
          AND (len($3::VARCHAR[]) = 0 OR list_contains($3::VARCHAR[], rule))
          AND (len($4::VARCHAR[]) = 0 OR list_contains($4::VARCHAR[], severity))
        ORDER BY file_id DESC, source_row, severity
    """, params=[file_id, list(trusts), list(rules), list(severities)]).pl().pipe(clean_text_columns)


def resubmission(con: duckdb.DuckDBPyConnection, file_id: int) -> pl.DataFrame:
    """The file's rejected rows as the trust sent them (template columns, raw text) plus ``problems``,
    every message of the row joined; one row per rejected source row, in file order. Rows that were
    only flagged (warnings) were loaded, so they are not here."""
    values = ", ".join(f"json_extract_string(any_value(raw_values), '$.{c}') AS {c}" for c in COLUMN_NAMES)
    frame = con.sql(f"""
        SELECT {values}, string_agg(message, '; ' ORDER BY rowid) AS problems
        FROM rejected_rows WHERE file_id = $1
        GROUP BY source_row HAVING bool_or(severity = 'error')
        ORDER BY source_row
    """, params=[file_id]).pl()
    # A leading apostrophe makes Excel show a formula-like cell as text instead of running it.
    formula = pl.all().str.contains(_FORMULA_START) & ~pl.all().str.contains(_NUMBER)
    return frame.with_columns(pl.when(formula).then(pl.lit("'") + pl.all()).otherwise(pl.all()).name.keep())


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV bytes with a UTF-8 byte order mark, so Excel opens names with accents correctly; no bidi
    or control characters in any text (pipelines.safe_text)."""
    return clean_text_columns(frame).write_csv().encode("utf-8-sig")


def completeness(con: duckdb.DuckDBPyConnection, first: date, last: date) -> pl.DataFrame:
    """Every expected trust by every day from ``first`` to ``last`` with its state (STATES; see
    PARTIAL_DEFINITION), the rows sent and the trust's usual rows per day in the range.
    Sorted by trust and day: the heatmap's row order."""
    blank = " OR ".join(f"{c} IS NULL" for c in required_columns())
    return con.sql(f"""
        WITH days AS (SELECT CAST(range AS DATE) AS period_date FROM range($1::DATE, $2::DATE + 1, INTERVAL 1 DAY)),
        sent AS (
            SELECT org_code, period_date, count(*) AS rows_sent, bool_or({blank}) AS has_blank
            FROM {_SUBMITTED} AND period_date BETWEEN $1 AND $2 GROUP BY ALL
        ),
        usual AS (  -- the most common number of rows per day (ties: the larger)
            SELECT org_code, rows_sent AS usual_rows FROM sent GROUP BY org_code, rows_sent
            QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY count(*) DESC, rows_sent DESC) = 1
        )
        SELECT t.org_code, t.trust, d.period_date, coalesce(s.rows_sent, 0) AS rows_sent, u.usual_rows,
            CASE WHEN s.rows_sent IS NULL THEN 'missing'
                 WHEN s.rows_sent < u.usual_rows OR s.has_blank THEN 'partial'
                 ELSE 'submitted' END AS state
        FROM ({_TRUSTS}) t CROSS JOIN days d
        LEFT JOIN sent s ON s.org_code = t.org_code AND s.period_date = d.period_date
        LEFT JOIN usual u ON u.org_code = t.org_code
        -- a trust merged into another is not expected to submit from the merger date
        WHERE NOT EXISTS (SELECT 1 FROM trust_successions m
                          WHERE m.predecessor = t.org_code AND d.period_date >= m.succession_date)
        ORDER BY t.trust, d.period_date
    """, params=[first, last]).pl()


COMPLETENESS_WEEKS = 5  # the submissions grid opens on this many latest weeks


def default_first_day(earliest: date, latest: date, weeks: int = COMPLETENESS_WEEKS) -> date:
    """The first day the submissions grid shows by default: ``weeks`` weeks up to ``latest``."""
    return max(earliest, latest - timedelta(weeks=weeks) + timedelta(days=1))


def week_commencing(day: date) -> date:
    """The Monday of the Monday-to-Sunday week holding ``day``."""
    return day - timedelta(days=day.weekday())


def resubmission_file_name(file_id: int, file_name: str) -> str:
    """'rejected_rows_12_sitrep_2024-04.csv': the download's name, from letters, digits, '.', '-' and
    '_' only, so no name a user uploaded can break the download or a folder on their machine."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", file_name.rsplit(".", 1)[0]).strip("._")[:80]
    return f"rejected_rows_{file_id}{'_' + stem if stem else ''}.csv"


def missing_in_week(grid: pl.DataFrame, last: date) -> pl.DataFrame:
    """Trusts with no submission on some day of the week (Monday to Sunday) holding ``last``, up to
    ``last``: trust, org_code, days_missing (count) and days (dd/mm/yyyy, comma separated)."""
    monday = week_commencing(last)
    return (grid.filter(pl.col("state") == "missing", pl.col("period_date").is_between(monday, last))
            .group_by("trust", "org_code", maintain_order=True)
            .agg(days_missing=pl.len(), days=pl.col("period_date").dt.strftime(DATE).str.join(", ")))


def contract_rules() -> pl.DataFrame:
    """The contract's rules in plain English: rule, what happens to the row, the message (with
    placeholders in angle brackets) and the columns it applies to; one row per rule and message."""
    rows = []
    for expectation in load_suite_definition()["expectations"]:
        kwargs, meta = expectation["kwargs"], expectation["meta"]
        columns = ([meta["column_name"]] if "column_name" in meta else kwargs.get("column_list")
                   or [kwargs[k] for k in ("column", "column_B", "column_A") if k in kwargs])
        whole_file = expectation["type"] == "expect_column_to_exist"
        message = meta["message"].replace(kwargs["column"], "<column>") if whole_file else meta["message"]
        rows.append({
            "rule": meta["rule"],
            "severity": "file" if whole_file else {"critical": "error", "warning": "warning"}[expectation["severity"]],
            "message": ("" if whole_file else "row <n>: ") + message.format_map(_Placeholders(kwargs)),
            "columns": columns,
        })
    frame = pl.DataFrame(rows, schema={"rule": pl.String, "severity": pl.String, "message": pl.String,
                                       "columns": pl.List(pl.String)})
    return (frame.group_by("rule", "severity", "message", maintain_order=True)
            .agg(pl.col("columns").list.explode(keep_nulls=False, empty_as_null=False)
                 .unique(maintain_order=True).str.join(", "))
            .with_columns(outcome=pl.col("severity").replace_strict(OUTCOME))
            .select("rule", "severity", "outcome", "message", "columns"))


class _Placeholders(dict):
    """Fills a message template for reading: a pair rule names its two columns; values stay placeholders."""

    def __init__(self, kwargs: dict) -> None:
        super().__init__(column_A=kwargs.get("column_A"), column_B=kwargs.get("column_B"), site=" <site_code>",
                         period_date="<date>")

    def __missing__(self, key: str) -> str:
        return f"<{key.removesuffix('_A').removesuffix('_B')}>"


def icb_disagreements(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Trusts whose ICB in the reference file differs from NHS England's latest attribution (the
    publications' provider lookup or ICB column): org_code, trust, reference ICB, NHS England's ICB, as at."""
    return con.sql("""
        WITH latest AS (
            SELECT org_code, icb_code, icb_name, period_end FROM nhse_trust_icb
            QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY period_end DESC, file_id DESC) = 1
        )
        SELECT t.org_code, t.short_name AS trust, t.icb_code AS reference_icb, t.icb_name AS reference_icb_name,
            l.icb_code AS nhse_icb, l.icb_name AS nhse_icb_name, l.period_end AS nhse_as_at
        FROM trusts t JOIN latest l USING (org_code)
        WHERE t.source = 'reference_data' AND t.icb_code IS DISTINCT FROM l.icb_code
        ORDER BY t.short_name
    """).pl()
