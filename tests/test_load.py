"""Loading files: transactions, the hash ledger, supersede with history, provenance, the CLI."""
from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import query, sitrep_row, write_csv
from patience import guard_s

from pipelines import access
from pipelines.ingest import load
from pipelines.ingest.load import ingest_paths

ROOT = Path(__file__).resolve().parents[1]
DATA_TABLES = ["sitrep_daily", "sitrep_history", "rejected_rows"]


def ingest(db: Path, *paths: Path, **options):
    return list(ingest_paths(list(paths), db, **options))


def snapshot(db: Path) -> dict[str, list[tuple]]:
    return {t: sorted(query(db, f"SELECT * FROM {t}"), key=repr) for t in DATA_TABLES}


def test_mixed_file_loads_valid_rows_and_stores_rejected_ones(tmp_path, db):
    rows = [sitrep_row(period_date="2024-04-01"), sitrep_row(period_date="2024-04-02", los_21plus=57, los_14plus=40),
            sitrep_row(period_date="2024-04-03", ga_beds_open=80)]
    [outcome] = ingest(db, write_csv(tmp_path / "mixed.csv", rows))
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected, outcome.rows_warned) == (
        "loaded_with_rejections", 3, 2, 1, 1)
    assert query(db, "SELECT period_date::VARCHAR FROM sitrep_daily ORDER BY 1") == [("2024-04-01",), ("2024-04-03",)]
    rejected = query(db, "SELECT file_name, source_row, column_name, rule, severity, message, raw_values "
                         "FROM rejected_rows ORDER BY source_row")
    assert rejected[0][:6] == ("mixed.csv", 3, "los_21plus", "los_21plus_le_los_14plus", "error",
                               "row 3: los_21plus (57) is more than los_14plus (40)")
    assert json.loads(rejected[0][6])["los_21plus"] == "57"
    assert rejected[1][3:5] == ("occupied_above_open", "warning")
    ledger = query(db, "SELECT file_name, status, rows_read, rows_loaded, rows_rejected, rows_warned FROM ingest_files")
    assert ledger == [("mixed.csv", "loaded_with_rejections", 3, 2, 1, 1)]
    assert outcome.summary() == "loaded    mixed.csv: 2 of 3 rows loaded, 1 rejected, 1 with warnings"


def test_loading_the_same_file_again_changes_nothing_and_says_so(tmp_path, db):
    path = write_csv(tmp_path / "day.csv", [sitrep_row()])
    ingest(db, path)
    before = snapshot(db), query(db, "SELECT * FROM ingest_files")
    copy = tmp_path / "renamed copy.csv"
    copy.write_bytes(path.read_bytes())
    [outcome] = ingest(db, copy)
    assert outcome.status == "skipped"
    assert "already loaded as file #1 (day.csv)" in outcome.message
    assert (snapshot(db), query(db, "SELECT * FROM ingest_files")) == before


def test_force_loads_again_without_double_counting(tmp_path, db):
    path = write_csv(tmp_path / "day.csv", [sitrep_row()])
    ingest(db, path)
    [outcome] = ingest(db, path, force=True)
    assert (outcome.status, outcome.rows_superseded) == ("loaded", 1)
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(1,)]


def test_later_file_supersedes_and_history_keeps_the_earlier_figures(tmp_path, db):
    ingest(db, write_csv(tmp_path / "first.csv", [sitrep_row(los_7plus=40), sitrep_row(org_code="RTR")]))
    [outcome] = ingest(db, write_csv(tmp_path / "correction.csv", [sitrep_row(los_7plus=44)]))
    assert outcome.rows_superseded == 1
    assert query(db, "SELECT org_code, los_7plus, source_file, source_row FROM sitrep_daily ORDER BY org_code") == [
        ("RCD", 44, "correction.csv", 2), ("RTR", 40, "first.csv", 3)]
    history = query(db, "SELECT f.file_name, h.los_7plus FROM sitrep_history h JOIN ingest_files f USING (file_id) "
                        "WHERE h.org_code = 'RCD' ORDER BY h.file_id")
    assert history == [("first.csv", 40), ("correction.csv", 44)]


