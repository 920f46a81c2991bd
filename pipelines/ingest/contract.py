"""Run the data contract (a Great Expectations 1.x suite in data_contracts/) over a read file.

The suite file is the one definition of every rule, severity and message. It runs on one of two
engines that find exactly the same issues (tests/test_contract_engines.py proves it):

* ``polars`` (the default): the suite compiled once into Polars expressions, one pass over the
  frame. Great Expectations is not imported at all on this path (its import costs about 3 s).
* ``ge``: Great Expectations itself, the reference engine (``FLOW_CONTRACT_ENGINE=ge``, read by
  ``config.contract_engine``, or ``python -m pipelines ingest --engine ge``).

The compiler refuses an expectation type or argument it does not know (ContractError), so no rule
of the suite is ever skipped silently. Both engines only decide which rows fail which expectation;
one function words the issues from the expectation's ``meta.message`` for both.

Before any rule the frame gets derived columns (see ``contract_frame``): facts about a row's
trust-day (which levels the file reports it at, what is loaded already) that the suite's rules test.
"""
from __future__ import annotations

import json
import os
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import polars as pl

from pipelines import config
from pipelines.catalogue.columns import CONTRACT_FILE, DRD_BANDS
from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.ingest.cells import MAX_ISSUES, too_many_issues
from pipelines.safe_text import clean_column
from pipelines.warehouse.reference import read_sites

_SEVERITY = {"critical": "error", "warning": "warning"}
# Reader rules after which a row's parsed values mean nothing: the contract does not word them again.
_ROW_LEVEL_READER_RULES = ("row_fits_header", "unclosed_quote")
_SHOWN_CHARS = 40  # a value quoted in a message is cut to this length: a cell may hold megabytes
# A clash's message lists this many of its rows, then how many more: 20,000 copies of one row made
# 20,000 messages of 20,000 row numbers each (gigabytes) when each listed them all.
SHOWN_ROWS = 5
_EPOCH = date(1970, 1, 1)


class ContractError(Exception):
    """The suite file holds something this program cannot check: fix the suite, not the data."""


def load_suite_definition() -> dict[str, Any]:
    return json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))


# ---- what the rules are checked against ----

@dataclass(frozen=True)
class Reference:
    """The suite's parameters and the facts the derived columns come from."""
    known_org_codes: frozenset[str]
    sites: pl.DataFrame  # site_code, org_code: reference_data/sites.csv
    today: date
    earliest_date: date = config.EARLIEST_PERIOD_DATE
    loaded_levels: pl.DataFrame | None = None  # org_code, period_date, loaded_level: what is loaded now

    def parameters(self) -> dict[str, Any]:
        trust_sites = self.sites.select(pl.concat_str("org_code", "site_code", separator=" "))
        return {"today": self.today, "earliest_date": self.earliest_date,
                "known_org_codes": sorted(self.known_org_codes),
                "known_trust_sites": sorted(trust_sites.to_series().to_list())}


def reference_sites() -> pl.DataFrame:
    """reference_data/sites.csv, for callers without a database (the warehouse loads the same file)."""
    return read_sites(config.reference_dir()).select("site_code", "org_code")


_LEVELS = pl.DataFrame(schema={"org_code": pl.String, "period_date": pl.Date, "loaded_level": pl.String})
# Each discharge ready date band's fewest and most days of delay (docs/domain.md section 2.1): 21+ has no most.
_BAND_DAYS = dict(zip(DRD_BANDS, ((0, 0), (1, 1), (2, 3), (4, 6), (7, 13), (14, 20), (21, None)), strict=True))
# Beyond this a figure fails plausible_count anyway; below it the weighted sums cannot overflow 64 bits.
_SUMMABLE = 2**40


