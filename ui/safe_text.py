"""Text that came from a file or a user, made safe to show (issue 14, item 11).

Streamlit renders Markdown (links, images, ``:material/...:`` icons, colours, LaTeX) in titles,
headers, captions, alerts, status labels and widget labels. A trust name from a publication, a site
code, an upload's file name, an SPC reason or an author's name must show as the characters it is,
never as a live link or a remote image, and never reordered on screen by bidirectional override
characters (a name typed with a right-to-left override displays as a different, plausible name).

``clean`` drops those characters (for ``st.text``, widget options and tables, which show text as it is);
``plain`` also escapes Markdown and stops bare web addresses being linked, for the elements that
render Markdown; pages pass their whole sentence through it (their own wording has no Markdown).
"""
from __future__ import annotations

import re
import unicodedata

# Bidirectional embeddings, overrides, isolates and marks (Unicode TR 9): they reorder what follows.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Backslash escapes (CommonMark) for what Markdown or Streamlit's extensions give a meaning: links and
# images ([ ] !), emphasis and code (* _ ` ~), HTML (< >), tables (|), headings (#), LaTeX ($)
# and entities (&name;). Other punctuation, "(RCB)" say, stays as it is.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!|#~$])|(&)(?=#?\w+;)")
# A line starting like a list item ("- x", "+ x", "1. x") would become one.
_LIST_START = re.compile(r"^(\s*(?:\d+)?)([-+.)])(?=\s)")
# Bare web and email addresses are linked after escapes are resolved (GFM autolink literals), so
# escaping cannot stop them: an invisible word joiner inside "://", after "www" and after "@" does.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?:(?<=https:)|(?<=http:))(?=//)|(?<=\bwww)(?=\.)|(?<=@)")


def clean(text: object) -> str:
    """``text`` with control characters (line breaks become spaces) and bidi controls removed."""
    out = []
    for ch in str(text):
        if ch in BIDI:
            continue
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            if ch in "\t\n\r\x0b\x0c\x85" or category in ("Zl", "Zp"):
                out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def plain(text: object) -> str:
    """``text`` cleaned and with its Markdown escaped: shows as the characters it is in ``st.header``,
    ``st.caption``, ``st.info`` and the like."""
    escaped = _MARKDOWN.sub(lambda found: "\\" + next(g for g in found.groups() if g), clean(text))
    return _AUTOLINK.sub(WORD_JOINER, _LIST_START.sub(r"\1\\\2", escaped))
