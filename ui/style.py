"""Colours and symbols shared by every page. NHS identity colours; status is never colour alone."""
from __future__ import annotations

import streamlit as st

from pipelines.reports.presentation import (  # noqa: F401  (defined with the exports, which share them)
    NHS_PALE_GREY,
    NHS_SECONDARY_TEXT,
    OPEL_COLOURS,
    OPEL_TEXT_COLOURS,
    STATUS_FILL,
)

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_GREY = "#425563"

AMBITION_LINE = {"color": NHS_DARK_BLUE, "dash": "dash", "width": 2}

# Streamlit draws captions, help and placeholders in a faded grey (3.9:1 on white): NHS dark grey instead.
ACCESSIBLE_TEXT_CSS = f"""<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] small, [data-testid="stTooltipHoverTarget"] svg,
[data-testid="stMarkdownContainer"] small,
.stSelectbox [data-baseweb="select"] [aria-selected="false"], input::placeholder, textarea::placeholder,
[data-baseweb="select"] div[class*="placeholder"] {{
  color: {NHS_SECONDARY_TEXT} !important; opacity: 1 !important; }}
/* Charts too: Streamlit's Plotly theme draws tick labels, axis titles and legends in the same faded grey. */
.js-plotly-plot :is(.xtick, .ytick, .xtick2, .ytick2, .g-xtitle, .g-ytitle) text,
.js-plotly-plot :is(.legendtext, .bartext-outside) {{
  fill: {NHS_SECONDARY_TEXT} !important; }}
/* The date pickers' day/month/year parts are targets of their own: at least 24 x 24 px (WCAG 2.2, 2.5.8). */
[role="spinbutton"][contenteditable] {{ display: inline-flex; min-width: 24px; min-height: 24px;
  align-items: center; justify-content: center; }}
/* Less empty space above the page, so the weekly table's header row is on the first screen. */
[data-testid="stMainBlockContainer"] {{ padding-top: 3.5rem !important; padding-left: 1.5rem !important;
  padding-right: 1.5rem !important; }}
h1 {{ font-size: 2rem !important; padding-top: 0.5rem !important; }}
/* Printed (a board paper, a handout): the page's content across the whole sheet, without the page list
   across the top (no page has a sidebar). */
@media print {{
  [data-testid="stHeader"] {{ display: none !important; }}
  [data-testid="stMainBlockContainer"] {{ padding: 0 !important; max-width: 100% !important; }}
}}
</style>"""


# Printing: Plotly draws each chart at the screen's width in pixels and does not lay it out again for
# the sheet, so a printed chart was cut off at the page edge (the OPEL heatmap of 06/08 to 30/09 stopped
# at 31/08 on portrait A4). Just before printing, each chart's SVG layers get a viewBox of their own
# size, and the print CSS lets the chart shrink to the sheet's width keeping its proportions; after
# printing the viewBox goes (Plotly redraws at other sizes on screen). Fixed text, no data in it.
PRINT_FIT_HTML = """<span class="print-fit-script"></span><script>
(() => {
  if (window.flowPrintFit) return;
  window.flowPrintFit = true;
  addEventListener("beforeprint", () => {
    for (const box of document.querySelectorAll(".stPlotlyChart .svg-container")) {
      const width = parseFloat(box.style.width), height = parseFloat(box.style.height);
      if (!width || !height) continue;
      box.style.setProperty("--print-ratio", `${width} / ${height}`);
      for (const svg of box.querySelectorAll("svg.main-svg")) {
        svg.setAttribute("viewBox", `0 0 ${svg.getAttribute("width")} ${svg.getAttribute("height")}`);
      }
      box.classList.add("print-fit");
    }
  });
  addEventListener("afterprint", () => {
    for (const box of document.querySelectorAll(".svg-container.print-fit")) {
      box.classList.remove("print-fit");
      for (const svg of box.querySelectorAll("svg.main-svg")) svg.removeAttribute("viewBox");
    }
  });
})();
</script>
<style>
[data-testid="stElementContainer"]:has(.print-fit-script) { display: none; }
@media print {
  .stPlotlyChart .svg-container.print-fit { max-width: 100% !important; height: auto !important;
    aspect-ratio: var(--print-ratio); }
  .stPlotlyChart .print-fit svg.main-svg { width: 100% !important; height: 100% !important; }
  [data-testid="stElementContainer"]:has(.print-fit), [data-testid="stElementContainer"]:has(.print-fit) > div,
  .stPlotlyChart:has(.print-fit),
  .stPlotlyChart:has(.print-fit) :is(.js-plotly-plot, .plot-container) { height: auto !important; }
}
</style>"""


def apply_theme() -> None:
    """The CSS every page needs (once per run, from ui.app.ensure_entrypoint), and the charts' print fitting."""
    st.html(ACCESSIBLE_TEXT_CSS)
    st.html(PRINT_FIT_HTML, unsafe_allow_javascript=True)


# The weekly table's page is projected in meetings: a title of one short line and captions close to it,
# so that the whole table and its key fit the first screen at 1366 x 768.
COMPACT_PAGE_CSS = """<style>
h1 { font-size: 1.5rem !important; padding: 0 !important; line-height: 1.2 !important; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.5rem; }
/* A cell reached with Tab is scrolled clear of the table's pinned header row, not under it (WCAG 2.4.11). */
[data-testid="stMain"] { scroll-padding-top: 7.5rem; }
</style>"""
