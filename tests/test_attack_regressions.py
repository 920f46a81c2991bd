"""Issue 14's reproductions, each through the whole ingest against what the database then holds:
nothing counted twice, nothing mis-stored, every failing file in the ledger with its reason.

Numbers in test names are the issue's numbered failures.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from datetime import date, timedelta
from pathlib import Path

from helpers import VALID_ROW, query
from test_nhse_readers import LONG_HEADER, NCTR, NEY

from pipelines import access
from pipelines.catalogue.columns import COLUMN_NAMES
from pipelines.catalogue.issues import FileRejected
from pipelines.ingest import load
from pipelines.ingest.cells import MAX_CELLS
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import ingest_sources
from pipelines.ingest.readers import read_sitrep
from pipelines.queries.quality import trusts_for_review
from pipelines.warehouse import connect_read

TODAY = date(2025, 10, 1)
HEADER = ",".join(COLUMN_NAMES)


def line(**overrides: object) -> str:
    row = {**VALID_ROW, **overrides}
    return ",".join(str(row.get(c, "")) for c in COLUMN_NAMES)  # the optional DRD columns blank


def csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def ingest(db: Path, content: bytes, name: str = "file.csv") -> FileOutcome:
    [outcome] = ingest_sources([(name, f"upload:{name}", content)], db, force=True, today=TODAY)
    return outcome


def beds(db: Path, org: str, day: str) -> list[tuple]:
    """What the dashboard counts for the trust-day: the summed beds and the rows behind them."""
    return query(db, "SELECT ga_beds_open, rows_reported FROM sitrep_trust_day WHERE org_code = ? AND period_date = ?",
                 [org, date.fromisoformat(day)])


def rules(db: Path, outcome: FileOutcome) -> list[tuple]:
    return query(db, "SELECT source_row, rule FROM rejected_rows WHERE file_id = ? ORDER BY source_row, rule",
                 [outcome.file_id])


def york(site: str, day: str = "2024-04-01", **overrides: object) -> str:
    return line(org_code="RCB", site_code=site, period_date=day, **overrides)


# ---- 1: trust-level and site rows of one trust-day in one file ----

def test_1_trust_level_and_site_rows_in_one_file_are_a_clash_not_a_sum(db):
    outcome = ingest(db, csv(york("", ga_beds_open=330), york("RCB55", ga_beds_open=200),
                             york("RCBCA", ga_beds_open=130)))
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("rejected", 0, 3)
    assert {rule for _, rule in rules(db, outcome)} == {"one_level_per_trust_day"}
    assert beds(db, "RCB", "2024-04-01") == []  # not 990 beds, not 660: nothing until the trust says which


# ---- 2: site codes normalised and checked ----

def test_2_a_site_code_with_a_zero_width_space_or_full_width_letters_is_the_same_site(db):
    ingest(db, csv(york("RCB55", ga_beds_open=200), york("RCBCA", ga_beds_open=130)))
    outcome = ingest(db, csv(york("RCB55\u200b", ga_beds_open=210), york(" ｒｃｂｃａ ", ga_beds_open=140)))
    assert (outcome.status, outcome.rows_superseded) == ("loaded", 2)
    assert beds(db, "RCB", "2024-04-01") == [(350, 2)]
    assert query(db, "SELECT DISTINCT site_code FROM sitrep_daily ORDER BY 1") == [("RCB55",), ("RCBCA",)]


def test_2_a_look_alike_letter_from_another_alphabet_is_an_unknown_site(db):
    ingest(db, csv(york("RCB55", ga_beds_open=200), york("RCBCA", ga_beds_open=130)))
    outcome = ingest(db, csv(york("RCB\u0421A", ga_beds_open=130)))  # a Cyrillic С
    assert rules(db, outcome) == [(2, "known_site_code")]
    assert beds(db, "RCB", "2024-04-01") == [(330, 2)]


def test_2_control_characters_in_a_code_reject_the_row_even_after_the_first_64_kb(db):
    padding = [line(period_date=(date(2016, 1, 1) + timedelta(days=i)).isoformat()) for i in range(1500)]
    content = csv(*padding, york('"RCB\n55"'), york("RCB\x0055", day="2024-04-02"))
    assert b"\x00" not in content[:65536] and b"\x00" in content
    outcome = ingest(db, content)
    assert outcome.rows_rejected == 2 and outcome.rows_loaded == 1500
    assert {rule for _, rule in rules(db, outcome)} >= {"no_control_characters"}
    assert query(db, "SELECT count(*) FROM sitrep_daily WHERE org_code = 'RCB'") == [(0,)]


def test_2_a_50_million_character_site_code_rejects_the_file_before_it_is_parsed(db):
    huge = york("X" * 50_000_000)
    outcome = ingest(db, csv(huge))
    assert outcome.status == "rejected"
    assert f"line 2 is {len(huge):,} characters long" in outcome.message and "over the limit" in outcome.message
    assert query(db, "SELECT status, message FROM ingest_files") == [("rejected", outcome.message)]


# ---- 3: a row with an extra field ----

def test_3_an_unquoted_thousands_separator_rejects_the_row_never_shifts_it(db):
    outcome = ingest(db, csv(line(period_date="2024-04-01"), line(period_date="2024-04-02", ga_beds_open="1,200"),
                             line(period_date="2024-04-03")[:-2]))
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded_with_rejections", 1, 2)
    assert rules(db, outcome) == [(3, "row_fits_header"), (4, "row_fits_header")]
    message = query(db, "SELECT message FROM rejected_rows WHERE source_row = 3")[0][0]
    width = len(COLUMN_NAMES)
    assert message.startswith(f"row 3: has {width + 1} values but the header has {width} columns")
    assert query(db, "SELECT period_date, ga_beds_open, ga_beds_occupied FROM sitrep_daily") == [
        (date(2024, 4, 1), 100, 90)]


def test_3_a_trailing_empty_field_and_a_quoted_thousands_separator_are_fine(db):
    outcome = ingest(db, csv(line() + ",", line(period_date="2024-04-02", ga_beds_open='"1,200"')))
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2)


# ---- 4: a correction for one site only ----

def test_4_a_correction_for_one_site_does_not_wipe_a_trust_level_figure(db):
    ingest(db, csv(york("", ga_beds_open=330)))
    outcome = ingest(db, csv(york("RCB55", ga_beds_open=210)))
    assert rules(db, outcome) == [(2, "site_rows_replace_whole_trust_day")]
    assert beds(db, "RCB", "2024-04-01") == [(330, 1)]
    # Rows for every site of the trust replace the trust-level figure as a whole.
    outcome = ingest(db, csv(york("RCB55", ga_beds_open=210), york("RCBCA", ga_beds_open=130)))
    assert (outcome.status, outcome.rows_superseded) == ("loaded", 1)
    assert beds(db, "RCB", "2024-04-01") == [(340, 2)]


def test_4_a_site_correction_on_a_per_site_day_replaces_only_that_site(db):
    ingest(db, csv(york("RCB55", ga_beds_open=200), york("RCBCA", ga_beds_open=130)))
    outcome = ingest(db, csv(york("RCBCA", ga_beds_open=135)))
    assert (outcome.status, outcome.rows_superseded) == ("loaded", 1)
    assert beds(db, "RCB", "2024-04-01") == [(335, 2)]
    # A trust-level row replaces the whole per-site day.
    ingest(db, csv(york("", ga_beds_open=320)))
    assert beds(db, "RCB", "2024-04-01") == [(320, 1)]


# ---- 7: out-of-range values are rejected per row, never an internal error ----

def test_7_out_of_range_dates_and_counts_reject_their_rows_and_the_file_is_in_the_ledger(db):
    outcome = ingest(db, csv(line(period_date="2263-01-01"), line(period_date="1900-01-01"),
                             line(period_date="2024-04-03", ga_beds_open=2**31),
                             line(period_date="2024-04-04", ga_beds_open=2_147_483_647, ga_beds_occupied=-(2**63)),
                             line(period_date="2024-04-05", los_21plus=2**63 - 1), line(period_date="2024-04-06")))
    assert "internal error" not in outcome.message
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded_with_rejections", 1, 5)
    found = rules(db, outcome)
    assert (2, "date_not_in_future") in found and (3, "date_not_before_window") in found
    assert (4, "plausible_count") in found and (5, "plausible_count") in found and (6, "plausible_count") in found
    assert query(db, "SELECT status FROM ingest_files WHERE file_id = ?", [outcome.file_id]) == [
        ("loaded_with_rejections",)]


def test_7_a_file_that_fails_for_an_unexpected_reason_is_in_the_ledger(db, monkeypatch):
    monkeypatch.setattr(load, "read_sitrep", lambda *a: 1 / 0)
    outcome = ingest(db, csv(line()))
    assert outcome.status == "rejected" and "internal error (ZeroDivisionError)" in outcome.message
    assert query(db, "SELECT file_name, status, message FROM ingest_files") == [
        ("file.csv", "rejected", outcome.message)]


# ---- 8 (issue 14 must-have 4): a workbook that inflates ----

def zip_bomb(inflated_mb: int) -> bytes:
    """A workbook-shaped zip whose one sheet inflates to ``inflated_mb`` MB (about 0.2 MB on disk)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"<row><c><v>0</v></c></row>" * 40_000
            for _ in range(inflated_mb * 1024 * 1024 // len(chunk) + 1):
                sheet.write(chunk)
    return out.getvalue()


def test_8_a_zip_bomb_is_rejected_from_its_directory_before_parsing(db):
    bomb = zip_bomb(210)
    assert len(bomb) < 2 * 1024 * 1024
    outcome = ingest(db, bomb, "bomb.xlsx")
    assert outcome.status == "rejected"
    assert "would unpack to 210 MB, over the 200 MB limit" in outcome.message
    assert query(db, "SELECT file_name, status FROM ingest_files") == [("bomb.xlsx", "rejected")]


def test_8_a_sheet_claiming_more_cells_than_the_limit_is_rejected():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", '<worksheet><dimension ref="A1:XFD1048576"/></worksheet>')

    try:
        read_sitrep("wide.xlsx", out.getvalue())
    except FileRejected as rejection:
        assert f"over the limit of {MAX_CELLS:,}" in str(rejection)
    else:
        raise AssertionError("a workbook spanning 17 billion cells was read")
    assert zlib  # the bomb above is deflate: the check never inflates it


# ---- 6: a fake publication ----

def fake_publication(england: int, trusts: dict[str, int]) -> bytes:
    lines = [LONG_HEADER, f"National,,,,ENGLAND,01/04/2024,{NCTR},Count,Criteria to reside,{england}"]
    lines += [f"Provider,{NEY},QOQ,{code},SOME TRUST,01/04/2024,{NCTR},Count,Criteria to reside,{value}"
              for code, value in trusts.items()]
    return ("\n".join(lines) + "\n").encode()


def test_6_a_publication_that_does_not_add_up_is_rejected_and_adds_no_trust(db):
    ingest(db, csv(line(period_date="2024-04-01")))
    outcome = ingest(db, fake_publication(england=12_345, trusts={"ZZX99": 10, "RCD": 9_999}), "webfile.csv")
    assert outcome.status == "rejected"
    assert "its trusts add up to 10,009" in outcome.message and "England row says 12,345" in outcome.message
    assert query(db, "SELECT count(*) FROM trusts WHERE org_code = 'ZZX99'") == [(0,)]
    assert query(db, "SELECT nctr_patients FROM sitrep_daily WHERE org_code = 'RCD'") == [(15,)]
    no_england = fake_publication(england=0, trusts={"ZZX99": 10})
    no_england = no_england.replace(b"National,,,,ENGLAND,01/04/2024", b"ICB,,,,ENGLAND,01/04/2024")
    assert "has no England row" in ingest(db, no_england, "webfile2.csv").message


def test_6_a_trust_only_a_publication_names_is_listed_for_review_and_not_trusted_by_the_sitrep_contract(db):
    outcome = ingest(db, fake_publication(england=40, trusts={"ZZX99": 10, "RCD": 30}), "webfile.csv")
    assert outcome.status == "loaded", outcome.message
    assert query(db, "SELECT source FROM trusts WHERE org_code = 'ZZX99'") == [("nhse_publication",)]
    with connect_read(db) as con:
        review = trusts_for_review(con)
    assert review.select("org_code", "days", "first_file").rows() == [("ZZX99", 1, "webfile.csv")]
    sitrep = ingest(db, csv(line(org_code="ZZX99")))
    assert rules(db, sitrep) == [(2, "known_ods_code")]


def test_6_publications_are_refused_for_users_who_are_not_administrators(db):
    submitter = access.Identity("a submitter", "token", (access.Grant("submitter", frozenset({"RCD"})),))
    [outcome] = ingest_sources([("webfile.csv", "upload:webfile.csv", fake_publication(40, {"RCD": 40}))], db,
                               today=TODAY, actor=submitter)
    assert outcome.status == "rejected" and "only administrators" in outcome.message
