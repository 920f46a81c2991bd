"""Where things live and how the pipelines are set up: every environment variable is read here and
nowhere else, each by a function below that says its name and default (docs/settings.md lists them
all, with the dashboard's .streamlit/config.toml settings). Command-line flags override a setting
by passing their value down explicitly (``db_path(args.db)``, ``ingest_paths(..., engine=...)``)."""
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
CONTRACT_ENGINES = ("polars", "ge")  # the data contract's engines (pipelines.ingest.contract), the default first


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


def uk_today() -> date:
    """Today's date in the UK: what "not in the future" means for a sitrep, wherever the server runs."""
    return uk_now().date()


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"${name} must be a number, not {value!r}") from None


def lock_timeout_s() -> float:
    """How long a write waits for another write to finish: $FLOW_LOCK_TIMEOUT seconds, default 60."""
    return _env_number("FLOW_LOCK_TIMEOUT", 60.0)


def generations_kept() -> int:
    """How many earlier versions of the database each write keeps: $FLOW_GENERATIONS, default 3."""
    return max(int(_env_number("FLOW_GENERATIONS", 3)), 0)


def ingest_round_s() -> float:
    """How long an ingest loads files before swapping them in and reporting them: $FLOW_ROUND_S, default 5."""
    return _env_number("FLOW_ROUND_S", 5.0)


def contract_engine() -> str:
    """The data contract's engine: $FLOW_CONTRACT_ENGINE, ``polars`` (the default, compiled) or ``ge``
    (Great Expectations itself, the reference); ``--engine`` overrides it for one command."""
    engine = os.environ.get("FLOW_CONTRACT_ENGINE") or CONTRACT_ENGINES[0]
    if engine not in CONTRACT_ENGINES:
        raise ValueError(f"$FLOW_CONTRACT_ENGINE must be one of {', '.join(CONTRACT_ENGINES)}, not {engine!r}")
    return engine


def console_log_level() -> str | None:
    """The command line's log level on stderr when no ``-v`` is given: $FLOW_LOG_LEVEL, a logging level
    name (DEBUG, INFO, WARNING, ERROR), case as you like; unset: nothing logged on stderr."""
    return os.environ.get("FLOW_LOG_LEVEL", "").strip().upper() or None


# --- Sign-in (docs/security.md) ----------------------------------------------------------------

def read_only_env() -> bool:
    """$FLOW_READ_ONLY set to 1, true or yes: the public read-only view (without sign-in)."""
    return os.environ.get("FLOW_READ_ONLY", "").strip().lower() in ("1", "true", "yes")


def id_claim() -> str:
    """The ID-token claim holding a user's immutable id, matched by ``id:`` rows of users.csv:
    $FLOW_ID_CLAIM, default ``sub`` (Microsoft Entra ID: ``oid``, the object id)."""
    return (os.environ.get("FLOW_ID_CLAIM") or "sub").strip()


def session_hours() -> float:
    """How long a sign-in lasts, counted from when the provider issued its ID token: $FLOW_SESSION_HOURS,
    default 10 (a working day). Streamlit's own sign-in cookie lasts 30 days; the dashboard ends it sooner."""
    hours = _env_number("FLOW_SESSION_HOURS", 10.0)
    if hours <= 0:
        raise ValueError(f"$FLOW_SESSION_HOURS must be a positive number of hours, not {hours:g}")
    return hours
