"""NHS England's acute discharge workbooks from 2024 (docs/domain.md section 2.5): no cover sheet, seven
tables, the England row 'ENGLAND (Type 1 Trusts)', delay reasons redefined from 27 May 2024 and months
re-issued ("revised"). Built here in the shape of the real 2023-11 workbook (tests/fixtures/nhse), with
those differences."""
from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from helpers import query
from test_nhse_readers import HUMBER, LONG_HEADER, NCTR, NEY, TABLE2_LABELS, YORK
from test_trust_page import run_page, texts

from pipelines.catalogue.issues import FileRejected
from pipelines.ingest.load import ingest_paths
from pipelines.publication.read import read_publication
from pipelines.publication.tables import month_end
from pipelines.queries import drilldown
from pipelines.queries.published import DATED_BY_LOAD, as_published_on
from ui import charts

LONDON, NCL = "LONDON", ("QMJ", "NHS NORTH CENTRAL LONDON INTEGRATED CARE BOARD")
TRUSTS = (("RAL", "ROYAL FREE LONDON NHS FOUNDATION TRUST"), ("RAP", "NORTH MIDDLESEX UNIVERSITY HOSPITAL NHS TRUST"))
# Illustrative labels of the reasons redefined from 27 May 2024: the reader takes them from the file.
JUNE_REASONS = ("Awaiting a care home placement (pathway 3)", "Awaiting start of care at home (pathway 1)")
MAY_REASONS = ("No Plan", "Awaiting transport")


# The delay reason tables of a 2024 workbook: sheet number -> the length of stay (days or over) its titles name.
COHORTS = {5: 14, 6: 7, 7: 21}


def reason_figure(table: int, trust: int, patients: float) -> float:
    """Trust ``trust``'s figure for a reason in Table ``table``, distinct in every table."""
    return {5: patients, 6: 2 * patients, 7: patients / 2}[table] + trust


