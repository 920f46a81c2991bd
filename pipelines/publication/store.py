"""Load NHS England's Acute Daily Discharge SitRep (DOMAIN 2.2) beside the trusts' own sitreps.

One truth per figure: for a trust and day that the trust's own sitrep covers, the trust's figures
are current and the publication's stay in ``nhse_daily`` as history; a publication's figures are
current only for trust-days with no sitrep of the trust's own (the trust's file is its direct
submission, has the bed and length-of-stay figures the publication lacks, and arrives sooner).
A later publication replaces an earlier one's figures for the same key.
"""
from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from pipelines.publication import tables as t
from pipelines.publication.read import NhseRead

SOURCE = "nhse_publication"

# Warehouse table -> (NhseRead attribute, its schema, the key a later publication replaces); the tables
# are created by pipelines.warehouse.schema.
TABLES: dict[str, tuple[str, dict, tuple[str, ...]]] = {
    "nhse_daily_area": ("daily_areas", t.DAILY_AREA_SCHEMA, ("period_date", "level", "area_code")),
    "nhse_bed_days_lost": ("weekly_bed_days_lost", t.BED_DAYS_SCHEMA, ("week_commencing", "org_code")),
    "nhse_bed_days_lost_area": ("weekly_bed_days_lost_areas", t.BED_DAYS_AREA_SCHEMA,
                                ("week_commencing", "level", "area_code")),
    "nhse_destinations": ("monthly_destinations", t.DESTINATION_SCHEMA, ("month", "org_code", "destination")),
    "nhse_destinations_area": ("destinations_areas", t.DESTINATION_AREA_SCHEMA,
                               ("period_start", "level", "area_code", "destination")),
    "nhse_delay_reasons": ("delay_reasons", t.DELAY_REASON_SCHEMA, ("period_start", "org_code", "reason")),
    "nhse_delay_reasons_area": ("delay_reasons_areas", t.DELAY_REASON_AREA_SCHEMA,
                                ("period_start", "level", "area_code", "reason")),
}


def _add_unknown_trusts(con: duckdb.DuckDBPyConnection, trusts: pl.DataFrame) -> int:
    """Trusts the reference data does not know yet, so every published trust is selectable."""
    con.register("published", trusts.select("org_code", "name", "short_name", "region", "icb_code", "icb_name"))
    added = con.execute("""
        INSERT INTO trusts BY NAME
        SELECT *, 'nhse_publication' AS source FROM published
        WHERE org_code NOT IN (SELECT org_code FROM trusts)
    """).fetchall()[0][0]
    con.unregister("published")
    return added


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: tuple[str, ...]) -> None:
    con.register("incoming", frame)
    match = " AND ".join(f"d.{k} IS NOT DISTINCT FROM i.{k}" for k in key)
    con.execute(f"DELETE FROM {table} d USING (SELECT DISTINCT {', '.join(key)} FROM incoming) i WHERE {match}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def store_publication(con: duckdb.DuckDBPyConnection, read: NhseRead, file_id: int, file_name: str,
                      loaded_at: datetime) -> dict[str, int]:
    """Everything from one publication, inside the caller's transaction; returns the counts."""
    issues = read.issues.with_columns(
        pl.col(c) if c in read.issues.columns else pl.lit(None, dtype).alias(c)
        for c, dtype in (("org_code", pl.String), ("period_date", pl.Date)))
    errors = issues.filter((pl.col("severity") == "error") & pl.col("org_code").is_not_null())
    warned = issues.filter((pl.col("severity") == "warning") & pl.col("org_code").is_not_null())
    provenance = {"file_id": pl.lit(file_id, pl.Int32), "loaded_at": pl.lit(loaded_at)}
    daily = read.daily.join(errors.select("org_code", "period_date").unique(), on=["org_code", "period_date"],
                            how="anti").with_columns(**provenance)

    raw = read.daily.select("org_code", "period_date", raw_values=pl.struct(*t.DAILY_MEASURES).struct.json_encode())
    flagged = issues.join(raw.unique(["org_code", "period_date"]), on=["org_code", "period_date"], how="left")
    con.register("flagged", flagged.with_columns(file_id=pl.lit(file_id), file_name=pl.lit(file_name)))
    con.execute("INSERT INTO rejected_rows BY NAME SELECT * FROM flagged")
    con.unregister("flagged")

    con.register("incoming", daily)
    con.execute("INSERT INTO nhse_daily BY NAME SELECT * FROM incoming")
    con.execute(f"""
        INSERT INTO sitrep_history BY NAME
        SELECT file_id, source_row, '{SOURCE}' AS source, period_date, org_code,
            nctr_patients, nctr_discharged, nctr_discharged_by_5pm FROM incoming""")
    superseded = con.execute(f"""
        DELETE FROM sitrep_daily d USING incoming i
        WHERE d.source = '{SOURCE}' AND d.org_code = i.org_code AND d.period_date = i.period_date
    """).fetchall()[0][0]
    current = con.execute(f"""
        INSERT INTO sitrep_daily BY NAME
        SELECT period_date, org_code, nctr_patients, nctr_discharged, nctr_discharged_by_5pm,
            '{SOURCE}' AS source, file_id, '{file_name.replace("'", "''")}' AS source_file, source_row, loaded_at
        FROM incoming i
        WHERE NOT EXISTS (SELECT 1 FROM sitrep_daily d
                          WHERE d.org_code = i.org_code AND d.period_date = i.period_date)
    """).fetchall()[0][0]
    con.unregister("incoming")

    for table, (attribute, _, key) in TABLES.items():
        frame = getattr(read, attribute)
        if frame.height:
            _replace(con, table, frame.with_columns(**provenance), key)
    return {"rows_read": read.daily.height, "rows_loaded": daily.height, "rows_current": current,
            "rows_rejected": errors.select("org_code", "period_date").n_unique(),
            "rows_warned": warned.join(errors, on=["org_code", "period_date"], how="anti")
            .select("org_code", "period_date").n_unique(),
            "rows_superseded": superseded, "trusts_added": _add_unknown_trusts(con, read.trusts)}