def _drd_bounds() -> list[pl.Expr]:
    """drd_band_total (the seven bands added up) and the least and most drd_delay_days the bands allow
    (drd_delay_days_min, drd_delay_days_max; no most when any patient waited 21+ days). Null when a band
    is blank, or is a figure the other rules reject (negative, or too large to be a count)."""
    bands = [pl.col(b) for b in DRD_BANDS]
    usable = pl.all_horizontal([b.is_between(0, _SUMMABLE) for b in bands])
    least = sum((pl.col(b) * low for b, (low, _) in _BAND_DAYS.items()), pl.lit(0, pl.Int64))
    most = sum((pl.col(b) * high for b, (_, high) in _BAND_DAYS.items() if high is not None), pl.lit(0, pl.Int64))
    return [pl.when(usable).then(sum(bands, pl.lit(0, pl.Int64))).alias("drd_band_total"),
            pl.when(usable).then(least).alias("drd_delay_days_min"),
            pl.when(usable & (pl.col("drd_delay_21plus") == 0)).then(most).alias("drd_delay_days_max")]


def contract_frame(frame: pl.DataFrame, reference: Reference) -> pl.DataFrame:
    """The read frame plus the derived columns the suite's rules test.

    trust_site: org and site code together (a site belongs to one trust);
    drd_band_total, drd_delay_days_min, drd_delay_days_max: what the discharge ready date bands add up
    to and allow (``_drd_bounds``);
    file_levels: whether the file reports this trust-day as one trust-level row, per site, or both;
    replaces: what loading the row does to what is loaded, e.g. 'trust <- some sites' when site rows
    would replace a trust-level figure without covering every site of the trust (sites.csv).
    Only trusts with site rows in the file need the per-trust-day work: a national file of
    trust-level rows gets constants.
    """
    trust_day = ["org_code", "period_date"]
    site_days = frame.filter(pl.col("org_code").is_in(
        frame.filter(pl.col("site_code").is_not_null()).get_column("org_code").unique().implode()))
    levels = (site_days.group_by(trust_day).agg(
                  has_trust=pl.col("site_code").is_null().any(), has_site=pl.col("site_code").is_not_null().any(),
                  file_sites=pl.col("site_code").drop_nulls().unique())
              .join(reference.sites.group_by("org_code").agg(known_sites=pl.col("site_code")), on="org_code",
                    how="left")
              .select(*trust_day,
                      file_levels=pl.when(pl.col("has_trust") & pl.col("has_site")).then(pl.lit("site and trust"))
                      .when(pl.col("has_site")).then(pl.lit("site")).otherwise(pl.lit("trust")),
                      covers=(pl.col("known_sites").list.set_difference("file_sites").list.len() == 0)
                      .fill_null(False)))
    loaded = reference.loaded_levels if reference.loaded_levels is not None else _LEVELS
    # A left join on nothing gives nulls: without site rows (a national file) or anything loaded on
    # the file's trust-days (a first load), the columns are added as nulls instead of joined.
    derived = (frame.join(levels, on=trust_day, how="left", nulls_equal=True, maintain_order="left")
               if levels.height else frame.with_columns(pl.lit(None, levels.schema[name]).alias(name)
                                                        for name in ("file_levels", "covers")))
    derived = (derived.join(loaded, on=trust_day, how="left", maintain_order="left") if loaded.height
               else derived.with_columns(loaded_level=pl.lit(None, loaded.schema["loaded_level"])))
    coverage = (pl.when(pl.col("site_code").is_null()).then(pl.lit("trust"))
                .when(pl.col("covers")).then(pl.lit("every site")).otherwise(pl.lit("some sites")))
    return derived.with_columns(
        *_drd_bounds(),
        trust_site=pl.concat_str("org_code", "site_code", separator=" "),
        file_levels=pl.col("file_levels").fill_null("trust"),
        replaces=pl.concat_str(pl.col("loaded_level").fill_null("nothing"), pl.lit(" <- "), coverage),
    ).drop("covers", "loaded_level")


# ---- the compiler: one Polars expression per expectation, true where a row fails ----

Parameters = dict[str, Any]
Check = Callable[[Parameters], pl.Expr]


