"""Who may do what: identities, roles, the permission rules and the audit log. No Streamlit here.

Every function that writes (ingest, narrative save, SPC settings) takes the acting ``Identity`` and
asks ``require`` before writing, so a rule holds whatever the page shows. Roles come from
``reference_data/users.csv`` (``principal,role,covers[,group]``), matched against the signed-in user's
email when the sign-in provider says it verified it (``email_verified``), their immutable id
(``id:<value>``, the claim ``config.id_claim()``), or a group in the token's ``groups`` claim;
never against names users can change themselves (``preferred_username``, ``upn``):

- viewer: reads every page and download;
- place_lead: writes the place lead's narrative of the trusts it covers;
- submitter: uploads sitrep files, with rows only for the trusts it covers;
- group_lead (discharge group lead or analyst): the system narrative, and the SPC baselines and
  recalculation dates of the trusts it covers;
- admin: all of it, including NHS England publication files (which add trusts and figures for any),
  and the discharge groups (pipelines.groups).

``covers`` lists trust ODS codes and ICB codes (an ICB stands for its trusts in trusts.csv),
separated by spaces or semicolons, or ``*`` for every trust. A user matching several rows has
all their rights. The optional ``group`` column names the discharge group the user sees first
(a ``group_id`` of groups.csv or saved in the browser; the first row that gives one wins).
"""
from __future__ import annotations

import fnmatch
import getpass
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines import config, sessions

log = logging.getLogger(__name__)

ROLES = ("viewer", "place_lead", "submitter", "group_lead", "admin")
ROLE_NAMES = {"viewer": "viewer", "place_lead": "place lead", "submitter": "submitter",
              "group_lead": "discharge group lead", "admin": "administrator"}

# Actions, and whether a rule also depends on the trust concerned.
ACTIONS = {
    "edit_trust_narrative": True,   # a place lead's comment on one trust
    "edit_system_narrative": False,  # the weekly table's narrative column
    "upload_file": False,            # send a sitrep file at all
    "submit_rows": True,             # rows of a sitrep file for one trust
    "upload_publication": False,     # NHS England's publication: figures and trusts for the whole country
    "change_spc": True,              # SPC baseline and recalculation dates of one trust
    "edit_groups": False,            # add, rename and change discharge groups
}
# Which roles may do each action (for trust actions: for the trusts their grant covers).
RULES: dict[str, frozenset[str]] = {
    "edit_trust_narrative": frozenset({"place_lead", "admin"}),
    "edit_system_narrative": frozenset({"group_lead", "admin"}),
    "upload_file": frozenset({"submitter", "admin"}),
    "submit_rows": frozenset({"submitter", "admin"}),
    "upload_publication": frozenset({"admin"}),
    "change_spc": frozenset({"group_lead", "admin"}),
    "edit_groups": frozenset({"admin"}),
}
_DOING = {"edit_trust_narrative": "edit the narrative of", "edit_system_narrative": "edit the system narrative",
          "upload_file": "upload files", "submit_rows": "submit figures for",
          "upload_publication": "load NHS England publication files (administrators only)",
          "change_spc": "change the SPC settings of",
          "edit_groups": "change the discharge groups (administrators only)"}

class AccessDenied(Exception):
    """The acting identity may not do this; the message says so plainly and can be shown as it is.
    Not a PermissionError: that is an OSError, which the pages and the command line take for the disk
    (ui.data.try_save said "the disk may be full" for an expired sign-in token)."""


@dataclass(frozen=True)
class Grant:
    role: str
    org_codes: frozenset[str] | None  # None: every trust

    @property
    def covers_all(self) -> bool:
        return self.org_codes is None or self.role == "admin"  # an administrator may do all of it


