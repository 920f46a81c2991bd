"""End to end, signed in through a real OpenID Connect provider (issue 15).

The npm package oidc-provider (tests/oidc, installed by ``npm ci`` there) runs on 127.0.0.1 with
three accounts and its own sign-in form; ``streamlit run dashboard.py`` runs with an [auth]
secrets file pointing at it and a users.csv giving the accounts their roles (the submitter by a
group claim, as Microsoft Entra ID sends it). Headless Chromium signs in through the provider's
form as a viewer, a place lead and a submitter and checks what each can and cannot do.
Without node or tests/oidc/node_modules it fails, saying what to run (.ci/run installs both).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest
from helpers import REFERENCE_FIXTURES, load_rows_directly, needs_installing, stop_process, week_of_rows, write_csv
from patience import guard_s
from playwright.sync_api import Browser, Page
from test_e2e_browser import (
    ROOT,
    _free_port,
    browser,
    expect,
    new_context,
    open_page,
    screenshot,
    wait_until_up,
    window,
)

OIDC_DIR = ROOT / "tests" / "oidc"

USERS_CSV = """principal,role,covers
viewer@example.nhs.uk,viewer,*
placelead@example.nhs.uk,place_lead,RCB
group:york-bi-team,submitter,RCB
"""


def saved_narratives(db: Path) -> list[tuple[str, str]]:
    """(text, author) of every narrative saved in the dashboard's database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT text, author FROM narratives ORDER BY narrative_id").fetchall()
    finally:
        con.close()
__all__ = ["browser"]  # the Chromium fixture, shared with test_e2e_browser


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=guard_s(1)):
            return True
    except OSError:
        return False


@contextmanager
def provider_and_dashboard(work: Path, id_token_ttl_s: int = 3600) -> Iterator[str]:
    """The provider (ID tokens lasting ``id_token_ttl_s``) and the dashboard with sign-in on, their
    database in ``work``; yields the dashboard's base URL."""
    if not shutil.which("node"):
        needs_installing("node", "apt-get install nodejs npm")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        needs_installing("tests/oidc/node_modules", f"cd {OIDC_DIR} && npm ci")
    db = work / "flow.duckdb"
    load_rows_directly(db, week_of_rows("RCB", date(2024, 4, 1)) + week_of_rows("RCB", date(2024, 4, 8))
                       + week_of_rows("RCD", date(2024, 4, 1)) + week_of_rows("RCD", date(2024, 4, 8)))
    reference = work / "reference"
    reference.mkdir()
    for name in ("trusts.csv", "ambitions.csv"):
        shutil.copy(REFERENCE_FIXTURES / name, reference / name)
    (reference / "users.csv").write_text(USERS_CSV, encoding="utf-8")
    app_port, idp_port = _free_port(), _free_port()
    base_url, issuer = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{idp_port}"
    secrets = work / "secrets.toml"
    secrets.write_text(f"""[auth]
redirect_uri = "{base_url}/oauth2callback"
cookie_secret = "{os.urandom(32).hex()}"
client_id = "flow-dashboard"
client_secret = "flow-dashboard-test-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile groups", prompt = "login" }}
""", encoding="utf-8")
    idp_log, app_log = work / "oidc.log", work / "streamlit.log"
    with open(idp_log, "wb") as log:
        idp = subprocess.Popen(["node", "provider.mjs"], cwd=OIDC_DIR, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PORT": str(idp_port), "REDIRECT_URIS": f"{base_url}/oauth2callback",
                                    "ID_TOKEN_TTL": str(id_token_ttl_s)})
    app = None
    try:
        wait_until_up(f"{issuer}/.well-known/openid-configuration", idp, idp_log, _answers)
        with open(app_log, "wb") as log:
            app = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                 "--server.port", str(app_port), "--secrets.files", str(secrets),
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "FLOW_DB": str(db), "FLOW_REFERENCE_DIR": str(reference)})
        wait_until_up(f"{base_url}/_stcore/health", app, app_log)
        yield base_url
    finally:
        if app is not None:
            stop_process(app)
        stop_process(idp)


@pytest.fixture(scope="module")
def signed_in_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signin")


@pytest.fixture(scope="module")
def signed_in_app(signed_in_work: Path) -> Iterator[str]:
    with provider_and_dashboard(signed_in_work) as base_url:
        yield base_url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from window(browser, 1366, 768)


