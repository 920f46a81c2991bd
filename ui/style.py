"""Colours and symbols shared by every page. NHS identity colours; status is never colour alone."""
from __future__ import annotations

import polars as pl
from pandas.io.formats.style import Styler

from pipelines.reports.presentation import NHS_PALE_GREY, STATUS_FILL  # noqa: F401  (defined with the exports, which share them)

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_GREY = "#425563"

# Red/amber/green with different lightness, so they stay distinct for colour-blind readers,
# and always paired with the status text and symbol of pipelines.reports.presentation.STATUS_TEXT.
STATUS_LINE = {"green": "#007F3B", "amber": "#FFB81C", "red": "#D5281B", "none": NHS_GREY}

# OPEL 1 to 4: one hue family from pale to dark, readable without colour vision too.
OPEL_COLOURS = {1: "#FFF3C4", 2: "#FFB81C", 3: "#ED8B00", 4: "#8A1538"}
OPEL_TEXT_COLOURS = {1: "#212B32", 2: "#212B32", 3: "#212B32", 4: "#FFFFFF"}

AMBITION_LINE = {"color": NHS_DARK_BLUE, "dash": "dash", "width": 2}


def status_styler(text: pl.DataFrame, status: pl.DataFrame) -> Styler:
    """The weekly table with each trust cell filled by its status (the text says the status too)."""
    frame = text.to_pandas()
    fills = status.to_pandas().map(lambda s: f"background-color: {STATUS_FILL.get(s, '#FFFFFF')}")
    fills[["Metric", "Ambition"]] = ""
    return frame.style.apply(lambda _: fills, axis=None)
