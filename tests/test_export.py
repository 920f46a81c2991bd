"""Downloads of the weekly narrative table: the CSV value by value, the .xlsx and .docx opened
and checked cell by cell (numbers, formats, fills, shading), formula injection, the daily figures
CSV, and the command line."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import docx
import duckdb
import openpyxl
import polars as pl
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from helpers import load_rows_directly, week_of_rows

from pipelines.__main__ import main
from pipelines.catalogue.columns import COLUMN_NAMES
from pipelines.catalogue.metrics import METRICS
from pipelines.reports import export
from pipelines.reports.export_common import neutralise
from pipelines.reports.narrative import save_narrative
from pipelines.reports.presentation import STATUS_FILL
from pipelines.reports.weekly_table import build_weekly_table
from pipelines.warehouse import open_for_write

ROOT = Path(__file__).resolve().parents[1]
WEEK_1, WEEK_2 = date(2024, 4, 1), date(2024, 4, 8)  # Mondays; the weeks end on 7 and 14 April 2024
SUNDAY_2 = date(2024, 4, 14)
STRANDED = "Stranded: occupied beds with LoS 7+ days"
HYPERLINK = '=HYPERLINK("http://evil.example","click")'
FILLS = {status: "FF" + colour.lstrip("#") for status, colour in STATUS_FILL.items()}
HUMBER = "NHS Humber and North Yorkshire ICB"  # York's ICB
WEST_YORKSHIRE = "NHS West Yorkshire ICB"  # Harrogate's, as NHS England attributes it


@pytest.fixture
def pack(db: Path) -> Path:
    """Per 100 occupied beds, so percentages are counts. Week 2: Harrogate (RCD) stranded 52%
    (49% the week before), York and Scarborough (RCB) 39% (37%), South Tees (RTR) no submission;
    recorded delays: Harrogate 11 (10), York 8 (10); trust OPEL 3 for both; York reports no local
    authority OPEL in week 2. Narratives: the system
    one for stranded is a formula, Harrogate's starts with '-', York's delays one with '+'."""
    load_rows_directly(db, week_of_rows("RCD", WEEK_1, ga_beds_occupied=100, los_7plus=49, trust_opel=3)
                       + week_of_rows("RCD", WEEK_2, ga_beds_occupied=100, los_7plus=52, nctr_patients=16, trust_opel=3)
                       + week_of_rows("RCB", WEEK_1, ga_beds_occupied=100, los_7plus=37)
                       + week_of_rows("RCB", WEEK_2, ga_beds_occupied=100, los_7plus=39, nctr_patients=13, trust_opel=3,
                                      la_opel=None)
                       + week_of_rows("RTR", WEEK_1))
    save_narrative(db, SUNDAY_2, "stranded_7plus_pct", None, "A first version.", "Ann")
    save_narrative(db, SUNDAY_2, "stranded_7plus_pct", None, HYPERLINK, "Ann")
    save_narrative(db, SUNDAY_2, "stranded_7plus_pct", "RCD", "- worse again", "Hal")
    save_narrative(db, SUNDAY_2, "recorded_delays", "RCB", "+2 discharge coordinators", "Yve")
    return db


def render(db: Path, fmt: str, icbs: tuple[str, ...] = ()) -> bytes:
    with duckdb.connect(str(db), read_only=True) as con:
        return export.render(con, SUNDAY_2, icbs, (), fmt)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for Excel
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def check_weekly_csv(content: bytes) -> None:
    """The fixture week's CSV, value by value, as the page and the command line both produce it."""
    rows = csv_rows(content)
    assert list(rows[0]) == ["week_ending", "org_code", "trust", "metric", "value", "ambition", "status",
                             "previous_value", "change", "narrative", "variation", "assurance",
                             # the same in words, for people reading the CSV
                             "trust_name", "metric_label", "shown", "status_words", "spc_words"]
    # every metric with figures (the fixture has no discharge ready dates): three trusts and the three combined
    assert len(rows) == len([m for m in METRICS if not m.optional]) * 4
    by_key = {(r["metric"], r["trust"]): r for r in rows}
    stranded = [by_key["stranded_7plus_pct", t] for t in ("Harrogate", "South Tees", "York and Scarborough",
                                                          "Selected trusts combined")]
    assert [list(r.values())[:12] for r in stranded] == [
        # two weeks are too few for SPC limits: a run chart, no assurance
        ["2024-04-14", "RCD", "Harrogate", "stranded_7plus_pct", "52.0", "< 40", "red", "49.0", "3.0", "'- worse again",
         "run_chart", ""],
        ["2024-04-14", "RTR", "South Tees", "stranded_7plus_pct", "", "< 40", "no submission", "", "", "", "", ""],
        ["2024-04-14", "RCB", "York and Scarborough", "stranded_7plus_pct", "39.0", "< 40", "green", "37.0", "2.0", "",
         "run_chart", ""],
        # combined: (52 + 39) / 200 this week; (49 + 37 + 40) / 290 the week before, South Tees included
        ["2024-04-14", "", "Selected trusts combined", "stranded_7plus_pct", "45.5", "< 40", "red", "43.0", "2.5",
         "'" + HYPERLINK, "", ""],
    ]
    assert [list(r.values())[12:] for r in stranded[::3]] == [
        ["Harrogate and District NHS Foundation Trust", "Stranded: occupied beds with LoS 7+ days", "52.0%",
         "misses the ambition", ""],  # a run chart: no SPC reading
        ["Selected trusts combined", "Stranded: occupied beds with LoS 7+ days", "45.5%", "misses the ambition", ""]]
    assert by_key["stranded_7plus_pct", "South Tees"]["status_words"] == "no submission"
    delays = by_key["recorded_delays", "York and Scarborough"]
    assert (delays["value"], delays["ambition"], delays["status"], delays["change"]) == ("8.0", "", "none", "-2.0")
    assert delays["narrative"] == "'+2 discharge coordinators"
    assert by_key["trust_opel_max", "Harrogate"]["value"] == "3.0"
    assert by_key["trust_opel_max", "Harrogate"]["status"] == "amber"
    la_opel = by_key["la_opel_max", "York and Scarborough"]  # submitted, but not this figure
    assert (la_opel["value"], la_opel["status"]) == ("", "none")


