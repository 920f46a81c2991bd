"""Text that came from a file or a user, made safe to show.

Streamlit renders Markdown (links, images, ``:material/...:`` icons, colours, LaTeX) in titles,
headers, captions, alerts, status labels and widget labels. A trust name from a publication, a site
code, an upload's file name, an SPC reason or an author's name must show as the characters it is,
never as a live link or a remote image, and never reordered on screen by bidirectional override
characters (a name typed with a right-to-left override displays as a different, plausible name).

``clean`` (pipelines.safe_text, shared with the exports) drops those characters (for ``st.text``,
widget options and tables, which show text as it is);
``plain`` also escapes Markdown and stops bare web addresses being linked, for the elements that
render Markdown; pages pass their whole sentence through it (their own wording has no Markdown).
"""
from __future__ import annotations

import re

from pipelines.safe_text import BIDI, clean

__all__ = ["BIDI", "WORD_JOINER", "clean", "plain"]

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


def plain(text: object) -> str:
    """``text`` cleaned and with its Markdown escaped: shows as the characters it is in ``st.header``,
    ``st.caption``, ``st.info`` and the like."""
    escaped = _MARKDOWN.sub(lambda found: "\\" + next(g for g in found.groups() if g), clean(text))
    return _AUTOLINK.sub(WORD_JOINER, _LIST_START.sub(r"\1\\\2", escaped))
