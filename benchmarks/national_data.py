"""Synthetic national sitrep history for the benchmarks: trust codes, their reference data, one
seeded frame of daily trust rows (docs/domain.md section 2.1) that obeys every rule of the data contract,
and that frame written as one CSV a year (the ingest refuses a file of more than 100,000 rows).

Used by ``benchmark.py`` (the ingest benchmark) and ``pages_benchmark.py``. numpy and polars are
imported inside the functions, so importing this module costs the cold ingest run no import time.
"""
from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

AMBITIONS = Path(__file__).resolve().parents[1] / "reference_data" / "ambitions.csv"
SEED = 20260401
# A fixed last day keeps runs comparable; it is moved back only if the clock is earlier (the
# contract rejects dates in the future).
LAST_DAY = date(2026, 3, 31)
CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
REGIONS = ("North East and Yorkshire", "North West", "Midlands", "East of England", "London", "South East",
           "South West")


# --------------------------------------------------------------------------------------------
# Reference data: the contract only accepts org codes present in the `trusts` table
# --------------------------------------------------------------------------------------------

def use_reference_dir(reference_dir: Path) -> None:
    """Point this process's ingests (and the cold subprocess it starts) at the synthetic trusts."""
    os.environ["FLOW_REFERENCE_DIR"] = str(reference_dir)


def trust_codes(n: int) -> list[str]:
    """Synthetic 3-character ODS-like codes 'Z00', 'Z01', ... (no real trust code starts with Z)."""
    if n > len(CODE_CHARS) ** 2:
        raise SystemExit(f"--trusts: at most {len(CODE_CHARS) ** 2} synthetic codes")
    return [f"Z{CODE_CHARS[i // len(CODE_CHARS)]}{CODE_CHARS[i % len(CODE_CHARS)]}" for i in range(n)]


