"""Trust drill-down: one trust's daily and weekly story against the ambition, beside its system and peers."""
from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from pipelines.catalogue.dates import uk_date, uk_day
from pipelines.catalogue.metrics import HEADLINE_METRICS, METRICS
from pipelines.queries import drilldown, provenance
from pipelines.queries.weeks import DEFAULT_WEEKS, clamp_range, date_extent, default_window
from pipelines.reports.drilldown_text import tiles_html
from pipelines.reports.presentation import headline_figures
from ui import data, drd_charts, params, trust_publication, trust_sections, weekly_filters
from ui.app import ensure_entrypoint
from ui.safe_text import clean, plain
from ui.sections import lazy_section

DEFAULT_METRIC = "stranded_7plus_pct"
BY_ID = {m.id: m for m in METRICS}

ensure_entrypoint()  # a deep link on a fresh server: let dashboard.py set up and route first
st.title("Trust drill-down")
if not data.database_exists():
    st.info("No data yet. Load sitrep files with `python -m pipelines ingest PATH`.")
    st.stop()
earliest, latest = data.read(date_extent)
if latest is None:
    st.info("The database has no sitrep figures yet. Load files with `python -m pipelines ingest PATH`.")
    st.stop()

trusts = data.read(drilldown.trusts)
codes = trusts["org_code"].to_list()
reporting = trusts.filter(pl.col("last_date").is_not_null())["org_code"].to_list()

# The widgets take their values from the URL on every run (as on the home page), so a link opens
# the same view; the dates are written only when they differ from the default of the latest weeks.
metric_ids = list(BY_ID)
names = dict(zip(codes, trusts["short_name"], strict=False))
pick_trust, pick_dates, pick_metric = st.columns([2, 2, 3])
code = pick_trust.selectbox("Trust", codes, format_func=lambda c: clean(f"{names[c]} ({c})"),
                            index=codes.index(params.get_choice("trust", codes, (reporting or codes)[0])))
trust = trusts.row(codes.index(code), named=True)
default_start, default_end = default_window(earliest, latest, trust["last_date"])
url_start, url_end = clamp_range(params.get_date("from", default_start), params.get_date("to", default_end),
                                         earliest, latest)
# The dates in words, their picker drawn only when its box is opened: the date picker's code (about 200 KB of
# JavaScript, a new tab's largest download beyond the page list) and widget were the first screen's heaviest part,
# for a choice made less often than the trust or metric (issue 24).
picked: tuple[date, ...] = (url_start, url_end)
with pick_dates:
    st.caption(f"Dates: {uk_date(url_start)} to {uk_date(url_end)}"
               + (" (the default)" if (url_start, url_end) == (default_start, default_end) else ""))
    if dates_box := lazy_section("Change the dates", "dates", in_url=False, icon=":material/date_range:"):
        picked = dates_box.date_input("Dates", (url_start, url_end), min_value=earliest, max_value=latest,
                                      format="DD/MM/YYYY", help=f"Default: the latest {DEFAULT_WEEKS} weeks "
                                                                "(Monday to Sunday) with figures.")
first, last = (*picked, default_end, default_end)[:2]  # while only the start is picked: up to the default end
groups = data.read(provenance.source_groups, code, first, last)
# Figures only from NHS England's publication: it has no beds, lengths of stay, pathways by day or OPEL,
# so such a trust opens on the first metric it has figures for, not on a notice.
publication_only = [g["source"] for g in groups] == [provenance.PUBLICATION]
default_metric = provenance.publication_metrics()[0] if publication_only else DEFAULT_METRIC
metric_id = pick_metric.selectbox("Metric", metric_ids, format_func=lambda m: BY_ID[m].label,
                                  index=metric_ids.index(params.get_choice("metric", metric_ids, default_metric)))
params.set_params(trust=code, metric=metric_id)
if len(picked) == 2:  # not mid-pick: the widget's identity follows the URL, so it must not move under it
    params.set_params(**{"from": None if first == default_start else first,
                         "to": None if last == default_end else last})