def test_trust_level_row_and_site_rows_replace_each_other(tmp_path, db):
    ingest(db, write_csv(tmp_path / "trust.csv", [sitrep_row(org_code="RCB")]))
    ingest(db, write_csv(tmp_path / "sites.csv", [sitrep_row(org_code="RCB", site_code="RCB55"),
                                                   sitrep_row(org_code="RCB", site_code="RCBCA")]))
    assert query(db, "SELECT site_code FROM sitrep_daily ORDER BY 1") == [("RCB55",), ("RCBCA",)]
    ingest(db, write_csv(tmp_path / "one site again.csv",
                         [sitrep_row(org_code="RCB", site_code="RCB55", los_7plus=41)]))
    assert query(db, "SELECT site_code, los_7plus FROM sitrep_daily ORDER BY 1") == [("RCB55", 41), ("RCBCA", 40)]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x00\x01\x02 not a sitrep \xff\xfe", ""),
    (b"name,colour\nfoo,blue\n", "header"),
    (b"period_date,org_code,ga_beds_open\n2024-04-01,RCD,100\n", "los_7plus"),
])
def test_whole_file_rejection_leaves_the_data_exactly_as_it_was(tmp_path, db, content, message):
    ingest(db, write_csv(tmp_path / "good.csv", [sitrep_row()]))
    before = snapshot(db)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    [outcome] = ingest(db, bad)
    assert outcome.status == "rejected"
    assert message in outcome.message
    assert snapshot(db) == before
    assert query(db, "SELECT status, rows_loaded FROM ingest_files WHERE file_name = 'bad.csv'") == [("rejected", 0)]


def test_an_error_during_the_write_leaves_the_live_database_untouched(tmp_path, db, monkeypatch):
    ingest(db, write_csv(tmp_path / "good.csv", [sitrep_row()]))
    before = snapshot(db)

    def crash(*_args: object) -> None:
        raise RuntimeError("crash after the file was written to the working copy")

    monkeypatch.setattr(load, "_refresh_touched", crash)
    with pytest.raises(RuntimeError):
        list(ingest_paths([write_csv(tmp_path / "next.csv", [sitrep_row(org_code="RTR")])], db))
    assert snapshot(db) == before
    assert not list(db.parent.glob("*.writing*"))


def test_a_file_reported_as_loaded_is_saved_whatever_the_caller_does_next(tmp_path, db):
    """An outcome is yielded only after its write session is swapped in: a caller that stops at the
    first report (a closed pipe, Ctrl+C) keeps that file, and the lock is free."""
    files = [write_csv(tmp_path / f"{org}.csv", [sitrep_row(org_code=org)]) for org in ("RCD", "RTR")]
    with pytest.raises(RuntimeError):
        for outcome in ingest_paths(files, db, round_s=0, together=False):  # a round per file
            assert outcome.status == "loaded"
            raise RuntimeError("the reader of the output went away")
    assert query(db, "SELECT file_name FROM ingest_files") == [("RCD.csv",)]
    assert query(db, "SELECT org_code FROM sitrep_daily") == [("RCD",)]
    assert not list(db.parent.glob("*.writing*"))


