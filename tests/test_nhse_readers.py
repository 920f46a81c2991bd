"""Readers of NHS England's Acute Daily Discharge SitRep (pipelines/nhse.py, docs/domain.md section 2.2).

The real workbooks in tests/fixtures/nhse/ are checked against the same cells read independently
with openpyxl (never with the code under test). Where the workbook's own totals should match
the trusts, they are asserted to; where NHS England's disclosure control means they cannot,
the exact relation is asserted instead:

* Table 2 'patients not meeting the criteria to reside': England = regions = ICBs = trusts, every day.
* Table 2 'discharged' and 'remaining': trust and ICB rows leave out patients discharged to a
  hospice (sheet note 1), so England discharged = trusts + hospice, England remaining = trusts -
  hospice, and England remaining = England NCTR - England discharged. Regions still add up to England.
* Table 4: every destination column adds up, except 'P2 - Hospice', which is '-' for every trust.
* The national time series equals the monthly workbooks' England rows (daily, weekly, monthly).

The older four-measure layout (17:00 split) is in neither real file (2022-04 is the revised
edition, without the split), and no real long CSV is available: both are synthetic, written here.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from functools import cache
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from helpers import NHSE_FIXTURES
from openpyxl.utils import column_index_from_string

from pipelines.catalogue.issues import FileRejected
from pipelines.publication import read as nhse

NHSE_DIR = NHSE_FIXTURES
SAMPLE_SITREPS = Path(__file__).resolve().parents[1] / "sample_data" / "sitrep"
MONTHLY = ("acute-discharge-sitrep-2022-04.xlsx", "acute-discharge-sitrep-2023-11.xlsx")
TIMESERIES = "acute-discharge-sitrep-timeseries-2021-04-to-2024-01.xlsx"
COMMUNITY = "community-discharge-sitrep-2023-11.xlsx"

TABLE2_LABELS = {  # the labels as published, matched exactly by the independent reader
    "Number of patients who no longer meet the criteria to reside": "nctr_patients",
    "Number of patients discharged": "nctr_discharged",
    "Number of patients remaining in hospital who no longer meet the criteria to reside": "nctr_remaining",
}
MEASURES = tuple(TABLE2_LABELS.values())



def test_every_real_file_is_in_the_repository_with_its_source_and_licence() -> None:
    """The files are committed (a missing one fails every test that reads it), and the fixtures' README
    names each one with its source under the Open Government Licence, as reusing them requires."""
    readme = (NHSE_DIR / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([\w.-]+\.(?:xlsx|csv))` \|", readme, flags=re.MULTILINE))
    present = {p.name for p in NHSE_DIR.iterdir() if p.suffix in (".xlsx", ".csv")}
    assert listed == present and {*MONTHLY, TIMESERIES, COMMUNITY} <= present
    assert "Contains public sector information licensed under the Open Government Licence v3.0" in readme

# ---------------------------------------------------------------------------------------------
# Independent reading of the real sheets (openpyxl)
# ---------------------------------------------------------------------------------------------
@cache
def sheet_rows(file_name: str, sheet: str) -> tuple[tuple, ...]:
    book = openpyxl.load_workbook(NHSE_DIR / file_name, read_only=True, data_only=True)
    try:
        rows = [tuple(row) for row in book[sheet].iter_rows(min_row=1, min_col=1, values_only=True)]
    finally:
        book.close()
    width = max(len(r) for r in rows)
    return tuple(r + (None,) * (width - len(r)) for r in rows)


def first_row(rows: tuple[tuple, ...], test) -> int:
    return next(i for i, row in enumerate(rows) if any(test(v) for v in row))


@cache
def raw_table2(file_name: str) -> dict:
    """England, region, ICB and trust rows of Table 2, and each value column's (day, measure)."""
    rows = sheet_rows(file_name, "Table 2")
    labels = first_row(rows, lambda v: v in TABLE2_LABELS)
    dates = first_row(rows, lambda v: isinstance(v, datetime))
    icb_header = first_row(rows, lambda v: v == "ICB Code")
    org_header = first_row(rows, lambda v: v == "Org Code")
    code = rows[org_header].index("Org Code")
    columns, day = {}, None
    for c, label in enumerate(rows[labels]):
        if isinstance(rows[dates][c], datetime):
            day = rows[dates][c].date()
        if label in TABLE2_LABELS:
            columns[c] = (day, TABLE2_LABELS[label])
    aggregates = [r for r in rows[labels + 1:icb_header] if any(isinstance(v, str) for v in r)]
    return {
        "columns": columns,
        "england": next(r for r in aggregates if any(isinstance(v, str) and v.startswith("ENGLAND") for v in r)),
        "regions": [r for r in aggregates if not any(isinstance(v, str) and v.startswith("ENGLAND") for v in r)],
        "icbs": [r for r in rows[icb_header + 1:org_header] if r[code]],
        "trusts": {i + 1: r for i, r in enumerate(rows) if i > org_header and r[code]},
        "code": code,
    }


