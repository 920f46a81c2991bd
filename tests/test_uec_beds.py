"""NHS England's beds publications (issue 13): the UEC daily sitrep winter workbook and the monthly beds
CSV, read by label, loaded beside the other sources with one truth per field, whatever the load order.

The real files in tests/fixtures/nhse/ are checked cell by cell against an independent openpyxl/csv reading;
synthetic workbooks cover the layouts kept back (adult/paediatric split, a field-name row, markers).
"""
from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from helpers import NHSE_FIXTURES, query, sitrep_row, write_csv
from test_nhse_readers import long_csv

from pipelines.ingest.load import ingest_paths
from pipelines.publication.beds_csv import BEDS_CSV, measure_name
from pipelines.publication.read import detect, read_publication
from pipelines.publication.uec import UEC_WORKBOOK, beds_measure, los_measure

WINTER_2018 = NHSE_FIXTURES / "uec-winter-sitrep-timeseries-2018-12-to-2019-03.xlsx"
WINTER_2016 = NHSE_FIXTURES / "uec-winter-sitrep-timeseries-2016-12-to-2017-03.xlsx"
BEDS_2025 = NHSE_FIXTURES / "beds-sitrep-monthly-2025-01.csv"


def ingest(db: Path, *paths: Path):
    return list(ingest_paths(list(paths), db))


# ---------------------------------------------------------------------------------------------
# Synthetic UEC workbooks
# ---------------------------------------------------------------------------------------------
BEDS_LABELS = ("Core Beds Open", "Escalation Beds Open", "Total Beds Open", "Total beds occ'd", "Occupancy rate")
SPLIT_LABELS = tuple(f"{group} G&A {label}" for group in ("Adult", "Paediatric") for label in
                     ("Core Beds Open", "Escalation Beds Open", "Total Beds Open", "Beds Occ'd", "Occupancy rate"))
LOS_LABELS = ("> 7 days", "> 14 days", "> 21 days")


def _sheet(book, name: str, days: list[date], labels: tuple[str, ...], rows: dict[str, tuple[str, list]],
           field_row: bool) -> None:
    """One sheet laid out as NHS England does: title rows, (field names), dates, header, ENGLAND, blank, trusts."""
    sheet = book.add_worksheet(name)
    sheet.write_row(1, 0, ["Title:", f"Daily Hospital Situation Report - {name}"])
    sheet.write_row(4, 0, ["Period:", f"{days[0]:%d/%m/%Y} - {days[-1]:%d/%m/%Y}"])
    width = len(labels)
    if field_row:
        sheet.write_row(11, 4, [re.sub(r"\W+", "_", label.lower()) for label in labels] * len(days))
    for d, day in enumerate(days):
        sheet.write(13, 4 + d * width, day.isoformat())
    sheet.write_row(14, 0, ["NHS England Region", None, "Code", "Name", *(labels * len(days))])
    sheet.write_row(15, 0, ["-", None, "-", "ENGLAND", *([1000] * width * len(days))])
    for r, (code, (name_, values)) in enumerate(rows.items(), start=17):
        sheet.write_row(r, 0, ["North East and Yorkshire", None, code, name_])
        for c, value in enumerate(values):
            if isinstance(value, str) and value.startswith("="):
                sheet.write_formula(r, 4 + c, value, None, "#DIV/0!")
            elif value is not None:
                sheet.write(r, 4 + c, value)
    sheet.write(r + 3, 0, "1. Total G&A beds available")