def test_csv_is_tidy_and_matches_the_page(pack):
    check_weekly_csv(render(pack, "csv"))


def test_csv_follows_the_page_filters(pack):
    rows = csv_rows(render(pack, "csv", (HUMBER, WEST_YORKSHIRE)))
    assert {r["trust"] for r in rows} == {"Harrogate", "York and Scarborough", "Selected trusts combined"}


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"), ("+44", "'+44"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("York improved", "York improved"), ("", ""), ("'quoted", "'quoted"),
])
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def cells_by_label(sheet) -> dict[str, tuple]:
    return {row[0].value: row for row in sheet.iter_rows(min_row=4) if row[0].value}


def test_xlsx_first_sheet_is_the_word_packs_table(pack):
    """One cell a trust, as the page and the Word pack: the figure a real number as shown, its marks in
    the number format, filled by status; the key and the narratives under the table."""
    book = openpyxl.load_workbook(io.BytesIO(render(pack, "xlsx")))
    assert book.sheetnames == ["Weekly position", "Data", "Definitions"]
    sheet = book["Weekly position"]
    assert sheet["A1"].value == "Weekly discharge position: week ending Sunday 14/04/2024"
    assert [c.value for c in sheet[3]] == ["Metric", "Ambition", "Combined", "Harrogate", "South Tees",
                                           "York and Scarborough"]
    assert sheet.freeze_panes == "D4"  # the header row and the metric, ambition and combined columns stay in view
    rows = cells_by_label(sheet)
    assert list(rows)[:3] == ["G&A occupancy", "COVID-19 beds", "Stranded 7+ days"]
    metric_rows = [r for r in sheet.iter_rows(min_row=4, max_row=3 + 16) if r[0].value]
    assert {sheet.row_dimensions[r[0].row].height for r in metric_rows} == {18}  # even rows

    metric, ambition, combined, harrogate, tees, york = rows["Stranded 7+ days"][:6]
    # the selected trusts combined: a ratio of their sums, (52 + 39) / 200, shown to whole per cent
    assert combined.value == pytest.approx(0.46) and combined.fill.fgColor.rgb == FILLS["red"]
    assert ambition.value == "< 40%"
    assert harrogate.value == pytest.approx(0.52) and harrogate.data_type == "n"
    assert harrogate.number_format == '0%" ✗ ⬆"' and harrogate.fill.fgColor.rgb == FILLS["red"]
    assert york.value == pytest.approx(0.39) and york.fill.fgColor.rgb == FILLS["green"]
    assert (tees.value, tees.fill.fill_type) == ("–", None)  # no submission, as on the page
    labels = list(rows)
    under = labels[[label.startswith("Key: ") for label in labels].index(True):]
    assert under[0].startswith("Key: ✓ meets the ambition")
    # The system narrative, a formula, is written as text: a string cell.
    assert f"Narrative, Stranded 7+ days: {HYPERLINK}" in under
    assert "Harrogate, Stranded 7+ days: - worse again" in under

    delays = rows["Recorded delays"]
    # no ambition, no fill; the change on last week as the page writes it, part of the number's format
    assert (delays[3].value, delays[3].number_format, delays[3].fill.fill_type) == (11, '#,##0", +10% ⬆"', None)
    opel = rows["Trust OPEL"]
    assert (opel[3].value, opel[3].number_format, opel[3].fill.fgColor.rgb) == (3, '0" !"', FILLS["amber"])
    assert rows["LA OPEL"][5].value == "n/r"


