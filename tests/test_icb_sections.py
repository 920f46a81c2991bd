"""Each published trust's ICB from the acute workbook's own ICB section (issue 21, item 6): the 2023
workbook has a block of ICB rows and a block of trust rows in Table 2, with no column linking them;
each ICB's figures are the sum of its trusts', so the ICB filter offers every ICB after loading
that workbook alone, and the trusts table says where each trust's ICB came from."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from helpers import NHSE_FIXTURES, query

from pipelines.ingest.load import ingest_paths
from pipelines.publication.icb_sections import ICB_SECTION, icbs_by_adding_up
from pipelines.queries import weekly

WORKBOOK_2023 = NHSE_FIXTURES / "acute-discharge-sitrep-2023-11.xlsx"


def test_the_icb_filter_offers_every_icb_after_loading_the_real_2023_workbook_alone(db: Path) -> None:
    list(ingest_paths([WORKBOOK_2023], db))
    with duckdb.connect(str(db), read_only=True) as con:
        trusts = weekly.trusts_with_data(con)
    assert trusts.height == 119
    assert trusts["icb_code"].null_count() == 0
    assert trusts["icb_code"].n_unique() == 42  # the 42 ICBs of the workbook's ICB section
    # North Central London's four acute trusts, as NHS England adds them up
    assert sorted(trusts.filter(pl.col("icb_code") == "QMJ")["org_code"]) == ["RAL", "RAP", "RKE", "RRV"]
    assert trusts.filter(pl.col("org_code") == "RAP")["icb_name"].to_list() == [
        "NHS North Central London ICB"]
    sources = dict(query(db, "SELECT org_code, icb_source FROM trusts WHERE org_code IN ('RAP', 'RCB')"))
    assert sources["RAP"] == ICB_SECTION
    assert sources["RCB"] == "reference file"  # the reference file's ICB stays, and says so


def test_the_icb_section_adds_up_for_every_day_in_the_real_workbook(db: Path) -> None:
    """The stored attribution is one an analyst can check: each ICB row is the sum of its trusts' rows."""
    list(ingest_paths([WORKBOOK_2023], db))
    off = query(db, """
        WITH trust_sums AS (
            SELECT d.period_date, i.icb_code, sum(d.nctr_patients) AS patients FROM nhse_daily d
            JOIN nhse_trust_icb i USING (org_code) WHERE i.icb_source = 'acute workbook ICB section'
            GROUP BY ALL)
        SELECT a.area_code, a.period_date, a.nctr_patients, s.patients FROM nhse_daily_area a
        JOIN trust_sums s ON s.icb_code = a.area_code AND s.period_date = a.period_date
        WHERE a.level = 'icb' AND a.nctr_patients IS DISTINCT FROM s.patients""")
    assert off == []
    assert query(db, "SELECT count(DISTINCT area_code) FROM nhse_daily_area WHERE level = 'icb'") == [(42,)]


def _rows(rows: list[tuple[str, str, int]], code: str) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={code: pl.String, "region": pl.String, "nctr_patients": pl.Int64},
                        orient="row").with_columns(period_date=pl.lit(date(2023, 11, 1)),
                                                   nctr_discharged=pl.lit(1, pl.Int64))


def test_a_region_whose_trusts_could_belong_to_either_icb_gets_no_icb_from_the_section() -> None:
    """Two trusts with the same figures and two ICBs of the same total: either sharing adds up, so
    neither trust is given an ICB (the beds CSV or the reference file must say), rather than a guess."""
    trusts = _rows([("RAA", "London", 10), ("RBB", "London", 10), ("RCC", "Midlands", 7)], "org_code")
    icbs = _rows([("QAA", "London", 10), ("QBB", "London", 10), ("QCC", "Midlands", 7)], "area_code").with_columns(
        level=pl.lit("icb"))
    assert icbs_by_adding_up(trusts, icbs).select("org_code", "icb_code").rows() == [("RCC", "QCC")]