def workbook_2024(month: date, reasons: tuple[str, ...], patients: tuple[float, ...],
                  cohorts: dict[int, int] | None = None, cover: tuple[str, str] | None = None) -> bytes:
    """Tables 1 to 7 (Tables 3 and 4 left out), with no cover sheet unless ``cover`` gives its 'Published:' and
    'Revised:' cells. Table 2: the first 3 days of the month; trust i has 10 * (i + 1) + day patients, a third
    discharged. Tables 5 to 7 (``cohorts``, default ``COHORTS``): delay reasons of the patients staying that many
    days or over, titled as in the 2023 workbook; trust i has ``reason_figure(table, i, patients[k])`` for reason k.
    A table missing from ``cohorts`` is a sheet with a title and nothing else."""
    cohorts = COHORTS if cohorts is None else cohorts
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    day_format = book.add_format({"num_format": "dd/mm/yyyy"})
    if cover:
        sheet = book.add_worksheet("Cover Sheet")
        period = ("Period:", f"{month:%d/%m/%Y}", "-", f"{month_end(month):%d/%m/%Y}")
        for r, row in enumerate([("Title:", "Acute Daily Discharge Situation Report"), period,
                                 ("Published:", cover[0]), ("Revised:", cover[1])]):
            sheet.write_row(r, 0, row)
    book.add_worksheet("Contents").write(1, 1, "Contents")
    book.add_worksheet("Table 1").write(0, 0, "Table 1: Number of organisations for whom no data was submitted")
    days = [month + timedelta(days=d) for d in range(3)]
    figures = {code: [(10 * (i + 1) + d, (10 * (i + 1) + d) // 3) for d in range(3)]
               for i, (code, _) in enumerate(TRUSTS)}

    def blocks(sheet, title: str, labels: tuple[str, ...], values: dict[str, list], stay: int | None) -> None:
        sheet.write(0, 0, title)
        sheet.write(1, 0, "Contents")
        sheet.write(3, 0, "Notes: \n1. trust-level and ICB-level data exclude patients discharged to a hospice.")
        width = len(labels)
        for b in range(1 if stay else len(days)):
            if not stay:
                sheet.write_datetime(2, 3 + width * b, days[b], day_format)  # type: ignore[arg-type]
            sheet.write_row(3, 3 + width * b, labels)
        if stay:
            sheet.write(2, 3, f"{month:%B %Y} - Average number of people per day with length of stay {stay} days or "
                              "over who no longer meet the criteria to reside but were not discharged")
        total = [sum(v) for v in zip(*values.values(), strict=True)]
        sheet.write(4, 2, "ENGLAND (Type 1 Trusts)")
        sheet.write(5, 2, LONDON)
        sheet.write_row(7, 0, ["Region", "ICB Code", "ICB Name"])
        sheet.write_row(8, 0, [LONDON, *NCL])
        sheet.write_row(10, 0, ["Region", "Org Code", "Org Name"])
        for row in (4, 5, 8):
            sheet.write_row(row, 3, total)
        for r, (code, name) in enumerate(TRUSTS, start=11):
            sheet.write_row(r, 0, [LONDON, code, name])
            sheet.write_row(r, 3, values[code])

    blocks(book.add_worksheet("Table 2"), "Table 2: Number of patients who no longer meet criteria to reside",
           tuple(TABLE2_LABELS), {code: [v for p, d in by_day for v in (p, d, p - d)]
                                  for code, by_day in figures.items()}, stay=None)
    for n in (5, 6, 7):
        sheet = book.add_worksheet(f"Table {n}")
        if n not in cohorts:
            sheet.write(0, 0, f"Table {n}: published from 2024")
            continue
        blocks(sheet, f"Table {n}: Weekly snapshot average of the total number of people per day with length of stay "
                      f"{cohorts[n]} days or over who no longer meet the criteria to reside but were not discharged, "
                      "broken down by the reasons why they continued to reside", reasons,
               {code: [reason_figure(n, i, p) for p in patients] for i, (code, _) in enumerate(TRUSTS)},
               stay=cohorts[n])
    book.close()
    return out.getvalue()


def _load(tmp_path: Path, db: Path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    [outcome] = list(ingest_paths([path], db))
    assert outcome.status == "loaded", outcome.message
    return outcome


def test_a_2024_workbook_with_seven_tables_and_no_cover_sheet_is_read(tmp_path: Path, db: Path) -> None:
    june = date(2024, 6, 1)
    content = workbook_2024(june, JUNE_REASONS, (4.5, 2.0))
    read = read_publication("renamed.xlsx", content)
    assert read.kind == "nhse_monthly_workbook"
    assert not any("not read" in note for note in read.notes)
    _load(tmp_path, db, "acute-discharge-sitrep-2024-06.xlsx", content)
    assert query(db, "SELECT org_code, period_date, nctr_patients, nctr_discharged FROM nhse_daily "
                     "WHERE period_date = '2024-06-02' ORDER BY 1") == [("RAL", date(2024, 6, 2), 11, 3),
                                                                       ("RAP", date(2024, 6, 2), 21, 7)]
    assert query(db, "SELECT nctr_patients FROM nhse_daily_area WHERE level = 'england' "
                     "AND period_date = '2024-06-02'") == [(32,)]
    # the redefined reasons under their own labels, for the month they apply to, in Table 5's cohort
    assert query(db, "SELECT reason, length_of_stay, period_start, period_end, patients FROM nhse_delay_reasons "
                     "WHERE org_code = 'RAP' AND source_sheet = 'Table 5' ORDER BY reason") == [
        (JUNE_REASONS[0], "14+", june, date(2024, 6, 30), 5.5), (JUNE_REASONS[1], "14+", june, date(2024, 6, 30), 3.0)]


def test_tables_5_to_7_reach_the_warehouse_cell_by_cell_each_under_the_cohort_its_title_names(tmp_path: Path,
                                                                                             db: Path) -> None:
    june, patients = date(2024, 6, 1), (4.5, 2.0)
    _load(tmp_path, db, "acute-discharge-sitrep-2024-06.xlsx", workbook_2024(june, JUNE_REASONS, patients))
    expected = {(f"Table {n}", 12 + i, f"{cohort}+", reason, code): reason_figure(n, i, p)
                for n, cohort in COHORTS.items() for i, (code, _) in enumerate(TRUSTS)
                for reason, p in zip(JUNE_REASONS, patients, strict=True)}
    stored = query(db, "SELECT source_sheet, source_row, length_of_stay, reason, org_code, patients, period_start, "
                       "period_end, file_id FROM nhse_delay_reasons")
    assert {row[:5]: row[5] for row in stored} == expected
    assert {row[6:] for row in stored} == {(june, date(2024, 6, 30), 1)}
    # England, the region and the ICB: the sum of the trusts, in their own table, each cohort apart
    areas = query(db, "SELECT level, length_of_stay, sum(patients) FROM nhse_delay_reasons_area "
                      "WHERE reason = ? GROUP BY ALL ORDER BY ALL", [JUNE_REASONS[0]])
    assert areas == [(level, f"{cohort}+", sum(reason_figure(n, i, 4.5) for i in range(2)))
                     for level in ("england", "icb", "region")
                     for n, cohort in sorted(COHORTS.items(), key=lambda c: f"{c[1]}+")]


def test_a_table_6_or_7_whose_titles_name_no_delay_reasons_is_not_read_and_the_notes_say_so() -> None:
    read = read_publication("june.xlsx", workbook_2024(date(2024, 6, 1), JUNE_REASONS, (4.5, 2.0), cohorts={5: 14}))
    assert any("'Table 6', 'Table 7'" in note and "not read" in note for note in read.notes)
    assert set(read.delay_reasons["length_of_stay"]) == {"14+"}  # type: ignore[attr-defined]


def test_two_tables_of_one_cohort_are_rejected_naming_both() -> None:
    content = workbook_2024(date(2024, 6, 1), JUNE_REASONS, (4.5, 2.0), cohorts={5: 14, 6: 14, 7: 21})
    with pytest.raises(FileRejected, match="Table 5 and Table 6 both give the delay reasons .* 14\\+ days"):
        read_publication("june.xlsx", content)


MAY, MAY_END = date(2024, 5, 1), date(2024, 5, 31)
FIRST_ISSUE, REISSUE = date(2024, 6, 13), date(2024, 7, 11)  # May's publication, and its revised re-issue


def _may_twice(tmp_path: Path, db: Path):
    """May 2024 published on 13/06/2024 (No Plan: 4.0 for the Royal Free in Table 5), then re-issued revised on
    11/07/2024 (6.0); returns the re-issue's load outcome."""
    _load(tmp_path, db, "acute-discharge-sitrep-2024-05.xlsx",
          workbook_2024(MAY, MAY_REASONS, (4.0, 1.0), cover=("13/06/2024", "-")))
    return _load(tmp_path, db, "acute-discharge-sitrep-2024-05-revised.xlsx",
                 workbook_2024(MAY, MAY_REASONS, (6.0, 1.0), cover=("13/06/2024", "11/07/2024")))


def test_a_revised_month_replaces_its_figures_and_each_publication_date_shows_its_own(tmp_path: Path,
                                                                                      db: Path) -> None:
    revised = _may_twice(tmp_path, db)
    assert any("revises" in note and "stay on record" in note for note in revised.notes)
    assert any("dated 11/07/2024, the file's revised date" in note for note in revised.notes)
    current = "SELECT reason, patients FROM nhse_delay_reasons WHERE org_code = 'RAL' AND length_of_stay = '14+' " \
              "ORDER BY reason"
    assert query(db, current) == [("Awaiting transport", 1.0), ("No Plan", 6.0)]
    ral = (pl.col("org_code") == "RAL") & (pl.col("length_of_stay") == "14+")
    with duckdb.connect(str(db), read_only=True) as con:
        def on(day: date) -> list[tuple]:
            return as_published_on(con, "nhse_delay_reasons", day).filter(ral).sort("reason").select(
                "reason", "patients").rows()

        assert on(FIRST_ISSUE - timedelta(days=1)) == []  # nothing published yet
        assert on(FIRST_ISSUE) == on(REISSUE - timedelta(days=1)) == [("Awaiting transport", 1.0), ("No Plan", 4.0)]
        assert on(REISSUE) == [("Awaiting transport", 1.0), ("No Plan", 6.0)]
        # the drill-down's queries: the versions on record, and each one's figures
        assert drilldown.publication_versions(con, "RAL", MAY, MAY_END).rows() == [
            (REISSUE, "the file's revised date", "acute-discharge-sitrep-2024-05-revised.xlsx"),
            (FIRST_ISSUE, "the file's published date", "acute-discharge-sitrep-2024-05.xlsx")]
        for day, no_plan in ((FIRST_ISSUE, 4.0), (REISSUE, 6.0), (None, 6.0)):
            shown = drilldown.publication_delay_reasons(con, "RAL", MAY, MAY_END, published_on=day)
            assert shown.filter(pl.col("reason") == "No Plan")["patients"].to_list() == [no_plan]
            seven = drilldown.publication_delay_reasons(con, "RAL", MAY, MAY_END, length_of_stay="7+", published_on=day)
            assert seven.filter(pl.col("reason") == "No Plan")["patients"].to_list() == [2 * no_plan]  # Table 6
        assert drilldown.publication_delay_stays(con, "RAL", MAY, MAY_END, FIRST_ISSUE) == ["7+", "14+", "21+"]


def test_a_file_stating_no_date_is_dated_by_the_day_it_was_loaded_and_says_so(tmp_path: Path, db: Path) -> None:
    outcome = _load(tmp_path, db, "may.xlsx", workbook_2024(MAY, MAY_REASONS, (4.0, 1.0)))  # no cover sheet
    assert any("the day it was loaded (the file states no date)" in note for note in outcome.notes)
    assert query(db, "SELECT published_on = CAST(loaded_at AS DATE), dated_by FROM nhse_publication_dates") == [
        (True, DATED_BY_LOAD)]


def test_the_drilldown_shows_the_publication_as_published_on_the_date_picked(tmp_path: Path, db: Path) -> None:
    _may_twice(tmp_path, db)
    app = run_page(trust="RAL", metric="ctr_discharged_pct", delays="true",
                   **{"from": "2024-05-01", "to": "2024-05-03"})
    [picker] = [s for s in app.selectbox if s.label == "As published on"]
    assert picker.value == REISSUE and picker.options == ["11/07/2024 (latest)", "13/06/2024"]

    def no_plan_shown(app) -> float:
        [chart] = [c for c in app.get("plotly_chart") if "Delay reasons redefined" in c.proto.spec
                   or "No Plan" in c.proto.spec]
        [line] = [t for t in json.loads(chart.proto.spec)["data"] if "No Plan" in t["name"]]
        return line["y"][0]

    assert no_plan_shown(app) == 6.0
    assert any("published them on 11/07/2024 (dated by the file's revised date" in c for c in texts(app.caption))
    picker.set_value(FIRST_ISSUE).run()
    assert not app.exception
    assert no_plan_shown(app) == 4.0
    assert any("published them on 13/06/2024 (dated by the file's published date" in c for c in texts(app.caption))
    [stays] = [r for r in app.radio if r.label == "Delay reasons for patients staying"]
    assert stays.value == "14+" and stays.options == ["7+ days", "14+ days", "21+ days"]
    stays.set_value("21+").run()
    assert no_plan_shown(app) == 2.0  # Table 7: half of May's first figure
    assert any("length of stay of 21+ days" in c and "(Table 7)" in c for c in texts(app.caption))


def test_a_reason_series_is_broken_at_27_may_2024_and_the_break_is_marked() -> None:
    """The same label before and after the redefinition is two measures: no line joins them."""
    periods = [(date(2024, 4, 1), date(2024, 4, 30)), (date(2024, 5, 1), date(2024, 5, 31)),
               (date(2024, 6, 1), date(2024, 6, 30)), (date(2024, 7, 1), date(2024, 7, 31))]
    reasons = pl.DataFrame([(start, end, "No Plan", 5.0 + i, 1) for i, (start, end) in enumerate(periods)],
                           schema=["period_start", "period_end", "reason", "patients", "rank"], orient="row")
    fig = charts.delay_reasons_figure(reasons)
    [trace] = fig.data
    assert list(trace.x) == [0, 1, None, 2, 3]  # April-May joined, June-July joined, nothing across
    assert any("27/05/2024" in a.text for a in fig.layout.annotations)
    assert [shape.x0 for shape in fig.layout.shapes] == [1.5]


def test_the_long_csv_keeps_reasons_at_7_and_14_days_apart(tmp_path: Path, db: Path) -> None:
    trust = f"Provider,{NEY},QOQ,RCB,{YORK}"
    lines = [LONG_HEADER,
             f"National,,,,ENGLAND,03/06/2024,{NCTR},Count,Criteria to reside,250",
             f"ICB,{NEY},QOQ,QOQ,{HUMBER},03/06/2024,{NCTR},Count,Criteria to reside,250",
             f"{trust},03/06/2024,{NCTR},Count,Criteria to reside,250",
             f"{trust},03/06/2024,No Plan,Weekly average,Delay reason - length of stay 7+ days,9.5",
             f"{trust},03/06/2024,No Plan,Weekly average,Delay reason - length of stay 14+ days,4.25"]
    content = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    read = read_publication("long.csv", content)
    assert read.delay_reasons.sort("length_of_stay").select(  # type: ignore[attr-defined]
        "reason", "length_of_stay", "patients").rows() == [("No Plan", "14+", 4.25), ("No Plan", "7+", 9.5)]
    _load(tmp_path, db, "long.csv", content)
    assert query(db, "SELECT length_of_stay, patients FROM nhse_delay_reasons ORDER BY 1") == [
        ("14+", 4.25), ("7+", 9.5)]
