"""Safe connections: read-only readers, and write sessions that lock, copy, write and swap.

Writes never happen in the live file. A writer takes an exclusive file lock, copies the database,
writes the copy and atomically renames it over the original, keeping the file it replaces as the
newest of a few earlier generations (``<db>.1`` newest ... ``<db>.N``). Readers open the live file
read-only and so never meet DuckDB's single-writer lock; a crash mid-write leaves the live file
untouched. What a write changes beyond its own rows (derived tables, reference data) is the
caller's job: the session does nothing else.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from pipelines import access, config
from pipelines.warehouse.integrity import ATTACHED, DatabaseDamaged, open_checked, verify
from pipelines.warehouse.schema import AMBITION_MACRO_SQL, SCHEMA_KEY, migrate

log = logging.getLogger(__name__)

_SMALL_WAL_BYTES = 8 * 2**20  # a day's load writes well under 1 MiB of log: checkpointed on one thread
_Record = TypeVar("_Record")
_CHUNK_BYTES = 2**20  # copied and checksummed a chunk at a time, while the bytes are in memory


class WriteLockTimeout(Exception):
    """Another write held the database for longer than this one would wait."""


def connect_read(db: Path, *, thorough: bool = False, kept: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the live file: never blocked by a write (see module doc).
    Raises DatabaseDamaged (with a plain message saying how to restore) when the file is not sound:
    checked as far as opening it reads, or ``thorough``ly (every block: ``verify``), as an export does.
    ``kept``: a connection to be kept open for several reads of this file (``read_cursor``), even when a
    write swaps another file in meanwhile (``integrity.open_checked``'s ``attached``)."""
    if not db.exists():
        return duckdb.connect(str(db), read_only=True)  # DuckDB's own "no such file" error, as before
    con = open_checked(db, db, read_only=True, attached=kept)
    if thorough:
        try:
            verify(con, db)
        except BaseException:
            con.close()
            raise
    # The ambition macro for this session too, so a file written before it existed still answers.
    con.execute(AMBITION_MACRO_SQL.format(temp="TEMP"))
    return con


