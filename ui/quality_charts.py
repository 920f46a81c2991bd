"""The data quality page's figure, built from ``pipelines.queries.quality.completeness``: testable without a browser."""
from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.catalogue.dates import DATE, DAY
from pipelines.queries import quality
from ui import data
from ui.plotly_go import go
from ui.style import NHS_BLUE, NHS_GREY

# Submitted, partial, missing: dark, mid and very light, so they differ without colour vision too.
STATE_COLOURS = {"submitted": NHS_BLUE, "partial": "#FFB81C", "missing": "#D8DDE0"}


def completeness_heatmap(grid: pl.DataFrame) -> go.Figure:
    states = {state: code for code, state in enumerate(quality.STATES)}
    cells = grid.with_columns(code=pl.col("state").replace_strict(states), hover=pl.format(
        "{}, {}: {}", "trust", pl.col("period_date").dt.strftime(DAY),
        pl.when(pl.col("state") == "missing").then(pl.lit("no submission"))
        .when(pl.col("state") == "partial")
        .then(pl.format("partial ({} of the usual {} rows)", "rows_sent", "usual_rows"))
        .otherwise(pl.format("submitted ({} rows)", "rows_sent"))))
    rows = cells.group_by("trust", maintain_order=True).agg("code", "hover")
    colours = list(STATE_COLOURS.values())
    steps = len(colours)
    # A discrete scale: state code i covers i - 0.5 to i + 0.5, in one flat colour.
    scale = [[(i + edge) / steps, colour] for i, colour in enumerate(colours) for edge in (0, 1)]
    fig = go.Figure(go.Heatmap(
        x=cells["period_date"].unique(maintain_order=True).to_list(), y=rows["trust"].to_list(),
        z=rows["code"].to_list(), customdata=rows["hover"].to_list(), hovertemplate="%{customdata}<extra></extra>",
        zmin=-0.5, zmax=steps - 0.5, colorscale=scale, showscale=False, xgap=1, ygap=1))
    for state, colour in STATE_COLOURS.items():  # the legend: one key per state, always all three
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=state, hoverinfo="skip", marker={
            "symbol": "square", "size": 14, "color": colour, "line": {"color": NHS_GREY, "width": 1}}))
    fig.update_xaxes(tickformat=DATE, showgrid=False)
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False)
    fig.update_layout(height=120 + 24 * rows.height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": 1.01, "yanchor": "bottom", "x": 0}, plot_bgcolor="white")
    return fig


def completeness_heatmap_between(first: date, last: date) -> go.Figure:
    """The heatmap of every trust's days from ``first`` to ``last`` (for ``ui.kept.kept``: built once per
    data version; building a 140-trust figure was most of the page's script time)."""
    return completeness_heatmap(data.read(quality.completeness, first, last))
