"""Merged trusts (issue 13): reference_data/successions.csv followed by SPC, the weekly table, the drill-down
and the names; ICBs as NHS England attributes them, with disagreements listed."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import NHSE_FIXTURES, REFERENCE_FIXTURES, load_rows_directly, query, week_of_rows
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_nhse_readers import long_csv
from test_trust_page import run_page, sections, texts
from test_uec_beds import APRIL, uec_workbook

from pipelines.ingest.load import ingest_paths
from pipelines.queries import drilldown, quality, weekly
from pipelines.spc import store
from pipelines.warehouse import open_for_write
from ui import publication_charts, trust_sections

MERGER = date(2023, 4, 1)  # Yeovil (RA4) into Somerset (RH5), a Saturday
FIRST_MONDAY = date(2022, 11, 7)


def _mondays(n: int, start: date = FIRST_MONDAY) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def _load_merger(db: Path, successor: tuple[str, str, str], predecessor: tuple[str, str, str], merger: date,
                 mondays: list[date], beds: tuple[int, int, int], stranded: tuple[int, int, int], wobble: int) -> None:
    """The successor's weeks (beds and stays 7+ before, then from the week holding the merger) and the
    predecessor's until then (its beds and stays), with both trusts named (code, name, short name)."""
    rows = []
    for i, monday in enumerate(mondays):
        after = monday + timedelta(days=6) >= merger  # the week holding the merger counts as merged
        rows += week_of_rows(successor[0], monday, ga_beds_occupied=beds[1] if after else beds[0],
                             los_7plus=(stranded[1] if after else stranded[0]) + (i % 2) * wobble)
        if not after:
            rows += week_of_rows(predecessor[0], monday, ga_beds_occupied=beds[2], los_7plus=stranded[2])
    load_rows_directly(db, rows)
    with open_for_write(db) as con:
        con.executemany("INSERT INTO trusts (org_code, name, short_name, source) VALUES (?, ?, ?, 'nhse_publication')",
                        [list(successor), list(predecessor)])


@pytest.fixture
def merged(db: Path) -> Path:
    """RH5 for 40 weeks (its stranded share steps up when Yeovil's patients join), RA4 until the merger;
    some variation, so the limits have width."""
    _load_merger(db, ("RH5", "Somerset NHS Foundation Trust", "Somerset"),
                 ("RA4", "Yeovil District Hospital NHS Foundation Trust", "Yeovil District"), MERGER, _mondays(40),
                 beds=(700, 1000, 300), stranded=(280, 500, 150), wobble=7)
    return db


def test_the_seeded_successions_are_loaded(merged: Path):
    assert query(merged, "SELECT predecessor, successor, succession_date FROM trust_successions ORDER BY 3") == [
        ("RA4", "RH5", MERGER), ("RVY", "RBN", date(2023, 7, 1)), ("RAP", "RAL", NORTH_MIDDLESEX)]


NORTH_MIDDLESEX = date(2025, 1, 1)  # North Middlesex (RAP) into the Royal Free London (RAL), a Wednesday


def test_the_shipped_successions_name_north_middlesex_into_the_royal_free():
    """The users' reference_data/successions.csv (the tests run on their own copy, tests/fixtures/reference)."""
    shipped = pl.read_csv(Path(__file__).resolve().parents[1] / "reference_data" / "successions.csv",
                          infer_schema=False)
    assert ("RAP", "RAL", "2025-01-01") in shipped.select("predecessor", "successor", "succession_date").rows()
    assert shipped.equals(pl.read_csv(REFERENCE_FIXTURES / "successions.csv", infer_schema=False))


def test_north_middlesex_is_followed_into_the_royal_free_like_the_earlier_mergers(db: Path):
    """Weeks from October 2024 to March 2025: RAP's history joins RAL's, RAP is not missing after the
    merger, and RAL's SPC limits start again on 01/01/2025 without anyone asking."""
    _load_merger(db, ("RAL", "Royal Free London NHS Foundation Trust", "Royal Free London"),
                 ("RAP", "North Middlesex University Hospital NHS Trust", "North Middlesex"), NORTH_MIDDLESEX,
                 _mondays(24, date(2024, 10, 7)), beds=(800, 1200, 400), stranded=(320, 600, 200), wobble=5)
    with duckdb.connect(str(db), read_only=True) as con:
        assert drilldown.predecessors(con, "RAL").rows() == [("RAP", "North Middlesex", NORTH_MIDDLESEX)]
        series = store.weekly_series(con, None, ["RAL"], ["stranded_7plus_pct"])
        assert series["recalculate_from"][0].to_list() == [NORTH_MIDDLESEX]
        assert "RAP" in weekly.trusts_with_data(con, date(2024, 12, 29))["org_code"].to_list()
        assert "RAP" not in weekly.trusts_with_data(con, date(2025, 1, 12))["org_code"].to_list()
        combined = drilldown.combined_weekly(con, "RAL", "stranded_7plus_pct", date(2024, 10, 13), date(2025, 3, 23))
    before = combined.filter(pl.col("week_ending") == date(2024, 12, 29)).row(0, named=True)
    assert before["trusts"] == 2 and before["value"] == pytest.approx(100 * (320 + 5 + 200) / (800 + 400))


