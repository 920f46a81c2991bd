"""A metric's last weeks as a small SPC run chart in inline SVG, drawn by the server: the drill-down's
first screen shows the trend without waiting for plotly.js (the Plotly charts further down explore the
whole history). No Streamlit here: it returns markup, testable without a browser.

The chart is an image to a screen reader (``role="img"``) whose text alternative says what it shows:
the weeks, the first and latest values, the mean and process limits and the special-cause weeks. On the page
it is an ``<img>`` of the SVG (a data URI) in ``st.html``: Streamlit's ``st.html`` drops inline SVG, and
``st.markdown`` with HTML makes the browser load and run an HTML parser for Markdown (about 180 KB of
JavaScript) before the first screen is drawn.
As on the Plotly SPC chart (``ui.spc_chart``), special causes differ by shape as well as colour.
"""
from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable

import polars as pl

from pipelines.catalogue.dates import uk_date
from pipelines.catalogue.metrics import Metric
from pipelines.queries.drilldown import TrustSpc
from pipelines.reports.presentation import NHS_INK, format_ambition, format_value
from pipelines.safe_text import html_text
from ui.spc_icons import COMMON, CONCERN, IMPROVEMENT, NEITHER

TREND_WEEKS = 26  # about six months: enough weeks to see a shift (7 in a row) and what came before
WIDTH, HEIGHT = 560, 170
# Room for the value labels (left), the ambition's name beside its line (right: never over a point), the weeks.
LEFT, RIGHT, TOP, BOTTOM = 56, 62, 10, 22
INK, LINE_GREY, AMBITION_BLUE = NHS_INK, "#768692", "#003087"
# signal -> (words, colour); the shape is drawn by ``_marker``
SIGNAL_LOOK = {"improvement": ("special cause improvement", IMPROVEMENT),
               "concern": ("special cause concern", CONCERN),
               "neither": ("special cause, signals both ways", NEITHER)}


def spc_trend_html(spc: TrustSpc, metric: Metric, weeks: int = TREND_WEEKS) -> str:
    """The drill-down's trend: the last ``weeks`` of the metric's SPC chart with the latest ambition in
    force, as an SVG under a line saying how to read it ('' when no complete week is charted)."""
    known = spc.ambition.filter(pl.col("ambition").is_not_null()).sort("week_ending")
    ambition, words = None, None
    if known.height:
        latest = known.row(-1, named=True)
        ambition, words = latest["ambition"], format_ambition(latest["ambition_comparison"], latest["ambition"],
                                                              metric.unit)
    points = last_weeks(spc.result.points, weeks)
    if not (svg := trend_svg(points, metric.short_label, metric.unit, ambition, words)):
        return ""
    said = html_text(trend_text(points, metric.short_label, metric.unit, words))
    # The bottom margin as Streamlit's Markdown had it, so the page below does not move down.
    return (f'<figure style="margin:0 0 -1rem 0"><figcaption style="font-size:0.875rem;color:{INK}">'
            f"<strong>The last {weeks} complete weeks (SPC)</strong>: the mean (solid line), process limits "
            "(dotted), the ambition (dashed blue); special cause improvement a diamond, concern a square. "
            "The whole history is in the SPC chart further down.</figcaption>"
            f'<img src="data:image/svg+xml;base64,{b64encode(svg.encode()).decode()}" alt="{said}" width="{WIDTH}" '
            f'height="{HEIGHT}" style="max-width:100%;height:auto;display:block"></figure>')


def last_weeks(points: pl.DataFrame, weeks: int = TREND_WEEKS) -> pl.DataFrame:
    """The latest ``weeks`` charted points of an SPC result (``SpcResult.points``), oldest first."""
    return points.sort("period").tail(weeks)


def trend_text(points: pl.DataFrame, label: str, unit: str, ambition: str | None = None) -> str:
    """The chart's words: 'Stranded 7+ days, the 26 complete weeks to the week ending 14/04/2024: 45.0%
    in the first, 40.0% in the latest; mean 42.1%, process limits 30.2% to 54.0%; special cause
    concern in 2 weeks, the latest 07/04/2024.'"""
    first, last = points.row(0, named=True), points.row(-1, named=True)
    weeks = "week" if points.height == 1 else f"{points.height} complete weeks"
    said = (f"{label}, the {weeks} to the week ending {uk_date(last['period'])}: "
            f"{format_value(first['value'], unit)} in the first, {format_value(last['value'], unit)} in the latest")
    if last["mean"] is not None:
        said += f"; mean {format_value(last['mean'], unit)}"
    if last["upper_limit"] is not None:
        said += (f", process limits {format_value(last['lower_limit'], unit)} to "
                 f"{format_value(last['upper_limit'], unit)}")
    elif last["mean"] is None:
        said += "; too few weeks for process limits"
    for signal, (words, _) in SIGNAL_LOOK.items():
        special = points.filter(pl.col("signal") == signal)
        if special.height:
            said += (f"; {words} in {special.height} week{'s' if special.height > 1 else ''}, the latest "
                     f"{uk_date(special['period'][-1])}")
    if ambition:
        said += f"; the ambition: {ambition}"
    return said + "."


