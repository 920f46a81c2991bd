"""pipelines.ingest.readers: every tolerance and every whole-file rejection of read_sitrep."""
from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.catalogue.columns import COLUMN_NAMES, COLUMNS, DRD_COLUMNS, SCHEMA
from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.ingest import cells
from pipelines.ingest.cells import MAX_FIELD_CHARS
from pipelines.ingest.readers import SitrepRead, _read_columns, _read_text, read_sitrep, read_sitreps

# One valid row of text per template column, in template order.
GOOD = {
    "period_date": "01/04/2024", "org_code": "RCB", "site_code": "RCB55",
    "ga_beds_open": "500", "ga_beds_occupied": "450", "covid_beds_occupied": "20",
    "los_7plus": "200", "los_14plus": "100", "los_21plus": "50",
    "nctr_patients": "60", "nctr_discharged": "30", "nctr_discharged_by_5pm": "10",
    "discharges_p0": "40", "discharges_p1": "20", "discharges_p2": "3", "discharges_p3": "1",
    "drd_discharges": "10", "drd_delay_0": "4", "drd_delay_1": "2", "drd_delay_2_3": "1", "drd_delay_4_6": "1",
    "drd_delay_7_13": "1", "drd_delay_14_20": "0", "drd_delay_21plus": "1", "drd_delay_days": "40",
    "past_drd_21plus": "3", "internal_delay_48h_plus": "2",
    "trust_opel": "3", "la_opel": "2",
}
GOOD_VALUES = {
    "period_date": dt.date(2024, 4, 1), "org_code": "RCB", "site_code": "RCB55",
    "ga_beds_open": 500, "ga_beds_occupied": 450, "covid_beds_occupied": 20,
    "los_7plus": 200, "los_14plus": 100, "los_21plus": 50,
    "nctr_patients": 60, "nctr_discharged": 30, "nctr_discharged_by_5pm": 10,
    "discharges_p0": 40, "discharges_p1": 20, "discharges_p2": 3, "discharges_p3": 1,
    "drd_discharges": 10, "drd_delay_0": 4, "drd_delay_1": 2, "drd_delay_2_3": 1, "drd_delay_4_6": 1,
    "drd_delay_7_13": 1, "drd_delay_14_20": 0, "drd_delay_21plus": 1, "drd_delay_days": 40,
    "past_drd_21plus": 3, "internal_delay_48h_plus": 2,
    "trust_opel": 3, "la_opel": 2,
}
HEADER = ",".join(COLUMN_NAMES)


def csv_line(cells) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def data_line(**changes: str) -> str:
    return csv_line({**GOOD, **changes}.values())


def write_csv(tmp_path: Path, lines: list[str], *, encoding: str = "utf-8", bom: bool = False,
              newline: str = "\n", name: str = "sitrep.csv") -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (newline.join(lines) + newline).encode(encoding))
    return path


def read_lines(tmp_path: Path, lines: list[str], **kwargs) -> SitrepRead:
    return read_sitrep(write_csv(tmp_path, lines, **kwargs))


def rejection(path: Path | str, content: bytes | None = None) -> str:
    with pytest.raises(FileRejected) as caught:
        read_sitrep(path, content)
    return str(caught.value)


# --- encodings and line endings ---------------------------------------------------------

@pytest.mark.parametrize(("encoding", "bom", "reader"), [
    ("utf-8", False, "csv (utf-8)"),
    ("utf-8", True, "csv (utf-8 with BOM)"),
    ("cp1252", False, "csv (windows-1252)"),
])
def test_reads_utf8_with_or_without_bom_and_windows_1252(tmp_path, encoding, bom, reader):
    lines = ["Bed state report £ (draft)", HEADER + ",Hôpital name", data_line() + ",Hôpital Évry"]
    result = read_lines(tmp_path, lines, encoding=encoding, bom=bom)
    assert result.reader == reader
    assert result.notes == ["ignored column(s) not in the template: 'Hôpital name'",
                            "header found on row 2; the rows above it were skipped"]
    assert result.frame.to_dicts() == [{"source_row": 3, **GOOD_VALUES}]


def test_crlf_line_endings_leave_no_carriage_return_in_the_last_column(tmp_path):
    result = read_lines(tmp_path, [HEADER, data_line(), "", data_line(la_opel="4")], newline="\r\n")
    assert result.raw["la_opel"].to_list() == ["2", "4"]
    assert result.frame["la_opel"].to_list() == [2, 4]
    assert result.frame["source_row"].to_list() == [2, 4]


