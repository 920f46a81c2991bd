"""Home: the weekly position of every trust against the national ambitions."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from ui import data
from pipelines import queries
from pipelines.presentation import position_table

st.title("Weekly position")
if not data.database_exists():
    st.info("No data yet. Load sitrep files with `python -m pipelines ingest PATH`.")
    st.stop()
weeks = data.read(queries.weeks_with_data)
if not weeks:
    st.info("The database has no sitrep figures yet. Load files with `python -m pipelines ingest PATH`.")
    st.stop()
default_week = data.read(queries.latest_complete_week) or weeks[0]
week = st.selectbox("Week ending (Sunday)", weeks, index=weeks.index(default_week),
                    format_func=lambda d: d.strftime("%a %d %b %Y"))
position = data.read(queries.weekly_position, week)
st.caption(f"Monday {week - timedelta(days=6):%d/%m/%Y} to Sunday {week:%d/%m/%Y}. "
           "Each cell: the weekly value, its status against the ambition, and the change on the week before.")
st.dataframe(position_table(position), use_container_width=True)
