"""Making Data Count variation and assurance icons, drawn in code as SVG strings.

No Streamlit here: each function returns an SVG string (``role="img"``, ``aria-label`` and a
``<title>`` carrying the same plain-English text as ``pipelines.spc.xmr``'s labels), put inline in
the page's HTML.
Colour is never the only cue: each icon also has a letter (H, L, P, F, ?) and its alt text.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from pipelines.catalogue.wording import assurance_label, variation_label
from pipelines.reports.presentation import NHS_INK

IMPROVEMENT = "#005EB8"  # NHS blue: white text on it passes 4.5:1, unlike the paler #41B6E6
CONCERN = "#ED8B00"  # NHS orange: dark text, as white on orange is only 2.5:1
COMMON = "#768692"  # NHS mid grey
NEITHER = "#330072"  # NHS purple: special cause with signals both ways
WHITE, DARK = "#FFFFFF", NHS_INK

# Five dots in a 100 x 100 box sketching the last points: level, ending high, or ending low.
_DOTS = {
    "level": ((22, 70), (36, 63), (50, 73), (64, 64), (78, 70)),
    "high": ((22, 78), (36, 74), (50, 78), (64, 60), (78, 54)),
    "low": ((22, 56), (36, 60), (50, 56), (64, 74), (78, 80)),
}
# variation -> (fill, text colour, letter, dots)
_VARIATION = {
    "common_cause": (COMMON, WHITE, "", "level"),
    "improvement_high": (IMPROVEMENT, WHITE, "H", "high"),
    "improvement_low": (IMPROVEMENT, WHITE, "L", "low"),
    "concern_high": (CONCERN, DARK, "H", "high"),
    "concern_low": (CONCERN, DARK, "L", "low"),
    "neither": (NEITHER, WHITE, "H/L", "level"),
    "run_chart": (WHITE, DARK, "", "level"),
}
_ASSURANCE = {"pass": (IMPROVEMENT, WHITE, "P"), "fail": (CONCERN, DARK, "F"),
              "hit_or_miss": (COMMON, WHITE, "?"), None: (WHITE, DARK, "\u2013")}


def _svg(alt: str, fill: str, ink: str, body: str, size: int) -> str:
    # A white fill means "no statistics": drawn as a dashed grey ring so it is not mistaken for a result.
    ring = (f'<circle cx="50" cy="50" r="45" fill="{WHITE}" stroke="{COMMON}" stroke-width="4" stroke-dasharray="8 6"/>'
            if fill == WHITE else f'<circle cx="50" cy="50" r="47" fill="{fill}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="{size}" height="{size}" '
            f'role="img" aria-label={quoteattr(alt)}><title>{escape(alt)}</title>{ring}'
            f'<g fill="{ink}" stroke="{ink}">{body}</g></svg>')


def _letter(text: str, y: int, font_size: int) -> str:
    return (f'<text x="50" y="{y}" text-anchor="middle" font-family="Arial, sans-serif" font-weight="bold" '
            f'font-size="{font_size}" stroke="none">{escape(text)}</text>')


def variation_icon(variation: str, better: str | None = None, size: int = 48) -> str:
    """The variation icon for a ``pipelines.spc.xmr`` variation code, alt text from ``variation_label``."""
    fill, ink, letter, shape = _VARIATION[variation]
    dots = _DOTS[shape]
    line = " ".join(f"{x},{y}" for x, y in dots)
    body = (f'<polyline points="{line}" fill="none" stroke-width="2"/>'
            + "".join(f'<circle cx="{x}" cy="{y}" r="5" stroke="none"/>' for x, y in dots))
    if letter:
        body += _letter(letter, 44, 30 if len(letter) == 1 else 24)
    return _svg(variation_label(variation, better), fill, ink, body, size)


def assurance_icon(assurance: str | None, size: int = 48) -> str:
    """P (consistently passing), F (consistently failing), ? (hit or miss), a dash for none."""
    fill, ink, letter = _ASSURANCE[assurance]
    return _svg(assurance_label(assurance), fill, ink, _letter(letter, 64, 46), size)
