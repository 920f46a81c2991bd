"""Several loads and many readers at once, and loads killed part-way (issue 7, must haves 3 and 4).

The design under test (docs/operations.md, "Writing while people read"): a load takes an exclusive lock on
``<db>.lock``, writes a private copy ``<db>.writing`` and renames it over the live file; readers
open the live file read-only. So readers never wait or fail, every reader sees whole files only,
and a killed load leaves the live file exactly as it was.

Writers and readers are separate processes, as in production (the CLI, dashboard sessions, an
analyst's R session). Every loop is bounded by a count or ends on an event, with a hang guard that
scales with the machine's slowness (tests/patience.py) as the last resort.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from helpers import REFERENCE_FIXTURES, VALID_ROW, query, sitrep_row, write_csv
from patience import guard_s

from pipelines.ingest import upload
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import ingest_paths
from pipelines.warehouse import write_lock

ROOT = Path(__file__).resolve().parents[1]
GUARD_S = guard_s(20)  # a hang guard for any one process or wait; a busy machine never reaches it
TRUSTS = ("RCB", "RCD", "RTR", "RR7", "RXP", "RWA", "RJL")

# A reader process: asks what the pages ask, over and over, until told to stop, and prints
# (sitrep_daily rows, ledger files, sum of the ledger's rows_loaded) for every distinct state seen.
READER = """
import json, sys, time
from datetime import date
from pathlib import Path
from pipelines.queries import quality
from pipelines.queries import weekly, weeks
from pipelines.warehouse import connect_read

db, stop, guard = Path(sys.argv[1]), Path(sys.argv[2]), time.monotonic() + float(sys.argv[3])
seen, rounds = set(), 0
while not stop.exists() and time.monotonic() < guard:
    with connect_read(db) as con:  # one connection: one version of the file, whatever a writer does
        daily = con.execute("SELECT count(*) FROM sitrep_daily").fetchall()[0][0]
        files, loaded = con.execute("SELECT count(*), coalesce(sum(rows_loaded), 0) FROM ingest_files").fetchall()[0]
        week = weeks.latest_complete_week(con)
        if week is not None:
            weekly.weekly_position(con, week)
        first, last = weeks.date_extent(con)
        quality.completeness(con, first, last)
        quality.ledger(con)
        quality.rejected_rows(con)
    seen.add((daily, files, int(loaded)))
    rounds += 1
    time.sleep(0.01)  # as a busy dashboard would, but leaving the writers some CPU
