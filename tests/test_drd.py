"""NHS England's discharge ready date (DRD) publication (docs/domain.md section 2.5), on workbooks built here
from the documented labels in every Provider layout, and the England Timeseries: every value reaches the
warehouse as published, trust months are never summed with daily figures, and a month whose data NHS
England did not accept is shown but never rated."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from helpers import load_rows_directly, query, week_of_rows
from test_trust_page import run_page, sections, texts

from pipelines.catalogue.columns import COUNT_COLUMNS
from pipelines.catalogue.issues import FileRejected
from pipelines.ingest.load import ingest_paths
from pipelines.publication.drd import ACCEPTABLE, BASE, FROM_APRIL_2024, LABELS
from pipelines.publication.read import detect, read_publication
from pipelines.queries.drd import trust_drd_months
from ui import trust_sections

SEPTEMBER, NOVEMBER, APRIL = date(2023, 9, 1), date(2023, 11, 1), date(2024, 4, 1)
# Acceptable data (1 provider, 100%) for the Royal Free; not for North Middlesex.
TRUSTS = (("LONDON", "NHS NORTH CENTRAL LONDON ICB", "RAL", "ROYAL FREE LONDON NHS FOUNDATION TRUST", 1, 1.0),
          ("LONDON", "NHS NORTH CENTRAL LONDON ICB", "RAP", "NORTH MIDDLESEX UNIVERSITY HOSPITAL NHS TRUST", 0, 0.0))
_IDENTITY = ("region", "icb", "org code", "org name")
# The layouts as documented: the measures' order as in the Timeseries sheet.
LAYOUTS = {
    "22 columns": (*_IDENTITY, *ACCEPTABLE, "data source", *BASE),
    "november 2023": ("code", "name", *ACCEPTABLE, *BASE),
    "39 columns": (*_IDENTITY, *ACCEPTABLE, "data source", *FROM_APRIL_2024[:2], *BASE[:2], *FROM_APRIL_2024[2:16],
                   *BASE[2:], FROM_APRIL_2024[16]),
}
LAYOUTS["april 2024"] = (*LAYOUTS["39 columns"], "extra")
HEADERS = {"code": "Code", "name": "Name", "extra": "Number of patients with a DRD recorded"}


def _label(name: str, n: int) -> str:
    """The published label; every third one with the trailing space NHS England's files carry."""
    label = HEADERS.get(name) or LABELS[name]
    return label + (" " if n % 3 == 0 else "")


def _value(name: str, row: int, column: int) -> object:
    """A distinct figure per cell: shares as fractions, counts and bed days whole, averages with decimals."""
    if name.startswith("pct_"):
        return round(0.01 * (row + 1) + 0.001 * column, 4)
    if name.startswith("avg_"):
        return 1.5 + row + column / 100
    return 100 * (row + 1) + column


def provider_workbook(columns: tuple[str, ...], month: date, titles: list[tuple[object, ...]] | None = None
                      ) -> tuple[bytes, dict[tuple[str, str], object]]:
    """A monthly DRD workbook (sheet 'Provider') with these columns, and its values by (org code, label).
    ``titles``: the rows above the header (default: a one-line title naming the month)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Provider")
    titles = titles or [(f"Discharge Ready Date - provider level data - {month:%B %Y}",),
                        ("Source: Acute discharge situation report",)]
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    for r, cells in enumerate(titles):
        for c, cell in enumerate(cells):
            if isinstance(cell, date):
                sheet.write_datetime(r, c, cell, day)  # type: ignore[arg-type]  # a date is written as a datetime
            else:
                sheet.write(r, c, cell)
    header = len(titles) + 1
    sheet.write_row(header, 0, [_label(name, n) for n, name in enumerate(columns)])
    expected: dict[tuple[str, str], object] = {}
    for r, (region, icb, code, name, accepted, share) in enumerate(TRUSTS):
        given = {"region": region, "icb": icb, "org code": code, "code": code, "org name": name, "name": name,
                 "data source": "Sitrep", "providers_acceptable": accepted, "pct_providers_acceptable": share}
        for c, column in enumerate(columns):
            value = given.get(column, _value(column, r, c))
            sheet.write(header + 1 + r, c, value)
            if column not in given or column in ACCEPTABLE:
                expected[(code, HEADERS.get(column) or LABELS[column])] = value
    book.close()
    return out.getvalue(), expected


TIMESERIES = (*ACCEPTABLE, *FROM_APRIL_2024[:2], *BASE[:2], *FROM_APRIL_2024[2:16], *BASE[2:], FROM_APRIL_2024[16])


def timeseries_workbook(months: list[date]) -> tuple[bytes, dict[tuple[date, str], object]]:
    """The England time series (sheet 'Timeseries', header row starting 'Month'); before April 2024 the
    measures added then are empty, as published."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Timeseries")
    sheet.write(0, 0, "Discharge Ready Date - England time series")
    sheet.write_row(2, 0, ["Month", *(_label(name, n) for n, name in enumerate(TIMESERIES))])
    when = book.add_format({"num_format": "mmm-yy"})
    expected: dict[tuple[date, str], object] = {}
    for r, month in enumerate(months):
        sheet.write_datetime(3 + r, 0, month, when)  # type: ignore[arg-type]  # a date is written as a datetime
        for c, name in enumerate(TIMESERIES, start=1):
            if month < APRIL and name in FROM_APRIL_2024:
                continue
            value = 120 if name == "providers_acceptable" else _value(name, r, c)
            sheet.write(3 + r, c, value)
            expected[(month, LABELS[name])] = value
    book.close()
    return out.getvalue(), expected


