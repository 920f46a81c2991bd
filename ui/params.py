"""The selected trust, week and filters live in the URL query string, so a link opens the same view."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def get_choice(name: str, options: Sequence[T], default: T | None = None) -> T | None:
    """The option whose text form is in the URL as ``name``, else ``default``."""
    wanted = st.query_params.get(name)
    for option in options:
        if str(option) == wanted:
            return option
    return default


def get_list(name: str, options: Sequence[str]) -> list[str]:
    """Several values, kept in the URL as repeated ``name=`` parameters."""
    return [v for v in st.query_params.get_all(name) if v in options]


def get_date(name: str, default: date | None = None) -> date | None:
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return default


def set_params(**values: object) -> None:
    """Write the current selections to the URL (dates as ISO, lists as repeated keys); None removes."""
    for name, value in values.items():
        if value is None or value == []:
            st.query_params.pop(name, None)
        elif isinstance(value, (list, tuple)):
            st.query_params[name] = [str(v) for v in value]
        else:
            st.query_params[name] = value.isoformat() if isinstance(value, date) else str(value)
