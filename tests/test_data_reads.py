"""ui.data.one_connection_per_run: the reads of one page run that miss the cache open the database file once
(a cursor each), see a file swapped in during the run, and leave nothing holding the file after the run."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import session
from ui import data


def rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _write(path: Path, b_rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE a AS SELECT 1 AS x; CREATE TABLE b AS SELECT * FROM range({b_rows}); "
                    "CREATE TABLE ambitions (metric VARCHAR, comparison VARCHAR, threshold DOUBLE, "  # read by the
                    "amber_tolerance DOUBLE, effective_from DATE, source VARCHAR)")  # macro every reader has


@pytest.fixture
def opened(db: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    _write(db, 3)
    files: list[Path] = []
    real = session.open_checked

    def counting(path: Path, *args: object, **kwargs: bool) -> duckdb.DuckDBPyConnection:
        files.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(session, "open_checked", counting)
    data.forget_cached_reads()
    yield files
    data.forget_cached_reads()


def test_the_reads_of_one_run_open_the_file_once(db: Path, opened: list[Path]) -> None:
    with data.one_connection_per_run():
        assert (data.read(rows, "a"), data.read(rows, "b"), data.read(rows, "a")) == (1, 3, 1)
    assert opened == [db]
    with duckdb.connect(str(db)) as con:  # nothing holds the file after the run: it can be written in place
        con.execute("INSERT INTO b VALUES (9)")
    with data.one_connection_per_run():
        assert data.read(rows, "b") == 4  # the changed file's figure, not the cached one
    assert opened == [db, db]


def test_a_file_swapped_in_during_a_run_is_read_from_then(db: Path, opened: list[Path], tmp_path: Path) -> None:
    with data.one_connection_per_run():
        assert data.read(rows, "b") == 3
        _write(tmp_path / "new.duckdb", 5)
        os.replace(tmp_path / "new.duckdb", db)  # as a write session swaps its copy in
        assert data.read(rows, "b") == 5
        with duckdb.connect(str(db), read_only=True) as other:  # a reader of its own (sign-in checks) sees it too
            assert rows(other, "b") == 5
    assert opened == [db, db]


def test_outside_a_run_each_read_opens_the_file(db: Path, opened: list[Path]) -> None:
    assert (data.read(rows, "a"), data.read(rows, "b")) == (1, 3)
    assert opened == [db, db]
