"""Home: the weekly position of every trust against the national ambitions (docs/domain.md section 1):
one compact HTML table, metrics as rows and trusts as columns, that a discharge group can meet over."""
from __future__ import annotations

from datetime import timedelta
from functools import partial

import streamlit as st

from pipelines.catalogue.dates import uk_date
from pipelines.catalogue.wording import ASSURANCE_TEXT, VARIATION_TEXT, assurance_label, variation_label
from pipelines.reports import export, narrative
from pipelines.reports.meeting_html import scrolls, table_html
from ui import data
from ui.app import ensure_entrypoint
from ui.escaped_html import weekly_table
from ui.sections import lazy_section
from ui.spc_icons import assurance_icon, variation_icon
from ui.style import COMPACT_PAGE_CSS
from ui.weekly_filters import weekly_table_with_filters
from ui.weekly_rows import rows_shown

# The marks in the cells beside the icons they stand for.
SPC_LEGEND = [(f"{VARIATION_TEXT[v]}: {variation_label(v)}", variation_icon(v, size=36))
              for v in ("common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low")] + [
             (f"{ASSURANCE_TEXT[a]}: {assurance_label(a)}", assurance_icon(a, size=36)) for a in ASSURANCE_TEXT]

ensure_entrypoint()  # with sign-in configured: nothing below before signing in
st.html(COMPACT_PAGE_CSS)
st.title("Weekly position")
selection = weekly_table_with_filters(orientation=True)
table = rows_shown(selection.table)
week = table.week_ending
narratives = data.read(narrative.current_narratives, week, selection.group_id)
trusts = list(table.trusts.select("org_code", "trust").iter_rows())
caption = (f"{selection.describe()}, Monday {uk_date(week - timedelta(days=6))} to Sunday {uk_date(week)}: "
           f"{table.position['org_code'].n_unique()} of {table.trusts.height} selected trusts submitted figures.")
notes = {r["metric"]: r["text"] for r in narratives.to_dicts() if r["org_code"] is None} if selection.with_notes \
    else None
# Our own markup: every text from a file or a user in it is escaped by meeting_html, so a wide table goes in
# without st.html's DOMPurify pass (ui.escaped_html), the browser's largest cost on a click to this page (profiled).
weekly_table(table_html(table.rows, trusts, selection.orientation, narrative.comments_by_cell(narratives), caption,
                        notes, table.hidden, selection.url_group), scrolls(table.rows, trusts))

# Drawn only when opened (a rerun): three download buttons on the first screen made every new tab fetch their code.
if packs := lazy_section("Download this table: Excel, Word or CSV (the board packs)", "downloads",
                         icon=":material/download:"):
    for column, (fmt, (mime, label)) in zip(packs.columns(len(export.FORMATS)), export.FORMATS.items(), strict=False):
        column.download_button(label, partial(data.read, export.render, *selection.render_args(fmt)),
                               file_name=export.file_name(week, fmt), mime=mime, on_click="ignore",
                               icon=":material/download:")

labels = {r.metric: r.label for r in table.rows}
names = dict(trusts)
saved = [r for r in narratives.to_dicts() if r["metric"] in labels]
with st.expander(f"Narratives and place leads' comments ({len(saved)})", expanded=bool(saved)):
    if selection.group is None:
        st.caption("Trusts picked by hand have no saved narratives: choose a discharge group to see its own.")
    elif not saved:
        st.caption(f"None saved for {selection.describe()} this week yet: write them on the Weekly narrative page.")
    for r in saved:
        whose = "Discharge group" if r["org_code"] is None else f"{names.get(r['org_code'], r['org_code'])} place lead"
        st.markdown(f"**{labels[r['metric']]}**")  # a catalogue label, not user text
        st.text(f"{whose} ({r['author']}): {r['text']}")  # st.text: never read as Markdown or HTML

# Drawn only when opened (a rerun): the browser parses its seven icons as Markdown with raw HTML, and Markdown
# was over a tenth of the browser's work on a click to this page (profiled), for a key most visits never open.
if legend := lazy_section("Reading the SPC marks (statistical process control, Making Data Count)", "spc_legend",
                          in_url=False):
    legend.caption("Each trust's weekly series up to this week is read as an XmR chart. Variation: is the latest "
                   "week a real change (special cause) or noise (common cause)? Assurance: will the trust reliably "
                   "meet the ambition? The cell's details give both; the trust drill-down page draws the chart.")
    for column, (words, icon) in zip(legend.columns(len(SPC_LEGEND)), SPC_LEGEND, strict=False):
        column.markdown(icon, unsafe_allow_html=True)  # our own SVG, with its alt text
        column.caption(words)
