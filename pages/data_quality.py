"""Data quality: upload sitrep files, the file ledger, rejected rows to fix and resubmit, which
trusts have submitted, and the data contract's rules (users: trust BI teams, docs/domain.md section 1).

Layout only: the questions are in pipelines.queries.quality, the loading in pipelines.ingest.upload. Text that came
from a file (names, notes) is shown with st.text or in tables, never as Markdown.
"""
from __future__ import annotations

import logging

import polars as pl
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from pipelines import access, config
from pipelines.catalogue.dates import uk_date
from pipelines.ingest import upload
from pipelines.ingest.ledger import FileOutcome
from pipelines.queries import quality, weeks
from pipelines.warehouse import integrity, session
from ui import auth, data
from ui.app import ensure_entrypoint
from ui.kept import kept
from ui.quality_charts import completeness_heatmap_between
from ui.safe_text import plain
from ui.sections import lazy_section

TABS = ("Upload", "Files received", "Rejected rows", "Submissions", "Data contract rules")
MESSAGES_SHOWN = 5  # as text under the summary; the table below has them all
LOAD_HINT = ("Upload files on the Upload tab (Submit a file), or load them with "
             "`python -m pipelines ingest PATH`.")
STATUS_ICONS = {"loaded": "✅", "loaded_with_rejections": "⚠️", "rejected": "❌", "skipped": "↩️"}
LOAD_FAILED = ("The load failed and the database was left as it was. Please try again; if it fails again, "
               "tell the dashboard's support team the time it happened (the details are in the server's log).")
log = logging.getLogger(__name__)
# The browser refuses a larger file before sending it (the uploader marks it in red and says why on
# hover), so the page can only explain; pipelines.ingest.upload refuses it again should one reach the server.
TOO_LARGE_HINT = (f"Up to {upload.MAX_UPLOAD_MB} MB per file. A larger file is marked in red in the file box "
                  f"(\"File must be {upload.MAX_UPLOAD_MB}.0MB or smaller\") and is not loaded: split it into "
                  "smaller files, for example one per month, and upload those.")
ISSUE_COLUMNS = {"source_row": st.column_config.NumberColumn("Row", format="%d"), "column_name": "Column",
                 "rule": "Rule", "severity": "Severity",
                 "message": st.column_config.TextColumn("Message", width="large"),
                 "period_date": st.column_config.DateColumn("Date", format="DD/MM/YYYY"), "trust": "Trust"}
# The message (what to fix) before the codes: at 1366 px the columns after Trust are off screen.
ROW_COLUMNS = ["source_row", "period_date", "trust", "severity", "message", "column_name", "rule"]


def load_files(files: list[UploadedFile]) -> list[FileOutcome]:
    """Load the uploaded files, showing each file's progress and result as it happens."""
    outcomes: list[FileOutcome] = []
    with st.status(f"Loading {len(files)} file{'s' * (len(files) != 1)}...", expanded=True) as status:
        try:
            # load_uploads cleans each name (upload.safe_name) before anything shows or records it.
            uploads = [(f.name, f.getvalue()) for f in files]
            for event in upload.load_uploads(uploads, actor=auth.current_identity()):
                if isinstance(event, upload.Waiting):
                    status.update(label="Waiting for another load to finish...")
                    st.write("Another load is writing to the database; this one starts as soon as it is done.")
                elif isinstance(event, upload.Started):
                    status.update(label=plain(f"Loading {event.file_name}..."))
                else:
                    outcomes.append(event)
                    st.text(event.summary())
        except access.AccessDenied as denied:  # the sender's session ended (signed out elsewhere, expired)
            status.update(label="Not loaded: your sign-in has ended", state="error")
            st.error(plain(str(denied)))
            return outcomes
        except Exception:  # the whole load failed: the database is as it was; the details go to the log only
            log.exception("upload of %d file(s) failed", len(files))
            status.update(label="The load failed; nothing from it was saved", state="error")
            st.error(LOAD_FAILED)
            return outcomes
        # Closed when done: the results follow straight under it, where the user is looking.
        status.update(label=f"Done: {len(outcomes)} file{'s' * (len(outcomes) != 1)}", state="complete",
                      expanded=False)
    st.toast(plain(quality.outcome_counts(outcomes)), icon=":material/task_alt:")
    return outcomes


