"""Which metrics the weekly table shows: a "Rows shown" choice kept in the URL (``?rows=``), the catalogue's
default rows when nothing is chosen (pipelines.catalogue.metrics.weekly_rows). Every metric can be chosen."""
from __future__ import annotations

import dataclasses

import streamlit as st

from pipelines.catalogue.metrics import DEFAULT_ROWS, METRIC_BY_ID, METRIC_IDS, weekly_rows
from pipelines.reports.weekly_table import WeeklyTable
from ui import params


def rows_shown(table: WeeklyTable) -> WeeklyTable:
    """Draw the choice (folded away in a popover, so the table keeps the screen) and return ``table``
    with only the chosen rows."""
    shown = weekly_rows(params.get_list("rows", METRIC_IDS))
    with st.popover(f"Rows shown: {len(shown)} of {len(METRIC_IDS)}", icon=":material/table_rows:"):
        chosen = st.multiselect("Rows shown", METRIC_IDS, default=list(shown),
                                format_func=lambda m: METRIC_BY_ID[m].label, placeholder="The default rows",
                                help="Every metric can be shown; with none chosen the table shows the default rows "
                                     "(the 2025/26 plan's asks and the group's usual measures).")
    shown = weekly_rows(chosen)
    params.set_params(rows=None if shown == DEFAULT_ROWS else list(shown))
    return dataclasses.replace(table, rows=[r for r in table.rows if r.metric in shown])