@dataclass(frozen=True)
class Rule:
    index: int  # position in the suite: issues come out in suite order
    type: str
    kwargs: dict[str, Any]
    rule: str
    severity: str
    message: str
    column_name: str  # the column an issue names
    check: Check | None  # None: a header rule, applied by the reader


def _value(kwarg: Any, parameters: Parameters) -> Any:
    if isinstance(kwarg, dict) and set(kwarg) == {"$PARAMETER"}:
        name = kwarg["$PARAMETER"]
        if name not in parameters:
            raise ContractError(f"the suite uses the parameter {name!r}, which the ingest does not supply")
        return parameters[name]
    return kwarg


def _between(kw: dict[str, Any], measure: Callable[[pl.Expr], pl.Expr]) -> Check:
    def check(p: Parameters) -> pl.Expr:
        column = pl.col(kw["column"])
        value, low, high = measure(column), _value(kw.get("min_value"), p), _value(kw.get("max_value"), p)
        outside = pl.lit(False)
        if low is not None:
            outside |= (value <= low) if kw.get("strict_min") else (value < low)
        if high is not None:
            outside |= (value >= high) if kw.get("strict_max") else (value > high)
        return column.is_not_null() & outside
    return check


def _pair(kw: dict[str, Any], equal: bool = False) -> Check:
    a, b = pl.col(kw["column_A"]), pl.col(kw["column_B"])
    either, both = a.is_null() | b.is_null(), a.is_null() & b.is_null()
    ignored = {"either_value_is_missing": either, "both_values_are_missing": both,
               "neither": pl.lit(False)}[kw.get("ignore_row_if", "both_values_are_missing")]
    holds = (a == b) if equal else (a >= b) if kw.get("or_equal") else (a > b)
    return lambda p: ~ignored & ~holds.fill_null(False)


def _compound_unique(kw: dict[str, Any]) -> Check:
    columns = kw["column_list"]
    ignored = {"all_values_are_missing": pl.all_horizontal(pl.col(columns).is_null()),
               "any_value_is_missing": pl.any_horizontal(pl.col(columns).is_null()),
               "never": pl.lit(False)}[kw.get("ignore_row_if", "all_values_are_missing")]
    key = pl.struct(columns)
    return lambda p: ~ignored & pl.when(~ignored).then(key).is_duplicated()


def _compiled(type_: str, kw: dict[str, Any]) -> Check | None:
    column = pl.col(kw.get("column", ""))
    if type_ == "expect_column_to_exist":
        return None
    if type_ == "expect_column_values_to_not_be_null":
        return lambda p: column.is_null()
    if type_ == "expect_column_values_to_be_between":
        return _between(kw, lambda c: c)
    if type_ == "expect_column_value_lengths_to_be_between":
        return _between(kw, lambda c: c.str.len_chars())
    if type_ == "expect_column_values_to_be_in_set":
        return lambda p: column.is_not_null() & ~column.is_in(list(_value(kw["value_set"], p)))
    if type_ == "expect_column_values_to_match_regex":
        return lambda p: column.is_not_null() & ~column.str.contains(kw["regex"])
    if type_ == "expect_column_values_to_not_match_regex":
        return lambda p: column.is_not_null() & column.str.contains(kw["regex"])
    if type_ in ("expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal"):
        return _pair(kw, equal=type_ == "expect_column_pair_values_to_be_equal")
    return _compound_unique(kw)


# Every expectation type the compiler knows, with the arguments it honours.
_KNOWN: dict[str, set[str]] = {
    "expect_column_to_exist": {"column"},
    "expect_column_values_to_not_be_null": {"column"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max"},
    "expect_column_value_lengths_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max"},
    "expect_column_values_to_be_in_set": {"column", "value_set"},
    "expect_column_values_to_match_regex": {"column", "regex"},
    "expect_column_values_to_not_match_regex": {"column", "regex"},
    "expect_column_pair_values_a_to_be_greater_than_b": {"column_A", "column_B", "or_equal", "ignore_row_if"},
    "expect_column_pair_values_to_be_equal": {"column_A", "column_B", "ignore_row_if"},
    "expect_compound_columns_to_be_unique": {"column_list", "ignore_row_if"},
}


