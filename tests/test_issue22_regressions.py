"""Issue 22 ("Nothing lost, nobody let in"): each numbered failure as found by an attacker, through the
code a user meets, checked against what the database, the pages' HTML and the downloads then hold.
Memory (item 2) is in test_memory_limits.py; the browser sign-in ones in test_e2e_signin.py and
test_e2e_sessions.py; identities (item 3) in test_access.py.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from helpers import REFERENCE_FIXTURES, TEMPLATE_COLUMNS, VALID_ROW, load_rows_directly, query, week_of_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import access, live_sessions, sessions
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import ingest_sources
from pipelines.queries import drilldown
from pipelines.reports import export
from pipelines.reports.meeting_html import table_html
from pipelines.reports.narrative import comments_by_cell, current_narratives, save_narrative
from pipelines.reports.weekly_table import build_weekly_table
from pipelines.safe_text import BIDI, clean, clean_column
from pipelines.warehouse import connect_read, open_for_write
from ui.charts import peer_figure

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2025, 10, 1)
HEADER = ",".join(TEMPLATE_COLUMNS)
RLO = "\u202e"


def line(**overrides: object) -> str:
    row = {**VALID_ROW, **overrides}
    return ",".join(str(row[c]) for c in TEMPLATE_COLUMNS)


def csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def submitter(org_code: str) -> access.Identity:
    return access.Identity(f"{org_code.lower()}@nhs.test", "token", (access.Grant("submitter", frozenset({org_code})),))


def ingest(db: Path, content: bytes, actor: access.Identity, name: str = "both.csv") -> FileOutcome:
    [outcome] = ingest_sources([(name, f"upload:{name}", content)], db, today=TODAY, actor=actor)
    return outcome


# --- 4: skips are about rows, not bytes -------------------------------------------------------

def test_4_the_same_file_from_the_second_trusts_submitter_loads_its_rows(db: Path) -> None:
    both = csv(line(org_code="RCB"), line(org_code="RCB", period_date="2024-04-02"), line(org_code="RCD"))
    first = ingest(db, both, submitter("RCB"))
    assert (first.status, first.rows_loaded, first.rows_rejected) == ("loaded_with_rejections", 2, 1)
    second = ingest(db, both, submitter("RCD"))
    assert (second.status, second.rows_loaded, second.rows_rejected, second.rows_skipped) == ("loaded", 1, 0, 2)
    assert f"rows 2, 3 skipped: already loaded as file #{first.file_id} (both.csv)" in " ".join(second.notes)
    assert query(db, "SELECT org_code, source_row, file_id FROM sitrep_daily ORDER BY source_row") == [
        ("RCB", 2, first.file_id), ("RCB", 3, first.file_id), ("RCD", 4, second.file_id)]
    third = ingest(db, both, submitter("RCD"))  # now every row is loaded: the whole file is skipped
    assert third.status == "skipped" and third.ok and "already loaded as file" in third.message
    assert query(db, "SELECT count(*) FROM sitrep_history") == [(3,)]  # nothing counted twice


def test_4_the_command_line_says_which_rows_were_skipped_and_exits_0(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_bytes(csv(line(org_code="RCB"), line(org_code="RCD")))
    ingest(db, path.read_bytes(), submitter("RCB"))
    done = subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(path), "--db", str(db)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 of 1 rows loaded, 1 already loaded skipped" in done.stdout
    assert "rows 2 skipped: already loaded as file #1 (both.csv)" in done.stdout


# --- 9: a stray quote costs its row, not the file ----------------------------------------------

@pytest.mark.parametrize("stray", [1, 2, 3])
def test_9_a_stray_quote_rejects_only_its_row_with_the_row_number(db: Path, stray: int) -> None:
    days = [f"2024-04-0{d}" for d in range(1, 5)]
    lines = [line(period_date=day) for day in days]
    lines[stray] = lines[stray].replace(",RCD,", ',"RCD,')
    outcome = ingest(db, csv(*lines), access.server_admin(), "stray.csv")
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded_with_rejections", 3, 1)
    assert query(db, "SELECT source_row, rule, message FROM rejected_rows") == [
        (stray + 2, "unclosed_quote", f'row {stray + 2}: a quote mark (") opens a value that never closes, so where '
                                      'its values end cannot be told; the row is not loaded (a quote inside a value '
                                      'is written twice: "")')]
    assert query(db, "SELECT period_date FROM sitrep_daily ORDER BY 1") == [
        (date.fromisoformat(day),) for i, day in enumerate(days) if i != stray]


def test_9_a_quoted_value_spanning_lines_still_reads_beside_a_stray_quote(db: Path) -> None:
    content = ("\n".join([HEADER + ",comment", line() + ',"two\nlines"', line(period_date="2024-04-02") + ',"open',
                          line(period_date="2024-04-03") + ",ok"]) + "\n").encode()
    outcome = ingest(db, content, access.server_admin(), "mixed.csv")
    assert (outcome.rows_loaded, outcome.rows_rejected) == (2, 1)
    assert query(db, "SELECT source_row, rule FROM rejected_rows") == [(4, "unclosed_quote")]
    assert query(db, "SELECT source_row FROM sitrep_daily ORDER BY 1") == [(2,), (5,)]


# --- 11: bidi overrides and control characters, in every output ---------------------------------

@given(st.text())
@settings(max_examples=200, deadline=None, derandomize=True)
def test_11_one_clean_for_python_and_polars(text: str) -> None:
    for keep_lines in (False, True):
        cleaned = clean(text, keep_lines)
        assert pl.select(clean_column(pl.lit(text), keep_lines)).item() == cleaned
        assert not set(cleaned) & BIDI
        assert all(ch == "\n" and keep_lines or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in cleaned)


@pytest.fixture
def spoofed(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """York's name in trusts.csv and a narrative saved before cleaning existed, both with a right-to-left override."""
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE_FIXTURES, reference)
    trusts = (reference / "trusts.csv").read_text(encoding="utf-8")
    (reference / "trusts.csv").write_text(trusts.replace(",York and Scarborough,", f",York {RLO}dna\x07 Scarborough,"),
                                          encoding="utf-8")
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(reference))
    load_rows_directly(db, week_of_rows("RCB", date(2024, 4, 1)) + week_of_rows("RWA", date(2024, 4, 1)))
    with open_for_write(db) as con:  # as an older version stored it
        con.execute("INSERT INTO narratives VALUES (1, DATE '2024-04-07', 'stranded_7plus_pct', NULL, ?, ?, "
                    "TIMESTAMP '2024-04-08 09:00', 'all')", [f"Beds {RLO}desolc\x1b[31m\nnext line", f"Ann {RLO}"])
    save_narrative(db, date(2024, 4, 7), "recorded_delays", "RCB", f"Saved {RLO}today", "Yve")
    return db


