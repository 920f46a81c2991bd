"""Who may do what (issue 15): the permission rules for every role, action and own/other trust; the
users file and token claims; and the rules enforced where data is written, with the audit log."""
from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import NHSE_FIXTURES, REFERENCE_FIXTURES, load_rows_directly, query, week_of_rows, write_csv

from pipelines import access, config
from pipelines.ingest.load import ensure_database, ingest_paths
from pipelines.ingest.upload import load_uploads
from pipelines.reports.narrative import save_narrative
from pipelines.spc.store import save_spc_settings

OWN, OTHER = "RCB", "RCD"  # York and Scarborough; Harrogate
SUNDAY = date(2024, 4, 7)

# The table, written out: role -> action -> (allowed for its own trust, allowed for another).
# Discharge groups (issue 21) are changed by administrators only.
EXPECTED = {
    "viewer": {"edit_trust_narrative": (0, 0), "edit_system_narrative": (0, 0), "upload_file": (0, 0),
               "submit_rows": (0, 0), "upload_publication": (0, 0), "change_spc": (0, 0), "edit_groups": (0, 0)},
    "place_lead": {"edit_trust_narrative": (1, 0), "edit_system_narrative": (0, 0), "upload_file": (0, 0),
                   "submit_rows": (0, 0), "upload_publication": (0, 0), "change_spc": (0, 0), "edit_groups": (0, 0)},
    "submitter": {"edit_trust_narrative": (0, 0), "edit_system_narrative": (0, 0), "upload_file": (1, 1),
                  "submit_rows": (1, 0), "upload_publication": (0, 0), "change_spc": (0, 0), "edit_groups": (0, 0)},
    "group_lead": {"edit_trust_narrative": (0, 0), "edit_system_narrative": (1, 1), "upload_file": (0, 0),
                   "submit_rows": (0, 0), "upload_publication": (0, 0), "change_spc": (1, 0), "edit_groups": (0, 0)},
    "admin": {"edit_trust_narrative": (1, 1), "edit_system_narrative": (1, 1), "upload_file": (1, 1),
              "submit_rows": (1, 1), "upload_publication": (1, 1), "change_spc": (1, 1), "edit_groups": (1, 1)},
}


def person(role: str, covers: frozenset[str] | None = frozenset({OWN})) -> access.Identity:
    return access.Identity(f"{role}@nhs.test", "token", (access.Grant(role, covers),))


@pytest.mark.parametrize(("role", "action", "whose"),
                         list(itertools.product(access.ROLES, access.ACTIONS, ("own", "other"))))
def test_every_role_action_and_trust(role: str, action: str, whose: str) -> None:
    allowed = bool(EXPECTED[role][action][whose == "other"])
    who = person(role)
    assert access.may(who, action, OWN if whose == "own" else OTHER) is allowed
    if allowed:
        access.require(who, action, OWN if whose == "own" else OTHER)
    else:
        with pytest.raises(access.AccessDenied, match=f"{role}@nhs.test .* may not"):
            access.require(who, action, OWN if whose == "own" else OTHER)


def test_the_table_covers_every_role_and_action() -> None:
    assert set(EXPECTED) == set(access.ROLES)
    assert all(set(actions) == set(access.ACTIONS) for actions in EXPECTED.values())


@pytest.mark.parametrize("action", list(access.ACTIONS))
def test_modes_without_sign_in(action: str) -> None:
    """Single analyst: everything; public read-only: nothing; a signed-in user without a role: nothing."""
    assert access.may(access.single_analyst("Sam"), action, OTHER)
    assert not access.may(access.public_viewer(), action, OWN)
    assert not access.may(access.identity_from_claims({"email": "nobody@nhs.test"}, []), action, OWN)


def test_a_grant_for_every_trust_and_several_grants_add_up() -> None:
    lead = access.Identity("x", "token", (access.Grant("place_lead", frozenset({OWN})),
                                          access.Grant("group_lead", None)))
    assert access.may(lead, "change_spc", "RTR") and access.may(lead, "edit_trust_narrative", OWN)
    assert not access.may(lead, "edit_trust_narrative", OTHER)
    assert access.trusts_covered(lead, "change_spc") is None
    assert access.trusts_covered(lead, "edit_trust_narrative") == {OWN}


USERS = """principal,role,covers
# comments are allowed
lead@nhs.test,place_lead,RCB
*@york.nhs.test,viewer,
group:0c1d2e3f-aaaa-bbbb-cccc-123456789abc,submitter,QWO
analyst@nhs.test,group_lead,*
"""


@pytest.fixture
def users(tmp_path: Path) -> list[access.UserRule]:
    (tmp_path / "users.csv").write_text(USERS, encoding="utf-8")
    return access.read_users(tmp_path / "users.csv", pl.read_csv(REFERENCE_FIXTURES / "trusts.csv", infer_schema=False))