def trend_svg(points: pl.DataFrame, label: str, unit: str, ambition: float | None = None,
              ambition_words: str | None = None) -> str:
    """The SVG of ``points`` (``last_weeks``: period, value, segment, mean, upper_limit, lower_limit,
    signal): the weekly values, each segment's mean (solid) and process limits (dotted), the ambition
    (dashed blue) when there is one, and each point marked by its signal. '' without points."""
    if points.is_empty():
        return ""
    rows = points.to_dicts()
    values = [v for r in rows for v in (r["value"], r["upper_limit"], r["lower_limit"]) if v is not None]
    low, high = min(values + [ambition] * (ambition is not None)), max(values + [ambition] * (ambition is not None))
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    step = (WIDTH - LEFT - RIGHT) / max(len(rows) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + i * step, 1)

    def y(value: float) -> float:
        return round(TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM), 1)

    parts = [f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
             'fill="#FFFFFF" stroke="#D8DDE0"/>']
    for column, style in (("upper_limit", 'stroke-dasharray="3 3"'), ("lower_limit", 'stroke-dasharray="3 3"'),
                          ("mean", 'stroke-width="2"')):
        parts += [f'<polyline fill="none" stroke="{INK if column == "mean" else LINE_GREY}" {style} points="{line}"/>'
                  for line in _segment_lines(rows, column, x, y)]
    if ambition is not None:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(ambition)}" y2="{y(ambition)}" '
                     f'stroke="{AMBITION_BLUE}" stroke-width="2" stroke-dasharray="8 4"/>')
    weekly_line = " ".join(f"{x(i)},{y(r['value'])}" for i, r in enumerate(rows))
    parts.append(f'<polyline fill="none" stroke="#AEB7BD" stroke-width="1.5" points="{weekly_line}"/>')
    parts += [_marker(x(i), y(r["value"]), r["signal"]) for i, r in enumerate(rows)]
    if ambition is not None:  # its name in the right margin, level with its line: "Ambition" over "< 40%"
        level = min(max(y(ambition), TOP + 10), HEIGHT - BOTTOM - 12)
        parts.append(f'<text x="{WIDTH - RIGHT + 6}" y="{level - 2}" fill="{AMBITION_BLUE}">Ambition'
                     f'<tspan x="{WIDTH - RIGHT + 6}" dy="12">'
                     f'{html_text(ambition_words or format_value(ambition, unit))}'
                     '</tspan></text>')
    # The scale: the highest and lowest values drawn, the first and latest weeks.
    shown = [r["value"] for r in rows]
    parts += [f'<text x="{LEFT - 4}" y="{y(v) + 4}" text-anchor="end">{html_text(format_value(v, unit))}</text>'
              for v in sorted({max(shown), min(shown)})]
    parts += [f'<text x="{LEFT}" y="{HEIGHT - 6}">{uk_date(rows[0]["period"])}</text>',
              f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{uk_date(rows[-1]["period"])}</text>']
    words = html_text(trend_text(points, label, unit, ambition_words))
    return (f'<svg class="trend-svg" role="img" aria-label="{words}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="100%" style="max-width:{WIDTH}px" font-size="11" font-family="sans-serif" fill="{INK}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{words}</title>{"".join(parts)}</svg>')


def _segment_lines(rows: list[dict], column: str, x: Callable[[int], float], y: Callable[[float], float]) -> list[str]:
    """One polyline's points per segment (limits recalculated: a new line), where ``column`` has values."""
    lines: dict[int, list[str]] = {}
    for i, r in enumerate(rows):
        if r[column] is not None:
            lines.setdefault(r["segment"], []).append(f"{x(i)},{y(r[column])}")
    return [" ".join(points) for points in lines.values()]


def _marker(cx: float, cy: float, signal: str | None) -> str:
    """Common cause: a small grey dot; improvement a diamond, concern a square, both ways a cross."""
    if signal not in SIGNAL_LOOK:
        return f'<circle cx="{cx}" cy="{cy}" r="3" fill="{COMMON}"/>'
    colour = SIGNAL_LOOK[signal][1]
    if signal == "improvement":
        return (f'<polygon points="{cx},{cy - 6} {cx + 6},{cy} {cx},{cy + 6} {cx - 6},{cy}" fill="{colour}" '
                f'stroke="{INK}" stroke-width="1"/>')
    if signal == "concern":
        return (f'<rect x="{cx - 5}" y="{cy - 5}" width="10" height="10" fill="{colour}" stroke="{INK}" '
                'stroke-width="1"/>')
    return (f'<path d="M{cx - 5},{cy - 5}L{cx + 5},{cy + 5}M{cx - 5},{cy + 5}L{cx + 5},{cy - 5}" '
            f'stroke="{colour}" stroke-width="2.5"/>')