metric = BY_ID[metric_id]
st.header(plain(f"{trust['short_name']} ({code})"))
st.caption(plain(" · ".join(filter(None, [trust["name"], trust["icb_name"],
                                          trust["place"] and f"place: {trust['place']}"]))))
if not groups:
    reported = (f" Its figures run from {uk_date(trust['first_date'])} to {uk_date(trust['last_date'])}."
                if trust["first_date"] else " It has not submitted any figures yet.")
    st.warning(plain(f"{trust['short_name']} has no submissions between {uk_date(first)} and {uk_date(last)}."
                     f"{reported}"))
    st.stop()
weeks = data.read(drilldown.trust_weeks, code, first, last, (earliest, latest))
first_week, last_week, weekly, week = weeks.first_week, weeks.last_week, weeks.weekly, weeks.week
# First, on the first screen: what changed in the chosen metric, and the counts and related figures behind it.
if week is not None and not (publication_only and provenance.publication_gap(metric_id)):
    trust_sections.why_section(trust, metric, weekly, first, last, week)
st.caption(plain(trust_sections.source_text(groups)))
# A line per field, mostly repeating one source: its words are sent only when opened.
field_sources = data.read(provenance.field_sources, code, first, last)
if not field_sources.is_empty() and (box := lazy_section("Where each figure came from", "field_sources",
                                                         in_url=False, icon=":material/source:")):
    box.caption(plain(trust_sections.field_source_text(field_sources)))

week_rows = {r["metric"]: r for r in weekly.filter(pl.col("week_ending") == week).to_dicts()}
st.subheader(f"Week ending {uk_day(week)}")
st.caption("Each tile: the week's figure (a ratio of the week's sums, or a daily average), the change on the "
           "week before, better or worse, and the status against the ambition.")
days = next(iter(week_rows.values()))["days_reported"]
if days < 7:
    st.warning(f"Part week: {days} of 7 days reported, so these figures may change when the rest arrive.")
week_position = weekly.filter(pl.col("week_ending") == week)
tiles_label = f"Headline figures, week ending {uk_day(week)}"  # the tiles' words are escaped by tiles_html
if publication_only:  # the publication's figures only: no tiles of "not reported"
    tiles = headline_figures(week_position, provenance.publication_metrics())
    st.html(tiles_html([t for t in tiles if t["value"] != "not reported"], tiles_label))
    st.info(trust_sections.not_reported_text("Bed occupancy and length of stay (stranded patients)",
                                             provenance.publication_gap("ga_occupancy_pct")))
else:
    st.html(tiles_html(headline_figures(week_position, HEADLINE_METRICS), tiles_label))  # the catalogue's headlines
# The place leads' comments on this trust for the week, of the discharge group in use: the URL's (the weekly
# table's links carry it) or the user's default, as on the weekly page.
trust_sections.comments_section(code, week, weekly_filters.group_in_use())

# Below the first screen, the chosen metric's sections, then the publications', the pathways' and the delays':
# each closed at first and drawn only when opened (its queries and Plotly chart), kept open in the URL.
st.subheader(metric.label)
st.caption(metric.definition)
if publication_only and (gap := provenance.publication_gap(metric_id)):
    st.info(trust_sections.not_reported_text(metric.label, gap)
            + " Choose a criteria-to-reside metric for the figures the publication has.")
else:
    trust_sections.metric_section(trust, metric, weekly, first, last)
    if metric.has_spc:  # OPEL levels are not an SPC measurement (pipelines.spc.store)
        trust_sections.spc_section(code, metric, week)
    trust_sections.comparison_section(trust, metric, weekly, first_week, last_week, week)
    trust_sections.site_section(trust, metric, weekly, first, last)
trust_publication.beds_publication_sections(trust, metric, weekly, first, last)

# Where discharged patients went (week by week, and by month from NHS England), and why others wait.
st.subheader("Discharges and delays")
trust_publication.drd_section(trust, first, last)
trust_publication.pathway_sections(trust, weekly, first, last)
drd_charts.delay_bands_section(trust, first, last)