def read_cursor(kept: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection for one read (one thread) from a ``kept`` one of ``connect_read``: it shares the file
    opened (about 100 ms to open: DuckDB reads its catalogue, and the checks) and its cached blocks."""
    cursor = kept.cursor()
    try:
        cursor.execute(f"USE {ATTACHED}; {AMBITION_MACRO_SQL.format(temp='TEMP')}")  # both are the connection's own
    except BaseException:
        cursor.close()
        raise
    return cursor


def database_version(db: Path) -> tuple[int, int] | None:
    """Changes whenever a write swaps in a new file: a cache key that follows the data."""
    try:
        stat = db.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _lock_holder(text: str) -> str:
    """Who holds the lock, from what it wrote in the lock file, for the waiting user."""
    try:
        holder = json.loads(text)
        pid, since, command = int(holder["pid"]), datetime.fromisoformat(holder["since"]), holder["command"]
    except (ValueError, KeyError, TypeError):
        return "a write that did not say who it is"
    try:
        os.kill(pid, 0)
        state = ""
    except ProcessLookupError:
        state = ", which is no longer running (a process it started still holds the lock)"
    except PermissionError:
        state = ""
    held = (config.uk_now() - since).total_seconds()
    return f"process {pid} (`{command}`) since {since:%H:%M:%S} on {since:%d/%m/%Y}, {held:,.0f} s ago{state}"


@contextmanager
def write_lock(db: Path, on_wait: Callable[[], None] | None = None,
               timeout_s: float | None = None) -> Iterator[None]:
    """Exclusive lock for writers of one database file, held across processes. Waits at most
    ``timeout_s`` (default $FLOW_LOCK_TIMEOUT, 60 s), then raises WriteLockTimeout naming the holder."""
    db.parent.mkdir(parents=True, exist_ok=True)
    timeout_s = config.lock_timeout_s() if timeout_s is None else timeout_s
    started = time.monotonic()
    with open(f"{db}.lock", "a+", encoding="utf-8") as handle:  # "a+": never wipe the holder's note
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            log.info("waiting for the write lock of %s, held by %s", db, _lock_holder(handle.read()))
            if on_wait:
                on_wait()
            while True:
                time.sleep(0.05)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() - started < timeout_s:
                        continue
                    handle.seek(0)
                    holder = _lock_holder(handle.read())
                    log.error("gave up waiting %.0f s for the write lock of %s, held by %s", timeout_s, db, holder)
                    raise WriteLockTimeout(
                        f"Another write to the database has not finished after {timeout_s:,.0f} s: it is held by "
                        f"{holder}. If that process is stuck, stop it and try again; nothing was changed.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "since": config.uk_now().isoformat(),
                                 "command": " ".join(["python", *sys.argv])[:200]}))
        handle.flush()
        log.info("write lock of %s taken after %.3f s", db, time.monotonic() - started)
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def generation_path(db: Path, number: int) -> Path:
    """Earlier versions of ``db``: 1 is the one the last write replaced."""
    return db.with_name(f"{db.name}.{number}")


def _keep_generation(db: Path, kept: int) -> None:
    """Shift <db>.1..N up by one (the oldest goes) and make the live file <db>.1, before it is replaced."""
    if kept < 1 or not db.exists():
        return
    generation_path(db, kept).unlink(missing_ok=True)
    for number in range(kept - 1, 0, -1):
        if generation_path(db, number).exists():
            os.replace(generation_path(db, number), generation_path(db, number + 1))
    try:
        os.link(db, generation_path(db, 1))  # the same bytes under a second name: no copy
    except OSError:
        shutil.copyfile(db, generation_path(db, 1))


def _discard(work: Path) -> None:
    for leftover in (work, Path(f"{work}.wal")):
        leftover.unlink(missing_ok=True)


def schema_template(folder: Path) -> Path:
    """The empty database of this schema (``SCHEMA_KEY``) in ``folder``, built once: copying it is
    four times cheaper than running the schema script on every new file. Built under a name of this
    process's own and renamed into place, so two processes building it at once each rename a whole
    file; templates of other schema versions are removed then."""
    template = folder / f".flow-schema-{SCHEMA_KEY}.duckdb"
    if template.exists():
        return template
    building = folder / f"{template.name}.{os.getpid()}.building"
    _discard(building)
    try:
        with duckdb.connect(str(building)) as con:
            migrate(con)
            con.execute("CHECKPOINT")
        os.replace(building, template)
    finally:
        _discard(building)
    for stale in folder.glob(".flow-schema-*.duckdb"):
        if stale != template:
            stale.unlink(missing_ok=True)
    return template


def _new_database(work: Path, db: Path) -> duckdb.DuckDBPyConnection:
    """A new database file at ``work``: a copy of the schema template, or (when the template cannot be
    built or read) an empty file the schema script then runs on; a template that cannot be read is
    removed, so the next new file builds it again."""
    template = None
    try:
        template = schema_template(work.parent)
        shutil.copyfile(template, work)
        return open_checked(work, db, read_only=False)
    except (OSError, duckdb.Error, DatabaseDamaged):
        log.warning("could not use the schema template in %s; running the schema script", work.parent,
                    exc_info=True)
        _discard(work)
        if template is not None:
            template.unlink(missing_ok=True)
        return duckdb.connect(str(work))


def audit_head_path(db: Path) -> Path:
    """Where a write leaves the head of the audit chain (entries, seal of the last), outside the file."""
    return db.with_name(f"{db.name}.audit-head")


def _read_beside(path: Path, parse: Callable[[dict], _Record]) -> _Record | None:
    """What a write left in ``path`` (JSON, ``parse``d); None when there is none or it cannot be read."""
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_beside(path: Path, record: dict[str, object]) -> None:
    """Replace ``path`` with ``record`` (JSON) whole: written under another name, then renamed. Only logged
    when it fails: the write it follows is done, and an older record is safe (see each caller)."""
    writing = path.with_name(f"{path.name}.writing")
    try:
        writing.write_text(json.dumps(record), encoding="utf-8")
        os.replace(writing, path)
    except OSError:
        log.warning("could not record %s", path.name, exc_info=True)


def read_audit_head(db: Path) -> tuple[int, str] | None:
    """The head the last write left; None when there is none (a file no write session has swapped in).
    Read it before opening the database: a write swaps the file in first and then moves the head on."""
    return _read_beside(audit_head_path(db), lambda head: (int(head["entries"]), str(head["hash"])))


def _write_audit_head(db: Path, head: tuple[int, str]) -> None:
    """After the swap (so a reader never sees a head newer than the file it then opens); a head left
    behind by a crash is an older one, which the file still agrees with."""
    _write_beside(audit_head_path(db), {"entries": head[0], "hash": head[1]})


def fingerprint_path(db: Path) -> Path:
    """Where a write leaves the size and checksum of the file it swapped in (``_swap_in``)."""
    return db.with_name(f"{db.name}.fingerprint")


def read_fingerprint(db: Path) -> tuple[int, int] | None:
    """(bytes, CRC-32) of the file the last write swapped in; None when there is none or it cannot be read."""
    return _read_beside(fingerprint_path(db), lambda recorded: (int(recorded["bytes"]), int(recorded["crc32"])))


def _write_fingerprint(db: Path, fingerprint: tuple[int, int]) -> None:
    """After the swap, as the audit head: a fingerprint left behind by a crash describes an older file, so
    it no longer matches and the next write reads the file in full, as it would with none."""
    _write_beside(fingerprint_path(db), {"bytes": fingerprint[0], "crc32": fingerprint[1]})


def _checksum(source: Path, copy_to: Path | None = None) -> tuple[int, int]:
    """(bytes, CRC-32) of ``source``, copying it to ``copy_to`` in the same pass: the checksum is of the
    very bytes the copy holds, read once."""
    size, crc, buffer = 0, 0, bytearray(_CHUNK_BYTES)
    view = memoryview(buffer)
    with source.open("rb") as reading, (copy_to.open("wb") if copy_to else nullcontext()) as copy:
        while count := reading.readinto(buffer):
            chunk = view[:count]
            crc = zlib.crc32(chunk, crc)
            size += count
            if copy:
                copy.write(chunk)
    return size, crc


def _prepare(con: duckdb.DuckDBPyConnection, db: Path, existed: bool) -> None:
    """Bring a working copy to this schema (sealing a file's audit rows from before the seals) and check
    the audit chain of an ``existed`` file against the head the last write left (a new file starts one)."""
    if migrate(con):
        access.seal_unsealed(con)
    if existed:
        access.note_broken_chain(con, read_audit_head(db))


def _swap_in(con: duckdb.DuckDBPyConnection, work: Path, db: Path, set_aside: Path | None = None) -> None:
    """Checkpoint and close the working copy, keep the live file as generation 1 (or move a damaged one
    to ``set_aside``), rename the copy over it, then record the new head of the audit chain and the new
    file's fingerprint (``read_fingerprint``)."""
    wal = Path(f"{work}.wal")
    with one_thread(con, not wal.exists() or wal.stat().st_size <= _SMALL_WAL_BYTES):
        con.execute("CHECKPOINT")
    head = access.last_seal(con)
    con.close()
    fingerprint = _checksum(work)  # of the file as DuckDB wrote it, from a copy checked in full
    if set_aside:
        os.replace(db, set_aside)
    else:
        _keep_generation(db, config.generations_kept())
    os.replace(work, db)
    _write_audit_head(db, head)
    _write_fingerprint(db, fingerprint)


def _open_work_copy(db: Path, work: Path, source: Path,
                    written: tuple[int, int] | None = None) -> duckdb.DuckDBPyConnection:
    """Copy ``source`` to ``work`` and open it, checked block by block (``verify``): a damaged file is
    refused before anything is written, so it never becomes a generation. A copy whose bytes are exactly
    those a write session swapped in (``written``, its fingerprint: size and CRC-32, computed in the same
    pass as the copy) is sound as that session left it, so it is not read again: any byte changed since
    (damage on disk, another tool, a copy cut short) changes the checksum, and the full read runs."""
    _discard(work)
    copied = _checksum(source, copy_to=work)
    con = open_checked(work, db if source == db else source, read_only=False)
    try:
        if copied != written:
            verify(con, db if source == db else source)
    except BaseException:
        con.close()
        _discard(work)
        raise
    return con


@contextmanager
def open_for_write(db: Path, on_wait: Callable[[], None] | None = None,
                   timeout_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Lock, copy, check, write (the block), swap: the copy replaces the live file only if the block succeeds.

    The copy is read in full first (``verify``), unless its bytes are those the last write swapped in
    (``_open_work_copy``): a damaged live file raises DatabaseDamaged and nothing is written or rotated.
    A new file starts as a copy of the schema template (``schema_template``); a new or older file is
    brought to the current schema first (pipelines.warehouse.schema.migrate).
    """
    with write_lock(db, on_wait, timeout_s):
        started = time.perf_counter()
        work = db.with_name(f"{db.name}.writing")  # only ever touched under the lock
        _discard(work)  # from a writer that was killed
        existed = db.exists()
        con = _open_work_copy(db, work, db, read_fingerprint(db)) if existed else _new_database(work, db)
        copied = time.perf_counter()
        try:
            _prepare(con, db, existed)
            yield con
            written = time.perf_counter()
            _swap_in(con, work, db)
        except BaseException:
            con.close()
            _discard(work)
            log.info("write session on %s abandoned after %.3f s; the live file is unchanged", db,
                     time.perf_counter() - started)
            raise
        log.info("write session on %s: copy and check %.3f s, write %.3f s, checkpoint and swap %.3f s", db,
                 copied - started, written - copied, time.perf_counter() - written)


@contextmanager
def one_thread(con: duckdb.DuckDBPyConnection, small: bool = True) -> Iterator[None]:
    """Run the block on one DuckDB thread when the work is ``small`` (a day's file, a few hundred rows):
    DuckDB's hand-offs between threads then cost more than they save, and far more on a busy machine
    (benchmarks/daily_load.py measures it). Larger work keeps every thread. An exception leaves the
    setting as it is: it abandons the write session, and restoring could hide it behind a second error."""
    if not small:
        yield
        return
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")
    yield
    con.execute(f"SET threads = {int(threads)}")


@contextmanager
def threads_by_size(con: duckdb.DuckDBPyConnection) -> Iterator[Callable[[bool], None]]:
    """``one_thread`` for a round of files: ``fit(small)`` before each file sets one thread for a small one
    and every thread for a large one, only when that differs from the setting it has (each change
    resizes DuckDB's thread pool: 30 small files paid for 60 of them). Every thread again at the end."""
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    current = threads

    def fit(small: bool) -> None:
        nonlocal current
        if (wanted := 1 if small else threads) != current:
            con.execute(f"SET threads = {wanted}")
            current = wanted

    yield fit
    fit(False)


@dataclass(frozen=True)
class Generation:
    number: int  # 0: the live file
    path: Path
    modified: datetime
    size_bytes: int
    problem: str | None  # why it cannot be used, or None
    files_loaded: int | None
    latest_day: str | None


def describe(db: Path, number: int) -> Generation:
    path = db if number == 0 else generation_path(db, number)
    stat = path.stat()
    problem, files, latest = None, None, None
    try:
        with open_checked(path, db, read_only=True) as con:
            verify(con, db)  # every block, as a write session checks it
            files = con.execute("SELECT count(*) FROM ingest_files WHERE status <> 'rejected'").fetchall()[0][0]
            day = con.execute("SELECT max(period_date) FROM sitrep_daily").fetchall()[0][0]
            latest = f"{day:%d/%m/%Y}" if day else None
    except DatabaseDamaged as damaged:
        problem = damaged.reason
    except duckdb.Error as error:
        problem = f"not a dashboard database ({type(error).__name__})"
    return Generation(number, path, datetime.fromtimestamp(stat.st_mtime), stat.st_size, problem, files, latest)


def generations(db: Path) -> list[Generation]:
    """The live file (number 0, if present) and every earlier generation kept, newest first."""
    numbers = [0] if db.exists() else []
    numbers += sorted(int(p.name.rsplit(".", 1)[1]) for p in db.parent.glob(f"{db.name}.*")
                      if p.name.rsplit(".", 1)[1].isdigit())
    return [describe(db, n) for n in numbers]


def _live_audit_rows(db: Path) -> list[tuple] | None:
    """The live file's audit rows, oldest first; None when the file cannot be read (damaged)."""
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return access.audit_rows(con)
    except duckdb.Error:
        log.warning("could not read the audit log of %s", db, exc_info=True)
        return None


def restore(db: Path, number: int, actor: access.Identity, timeout_s: float | None = None) -> Path | None:
    """Put generation ``number`` back as the live file, under the write lock. A sound live file becomes
    generation 1 as on every write (so a restore can be undone); a damaged one is kept aside as
    ``<db>.damaged-<time>``, whose path is returned. The audit log is never taken back: the live file's
    rows the generation lacks are carried into it, and the restore itself is recorded (by ``actor``)."""
    source = generation_path(db, number)
    chosen = describe(db, number)
    if chosen.problem:
        raise DatabaseDamaged(source, chosen.problem)
    with write_lock(db, timeout_s=timeout_s):
        work = db.with_name(f"{db.name}.writing")
        live_damaged = db.exists() and describe(db, 0).problem is not None
        newer = _live_audit_rows(db) if db.exists() else []
        con = _open_work_copy(db, work, source)
        try:
            _prepare(con, db, existed=False)  # the chain is sealed anew below: no head to compare with
            carried = access.carry_forward(con, newer or [])
            set_aside = db.with_name(f"{db.name}.damaged-{config.uk_now():%Y%m%d-%H%M%S}") if live_damaged else None
            detail = (f"generation {number} (saved {chosen.modified:%d/%m/%Y %H:%M:%S}) put back; "
                      f"{carried} later audit entr{'ies' if carried != 1 else 'y'} carried forward")
            if set_aside:
                detail += f"; the damaged live file was kept as {set_aside.name}"
            if newer is None:
                detail += " (its audit log could not be read)"
            access.record(con, actor, "database_restored", None, detail)
            _swap_in(con, work, db, set_aside)
        except BaseException:
            con.close()
            _discard(work)
            raise
    log.info("restored %s from generation %d", db, number)
    return set_aside