def uec_workbook(days: list[date], trusts: dict[str, tuple[str, int, int, tuple[int, int, int] | None]], *,
                 split: bool = False, field_row: bool = True, cells: dict[tuple[str, int, int], object] | None = None,
                 long_stay_labels: tuple[str, ...] = LOS_LABELS) -> bytes:
    """trusts: code -> (name, beds open, beds occupied, (7+, 14+, 21+) or None for no long-stay sheet).
    ``cells`` overrides (code, day index, column in the day's block) of the G&A sheet."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    labels = SPLIT_LABELS if split else BEDS_LABELS
    beds = {}
    for code, (name, open_, occupied, _) in trusts.items():
        block = ([open_ - 10, 10, open_, occupied, None, 20, 0, 20, 15, None] if split
                 else [open_ - 10, 10, open_, occupied, None])
        values = []
        for d in range(len(days)):
            day_block = list(block)
            for (c, day, column), value in (cells or {}).items():
                if c == code and day == d:
                    day_block[column] = value
            values += day_block
        beds[code] = (name, values)
    _sheet(book, "G&A beds", days, labels, beds, field_row)
    if all(t[3] for t in trusts.values()):
        keep = [LOS_LABELS.index(label) for label in long_stay_labels if label in LOS_LABELS]
        los = {code: (name, [t[3][k] for _ in days for k in keep]) for code, (name, *_rest) in trusts.items()
               for t in [trusts[code]]}
        _sheet(book, "Beds Occ by long stay patients", days, long_stay_labels, los, field_row)
    book.close()
    return out.getvalue()


APRIL = [date(2024, 4, 1) + timedelta(days=i) for i in range(5)]
YORK = "York and Scarborough Teaching Hospitals NHS Foundation Trust"
HARROGATE = "Harrogate and District NHS Foundation Trust"


def test_labels_are_recognised_in_every_spelling():
    assert [beds_measure(label) for label in BEDS_LABELS] == [
        "core_beds_open", "escalation_beds_open", "beds_open", "beds_occupied", None]
    assert beds_measure("Core beds avail") == "core_beds_open" and beds_measure("Total beds avail") == "beds_open"
    assert beds_measure("Adult G&A Beds Occ'd") == "adult_beds_occupied"
    assert beds_measure("Paediatric G&A Total Beds Open") == "paediatric_beds_open"
    assert beds_measure("ganda_core_beds") is None  # the row of field names is not the header
    assert [los_measure(label) for label in LOS_LABELS] == ["los_7plus", "los_14plus", "los_21plus"]
    assert los_measure("Paediatric > 7 days") is None and los_measure("Stranded_Patients_Occupied") is None
    assert measure_name("% occupied G&A beds occupied by patients with a length of stay of - 21 or more days") == \
        "pct_los_21plus"
    assert measure_name("Adult G&A beds available") == "adult_ga_beds_available"


def test_a_synthetic_workbook_is_recognised_by_content_and_every_cell_lands(tmp_path: Path, db: Path):
    content = uec_workbook(APRIL[:2], {"RCB": (YORK, 800, 760, (300, 150, 90)),
                                       "RCD": (HARROGATE, 300, 290, (100, 60, 30))})
    assert detect("any-name.xlsx", content) == UEC_WORKBOOK
    path = tmp_path / "winter.xlsx"
    path.write_bytes(content)
    [outcome] = ingest(db, path)
    assert outcome.status == "loaded" and outcome.reader.startswith("NHS England UEC daily sitrep winter workbook")
    rows = query(db, "SELECT org_code, period_date, ga_beds_open, ga_beds_occupied, los_7plus, los_14plus, los_21plus "
                     "FROM sitrep_trust_day ORDER BY 1, 2")
    assert rows == [("RCB", d, 800, 760, 300, 150, 90) for d in APRIL[:2]] + \
        [("RCD", d, 300, 290, 100, 60, 30) for d in APRIL[:2]]
    assert query(db, "SELECT DISTINCT source FROM sitrep_field_source WHERE field = 'ga_beds_open'") == \
        [("nhse_uec_sitrep",)]
    assert query(db, "SELECT count(*), sum(core_beds_open) FROM nhse_uec_daily_area WHERE level = 'england'") == \
        [(2, 2000)]


def test_the_adult_paediatric_split_uses_adult_beds_and_keeps_the_rest(tmp_path: Path, db: Path):
    content = uec_workbook(APRIL[:1], {"RCB": (YORK, 800, 760, (300, 150, 90))}, split=True, field_row=False)
    read = read_publication("split.xlsx", content)
    assert read.adult_split and any("adult" in note for note in read.notes)
    path = tmp_path / "split.xlsx"
    path.write_bytes(content)
    ingest(db, path)
    assert query(db, "SELECT ga_beds_open, ga_beds_occupied FROM sitrep_trust_day") == [(800, 760)]
    assert query(db, "SELECT adult_beds_open, paediatric_beds_open, paediatric_beds_occupied, beds_open "
                     "FROM nhse_uec_daily") == [(800, 20, 15, None)]


def test_markers_empty_and_error_cells_are_not_reported_never_zero_and_noted(tmp_path: Path, db: Path):
    cells = {("RCB", 0, 2): "-", ("RCB", 0, 3): "[z]", ("RCB", 1, 2): None, ("RCB", 1, 3): "=1/0"}
    content = uec_workbook(APRIL[:3], {"RCB": (YORK, 800, 760, (300, 150, 90))}, cells=cells,
                           long_stay_labels=("> 7 days", "> 21 days"))
    read = read_publication("markers.xlsx", content)
    notes = " ".join(read.notes)
    assert "2 trust cell(s) '-' or another not-available marker, stored as not reported (not 0)" in notes
    assert "1 trust cell(s) an Excel error, stored as not reported (not 0), e.g. RCB 02/04/2024 (M18)" in notes
    assert "1 trust cell(s) empty, stored as not reported (not 0)" in notes
    assert "no los_14plus columns" in notes
    path = tmp_path / "markers.xlsx"
    path.write_bytes(content)
    ingest(db, path)
    assert query(db, "SELECT period_date, ga_beds_open, ga_beds_occupied, los_14plus FROM sitrep_trust_day "
                     "ORDER BY 1") == [(APRIL[0], None, None, None), (APRIL[1], None, None, None),
                                       (APRIL[2], 800, 760, None)]


def test_a_workbook_without_a_header_is_rejected_with_a_reason(tmp_path: Path, db: Path):
    content = uec_workbook(APRIL[:1], {"RCB": (YORK, 800, 760, None)})
    broken = tmp_path / "broken.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(content))
    book["G&A beds"]["C15"] = "Organisation"  # no 'Code' label any more
    book.save(broken)
    [outcome] = ingest(db, broken)
    assert outcome.status == "rejected"
    assert outcome.message.startswith("broken.xlsx: G&A beds: no header row with 'Code', 'Name'")


# ---------------------------------------------------------------------------------------------
# One truth per field, whatever the order
# ---------------------------------------------------------------------------------------------
def test_every_load_order_gives_the_same_figures_and_sources(tmp_path: Path):
    trust_file = write_csv(tmp_path / "harrogate.csv", [sitrep_row(org_code="RCD", period_date=d.isoformat())
                                                       for d in APRIL[:3]])
    uec = tmp_path / "winter.xlsx"
    uec.write_bytes(uec_workbook(APRIL, {"RCB": (YORK, 800, 760, (300, 150, 90)),
                                         "RCD": (HARROGATE, 300, 290, (100, 60, 30))}))
    discharge = tmp_path / "discharge.csv"
    discharge.write_bytes(long_csv())
    results = set()
    for n, order in enumerate(itertools.permutations([trust_file, uec, discharge])):
        db = tmp_path / f"order{n}.duckdb"
        assert all(o.status.startswith("loaded") for o in ingest(db, *order)), order
        figures = tuple(query(db, "SELECT * EXCLUDE (rows_reported) FROM sitrep_trust_day ORDER BY ALL"))
        sources = tuple(query(db, "SELECT * FROM sitrep_field_source WHERE source IS NOT NULL ORDER BY ALL"))
        weekly = tuple(query(db, "SELECT org_code, metric, numerator, denominator FROM weekly_metric_parts "
                                 "ORDER BY ALL"))
        results.add((figures, sources, weekly))
    assert len(results) == 1  # all six orders agree
    db = tmp_path / "order0.duckdb"
    source = dict(((org, day, field), src) for org, day, field, src in
                  query(db, "SELECT org_code, period_date, field, source FROM sitrep_field_source"))
    assert source["RCD", APRIL[0], "ga_beds_open"] == "trust_sitrep"  # the trust's own file first
    assert source["RCD", APRIL[4], "ga_beds_open"] == "nhse_uec_sitrep"  # its file stops: the UEC sitrep
    assert source["RCB", APRIL[0], "ga_beds_open"] == "nhse_uec_sitrep"
    assert source["RCB", APRIL[0], "nctr_patients"] == "nhse_publication"  # the discharge sitrep's field
    assert query(db, "SELECT ga_beds_open, nctr_patients FROM sitrep_trust_day WHERE org_code = 'RCD' "
                     "AND period_date = ?", [APRIL[0]]) == [(100, 15)]  # the trust's, not 300 nor 400
    assert query(db, "SELECT ga_beds_open, ga_beds_occupied, nctr_patients FROM sitrep_trust_day "
                     "WHERE org_code = 'RCB' AND period_date = ?", [APRIL[0]]) == [(800, 760, 250)]
    # the home table: occupancy and stranded shares for a trust known only from NHS England
    week = dict(query(db, "SELECT metric, value FROM weekly_position WHERE org_code = 'RCB' "
                          "AND week_ending = '2024-04-07'"))
    assert week["ga_occupancy_pct"] == pytest.approx(95.0) and week["stranded_7plus_pct"] == pytest.approx(300 / 7.6)


# ---------------------------------------------------------------------------------------------
# The real files
# ---------------------------------------------------------------------------------------------
def _independent_cells(path: Path) -> dict[tuple[str, date, str], object]:
    """(trust, day, field) -> cell value, read with openpyxl by the same labels but separate code."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    fields = {"Total Beds Open": "ga_beds_open", "Total beds occ'd": "ga_beds_occupied",
              "> 7 days": "los_7plus", "> 14 days": "los_14plus", "> 21 days": "los_21plus"}
    cells = {}
    for sheet in ("G&A beds", "Beds Occ by long stay patients"):
        rows = list(book[sheet].iter_rows(values_only=True))
        header = next(i for i, row in enumerate(rows) if "Code" in row and "Name" in row)
        labels, days = rows[header], rows[header - 1]
        code_col, day = labels.index("Code"), None
        columns = []
        for c, label in enumerate(labels):
            if days[c] is not None:
                day = days[c].date()
            if label in fields:
                columns.append((c, day, fields[label]))
        for row in rows[header + 1:]:
            code = row[code_col] if code_col < len(row) else None
            if code and re.fullmatch(r"[A-Z0-9]{3}", str(code)):
                for c, day, field in columns:
                    cells[code, day, field] = row[c] if c < len(row) else None
    return cells


