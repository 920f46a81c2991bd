"""ui.app.ensure_entrypoint: the one place that works around Streamlit's old pages/ mode (see its docstring);
ui.app.freeze_long_lived_objects: the libraries' objects set aside from the collection after every run."""
from __future__ import annotations

import gc
import sys
import weakref

import pytest
from streamlit.runtime.pages_manager import PagesManager

from ui import app


class Rerun(Exception):
    pass


@pytest.fixture
def reruns(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []

    def rerun() -> None:
        calls.append(True)
        raise Rerun

    monkeypatch.setattr(app.st, "rerun", rerun)
    monkeypatch.setattr(app, "current_identity", lambda: None)  # sign-in is another test's subject
    monkeypatch.setattr(PagesManager, "uses_pages_directory", PagesManager.uses_pages_directory)
    return calls


def test_streamlit_still_has_the_flag_the_workaround_relies_on() -> None:
    # If an upgrade removes it, check whether st.navigation now owns deep links and delete the workaround.
    assert hasattr(PagesManager, "uses_pages_directory")


def test_a_deep_link_in_old_pages_mode_reruns_through_dashboard(reruns: list[bool]) -> None:
    PagesManager.uses_pages_directory = True
    with pytest.raises(Rerun):
        app.ensure_entrypoint()
    assert reruns == [True] and PagesManager.uses_pages_directory is False


def test_under_st_navigation_a_page_just_runs(reruns: list[bool]) -> None:
    PagesManager.uses_pages_directory = False
    app.ensure_entrypoint()
    assert reruns == []


@pytest.fixture
def frozen_state(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a generator fixture
    monkeypatch.setattr(app, "_modules_when_frozen", [0])
    yield
    gc.unfreeze()  # the rest of the test run collects as before


def test_after_a_run_that_imported_modules_the_libraries_are_set_aside_once(frozen_state: None) -> None:
    # Streamlit's full collection after every run would otherwise walk every object of Polars, DuckDB and
    # Plotly before the server can send the run's last messages (the weekly page's click waited for it).
    assert app.st.get_option("runner.postScriptGC")
    app.freeze_long_lived_objects()
    assert gc.get_freeze_count() > 0 and app._modules_when_frozen == [len(sys.modules)]
    frozen = gc.get_freeze_count()
    app.freeze_long_lived_objects()  # no new import: nothing more is frozen
    assert gc.get_freeze_count() == frozen


def test_what_later_runs_leave_behind_is_still_collected(frozen_state: None) -> None:
    # The server's memory must not grow from page views: a cycle made after the freeze is still collected.
    app.freeze_long_lived_objects()

    class Node:
        itself: object

    node = Node()
    node.itself = node
    alive = weakref.ref(node)
    app.freeze_long_lived_objects()
    del node
    gc.collect()
    assert alive() is None
