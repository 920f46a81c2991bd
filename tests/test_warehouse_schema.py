"""The warehouse owns every table's DDL; the publication readers' frames must fit it column for column."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.catalogue.columns import DRD_COLUMNS
from pipelines.catalogue.metrics import METRIC_IDS
from pipelines.ingest.load import ensure_database
from pipelines.publication import tables
from pipelines.publication.beds_csv import BEDS_MONTHLY_AREA_SCHEMA, BEDS_MONTHLY_SCHEMA
from pipelines.publication.drd import DRD_ENGLAND_SCHEMA, DRD_MONTHLY_SCHEMA
from pipelines.publication.uec import UEC_AREA_SCHEMA, UEC_DAILY_SCHEMA
from pipelines.queries import drd
from pipelines.warehouse import open_for_write
from pipelines.warehouse.schema import DERIVED_HASH, SCHEMA_HASH, WEEKLY_PARTS_SQL, is_current, migrate

PROVENANCE = ["file_id", "loaded_at"]
READER_SCHEMAS: dict[str, dict] = {
    "nhse_daily": tables.DAILY_SCHEMA, "nhse_daily_area": tables.DAILY_AREA_SCHEMA,
    "nhse_bed_days_lost": tables.BED_DAYS_SCHEMA, "nhse_bed_days_lost_area": tables.BED_DAYS_AREA_SCHEMA,
    "nhse_destinations": tables.DESTINATION_SCHEMA, "nhse_destinations_area": tables.DESTINATION_AREA_SCHEMA,
    "nhse_delay_reasons": tables.DELAY_REASON_SCHEMA, "nhse_delay_reasons_area": tables.DELAY_REASON_AREA_SCHEMA,
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


PREVIOUS_RELEASE = Path(__file__).parent / "fixtures" / "warehouse" / "previous_release"


def previous_release_database(path: Path) -> Path:
    """The database the release before the schema hash made (tests/fixtures/warehouse/previous_release)."""
    with duckdb.connect(str(path)) as con:
        con.execute((PREVIOUS_RELEASE / "schema.sql").read_text())
        con.execute((PREVIOUS_RELEASE / "load.sql").read_text().replace("{fixture}", str(PREVIOUS_RELEASE)))
    return path


def test_a_database_of_the_previous_release_is_migrated_once_on_its_next_write(tmp_path: Path) -> None:
    db = previous_release_database(tmp_path / "flow.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT * FROM sitrep_daily ORDER BY ALL").fetchall()
        old_columns = {r[0] for r in con.execute("DESCRIBE sitrep_daily").fetchall()}
    assert "drd_discharges" not in old_columns and before  # the fixture is of the older shape, with rows

    with open_for_write(db) as con:
        assert migrate(con) is False  # the session migrated it already: a second migration does nothing
    with duckdb.connect(str(db), read_only=True) as con:
        for table in ("sitrep_daily", "sitrep_history"):
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            assert set(DRD_COLUMNS) <= set(columns), table
        kept = con.execute(f"SELECT * EXCLUDE ({', '.join(DRD_COLUMNS)}) FROM sitrep_daily ORDER BY ALL").fetchall()
        assert kept == before  # every old row kept, its figures unchanged
        assert con.execute(f"SELECT count(*) FROM sitrep_daily WHERE {' OR '.join(DRD_COLUMNS)} IS NOT NULL"
                           ).fetchall() == [(0,)]  # never collected: not reported, not 0
        assert con.execute("SELECT ddl_hash, derived_hash FROM schema_state").fetchall() == [
            (SCHEMA_HASH, DERIVED_HASH)]
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'schema_version'").fetchall()
        # the views answer, with the new metrics' parts rebuilt from the old rows (none: no DRD figures)
        weeks = con.execute("SELECT DISTINCT week_ending FROM weekly_metric_parts ORDER BY 1").fetchall()
        assert [w for (w,) in weeks] == [date(2023, 4, 9), date(2023, 4, 16)]
        parts = dict(con.execute("""SELECT metric, sum(days_with_data) FROM weekly_metric_parts
                                    GROUP BY metric""").fetchall())
        assert set(parts) == set(METRIC_IDS)
        assert parts["ga_occupancy_pct"] > 0 and parts["delay_21plus_pct"] == 0
        assert con.execute("SELECT count(*) FROM sitrep_trust_day").fetchall() == [(28,)]
        assert con.execute("SELECT count(*) FROM daily_metric WHERE metric = 'ga_occupancy_pct'").fetchall() == [(28,)]

    size = db.stat().st_mtime_ns
    with duckdb.connect(str(db)) as con:
        assert migrate(con) is False  # a second open does nothing
    assert db.stat().st_mtime_ns == size


def test_a_changed_catalogue_adds_its_columns_to_an_existing_database(tmp_path: Path) -> None:
    """A column the catalogue gains reaches a database made before it by ALTER TABLE, not by a new file."""
    db = tmp_path / "flow.duckdb"
    with duckdb.connect(str(db)) as con:
        migrate(con)
        con.execute("INSERT INTO narratives (narrative_id, week_ending, metric, text, author, saved_at) "
                    "VALUES (1, '2024-04-07', 'ga_occupancy_pct', 'kept', 'a', now())")
        con.execute("ALTER TABLE sitrep_daily DROP COLUMN internal_delay_48h_plus")  # as a release before it
        con.execute("UPDATE schema_state SET ddl_hash = 'older'")
        assert migrate(con) is True
        assert "internal_delay_48h_plus" in {r[0] for r in con.execute("DESCRIBE sitrep_daily").fetchall()}
        assert con.execute("SELECT text FROM narratives").fetchall() == [("kept",)]
        assert migrate(con) is False


def test_a_first_start_on_a_previous_release_database_brings_it_up_to_date_before_any_page_reads_it(tmp_path):
    db = previous_release_database(tmp_path / "flow.duckdb")
    assert ensure_database(db) is False  # not built: it exists
    with duckdb.connect(str(db), read_only=True) as con:
        assert is_current(con)
        metrics = {m for (m,) in con.execute("SELECT metric FROM metric_definitions").fetchall()}
        assert metrics == set(METRIC_IDS)  # the catalogue reloaded: the new metrics are defined
        assert {m for (m,) in con.execute("SELECT DISTINCT metric FROM weekly_position").fetchall()} == set(METRIC_IDS)
        assert drd.first_figures(con) == {}  # the pages' queries of the new columns answer
    version = db.stat().st_mtime_ns
    assert ensure_database(db) is False
    assert db.stat().st_mtime_ns == version  # once only
