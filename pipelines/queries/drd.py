"""A trust's discharge ready date (DRD) months as NHS England publishes them (``publication_drd_monthly``),
for the trust drill-down and anything else that sets them beside the trust's own daily figures.
Monthly points only: they are never added to daily figures."""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

# The measures the drill-down shows by default: the share discharged on their DRD, and the share of delayed
# patients who waited 21 days or more (the 2025/26 plan starts eliminating those).
HEADLINE = ("pct_dod_same_as_drd", "pct_delayed_within_21plus_days")


def trust_drd_months(con: duckdb.DuckDBPyConnection, org_code: str, first: date, last: date,
                     measures: tuple[str, ...] = HEADLINE) -> pl.DataFrame:
    """month, measure, label (as published), value (a share as a fraction), is_share, acceptable_data,
    may_be_rated (false: never coloured against an ambition), source_file; months overlapping the range."""
    return con.sql("""
        SELECT month, measure, label, value, is_share, acceptable_data, may_be_rated, source_file
        FROM publication_drd_monthly
        WHERE org_code = $1 AND month BETWEEN date_trunc('month', $2::DATE) AND $3 AND list_contains($4, measure)
        ORDER BY month, measure""", params=[org_code, first, last, list(measures)]).pl()