def stored(db: Path) -> dict[str, list[tuple]]:
    """What loading files leaves, but for when it happened: rows, rejected and flagged rows, ledger, audit log."""
    return {"sitrep_daily": query(db, "SELECT * EXCLUDE (loaded_at) FROM sitrep_daily ORDER BY ALL"),
            "sitrep_history": query(db, "SELECT * FROM sitrep_history ORDER BY ALL"),
            "rejected_rows": query(db, "SELECT * FROM rejected_rows ORDER BY ALL"),
            "ingest_files": query(db, "SELECT * EXCLUDE (received_at) FROM ingest_files ORDER BY file_id"),
            "audit_log": query(db, "SELECT actor, actor_source, action, org_code, detail, entry FROM audit_log "
                                   "ORDER BY entry"),
            # what the pages read: the derived tables, their sums of doubles to 9 places (DuckDB adds them
            # up in no fixed order, so the last bits differ between any two builds)
            **{table: [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                       for row in query(db, f"SELECT * FROM {table} ORDER BY ALL")]
               for table in ("weekly_metric_parts", "spc_blocks", "spc_latest")}}


def loaded_together_and_one_by_one(tmp_path: Path, files: list[Path], caplog: pytest.LogCaptureFixture) -> bool:
    """Load ``files`` together and one by one into two databases, check both say and store the same,
    and return whether the first took the together path (or went on one by one)."""
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    one_by_one = [o.summary() for o in ingest(apart, *files, together=False)]
    with caplog.at_level(logging.INFO, logger=load.__name__):
        assert [o.summary() for o in ingest(together, *files)] == one_by_one
    assert stored(together) == stored(apart)
    return f"{len(files)} files loaded together" in caplog.text


def test_files_loaded_together_say_and_store_what_loading_them_one_by_one_does(tmp_path, caplog):
    files = [write_csv(tmp_path / "clean.csv", [sitrep_row(), sitrep_row(period_date="2024-04-02")]),
             write_csv(tmp_path / "mixed.csv", [sitrep_row(org_code="RTR"),
                                                sitrep_row(org_code="RTR", period_date="2024-04-02", los_21plus=57,
                                                           los_14plus=40),
                                                sitrep_row(org_code="RTR", period_date="2024-04-03", ga_beds_open=80)]),
             write_csv(tmp_path / "sites.csv", [sitrep_row(org_code="RCB", site_code="RCB55"),
                                                sitrep_row(org_code="RCB", site_code="RCBCA")])]
    assert loaded_together_and_one_by_one(tmp_path, files, caplog)


def history_files(folder: Path, years: int = 3) -> list[Path]:
    """A history as a national one comes, a file a year: two trusts' days, the beds occupied varying."""
    first = date(2022, 1, 3)
    days = [[sitrep_row(org_code=org, period_date=(first + timedelta(days=d)).isoformat(),
                        ga_beds_occupied=60 + (d * 7 + len(org) * 3) % 37) for org in ("RCD", "RTR")]
            for d in range(364 * years)]
    return [write_csv(folder / f"year_{year}.csv", [row for day in days[364 * year:364 * (year + 1)] for row in day])
            for year in range(years)]


def test_a_history_in_a_file_a_year_loads_together_as_one_by_one_in_rounds_would(tmp_path, caplog):
    """The national case: one call with a file a year stores and derives (weekly parts, SPC) exactly what
    loading the files one at a time, each in its own round, does."""
    files = history_files(tmp_path)
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    one_by_one = [o.summary() for o in ingest(apart, *files, together=False, round_s=0)]
    with caplog.at_level(logging.INFO, logger=load.__name__):
        assert [o.summary() for o in ingest(together, *files)] == one_by_one
    assert "3 files loaded together" in caplog.text
    assert stored(together) == stored(apart)
    assert query(together, "SELECT count(*) FROM spc_latest")[0][0] > 0  # the comparison covered SPC readings


