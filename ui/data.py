"""Cached reads for the pages.

Pages call ``read(query, *args)`` with a function from ``pipelines`` that takes a read-only
connection first. The cache key includes the database file's identity (inode and mtime),
which changes whenever an ingest swaps in a new file, so new data shows on the next page
view without a restart, and a query never holds a connection open between views.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from pipelines import config
from pipelines.warehouse import connect_read, database_version

T = TypeVar("T")


def database_exists() -> bool:
    return database_version(config.db_path()) is not None


def read(query: Callable[..., T], *args: Any) -> T:
    """``query(connection, *args)`` against the current database, cached until the data changes."""
    db = config.db_path()
    return _cached(str(db), database_version(db), f"{query.__module__}:{query.__qualname__}", args)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(db: str, version: tuple[int, int] | None, query_name: str, args: tuple) -> Any:
    module, name = query_name.split(":")
    query = getattr(importlib.import_module(module), name)
    with connect_read(Path(db)) as con:
        return query(con, *args)
