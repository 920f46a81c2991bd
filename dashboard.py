"""Discharge and flow dashboard: the entry point. ``streamlit run dashboard.py``.

Read in two ways. ``streamlit run`` finds the ``st.App`` at the bottom (it reads the file:
streamlit.web.server.app_discovery) and serves it, importing this file once as a module when the server
starts; its ``lifespan`` (ui.app.server_lifespan) then starts a first start's sample database build at once,
before any browser has connected (it used to wait for the first page view). Each page view runs the file as
``__main__`` (as AppTest does too): ``main()``, the page list and the page.
"""
from __future__ import annotations

import streamlit as st

from pipelines import config
from ui import auth
from ui.app import first_start_without_sign_in, freeze_long_lived_objects, server_lifespan

HOME = "pages/weekly_position.py"
# What HOME imports, imported by a first start's sessions while the sample database is built, so HOME runs at
# once when it is there (tests/test_first_start.py checks the list against HOME's imports).
HOME_PAGE_MODULES = ("polars", "pipelines.catalogue.dates", "pipelines.catalogue.wording", "pipelines.queries.weekly",
                     "pipelines.reports.export", "pipelines.reports.meeting_html", "pipelines.reports.narrative",
                     "pipelines.reports.weekly_table", "ui.app", "ui.escaped_html", "ui.sections", "ui.spc_icons",
                     "ui.style", "ui.weekly_filters", "ui.weekly_rows")


def main() -> None:
    """Every page view: the page list across the top, then the chosen page."""
    # Imported once the runtime runs: ui.data's st.cache_data, imported by the server before it, would log
    # "No runtime found" at every start.
    from ui import data, warm  # noqa: PLC0415
    if first_start_without_sign_in():
        data.start_sample_build()  # started by the server already; here for a file deleted since, or AppTest
    # The icon as the emoji itself: a shortcode (":hospital:") makes every new tab fetch and parse Streamlit's emoji
    # table (252 KB of JavaScript) only to look it up for the browser tab's icon.
    st.set_page_config(page_title="Discharge and flow", page_icon="🏥", layout="wide")
    pages = [
        st.Page(HOME, title="Weekly position", icon=":material/table_chart:", default=True,
                url_path="weekly"),
        st.Page("pages/trust.py", title="Trust drill-down", icon=":material/monitoring:", url_path="trust"),
        st.Page("pages/opel.py", title="OPEL levels", icon=":material/grid_on:", url_path="opel"),
        st.Page("pages/narrative.py", title="Weekly narrative", icon=":material/edit_note:", url_path="narrative"),
        st.Page("pages/data_quality.py", title="Data quality and upload", icon=":material/fact_check:",
                url_path="data-quality"),
    ]
    auth.gate(pages)  # with sign-in configured, nothing below runs before the user has signed in

    # Across the top, so the weekly table has the whole width of a 1366 px screen. Called before a first
    # start's build, so the page list shows its titles at once (never the pages/ folder's file names).
    navigation = st.navigation(pages, position="top")
    if not config.db_path().exists():
        with st.spinner("First start: building the database from the bundled sample data (a few seconds)..."):
            data.build_sample_database(HOME_PAGE_MODULES)
    data.upgrade_older_database()
    warm.watch_for_new_data()  # after each load, the default views of the new data are warmed before anyone asks
    with data.one_connection_per_run():  # the page's reads that miss the cache open the file once
        navigation.run()
    freeze_long_lived_objects()  # Streamlit's collection after every run then skips the libraries' objects


if __name__ == "__main__":
    main()
else:  # imported by `streamlit run dashboard.py`'s server (uvicorn), once
    app = st.App(__file__, lifespan=server_lifespan)
