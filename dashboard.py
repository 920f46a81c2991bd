"""Discharge and flow dashboard: the entry point. ``streamlit run dashboard.py``."""
from __future__ import annotations

import streamlit as st

from pipelines import config
from pipelines.load import ensure_database

st.set_page_config(page_title="Discharge and flow", page_icon=":hospital:", layout="wide")

if not config.db_path().exists():
    with st.spinner("First start: building the database from the bundled sample data (about a minute)..."):
        ensure_database()

navigation = st.navigation([
    st.Page("pages/weekly_position.py", title="Weekly position", icon=":material/table_chart:", default=True),
])
navigation.run()
