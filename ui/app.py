"""Set-up every page shares."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.auth import current_identity
from ui.style import apply_theme


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