def sign_in(page: Page, base_url: str, account: str) -> Page:
    """Through the provider's own form: its login and consent pages, then back to the dashboard."""
    page.goto(base_url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/interaction/**")
    page.locator('input[name="login"]').fill(account)
    page.locator('input[name="password"]').fill("any password")
    page.locator('button[type="submit"]').click()
    page.wait_for_url("**/interaction/**")  # consent
    page.locator('button[type="submit"]').click()
    page.wait_for_url(f"{base_url}/**")
    return open_page(page, base_url)


def test_nothing_before_signing_in(signed_in_app: str, page: Page) -> None:
    open_page(page, signed_in_app, "data-quality")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.get_by_test_id("stDataFrame").count() == 0
    assert page.get_by_test_id("stFileUploader").count() == 0
    screenshot(page, "signin-before")


def test_viewer_reads_but_cannot_write(signed_in_app: str, page: Page) -> None:
    sign_in(page, signed_in_app, "viewer")
    # One line at the top (no sidebar); the address shows as typed (a word joiner after "@" keeps it unlinked).
    expect(page.get_by_text(re.compile("Signed in as viewer@\u2060?example.nhs.uk"))).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    expect(page.locator("table.wt")).to_be_visible()  # the weekly table (HTML)
    open_page(page, signed_in_app, "data-quality")
    expect(page.get_by_text("Uploading files needs the submitter role")).to_be_visible()
    assert page.get_by_test_id("stFileUploader").count() == 0
    open_page(page, signed_in_app, "narrative")
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    screenshot(page, "signin-viewer-narrative")


def test_place_lead_edits_own_trust_only(signed_in_app: str, page: Page) -> None:
    sign_in(page, signed_in_app, "placelead")
    open_page(page, signed_in_app, "narrative?trust=RCB")
    expect(page.get_by_text("Saving as placelead@example.nhs.uk (signed in)")).to_be_visible()
    box = page.get_by_test_id("stTextArea").first.locator("textarea")
    box.fill("York steady this week.")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.get_by_text(re.compile(r"^Saved \d+ narratives? of All trusts"))).to_be_visible()
    expect(page.get_by_text(re.compile("saved by placelead@\u2060?example.nhs.uk")).first).to_be_visible()
    screenshot(page, "signin-placelead-own")
    open_page(page, signed_in_app, "narrative?trust=RCD")
    expect(page.get_by_text("Editing it needs the place lead role for this trust.")).to_be_visible()
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    screenshot(page, "signin-placelead-other")


def test_submitter_rows_for_another_trust_are_rejected(signed_in_app: str, page: Page, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "york_and_harrogate.csv", week_of_rows("RCB", date(2024, 4, 15))
                     + week_of_rows("RCD", date(2024, 4, 15))[:2])
    sign_in(page, signed_in_app, "submitter")
    open_page(page, signed_in_app, "data-quality")
    expect(page.get_by_text("You submit for RCB")).to_be_visible()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(file))
    page.get_by_role("button", name="Load files").click()
    expect(page.get_by_text("Loaded, some rows rejected").filter(visible=True).first).to_be_visible()
    expect(page.get_by_text("RCD is not one of the trusts submitter@example.nhs.uk submits for").first).to_be_visible()
    # the result box (the same line also sits in the collapsed progress box and the audit grid's hidden cells)
    expect(page.get_by_text("7 of 9 rows loaded, 2 rejected").filter(visible=True).first).to_be_visible()
    audit = page.get_by_test_id("stDataFrame").last
    expect(audit).to_be_visible()
    screenshot(page, "signin-submitter-upload")
    open_page(page, signed_in_app, "narrative?trust=RCB")
    assert page.get_by_role("button", name="Save", exact=True).count() == 0  # a submitter does not write narratives


def sign_out(page: Page, base_url: str) -> None:
    """The dashboard's Sign out, then the provider's own confirmation, back to the dashboard's sign-in page
    (issue 22, item 14: the provider accepts the address Streamlit sends, /oauth2callback)."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{base_url}/**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert "post_logout_redirect_uri" not in page.content()


def test_3_an_unverified_email_gets_no_role(signed_in_app: str, page: Page) -> None:
    """The provider gives the place lead's address unverified: no role, a plain reason, no figures."""
    sign_in(page, signed_in_app, "unverified")
    expect(page.get_by_text("has not verified the email address placelead@")).to_be_visible()
    assert page.locator("table.wt").count() == 0
    screenshot(page, "signin-unverified")


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
