"""The discharge group's weekly table, assembled once for the home page and every export."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipelines.queries import weekly as queries
from pipelines.reports.presentation import position_grid
from pipelines.spc.store import spc_summary


@dataclass(frozen=True)
class WeeklyTable:
    week_ending: date
    trusts: pl.DataFrame  # the selected trusts: org_code, trust (short name), icb_name, place, ...
    position: pl.DataFrame  # weekly_position rows of those trusts for the week
    system: pl.DataFrame  # the selected trusts combined (queries.system_weekly) for the week
    spc: pl.DataFrame  # variation and assurance per trust and metric as at the week (spc_data.spc_summary)
    text: pl.DataFrame  # metrics as rows, trusts as columns: what people read
    status: pl.DataFrame  # the same shape: each cell's status, for colouring


def select_trusts(trusts: pl.DataFrame, icbs: Sequence[str] = (), places: Sequence[str] = ()) -> pl.DataFrame:
    """Trusts in any of the ICBs (by name) and places given; all trusts when a filter is empty."""
    if icbs:
        trusts = trusts.filter(pl.col("icb_name").is_in(list(icbs)))
    if places:
        trusts = trusts.filter(pl.col("place").is_in(list(places)))
    return trusts


def build_weekly_table(con: duckdb.DuckDBPyConnection, week_ending: date, icbs: Sequence[str] = (),
                       places: Sequence[str] = ()) -> WeeklyTable:
    trusts = select_trusts(queries.trusts_with_data(con, week_ending), icbs, places)
    org_codes = tuple(trusts["org_code"])
    spc = spc_summary(con, week_ending, org_codes)
    position = (queries.weekly_position(con, week_ending).filter(pl.col("org_code").is_in(org_codes))
                .join(spc.select("org_code", "metric", "variation", "assurance"), on=["org_code", "metric"],
                      how="left"))
    system = queries.system_weekly(con, org_codes, week_ending, week_ending)
    text, status = position_grid(position, list(trusts["trust"]))
    return WeeklyTable(week_ending, trusts, position, system, spc, text, status)
