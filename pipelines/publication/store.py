"""Load NHS England's Acute Daily Discharge SitRep (docs/domain.md section 2.2) beside the trusts' own sitreps.

One truth per field: ``sitrep_daily`` keeps the current row of each source for a trust-day, and
the trust-day view (``sitrep_trust_day``) takes each field from the highest-precedence source that
reports it (``pipelines.catalogue.sources``: the trust's own file, then the UEC sitrep, then this
publication), whichever order the files arrive in. Every row also stays in ``sitrep_history``
and ``nhse_daily``. A later publication replaces an earlier one's figures for the same key.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import cast

import duckdb
import polars as pl

from pipelines.catalogue.sources import DISCHARGE_SITREP, TRUST_SITREP, UEC_SITREP
from pipelines.publication import tables as t
from pipelines.publication.beds_csv import BedsMonthlyRead
from pipelines.publication.names import short_name, title_case
from pipelines.publication.read import NhseRead
from pipelines.publication.uec import UecRead
from pipelines.safe_text import clean_column, clean_text_columns

SOURCE = DISCHARGE_SITREP

# Warehouse table -> (NhseRead attribute, its schema, the key a later publication replaces). Area keys
# hold the period end and the name: a national time series' weekly row and a month's row can start
# on the same day, and region rows have no code.
TABLES: dict[str, tuple[str, dict, tuple[str, ...]]] = {
    "nhse_daily_area": ("daily_areas", t.DAILY_AREA_SCHEMA, ("period_date", "level", "area_code", "area_name")),
    "nhse_bed_days_lost": ("weekly_bed_days_lost", t.BED_DAYS_SCHEMA, ("week_commencing", "org_code")),
    "nhse_bed_days_lost_area": ("weekly_bed_days_lost_areas", t.BED_DAYS_AREA_SCHEMA,
                                ("week_commencing", "level", "area_code", "area_name")),
    "nhse_destinations": ("monthly_destinations", t.DESTINATION_SCHEMA, ("month", "org_code", "destination")),
    "nhse_destinations_area": ("destinations_areas", t.DESTINATION_AREA_SCHEMA,
                               ("period_start", "period_end", "level", "area_code", "area_name", "destination")),
    "nhse_delay_reasons": ("delay_reasons", t.DELAY_REASON_SCHEMA, ("period_start", "org_code", "reason")),
    "nhse_delay_reasons_area": ("delay_reasons_areas", t.DELAY_REASON_AREA_SCHEMA,
                                ("period_start", "period_end", "level", "area_code", "area_name", "reason")),
}


def _add_unknown_trusts(con: duckdb.DuckDBPyConnection, trusts: pl.DataFrame) -> int:
    """Trusts the reference data does not know yet, so every published trust is selectable."""
    con.register("published", clean_text_columns(
        trusts.select("org_code", "name", "short_name", "region", "icb_code", "icb_name")))
    added = con.execute("""
        INSERT INTO trusts BY NAME
        SELECT *, 'nhse_publication' AS source FROM published
        WHERE org_code NOT IN (SELECT org_code FROM trusts)
    """).fetchall()[0][0]
    con.unregister("published")
    return added


def own_file_days(con: duckdb.DuckDBPyConnection, incoming: str) -> int:
    """How many trust-days of the registered frame ``incoming`` the trust's own sitrep also covers."""
    return con.execute(f"""
        SELECT count(*) FROM (SELECT DISTINCT org_code, period_date FROM {incoming}) i
        WHERE EXISTS (SELECT 1 FROM sitrep_daily d WHERE d.source = '{TRUST_SITREP}'
                      AND d.org_code = i.org_code AND d.period_date = i.period_date)""").fetchall()[0][0]


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: tuple[str, ...]) -> None:
    con.register("incoming", frame)
    match = " AND ".join(f"d.{k} IS NOT DISTINCT FROM i.{k}" for k in key)
    con.execute(f"DELETE FROM {table} d USING (SELECT DISTINCT {', '.join(key)} FROM incoming) i WHERE {match}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def store_publication(con: duckdb.DuckDBPyConnection, read: NhseRead | UecRead | BedsMonthlyRead, file_id: int,
                      file_name: str, loaded_at: datetime) -> dict[str, int]:
    """Everything from one publication, inside the caller's transaction; returns the counts."""
    if isinstance(read, UecRead):
        return store_uec(con, read, file_id, file_name, loaded_at)
    if isinstance(read, BedsMonthlyRead):
        return store_beds_monthly(con, read, file_id, loaded_at)
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
    # Current for its source; the trust-day view takes each field from the highest-precedence source
    # that reports it (catalogue.sources), so a trust's own file wins whichever arrives first.
    con.execute(f"""
        INSERT INTO sitrep_daily BY NAME
        SELECT period_date, org_code, nctr_patients, nctr_discharged, nctr_discharged_by_5pm,
            '{SOURCE}' AS source, file_id, '{file_name.replace("'", "''")}' AS source_file, source_row, loaded_at
        FROM incoming""")
    current = daily.height - own_file_days(con, "incoming")
    con.unregister("incoming")

    # period_date is a Date column, so its max is a date (None when empty)
    period_end = read.period[1] if read.period else cast("date | None", read.daily["period_date"].max())
    added = _with_names(con, read.trusts, period_end, provenance)
    _store_icbs(con, read.trusts.filter(pl.col("icb_code").is_not_null()).select("org_code", "icb_code", "icb_name"),
                period_end, provenance)
    for table, (attribute, _, key) in TABLES.items():
        frame = getattr(read, attribute)
        if frame.height:
            _replace(con, table, frame.with_columns(**provenance), key)
    return {"rows_read": read.daily.height, "rows_loaded": daily.height, "rows_current": current,
            "rows_rejected": errors.select("org_code", "period_date").n_unique(),
            "rows_warned": warned.join(errors, on=["org_code", "period_date"], how="anti")
            .select("org_code", "period_date").n_unique(),
            "rows_superseded": superseded, "trusts_added": added}