def test_xlsx_data_sheet_keeps_numbers_and_neutralises_text(pack):
    sheet = openpyxl.load_workbook(io.BytesIO(render(pack, "xlsx")))["Data"]
    header = [c.value for c in sheet[1]]
    rows = {(r[2].value, r[3].value): dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    york = rows["York and Scarborough", "recorded_delays"]
    assert york["change"].value == -2.0 and york["change"].data_type == "n"  # a negative number stays a number
    assert york["narrative"].value == "+2 discharge coordinators" and york["narrative"].quotePrefix
    assert rows["Harrogate", "stranded_7plus_pct"]["narrative"].value == "- worse again"
    assert rows["Harrogate", "stranded_7plus_pct"]["value"].value == 52.0
    assert rows["Selected trusts combined", "stranded_7plus_pct"]["narrative"].value == HYPERLINK
    assert sheet.freeze_panes == "A2"


def test_xlsx_definitions_sheet(pack):
    sheet = openpyxl.load_workbook(io.BytesIO(render(pack, "xlsx")))["Definitions"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    stranded = next(r for r in values if r[0] == "stranded_7plus_pct")
    assert stranded[1:5] == [STRANDED, "Patients with a length of stay of 7 days or more as a percentage of occupied "
                             "G&A beds.", "lower", "< 40%"]
    assert stranded[5] == 2 and stranded[7].startswith("ICS discharge group ambition: fewer than 40%")
    assert next(r for r in values if r[0] == "stranded_14plus_pct")[4] == "none"
    about = {r[0]: r[1] for r in values if r[0] in ("Week", "Trusts", "Data as at")}
    assert about == {"Week": "Monday 08/04/2024 to Sunday 14/04/2024",
                     "Trusts": "Harrogate, South Tees, York and Scarborough",
                     "Data as at": "01/01/2024 00:00, when the latest of these figures was loaded"}
    files = values[[r[0] for r in values].index("File") + 1]
    assert files[:4] == ["test", 0, None, 14]  # the fixture's rows: two trusts, seven days, no ingest record


def test_docx_landscape_compact_table_with_combined_column_then_narratives(pack):
    document = docx.Document(io.BytesIO(render(pack, "docx")))
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    assert round(section.page_width.mm) == 297
    assert document.paragraphs[0].text == "Weekly discharge position: week ending Sunday 14/04/2024"
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Metric", "Ambition", "Combined", "Harrogate", "South Tees",
                                                       "York and Scarborough"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
    properties = [child.tag.split("}")[1] for child in table._tbl.tblPr]  # the narrow cell margins, where the
    assert properties.index("tblCellMar") < properties.index("tblLook")  # schema puts them (or they are ignored)
    with duckdb.connect(str(pack), read_only=True) as con:
        page = build_weekly_table(con, SUNDAY_2).rows  # what the home page shows, cell by cell
    assert [row.cells[0].text for row in table.rows[1:]] == [r.short_label for r in page]
    assert [[c.text for c in row.cells[2:]] for row in table.rows[1:]] == [
        [f"{c.text}\n{c.marks}" if c.marks else c.text for c in [r.system, *r.cells]] for r in page]
    stranded = next(row for row in table.rows if row.cells[0].text == "Stranded 7+ days")
    assert [c.text for c in stranded.cells[1:]] == ["< 40%", "46%\n✗ ⬆", "52%\n✗ ⬆", "–", "39%\n✓ ⬆"]
    sizes = {run.font.size.pt for row in table.rows for c in row.cells for p in c.paragraphs for run in p.runs}
    assert min(sizes) >= 8

    def shading(cell) -> str | None:
        found = cell._tc.tcPr.find(qn("w:shd"))
        return None if found is None else found.get(qn("w:fill"))

    assert [shading(c) for c in stranded.cells[2:6]] == [STATUS_FILL[s].lstrip("#") for s in ("red", "red")] + [
        None, STATUS_FILL["green"].lstrip("#")]
    paragraphs = [p.text for p in document.paragraphs]
    assert "Narrative" in paragraphs and f"{STRANDED}: {HYPERLINK}" in paragraphs  # text as written, not a formula
    assert "Comments by trust (place leads)" in paragraphs
    assert f"Harrogate, {STRANDED}: - worse again" in paragraphs
    assert "Source: daily sitrep files test." in paragraphs


def test_daily_figures_csv(pack):
    with open_for_write(pack) as con:
        con.execute("UPDATE sitrep_daily SET source_file = '=cmd|calc.csv' WHERE org_code = 'RCB'")
    with duckdb.connect(str(pack), read_only=True) as con:
        content = export.daily_figures_csv(con, "RCB", date(2024, 4, 8), date(2024, 4, 10))
        with pytest.raises(ValueError, match="start date 10/04/2024 is after the end date 08/04/2024"):
            export.daily_figures_csv(con, "RCB", date(2024, 4, 10), date(2024, 4, 8))
    rows = csv_rows(content)
    assert list(rows[0]) == [*COLUMN_NAMES, "source", "source_file", "source_row", "loaded_at"]
    assert [r["period_date"] for r in rows] == ["2024-04-08", "2024-04-09", "2024-04-10"]
    assert {r["org_code"] for r in rows} == {"RCB"} and {r["los_7plus"] for r in rows} == {"39"}
    assert {r["source_file"] for r in rows} == {"'=cmd|calc.csv"}


# --- Command line -----------------------------------------------------------------------------

def test_cli_export_csv_of_the_fixture_week(pack, tmp_path, capsys):
    out = tmp_path / "week.csv"
    assert main(["export", "--week-ending", "2024-04-14", "--format", "csv", "--out", str(out), "--db", str(pack)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    check_weekly_csv(out.read_bytes())
    assert out.read_bytes() == render(pack, "csv")  # the same code as the browser's download


def test_cli_defaults_to_the_latest_complete_week_and_filters(pack, tmp_path):
    out = tmp_path / "week.xlsx"
    assert main(["export", "--format", "xlsx", "--out", str(out), "--icb", HUMBER, WEST_YORKSHIRE]) == 0  # $FLOW_DB
    sheet = openpyxl.load_workbook(out)["Weekly position"]
    assert sheet["A1"].value.endswith("14/04/2024")
    assert [sheet.cell(3, col).value for col in (3, 4, 5)] == ["Combined", "Harrogate", "York and Scarborough"]


def test_cli_export_of_a_group_has_its_trusts_and_its_own_narratives(pack, tmp_path):
    """Trusts picked with --icb have no group, so no saved narrative; --group has the group's only."""
    save_narrative(pack, SUNDAY_2, "stranded_7plus_pct", None, "The four's view.", "Ann",
                   group_id="york-harrogate-tees-airedale")
    out = tmp_path / "week.csv"
    assert main(["export", "--format", "csv", "--out", str(out), "--group", "york-harrogate-tees-airedale"]) == 0
    frame = pl.read_csv(out)
    assert set(frame["narrative"].drop_nulls()) == {"The four's view."}
    assert set(frame["org_code"].drop_nulls()) <= {"RCB", "RCD", "RTR", "RCF"}
    assert main(["export", "--format", "csv", "--out", str(out), "--icb", HUMBER, WEST_YORKSHIRE]) == 0
    assert pl.read_csv(out)["narrative"].drop_nulls().is_empty()


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_cli_export_runs_as_a_module(pack, tmp_path):
    out = tmp_path / "week.docx"
    done = subprocess.run([sys.executable, "-m", "pipelines", "export", "--week-ending", "2024-04-14", "--format",
                           "docx", "--out", str(out), "--db", str(pack)], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    assert docx.Document(out).paragraphs[0].text.endswith("14/04/2024")


@pytest.mark.parametrize("arguments, message", [
    (["--week-ending", "14/04/2024"], "'14/04/2024' is not a date written as YYYY-MM-DD"),
    (["--week-ending", "2024-04-13"], "2024-04-13 is a Saturday: weeks end on a Sunday"),
    (["--week-ending", "2024-03-31"], "no figures for the week ending 31/03/2024 from the selected trusts"),
    (["--format", "pdf"], "invalid choice: 'pdf'"),
    (["--icb", "Nowhere ICB"], "--icb: no trust with figures belongs to Nowhere ICB"),
    (["--icb", HUMBER, "--place", "Tees Valley"], "no trust is in both the --icb and the --place given"),
    (["--group", "nowhere"], "--group: 'nowhere' is not a discharge group; known: all, "),
    (["--group", "icb-qoq", "--icb", HUMBER], "--group or --icb/--place, not both"),
])
def test_cli_usage_errors_exit_2(pack, tmp_path, capsys, arguments, message):
    out = tmp_path / "out.file"
    base = {"--format": "csv", "--out": str(out)}
    for option, value in zip(arguments[::2], arguments[1::2], strict=True):
        base[option] = value
    with pytest.raises(SystemExit) as stopped:
        main(["export", *[x for pair in base.items() for x in pair]])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_without_a_database_exits_2(db, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["export", "--format", "csv", "--out", str(tmp_path / "x.csv")])
    assert stopped.value.code == 2
    assert "no database at" in capsys.readouterr().err


def test_tidy_frame_types(pack):
    with duckdb.connect(str(pack), read_only=True) as con:
        table = build_weekly_table(con, SUNDAY_2)
        frame = export.tidy(table, pl.DataFrame(schema={"metric": pl.String, "org_code": pl.String, "text": pl.String}))
    assert frame.schema["value"] == pl.Float64 and frame.schema["week_ending"] == pl.Date
    assert frame["narrative"].null_count() == frame.height
