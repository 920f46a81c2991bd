"""NHS England's figures as they stood on a given day: a revised publication replaces its periods'
figures, and the ones it replaced stay on record (``<table>_superseded``, pipelines.publication.formats.discharge)."""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.publication.formats.discharge import TABLES

# The publication tables whose earlier versions are kept (nhse_daily keeps every file's rows already).
REVISED_TABLES = tuple(TABLES)


def as_published_on(con: duckdb.DuckDBPyConnection, table: str, day: date) -> pl.DataFrame:
    """The rows of ``table`` as they were at the end of ``day`` (by when each file was loaded): current rows
    loaded by then, and rows replaced later by a revision but current then."""
    if table not in REVISED_TABLES:
        raise ValueError(f"{table} keeps no earlier versions; one of {', '.join(REVISED_TABLES)}")
    end = day + timedelta(days=1)
    return con.sql(f"""
        SELECT * FROM {table} WHERE loaded_at < $1
        UNION ALL BY NAME
        SELECT * EXCLUDE (superseded_by, superseded_at) FROM {table}_superseded
        WHERE loaded_at < $1 AND superseded_at >= $1""", params=[end]).pl()