def test_every_trust_day_cell_of_the_2018_19_winter_workbook_is_in_the_warehouse(db: Path):
    [outcome] = ingest(db, WINTER_2018)
    assert outcome.status == "loaded", outcome.message
    held = {}
    for code, day, *values in query(db, "SELECT org_code, period_date, ga_beds_open, ga_beds_occupied, los_7plus, "
                                        "los_14plus, los_21plus FROM sitrep_trust_day"):
        fields = ("ga_beds_open", "ga_beds_occupied", "los_7plus", "los_14plus", "los_21plus")
        for field, value in zip(fields, values, strict=True):
            held[code, day, field] = value
    cells = _independent_cells(WINTER_2018)
    assert len(cells) > 50_000
    expected = {k: (v if isinstance(v, (int, float)) else None) for k, v in cells.items()}
    assert {k: held.get(k) for k in expected} == expected  # "-" and empty cells are not reported, never 0
    england = query(db, "SELECT beds_open FROM nhse_uec_daily_area WHERE level = 'england' "
                        "AND period_date = '2018-12-03'")
    assert england == [(96403,)]


def test_the_2016_17_workbook_loads_its_beds_and_says_it_has_no_long_stay_figures(db: Path):
    [outcome] = ingest(db, WINTER_2016)
    assert outcome.status == "loaded"
    assert any("no 'Beds Occ by long stay patients' sheet" in note for note in outcome.notes)
    assert query(db, "SELECT count(*), count(ga_beds_open), count(los_7plus) FROM sitrep_trust_day") == \
        [(15504, 15504, 0)]
    assert query(db, "SELECT ga_beds_open, ga_beds_occupied FROM sitrep_trust_day WHERE org_code = 'R1H' "
                     "AND period_date = '2016-12-01'") == [(1694, 1428)]


