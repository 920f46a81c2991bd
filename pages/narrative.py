"""Weekly narrative: every metric's narrative of a discharge group's week on one form with one Save, each
box starting from the saved text or a draft from the figures; downloads of the narrative table (Excel,
Word, CSV) and of a trust's daily figures; administrators add and change the groups."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import streamlit as st

from pipelines import access, config
from pipelines.catalogue.dates import uk_date
from pipelines.queries import weekly
from pipelines.reports import export, narrative
from pipelines.reports.weekly_table import MetricRow
from pipelines.safe_text import html_text
from ui import auth, data, params
from ui.app import ensure_entrypoint
from ui.group_editor import group_editor
from ui.sections import lazy_section
from ui.weekly_filters import weekly_table_with_filters
from ui.weekly_rows import rows_shown

SYSTEM = "system"  # "Narrative for": the weekly table's own narrative column rather than one trust
COLUMNS = 3  # metrics side by side: the group's shown rows (13 by default) on one 1366x768 screen with Save
# Compact cells: a one-line heading (smaller type) right over a two-line box.
_FORM_CSS = """<style>
.st-key-narrative_grid .nh { font-size: 0.875rem; line-height: 1.3; padding-top: 0.25rem; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
/* Two lines (Streamlit's least is three), three on a taller screen; a box scrolls and can be pulled taller. No
   bottom padding: a textarea shows the next line's top through it. */
.st-key-narrative_grid [data-testid="stTextArea"] textarea { padding: 0.25rem 0.5rem 0; line-height: 1.4;
  min-height: 0; height: calc(2.8em + 0.25rem + 2px); }
@media (min-height: 900px) { .st-key-narrative_grid [data-testid="stTextArea"] textarea {
  height: calc(4.2em + 0.25rem + 2px); } }
</style>"""

ensure_entrypoint()
identity = auth.current_identity()
st.title("Weekly narrative")
saved_message = st.session_state.pop("narrative_saved", None)  # said beside Save, so the form keeps its place
selection = weekly_table_with_filters()
table, group = selection.table, selection.group
week = table.week_ending

names = dict(zip(table.trusts["org_code"], table.trusts["trust"], strict=False))
subjects = [SYSTEM, *names]
subject_col, author_col, rows_col = st.columns([2, 2, 1], vertical_alignment="center")
# Labels inside the boxes (still their accessible names): the form below keeps the screen.
subject = subject_col.selectbox(
    "Narrative for", subjects, index=subjects.index(params.get_choice("trust", subjects, SYSTEM)),
    label_visibility="collapsed",
    format_func=lambda s: "The group's narrative (all its trusts)" if s == SYSTEM
    else f"{names[s]}: place lead's comment")
org_code = None if subject == SYSTEM else subject
params.set_params(trust=org_code)
may_edit = group is not None and (access.may(identity, "edit_system_narrative") if org_code is None
                                  else access.may(identity, "edit_trust_narrative", org_code))
# Without sign-in the name is asked once (kept for the session, on every page); signed in, it is the token's.
typed_name = auth.author_field(author_col, "narrative_author", "Recorded with every narrative you save.",
                               compact=True) if may_edit else None
with rows_col:  # the weekly table's "Rows shown" (?rows=): the group's rows are the form, the others folded below
    shown = [row.metric for row in rows_shown(table).rows]
if group is None:
    author_col.caption("Trusts picked by hand: the texts below are drafts, never saved. Choose a discharge group "
                       "to write its narratives (an administrator can save this selection as a group, below).")
elif not may_edit:
    author_col.caption("You can read this narrative. Editing it needs the "
                       + ("discharge group lead role." if org_code is None else "place lead role for this trust."))

rows = table.rows
if not rows:
    st.info("None of the selected trusts submitted figures for this week, so there is nothing to draft from.")
    st.stop()
codes = tuple(table.trusts["org_code"])
main_rows = [row for row in rows if row.metric in shown]
other_rows = [row for row in rows if row.metric not in shown]


# The trusts that never reported each shown metric, read at once: a cached read hashes its arguments on every
# run, and the 140 trusts' codes hashed once a metric were most of the page's run on the server (issue 24).
never_shown = data.read(weekly.never_reported_each, tuple(shown), codes, week) if org_code is None else {}


def draft(row: MetricRow) -> str:
    if org_code is None:
        never = never_shown.get(row.metric)
        return narrative.draft_narrative(table, row.metric, data.read(weekly.never_reported, row.metric, codes, week)
                                         if never is None else never)  # another metric's: drafted once opened
    return narrative.draft_trust_narrative(table, row.metric, org_code)


def heading(row: MetricRow, unsaved: str = "draft") -> None:
    """The metric's one line over its box: short name, who saved it (else ``unsaved``), the combined figure
    (cut short with an ellipsis where the column is too narrow, whole on hover; when is in the history). No
    help icon: it would be a Tab stop between one box and the next. Escaped HTML rather than Markdown: each
    Markdown line is parsed in the browser, and the 16 were about a quarter of its work on a click to this page."""
    was = saved.get(row.metric)
    state = f"saved by {was['author']}" if was else unsaved
    figure = narrative.figure_summary(row)
    st.html(f'<div class="nh" title="{html_text(f"{row.short_label} · {state} · {figure}")}">'
            f"<b>{html_text(row.short_label)}</b> · {html_text(state)} · {html_text(figure)}</div>")


def grid(chosen: list[MetricRow], cell: Callable[[MetricRow], None]) -> None:
    """``cell`` of each row in COLUMNS columns, down the first column and on to the next (the tab order)."""
    per_column = -(-len(chosen) // COLUMNS)
    for column, start in zip(st.columns(COLUMNS, gap="small"), range(0, len(chosen), per_column), strict=False):
        with column.container(gap="xxsmall"):  # the heading's own top padding parts one cell from the next
            for row in chosen[start:start + per_column]:
                cell(row)


saved = {r["metric"]: r for r in data.read(narrative.current_narratives, week, selection.group_id).to_dicts()
         if r["org_code"] == org_code}
week_words = f"{selection.describe()}, Monday {uk_date(week - timedelta(days=6))} to Sunday {uk_date(week)}"
saved_count = f"{sum(row.metric in saved for row in main_rows)} of {len(main_rows)} saved"
key = f"{selection.group_id}-{week}-{subject}"
st.html(_FORM_CSS)
messages = st.container()  # above the form: what a save said is seen where Save was pressed
if may_edit and group is not None:
    # What each box starts from, drafted only for the boxes drawn: the other metrics' once their section is opened.
    starts: dict[str, str] = {}
    texts: dict[str, str] = {}

    def box(row: MetricRow) -> None:
        heading(row)
        starts[row.metric] = saved[row.metric]["text"] if row.metric in saved else draft(row)
        # No max_chars: the browser would cut a long paste off silently; the save says what is too long instead.
        texts[row.metric] = st.text_area(row.label, value=starts[row.metric], key=f"text-{key}-{row.metric}",
                                         label_visibility="collapsed", height=56)

    with st.form("narrative_form", border=False), st.container(gap="xsmall"):
        with st.container(horizontal=True, vertical_alignment="center"):
            pressed = st.form_submit_button(
                "Save", type="primary", key=f"save-{key}", icon=":material/save:",
                help=f"Saves every box of the rows shown whose text differs from its saved narrative (drafts "
                     f"included), and each box of the other metrics you edited. Up to {narrative.MAX_LENGTH:,} "
                     "characters each; Ctrl+Enter in a box saves too. Every save is kept in the history.")
            if saved_message:
                st.success(saved_message)
            else:
                st.caption(f"{week_words}: {saved_count}; each box starts from the saved text, else a draft from "
                           "the figures.")
        with st.container(key="narrative_grid", gap="xsmall"):
            grid(main_rows, box)
            if other_rows:
                # Drawn once opened (a rerun that keeps what was typed above): eight more text areas on every
                # visit were half the browser's work on a click to this page, for boxes rarely used. Then kept
                # drawn, folded or not, for the session: closing the section never drops what was typed in it.
                others = st.expander(f"Other metrics ({len(other_rows)}): saved only when you edit them",
                                     key="narrative_other", on_change="rerun")
                if others.open or st.session_state.get("narrative_other_drawn"):
                    st.session_state["narrative_other_drawn"] = True
                    with others:
                        grid(other_rows, box)
    if pressed:
        changed = narrative.texts_to_save(texts, {m: was["text"] for m, was in saved.items()}, starts, shown)
        emptied = [row.label for row in rows  # a box not drawn (other metrics folded away) was not emptied
                   if row.metric in texts and not narrative.clean_text(texts[row.metric]) and row.metric in saved]
        if emptied:
            messages.warning(f"A saved narrative cannot be removed, only replaced: {'; '.join(emptied)} kept as saved.")
        if not changed:
            messages.info("Nothing to save: every box is as saved.")
        else:
            done: list[str] = []
            try:
                with st.spinner("Saving..."), messages:  # a busy or unwritable database said above the form too
                    data.try_save(lambda: done.extend(narrative.save_narratives(
                        config.db_path(), week, org_code, changed, identity if typed_name is None else typed_name,
                        group_id=group.group_id)), f"narratives of {selection.describe()}")
            except (ValueError, access.AccessDenied) as problem:
                messages.error(str(problem))
            if done:
                which = [row.label for row in rows if row.metric in done]
                st.session_state["narrative_saved"] = (
                    f"Saved {len(done)} narrative{'s' * (len(done) != 1)} of {selection.describe()}"
                    + (f": {'; '.join(which)}." if len(which) <= 3 else "."))
                st.rerun()
else:
    def text(row: MetricRow) -> None:
        heading(row, "draft" if group is None else "not saved")
        was = saved.get(row.metric)
        # Narratives are shown with st.text: never read as Markdown or HTML, so no injected links or scripts.
        st.text(f"{was['text']}\n(saved by {was['author']})" if was
                else f"Draft from the figures: {draft(row)}" if group is None
                else "Nothing saved yet for this week.")

    with st.container(key="narrative_grid", gap="xsmall"):
        st.caption(f"{week_words}: drafts written from the figures." if group is None else
                   f"{week_words}: {saved_count}.")
        grid(main_rows, text)
        if other_rows:
            with st.expander(f"Other metrics ({len(other_rows)})"):
                grid(other_rows, text)

history = data.read(narrative.narrative_history, week, org_code, selection.group_id) if group else None
if history is not None and history.height:
    labels = {row.metric: row.label for row in rows}
    # Drawn only when opened (a rerun): the table grid's code is not loaded for the first screen.
    versions = lazy_section(f"History of this week ({history.height} saved version{'s' * (history.height != 1)})",
                            "narrative_history", in_url=False)
    if versions:
        shown_history = history.with_columns(history["metric"].replace(labels))
        versions.dataframe(shown_history.select("saved_at", "metric", "author", "text"), hide_index=True,
                           width="stretch", column_config={
                               "saved_at": st.column_config.DatetimeColumn("Saved", format="DD/MM/YYYY HH:mm"),
                               "metric": "Metric", "author": "By",
                               "text": st.column_config.TextColumn("Narrative", width="large")})

# Drawn only when opened (a rerun), as the weekly page's: three download buttons on the first screen made every
# new tab fetch their code, for files made once a week.
if packs := lazy_section("Download the narrative table: Excel, Word or CSV", "narrative_downloads", in_url=False,
                         icon=":material/download:"):
    for column, (fmt, (mime, label)) in zip(packs.columns(len(export.FORMATS)), export.FORMATS.items(), strict=False):
        # Built only when clicked (a callable), by the same code as `python -m pipelines export`.
        column.download_button(f"Narrative table: {label}",
                               partial(data.read, export.render, *selection.render_args(fmt)),
                               file_name=export.file_name(week, fmt), mime=mime, on_click="ignore",
                               icon=":material/download:")

# Collapsed, and drawn only once opened (a rerun): its date picker is the heaviest part of Streamlit's
# bundle on this page, and it is not what the page is for (benchmarks/browser_pages.py).
if daily := lazy_section("Underlying daily figures: one trust's daily sitrep rows, to download (CSV)",
                         "daily_figures", in_url=False):
    with daily:
        st.caption("The daily sitrep figures of one trust as loaded (per site where it submits per site), with the "
                   "file each row came from.")
        trust_col, dates_col, button_col = st.columns([2, 2, 1], vertical_alignment="bottom")
        daily_code = trust_col.selectbox("Trust", list(names), format_func=lambda c: f"{names[c]} ({c})",
                                         key="daily_trust")
        picked = dates_col.date_input("Dates", (week - timedelta(days=6), week), format="DD/MM/YYYY",
                                      key=f"daily_dates-{week}")
        if len(picked) == 2:  # not mid-pick
            first, last = picked
            button_col.download_button("Daily figures (CSV)",
                                       partial(data.read, export.daily_figures_csv, daily_code, first, last),
                                       file_name=f"daily-figures-{daily_code}-{first}-to-{last}.csv",
                                       mime="text/csv", on_click="ignore", icon=":material/download:")

if access.may(identity, "edit_groups"):
    group_editor(selection)