def column_sums(rows, columns: dict) -> dict[tuple[date, str], int]:
    """Sum of each (day, measure) column over ``rows``; '-' adds nothing."""
    return {key: sum(r[c] for r in rows if isinstance(r[c], (int, float))) for c, key in columns.items()}


def loaded_sums(frame: pl.DataFrame) -> dict[tuple[date, str], int]:
    totals = frame.group_by("period_date").agg(pl.col(m).sum() for m in MEASURES)
    return {(row["period_date"], m): row[m] for row in totals.iter_rows(named=True) for m in MEASURES}


@cache
def read_real(file_name: str) -> nhse.NhseRead:
    return nhse.read_publication(file_name, (NHSE_DIR / file_name).read_bytes())


# ---------------------------------------------------------------------------------------------
# Real workbooks
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("file_name, kind", [(MONTHLY[0], nhse.MONTHLY), (MONTHLY[1], nhse.MONTHLY),
                                             (TIMESERIES, nhse.TIMESERIES), (COMMUNITY, nhse.COMMUNITY)])
def test_real_workbooks_are_recognised_by_content(file_name: str, kind: str) -> None:
    content = (NHSE_DIR / file_name).read_bytes()
    assert nhse.detect(file_name, content) == kind
    assert nhse.detect("renamed.xlsx", content) == kind  # the name plays no part


def test_community_sitrep_is_rejected_as_a_whole() -> None:
    with pytest.raises(FileRejected, match="Community Discharge SitRep"):
        nhse.read_publication(COMMUNITY, (NHSE_DIR / COMMUNITY).read_bytes())


@pytest.mark.parametrize("file_name", MONTHLY)
def test_each_day_trust_sums_equal_the_workbook_trust_rows(file_name: str) -> None:
    raw, read = raw_table2(file_name), read_real(file_name)
    assert "3 measures per day" in read.reader
    assert read.daily.height == len(raw["trusts"]) * len({d for d, _ in raw["columns"].values()})
    assert loaded_sums(read.daily) == column_sums(raw["trusts"].values(), raw["columns"])
    assert loaded_sums(read.daily_icb) == column_sums(raw["icbs"], raw["columns"])


@pytest.mark.parametrize("file_name", MONTHLY)
def test_england_row_matches_where_the_publication_says_it_should(file_name: str) -> None:
    raw, read = raw_table2(file_name), read_real(file_name)
    england = column_sums([raw["england"]], raw["columns"])
    assert loaded_sums(read.england) == england  # the England row itself is read correctly
    trusts = column_sums(raw["trusts"].values(), raw["columns"])
    regions = column_sums(raw["regions"], raw["columns"])
    assert regions == england  # regions add up to England on all three measures
    for day in {d for d, _ in raw["columns"].values()}:
        nctr, discharged, remaining = (england[day, m] for m in MEASURES)
        assert nctr == trusts[day, "nctr_patients"]  # nothing is held back from this measure
        assert remaining == nctr - discharged
        hospice = discharged - trusts[day, "nctr_discharged"]  # left out of trust rows (sheet note 1)
        assert hospice >= 0
        assert trusts[day, "nctr_remaining"] - remaining == hospice


