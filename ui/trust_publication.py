"""Sections of the trust drill-down below its first screen that come from NHS England's publications (monthly
beds averages, bed days lost, a merged trust's history, discharge ready dates, the monthly pathway mix and the
delay reasons) and the trust's own weekly pathway mix.

Each is a ``ui.sections.lazy_section``, drawn only when opened, and offered only when the trust has figures for
it (a small cached query). Layout only, as ``ui.trust_sections``.
"""
from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from pipelines.catalogue.dates import uk_date
from pipelines.catalogue.metrics import Metric
from pipelines.catalogue.sources import SOURCE_LABELS
from pipelines.queries import drilldown, provenance
from pipelines.queries.drd import trust_drd_months
from ui import charts, data, publication_charts
from ui.safe_text import plain
from ui.sections import lazy_section

HOSPICE_NOTE = ("Trust figures exclude discharges to hospice, which NHS England's England figures include "
                "(Table 2 note 1), so England is not the sum of its trusts.")


def home_ambition_text(frame: pl.DataFrame) -> str:
    """'the ambition is for 95% to go home on pathways 0-1', from the latest ambition in ``frame``
    (columns ``ambition``, ``ambition_comparison``), so the caption says what the chart's line shows."""
    known = frame.filter(pl.col("ambition").is_not_null())
    if known.is_empty():
        return "there is no national ambition for discharges home on pathways 0-1"
    return f"the ambition is for {known['ambition'][-1]:g}% to go home on pathways 0-1"


def _files_text(frame: pl.DataFrame) -> str:
    files = frame["source_file"].drop_nulls().unique(maintain_order=True).to_list()
    return f"Source: {SOURCE_LABELS[provenance.PUBLICATION]} ({', '.join(files) or 'file unknown'})."


# --- pathway mix and NHS England's publication ------------------------------------------------------

def published_on_control(code: str, first: date, last: date) -> date | None:
    """'As published on': which version of the publication's monthly tables to show, among the versions on record
    (each file's own date); the latest by default. None when the publication has nothing for the trust here."""
    versions = data.read(drilldown.publication_versions, code, first, last)
    if versions.is_empty():
        return None
    dated = {r["published_on"]: r for r in versions.iter_rows(named=True)}

    def said(day: date) -> str:
        return f"{uk_date(day)}{' (latest)' if day == versions['published_on'][0] else ''}"

    day = versions["published_on"][0]
    if len(dated) > 1:
        day = st.selectbox("As published on", list(dated), format_func=said, key="published_on",
                           help="NHS England re-issues months it revises: the earlier versions stay on record. "
                                "Pick a date to see the monthly figures as they had been published by then.")
    st.caption(plain(f"Monthly figures as NHS England had published them on {uk_date(day)} (dated by "
                     f"{dated[day]['dated_by']}; {dated[day]['files']})."))
    return day


def pathway_sections(trust: dict, weekly: pl.DataFrame, first: date, last: date) -> None:
    """Weekly pathway mix from the trust's own sitrep; the monthly mix from NHS England's
    publication (Table 4) where it has the trust; the publication's top delay reasons (Tables 5 to 7), by
    length of stay; both monthly sections as published on the date picked (the latest by default)."""
    code, name = trust["org_code"], trust["short_name"]
    has_months = data.read(drilldown.publication_destinations, code, first, last)["discharges"].drop_nulls().sum() > 0
    home = weekly.filter(pl.col("metric") == drilldown.PATHWAY_METRIC).sort("week_ending")
    if not home["value"].is_null().all() or not has_months:
        box = lazy_section("Pathway mix", "pathways")
        if box and home["value"].is_null().all():
            box.info(plain(f"{name} reported no discharges by pathway in the chosen dates."))
        elif box:
            box.caption(f"Share of each week's discharges by pathway; {home_ambition_text(home)}. "
                        "Source: the trust's own sitrep files.")
            box.plotly_chart(charts.pathway_figure(weekly))
    published_on = published_on_control(code, first, last)
    destinations = data.read(drilldown.publication_destinations, code, first, last, published_on)
    if destinations["discharges"].drop_nulls().sum() > 0 and (
            box := lazy_section("Pathway mix by month (NHS England publication)", "months")):
        box.caption(plain("Share of each month's discharges by pathway, from the intended destinations NHS "
                          "England publishes (Table 4; hover for them); "
                          f"{home_ambition_text(destinations.sort('month'))}. " + HOSPICE_NOTE + " "
                          + _files_text(destinations)))
        mix = data.read(drilldown.publication_pathway_mix, code, first, last, published_on)
        box.plotly_chart(charts.monthly_pathway_figure(destinations, mix))
    delay_reasons_section(code, first, last, published_on)


