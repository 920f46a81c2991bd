"""Home: the weekly position of every trust against the national ambitions (DOMAIN section 1)."""
from __future__ import annotations

from datetime import timedelta
from functools import partial

import streamlit as st

from pipelines.catalogue.wording import ASSURANCE_TEXT, VARIATION_TEXT, assurance_label, variation_label
from pipelines.reports import export, narrative
from pipelines.reports.presentation import headline_figures
from ui import data
from ui.app import ensure_entrypoint
from ui.spc_icons import assurance_icon, variation_icon
from ui.style import status_styler
from ui.tiles import show_tiles
from ui.weekly_filters import weekly_table_with_filters

# The words in the cells beside the icons they stand for.
SPC_LEGEND = [(f"SPC {VARIATION_TEXT[v]}: {variation_label(v)}", variation_icon(v, size=36))
              for v in ("common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low")] + [
             (f"{ASSURANCE_TEXT[a]}: {assurance_label(a)}", assurance_icon(a, size=36)) for a in ASSURANCE_TEXT]
HEADLINE_METRICS = ("stranded_7plus_pct", "super_stranded_21plus_pct", "ga_occupancy_pct",
                    "ctr_discharged_by_5pm_pct", "recorded_delays", "pathway_0_1_pct")

ensure_entrypoint()  # with sign-in configured: nothing below before signing in
st.title("Weekly position")
table, chosen_icbs, chosen_places = weekly_table_with_filters()
week = table.week_ending
st.caption(f"Monday {week - timedelta(days=6):%d/%m/%Y} to Sunday {week:%d/%m/%Y}: "
           f"{table.position['org_code'].n_unique()} of {table.trusts.height} selected trusts submitted figures.")

st.subheader("Selected trusts combined")
show_tiles(headline_figures(table.system, HEADLINE_METRICS))

st.subheader("By trust")
st.caption("Each cell: the weekly value; ✓ meets the ambition, ! misses it by no more than the tolerance, "
           "✗ misses it; the change on the week before, better or worse; then the SPC reading (see below). "
           "The narrative is the discharge group's, from the Weekly narrative page.")
for column, (fmt, (mime, label)) in zip(st.columns(len(export.FORMATS)), export.FORMATS.items()):
    column.download_button(label, partial(data.read, export.render, week, chosen_icbs, chosen_places, fmt),
                           file_name=export.file_name(week, fmt), mime=mime, on_click="ignore",
                           icon=":material/download:")
text, status = narrative.with_narratives(table, data.read(narrative.current_narratives, week))
st.dataframe(status_styler(text, status), hide_index=True, width="stretch", height=36 * (text.height + 1) + 3,
             column_config={"Metric": st.column_config.TextColumn(pinned=True, width="large"),
                            "Ambition": st.column_config.TextColumn(pinned=True, width="small"),
                            "Narrative": st.column_config.TextColumn(width="large")})

with st.expander("Reading the SPC words (statistical process control, Making Data Count)"):
    st.caption("Each trust's weekly series up to this week is read as an XmR chart. Variation: is the latest "
               "week a real change (special cause) or noise (common cause)? Assurance: will the trust reliably "
               "meet the ambition? The trust drill-down page draws the chart.")
    for column, (words, icon) in zip(st.columns(len(SPC_LEGEND)), SPC_LEGEND):
        column.markdown(icon, unsafe_allow_html=True)  # our own SVG, with its alt text
        column.caption(words)