def fix_download(file_id: int, file_name: str, key: str) -> None:
    """The file's rejected rows in the template's columns plus the problems, to fix and upload again."""
    rows = data.read(quality.resubmission, file_id)
    if rows.is_empty():
        st.caption("No rows of this file were rejected (rows with warnings were loaded).")
        return
    st.download_button(f"Download the {rows.height:,} rejected row{'s' * (rows.height != 1)} to fix (CSV)",
                       quality.to_csv(rows), file_name=quality.resubmission_file_name(file_id, file_name),
                       mime="text/csv", key=key, on_click="ignore",
                       help="The rows as you sent them plus a 'problems' column. Correct the figures, delete "
                            "the 'problems' column if you like, and upload the file again.")


def show_outcomes(outcomes: list[FileOutcome]) -> None:
    if outcomes:
        st.markdown(f"**{plain(quality.outcome_counts(outcomes))}**")
    for index, outcome in enumerate(outcomes):
        box = st.container(border=True)
        box.markdown(f"**{STATUS_ICONS.get(outcome.status, '')} {quality.status_words(outcome.status)}**")
        messages = [] if outcome.issues is None else outcome.issues["message"].to_list()
        lines = [outcome.description(), *messages[:MESSAGES_SHOWN]]  # the outcome word is the box's heading
        if len(messages) > MESSAGES_SHOWN:
            lines.append(f"... and {len(messages) - MESSAGES_SHOWN:,} more, in the table below")
        box.text("\n".join(lines))
        for note in outcome.notes:
            box.text(f"note: {note}")
        if messages:
            # As the Rejected rows tab lists them, with each row's trust and date (a file-wide problem has none).
            rows = data.read(quality.rejected_rows, outcome.file_id) if outcome.file_id is not None else None
            shown = rows if rows is not None and not rows.is_empty() else outcome.issues
            box.dataframe(shown, hide_index=True, column_config=ISSUE_COLUMNS,
                          column_order=[c for c in ROW_COLUMNS if c in shown.columns],
                          height=35 * (min(shown.height, 10) + 1) + 3)
            with box:
                fix_download(outcome.file_id, outcome.file_name, key=f"fix_upload_{index}")


def upload_tab() -> None:
    identity = auth.current_identity()
    if not access.may(identity, "upload_file"):
        st.info("Uploading files needs the submitter role (trust BI teams) or the administrator role. "
                "Every other tab shows what was loaded.")
        return
    if (mine := access.trusts_covered(identity, "submit_rows")) is not None:
        st.caption(f"You submit for {', '.join(sorted(mine))}: rows for other trusts are rejected, row by row.")
    # The file box is drawn when its section is opened (kept in the URL: a link with submit=true opens it): the
    # uploader's code was most of what a new tab of this page fetched beyond the page list (issue 24). Opened, it
    # stays open, so the files stay in the box after loading, beside what happened to them.
    submit_box = lazy_section("Submit a file", "submit", icon=":material/upload_file:")
    if submit_box is None:
        show_outcomes(st.session_state.get("upload_outcomes", []))
        return
    submit_box.caption(TOO_LARGE_HINT + " A file loaded before is recognised by its content and not loaded twice.")
    with submit_box, st.form("upload_form"):
        # No ``type=``: with it Streamlit checks each name itself before the page runs, and a name with a
        # NUL byte then replaces the whole page with an exception the page cannot catch. The readers
        # decide by content anyway, and refuse anything that is not CSV or .xlsx with a plain message.
        files = st.file_uploader(
            "Daily sitrep files (CSV or Excel .xlsx)", accept_multiple_files=True,
            max_upload_size=upload.MAX_UPLOAD_MB,
            help="One or more files in the daily sitrep template. Each is checked against the data contract; "
                 "valid rows are loaded and every rejected row is listed with the reason.")
        submitted = st.form_submit_button("Load files", type="primary")
    if submitted:
        if files:
            st.session_state["upload_outcomes"] = load_files(files)
        else:
            st.warning(f"No file to load: choose one or more files, then press Load files. {TOO_LARGE_HINT}")
    show_outcomes(st.session_state.get("upload_outcomes", []))