@pytest.mark.parametrize("file_name", MONTHLY)
def test_named_trust_month_totals_and_provenance(file_name: str) -> None:
    raw, read = raw_table2(file_name), read_real(file_name)
    row_number, cells = next((n, r) for n, r in raw["trusts"].items() if r[raw["code"]] == "RCB")
    york = read.daily.filter(pl.col("org_code") == "RCB")
    for measure in MEASURES:
        expected = sum(cells[c] for c, (_, m) in raw["columns"].items() if m == measure and isinstance(cells[c], int))
        assert york[measure].sum() == expected
    assert set(york["source_row"]) == {row_number}
    for row in york.iter_rows(named=True):  # the block's first cell is the day's NCTR figure
        assert cells[column_index_from_string(row["source_column"]) - 1] == row["nctr_patients"]
    trust = read.trusts.filter(pl.col("org_code") == "RCB").row(0, named=True)
    assert (trust["short_name"], trust["region"]) == ("York and Scarborough", "North East and Yorkshire")


@pytest.mark.parametrize("file_name", MONTHLY)
def test_dashes_are_missing_not_zero(file_name: str) -> None:
    raw, read = raw_table2(file_name), read_real(file_name)
    dashes = [(n, c) for n, r in raw["trusts"].items() for c in raw["columns"] if r[c] == "-"]
    assert dashes, "the real workbooks have '-' cells"
    by_cell = {(r["source_row"], r["period_date"]): r for r in read.daily.iter_rows(named=True)}
    for row_number, c in dashes:
        day, measure = raw["columns"][c]
        assert by_cell[row_number, day][measure] is None
    assert any("stored as missing, not 0" in n for n in read.notes)


@pytest.mark.parametrize("file_name", MONTHLY)
def test_no_england_region_or_icb_among_trusts(file_name: str) -> None:
    raw, read = raw_table2(file_name), read_real(file_name)
    codes = set(read.daily["org_code"])
    assert codes == {r[raw["code"]] for r in raw["trusts"].values()}
    assert not codes & {r[raw["code"]] for r in raw["icbs"]}
    assert not any(c.startswith("Q") for c in codes)
    assert read.daily["org_name"].str.contains("ENGLAND|INTEGRATED CARE BOARD").sum() == 0
    assert set(read.daily_icb["area_code"]) == {r[raw["code"]] for r in raw["icbs"]}
    assert read.england["area_name"].unique().to_list() == ["ENGLAND (Type 1 Trusts)"]
    assert read.daily_regions["area_name"].n_unique() == 7
    assert set(read.trusts["org_code"]) == codes and read.icbs.height == len(raw["icbs"])


@pytest.mark.parametrize("file_name", MONTHLY)
def test_table4_pathway_totals_equal_their_detail_columns(file_name: str) -> None:
    rows = sheet_rows(file_name, "Table 4")
    labels = first_row(rows, lambda v: isinstance(v, str) and v.startswith("P0 - "))
    org_header = first_row(rows, lambda v: v == "Org Code")
    code = rows[org_header].index("Org Code")
    pathway_of = {c: int(m.group(1)) for c, v in enumerate(rows[labels])
                  if isinstance(v, str) and (m := re.match(r"P(\d)", v))}
    totals = nhse.pathway_totals(read_real(file_name).monthly_destinations)
    assert totals.height == sum(1 for r in rows[org_header + 1:] if r[code])
    got = {r["org_code"]: r for r in totals.iter_rows(named=True)}
    for row in rows[org_header + 1:]:
        if not row[code]:
            continue
        for p in range(4):
            cells = [row[c] for c, q in pathway_of.items() if q == p and isinstance(row[c], int)]
            assert got[row[code]][f"discharges_p{p}"] == (sum(cells) if cells else None)
        assert got[row[code]]["details_missing"] == sum(row[c] == "-" for c in pathway_of)
    hospice = read_real(file_name).monthly_destinations.filter(pl.col("destination").str.contains("Hospice"))
    assert hospice["discharges"].null_count() == hospice.height  # suppressed for every trust, never 0


@pytest.mark.parametrize("file_name", MONTHLY)
def test_tables_3_to_5_are_read_with_their_real_periods(file_name: str) -> None:
    read = read_real(file_name)
    month = read.period[0]
    weeks = read.weekly_bed_days_lost["week_commencing"].unique().sort().to_list()
    rows = sheet_rows(file_name, "Table 3")
    week_cells = [v for row in rows for v in row if isinstance(v, str) and v.startswith("w/c")]
    published = [datetime.strptime(v[4:14], "%d/%m/%Y").date() for v in week_cells]  # 'w/c 30/10/2023 (daily ...
    assert weeks == published
    assert set(read.monthly_destinations["month"]) == {month}
    assert set(read.delay_reasons["period_start"]) == {month}
    assert read.delay_reasons["reason"].n_unique() == 18
    assert read.monthly_destinations.filter(pl.col("pathway").is_null()).is_empty()
    assert set(read.monthly_destinations["destination_code"]) == {"P0", "P1", "P2", "P3", "P3b"}