# ---------------------------------------------------------------------------------------------
# The beds publications (issue 13): UEC daily sitrep and monthly beds CSV, names and ICB lookup.
# Their tables are created by pipelines.warehouse.schema (BEDS_SQL).
# ---------------------------------------------------------------------------------------------
def _published_names(con: duckdb.DuckDBPyConnection, names: pl.DataFrame, period_end: date | None,
                     provenance: dict) -> None:
    """Remember each trust's published name by period; trusts the reference file does not name take the
    name of the latest period published (RBN became Mersey and West Lancashire)."""
    if names.is_empty() or period_end is None:
        return
    frame = names.select("org_code", published_name=clean_column("name")).unique("org_code").with_columns(
        period_end=pl.lit(period_end), **provenance)
    _replace(con, "nhse_trust_names", frame, ("org_code", "period_end"))
    con.execute("""
        UPDATE trusts SET name = n.name, short_name = n.short_name FROM (
            SELECT org_code, published_name AS name FROM nhse_trust_names
            QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY period_end DESC, file_id DESC) = 1
        ) latest, (SELECT org_code, name, short_name FROM published_short) n
        WHERE trusts.org_code = latest.org_code AND n.org_code = latest.org_code AND n.name = latest.name
          AND trusts.source <> 'reference_data'
          AND trusts.org_code NOT IN (SELECT successor FROM trust_successions WHERE name IS NOT NULL)""")


def _store_icbs(con: duckdb.DuckDBPyConnection, trust_icbs: pl.DataFrame, period_end: date | None,
                provenance: dict) -> None:
    """Each trust's ICB as NHS England attributes it, by period; trusts the reference file does not hold
    take the latest (the reference file's own ICBs stay, and disagreements are listed on the data quality page)."""
    if trust_icbs.is_empty() or period_end is None:
        return
    _replace(con, "nhse_trust_icb", trust_icbs.with_columns(period_end=pl.lit(period_end), **provenance),
             ("org_code", "period_end"))
    con.execute("""
        UPDATE trusts SET icb_code = latest.icb_code, icb_name = coalesce(latest.icb_name, trusts.icb_name) FROM (
            SELECT org_code, icb_code, icb_name FROM nhse_trust_icb
            QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY period_end DESC, file_id DESC) = 1
        ) latest
        WHERE trusts.org_code = latest.org_code AND trusts.source <> 'reference_data'""")


def _trust_rows(frame: pl.DataFrame, name: str = "org_name") -> pl.DataFrame:
    """org_code, name, short_name (and no region or ICB) of the trusts a beds publication names."""
    seen = frame.select("org_code", name).drop_nulls("org_code").unique("org_code", keep="last", maintain_order=True)
    return seen.select("org_code", name=pl.col(name).map_elements(title_case, return_dtype=pl.String),
                       short_name=pl.col(name).map_elements(short_name, return_dtype=pl.String),
                       region=pl.lit(None, pl.String), icb_code=pl.lit(None, pl.String),
                       icb_name=pl.lit(None, pl.String))