def test_frame_raw_and_issues_have_the_promised_schemas(tmp_path):
    result = read_lines(tmp_path, [HEADER, data_line(ga_beds_open="lots")])
    assert result.frame.schema == pl.Schema(SCHEMA)
    assert result.raw.schema == pl.Schema({"source_row": pl.Int64, **{c: pl.String for c in COLUMN_NAMES}})
    assert result.issues.schema == pl.Schema(ISSUE_SCHEMA)
    assert result.raw.row(0, named=True) == {"source_row": 2, **GOOD, "ga_beds_open": "lots"}


# --- header -----------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    ["  PERIOD date ", "Org Code", "site", "G&A Beds Open", "G&A Beds Occupied", "COVID-19 beds occupied",
     "LoS 7+", "LoS 14+", "LoS 21+", "NCTR", "NCTR discharges", "NCTR discharged by 17:00",
     "Pathway 0", "Pathway 1", "Pathway 2", "Pathway 3", "OPEL level", "Local authority OPEL", "Comments"],
    ["Date", "ODS code", "Site ODS code", "GA Beds", "Beds occupied", "Covid beds", "Stranded", "LOS_14",
     "Super stranded", "NCTR total", "Discharged NCTR", "Discharged by 5pm", "P0", "P1", "P2", "P3",
     "Trust OPEL level", "LA OPEL level", "Comments"],
])
def test_header_aliases_in_any_case_or_spacing_and_extra_columns_ignored(tmp_path, header):
    older = [GOOD[c] for c in COLUMN_NAMES if c not in DRD_COLUMNS]  # a file from before the DRD columns
    result = read_lines(tmp_path, [csv_line(header), csv_line([*older, "ok"])])
    assert result.frame.to_dicts() == [{"source_row": 2, **GOOD_VALUES, **dict.fromkeys(DRD_COLUMNS)}]
    assert result.notes == ["ignored column(s) not in the template: 'Comments'"]


def test_title_rows_above_the_header_and_blank_rows_anywhere(tmp_path):
    lines = ["Daily discharge sitrep", "Trust: York and Scarborough", "", HEADER, "",
             data_line(), ",,,,,", "   ", data_line(period_date="02/04/2024"), "", ""]
    result = read_lines(tmp_path, lines)
    assert result.frame["source_row"].to_list() == [6, 9]
    assert result.frame["period_date"].to_list() == [dt.date(2024, 4, 1), dt.date(2024, 4, 2)]
    assert "header found on row 4; the rows above it were skipped" in result.notes


def test_10_a_column_named_twice_rejects_the_file_naming_it(tmp_path):
    """Issue 22, item 10: ga_beds_open twice (500 and 9999) loaded the first silently; which one holds the
    figures cannot be told, so the file is rejected, naming the column and both places."""
    path = tmp_path / "sitrep.csv"
    path.write_text("\n".join([HEADER + ",ga_beds_open", data_line() + ",9999"]) + "\n", encoding="utf-8")
    assert rejection(path) == (
        f"sitrep.csv: the header (row 1) has two columns for ga_beds_open: 'ga_beds_open' (column 4) and "
        f"'ga_beds_open' (column {len(COLUMN_NAMES) + 1}); nothing was read from the file. Please keep one of them "
        "and send it again.")
    path.write_text("\n".join([HEADER + ",Trust", data_line() + ",York"]) + "\n", encoding="utf-8")
    assert "has two columns for org_code: 'org_code' (column 2) and 'Trust'" in rejection(path)


def test_optional_columns_may_be_absent(tmp_path):
    kept = [c for c in COLUMN_NAMES if c not in ("site_code", "covid_beds_occupied", "la_opel")]
    line = csv_line(GOOD[c] for c in kept)
    result = read_lines(tmp_path, [",".join(kept), line])
    assert result.frame.schema == pl.Schema(SCHEMA)
    assert result.frame.row(0, named=True) == {
        "source_row": 2, **GOOD_VALUES, "site_code": None, "covid_beds_occupied": None, "la_opel": None}
    assert result.raw["la_opel"].to_list() == [None]