@dataclass(frozen=True)
class Identity:
    """Who is acting: ``name`` is what the audit log and saved narratives record."""
    name: str
    source: str  # token | single_analyst | public | server | first_start
    grants: tuple[Grant, ...]
    sign_in: sessions.SignIn | None = None  # signed in: the session, checked before every write
    unverified_email: str = ""  # an email the token gives but its provider did not verify (no role from it)
    group: str | None = None  # the discharge group shown first (users.csv ``group``), if any

    def describe(self) -> str:
        """'place lead (RCB, RCD); viewer' for the sidebar."""
        return "; ".join(ROLE_NAMES[g.role] + ("" if g.org_codes is None else f" ({', '.join(sorted(g.org_codes))})")
                         for g in self.grants) or "no role"


def single_analyst(name: str = "") -> Identity:
    """The embedded default without sign-in: one analyst on their own machine, with every right.
    The name is whatever they typed (recorded as such): there is nobody to tell apart."""
    return Identity(name.strip() or "single analyst (no sign-in)", "single_analyst", (Grant("admin", None),))


def public_viewer() -> Identity:
    """The public read-only mode: anyone may read, nobody may write."""
    return Identity("public (read-only)", "public", (Grant("viewer", None),))


def server_admin() -> Identity:
    """Whoever runs ``python -m pipelines`` on the server: an administrator (the command line is theirs)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name for this process's user id
        user = str(os.getuid())
    return Identity(f"server:{user}", "server", (Grant("admin", None),))


def first_start() -> Identity:
    """The dashboard itself, building its database from the bundled sample data on a first start (no
    person sent those files): an administrator, recorded as the first start rather than the command line."""
    return Identity("dashboard first start (bundled sample data)", "first_start", (Grant("admin", None),))


def may(identity: Identity, action: str, org_code: str | None = None) -> bool:
    """Whether the identity may do ``action`` (for a trust action: to ``org_code``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    for grant in identity.grants:
        if grant.role not in RULES[action]:
            continue
        if not ACTIONS[action] or grant.covers_all or org_code in (grant.org_codes or ()):
            return True
    return False


def require(identity: Identity, action: str, org_code: str | None = None) -> None:
    """Raise AccessDenied with a plain message unless the identity may do it."""
    if not may(identity, action, org_code):
        what = _DOING[action] + (f" {org_code}" if ACTIONS[action] and org_code else "")
        raise AccessDenied(f"{identity.name} ({identity.describe()}) may not {what}.")


def trusts_covered(identity: Identity, action: str) -> frozenset[str] | None:
    """The trusts the identity may do a trust action to (None: all of them)."""
    codes: set[str] = set()
    for grant in identity.grants:
        if grant.role in RULES[action]:
            if grant.covers_all or grant.org_codes is None:
                return None
            codes |= grant.org_codes
    return frozenset(codes)


# --- Users file and token claims ------------------------------------------------------------

@dataclass(frozen=True)
class UserRule:
    principal: str  # an email (wildcards allowed: *@nhs.net), id:<immutable user id> or group:<name or Entra id>
    role: str
    org_codes: frozenset[str] | None
    group: str | None = None  # the discharge group the user sees first


def users_file(reference_dir: Path | None = None) -> Path:
    return (reference_dir or config.reference_dir()) / "users.csv"


def read_users(path: Path, trusts: pl.DataFrame | None = None) -> list[UserRule]:
    """The rules of a users file; a ValueError naming the row for anything it cannot mean."""
    trusts = trusts if trusts is not None else pl.read_csv(path.parent / "trusts.csv", infer_schema=False)
    trust_codes = set(trusts["org_code"])
    icbs: dict[str, set[str]] = {}
    for code, icb in trusts.select("org_code", "icb_code").iter_rows():
        icbs.setdefault(icb, set()).add(code)
    table = pl.read_csv(path, infer_schema=False, comment_prefix="#").fill_null("")
    missing = {"principal", "role", "covers"} - set(table.columns)
    if missing:
        raise ValueError(f"{path.name}: the columns {', '.join(sorted(missing))} are missing "
                         "(expected principal,role,covers)")
    rules = []
    for row_number, row in enumerate(table.iter_rows(named=True), start=2):
        principal, role, covers = row["principal"].strip(), row["role"].strip().lower(), row["covers"].strip()
        group = row.get("group", "").strip() or None
        if not principal:
            raise ValueError(f"{path.name} row {row_number}: the principal (email, id:value or group:name) is empty")
        if role not in ROLES:
            raise ValueError(f"{path.name} row {row_number}: {role!r} is not a role (one of {', '.join(ROLES)})")
        if covers == "*" or role == "admin":
            rules.append(UserRule(principal.lower(), role, None, group))
            continue
        codes: set[str] = set()
        for written in covers.replace(";", " ").split():
            code = written.upper()
            if code in trust_codes:
                codes.add(code)
            elif code in icbs:
                codes |= icbs[code]
            else:
                raise ValueError(f"{path.name} row {row_number}: {code!r} is neither a trust nor an ICB code "
                                 "of trusts.csv")
        if not codes and role != "viewer":
            raise ValueError(f"{path.name} row {row_number}: a {ROLE_NAMES[role]} must cover some trusts "
                             "(trust or ICB codes, or *)")
        rules.append(UserRule(principal.lower(), role, frozenset(codes), group))
    return rules


def _claimed_email(claims: Mapping[str, object]) -> str:
    value = claims.get("email")
    return value.strip().lower() if isinstance(value, str) and "@" in value else ""


def token_email(claims: Mapping[str, object]) -> str:
    """The user's email from ID-token claims, only when the provider says it verified it
    (``email_verified`` true). Never ``preferred_username`` or ``upn``: a user can change those in
    Microsoft Entra ID (list such users by their ``id:`` instead, see ``config.id_claim``)."""
    verified = claims.get("email_verified")
    return _claimed_email(claims) if verified is True or str(verified).lower() == "true" else ""


def identity_from_claims(claims: Mapping[str, object], rules: Iterable[UserRule],
                         id_claim: str | None = None) -> Identity:
    """The signed-in user's identity: a grant for every users-file rule matching their verified
    email, their immutable id (``id:`` rows, the claim ``id_claim``, default ``config.id_claim()``)
    or one of the token's ``groups``. No match: no grants (no access)."""
    email = token_email(claims)
    id_claim = id_claim or config.id_claim()
    user_id = str(claims.get(id_claim) or "").strip().lower()
    raw_groups = claims.get("groups") or []
    groups = {str(g).lower() for g in (raw_groups if isinstance(raw_groups, list) else [raw_groups])}
    grants: list[Grant] = []
    group = None
    for rule in rules:
        if rule.principal.startswith("group:"):
            matched = rule.principal.removeprefix("group:") in groups
        elif rule.principal.startswith("id:"):
            matched = bool(user_id) and rule.principal.removeprefix("id:").strip() == user_id
        else:
            matched = bool(email) and fnmatch.fnmatchcase(email, rule.principal)
        if matched and Grant(rule.role, rule.org_codes) not in grants:
            grants.append(Grant(rule.role, rule.org_codes))
        group = group or (rule.group if matched else None)
    name = email or (f"{id_claim} {user_id}" if user_id else "unknown user")
    unverified = "" if email else _claimed_email(claims)
    return Identity(name, "token", tuple(grants), sessions.sign_in_from_claims(claims), unverified, group)


# --- Audit ---------------------------------------------------------------------------------

# Every audit action (the codes the log keeps) and how the audit table on the data quality page says it.
AUDIT_ACTION_WORDS = {"file_received": "file received", "narrative_saved": "narrative saved",
                      "spc_settings_changed": "SPC settings changed", "database_restored": "database restored",
                      "audit_chain_broken": "audit log found altered", "signed_out": "signed out",
                      "group_saved": "discharge group saved"}
ACTOR_SOURCE_WORDS = {"token": "signed in", "single_analyst": "name typed (no sign-in)", "server": "command line",
                      "first_start": "first start"}
_CONTENT = ("recorded_at", "actor", "actor_source", "action", "org_code", "detail")


def entry_hash(entry: int, content: tuple, previous_hash: str) -> str:
    """The seal of one audit row: SHA-256 over its number, its content and the previous row's seal, so
    changing or removing any row breaks the seal of every row after it."""
    recorded_at, *rest = content
    text = json.dumps([entry, f"{recorded_at:%Y-%m-%d %H:%M:%S.%f}", *rest, previous_hash], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def last_seal(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(entries, seal of the last entry): what a write leaves outside the file as the head of the chain."""
    found = con.execute("SELECT entry, entry_hash FROM audit_log WHERE entry IS NOT NULL "
                        "ORDER BY entry DESC LIMIT 1").fetchall()
    return (found[0][0], found[0][1]) if found else (0, "")


def _append(con: duckdb.DuckDBPyConnection, contents: Sequence[tuple]) -> None:
    """Audit rows (``_CONTENT`` tuples, oldest first), each sealed to the one before it, in one INSERT: a
    statement a row cost the first start's 30 sample files 30 of them, and as many reads of the last seal."""
    last, previous = last_seal(con)
    values: list[object] = []
    for entry, content in enumerate(contents, start=last + 1):
        sealed = entry_hash(entry, content, previous)
        values += [*content, entry, previous, sealed]
        previous = sealed
    if contents:
        con.execute(f"INSERT INTO audit_log ({', '.join(_CONTENT)}, entry, previous_hash, entry_hash) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(contents)), values)


def require_live(con: duckdb.DuckDBPyConnection, identity: Identity) -> None:
    """AccessDenied unless a signed-in identity's session is live now: not signed out (on any tab or
    server), not older than a sign-in lasts, its ID token unexpired. Read inside the write session."""
    if identity.source != "token" or identity.sign_in is None:  # a token without a session never gets past the page
        return
    signed_out = sessions.signed_out_at(con, identity.sign_in.subject)
    if problem := sessions.session_problem(identity.sign_in, signed_out, writing=True):
        raise AccessDenied(f"Nothing was saved. {problem}")


def record(con: duckdb.DuckDBPyConnection, identity: Identity, action: str, org_code: str | None, detail: str,
           *, at: datetime | None = None, live: bool = True) -> None:
    """One audit row, written in the same transaction as the change it records, sealed to the row before;
    the change is refused (AccessDenied, the transaction rolled back by the caller) when the writer's
    session has ended (``live`` False: a sign-out, recorded whatever state the session is in)."""
    if live:
        require_live(con, identity)
    _append(con, [(at or config.uk_now(), identity.name, identity.source, action, org_code, detail)])


def record_each(con: duckdb.DuckDBPyConnection, identity: Identity, action: str,
                details: Sequence[tuple[datetime, str]]) -> None:
    """``record`` of each (time, detail) in turn, naming no trust, in one statement (a folder's files, each
    received)."""
    require_live(con, identity)
    _append(con, [(at, identity.name, identity.source, action, None, detail) for at, detail in details])


def seal_unsealed(con: duckdb.DuckDBPyConnection) -> int:
    """Seal the rows a file from before the seals holds (oldest first), once, when it is brought to this
    schema: the chain then starts from them. Returns how many were sealed."""
    rows = con.execute(f"SELECT rowid, {', '.join(_CONTENT)} FROM audit_log WHERE entry IS NULL "
                       "ORDER BY recorded_at, rowid").fetchall()
    for rowid, *content in rows:
        last, previous = last_seal(con)
        con.execute("UPDATE audit_log SET entry = ?, previous_hash = ?, entry_hash = ? WHERE rowid = ?",
                    [last + 1, previous, entry_hash(last + 1, tuple(content), previous), rowid])
    return len(rows)


@dataclass(frozen=True)
class AuditChain:
    """What checking the audit log's seals found: ``broken_at`` is the first entry that does not match."""
    entries: int
    broken_at: int | None = None
    why: str = ""
    alterations_recorded: int = 0  # earlier breaks the log itself records (audit_chain_broken rows)

    def describe(self) -> str:
        """'Audit log: 120 entries, chain intact' for the data quality page and the command line."""
        state = (f"broken at entry {self.broken_at:,} ({self.why})" if self.broken_at is not None
                 else "chain intact")
        earlier = (f"; {self.alterations_recorded} earlier alteration{'s' * (self.alterations_recorded != 1)} "
                   "recorded in the log" if self.alterations_recorded else "")
        return f"Audit log: {self.entries:,} entr{'ies' if self.entries != 1 else 'y'}, {state}{earlier}"


def audit_chain(con: duckdb.DuckDBPyConnection, head: tuple[int, str] | None = None) -> AuditChain:
    """Check every seal, in order; ``head`` (entries, seal of the last) is what the last write left
    outside the file (pipelines.warehouse.session), which shows rows removed from the end."""
    if not _has_audit_log(con):
        return AuditChain(0)
    rows = con.execute(f"SELECT entry, previous_hash, entry_hash, {', '.join(_CONTENT)} FROM audit_log "
                       "ORDER BY entry NULLS LAST, rowid").fetchall()
    recorded = sum(1 for row in rows if row[6] == "audit_chain_broken")
    previous = ""
    for expected, (entry, previous_hash, sealed, *content) in enumerate(rows, start=1):
        why = ("a row has no seal" if entry is None else f"entry {expected:,} is missing" if entry != expected
               else "the entry before it was changed or removed" if previous_hash != previous
               else "it was changed" if sealed != entry_hash(entry, tuple(content), previous) else "")
        if why:
            return AuditChain(len(rows), expected, why, recorded)
        previous = sealed
    if head is not None:
        entries, last_seal = head
        if len(rows) < entries:
            return AuditChain(len(rows), len(rows) + 1, f"entries {len(rows) + 1:,} to {entries:,} were removed",
                              recorded)
        if entries and rows[entries - 1][2] != last_seal:
            return AuditChain(len(rows), entries, "it is not the entry the last write left", recorded)
    return AuditChain(len(rows), None, "", recorded)


def note_broken_chain(con: duckdb.DuckDBPyConnection, head: tuple[int, str] | None) -> AuditChain:
    """Check the chain as a write session opens; a break not yet recorded is recorded in the log itself
    (the next write moves the head on, so a shortened log would otherwise look whole again)."""
    chain = audit_chain(con, head)
    if chain.broken_at is None:
        return chain
    log.error("the audit log is %s", chain.describe())
    detail = f"entry {chain.broken_at}: {chain.why}"
    if not con.execute("SELECT count(*) FROM audit_log WHERE action = 'audit_chain_broken' AND detail = ?",
                       [detail]).fetchall()[0][0]:
        record(con, Identity("integrity check", "server", ()), "audit_chain_broken", None, detail)
    return chain


def carry_forward(con: duckdb.DuckDBPyConnection, newer: list[tuple]) -> int:
    """Append the audit rows (``_CONTENT`` tuples, oldest first) of the file a restore replaces that the
    restored file lacks, sealed anew: a restore takes the data back, never the record of who did what."""
    kept = {tuple(row) for row in con.execute(f"SELECT {', '.join(_CONTENT)} FROM audit_log").fetchall()}
    missing = [row for row in newer if tuple(row) not in kept]
    _append(con, [tuple(row) for row in missing])
    return len(missing)


def audit_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every audit row's content, oldest first (for ``carry_forward``)."""
    return con.execute(f"SELECT {', '.join(_CONTENT)} FROM audit_log ORDER BY entry NULLS LAST, rowid").fetchall()


def _has_audit_log(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log'"
                            ).fetchall()[0][0])


def audit_entries(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pl.DataFrame:
    """The latest audit rows, newest first (empty for a database written before the audit log), in
    words: 'file received', 'command line', and no trust left blank (a table showed 'None')."""
    if not _has_audit_log(con):
        return pl.DataFrame(schema={"recorded_at": pl.Datetime("us"), "actor": pl.String, "actor_source": pl.String,
                                    "action": pl.String, "org_code": pl.String, "detail": pl.String})
    entries = con.sql(f"SELECT {', '.join(_CONTENT)} FROM audit_log ORDER BY entry DESC NULLS FIRST, recorded_at DESC "
                      "LIMIT ?", params=[limit]).pl()
    return entries.with_columns(pl.col("action").replace(AUDIT_ACTION_WORDS),
                                pl.col("actor_source").replace(ACTOR_SOURCE_WORDS), pl.col("org_code").fill_null(""))
