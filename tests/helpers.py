"""Helpers the tests share: valid sitrep rows, writing them as files, loading them straight into a
database, reading it back, and reading a page's text as the user sees it. Fixtures are in conftest.py."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import NoReturn

import duckdb
import polars as pl
import pytest

from pipelines.catalogue.columns import COLUMN_NAMES
from pipelines.catalogue.metrics import METRICS
from pipelines.reports.weekly_table import WeeklyTable, metric_rows
from pipelines.spc.store import refresh_derived
from pipelines.warehouse import open_for_write
from pipelines.warehouse.reference import reload_reference

REFERENCE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference"  # the tests' trusts, ambitions
# Real NHS England publications, committed with their sources (fixtures/nhse/README.md): never skipped
NHSE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nhse"


def in_ci() -> bool:
    """Under CI (environment variable CI set, as CI services do): every test must run, none may skip."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def needs_installing(what: str, command: str) -> NoReturn:
    """Something .ci/run installs is missing: the test fails (here and in CI), saying what to run."""
    pytest.fail(f"{what} is missing: run `{command}` (.ci/run does it on a fresh machine)", pytrace=False)


VALID_ROW = {
    "period_date": "2024-04-01", "org_code": "RCD", "site_code": "", "ga_beds_open": 100, "ga_beds_occupied": 90,
    "covid_beds_occupied": 3, "los_7plus": 40, "los_14plus": 20, "los_21plus": 10, "nctr_patients": 15,
    "nctr_discharged": 5, "nctr_discharged_by_5pm": 2, "discharges_p0": 6, "discharges_p1": 3, "discharges_p2": 1,
    "discharges_p3": 0, "trust_opel": 2, "la_opel": 3,
}
# The template's columns as a file from before the discharge ready date columns has them.
TEMPLATE_COLUMNS: tuple[str, ...] = tuple(VALID_ROW)


# A day's discharge ready date figures that meet every rule: 10 discharges in the bands 4+2+1+1+1+0+1, the
# delay days between their least (1x2 + 2x1 + 4x1 + 7x1 + 21x1 = 36) and, with one 21+, no most.
DRD_ROW = {
    "drd_discharges": 10, "drd_delay_0": 4, "drd_delay_1": 2, "drd_delay_2_3": 1, "drd_delay_4_6": 1,
    "drd_delay_7_13": 1, "drd_delay_14_20": 0, "drd_delay_21plus": 1, "drd_delay_days": 40, "past_drd_21plus": 3,
    "internal_delay_48h_plus": 2,
}

def sitrep_row(**overrides: object) -> dict[str, object]:
    """A row that meets every rule, with the given fields changed."""
    return {**VALID_ROW, **overrides}


def week_of_rows(org_code: str, monday: date, **overrides: object) -> list[dict[str, object]]:
    return [sitrep_row(org_code=org_code, period_date=(monday + timedelta(days=i)).isoformat(), **overrides)
            for i in range(7)]


def write_csv(path: Path, rows: list[dict[str, object]], columns: tuple[str, ...] = COLUMN_NAMES) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def load_rows_directly(db: Path, rows: list[dict[str, object]]) -> None:
    """Put canonical rows straight into sitrep_daily (bypassing reader and contract) to test the views,
    then refresh the derived tables as an ingest would."""
    frame = pl.DataFrame(rows).with_columns(
        pl.col("period_date").str.to_date(), pl.col("site_code").replace("", None),
        source=pl.lit("trust_sitrep"), file_id=pl.lit(0), source_file=pl.lit("test"),
        source_row=pl.int_range(2, len(rows) + 2),
        loaded_at=pl.lit(None, dtype=pl.Datetime).fill_null(pl.datetime(2024, 1, 1)))
    with open_for_write(db) as con:
        con.register("rows", frame)
        con.execute("INSERT INTO sitrep_daily BY NAME SELECT * FROM rows")
        con.unregister("rows")
        reload_reference(con)
        refresh_derived(con, None)


def read_only(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to ``db`` for a fixture to yield, closed after the test."""
    with duckdb.connect(str(db), read_only=True) as con:
        yield con


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def shown(value: str) -> str:
    """A Markdown element's text as the page shows it: without the backslash escapes and invisible
    word joiners that ``ui.safe_text.plain`` puts in names from files and users."""
    return re.sub(r"\\(.)", r"\1", value).replace("\u2060", "")


def shown_all(elements: Iterable) -> list[str]:
    """``shown`` of each element's value (``app.caption``, ``app.info`` and the like)."""
    return [shown(e.value) for e in elements]


def related_rows(app) -> dict[str, list[str]]:  # noqa: ANN001 - an AppTest
    """The drill-down's related figures table (``st.html``, class ``rt``) as {first cell: the row's other
    cells}, its header row under "Figure", every cell unescaped."""
    [table] = [h.proto.body for h in app.get("html") if '<table class="rt">' in h.proto.body]
    return {cells[0]: cells[1:] for row in re.findall(r"<tr>(.*?)</tr>", table)
            if (cells := [unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)])}


def tiles(app) -> list[dict[str, str]]:  # noqa: ANN001 - an AppTest
    """The drill-down's headline tiles (``st.html``, a list of class ``tiles``) as the user reads them: each
    tile's short label, value, change (with its arrow, "" when none) and status line, unescaped."""
    blocks = [h.proto.body for h in app.get("html") if '<ul class="tiles"' in h.proto.body]
    found = re.findall(r'<h4><span aria-hidden="true">(.*?)</span>.*?<p class="value">(.*?)</p>'
                       r'(?:<p class="change [a-z]+">(.*?)</p>)?<p class="status">(.*?)</p>', "".join(blocks))
    return [{"label": unescape(label), "value": unescape(value),
             "delta": unescape(re.sub(r"<[^>]+>", "", delta)), "status": unescape(status)}
            for label, value, delta, status in found]


def stop_process(process: subprocess.Popen) -> None:
    """Stop a server the test started: politely, then for certain."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def trust_table(names: list[str]) -> WeeklyTable:
    """A week of every metric for trusts with these names (codes R00, R01 ...), statuses green,
    amber and red in turn, the first trust with 5 days of data; R01's figures as the combined ones."""
    trusts = pl.DataFrame({"org_code": [f"R{i:02d}" for i in range(len(names))], "trust": names})
    rows = []
    for i, code in enumerate(trusts["org_code"]):
        for metric in METRICS:
            value = 3.0 if metric.is_level else 1352.0 if metric.is_count else 2.5 if metric.is_mean else 40.0 + i
            rows.append({"org_code": code, "trust": names[i], "metric": metric.id, "value": value,
                         "status": ["green", "amber", "red"][i % 3], "previous_value": value - 1, "change": 1.0,
                         "change_direction": "worse", "days_with_data": 5 if i == 0 else 7, "ambition": 40.0,
                         "ambition_comparison": "<", "variation": "concern_high", "assurance": "fail"})
    position = pl.DataFrame(rows)
    system = position.filter(pl.col("org_code") == "R01").with_columns(org_code=pl.lit(None, pl.String))
    rows_by_metric = metric_rows(position, system, trusts)
    return WeeklyTable(date(2025, 9, 28), trusts, position, system, pl.DataFrame(), rows_by_metric)


def weekly_table_html(app) -> str:  # noqa: ANN001 - an AppTest
    """The weekly table's markup as the page puts it in (ui.escaped_html: st.html, or a wide table's component)."""
    shown = [json.loads(e.proto.json) for e in app.get("bidi_component") if e.proto.component_name == "escaped_html"]
    return next(markup for markup in shown + [h.proto.body for h in app.get("html")] if '<table class="wt' in markup)