def test_spc_limits_start_again_at_the_merger_without_being_asked(merged: Path):
    with duckdb.connect(str(merged), read_only=True) as con:
        series = store.weekly_series(con, None, ["RH5"], ["stranded_7plus_pct"])
        assert series["recalculate_from"][0].to_list() == [MERGER]
        spc = drilldown.trust_spc(con, "RH5", "stranded_7plus_pct", date(2023, 8, 13))
    points = spc.result.points
    before = points.filter(pl.col("period") < MERGER)["mean"].drop_nulls().unique().to_list()
    after = points.filter(pl.col("period") >= MERGER)["mean"].drop_nulls().unique().to_list()
    assert before == [pytest.approx(40.5, abs=0.1)] and after == [pytest.approx(50.35, abs=0.1)]
    assert not points.filter(pl.col("period") >= MERGER)["special_cause"].any()  # the merger is not special cause


def test_the_predecessor_is_not_listed_as_missing_after_the_merger(merged: Path):
    with duckdb.connect(str(merged), read_only=True) as con:
        before = weekly.trusts_with_data(con, date(2023, 3, 26))["org_code"].to_list()
        after = weekly.trusts_with_data(con, date(2023, 4, 9))["org_code"].to_list()
    assert "RA4" in before and "RA4" not in after and "RH5" in after


def test_the_combined_series_adds_the_predecessors_history(merged: Path):
    with duckdb.connect(str(merged), read_only=True) as con:
        assert drilldown.predecessors(con, "RH5").rows() == [("RA4", "Yeovil District", MERGER)]
        combined = drilldown.combined_weekly(con, "RH5", "stranded_7plus_pct", date(2022, 11, 13), date(2023, 8, 13))
    week = combined.filter(pl.col("week_ending") == date(2023, 3, 26)).row(0, named=True)
    assert week["value"] == pytest.approx(100 * (287 + 150) / (700 + 300)) and week["trusts"] == 2  # summed parts
    assert combined.filter(pl.col("week_ending") == date(2023, 4, 9))["trusts"].to_list() == [1]


def test_the_drilldown_offers_the_combined_series_with_the_merger_marked(merged: Path):
    app = run_page(trust="RH5", metric="stranded_7plus_pct", **{"from": "2022-11-07", "to": "2023-08-13"})
    [toggle] = [t for t in app.toggle if t.key == "with_predecessors"]
    assert "Yeovil District (RA4) on 01/04/2023" in toggle.label
    toggle.set_value(True).run()
    assert not app.exception
    assert any("SPC limits start again at each merger date" in c for c in texts(app.caption))


def _beds_csv(path: Path) -> Path:
    header = "Period,Level,Region,ICB,Org Code,Org Name,Metric,Type,Value"
    west = "NHS WEST YORKSHIRE INTEGRATED CARE BOARD"
    lines = [header,
             f"01/04/2024,ICB,NORTH EAST AND YORKSHIRE,{west},QWO,West Yorkshire ICB,G&A beds available,Type 1,5000"]
    for code, name, icb in (("RCB", "York and Scarborough Teaching Hospitals NHS Foundation Trust", west),
                            ("R0A", "Manchester University NHS Foundation Trust",
                             "NHS GREATER MANCHESTER INTEGRATED CARE BOARD")):
        for metric, value in (("Adult G&A beds available", "800"), ("Adult G&A beds occupied", "760"),
                              ("% occupied G&A beds occupied by patients with a length of stay of - 7 or more days",
                               "0.4123456789")):
            lines.append(f'01/04/2024,Provider,NORTH EAST AND YORKSHIRE,{icb},{code},{name},"{metric}",Type 1,{value}')
    lines.append("01/04/2024,ICB,NORTH WEST,NHS GREATER MANCHESTER INTEGRATED CARE BOARD,QOP,Greater Manchester ICB,"
                 "G&A beds available,Type 1,7000")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_icbs_follow_nhs_england_and_disagreements_are_listed(tmp_path: Path, db: Path):
    [outcome] = list(ingest_paths([_beds_csv(tmp_path / "beds.csv")], db))
    assert outcome.status == "loaded"
    assert query(db, "SELECT icb_code, icb_name FROM trusts WHERE org_code = 'R0A'") == [
        ("QOP", "NHS Greater Manchester ICB")]
    with duckdb.connect(str(db), read_only=True) as con:
        listed = quality.icb_disagreements(con)
    assert listed.select("org_code", "reference_icb", "nhse_icb").rows() == [("RCB", "QOQ", "QWO")]
    assert query(db, "SELECT icb_code FROM trusts WHERE org_code = 'RCD'") == [("QWO",)]  # Harrogate: West Yorkshire


