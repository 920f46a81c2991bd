"""Run the data contract (a Great Expectations 1.x suite in data_contracts/) over a read file.

Great Expectations is imported here only, lazily, because its import costs about 3 s: the
dashboard pages never import this module. The suite is built once per process in an
ephemeral context. Each failed expectation becomes one issue per row, worded from the
expectation's ``meta.message`` so the rule and its message live together in the contract.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any

import polars as pl

from pipelines.catalogue.columns import CONTRACT_FILE
from pipelines.catalogue.issues import ISSUE_SCHEMA

# Expectations on the header are applied by the reader (a missing column rejects the file).
_HEADER_RULES = {"expect_column_to_exist"}
_SEVERITY = {"critical": "error", "warning": "warning"}


def load_suite_definition() -> dict[str, Any]:
    return json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validation_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network here; never phone home
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    definition = load_suite_definition()
    definition["expectations"] = [e for e in definition["expectations"] if e["type"] not in _HEADER_RULES]
    suite = context.suites.add(gx.ExpectationSuite(**definition))
    batch = context.data_sources.add_pandas("sitrep").add_dataframe_asset("file").add_batch_definition_whole_dataframe("all")
    return context.validation_definitions.add(gx.ValidationDefinition(name="sitrep_daily", data=batch, suite=suite))


def _display(value: object) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)


def _row_issues(expectation: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Word one failed expectation for each row it failed on."""
    kwargs, meta = expectation.kwargs, expectation.meta
    severity = _SEVERITY[expectation.severity.value]
    issues = []
    if "column_list" in kwargs:  # one row per trust/site/day: name every row of each clash
        clashes: dict[tuple, list[int]] = {}
        for row in rows:
            clashes.setdefault(tuple(row[c] for c in kwargs["column_list"]), []).append(row["source_row"])
        for row in rows:
            key_rows = clashes[tuple(row[c] for c in kwargs["column_list"])]
            message = meta["message"].format(
                org_code=row["org_code"], site=f" site {row['site_code']}" if row["site_code"] else "",
                period_date=_display(row["period_date"]), rows=", ".join(map(str, key_rows)))
            issues.append((row["source_row"], "org_code", message))
    elif "column_A" in kwargs:
        a, b = kwargs["column_A"], kwargs["column_B"]
        issues = [(row["source_row"], b, meta["message"].format(
            column_A=a, column_B=b, value_A=_display(row[a]), value_B=_display(row[b]))) for row in rows]
    else:
        column = kwargs["column"]
        issues = [(row["source_row"], column, meta["message"].format(column=column, value=_display(row[column])))
                  for row in rows]
    return [{"source_row": r, "column_name": c, "rule": meta["rule"], "severity": severity,
             "message": f"row {r}: {m}"} for r, c, m in issues]


def validate(frame: pl.DataFrame, read_issues: pl.DataFrame, known_org_codes: Iterable[str],
             today: date) -> pl.DataFrame:
    """All issues of a file, one row per failing cell and rule (ISSUE_SCHEMA).

    Cells the reader could not parse are null in ``frame`` and already in ``read_issues``;
    they are not reported a second time as blank.
    """
    import pandas as pd  # with Great Expectations: the contract runs on a pandas frame

    checked = frame.with_columns(
        pl.col("site_code").fill_null(""),  # so a trust-level row's key compares equal to itself
        pl.col("period_date").cast(pl.Datetime("ns")),  # GE compares ns datetimes vectorised, others row by row
    ).to_pandas()
    checked.index = checked.pop("source_row").to_numpy()  # unnamed: GE then lists plain row numbers
    result = _validation_definition().run(
        batch_parameters={"dataframe": checked},
        expectation_parameters={"today": pd.Timestamp(today), "known_org_codes": sorted(set(known_org_codes))},
        result_format={"result_format": "COMPLETE"})
    found: list[dict[str, Any]] = []
    for outcome in result.results:
        if outcome.exception_info.get("raised_exception"):
            raise RuntimeError(f"data contract rule {outcome.expectation_config.type} could not run: "
                               f"{outcome.exception_info.get('exception_message')}")
        failed = outcome.result.get("unexpected_index_list") or []
        if failed:
            rows = frame.filter(pl.col("source_row").is_in(failed)).to_dicts()
            found.extend(_row_issues(outcome.expectation_config, rows))
    contract_issues = pl.DataFrame(found, schema=ISSUE_SCHEMA)
    unparsed = read_issues.select("source_row", "column_name")
    contract_issues = pl.concat([
        contract_issues.filter(pl.col("rule") != "required_value"),
        contract_issues.filter(pl.col("rule") == "required_value").join(unparsed, on=["source_row", "column_name"], how="anti"),
    ])
    return pl.concat([read_issues.cast(ISSUE_SCHEMA), contract_issues]).sort("source_row", maintain_order=True)
