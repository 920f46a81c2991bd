"""Each trust's ICB from a monthly workbook's own ICB section.

The 2022 and 2023 workbooks give Table 2 a block of ICB rows (``Region | ICB Code | ICB Name``) and a
block of trust rows (``Region | Org Code | Org Name``) but no column linking the two. Each ICB's
figures are the sum of its trusts' (both leave out discharges to a hospice, Table 2 note 1), day by
day, so within a region the trusts can be shared out among its ICBs so that every ICB adds up. A
region's answer is kept only when exactly one sharing adds up on every day and measure; otherwise
its trusts keep no ICB from this file (the beds CSV or the reference file gives them one).
"""
from __future__ import annotations

import polars as pl

from pipelines.publication.tables import ICB

ICB_SECTION = "acute workbook ICB section"
_MEASURES = ("nctr_patients", "nctr_discharged")  # published for every trust and ICB, nothing held back
_SEARCH_LIMIT = 200_000  # steps per region; a region that needs more keeps no ICB from this file
Vector = tuple[int, ...]


def _vectors(frame: pl.DataFrame, code: str, days: list) -> dict[str, Vector]:
    """Each organisation's figures as one vector over (day, measure); not submitted counts as 0."""
    cells = {(row[code], row["period_date"]): row for row in frame.iter_rows(named=True)}
    return {org: tuple(int((cells.get((org, day)) or {}).get(m) or 0) for day in days for m in _MEASURES)
            for org in frame[code].unique().sort()}


def _share_out(trusts: dict[str, Vector], icbs: dict[str, Vector]) -> dict[str, str] | None:
    """The one way of giving each trust an ICB so that every ICB adds up, or None (none, several, too long)."""
    order = sorted(trusts, key=lambda code: -sum(trusts[code]))
    left = {icb: list(total) for icb, total in icbs.items()}
    chosen: dict[str, str] = {}
    found: list[dict[str, str]] = []
    steps = 0

    def place(i: int) -> bool:  # False stops the search (a second answer, or too many steps)
        nonlocal steps
        steps += 1
        if steps > _SEARCH_LIMIT:
            return False
        if i == len(order):
            if all(not any(rest) for rest in left.values()):
                found.append(dict(chosen))
            return len(found) < 2
        figures = trusts[order[i]]
        for icb, rest in left.items():
            if all(r >= f for r, f in zip(rest, figures, strict=True)):
                for k, f in enumerate(figures):
                    rest[k] -= f
                chosen[order[i]] = icb
                going = place(i + 1)
                for k, f in enumerate(figures):
                    rest[k] += f
                if not going:
                    return False
        return True

    finished = place(0)
    return found[0] if finished and len(found) == 1 else None


def icbs_by_adding_up(daily: pl.DataFrame, daily_areas: pl.DataFrame) -> pl.DataFrame:
    """org_code, icb_code, icb_source for the trusts whose ICB the workbook's ICB section settles."""
    icb_rows = daily_areas.filter(pl.col("level") == ICB)
    found: list[tuple[str, str]] = []
    days = daily["period_date"].unique().sort().to_list()
    for region in icb_rows["region"].drop_nulls().unique().sort():
        trusts = daily.filter(pl.col("region") == region)
        icbs = icb_rows.filter(pl.col("region") == region)
        trust_vectors = {code: v for code, v in _vectors(trusts, "org_code", days).items() if any(v)}
        if shared := _share_out(trust_vectors, _vectors(icbs, "area_code", days)):
            found += shared.items()
    return pl.DataFrame(found, schema={"org_code": pl.String, "icb_code": pl.String}, orient="row").with_columns(
        icb_source=pl.lit(ICB_SECTION))
