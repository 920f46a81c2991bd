"""Memory bounded by design (issue 22, item 2): each reproduction runs in its own process, whose peak
memory (its ru_maxrss, read with os.wait4 for that process alone) must stay under 1 GiB while the file
is rejected cleanly. No timing is asserted.

- 20,000 copies of one valid row (1.16 MB) passed 7.3 GB when each clash message listed every row;
- a 0.97 MB workbook declaring <dimension ref="A1:R8"> but holding 9.9 million cells passed 7.3 GB;
- a 2-million-row CSV through the command line took 5.3 GB; so did any CSV with too many rows.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import TEMPLATE_COLUMNS, VALID_ROW, query

from pipelines.ingest.cells import MAX_CELLS, MAX_FILE_BYTES, MAX_ISSUES, MAX_ROWS

ROOT = Path(__file__).resolve().parent.parent
ONE_GIB_KB = 1024 * 1024  # ru_maxrss is in kilobytes on Linux
UPLOAD = """
import json, sys
from pathlib import Path
from pipelines.ingest.upload import load_uploads
path = Path(sys.argv[1])
events = list(load_uploads([(path.name, path.read_bytes())], Path(sys.argv[2])))
print(json.dumps([{"status": e.status, "message": e.message, "rows_rejected": e.rows_rejected,
                   "longest_issue": int(e.issues["message"].str.len_chars().max() or 0) if e.issues is not None else 0}
                  for e in events if hasattr(e, "status")]))
"""


def run_measured(args: list[str]) -> tuple[int, str, int]:
    """Run a Python process to its end: (exit status, its output, its peak resident memory in KB)."""
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "FLOW_REFERENCE_DIR": str(ROOT / "tests" / "fixtures" / "reference")})
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait again
    return process.returncode, output, usage.ru_maxrss


def csv_bytes(rows: int) -> bytes:
    """A header and ``rows`` copies of one valid row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    line = out.getvalue()
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([VALID_ROW[c] for c in TEMPLATE_COLUMNS])
    return (line + out.getvalue() * rows).encode()


def lying_workbook(path: Path, rows: int = 550_000) -> Path:
    """A workbook whose sheet declares A1:R8 but holds ``rows`` rows of 18 cells (9.9 million at the default)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
                      'formats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                      'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      '</Types>')
        book.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                      'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                      'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                      'relationships"><sheets><sheet name="Daily" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                      'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                      'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                      '</Relationships>')
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><dimension ref="A1:R8"/><sheetData><row>'
                        + b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % c.encode() for c in TEMPLATE_COLUMNS)
                        + b"</row>")
            block = (b"<row>" + b"<c><v>1</v></c>" * len(TEMPLATE_COLUMNS) + b"</row>") * 1000
            for _ in range(rows // 1000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return path


def upload_measured(path: Path, db: Path) -> tuple[list[dict], int]:
    code, output, peak_kb = run_measured(["-c", UPLOAD, str(path), str(db)])
    assert code == 0, output
    return json.loads(output.strip().splitlines()[-1]), peak_kb


def test_2_twenty_thousand_copies_of_one_row_are_rejected_with_short_messages(tmp_path: Path) -> None:
    path = tmp_path / "repeated.csv"
    path.write_bytes(csv_bytes(20_000))
    [outcome], peak_kb = upload_measured(path, tmp_path / "flow.duckdb")
    assert outcome["status"] == "rejected" and outcome["rows_rejected"] == 20_000
    # each row's message names the first rows of the clash and how many more, not 20,000 row numbers
    assert outcome["longest_issue"] < 200
    assert query(tmp_path / "flow.duckdb", "SELECT message FROM rejected_rows WHERE source_row = 2") == [
        ("row 2: RCD on 01/04/2024 appears more than once in this file (rows 2, 3, 4, 5, 6 and 19,995 more)",)]
    assert peak_kb < ONE_GIB_KB, f"peak {peak_kb / 1024:.0f} MiB"


def test_2_a_workbook_lying_about_its_dimension_is_rejected_by_counting_its_cells(tmp_path: Path) -> None:
    path = lying_workbook(tmp_path / "lying.xlsx")
    assert path.stat().st_size < 2 * 1024 * 1024  # about 1 MB on disk
    [outcome], peak_kb = upload_measured(path, tmp_path / "flow.duckdb")
    assert outcome["status"] == "rejected"
    assert f"the workbook holds more than {MAX_CELLS:,} cells" in outcome["message"]
    assert peak_kb < ONE_GIB_KB, f"peak {peak_kb / 1024:.0f} MiB"


def test_2_large_csvs_through_the_command_line_are_refused_before_they_are_read(tmp_path: Path) -> None:
    """Over the size limit (2 million rows, about 130 MB) and over the row limit (within the size limit)."""
    big, long = tmp_path / "two_million.csv", tmp_path / "too_many_rows.csv"
    big.write_bytes(csv_bytes(2_000_000))
    long.write_bytes(b"period_date,org_code\n" + b"x,y\n" * (MAX_ROWS + 1))
    assert big.stat().st_size > MAX_FILE_BYTES and long.stat().st_size < MAX_FILE_BYTES
    code, output, peak_kb = run_measured(["-m", "pipelines", "ingest", str(big), str(long),
                                          "--db", str(tmp_path / "flow.duckdb")])
    assert code != 0
    assert f"two_million.csv is {big.stat().st_size / 1024 / 1024:.1f} MB, over the 50 MB limit" in output
    assert f"too_many_rows.csv: the file has {MAX_ROWS + 2:,} lines, over the limit of {MAX_ROWS:,} rows" in output
    assert peak_kb < ONE_GIB_KB, f"peak {peak_kb / 1024:.0f} MiB"


def test_2_a_file_of_nothing_but_problems_is_rejected_whole(tmp_path: Path) -> None:
    """Past MAX_ISSUES problems the file is rejected as a whole, before a message is worded for each
    (1.5 million of them took 2 GB)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    rows = MAX_ISSUES // 3 + 1
    for number in range(rows):
        writer.writerow([{"period_date": f"2024-{number % 12 + 1:02d}-01", "org_code": "RCD", "site_code": ""}.get(
            column, "x" if column in ("ga_beds_open", "los_7plus", "nctr_patients") else VALID_ROW[column])
            for column in TEMPLATE_COLUMNS])
    path = tmp_path / "all_wrong.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    [outcome], peak_kb = upload_measured(path, tmp_path / "flow.duckdb")
    assert outcome["status"] == "rejected"
    assert outcome["message"] == (
        f"all_wrong.csv: the file has {rows * 3:,} problems, over the limit of {MAX_ISSUES:,}: it is probably not in "
        "the template's layout (the first: row 2: ga_beds_open ('x') is not a whole number); nothing was loaded "
        "from it.")
    assert query(tmp_path / "flow.duckdb", "SELECT count(*) FROM rejected_rows") == [(0,)]
    assert peak_kb < ONE_GIB_KB, f"peak {peak_kb / 1024:.0f} MiB"
