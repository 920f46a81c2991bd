"""Sessions as the database records them: whether a page's session has ended, and signing out.

pipelines.sessions holds the rules (a sign-in's lifetime, the signed_out table); this module reads and
writes the database file for them, so it sits after the warehouse layer. No Streamlit here.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipelines import access, config, sessions
from pipelines.warehouse import DatabaseDamaged, connect_read, database_version, open_for_write


@lru_cache(maxsize=256)
def _signed_out_cached(db: Path, version: tuple[int, int], subject: str) -> float | None:  # noqa: ARG001 - version: the key
    con = connect_read(db)
    try:
        return sessions.signed_out_at(con, subject)
    finally:
        con.close()


def page_problem(sign_in: sessions.SignIn | None, db: Path | None = None) -> str | None:
    """``sessions.session_problem`` for a page run: the sign-out list read once per version of the database file
    (a sign-out swaps in a new one, so every server sees it on its next run)."""
    target = config.db_path(db)
    version = database_version(target)
    try:
        signed_out = _signed_out_cached(target, version, sign_in.subject) if sign_in and version else None
    except DatabaseDamaged:  # the page says so and how to restore; every write is refused by the damage itself
        signed_out = None
    return sessions.session_problem(sign_in, signed_out, writing=False)


def sign_out(db: Path | None, identity: access.Identity) -> None:
    """End every session of a signed-in user, on every tab and server (pipelines.sessions), and audit it."""
    if identity.sign_in is None:
        return
    with open_for_write(config.db_path(db)) as con:
        sessions.record_sign_out(con, identity.sign_in)
        access.record(con, identity, "signed_out", None, "every session of this user ended", live=False)