# --- values -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "2024-04-01", "2024-4-1", "01/04/2024", "1/4/2024", "01-04-2024", "01.04.2024", "01/04/24",
    "2024-04-01 00:00:00", "01/04/2024 00:00", "45383", " 01/04/2024 ",
])
def test_dates_iso_uk_day_first_datetime_text_and_excel_serials(tmp_path, text):
    result = read_lines(tmp_path, [HEADER, data_line(period_date=text)])
    assert result.frame["period_date"].to_list() == [dt.date(2024, 4, 1)]
    assert result.issues.is_empty()


def test_uk_dates_are_always_day_first(tmp_path):
    result = read_lines(tmp_path, [HEADER, data_line(period_date="02/03/2024"), data_line(period_date="13/01/24")])
    assert result.frame["period_date"].to_list() == [dt.date(2024, 3, 2), dt.date(2024, 1, 13)]


@pytest.mark.parametrize("text", ["31/02/2024", "04/31/2024", "April 1st", "12"])
def test_an_impossible_date_is_null_with_a_date_issue(tmp_path, text):
    result = read_lines(tmp_path, ["Sitrep", HEADER, data_line(period_date=text)])
    assert result.frame["period_date"].to_list() == [None]
    assert result.raw["period_date"].to_list() == [text]
    assert result.issues.to_dicts() == [{
        "source_row": 3, "column_name": "period_date", "rule": "date", "severity": "error",
        "message": f"row 3: period_date ('{text}') is not a date (expected dd/mm/yyyy, yyyy-mm-dd or an Excel date)"}]


@pytest.mark.parametrize(("text", "value"), [
    ("1,234", 1234), (" 12 ", 12), ("12.0", 12), ("-3", -3), ("1,234.00", 1234), ("0", 0),
])
def test_whole_numbers_with_separators_spaces_excel_floats_and_signs(tmp_path, text, value):
    result = read_lines(tmp_path, [HEADER, data_line(ga_beds_open=text)])
    assert result.frame["ga_beds_open"].to_list() == [value]
    assert result.issues.is_empty()


@pytest.mark.parametrize("text", ["12.5", "12a", "1,2", "n/a"])
def test_a_number_that_is_not_whole_is_null_with_an_issue(tmp_path, text):
    result = read_lines(tmp_path, [HEADER, data_line(), data_line(ga_beds_open=text)])
    assert result.frame["ga_beds_open"].to_list() == [500, None]
    assert result.issues.to_dicts() == [{
        "source_row": 3, "column_name": "ga_beds_open", "rule": "whole_number", "severity": "error",
        "message": f"row 3: ga_beds_open ('{text}') is not a whole number"}]


def test_issues_are_in_row_then_template_column_order(tmp_path):
    lines = [HEADER, data_line(la_opel="x", ga_beds_open="y"), data_line(period_date="z")]
    issues = read_lines(tmp_path, lines).issues
    assert issues.select("source_row", "column_name").rows() == [
        (2, "ga_beds_open"), (2, "la_opel"), (3, "period_date")]


def test_a_blank_cell_is_null_without_an_issue(tmp_path):
    result = read_lines(tmp_path, [HEADER, data_line(los_7plus="  ")])
    assert result.frame["los_7plus"].to_list() == [None]
    assert result.raw["los_7plus"].to_list() == [None]
    assert result.issues.is_empty()


def test_codes_are_upper_cased_and_stripped(tmp_path):
    result = read_lines(tmp_path, [HEADER, data_line(org_code=" rcb ", site_code="rcb55  ")])
    assert result.frame.select("org_code", "site_code").row(0) == ("RCB", "RCB55")
    assert result.raw.select("org_code", "site_code").row(0) == ("rcb", "rcb55")


@pytest.mark.parametrize(("text", "level"), [("3", 3), ("OPEL 3", 3), ("opel4", 4), (" OPEL-2 ", 2), ("1.0", 1)])
def test_opel_as_number_or_opel_text(tmp_path, text, level):
    result = read_lines(tmp_path, [HEADER, data_line(trust_opel=text, la_opel=text)])
    assert result.frame.select("trust_opel", "la_opel").row(0) == (level, level)


def test_an_opel_value_that_is_not_a_whole_number_is_an_opel_level_issue(tmp_path):
    result = read_lines(tmp_path, [HEADER, data_line(trust_opel="high")])
    assert result.frame["trust_opel"].to_list() == [None]
    assert result.issues.to_dicts() == [{
        "source_row": 2, "column_name": "trust_opel", "rule": "opel_level", "severity": "error",
        "message": "row 2: trust_opel ('high') is not an OPEL level (expected a whole number such as 3 or 'OPEL 3')"}]