print(json.dumps({"rounds": rounds, "seen": sorted(seen)}))
"""


def days_of_rows(org_code: str, first: date, days: int, site_code: str = "") -> list[dict[str, object]]:
    return [sitrep_row(org_code=org_code, site_code=site_code, period_date=(first + timedelta(days=i)).isoformat())
            for i in range(days)]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines", "ingest", *args]


def start(command: list[str], **options) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # waits here are for other test loads on a busy machine, never a hung writer
                            env={**os.environ, "PYTHONPATH": str(ROOT), "FLOW_LOCK_TIMEOUT": str(GUARD_S)},
                            **options)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=GUARD_S)
    return process.returncode, out, err


def lock_is_free(db: Path) -> bool:
    with open(f"{db}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def ledger_matches_data(db: Path) -> None:
    """Every file in the ledger has exactly its loaded rows in history, and nothing else is there."""
    mismatches = query(db, """
        SELECT f.file_id, f.rows_loaded, count(h.file_id) FROM ingest_files f
        LEFT JOIN sitrep_history h USING (file_id) GROUP BY ALL HAVING count(h.file_id) <> f.rows_loaded""")
    assert mismatches == []
    assert query(db, "SELECT count(*) FROM sitrep_history WHERE file_id NOT IN (SELECT file_id FROM ingest_files)") \
        == [(0,)]


@pytest.fixture
def seeded(db: Path, tmp_path: Path) -> Path:
    """A live database with one file (7 rows) in it, as the dashboard would have."""
    list(ingest_paths([write_csv(tmp_path / "seed.csv", days_of_rows("RAE", date(2023, 1, 1), 7))], db))
    return db


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_parallel_loads_and_readers_see_no_error_and_whole_files_only(seeded, tmp_path):
    sizes = [300, 200, 100]  # three CLI loads of different trusts, so no figure replaces another
    files = [write_csv(tmp_path / f"load_{i}.csv", days_of_rows(TRUSTS[i], date(2023, 2, 1), n))
             for i, n in enumerate(sizes)]
    stop = tmp_path / "stop"
    readers = [start([sys.executable, "-c", READER, str(seeded), str(stop), str(GUARD_S)]) for _ in range(2)]
    writers = [start(cli(str(path), "--db", str(seeded))) for path in files]
    results = [finish(w) for w in writers]
    stop.touch()
    reads = [finish(r) for r in readers]

    for code, out, err in results:
        assert code == 0 and "Traceback" not in err, err
        assert "rows loaded" in out
    for code, _out, err in reads:
        assert code == 0 and err.strip() == "", err
    seen = {tuple(state) for _, out, _ in reads for state in json.loads(out)["seen"]}
    assert all(json.loads(out)["rounds"] > 0 for _, out, _ in reads)
    # Every state a reader saw is the seed plus some whole files, with a ledger that matches it.
    whole = {7 + sum(s for s, picked in zip(sizes, mask, strict=True) if picked) for mask in
             [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]}
    assert {daily for daily, _, _ in seen} <= whole
    assert all(daily == loaded for daily, _, loaded in seen)
    assert query(seeded, "SELECT count(*) FROM sitrep_daily") == [(7 + 600,)]
    assert query(seeded, "SELECT count(*) FROM ingest_files") == [(4,)]
    ledger_matches_data(seeded)
    assert lock_is_free(seeded) and not list(tmp_path.glob("*.writing*"))


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_browser_upload_and_cli_load_at_the_same_time_both_complete(seeded, tmp_path):
    from_cli = write_csv(tmp_path / "from_cli.csv", days_of_rows("RCD", date(2023, 3, 1), 50))
    uploaded = write_csv(tmp_path / "uploaded.csv", days_of_rows("RTR", date(2023, 3, 1), 40)).read_bytes()
    with write_lock(seeded):  # a third load is writing: both must wait for it, neither may fail
        process = start(cli(str(from_cli), "--db", str(seeded)))
        assert process.stderr.readline().startswith("Loading 1 file")
        assert process.stderr.readline().strip() == "waiting for another load to finish..."
        events = upload.load_uploads([("uploaded.csv", uploaded)], seeded)
        assert next(events) == upload.Waiting()
    outcomes = [e for e in events if isinstance(e, FileOutcome)]
    code, out, err = finish(process)
    assert code == 0, err
    assert out.startswith("loaded    from_cli.csv: 50 of 50 rows loaded\n")
    assert [o.summary() for o in outcomes] == ["loaded    uploaded.csv: 40 of 40 rows loaded"]
    assert query(seeded, "SELECT org_code, count(*) FROM sitrep_daily GROUP BY 1 ORDER BY 1") == [
        ("RAE", 7), ("RCD", 50), ("RTR", 40)]
    assert query(seeded, "SELECT file_path FROM ingest_files WHERE file_name = 'uploaded.csv'") == [
        ("upload:uploaded.csv",)]
    ledger_matches_data(seeded)


# ---- crash safety ----

BIG_ROWS = 50_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50,000 valid trust-level rows: each of 13 trusts for 3,847 days from 01/01/2015, skipping 2023 (the
    other tests' days), the first 50,000. Trust-level, because site codes must be real sites (sites.csv)."""
    trusts = pl.read_csv(REFERENCE_FIXTURES / "trusts.csv")["org_code"]
    days = pl.date_range(date(2015, 1, 1), date(2015, 1, 1) + timedelta(days=3846 + 365), eager=True)
    days = days.filter(days.dt.year() != 2023)
    frame = (pl.DataFrame({"period_date": days}).join(pl.DataFrame({"org_code": trusts}), how="cross").head(BIG_ROWS)
             .with_columns(site_code=pl.lit(None, pl.String),
                           **{k: pl.lit(v) for k, v in VALID_ROW.items()
                              if k not in ("org_code", "site_code", "period_date")}))
    path = tmp_path_factory.mktemp("big") / "national.csv"
    frame.select(list(VALID_ROW)).write_csv(path)
    return path


