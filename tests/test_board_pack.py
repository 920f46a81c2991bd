"""The Word board pack fits the page: 14 trusts (the size of a large system) with every metric,
converted to PDF by LibreOffice headless and its pages counted (pdfinfo, from poppler-utils), with no
word of the header broken. Without LibreOffice, poppler or the Carlito font (Calibri's metric twin, so
LibreOffice lays the pack out as Word does) it fails, saying what to install (.ci/run installs them)."""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from helpers import needs_installing, trust_table
from patience import guard_s

from pipelines.reports.export_common import WeekSources
from pipelines.reports.export_docx import to_docx
from pipelines.reports.export_xlsx import to_xlsx

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
FONTS = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=False).stdout \
    if shutil.which("fc-list") else ""


@pytest.fixture(autouse=True)
def office_programs() -> None:
    """LibreOffice, poppler and the Carlito font (.ci/run installs them): each test fails without them."""
    if SOFFICE is None or shutil.which("pdfinfo") is None:
        needs_installing("LibreOffice (soffice) or pdfinfo",
                         "apt-get install libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils")
    if "Carlito" not in FONTS:
        needs_installing("the Carlito font", "apt-get install fonts-crosextra-carlito")


# Long real names, so header wrapping is tested too.
NAMES = ["Calderdale and Huddersfield", "County Durham and Darlington", "York and Scarborough", "Northern Lincolnshire",
         "Mid Yorkshire", "South Tees", "Newcastle", "Gateshead", "Harrogate", "Airedale", "Bradford", "Leeds", "Hull",
         "North Cumbria"]


def pdf_pages(docx: bytes, folder: Path) -> tuple[int, str]:
    """The number of pages of the .docx converted to PDF, and the PDF's text."""
    source = folder / "pack.docx"
    source.write_bytes(docx)
    # A profile of its own, so a LibreOffice the user has open (or another test) does not block this one.
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), str(source)], check=True, capture_output=True, timeout=guard_s(10))
    info = subprocess.run(["pdfinfo", str(folder / "pack.pdf")], check=True, capture_output=True, text=True).stdout
    text = subprocess.run(["pdftotext", str(folder / "pack.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))), text


# A region: the 14 names again and one more, 29 trusts; with the combined column 30 columns, two tables.
REGION = NAMES + [f"{name} Two" for name in NAMES] + ["Scarborough"]


@pytest.mark.parametrize("names, pages", [(NAMES, 1), (REGION, 2)], ids=["14 trusts", "29 trusts"])
def test_fourteen_trusts_fit_one_landscape_page_and_more_go_on_to_the_next(tmp_path, names, pages):
    table = trust_table(names)
    sources = WeekSources(pl.DataFrame(), pl.DataFrame({"source_file": ["week.csv"]}), datetime(2025, 9, 29, 9, 0))
    no_narratives = pl.DataFrame(schema={"metric": pl.String, "org_code": pl.String, "text": pl.String})
    counted, text = pdf_pages(to_docx(table, no_narratives, sources), tmp_path)
    assert counted == pages  # 119 trusts on one page had columns a letter wide, over 15 pages
    # Every word of the header whole: the pack read "Ambit / ion", "Combine / d" and "Huddersfi / eld".
    words = {word for name in ["Metric", "Ambition", "Combined", *names] for word in name.split()}
    assert [w for w in sorted(words) if not re.search(rf"(?m)(^|\s){w}(\s|$)", text)] == []


def xlsx_pages(xlsx: bytes, folder: Path) -> list[list[tuple[str, float]]]:
    """The workbook printed to PDF by LibreOffice: the "Weekly position" sheet's pages (those under
    its printed header), each as its words with their heights in points."""
    source = folder / "week.xlsx"
    source.write_bytes(xlsx)
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), str(source)], check=True, capture_output=True, timeout=guard_s(10))
    if not (folder / "week.pdf").exists():
        needs_installing("LibreOffice Calc", "apt-get install libreoffice-calc-nogui")
    boxes = subprocess.run(["pdftotext", "-bbox", str(folder / "week.pdf"), "-"], check=True, capture_output=True,
                           text=True).stdout
    pages = []
    for page in boxes.split("<page ")[1:]:
        words = [(html.unescape(w), float(y1) - float(y0)) for y0, y1, w in
                 re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)]
        if any(w == "Weekly" for w, _ in words[:1]):
            pages.append(words)
    return pages


@pytest.mark.parametrize("names, scale", [(NAMES[:1], None), (NAMES, 80)], ids=["1 trust", "14 trusts"])
def test_xlsx_prints_readably_on_landscape_a4(tmp_path, names, scale):
    """The "Weekly position" sheet was set to print one page wide: 31 columns made it 2 pt text on
    A4. Now one page wide only while the text stays at least 7 pt, else 80% over several pages,
    each with the header row and the metric and ambition columns, a break never between a trust's
    value and its words."""
    table = trust_table(names)
    files = pl.DataFrame(schema={"source_file": pl.String, "file_id": pl.Int64, "received_at": pl.Datetime,
                                 "rows": pl.Int64})
    no_narratives = pl.DataFrame(schema={"metric": pl.String, "org_code": pl.String, "text": pl.String})
    xlsx = to_xlsx(table, no_narratives, WeekSources(pl.DataFrame(), files, datetime(2025, 9, 29, 9, 0)))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["Weekly position"]
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize) == ("landscape", 9)
    assert (sheet.print_title_rows, sheet.print_title_cols) == ("$3:$3", "$A:$B")
    assert bool(sheet.sheet_properties.pageSetUpPr.fitToPage) == (scale is None)
    if scale:
        assert setup.scale == scale
        breaks = [b.id for b in sheet.col_breaks.brk]
        assert breaks and all(b % 2 == 0 for b in breaks)  # before a trust's value column, never inside a trust

    pages = xlsx_pages(xlsx, tmp_path)
    assert len(pages) == (1 if scale is None else 6)  # 14 trusts and the combined column: 3 a page, then the narrative
    for words in pages:
        assert "Metric" in [w for w, _ in words] and "Ambition" in [w for w, _ in words]
        # A word's box is 1.2-1.3 times its size: 8.4 pt boxes are 7 pt text (they were 2.7 pt).
        assert min(h for _, h in words) >= 8.4
    printed = " ".join(w for words in pages for w, _ in words)
    assert all(word in printed for name in names for word in name.split())
