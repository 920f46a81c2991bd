"""Hostile input (issue 7, must have 5): random and malformed CSV and Excel bytes and random row values
through the reader, the contract and the whole ingest, and hostile file names through the upload path.

Property-based with hypothesis, bounded (tens of examples each, no deadline: a contract run takes
about half a second). The properties: nothing but FileRejected ever escapes the reader; the contract
and the ingest never fail; for every file loaded, rows loaded + rows rejected = data rows, and the
database agrees with what the ingest reported; an uploaded file's name never becomes a path.
"""
from __future__ import annotations

import csv
import io
import itertools
import os
import zipfile
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import xlsxwriter
from helpers import VALID_ROW, query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from patience import wait_until

from pipelines.catalogue.columns import COLUMN_NAMES, COLUMNS, SCHEMA
from pipelines.catalogue.issues import FileRejected
from pipelines.ingest import upload
from pipelines.ingest.contract import validate
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import ingest_sources
from pipelines.ingest.readers import SitrepRead, read_sitrep
from pipelines.warehouse.schema import SCHEMA_KEY

TODAY = date(2025, 10, 1)
KNOWN = ("RCB", "RCD", "RTR", "RWA", "RAE")
BOUNDED = settings(max_examples=60, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FEW = settings(BOUNDED, max_examples=30)  # each example runs the whole ingest, about a second

# Printable text: control characters make a file binary, which the random-bytes test covers already.
TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12)
# Any Unicode text for codes, with the control characters a CSV can carry in a quoted cell.
UNICODE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08"
                                "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"),
                  max_size=12)
# Header cells: template names and aliases in any case and spacing, and junk.
HEADER_CELLS = st.one_of(
    st.sampled_from(COLUMN_NAMES),
    st.sampled_from([alias for c in COLUMNS for alias in c.aliases]).map(lambda a: a.replace("_", " ").title()),
    TEXT,
)
# Cells around the rules: boundary numbers, negatives, big numbers, decimals, thousands separators,
# dates in every layout and impossible ones, OPEL words, codes known and unknown, quotes, blanks.
CELLS = st.one_of(
    st.integers(-3, 2_000).map(str),
    st.sampled_from(["", " ", "0", "1", "4", "5", "-0", "12.0", "12.5", "1,234", "1e3", "NaN", "inf", "OPEL 3",
                     "2024-04-01", "01/04/2024", "31/02/2025", "2099-01-01", "45383", "1/4/24", "RCD", " rcd ",
                     "ZZZ", "RCB55", "twelve", '"', "a,b", "line\nbreak", "=1+1", "\u00a0", "é"]),
    TEXT,
)


def check_read(read: SitrepRead) -> None:
    """What the ingest relies on: one parsed and one raw row per data row, issues about those rows."""
    assert read.frame.schema == pl.Schema(SCHEMA)
    assert read.raw.columns == ["source_row", *COLUMN_NAMES]
    assert read.frame["source_row"].to_list() == read.raw["source_row"].to_list()
    assert read.frame.height > 0 and read.frame["source_row"].is_unique().all()
    assert set(read.issues["source_row"]) <= set(read.frame["source_row"])


