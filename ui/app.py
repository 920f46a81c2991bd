"""Set-up every page shares, and what the server does when it starts."""
from __future__ import annotations

import atexit
import gc
import sys
import webbrowser
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from pipelines import config
from ui.auth import auth_configured, current_identity
from ui.style import apply_theme

# How many modules were loaded when the cyclic garbage collector last set the long-lived objects aside.
_modules_when_frozen = [0]


def freeze_long_lived_objects() -> None:
    """After a run that imported modules (a page's first view since the server started), collect once and
    move every object then alive out of the garbage collector's sight (``gc.freeze``).

    Streamlit collects all generations after every script run (``runner.postScriptGC``) and the server's
    event loop cannot send until that collection ends: it walked all 128,000 objects of the imported libraries
    (Polars, DuckDB, Plotly, Streamlit) each time, 70-90 ms of CPU on our 2-core machine, up to 600 ms of a
    click under load (profiled), while what a run leaves behind is a few thousand. Frozen objects are still
    freed by reference counting; only a cycle among them is never collected, and they are what an import
    leaves for the life of the process."""
    if len(sys.modules) != _modules_when_frozen[0]:
        if not _modules_when_frozen[0]:
            atexit.register(gc.unfreeze)  # at exit, as without the freeze (DuckDB's bindings check what is left)
        gc.collect()
        gc.freeze()
        _modules_when_frozen[0] = len(sys.modules)


def first_start_without_sign_in() -> bool:
    """No database yet and no sign-in configured (nobody to wait for): the sample database can be built now.
    With sign-in, nothing is built before a user has signed in."""
    return not auth_configured() and not config.db_path().exists()


@asynccontextmanager
async def server_lifespan(_app: object) -> AsyncIterator[None]:
    """The server's start (dashboard.py's ``st.App``, after Streamlit's runtime has started): a first start's
    build begins here, in ui.data's worker thread, and the first page view waits for that same build."""
    # Not imported by this module: ui.data's st.cache_data, imported before the runtime exists, logs
    # "No runtime found" at every server start.
    from ui.data import start_sample_build  # noqa: PLC0415
    if first_start_without_sign_in():
        start_sample_build()
    address = st.get_option("server.address") or "localhost"
    if not st.get_option("server.headless") and not address.startswith("unix:"):
        # On a desktop, the browser opened at the address, as `streamlit run` does for a script without an
        # App (streamlit.web.bootstrap._on_server_start) and the App's start does not.
        webbrowser.open(f"http://{address}:{st.get_option('server.port')}")
    yield


def ensure_entrypoint() -> None:
    """Stop unless signed in (when sign-in is configured), and hand a deep link on a freshly started
    server over to dashboard.py.

    Until dashboard.py has called st.navigation once, Streamlit treats the pages/ folder as an
    old-style multipage app and runs a linked page on its own, without the set-up and navigation
    of dashboard.py (and without building the sample database). Switching that mode off and
    rerunning makes dashboard.py run and route to the same page by its URL path.

    Streamlit 1.67 offers no supported switch: v1 discovery is decided by ``pages/`` existing beside
    the entry point (``PagesManager.__init__``), and ``client.showSidebarNavigation`` only hides
    the v1 sidebar. Upstream: streamlit/streamlit#10276 (review: "pages folder + MPAv2 ... directly
    access an URL path ... sometimes it completely switch back to MPAv1") and #9624. The private
    attribute is written here only; tests/test_app.py fails if Streamlit drops it.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    # Here, not in dashboard.py: every page runs this, also one Streamlit runs on its own (above), which
    # lacked the theme's CSS (captions in Streamlit's faded grey, 4:1 on white; axe found it).
    apply_theme()
    current_identity()  # with sign-in configured, a page draws nothing for a visitor who has not signed in

