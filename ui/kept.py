"""Objects a page draws on every rerun but that only change with the data: built once per database
version and filters, then shared between sessions rather than copied.

For Plotly figures of many thousand cells (the submissions heatmap) building the figure is most of
the page's script time; the OPEL page's HTML grids (140 trusts by 28 days) are kept the same way.
``st.cache_data`` would not help: it returns a pickled copy, and unpickling a figure validates every
array again. Keep only what no caller changes.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from pipelines import config
from pipelines.warehouse import database_version

T = TypeVar("T")


def kept(build: Callable[..., T], *args: Any) -> T:
    """``build(*args)``, kept until the database file changes (a module-level function of hashable
    arguments that reads its data through ``ui.data.read``)."""
    db = config.db_path()
    return _kept(str(db), database_version(db), f"{build.__module__}:{build.__qualname__}", args)


@st.cache_resource(show_spinner=False, max_entries=32)  # a national OPEL grid pair is about 0.5 MiB
def _kept(db: str, version: tuple[int, int] | None, build_name: str, args: tuple) -> Any:  # noqa: ARG001 - the key
    module, name = build_name.split(":")
    return getattr(importlib.import_module(module), name)(*args)


def forget_kept() -> None:
    """Drop every kept object: after a load has swapped a new file in, those of the older file are never
    asked for again (``ui.warm``)."""
    _kept.clear()
