"""The trust drill-down's discharge ready date section: how long after their discharge ready date the trust's
patients left, as the delay bands' shares of each week's discharges (a stacked bar per week)."""
from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.catalogue.dates import uk_date, uk_day
from pipelines.catalogue.metrics import Unit
from pipelines.queries import drd
from pipelines.reports.presentation import NHS_GREEN, NHS_RED, format_value
from ui import data
from ui.charts import FIRST_MONDAY, WEEK_MS, _layout
from ui.plotly_go import go
from ui.safe_text import plain
from ui.sections import lazy_section
from ui.style import NHS_BLUE, NHS_DARK_BLUE

# On the day in green; the longer the wait, the darker and warmer, to red for 21+ days (the plan's ask).
# Each at least 3:1 against white, and a white edge between the bands.
BAND_COLOURS = (NHS_GREEN, "#768692", NHS_BLUE, NHS_DARK_BLUE, "#330072", "#AE2573", NHS_RED)
# A metric of the discharge ready date columns: when a trust's first figures start.
FIRST_FIGURE_METRIC = "discharged_on_drd_pct"


def delay_bands_figure(bands: pl.DataFrame) -> go.Figure:
    """Per week (``drd.weekly_bands``), the share of discharges in each delay band, stacked to 100%,
    'on the day' at the bottom; the hover gives the week, band, share and patients."""
    fig = go.Figure()
    for (band, label), colour in zip(drd.BAND_LABELS.items(), BAND_COLOURS, strict=True):
        rows = bands.filter(pl.col("band") == band).sort("week_ending")
        texts = [f"Week ending {uk_day(w)}<br>{label} after the discharge ready date: "
                 f"{format_value(s, Unit.PERCENT)} ({p:,} patients)"
                 for w, s, p in zip(rows["week_ending"], rows["share"], rows["patients"], strict=True)]
        fig.add_trace(go.Bar(x=rows["week_ending"].to_list(), y=rows["share"].to_list(), name=label,
                             customdata=texts, hovertemplate="%{customdata}<extra></extra>",
                             marker={"color": colour, "line": {"color": "white", "width": 0.5}},
                             xperiod=WEEK_MS, xperiod0=FIRST_MONDAY, xperiodalignment="middle"))
    fig.update_layout(barmode="stack", bargap=0.15, legend_title_text="Discharged")
    fig = _layout(fig, Unit.PERCENT)
    fig.update_yaxes(title_text="Share of discharges with a discharge ready date (%)", range=[0, 100])
    return fig


def delay_bands_section(trust: dict, first: date, last: date) -> None:
    """The section, or what the trust has instead: no figures yet, or none before a date."""
    code, name = trust["org_code"], trust["short_name"]
    if not (box := lazy_section("Days from discharge ready date to discharge", "bands")):
        return
    started = data.read(drd.first_figures).get((code, FIRST_FIGURE_METRIC))
    bands = data.read(drd.weekly_bands, code, first, last)
    if bands.is_empty():
        box.info(plain(f"{name}: discharge ready dates {drd.not_collected(started, last) or 'not reported'} "
                       f"in the chosen dates."))
        return
    before = f" Not collected before {uk_date(started)}." if started and started > first else ""
    box.caption(plain("Each week's discharges of patients with a discharge ready date, by the days between that "
                      "date and discharge; the 2025/26 urgent and emergency care plan asks that nobody waits 21 days "
                      f"or more.{before} Source: the trust's own sitrep files."))
    box.plotly_chart(delay_bands_figure(bands))
