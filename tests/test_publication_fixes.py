"""The discharge sitrep import's wrong figures fixed (issue 13 item 5): area keys with the period end,
exact doubles, error cells noted, empty trust-months not reported; and the provider lookup's ICBs."""
from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import polars as pl
from helpers import NHSE_FIXTURES, query

from pipelines.ingest.load import ingest_paths
from pipelines.publication.grid import Book, Grid, load_grid
from pipelines.publication.lookup import is_provider_lookup, read_provider_lookup
from pipelines.publication.read import read_publication
from pipelines.publication.store import TABLES
from pipelines.publication.tables import Log
from pipelines.publication.workbook import _unsubmitted_months

WORKBOOK_2022 = NHSE_FIXTURES / "acute-discharge-sitrep-2022-04.xlsx"


def test_area_keys_hold_the_period_end_so_a_series_cannot_delete_a_month():
    for table in ("nhse_destinations_area", "nhse_delay_reasons_area"):
        assert {"period_start", "period_end", "area_name"} <= set(TABLES[table][2])


def test_table5_figures_are_the_workbooks_exact_doubles():
    read = read_publication(WORKBOOK_2022.name, WORKBOOK_2022.read_bytes())
    sheet = openpyxl.load_workbook(WORKBOOK_2022, read_only=True)["Table 5"]
    cells = {v for row in sheet.iter_rows(values_only=True) for v in row if isinstance(v, float) and v != round(v, 6)}
    assert cells and cells <= set(read.delay_reasons["patients"].to_list())  # 3.3333333333333335, not 3.333333333


def _with_error_cell(content: bytes, sheet_xml: str, cell: str) -> bytes:
    """The workbook with ``cell`` of one sheet replaced by a cached #DIV/0! error (as Excel saves it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == sheet_xml:
                data = re.sub(rf'<c r="{cell}"[^>]*?(?:/>|>.*?</c>)'.encode(),
                              f'<c r="{cell}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'.encode(), data)
            target.writestr(item, data)
    return out.getvalue()


def test_error_cells_are_read_as_errors_not_empty():
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["x", 1.5, 2])
    buffer = io.BytesIO()
    book.save(buffer)
    content = _with_error_cell(buffer.getvalue(), "xl/worksheets/sheet1.xml", "C1")
    grid = load_grid(Book(content), "Data")
    assert grid.rows[0] == ("x", "1.5", "#DIV/0!")


def test_a_trust_month_with_no_submissions_is_not_reported_not_zero():
    daily = pl.DataFrame({"org_code": ["RCB", "RCB", "RCD", "RCD"], "nctr_patients": [5, None, None, None]})
    destinations = pl.DataFrame({"org_code": ["RCB", "RCD", "RCD"], "discharges": [0, 0, None]})
    log = Log()
    fixed = _unsubmitted_months(destinations, daily, "Table 4", log)
    assert fixed["discharges"].to_list() == [0, None, None]  # York reported a month of 0; Harrogate nothing
    assert log.notes == ["Table 4: 1 trust(s) submitted nothing all month (RCD): their 0 discharges by destination "
                         "are stored as not reported"]


def test_the_provider_lookup_gives_each_trust_its_icb():
    assert is_provider_lookup("Lkp - Prov") and not is_provider_lookup("Table 2")
    frame = pl.DataFrame({"A": [None, "Org Code", "RCD", "RCB", None],
                          "B": [None, "Org Name", "HARROGATE", "YORK", None],
                          "C": [None, "ICB Code", "QWO", "QOQ", None],
                          "D": [None, "ICB Name", "NHS WEST YORKSHIRE INTEGRATED CARE BOARD",
                                "NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD", None]})
    notes: list[str] = []
    found = read_provider_lookup(Grid("Lkp - Prov", frame), notes)
    assert found.sort("org_code").rows() == [
        ("RCB", "QOQ", "NHS Humber and North Yorkshire ICB", "acute workbook lookup sheet"),
        ("RCD", "QWO", "NHS West Yorkshire ICB", "acute workbook lookup sheet")]
    assert notes == ["Lkp - Prov: the ICB of 2 trust(s) as NHS England attributes them"]




WORKBOOK_2023 = NHSE_FIXTURES / "acute-discharge-sitrep-2023-11.xlsx"
SERIES = NHSE_FIXTURES / "acute-discharge-sitrep-timeseries-2021-04-to-2024-01.xlsx"


def test_the_national_series_no_longer_deletes_a_months_england_totals(db):
    list(ingest_paths([WORKBOOK_2023, SERIES], db))
    list(ingest_paths([SERIES], db, force=True))
    month = query(db, "SELECT count(*), sum(discharges) FROM nhse_destinations_area WHERE level = 'england' "
                      "AND period_start = '2023-11-01' AND period_end = '2023-11-30'")
    assert month[0][0] > 0 and month[0][1] > 0
    assert query(db, "SELECT count(*) FROM nhse_destinations_area WHERE level = 'england' "
                     "AND period_start = '2023-11-01' AND period_end = '2023-11-01'")[0][0] > 0  # the series' day
