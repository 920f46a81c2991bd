"""Text that came from a file or a user, made safe to show and to export.

One definition for the pages (ui.safe_text adds Markdown escaping on top) and for every export
(the weekly table's HTML, charts, Word, Excel and CSV): bidirectional controls are removed, because
a name typed with a right-to-left override displays as a different, plausible name, and so are
control characters, which no sitrep, trust name or narrative needs (line breaks become spaces, or
stay as line breaks in a narrative).
"""
from __future__ import annotations

import re
from html import escape

import polars as pl

# Bidirectional embeddings, overrides, isolates and marks (Unicode TR 9): they reorder what follows.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_CLASS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Line breaks (with a Windows line end as one), then every other control character (Unicode Cc).
_BREAKS = r"\r\n|[\n\r\x0b\x0c\x85\u2028\u2029\t]"
_DROPPED = re.compile(f"[{_BIDI_CLASS}]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]")
_BREAK = re.compile(_BREAKS)
_POLARS_DROPPED = f"[{_BIDI_CLASS}\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]"


def clean(text: object, keep_lines: bool = False) -> str:
    """``text`` without bidi controls and control characters; a line break (or tab) becomes a space,
    or with ``keep_lines`` a line break stays one (``\\n``), as a narrative's paragraphs should."""
    kept = _DROPPED.sub("", str(text))
    return _BREAK.sub(lambda found: "\n" if keep_lines and found.group() != "\t" else " ", kept)


def html_text(text: object) -> str:
    """``text`` cleaned and escaped for HTML (element text or an attribute's value)."""
    return escape(clean(text), quote=True)


def clean_column(column: str | pl.Expr, keep_lines: bool = False) -> pl.Expr:
    """``clean`` as a Polars expression over a text column (no Python per cell)."""
    expr = pl.col(column) if isinstance(column, str) else column
    kept = expr.str.replace_all(_POLARS_DROPPED, "")
    if keep_lines:
        return kept.str.replace_all("\t", " ", literal=True).str.replace_all(_BREAKS, "\n")
    return kept.str.replace_all(_BREAKS, " ")


def clean_text_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of ``frame`` cleaned: names and labels from files, before anything shows them."""
    return frame.with_columns(clean_column(name).alias(name) for name, dtype in frame.schema.items()
                              if dtype == pl.String)
