"""The DuckDB warehouse: every table's DDL and the views (schema), reference data (reference), the
weekly parts refresh (derived), and safe connections and write sessions (session)."""
from pipelines.warehouse.session import (
    DatabaseDamaged,
    WriteLockTimeout,
    connect_read,
    database_version,
    open_for_write,
    write_lock,
)

__all__ = ["DatabaseDamaged", "WriteLockTimeout", "connect_read", "database_version", "open_for_write", "write_lock"]
