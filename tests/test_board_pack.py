"""The board packs as printed: the Word pack fits the page (14 trusts, the size of a large system, with
every metric), the Excel pack's first sheet prints as the Word pack, and the CSV reads in words too;
each converted to PDF by LibreOffice headless and read back (pdfinfo and pdftotext, from poppler-utils).
Without LibreOffice, poppler or the Carlito font (Calibri's metric twin, so LibreOffice lays the pack out
as Word does) each test fails, saying what to install (.ci/run installs them)."""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import docx
import openpyxl
import polars as pl
import pytest
from helpers import needs_installing, trust_table
from patience import guard_s

from pipelines.reports.export import to_csv
from pipelines.reports.export_common import WeekSources
from pipelines.reports.export_docx import to_docx
from pipelines.reports.export_xlsx import to_xlsx
from pipelines.reports.presentation import SPC_COLOUR

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


def converted(content: bytes, name: str, folder: Path) -> Path:
    """The file printed to PDF by LibreOffice (its own profile, so another instance does not block it)."""
    source = folder / name
    source.write_bytes(content)
    # A CSV opened as Excel opens it (its byte-order mark says UTF-8): comma-separated, UTF-8 (76).
    csv = ["--infilter=CSV:44,34,76"] if name.endswith(".csv") else []
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", *csv, "--convert-to",
                    "pdf", "--outdir", str(folder), str(source)], check=True, capture_output=True,
                   timeout=guard_s(10))
    pdf = source.with_suffix(".pdf")
    if not pdf.exists():
        needs_installing(f"LibreOffice's program that prints {name}", "apt-get install libreoffice-calc-nogui")
    return pdf


def pdf_words(pdf: Path) -> list[list[tuple[str, float]]]:
    """Each page's words with their heights in points (a word's box is 1.2-1.3 times its size)."""
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [[(html.unescape(w), float(y1) - float(y0)) for y0, y1, w in
             re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)]
            for page in boxes.split("<page ")[1:]]


def no_narratives() -> pl.DataFrame:
    return pl.DataFrame(schema={"metric": pl.String, "org_code": pl.String, "text": pl.String})


def sources() -> WeekSources:
    files = pl.DataFrame(schema={"source_file": pl.String, "file_id": pl.Int64, "received_at": pl.Datetime,
                                 "rows": pl.Int64})
    return WeekSources(pl.DataFrame(), files, datetime(2025, 9, 29, 9, 0))


@pytest.mark.parametrize("names, pages", [(NAMES, 1), (REGION, 3)], ids=["14 trusts", "29 trusts"])
def test_xlsx_first_sheet_prints_like_the_word_pack(tmp_path, names, pages):
    """The sheet printed on 27 pages, three trusts a page, value and status in separate columns. Now
    landscape A4 as the Word pack: Metric, Ambition and Combined on every page and up to 14 trusts, a
    trust's figure and marks in one cell, text about 8 pt; data and definitions on the later sheets."""
    xlsx = to_xlsx(trust_table(names), no_narratives(), sources())
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["Weekly position"]
    assert (sheet.page_setup.orientation, sheet.page_setup.paperSize) == ("landscape", 9)
    assert (sheet.print_title_rows, sheet.print_title_cols) == ("$3:$3", "$A:$C")
    printed = [words for words in pdf_words(converted(xlsx, "week.xlsx", tmp_path))
               if words and words[0][0] == "Weekly"]  # the first sheet's pages: under its printed title
    assert len(printed) == pages
    trusts = []
    for words in printed:
        texts = [w for w, _ in words]
        assert {"Metric", "Ambition", "Combined"} <= set(texts)
        # each column's two OPEL rows read "3" (not the footer's "Page 3 of 11"); Combined on every page
        opel = sum(w == "3" and before != "Page" for before, w in zip(["", *texts], texts, strict=False))
        trusts.append(opel // 2 - 1)
        assert "###" not in " ".join(texts)  # every figure fits its column
        # At least 7 pt text, but for the cells shrunk to fit their column rather than shown as "###": a
        # figure with every mark (status, change, SPC, part week), as this table's "40.0% ✗ ⬆ ▼ 5d" and
        # "1,352, 0% ! ⬆ ▼". Never a name, a label or the key.
        assert {w for w, h in words if h < 8.4} <= {"1,352,", "0%", "40.0%", "✓", "!", "✗", "⬆", "▼", "5d"}
    assert sum(trusts) == len(names) and max(trusts) == min(len(names), 14)  # 14 trusts a page at most
    first = [w for w, _ in printed[0]]
    assert "Key:" in first and "41%" in first and "!" in first  # the figure and its marks, as in Word
    everything = " ".join(w for words in printed for w, _ in words)
    assert all(word in everything for name in names for word in name.split())


def test_word_pack_keeps_the_spc_marks_apart_in_colour_and_shape(tmp_path):
    """Word printed the SPC marks H and L in black: improvement and concern looked alike. Now ▲ is
    improvement and ▼ concern, and each keeps its colour on the pale fills."""
    table = trust_table(NAMES[:3])
    improving = replace(table.rows[0], cells=[replace(c, variation="improvement_low") for c in table.rows[0].cells])
    table = replace(table, rows=[improving, *table.rows[1:]])
    pdf = converted(to_docx(table, no_narratives(), sources()), "pack.docx", tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "▲" in text and "▼" in text and not re.search(r"(?m)(^|\s)[HL~](\s|$)", text)  # no H, L or ~
    document = docx.Document(io.BytesIO(to_docx(table, no_narratives(), sources())))
    colours = {run.text.strip(): str(run.font.color.rgb) for cell in document.tables[0].columns[3].cells
               for paragraph in cell.paragraphs for run in paragraph.runs if run.text.strip() in ("▲", "▼")}
    assert colours == {"▲": SPC_COLOUR["improvement"].lstrip("#"), "▼": SPC_COLOUR["concern"].lstrip("#")}


def test_csv_keeps_ids_and_adds_words_a_reader_needs(tmp_path):
    """The CSV had metric ids and 'green' only: now the trust's name, the metric's label, the figure as
    shown and the status in words, beside the ids (opened in LibreOffice, as a reader would)."""
    table = trust_table(["Calderdale and Huddersfield"])
    pdf = converted(to_csv(table, no_narratives()), "week.csv", tmp_path)
    text = " ".join(w for words in pdf_words(pdf) for w, _ in words)
    for words in ["ga_occupancy_pct", "G&A bed occupancy", "R00", "Calderdale and Huddersfield",
                  "meets the ambition", "Special cause concern (high)"]:
        assert words in text, words
    assert re.search(r"\b40\.0+%", text)  # the figure as shown (LibreOffice reads it as a percentage)
