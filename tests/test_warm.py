"""Warming the default views after a load (ui/warm.py): once the server notices a new file, the pages
people open first find every read of their default view cached, and the older file's reads are dropped."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import load_rows_directly, week_of_rows
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest

from pipelines.queries.weeks import weeks_with_data
from pipelines.warehouse import database_version
from ui import data, warm

ROOT = Path(__file__).resolve().parents[1]
MONDAY = date(2024, 5, 13)


def _no_database_opened(*_args: object) -> None:
    raise AssertionError("a read was not served from the cache")


@pytest.fixture
def loaded(db: Path) -> Path:
    data.forget_cached_reads()  # other tests' reads, of other files, are not this test's
    for code in ("RCB", "RTR", "RCF"):
        load_rows_directly(db, week_of_rows(code, MONDAY) + week_of_rows(code, MONDAY + timedelta(days=7)))
    return db


def test_nothing_warmed_until_a_load_swaps_a_new_file_in(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warmed: list[tuple[str, ...]] = []
    monkeypatch.setattr(warm, "warm_default_views", lambda: warmed.append(warm.WARMED_PAGES))
    version = database_version(loaded)
    assert warm.data_swapped(loaded, None) == version  # the first look (or a first start's build): nothing to warm
    assert warm.data_swapped(loaded, version) == version  # the same file: nothing to warm
    assert warmed == []
    load_rows_directly(loaded, week_of_rows("RCB", MONDAY + timedelta(days=14)))
    assert warm.data_swapped(loaded, version) == database_version(loaded) != version
    assert warmed == [warm.WARMED_PAGES]


@pytest.mark.parametrize("page", warm.WARMED_PAGES)
def test_after_a_load_each_default_view_is_served_from_the_cache(loaded: Path, page: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    before = database_version(loaded)
    load_rows_directly(loaded, week_of_rows("RTR", MONDAY + timedelta(days=14)))
    warm.data_swapped(loaded, before)  # what the server's watcher does when it notices the new file
    monkeypatch.setattr(data, "connect_read", _no_database_opened)
    app = AppTest.from_file(str(ROOT / page), default_timeout=page_run_guard_s()).run()
    assert not app.exception, app.exception  # every read of the page's default view was already cached
    assert app.title[0].value  # and the page was drawn


def test_the_older_files_reads_are_dropped(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "warm_default_views", lambda: None)
    before = database_version(loaded)
    key = f"{weeks_with_data.__module__}:{weeks_with_data.__qualname__}"
    weeks = data.read(weeks_with_data)
    monkeypatch.setattr(data, "connect_read", _no_database_opened)
    assert data._cached(str(loaded), before, key, ()) == weeks  # noqa: SLF001 - kept while the file is current
    load_rows_directly(loaded, week_of_rows("RCF", MONDAY + timedelta(days=14)))
    warm.data_swapped(loaded, before)
    with pytest.raises(AssertionError, match="not served from the cache"):
        data._cached(str(loaded), before, key, ())  # noqa: SLF001 - dropped once a new file is in
