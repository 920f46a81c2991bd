"""Our own HTML put in the page as it is, without st.html's cleaning, for markup whose every text from a file
or a user is already escaped (pipelines.reports.meeting_html escapes them all in one place).

st.html cleans every string with DOMPurify in the browser on every draw: the national weekly table's 1,136 cells
took 85-130 ms of a click to the weekly page (a CPU profile of the click), more than any other step of the
browser's. A Streamlit custom component (v2: in the page, no iframe) sets the markup with ``innerHTML``
instead, only when it changed. ``innerHTML`` runs no ``<script>``, but an event attribute in markup would run:
only markup whose every outside text is escaped may come here (tests/test_e2e_weekly_escaping.py)."""
from __future__ import annotations

import streamlit as st

# Runs in the page, at each draw: the markup set again only when the run sent other markup.
_JS = """export default function ({ parentElement, data }) {
  if (parentElement.__shown !== data) {
    parentElement.innerHTML = data;
    parentElement.__shown = data;
  }
}"""
_MOUNT = st.components.v2.component("escaped_html", js=_JS, isolate_styles=False)


def escaped_html(markup: str, key: str) -> None:
    """Put ``markup`` (ours, every outside text in it escaped) in the page where the script is."""
    _MOUNT(data=markup, key=key)


def weekly_table(markup: str, wide: bool) -> None:
    """The weekly table's ``markup`` (meeting_html's) where the script is: a ``wide`` table (one that scrolls: its
    DOMPurify pass grows with its cells) without st.html; a small one with st.html, whose pass costs it less
    than fetching the component's script does a new tab (a 12-trust table's first view was 9% slower with it,
    paired visits)."""
    if wide:
        escaped_html(markup, key="weekly_table")
    else:
        st.html(markup)