# --- totals rows ------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "label"), [
    ("org_code", "Total"), ("org_code", "TOTALS"), ("period_date", "Grand total"), ("org_code", "england"),
])
def test_a_labelled_totals_row_is_skipped_with_a_note(tmp_path, column, label):
    lines = [HEADER, data_line(), data_line(**{column: label}), data_line(period_date="02/04/2024")]
    result = read_lines(tmp_path, lines)
    assert result.frame["source_row"].to_list() == [2, 4]
    assert result.raw["source_row"].to_list() == [2, 4]
    assert result.notes == ["row 3: totals row skipped"]


def test_a_missing_org_code_is_a_totals_row_only_on_the_last_row(tmp_path):
    lines = [HEADER, data_line(), data_line(org_code=""), data_line(),
             data_line(period_date="", org_code="", site_code=""), "", ""]
    result = read_lines(tmp_path, lines)
    assert result.frame["source_row"].to_list() == [2, 3, 4]
    assert result.frame["org_code"].to_list() == ["RCB", None, "RCB"]
    assert result.notes == ["row 5: totals row skipped (last row, no org_code)"]


# --- many files read together ------------------------------------------------------------

def test_files_read_together_each_read_as_on_its_own(tmp_path):
    """read_sitreps parses the files' cells as one frame; each file still gets its own frame, raw text, issues
    (row numbers its own), notes and reader, or its own rejection, whatever the others hold."""
    files = [
        ("tidy.csv", [HEADER, data_line(), data_line(period_date="02/04/2024")]),
        ("messy.csv", ["A title", HEADER, data_line(ga_beds_open=" 1,200 ", la_opel="OPEL 2"),
                       data_line(period_date="31/02/2024"), data_line(org_code="Total")]),
        ("empty.csv", []),
        ("no header.csv", ["name,colour", "foo,blue"]),
        ("last row totals.csv", [HEADER, data_line(trust_opel="3.5"), data_line(period_date="", org_code="")]),
    ]
    contents = [(name, write_csv(tmp_path, lines, name=name).read_bytes() if lines else b"") for name, lines in files]
    for (name, content), together in zip(contents, read_sitreps(contents), strict=True):
        if isinstance(together, FileRejected):
            assert str(together) == rejection(name, content)
            continue
        alone = read_sitrep(name, content)
        for part in ("frame", "raw", "issues"):
            assert_frame_equal(getattr(together, part), getattr(alone, part))
        assert (together.notes, together.reader) == (alone.notes, alone.reader)
    assert [type(read).__name__ for read in read_sitreps(contents)] == [
        "SitrepRead", "SitrepRead", "FileRejected", "FileRejected", "SitrepRead"]


# --- quoted cells spanning lines ----------------------------------------------------------

def test_source_rows_stay_right_after_a_quoted_cell_that_spans_lines(tmp_path):
    lines = [HEADER + ",Comments", data_line() + ',"line one\nline two"', data_line(org_code="RAE") + ",ok"]
    result = read_lines(tmp_path, lines)
    assert result.frame.select("source_row", "org_code").rows() == [(2, "RCB"), (4, "RAE")]


# --- Excel ------------------------------------------------------------------------------

def write_workbook(path: Path) -> Path:
    """Data on the third sheet, which starts at B3 (rows 1-2 and column A empty)."""
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Cover")  # empty
    book.add_worksheet("Notes").write("A1", "Guidance: one row per trust per day")
    sheet = book.add_worksheet("Daily data")
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write("B3", "Daily sitrep £")
    sheet.write_row("B5", ["Period Date", "Org Code", *COLUMN_NAMES[2:]])
    sheet.write_datetime("B6", dt.datetime(2024, 4, 1), date_format)  # a real date cell
    sheet.write_string("C6", "rcb")
    sheet.write_row("D6", [GOOD[c] for c in COLUMN_NAMES[2:3]])  # site_code as text
    sheet.write_row("E6", [int(GOOD[c]) for c in COLUMN_NAMES[3:]])  # numbers stored as numbers
    sheet.write_formula("E6", "=400+100", None, 500)  # read as its stored value, never evaluated
    sheet.write_number("B8", 45384)  # a date as a bare Excel serial number
    sheet.write_row("C8", [GOOD[c] for c in COLUMN_NAMES[1:]])  # numbers stored as text
    sheet.write_string("E8", "1,234")
    sheet.write_number("F8", 12.5)
    sheet.write_row("B9", ["Total", "", "", 9999])
    book.close()
    return path


