"""The warehouse owns every table's DDL; the publication readers' frames must fit it column for column."""
from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.publication import tables as t
from pipelines.publication.beds_csv import BEDS_MONTHLY_AREA_SCHEMA, BEDS_MONTHLY_SCHEMA
from pipelines.publication.drd import DRD_ENGLAND_SCHEMA, DRD_MONTHLY_SCHEMA
from pipelines.publication.uec import UEC_AREA_SCHEMA, UEC_DAILY_SCHEMA
from pipelines.warehouse import open_for_write
from pipelines.warehouse.schema import WEEKLY_PARTS_SQL

PROVENANCE = ["file_id", "loaded_at"]
READER_SCHEMAS: dict[str, dict] = {
    "nhse_daily": t.DAILY_SCHEMA, "nhse_daily_area": t.DAILY_AREA_SCHEMA,
    "nhse_bed_days_lost": t.BED_DAYS_SCHEMA, "nhse_bed_days_lost_area": t.BED_DAYS_AREA_SCHEMA,
    "nhse_destinations": t.DESTINATION_SCHEMA, "nhse_destinations_area": t.DESTINATION_AREA_SCHEMA,
    "nhse_delay_reasons": t.DELAY_REASON_SCHEMA, "nhse_delay_reasons_area": t.DELAY_REASON_AREA_SCHEMA,
    "nhse_uec_daily": UEC_DAILY_SCHEMA, "nhse_uec_daily_area": UEC_AREA_SCHEMA,
    "nhse_beds_monthly": BEDS_MONTHLY_SCHEMA, "nhse_beds_monthly_area": BEDS_MONTHLY_AREA_SCHEMA,
    "nhse_drd_monthly": DRD_MONTHLY_SCHEMA, "nhse_drd_england": DRD_ENGLAND_SCHEMA,
}


@pytest.mark.parametrize("table", sorted(READER_SCHEMAS))
def test_publication_tables_hold_the_readers_columns_plus_provenance(db: Path, table: str) -> None:
    with open_for_write(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
        empty = pl.DataFrame(schema={**READER_SCHEMAS[table]})
        con.register("frame", empty.with_columns(file_id=pl.lit(1), loaded_at=pl.lit(None, pl.Datetime)))
        con.execute(f"SELECT * FROM {table} UNION ALL BY NAME SELECT * FROM frame").fetchall()
    assert columns == [*READER_SCHEMAS[table], *PROVENANCE]


def test_weekly_parts_table_has_the_columns_its_query_gives(db: Path) -> None:
    """The table is declared, not created from the query: a metric whose parts change type would
    otherwise be cast silently into the old columns, and the weekly figures would drift."""
    with open_for_write(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        declared = con.execute("DESCRIBE weekly_metric_parts").fetchall()
        given = con.execute(f"DESCRIBE {WEEKLY_PARTS_SQL}").fetchall()
    assert [(c[0], c[1]) for c in declared] == [(c[0], c[1]) for c in given]


def test_trust_day_counts_are_64_bit_integers(db: Path) -> None:
    """Analysts read the trust-day view from R and Power BI, which have no 128-bit integer (DuckDB's
    ``sum`` gives HUGEINT): every count column is BIGINT, the OPEL levels INTEGER."""
    with open_for_write(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE sitrep_trust_day)").fetchall())
    assert {name: kind for name, kind in types.items() if kind not in ("BIGINT", "VARCHAR", "DATE")} == {
        "trust_opel": "INTEGER", "la_opel": "INTEGER"}
    assert types["ga_beds_occupied"] == types["nctr_patients"] == "BIGINT"
