"""Write sessions that do one job, reported means saved, lock timeouts, generations and restore
(issue 10 items 2 and 5, issue 14 items 4, 5, 7 and 9)."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import load_rows_directly, query, sitrep_row, week_of_rows, write_csv
from patience import guard_s, page_run_guard_s
from streamlit.testing.v1 import AppTest

from pipelines import __main__ as cli
from pipelines.publication import tables
from pipelines.publication.store import TABLES
from pipelines.reports import narrative
from pipelines.spc import store
from pipelines.warehouse import (
    DatabaseDamaged,
    WriteLockTimeout,
    connect_read,
    open_for_write,
    session,
    write_lock,
)
from pipelines.warehouse.reference import reload_reference
from pipelines.warehouse.schema import SCHEMA_HASH, SCHEMA_KEY, migrate

ROOT = Path(__file__).resolve().parents[1]
MONDAY = date(2024, 4, 1)


def test_the_warehouse_creates_the_publication_tables_with_the_readers_columns():
    con = duckdb.connect()
    migrate(con)
    provenance = {"file_id": "INTEGER", "loaded_at": "TIMESTAMP"}
    sql_type = {pl.Date(): "DATE", pl.String(): "VARCHAR", pl.Int64(): "BIGINT", pl.Float64(): "DOUBLE"}
    for table, schema in {"nhse_daily": tables.DAILY_SCHEMA, **{k: v[1] for k, v in TABLES.items()}}.items():
        described = [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
        assert described == [(c, sql_type[d]) for c, d in schema.items()] + list(provenance.items()), table


def catalogue(db: Path) -> list[tuple]:
    """Everything the schema defines: tables and their columns, views, macros, indexes, constraints."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("""
            SELECT 'column', table_name, column_name, data_type, is_nullable, column_default::VARCHAR, column_index
                FROM duckdb_columns() WHERE database_name = current_database()
            UNION ALL SELECT 'view', view_name, sql, NULL, NULL, NULL, NULL
                FROM duckdb_views() WHERE NOT internal AND database_name = current_database()
            UNION ALL SELECT 'macro', function_name, macro_definition, parameters::VARCHAR, NULL, NULL, NULL
                FROM duckdb_functions() WHERE NOT internal AND database_name = current_database()
            UNION ALL SELECT 'constraint', table_name, constraint_text, NULL, NULL, NULL, NULL
                FROM duckdb_constraints() WHERE database_name = current_database()
            UNION ALL SELECT 'index', index_name, sql, NULL, NULL, NULL, NULL
                FROM duckdb_indexes() WHERE database_name = current_database()
            UNION ALL SELECT 'state', ddl_hash, derived_hash, NULL, NULL, NULL, NULL FROM schema_state
            ORDER BY ALL""").fetchall()


def test_a_new_database_copied_from_the_schema_template_is_the_one_the_schema_script_builds(tmp_path):
    scripted = tmp_path / "scripted.duckdb"
    with duckdb.connect(str(scripted)) as con:
        migrate(con)
    db = tmp_path / "flow.duckdb"
    with open_for_write(db):
        pass
    template = tmp_path / f".flow-schema-{SCHEMA_KEY}.duckdb"
    assert template.exists()
    assert catalogue(db) == catalogue(scripted)
    assert query(db, "SELECT ddl_hash FROM schema_state") == [(SCHEMA_HASH,)]
    assert query(db, "SELECT count(*) FROM ingest_files") == [(0,)]
    built = template.stat()
    with open_for_write(tmp_path / "second.duckdb"):
        pass
    assert (template.stat().st_ino, template.stat().st_mtime_ns) == (built.st_ino, built.st_mtime_ns)  # reused
    assert catalogue(tmp_path / "second.duckdb") == catalogue(scripted)


def test_a_stale_or_damaged_schema_template_is_never_used(tmp_path):
    scripted = tmp_path / "scripted.duckdb"
    with duckdb.connect(str(scripted)) as con:
        migrate(con)
    stale = tmp_path / ".flow-schema-0000000000000000.duckdb"
    shutil.copyfile(scripted, stale)
    with open_for_write(tmp_path / "a.duckdb"):
        pass
    assert not stale.exists()  # another schema's template is removed once this one is built
    template = tmp_path / f".flow-schema-{SCHEMA_KEY}.duckdb"
    template.write_bytes(b"not a database at all" * 1000)
    with open_for_write(tmp_path / "b.duckdb") as con:  # falls back to the schema script, and says so
        con.execute("INSERT INTO narratives VALUES (1, '2024-04-07', 'm', NULL, 't', 'a', now(), 'all')")
    assert catalogue(tmp_path / "b.duckdb") == catalogue(scripted)
    assert not template.exists() or template.read_bytes()[:21] != b"not a database at all"
    with open_for_write(tmp_path / "c.duckdb"):  # the next new file builds the template again
        pass
    assert template.exists() and catalogue(template) == catalogue(scripted)


def test_two_processes_building_the_schema_template_at_once_each_get_a_whole_one(tmp_path):
    script = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
              "from pipelines.warehouse.session import schema_template; "
              f"print(schema_template(Path({str(tmp_path)!r})))")
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    built = {run.communicate()[0].strip() for run in runs}
    assert all(run.returncode == 0 for run in runs)
    assert built == {str(tmp_path / f".flow-schema-{SCHEMA_KEY}.duckdb")}
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".flow-schema-{SCHEMA_KEY}.duckdb"]
    scripted = tmp_path.parent / f"{tmp_path.name}-scripted.duckdb"
    with duckdb.connect(str(scripted)) as con:
        migrate(con)
    assert catalogue(Path(built.pop())) == catalogue(scripted)


def test_reference_data_is_reloaded_only_when_it_changed(tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    shutil.copytree(ROOT / "reference_data", reference)
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(reference))
    con = duckdb.connect()
    migrate(con)
    assert reload_reference(con) is True
    assert reload_reference(con) is False  # nothing changed: nothing reloaded
    ambitions = reference / "ambitions.csv"
    ambitions.write_text(ambitions.read_text() + "stranded_7plus_pct,<,33,2,2030-04-01,test\n")
    assert reload_reference(con) is True
    assert con.execute("SELECT threshold FROM ambitions WHERE effective_from = '2030-04-01'").fetchall() == [(33.0,)]


def test_an_ingest_after_an_ambition_changed_refreshes_every_series_target(tmp_path, db, monkeypatch):
    reference = tmp_path / "reference"
    shutil.copytree(ROOT / "reference_data", reference)
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(reference))
    file = write_csv(tmp_path / "weeks.csv", week_of_rows("RCD", MONDAY) + week_of_rows("RCD", date(2024, 4, 8)))
    assert cli.main(["ingest", str(file), "--db", str(db)]) == 0
    ambitions = reference / "ambitions.csv"
    ambitions.write_text(ambitions.read_text() + "stranded_7plus_pct,<,10,2,2024-01-01,test\n")
    assert cli.main(["ingest", str(file), "--db", str(db)]) == 0  # already loaded: skipped, but the target moves
    with connect_read(db) as con:
        assert con.execute("SELECT ambition FROM weekly_position WHERE metric = 'stranded_7plus_pct' "
                           "AND week_ending = '2024-04-14'").fetchall() == [(10.0,)]
        stored = con.execute("SELECT * FROM spc_latest ORDER BY ALL").fetchall()
    with open_for_write(db) as con:
        store.refresh_derived(con, None)
    assert query(db, "SELECT * FROM spc_latest ORDER BY ALL") == stored


def test_a_narrative_save_refreshes_nothing(db, monkeypatch):
    load_rows_directly(db, week_of_rows("RCD", MONDAY))

    def refresh(*_args: object) -> None:
        raise AssertionError("a narrative save refreshed a derived table")

    monkeypatch.setattr(store, "refresh_derived", refresh)
    monkeypatch.setattr(store, "refresh_spc", refresh)
    narrative.save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, "Steady.", "Sam")
    assert query(db, "SELECT text FROM narratives") == [("Steady.",)]


def test_spc_settings_keep_their_history_and_refresh_only_their_series(db, monkeypatch):
    load_rows_directly(db, [r for w in range(6) for org in ("RCD", "RTR")
                            for r in week_of_rows(org, date(2024, 1, 1 + 7 * w) if w < 5 else date(2024, 2, 5))])
    refreshed: list[list[tuple]] = []
    original = store.refresh_spc
    monkeypatch.setattr(store, "refresh_spc", lambda con, series=None: refreshed.append(series.rows()) or original(
        con, series))
    store.save_spc_settings(db, "RCD", "stranded_7plus_pct", None, [date(2024, 1, 22)], "Sam", "new service")
    store.save_spc_settings(db, "RCD", "stranded_7plus_pct", None, [], "Alex", "cleared")
    assert refreshed == [[("RCD", "stranded_7plus_pct")]] * 2
    assert query(db, "SELECT recalculate_from, reason, set_by FROM spc_settings") == [([], "cleared", "Alex")]
    assert query(db, "SELECT recalculate_from, reason, set_by FROM spc_settings_history ORDER BY set_at, set_by DESC"
                 ) == [([date(2024, 1, 22)], "new service", "Sam"), ([], "cleared", "Alex")]


def test_a_write_lock_wait_times_out_naming_who_holds_it(db):
    with (write_lock(db),
          pytest.raises(WriteLockTimeout, match=rf"held by process {os.getpid()} \(`python .*`\) since "),
          write_lock(db, timeout_s=0.2)):
        pass
    with write_lock(db, timeout_s=0.2):  # free again; the holder's note is cleared
        assert Path(f"{db}.lock").read_text() != ""
    assert Path(f"{db}.lock").read_text() == ""


def test_the_cli_gives_up_on_a_held_lock_with_a_plain_message(tmp_path, db, monkeypatch, capsys):
    monkeypatch.setenv("FLOW_LOCK_TIMEOUT", "0.2")
    with write_lock(db):
        code = cli.main(["ingest", str(write_csv(tmp_path / "a.csv", [sitrep_row()])), "--db", str(db)])
    assert code == cli.EXIT_LOCK_TIMEOUT
    err = capsys.readouterr().err
    assert "Another write to the database has not finished after 0 s" in err and "Traceback" not in err


def test_every_swap_keeps_the_previous_generations(db, monkeypatch):
    monkeypatch.setenv("FLOW_GENERATIONS", "3")
    for text in ("one", "two", "three", "four", "five"):
        narrative.save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, text, "Sam")
    kept = sorted(p.name for p in db.parent.glob("flow.duckdb.*") if p.suffix[1:].isdigit())
    assert kept == ["flow.duckdb.1", "flow.duckdb.2", "flow.duckdb.3"]
    for number, texts in ((1, 4), (2, 3), (3, 2)):
        assert query(session.generation_path(db, number), "SELECT count(*) FROM narratives") == [(texts,)]


@pytest.fixture
def damaged(db: Path, tmp_path: Path) -> Path:
    """Figures, a narrative and an SPC setting, then one more write (which the damage loses: generation 1
    is the file before it); then the live file cut in half."""
    load_rows_directly(db, week_of_rows("RCD", MONDAY))
    narrative.save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, "Kept.", "Sam")
    store.save_spc_settings(db, "RCD", "stranded_7plus_pct", None, [MONDAY], "Sam", "kept")
    narrative.save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", "RCD", "Lost with the live file.", "Sam")
    os.truncate(db, db.stat().st_size // 2 + 1)
    return db


@pytest.mark.parametrize("damage", ["empty", "text", "truncated"])
def test_a_damaged_file_is_detected_on_open_with_a_plain_message(db, damage):
    load_rows_directly(db, week_of_rows("RCD", MONDAY))
    if damage == "empty":
        db.write_bytes(b"")
    elif damage == "text":
        db.write_text("not a database\n" * 1000)
    else:
        os.truncate(db, db.stat().st_size - 4096)
    with pytest.raises(DatabaseDamaged) as raised:
        connect_read(db)
    assert "python -m pipelines restore" in raised.value.plain and str(db.parent) not in raised.value.plain
    before = db.read_bytes()
    with pytest.raises(DatabaseDamaged), open_for_write(db):
        pass
    assert db.read_bytes() == before  # a write does not touch it


def test_pages_say_the_database_is_damaged_without_internals(damaged):
    app = AppTest.from_file(str(ROOT / "pages" / "weekly_position.py"), default_timeout=page_run_guard_s()).run()
    assert not app.exception
    [error] = [e.value for e in app.error]
    assert "damaged" in error and "python -m pipelines restore" in error
    assert str(damaged.parent) not in error and "Traceback" not in error


def test_the_cli_says_the_database_is_damaged_and_restore_brings_back_everything(damaged, tmp_path, capsys):
    assert cli.main(["ingest", str(write_csv(tmp_path / "a.csv", [sitrep_row()])), "--db", str(damaged)]) \
        == cli.EXIT_DAMAGED
    err = capsys.readouterr().err
    assert "is damaged" in err and "Traceback" not in err
    assert cli.main(["restore", "--list", "--db", str(damaged)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("live") and "DAMAGED" in listing[0]
    assert listing[1].lstrip().startswith("1 ") and "0 files loaded, figures to 07/04/2024" in listing[1]

    assert cli.main(["restore", "--db", str(damaged)]) == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "damaged file was kept as" in out
    assert query(damaged, "SELECT text FROM narratives") == [("Kept.",)]
    assert query(damaged, "SELECT reason FROM spc_settings") == [("kept",)]
    assert query(damaged, "SELECT count(*) FROM sitrep_daily") == [(7,)]
    assert len(list(damaged.parent.glob("flow.duckdb.damaged-*"))) == 1
    # a sound live database is only replaced when asked for a generation by number
    with pytest.raises(SystemExit) as usage:
        cli.main(["restore", "--db", str(damaged)])
    assert usage.value.code == 2


def test_a_full_disk_keeps_the_files_already_reported(tmp_path, db, monkeypatch, capsys):
    monkeypatch.setenv("FLOW_ROUND_S", "0")  # a round (copy, load, swap) per file
    files = [write_csv(tmp_path / f"{org}.csv", [sitrep_row(org_code=org)]) for org in ("RCD", "RTR")]
    copies = []
    real_checksum = session._checksum

    def copy_until_full(source: Path, copy_to: Path | None = None) -> tuple[int, int]:
        if copy_to is not None:  # the working copy of the live file (not the checksum of the file written)
            copies.append(copy_to)
            if len(copies) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_checksum(source, copy_to)

    with open_for_write(db):
        pass  # an existing database, so each round copies it
    monkeypatch.setattr(session, "_checksum", copy_until_full)
    assert cli.main(["ingest", *map(str, files), "--db", str(db)]) == cli.EXIT_NO_SPACE
    out, err = capsys.readouterr()
    assert out.startswith("loaded    RCD.csv")
    assert "The disk is full. Every file reported above is saved" in err and "Traceback" not in err
    assert query(db, "SELECT file_name FROM ingest_files") == [("RCD.csv",)]


def _cli(db: Path, *paths: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines", "ingest", *map(str, paths), "--db", str(db)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "FLOW_ROUND_S": "0"})


def _reported(lines: list[str]) -> set[str]:
    return {line.split()[1].rstrip(":") for line in lines if line.startswith("loaded ")}


def _saved(db: Path) -> set[str]:
    return {name for (name,) in query(db, "SELECT file_name FROM ingest_files")}


def test_a_closed_pipe_stops_the_ingest_without_losing_what_it_reported(tmp_path, db):
    files = [write_csv(tmp_path / f"{org}.csv", week_of_rows(org, MONDAY)) for org in ("RCD", "RTR", "RCB", "RR7")]
    process = _cli(db, *files)
    assert process.stdout is not None
    first = process.stdout.readline()  # like `| head -1`: one line, then the reader goes away
    process.stdout.close()
    _, err = process.communicate(timeout=guard_s(10))
    assert first.startswith("loaded    RCD.csv")
    assert process.returncode == cli.EXIT_OUTPUT_CLOSED
    assert "Stopped because the output was closed" in err and "Traceback" not in err
    assert _reported([first]) <= _saved(db)
    assert set(query(db, "SELECT DISTINCT source_file FROM sitrep_daily")) == {(name,) for name in _saved(db)}


def test_ctrl_c_after_the_first_report_keeps_that_file_and_says_so(tmp_path, db):
    small = write_csv(tmp_path / "a_small.csv", week_of_rows("RCD", MONDAY))
    big = write_csv(tmp_path / "b_big.csv", [sitrep_row(org_code=org, period_date=f"{year}-{month:02}-{day:02}")
                                              for org in ("RTR", "RCB", "RR7") for year in (2021, 2022, 2023)
                                              for month in range(1, 13) for day in range(1, 29)])
    process = _cli(db, small, big)
    assert process.stdout is not None
    first = process.stdout.readline()
    process.send_signal(signal.SIGINT)  # while the big file is loading
    rest, err = process.communicate(timeout=guard_s(10))
    assert first.startswith("loaded    a_small.csv")
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    assert "Interrupted. Every file reported above is saved" in err and "Traceback" not in err
    assert _reported(rest.splitlines()) == set()  # only the first file's notes follow its line
    assert _saved(db) == {"a_small.csv"}
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(7,)]
