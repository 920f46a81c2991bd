"""Sections drawn only when opened: below the trust drill-down's first screen (``ui.trust_sections``,
``ui.trust_publication``, ``ui.drd_charts``), the OPEL page's full grid, local authorities and days table, and
the folded parts of the other pages (the SPC key, the audit log, the narrative's history and daily figures, the weekly
page's downloads); and first-screen widgets whose code a new tab would otherwise fetch (the drill-down's date picker,
the data quality page's file box).

Each is an expander closed at first whose queries, tables and Plotly figures run only when it is opened
(``on_change="rerun"``), so the first screen never waits for them, for plotly.js or for the table grid's code
(issue 24). Which are open is kept in the URL (``bind="query-params"``: the key names the parameter,
``spc=true``), so a link opens the same view; ``in_url=False`` keeps it in the session only. A label must not
change with the trust, metric or figures, so an open section stays open when they are changed.
"""
from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def lazy_section(label: str, key: str, *, in_url: bool = True, icon: str | None = None) -> DeltaGenerator | None:
    """The section's expander when it is open, to draw into; None while closed (draw nothing then).
    ``in_url=False``: its state stays in the session only (a key that names the trust, say)."""
    box = st.expander(label, key=key, on_change="rerun", bind="query-params" if in_url else None, icon=icon)
    return box if box.open else None