def ledger_tab() -> None:
    statuses = data.read(quality.ledger_statuses)
    if not statuses:
        st.info(f"No files have been loaded yet. {LOAD_HINT}")
        return
    status_col, search_col = st.columns([2, 3])
    # Each filter is kept while another tab is open (only the open tab is drawn): persist_state="page".
    chosen = status_col.multiselect("Status", statuses, placeholder="All statuses", key="dq_status",
                                    persist_state="page", format_func=quality.status_words)
    search = search_col.text_input("File name contains", key="dq_search", persist_state="page")
    files = data.read(quality.ledger, tuple(chosen), search.strip())
    if files.is_empty():
        st.info("No file matches these filters.")
        return
    count = st.column_config.NumberColumn
    st.dataframe(files, hide_index=True, column_config={
        "file_id": count("File #", format="%d"), "file_name": st.column_config.TextColumn("File", width="medium"),
        "received_at": st.column_config.DatetimeColumn("Received", format="DD/MM/YYYY HH:mm"),
        "status": st.column_config.TextColumn("Status", width="medium"),
        "rows_read": count("Rows read"), "rows_loaded": count("Rows loaded"), "rows_rejected": count("Rejected"),
        "rows_warned": count("Warnings"), "rows_superseded": count("Earlier figures replaced"),
        "message": st.column_config.TextColumn("Message", width="large")})
    st.caption(f"{files.height:,} file{'s' * (files.height != 1)}, newest first. Received: UK time. Warnings: rows "
               "loaded but flagged. Earlier figures replaced: rows of earlier files this file corrected.")


def rejections_tab() -> None:
    files = data.read(quality.files_with_issues)
    if files.is_empty():
        st.info("No rejected rows: every row of every file loaded so far met the data contract.")
        return
    options = data.read(quality.issue_options)
    labels = dict(zip(files["file_id"], files["label"], strict=False))
    file_col, trust_col, rule_col, severity_col = st.columns([3, 2, 3, 2])
    file_id = file_col.selectbox("File", [None, *labels], format_func=lambda i: "All files" if i is None else labels[i],
                                 key="dq_file", persist_state="page")
    trusts = trust_col.multiselect("Trust", options["trust"], placeholder="All trusts", key="dq_trust",
                                   persist_state="page")
    rules = rule_col.multiselect("Rule", options["rule"], placeholder="All rules", key="dq_rule", persist_state="page")
    severities = severity_col.multiselect("Severity", options["severity"], placeholder="Errors and warnings",
                                          key="dq_severity", persist_state="page")
    rows = data.read(quality.rejected_rows, file_id, tuple(trusts), tuple(rules), tuple(severities))
    if rows.is_empty():
        st.info("No rejected or flagged row matches these filters.")
    else:
        st.dataframe(rows, hide_index=True, column_order=["file_id", "file_name", *ROW_COLUMNS], column_config={
            "file_id": st.column_config.NumberColumn("File #", format="%d"), "file_name": "File", **ISSUE_COLUMNS})
        st.caption("Severity error: the row was rejected. Warning: the row was loaded and flagged for checking.")
    if file_id is None:
        st.caption("Choose a file to download its rejected rows, fix them and upload the file again.")
    else:
        fix_download(file_id, files.filter(pl.col("file_id") == file_id)["file_name"][0], key="fix_ledger")


def completeness_tab() -> None:
    earliest, latest = data.read(weeks.date_extent)
    if latest is None:
        st.info(f"No sitrep figures yet. {LOAD_HINT}")
        icb_section()
        return
    picked = st.date_input("Days", (quality.default_first_day(earliest, latest), latest),
                           earliest, latest, format="DD/MM/YYYY", key="dq_dates", persist_state="page")
    first, last = (*picked, latest, latest)[:2]  # while only the start is picked, up to the latest day
    grid = data.read(quality.completeness, first, last)
    st.plotly_chart(kept(completeness_heatmap_between, first, last))
    st.caption("Rows: every trust in the reference list and any other trust that has submitted. "
               f"Submitted: the trust's usual rows arrived. {quality.PARTIAL_DEFINITION} Missing: nothing "
               "arrived for that day. Hover a cell for the details.")
    monday = quality.week_commencing(last)
    st.subheader(f"Missing submissions in the week of Monday {uk_date(monday)}")
    st.caption(f"Days from {uk_date(monday)} to {uk_date(last)}, the last day shown above.")
    missing = quality.missing_in_week(grid, last)
    if missing.is_empty():
        st.success("Every trust submitted every day of this week.")
    else:
        st.dataframe(missing, hide_index=True, column_config={
            "trust": "Trust", "org_code": "ODS code", "days_missing": st.column_config.NumberColumn("Days missing"),
            "days": st.column_config.TextColumn("Days with no submission", width="large")})
    icb_section()


def icb_section() -> None:
    """Trusts whose ICB in the reference file is not the one NHS England attributes them to."""
    disagreements = data.read(quality.icb_disagreements)
    if not disagreements.is_empty():
        st.subheader("ICBs: the reference file and NHS England disagree")
        st.caption("The reference file's ICB is kept; NHS England's is from its latest publication naming the trust.")
        st.dataframe(disagreements, hide_index=True)


