"""Whether a database file is sound: a file cut short, a block failing DuckDB's checksum or a file that is not
DuckDB at all is ``DatabaseDamaged``, with a plain message saying how to put an earlier copy back.

Every connection the warehouse opens goes through ``open_checked`` (pipelines.warehouse.session); a write
session and an export read every block first (``verify``; a write session skips it only for the very bytes
the last write left, pipelines.warehouse.session._open_work_copy), and the data quality page does the same
(``read_everything``) so damage shows as a message, not a stack trace.
"""
from __future__ import annotations

import logging
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

_HEADERS_BYTES = 3 * 4096  # DuckDB's file header and two database headers, before the first block


class DatabaseDamaged(Exception):
    """The database file cannot be read as DuckDB. ``plain`` is the message for people (no paths)."""

    def __init__(self, db: Path, reason: str) -> None:
        self.db, self.reason = db, reason
        self.plain = (f"The database {db.name} is damaged ({reason}), so it cannot be read. Nothing was changed. "
                      "Earlier copies are kept: list them with `python -m pipelines restore --list` and put the "
                      "newest good one back with `python -m pipelines restore`.")
        super().__init__(self.plain)


def _check(con: duckdb.DuckDBPyConnection, db: Path, size: int) -> None:
    """A file DuckDB opened can still be cut short: it is whole blocks after the headers, its ledger readable."""
    block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    if size < _HEADERS_BYTES or (size - _HEADERS_BYTES) % block_size:
        raise DatabaseDamaged(db, f"the file is cut short: {size:,} bytes is not a whole number of blocks")
    con.execute("SELECT count(*) FROM ingest_files").fetchall()


def is_damage(error: duckdb.Error) -> bool:
    """Whether a DuckDB error says the file itself is bad (a block failing its checksum, a block missing)
    rather than the query or the machine (memory, an interrupt)."""
    if isinstance(error, duckdb.OutOfMemoryException | duckdb.InterruptException | duckdb.CatalogException):
        return False
    return isinstance(error, duckdb.IOException | duckdb.SerializationException | duckdb.InternalException) \
        or "corrupt" in str(error).lower()


def read_everything(con: duckdb.DuckDBPyConnection) -> None:
    """Read every block the tables use, so DuckDB checks each one against its stored checksum: every
    column of every table in full, and one key of every primary key (DuckDB loads an index's blocks
    only when it is used). Raises DuckDB's own error at the first bad block."""
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND NOT temporary ORDER BY table_name").fetchall()
    for (table,) in tables:
        con.execute(f'SELECT count(*), max(hash(COLUMNS(*))) FROM "{table}"').fetchall()
    keys = con.execute("SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                       "WHERE database_name = current_database() AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
                       ).fetchall()
    for table, columns in keys:
        named = ", ".join(f'"{c}"' for c in columns)
        first = con.execute(f'SELECT {named} FROM "{table}" LIMIT 1').fetchall()
        if first:
            matching = " AND ".join(f'"{c}" = ?' for c in columns)
            con.execute(f'SELECT count(*) FROM "{table}" WHERE {matching}', list(first[0])).fetchall()


def verify(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """``read_everything``; DatabaseDamaged (the plain message) when a block of ``db`` is bad."""
    try:
        read_everything(con)
    except duckdb.Error as error:
        if not is_damage(error):
            raise
        log.warning("damaged database %s", db, exc_info=True)
        raise DatabaseDamaged(db, "part of it cannot be read: a block of the file fails its check") from error


ATTACHED = "flow"  # the catalogue name of a file opened with ``attached`` (open_checked)


def _attach(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {ATTACHED} (READ_ONLY); USE {ATTACHED}")
    except BaseException:
        con.close()
        raise
    return con


def open_checked(path: Path, db: Path, *, read_only: bool, attached: bool = False) -> duckdb.DuckDBPyConnection:
    """Connect to ``path`` (the live file ``db`` or its working copy); DatabaseDamaged if it is not sound.
    ``attached`` (read-only): ATTACHed to a connection in memory of its own rather than opened by its path, so
    the connection may be kept open across a swap: DuckDB hands every ``connect`` of a path the database already
    open at that path in the process, which would then be the older file."""
    size = path.stat().st_size
    if size == 0:
        raise DatabaseDamaged(db, "the file is empty")
    try:
        con = _attach(path) if attached else duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as error:
        log.warning("cannot open %s", path, exc_info=True)
        raise DatabaseDamaged(db, "it is not a readable DuckDB file" if "not a valid DuckDB" in str(error)
                              else "part of it cannot be read") from error
    try:
        _check(con, db, size)
    except duckdb.CatalogException:
        pass  # no ledger yet: a database created by an analyst's tool, or from before the ledger
    except (duckdb.Error, DatabaseDamaged) as error:
        con.close()
        log.warning("damaged database %s", path, exc_info=True)
        raise error if isinstance(error, DatabaseDamaged) else DatabaseDamaged(db, "part of it cannot be read") \
            from error
    return con
