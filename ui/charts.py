"""Plotly figures for the trust drill-down, and the texts their legends and hovers share with the page.

Built from the frames of ``pipelines.queries.drilldown`` so they can be tested without a browser.
Hover texts are written here in UK form ("Sun 14/04/2024" by ``pipelines.catalogue.dates``, "39.2%")
rather than by Plotly's US-leaning date formats, and figures reuse ``pipelines.reports.presentation`` so
they read as the tables do.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date, timedelta
from typing import cast

import polars as pl

from pipelines.catalogue.dates import AXIS_DATE_WORDS, uk_day, uk_month
from pipelines.catalogue.metrics import Unit
from pipelines.catalogue.wording import OPEL_MEANINGS, opel_text
from pipelines.publication.labels import REASONS_REDEFINED
from pipelines.queries import drilldown
from pipelines.reports.presentation import NHS_GREEN, STATUS_TEXT, format_ambition, format_value
from pipelines.spc.explain import capitalised, count_text, per_day
from ui.plotly_go import go, make_subplots
from ui.style import AMBITION_LINE, NHS_BLUE, NHS_DARK_BLUE, NHS_GREY, NHS_PALE_GREY, OPEL_COLOURS

AXIS_TITLES: dict[str, str] = {Unit.PERCENT: "Per cent (%)", Unit.DAYS: "Days", Unit.PATIENTS: "Patients",
                               Unit.LEVEL: "OPEL level"}
WEEK_MS = 7 * 86_400_000
FIRST_MONDAY = "2000-01-03"  # anchors Plotly's weekly periods to Monday-to-Sunday weeks
# Home in blues; P2 mid grey and P3 NHS pink, both at least 3:1 against white (the pale grey was not).
PATHWAYS = (("P0", "home, no new support", NHS_DARK_BLUE), ("P1", "home with support", NHS_BLUE),
            ("P2", "bedded rehabilitation", "#768692"), ("P3", "care home", "#AE2573"))
# Several sites or series on one chart: told apart by dash as well as colour.
SERIES_STYLES = ((NHS_BLUE, "solid"), (NHS_DARK_BLUE, "dot"), (NHS_GREY, "dashdot"))


def ambition_text(comparison: str | None, threshold: float | None, unit: str) -> str:
    """'Ambition < 40%' for a legend or caption; 'No national ambition' when there is none."""
    if threshold is None:
        return "No national ambition"
    return f"Ambition {format_ambition(comparison, threshold, unit)}"


def figure_text(value: float | None, unit: str, numerator: float | None = None,
                denominator: float | None = None) -> str:
    """'39.2% (36 of 90)' for a ratio, else the value as the tables write it."""
    text = format_value(value, unit)
    if unit == Unit.PERCENT and value is not None and numerator is not None and denominator is not None:
        text += f" ({numerator:,.0f} of {denominator:,.0f})"
    return text


def _layout(fig: go.Figure, unit: str | None, height: int = 360) -> go.Figure:
    """Shared look: white plot, UK date ticks, legend below in trace order, y-axis titled by the unit."""
    fig.update_layout(height=height, plot_bgcolor="white", hovermode="closest",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "traceorder": "normal"})
    fig.update_xaxes(tickformat=AXIS_DATE_WORDS, showgrid=False, linecolor=NHS_GREY)
    if unit is not None:
        # Not from zero: a line's axis fits its figures, so a real change is visible (as on SPC charts).
        fig.update_yaxes(title_text=AXIS_TITLES[unit], gridcolor=NHS_PALE_GREY, zeroline=False)
    return fig


def ambition_step(weekly: pl.DataFrame) -> go.Scatter | None:
    """The ambition in force each week, as a dashed step from its Monday to the next Monday
    (ambitions change by planning year); None when no week in the frame has one."""
    weekly = weekly.sort("week_ending")
    known = weekly.filter(pl.col("ambition").is_not_null())
    if known.is_empty():
        return None
    latest = known.row(-1, named=True)
    weeks, levels = weekly["week_ending"].to_list(), weekly["ambition"].to_list()
    mondays = [w - timedelta(days=6) for w in weeks] + [weeks[-1] + timedelta(days=1)]
    texts = [f"{ambition_text(c, t, u)} from {uk_day(m)}" for c, t, u, m in
             zip(weekly["ambition_comparison"], levels, weekly["unit"], mondays, strict=False)]
    return go.Scatter(x=mondays, y=levels + levels[-1:], customdata=texts + texts[-1:], mode="lines",
                      line={**AMBITION_LINE, "shape": "hv"}, connectgaps=False,
                      name=ambition_text(latest["ambition_comparison"], latest["ambition"], latest["unit"]),
                      hovertemplate="%{customdata}<extra></extra>")


def break_gaps(rows: list[dict], key: str, step: timedelta) -> list[dict | None]:
    """``rows`` (sorted by ``key``) with a None between two rows further apart than ``step``, so a
    line breaks where periods are missing (months between two publications, say) instead of
    drawing a straight line across them."""
    out: list[dict | None] = []
    for row in rows:
        # a None is only ever appended just before a row, so the last item is a row
        if out and row[key] - cast(dict, out[-1])[key] > step:
            out.append(None)
        out.append(row)
    return out


def _weekly_trace(weekly: pl.DataFrame, name: str, colour: str, dash: str = "solid", symbol: str = "circle",
                  size: int = 9) -> go.Scatter:
    """Weekly values (ratios of weekly sums) as markers and line; an open marker for a part week."""
    rows = break_gaps(weekly.sort("week_ending").to_dicts(), "week_ending", timedelta(days=7))
    texts = [r and (f"Week ending {uk_day(r['week_ending'])}<br>{name}: "
                    f"{figure_text(r['value'], r['unit'], r.get('numerator'), r.get('denominator'))}"
                    + (f"<br>{STATUS_TEXT[r['status']]}" if r.get("status") not in (None, "none") else "")
                    + (f"<br>{r['days_with_data']} of 7 days" if r.get("days_with_data", 7) < 7 else ""))
             for r in rows]
    symbols = [f"{symbol}-open" if r and r.get("days_with_data", 7) < 7 else symbol for r in rows]
    return go.Scatter(x=[r and r["week_ending"] for r in rows], y=[r and r["value"] for r in rows], customdata=texts,
                      mode="lines+markers", name=name, line={"color": colour, "width": 3, "dash": dash},
                      marker={"size": size, "symbol": symbols, "color": colour},
                      hovertemplate="%{customdata}<extra></extra>")


def _daily_trace(daily: pl.DataFrame, name: str, unit: str, colour: str = NHS_BLUE,
                 dash: str = "solid") -> go.Scatter:
    rows = break_gaps(daily.sort("period_date").to_dicts(), "period_date", timedelta(days=1))
    texts = [r and (f"{uk_day(r['period_date'])}<br>{name}: "
                    f"{figure_text(r['value'], unit, r['numerator'], r['denominator'])}") for r in rows]
    return go.Scatter(x=[r and r["period_date"] for r in rows], y=[r and r["value"] for r in rows], customdata=texts,
                      mode="lines", name=name, line={"color": colour, "width": 1, "dash": dash},
                      opacity=0.75, hovertemplate="%{customdata}<extra></extra>")


def metric_figure(daily: pl.DataFrame, weekly: pl.DataFrame, unit: str) -> go.Figure:
    """One trust and metric: the daily series (thin), the weekly series and the ambition step."""
    fig = go.Figure([_daily_trace(daily, "Daily", unit, NHS_GREY),
                     _weekly_trace(weekly, "Weekly (Monday to Sunday)", NHS_BLUE)])
    if (step := ambition_step(weekly)) is not None:
        fig.add_trace(step)
    return _layout(fig, unit)


def parts_figure(daily: pl.DataFrame, weekly: pl.DataFrame, numerator_words: str,
                 denominator_words: str | None) -> go.Figure:
    """The counts a metric is made of: the numerator on top and (a ratio) the denominator below, each
    day by day (thin line) and week by week (markers: the week's average a day). ``daily``: the metric's
    ``trust_daily`` rows; ``weekly``: its ``weekly_position`` rows."""
    parts = [("numerator", numerator_words)] + ([("denominator", denominator_words)] if denominator_words else [])
    fig = make_subplots(rows=len(parts), cols=1, shared_xaxes=True, vertical_spacing=0.14,
                        subplot_titles=[f"{capitalised(words)} (a day)" for _, words in parts])
    days = daily.sort("period_date").to_dicts()
    weeks = per_day(weekly).sort("week_ending").to_dicts()
    for row, (part, words) in enumerate(parts, start=1):
        day_rows = break_gaps(days, "period_date", timedelta(days=1))
        week_rows = break_gaps(weeks, "week_ending", timedelta(days=7))
        fig.add_trace(go.Scatter(
            x=[r and r["period_date"] for r in day_rows], y=[r and r[part] for r in day_rows], mode="lines",
            customdata=[r and f"{uk_day(r['period_date'])}<br>{words}: {count_text(r[part])}" for r in day_rows],
            name="Day by day", legendgroup="day", showlegend=row == 1, opacity=0.75,
            line={"color": NHS_GREY, "width": 1}, hovertemplate="%{customdata}<extra></extra>"), row=row, col=1)
        fig.add_trace(go.Scatter(
            x=[r and r["week_ending"] for r in week_rows], y=[r and r[f"{part}_per_day"] for r in week_rows],
            customdata=[r and (f"Week ending {uk_day(r['week_ending'])}<br>{words}: "
                               f"{count_text(r[f'{part}_per_day'])} a day"
                               + (f" ({r['days_with_data']} of 7 days)" if r["days_with_data"] < 7 else ""))
                        for r in week_rows],
            mode="lines+markers", name="Week by week (average a day)", legendgroup="week", showlegend=row == 1,
            line={"color": NHS_BLUE, "width": 3}, marker={"size": 7, "color": NHS_BLUE},
            hovertemplate="%{customdata}<extra></extra>"), row=row, col=1)
    fig = _layout(fig, None, height=90 + 85 * len(parts))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 24, "b": 10}, legend={"y": -0.08 * len(parts)})
    # The panel titles are annotations, which the page's chart CSS does not reach: dark enough on their own.
    fig.update_annotations(font={"size": 13, "color": NHS_GREY}, x=0, xanchor="left")
    fig.update_yaxes(gridcolor=NHS_PALE_GREY, zeroline=False, title_text="")
    # The upper panel's date axis has no labels (they are shared, under the lower one): its line ran through
    # the lower panel's title ("Occupied G&A beds (a day)"), so only the lowest panel draws it.
    for row in range(1, len(parts)):
        fig.update_xaxes(showline=False, row=row, col=1)
    return fig


def opel_strip(rows: Sequence[tuple[str, pl.DataFrame]], period: str = "period_date",
               show_scale: bool = True) -> go.Figure:
    """OPEL levels as one strip per (name, frame) row, day by day or (period ``week_ending``) the
    highest of each week: a level is not a line (docs/domain.md section 4)."""
    prefix = "Week ending " if period == "week_ending" else ""
    days = sorted({d for _, frame in rows for d in frame[period]})
    z, texts = [], []
    for name, frame in rows:
        by_day = dict(zip(frame[period], frame["value"], strict=False))
        z.append([by_day.get(d) for d in days])
        texts.append([f"{prefix}{uk_day(d)}<br>{name}: "
                      + (opel_text(int(by_day[d]))
                         if by_day.get(d) is not None else "not reported") for d in days])
    # Discrete bands: each level gets its own colour, with no blending between levels.
    colourscale = [[pos, colour] for i, colour in enumerate(OPEL_COLOURS.values()) for pos in (i / 4, (i + 1) / 4)]
    fig = go.Figure(go.Heatmap(
        # A gap between cells only while they are wide enough: hundreds of days would turn pale.
        x=days, y=[name for name, _ in rows], z=z, customdata=texts, zmin=0.5, zmax=4.5,
        xgap=1 if len(days) <= 60 else 0, ygap=4,
        colorscale=colourscale, hovertemplate="%{customdata}<extra></extra>", showscale=show_scale,
        colorbar={"title": {"text": "OPEL"}, "tickvals": [1, 2, 3, 4],
                  "ticktext": [f"{level} {meaning}" for level, meaning in OPEL_MEANINGS.items()]}))
    fig = _layout(fig, None, height=120 + 50 * len(rows))
    fig.update_yaxes(autorange="reversed", showgrid=False)  # rows top to bottom in the order given
    return fig


def system_figure(trust_weekly: pl.DataFrame, system: pl.DataFrame, trust_name: str, system_name: str,
                  unit: str) -> go.Figure:
    """The trust's weekly series beside all trusts of its ICB combined, against the ambition."""
    if unit == Unit.LEVEL:
        return opel_strip([(trust_name, trust_weekly), (system_name, system)], period="week_ending", show_scale=False)
    # The system underneath with larger square markers, so it still shows where the two coincide
    # (a trust alone in its ICB, or one that dominates it).
    fig = go.Figure([_weekly_trace(system, system_name, NHS_GREY, "dot", "square", 13),
                     _weekly_trace(trust_weekly, trust_name, NHS_BLUE)])
    if (step := ambition_step(trust_weekly)) is not None:
        fig.add_trace(step)
    return _layout(fig, unit)


def peer_figure(peers: pl.DataFrame, org_code: str, unit: str) -> go.Figure:
    """Every trust of the ICB in one week as horizontal bars, the chosen trust marked by colour
    and by a pointer in its name, with the ambition as a dashed vertical line. The values are written
    in a column right of every bar and of the line: after each bar's end, the line ran through those
    of bars ending near the ambition."""
    rows = peers.sort("value").to_dicts()
    names = [("▶ " if r["org_code"] == org_code else "") + r["trust"] for r in rows]
    values = [figure_text(r["value"], unit) for r in rows]
    known = [r for r in rows if r["ambition"] is not None]
    widest = max([r["value"] for r in rows] + [r["ambition"] for r in known])
    fig = go.Figure([go.Bar(
        x=[r["value"] for r in rows], y=names, orientation="h", text=values, textposition="none",
        marker={"color": [NHS_BLUE if r["org_code"] == org_code else NHS_PALE_GREY for r in rows],
                "line": {"color": NHS_GREY, "width": 1}},
        customdata=[f"{r['trust']}: {v} {STATUS_TEXT[r['status']]}" for v, r in zip(values, rows, strict=False)],
        hovertemplate="%{customdata}<extra></extra>", showlegend=False),
        go.Scatter(x=[widest * 1.04] * len(rows), y=names, mode="text", text=values, textposition="middle right",
                   textfont={"color": NHS_GREY}, cliponaxis=False, hoverinfo="skip", showlegend=False)])
    if known:
        fig.add_vline(x=known[0]["ambition"], line=AMBITION_LINE,
                      annotation_text=ambition_text(known[0]["ambition_comparison"], known[0]["ambition"], unit),
                      annotation_position="top")
    fig = _layout(fig, unit, height=140 + 36 * len(rows))
    fig.update_xaxes(title_text=AXIS_TITLES[unit], tickformat=None, showgrid=True, gridcolor=NHS_PALE_GREY,
                     range=[0, widest * 1.22],  # room for the column of values
                     dtick=1 if unit == Unit.LEVEL else None)
    fig.update_yaxes(title_text=None, showgrid=False)
    fig.update_layout(margin={"t": 30})
    return fig


def site_figure(sites: pl.DataFrame, weekly: pl.DataFrame, unit: str) -> go.Figure:
    """The metric per site per day (a strip per site for OPEL), with the trust's ambition step."""
    by_site = sites.partition_by("site_code", as_dict=True, maintain_order=True)
    if unit == Unit.LEVEL:
        return opel_strip([(code, frame) for (code,), frame in by_site.items()])
    fig = go.Figure([_daily_trace(frame, code, unit, *SERIES_STYLES[i % len(SERIES_STYLES)])
                     for i, ((code,), frame) in enumerate(by_site.items())])
    fig.update_traces(line_width=2, opacity=1)
    if (step := ambition_step(weekly)) is not None:
        fig.add_trace(step)
    return _layout(fig, unit)


def pathway_figure(weekly: pl.DataFrame) -> go.Figure:
    """Weekly shares of discharges by pathway (P0 at the bottom, so P0+P1 is the top of the
    blues), against the ambition of discharges home on P0-P1."""
    shares_by_pathway = drilldown.pathway_share_metrics()
    wide = (weekly.filter(pl.col("metric").is_in([*shares_by_pathway, drilldown.PATHWAY_METRIC]))
            .pivot(on="metric", index="week_ending", values="value").sort("week_ending"))
    fig = go.Figure()
    for metric, (code, meaning, colour) in zip(shares_by_pathway, PATHWAYS, strict=True):
        shares = wide[metric].to_list()
        texts = [f"Week ending {uk_day(w)}<br>{code} {meaning}: {format_value(s, '%')}"
                 f"<br>Home (P0+P1): {format_value(home, '%')}"
                 for w, s, home in zip(wide["week_ending"], shares, wide[drilldown.PATHWAY_METRIC], strict=True)]
        fig.add_trace(go.Bar(x=wide["week_ending"].to_list(), y=shares, name=f"{code} {meaning}", customdata=texts,
                             marker={"color": colour, "line": {"color": "white", "width": 0.5}},
                             xperiod=WEEK_MS, xperiod0=FIRST_MONDAY, xperiodalignment="middle",
                             hovertemplate="%{customdata}<extra></extra>"))
    if (step := ambition_step(weekly.filter(pl.col("metric") == drilldown.PATHWAY_METRIC))) is not None:
        step.name = f"{step.name} home (P0+P1)"
        fig.add_trace(step)
    fig.update_layout(barmode="stack", bargap=0.15)
    fig = _layout(fig, "%")
    fig.update_yaxes(title_text="Share of discharges (%)", range=[0, 100])
    return fig


# --- NHS England's publication: monthly pathway mix and delay reasons --------------------------------

# Up to five delay reasons on one chart: told apart by colour, dash and marker shape.
REASON_STYLES = (("#005EB8", "solid", "circle"), ("#ED8B00", "dash", "square"), ("#330072", "dot", "diamond"),
                 (NHS_GREEN, "dashdot", "triangle-up"), (NHS_GREY, "longdash", "x"))


def period_label(start: date, end: date) -> str:
    """'Nov 2023' for a calendar month, else '01/11-07/11/2023'."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1 and (start.year, start.month) == (end.year, end.month):
        return uk_month(start)
    return f"{start:%d/%m}-{end:%d/%m/%Y}"


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(text, width)) or text


def _periods_axis(fig: go.Figure, labels: Sequence[str], slots: int = 6) -> None:
    """Periods at positions 0, 1, ... named by their labels, so months far apart stay readable; a
    few periods are centred in room for ``slots`` of them rather than stretched across the chart."""
    pad = max(0, slots - len(labels)) / 2
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(labels))), ticktext=list(labels), tickformat="",
                     range=[-0.5 - pad, len(labels) - 0.5 + pad])


def monthly_pathway_figure(destinations: pl.DataFrame, mix: pl.DataFrame) -> go.Figure:
    """Monthly shares of discharges by pathway from NHS England's Table 4 (P0 at the bottom), each
    pathway's published destinations in the hover, against the ambition for discharges home (P0+P1).
    ``mix``: the shares by the catalogue's formulas (``pipelines.queries.drilldown.publication_pathway_mix``);
    ``destinations``: ``month``, ``destination``, ``pathway``, ``discharges`` (null: not published),
    ``ambition``, ``ambition_comparison`` (as ``pipelines.queries.drilldown.publication_destinations``)."""
    by_key = {(r["month"], r["metric"]): r for r in mix.to_dicts()}
    months = sorted(mix["month"].unique())
    fig = go.Figure()
    for n, (metric, (code, meaning, colour)) in enumerate(zip(drilldown.pathway_share_metrics(), PATHWAYS,
                                                               strict=True)):
        counts, texts = [], []
        for month in months:
            share, home = by_key[(month, metric)], by_key[(month, drilldown.PATHWAY_METRIC)]
            rows = destinations.filter((pl.col("month") == month) & (pl.col("pathway") == n)).to_dicts()
            counts.append(share["value"])
            detail = "".join(f"<br>  {r['destination']}: "
                             + (f"{r['discharges']:,}" if r["discharges"] is not None else "not published")
                             for r in rows)
            texts.append(f"{month:%B %Y}<br>{code} {meaning}: {format_value(share['value'], '%')} "
                         f"({share['numerator']:,.0f} of {share['denominator']:,.0f}){detail}"
                         f"<br>Home (P0+P1): {format_value(home['value'], '%')}")
        fig.add_trace(go.Bar(x=list(range(len(months))), y=counts, name=f"{code} {meaning}", customdata=texts,
                             marker={"color": colour, "line": {"color": "white", "width": 0.5}},
                             hovertemplate="%{customdata}<extra></extra>"))
    ambitions = (destinations.filter(pl.col("month").is_in(months))
                 .unique("month").sort("month").select("month", "ambition", "ambition_comparison").to_dicts())
    known_ambitions = [a for a in ambitions if a["ambition"] is not None]
    if known_ambitions:  # a step over each month's bar, so a change of ambition between months shows
        levels = [a["ambition"] for a in ambitions]
        texts = [f"{ambition_text(a['ambition_comparison'], a['ambition'], '%')} home (P0+P1) in {a['month']:%B %Y}"
                 for a in ambitions]
        latest = known_ambitions[-1]
        fig.add_trace(go.Scatter(x=[i - 0.5 for i in range(len(months) + 1)], y=levels + levels[-1:],
                                 customdata=texts + texts[-1:], mode="lines", line={**AMBITION_LINE, "shape": "hv"},
                                 name=f"{ambition_text(latest['ambition_comparison'], latest['ambition'], '%')} "
                                      "home (P0+P1)", hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.3)
    fig = _layout(fig, "%")
    _periods_axis(fig, [uk_month(m) for m in months])
    fig.update_yaxes(title_text="Share of discharges (%)", range=[0, 100])
    return fig


def delay_reasons_figure(reasons: pl.DataFrame, stay: str = "14+") -> go.Figure:
    """The top delay reasons over the publication's periods, a line (colour, dash and marker) per
    reason, broken where periods are not consecutive. ``reasons``: ``period_start``, ``period_end``,
    ``reason``, ``patients``, ``rank`` (as ``pipelines.queries.drilldown.publication_delay_reasons``), of the
    patients with a length of stay of ``stay`` days. No line runs across 27/05/2024, when the reasons were
    redefined: the break is marked."""
    periods = reasons.select("period_start", "period_end").unique().sort("period_start").rows()
    position = {start: i for i, (start, _) in enumerate(periods)}
    fig = go.Figure()
    for i, ((rank, reason), frame) in enumerate(reasons.sort("rank", "period_start").group_by(
            "rank", "reason", maintain_order=True)):
        colour, dash, symbol = REASON_STYLES[i % len(REASON_STYLES)]
        xs: list[int | None]
        ys: list[float | None]
        texts: list[str | None]
        xs, ys, texts, previous_start, previous_end = [], [], [], None, None
        for r in frame.to_dicts():
            redefined = previous_start is not None and previous_start < REASONS_REDEFINED <= r["period_start"]
            if previous_end is not None and (r["period_start"] != previous_end + timedelta(days=1) or redefined):
                xs, ys, texts = xs + [None], ys + [None], texts + [None]  # a gap in time or meaning: no line
            xs.append(position[r["period_start"]])
            ys.append(r["patients"])
            texts.append(f"{uk_day(r['period_start'])} to {uk_day(r['period_end'])}<br>{_wrap(reason)}<br>"
                         + (f"{r['patients']:,.1f} patients (average, length of stay {stay} days)"
                            if r["patients"] is not None else "not published"))
            previous_start, previous_end = r["period_start"], r["period_end"]
        short = reason if len(reason) <= 48 else reason[:47].rstrip() + "…"
        fig.add_trace(go.Scatter(x=xs, y=ys, customdata=texts, mode="lines+markers", name=f"{rank}. {short}",
                                 line={"color": colour, "dash": dash, "width": 2},
                                 marker={"color": colour, "symbol": symbol, "size": 10}, connectgaps=False,
                                 hovertemplate="%{customdata}<extra></extra>"))
    fig = _layout(fig, "patients", height=420)
    fig.update_layout(legend={"y": -0.15})
    if periods[0][0] < REASONS_REDEFINED <= periods[-1][0]:
        at = next(i for i, (start, _) in enumerate(periods) if start >= REASONS_REDEFINED) - 0.5
        fig.add_vline(x=at, line={"color": NHS_DARK_BLUE, "dash": "dash"})
        fig.add_annotation(x=at, y=1, yref="paper", text="Delay reasons redefined from 27/05/2024",
                           showarrow=False, xanchor="left", font={"color": NHS_DARK_BLUE})
    _periods_axis(fig, [period_label(start, end) for start, end in periods])
    fig.update_yaxes(title_text=f"Patients (average, LoS {stay} days)", rangemode="tozero")
    return fig