def _load(tmp_path: Path, db: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [outcome] = list(ingest_paths([path], db))
    assert outcome.status == "loaded", outcome.message


@pytest.mark.parametrize(("layout", "month"), [("22 columns", SEPTEMBER), ("november 2023", NOVEMBER),
                                               ("39 columns", date(2024, 6, 1)), ("april 2024", APRIL)])
def test_every_provider_layout_reaches_the_warehouse_cell_by_cell(tmp_path: Path, db: Path, layout: str,
                                                                  month: date) -> None:
    content, expected = provider_workbook(LAYOUTS[layout], month)
    assert len(LAYOUTS[layout]) == {"22 columns": 22, "november 2023": 19, "39 columns": 39, "april 2024": 40}[layout]
    assert detect("renamed.xlsx", content) == "nhse_drd_workbook"  # by content, never by name
    _load(tmp_path, db, "Discharge-Ready-Date-monthly-data-webfile.xlsx", content)
    stored = {(code, label): value for code, label, value in query(
        db, "SELECT org_code, label, value FROM nhse_drd_monthly")}
    assert stored == pytest.approx(expected)
    assert query(db, "SELECT DISTINCT month FROM nhse_drd_monthly") == [(month,)]
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(0,)]  # never summed with the daily figures


def test_the_april_2024_extra_column_is_kept_under_its_own_label_and_noted() -> None:
    content, _ = provider_workbook(LAYOUTS["april 2024"], APRIL)
    read = read_publication("drd.xlsx", content)
    assert "Number of patients with a DRD recorded" in set(read.monthly["label"])  # type: ignore[attr-defined]
    assert any("beyond the layout" in note and "DRD recorded" in note for note in read.notes)


def test_a_month_without_acceptable_data_is_shown_but_never_rated(tmp_path: Path, db: Path) -> None:
    _load(tmp_path, db, "drd.xlsx", provider_workbook(LAYOUTS["22 columns"], SEPTEMBER)[0])
    with duckdb.connect(str(db), read_only=True) as con:
        royal_free = trust_drd_months(con, "RAL", SEPTEMBER, date(2023, 9, 30))
        north_middlesex = trust_drd_months(con, "RAP", SEPTEMBER, date(2023, 9, 30))
    assert north_middlesex.height == royal_free.height == 2  # the headline measures, shown for both
    assert north_middlesex["may_be_rated"].to_list() == [False] * 2
    assert royal_free["may_be_rated"].to_list() == [True] * 2
    assert query(db, "SELECT short_name FROM trusts WHERE org_code = 'RAP'") == [("North Middlesex",)]


def test_a_reissued_month_replaces_the_earlier_figures(tmp_path: Path, db: Path) -> None:
    first, _ = provider_workbook(LAYOUTS["22 columns"], SEPTEMBER)
    _load(tmp_path, db, "first.xlsx", first)
    again, expected = provider_workbook(LAYOUTS["39 columns"], SEPTEMBER)
    _load(tmp_path, db, "again.xlsx", again)
    assert query(db, "SELECT count(*) FROM nhse_drd_monthly") == [(len(expected),)]


def test_the_england_timeseries_is_stored_as_published(tmp_path: Path, db: Path) -> None:
    months = [date(2023, 9, 1), date(2023, 10, 1), date(2024, 3, 1), APRIL, date(2024, 5, 1)]
    content, expected = timeseries_workbook(months)
    _load(tmp_path, db, "Discharge-Ready-Date-Timeseries-webfile.xlsx", content)
    stored = {(month, label): value for month, label, value in query(
        db, "SELECT month, label, value FROM publication_drd_england WHERE value IS NOT NULL")}
    assert stored == pytest.approx(expected)
    assert query(db, "SELECT count(*) FROM nhse_drd_monthly") == [(0,)]  # England is never a trust