def test_users_file_by_email_wildcard_and_group_claim(users: list[access.UserRule]) -> None:
    lead = access.identity_from_claims({"email": "Lead@NHS.test", "email_verified": True, "sub": "1"}, users)
    assert lead.name == "lead@nhs.test" and [g.role for g in lead.grants] == ["place_lead"]
    assert access.may(lead, "edit_trust_narrative", "RCB") and not access.may(lead, "edit_trust_narrative", "RCD")
    jo = access.identity_from_claims({"email": "jo@york.nhs.test", "email_verified": "true"}, users)
    assert [g.role for g in jo.grants] == ["viewer"]
    # Microsoft Entra ID: groups as object ids; an ICB stands for its trusts.
    bi = access.identity_from_claims({"oid": "5d1e", "groups": ["0C1D2E3F-aaaa-bbbb-cccc-123456789abc"]}, users)
    # West Yorkshire holds Harrogate (RCD), as NHS England attributes it
    assert access.trusts_covered(bi, "submit_rows") == {"RCF", "RAE", "RR8", "RXF", "RWY", "RCD"}
    assert access.identity_from_claims({"email": "stranger@nhs.test", "email_verified": True}, users).grants == ()


@pytest.mark.parametrize(("line", "message"), [
    ("x@nhs.test,superuser,*", "row 2: 'superuser' is not a role"),
    ("x@nhs.test,place_lead,ZZZ", "row 2: 'ZZZ' is neither a trust nor an ICB code"),
    ("x@nhs.test,submitter,", "row 2: a submitter must cover some trusts"),
    (",viewer,*", "row 2: the principal"),
])
def test_a_bad_users_file_names_the_row(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "users.csv").write_text(f"principal,role,covers\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        access.read_users(tmp_path / "users.csv", pl.read_csv(REFERENCE_FIXTURES / "trusts.csv", infer_schema=False))


def test_the_shipped_users_file_reads() -> None:
    assert access.read_users(REFERENCE_FIXTURES / "users.csv")


# --- Enforced where the data is written, and audited ----------------------------------------

@pytest.fixture
def week(db: Path) -> Path:
    load_rows_directly(db, week_of_rows(OWN, date(2024, 4, 1)) + week_of_rows(OTHER, date(2024, 4, 1)))
    return db


def test_a_place_lead_saves_own_trust_narrative_only(week: Path) -> None:
    lead = person("place_lead")
    save_narrative(week, SUNDAY, "stranded_7plus_pct", OWN, "York is steady.", lead)
    with pytest.raises(access.AccessDenied, match="may not edit the narrative of RCD"):
        save_narrative(week, SUNDAY, "stranded_7plus_pct", OTHER, "Harrogate text", lead)
    with pytest.raises(access.AccessDenied, match="may not edit the system narrative"):
        save_narrative(week, SUNDAY, "stranded_7plus_pct", None, "System text", lead)
    # The author is the identity from the token, and the save is in the audit log.
    assert query(week, "SELECT org_code, author FROM narratives") == [(OWN, "place_lead@nhs.test")]
    assert query(week, "SELECT actor, actor_source, action, org_code FROM audit_log") == [
        ("place_lead@nhs.test", "token", "narrative_saved", OWN)]


def test_spc_settings_by_group_lead_of_own_trusts_only(week: Path) -> None:
    lead = person("group_lead")
    save_spc_settings(week, OWN, "stranded_7plus_pct", None, [date(2024, 4, 7)], lead, "new service")
    with pytest.raises(access.AccessDenied):
        save_spc_settings(week, OTHER, "stranded_7plus_pct", None, [date(2024, 4, 7)], lead)
    with pytest.raises(access.AccessDenied):
        save_spc_settings(week, OWN, "stranded_7plus_pct", None, [], person("place_lead"))
    assert query(week, "SELECT org_code, set_by FROM spc_settings") == [(OWN, "group_lead@nhs.test")]
    assert query(week, "SELECT actor, action, org_code, detail FROM audit_log") == [
        ("group_lead@nhs.test", "spc_settings_changed", OWN,
         "stranded_7plus_pct: no baseline; recalculate from 07/04/2024; reason: new service")]


def test_a_submitters_rows_for_other_trusts_are_rejected_row_by_row(db: Path, tmp_path: Path) -> None:
    rows = week_of_rows(OWN, date(2024, 4, 1)) + week_of_rows(OTHER, date(2024, 4, 1))[:2]
    file = write_csv(tmp_path / "mixed.csv", rows)
    events = list(load_uploads([("mixed.csv", file.read_bytes())], db, today=date(2024, 5, 1),
                               actor=person("submitter")))
    outcome = events[-1]
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded_with_rejections", 7, 2)
    assert query(db, "SELECT DISTINCT org_code FROM sitrep_daily") == [(OWN,)]
    assert query(db, "SELECT source_row, rule, message FROM rejected_rows ORDER BY source_row") == [
        (row, "not_your_organisation", f"Row {row}: RCD is not one of the trusts submitter@nhs.test submits for "
                                       "(RCB); the row was not loaded.") for row in (9, 10)]
    assert query(db, "SELECT actor, action, detail FROM audit_log") == [
        ("submitter@nhs.test", "file_received", "file #1: loaded mixed.csv: 7 of 9 rows loaded, 2 rejected")]


def test_viewers_and_place_leads_cannot_upload(db: Path, tmp_path: Path) -> None:
    for role in ("viewer", "place_lead", "group_lead"):
        with pytest.raises(access.AccessDenied, match="may not upload files"):
            list(load_uploads([("x.csv", b"anything")], db, actor=person(role)))
    assert not db.exists()


def test_the_command_line_acts_as_the_server_administrator(db: Path, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "any.csv", week_of_rows(OTHER, date(2024, 4, 1)))
    [outcome] = list(ingest_paths([file], db, today=date(2024, 5, 1)))
    assert outcome.status == "loaded"
    [(actor, source)] = query(db, "SELECT actor, actor_source FROM audit_log")
    assert actor.startswith("server:") and source == "server"
    # The data quality page's table says it in words, with no 'None' for a whole file's missing trust.
    with duckdb.connect(str(db), read_only=True) as con:
        [entry] = access.audit_entries(con).to_dicts()
    assert (entry["actor_source"], entry["action"], entry["org_code"]) == ("command line", "file received", "")


def test_the_dashboards_first_start_build_is_named_as_such(db: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The database a first start builds from the bundled sample data was sent by nobody: the audit log
    says 'first start', not 'command line'."""
    sample = tmp_path / "sample"
    sample.mkdir()
    write_csv(sample / "sample.csv", week_of_rows(OTHER, date(2024, 4, 1)))
    monkeypatch.setattr(config, "SAMPLE_DIR", sample)
    assert ensure_database(db)
    with duckdb.connect(str(db), read_only=True) as con:
        [entry] = access.audit_entries(con).to_dicts()
    assert (entry["actor"], entry["actor_source"], entry["action"]) == (
        "dashboard first start (bundled sample data)", "first start", "file received")


def test_a_submitter_may_not_load_a_publication_file(db: Path) -> None:
    workbook = NHSE_FIXTURES / "acute-discharge-sitrep-2023-11.xlsx"
    events = list(load_uploads([(workbook.name, workbook.read_bytes())], db, actor=person("submitter")))
    assert events[-1].status == "rejected" and "only administrators" in events[-1].message
    assert query(db, "SELECT count(*) FROM nhse_daily") == [(0,)]


# --- Issue 22, item 3: roles only from a verified email or an immutable id ----------------------

def test_3_an_unverified_email_gets_no_role_and_says_why(users: list[access.UserRule]) -> None:
    for verified in (False, "false", None):
        claims = {"email": "lead@nhs.test", "sub": "u1", **({} if verified is None else {"email_verified": verified})}
        identity = access.identity_from_claims(claims, users)
        assert identity.grants == () and identity.unverified_email == "lead@nhs.test"
        assert identity.name == "sub u1"  # the audit log never records an unverified address as the actor


def test_3_names_users_can_change_never_give_a_role(users: list[access.UserRule]) -> None:
    """Entra ID lets users change preferred_username and upn: an account naming itself lead@nhs.test there
    gets nothing, verified email or not."""
    for claim in ("preferred_username", "upn"):
        identity = access.identity_from_claims({claim: "lead@nhs.test", "email_verified": True, "sub": "x"}, users)
        assert identity.grants == ()


def test_3_an_immutable_id_in_the_users_file_gives_the_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "users.csv").write_text("principal,role,covers\nid:5D1E-77,place_lead,RCB\n", encoding="utf-8")
    rules = access.read_users(tmp_path / "users.csv", pl.read_csv(REFERENCE_FIXTURES / "trusts.csv",
                                                                   infer_schema=False))
    monkeypatch.setenv("FLOW_ID_CLAIM", "oid")
    lead = access.identity_from_claims({"oid": "5d1e-77", "sub": "pairwise-1", "email": "changed@x.test"}, rules)
    assert [g.role for g in lead.grants] == ["place_lead"] and lead.name == "oid 5d1e-77"
    # the id must come from the configured claim: the same value as ``sub`` matches nothing
    assert access.identity_from_claims({"sub": "5d1e-77"}, rules).grants == ()
