"""Cached reads for the pages. The cache key includes the database file's identity, which
changes whenever an ingest swaps in a new file, so new data shows on the next page view."""
from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from pipelines import config, queries
from pipelines.warehouse import connect_read, database_version


def database_key() -> tuple[str, tuple[int, int] | None]:
    db = config.db_path()
    return str(db), database_version(db)


@st.cache_data(show_spinner=False, max_entries=64)
def latest_complete_week(key: tuple) -> date | None:
    with connect_read(config.db_path(key[0])) as con:
        return queries.latest_complete_week(con)


@st.cache_data(show_spinner=False, max_entries=64)
def weeks_with_data(key: tuple) -> list[date]:
    with connect_read(config.db_path(key[0])) as con:
        return queries.weeks_with_data(con)


@st.cache_data(show_spinner=False, max_entries=64)
def weekly_position(key: tuple, week_ending: date) -> pl.DataFrame:
    with connect_read(config.db_path(key[0])) as con:
        return queries.weekly_position(con, week_ending)