def compile_suite(definition: dict[str, Any]) -> tuple[Rule, ...]:
    """The suite as rules; ContractError for anything that would otherwise be skipped or misread."""
    rules = []
    for index, expectation in enumerate(definition["expectations"]):
        type_, kwargs, meta = expectation["type"], expectation.get("kwargs", {}), expectation.get("meta", {})
        where = f"{CONTRACT_FILE.name}, expectation {index + 1} ({type_})"
        if type_ not in _KNOWN:
            raise ContractError(f"{where}: this expectation type is not supported by the compiled contract; "
                                f"supported: {', '.join(sorted(_KNOWN))}")
        if unknown := set(kwargs) - _KNOWN[type_]:
            raise ContractError(f"{where}: argument(s) {', '.join(sorted(unknown))} not supported")
        if expectation.get("severity", "critical") not in _SEVERITY:
            raise ContractError(f"{where}: severity {expectation.get('severity')!r} is not critical or warning")
        if not {"rule", "message"} <= set(meta):
            raise ContractError(f"{where}: meta.rule and meta.message are required")
        column_name = (meta.get("column_name") or kwargs.get("column") or kwargs.get("column_B")
                       or kwargs["column_list"][0])
        rules.append(Rule(index, type_, kwargs, meta["rule"], _SEVERITY[expectation.get("severity", "critical")],
                          meta["message"], column_name, _compiled(type_, kwargs)))
    return tuple(rules)


@lru_cache(maxsize=1)
def compiled_suite() -> tuple[Rule, ...]:
    return compile_suite(load_suite_definition())


# ---- the engines: which rows fail which expectation ----

def _failures_polars(checked: pl.DataFrame, rules: tuple[Rule, ...], parameters: Parameters) -> dict[int, pl.Series]:
    """One pass over the frame: a failing-row mask per rule, then the failing source rows of each."""
    checks = {r.index: r.check for r in rules if r.check is not None}
    masks = checked.select(*[check(parameters).fill_null(False).alias(str(i)) for i, check in checks.items()])
    rows = checked.get_column("source_row")
    return {i: rows.filter(masks.get_column(str(i))) for i in checks if masks.get_column(str(i)).any()}


@lru_cache(maxsize=1)
def _ge_validation_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network here; never phone home
    # Imported here, never at module level: the reference engine costs seconds to import, and the
    # default (compiled) engine must not pay for it.
    import great_expectations as gx  # noqa: PLC0415
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    definition = load_suite_definition()
    expectations = []
    for index, expectation in enumerate(definition["expectations"]):
        if expectation["type"] != "expect_column_to_exist":  # the reader rejects a file missing a column
            expectations.append({**expectation, "meta": {**expectation.get("meta", {}), "suite_index": index}})
    suite = context.suites.add(gx.ExpectationSuite(**{**definition, "expectations": expectations}))
    batch = (context.data_sources.add_pandas("sitrep").add_dataframe_asset("file")
             .add_batch_definition_whole_dataframe("all"))
    return context.validation_definitions.add(gx.ValidationDefinition(name="sitrep_daily", data=batch, suite=suite))


def _epoch_days(value: Any) -> Any:
    return (value - _EPOCH).days if isinstance(value, date) else value