def write_reference(reference_dir: Path, codes: list[str]) -> None:
    import polars as pl  # noqa: PLC0415 (lazy: the timed children import this module)

    reference_dir.mkdir(parents=True, exist_ok=True)
    n = len(codes)
    icb = [f"Q{CODE_CHARS[(i // 4) // 36]}{CODE_CHARS[(i // 4) % 36]}" for i in range(n)]  # ~4 trusts per ICB
    pl.DataFrame({
        "org_code": codes,
        "name": [f"Synthetic Trust {c} NHS Foundation Trust" for c in codes],
        "short_name": [f"Synthetic {c}" for c in codes],
        "region": [REGIONS[(i // 4) % len(REGIONS)] for i in range(n)],
        "icb_code": icb,
        "icb_name": [f"NHS Synthetic {q} ICB" for q in icb],
        "place": [f"Place {c}" for c in codes],
        "local_authority": [f"Authority {c}" for c in codes],
    }).write_csv(reference_dir / "trusts.csv")
    # Ambitions are read from the same directory at every write session: use the real ones.
    shutil.copyfile(AMBITIONS, reference_dir / "ambitions.csv")


# --------------------------------------------------------------------------------------------
# Synthetic national history (docs/domain.md section 2.1), vectorised and seeded
# --------------------------------------------------------------------------------------------

def generate_frame(codes: list[str], days: int, last_day: date):
    """One row per trust per day, trust-level (no site_code), obeying every rule of docs/domain.md section 2.1.

    By construction: counts >= 0; los_21plus <= los_14plus <= los_7plus <= ga_beds_occupied
    (nested binomial draws); covid_beds_occupied <= ga_beds_occupied; nctr_discharged_by_5pm <=
    nctr_discharged <= nctr_patients; OPEL 1-4 (la_opel blank for one trust in ten); no date in
    the future; one row per trust-day; and occupied <= open, so no row even draws a warning.
    """
    import numpy as np  # noqa: PLC0415 (lazy: the timed children import this module)
    import polars as pl  # noqa: PLC0415 (lazy: the timed children import this module)

    from pipelines.catalogue.columns import COLUMN_NAMES  # noqa: PLC0415 (lazy: the timed children import this module)

    rng = np.random.default_rng(SEED)
    n_t = len(codes)
    n = n_t * days
    first_day = last_day - timedelta(days=days - 1)
    day = np.repeat(np.arange(days), n_t)          # rows ordered by date, then trust, like a national extract
    trust = np.tile(np.arange(n_t), days)

    # Persistent trust character
    core_beds = rng.integers(250, 1800, n_t)
    base_occ = rng.uniform(0.86, 0.95, n_t)
    stranded = rng.uniform(0.36, 0.50, n_t)
    nctr_share = rng.uniform(0.12, 0.20, n_t)
    by_5pm = rng.uniform(0.38, 0.60, n_t)
    pressure = rng.uniform(-0.4, 0.6, n_t)
    no_la_opel = rng.random(n_t) < 0.1

    # Calendar: winter peak (mid-January), COVID waves, fewer discharges at weekends
    doy = (np.datetime64(first_day.isoformat()) + day).astype("datetime64[D]")
    day_of_year = (doy - doy.astype("datetime64[Y]")).astype(int)
    winter = np.cos(2 * np.pi * (day_of_year - 15) / 365.25)                    # +1 mid-January, -1 mid-July
    weekday = (doy.astype(int) + 3) % 7                                          # 0 = Monday
    weekend = weekday >= 5
    covid_wave = 0.01 + 0.04 * np.clip(np.sin(2 * np.pi * day / 300.0), 0, None) ** 4

    ga_open = np.maximum(core_beds[trust] * (1 + 0.04 * np.clip(winter, 0, None)) + rng.integers(-6, 7, n), 50)
    ga_open = ga_open.astype(np.int64)
    occ_rate = np.clip(base_occ[trust] + 0.03 * winter + rng.normal(0, 0.015, n), 0.70, 1.0)
    occupied = np.floor(ga_open * occ_rate).astype(np.int64)                    # <= open
    covid = rng.binomial(occupied, covid_wave)
    los7 = rng.binomial(occupied, np.clip(stranded[trust] + 0.02 * winter + rng.normal(0, 0.01, n), 0.2, 0.7))
    los14 = rng.binomial(los7, 0.56)
    los21 = rng.binomial(los14, 0.55)
    nctr = rng.binomial(occupied, nctr_share[trust])
    nctr_dis = rng.binomial(nctr, np.where(weekend, 0.12, 0.21))
    nctr_5pm = rng.binomial(nctr_dis, by_5pm[trust])
    total = rng.poisson(occupied * np.where(weekend, 0.06, 0.10))
    pathways = rng.multinomial(total, [0.56, 0.38, 0.045, 0.015])
    level = np.clip(np.round(2.2 + 0.8 * winter + pressure[trust] + rng.normal(0, 0.6, n)), 1, 4).astype(np.int64)
    la_level = np.clip(level + rng.integers(-1, 2, n), 1, 4)

    frame = pl.DataFrame({
        "period_date": pl.date_range(first_day, last_day, "1d", eager=True).gather(day),
        "org_code": pl.Series(codes).gather(trust),
        "site_code": pl.repeat(None, n, dtype=pl.String, eager=True),
        "ga_beds_open": ga_open,
        "ga_beds_occupied": occupied,
        "covid_beds_occupied": covid,
        "los_7plus": los7,
        "los_14plus": los14,
        "los_21plus": los21,
        "nctr_patients": nctr,
        "nctr_discharged": nctr_dis,
        "nctr_discharged_by_5pm": nctr_5pm,
        "discharges_p0": pathways[:, 0],
        "discharges_p1": pathways[:, 1],
        "discharges_p2": pathways[:, 2],
        "discharges_p3": pathways[:, 3],
        "trust_opel": level,
        "la_opel": pl.Series(la_level).scatter(np.flatnonzero(no_la_opel[trust]), None),
    })
    return frame.select(c for c in COLUMN_NAMES if c in frame.columns)  # the discharge ready date columns are optional


def write_year_files(frame, directory: Path, prefix: str) -> list[tuple[Path, int]]:
    """The history as one CSV per year of 365 days, oldest first (``<prefix>_000.csv``, ...), as NHS England
    or a trust's BI team would send a year: fewer days a file where a year would pass the ingest's limits on
    one file's lines or cells. Whole days a file (rows are by day, then trust); returns (path, rows) per file."""
    from pipelines.ingest.cells import MAX_CELLS, MAX_ROWS  # noqa: PLC0415 (lazy: the timed children import this module)

    trusts = frame.get_column("org_code").n_unique()
    days = max(min(365, (MAX_ROWS - 1) // trusts, MAX_CELLS // frame.width // trusts), 1)  # the header is a line
    files = []
    for number, first_row in enumerate(range(0, frame.height, trusts * days)):
        part = frame.slice(first_row, trusts * days)
        part.write_csv(directory / f"{prefix}_{number:03}.csv")
        files.append((directory / f"{prefix}_{number:03}.csv", part.height))
    return files
