"""The data quality page (AppTest), its queries (pipelines.queries.quality) and the upload logic
(pipelines.ingest.upload).

AppTest cannot drive st.file_uploader, so uploads are tested through pipelines.ingest.upload.load_uploads, the
function the page's Load button calls with the uploaded (name, bytes) pairs.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from helpers import load_rows_directly, query, sitrep_row, week_of_rows, write_csv
from patience import guard_s, page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_attack_regressions import fake_publication

from pipelines.catalogue.columns import COLUMN_NAMES, DRD_COLUMNS
from pipelines.ingest import upload
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import ingest_paths
from pipelines.queries import quality
from pipelines.warehouse import connect_read, write_lock

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "data_quality.py")
MONDAY = date(2024, 4, 1)
BAD_MESSAGE = "row 3: los_21plus (57) is more than los_14plus (40)"


def harrogate_rows() -> list[dict[str, object]]:
    """A week of Harrogate (RCD): 02/04 breaks a rule (rejected), 03/04 has occupied above open (flagged)."""
    rows = week_of_rows("RCD", MONDAY)
    rows[1].update(los_21plus=57, los_14plus=40)
    rows[2].update(ga_beds_open=80)
    return rows


@pytest.fixture(scope="module")
def loaded_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three files, ledger ids 1 to 3: Harrogate (one row rejected, one flagged); York per site, with its
    Castle Hill site (RCBCA) missing on Friday 05/04/2024; South Tees, a complete week."""
    folder = tmp_path_factory.mktemp("loaded")
    york = [sitrep_row(org_code="RCB", site_code=site, period_date=row["period_date"])
            for row in week_of_rows("RCB", MONDAY) for site in ("RCB55", "RCBCA")
            if not (site == "RCBCA" and row["period_date"] == "2024-04-05")]
    files = [write_csv(folder / "harrogate.csv", harrogate_rows()), write_csv(folder / "york_sites.csv", york),
             write_csv(folder / "south_tees.csv", week_of_rows("RTR", MONDAY))]
    list(ingest_paths(files, folder / "flow.duckdb"))
    return folder / "flow.duckdb"


@pytest.fixture
def loaded(loaded_once: Path, db: Path) -> Path:
    """A copy of the loaded database as this test's $FLOW_DB (loading it costs seconds; copying does not)."""
    shutil.copyfile(loaded_once, db)
    return db


def outcomes(events) -> list[FileOutcome]:
    return [e for e in events if isinstance(e, FileOutcome)]


def run_page(tab: str = "Upload", *, submit: bool = False) -> AppTest:
    """The page with ``tab`` open: only the open tab's section is drawn (as a user's click on it reruns);
    ``submit``: with the Upload tab's "Submit a file" box opened (the file box is drawn only then)."""
    app = AppTest.from_file(PAGE, default_timeout=page_run_guard_s())
    app.session_state["dq_tab"] = tab
    if submit:
        app.query_params["submit"] = "true"  # a link that opens it, as the user's click writes it
    app.run()
    assert not app.exception, app.exception
    return app


