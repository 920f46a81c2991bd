"""Trust drill-down: one trust's daily and weekly story against the ambition, beside its system and peers."""
from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import streamlit as st

from pipelines import drilldown
from pipelines.metrics import METRICS
from pipelines.presentation import headline_figures
from ui import charts, data, params
from ui.app import ensure_entrypoint
from ui.tiles import show_tiles

DEFAULT_METRIC = "stranded_7plus_pct"
DEFAULT_WEEKS = 26
# The latest-week tiles: the discharge group's headline figures (DOMAIN 1).
SUMMARY = ("stranded_7plus_pct", "super_stranded_21plus_pct", "ga_occupancy_pct", "ctr_discharged_by_5pm_pct",
           "recorded_delays")
# OPEL strips: the trust's own level and its main local authority's (DOMAIN 4), named from the trust row.
OPEL_ROWS = {"trust_opel_max": ("Trust", "short_name"), "la_opel_max": ("Local authority", "local_authority")}
BY_ID = {m.id: m for m in METRICS}


def uk(day: date) -> str:
    return f"{day:%d/%m/%Y}"


ensure_entrypoint()  # a deep link on a fresh server: let dashboard.py set up and route first
st.title("Trust drill-down")
if not data.database_exists():
    st.info("No data yet. Load sitrep files with `python -m pipelines ingest PATH`.")
    st.stop()
bounds = data.read(drilldown.date_bounds)
if bounds is None:
    st.info("The database has no sitrep figures yet. Load files with `python -m pipelines ingest PATH`.")
    st.stop()
earliest, latest = bounds
trusts = data.read(drilldown.trusts)
codes = trusts["org_code"].to_list()
reporting = trusts.filter(pl.col("last_date").is_not_null())["org_code"].to_list()

# The widgets take their values from the URL on every run (as on the home page), so a link opens
# the same view; the dates are written only when they differ from the default of the latest weeks.
metric_ids = list(BY_ID)
default_start = max(earliest, drilldown.week_ending(latest) - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1))
url_end = min(max(params.get_date("to", latest), earliest), latest)
url_start = min(max(params.get_date("from", default_start), earliest), url_end)
names = dict(zip(codes, trusts["short_name"]))
pick_trust, pick_dates, pick_metric = st.columns([2, 2, 3])
code = pick_trust.selectbox("Trust", codes, format_func=lambda c: f"{names[c]} ({c})",
                            index=codes.index(params.get_choice("trust", codes, (reporting or codes)[0])))
picked = pick_dates.date_input("Dates", (url_start, url_end), min_value=earliest, max_value=latest,
                               format="DD/MM/YYYY",
                               help=f"Default: the latest {DEFAULT_WEEKS} weeks (Monday to Sunday) with figures.")
metric_id = pick_metric.selectbox("Metric", metric_ids, format_func=lambda m: BY_ID[m].label,
                                  index=metric_ids.index(params.get_choice("metric", metric_ids, DEFAULT_METRIC)))
first, last = (*picked, latest, latest)[:2]  # while only the start is picked: up to the latest day
params.set_params(trust=code, metric=metric_id)
if len(picked) == 2:  # not mid-pick: the widget's identity follows the URL, so it must not move under it
    params.set_params(**{"from": None if first == default_start else first,
                         "to": None if last == latest else last})

trust = trusts.row(codes.index(code), named=True)
metric = BY_ID[metric_id]
st.header(f"{trust['short_name']} ({code})")
st.caption(" · ".join(filter(None, [trust["name"], trust["icb_name"], trust["place"] and f"place: {trust['place']}"])))
source = data.read(drilldown.sources, code, first, last)
if not source["files"]:
    reported = (f" Its figures run from {uk(trust['first_date'])} to {uk(trust['last_date'])}."
                if trust["first_date"] else " It has not submitted any figures yet.")
    st.warning(f"{trust['short_name']} has no submissions between {uk(first)} and {uk(last)}.{reported}")
    st.stop()
files = source["files"]
st.caption(f"Source: {len(files)} file{'s' if len(files) > 1 else ''} "
           f"({', '.join(files) if len(files) <= 3 else f'{files[0]} to {files[-1]}'}) from "
           f"{', '.join(source['sources'])}"
           + (f", latest loaded {source['loaded_at']:%d/%m/%Y %H:%M}." if source["loaded_at"] else "."))

first_week, last_week = drilldown.weeks_in_range(first, last, earliest, latest)
weekly = data.read(drilldown.trust_weekly, code, first_week, last_week)
if weekly.is_empty():  # its only figures are in a part week at an end of the range: show that week
    first_week, last_week = drilldown.week_ending(first), drilldown.week_ending(last)
    weekly = data.read(drilldown.trust_weekly, code, first_week, last_week)

