"""OPEL levels: which trusts and local authorities were at OPEL 3 or 4, and when (docs/domain.md section 4)."""
from __future__ import annotations

import polars as pl
import streamlit as st

from pipelines.catalogue.dates import uk_date
from pipelines.catalogue.wording import opel_key
from pipelines.groups import current_groups, default_group_id
from pipelines.queries import opel, weeks
from pipelines.reports.opel_grid import STYLE, key_html
from ui import auth, data, params
from ui.app import ensure_entrypoint
from ui.kept import kept
from ui.opel_charts import (
    FIRST_SCREEN_TRUSTS,
    first_screen_grid,
    headline,
    la_grid_between,
    trust_grid_between,
)
from ui.safe_text import plain
from ui.sections import lazy_section

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

# Controls, initialised from the URL so a link opens the same view: the discharge group (by default the
# user's, as on the weekly page), how many weeks, up to which day (default: the latest day with data).
groups = data.read(current_groups)
by_id = {g.group_id: g for g in groups}
ids = list(by_id)
default_group = default_group_id(auth.current_identity(), groups)
group_col, weeks_col, day_col = st.columns([3, 1.2, 1.3])
group = by_id[group_col.selectbox(
    "Discharge group", ids, index=ids.index(params.get_choice("group", ids, default_group) or default_group),
    format_func=lambda i: by_id[i].name, help="The trusts the group meets over.") or default_group]
week_count = weeks_col.selectbox(
    "Weeks", opel.WEEK_CHOICES, format_func=lambda n: f"{n} weeks",
    index=opel.WEEK_CHOICES.index(params.get_choice("weeks", opel.WEEK_CHOICES, opel.DEFAULT_WEEKS)
                                  or opel.DEFAULT_WEEKS),
    help="Whole weeks, Monday to Sunday, then the days of the week in progress; a column a day. "
         "More weeks: the grid scrolls sideways.")
# A shared link may carry a day outside the data, which the date picker refuses, so it is clamped.
last = min(max(params.get_date("to", latest) or latest, earliest), latest)
last = day_col.date_input("Up to", last, earliest, latest, format="DD/MM/YYYY") or latest
first = max(opel.first_day(last, week_count), earliest)
params.set_params(group=group.group_id, weeks=None if week_count == opel.DEFAULT_WEEKS else week_count,
                  to=None if last == latest else last)

period = f"between {uk_date(first)} and {uk_date(last)}"
counts = data.read(opel.opel_counts, first, last, group.org_codes)
if counts["days_reported"].sum() == 0:
    st.info(plain(f"{group.name}: no trust submitted figures {period}. "
                  f"The data runs from {uk_date(earliest)} to {uk_date(latest)}."))
    st.stop()

st.markdown(f"**{headline(counts, first, last)}**")
st.html(STYLE)
# The first screen draws one grid of at most FIRST_SCREEN_TRUSTS trusts: England's 140 trusts' two grids and
# table (about 8,000 cells) took most of a click to sanitise, lay out and paint. The rest is drawn when its section
# is opened (kept in the URL: the key names the parameter). Each grid is built once per data version and choice,
# our own markup with every name in it cleaned and escaped (opel_grid).
st.subheader("Trust OPEL by day")
st.html(kept(first_screen_grid, first, last, group.org_codes, group.name) + key_html())
if counts.height > FIRST_SCREEN_TRUSTS:
    st.caption(f"The {FIRST_SCREEN_TRUSTS} of the group's {counts.height} trusts at OPEL 4 on most days, then "
               "OPEL 3; every trust, by ICB, below.")
    if every := lazy_section("Every trust, by ICB", "every"):
        with every:
            st.html(kept(trust_grid_between, first, last, group.org_codes, group.name) + key_html())

if la_box := lazy_section("Local authority OPEL by day", "la"):
    with la_box:
        la_html = kept(la_grid_between, first, last, group.org_codes, group.name)
        not_reporting = counts.filter(pl.col("la_days_reported") == 0).sort("trust")["trust"].to_list()
        if not la_html:
            st.info(f"No trust reported its local authority's OPEL level {period}.")
        else:
            st.html(la_html + key_html(with_not_reported=True))
            st.caption("Each row: the local authority, and in brackets the trust that reported its level.")
            if not_reporting:
                st.caption(plain(f"Local authority OPEL not reported by: {', '.join(not_reporting)}."))

if days_box := lazy_section("Days at OPEL 3 and 4, by trust", "days"):
    with days_box:
        level = st.column_config.NumberColumn
        # Tall enough for every trust without scrolling inside the table, up to about 20 of them. Every column
        # on a 1366 px screen: no ICB (the grids group by it) and no highest level (the days at 3 and 4 say
        # it); the trust column not pinned, as a pinned column is drawn in a faded grey.
        st.dataframe(counts, hide_index=True, height=35 * (min(counts.height, 20) + 1) + 3,
                     column_order=OPEL_TABLE_COLUMNS, column_config={
            "trust": st.column_config.TextColumn("Trust", width="medium"),
            "local_authority": st.column_config.TextColumn("Local authority", width="medium"),
            "days_reported": level("Days reported"), "days_opel_3": level("Days at OPEL 3"),
            "days_opel_4": level("Days at OPEL 4"), "la_days_reported": level("LA days reported"),
            "la_days_opel_3": level("LA days at OPEL 3"), "la_days_opel_4": level("LA days at OPEL 4"),
        })
        st.caption(f"Days {period}, most days at OPEL 4 first. LA: the trust's local authority (social care).")
