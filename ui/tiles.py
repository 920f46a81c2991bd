"""Headline tiles: a week's figure, its change on the week before and its status, for any page."""
from __future__ import annotations

import streamlit as st


def show_tiles(tiles: list[dict[str, str]]) -> None:
    """One st.metric per tile from presentation.headline_figures.

    The arrow follows the sign of the change; the colour says better (green) or worse (red), as
    the text does; no change is grey with no arrow.
    """
    for column, tile in zip(st.columns(len(tiles) or 1), tiles, strict=False):
        same = tile["direction"] in ("", "same")
        # The catalogue's short label, so it is not cut off; the full label is in the tile's help.
        column.metric(tile["short_label"], tile["value"], border=True,
                      delta=tile["delta"] or None, delta_arrow="off" if same else "auto",
                      delta_color="off" if same else "inverse" if tile["better"] == "lower" else "normal",
                      help=f"{tile['label']}. Ambition: {tile['ambition']}.")
        column.caption(f"{tile['status']} ({tile['ambition']})" if tile["status"] else "No national ambition")
