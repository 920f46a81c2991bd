"""End to end, signed in through a real OpenID Connect provider (issue 15).

The npm package oidc-provider (tests/oidc, installed by ``npm ci`` there) runs on 127.0.0.1 with
three accounts and its own sign-in form; ``streamlit run dashboard.py`` runs with an [auth]
secrets file pointing at it and a users.csv giving the accounts their roles (the submitter by a
group claim, as Microsoft Entra ID sends it). Headless Chromium signs in through the provider's
form as a viewer, a place lead and a submitter and checks what each can and cannot do. The provider,
the dashboard and signing in are tests/signin_fixtures.py's.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from browser_fixtures import new_context, open_page, screenshot, settled
from helpers import week_of_rows, write_csv
from playwright.sync_api import Browser, Page, expect
from signin_fixtures import provider_and_dashboard, saved_narratives, sign_in


@pytest.fixture(scope="module")
def signed_in_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signin")


@pytest.fixture(scope="module")
def signed_in_app(signed_in_work: Path) -> Iterator[str]:
    with provider_and_dashboard(signed_in_work) as base_url:
        yield base_url


def test_nothing_before_signing_in(signed_in_app: str, laptop: Page) -> None:
    open_page(laptop, signed_in_app, "data-quality")
    expect(laptop.get_by_role("button", name="Sign in")).to_be_visible()
    assert laptop.get_by_test_id("stDataFrame").count() == 0
    assert laptop.get_by_test_id("stFileUploader").count() == 0
    screenshot(laptop, "signin-before")


def test_viewer_reads_but_cannot_write(signed_in_app: str, laptop: Page) -> None:
    sign_in(laptop, signed_in_app, "viewer")
    # One line at the top (no sidebar); the address shows as typed (a word joiner after "@" keeps it unlinked).
    expect(laptop.get_by_text(re.compile("Signed in as viewer@\u2060?example.nhs.uk"))).to_be_visible()
    expect(laptop.get_by_role("button", name="Sign out")).to_be_visible()
    expect(laptop.get_by_test_id("stSidebar")).to_have_count(0)
    expect(laptop.locator("table.wt")).to_be_visible()  # the weekly table (HTML)
    open_page(laptop, signed_in_app, "data-quality?submit=true")  # even the link to the file box
    expect(laptop.get_by_text("Uploading files needs the submitter role")).to_be_visible()
    assert laptop.get_by_test_id("stFileUploader").count() == 0
    open_page(laptop, signed_in_app, "narrative")
    assert laptop.get_by_role("button", name="Save", exact=True).count() == 0
    screenshot(laptop, "signin-viewer-narrative")


def test_place_lead_edits_own_trust_only(signed_in_app: str, laptop: Page) -> None:
    sign_in(laptop, signed_in_app, "placelead")
    open_page(laptop, signed_in_app, "narrative?trust=RCB")
    expect(laptop.get_by_text("Saving as placelead@example.nhs.uk (signed in)")).to_be_visible()
    box = laptop.get_by_test_id("stTextArea").first.locator("textarea")
    box.fill("York steady this week.")
    laptop.get_by_role("button", name="Save", exact=True).first.click()
    expect(laptop.get_by_text(re.compile(r"^Saved \d+ narratives? of All trusts"))).to_be_visible()
    expect(laptop.get_by_text(re.compile("saved by placelead@\u2060?example.nhs.uk")).first).to_be_visible()
    screenshot(laptop, "signin-placelead-own")
    open_page(laptop, signed_in_app, "narrative?trust=RCD")
    expect(laptop.get_by_text("Editing it needs the place lead role for this trust.")).to_be_visible()
    assert laptop.get_by_role("button", name="Save", exact=True).count() == 0
    screenshot(laptop, "signin-placelead-other")


def test_submitter_rows_for_another_trust_are_rejected(signed_in_app: str, laptop: Page, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "york_and_harrogate.csv", week_of_rows("RCB", date(2024, 4, 15))
                     + week_of_rows("RCD", date(2024, 4, 15))[:2])
    sign_in(laptop, signed_in_app, "submitter")
    open_page(laptop, signed_in_app, "data-quality?submit=true")  # the link opens "Submit a file"
    expect(laptop.get_by_text("You submit for RCB")).to_be_visible()
    laptop.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(file))
    laptop.get_by_role("button", name="Load files").click()
    expect(laptop.get_by_text("Loaded, some rows rejected").filter(visible=True).first).to_be_visible()
    expect(laptop.get_by_text("RCD is not one of the trusts submitter@example.nhs.uk submits for").first
           ).to_be_visible()
    # the result box (the same line also sits in the collapsed progress box and the audit grid's hidden cells)
    expect(laptop.get_by_text("7 of 9 rows loaded, 2 rejected").filter(visible=True).first).to_be_visible()
    # the audit log's table, drawn when its expander is opened: once the load's rerun has finished (on a busy
    # machine a click while that run was still drawing the page was lost, as in CI once)
    settled(laptop)
    laptop.get_by_text(re.compile(r"^The log: \d+ entr")).click()
    expect(laptop.get_by_test_id("stExpander").filter(has_text="The log:").get_by_test_id("stDataFrame")
           ).to_be_visible()
    screenshot(laptop, "signin-submitter-upload")
    open_page(laptop, signed_in_app, "narrative?trust=RCB")
    assert laptop.get_by_role("button", name="Save", exact=True).count() == 0  # a submitter does not write narratives


def sign_out(page: Page, base_url: str) -> None:
    """The dashboard's Sign out, then the provider's own confirmation, back to the dashboard's sign-in page
    (issue 22, item 14: the provider accepts the address Streamlit sends, /oauth2callback)."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{base_url}/**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert "post_logout_redirect_uri" not in page.content()


def test_3_an_unverified_email_gets_no_role(signed_in_app: str, laptop: Page) -> None:
    """The provider gives the place lead's address unverified: no role, a plain reason, no figures."""
    sign_in(laptop, signed_in_app, "unverified")
    expect(laptop.get_by_text("has not verified the email address placelead@")).to_be_visible()
    assert laptop.locator("table.wt").count() == 0
    screenshot(laptop, "signin-unverified")


def test_5_6_signing_out_ends_every_tab_and_the_copied_cookie(signed_in_app: str, signed_in_work: Path,
                                                              browser: Browser) -> None:
    """Tab 2, opened before tab 1 signs out and never reloaded, cannot save; a copy of the sign-in cookie
    taken before signing out signs nobody in."""
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        first = sign_in(context.new_page(), signed_in_app, "placelead")
        second = open_page(context.new_page(), signed_in_app, "narrative?trust=RCB")
        expect(second.get_by_text("Saving as placelead@example.nhs.uk (signed in)")).to_be_visible()
        copied = context.cookies()
        sign_out(first, signed_in_app)
        second.get_by_test_id("stTextArea").first.locator("textarea").fill("Saved after signing out.")
        second.get_by_role("button", name="Save", exact=True).first.click()
        expect(second.get_by_text("You signed out at")).to_be_visible()
        expect(second.get_by_role("button", name="Sign in")).to_be_visible()
        screenshot(second, "signin-other-tab-after-sign-out")
    finally:
        context.close()
    assert all(text != "Saved after signing out." for text, _ in saved_narratives(signed_in_work / "flow.duckdb"))
    thief = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        thief.add_cookies(copied)
        stolen = open_page(thief.new_page(), signed_in_app, "narrative?trust=RCB")
        expect(stolen.get_by_text("You signed out at")).to_be_visible()
        assert stolen.get_by_role("button", name="Save", exact=True).count() == 0
    finally:
        thief.close()