def test_xlsx_uses_the_first_sheet_with_a_header_and_reports_excel_row_numbers(tmp_path):
    result = read_sitrep(write_workbook(tmp_path / "sitrep.xlsx"))
    assert result.reader == "xlsx (sheet 'Daily data')"
    assert result.notes == ["used sheet 'Daily data'; skipped sheet(s) without a header row: 'Cover', 'Notes'",
                            "header found on row 5; the rows above it were skipped",
                            "row 9: totals row skipped"]
    assert result.frame.to_dicts() == [
        {"source_row": 6, **GOOD_VALUES},
        {"source_row": 8, **GOOD_VALUES, "period_date": dt.date(2024, 4, 2), "ga_beds_open": 1234,
         "ga_beds_occupied": None},
    ]
    assert result.issues.select("source_row", "message").rows() == [
        (8, "row 8: ga_beds_occupied ('12.5') is not a whole number")]


def test_file_type_comes_from_the_content_not_the_extension(tmp_path):
    xlsx = write_workbook(tmp_path / "sitrep.xlsx").read_bytes()
    assert read_sitrep("upload.csv", content=xlsx).reader == "xlsx (sheet 'Daily data')"
    text = write_csv(tmp_path, [HEADER, data_line()]).read_bytes()
    assert read_sitrep("upload.xlsx", content=text).frame.to_dicts() == [{"source_row": 2, **GOOD_VALUES}]


# --- whole-file rejections ----------------------------------------------------------------

def test_rejects_random_binary(tmp_path):
    path = tmp_path / "sitrep.csv"
    path.write_bytes(bytes(range(256)) * 8)
    assert rejection(path) == "sitrep.csv: this is not a CSV or Excel (.xlsx) file (it contains binary data)."


def test_rejects_an_old_xls_file(tmp_path):
    path = tmp_path / "sitrep.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert rejection(path) == ("sitrep.xls: this is an old-style Excel (.xls) or password-protected file; "
                               "please save it as .xlsx (without a password) or CSV.")


def test_rejects_a_word_document(tmp_path):
    path = tmp_path / "sitrep.docx"
    with zipfile.ZipFile(path, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<document/>")
    assert rejection(path).startswith("sitrep.docx: this is a zip file but not an Excel workbook (.xlsx)")


def test_rejects_a_truncated_xlsx(tmp_path):
    content = write_workbook(tmp_path / "whole.xlsx").read_bytes()[:200]
    assert rejection("sitrep.xlsx", content) == (
        "sitrep.xlsx: the Excel file is damaged or incomplete (not a valid .xlsx).")


def test_rejects_a_workbook_the_excel_library_cannot_parse(tmp_path):
    path = tmp_path / "sitrep.xlsx"
    with zipfile.ZipFile(path, "w") as xlsx:
        xlsx.writestr("xl/workbook.xml", "this is not xml")
    assert rejection(path) == ("sitrep.xlsx: the file could not be read as CSV or Excel (.xlsx); "
                               "it may be damaged.")


@pytest.mark.parametrize("content", [b"", b"  \r\n\r\n"])
def test_rejects_an_empty_file(tmp_path, content):
    path = tmp_path / "sitrep.csv"
    path.write_bytes(content)
    assert rejection(path) == "sitrep.csv: the file is empty."


def test_rejects_a_missing_file(tmp_path):
    assert rejection(tmp_path / "nowhere.csv").startswith("nowhere.csv: the file could not be opened")


NO_HEADER = ("sitrep.csv: no header row found in the first 30 rows: "
             "expected columns such as period_date and org_code.")


def test_rejects_a_csv_without_a_header_row(tmp_path):
    lines = ["Daily sitrep", "Org Code,Beds", "RCB,500"]
    assert rejection(write_csv(tmp_path, lines)) == NO_HEADER


def test_rejects_a_header_below_row_30(tmp_path):
    assert rejection(write_csv(tmp_path, ["title"] * 30 + [HEADER, data_line()])) == NO_HEADER
    assert read_lines(tmp_path, ["title"] * 29 + [HEADER, data_line()]).frame["source_row"].to_list() == [31]


def test_rejects_a_workbook_without_a_header_row(tmp_path):
    path = tmp_path / "sitrep.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Data").write_row("A1", ["Org", "Beds"])
    book.close()
    assert rejection(path) == NO_HEADER.replace("sitrep.csv", "sitrep.xlsx")


