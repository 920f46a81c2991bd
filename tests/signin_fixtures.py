"""Sign-in through a real OpenID Connect provider, shared by the sign-in browser tests
(tests/test_e2e_signin.py, tests/test_e2e_sessions.py).

The npm package oidc-provider (tests/oidc, installed by ``npm ci`` there) runs on 127.0.0.1 with
three accounts and its own sign-in form; ``streamlit run dashboard.py`` runs with an [auth]
secrets file pointing at it and a users.csv giving the accounts their roles (the submitter by a
group claim, as Microsoft Entra ID sends it). Without node or tests/oidc/node_modules a test fails,
saying what to run (.ci/run installs both).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
from browser_fixtures import ROOT, free_port, open_page, start_dashboard, wait_until_up
from helpers import REFERENCE_FIXTURES, load_rows_directly, needs_installing, stop_process, week_of_rows
from patience import guard_s
from playwright.sync_api import Page

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
    app_port, idp_port = free_port(), free_port()
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
        app = start_dashboard(app_port, app_log, {"FLOW_DB": str(db), "FLOW_REFERENCE_DIR": str(reference)},
                              "--secrets.files", str(secrets))
        wait_until_up(f"{base_url}/_stcore/health", app, app_log)
        yield base_url
    finally:
        if app is not None:
            stop_process(app)
        stop_process(idp)


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
