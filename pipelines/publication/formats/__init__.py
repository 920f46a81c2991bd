"""The one registry of NHS England formats: each format is a module of this package declaring a
``Format`` (``formats.base``: detect, read, store, DDL, check), listed once in ``FORMATS``.
Adding a format is one new module plus its tests (docs/nhs-england-formats.md).

Recognition asks each format in order and takes the first that says yes, so a format whose files
also look like a later one's comes first (the beds CSV's columns include the discharge CSV's).
"""
from __future__ import annotations

from datetime import datetime

import duckdb
import fastexcel

from pipelines.publication.formats import (
    acute_long_csv,
    acute_monthly,
    acute_timeseries,
    beds_monthly,
    community,
    drd,
    uec_winter,
)
from pipelines.publication.formats.base import Format, Probe, Read
from pipelines.publication.long_csv import csv_header

FORMATS: tuple[Format, ...] = (
    community.FORMAT, acute_monthly.FORMAT, acute_timeseries.FORMAT, uec_winter.FORMAT, drd.FORMAT,
    beds_monthly.FORMAT, acute_long_csv.FORMAT,
)
_BY_KIND = {f.kind: f for f in FORMATS}

# Every format's tables, each statement once (the three discharge formats share theirs), for
# pipelines.warehouse.schema.
DDL = "".join(dict.fromkeys(f.ddl for f in FORMATS))


def recognise(content: bytes) -> Format | None:
    """The format ``content`` is in, or None. Reads only sheet names and the top of a few sheets (or a
    CSV's first line), so it is cheap for a trust's own sitrep."""
    if content[:4] == b"PK\x03\x04":
        try:
            probe = Probe(fastexcel.read_excel(content), None)
            return next((f for f in FORMATS if f.detect(probe)), None)
        except Exception:  # damaged or not a workbook: not ours to judge here
            return None
    probe = Probe(None, csv_header(content))
    return next((f for f in FORMATS if f.detect(probe)), None)


def format_of(read: Read) -> Format:
    return _BY_KIND[read.kind]


def check_publication(name: str, read: Read) -> None:
    """FileRejected unless the file adds up like a real publication of its format: a crafted file is not stored."""
    format_of(read).check(name, read)


def store_publication(con: duckdb.DuckDBPyConnection, read: Read, file_id: int, file_name: str,
                      loaded_at: datetime) -> dict[str, int]:
    """Everything read from one publication, inside the caller's transaction; returns the counts."""
    store = format_of(read).store
    assert store is not None, f"{read.kind} is recognised only to be rejected; its read never returns"
    return store(con, read, file_id, file_name, loaded_at)
