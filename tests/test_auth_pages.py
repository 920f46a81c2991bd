"""AppTests of the three modes (issue 15): no sign-in (full rights, a notice on every page), public
read-only (no upload, editing or baseline changes), and sign-in configured (no figure before signing
in; what a place lead, a submitter and a viewer are offered)."""
from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from helpers import REFERENCE_FIXTURES, load_rows_directly, query, week_of_rows
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_trust_spc import labelled, step

from pipelines import access, live_sessions
from pipelines.reports.narrative import save_narrative
from ui import auth

__all__ = ["step"]  # the fixture of test_trust_spc: a step change in Harrogate's stranded patients
ROOT = Path(__file__).resolve().parents[1]
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "dashboard",
        "client_secret": "secret", "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"}
PAGES = sorted(str(page.relative_to(ROOT)) for page in (ROOT / "pages").glob("*.py"))  # every page, new ones too


@pytest.fixture
def two_weeks(db: Path) -> Path:
    load_rows_directly(db, week_of_rows("RCB", date(2024, 4, 1)) + week_of_rows("RCB", date(2024, 4, 8))
                       + week_of_rows("RCD", date(2024, 4, 1)) + week_of_rows("RCD", date(2024, 4, 8)))
    return db


def token(user: dict) -> dict:
    """A signed-in user's claims as an ID token gives them: a subject, when it was issued and until when,
    and the email verified by the provider (unless the test says otherwise)."""
    now = int(time.time())
    return {"sub": user.get("email", "someone"), "iss": "https://idp.test", "iat": now - 60, "exp": now + 3600,
            "email_verified": True, **user}


def run(page: str, user: dict | None = None, signed_in_mode: bool = False, **query: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / page), default_timeout=page_run_guard_s())
    if signed_in_mode:
        app.secrets["auth"] = AUTH
        app.user = token(user) if user and user.get("is_logged_in") else {"is_logged_in": False}
    for name, value in query.items():
        app.query_params[name] = value
    return app.run()


def mode_line(app: AppTest) -> str:
    """The one line at the top of the page that says the mode; the sidebar stays empty (it took 22% of 1366 px)."""
    assert not app.sidebar.children, "nothing in the sidebar"
    return " ".join(str(e.value) for e in app.main.caption)


def test_without_sign_in_every_page_says_so(two_weeks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOW_READ_ONLY", raising=False)
    for page in PAGES:
        app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=page_run_guard_s()).run()
        app.switch_page(page).run()
        assert not app.exception, page
        assert auth.NO_SIGN_IN_NOTICE in mode_line(app), page