def test_timeseries_agrees_with_the_monthly_workbooks() -> None:
    series = read_real(TIMESERIES)
    assert series.daily.is_empty() and series.england.height == 1036  # 01/04/2021 to 31/01/2024
    rows = sheet_rows(TIMESERIES, "Daily Series")
    header = first_row(rows, lambda v: v == "Date")
    day = rows[header].index("Date")
    nctr = rows[header].index("Number of patients who no longer meet the criteria to reside")
    raw = [r for r in rows[header + 1:] if isinstance(r[day], datetime)]
    assert len(raw) == 1036
    assert series.england["nctr_patients"].sum() == sum(r[nctr] for r in raw if isinstance(r[nctr], int))
    for file_name in MONTHLY:
        monthly = read_real(file_name)
        joined = monthly.england.join(series.england, on="period_date", suffix="_series")
        assert joined.height == monthly.england.height
        for m in MEASURES:
            assert (joined[m] == joined[f"{m}_series"]).all()
        weekly = monthly.weekly_bed_days_lost_areas.filter(pl.col("level") == "england").select(
            "week_commencing", "additional_bed_days_los_7plus", "additional_bed_days_los_14plus",
            "additional_bed_days_los_21plus")
        assert weekly.join(series.weekly_bed_days_lost_areas, on=weekly.columns, how="anti").is_empty()
        in_month = series.destinations_areas.filter(pl.col("period_start").dt.truncate("1mo") == monthly.period[0])
        summed = dict(in_month.group_by("destination").agg(pl.col("discharges").sum()).iter_rows())
        england = monthly.destinations_areas.filter(pl.col("level") == "england")
        assert dict(england.select("destination", "discharges").iter_rows()) == summed


def test_timeseries_not_collected_zeros_are_missing() -> None:
    series = read_real(TIMESERIES)
    early = series.destinations_areas.filter(pl.col("period_start") < date(2021, 5, 11))
    assert early.height and early["discharges"].null_count() == early.height
    assert series.destinations_areas.filter(pl.col("period_start") == date(2021, 5, 11))["discharges"].sum() > 0
    seven = series.weekly_bed_days_lost_areas.filter(pl.col("week_commencing") < date(2022, 2, 11))
    assert seven["additional_bed_days_los_7plus"].null_count() == seven.height
    assert seven["additional_bed_days_los_14plus"].null_count() == 0
    blank_day = series.england.filter(pl.col("period_date") == date(2022, 6, 19))  # not submitted (sheet note 2)
    assert blank_day["nctr_patients"].to_list() == [None]


@pytest.mark.parametrize("file_name", [*MONTHLY, TIMESERIES])
def test_a_real_workbook_reads_without_errors(file_name: str) -> None:
    # Its speed (target: under 2 s) is printed by benchmarks/publication_benchmark.py, not timed here.
    read = nhse.read_publication(file_name, (NHSE_DIR / file_name).read_bytes())
    assert read.issues.filter(pl.col("severity") == "error").is_empty()


# ---------------------------------------------------------------------------------------------
# Synthetic: the older four-measure layout (17:00 split)
# ---------------------------------------------------------------------------------------------
OLD_LABELS = ("Number of patients who no longer meet the criteria to reside",
              "Number of patients discharged by 17:00",
              "Number of patients discharged between 17:01 and 23:59",
              "Number of patients remaining in hospital who no longer meet the criteria to reside")
DAYS = (date(2021, 5, 1), date(2021, 5, 2), date(2021, 5, 3))
# per trust: one (nctr, by 17:00, 17:01-23:59, remaining) tuple per day; None = '-'
OLD_TRUSTS = {
    ("RCB", "YORK AND SCARBOROUGH TEACHING HOSPITALS NHS FOUNDATION TRUST"): [(100, 20, 10, 70), None, (90, 15, 5, 70)],
    ("RCD", "HARROGATE AND DISTRICT NHS FOUNDATION TRUST"): [(50, 5, 5, 40), (40, 30, 20, 10), (45, 4, 1, 40)],
}


