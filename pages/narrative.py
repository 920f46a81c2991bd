"""Weekly narrative: a draft from the figures beside the saved text, edited and saved with its
author; downloads of the narrative table (Excel, Word, CSV) and of a trust's daily figures."""
from __future__ import annotations

from datetime import timedelta
from functools import partial

import streamlit as st

from pipelines import access, config
from pipelines.catalogue.dates import uk_date
from pipelines.queries import weekly as queries
from pipelines.reports import export, narrative
from ui import auth, data, params
from ui.app import ensure_entrypoint
from ui.weekly_filters import weekly_table_with_filters

SYSTEM = "system"  # "Narrative for": the weekly table's own narrative column rather than one trust


ensure_entrypoint()
identity = auth.current_identity()
st.title("Weekly narrative")
if saved_message := st.session_state.pop("narrative_saved", None):
    st.success(saved_message)
table, chosen_icbs, chosen_places, _ = weekly_table_with_filters()
week = table.week_ending
selection = (week, chosen_icbs, chosen_places)

names = dict(zip(table.trusts["org_code"], table.trusts["trust"], strict=False))
subjects = [SYSTEM, *names]
subject_col, author_col = st.columns([2, 3])
subject = subject_col.selectbox(
    "Narrative for", subjects, index=subjects.index(params.get_choice("trust", subjects, SYSTEM)),
    format_func=lambda s: "The weekly table (all selected trusts)" if s == SYSTEM
    else f"{names[s]}: place lead's comment")
org_code = None if subject == SYSTEM else subject
params.set_params(trust=org_code)
may_edit = (access.may(identity, "edit_system_narrative") if org_code is None
            else access.may(identity, "edit_trust_narrative", org_code))
# Without sign-in the name is asked once (kept for the session, on every page); signed in, it is the token's.
typed_name = auth.author_field(author_col, "narrative_author", "Recorded with every narrative you save.") if may_edit \
    else None
if not may_edit:
    author_col.caption("You can read this narrative. Editing it needs the "
                       + ("discharge group lead role." if org_code is None else "place lead role for this trust."))

st.caption(f"Monday {uk_date(week - timedelta(days=6))} to Sunday {uk_date(week)}. The draft is written from the "
           "figures; nothing is saved until you press Save, and every save is kept in the history.")
for column, (fmt, (mime, label)) in zip(st.columns(len(export.FORMATS)), export.FORMATS.items(), strict=False):
    # Built only when clicked (a callable), by the same code as `python -m pipelines export`.
    column.download_button(f"Narrative table: {label}", partial(data.read, export.render, *selection, fmt),
                           file_name=export.file_name(week, fmt), mime=mime, on_click="ignore",
                           icon=":material/download:")

labels = {row.metric: row.label for row in table.rows}
if not labels:
    st.info("None of the selected trusts submitted figures for this week, so there is nothing to draft from.")
    st.stop()
saved_now = data.read(narrative.current_narratives, week)
done = {m for m, code in saved_now.select("metric", "org_code").iter_rows() if code == org_code}
# One metric at a time keeps the page short; the picker says which already have a saved narrative.
metric = st.selectbox("Metric", list(labels),
                      index=list(labels).index(params.get_choice("metric", list(labels)) or next(iter(labels))),
                      format_func=lambda m: f"{labels[m]}{'  ✓ saved' if m in done else ''}")
params.set_params(metric=metric)
label = labels[metric]
draft = (narrative.draft_narrative(table, metric, data.read(queries.never_reported, metric,
                                                              tuple(table.trusts["org_code"]), week))
         if org_code is None
         else narrative.draft_trust_narrative(table, metric, org_code))
history = data.read(narrative.narrative_history, week, metric, org_code)
saved = history.row(0, named=True) if history.height else None
key = f"{week}-{subject}-{metric}"
with st.container(border=True):
    draft_col, saved_col = st.columns(2)
    # Narratives are shown with st.text: never read as Markdown or HTML, so no injected links or scripts.
    draft_col.caption("Draft from the figures")
    draft_col.text(draft)
    saved_col.caption("Saved narrative")
    if saved:
        saved_col.text(saved["text"])
        saved_col.text(f"Last saved by {saved['author']} at {saved['saved_at']:%d/%m/%Y %H:%M}")
    else:
        saved_col.text("Nothing saved yet for this week.")
    if may_edit:
        with st.form(f"form-{key}", border=False):
            # No max_chars: the browser would cut a long paste off silently; the save says what is too long instead.
            text = st.text_area("Edit, then save", value=saved["text"] if saved else draft, key=f"text-{key}",
                                height=110, help=f"Starts from the saved text, or from the draft when nothing is saved "
                                                 f"yet. Up to {narrative.MAX_LENGTH:,} characters; Ctrl+Enter saves.")
            pressed = st.form_submit_button("Save", key=f"save-{key}")
        if pressed:
            try:
                with st.spinner("Saving..."):
                    saved_now = data.try_save(partial(narrative.save_narrative, config.db_path(), week, metric,
                                                      org_code, text, identity if typed_name is None else typed_name),
                                              f"narrative for {label}")
            except (ValueError, access.AccessDenied) as problem:
                st.error(str(problem))
            else:
                if saved_now:
                    st.session_state["narrative_saved"] = f"Saved the narrative for {label}."
                    st.rerun()
    if history.height:
        with st.expander(f"History ({history.height} saved version{'s' * (history.height != 1)})"):
            st.dataframe(history.select("saved_at", "author", "text"), hide_index=True, width="stretch",
                         column_config={
                             "saved_at": st.column_config.DatetimeColumn("Saved", format="DD/MM/YYYY HH:mm"),
                             "author": "By", "text": st.column_config.TextColumn("Narrative", width="large")})

# Collapsed, and drawn only once opened (a rerun): its date picker is the heaviest part of Streamlit's
# bundle on this page, and it is not what the page is for (benchmarks/browser_pages.py).
daily = st.expander("Underlying daily figures: one trust's daily sitrep rows, to download (CSV)",
                    key="daily_figures", on_change="rerun")
with daily:
    st.caption("The daily sitrep figures of one trust as loaded (per site where it submits per site), with the file "
               "each row came from.")
    if daily.open:
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
