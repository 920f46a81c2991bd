"""The DuckDB warehouse: every table's DDL and the views (schema), reference data (reference), the
weekly parts refresh (derived), whether a file is sound (integrity), and safe connections and write
sessions (session)."""
from pipelines.warehouse.integrity import DatabaseDamaged
from pipelines.warehouse.session import (
    WriteLockTimeout,
    connect_read,
    database_version,
    open_for_write,
    read_cursor,
    write_lock,
)

__all__ = ["DatabaseDamaged", "WriteLockTimeout", "connect_read", "database_version", "open_for_write", "read_cursor",
           "write_lock"]
