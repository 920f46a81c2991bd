"""Cached reads for the pages.

Pages call ``read(query, *args)`` with a function from ``pipelines`` that takes a read-only
connection first. The cache key includes the database file's identity (inode and mtime),
which changes whenever an ingest swaps in a new file, so new data shows on the next page
view without a restart, and a query never holds a connection open between views. A damaged
database file stops the page with a plain message saying how to restore it (no traceback, no paths).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from pipelines import config
from pipelines.warehouse import DatabaseDamaged, connect_read, database_version

T = TypeVar("T")


def database_exists() -> bool:
    return database_version(config.db_path()) is not None


def read(query: Callable[..., T], *args: Any) -> T:
    """``query(connection, *args)`` against the current database, cached until the data changes."""
    db = config.db_path()
    try:
        return _cached(str(db), database_version(db), f"{query.__module__}:{query.__qualname__}", args)
    except DatabaseDamaged as damaged:
        show_damaged(damaged)
        raise  # not reached: st.stop() ends the run


def show_damaged(damaged: DatabaseDamaged) -> None:
    """The plain message (what happened, how to restore) in place of the page."""
    st.error(damaged.plain, icon=":material/error:")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(db: str, version: tuple[int, int] | None, query_name: str, args: tuple) -> Any:
    module, name = query_name.split(":")
    query = getattr(importlib.import_module(module), name)
    with connect_read(Path(db)) as con:
        try:
            return query(con, *args)
        except duckdb.IOException as error:  # blocks missing deeper in the file than opening reads
            raise DatabaseDamaged(Path(db), "part of it cannot be read") from error