# The summary: the latest week ending on or before the last day chosen (else the only, part, week).
complete = weekly.filter(pl.col("week_ending") <= last)["week_ending"]
week = (complete if not complete.is_empty() else weekly["week_ending"]).max()
week_rows = {r["metric"]: r for r in weekly.filter(pl.col("week_ending") == week).to_dicts()}
st.subheader(f"Week ending {charts.uk_date(week)}")
st.caption("Each tile: the week's figure (a ratio of the week's sums, or a daily average), the change on the "
           "week before, better or worse, and the status against the ambition.")
days = next(iter(week_rows.values()))["days_reported"]
if days < 7:
    st.warning(f"Part week: {days} of 7 days reported, so these figures may change when the rest arrive.")
week_position = weekly.filter(pl.col("week_ending") == week)
show_tiles(headline_figures(week_position, SUMMARY))

# The chosen metric, day by day and week by week.
st.subheader(metric.label)
st.caption(metric.definition)
metric_weekly = weekly.filter(pl.col("metric") == metric_id)
shown = tuple(OPEL_ROWS) if metric.aggregate == "max" else (metric_id,)
daily = data.read(drilldown.trust_daily, code, shown, first, last)
if daily.filter(pl.col("metric") == metric_id)["value"].is_null().all():
    st.info(f"{trust['short_name']} reported no figures for this metric between {uk(first)} and {uk(last)}.")
elif metric.aggregate == "max":  # OPEL is a level: a day-by-day strip, not a line (DOMAIN 4)
    strips = [(f"{label} ({trust[field]})" if trust[field] else label, daily.filter(pl.col("metric") == m))
              for m, (label, field) in OPEL_ROWS.items()]
    st.plotly_chart(charts.opel_strip(strips))
else:
    st.plotly_chart(charts.metric_figure(daily, metric_weekly, metric.unit))
    if (metric_weekly["days_with_data"] < 7).any():
        st.caption("An open marker is a part week: fewer than 7 days of figures (hover for how many).")
if metric_weekly["ambition"].is_null().all():
    st.info("No national ambition for this metric, so there is no ambition line; "
            "read the trend and the comparison with the system instead.")
elif metric.aggregate == "max":
    last_row = metric_weekly.row(-1, named=True)
    st.caption(charts.ambition_text(last_row["ambition_comparison"], last_row["ambition"], "level")
               + ": the highest level of the week, as in the weekly table.")

# Beside the system (all trusts of the ICB combined) and its peers in the summary week.
st.subheader("Beside the system and its peers")
system_name = f"{trust['icb_name'] or 'System'} (combined)"
system = data.read(drilldown.system_weekly, code, metric_id, first_week, last_week)
peers = data.read(drilldown.peers, code, metric_id, week)
# Side by side for lines and bars; OPEL strips need the full width for their rows' names.
left, right = st.columns([3, 2]) if metric.aggregate != "max" else (st.container(), st.container())
with left:
    st.caption(f"{trust['short_name']} and all trusts of {trust['icb_name'] or 'its system'} combined, week by week.")
    if system["value"].is_null().all():
        st.info("No system figures for this metric in the chosen dates.")
    else:
        st.plotly_chart(charts.system_figure(metric_weekly, system, trust["short_name"], system_name, metric.unit))
with right:
    st.caption(f"Trusts of {trust['icb_name'] or 'the system'}, week ending {charts.uk_date(week)}.")
    if peers.is_empty():
        st.info("No trust of the system reported this metric in that week.")
    else:
        st.plotly_chart(charts.peer_figure(peers, code, metric.unit))

# By site, for a trust that submits per site.
sites = data.read(drilldown.site_metric, code, metric_id, first, last)
if not sites.is_empty():
    st.subheader("By site")
    site_codes = ", ".join(sites["site_code"].unique(maintain_order=True))
    st.caption(f"{trust['short_name']} submits per site ({site_codes}); "
               "the daily figure of each site, from the same formula as the trust.")
    st.plotly_chart(charts.site_figure(sites, metric_weekly, metric.unit))

# The pathway mix: where discharged patients went, week by week.
st.subheader("Pathway mix")
if weekly.filter(pl.col("metric") == "pathway_0_1_pct")["value"].is_null().all():
    st.info(f"{trust['short_name']} reported no discharges by pathway in the chosen dates.")
else:
    st.caption("Share of each week's discharges by pathway; the ambition is for 95% to go home on pathways 0-1.")
    st.plotly_chart(charts.pathway_figure(weekly))
