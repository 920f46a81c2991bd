"""Nothing lost (issue 22 items 1, 6, 7, 8, 12 and 13): damage found before anything is written, an
audit log that cannot silently shrink, restores that are audited and keep the log, plain messages and
the documented exit statuses for a full disk, a held lock and a damaged file, and SPC settings checked."""
from __future__ import annotations

import hashlib
import os
import random
import resource
import signal
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import duckdb
import pytest
from helpers import query
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_narrative_page import FORM, box, run_page, two_weeks
from test_trust_spc import labelled, step
from test_trust_spc import run_page as run_trust_page

from pipelines import __main__ as cli
from pipelines import access
from pipelines.ingest import load
from pipelines.reports import narrative
from pipelines.spc import store
from pipelines.warehouse import integrity, session, write_lock
from ui import data

__all__ = ["step", "two_weeks"]  # fixtures shared with the page tests
ROOT = Path(__file__).resolve().parents[1]
MONTHS = [ROOT / "sample_data" / "sitrep" / f"sitrep_2023-{month:02d}.csv" for month in (4, 5, 6, 7)]
SUNDAY = date(2024, 4, 14)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage_the_middle(db: Path) -> None:
    """Random bytes over 64 KiB in the middle of a block of the daily figures (a block in use: damage to a
    block the file no longer uses harms nothing), as a failing disk or a stray write would leave."""
    with duckdb.connect(str(db), read_only=True) as con:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
        blocks = [b for (b,) in con.execute("SELECT DISTINCT block_id FROM pragma_storage_info('sitrep_daily') "
                                            "WHERE block_id >= 0 ORDER BY block_id").fetchall()]
    middle = blocks[len(blocks) // 2]
    with db.open("r+b") as handle:
        handle.seek(3 * 4096 + middle * block_size + block_size // 2)  # after the file's three headers
        handle.write(random.Random(22).randbytes(64 * 1024))


@pytest.fixture
def four_loads(db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Four months of the sample sitreps, one ingest each: the live file and three generations."""
    monkeypatch.setenv("FLOW_GENERATIONS", "3")
    for month in MONTHS:
        assert cli.main(["ingest", str(month), "--db", str(db)]) == 0
    return db


# ---- 1: a damaged block is found before anything is written or rotated ----

def test_a_damaged_block_stops_every_ingest_and_keeps_the_generations(four_loads, capsys):
    db = four_loads
    damage_the_middle(db)
    with duckdb.connect(str(db), read_only=True) as con, pytest.raises(duckdb.Error, match="(?i)corrupt"):
        integrity.read_everything(con)  # the damage is real: DuckDB's checksums fail on a full read
    kept = {path.name: digest(path) for path in (db, *(session.generation_path(db, n) for n in (1, 2, 3)))}
    capsys.readouterr()
    for _ in range(3):
        assert cli.main(["ingest", "--force", str(MONTHS[0]), "--db", str(db)]) == cli.EXIT_DAMAGED
        err = capsys.readouterr().err
        assert "The database flow.duckdb is damaged" in err and "restore" in err and "Traceback" not in err
    assert {name: digest(db.with_name(name)) for name in kept} == kept  # nothing written, nothing rotated

    assert cli.main(["export", "--format", "csv", "--out", str(db.parent / "week.csv"), "--db", str(db)]) == 4
    assert "is damaged" in capsys.readouterr().err and not (db.parent / "week.csv").exists()

    assert cli.main(["restore", "--list", "--db", str(db)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "DAMAGED" in listed[0] and not any("DAMAGED" in line for line in listed[1:])
    files_before_the_damage = query(session.generation_path(db, 1), "SELECT count(*) FROM ingest_files")
    assert cli.main(["restore", "--db", str(db)]) == 0  # the newest sound generation, without asking
    assert "from generation 1" in capsys.readouterr().out
    assert session.generations(db)[0].problem is None
    assert query(db, "SELECT count(*) FROM ingest_files") == files_before_the_damage
    [(detail,)] = query(db, "SELECT detail FROM audit_log WHERE action = 'database_restored'")
    assert "the damaged live file was kept as flow.duckdb.damaged-" in detail
    assert cli.main(["ingest", str(MONTHS[3]), "--db", str(db)]) == 0  # loads again once restored


def count_full_reads(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """A list that gains an item at each full read of a file (``integrity.read_everything``)."""
    full_reads: list[None] = []
    read_everything = integrity.read_everything
    monkeypatch.setattr(integrity, "read_everything", lambda con: (full_reads.append(None), read_everything(con))[1])
    return full_reads


@pytest.mark.parametrize("keep_mtime", [True, False], ids=["modified time put back", "modified time changed"])
def test_damage_after_a_clean_write_is_refused_before_anything_is_written(db, monkeypatch, capsys, keep_mtime):
    """The next write skips the full read only for the very bytes the last write swapped in: damage of the
    same size, even with the file's modified time put back, changes the checksum and is found."""
    monkeypatch.setenv("FLOW_GENERATIONS", "3")
    for month in MONTHS[:2]:
        assert cli.main(["ingest", str(month), "--db", str(db)]) == 0
    assert session.read_fingerprint(db) == (db.stat().st_size, zlib.crc32(db.read_bytes()))
    clean = db.stat()
    damage_the_middle(db)
    if keep_mtime:
        os.utime(db, ns=(clean.st_atime_ns, clean.st_mtime_ns))
    assert (db.stat().st_size, db.stat().st_mtime_ns == clean.st_mtime_ns) == (clean.st_size, keep_mtime)
    kept = {path.name: digest(path) for path in (db, session.generation_path(db, 1))}
    capsys.readouterr()
    full_reads = count_full_reads(monkeypatch)
    assert cli.main(["ingest", str(MONTHS[2]), "--db", str(db)]) == cli.EXIT_DAMAGED
    assert "The database flow.duckdb is damaged" in capsys.readouterr().err
    assert len(full_reads) == 1  # refused by the full read of the copy, before the load touched it
    assert {name: digest(db.with_name(name)) for name in kept} == kept  # nothing written, nothing rotated
    assert not session.generation_path(db, 2).exists()


def test_a_write_reads_the_file_in_full_only_when_it_is_not_the_one_the_last_write_left(db, monkeypatch):
    full_reads = count_full_reads(monkeypatch)
    for month in MONTHS[:2]:  # a new file, then the file the first write swapped in
        assert cli.main(["ingest", str(month), "--db", str(db)]) == 0
    assert full_reads == []
    with duckdb.connect(str(db)) as con:  # another tool writes the live file: the fingerprint no longer matches
        con.execute("CREATE TABLE analyst_notes (note VARCHAR)")
    assert cli.main(["ingest", str(MONTHS[2]), "--db", str(db)]) == 0
    assert len(full_reads) == 1
    session.fingerprint_path(db).unlink()  # none left beside the file: read in full
    assert cli.main(["ingest", str(MONTHS[3]), "--db", str(db)]) == 0
    assert len(full_reads) == 2
    assert cli.main(["ingest", "--force", str(MONTHS[0]), "--db", str(db)]) == 0
    assert len(full_reads) == 2


def test_the_data_quality_page_on_a_damaged_database_says_what_to_do(four_loads):
    damage_the_middle(four_loads)
    app = run_dq_page()
    assert not app.exception
    [error] = [e.value for e in app.error]
    assert "is damaged" in error and "python -m pipelines restore" in error


def test_an_internal_error_fails_the_run_and_the_service(db, monkeypatch, capsys):
    def bug(*args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(load, "_load_sitrep", bug)
    assert cli.main(["ingest", str(MONTHS[0]), "--db", str(db)]) == cli.EXIT_INTERNAL_ERROR == 6
    assert "internal error" in capsys.readouterr().err
    unit = (ROOT / "deploy" / "flow-ingest.service").read_text(encoding="utf-8")
    assert "SuccessExitStatus" not in unit  # systemd's default: every non-zero status, 1 included, fails the unit


def test_a_bug_outside_any_one_file_is_a_plain_message_and_exit_6(db, monkeypatch, capsys):
    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(session, "_prepare", bug)
    assert cli.main(["ingest", str(MONTHS[0]), "--db", str(db)]) == cli.EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "The ingest stopped because of an internal error" in err and "Traceback" not in err
    assert not db.exists()  # the write session was abandoned: no half-made database


# ---- 6 and 7: the audit log's chain; restore audited and keeping the log ----

def saves(db: Path, *texts: str) -> None:
    for text in texts:
        narrative.save_narrative(db, SUNDAY, "stranded_7plus_pct", None, text, "Sam")


def chain(db: Path) -> access.AuditChain:
    with duckdb.connect(str(db), read_only=True) as con:
        return access.audit_chain(con, session.read_audit_head(db))


def test_each_audit_row_is_sealed_to_the_one_before(two_weeks):
    saves(two_weeks, "one", "two", "three")
    assert chain(two_weeks).describe() == "Audit log: 3 entries, chain intact"
    [(first, second)] = query(two_weeks, "SELECT min(previous_hash), max(entry) FROM audit_log")
    assert (first, second) == ("", 3)
    with duckdb.connect(str(two_weeks)) as con:
        con.execute("UPDATE audit_log SET detail = 'nothing to see' WHERE entry = 2")
    assert chain(two_weeks).describe() == "Audit log: 3 entries, broken at entry 2 (it was changed)"


@pytest.mark.parametrize(("sql", "found"), [
    ("DELETE FROM audit_log WHERE entry = 3", "Audit log: 2 entries, broken at entry 3 (entries 3 to 3 were removed)"),
    ("DELETE FROM audit_log WHERE entry = 1", "Audit log: 2 entries, broken at entry 1 (entry 1 is missing)"),
    ("DELETE FROM audit_log", "Audit log: 0 entries, broken at entry 1 (entries 1 to 3 were removed)"),
])
def test_rows_removed_anywhere_are_found_and_the_next_write_records_it(two_weeks, sql, found):
    saves(two_weeks, "one", "two", "three")
    with duckdb.connect(str(two_weeks)) as con:
        con.execute(sql)
    assert chain(two_weeks).describe() == found
    saves(two_weeks, "four")  # the write still goes ahead, and the log itself says what was found
    assert query(two_weeks, "SELECT count(*) FROM audit_log WHERE action = 'audit_chain_broken'") == [(1,)]
    saves(two_weeks, "five")  # recorded once, not on every write
    assert query(two_weeks, "SELECT count(*) FROM audit_log WHERE action = 'audit_chain_broken'") == [(1,)]
    assert "1 earlier alteration recorded in the log" in chain(two_weeks).describe()


def test_the_data_quality_page_shows_the_chain(two_weeks):
    saves(two_weeks, "one", "two")
    app = run_dq_page()
    assert "Audit log: 2 entries, chain intact" in [c.value for c in app.caption]
    with duckdb.connect(str(two_weeks)) as con:
        con.execute("UPDATE audit_log SET actor = 'someone else' WHERE entry = 1")
    app = run_dq_page()
    assert any(e.value.startswith("Audit log: 2 entries, broken at entry 1 (it was changed)") for e in app.error)


def test_a_restore_is_audited_and_never_drops_audit_rows(two_weeks, monkeypatch, capsys):
    monkeypatch.setenv("FLOW_GENERATIONS", "3")
    saves(two_weeks, "kept")
    store.save_spc_settings(two_weeks, "RCD", "stranded_7plus_pct", None, [date(2024, 4, 8)], "Sam", "new ward")
    saves(two_weeks, "later")
    before = query(two_weeks, "SELECT recorded_at, actor, action, detail FROM audit_log ORDER BY entry")
    assert cli.main(["restore", "--generation", "2", "--db", str(two_weeks)]) == 0
    assert query(two_weeks, "SELECT text FROM narrative_current") == [("kept",)]  # the data went back...
    after = query(two_weeks, "SELECT recorded_at, actor, action, detail FROM audit_log ORDER BY entry")
    assert after[:-1] == before  # ...the record of who did what did not
    assert after[-1][1:3] == (access.server_admin().name, "database_restored")
    assert after[-1][3].startswith("generation 2 (saved ") and "2 later audit entries carried forward" in after[-1][3]
    assert chain(two_weeks).broken_at is None
    # Undoing the restore (the file it replaced is generation 1) keeps every row too, once.
    assert cli.main(["restore", "--generation", "1", "--db", str(two_weeks)]) == 0
    again = query(two_weeks, "SELECT recorded_at, actor, action, detail FROM audit_log ORDER BY entry")
    assert again[:-1] == after and again[-1][2] == "database_restored"
    assert chain(two_weeks).describe() == f"Audit log: {len(again)} entries, chain intact"
    capsys.readouterr()
    assert cli.main(["restore", "--list", "--db", str(two_weeks)]) == 0
    assert capsys.readouterr().out.startswith(f"Audit log: {len(again)} entries, chain intact\n")


def test_audit_rows_from_before_the_seals_are_sealed_once(two_weeks):
    saves(two_weeks, "one", "two")
    with duckdb.connect(str(two_weeks)) as con:  # as a file of the previous schema holds them
        con.execute("UPDATE audit_log SET entry = NULL, previous_hash = NULL, entry_hash = NULL")
        con.execute("UPDATE schema_state SET ddl_hash = 'older'")  # a file of an earlier schema
    session.audit_head_path(two_weeks).unlink()
    saves(two_weeks, "three")
    assert chain(two_weeks).describe() == "Audit log: 3 entries, chain intact"


# ---- 8: a full disk ----

def test_duckdb_saying_the_disk_is_full_is_exit_5(db, monkeypatch, capsys):
    assert cli.main(["ingest", str(MONTHS[0]), "--db", str(db)]) == 0
    kept = digest(db)

    def full(*args, **kwargs):
        raise duckdb.IOException('Could not write file "flow.duckdb.writing": No space left on device')

    monkeypatch.setattr(session, "_swap_in", full)
    capsys.readouterr()
    assert cli.main(["ingest", str(MONTHS[1]), "--db", str(db)]) == cli.EXIT_NO_SPACE == 5
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("The disk is full. Every file reported above is saved") and \
        "Traceback" not in err
    assert digest(db) == kept and not db.with_name("flow.duckdb.writing").exists()


def test_a_file_system_that_takes_no_more_bytes_is_exit_5(db):
    """A real write that fails: the ingest runs with a file size limit below the database's size (what
    a full disk does to DuckDB's checkpoint: its FatalException, not an OSError)."""
    assert cli.main(["ingest", str(MONTHS[0]), "--db", str(db)]) == 0
    kept = digest(db)
    limit = db.stat().st_size + 4096

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(MONTHS[1]), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, preexec_fn=small_disk, check=False)
    assert done.returncode == 5, done.stderr
    assert "The database could not be written (File too large)" in done.stderr and "Traceback" not in done.stderr
    assert digest(db) == kept


# ---- 13: a held write lock in the dashboard ----

def test_a_held_lock_keeps_the_narrative_typed_and_says_try_again(two_weeks, monkeypatch):
    monkeypatch.setenv("FLOW_LOCK_TIMEOUT", "0.2")
    app = run_page()
    app.text_input(key="narrative_author").input("Jo Smith")
    box(app).input("Typed while an ingest ran.")
    with write_lock(two_weeks):
        app.button(key=f"save-{FORM}").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == [data.BUSY]
    assert box(app).value == "Typed while an ingest ran."
    app.button(key=f"save-{FORM}").click().run()  # the lock is free again: the same text saves
    assert query(two_weeks, "SELECT text FROM narrative_current WHERE metric = 'stranded_7plus_pct'") == [
        ("Typed while an ingest ran.",)]


def test_a_held_lock_keeps_the_spc_settings_typed_and_says_try_again(step, monkeypatch):
    monkeypatch.setenv("FLOW_LOCK_TIMEOUT", "0.2")
    app = run_trust_page(trust="RCD", metric="stranded_7plus_pct", spc="true")  # the SPC section open
    labelled(app.text_input, "Your name").set_value("Alex")
    labelled(app.text_input, "Reason").set_value("new ward")
    labelled(app.date_input, "Recalculate limits from").set_value(date(2024, 4, 14))
    with write_lock(step):
        labelled(app.button, "Save SPC settings").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == [data.BUSY]
    assert labelled(app.text_input, "Reason").value == "new ward"
    assert labelled(app.date_input, "Recalculate limits from").value == date(2024, 4, 14)
    assert query(step, "SELECT count(*) FROM spc_settings_history") == [(0,)]
    labelled(app.button, "Save SPC settings").click().run()  # the lock is free again: the same settings save
    assert query(step, "SELECT reason, recalculate_from FROM spc_settings") == [("new ward", [date(2024, 4, 14)])]


# ---- 12: SPC settings checked ----

@pytest.mark.parametrize(("metric", "baseline", "recalculate", "message"), [
    ("nonsense", None, [date(2024, 5, 26)], "'nonsense' is not a metric with an SPC chart"),
    ("trust_opel_max", None, [date(2024, 5, 26)], "'trust_opel_max' is not a metric with an SPC chart"),
    ("stranded_7plus_pct", (date(2030, 1, 6), date(2031, 1, 5)), [],
     "the baseline 06/01/2030 to 05/01/2031 is outside the weeks charted (01/01/2024 to 28/07/2024)"),
    ("stranded_7plus_pct", (date(2024, 1, 1), date(2024, 3, 3)), [],
     "the baseline holds 9 complete weeks: limits need at least 15"),
    ("stranded_7plus_pct", (date(2024, 3, 3), date(2024, 1, 1)), [], "the baseline must start before it ends"),
    ("stranded_7plus_pct", None, [date(1900, 1, 1)],
     "the date to recalculate from 01/01/1900 is outside the weeks charted"),
    ("stranded_7plus_pct", None, [date(2024, 4, 15), date(2024, 7, 29)],
     "the date to recalculate from 29/07/2024 is outside the weeks charted"),
])
def test_spc_settings_outside_the_series_are_refused_and_not_stored(step, metric, baseline, recalculate, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.save_spc_settings(step, "RCD", metric, baseline, recalculate, "Sam", "test")
    assert query(step, "SELECT count(*) FROM spc_settings_history") == [(0,)]
    assert query(step, "SELECT count(*) FROM audit_log WHERE action = 'spc_settings_changed'") == [(0,)]


def test_spc_settings_inside_the_series_are_stored(step):
    store.save_spc_settings(step, "RCD", "stranded_7plus_pct", (date(2024, 1, 1), date(2024, 4, 14)),
                            [date(2024, 4, 15), date(2024, 7, 14)], "Sam", "15 weeks, then two changes")
    assert query(step, "SELECT baseline_start, baseline_end, recalculate_from FROM spc_settings") == [
        (date(2024, 1, 1), date(2024, 4, 14), [date(2024, 4, 15), date(2024, 7, 14)])]
    store.save_spc_settings(step, "RCD", "stranded_7plus_pct", None, [], "Sam", "cleared")  # clearing always fits


def test_spc_settings_of_a_series_with_no_complete_week_are_refused(step):
    with pytest.raises(ValueError, match="no complete week of this metric yet"):
        store.save_spc_settings(step, "RTR", "stranded_7plus_pct", None, [date(2024, 4, 15)], "Sam")


def run_dq_page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "data_quality.py"), default_timeout=page_run_guard_s()).run()


def test_a_query_error_is_not_taken_for_damage():
    with duckdb.connect() as con, pytest.raises(duckdb.Error) as caught:
        con.execute("SELECT * FROM no_such_table")
    assert not integrity.is_damage(caught.value)
