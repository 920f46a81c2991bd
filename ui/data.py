"""Cached reads for the pages.

Pages call ``read(query, *args)`` with a function from ``pipelines`` that takes a read-only
connection first. The cache key includes the database file's identity (inode and mtime),
which changes whenever an ingest swaps in a new file, so new data shows on the next page
view without a restart. In a page run (``one_connection_per_run``, around every page) the reads
that miss the cache share one connection to the file, rather than opening it each. A damaged
database file stops the page with a plain message saying how to restore it (no traceback, no paths).

On a first start (no database yet) ``build_sample_database`` builds it from the bundled sample data; a
database of an earlier release is brought up to date the same way, once.
"""
from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from pipelines import config
from pipelines.warehouse import DatabaseDamaged, WriteLockTimeout, connect_read, database_version, read_cursor
from pipelines.warehouse.integrity import is_damage
from pipelines.warehouse.schema import is_current

T = TypeVar("T")
log = logging.getLogger(__name__)
BUSY = ("The database is busy with another write; try again in a minute. Nothing was saved, and what you "
        "typed is kept.")
NOT_SAVED = ("Not saved: the database could not be written (the disk may be full or read-only). Nothing was "
             "changed; please try again later or tell the dashboard's support team.")


def database_exists() -> bool:
    return database_version(config.db_path()) is not None


def read(query: Callable[..., T], *args: Any) -> T:
    """``query(connection, *args)`` against the current database, cached until the data changes."""
    db = config.db_path()
    try:
        return _cached(str(db), database_version(db), f"{query.__module__}:{query.__qualname__}", args)
    except DatabaseDamaged as damaged:
        show_damaged(damaged)
        raise  # not reached: st.stop() ends the run


def show_damaged(damaged: DatabaseDamaged) -> None:
    """The plain message (what happened, how to restore) in place of the page."""
    st.error(damaged.plain, icon=":material/error:")
    st.stop()


def try_save(save: Callable[[], None], what: str) -> bool:
    """Run a save (narrative, SPC settings); when the database cannot take it, a plain message instead of
    Streamlit's error page, and False. The form is not cleared, so nothing typed is lost. Errors about
    the input itself (ValueError, AccessDenied) are the caller's to word."""
    try:
        save()
    except WriteLockTimeout:
        log.warning("%s not saved: the write lock was held too long", what, exc_info=True)
        st.error(BUSY, icon=":material/hourglass_top:")
    except DatabaseDamaged as damaged:
        st.error(damaged.plain, icon=":material/error:")
    except (OSError, duckdb.Error):  # a read-only or full disk, say: logged, and said in plain words
        log.exception("%s not saved", what)
        st.error(NOT_SAVED)
    else:
        return True
    return False


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(db: str, version: tuple[int, int] | None, query_name: str, args: tuple) -> Any:
    module, name = query_name.split(":")
    query = getattr(importlib.import_module(module), name)
    with _reader(db, version) as con:
        try:
            return query(con, *args)
        except duckdb.Error as error:  # blocks missing or failing their check deeper than opening reads
            if not is_damage(error):
                raise
            raise DatabaseDamaged(Path(db), "part of it cannot be read") from error


_run = threading.local()  # the connection the reads of this thread's page run share (one_connection_per_run)


@contextmanager
def one_connection_per_run() -> Iterator[None]:
    """The reads of one page run that miss the cache share one connection to the file, opened at the first of
    them (a cursor each), instead of opening the file for each (about 100 ms each: DuckDB reads its catalogue,
    and the checks; a page's first view on a new file makes five reads). Closed when the run ends, so nothing
    holds the file between runs (a test, or an analyst's tool, may write it in place)."""
    if getattr(_run, "active", False):
        yield
        return
    _run.active, _run.kept = True, None
    try:
        yield
    finally:
        kept, _run.active, _run.kept = _run.kept, False, None
        if kept is not None:
            kept[1].close()


def _reader(db: str, version: tuple[int, int] | None) -> duckdb.DuckDBPyConnection:
    """A connection for one read of ``db`` at ``version``: in a page run, a cursor of the run's connection to
    that version of the file (a swap during the run: the newer file's, opened then); else its own."""
    if version is None or not getattr(_run, "active", False):
        return connect_read(Path(db))  # no file: DuckDB's own error, as before
    if _run.kept is None or _run.kept[0] != (db, version):
        if _run.kept is not None:
            _run.kept[1].close()
            _run.kept = None
        _run.kept = (db, version), connect_read(Path(db), kept=True)
    return read_cursor(_run.kept[1])


def forget_cached_reads() -> None:
    """Drop every cached read: after a load has swapped a new file in, those of the older file are never
    asked for again (``ui.warm``)."""
    _cached.clear()


_builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="first-start")
_builds: dict[Path, tuple[Future[bool], threading.Event]] = {}
_builds_lock = threading.Lock()


def _ensure_database(db: Path, imported: threading.Event) -> bool:
    try:
        from pipelines.ingest.load import ensure_database  # noqa: PLC0415  (the pipeline: only a first start needs it)
    finally:
        imported.set()
    return ensure_database(db)


def start_sample_build() -> None:
    """First start: build the database from the bundled sample data in a worker thread, unless a build
    of it is under way or done (one build for every session that arrives meanwhile)."""
    db = config.db_path()
    with _builds_lock:
        # none yet, the last one failed (and said so), or its file has gone since it was built
        if db not in _builds or (_builds[db][0].done() and not _builds[db][0].exception() and not db.exists()):
            imported = threading.Event()
            _builds[db] = _builder.submit(_ensure_database, db, imported), imported


def build_sample_database(home_page_modules: Iterable[str]) -> None:
    """First start: the sample database built (``start_sample_build``, if it has not started yet), while this
    session imports ``home_page_modules`` (the home page's imports, listed in dashboard.py), so the page
    runs as soon as the database is swapped in. A failed build raises here, and the next run tries again.

    The session's imports wait until the worker has imported the pipeline: imports hold Python's global
    lock, so they would only slow each other down, while the build itself mostly runs in DuckDB and
    Polars, which let the imports go on beside it."""
    start_sample_build()
    db = config.db_path()
    with _builds_lock:
        build, imported = _builds[db]
    imported.wait()
    for module in home_page_modules:
        importlib.import_module(module)
    try:
        build.result()
    except BaseException:
        with _builds_lock:
            if _builds.get(db, (None,))[0] is build:
                del _builds[db]  # said: the next run starts another
        raise
    _checked_schema.add(db)  # built (or brought up to date) by this release: upgrade_older_database need not open it


_checked_schema: set[Path] = set()


def upgrade_older_database() -> None:
    """A database written by an earlier version (pages would ask it for columns it lacks, such as the
    narratives' group_id, or the discharge ready date columns) is brought to this schema by one write session,
    once per server process: the schema, the metric catalogue, the weekly figures and SPC
    (``pipelines.ingest.load.upgrade_database``)."""
    db = config.db_path()
    with _builds_lock:
        if db in _checked_schema or not db.exists():
            return
        try:
            with connect_read(db) as con:
                current = is_current(con)
        except DatabaseDamaged:
            return  # each page says so plainly, and how to restore (show_damaged)
        if not current:
            from pipelines.ingest.load import upgrade_database  # noqa: PLC0415  (the pipeline: only an upgrade needs it)
            upgrade_database(db)
        _checked_schema.add(db)
