"""How the sample sitrep files look: the layouts real trust BI teams send (docs/domain.md section 2.1).

Used by generate.py; every layout must still map back to the template via columns.canonical_name.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

from pipelines.catalogue.columns import COLUMN_NAMES, DRD_COLUMNS, canonical_name

Row = dict[str, object]  # canonical column -> int | str | date | None


@dataclass(frozen=True)
class Style:
    """How one month's file is laid out, imitating what trust BI teams really send."""
    encoding: str = "utf-8"     # "utf-8-sig" writes a BOM; "cp1252" is Excel's "CSV (Comma delimited)"
    newline: str = "\n"
    dates: str = "%Y-%m-%d"
    headers: str = "canonical"  # canonical | title | title_spaced | alias
    titles: bool = False        # title rows (and a blank row) above the header
    thousands: bool = False     # "1,234", quoted by the csv writer
    total: bool = False         # a "Total" row at the bottom
    xlsx: bool = False          # Notes sheet first, data on sheet "Data", real Excel dates


STYLES: dict[str, Style] = {
    "plain": Style(),
    "excel_export": Style("utf-8-sig", "\r\n", "%d/%m/%Y", "title", titles=True, thousands=True, total=True),
    "excel_csv_utf8": Style("utf-8-sig", "\r\n", "%d/%m/%Y", "title"),
    "bi_report": Style(headers="alias", titles=True, thousands=True, total=True),
    "excel_cp1252": Style("cp1252", "\r\n", "%d/%m/%Y", "title_spaced", titles=True, thousands=True),
    "xlsx": Style(headers="title", xlsx=True),
    "xlsx_report": Style(headers="alias", titles=True, total=True, xlsx=True),
}
CYCLE = ("plain", "excel_export", "excel_csv_utf8", "bi_report")
SPECIAL_MONTHS = {"2023-10": "xlsx", "2023-12": "excel_cp1252", "2024-07": "xlsx_report",
                  "2025-02": "xlsx", "2025-05": "excel_cp1252"}

# Header dialects seen in the wild, in COLUMN_NAMES order; each must map back via columns.canonical_name.
TITLE = dict(zip(COLUMN_NAMES, (
    "Period Date", "Org Code", "Site Code", "G&A Beds Open", "G&A Beds Occupied", "COVID-19 Beds Occupied",
    "LoS 7+", "LoS 14+", "LoS 21+", "NCTR Patients", "NCTR Discharged", "NCTR Discharged by 5pm",
    "Discharges P0", "Discharges P1", "Discharges P2", "Discharges P3", "DRD Discharges", "DRD Delay 0",
    "DRD Delay 1", "DRD Delay 2-3", "DRD Delay 4-6", "DRD Delay 7-13", "DRD Delay 14-20", "DRD Delay 21+",
    "DRD Delay Days", "Past DRD 21+", "Internal Delay 48h+", "Trust OPEL", "LA OPEL"), strict=True))
ALIAS = dict(zip(COLUMN_NAMES, (
    "Date", "ODS Code", "Site", "G&A Beds Available", "Beds Occupied", "COVID Beds", "LoS 7 Plus", "LoS 14 Plus",
    "LoS 21 Plus", "NCTR", "NCTR Discharges", "NCTR Discharged by 17:00", "Pathway 0", "Pathway 1", "Pathway 2",
    "Pathway 3", "Discharges with DRD", "Discharged on DRD", "DRD Delay 1 Day", "DRD Delay 2-3 Days",
    "DRD Delay 4-6 Days", "DRD Delay 7-13 Days", "DRD Delay 14-20 Days", "DRD Delay 21 Days Plus",
    "DRD Bed Days Lost", "DRD 21+ Days Ago", "Internal Delays 48h Plus", "OPEL Level", "Social Care OPEL"),
    strict=True))
# Files before the discharge ready date columns were added have the template of their day.
BEFORE_DRD: tuple[str, ...] = tuple(c for c in COLUMN_NAMES if c not in DRD_COLUMNS)
HEADERS = {"canonical": {c: c for c in COLUMN_NAMES}, "title": TITLE, "alias": ALIAS,
           "title_spaced": {c: f" {h} " for c, h in TITLE.items()}}  # stray spaces around header cells
# Fail loudly if a header dialect drifts away from the template the loaders understand.
for _dialect in HEADERS.values():
    assert all(canonical_name(_dialect[c]) == c for c in COLUMN_NAMES), _dialect


