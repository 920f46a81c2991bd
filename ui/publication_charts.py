"""Plotly figures for NHS England's beds publications on the trust drill-down: a metric's daily series with
the monthly beds publication's averages beside it, Table 3's bed days lost, and a merged trust's combined
series with the merger dates marked. Built from ``pipelines.queries.drilldown`` frames; UK dates in hovers."""
from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.catalogue.dates import uk_day
from ui.charts import AXIS_TITLES
from ui.plotly_go import go
from ui.style import NHS_BLUE, NHS_DARK_BLUE, NHS_GREY, NHS_PALE_GREY

# 7+, 14+, 21+ days told apart by dash and marker as well as colour
LONG_STAYS = (("los_7plus", "7+ days", NHS_BLUE, "solid", "circle"),
              ("los_14plus", "14+ days", NHS_DARK_BLUE, "dot", "square"),
              ("los_21plus", "21+ days", NHS_GREY, "dash", "diamond"))


def _layout(fig: go.Figure, y_title: str, height: int = 340) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, plot_bgcolor="white",
                      legend={"orientation": "h", "y": -0.2}, hovermode="x unified")
    fig.update_xaxes(tickformat="%d %b %Y", showgrid=False, linecolor=NHS_GREY)
    fig.update_yaxes(title_text=y_title, gridcolor=NHS_PALE_GREY, zeroline=False)
    return fig


def monthly_points_figure(daily: pl.DataFrame, monthly: pl.DataFrame, unit: str) -> go.Figure:
    """The daily values as a line, each monthly average as a point at the middle of its month."""
    fig = go.Figure()
    if not daily.is_empty():
        fig.add_trace(go.Scatter(x=daily["period_date"], y=daily["value"], mode="lines", name="Daily",
                                 line={"color": NHS_GREY, "width": 1},
                                 hovertext=[uk_day(d) for d in daily["period_date"]], hoverinfo="text+y"))
    middle = [m.replace(day=15) for m in monthly["month"]]
    fig.add_trace(go.Scatter(x=middle, y=monthly["value"], mode="markers", name="Monthly average (NHS England)",
                             marker={"color": NHS_DARK_BLUE, "size": 12, "symbol": "diamond"},
                             hovertext=[f"{m:%B %Y} monthly average" for m in monthly["month"]],
                             hoverinfo="text+y"))
    return _layout(fig, AXIS_TITLES.get(unit, unit))


def drd_points_figure(months: pl.DataFrame) -> go.Figure:
    """NHS England's monthly DRD shares for a trust (``pipelines.queries.drd``), one marker per month at the
    middle of its month, never joined to daily figures. A month whose data NHS England did not accept is an
    open grey marker, never coloured against an ambition."""
    fig = go.Figure()
    for (label,), points in months.filter(pl.col("is_share")).group_by("label", maintain_order=True):
        for accepted, colour, symbol, words in ((True, NHS_DARK_BLUE, "diamond", ""),
                                                (False, NHS_GREY, "diamond-open", " (data not accepted)")):
            shown = points.filter(pl.col("may_be_rated") == accepted)
            if shown.is_empty():
                continue
            fig.add_trace(go.Scatter(
                x=[m.replace(day=15) for m in shown["month"]], y=shown["value"] * 100, mode="markers",
                name=f"{label}{words}", marker={"color": colour, "size": 12, "symbol": symbol},
                hovertext=[f"{m:%B %Y}{words}" for m in shown["month"]], hoverinfo="text+y+name"))
    return _layout(fig, AXIS_TITLES["%"]).update_yaxes(rangemode="tozero")


def bed_days_lost_figure(weeks: pl.DataFrame) -> go.Figure:
    """Table 3: additional bed days lost per week, one line per length of stay."""
    fig = go.Figure([go.Scatter(x=weeks["week_commencing"], y=weeks[column], name=name, mode="lines+markers",
                                line={"color": colour, "dash": dash}, marker={"symbol": symbol},
                                hovertext=[f"w/c {uk_day(d)}" for d in weeks["week_commencing"]],
                                hoverinfo="text+y+name")
                     for column, name, colour, dash, symbol in LONG_STAYS])
    return _layout(fig, "Additional bed days").update_yaxes(rangemode="tozero")


def combined_figure(own: pl.DataFrame, combined: pl.DataFrame, mergers: list[tuple[str, date]], trust: str,
                    unit: str) -> go.Figure:
    """The trust's own weekly series and the series with its predecessors' history, merger dates marked."""
    fig = go.Figure([
        go.Scatter(x=combined["week_ending"], y=combined["value"], name=f"{trust} with merged trusts' history",
                   mode="lines+markers", line={"color": NHS_GREY, "dash": "dot"}, marker={"symbol": "square"}),
        go.Scatter(x=own["week_ending"], y=own["value"], name=f"{trust} alone", mode="lines+markers",
                   line={"color": NHS_BLUE})])
    for name, day in mergers:
        fig.add_vline(x=day.isoformat(), line={"color": NHS_DARK_BLUE, "dash": "dash"})
        fig.add_annotation(x=day.isoformat(), y=1, yref="paper", text=f"{name} merged in {day:%d/%m/%Y}",
                           showarrow=False, xanchor="left", font={"color": NHS_DARK_BLUE})
    return _layout(fig, AXIS_TITLES.get(unit, unit))
