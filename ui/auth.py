"""Sign-in glue: which mode the dashboard runs in, who is acting, and what every page says about it.

Three modes (docs/operations.md, "Sign-in and roles"):
- ``[auth]`` in .streamlit/secrets.toml: OpenID Connect sign-in (st.login); nobody sees a figure
  before signing in, and roles come from reference_data/users.csv (pipelines.access);
- no ``[auth]``: one analyst on their own machine, full rights, and a notice on every page;
- no ``[auth]`` and ``FLOW_READ_ONLY=1`` (or ``read_only = true`` under ``[dashboard]`` in
  secrets.toml): public read-only, nobody uploads, edits or moves a baseline.
The rules themselves are enforced in pipelines; this module only decides whom to pass them.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from pipelines import access, config, live_sessions
from ui.safe_text import plain

log = logging.getLogger(__name__)

SIGNED_IN_NOTE = "Signed in"
NO_SIGN_IN_NOTICE = ("No sign-in: single-analyst mode, so anyone who opens this page can upload, edit and change "
                     "baselines (for a shared server see docs/operations.md, 'Sign-in and roles').")
READ_ONLY_NOTICE = "Public read-only view: uploading, editing narratives and changing SPC settings are switched off."


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name) or {})
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def auth_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section: sign-in is then required."""
    return bool(_secrets_section("auth"))


def read_only() -> bool:
    """The public read-only setting: $FLOW_READ_ONLY=1, or read_only = true under [dashboard] in secrets.toml."""
    if config.read_only_env():
        return True
    return bool(_secrets_section("dashboard").get("read_only", False))


@lru_cache(maxsize=4)
def _rules(path: Path, version: float) -> list[access.UserRule]:  # noqa: ARG001 - version: re-read when the file changes
    return access.read_users(path)


def users() -> list[access.UserRule]:
    """The users file's rules, read again whenever it changes (no restart needed to add a user)."""
    path = access.users_file()
    if not path.exists():
        return []
    return _rules(path, path.stat().st_mtime)


_ENDED = "sign_in_ended"  # session state: why the last session ended, said on the sign-in page


def _sign_in() -> None:
    st.title("Discharge and flow dashboard")
    if ended := st.session_state.get(_ENDED):
        st.info(plain(ended))
    st.write("Sign in with your organisation's account to see the figures.")
    st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")


def _sign_in_page(pages: Sequence[StreamlitPage] = ()) -> None:
    """The sign-in page, under every page's address (so a deep link shows it too, with no page list)."""
    # StreamlitPage has no public getter for a default page's own path (Streamlit 1.67 is pinned).
    routes = [st.Page(_sign_in, title="Sign in", url_path=page._url_path, default=page._default) for page in pages]
    st.navigation(routes or [st.Page(_sign_in, title="Sign in", default=True)], position="hidden").run()
    st.stop()


def _no_access_page(identity: access.Identity) -> None:
    st.title("Discharge and flow dashboard")
    if identity.unverified_email:
        st.warning(plain(f"You are signed in, but your sign-in provider has not verified the email address "
                         f"{identity.unverified_email}, so it gives no role on the dashboard. Ask the dashboard's "
                         f"administrator to add your account by its id ({identity.name}) in reference_data/users.csv, "
                         "or to have the address verified."))
    else:
        st.warning(plain(f"You are signed in as {identity.name}, but this account has no role on the dashboard yet. "
                         "Ask the dashboard's administrator to add you (reference_data/users.csv)."))
    st.button("Sign out", on_click=sign_out, args=(identity,))
    st.stop()


def sign_out(identity: access.Identity) -> None:
    """End every session of the user (every tab, every server: pipelines.sessions), then Streamlit's own."""
    try:
        live_sessions.sign_out(None, identity)
    except Exception:  # the database could not be written: this browser still signs out, and the log says so
        log.exception("sign-out of %s could not be recorded; other sessions of this user stay live", identity.name)
    st.logout()


def current_identity(pages: Sequence[StreamlitPage] = ()) -> access.Identity:
    """Who is acting in this session. With sign-in configured and nobody signed in (or an account
    without a role), the sign-in page is shown instead and the script stops here: no figure is drawn."""
    if auth_configured():
        if not st.user.get("is_logged_in"):
            _sign_in_page(pages)
        try:
            identity = access.identity_from_claims(st.user.to_dict(), users())
        except ValueError as problem:  # a broken users file: nobody gets in, and the message says why
            st.error(f"Sign-in is configured but the users file cannot be read: {problem}")
            st.stop()
        if ended := live_sessions.page_problem(identity.sign_in):  # signed out elsewhere, or too old
            st.session_state[_ENDED] = ended
            _sign_in_page(pages)
        if not identity.grants:
            _no_access_page(identity)
        return identity
    if read_only():
        return access.public_viewer()
    return access.single_analyst()


def gate(pages: Sequence[StreamlitPage]) -> access.Identity:
    """Run first on every page (dashboard.py, with its pages): the identity, and the mode said
    plainly in one line at the top of the page. Not in the sidebar: for one note it took 300 px
    (22%) of a 1366 px screen from the weekly table, whose trust names then broke mid-word."""
    identity = current_identity(pages)
    if identity.source == "token":
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            who = plain(f"{SIGNED_IN_NOTE} as {identity.name}: {identity.describe()}")
            st.caption(f":material/account_circle: {who}", width="content")
            st.button("Sign out", on_click=sign_out, args=(identity,), key="sign_out", icon=":material/logout:",
                      type="tertiary")
    elif identity.source == "public":
        st.caption(f":material/visibility: {READ_ONLY_NOTICE}")
    else:
        st.caption(f":material/lock_open: {NO_SIGN_IN_NOTICE}")
    return identity


def acting(typed_name: str) -> access.Identity:
    """The identity a write is made as: the signed-in one, or without sign-in the name the analyst typed."""
    identity = current_identity()
    return access.single_analyst(typed_name) if identity.source == "single_analyst" else identity


def author_field(container, key: str, help_text: str, *, compact: bool = False) -> str | None:  # noqa: ANN001 - any Streamlit container
    """Without sign-in, the analyst's name (asked once, kept for the session); signed in, no field:
    the name is the token's. Returns the typed name, or None when signed in. ``compact``: the label
    inside the empty box (still the field's accessible name), for a form that must fit one screen."""
    identity = current_identity()
    if identity.source != "single_analyst":
        container.text(f"Saving as {identity.name} (signed in)")
        return None
    return container.text_input("Your name", key=key, persist_state="session", help=help_text,
                                placeholder=f"Your name: {help_text[0].lower()}{help_text[1:]}" if compact else None,
                                label_visibility="collapsed" if compact else "visible") or ""