def delay_reasons_section(code: str, first: date, last: date, published_on: date | None) -> None:
    """The publication's largest delay reasons for one length-of-stay cohort (14+ days unless another is
    picked), from Tables 5 to 7 (or the long CSV): the trust's own, or its ICB's when the publication does not
    list the trust."""
    stays = data.read(drilldown.publication_delay_stays, code, first, last, published_on)
    if not stays:
        return
    if not (box := lazy_section("Delay reasons (NHS England publication)", "delays")):
        return
    stay = drilldown.DEFAULT_STAY if drilldown.DEFAULT_STAY in stays else stays[0]
    if len(stays) > 1:
        stay = box.radio("Delay reasons for patients staying", stays, index=stays.index(stay), horizontal=True,
                         format_func=lambda s: f"{s} days", key="delay_stay")
    reasons = data.read(drilldown.publication_delay_reasons, code, first, last, 5, stay, published_on)
    if reasons.is_empty():  # the cohort's reasons are all blank in these months
        box.info(plain(f"No delay reasons for patients staying {stay} days in the chosen dates."))
        return
    latest = reasons.filter(pl.col("period_start") == pl.col("period_start").max()).row(0, named=True)
    whose = f"{latest['area']} (the trust's ICB: the publication does not list the trust). " if latest["area"] else ""
    period = charts.period_label(latest["period_start"], latest["period_end"])
    tables = ", ".join(reasons["source_sheet"].drop_nulls().unique().sort())
    box.caption(plain(f"{whose}Average number of patients not meeting the criteria to reside with a length of stay "
                      f"of {stay} days, by reason for the delay: the {reasons['reason'].n_unique()} largest reasons "
                      f"of the latest period ({period}), over the chosen dates ({tables}). " + _files_text(reasons)))
    box.plotly_chart(charts.delay_reasons_figure(reasons, stay))


# --- NHS England's beds publications and merged trusts ------------------------------------------------

def beds_publication_sections(trust: dict, metric: Metric, weekly: pl.DataFrame, first: date, last: date) -> None:
    """Monthly beds averages beside the daily series, a merged trust's combined series, Table 3's bed days lost."""
    code, name = trust["org_code"], trust["short_name"]
    monthly = data.read(drilldown.monthly_beds_points, code, metric.id, first, last)
    if not monthly.is_empty() and (box := lazy_section("Monthly averages (NHS England beds publication)", "monthly")):
        daily = data.read(drilldown.trust_daily, code, (metric.id,), first, last)
        box.caption(plain(f"{metric.label}: daily figures (line) beside NHS England's monthly beds publication "
                          "(diamonds: monthly averages of the daily sitrep, shares of all G&A beds). Source: "
                          + ", ".join(monthly["source_file"].drop_nulls().unique(maintain_order=True)) + "."))
        box.plotly_chart(publication_charts.monthly_points_figure(daily, monthly, metric.unit))
    merged = data.read(drilldown.predecessors, code)
    if not merged.is_empty() and metric.has_spc:  # a toggle: its chart is drawn only when switched on
        listed = ", ".join(f"{r['name']} ({r['predecessor']}) on {uk_date(r['succession_date'])}"
                           for r in merged.iter_rows(named=True))
        if st.toggle(plain(f"Include the history of trusts merged into {name}: {listed}"), key="with_predecessors"):
            weeks = weekly.filter(pl.col("metric") == metric.id)["week_ending"]
            combined = data.read(drilldown.combined_weekly, code, metric.id, weeks.min(), weeks.max())
            st.plotly_chart(publication_charts.combined_figure(
                weekly.filter(pl.col("metric") == metric.id), combined,
                [(r["name"], r["succession_date"]) for r in merged.iter_rows(named=True)], name, metric.unit))
            st.caption("Before each merger the combined series adds the merged trust's figures (ratios of summed "
                       "parts); SPC limits start again at each merger date.")
    lost = data.read(drilldown.bed_days_lost, code, first, last)
    if not lost.is_empty() and (box := lazy_section("Bed days lost to long stays (NHS England publication)", "lost")):
        box.caption("Additional bed days used each week by patients not meeting the criteria to reside, with "
                    "stays of 7+, 14+ and 21+ days (Table 3). " + _files_text(lost))
        box.plotly_chart(publication_charts.bed_days_lost_figure(lost))


def drd_section(trust: dict, first: date, last: date) -> None:
    """NHS England's monthly discharge ready date figures for the trust, as monthly points (never added to
    the daily figures); months whose data NHS England did not accept are shown but not rated."""
    months = data.read(trust_drd_months, trust["org_code"], first, last)
    if months.is_empty():
        return
    if not (box := lazy_section("Discharge ready date (NHS England, monthly)", "drd")):
        return
    refused = months.filter(~pl.col("may_be_rated"))["month"].unique().sort()
    box.caption(plain("Share of patients discharged on their discharge ready date, and of delayed patients who "
                      "waited 21 days or more, as NHS England publishes them each month. "
                      + (f"NHS England did not accept the data for {', '.join(f'{m:%B %Y}' for m in refused)} "
                         "(open markers): shown, not rated. " if refused.len() else "")
                      + "Source: " + ", ".join(months["source_file"].drop_nulls().unique(maintain_order=True)) + "."))
    box.plotly_chart(publication_charts.drd_points_figure(months))
