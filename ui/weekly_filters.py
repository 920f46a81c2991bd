"""The week picker and ICB/place filters of the weekly table, shared by the pages that show it
(under the same URL keys, so a link and the table match from one page to the other)."""
from __future__ import annotations

import streamlit as st

from pipelines.queries import weekly as queries
from pipelines.reports.weekly_table import WeeklyTable, build_weekly_table, select_trusts
from ui import data, params

ORIENTATIONS = {"columns": "Trusts as columns", "rows": "Trusts as rows"}


def weekly_table_with_filters(orientation: bool = False) -> tuple[WeeklyTable, tuple[str, ...], tuple[str, ...], str]:
    """Draw the pickers in one row; return the weekly table they select with the chosen ICBs and
    places (for exports of exactly that table) and, with ``orientation``, the chosen layout
    ('columns': trusts as columns, or 'rows'). Stops the page with a clear message when there is
    no data or no trust matches."""
    if not data.database_exists() or not (weeks := data.read(queries.weeks_with_data)):
        st.info("No data yet. Load sitrep files with `python -m pipelines ingest PATH` and this page fills in.")
        st.stop()
    trusts = data.read(queries.trusts_with_data)
    default_week = data.read(queries.latest_complete_week) or weeks[0]
    icbs = sorted(set(trusts["icb_name"].drop_nulls()))
    columns = st.columns([1.4, 2, 2, 1.4] if orientation else [1, 2, 2])
    week_col, icb_col, place_col = columns[:3]
    week = week_col.selectbox("Week ending (Sunday)", weeks,
                              index=weeks.index(params.get_choice("week", weeks, default_week) or default_week),
                              format_func=lambda d: d.strftime("%a %d/%m/%Y"),
                              help="Weeks run Monday to Sunday. The default is the latest complete week.")
    chosen_icbs = icb_col.multiselect("ICB", icbs, default=params.get_list("icb", icbs), placeholder="All ICBs")
    places = sorted(set(select_trusts(trusts, chosen_icbs)["place"].drop_nulls()))
    chosen_places = place_col.multiselect("Place", places, default=params.get_list("place", places),
                                          placeholder="All places")
    view = "columns"
    if orientation:
        layouts = list(ORIENTATIONS)
        view = columns[3].selectbox("Layout", layouts, format_func=ORIENTATIONS.__getitem__,
                                    index=layouts.index(params.get_choice("view", layouts) or "columns"),
                                    help="Trusts as rows suits a region of many trusts.") or "columns"
    params.set_params(week=None if week == default_week else week, icb=chosen_icbs, place=chosen_places,
                      **({"view": None if view == "columns" else view} if orientation else {}))
    table = data.read(build_weekly_table, week, tuple(chosen_icbs), tuple(chosen_places))
    if table.trusts.is_empty():
        st.info("No trust matches these filters. Clear the ICB or place filter to see every trust.")
        st.stop()
    return table, tuple(chosen_icbs), tuple(chosen_places), view
