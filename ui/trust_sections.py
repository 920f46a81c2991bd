"""Sections of the trust drill-down page (``pages/trust.py``), each drawn from ``pipelines.queries.drilldown``
queries through ``ui.data.read`` and the figures of ``ui.charts`` and ``ui.spc_chart``: the first screen (what
changed, the comments) and, below it, the chosen metric's sections (day by day, SPC, beside the system, by site);
those from NHS England's publications are ``ui.trust_publication``'s. Below the first screen each is a
``ui.sections.lazy_section``, drawn only when opened.

Layout only: the questions asked of the warehouse live in ``pipelines.queries.drilldown``, the figures in
``ui.charts``/``ui.spc_chart``; the words that do not need Streamlit (``source_text``,
``not_reported_text``) are plain functions so they can be tested on their own.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import polars as pl
import streamlit as st

from pipelines import access, config
from pipelines.catalogue.dates import uk_date, uk_day, uk_timestamp
from pipelines.catalogue.metrics import Metric
from pipelines.catalogue.sources import SOURCE_LABELS
from pipelines.catalogue.wording import assurance_label, variation_label
from pipelines.groups import Group
from pipelines.queries import drilldown
from pipelines.reports import drilldown_text, narrative
from pipelines.reports.weekly_table import site_label, site_names
from pipelines.spc import store
from ui import auth, charts, data, spc_chart, trend_svg
from ui.safe_text import clean, plain
from ui.sections import lazy_section
from ui.spc_icons import assurance_icon, variation_icon

SOURCE_NAMES = SOURCE_LABELS
# OPEL strips: the trust's own level and its main local authority's (docs/domain.md 4), named from the trust row.
OPEL_ROWS = {"trust_opel_max": ("Trust", "short_name"), "la_opel_max": ("Local authority", "local_authority")}
AUTHOR_KEY = "narrative_author"  # the narrative page's key: the name is asked once per session for both pages
SAVED_KEY = "trust_spc_saved"


def comments_section(org_code: str, week: date, group: Group | None) -> None:
    """The place leads' comments on the trust for the week, of the discharge group in use: each group's
    comments are its own (a trust in two groups has two sets). None (trusts picked by hand): none saved."""
    if group is None:
        st.caption("Trusts picked by hand have no saved comments: open the trust from a discharge group's "
                   "weekly table to see its place leads' comments.")
        return
    comments = narrative.trust_comments(data.read(narrative.current_narratives, week, group.group_id), org_code)
    if comments:
        st.caption(plain(f"Place leads' comments for {group.name}:"))
    for label, author, text in comments:
        st.text(f"Place lead's comment on {label} ({author}): {text}")  # st.text: never Markdown or HTML


def _listed(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def source_text(groups: Sequence[dict]) -> str:
    """'Source: NHS England Acute Daily Discharge SitRep (file.xlsx) for 01/11/2023-30/11/2023; the
    trust's own sitrep files (...) for ... Latest loaded ...', one part per ``sitrep_daily.source``
    (``provenance.source_groups``)."""
    parts = []
    for group in groups:
        files, spans = group["files"], group["spans"]
        listed = ", ".join(files) if len(files) <= 3 else f"{len(files)} files, {files[0]} to {files[-1]}"
        when = (_listed([f"{uk_date(start)}-{uk_date(end)}" for start, end in spans]) if len(spans) <= 3 else
                f"{group['days']} days between {uk_date(spans[0][0])} and {uk_date(spans[-1][1])}")
        parts.append(f"{SOURCE_NAMES.get(group['source'], group['source'])} ({listed}) for {when}")
    loaded = [g["loaded_at"] for g in groups if g["loaded_at"] is not None]
    return ("Source: " + "; ".join(parts) + "."
            + (f" Latest loaded {uk_timestamp(max(loaded))}." if loaded else ""))


def not_reported_text(label: str, gap: str) -> str:
    return f"{label}: not reported for this trust ({gap})."


# --- what changed and why: the first screen ----------------------------------------------------------

def why_section(trust: dict, metric: Metric, weekly: pl.DataFrame, first: date, last: date, week: date) -> None:
    """On the first screen, what SPC says changed in the chosen metric and when, the counts behind it
    (day by day and week by week), the delay reasons any loaded source gives and, beside them, the
    related metrics week by week (``Metric.related``)."""
    code = trust["org_code"]
    story, beside = st.columns([3, 2])
    with story:
        # SPC's sentence and this week's counts in one box: the answer first, in the fewest lines.
        said = [f"**{plain(metric.short_label)}.**"]
        said.append(plain(data.read(drilldown.trust_spc, code, metric.id, week).change_text(metric)) if metric.has_spc
                    else "A level, not a measurement, so SPC does not chart it: each day's level is in the strip "
                         "further down, and the figures beside show the pressure behind it.")
        if counts := drilldown_text.week_counts_text(weekly, metric, week):
            said.append(f"  \n{plain(counts)}")
        st.info(" ".join(said), icon=":material/insights:")
        reasons = data.read(drilldown.publication_delay_reasons, code, first, last)
        st.caption(plain(drilldown.delay_reasons_text(reasons)))
        if metric.has_spc:  # OPEL levels have no counts behind them: their strip is further down
            if trend := trend_svg.spc_trend_html(data.read(drilldown.trust_spc, code, metric.id, week), metric):
                st.html(trend)  # its words are cleaned and escaped by ui.trend_svg
            # The counts day by day: a Plotly chart, drawn only when opened (plotly.js is not on the first screen).
            if counts_box := lazy_section("Counts day by day (interactive chart)", f"counts_{code}_{metric.id}",
                                          in_url=False):
                daily = data.read(drilldown.trust_daily, code, (metric.id,), first, last)
                counts_box.plotly_chart(charts.parts_figure(daily, weekly.filter(pl.col("metric") == metric.id),
                                                            metric.numerator_text, metric.denominator_text))
    with beside:
        st.html(drilldown_text.related_table_html(drilldown_text.related_table(weekly, metric, week)))


# --- the chosen metric -------------------------------------------------------------------------------

def metric_section(trust: dict, metric: Metric, weekly: pl.DataFrame, first: date, last: date) -> None:
    """The metric day by day with its weekly figures and ambition (an OPEL metric: a strip per day)."""
    if box := lazy_section("Day by day", "daily"):
        with box:
            _metric_chart(trust, metric, weekly.filter(pl.col("metric") == metric.id), first, last)


def _metric_chart(trust: dict, metric: Metric, metric_weekly: pl.DataFrame, first: date, last: date) -> None:
    shown = tuple(OPEL_ROWS) if metric.is_level else (metric.id,)
    daily = data.read(drilldown.trust_daily, trust["org_code"], shown, first, last)
    if daily.filter(pl.col("metric") == metric.id)["value"].is_null().all():
        st.info(plain(f"{trust['short_name']} reported no figures for this metric between {uk_date(first)} and "
                      f"{uk_date(last)}."))
    elif metric.is_level:  # OPEL is a level: a day-by-day strip, not a line (docs/domain.md section 4)
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
    elif metric.is_level:
        last_row = metric_weekly.row(-1, named=True)
        st.caption(charts.ambition_text(last_row["ambition_comparison"], last_row["ambition"], "level")
                   + ": the highest level of the week, as in the weekly table.")


def comparison_section(trust: dict, metric: Metric, weekly: pl.DataFrame, first_week: date, last_week: date,
                       week: date) -> None:
    """Beside the system (all trusts of the ICB combined) and its peers in the summary week."""
    code, icb = trust["org_code"], trust["icb_name"]
    metric_weekly = weekly.filter(pl.col("metric") == metric.id)
    if not (box := lazy_section("Beside the system and its peers", "system")):
        return
    if trust["icb_code"] is None:  # e.g. a trust added from NHS England's publication, which names no ICB
        box.info(plain(f"ICB not known from the files loaded, so {trust['short_name']} has no system or peers to "
                       "be compared with here."))
        return
    system = data.read(drilldown.system_weekly, code, metric.id, first_week, last_week)
    peers = data.read(drilldown.peers, code, metric.id, week)
    # Side by side for lines and bars; OPEL strips need the full width for their rows' names.
    left, right = box.columns([3, 2]) if metric.has_spc else (box.container(), box.container())
    with left:
        st.caption(plain(f"{trust['short_name']} and all trusts of {icb or 'its system'} combined, week by week."))
        if system["value"].is_null().all():
            st.info("No system figures for this metric in the chosen dates.")
        else:
            st.plotly_chart(charts.system_figure(metric_weekly, system, trust["short_name"],
                                                 f"{icb or 'System'} (combined)", metric.unit))
    with right:
        st.caption(plain(f"Trusts of {icb or 'the system'}, week ending {uk_day(week)}."))
        if peers.is_empty():
            st.info("No trust of the system reported this metric in that week.")
        else:
            st.plotly_chart(charts.peer_figure(peers, code, metric.unit))


def site_section(trust: dict, metric: Metric, weekly: pl.DataFrame, first: date, last: date) -> None:
    """By site, for a trust that submits per site (nothing otherwise)."""
    sites = data.read(drilldown.site_metric, trust["org_code"], metric.id, first, last)
    if sites.is_empty():
        return
    if not (box := lazy_section("By site", "sites")):
        return
    names = site_names()  # reference_data/sites.csv: "York Hospital (RCB55)" rather than a bare code
    sites = sites.with_columns(pl.col("site_code").replace_strict(
        {code: site_label(code, names) for code in sites["site_code"].unique()}, return_dtype=pl.String))
    site_codes = ", ".join(sites["site_code"].unique(maintain_order=True))
    box.caption(plain(f"{trust['short_name']} submits per site ({site_codes}); "
                      "the daily figure of each site, from the same formula as the trust."))
    box.plotly_chart(charts.site_figure(sites, weekly.filter(pl.col("metric") == metric.id), metric.unit))


# --- SPC --------------------------------------------------------------------------------------------

def _icons(spc: drilldown.TrustSpc) -> None:
    """The variation and assurance icons, each with its words beside it (and as the image's alt text)."""
    result = spc.result
    for title, svg, words in (
            ("Variation", variation_icon(result.variation, spc.better, size=56),
             variation_label(result.variation, spc.better)),
            ("Assurance", assurance_icon(result.assurance, size=56), assurance_label(result.assurance))):
        icon, text = st.columns([2, 3], vertical_alignment="center")
        icon.image(svg, alt=words, width=56)
        text.markdown(f"**{title}**  \n{words}")


def spc_section(org_code: str, metric: Metric, week: date) -> None:
    """The metric's XmR chart over the trust's complete weeks up to ``week`` (as the weekly table
    reads it), its icons and message, and the form to fix a baseline or recalculate the limits."""
    if box := lazy_section("SPC chart", "spc"):
        with box:
            _spc_chart(org_code, metric, week)


def _spc_chart(org_code: str, metric: Metric, week: date) -> None:
    if saved := st.session_state.pop(SAVED_KEY, None):
        st.success(saved)
    spc = data.read(drilldown.trust_spc, org_code, metric.id, week)
    result = spc.result
    if result.n_points == 0:
        st.info(f"No complete week (all 7 days reported) of this metric up to {uk_day(week)}, "
                "so there is no SPC chart.")
        return
    st.caption(f"Statistical process control (Making Data Count): every complete week up to the week ending "
               f"{uk_day(week)}, not only the dates chosen above, as the weekly table reads it. Blue: "
               "special cause improvement; orange: special cause concern; grey: common cause. Hover for the rule.")
    settings = spc.settings or {}
    baseline = ((settings["baseline_start"], settings["baseline_end"])
                if settings.get("baseline_start") and settings.get("baseline_end") else None)
    chart, icons = st.columns([4, 1])
    chart.plotly_chart(spc_chart.spc_figure(result, metric.label, metric.unit, spc.ambition, baseline))
    with icons:
        _icons(spc)
    st.caption(plain(result.message))
    # a Date column with at least one point (n_points > 0 above): its min and max are dates
    _settings_form(org_code, metric, spc, cast(date, result.points["period"].min()),
                   cast(date, result.points["period"].max()))


def _settings_text(settings: dict) -> str:
    parts = []
    if settings.get("baseline_start"):
        parts.append(f"baseline fixed to the weeks ending {uk_date(settings['baseline_start'])} to "
                     f"{uk_date(settings['baseline_end'])}")
    if settings.get("recalculate_from"):
        parts.append(f"limits recalculated from {_listed([uk_date(d) for d in settings['recalculate_from']])}")
    if not parts:
        return "No baseline or recalculation dates are stored: limits come from all the weeks."
    reason = f" ({settings['reason']})" if settings.get("reason") else ""
    return (f"Stored: {'; '.join(parts)}{reason}, set by {settings['set_by']} on "
            f"{uk_timestamp(settings['set_at'])}.")


def _settings_form(org_code: str, metric: Metric, spc: drilldown.TrustSpc, first_week: date, last_week: date) -> None:
    settings = spc.settings or {}
    stored = bool(settings.get("baseline_start") or settings.get("recalculate_from"))

    def within(day: date | None) -> date | None:  # a stored date the weeks no longer reach is not offered
        return day if day is not None and first_week <= day <= last_week else None

    identity = auth.current_identity()
    if not access.may(identity, "change_spc", org_code):
        with st.expander("Baseline and recalculation dates", expanded=stored):
            st.caption(plain(_settings_text(settings)))
            st.caption("Changing them needs the discharge group lead role for this trust.")
        return
    with st.expander("Fix a baseline or recalculate the limits", expanded=stored):
        st.caption(plain(_settings_text(settings)))
        with st.form(f"spc-settings-{org_code}-{metric.id}"):
            left, right = st.columns(2)
            dates: dict[str, Any] = {"min_value": first_week, "max_value": last_week, "format": "DD/MM/YYYY"}
            base_from = left.date_input("Baseline from", value=within(settings.get("baseline_start")), **dates,
                                        help="Limits from the weeks ending between these two dates only.")
            base_to = right.date_input("Baseline to", value=within(settings.get("baseline_end")), **dates)
            recalc = left.date_input("Recalculate limits from", value=None, **dates,
                                     help="A known change in the service: limits start again from the first week "
                                          "ending on or after this date. Earlier dates are kept.")
            reason = right.text_input("Reason", value=settings.get("reason") or "",
                                      help="For example: new discharge-to-assess service from this date.")
            typed_name = auth.author_field(left, AUTHOR_KEY, "Recorded with the settings.")
            save_col, clear_col = st.columns(2)
            save = save_col.form_submit_button("Save SPC settings")
            clear = clear_col.form_submit_button("Clear baseline and recalculation dates")
    if not (save or clear):
        return
    if typed_name is not None and not typed_name.strip():
        st.error("Enter your name, so the settings say who set them.")
        return
    if clear:
        baseline, recalculate = None, []
        message = f"Cleared the SPC baseline and recalculation dates of {metric.label}."
    else:
        try:
            baseline = store.baseline_between(base_from, base_to)
        except ValueError as problem:
            st.error(f"Not saved: {problem}.")
            return
        recalculate = list(settings.get("recalculate_from") or []) + ([recalc] if recalc else [])
        if baseline is None and not recalculate and not stored:
            st.error("Nothing to save: give baseline dates or a date to recalculate the limits from.")
            return
        message = f"Saved the SPC settings of {metric.label}."
    try:
        saved = data.try_save(lambda: store.save_spc_settings(
            config.db_path(), org_code, metric.id, baseline, recalculate,
            clean(typed_name).strip() if typed_name is not None else identity,
            clean(reason).strip() if save else "cleared"), f"SPC settings of {org_code} {metric.id}")
    except ValueError as problem:
        st.error(f"Not saved: {problem}.")
        return
    except access.AccessDenied as denied:  # not allowed, or the session ended: the message says "Nothing was saved"
        st.error(plain(str(denied)))
        return
    if not saved:
        return
    st.session_state[SAVED_KEY] = message
    st.rerun()


# --- where each figure came from ------------------------------------------------

FIELD_WORDS = {"ga_beds_open": "G&A beds open", "ga_beds_occupied": "G&A beds occupied",
               "covid_beds_occupied": "COVID-19 beds", "los_7plus": "stays 7+ days", "los_14plus": "stays 14+ days",
               "los_21plus": "stays 21+ days", "nctr_patients": "not meeting the criteria to reside",
               "nctr_discharged": "of them discharged", "nctr_discharged_by_5pm": "discharged by 5pm",
               **{f"discharges_p{n}": f"pathway {n} discharges" for n in range(4)},
               # the discharge ready date columns (docs/discharge-ready-dates.md)
               "drd_discharges": "discharges with a discharge ready date",
               "drd_delay_0": "discharged on their discharge ready date",
               **{f"drd_delay_{band}": f"discharged {words} after their discharge ready date"
                  for band, words in (("1", "1 day"), ("2_3", "2-3 days"), ("4_6", "4-6 days"),
                                      ("7_13", "7-13 days"), ("14_20", "14-20 days"), ("21plus", "21+ days"))},
               "drd_delay_days": "days from discharge ready date to discharge",
               "past_drd_21plus": "inpatients 21+ days past their discharge ready date",
               "internal_delay_48h_plus": "inpatients delayed 48+ hours for a reason inside the hospital"}


def field_source_text(sources: pl.DataFrame) -> str:
    """'Where each figure came from: G&A beds open: NHS England UEC daily sitrep (34 days); ...'."""
    parts = []
    for (name,), rows in sources.group_by("field", maintain_order=True):
        said = ", ".join(f"{SOURCE_LABELS.get(r['source'], r['source'])} ({r['days']} days)"
                         for r in rows.iter_rows(named=True))
        parts.append(f"{FIELD_WORDS.get(name, name)}: {said}")
    return ("Where each figure came from (the trust's own file first, then NHS England's UEC sitrep, then its "
            "discharge sitrep): " + "; ".join(parts) + ".") if parts else ""
