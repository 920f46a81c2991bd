"""What the OPEL page draws and writes, built from query results: testable without a browser.

Each OPEL level is its own heatmap trace with one flat colour, so the colours are discrete
("OPEL 1" .. "OPEL 4" in the legend, never a continuous scale) and each level's number is
written in its own readable text colour.
"""
from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.catalogue.dates import DATE, DAY, uk_date
from pipelines.queries import opel
from ui import data
from ui.plotly_go import go
from ui.style import NHS_GREY, NHS_PALE_GREY, OPEL_COLOURS, OPEL_TEXT_COLOURS

MAX_DAYS_WITH_NUMBERS = 31  # beyond this the cells are too narrow for the level's number


def headline(counts: pl.DataFrame, first: date, last: date) -> str:
    """'5 of 13 trusts reported OPEL 4 on at least one day between 01/08/2025 and 28/09/2025.'"""
    at_four = counts.filter(pl.col("days_opel_4") > 0).height
    trusts = "trust" if counts.height == 1 else "trusts"
    return (f"{at_four} of {counts.height} {trusts} reported OPEL 4 on at least one day "
            f"between {uk_date(first)} and {uk_date(last)}.")


def trust_heatmap(daily: pl.DataFrame) -> go.Figure:
    """Trust OPEL by day: one row per trust, grouped by ICB (the grid of ``pipelines.queries.opel.daily_opel``)."""
    return _heatmap(daily, "trust_opel", pl.col("trust"), blank_name="No submission",
                    blank_hover=pl.lit("no submission"))


def la_heatmap(daily: pl.DataFrame) -> go.Figure:
    """Local authority OPEL by day, for the trusts that reported it on at least one day of the grid."""
    reporting = daily.filter(pl.col("la_opel").is_not_null().any().over("org_code"))
    return _heatmap(reporting, "la_opel", pl.format("{} ({})", "local_authority", "trust"), blank_name="Not reported",
                    blank_hover=pl.when("submitted").then(pl.lit("LA OPEL not reported"))
                    .otherwise(pl.lit("no submission")))


def trust_heatmap_between(first: date, last: date, icbs: tuple[str, ...]) -> go.Figure:
    """The trust heatmap of the ICBs' daily grid (for ``ui.kept.kept``: built once per data version)."""
    return trust_heatmap(data.read(opel.daily_opel, first, last, icbs))


def la_heatmap_between(first: date, last: date, icbs: tuple[str, ...]) -> go.Figure:
    """The local authority heatmap of the ICBs' daily grid (for ``ui.kept.kept``)."""
    return la_heatmap(data.read(opel.daily_opel, first, last, icbs))


def _heatmap(daily: pl.DataFrame, level: str, row_label: pl.Expr, blank_name: str, blank_hover: pl.Expr) -> go.Figure:
    cells = daily.with_columns(
        row=row_label,
        hover=pl.format("{}, {}: {}", row_label, pl.col("period_date").dt.strftime(DAY),
                        pl.when(pl.col(level).is_not_null()).then(pl.format("OPEL {}", level)).otherwise(blank_hover)))
    # The grid is sorted by ICB, trust and day, so each row's cells are its days in order.
    rows = cells.group_by("icb_name", "row", maintain_order=True).agg(pl.col(level), pl.col("hover"))
    days = cells["period_date"].unique(maintain_order=True).to_list()
    # Two-level row labels: the ICB (shortened, it is repeated down the side) and the row itself.
    y = [[_short_icb(i) for i in rows["icb_name"]], rows["row"].to_list()]
    levels, hover = rows[level].to_list(), rows["hover"].to_list()
    show_numbers = len(days) <= MAX_DAYS_WITH_NUMBERS
    gap = 1 if len(days) <= 2 * MAX_DAYS_WITH_NUMBERS else 0

    def trace(name: str, value: int, colour: str, keep: int | None, text_colour: str = NHS_GREY) -> go.Heatmap:
        # Cells not at this level are gaps (None): only the trace that owns a cell draws and hovers it,
        # so only that trace carries the cell's hover text (140 trusts x 8 weeks: 0.5 MB, not 2.3 MB, per chart).
        return go.Heatmap(
            x=days, y=y, z=[[value if v == keep else None for v in row] for row in levels],
            name=name, legendgroup=name, showlegend=False, showscale=False, colorscale=[[0, colour], [1, colour]],
            customdata=[[h if v == keep else None for v, h in zip(row, texts, strict=True)]
                        for row, texts in zip(levels, hover, strict=True)],
            hovertemplate="%{customdata}<extra></extra>", hoverongaps=False,
            texttemplate="%{z}" if show_numbers and keep else "", textfont={"color": text_colour},
            xgap=gap, ygap=gap)

    def key(name: str, colour: str) -> go.Scatter:
        # A heatmap only gets a legend entry when it has cells, so the key is drawn by empty
        # markers instead: every level is always listed, and clicking one still hides its cells.
        return go.Scatter(x=[None], y=[None], mode="markers", name=name, legendgroup=name, hoverinfo="skip",
                          marker={"symbol": "square", "size": 14, "color": colour,
                                  "line": {"color": NHS_GREY, "width": 1}})

    heatmaps = ([trace(f"OPEL {n}", n, OPEL_COLOURS[n], n, OPEL_TEXT_COLOURS[n]) for n in OPEL_COLOURS]
                + [trace(blank_name, 0, NHS_PALE_GREY, None)])
    fig = go.Figure(heatmaps + [key(h.name, h.colorscale[0][1]) for h in heatmaps])
    fig.update_xaxes(tickformat=DATE, automargin=True, showgrid=False)
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False)  # first trust at the top
    fig.update_layout(height=120 + 24 * len(rows), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": 1.01, "yanchor": "bottom", "x": 0},
                      plot_bgcolor="white")
    return fig


def _short_icb(name: str) -> str:
    """'NHS West Yorkshire ICB' -> 'West Yorkshire'."""
    return name.removeprefix("NHS ").removesuffix(" ICB")