def _with_names(con: duckdb.DuckDBPyConnection, trusts: pl.DataFrame, period_end: date | None,
                provenance: dict) -> int:
    added = _add_unknown_trusts(con, trusts)
    con.register("published_short", trusts)
    _published_names(con, trusts, period_end, provenance)
    con.unregister("published_short")
    return added


def store_uec(con: duckdb.DuckDBPyConnection, read: UecRead, file_id: int, file_name: str,
              loaded_at: datetime) -> dict[str, int]:
    """A UEC daily sitrep workbook: as published to ``nhse_uec_daily`` (and the area table); the
    trust-day figures the metrics read to ``sitrep_daily`` under source nhse_uec_sitrep."""
    provenance = {"file_id": pl.lit(file_id, pl.Int32), "loaded_at": pl.lit(loaded_at)}
    _replace(con, "nhse_uec_daily", read.daily.with_columns(**provenance), ("period_date", "org_code"))
    if read.areas.height:
        _replace(con, "nhse_uec_daily_area", read.areas.with_columns(**provenance),
                 ("period_date", "level", "area_code", "area_name"))
    rows = read.sitrep_rows().with_columns(**provenance)
    superseded = _current_rows(con, rows, UEC_SITREP, file_name)
    # period_date is a Date column: its max is a date (None when empty)
    return {"rows_read": rows.height, "rows_loaded": rows.height, "rows_current": rows.height,
            "rows_rejected": 0, "rows_warned": 0, "rows_superseded": superseded,
            "trusts_added": _with_names(con, _trust_rows(read.daily),
                                        cast("date | None", read.daily["period_date"].max()), provenance)}


def _current_rows(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, source: str, file_name: str) -> int:
    """The rows as history and as the current rows of ``source``; returns how many earlier rows they replaced."""
    con.register("incoming", rows)
    columns = ", ".join(c for c in rows.columns if c not in ("loaded_at",))
    con.execute(f"INSERT INTO sitrep_history BY NAME SELECT {columns}, '{source}' AS source FROM incoming")
    superseded = con.execute(f"""
        DELETE FROM sitrep_daily d USING incoming i
        WHERE d.source = '{source}' AND d.org_code = i.org_code AND d.period_date = i.period_date""").fetchall()[0][0]
    con.execute(f"""INSERT INTO sitrep_daily BY NAME SELECT *, '{source}' AS source,
                    '{file_name.replace("'", "''")}' AS source_file FROM incoming""")
    con.unregister("incoming")
    return superseded


def store_beds_monthly(con: duckdb.DuckDBPyConnection, read: BedsMonthlyRead, file_id: int,
                       loaded_at: datetime) -> dict[str, int]:
    """The monthly beds CSV: trust rows to ``nhse_beds_monthly``, the rest to ``nhse_beds_monthly_area``.
    Monthly averages never enter the trust-day figures."""
    provenance = {"file_id": pl.lit(file_id, pl.Int32), "loaded_at": pl.lit(loaded_at)}
    before = con.execute("SELECT count(*) FROM nhse_beds_monthly").fetchall()[0][0]
    _replace(con, "nhse_beds_monthly", read.monthly.with_columns(**provenance),
             ("month", "org_code", "metric", "org_type"))
    replaced = before + read.monthly.height - con.execute("SELECT count(*) FROM nhse_beds_monthly").fetchall()[0][0]
    if read.areas.height:
        _replace(con, "nhse_beds_monthly_area", read.areas.with_columns(**provenance),
                 ("month", "level", "area_code", "metric", "org_type"))
    trusts = _trust_rows(read.monthly)
    month_end = cast("date | None", read.monthly["month"].max())  # a Date column: a date, None when empty
    month_end = month_end and t.month_end(month_end)
    added = _with_names(con, trusts, month_end, provenance)
    _store_icbs(con, read.trust_icbs, month_end, provenance)
    rows = read.monthly.height + read.areas.height
    return {"rows_read": rows, "rows_loaded": rows, "rows_current": rows, "rows_rejected": 0, "rows_warned": 0,
            "rows_superseded": replaced,
            "trusts_added": added}
