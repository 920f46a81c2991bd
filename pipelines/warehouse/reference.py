"""Reference data (reference_data/trusts.csv, sites.csv, ambitions.csv, successions.csv, the metric catalogue)
into the warehouse, reloaded only when it changed: its content hash is kept in ``reference_state``."""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import duckdb
import polars as pl

from pipelines import config
from pipelines.catalogue.metrics import METRICS
from pipelines.safe_text import clean_text_columns

log = logging.getLogger(__name__)
_FILES = ("trusts.csv", "ambitions.csv")
_OPTIONAL_FILES = ("successions.csv",)  # merged trusts; a reference folder may not have it


def _definitions() -> pl.DataFrame:
    return pl.DataFrame([
        {"metric": m.id, "label": m.label, "unit": m.unit, "better": m.better, "aggregate": m.aggregate,
         "numerator": m.numerator, "denominator": m.denominator, "definition": m.definition, "display_order": i}
        for i, m in enumerate(METRICS, start=1)])


def read_sites(reference_dir: Path) -> pl.DataFrame:
    """sites.csv (site_code, org_code, name); a reference folder without one lists no sites."""
    path = reference_dir / "sites.csv"
    if not path.exists():
        return pl.DataFrame(schema={"site_code": pl.String, "org_code": pl.String, "name": pl.String})
    return pl.read_csv(path, infer_schema=False)


def reference_hash(reference_dir: Path) -> str:
    """Changes when a reference file or the metric catalogue changes."""
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update((reference_dir / name).read_bytes())
    digest.update(read_sites(reference_dir).write_csv().encode())
    for name in _OPTIONAL_FILES:
        path = reference_dir / name
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update(_definitions().write_csv().encode())
    return digest.hexdigest()


def _load(con: duckdb.DuckDBPyConnection, reference_dir: Path) -> None:
    """Trusts are upserted (a publication may have added trusts), sites, ambitions and metric definitions replaced."""
    trusts = clean_text_columns(pl.read_csv(reference_dir / "trusts.csv", infer_schema=False)).with_columns(
        source=pl.lit("reference_data"),
        icb_source=pl.when(pl.col("icb_code").is_not_null()).then(pl.lit("reference file")))
    ambitions = pl.read_csv(reference_dir / "ambitions.csv", schema_overrides={
        "threshold": pl.Float64, "amber_tolerance": pl.Float64, "effective_from": pl.Date})
    tables = (("trusts_file", trusts), ("sites_file", clean_text_columns(read_sites(reference_dir))),
              ("ambitions_file", ambitions), ("definitions", _definitions()))
    for name, frame in tables:
        con.register(name, frame)
    try:
        con.execute("INSERT OR REPLACE INTO trusts BY NAME SELECT * FROM trusts_file")
        con.execute("DELETE FROM sites; INSERT INTO sites BY NAME SELECT * FROM sites_file")
        con.execute("DELETE FROM ambitions; INSERT INTO ambitions BY NAME SELECT * FROM ambitions_file")
        con.execute("DELETE FROM metric_definitions; INSERT INTO metric_definitions BY NAME SELECT * FROM definitions")
    finally:
        for name, _ in tables:
            con.unregister(name)
    _load_successions(con, reference_dir)


def _load_successions(con: duckdb.DuckDBPyConnection, reference_dir: Path) -> None:
    """reference_data/successions.csv -> trust_successions (replaced, like the ambitions)."""
    path = reference_dir / "successions.csv"
    if not path.exists():
        return
    frame = pl.read_csv(path, infer_schema=False).with_columns(
        succession_date=pl.col("succession_date").str.to_date("%Y-%m-%d"))
    con.register("successions_file", frame)
    try:
        con.execute("DELETE FROM trust_successions; "
                    "INSERT INTO trust_successions BY NAME SELECT * FROM successions_file")
    finally:
        con.unregister("successions_file")
    # a successor's name from the reference file wins over every publication's spelling
    con.execute("""UPDATE trusts SET name = s.name FROM trust_successions s
                   WHERE trusts.org_code = s.successor AND s.name IS NOT NULL""")


def reload_reference(con: duckdb.DuckDBPyConnection, reference_dir: Path | None = None) -> bool:
    """Load the reference files if they differ from what the database was loaded from; True if they did
    (the caller then refreshes what depends on them: every series' SPC target)."""
    started = time.perf_counter()
    reference_dir = reference_dir or config.reference_dir()
    content_hash = reference_hash(reference_dir)
    stored = con.execute("SELECT content_hash FROM reference_state").fetchall()
    if stored == [(content_hash,)]:
        return False
    _load(con, reference_dir)
    con.execute("DELETE FROM reference_state; INSERT INTO reference_state VALUES (?, ?)",
                [content_hash, config.uk_now()])
    log.info("reference data reloaded from %s in %.3f s", reference_dir, time.perf_counter() - started)
    return True
