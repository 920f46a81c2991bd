"""Signed-in sessions: when one ends, on every tab and every server.

Streamlit keeps a sign-in in a cookie for 30 days and signing out clears it in one browser only: a
second tab, a second server of a scale-out or a copied cookie stayed signed in. So the dashboard
decides itself whether a session is live, from the ID token's claims Streamlit keeps:

- signing out records the user (issuer and subject) and the moment in the ``signed_out`` table of
  the database, which every server reads: any session of that user whose token was issued before
  then is over, wherever it is;
- a session lasts ``config.session_hours()`` from the token's ``iat`` (issued at), however long the
  cookie would last;
- a write (upload, narrative, SPC settings) also needs the ID token itself unexpired (``exp``).

Pages check on every run (pipelines.live_sessions: a cheap read, cached until the database file
changes, as a sign-out swaps it in); writes check again inside their write session, so nothing is
saved by a session that has ended. No Streamlit and no database files here: the access layer uses it.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb

from pipelines import config

SIGNED_OUT_SQL = """CREATE TABLE IF NOT EXISTS signed_out (
    subject VARCHAR NOT NULL,        -- issuer and subject of the ID token: one user of one provider
    signed_out_at DOUBLE NOT NULL,   -- seconds since 1970 (UTC), as the token's iat and exp
    recorded_at TIMESTAMP NOT NULL   -- UK local time, as the audit log
)"""


@dataclass(frozen=True)
class SignIn:
    """What the ID token says about the session: whose it is, when it was issued and until when it holds."""
    subject: str
    issued_at: float
    expires_at: float


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def sign_in_from_claims(claims: Mapping[str, object]) -> SignIn | None:
    """The session of ID-token claims; None when the token lacks sub, iat or exp (every OpenID Connect
    ID token has them: without them no session can be checked, so none is accepted)."""
    subject, issued, expires = claims.get("sub"), _number(claims.get("iat")), _number(claims.get("exp"))
    if not subject or issued is None or expires is None:
        return None
    return SignIn(f"{claims.get('iss') or ''} {subject}", issued, expires)


def _uk_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, ZoneInfo("Europe/London")).strftime("%H:%M on %d/%m/%Y")


def signed_out_at(con: duckdb.DuckDBPyConnection, subject: str) -> float | None:
    """When the user last signed out (None: never, or a database from before sign-out was recorded)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'signed_out'").fetchall()
    if not exists[0][0]:
        return None
    return con.execute("SELECT max(signed_out_at) FROM signed_out WHERE subject = ?", [subject]).fetchall()[0][0]


def session_problem(sign_in: SignIn | None, signed_out: float | None, *, writing: bool,
                    now: float | None = None) -> str | None:
    """Why the session is over, in words for the user; None while it is live."""
    now = time.time() if now is None else now
    if sign_in is None:
        return "The sign-in provider's token does not say when it was issued and until when it holds, " \
               "so the dashboard cannot accept it."
    if signed_out is not None and sign_in.issued_at <= signed_out:
        return f"You signed out at {_uk_time(signed_out)}, which ends every session of yours: please sign in again."
    if now > (ends := sign_in.issued_at + config.session_hours() * 3600):
        return f"Your sign-in ended at {_uk_time(ends)} (a sign-in lasts {config.session_hours():g} hours): " \
               "please sign in again."
    if writing and now > sign_in.expires_at:
        return f"Your sign-in token expired at {_uk_time(sign_in.expires_at)}, so nothing can be saved with it: " \
               "please sign out and sign in again, then save."
    return None


def record_sign_out(con: duckdb.DuckDBPyConnection, sign_in: SignIn, at: float | None = None) -> None:
    """Every session of the user issued until now is over (inside a write session)."""
    con.execute(SIGNED_OUT_SQL)
    con.execute("INSERT INTO signed_out VALUES (?, ?, ?)",
                [sign_in.subject, time.time() if at is None else at, config.uk_now()])
