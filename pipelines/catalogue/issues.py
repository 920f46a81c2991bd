"""What every reader and check reports about an input file, whatever its source: a per-cell issue
frame, and the exception for a file that cannot be used as a whole. Shared by the trust sitrep reader,
the contract and NHS England's publication readers."""
from __future__ import annotations

import polars as pl

ISSUE_SCHEMA = pl.Schema({"source_row": pl.Int64, "column_name": pl.String, "rule": pl.String,
                          "severity": pl.String, "message": pl.String})


class FileRejected(Exception):
    """The file cannot be used as a whole; str(exc) is a plain-English message naming the problem."""
