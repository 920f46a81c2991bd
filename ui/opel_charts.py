"""What the OPEL page writes, built from query results: testable without a browser. The grids
themselves are ``pipelines.reports.opel_grid``'s HTML tables (no Plotly: nothing on the page waits
for plotly.js). Each grid is built for ``ui.kept.kept``: once per data version and choice."""
from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.catalogue.dates import uk_date
from pipelines.queries import opel
from pipelines.reports.opel_grid import la_grid, trust_grid
from ui import data

# A discharge group's trusts fit the first screen's grid (a 1366x768 window shows about 15 rows); a bigger group
# (a region, England) shows its most pressed trusts there and every trust's row when asked.
FIRST_SCREEN_TRUSTS = 15


def headline(counts: pl.DataFrame, first: date, last: date) -> str:
    """'5 of 13 trusts reported OPEL 4 on at least one day between 01/08/2025 and 28/09/2025.'"""
    at_four = counts.filter(pl.col("days_opel_4") > 0).height
    trusts = "trust" if counts.height == 1 else "trusts"
    return (f"{at_four} of {counts.height} {trusts} reported OPEL 4 on at least one day "
            f"between {uk_date(first)} and {uk_date(last)}.")


def first_screen_grid(first: date, last: date, org_codes: tuple[str, ...], group_name: str) -> str:
    """The trust grid of the first screen: a group of up to ``FIRST_SCREEN_TRUSTS`` trusts whole, by ICB; of a
    bigger group the ``FIRST_SCREEN_TRUSTS`` trusts at OPEL 4 on most days, then OPEL 3, most first."""
    counts = data.read(opel.opel_counts, first, last, org_codes)
    if counts.height <= FIRST_SCREEN_TRUSTS:
        return trust_grid_between(first, last, org_codes, group_name)
    shown = tuple(counts["org_code"].head(FIRST_SCREEN_TRUSTS))
    return trust_grid(data.read(opel.daily_opel, first, last, shown),
                      f"Trust OPEL level by day, {_period(first, last)}, {group_name}: the {len(shown)} trusts at "
                      "OPEL 4 on most days, then OPEL 3", order=shown)


def trust_grid_between(first: date, last: date, org_codes: tuple[str, ...], group_name: str) -> str:
    """The trust grid of a group's trusts (``org_codes``; none: every trust) from ``first`` to ``last``, by ICB."""
    daily = data.read(opel.daily_opel, first, last, org_codes)
    return trust_grid(daily, f"Trust OPEL level by day, {_period(first, last)}, {group_name}")


def la_grid_between(first: date, last: date, org_codes: tuple[str, ...], group_name: str) -> str:
    """The local authority grid of a group's trusts; '' when none of them reported its local authority's level."""
    daily = data.read(opel.daily_opel, first, last, org_codes)
    return la_grid(daily, f"Local authority OPEL level by day, {_period(first, last)}, {group_name}")


def _period(first: date, last: date) -> str:
    return f"{uk_date(first)} to {uk_date(last)}"
