"""First start (issue 11): the sample database is built once, in a worker thread, however many people open
the dashboard while it is being built; a build that fails says so and the next page view tries again."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipelines.ingest import load
from ui import data

HOME = Path(__file__).resolve().parents[1] / "pages" / "weekly_position.py"


def test_sessions_arriving_during_the_first_start_share_one_build(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []

    def slow_build(target: Path) -> bool:
        builds.append(target)
        time.sleep(0.3)  # long enough for the second session to arrive mid-build
        target.write_bytes(b"built")
        return True

    failures: list[BaseException] = []

    def session_view() -> None:  # what each arriving session's page run does
        try:
            data.build_sample_database(HOME)
        except BaseException as error:  # a session that raises shows its user an error, not the page
            failures.append(error)

    monkeypatch.setattr(load, "ensure_database", slow_build)
    sessions = [threading.Thread(target=session_view) for _ in range(4)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join(timeout=30)
    assert failures == []
    assert builds == [db]
    assert db.read_bytes() == b"built"  # both sessions went on only once it was there


def test_a_failed_first_build_is_reported_and_the_next_view_tries_again(db: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_build(target: Path) -> bool:
        raise OSError("No space left on device")

    monkeypatch.setattr(load, "ensure_database", broken_build)
    with pytest.raises(OSError, match="No space left"):
        data.build_sample_database(HOME)

    monkeypatch.setattr(load, "ensure_database", lambda target: bool(target.write_bytes(b"built")))
    data.build_sample_database(HOME)
    assert db.exists()