def _failures_ge(checked: pl.DataFrame, parameters: Parameters) -> dict[int, pl.Series]:
    """Great Expectations on a pandas copy: exact 64-bit integers (nullable Int64) and dates as day
    numbers, because pandas' nanosecond datetimes end in 2262 and floats round large counts."""
    import pandas as pd  # noqa: PLC0415  (only the Great Expectations engine needs pandas)
    import pyarrow as pa  # noqa: PLC0415  (likewise)

    dates = [c for c, t in checked.schema.items() if t == pl.Date()]
    frame = checked.with_columns(pl.col(dates).sub(pl.lit(_EPOCH)).dt.total_days()).cast(
        {c: pl.Int64 for c, t in checked.schema.items() if t.is_integer()}).to_arrow().to_pandas(
        types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    frame.index = frame.pop("source_row").to_numpy()  # unnamed: GE then lists plain row numbers
    result = _ge_validation_definition().run(
        batch_parameters={"dataframe": frame},
        expectation_parameters={k: _epoch_days(v) for k, v in parameters.items()},
        result_format={"result_format": "COMPLETE"})
    failures = {}
    for outcome in result.results:
        if outcome.exception_info.get("raised_exception"):
            raise ContractError(f"data contract rule {outcome.expectation_config.type} could not run: "
                                f"{outcome.exception_info.get('exception_message')}")
        if failed := outcome.result.get("unexpected_index_list"):
            failures[outcome.expectation_config.meta["suite_index"]] = pl.Series("source_row", failed, pl.Int64)
    return failures


# ---- wording: one function for both engines ----

def _shown(column: str, dtype: pl.DataType) -> pl.Expr:
    """A value as a message quotes it: UK dates, whole numbers, text cut short; blank when missing."""
    value = pl.col(column)
    if dtype == pl.Date():
        text = value.dt.strftime("%d/%m/%Y")
    elif dtype == pl.String():  # control characters shown as '?': a message is one plain line, in order
        text = clean_column(pl.when(value.str.len_chars() > _SHOWN_CHARS).then(
            value.str.slice(0, _SHOWN_CHARS - 1) + "…").otherwise(value).str.replace_all(r"[\x00-\x1F\x7F-\x9F]", "?"))
    else:
        text = value.cast(pl.String)
    return text.fill_null("")


def _message(rule: Rule, schema: pl.Schema) -> pl.Expr:
    """The rule's meta.message with its fields filled in, as one vectorised expression."""
    fields: dict[str, pl.Expr] = {"column": pl.lit(rule.kwargs.get("column", "")),
                                  "column_A": pl.lit(rule.kwargs.get("column_A", "")),
                                  "column_B": pl.lit(rule.kwargs.get("column_B", "")),
                                  "site": pl.when(pl.col("site_code").is_null()).then(pl.lit(""))
                                  .otherwise(pl.lit(" site ") + _shown("site_code", pl.String())),
                                  "rows": pl.col("_rows")}
    for name in ("column", "column_A", "column_B"):
        if name in rule.kwargs:
            fields[{"column": "value", "column_A": "value_A", "column_B": "value_B"}[name]] = _shown(
                rule.kwargs[name], schema[rule.kwargs[name]])
    parts: list[pl.Expr] = []
    for literal, field, _, _ in string.Formatter().parse(rule.message):
        parts.append(pl.lit(literal))
        if field is not None:
            if field not in fields and field not in schema:
                raise ContractError(f"the message of rule {rule.rule} names {{{field}}}, which is not a column")
            parts.append(fields[field] if field in fields else _shown(field, schema[field]))
    return pl.concat_str(pl.lit("row "), pl.col("source_row").cast(pl.String), pl.lit(": "), *parts)


def _thousands(number: pl.Expr) -> pl.Expr:
    """A whole number below a billion as text with thousands separators: 19995 -> '19,995'."""
    millions, thousands, units = number // 1_000_000, number // 1000 % 1000, number % 1000
    return (pl.when(number >= 1_000_000).then(pl.format("{},{},{}", millions, _three(thousands), _three(units)))
            .when(number >= 1000).then(pl.format("{},{}", thousands, _three(units)))
            .otherwise(number.cast(pl.String)))


def _three(number: pl.Expr) -> pl.Expr:
    return number.cast(pl.String).str.zfill(3)


def _with_clash_rows(failing: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """``_rows`` for {rows}: the first SHOWN_ROWS rows sharing the row's key, and how many more there are."""
    clashes = failing.group_by(key).agg(
        _first=pl.col("source_row").sort().head(SHOWN_ROWS).cast(pl.String).str.join(", "), _count=pl.len())
    more = pl.when(pl.col("_count") > SHOWN_ROWS).then(
        pl.format(" and {} more", _thousands(pl.col("_count") - SHOWN_ROWS)))
    return (failing.join(clashes, on=key, how="left", nulls_equal=True, maintain_order="left")
            .with_columns(_rows=pl.concat_str("_first", more.fill_null(""))).drop("_first", "_count"))


def _issues(checked: pl.DataFrame, rules: tuple[Rule, ...], failures: dict[int, pl.Series]) -> pl.DataFrame:
    parts = [pl.DataFrame(schema=ISSUE_SCHEMA)]
    for rule in rules:
        if rule.index not in failures:
            continue
        failing = checked.filter(pl.col("source_row").is_in(failures[rule.index].implode()))
        key = rule.kwargs.get("column_list")
        failing = _with_clash_rows(failing, key) if key else failing.with_columns(_rows=pl.lit(""))
        parts.append(failing.select(
            "source_row", column_name=pl.lit(rule.column_name), rule=pl.lit(rule.rule),
            severity=pl.lit(rule.severity), message=_message(rule, checked.schema)))
    return pl.concat(parts).cast(ISSUE_SCHEMA)


def contract_issues(frame: pl.DataFrame, reference: Reference, engine: str | None = None,
                    first_problem: str | None = None) -> pl.DataFrame:
    """The suite's issues for a read frame (ISSUE_SCHEMA), in suite order per rule, found by ``engine``
    (one of config.CONTRACT_ENGINES; default the setting, ``config.contract_engine``); FileRejected past MAX_ISSUES of
    them (``first_problem``, the reader's first issue, is the example it gives)."""
    rules = compiled_suite()
    for rule in rules:
        if rule.check is None and rule.kwargs["column"] not in frame.columns:
            raise FileRejected(rule.message)
    checked = contract_frame(frame, reference)
    parameters = reference.parameters()
    engine = engine or config.contract_engine()
    failures = (_failures_ge(checked, parameters) if engine == "ge"
                else _failures_polars(checked, rules, parameters))
    if (count := sum(len(rows) for rows in failures.values())) > MAX_ISSUES:
        first_row = {index: int(rows.min()) for index, rows in failures.items()}  # type: ignore[arg-type]
        first = min(first_row, key=first_row.__getitem__)
        raise too_many_issues(count, first_problem or _issues(
            checked.filter(pl.col("source_row") == first_row[first]), rules,
            {first: failures[first].head(1)})["message"][0])
    return _issues(checked, rules, failures)


def validate(frame: pl.DataFrame, read_issues: pl.DataFrame, known_org_codes: Iterable[str], today: date, *,
             sites: pl.DataFrame | None = None, loaded_levels: pl.DataFrame | None = None,
             earliest_date: date | None = None, engine: str | None = None) -> pl.DataFrame:
    """All issues of a file, one row per failing cell and rule (ISSUE_SCHEMA), sorted by row.

    Cells the reader could not parse are null in ``frame`` and already in ``read_issues``: they are
    not reported a second time as blank. A row that does not fit the header has only that issue.
    """
    reference = Reference(frozenset(known_org_codes), reference_sites() if sites is None else sites, today,
                          earliest_date or config.earliest_period_date(), loaded_levels)
    found = contract_issues(frame, reference, engine, read_issues["message"][0] if read_issues.height else None)
    unparsed = read_issues.select("source_row", "column_name")
    misfits = read_issues.filter(pl.col("rule").is_in(_ROW_LEVEL_READER_RULES)).select("source_row")
    found = pl.concat([
        found.filter(pl.col("rule") != "required_value"),
        found.filter(pl.col("rule") == "required_value").join(unparsed, on=["source_row", "column_name"], how="anti"),
    ]).join(misfits, on="source_row", how="anti")
    return pl.concat([read_issues.cast(ISSUE_SCHEMA), found]).sort("source_row", maintain_order=True)