# Runs an ingest that stops for good right after ``module:function`` returns, so a SIGKILL lands at
# a known point: the parent waits for the marker file, then kills.
STALL_AFTER = """
import importlib, sys, time
from pathlib import Path
from pipelines.ingest.load import ingest_paths

module_name, name = sys.argv[1].split(":")
module = importlib.import_module(module_name)
original = getattr(module, name)
def run_then_stall(*args, **kwargs):
    original(*args, **kwargs)
    Path(sys.argv[4]).touch()
    time.sleep(600)
setattr(module, name, run_then_stall)
for outcome in ingest_paths([Path(sys.argv[2])], Path(sys.argv[3])):
    print(outcome.summary())
"""


def wait_for(path: Path, process: subprocess.Popen) -> None:
    guard = time.monotonic() + GUARD_S
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < guard, f"{path} never appeared (a hang guard)"
        time.sleep(0.005)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=GUARD_S)
    assert process.returncode == -signal.SIGKILL


def assert_none_of_it_then_reload(db: Path, big_file: Path) -> None:
    """After a killed load: the live file exactly as before (none of the big file), the ledger
    consistent, the lock free; then running the load again completes it, with exact counts."""
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(7,)]
    assert query(db, "SELECT file_name FROM ingest_files") == [("seed.csv",)]
    ledger_matches_data(db)
    assert lock_is_free(db)
    assert Path(f"{db}.writing").exists()  # the killed load's half-written copy: never read by anyone

    [outcome] = ingest_paths([big_file], db)  # the same code as the CLI; Great Expectations is warm here
    assert outcome.summary() == "loaded    national.csv: 50,000 of 50,000 rows loaded"
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(7 + BIG_ROWS,)]
    assert query(db, "SELECT file_name, rows_loaded FROM ingest_files ORDER BY file_id") == [
        ("seed.csv", 7), ("national.csv", BIG_ROWS)]
    ledger_matches_data(db)
    assert not list(db.parent.glob("*.writing*"))  # cleared away by the next load


@pytest.mark.parametrize("stop_after", [
    "pipelines.ingest.load:_store_rows",  # inside the file's transaction: its rows are in the copy, not committed
    "pipelines.ingest.load:_refresh_touched",  # the file committed in the copy; not yet swapped in
])
@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_a_load_killed_part_way_leaves_none_of_the_file(seeded, big_file, tmp_path, stop_after):
    marker = tmp_path / "reached"
    process = start([sys.executable, "-c", STALL_AFTER, stop_after, str(big_file), str(seeded), str(marker)])
    wait_for(marker, process)
    assert query(seeded, "SELECT count(*) FROM sitrep_daily") == [(7,)]  # readers meanwhile: the old data
    kill(process)
    assert_none_of_it_then_reload(seeded, big_file)


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_the_cli_killed_as_it_starts_writing_leaves_none_of_the_file(seeded, big_file):
    """The CLI as users run it, killed the moment its working copy appears."""
    process = start(cli(str(big_file), "--db", str(seeded)))
    wait_for(Path(f"{seeded}.writing"), process)
    kill(process)
    assert_none_of_it_then_reload(seeded, big_file)

