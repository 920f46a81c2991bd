"""The first visit after a load as quick as the next one (issue 24): when an ingest swaps a new database
file in, the server runs the default view of the pages people open first, once, before anyone asks.

Every read is cached under the database file's version (``ui.data``, ``ui.kept``), so the first person
to open a page after the morning's load used to pay for every query of it. A thread of the server
process (started by dashboard.py) looks at the file's version every ``POLL_S`` seconds (one ``stat``);
when it changes, it drops the cached reads and figures of the older file (nobody asks for them again)
and runs each of ``WARMED_PAGES`` itself. Outside a session Streamlit draws nothing and every widget
gives its default ("bare mode"), so a page run there makes exactly the reads of its default view (no
address parameters, nobody signed in) and leaves them in the shared caches: nothing here lists a page's
queries again. A person arriving while it runs waits for the query under way rather than running it
twice (Streamlit computes each cached value once).

Not with sign-in configured: there a page's default view is the signed-in user's, and a run that nobody
signed in to stops before its first read.
"""
from __future__ import annotations

import logging
import runpy
import threading
import time
from pathlib import Path

from streamlit import runtime
from streamlit.runtime import Runtime

from pipelines import config
from pipelines.warehouse import database_version
from ui import data, kept
from ui.auth import auth_configured

ROOT = Path(__file__).resolve().parents[1]
WARMED_PAGES = ("pages/weekly_position.py", "pages/trust.py", "pages/opel.py")
POLL_S = 1.0
THREAD_NAME = "flow-warm"
# Where Streamlit warns of each call made outside a session: expected here, so kept out of the server's log.
BARE_MODE_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"
log = logging.getLogger(__name__)
_started = threading.Lock()
_watcher: threading.Thread | None = None


class _NotFromWarming(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def warm_default_views(pages: tuple[str, ...] = WARMED_PAGES) -> None:
    """Run each page's default view outside any session, so its reads are cached for the current file.
    A page that fails is logged and the next one still runs: warming only saves time."""
    for page in pages:
        try:
            with data.one_connection_per_run():
                runpy.run_path(str(ROOT / page), run_name="__warm__")
        except Exception:  # a page that cannot run now fails the same way for its first visitor, who sees why
            log.warning("warming %s after a load failed", page, exc_info=True)


def data_swapped(db: Path, seen: tuple[int, int] | None) -> tuple[int, int] | None:
    """The file's version now; when a load has swapped a new file in since ``seen`` (not a first start:
    that builds the file while its first page waits), the older file's cached reads are dropped and the
    default views warmed for the new one."""
    now = database_version(db)
    if seen is not None and now is not None and now != seen:
        data.forget_cached_reads()
        kept.forget_kept()
        started = time.perf_counter()
        warm_default_views()
        log.info("default views warmed for the new data in %.1f s", time.perf_counter() - started)
    return now


def _watch() -> None:
    db = config.db_path()
    seen = database_version(db)
    while True:
        time.sleep(POLL_S)
        seen = data_swapped(db, seen)


def watch_for_new_data() -> None:
    """Start, once per server process, the thread that warms the default views after each load. Only in
    a server of ``streamlit run`` (AppTest stands a mock in for the runtime: tests warm by calling
    ``data_swapped``) and without sign-in (see the module's notes)."""
    global _watcher  # noqa: PLW0603 - one watcher per process
    with _started:
        served = runtime.exists() and type(runtime.get_instance()) is Runtime
        if _watcher is not None or not served or auth_configured():
            return
        logging.getLogger(BARE_MODE_LOGGER).addFilter(_NotFromWarming())
        _watcher = threading.Thread(target=_watch, name=THREAD_NAME, daemon=True)
        _watcher.start()
