"""Loading NHS England's published sitrep beside trusts' own files: one truth per figure."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from helpers import NHSE_FIXTURES, query, sitrep_row, write_csv
from test_nhse_readers import long_csv

from pipelines.ingest.load import ingest_paths
from pipelines.publication.read import read_publication

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = NHSE_FIXTURES / "acute-discharge-sitrep-2023-11.xlsx"
SAMPLE_NOVEMBER = ROOT / "sample_data" / "sitrep" / "sitrep_2023-11.csv"


def ingest(db: Path, *paths: Path):
    return list(ingest_paths(list(paths), db))


def test_every_published_trust_day_is_loaded_with_the_workbook_totals(db):
    [outcome] = ingest(db, WORKBOOK)
    assert outcome.status == "loaded" and outcome.reader.startswith("NHS England acute discharge sitrep workbook")
    expected = (read_publication(WORKBOOK.name, WORKBOOK.read_bytes()).daily
                .group_by("period_date").agg(pl.col("nctr_patients", "nctr_discharged").sum()).sort("period_date"))
    loaded = query(db, "SELECT period_date, sum(nctr_patients), sum(nctr_discharged) FROM sitrep_daily "
                       "WHERE source = 'nhse_publication' GROUP BY 1 ORDER BY 1")
    assert loaded == list(expected.iter_rows())
    assert len(loaded) == 30  # every day of November 2023
    trusts = query(db, "SELECT count(*) FROM trusts WHERE source = 'nhse_publication'")[0][0]
    # beside the 13 reference trusts' rows
    assert trusts == query(db, "SELECT count(DISTINCT org_code) FROM sitrep_daily")[0][0] - 13


@pytest.mark.parametrize("order", ["trust file first", "publication first"])
def test_the_trusts_own_sitrep_takes_precedence_and_nothing_is_double_counted(db, order):
    files = [SAMPLE_NOVEMBER, WORKBOOK] if order == "trust file first" else [WORKBOOK, SAMPLE_NOVEMBER]
    ingest(db, *files)
    # every field the trust's file reports is current from it; the publication's row stays beside it
    assert query(db, "SELECT DISTINCT source FROM sitrep_field_source WHERE org_code = 'RCD' "
                     "AND period_date BETWEEN '2023-11-01' AND '2023-11-30' AND source IS NOT NULL") == [
        ("trust_sitrep",)]
    assert query(db, "SELECT count(*) FROM sitrep_trust_day WHERE org_code = 'RCD' "
                     "AND period_date BETWEEN '2023-11-01' AND '2023-11-30'") == [(30,)]
    # the publication's figures for Harrogate stay queryable as history
    assert query(db, "SELECT count(*) FROM nhse_daily WHERE org_code = 'RCD'") == [(30,)]
    assert query(db, "SELECT count(*) FROM (SELECT org_code, period_date FROM sitrep_daily "
                     "WHERE site_code IS NULL GROUP BY org_code, period_date, source HAVING count(*) > 1)") == [(0,)]
    own = query(db, "SELECT sum(nctr_patients) FROM sitrep_daily WHERE org_code = 'RCD' AND source = 'trust_sitrep' "
                    "AND period_date BETWEEN '2023-11-01' AND '2023-11-30'")
    assert query(db, "SELECT sum(nctr_patients) FROM sitrep_trust_day WHERE org_code = 'RCD' "
                     "AND period_date BETWEEN '2023-11-01' AND '2023-11-30'") == own  # not counted twice
    # a trust with no sitrep of its own is current from the publication
    assert query(db, "SELECT DISTINCT source FROM sitrep_daily WHERE org_code = 'R0A'") == [("nhse_publication",)]


def test_reference_names_win_and_unknown_trusts_get_derived_short_names(db):
    ingest(db, WORKBOOK)
    names = dict(query(db, "SELECT org_code, short_name FROM trusts WHERE org_code IN ('RCD', 'R0A')"))
    assert names == {"RCD": "Harrogate", "R0A": "Manchester University"}


def test_figures_the_publication_cannot_supply_are_not_reported_not_zero(db):
    ingest(db, WORKBOOK)
    values = dict(query(db, "SELECT metric, value FROM weekly_position WHERE org_code = 'R0A' "
                            "AND week_ending = '2023-11-26'"))
    assert values["stranded_7plus_pct"] is None and values["ga_occupancy_pct"] is None
    assert values["ctr_discharged_pct"] > 0 and values["recorded_delays"] > 0


def test_tables_3_to_5_are_stored_and_a_revised_publication_replaces_them(db):
    ingest(db, WORKBOOK)
    counts = {t: query(db, f"SELECT count(*) FROM {t}")[0][0]
              for t in ("nhse_bed_days_lost", "nhse_destinations", "nhse_delay_reasons", "nhse_daily_area")}
    assert all(counts.values()), counts
    [outcome] = list(ingest_paths([WORKBOOK], db, force=True))
    assert outcome.rows_superseded > 0
    assert {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in counts} == counts
    assert query(db, "SELECT count(*) FROM sitrep_daily WHERE source = 'nhse_publication'") == [(outcome.rows_loaded,)]


def test_long_csv_loads_with_its_checks_and_says_which_reader(tmp_path, db):
    path = tmp_path / "webfile.csv"
    path.write_bytes(long_csv())
    [outcome] = ingest(db, path)
    assert outcome.reader == "NHS England acute discharge sitrep long CSV (a row per organisation, period, metric)"
    # 02/04/2024: 41 discharged of 40 not meeting the criteria to reside is rejected; 01/04 loads
    assert query(db, "SELECT period_date, nctr_patients, nctr_discharged FROM sitrep_daily WHERE org_code = 'RCB'") == [
        (date(2024, 4, 1), 250, 90)]
    assert query(db, "SELECT rule, severity FROM rejected_rows WHERE org_code = 'RCB' AND period_date = '2024-04-02' "
                     "AND rule = 'nctr_discharged_le_nctr_patients'") == [("nctr_discharged_le_nctr_patients", "error")]


def test_a_trust_sitrep_is_not_mistaken_for_a_publication(tmp_path, db):
    [outcome] = ingest(db, write_csv(tmp_path / "day.csv", [sitrep_row()]))
    assert outcome.reader == "csv (utf-8)"
