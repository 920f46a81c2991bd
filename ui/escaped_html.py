"""Our own HTML put in the page as it is, without st.html's cleaning, for markup whose every text from a file
or a user is already escaped (pipelines.reports.meeting_html escapes them all in one place).

st.html cleans every string with DOMPurify in the browser on every draw: the national weekly table's 1,136 cells
took 85-130 ms of a click to the weekly page (a CPU profile of the click), more than any other step of the
browser's. A Streamlit custom component (v2: in the page, no iframe) sets the markup with ``innerHTML``
instead, which never runs a script; only when the markup changed."""
from __future__ import annotations

import streamlit as st

# Runs in the page: a string set as innerHTML parses as HTML but never runs a <script> or an event attribute
# that was escaped as text.
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
