"""NHS England's figures as they stood on a given day: a revised publication replaces its periods'
figures, and the ones it replaced stay on record (``<table>_superseded``, pipelines.publication.formats.discharge)."""
from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines.publication.formats.discharge import DATED_BY_LOAD, TABLES

# The publication tables whose earlier versions are kept (nhse_daily keeps every file's rows already).
REVISED_TABLES = tuple(TABLES)
__all__ = ["DATED_BY_LOAD", "REVISED_TABLES", "as_published_on", "published_source"]


def as_published_on(con: duckdb.DuckDBPyConnection, table: str, day: date) -> pl.DataFrame:
    """The rows of ``table`` as NHS England had published them by the end of ``day``, by each file's own date
    (``nhse_publication_dates``: its revised or published date, else the day it was loaded): the rows of the
    files dated by then, less those a file dated by then replaced."""
    return con.sql(f"SELECT * FROM {published_source(table, day)}").pl()


def published_source(table: str, day: date | None) -> str:
    """What a query reads ``table`` from: the current rows (``day`` None), or the table as published on ``day``."""
    if table not in REVISED_TABLES:
        raise ValueError(f"{table} keeps no earlier versions; one of {', '.join(REVISED_TABLES)}")
    return table if day is None else f"{table}_as_published(DATE '{day.isoformat()}')"