ICB_ROW = ["NORTH EAST AND YORKSHIRE", "QOQ", "NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD"]


def old_layout_workbook(*, dates: str = "excel", table2: bool = True, period: tuple[date, date] = (DAYS[0], DAYS[-1]),
                        first_date: str | None = None) -> bytes:
    """A 2021-style workbook: four measures a day, rows placed differently from the real ones, and an
    extra lookup sheet. ``dates``: 'excel' (date cells), 'text' (dd/mm/yyyy) or 'none' (no date row)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    day_format = book.add_format({"num_format": "dd/mm/yyyy"})
    cover = book.add_worksheet("Cover Sheet")
    cover.write_row(1, 0, ["Title:", "Acute Daily Discharge Situation Report "])
    cover.write(3, 0, "Period:")
    cover.write_datetime(3, 1, datetime.combine(period[0], datetime.min.time()), day_format)
    cover.write(3, 2, "-")
    cover.write_datetime(3, 3, datetime.combine(period[1], datetime.min.time()), day_format)
    book.add_worksheet("Contents").write(1, 1, "Contents")
    book.add_worksheet("Table 1").write(0, 0, "Table 1: Number of organisations for whom no data was submitted")
    lookup = book.add_worksheet("Org lookup")
    lookup.write_row(0, 0, ["Org Code", "Org Name"])
    lookup.write_row(1, 0, ["RCB", "York"])
    if table2:
        sheet = book.add_worksheet("Table 2")
        sheet.write(0, 1, "Table 2: Number of patients who no longer meet criteria to reside")
        for i, day in enumerate(DAYS):  # dates on Excel row 6, labels on row 7, data from column D
            column = 3 + 4 * i
            if dates == "excel":
                sheet.write_datetime(5, column, datetime.combine(day, datetime.min.time()), day_format)
            elif dates == "text":
                sheet.write_string(5, column, first_date if (first_date and i == 0) else f"{day:%d/%m/%Y}")
            sheet.write_row(6, column, OLD_LABELS)
        sheet.write(6, 1, "Notes: \n1. trust-level data exclude patients discharged to a hospice.")
        totals = [tuple(sum(v[i][k] for v in OLD_TRUSTS.values() if v[i]) for k in range(4)) for i in range(3)]
        sheet.write(7, 2, "ENGLAND (Type 1 Trusts)")
        sheet.write(8, 2, "NORTH EAST AND YORKSHIRE")
        sheet.write_row(10, 0, ["Region", "ICB Code", "ICB Name"])
        sheet.write_row(11, 0, ICB_ROW)
        for row in (7, 8, 11):
            sheet.write_row(row, 3, [v for day in totals for v in day])
        sheet.write_row(13, 0, ["Region", "Org Code", "Org Name"])
        for r, ((code, name), values) in enumerate(OLD_TRUSTS.items(), start=14):
            sheet.write_row(r, 0, ["NORTH EAST AND YORKSHIRE", code, name])
            sheet.write_row(r, 3, [v for day in values for v in (day or ("-",) * 4)])
        # an ICB row that strayed into the trust block, and a totals row: neither is a trust
        sheet.write_row(16, 0, ICB_ROW)
        sheet.write_row(16, 3, [v for day in totals for v in day])
        sheet.write(17, 2, "Total")
        sheet.write_row(17, 3, [v for day in totals for v in day])
    book.close()
    return buffer.getvalue()


@pytest.mark.parametrize("dates", ["excel", "text"])
def test_older_four_measure_layout(dates: str) -> None:
    content = old_layout_workbook(dates=dates)
    assert nhse.detect("old.xlsx", content) == nhse.MONTHLY
    read = nhse.read_publication("old.xlsx", content)
    assert "4 measures per day (discharged by 17:00 and 17:01-23:59)" in read.reader
    assert read.daily.height == 6 and set(read.daily["org_code"]) == {"RCB", "RCD"}
    york = read.daily.filter(pl.col("org_code") == "RCB").sort("period_date")
    assert york["nctr_discharged_by_5pm"].to_list() == [20, None, 15]
    assert york["nctr_discharged_after_5pm"].to_list() == [10, None, 5]
    assert york["nctr_discharged"].to_list() == [30, None, 20]  # by 17:00 + 17:01-23:59
    assert york["nctr_patients"].to_list() == [100, None, 90]  # '-' is missing, not 0
    assert york["source_column"].to_list() == ["D", "H", "L"] and set(york["source_row"]) == {15}
    assert read.england["nctr_patients"].to_list() == [150, 40, 135]
    assert read.daily_icb["area_code"].unique().to_list() == ["QOQ"]
    assert any("'Org lookup'" in n for n in read.notes)
    assert any("QOQ" in n and "not a trust" in n for n in read.notes)
    assert any("Total" in n for n in read.notes)
    assert any("Table 3, Table 4, Table 5" in n for n in read.notes)


def test_older_layout_contract_issues_name_sheet_row_and_column() -> None:
    issues = nhse.read_publication("old.xlsx", old_layout_workbook()).issues
    rules = dict(zip(issues["rule"], issues["message"], strict=True))
    assert rules["nctr_discharged_le_nctr_patients"] == (
        "Table 2 row 16, column H (02/05/2021): discharged (50) is more than patients not meeting the criteria "
        "to reside (40)")
    remaining = issues.filter(pl.col("rule") == "nctr_remaining_eq_nctr_patients_minus_nctr_discharged")
    assert remaining["severity"].to_list() == ["warning"]
    assert issues.filter(pl.col("rule") == "nctr_discharged_le_nctr_patients")["severity"].to_list() == ["error"]


@pytest.mark.parametrize("kwargs, message", [
    ({"table2": False}, "Table 2 .* is missing"),
    ({"dates": "none"}, "Table 2: no date row found"),
    ({"dates": "text", "first_date": "31/13/2021"}, r"Table 2 cell D6: '31/13/2021' is not a date"),
    ({"period": (date(2021, 6, 1), date(2021, 6, 30))}, "outside the workbook's period"),
])
def test_whole_file_rejections(kwargs: dict, message: str) -> None:
    with pytest.raises(FileRejected, match=message):
        nhse.read_publication("bad.xlsx", old_layout_workbook(**kwargs))


def test_damaged_workbook_is_rejected() -> None:
    content = old_layout_workbook()
    with pytest.raises(FileRejected, match="damaged"):
        nhse.read_publication("cut.xlsx", content[: len(content) // 2])
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not a workbook")
    with pytest.raises(FileRejected):
        nhse.read_publication("broken.xlsx", broken.getvalue())


# ---------------------------------------------------------------------------------------------
# Synthetic: the long CSV (2024 on)
# ---------------------------------------------------------------------------------------------
LONG_HEADER = "Level,Region,ICB,Org Code,Org Name,Period,Metric,Metric Type,Metric Group,Value"
NEY, YORK = "NORTH EAST AND YORKSHIRE", "YORK AND SCARBOROUGH TEACHING HOSPITALS NHS FOUNDATION TRUST"
HUMBER = "NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD"
HARROGATE = "HARROGATE AND DISTRICT NHS FOUNDATION TRUST"
NCTR, DISCHARGED, REMAINING = TABLE2_LABELS  # the published Table 2 labels, in order


def long_csv() -> bytes:
    trust = f"Provider,{NEY},QOQ,RCB,{YORK}"
    lines = [
        LONG_HEADER,
        # England and the ICB add up to their trusts on each day, as in a real publication (authentic.py)
        f"National,,,,ENGLAND,01/04/2024,{NCTR},Count,Criteria to reside,\"1,250\"",  # line 2
        f"ICB,{NEY},QOQ,QOQ,{HUMBER},01/04/2024,{NCTR},Count,Criteria to reside,1250",
        f"{trust},01/04/2024,{NCTR},Count,Criteria to reside,250",  # line 4
        f"{trust},01/04/2024,{DISCHARGED},Count,Criteria to reside,90",
        f"{trust},01/04/2024,{REMAINING},Count,Criteria to reside,160",
        f"{trust},02/04/2024,{NCTR},Count,Criteria to reside,40",  # line 7
        f"{trust},02/04/2024,{DISCHARGED},Count,Criteria to reside,41",
        f"{trust},02/04/2024,{REMAINING},Count,Criteria to reside,[z]",
        f"Provider,{NEY},QOQ,RCD,{HARROGATE},01/04/2024,{NCTR},Count,Criteria to reside,1000",
        f"Provider,{NEY},QOQ,RCD,{HARROGATE},02/04/2024,{NCTR},Count,Criteria to reside,-",
        f"National,,,,ENGLAND,02/04/2024,{NCTR},Count,Criteria to reside,40",
        f"{trust},01/04/2024,P0 - Domestic home without reablement support,Count,Discharge destination,1500",
        f"{trust},01/04/2024,P3b - Care Home (existing resident discharged back),Count,Discharge destination,20",
        f"{trust},01/04/2024,P2 - Hospice (short term 24hr support),Count,Discharge destination,[z]",
        f"{trust},01/04/2024,No Plan,Weekly average,Delay reason,3.4",
        f'{trust},01/04/2024,"Number of additional bed days, patients with length of stay of 21+ days",Count,,900',
        f"{trust},01/04/2024,Number of widgets,Count,Other,5",
        f"Provider,{NEY},QOQ,QOQ,{HUMBER},01/04/2024,{NCTR},Count,Criteria to reside,1250",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def test_long_csv_is_recognised_and_read() -> None:
    content = long_csv()
    assert nhse.detect("anything.csv", content) == nhse.LONG_CSV
    read = nhse.read_publication("anything.csv", content)
    assert set(read.daily["org_code"]) == {"RCB", "RCD"}  # the ICB row in the provider level is not a trust
    york = read.daily.filter(pl.col("org_code") == "RCB").sort("period_date")
    assert york["nctr_patients"].to_list() == [250, 40]
    assert york["nctr_remaining"].to_list() == [160, None]  # [z]: not applicable
    assert york["icb_code"].to_list() == ["QOQ", "QOQ"] and york["source_row"].to_list() == [4, 7]
    assert read.daily.filter(pl.col("org_code") == "RCD").sort("period_date")["nctr_patients"].to_list() == [1000, None]
    assert read.england.sort("period_date")["nctr_patients"].to_list() == [1250, 40]
    assert read.daily_icb["area_code"].to_list() == ["QOQ"]
    destinations = dict(read.monthly_destinations.select("destination_code", "discharges").iter_rows())
    assert destinations == {"P0": 1500, "P3b": 20, "P2": None}
    assert nhse.pathway_totals(read.monthly_destinations).row(0, named=True)["discharges_p3"] == 20
    assert read.delay_reasons.select("reason", "patients", "period_end").row(0) == ("No Plan", 3.4, date(2024, 4, 7))
    assert read.weekly_bed_days_lost["additional_bed_days_los_21plus"].to_list() == [900]
    assert any("Number of widgets" in n for n in read.notes)  # unknown metrics are reported, not dropped silently
    assert any("'[z]'" in n for n in read.notes)
    assert read.issues.filter(pl.col("rule") == "nctr_discharged_le_nctr_patients")["message"].to_list() == [
        "CSV line 7 (RCB, 02/04/2024): discharged (41) is more than patients not meeting the criteria to reside (40)"]
    assert read.trusts.filter(pl.col("org_code") == "RCB")["icb_code"].to_list() == ["QOQ"]


# ---------------------------------------------------------------------------------------------
# Not a publication; contract checks; short names
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(SAMPLE_SITREPS.glob("sitrep_2023-1*")), ids=lambda p: p.name)
def test_trust_sitrep_files_are_not_nhse_publications(path: Path) -> None:
    content = path.read_bytes()
    assert nhse.detect(path.name, content) is None
    with pytest.raises(FileRejected, match="not an NHS England Acute Discharge SitRep publication"):
        nhse.read_publication(path.name, content)


def test_detect_tells_a_big_trust_csv_from_a_publication() -> None:
    # Its speed (it reads only the start) is printed by benchmarks/publication_benchmark.py.
    big = b"period_date,org_code,nctr_patients\n" + b"2024-04-01,RCB,5\n" * 2_000_000
    assert nhse.detect("big.csv", big) is None


def test_check_daily_rules() -> None:
    daily = pl.DataFrame({
        "period_date": [date(2023, 11, 3), date(2023, 11, 4), date(2023, 11, 5), date(2099, 1, 1)],
        "org_code": ["RCB"] * 4, "nctr_patients": [38, 10, -1, 5], "nctr_discharged": [41, 4, 0, 1],
        "nctr_remaining": [None, 5, None, 4], "nctr_discharged_by_5pm": [None, 5, None, None],
        "nctr_discharged_after_5pm": [None] * 4, "source_sheet": ["Table 2"] * 4, "source_row": [57, 57, 57, 57],
        "source_column": ["AB", "AE", "AH", "AK"]}, schema_overrides={"nctr_discharged_after_5pm": pl.Int64})
    issues = nhse.check_daily(daily, today=date(2024, 1, 1))
    assert issues.schema == pl.Schema({"source_row": pl.Int64, "column_name": pl.String, "rule": pl.String,
                                       "severity": pl.String, "message": pl.String, "org_code": pl.String,
                                       "period_date": pl.Date})
    found = {(r["rule"], r["severity"]) for r in issues.iter_rows(named=True)}
    assert found == {("nctr_discharged_le_nctr_patients", "error"), ("non_negative", "error"),
                     ("nctr_discharged_by_5pm_le_nctr_discharged", "error"), ("date_not_in_future", "error"),
                     ("nctr_remaining_eq_nctr_patients_minus_nctr_discharged", "warning")}
    assert ("Table 2 row 57, column AB (03/11/2023): discharged (41) is more than patients not meeting the "
            "criteria to reside (38)") in issues["message"].to_list()
    twice = nhse.check_daily(pl.concat([daily.head(1), daily.head(1)]), today=date(2024, 1, 1))
    assert twice.filter(pl.col("rule") == "one_row_per_trust_day")["message"].to_list() == [
        "Table 2 row 57, column AB (03/11/2023): RCB has more than one row for this day"] * 2
    # remaining != NCTR - discharged is only judged when all three are present
    assert issues.filter(pl.col("rule").str.starts_with("nctr_remaining"))["message"].str.contains("04/11/2023").all()


@pytest.mark.parametrize("full, short", [
    ("YORK AND SCARBOROUGH TEACHING HOSPITALS NHS FOUNDATION TRUST", "York and Scarborough"),
    ("HARROGATE AND DISTRICT NHS FOUNDATION TRUST", "Harrogate and District"),
    ("THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST", "Newcastle upon Tyne"),
    ("SOUTH TEES HOSPITALS NHS FOUNDATION TRUST", "South Tees"),
    ("AIREDALE NHS FOUNDATION TRUST", "Airedale"),
    ("BARTS HEALTH NHS TRUST", "Barts Health"),
    ("KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST", "King's College"),
    ("GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "Guy's and St Thomas'"),
    ("UNIVERSITY HOSPITALS OF NORTH MIDLANDS NHS TRUST", "North Midlands"),
    ("UNIVERSITY COLLEGE LONDON HOSPITALS NHS FOUNDATION TRUST", "University College London"),
    ("PORTSMOUTH HOSPITALS UNIVERSITY NATIONAL HEALTH SERVICE TRUST", "Portsmouth"),
    ("THE QUEEN ELIZABETH HOSPITAL, KING'S LYNN, NHS FOUNDATION TRUST", "Queen Elizabeth Hospital, King's Lynn"),
    ("ISLE OF WIGHT NHS TRUST", "Isle of Wight"),
    ("HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST", "Hull"),
    ("WORCESTERSHIRE ACUTE HOSPITALS NHS TRUST", "Worcestershire"),
    ("NORTH STAFFORDSHIRE COMBINED HEALTHCARE NHS TRUST", "North Staffordshire Combined Healthcare"),
])
def test_short_name(full: str, short: str) -> None:
    assert nhse.short_name(full) == short


def test_title_case_and_icb_short_name() -> None:
    assert nhse.title_case("NHS STAFFORDSHIRE AND STOKE-ON-TRENT INTEGRATED CARE BOARD") == (
        "NHS Staffordshire and Stoke-on-Trent Integrated Care Board")
    assert nhse.icb_short_name(HUMBER) == "NHS Humber and North Yorkshire ICB"