def audit_section() -> None:
    st.subheader("Who changed what")
    st.caption("Every file received, narrative saved and SPC setting changed, newest first: the signed-in account "
               "from the identity token (without sign-in, the name typed; server: the command line; the dashboard's "
               "own build from the bundled sample data: first start).")
    head = session.read_audit_head(config.db_path())  # before the file is opened (see read_audit_head)
    chain = data.read(access.audit_chain, head)
    if chain.broken_at is None:
        st.caption(chain.describe())
    else:
        st.error(f"{chain.describe()}: a row of the log was changed or removed outside the dashboard. Tell the "
                 "dashboard's support team; earlier copies of the database hold the log as it was "
                 "(`python -m pipelines restore --list`).", icon=":material/gpp_bad:")
    entries = data.read(access.audit_entries)
    if entries.is_empty():
        st.caption("Nothing recorded yet.")
        return
    # Folded, and drawn only once opened (a rerun): below the tabs, off the first screen, the page's only table
    # under the Upload tab would otherwise load the table grid's code on every visit.
    log_box = lazy_section(f"The log: {entries.height:,} entr{'ies' if entries.height != 1 else 'y'}, newest first",
                           "dq_audit", in_url=False)
    if log_box is None:
        return
    # Widths in proportion (the grid stretches them to the page): the detail, the longest words, gets half, so
    # it is read whole rather than cut off ("... week ending 28/0").
    log_box.dataframe(entries, hide_index=True, width="stretch", column_config={
        "recorded_at": st.column_config.DatetimeColumn("When", format="DD/MM/YYYY HH:mm:ss", width=135),
        "actor": st.column_config.TextColumn("Who", width=190), "actor_source": st.column_config.TextColumn(
            "How", width=155), "action": st.column_config.TextColumn("What", width=110),
        "org_code": st.column_config.TextColumn("Trust", width=50),
        "detail": st.column_config.TextColumn("Detail", width=680)})


def rules_tab() -> None:
    rules = quality.contract_rules()
    st.dataframe(rules, hide_index=True, height=35 * (rules.height + 1) + 3, column_config={
        "rule": "Rule", "severity": "Severity", "outcome": "What happens",
        "message": st.column_config.TextColumn("Message the submitter sees", width="large"),
        "columns": st.column_config.TextColumn("Columns", width="medium")})
    st.caption("From data_contracts/sitrep_daily.json. Placeholders in <angle brackets> are filled from the row. "
               "Besides these rules, a value that cannot be read as its type rejects the row: a date (rule date), "
               "a whole number (whole_number) or an OPEL level (opel_level); so does a row with more or fewer "
               "values than the header has columns (row_fits_header).")
    st.subheader("Trusts to review")
    if not data.database_exists():
        st.info(f"No database yet. {LOAD_HINT}")
        return
    review = data.read(quality.trusts_for_review)
    if review.is_empty():
        st.success("Every trust in the database is in the reference list.")
        return
    st.dataframe(review, hide_index=True, column_config={
        "org_code": "ODS code", "name": "Name as published", "region": "Region", "icb_name": "ICB",
        "days": st.column_config.NumberColumn("Days published", format="%d"),
        "first_file": "First named in"})
    st.caption("Named only by an NHS England publication. A trust's own sitrep naming one of these is rejected "
               "(rule known_ods_code) until the dashboard's administrator has checked the code and added the trust "
               "to the reference list.")


ensure_entrypoint()
st.title("Data quality and upload")
st.caption("Load daily sitrep files, see what was loaded and rejected and why, and which trusts have not submitted.")
if data.database_exists():
    data.read(integrity.read_everything)  # every block, once per database version: damage is a plain message
# Only the open tab's section runs and is sent (a rerun when another is chosen): the tables, the Submissions
# heatmap (plotly.js) and its date picker are not drawn under the Upload tab (benchmarks/browser_clicks.py).
# The Upload tab is always drawn (it is small), so the files sent stay in its box while another tab is open.
tabs = st.tabs(TABS, key="dq_tab", on_change="rerun")
with tabs[0]:
    upload_tab()  # first, so the other tabs already show what it loaded
for tab, section in zip(tabs[1:4], (ledger_tab, rejections_tab, completeness_tab), strict=False):
    if tab.open:
        with tab:
            if data.database_exists():
                section()
            else:
                st.info(f"No database yet. {LOAD_HINT}")
if tabs[4].open:
    with tabs[4]:
        rules_tab()
if data.database_exists():
    audit_section()