def test_the_drilldown_says_where_each_field_came_from_and_shows_the_monthly_averages(tmp_path: Path, db: Path):
    winter = tmp_path / "winter.xlsx"
    winter.write_bytes(uec_workbook(APRIL, {"RCB": ("York", 800, 760, (300, 150, 90))}))
    list(ingest_paths([winter, _beds_csv(tmp_path / "beds.csv")], db))
    app = run_page(trust="RCB", metric="stranded_7plus_pct", monthly="true",
                   **{"from": "2024-04-01", "to": "2024-04-05"})
    app.session_state["field_sources"] = True  # "Where each figure came from" opened: its words are sent then
    app.run()
    captions = " ".join(texts(app.caption))
    assert "G&A beds open: NHS England UEC daily sitrep (5 days)" in captions
    assert "Monthly averages (NHS England beds publication)" in sections(app)
    assert any(c.startswith("Stranded: occupied beds with LoS 7+ days: daily figures (line) beside NHS England's "
                            "monthly beds publication") for c in texts(app.caption))
    assert any("diamond" in c.proto.spec for c in app.get("plotly_chart"))
    with duckdb.connect(str(db), read_only=True) as con:
        points = drilldown.monthly_beds_points(con, "RCB", "stranded_7plus_pct", APRIL[0], APRIL[-1])
        occupancy = drilldown.monthly_beds_points(con, "RCB", "ga_occupancy_pct", APRIL[0], APRIL[-1])
    assert points["value"].to_list() == [pytest.approx(41.23456789)]
    assert occupancy["value"].to_list() == [pytest.approx(95.0)]


def test_field_source_text_names_every_source():
    sources = pl.DataFrame({"field": ["ga_beds_open", "ga_beds_open"], "source": ["trust_sitrep", "nhse_uec_sitrep"],
                            "days": [3, 2]})
    assert trust_sections.field_source_text(sources).endswith(
        "G&A beds open: the trust's own sitrep files (3 days), NHS England UEC daily sitrep (2 days).")


WORKBOOK_2022 = NHSE_FIXTURES / "acute-discharge-sitrep-2022-04.xlsx"
WORKBOOK_2023 = NHSE_FIXTURES / "acute-discharge-sitrep-2023-11.xlsx"


@pytest.mark.parametrize("order", [(WORKBOOK_2022, WORKBOOK_2023), (WORKBOOK_2023, WORKBOOK_2022)])
def test_names_come_from_the_latest_publication_in_either_order(db: Path, order):
    list(ingest_paths(list(order), db))
    assert query(db, "SELECT short_name FROM trusts WHERE org_code = 'RBN'") == [("Mersey and West Lancashire",)]


def test_table3_is_charted_on_the_drilldown(tmp_path: Path, db: Path):
    discharge = tmp_path / "discharge.csv"
    discharge.write_bytes(long_csv())  # York: 900 additional bed days for 21+ day stays, week commencing 01/04/2024
    list(ingest_paths([discharge], db))
    app = run_page(trust="RCB", metric="ctr_discharged_pct", **{"from": "2024-04-01", "to": "2024-04-07"})
    assert "Bed days lost to long stays (NHS England publication)" in sections(app)
    with duckdb.connect(str(db), read_only=True) as con:
        weeks = drilldown.bed_days_lost(con, "RCB", date(2024, 4, 1), date(2024, 4, 7))
    figure = publication_charts.bed_days_lost_figure(weeks)
    assert [t.name for t in figure.data] == ["7+ days", "14+ days", "21+ days"]
    assert list(figure.data[2].y) == [900] and weeks["los_7plus"].to_list() == [None]  # not reported, not 0
    no_days = pl.DataFrame(schema={"period_date": pl.Date, "value": pl.Float64})
    months = pl.DataFrame({"month": [date(2024, 4, 1)], "value": [41.2]})
    monthly = publication_charts.monthly_points_figure(no_days, months, "%")
    assert monthly.data[-1].name == "Monthly average (NHS England)"


def test_the_data_quality_page_lists_icb_disagreements(tmp_path: Path, db: Path):
    list(ingest_paths([_beds_csv(tmp_path / "beds.csv")], db))
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "data_quality.py"),
                            default_timeout=page_run_guard_s())
    app.session_state["dq_tab"] = "Submissions"  # the tab that lists them
    app.run()
    assert not app.exception
    assert "ICBs: the reference file and NHS England disagree" in texts(app.subheader)


def test_field_source_text_names_pathway_fields_in_words():
    sources = pl.DataFrame({"field": ["discharges_p0", "discharges_p3"], "source": ["trust_sitrep"] * 2,
                            "days": [177] * 2})
    assert trust_sections.field_source_text(sources).endswith(
        "pathway 0 discharges: the trust's own sitrep files (177 days); "
        "pathway 3 discharges: the trust's own sitrep files (177 days).")
