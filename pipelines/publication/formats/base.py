"""What every NHS England format declares (``pipelines.publication.formats`` lists them in one place).

A format is one module: how to recognise a file of it (``detect``, by content, never by name), how
to read it into tidy frames (``read``), how to store what was read inside the loader's transaction
(``store``), the tables it stores into (``ddl``) and, for the publications that add up, the check
that a file really is one (``check``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

import duckdb
import fastexcel
import polars as pl

from pipelines.publication.grid import Book


class Read(Protocol):
    """What the loader needs of any format's read: its kind, a reader description, issues and notes."""
    kind: str
    reader: str
    issues: pl.DataFrame
    notes: list[str]


@dataclass
class Probe:
    """What recognition may look at: the opened workbook (sheet names, top rows) or a CSV's header.
    ``once`` keeps a result several formats ask for (the acute workbook's cover is read once)."""
    book: fastexcel.ExcelReader | None
    header: list[str] | None
    _seen: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, work: Callable[[], Any]) -> Any:
        if key not in self._seen:
            self._seen[key] = work()
        return self._seen[key]


Store = Callable[[duckdb.DuckDBPyConnection, Any, int, str, datetime], dict[str, int]]


def workbook(content: bytes) -> fastexcel.ExcelReader:
    """The workbook with exact numbers and cell errors kept (``Book`` forwards ExcelReader's attributes)."""
    return cast(fastexcel.ExcelReader, Book(content))


def no_check(name: str, read: Any) -> None:
    """Formats with no add-up rule of their own (loaded by administrators only)."""


@dataclass(frozen=True)
class Format:
    kind: str  # stored as the reader's kind, e.g. "nhse_monthly_workbook"
    described: str  # how a rejection names it to the user: "the monthly workbook (sheets 'Table 2' ...)"
    detect: Callable[[Probe], bool]
    read: Callable[[bytes], Read]  # FileRejected when the file cannot be used as a whole
    store: Store | None  # None: recognised only to be rejected with a clear message (its read raises)
    ddl: str = ""  # CREATE TABLE IF NOT EXISTS ... of the tables it stores into
    check: Callable[[str, Any], None] = no_check  # FileRejected when it does not add up like a real one


# Column fragments the formats' DDL shares (tests/test_warehouse_schema.py checks that each table's
# columns are its reader's columns plus provenance).
SQL_PUBLISHED = "source_sheet VARCHAR, source_row BIGINT, source_column VARCHAR, file_id INTEGER, loaded_at TIMESTAMP"
SQL_ORG = "org_code VARCHAR, org_name VARCHAR, region VARCHAR"
SQL_AREA = "level VARCHAR, area_code VARCHAR, area_name VARCHAR, region VARCHAR"
