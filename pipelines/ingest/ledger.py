"""The ingest ledger (``ingest_files``): one row per file received, the provenance of every row it brings.

A file's outcome (``FileOutcome``) is what its ledger row records and what the command line and the upload
page show. A file whose content was loaded before (the same content hash) is found here (``earlier_load``)
so ``pipelines.ingest.load`` skips the rows that earlier load accepted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from pipelines import access


@dataclass
class FileOutcome:
    """What happened to one file: what the CLI prints and the upload page shows."""
    file_name: str
    status: str  # loaded | loaded_with_rejections | rejected | skipped
    message: str = ""
    file_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    rows_superseded: int = 0
    issues: pl.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    reader: str | None = None  # which reader recognised the file, e.g. "csv (utf-8 with BOM)"
    internal_error: bool = False  # rejected because of a bug, not because of the file: the run failed
    rows_skipped: int = 0  # rows an earlier load of the same content accepted: not loaded again

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "skipped")

    def summary(self) -> str:
        """The command line's line: the outcome in a fixed-width column, then ``description``."""
        word = self.status if self.status in ("skipped", "rejected") else "loaded"
        return f"{word:<9} {self.description()}"

    def description(self) -> str:
        """The file and what became of its rows, without the outcome word (a page shows that as a heading)."""
        if self.status == "skipped":
            return f"{self.file_name}: {self.message}"
        if self.status == "rejected":  # reader messages already start with the file name
            return self.message if self.message.startswith(self.file_name) else f"{self.file_name}: {self.message}"
        parts = [f"{self.rows_loaded:,} of {self.rows_read:,} rows loaded"]
        if self.rows_skipped:
            parts.append(f"{self.rows_skipped:,} already loaded skipped")
        if self.rows_rejected:
            parts.append(f"{self.rows_rejected:,} rejected")
        if self.rows_warned:
            parts.append(f"{self.rows_warned:,} with warnings")
        if self.rows_superseded:
            parts.append(f"{self.rows_superseded:,} earlier figures replaced")
        return f"{self.file_name}: {', '.join(parts)}"


@dataclass(frozen=True)
class EarlierLoad:
    """Earlier loads of the same content: the first of them, and the source rows they accepted."""
    file_id: int
    file_name: str
    received_at: datetime
    everything: bool  # nothing of the content was rejected then: the whole file is loaded
    rows: frozenset[int]

    def said(self) -> str:
        return f"already loaded as file #{self.file_id} ({self.file_name}) on {self.received_at:%d/%m/%Y %H:%M}"


def earlier_load(con: duckdb.DuckDBPyConnection, content_hash: str) -> EarlierLoad | None:
    """The loads of this content that were not rejected outright, or None when there are none."""
    earlier = con.execute(
        "SELECT list(file_id ORDER BY file_id), list(file_name ORDER BY file_id), min(received_at), "
        "bool_and(status = 'loaded') FROM ingest_files WHERE content_hash = ? AND status <> 'rejected'",
        [content_hash]).fetchall()[0]
    if not earlier[0]:
        return None
    rows = con.execute("SELECT DISTINCT source_row FROM sitrep_history WHERE file_id IN (SELECT unnest(?))",
                       [earlier[0]]).fetchall()
    return EarlierLoad(earlier[0][0], earlier[1][0], earlier[2], bool(earlier[3]), frozenset(r[0] for r in rows))


def open_entry(con: duckdb.DuckDBPyConnection, outcome: FileOutcome, path: str, content: bytes,
               content_hash: str, received_at: datetime) -> None:
    """The file's row in ingest_files (its id is the provenance of every row it brings)."""
    open_entries(con, [(outcome, path, content, content_hash, received_at)])


def open_entries(con: duckdb.DuckDBPyConnection,
                 files: Sequence[tuple[FileOutcome, str, bytes, str, datetime]]) -> None:
    """``open_entry`` of each (outcome, path, content, content hash, received at) in turn, in one statement:
    the files' ids follow one another."""
    first = con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files").fetchall()[0][0]
    values: list[object] = []
    for file_id, (outcome, path, content, content_hash, received_at) in enumerate(files, start=first):
        outcome.file_id = file_id
        values += [file_id, outcome.file_name, path, content_hash, len(content), received_at]
    con.execute("INSERT INTO ingest_files VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, NULL, 'rejected', 0, 0, 0, 0, 0, NULL)"] * len(files)), values)


def close_entries(con: duckdb.DuckDBPyConnection, outcomes: Sequence[FileOutcome]) -> None:
    """Each file's row in ingest_files filled in with its outcome (and its reader), in one statement."""
    values = [value for outcome in outcomes for value in (
        outcome.file_id, outcome.reader, outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected,
        outcome.rows_warned, outcome.rows_superseded, outcome.message or None)]
    con.execute(f"""UPDATE ingest_files f SET reader = v.reader, status = v.status, rows_read = v.rows_read,
                    rows_loaded = v.rows_loaded, rows_rejected = v.rows_rejected, rows_warned = v.rows_warned,
                    rows_superseded = v.rows_superseded, message = v.message
                    FROM (VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?, ?)'] * len(outcomes))})
                      v(file_id, reader, status, rows_read, rows_loaded, rows_rejected, rows_warned, rows_superseded,
                        message)
                    WHERE f.file_id = v.file_id""", values)


def skipped_outcome(con: duckdb.DuckDBPyConnection, name: str, earlier: EarlierLoad, actor: access.Identity,
                    rows: int = 0) -> FileOutcome:
    """A file none of whose rows is new: nothing is stored but the audit row saying it came."""
    what = f"all {rows:,} rows {earlier.said()}" if rows else earlier.said()
    skipped = FileOutcome(name, "skipped", f"{what}; nothing changed", file_id=earlier.file_id, rows_skipped=rows)
    access.record(con, actor, "file_received", None, " ".join(skipped.summary().split()))
    return skipped


def record_failure(con: duckdb.DuckDBPyConnection, outcome: FileOutcome, path: str, content: bytes,
                   content_hash: str, received_at: datetime, error: Exception) -> FileOutcome:
    """A rejected ledger entry for a file whose load failed unexpectedly (nothing else of it is kept)."""
    outcome = FileOutcome(outcome.file_name, "rejected", f"could not be loaded because of an internal error "
                                                         f"({type(error).__name__}); nothing from it was loaded. "
                                                         "The details are in the log.", internal_error=True)
    con.execute("BEGIN TRANSACTION")
    open_entry(con, outcome, path, content, content_hash, received_at)
    close_entries(con, [outcome])
    con.execute("COMMIT")
    return outcome
