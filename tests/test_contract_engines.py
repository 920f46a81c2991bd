"""The compiled contract (Polars) and Great Expectations find exactly the same issues.

Great Expectations is the reference engine: on every sample and flawed file, on the hostile files
of test_hostile_input and on generated frames that span the whole value space (any date, any 64-bit
integer, any Unicode code, trust-level and site rows mixed, things already loaded), both engines
must give the same rows, columns, rules, severities and messages. The compiler refuses what it does
not know, and the default path never imports Great Expectations.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_hostile_input import csv_files

from pipelines import config
from pipelines.__main__ import main
from pipelines.catalogue.columns import COUNT_COLUMNS, SCHEMA
from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.ingest import contract
from pipelines.ingest.contract import ContractError, compile_suite, load_suite_definition, validate
from pipelines.ingest.readers import read_sitrep

TODAY = date(2025, 10, 1)
KNOWN = [line.split(",")[0] for line in (config.REFERENCE_DIR / "trusts.csv").read_text().splitlines()[1:]]
SITES = pl.DataFrame({"site_code": ["RCB55", "RCBCA", "RWA01"], "org_code": ["RCB", "RCB", "RWA"]})
FILES = sorted((config.REPO_ROOT / "sample_data").glob("*/*.csv")) + sorted(
    (config.REPO_ROOT / "sample_data").glob("*/*.xlsx"))
# Great Expectations takes about half a second a run: no shrinking (a failure prints its example as found).
SLOW = settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def both_engines(frame: pl.DataFrame, read_issues: pl.DataFrame | None = None,
                 loaded: pl.DataFrame | None = None) -> pl.DataFrame:
    read_issues = pl.DataFrame(schema=ISSUE_SCHEMA) if read_issues is None else read_issues
    found = {engine: validate(frame, read_issues, KNOWN, TODAY, sites=SITES, loaded_levels=loaded, engine=engine)
             for engine in config.CONTRACT_ENGINES}
    assert found["polars"].to_dicts() == found["ge"].to_dicts()
    return found["polars"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_sample_and_flawed_file_gives_the_same_issues_on_both_engines(path):
    read = read_sitrep(path)
    issues = both_engines(read.frame, read.issues)
    if path.parent.name == "flawed":
        assert issues.filter(pl.col("severity") == "error")["source_row"].n_unique() == 16


@given(csv_files())
@settings(SLOW, max_examples=25)
def test_hostile_files_give_the_same_issues_on_both_engines(content):
    try:
        read = read_sitrep("hostile.csv", content)
    except FileRejected:
        return
    both_engines(read.frame, read.issues)


# ---- generated frames: the whole value space ----

INT64 = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.integers(-2, 5_002))
DATES = st.one_of(st.none(), st.dates(),
                  st.sampled_from([date(2014, 12, 31), date(2015, 1, 1), TODAY, date(2025, 10, 2)]))
CODES = st.one_of(st.none(), st.sampled_from(["RCB", "RCD", "RWA", "ZZX99"]), st.text(max_size=12))
SITE_CODES = st.one_of(st.none(), st.none(), st.sampled_from(["RCB55", "RCBCA", "RWA01"]), st.text(max_size=12))


@st.composite
def frames(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A read frame with any values, keys that often clash (few dates and codes), and what is loaded."""
    day = st.one_of(st.sampled_from([date(2024, 4, 1), date(2024, 4, 2)]), DATES)
    rows = []
    for i in range(draw(st.integers(1, 10))):
        row = {c: draw(INT64) for c in COUNT_COLUMNS}
        row.update(source_row=i + 2, period_date=draw(day), org_code=draw(CODES), site_code=draw(SITE_CODES),
                   trust_opel=draw(st.one_of(st.none(), st.integers(-1, 6), st.integers(-(2**63), 2**63 - 1))),
                   la_opel=draw(st.one_of(st.none(), st.integers(-1, 6))))
        rows.append(row)
    frame = pl.DataFrame(rows, schema=SCHEMA)
    keys = frame.select("org_code", "period_date").drop_nulls().unique(maintain_order=True)
    levels = draw(st.lists(st.sampled_from(["trust", "site", "trust and site"]), min_size=keys.height,
                           max_size=keys.height))
    loaded = keys.with_columns(loaded_level=pl.Series(levels, dtype=pl.String)).head(draw(st.integers(0, keys.height)))
    return frame, loaded


@given(frames())
@SLOW
def test_generated_frames_give_the_same_issues_on_both_engines(generated):
    frame, loaded = generated
    issues = both_engines(frame, loaded=loaded)
    assert set(issues["source_row"]) <= set(frame["source_row"])
    assert all(m.startswith(f"row {r}: ") and "\n" not in m
               for r, m in zip(issues["source_row"], issues["message"], strict=True))


# ---- the compiler ----

def suite_with(expectation: dict) -> dict:
    suite = copy.deepcopy(load_suite_definition())
    suite["expectations"].append(expectation)
    return suite