def test_files_together_are_taken_in_batches_and_a_bad_batch_loads_one_by_one(tmp_path, monkeypatch, caplog):
    """Files are read and checked together TOGETHER_BYTES at a time; a batch holding a file that cannot be
    loaded with the others (a row that does not parse) is loaded a file at a time, losing nothing."""
    files = history_files(tmp_path, years=4)
    write_csv(files[2], [sitrep_row(period_date="04/2024")])
    monkeypatch.setattr(load, "TOGETHER_BYTES", 2 * files[0].stat().st_size)
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    with caplog.at_level(logging.INFO, logger=load.__name__):
        one_by_one = [o.summary() for o in ingest(apart, *files, together=False, round_s=0)]
        # A round per batch (round_s=0 would ask for a file a round, and load nothing together)
        assert [o.summary() for o in ingest(together, *files, round_s=1e-6)] == one_by_one
    assert caplog.text.count("2 files loaded together") == 1  # the first two; year_2 and year_3 one by one
    # a round per file one by one, and never a write session that stores nothing
    assert caplog.text.count("round of 1 files saved") == 4 + 2 and "round of 0 files" not in caplog.text
    assert stored(together) == stored(apart)


FIRST = [sitrep_row(), sitrep_row(org_code="RTR")]


@pytest.mark.parametrize("second", [
    [sitrep_row(los_7plus=44)],  # a trust-day of the first file: its figures replace the first's
    FIRST,  # the same content: skipped
    [sitrep_row(org_code="RTR", period_date="04/2024")],  # a cell that does not parse
])
def test_files_that_loading_together_could_tell_apart_are_loaded_one_by_one(tmp_path, caplog, second):
    files = [write_csv(tmp_path / "first.csv", FIRST), write_csv(tmp_path / "second.csv", second)]
    assert not loaded_together_and_one_by_one(tmp_path, files, caplog)


def test_the_sample_built_on_a_first_start_is_what_loading_its_files_one_by_one_gives(tmp_path, db, caplog):
    with caplog.at_level(logging.INFO, logger=load.__name__):
        assert load.ensure_database(db)
    assert "30 files loaded together" in caplog.text
    apart = tmp_path / "apart.duckdb"
    list(ingest_paths([load.config.SAMPLE_DIR], apart, round_s=math.inf, actor=access.first_start(), together=False))
    assert stored(db) == stored(apart)


def run_cli(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **({"FLOW_DB": str(env_db)} if env_db else {})}
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=guard_s(10), check=False)


def test_the_command_line_imports_none_of_the_export_s_modules():
    # A daily load runs `python -m pipelines ingest FILE`: the export's queries and the discharge groups would
    # only slow its start (they are imported by the export itself).
    probe = ("import sys, pipelines.__main__; print(sorted(m for m in sys.modules if m == 'pipelines.groups' "
             "or m.startswith('pipelines.queries')))")
    shown = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                           timeout=guard_s(10))
    assert shown.stdout == "[]\n"


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_cli_exit_codes_and_summary_lines(tmp_path):
    db = tmp_path / "cli.duckdb"
    good = write_csv(tmp_path / "good.csv", [sitrep_row()])
    result = run_cli("ingest", str(good), env_db=db)  # the database from $FLOW_DB
    assert (result.returncode, result.stdout) == (
        0, "loaded    good.csv: 1 of 1 rows loaded\n          read as csv (utf-8)\n")
    assert db.exists()
    result = run_cli("ingest", str(good), "--db", str(db))
    assert result.returncode == 0 and result.stdout.startswith("skipped   good.csv: already loaded")
    bad = write_csv(tmp_path / "bad.csv", [sitrep_row(period_date="2024-04-02", trust_opel=9)])
    result = run_cli("ingest", str(bad), "--db", str(db))
    assert result.returncode == 1
    assert "row 2: trust_opel (9) is not an OPEL level from 1 to 4" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_cli_folder_and_usage_errors(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "a.csv", [sitrep_row()])
    write_csv(folder / "b.csv", [sitrep_row(org_code="RTR")])
    (folder / "notes.txt").write_text("not a sitrep: ignored in folders")
    result = run_cli("ingest", str(folder), "--db", str(tmp_path / "f.duckdb"))
    assert result.returncode == 0
    summaries = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split()[1] for line in summaries] == ["a.csv:", "b.csv:"]
    missing = run_cli("ingest", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "f.duckdb"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert run_cli("ingest").returncode == 2