def test_11_no_override_in_the_table_its_tooltips_charts_and_downloads(spoofed: Path) -> None:
    con = connect_read(spoofed)
    try:
        table = build_weekly_table(con, date(2024, 4, 7))
        narratives = current_narratives(con, date(2024, 4, 7))
        html = table_html(table.rows, list(table.trusts.select("org_code", "trust").iter_rows()), "columns",
                          comments_by_cell(narratives), "caption")
        peers = drilldown.peers(con, "RWA", "stranded_7plus_pct", date(2024, 4, 7))  # York is Hull's peer
        assert peers.height == 2
        chart = peer_figure(peers, "RWA", "%").to_json()
        outputs = {"weekly table": html, "chart": chart,
                   **{fmt: export.render(con, date(2024, 4, 7), (), (), fmt) for fmt in ("csv", "xlsx", "docx")}}
    finally:
        con.close()
    for name, output in outputs.items():
        text = output if isinstance(output, str) else _text_of(output)
        assert "York dna Scarborough" in text or "York dna Scarborough" in text.encode().decode("unicode_escape"), name
        assert not set(text) & BIDI and "\\u202e" not in text, name
        assert "\x07" not in text and "\x1b" not in text, name
    assert set(narratives["text"]) == {"Beds desolc[31m\nnext line", "Saved today"}  # line breaks kept


def _text_of(content: bytes) -> str:
    """A download as text: a CSV's, or every XML part of an .xlsx or .docx."""
    if not content.startswith(b"PK"):
        return content.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml"))


# --- 5 and 6 on the server: sign-out and expiry end sessions for every writer --------------------

def signed_in(subject: str = "pat", issued: float | None = None, lifetime_s: float = 3600) -> access.Identity:
    issued = time.time() if issued is None else issued
    return access.Identity("pat@nhs.test", "token", (access.Grant("admin", None),),
                           sessions.SignIn(f"https://idp {subject}", issued, issued + lifetime_s))


def test_5_signing_out_stops_every_write_of_every_session_on_every_server(db: Path) -> None:
    tab_one, tab_two = signed_in(issued=time.time() - 60), signed_in(issued=time.time() - 30)
    save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, "Before signing out.", tab_two)
    assert live_sessions.page_problem(tab_two.sign_in, db) is None
    live_sessions.sign_out(db, tab_one)  # one tab of one server
    assert "You signed out at" in live_sessions.page_problem(tab_two.sign_in, db)  # the other tab's next run
    with pytest.raises(access.AccessDenied, match="Nothing was saved. You signed out at"):
        save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, "After signing out.", tab_two)
    with pytest.raises(access.AccessDenied, match="You signed out at"):
        ingest(db, csv(line()), tab_two)
    assert query(db, "SELECT text FROM narratives") == [("Before signing out.",)]
    assert query(db, "SELECT actor, action FROM audit_log ORDER BY recorded_at") == [
        ("pat@nhs.test", "narrative_saved"), ("pat@nhs.test", "signed_out")]
    assert live_sessions.page_problem(signed_in().sign_in, db) is None  # signing in again afterwards works
    assert live_sessions.page_problem(signed_in("someone else", time.time() - 60).sign_in, db) is None


def test_6_an_expired_id_token_saves_nothing(db: Path) -> None:
    expired = signed_in(issued=time.time() - 120, lifetime_s=20)
    assert live_sessions.page_problem(expired.sign_in, db) is None  # reading goes on for the session's length
    with pytest.raises(access.AccessDenied, match="Your sign-in token expired at"):
        save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, "Saved late.", expired)


def test_6_a_sign_in_lasts_the_configured_hours_from_the_token(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_SESSION_HOURS", "1")
    old = signed_in(issued=time.time() - 2 * 3600, lifetime_s=30 * 24 * 3600)  # a cookie would last 30 days
    assert "(a sign-in lasts 1 hours)" in live_sessions.page_problem(old.sign_in, db)
    with pytest.raises(access.AccessDenied, match="Your sign-in ended at"):
        save_narrative(db, date(2024, 4, 7), "stranded_7plus_pct", None, "Saved late.", old)
    monkeypatch.delenv("FLOW_SESSION_HOURS")
    assert live_sessions.page_problem(old.sign_in, db) is None  # default 10 hours


def test_6_a_token_without_issue_and_expiry_times_is_not_accepted() -> None:
    identity = access.identity_from_claims({"sub": "x", "email": "a@nhs.test", "email_verified": True}, [])
    assert identity.sign_in is None and "cannot accept it" in sessions.session_problem(None, None, writing=False)