@pytest.mark.parametrize("expectation, complaint", [
    ({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "los_7plus", "max_value": 9},
      "meta": {"rule": "r", "message": "m"}}, "expectation type is not supported"),
    ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "los_7plus", "max_value": 9, "mostly": 0.9},
      "meta": {"rule": "r", "message": "m"}}, "argument(s) mostly not supported"),
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "los_7plus"}, "severity": "info",
      "meta": {"rule": "r", "message": "m"}}, "is not critical or warning"),
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "los_7plus"}, "meta": {"rule": "r"}},
     "meta.rule and meta.message are required"),
])
def test_the_compiler_refuses_what_it_does_not_know(expectation, complaint):
    with pytest.raises(ContractError, match=complaint.replace("(", r"\(").replace(")", r"\)")) as refused:
        compile_suite(suite_with(expectation))
    assert f"expectation {len(load_suite_definition()['expectations']) + 1}" in str(refused.value)


def test_every_expectation_type_of_the_brief_is_compiled_with_gx_semantics():
    rules = compile_suite(load_suite_definition())
    assert len(rules) == len(load_suite_definition()["expectations"])
    frame = pl.DataFrame({"source_row": [2, 3, 4, 5], "n": [1, 5, 10, None], "s": ["AB", "ABCD", "x1", None]})
    checks = {
        ("expect_column_values_to_be_between", "n", (("min_value", 1), ("max_value", 10), ("strict_min", True))): [2],
        ("expect_column_values_to_be_between", "n", (("max_value", 10), ("strict_max", True))): [4],
        ("expect_column_value_lengths_to_be_between", "s", (("min_value", 2), ("max_value", 3))): [3],
        ("expect_column_values_to_match_regex", "s", (("regex", "^[A-Z]+$"),)): [4],
        ("expect_column_values_to_not_match_regex", "s", (("regex", "[0-9]"),)): [4],
        ("expect_column_values_to_be_in_set", "s", (("value_set", ("AB",)),)): [3, 4],
        ("expect_column_values_to_not_be_null", "n", ()): [5],
    }
    for (type_, column, extra), failing in checks.items():
        [rule] = compile_suite({"expectations": [{"type": type_, "kwargs": {"column": column, **dict(extra)},
                                                  "meta": {"rule": "r", "message": "m"}}]})
        assert frame.filter(rule.check({})).get_column("source_row").to_list() == failing, type_


def test_the_default_engine_never_imports_great_expectations(tmp_path):
    code = ("import sys; from pipelines.ingest.load import ingest_paths; from pathlib import Path; "
            f"[print(o.summary()) for o in ingest_paths([Path({str(FILES[0])!r})], "
            f"Path({str(tmp_path / 'f.duckdb')!r}))]; "
            "print('GE imported' if 'great_expectations' in sys.modules else 'GE not imported')")
    env = {k: v for k, v in os.environ.items() if k != "FLOW_CONTRACT_ENGINE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=config.REPO_ROOT, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines()[-2].startswith(f"loaded    {FILES[0].name}: ")
    assert done.stdout.splitlines()[-1] == "GE not imported"


def test_the_engine_is_chosen_by_the_setting(monkeypatch):
    monkeypatch.delenv("FLOW_CONTRACT_ENGINE", raising=False)
    assert config.contract_engine() == "polars"
    monkeypatch.setenv("FLOW_CONTRACT_ENGINE", "ge")
    assert config.contract_engine() == "ge"
    monkeypatch.setenv("FLOW_CONTRACT_ENGINE", "pandas")
    with pytest.raises(ValueError, match="must be one of polars, ge, not 'pandas'"):
        config.contract_engine()


def test_ge_engine_is_what_runs_when_chosen(monkeypatch):
    calls = []
    monkeypatch.setattr(contract, "_failures_ge", lambda *a: calls.append("ge") or {})
    monkeypatch.setenv("FLOW_CONTRACT_ENGINE", "ge")
    read = read_sitrep(FILES[0])
    validate(read.frame, read.issues, KNOWN, TODAY, sites=SITES)
    assert calls == ["ge"]


def test_the_command_lines_engine_runs_for_that_command_only(monkeypatch, tmp_path):
    """``--engine ge`` is passed down to the contract, not left in the environment for what runs next."""
    calls = []
    monkeypatch.setattr(contract, "_failures_ge", lambda *a: calls.append("ge") or {})
    monkeypatch.delenv("FLOW_CONTRACT_ENGINE", raising=False)
    main(["ingest", str(FILES[0]), "--db", str(tmp_path / "f.duckdb"), "--engine", "ge"])
    assert calls == ["ge"] and "FLOW_CONTRACT_ENGINE" not in os.environ


def test_rules_are_only_in_the_suite_file():
    """The contract module holds no rule of its own: every rule name an issue can carry is in the suite
    or is one of the reader's type and shape rules."""
    suite_rules = {e["meta"]["rule"] for e in load_suite_definition()["expectations"]}
    source = Path(contract.__file__).read_text()
    # required_value is named only so a cell the reader already rejected is not reported again as blank
    assert [rule for rule in suite_rules if f'"{rule}"' in source] == ["required_value"]
