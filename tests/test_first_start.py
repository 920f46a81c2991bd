"""First start (issue 11): the sample database is built once, in a worker thread, however many people open
the dashboard while it is being built; a build that fails says so and the next page view tries again."""
from __future__ import annotations

import ast
import asyncio
import importlib.util
import threading
from pathlib import Path

import pytest
from patience import guard_s
from streamlit.web.server.app_discovery import discover_asgi_app

from pipelines.ingest import load
from ui import app, auth, data

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = 4


def _dashboard_assignment(name: str) -> object:
    """A constant assigned at the top of dashboard.py (which cannot be imported outside ``streamlit run``)."""
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    return next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                and [getattr(target, "id", None) for target in node.targets] == [name])


HOME_PAGE_MODULES: tuple[str, ...] = _dashboard_assignment("HOME_PAGE_MODULES")  # type: ignore[assignment]


def test_sessions_arriving_during_the_first_start_share_one_build(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []
    arrived = threading.Semaphore(0)

    def slow_build(target: Path) -> bool:
        builds.append(target)
        for _ in range(SESSIONS):  # still building when every session has arrived, however busy the machine
            assert arrived.acquire(timeout=guard_s(5)), "a session never arrived (a hang guard)"
        target.write_bytes(b"built")
        return True

    failures: list[BaseException] = []

    def session_view() -> None:  # what each arriving session's page run does
        try:
            arrived.release()
            data.build_sample_database(HOME_PAGE_MODULES)
        except BaseException as error:  # a session that raises shows its user an error, not the page
            failures.append(error)

    monkeypatch.setattr(load, "ensure_database", slow_build)
    sessions = [threading.Thread(target=session_view) for _ in range(SESSIONS)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join(guard_s(10))
        assert not session.is_alive(), "a session never finished (a hang guard)"
    assert failures == []
    assert builds == [db]
    assert db.read_bytes() == b"built"  # every session went on only once it was there


def test_a_failed_first_build_is_reported_and_the_next_view_tries_again(db: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_build(target: Path) -> bool:
        raise OSError("No space left on device")

    monkeypatch.setattr(load, "ensure_database", broken_build)
    with pytest.raises(OSError, match="No space left"):
        data.build_sample_database(HOME_PAGE_MODULES)

    monkeypatch.setattr(load, "ensure_database", lambda target: bool(target.write_bytes(b"built")))
    data.build_sample_database(HOME_PAGE_MODULES)
    assert db.exists()


def test_a_build_started_before_the_page_is_set_up_is_the_one_the_page_waits_for(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []

    def build(target: Path) -> bool:
        builds.append(target)
        target.write_bytes(b"built")
        return True

    monkeypatch.setattr(load, "ensure_database", build)
    data.start_sample_build()  # dashboard.py, before the page list and the notice, without sign-in
    data.build_sample_database(HOME_PAGE_MODULES)
    assert builds == [db]


def test_a_first_start_imports_everything_the_home_page_imports() -> None:
    """dashboard.py lists the home page's modules by hand: a module the page gained must be added there,
    or a first start's page run would pay its import after the build instead of during it."""
    home = _dashboard_assignment("HOME")
    tree = ast.parse((ROOT / str(home)).read_text(encoding="utf-8"))
    ours = ("pipelines", "ui", "polars", "plotly")
    named = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ours:
            # `from a import b`: the module a.b if there is one, else a
            named |= {f"{node.module}.{alias.name}" if _is_module(f"{node.module}.{alias.name}") else node.module
                      for alias in node.names}
        elif isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names if alias.name.split(".")[0] in ours}
    dashboard = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    # imported before the build: at the top, or at the start of main()
    its_own = {name for node in ast.walk(dashboard) if isinstance(node, ast.ImportFrom) and node.module
               for name in (node.module, *(f"{node.module}.{alias.name}" for alias in node.names))}
    assert named - its_own <= set(HOME_PAGE_MODULES)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module, not a module
        return False


def test_streamlit_run_serves_dashboard_py_as_an_app_whose_start_begins_the_build() -> None:
    """`streamlit run dashboard.py` must find the st.App (else the server would start no build of its own and
    a first start would wait for the first page view to begin it)."""
    found = discover_asgi_app(ROOT / "dashboard.py")
    assert found.is_asgi_app and found.import_string == "dashboard:app"
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    apps = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) == "st.App"]
    assert [ast.unparse(keyword.value) for node in apps for keyword in node.keywords] == ["server_lifespan"]


async def _serve_and_stop() -> None:
    async with app.server_lifespan(None):
        pass


def test_the_server_start_builds_the_sample_database_without_sign_in(db: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []
    built = threading.Event()

    def build(target: Path) -> bool:
        builds.append(target)
        target.write_bytes(b"built")
        built.set()
        return True

    monkeypatch.setattr(load, "ensure_database", build)
    asyncio.run(_serve_and_stop())
    assert built.wait(guard_s(10)), "the server's start began no build"
    data.build_sample_database(HOME_PAGE_MODULES)  # the first page view waits for that build, and starts no other
    assert builds == [db]


def test_with_sign_in_the_server_start_builds_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_secrets_section", lambda name: {"client_id": "x"} if name == "auth" else {})
    monkeypatch.setattr(load, "ensure_database", lambda target: pytest.fail("built before anyone signed in"))
    asyncio.run(_serve_and_stop())
    data._builder.submit(lambda: None).result()  # anything submitted to the build worker has run
    assert not db.exists()