def frame_with(app: AppTest, column: str):
    """The page's first table with this column (each tab's table has its own columns)."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def test_ledger_shows_each_file_with_its_counts(loaded):
    app = run_page("Files received")
    ledger = frame_with(app, "rows_superseded").set_index("file_name")
    assert list(ledger.index) == ["south_tees.csv", "york_sites.csv", "harrogate.csv"]  # newest first
    harrogate = ledger.loc["harrogate.csv"]
    assert (harrogate["status"], harrogate["rows_read"], harrogate["rows_loaded"], harrogate["rows_rejected"],
            harrogate["rows_warned"], harrogate["message"]) == ("Loaded, some rows rejected", 7, 6, 1, 1,
                                                               "1 of 7 rows rejected")
    assert isinstance(harrogate["received_at"].to_pydatetime(), datetime)
    assert ledger.loc["york_sites.csv", "rows_loaded"] == 13


def test_ledger_filters_by_status_and_file_name(loaded):
    app = run_page("Files received")
    app.multiselect(key="dq_status").set_value(["loaded_with_rejections"]).run()
    assert list(frame_with(app, "rows_superseded")["file_name"]) == ["harrogate.csv"]
    app.multiselect(key="dq_status").set_value([]).run()
    app.text_input(key="dq_search").set_value("SOUTH").run()  # any case
    assert list(frame_with(app, "rows_superseded")["file_name"]) == ["south_tees.csv"]
    app.text_input(key="dq_search").set_value("%").run()  # taken literally, not as a pattern
    assert "No file matches these filters." in [i.value for i in app.info]


def test_rejected_rows_filter_by_rule_and_severity(loaded):
    app = run_page("Rejected rows")
    rows = frame_with(app, "rule")
    assert sorted(rows["rule"]) == ["los_21plus_le_los_14plus", "occupied_above_open"]
    app.multiselect(key="dq_rule").set_value(["los_21plus_le_los_14plus"]).run()
    rows = frame_with(app, "rule")
    assert (list(rows["message"]), list(rows["trust"]), list(rows["severity"])) == (
        [BAD_MESSAGE], ["Harrogate"], ["error"])
    app.multiselect(key="dq_rule").set_value([])
    app.multiselect(key="dq_severity").set_value(["warning"]).run()
    assert list(frame_with(app, "rule")["rule"]) == ["occupied_above_open"]
    app.multiselect(key="dq_trust").set_value(["Harrogate"]).run()
    assert len(frame_with(app, "rule")) == 1


def test_rejected_rows_show_the_message_before_the_codes(loaded):
    """At 1366 px the grid shows about eight columns: what to fix must be among them, not behind Rule."""
    app = run_page("Rejected rows")
    grid = next(d for d in app.dataframe if "rule" in d.value.columns and "file_name" in d.value.columns)
    order = list(grid.proto.column_order)
    assert order[:7] == ["file_id", "file_name", "source_row", "period_date", "trust", "severity", "message"]


def test_fix_and_resubmit_file_has_the_rows_as_sent_and_their_problems(loaded):
    with connect_read(loaded) as con:
        rows = quality.resubmission(con, 1)
    assert rows.columns == [*COLUMN_NAMES, "problems"]
    expected = ({c: str(v) for c, v in harrogate_rows()[1].items()} | dict.fromkeys(DRD_COLUMNS)
                | {"site_code": None, "problems": BAD_MESSAGE})  # the optional DRD columns blank, as sent
    assert rows.to_dicts() == [expected]  # the flagged row (a warning) was loaded, so it is not here
    text = quality.to_csv(rows).decode("utf-8")
    assert text.startswith("\ufeffperiod_date,org_code,site_code,ga_beds_open,")
    assert text.splitlines()[1] == "2024-04-02,RCD,,100,90,3,40,40,57,15,5,2,6,3,1,0," + "," * len(DRD_COLUMNS) \
        + "2,3," + BAD_MESSAGE


def test_the_page_offers_the_fix_file_for_a_chosen_file(loaded):
    app = run_page("Rejected rows")
    assert "Choose a file to download" in " ".join(c.value for c in app.caption)
    app.selectbox(key="dq_file").set_value(1).run()
    assert list(frame_with(app, "rule")["file_name"].unique()) == ["harrogate.csv"]
    [button] = app.get("download_button")
    assert button.proto.label == "Download the 1 rejected row to fix (CSV)"


def test_a_fixed_file_can_be_uploaded_again(loaded):
    with connect_read(loaded) as con:
        rows = quality.resubmission(con, 1)
    fixed = quality.to_csv(rows.with_columns(los_21plus=pl.lit("10")))
    [outcome] = outcomes(upload.load_uploads([("harrogate fixed.csv", fixed)], loaded))
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1)
    assert outcome.notes == ["ignored column(s) not in the template: 'problems'"]
    assert query(loaded, "SELECT los_21plus FROM sitrep_daily WHERE org_code = 'RCD' AND period_date = '2024-04-02'") \
        == [(10,)]


def test_fix_file_cells_that_excel_would_run_as_formulas_are_neutralised(db, tmp_path):
    rows = [sitrep_row(org_code="=HYPERLINK(\"http://x\")", discharges_p3=-2),
            sitrep_row(site_code="@SUM(A1)", trust_opel=9)]
    list(ingest_paths([write_csv(tmp_path / "formulas.csv", rows)], db))
    with connect_read(db) as con:
        fix = quality.resubmission(con, 1)
    assert fix["org_code"].to_list() == ["'=HYPERLINK(\"http://x\")", "RCD"]
    assert fix["site_code"].to_list() == [None, "'@SUM(A1)"]
    assert fix["discharges_p3"].to_list() == ["-2", "0"]  # a negative number is a number, left alone


def test_completeness_marks_a_missing_day_and_a_partial_day(loaded):
    with connect_read(loaded) as con:
        grid = quality.completeness(con, MONDAY, date(2024, 4, 7))
    state = {(r["org_code"], r["period_date"].day): r["state"] for r in grid.iter_rows(named=True)}
    assert state[("RCD", 2)] == "missing"  # its only row that day was rejected
    assert state[("RCB", 5)] == "partial"  # one of its two sites
    assert grid.filter(pl.col("org_code") == "RCB", pl.col("period_date") == date(2024, 4, 5))[
        "rows_sent", "usual_rows"].row(0) == (1, 2)
    assert {s for (org, _), s in state.items() if org == "RTR"} == {"submitted"}
    assert sum(s == "submitted" for (org, _), s in state.items() if org in ("RCD", "RCB")) == 6 + 6
    trusts = query(loaded, "SELECT count(*) FROM trusts")[0][0]
    assert grid.height == trusts * 7  # every reference trust, every day: silence shows as missing


def test_missing_submissions_list_for_the_latest_week(loaded):
    with connect_read(loaded) as con:
        missing = quality.missing_in_week(quality.completeness(con, MONDAY, date(2024, 4, 7)), date(2024, 4, 7))
    by_trust = {r["org_code"]: r for r in missing.iter_rows(named=True)}
    assert (by_trust["RCD"]["days_missing"], by_trust["RCD"]["days"]) == (1, "02/04/2024")
    assert "RTR" not in by_trust and "RCB" not in by_trust  # partial is not missing
    assert by_trust["RWA"]["days"] == ", ".join(f"{d:02d}/04/2024" for d in range(1, 8))


def test_the_page_draws_the_heatmap_and_lists_missing_trusts(loaded):
    app = run_page("Submissions")
    [chart] = app.get("plotly_chart")
    heatmap = json.loads(chart.proto.spec)["data"][0]
    harrogate = heatmap["y"].index("Harrogate")
    assert heatmap["z"][harrogate] == [0, 2, 0, 0, 0, 0, 0]  # submitted, missing, submitted ...
    assert heatmap["customdata"][heatmap["y"].index("York and Scarborough")][4] == \
        "York and Scarborough, Fri 05/04/2024: partial (1 of the usual 2 rows)"
    missing = frame_with(app, "days_missing").set_index("trust")
    assert missing.loc["Harrogate", "days"] == "02/04/2024"
    assert "Missing submissions in the week of Monday 01/04/2024" in [s.value for s in app.subheader]


def test_rules_list_shows_every_rule_of_the_contract(db):
    app = run_page("Data contract rules")
    rules = frame_with(app, "outcome")
    suite = quality.load_suite_definition()
    assert set(rules["rule"]) == {e["meta"]["rule"] for e in suite["expectations"]}
    by_rule = rules.set_index("rule")
    assert by_rule.loc["occupied_above_open", "outcome"] == "row loaded and flagged"
    assert by_rule.loc["los_21plus_le_los_14plus", "message"] == \
        "row <n>: los_21plus (<value>) is more than los_14plus (<value>)"
    assert by_rule.loc["required_column", "outcome"] == "whole file rejected"
    assert by_rule.loc["non_negative", "columns"].split(", ")[:2] == ["ga_beds_open", "ga_beds_occupied"]


@pytest.mark.parametrize("tab", ["Files received", "Rejected rows", "Submissions", "Data contract rules"])
def test_empty_states_without_a_database(db, tab):
    assert [i.value for i in run_page(tab).info] == [
        "No database yet. Upload files on the Upload tab (Submit a file), or load them with "
        "`python -m pipelines ingest PATH`."]


def test_empty_states_with_figures_but_no_files_or_rejections(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY))  # figures without a ledger entry
    assert run_page("Files received").info[0].value.startswith("No files have been loaded yet.")
    assert run_page("Rejected rows").info[0].value.startswith("No rejected rows")
    assert len(run_page("Submissions").get("plotly_chart")) == 1


def test_the_upload_tab_draws_no_other_tabs_section_and_the_audit_log_when_opened(loaded):
    """The first screen (the Upload tab) sends no table, heatmap or date picker of the hidden tabs, nor the
    file box until "Submit a file" is opened, nor the audit log's table until its expander is opened; a tab's
    filters are kept while another tab is open."""
    app = run_page()
    assert not app.get("file_uploader") and not app.get("plotly_chart") and not app.date_input and not app.dataframe
    assert [e.label for e in app.expander] == ["Submit a file", "The log: 3 entries, newest first"]
    app.session_state["submit"] = True  # the user opens "Submit a file": the file box, its limit, Load files
    app.run()
    assert app.file_uploader[0].label == "Daily sitrep files (CSV or Excel .xlsx)"
    assert [b.label for b in app.button] == ["Load files"]
    assert any(c.value.startswith("Up to 50 MB per file") for c in app.caption)
    assert run_page(submit=True).file_uploader  # a link with submit=true opens it (the browser test: the click's URL)
    app.session_state["dq_audit"] = True
    assert list(app.run().dataframe[0].value["action"]) == ["file received"] * 3
    app.session_state["dq_tab"] = "Files received"
    app.run().multiselect(key="dq_status").set_value(["loaded_with_rejections"]).run()
    app.session_state["dq_tab"] = "Submissions"
    assert app.run().get("plotly_chart") and "rows_superseded" not in [c for d in app.dataframe for c in d.value]
    app.session_state["dq_tab"] = "Files received"
    assert list(frame_with(app.run(), "rows_superseded")["file_name"]) == ["harrogate.csv"]  # the filter kept


def test_load_button_without_files_explains_the_size_limit(db):
    app = run_page(submit=True)
    app.button[0].click().run()
    assert app.warning[0].value.startswith("No file to load") and "50 MB" in app.warning[0].value


@pytest.mark.slow  # a subprocess that pays the Great Expectations import
def test_page_and_rules_never_import_great_expectations():
    script = (f"import sys; sys.path.insert(0, {str(ROOT)!r});"
              "import pipelines.ingest.contract, pipelines.queries.quality, pipelines.ingest.upload;"
              "from streamlit.testing.v1 import AppTest;"
              f"app = AppTest.from_file({PAGE!r}, default_timeout={page_run_guard_s()}).run();"
              "assert not app.exception;"
              "print('great_expectations' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=guard_s(10), check=False)
    assert result.stdout.strip() == "False", result.stderr


# ---- uploads: bytes in, outcomes out ----

def csv_bytes(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_upload_loads_files_as_the_cli_does_and_records_a_safe_name(db):
    events = list(upload.load_uploads([("C:\\Users\\me\\harrogate.csv", csv_bytes(harrogate_rows())),
                                       ("empty.csv", b"")], db))
    assert events[0] == upload.Started("harrogate.csv")
    results = outcomes(events)
    assert [(o.file_name, o.status) for o in results] == [("harrogate.csv", "loaded_with_rejections"),
                                                         ("empty.csv", "rejected")]
    assert BAD_MESSAGE in results[0].issues["message"].to_list()
    assert query(db, "SELECT file_name, file_path FROM ingest_files ORDER BY file_id") == [
        ("harrogate.csv", "upload:harrogate.csv"), ("empty.csv", "upload:empty.csv")]


def test_upload_over_the_size_limit_gets_our_message_and_loads_nothing(db, monkeypatch):
    monkeypatch.setattr(upload, "MAX_UPLOAD_BYTES", 1000)
    big = csv_bytes(week_of_rows("RCD", MONDAY) * 3)
    [outcome] = upload.load_uploads([("big.csv", big)], db)
    assert outcome.status == "rejected"
    assert "over the 50 MB limit for one file; nothing from it was loaded" in outcome.message
    assert not db.exists()  # nothing was written at all


def test_upload_waits_for_another_load_and_says_so(db):
    with write_lock(db):
        events = upload.load_uploads([("day.csv", csv_bytes([sitrep_row()]))], db)
        assert next(events) == upload.Waiting()
    assert [type(e).__name__ for e in events] == ["Started", "FileOutcome"]
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(1,)]


def test_a_load_finishes_even_if_the_page_stops_listening(db):
    events = upload.load_uploads([("day.csv", csv_bytes([sitrep_row()]))], db)
    next(events)
    events.close()  # as when the user reruns the page in the middle of a load
    for thread in threading.enumerate():
        if thread.name == "upload-ingest":
            thread.join(guard_s(5))
            assert not thread.is_alive(), "the load never finished (a hang guard)"
    assert query(db, "SELECT count(*) FROM sitrep_daily") == [(1,)]


@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd", "passwd"), ("/abs/path/day.csv", "day.csv"), ("..\\..\\win.csv", "win.csv"),
    ("a\x00b\x1b[31m.csv", "ab[31m.csv"), ("\u202egnp.csv", "gnp.csv"), ("..", "unnamed file"), ("", "unnamed file"),
    ("tab\there.csv", "tabhere.csv"), ("nbsp\u00a0name.csv", "nbsp name.csv"),
])
def test_safe_name(name, shown):
    assert upload.safe_name(name) == shown


def test_safe_name_caps_the_length_and_keeps_the_extension():
    name = upload.safe_name("x" * 5000 + ".xlsx")
    assert len(name) == upload.MAX_NAME_LENGTH and name.endswith("….xlsx")


def test_other_pages_show_uploaded_figures_on_their_next_view(loaded):
    app = run_page("Files received")
    assert len(frame_with(app, "rows_superseded")) == 3
    list(upload.load_uploads([("next week.csv", csv_bytes(week_of_rows("RCD", date(2024, 4, 8))))], loaded))
    app.run()  # the same session's next view: the cache key (the file's identity) has changed
    assert frame_with(app, "rows_superseded")["file_name"][0] == "next week.csv"
    opel = AppTest.from_file(str(ROOT / "pages" / "opel.py"), default_timeout=page_run_guard_s()).run()
    assert opel.date_input[0].value == date(2024, 4, 14)  # "Up to": the latest day, the new one


def test_trusts_only_a_publication_named_are_listed_for_review(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY))
    app = run_page("Data contract rules")
    assert "Every trust in the database is in the reference list." in [
        s.value for s in app.success]
    [outcome] = outcomes(upload.load_uploads([("webfile.csv", fake_publication(40, {"ZZX99": 10, "RCD": 30}))], db))
    assert outcome.status == "loaded", outcome.message
    review = frame_with(run_page("Data contract rules"), "first_file")
    assert review[["org_code", "days", "first_file"]].values.tolist() == [["ZZX99", 1, "webfile.csv"]]


# ---- uploads through the page: hostile names and failures get plain words, never an exception ----

def upload_through_page(files: list[tuple[str, bytes, str]]) -> AppTest:
    app = run_page(submit=True)
    app.file_uploader[0].set_value(files)
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def test_an_upload_says_what_happened_in_words_with_each_rejected_rows_trust_and_date(db):
    app = upload_through_page([("harrogate.csv", csv_bytes(harrogate_rows()), "text/csv")])
    markdown = [m.value for m in app.markdown]
    # the result heads the results, right under the button, and the status is words, not a code
    assert "**1 file: 1 loaded, some rows rejected**" in markdown
    assert "**⚠️ Loaded, some rows rejected**" in markdown
    # under that heading, the file and its rows in words, not the command line's outcome code again
    assert [t.value.splitlines()[0] for t in app.text if "harrogate.csv:" in t.value][-1].startswith(
        "harrogate.csv: 6 of 7 rows loaded, 1 rejected")
    [toast] = app.toast
    assert toast.value == "1 file: 1 loaded, some rows rejected"
    rows = frame_with(app, "rule")  # as on the Rejected rows tab: the row's date and trust
    assert [(r["source_row"], r["period_date"].date(), r["trust"], r["severity"]) for r in rows.to_dict("records")] == [
        (3, date(2024, 4, 2), "Harrogate", "error"), (4, date(2024, 4, 3), "Harrogate", "warning")]
    grid = next(d for d in app.dataframe if "rule" in d.value.columns)  # the Upload tab's, first
    assert list(grid.proto.column_order)[:5] == ["source_row", "period_date", "trust", "severity", "message"]
    assert [f.name for f in app.file_uploader[0].value] == ["harrogate.csv"]  # the box keeps what was sent


def test_statuses_and_a_loads_outcome_in_words():
    assert [quality.status_words(s) for s in ("loaded", "loaded_with_rejections", "rejected", "skipped")] == [
        "Loaded", "Loaded, some rows rejected", "Not loaded", "Already loaded: nothing changed"]
    outcomes_ = [FileOutcome("a.csv", "loaded"), FileOutcome("b.csv", "skipped"), FileOutcome("c.csv", "loaded")]
    assert quality.outcome_counts(outcomes_) == "3 files: 2 loaded; 1 already loaded: nothing changed"
    assert quality.outcome_counts([]) == "No file was loaded"


def test_a_nul_and_markdown_in_an_upload_name_show_as_plain_text(db):
    name = "har\x00rogate **[x](evil.example)**.csv"  # Streamlit itself refuses a NUL when it checks types
    app = upload_through_page([(name, csv_bytes(harrogate_rows()), "text/csv")])
    shown = "\n".join(t.value for t in app.text)  # st.text: no Markdown
    assert "harrogate **[x](evil.example)**.csv: 6 of 7 rows loaded" in shown and "\x00" not in shown
    assert query(db, "SELECT file_name FROM ingest_files") == [("harrogate **[x](evil.example)**.csv",)]


@pytest.mark.parametrize("failure", [PermissionError(13, "Permission denied", "/srv/data/flow.duckdb.writing"),
                                     RuntimeError("internal detail /srv/app/pipelines/load.py")])
def test_a_failed_upload_says_so_in_plain_words_and_logs_the_details(db, monkeypatch, caplog, failure):
    """A read-only database folder (or any other failure) never shows a traceback, a path or an
    exception's text: the user reads a plain message, the log has the details."""
    def fail(*args, **kwargs):
        raise failure
        yield  # a generator, as load_uploads is

    monkeypatch.setattr(upload, "load_uploads", fail)
    app = upload_through_page([("harrogate.csv", csv_bytes(harrogate_rows()), "text/csv")])
    errors = [e.value for e in app.error]
    assert errors and errors[0].startswith("The load failed and the database was left as it was.")
    assert not any("/srv" in e or type(failure).__name__ in e for e in errors)
    assert any(record.exc_info and record.exc_info[1] is failure for record in caplog.records)


def test_resubmission_file_name_is_safe_for_any_upload_name():
    assert quality.resubmission_file_name(3, "sitrep_2024-04.csv") == "rejected_rows_3_sitrep_2024-04.csv"
    # no folders, quotes or NUL
    assert quality.resubmission_file_name(4, 'a\x00b/../"c".xlsx') == "rejected_rows_4_a_b_.._c.csv"
    assert quality.resubmission_file_name(5, "...") == "rejected_rows_5.csv"


def test_the_submissions_grid_opens_on_the_latest_five_weeks_and_names_the_monday():
    assert quality.default_first_day(date(2024, 1, 1), date(2024, 4, 14)) == date(2024, 3, 11)
    assert quality.default_first_day(date(2024, 4, 1), date(2024, 4, 14)) == date(2024, 4, 1)  # not before the data
    assert [quality.week_commencing(date(2024, 4, d)) for d in (8, 11, 14)] == [date(2024, 4, 8)] * 3