def test_single_analyst_has_the_forms(two_weeks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOW_READ_ONLY", raising=False)
    assert run("pages/data_quality.py", submit="true").get("file_uploader")  # "Submit a file" opened
    app = run("pages/narrative.py")
    assert app.text_input(key="narrative_author")  # no sign-in: the analyst types their name


def test_public_read_only_mode_offers_no_writes(two_weeks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_READ_ONLY", "1")
    home = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=page_run_guard_s()).run()
    assert auth.READ_ONLY_NOTICE in mode_line(home)
    quality = run("pages/data_quality.py", submit="true")  # even by a link to the file box
    assert not quality.exception and not quality.get("file_uploader")
    assert any("Uploading files needs" in i.value for i in quality.info)
    story = run("pages/narrative.py")
    assert not story.exception and not story.text_area and not story.get("form")
    trust = run("pages/trust.py", spc="true")  # the SPC section open: no settings form to save
    assert not trust.exception and not [b for b in trust.button if "SPC" in str(b.label)]


@pytest.mark.parametrize("page", ["dashboard.py", *PAGES])
def test_with_sign_in_nothing_shows_before_signing_in(two_weeks: Path, page: str) -> None:
    app = run(page, signed_in_mode=True)
    assert not app.exception
    assert [b.label for b in app.button] == ["Sign in"]
    assert not app.dataframe and not app.get("plotly_chart") and not app.get("file_uploader")


def test_a_signed_in_account_without_a_role_sees_nothing(two_weeks: Path) -> None:
    app = run("pages/weekly_position.py", {"is_logged_in": True, "email": "stranger@example.org"}, True)
    assert "has no role" in app.warning[0].value and not app.dataframe


def test_a_place_lead_edits_only_their_trusts_narrative(two_weeks: Path) -> None:
    lead = {"is_logged_in": True, "email": "placelead@example.nhs.uk", "name": "Pat Lead"}
    own = run("pages/narrative.py", lead, True, trust="RCB")
    assert not own.exception and own.text_area
    assert "Saving as placelead@example.nhs.uk (signed in)" in [t.value for t in own.text]
    assert not own.text_input  # no typed name when signed in
    other = run("pages/narrative.py", lead, True, trust="RCD", group="all")  # Harrogate: not in its default group
    assert not other.text_area and any("place lead role for this trust" in c.value for c in other.caption)
    system = run("pages/narrative.py", lead, True)
    assert not system.text_area


def test_a_submitter_uploads_and_a_viewer_does_not(two_weeks: Path) -> None:
    submitter = run("pages/data_quality.py", {"is_logged_in": True, "email": "submitter@example.nhs.uk"}, True,
                    submit="true")
    assert submitter.get("file_uploader")
    assert any("You submit for RCB" in c.value for c in submitter.caption)
    viewer = run("pages/data_quality.py", {"is_logged_in": True, "email": "viewer@example.nhs.uk"}, True,
                 submit="true")
    assert not viewer.exception and not viewer.get("file_uploader")
    viewer.session_state["dq_tab"] = "Data contract rules"  # the viewer opens a tab: its table
    assert not viewer.run().exception and viewer.dataframe


def test_the_audit_section_shows_each_write(two_weeks: Path) -> None:
    lead = access.Identity("placelead@example.nhs.uk", "token", (access.Grant("place_lead", frozenset({"RCB"})),))
    save_narrative(two_weeks, date(2024, 4, 14), "stranded_7plus_pct", "RCB", "Steady.", lead)
    app = run("pages/data_quality.py")
    app.session_state["dq_audit"] = True  # the log's table, drawn once its expander is opened
    audit = app.run().dataframe[-1].value
    assert list(audit["actor"]) == ["placelead@example.nhs.uk"] and list(audit["action"]) == ["narrative saved"]


@pytest.fixture
def leads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two discharge group leads: one covering West Yorkshire ICB (Harrogate's, as NHS England attributes it),
    one Humber and North Yorkshire."""
    for name in ("trusts.csv", "ambitions.csv"):
        shutil.copy(REFERENCE_FIXTURES / name, tmp_path / name)
    (tmp_path / "users.csv").write_text("principal,role,covers\nhny@nhs.test,group_lead,QOQ\n"
                                        "wy@nhs.test,group_lead,QWO\n", encoding="utf-8")
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(tmp_path))


def test_a_group_lead_moves_baselines_of_their_trusts_only(step: Path, leads: None) -> None:
    own = run("pages/trust.py", {"is_logged_in": True, "email": "wy@nhs.test"}, True,
              trust="RCD", metric="stranded_7plus_pct", spc="true")
    assert not [w for w in own.text_input if w.label == "Your name"]  # the name is the token's
    labelled(own.date_input, "Recalculate limits from").set_value(date(2024, 4, 15))
    labelled(own.button, "Save SPC settings").click().run()
    assert not own.exception
    assert query(step, "SELECT set_by FROM spc_settings") == [("wy@nhs.test",)]
    assert query(step, "SELECT actor, action, org_code FROM audit_log") == [
        ("wy@nhs.test", "spc_settings_changed", "RCD")]
    other = run("pages/trust.py", {"is_logged_in": True, "email": "hny@nhs.test"}, True,
                trust="RCD", metric="stranded_7plus_pct", spc="true")
    assert not other.exception and not [b for b in other.button if b.label == "Save SPC settings"]
    assert any("needs the discharge group lead role for this trust" in c.value for c in other.caption)


def test_3_an_unverified_email_sees_why_it_has_no_role(two_weeks: Path) -> None:
    app = run("pages/weekly_position.py", {"is_logged_in": True, "email": "placelead@example.nhs.uk",
                                           "email_verified": False, "sub": "u-77"}, True)
    [warning] = app.warning
    assert "has not verified the email address placelead@" in warning.value and "(sub u-77)" in warning.value
    assert not app.dataframe and not app.get("plotly_chart")


def test_6_a_session_past_its_hours_or_signed_out_shows_the_sign_in_page(two_weeks: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lead = {"is_logged_in": True, "email": "placelead@example.nhs.uk"}
    monkeypatch.setenv("FLOW_SESSION_HOURS", "0.01")  # 36 seconds; the token was issued 60 seconds ago
    app = run("pages/narrative.py", lead, True, trust="RCB")
    assert [b.label for b in app.button] == ["Sign in"] and not app.text_area
    assert any("Your sign-in ended at" in i.value for i in app.info)
    monkeypatch.delenv("FLOW_SESSION_HOURS")
    identity = access.identity_from_claims(token(lead), auth.users())
    live_sessions.sign_out(two_weeks, identity)  # in another tab, or on another server
    app = run("pages/narrative.py", lead, True, trust="RCB")
    assert [b.label for b in app.button] == ["Sign in"] and any("You signed out at" in i.value for i in app.info)


def test_6_an_expired_id_token_saves_no_narrative_and_no_spc_settings(step: Path, leads: None) -> None:
    """Pages stay readable for the session's hours, but a write needs the ID token unexpired: each save says so
    (not "the disk may be full"), keeps what was typed and stores nothing."""
    now = int(time.time())
    expired = {"is_logged_in": True, "email": "wy@nhs.test", "iat": now - 60, "exp": now - 1}
    narrative = run("pages/narrative.py", expired, True, group="all")
    [box] = [b for b in narrative.text_area if b.label == "Stranded: occupied beds with LoS 7+ days"]
    box.input("Saved with an expired token.")
    [save] = [b for b in narrative.button if b.label == "Save"]
    save.click().run()
    assert not narrative.exception
    [error] = narrative.error
    assert error.value.startswith("Nothing was saved. Your sign-in token expired at")
    assert [b.value for b in narrative.text_area if b.label == box.label] == ["Saved with an expired token."]
    trust = run("pages/trust.py", expired, True, trust="RCD", metric="stranded_7plus_pct", spc="true")
    labelled(trust.date_input, "Recalculate limits from").set_value(date(2024, 4, 15))
    labelled(trust.button, "Save SPC settings").click().run()
    assert not trust.exception
    assert [e.value[:48] for e in trust.error] == ["Nothing was saved. Your sign-in token expired at"]
    assert query(step, "SELECT count(*) FROM narratives") == [(0,)]
    assert query(step, "SELECT count(*) FROM spc_settings") == [(0,)]
    assert query(step, "SELECT count(*) FROM audit_log") == [(0,)]
