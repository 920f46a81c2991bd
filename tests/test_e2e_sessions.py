"""Signed in through the real OpenID Connect provider with a short-lived ID token (issue 22, item 6):
once the token has expired, a page still open saves nothing and says why.

The provider (tests/oidc) issues ID tokens lasting ID_TOKEN_TTL_S; the test waits until that has
passed by polling the clock (no timing is asserted), then saves.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_fixtures import open_page, screenshot
from playwright.sync_api import Page, expect
from signin_fixtures import provider_and_dashboard, saved_narratives, sign_in

ID_TOKEN_TTL_S = 20


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("short_tokens")


@pytest.fixture(scope="module")
def short_token_app(work: Path) -> Iterator[str]:
    with provider_and_dashboard(work, id_token_ttl_s=ID_TOKEN_TTL_S) as base_url:
        yield base_url


def test_6_an_expired_id_token_saves_nothing(short_token_app: str, work: Path, laptop: Page) -> None:
    sign_in(laptop, short_token_app, "placelead")
    signed_in_by = time.time()  # the token was issued before this
    open_page(laptop, short_token_app, "narrative?trust=RCB")
    expect(laptop.get_by_text("Saving as placelead@example.nhs.uk (signed in)")).to_be_visible()
    while time.time() < signed_in_by + ID_TOKEN_TTL_S + 2:  # wait out the token's lifetime
        time.sleep(0.5)
    laptop.get_by_test_id("stTextArea").first.locator("textarea").fill("Saved with an expired token.")
    laptop.get_by_role("button", name="Save", exact=True).first.click()
    expect(laptop.get_by_text("Your sign-in token expired")).to_be_visible()
    screenshot(laptop, "signin-expired-token")
    assert all(text != "Saved with an expired token." for text, _ in saved_narratives(work / "flow.duckdb"))