def test_the_monthly_beds_csv_trust_rows_equal_the_table(db: Path):
    assert detect(BEDS_2025.name, BEDS_2025.read_bytes()) == BEDS_CSV
    [outcome] = ingest(db, BEDS_2025)
    assert outcome.status == "loaded" and outcome.reader.startswith("NHS England monthly beds CSV")
    with BEDS_2025.open(encoding="utf-8-sig", newline="") as handle:
        published = {(r["Org Code"], r["Metric"], r["Type"]): (float(r["Value"]) if r["Value"] not in ("-", "[z]", "")
                                                               else None)
                     for r in csv.DictReader(handle) if r["Level"] == "Provider"}
    held = {(code, metric, kind): value for code, metric, kind, value in
            query(db, "SELECT org_code, metric, org_type, value FROM nhse_beds_monthly")}
    assert held == published  # exact doubles, '-' not reported
    assert sum(v is None for v in held.values()) == 9
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(0,)]  # monthly averages are not trust-days


def test_the_monthly_beds_csv_rows_are_exact_doubles_and_markers_are_noted():
    header = "Period,Level,Region,ICB,Org Code,Org Name,Metric,Type,Value"
    lines = [header, "01/01/2025,National,[z],[z],ENG,England,G&A beds available,Type 1,101862",
             "01/01/2025,Provider,SOUTH WEST,NHS SOMERSET INTEGRATED CARE BOARD,RH5,Somerset NHS Foundation Trust,"
             "% occupied G&A beds occupied by patients with a length of stay of - 21 or more days,Type 1,0.185381356",
             "01/01/2025,Provider,SOUTH WEST,NHS SOMERSET INTEGRATED CARE BOARD,RH5,Somerset NHS Foundation Trust,"
             "G&A beds available,Type 1,[z]", ",,,,,,,,"]
    read = read_publication("beds.csv", "\r\n".join(lines).encode())
    assert read.monthly["value"].to_list() == [0.185381356, None]
    assert read.areas["level"].to_list() == ["england"]
    assert "not reported (not 0)" in " ".join(read.notes)
    assert pl.Series(read.monthly["measure"]).to_list() == ["pct_los_21plus", "ga_beds_available"]