def test_rejects_missing_required_columns_naming_them_all(tmp_path):
    kept = [c for c in COLUMN_NAMES if c not in ("los_7plus", "trust_opel", "la_opel")]
    lines = [",".join(kept), csv_line(GOOD[c] for c in kept)]
    assert rejection(write_csv(tmp_path, lines)) == (
        "sitrep.csv: required column(s) missing from the header (row 1): los_7plus, trust_opel.")


@pytest.mark.parametrize("body", [[], ["", ",,,"], [data_line(org_code="Total")]])
def test_rejects_a_header_without_data_rows(tmp_path, body):
    assert rejection(write_csv(tmp_path, ["Sitrep", HEADER, *body])) == (
        "sitrep.csv: the header row (row 2) has no data rows below it.")


# --- the whole value space (issue 14): any integer, any date, any Unicode code, ragged rows ---
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u00a0\u2003 "


def read_text(text: str) -> SitrepRead:
    return read_sitrep("sitrep.csv", text.encode("utf-8"))


@given(st.integers(-(2**63), 2**63 - 1), st.booleans())
@PROPERTY
def test_any_64_bit_integer_is_read_exactly(value, thousands):
    text = f'"{value:,}"' if thousands else str(value)
    read = read_text("\n".join([HEADER, data_line(ga_beds_open="X").replace(",X,", f",{text},", 1)]) + "\n")
    assert read.frame["ga_beds_open"].to_list() == [value]
    assert read.issues.is_empty()


@given(st.dates(), st.sampled_from(["%Y-%m-%d", "%d/%m/%Y"]))
@PROPERTY
def test_any_date_is_read_exactly_in_iso_and_uk_form(day, layout):
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}" if layout == "%Y-%m-%d" else \
        f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    read = read_text("\n".join([HEADER, data_line(period_date=text)]) + "\n")
    assert read.frame["period_date"].to_list() == [day]


@given(st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=MAX_FIELD_CHARS // 10),
       st.text(INVISIBLE, max_size=3), st.text(INVISIBLE, max_size=3))
@PROPERTY
def test_any_unicode_site_code_is_normalised_before_any_rule(code, before, after):
    read = read_text("\n".join([HEADER, data_line(site_code=csv_line([before + code + after]))]) + "\n")
    [site] = read.frame["site_code"].to_list() or [None]
    if site is not None:
        assert not set(site) & set(INVISIBLE) and not any(ch.isspace() and ch not in "\x1c\x1d\x1e\x1f" for ch in site)
        assert site == site.upper() or site.upper() != site.upper().upper()  # upper case (stable where defined)
        assert unicodedata.normalize("NFKC", site) == site or unicodedata.normalize("NFKC", site).upper() != site
    if code.upper() == "RCB55":
        assert site == "RCB55"


@given(st.lists(st.integers(-3, 3), min_size=1, max_size=6))
@PROPERTY
def test_ragged_rows_are_named_and_never_shifted(shapes):
    """A row with n more (or fewer) values than the header is rejected by name; the others are read."""
    lines, expected = [HEADER], {}
    for i, extra in enumerate(shapes):
        cells = list({**GOOD, "period_date": f"0{i + 1}/04/2024"}.values())
        cells = cells + ["9"] * extra if extra >= 0 else cells[:extra]
        lines.append(csv_line(cells))
        if extra:
            expected[i + 2] = len(cells)
    read = read_text("\n".join(lines) + "\n")
    misfits = read.issues.filter(pl.col("rule") == "row_fits_header")
    assert dict(zip(misfits["source_row"], misfits["message"], strict=True)) == {
        row: f"row {row}: has {n} values but the header has {len(COLUMN_NAMES)} columns, so its values would land "
             "under the wrong headings (a number written with a comma, such as 1,200, must be in quotes); the row is "
             "not loaded"
        for row, n in expected.items()}
    fitting = read.frame.filter(~pl.col("source_row").is_in(list(expected)))
    assert fitting["ga_beds_open"].to_list() == [500] * fitting.height


# Cells that move separators about: commas and quotes inside values, blanks, spaces, numbers.
_MISFIT_CELLS = st.sampled_from(["", " ", "9", "1,200", '"', 'a "b"', "\t", "x y"])