@pytest.mark.parametrize(("drop", "said"), [
    ("pct_dod_same_as_drd", "'DoD is same as DRD (%)'"),
    ("org name", "'Org Name'"),
    ("avg_days_drd_to_dod_exc_0_day", "'Average days from DRD to DoD (exc 0-day delays)'"),
])
def test_a_provider_sheet_matching_no_layout_is_rejected_naming_what_it_lacked(drop: str, said: str) -> None:
    content, _ = provider_workbook(tuple(c for c in LAYOUTS["22 columns"] if c != drop), SEPTEMBER)
    with pytest.raises(FileRejected, match="matches none of the DRD Provider layouts") as rejected:
        read_publication("drd.xlsx", content)
    assert said in str(rejected.value)


def test_the_trust_drilldown_shows_the_months_as_points_and_says_which_were_not_accepted(tmp_path: Path,
                                                                                         db: Path) -> None:
    load_rows_directly(db, [row for monday in (date(2023, 9, 4), date(2023, 9, 11))
                            for row in week_of_rows("RAP", monday)])
    _load(tmp_path, db, "Discharge-Ready-Date-monthly-data-webfile-September2023.xlsx",
          provider_workbook(LAYOUTS["22 columns"], SEPTEMBER)[0])
    app = run_page(trust="RAP", metric="stranded_7plus_pct", drd="true", **{"from": "2023-09-04", "to": "2023-09-17"})
    assert "Discharge ready date (NHS England, monthly)" in sections(app)
    [caption] = [c for c in texts(app.caption) if "discharge ready date" in c]
    assert "did not accept the data for September 2023" in caption
    assert "Discharge-Ready-Date-monthly-data-webfile-September2023.xlsx" in caption


def nhse_title_block(period: tuple[object, ...], published: date) -> list[tuple[object, ...]]:
    """NHS England's title block above a statistical sheet (the labels of the acute discharge workbook's cover,
    tests/fixtures/nhse): the month is the Period row's, while the summary names when the collection began and
    the Published row the following month."""
    return [("Title:", "Discharge Ready Date - monthly data"),
            ("Summary:", "Days from discharge ready date to discharge for adult general and acute patients, collected "
                         "since September 2023 through the acute discharge situation report."),
            ("Period:", *period), ("Source:", "Acute discharge situation report"), ("Basis:", "Provider"),
            ("Published:", published), ("Revised:", "-"), ("Status:", "Published"),
            ("Contact:", "england.nhsdata@nhs.net")]


@pytest.mark.parametrize("period", [("November 2023",), (NOVEMBER, "-", date(2023, 11, 30))],
                         ids=["month in words", "first and last day"])
def test_the_month_is_the_title_blocks_period_not_another_date_above_the_header(tmp_path: Path, db: Path,
                                                                                period: tuple[object, ...]) -> None:
    titles = nhse_title_block(period, published=date(2024, 1, 11))
    content, expected = provider_workbook(LAYOUTS["november 2023"], NOVEMBER, titles)
    _load(tmp_path, db, "Discharge-Ready-Date-monthly-data-webfile-November2023.xlsx", content)
    assert query(db, "SELECT DISTINCT month FROM nhse_drd_monthly") == [(NOVEMBER,)]
    stored = {(code, label): value for code, label, value in query(
        db, "SELECT org_code, label, value FROM nhse_drd_monthly")}
    assert stored == pytest.approx(expected)


def test_without_a_period_row_the_published_date_is_never_taken_for_the_month() -> None:
    titles = [row for row in nhse_title_block(("-",), published=date(2024, 1, 11)) if row[0] != "Summary:"]
    titles[0] = ("Title:", "Discharge Ready Date - monthly data - November 2023")
    read = read_publication("drd.xlsx", provider_workbook(LAYOUTS["22 columns"], NOVEMBER, titles)[0])
    assert set(read.monthly["month"]) == {NOVEMBER}  # type: ignore[attr-defined]


def test_every_count_field_of_the_template_has_plain_words() -> None:
    """'Where each figure came from' names every field of the template in words, the DRD columns included."""
    assert set(COUNT_COLUMNS) - set(trust_sections.FIELD_WORDS) == set()
    sources = pl.DataFrame({"field": ["past_drd_21plus", "drd_delay_2_3"], "source": ["trust_sitrep"] * 2,
                            "days": [7, 7]})
    assert trust_sections.field_source_text(sources).endswith(
        "inpatients 21+ days past their discharge ready date: the trust's own sitrep files (7 days); "
        "discharged 2-3 days after their discharge ready date: the trust's own sitrep files (7 days).")
