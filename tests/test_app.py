"""ui.app.ensure_entrypoint: the one place that works around Streamlit's old pages/ mode (see its docstring)."""
from __future__ import annotations

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