def cell(value: object, style: Style) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime(style.dates)
    if isinstance(value, int) and style.thousands:
        return f"{value:,}"
    return str(value)


def total_row(rows: list[Row], columns: tuple[str, ...]) -> list[object]:
    """The 'Total' line spreadsheets add: sums of the counts, blanks elsewhere."""
    sums = {c: sum(r[c] for r in rows) for c in columns if c.startswith(("ga_", "covid", "los_", "nctr", "disch"))}
    return ["Total", *(sums.get(c) for c in columns[1:])]


def produced_on(month: date) -> date:
    """A month's file is produced on the 1st of the next month (a fixed date, never today)."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def title_lines(style: Style, month: date) -> list[str]:
    dash = "\u2013" if style.encoding == "cp1252" else "-"  # cp1252 files get a non-ASCII en dash, as Excel writes
    return [f"Daily discharge sitrep {dash} {month:%B %Y}", f"Produced by the ICS discharge cell BI team, "
            f"{produced_on(month):%d/%m/%Y} (unvalidated management information)"]


def write_csv(path: Path, rows: list[Row], style: Style, month: date, columns: tuple[str, ...] = COLUMN_NAMES) -> None:
    buf, width = io.StringIO(), len(columns)
    out = csv.writer(buf, lineterminator=style.newline)
    if style.titles:  # Excel pads every line to the used width, so title rows carry trailing commas
        out.writerows([[line] + [""] * (width - 1) for line in title_lines(style, month)] + [[""] * width])
    out.writerow([HEADERS[style.headers][c] for c in columns])
    out.writerows([cell(r[c], style) for c in columns] for r in rows)
    if style.total:
        out.writerow([cell(v, style) for v in total_row(rows, columns)])
    path.write_bytes(buf.getvalue().encode(style.encoding))


def write_xlsx(path: Path, rows: list[Row], style: Style, month: date, columns: tuple[str, ...] = COLUMN_NAMES) -> None:
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": f"Daily discharge sitrep {month:%B %Y}", "author": "ICS discharge cell BI",
                         "created": datetime.combine(produced_on(month), datetime.min.time())})  # not now()
    notes = book.add_worksheet("Notes")
    for i, line in enumerate([*title_lines(style, month), "Data are on the 'Data' sheet, one row per trust "
                              "(York and Scarborough per site) per day.", "Counts are the 23:59 snapshot."]):
        notes.write_string(i, 0, line)
    sheet, bold = book.add_worksheet("Data"), book.add_format({"bold": True})
    date_fmt, int_fmt = book.add_format({"num_format": "dd/mm/yyyy"}), book.add_format({"num_format": "#,##0"})
    r = 0
    if style.titles:
        for r, line in enumerate(title_lines(style, month)):
            sheet.write_string(r, 0, line, bold)
        r += 2  # one blank row between the titles and the header
    header_row = r
    sheet.write_row(header_row, 0, [HEADERS[style.headers][c] for c in columns], bold)
    for r, values in enumerate([[row[c] for c in columns] for row in rows]
                               + ([total_row(rows, columns)] if style.total else []), start=header_row + 1):
        for c, v in enumerate(values):
            if isinstance(v, date):
                sheet.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, int):
                sheet.write_number(r, c, v, int_fmt)
            elif v is not None:
                sheet.write_string(r, c, v)
    book.close()


def month_style(month: str, index: int) -> str:
    return SPECIAL_MONTHS.get(month, CYCLE[index % len(CYCLE)])


def write_sitreps(out_dir: Path, rows: list[Row]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("sitrep_*.*"):  # a month may have changed format: no stale twins
        old.unlink()
    months = sorted({r["period_date"].strftime("%Y-%m") for r in rows})
    for i, month in enumerate(months):
        style = STYLES[month_style(month, i)]
        chunk = [r for r in rows if r["period_date"].strftime("%Y-%m") == month]
        writer = write_xlsx if style.xlsx else write_csv
        columns = COLUMN_NAMES if any(r["drd_discharges"] is not None for r in chunk) else BEFORE_DRD
        path = out_dir / f"sitrep_{month}.{'xlsx' if style.xlsx else 'csv'}"
        writer(path, chunk, style, date.fromisoformat(month + "-01"), columns)