@given(st.lists(st.lists(_MISFIT_CELLS, min_size=len(COLUMN_NAMES) - 3, max_size=len(COLUMN_NAMES) + 3),
                min_size=1, max_size=6), st.sampled_from(["\n", "\r\n"]))
@PROPERTY
def test_only_lines_that_cannot_fit_the_header_are_counted_and_the_count_is_the_full_counts(shapes, newline):
    """The reader counts fields only on lines that have quotes or another number of separators than
    the header; the rows it names are exactly those a field count of every line names."""
    first = [*GOOD.values()][:3]
    # Every other line unquoted, as a hand-made file would be (a stray quote there makes the file unreadable).
    lines = [HEADER] + [",".join(first + [c.replace('"', "") for c in cells]) if i % 2 else csv_line(first + cells)
                        for i, cells in enumerate(shapes)]
    read = read_text(newline.join(lines) + newline)
    every = cells._field_counts(pl.Series(lines[1:])).with_row_index("source_row", offset=2)
    expected = every.filter((pl.col("filled") > len(COLUMN_NAMES)) | (pl.col("fields") < len(COLUMN_NAMES)))
    expected = expected.join(read.raw.select(pl.col("source_row").cast(pl.UInt32)), on="source_row")
    misfits = read.issues.filter(pl.col("rule") == "row_fits_header")
    assert misfits["source_row"].to_list() == expected["source_row"].to_list()
    assert misfits["message"].str.extract(r"has (\d+) values").cast(pl.Int64).to_list() == expected["fields"].to_list()


@given(st.integers(MAX_FIELD_CHARS - 3, MAX_FIELD_CHARS + 3), st.sampled_from(["e", "é", "€", "𝔢"]),
       st.sampled_from(["utf-8", "cp1252"]))
@PROPERTY
def test_a_value_over_the_length_limit_is_rejected_by_characters_not_bytes(length, letter, encoding):
    """Lines are first measured in bytes; a line over the limit in bytes but not in characters (accented
    or other multi-byte letters) is read, one over it in characters is rejected naming line and length."""
    if encoding == "cp1252" and letter not in ("e", "é", "€"):
        encoding = "utf-8"
    value = letter * length
    lines = [HEADER, data_line(), data_line(site_code=value)]
    content = ("\n".join(lines) + "\n").encode(encoding)
    if length > MAX_FIELD_CHARS:
        with pytest.raises(FileRejected) as rejected:
            read_sitrep("sitrep.csv", content)
        assert str(rejected.value) == (f"sitrep.csv: line 3 has a value {length:,} characters long, "
                                       f"over the limit of {MAX_FIELD_CHARS:,} for one value; nothing was read "
                                       "from the file.")
    else:
        assert read_sitrep("sitrep.csv", content).raw["site_code"].str.len_chars().max() == length


# Cells a count or OPEL column may hold: any text, and text close to a whole number.
NUMBERISH = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-2**64, 2**64).map(str),
    st.from_regex(r"[+-]?[0-9]{1,22}", fullmatch=True),
    st.tuples(st.sampled_from(["", " ", "\t", "+", "-", "OPEL ", "opel-", "0", "\u00a0", "\uff15"]),
              st.integers(-10**6, 10**19).map(str),
              st.sampled_from(["", " ", ".0", ".5", ",000", "\n", "\u200b", "e3"])).map("".join))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(NUMBERISH, min_size=1, max_size=8),  # and columns the cast takes whole:
                 st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1).map(str),
                                    st.from_regex(r"[+-]?[0-9]{1,19}", fullmatch=True)), min_size=1, max_size=8)),
       st.sampled_from([c for c in COLUMNS if c.kind in ("count", "opel")]))
def test_a_column_of_plain_whole_numbers_reads_as_the_careful_parse_reads_it(texts, column):
    """Counts and OPEL levels that Polars casts straight to whole numbers skip the careful parse: the
    text and the values must be exactly what the careful parse gives, for any cells; a column that
    has one cell the cast does not take is read the careful way."""
    cells = pl.DataFrame({c.name: texts if c == column else [None] * len(texts) for c in COLUMNS},
                         schema={c.name: pl.String for c in COLUMNS})
    assert_frame_equal(_read_columns(cells)[COLUMNS.index(column)], _read_text(cells, column))
