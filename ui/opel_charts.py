"""What the OPEL page writes, built from query results: testable without a browser. The grids
themselves are ``pipelines.reports.opel_grid``'s HTML tables (no Plotly: nothing on the page waits
for plotly.js)."""
from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.catalogue.dates import uk_date
from pipelines.queries import opel
from pipelines.reports.opel_grid import la_grid, trust_grid
from ui import data


def headline(counts: pl.DataFrame, first: date, last: date) -> str:
    """'5 of 13 trusts reported OPEL 4 on at least one day between 01/08/2025 and 28/09/2025.'"""
    at_four = counts.filter(pl.col("days_opel_4") > 0).height
    trusts = "trust" if counts.height == 1 else "trusts"
    return (f"{at_four} of {counts.height} {trusts} reported OPEL 4 on at least one day "
            f"between {uk_date(first)} and {uk_date(last)}.")


def grids_between(first: date, last: date, org_codes: tuple[str, ...], group_name: str) -> tuple[str, str]:
    """The trust and the local authority grids of a group's trusts (``org_codes``; none: every trust)
    from ``first`` to ``last`` (for ``ui.kept.kept``: built once per data version); the second is ''
    when no trust reported its local authority's level."""
    daily = data.read(opel.daily_opel, first, last, org_codes)
    period = f"{uk_date(first)} to {uk_date(last)}, {group_name}"
    return (trust_grid(daily, f"Trust OPEL level by day, {period}"),
            la_grid(daily, f"Local authority OPEL level by day, {period}"))
