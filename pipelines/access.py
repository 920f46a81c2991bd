"""Who may do what: identities, roles, the permission rules and the audit log. No Streamlit here.

Every function that writes (ingest, narrative save, SPC settings) takes the acting ``Identity`` and
asks ``require`` before writing, so a rule holds whatever the page shows. Roles come from
``reference_data/users.csv`` (``principal,role,covers``), matched against the signed-in user's
email (from the identity token) or against a group in the token's ``groups`` claim:

- viewer: reads every page and download;
- place_lead: writes the place lead's narrative of the trusts it covers;
- submitter: uploads sitrep files, with rows only for the trusts it covers;
- group_lead (discharge group lead or analyst): the system narrative, and the SPC baselines and
  recalculation dates of the trusts it covers;
- admin: all of it, including NHS England publication files (which add trusts and figures for any).

``covers`` lists trust ODS codes and ICB codes (an ICB stands for its trusts in trusts.csv),
separated by spaces or semicolons, or ``*`` for every trust. A user matching several rows has
all their rights.
"""
from __future__ import annotations

import fnmatch
import getpass
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines import config

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
}
# Which roles may do each action (for trust actions: for the trusts their grant covers).
RULES: dict[str, frozenset[str]] = {
    "edit_trust_narrative": frozenset({"place_lead", "admin"}),
    "edit_system_narrative": frozenset({"group_lead", "admin"}),
    "upload_file": frozenset({"submitter", "admin"}),
    "submit_rows": frozenset({"submitter", "admin"}),
    "upload_publication": frozenset({"admin"}),
    "change_spc": frozenset({"group_lead", "admin"}),
}
_DOING = {"edit_trust_narrative": "edit the narrative of", "edit_system_narrative": "edit the system narrative",
          "upload_file": "upload files", "submit_rows": "submit figures for",
          "upload_publication": "load NHS England publication files (administrators only)",
          "change_spc": "change the SPC settings of"}

class AccessDenied(PermissionError):
    """The acting identity may not do this; the message says so plainly and can be shown as it is."""


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
    source: str  # token | single_analyst | public | server
    grants: tuple[Grant, ...]

    @property
    def roles(self) -> list[str]:
        return sorted({g.role for g in self.grants}, key=ROLES.index)

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
    principal: str  # an email (wildcards allowed: *@nhs.net) or group:<name or Entra object id>
    role: str
    org_codes: frozenset[str] | None


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
        if not principal:
            raise ValueError(f"{path.name} row {row_number}: the principal (email or group:name) is empty")
        if role not in ROLES:
            raise ValueError(f"{path.name} row {row_number}: {role!r} is not a role (one of {', '.join(ROLES)})")
        if covers == "*" or role == "admin":
            rules.append(UserRule(principal.lower(), role, None))
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
        rules.append(UserRule(principal.lower(), role, frozenset(codes)))
    return rules


def token_email(claims: Mapping[str, object]) -> str:
    """The user's email from ID-token claims (Microsoft Entra ID puts it in preferred_username or upn
    when the optional email claim is not configured)."""
    for claim in ("email", "preferred_username", "upn"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return ""


def identity_from_claims(claims: Mapping[str, object], rules: Iterable[UserRule]) -> Identity:
    """The signed-in user's identity: their email from the token, and a grant for every users-file
    rule matching that email or one of the token's ``groups``. No match: no grants (no access)."""
    email = token_email(claims)
    raw_groups = claims.get("groups") or []
    groups = {str(g).lower() for g in (raw_groups if isinstance(raw_groups, list) else [raw_groups])}
    grants: list[Grant] = []
    for rule in rules:
        if rule.principal.startswith("group:"):
            matched = rule.principal.removeprefix("group:") in groups
        else:
            matched = bool(email) and fnmatch.fnmatchcase(email, rule.principal)
        if matched and Grant(rule.role, rule.org_codes) not in grants:
            grants.append(Grant(rule.role, rule.org_codes))
    subject = claims.get("sub")
    name = email or (f"subject {subject}" if subject else "unknown user")
    return Identity(name, "token", tuple(grants))


# --- Audit ---------------------------------------------------------------------------------

# How the audit table on the data quality page says them (the log keeps the codes).
AUDIT_ACTION_WORDS = {"file_received": "file received", "narrative_saved": "narrative saved",
                      "spc_settings_changed": "SPC settings changed"}
ACTOR_SOURCE_WORDS = {"token": "signed in", "single_analyst": "name typed (no sign-in)", "server": "command line"}


def record(con: duckdb.DuckDBPyConnection, identity: Identity, action: str, org_code: str | None, detail: str,
           *, at: datetime | None = None) -> None:
    """One audit row, written in the same transaction as the change it records."""
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?)",
                [at or config.uk_now(), identity.name, identity.source, action, org_code, detail])


def audit_entries(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pl.DataFrame:
    """The latest audit rows, newest first (empty for a database written before the audit log), in
    words: 'file received', 'command line', and no trust left blank (a table showed 'None')."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log'").fetchall()
    if not found[0][0]:
        return pl.DataFrame(schema={"recorded_at": pl.Datetime("us"), "actor": pl.String, "actor_source": pl.String,
                                    "action": pl.String, "org_code": pl.String, "detail": pl.String})
    entries = con.sql("SELECT * FROM audit_log ORDER BY recorded_at DESC LIMIT ?", params=[limit]).pl()
    return entries.with_columns(pl.col("action").replace(AUDIT_ACTION_WORDS),
                                pl.col("actor_source").replace(ACTOR_SOURCE_WORDS), pl.col("org_code").fill_null(""))
