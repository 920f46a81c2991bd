"""Text from files and users is shown inert: no links, images or reordering (issue 14, item 11)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui.safe_text import BIDI, WORD_JOINER, clean, plain

EVIL = "[x](https://evil.example) ![](https://evil.example/p.png)"
# "Dr Alice" typed with a right-to-left override shows as "ecilA rD"-like text: a different name.
RTL_NAME = "Dr \u202eecilA\u202c"


def unescaped(text: str, char: str) -> int:
    """How many times ``char`` appears in ``text`` without a backslash before it."""
    return len(re.findall(rf"(?<!\\){re.escape(char)}", text))


def test_a_markdown_link_and_image_become_plain_characters() -> None:
    shown = plain(EVIL)
    for char in "[]!":
        assert unescaped(shown, char) == 0, char
    # Removing the escapes and word joiners gives back exactly what was typed: nothing is lost, only made inert.
    assert re.sub(r"\\(.)", r"\1", shown).replace(WORD_JOINER, "") == EVIL


@pytest.mark.parametrize("address", ["https://evil.example/p.png", "http://evil.example", "HTTPS://evil.example",
                                     "www.evil.example", "someone@evil.example"])
def test_bare_addresses_are_not_linked(address: str) -> None:
    # GFM links these after escapes are resolved; a word joiner inside the address stops it.
    shown = plain(f"see {address} now")
    assert address not in shown and shown.replace(WORD_JOINER, "") == f"see {address} now"


def test_ordinary_names_read_as_they_are() -> None:
    assert plain("Harrogate (RCD)") == "Harrogate (RCD)"
    assert plain("Source: sitrep_2024-04.csv") == r"Source: sitrep\_2024-04.csv"
    assert plain("- 3 sites") == r"\- 3 sites"  # not a list item


def test_bidi_overrides_and_controls_are_removed() -> None:
    assert clean(RTL_NAME) == "Dr ecilA"
    assert plain("York\nand\x00 Scarborough\u2066") == "York and Scarborough"


@given(st.text())
def test_any_text_is_inert(text: str) -> None:
    shown = plain(text)
    assert not set(shown) & BIDI
    assert all(ch not in shown for ch in "\n\r\x00")
    for char in "[]!<>`*_|$":
        assert unescaped(shown.replace("\\\\", ""), char) == 0
