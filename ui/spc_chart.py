"""The Making Data Count SPC (XmR) chart of one trust and metric, as a Plotly figure.

Built from a ``pipelines.spc.xmr.SpcResult`` (its ``points``) so it can be tested without a browser.
Points are coloured as NHS England's Making Data Count charts colour them (special cause
improvement blue, concern orange, common cause grey) and also told apart by marker shape and
legend, so colour is never the only cue. Each segment's mean and process limits are drawn on
their own, so the lines break where limits were recalculated. Hovers are in UK form
("Week ending Sun 14/04/2024") and name the rules that fired.
"""
from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from pipelines.catalogue.dates import uk_date, uk_day
from pipelines.reports.presentation import NHS_INK, format_value
from pipelines.spc.xmr import OUTSIDE, SHIFT, TREND, TWO_OF_THREE, SpcResult
from ui.charts import _layout, ambition_step, break_gaps
from ui.plotly_go import go
from ui.spc_icons import COMMON, CONCERN, IMPROVEMENT, NEITHER

IMPROVEMENT_FILL = "#41B6E6"  # NHS light blue, outlined in NHS blue so the marker stands out on white
MEAN_COLOUR = NHS_INK
LIMIT_COLOUR = "#425563"
# signal of a point -> (legend name, fill, outline, marker symbol)
SIGNALS: dict[str | None, tuple[str, str, str, str]] = {
    "improvement": ("Special cause improvement", IMPROVEMENT_FILL, IMPROVEMENT, "diamond"),
    "concern": ("Special cause concern", CONCERN, "#8A4B00", "square"),
    "neither": ("Special cause, signals both ways", NEITHER, NEITHER, "x"),
    "common cause": ("Common cause variation", COMMON, COMMON, "circle"),
    None: ("No limits (run chart)", COMMON, COMMON, "circle-open"),
}
RULE_TEXT = {
    OUTSIDE: "a point outside the process limits",
    SHIFT: "shift: 7 or more points in a row on one side of the mean",
    TREND: "trend: 7 or more points in a row all rising or all falling",
    TWO_OF_THREE: "2 of 3 points beyond 2 sigma on the same side",
}


def point_text(row: dict, label: str, unit: str) -> str:
    """The hover of one point: week, value, and its classification with the rules that fired."""
    text = f"Week ending {uk_day(row['period'])}<br>{label}: {format_value(row['value'], unit)}"
    name = SIGNALS[row["signal"]][0]
    if row["signal"] in (None, "common cause"):
        return f"{text}<br>{name}"
    rules = "; ".join(RULE_TEXT[r] for r in row["rules"])
    return f"{text}<br>{name} ({row['direction']}): {rules}"


def _segment_line(points: pl.DataFrame, column: str, name: str, unit: str) -> tuple[list, list, list]:
    """x, y and hover texts of one line (``mean``, ``upper_limit``, ...) drawn segment by segment,
    with a gap (None) between segments so the line breaks at each recalculation."""
    texts: list[str | None]
    xs, ys, texts = [], [], []
    for (_,), segment in points.filter(pl.col(column).is_not_null()).partition_by(
            "segment", as_dict=True, maintain_order=True).items():
        start = segment["period"][0]
        for period, value in zip(segment["period"], segment[column], strict=False):
            xs.append(period)
            ys.append(value)
            texts.append(f"{name}: {format_value(value, unit)}<br>limits of the weeks from {uk_day(start)}"
                         f"<br>week ending {uk_day(period)}")
        xs.append(None)
        ys.append(None)
        texts.append(None)
    return xs[:-1], ys[:-1], texts[:-1]


def spc_figure(result: SpcResult, label: str, unit: str, ambition: pl.DataFrame | None = None,
               baseline: tuple[date, date] | None = None) -> go.Figure:
    """The XmR chart: the weekly values, each segment's mean and process limits, the ambition in
    force (a dashed step, from ``ambition``: ``week_ending``, ``ambition``, ``ambition_comparison``,
    ``unit``), special-cause points coloured, and a marker where limits were recalculated."""
    points = result.points.sort("period")
    # The moving ranges join the points either side of a missing week, but the line breaks there.
    joined = break_gaps(points.select("period", "value").to_dicts(), "period", timedelta(days=7))
    fig = go.Figure(go.Scatter(x=[r and r["period"] for r in joined], y=[r and r["value"] for r in joined],
                               mode="lines", line={"color": "#AEB7BD", "width": 1.5}, hoverinfo="skip",
                               showlegend=False, name="Weekly value"))
    limit_style = {"color": LIMIT_COLOUR, "width": 1.5, "dash": "dot"}
    for name, column, style in (("Mean", "mean", {"color": MEAN_COLOUR, "width": 2}),
                                ("Upper process limit", "upper_limit", limit_style),
                                ("Lower process limit", "lower_limit", limit_style)):
        xs, ys, texts = _segment_line(points, column, name, unit)
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, customdata=texts, mode="lines", line=style, connectgaps=False,
                                     name="Process limits" if column != "mean" else name,
                                     legendgroup=column if column == "mean" else "limits",
                                     showlegend=column != "lower_limit",
                                     hovertemplate="%{customdata}<extra></extra>"))
    if ambition is not None and not ambition.is_empty() and (step := ambition_step(ambition)) is not None:
        fig.add_trace(step)
    for signal, (name, fill, outline, symbol) in SIGNALS.items():
        rows = [r for r in points.to_dicts() if r["signal"] == signal]
        if not rows:
            continue
        fig.add_trace(go.Scatter(
            x=[r["period"] for r in rows], y=[r["value"] for r in rows], mode="markers", name=name,
            customdata=[point_text(r, label, unit) for r in rows], hovertemplate="%{customdata}<extra></extra>",
            marker={"color": fill, "symbol": symbol, "size": 9 if signal in ("common cause", None) else 11,
                    "line": {"color": outline, "width": 2 if symbol != "circle-open" else 1.5}}))
    # Where limits were recalculated: a dotted vertical line at the first week of each later segment.
    starts = points.filter(pl.col("segment") > 0).group_by("segment").agg(pl.col("period").min()).sort("segment")
    for start in starts["period"]:
        fig.add_shape(type="line", x0=start, x1=start, xref="x", y0=0, y1=1, yref="paper",
                      line={"color": MEAN_COLOUR, "width": 1, "dash": "dashdot"})
        fig.add_annotation(x=start, y=1, xref="x", yref="paper", text=f"Recalculated from {uk_date(start)}",
                           showarrow=False, xanchor="left", yanchor="bottom", font={"size": 11})
    if baseline is not None:
        fig.add_shape(type="rect", x0=baseline[0], x1=baseline[1], xref="x", y0=0, y1=1, yref="paper",
                      fillcolor="#E8EDEE", opacity=0.6, line={"width": 0}, layer="below")
        fig.add_annotation(x=baseline[0], y=1, xref="x", yref="paper", text="Fixed baseline", showarrow=False,
                           xanchor="left", yanchor="bottom", font={"size": 11})
    fig = _layout(fig, unit, height=400)
    fig.update_layout(margin={"t": 30})
    return fig

