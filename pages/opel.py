"""OPEL levels: which trusts and local authorities were at OPEL 3 or 4, and when (docs/domain.md section 4)."""
from __future__ import annotations

import polars as pl
import streamlit as st

from pipelines.catalogue.dates import uk_date
from pipelines.catalogue.wording import opel_key
from pipelines.queries import opel, weeks
from ui import data, params
from ui.app import ensure_entrypoint
from ui.kept import kept
from ui.opel_charts import MAX_DAYS_WITH_NUMBERS, headline, la_heatmap_between, trust_heatmap_between
from ui.safe_text import plain

LOAD_HINT = "Load sitrep files with `python -m pipelines ingest PATH`."
OPEL_TABLE_COLUMNS = ["trust", "days_reported", "days_opel_3", "days_opel_4",
                      "local_authority", "la_days_reported", "la_days_opel_3", "la_days_opel_4"]

ensure_entrypoint()
st.title("OPEL levels")
st.caption(opel_key())
if not data.database_exists():
    st.info(f"No data yet. {LOAD_HINT}")
    st.stop()
earliest, latest = data.read(weeks.date_extent)
if latest is None:
    st.info(f"The database has no sitrep figures yet. {LOAD_HINT}")
    st.stop()
icb_options = data.read(opel.icb_names)

# Controls, initialised from the URL so a link opens the same view; default: the last 8 weeks of data.
# A shared link may carry dates outside the data, which the date picker refuses, so they are clamped.
start, end = weeks.clamp_range(params.get_date("from", opel.default_first_day(latest)),
                                params.get_date("to", latest), earliest, latest)
dates_col, icb_col = st.columns([2, 5])
picked = dates_col.date_input("Dates", (start, end), earliest, latest, key="opel_dates", format="DD/MM/YYYY")
# No ICB chosen means every ICB, as on the weekly position page.
# Streamlit keeps the ICBs in the URL itself (repeated ``icb=``), as params.py writes lists.
chosen = icb_col.multiselect("ICB", icb_options, placeholder="All ICBs", key="icb", bind="query-params")
first, last = (*picked, latest, latest)[:2]  # while only the start is picked, up to the latest day
params.set_params(**{"from": first, "to": last})

icbs = tuple(chosen or icb_options)
period = f"between {uk_date(first)} and {uk_date(last)}"
counts = data.read(opel.opel_counts, first, last, icbs)
if counts["days_reported"].sum() == 0:
    where = f"the {' or '.join(chosen)}" if chosen else "any ICB"
    st.info(plain(f"No trust in {where} submitted figures {period}. "
                  f"The data runs from {uk_date(earliest)} to {uk_date(latest)}."))
    st.stop()

st.markdown(f"**{headline(counts, first, last)}**")
numbers_note = (" The number in each cell is the level." if (last - first).days < MAX_DAYS_WITH_NUMBERS
                else f" Choose {MAX_DAYS_WITH_NUMBERS} days or fewer to see the level written in each cell.")

st.subheader("Trust OPEL by day")
# Built once per data version and filters: building 140 trusts' cells is most of the page's script time.
st.plotly_chart(kept(trust_heatmap_between, first, last, icbs))
st.caption(f"Grey: no submission that day. Hover a cell for the trust, day and level.{numbers_note} "
           "The table below counts the days at each level.")

st.subheader("Local authority OPEL by day")
not_reporting = counts.filter(pl.col("la_days_reported") == 0).sort("trust")["trust"].to_list()
if len(not_reporting) == counts.height:
    st.info(f"No trust reported its local authority's OPEL level {period}.")
else:
    st.plotly_chart(kept(la_heatmap_between, first, last, icbs))
    st.caption("Each row: the local authority, and in brackets the trust that reported its level. "
               f"Grey: not reported that day.{numbers_note}")
    if not_reporting:
        st.caption(plain(f"Local authority OPEL not reported by: {', '.join(not_reporting)}."))

st.subheader("Days at OPEL 3 and 4, by trust")
level = st.column_config.NumberColumn
# Tall enough for every trust without scrolling inside the table, up to about 20 of them. Every column
# on a 1366 px screen: no ICB (the heatmaps group by it) and no highest level (the days at 3 and 4 say
# it); the trust column not pinned, as a pinned column is drawn in a faded grey.
st.dataframe(counts, hide_index=True, height=35 * (min(counts.height, 20) + 1) + 3, column_order=OPEL_TABLE_COLUMNS,
             column_config={
    "trust": st.column_config.TextColumn("Trust", width="medium"),
    "local_authority": st.column_config.TextColumn("Local authority", width="medium"),
    "days_reported": level("Days reported"), "days_opel_3": level("Days at OPEL 3"),
    "days_opel_4": level("Days at OPEL 4"), "la_days_reported": level("LA days reported"),
    "la_days_opel_3": level("LA days at OPEL 3"), "la_days_opel_4": level("LA days at OPEL 4"),
})
st.caption(f"Days {period}, most days at OPEL 4 first. LA: the trust's local authority (social care).")
