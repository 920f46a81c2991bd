"""Where a trust-day figure can come from, and which source wins (one truth per field).

``sitrep_daily`` holds the current rows of every source side by side; the trust-day view takes
each field from the first source in ``PRECEDENCE`` that reports it, so the order files arrive in
never matters and nothing is counted twice. The trust's own file comes first (its direct
submission, per site), then NHS England's UEC daily sitrep (beds and long stays), then NHS
England's discharge sitrep (criteria to reside).
"""
from __future__ import annotations

TRUST_SITREP = "trust_sitrep"
UEC_SITREP = "nhse_uec_sitrep"
DISCHARGE_SITREP = "nhse_publication"  # the name stored since the first NHS England import
PRECEDENCE: tuple[str, ...] = (TRUST_SITREP, UEC_SITREP, DISCHARGE_SITREP)
SOURCE_LABELS = {TRUST_SITREP: "the trust's own sitrep files",
                 UEC_SITREP: "NHS England UEC daily sitrep",
                 DISCHARGE_SITREP: "NHS England Acute Daily Discharge SitRep"}


def reported_by(source: str, column: str) -> str:
    """SQL (inside a GROUP BY trust-day): does ``source`` report ``column`` for the trust-day? The
    trust's own file must report it for every site it sent; a national source has one row."""
    rows = f"count(*) FILTER (WHERE source = '{source}')"
    return f"({rows} > 0 AND count({column}) FILTER (WHERE source = '{source}') = {rows})"


def current_value_sql(column: str) -> str:
    """SQL for the current trust-day value of ``column``: the first source in PRECEDENCE reporting it."""
    # BIGINT, not sum's HUGEINT: a trust-day's few rows of 32-bit figures cannot overflow 64 bits, analysts'
    # tools (R, Power BI) read 64-bit integers natively, and the weekly parts add them at half the cost.
    cases = " ".join(f"WHEN {reported_by(s, column)} THEN CAST(sum({column}) FILTER (WHERE source = '{s}') AS BIGINT)"
                     for s in PRECEDENCE)
    return f"CASE {cases} END"


def single_row_value_sql(column: str) -> str:
    """``current_value_sql`` of a trust-day that is one row, without grouping: the row's own figure when
    its source is one of PRECEDENCE (the other sources have no row, so none reports the field)."""
    return f"CASE WHEN source IN ({', '.join(repr(s) for s in PRECEDENCE)}) THEN {column} END"


def current_source_sql(column: str) -> str:
    """SQL naming the source ``current_value_sql`` takes ``column`` from (NULL: nobody reports it)."""
    cases = " ".join(f"WHEN {reported_by(s, column)} THEN '{s}'" for s in PRECEDENCE)
    return f"CASE {cases} END"
