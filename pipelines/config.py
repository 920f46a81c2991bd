"""Where things live. The database path is decided here and nowhere else."""
from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = REPO_ROOT / "data" / "flow.duckdb"
REFERENCE_DIR = REPO_ROOT / "reference_data"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
SAMPLE_DIR = REPO_ROOT / "sample_data" / "sitrep"
EARLIEST_PERIOD_DATE = date(2015, 1, 1)  # the daily discharge sitrep did not exist before


def earliest_period_date() -> date:
    """The first period_date the contract accepts: $FLOW_EARLIEST_DATE (YYYY-MM-DD), else 2015-01-01."""
    setting = os.environ.get("FLOW_EARLIEST_DATE")
    return date.fromisoformat(setting) if setting else EARLIEST_PERIOD_DATE


def reference_dir() -> Path:
    """The reference files (trusts, ambitions): $FLOW_REFERENCE_DIR, else reference_data/."""
    return Path(os.environ.get("FLOW_REFERENCE_DIR") or REFERENCE_DIR)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database file: the explicit argument, else $FLOW_DB, else data/flow.duckdb."""
    return Path(explicit or os.environ.get("FLOW_DB") or DEFAULT_DB)


def uk_now() -> datetime:
    """Now in UK local time, to the second: how every time stored in the database is written."""
    return datetime.now(ZoneInfo("Europe/London")).replace(tzinfo=None, microsecond=0)