def read_and_check(content: bytes, name: str = "hostile.csv") -> SitrepRead | None:
    """Read ``content``; a plain-English FileRejected is a fine answer, anything else raised is a bug."""
    try:
        read = read_sitrep(name, content)
    except FileRejected as rejection:
        assert str(rejection).startswith(f"{name}: ")
        return None
    check_read(read)
    return read


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """CSV bytes with a header that is usually usable and rows of hostile cells, in a random encoding."""
    header = draw(st.one_of(
        st.lists(HEADER_CELLS, min_size=1, max_size=20),
        st.permutations(COLUMN_NAMES).map(list),  # a full template header in any order
    ))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 2), max_size=8))
    text = draw(st.sampled_from(["", "Title row,,\n", "\n\n"])) + csv_text(header, rows)
    text = text.replace("\n", draw(st.sampled_from(["\n", "\r\n"])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace")


@given(st.one_of(
    st.binary(max_size=3_000),
    st.binary(max_size=3_000).map(lambda b: b"PK\x03\x04" + b),  # a zip header, then garbage
    st.binary(max_size=3_000).map(lambda b: b"\xd0\xcf\x11\xe0" + b),  # an old Excel header, then garbage
    st.binary(max_size=3_000).map(lambda b: b"\xef\xbb\xbfperiod_date,org_code,los_7plus\n" + b),
))
@BOUNDED
def test_random_bytes_are_read_or_rejected_in_plain_english(content):
    read_and_check(content)


@given(csv_files())
@BOUNDED
def test_random_csv_through_reader_and_contract_never_fails(content):
    read = read_and_check(content)
    if read is not None:
        issues = validate(read.frame, read.issues, KNOWN, TODAY)
        assert set(issues["severity"]) <= {"error", "warning"}
        assert set(issues["source_row"]) <= set(read.frame["source_row"])
        assert all(m.startswith(f"row {r}: ") for r, m in zip(issues["source_row"], issues["message"], strict=True))


def workbook(rows: list[dict[str, object]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Daily data")
    sheet.write_row(0, 0, list(COLUMN_NAMES))
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [row.get(c, "") for c in COLUMN_NAMES])
    sheet.write_formula(len(rows) + 1, 3, "=SUM(D2:D3)")  # a formula: read as its stored value, never run
    book.close()
    return out.getvalue()


REAL_WORKBOOK = workbook([VALID_ROW, {**VALID_ROW, "period_date": "2024-04-02"}])


@given(st.one_of(
    st.integers(0, len(REAL_WORKBOOK) - 1).map(lambda n: REAL_WORKBOOK[:n]),  # truncated
    st.tuples(st.integers(0, len(REAL_WORKBOOK) - 1), st.integers(1, 255))
      .map(lambda f: REAL_WORKBOOK[:f[0]] + bytes([REAL_WORKBOOK[f[0]] ^ f[1]]) + REAL_WORKBOOK[f[0] + 1:]),
))
@settings(BOUNDED, max_examples=40)
def test_truncated_or_damaged_workbooks_are_read_or_rejected(content):
    read = read_and_check(content, "hostile.xlsx")
    if read is not None:
        validate(read.frame, read.issues, KNOWN, TODAY)


def test_a_zip_that_is_not_a_workbook_and_a_workbook_with_a_macro_project():
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert read_and_check(docx.getvalue(), "letter.xlsx") is None
    # A macro project inside the workbook is data to the reader: the values are read, nothing runs.
    with_macros = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(REAL_WORKBOOK)) as source, zipfile.ZipFile(with_macros, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"Attribute VB_Name = \"Module1\"\nSub Auto_Open()\nEnd Sub\n")
    read = read_and_check(with_macros.getvalue(), "macros.xlsm")
    assert read is not None and read.frame.height == 2


# ---- the whole ingest ----

@st.composite
def sitrep_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """Rows in the template over the whole value space: any date (ISO or UK), any 64-bit integer and
    values on the rules' edges, any Unicode code, trust-level and site rows of one trust-day mixed,
    and ragged rows (``_extra`` values past the header, or ``_short`` to drop the last fields)."""
    def count() -> st.SearchStrategy[object]:
        return st.one_of(st.integers(-2, 120), st.integers(-(2**63), 2**63 - 1), st.integers(4_990, 5_010),
                         st.sampled_from(["", "x", "1,000", "7.0"]))

    day = st.one_of(st.dates().map(date.isoformat), st.dates().map(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}"),
                    st.dates(date(2024, 1, 1), TODAY + timedelta(days=3)).map(date.isoformat),
                    st.sampled_from(["", "31/02/2025", "01/04/2024"]))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row: dict[str, object] = {c: draw(count()) for c in COLUMN_NAMES}
        row.update(
            period_date=draw(st.one_of(day, st.just("2024-04-01"))),  # one day often: keys clash
            org_code=draw(st.one_of(st.sampled_from([*KNOWN, "rcd", "ZZZ", ""]), UNICODE)),
            site_code=draw(st.one_of(st.sampled_from(["", "", "RCB55", "RCBCA", "rcb55\u200b", "RCB\u0421A"]),
                                     UNICODE)),
            trust_opel=draw(st.one_of(st.integers(0, 5), st.just("OPEL 2"), st.just(""))),
            la_opel=draw(st.one_of(st.integers(0, 5), st.just(""))),
            _extra=draw(st.sampled_from([0, 0, 0, 1, 2])), _short=draw(st.sampled_from([0, 0, 0, 1])))
        rows.append(row)
    return rows


def csv_of(rows: list[dict[str, object]]) -> bytes:
    def cells(row: dict[str, object]) -> list[str]:
        values = [str(row.get(c, "")) for c in COLUMN_NAMES] + ["extra"] * int(row.get("_extra", 0))  # type: ignore[call-overload]
        return values[:len(values) - int(row.get("_short", 0))]  # type: ignore[call-overload]
    return csv_text(list(COLUMN_NAMES), [cells(r) for r in rows]).encode()


def data_rows(rows: list[dict[str, object]]) -> int:
    """Rows the reader counts as data: not blank, and not a last row without an org code (a totals row)."""
    filled = [r for r in rows if any(str(r[c]).strip() for c in COLUMN_NAMES) or r.get("_extra")]
    return len(filled) - (1 if filled and not str(filled[-1]["org_code"]).strip() else 0)


def check_against_database(db: Path, outcome: FileOutcome) -> None:
    """The ledger, history, current figures and rejected rows say what the outcome said."""
    assert "internal error" not in outcome.message
    ledger = query(db, "SELECT status, rows_read, rows_loaded, rows_rejected, rows_warned FROM ingest_files "
                       "WHERE file_id = ?", [outcome.file_id])
    assert ledger == [(outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected,
                       outcome.rows_warned)]
    assert outcome.rows_loaded + outcome.rows_rejected == outcome.rows_read
    for table in ("sitrep_history", "sitrep_daily"):
        assert query(db, f"SELECT count(*) FROM {table} WHERE file_id = ?", [outcome.file_id]) == [
            (outcome.rows_loaded,)]
    assert query(db, "SELECT count(DISTINCT source_row) FROM rejected_rows WHERE file_id = ? AND severity = 'error'",
                 [outcome.file_id]) == [(outcome.rows_rejected,)]
    # Nothing counted twice: a trust-day is loaded at one level, trust or site, never both.
    assert query(db, "SELECT count(*) FROM (SELECT org_code, period_date FROM sitrep_daily GROUP BY ALL "
                     "HAVING count(DISTINCT site_code IS NULL) > 1)") == [(0,)]
    # Nothing mis-stored: codes normalised, known, short and free of control characters; dates in the window.
    assert query(db, r"""SELECT count(*) FROM sitrep_daily WHERE source = 'trust_sitrep' AND (
                             regexp_matches(coalesce(site_code, '') || org_code, '[\s\x00-\x1F\x7F-\x9F]')
                             OR org_code <> upper(org_code) OR length(org_code) > 10
                             OR (site_code IS NOT NULL AND site_code NOT IN (SELECT site_code FROM sites))
                             OR period_date < DATE '2015-01-01' OR period_date > ?)""", [TODAY]) == [(0,)]


@given(sitrep_rows())
@FEW
def test_random_rows_through_the_ingest_add_up(tmp_path, rows):
    db = tmp_path / "flow.duckdb"  # shared by the examples: each file is checked by its own file_id
    [outcome] = ingest_sources([("rows.csv", "upload:rows.csv", csv_of(rows))], db, force=True, today=TODAY)
    if outcome.status == "rejected" and outcome.rows_read == 0:  # the file as a whole (e.g. no data rows)
        assert data_rows(rows) == 0
    else:
        assert outcome.rows_read == data_rows(rows)
    check_against_database(db, outcome)


@given(st.lists(st.one_of(csv_files(), st.binary(max_size=500),
                          st.integers(0, len(REAL_WORKBOOK)).map(lambda n: REAL_WORKBOOK[:n])),
                min_size=1, max_size=3))
@settings(FEW, max_examples=20)
def test_random_files_through_the_ingest_never_fail(tmp_path, contents):
    db = tmp_path / "flow.duckdb"
    sources = [(f"file{i}", f"upload:file{i}", content) for i, content in enumerate(contents)]
    outcomes = list(ingest_sources(sources, db, force=True, today=TODAY))
    assert len(outcomes) == len(contents)
    for outcome in outcomes:
        check_against_database(db, outcome)


# ---- file names ----

HOSTILE_NAMES = st.one_of(
    st.text(max_size=300),
    st.tuples(st.sampled_from(["../", "../../", "/", "/tmp/", "..\\", "C:\\", "~/", "\x00", "./.", "\\\\server\\"]),
              st.text(max_size=40), st.sampled_from([".csv", "", "/", "\x00.csv", "/.."])).map("".join),
    st.integers(256, 5_000).map(lambda n: "x" * n + ".csv"),
)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def looks_like(work: Path, name: str) -> bool:
    """Whether something exists where ``name`` would point if it were used as a path from ``work``."""
    return os.path.lexists(work / name.replace("\x00", ""))  # lexists: False for names too long to be paths


UNIQUE_DAYS = itertools.count()  # each uploaded file differs, so none is skipped as already loaded


@given(st.lists(HOSTILE_NAMES, min_size=1, max_size=4))
@settings(FEW, max_examples=15)
def test_uploaded_file_names_never_touch_the_filesystem(tmp_path, monkeypatch, names):
    work = tmp_path / "work" / "deep" / "inside"
    work.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(work)  # so a name used as a relative path would land in the temporary folder
    db = tmp_path / "db" / "flow.duckdb"
    before, existed = tree(tmp_path), [looks_like(work, n) for n in names]
    uploads = [(name, csv_of([{**VALID_ROW, "period_date": str(date(2016, 1, 1) + timedelta(next(UNIQUE_DAYS)))}]))
               for name in names]
    outcomes = [e for e in upload.load_uploads(uploads, db, today=TODAY) if isinstance(e, FileOutcome)]

    generations = {f"db/flow.duckdb.{n}" for n in range(1, 4)}  # earlier versions kept by each swap
    template = f"db/.flow-schema-{SCHEMA_KEY}.duckdb"  # the empty database new files are copied from
    head = "db/flow.duckdb.audit-head"  # the audit chain's last entry, left by each swap
    fingerprint = "db/flow.duckdb.fingerprint"  # the size and checksum of the file each swap put in place
    assert tree(tmp_path) - before <= {"db", "db/flow.duckdb", "db/flow.duckdb.lock", template, head, fingerprint,
                                       *generations}
    assert [looks_like(work, n) for n in names] == existed  # e.g. /tmp/x or ../../x: not created
    shown = [upload.safe_name(n) for n in names]
    assert [(o.file_name, o.status) for o in outcomes] == [(s, "loaded") for s in shown]
    recorded = query(db, "SELECT file_name, file_path FROM ingest_files ORDER BY file_id")
    assert recorded[-len(names):] == [(s, f"upload:{s}") for s in shown]
    for name in shown:
        assert not {"/", "\\", "\x00"} & set(name)
        assert 0 < len(name) <= upload.MAX_NAME_LENGTH


# ---- the upload's budget ----

def test_an_upload_starts_no_file_after_its_time_budget_or_once_the_page_stops_listening(tmp_path):
    files = [(f"day{i}.csv", csv_of([{**VALID_ROW, "period_date": f"2024-04-0{i + 1}"}])) for i in range(3)]
    events = [e for e in upload.load_uploads(files, tmp_path / "a.duckdb", today=TODAY, budget_seconds=0)
              if isinstance(e, FileOutcome)]
    assert [(e.file_name, e.status) for e in events] == [(n, "rejected") for n, _ in files]
    assert "ran past its time budget of 0 seconds" in events[0].message
    db = tmp_path / "b.duckdb"
    running = upload.load_uploads(files, db, today=TODAY)
    assert isinstance(next(running), upload.Started)
    running.close()  # the page closed: the file being loaded finishes, no other starts
    wait_until(lambda: db.exists() and query(db, "SELECT count(*) FROM ingest_files") == [(1,)],
               "the file being loaded when the page closed finishing")
    assert query(db, "SELECT file_name, status FROM ingest_files") == [("day0.csv", "loaded")]
