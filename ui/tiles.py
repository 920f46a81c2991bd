"""Headline tiles: a week's figure, its change on the week before and its status, for any page."""
from __future__ import annotations

import streamlit as st

# Tile labels short enough not to be cut off; the full label is in each tile's help.
SHORT_LABELS = {"stranded_7plus_pct": "Stranded 7+ days", "super_stranded_21plus_pct": "Super-stranded 21+",
                "ga_occupancy_pct": "G&A occupancy", "ctr_discharged_by_5pm_pct": "NCTR out by 5pm",
                "recorded_delays": "Recorded delays", "pathway_0_1_pct": "Home (P0-1)",
                "ctr_discharged_pct": "NCTR discharged"}


def show_tiles(tiles: list[dict[str, str]]) -> None:
    """One st.metric per tile from presentation.headline_figures.

    The arrow follows the sign of the change; the colour says better (green) or worse (red), as
    the text does; no change is grey with no arrow.
    """
    for column, tile in zip(st.columns(len(tiles) or 1), tiles):
        same = tile["direction"] in ("", "same")
        column.metric(SHORT_LABELS.get(tile["metric"], tile["label"]), tile["value"], border=True,
                      delta=tile["delta"] or None, delta_arrow="off" if same else "auto",
                      delta_color="off" if same else "inverse" if tile["better"] == "lower" else "normal",
                      help=f"{tile['label']}. Ambition: {tile['ambition']}.")
        column.caption(f"{tile['status']} ({tile['ambition']})" if tile["status"] else "No national ambition")
