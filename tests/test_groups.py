"""Discharge groups (issue 21): groups.csv and the groups saved in the browser, narratives and comments
kept per (group, week, metric) so two groups on one server never see or overwrite each other's text,
the migration of narratives saved before groups, and the weekly and narrative pages opened on a group."""
from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import REFERENCE_FIXTURES, load_rows_directly, query, week_of_rows, weekly_table_html
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_pages import weekly_table

from pipelines import access
from pipelines import groups as discharge_groups
from pipelines.reports import export, narrative
from pipelines.warehouse import connect_read, open_for_write

ROOT = Path(__file__).resolve().parents[1]
SUNDAY = date(2024, 4, 14)
FOUR = "york-harrogate-tees-airedale"  # DOMAIN.md section 1: York, Harrogate, South Tees and Airedale
FOUR_TRUSTS = ("RCB", "RCD", "RCF", "RTR")
STRANDED = "stranded_7plus_pct"
LEAD_A = access.Identity("lead.a@nhs.test", "token", (access.Grant("group_lead", None),))
LEAD_B = access.Identity("lead.b@nhs.test", "token", (access.Grant("group_lead", None),))
ADMIN = access.Identity("admin@nhs.test", "token", (access.Grant("admin", None),))


@pytest.fixture
def five_trusts(db: Path) -> Path:
    """The four trusts of the group and Hull (another ICB group's), each with two weeks of figures."""
    load_rows_directly(db, [row for code in (*FOUR_TRUSTS, "RWA") for monday in (date(2024, 4, 1), date(2024, 4, 8))
                            for row in week_of_rows(code, monday, ga_beds_occupied=100, los_7plus=45)])
    return db


def groups_of(db: Path) -> dict[str, discharge_groups.Group]:
    with connect_read(db) as con:
        return {g.group_id: g for g in discharge_groups.current_groups(con)}


def test_the_shipped_groups_one_per_icb_and_the_four_trusts_of_the_domain_brief():
    trusts = pl.read_csv(ROOT / "reference_data" / "trusts.csv")
    groups = discharge_groups.read_groups_file(ROOT / "reference_data" / "groups.csv", set(trusts["org_code"]))
    by_id = {g.group_id: g for g in groups}
    assert by_id[FOUR].org_codes == FOUR_TRUSTS
    assert by_id[FOUR].name == "York, Harrogate, South Tees and Airedale"
    assert trusts.filter(pl.col("org_code").is_in(FOUR_TRUSTS))["icb_code"].n_unique() == 3  # three ICBs
    for icb, members in trusts.group_by("icb_code"):
        assert by_id[f"icb-{icb[0].lower()}"].org_codes == tuple(sorted(members["org_code"]))
    assert len(groups) == 1 + trusts["icb_code"].n_unique()
    # the tests' reference data ships the same file
    assert (REFERENCE_FIXTURES / "groups.csv").read_text() == (ROOT / "reference_data" / "groups.csv").read_text()


@pytest.mark.parametrize("content, message", [
    ("group_id,name,org_code\nmine,Mine,XXX\n", "groups.csv row 2: XXX is not a known trust ODS code."),
    ("group_id,name,org_code\nmine,Mine,RCB\nmine,Other,RCD\n",
     "groups.csv row 3: the group 'mine' is named 'Mine' on an earlier row, 'Other' here"),
    ("group_id,name,org_code\nMy Group,Mine,RCB\n", "groups.csv row 2: 'My Group' is not a group id"),
    ("group_id,name,org_code\nall,Everyone,RCB\n", "groups.csv row 2: 'all' is the built-in group"),
    ("group_id,name\nmine,Mine\n", "groups.csv: the columns org_code are missing"),
])
def test_a_groups_file_problem_names_the_row(tmp_path: Path, content: str, message: str):
    (tmp_path / "groups.csv").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        discharge_groups.read_groups_file(tmp_path / "groups.csv", {"RCB", "RCD"})


def test_an_administrator_adds_and_changes_groups_and_each_save_is_audited(five_trusts: Path):
    assert list(groups_of(five_trusts))[0] == "all"  # the built-in group of every trust comes first
    discharge_groups.save_group(five_trusts, "coast", "Coast", ["rcb", "RWA"], ADMIN)
    discharge_groups.save_group(five_trusts, FOUR, "North discharge group", ["RCB", "RCD"], ADMIN)
    groups = groups_of(five_trusts)
    assert groups["coast"] == discharge_groups.Group("coast", "Coast", ("RCB", "RWA"))
    assert groups[FOUR] == discharge_groups.Group(FOUR, "North discharge group", ("RCB", "RCD"))  # the file's replaced
    assert groups["icb-qoq"].org_codes == ("RCB", "RJL", "RWA")  # the file's others stay
    assert query(five_trusts, "SELECT count(*) FROM discharge_groups") == [(2,)]  # every version kept
    audit = query(five_trusts, "SELECT actor, action, detail FROM audit_log ORDER BY recorded_at")
    assert [(a, b) for a, b, _ in audit] == [("admin@nhs.test", "group_saved")] * 2
    assert audit[1][2] == (f"discharge group {FOUR} changed from 'York, Harrogate, South Tees and Airedale': "
                           "RCB, RCD, RCF, RTR -> 'North discharge group': RCB, RCD")


def test_only_an_administrator_changes_groups_and_a_bad_group_is_refused(five_trusts: Path):
    with pytest.raises(access.AccessDenied, match="may not change the discharge groups"):
        discharge_groups.save_group(five_trusts, "coast", "Coast", ["RCB"], LEAD_A)
    with pytest.raises(ValueError, match="has no trusts"):
        discharge_groups.save_group(five_trusts, "coast", "Coast", [], ADMIN)
    with pytest.raises(ValueError, match="ZZZ is not a known trust"):
        discharge_groups.save_group(five_trusts, "coast", "Coast", ["RCB", "ZZZ"], ADMIN)
    assert query(five_trusts, "SELECT count(*) FROM discharge_groups") == [(0,)]


def test_a_new_groups_id_is_readable_and_unique():
    assert discharge_groups.new_group_id("York, Harrogate & Tees!", []) == "york-harrogate-tees"
    assert discharge_groups.new_group_id("Coast", ["coast", "coast-2"]) == "coast-3"
    assert discharge_groups.new_group_id("All", ["all"]) == "group-all"


def test_two_groups_on_one_server_never_see_or_overwrite_each_others_text(five_trusts: Path):
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, None, "The four: Harrogate over.", LEAD_A, group_id=FOUR)
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, None, "Humber: Hull steady.", LEAD_B, group_id="icb-qoq")
    york = access.Identity("york@nhs.test", "token", (access.Grant("place_lead", frozenset({"RCB"})),))
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, "RCB", "York: two wards shut.", york, group_id=FOUR)
    with connect_read(five_trusts) as con:
        def current(group_id: str | None) -> list[tuple]:
            frame = narrative.current_narratives(con, SUNDAY, group_id)
            return list(frame.select("org_code", "text", "author").iter_rows())

        assert current(FOUR) == [(None, "The four: Harrogate over.", "lead.a@nhs.test"),
                                 ("RCB", "York: two wards shut.", "york@nhs.test")]
        assert current("icb-qoq") == [(None, "Humber: Hull steady.", "lead.b@nhs.test")]
        assert current("all") == [] and current(None) == []  # nor the all-trusts view, nor trusts picked by hand
        assert narrative.narrative_history(con, SUNDAY, None, "icb-qoq")["text"].to_list() == ["Humber: Hull steady."]
        csv = pl.read_csv(io.BytesIO(export.render(con, SUNDAY, (), (), "csv", FOUR_TRUSTS, FOUR)))
    assert set(csv["org_code"].drop_nulls()) == set(FOUR_TRUSTS)  # the download takes the selection
    assert set(csv["narrative"].drop_nulls()) == {"The four: Harrogate over.", "York: two wards shut."}


def test_a_narrative_must_be_for_a_known_group_and_a_comment_for_one_of_its_trusts(five_trusts: Path):
    with pytest.raises(ValueError, match="'nowhere' is not a discharge group"):
        narrative.save_narrative(five_trusts, SUNDAY, STRANDED, None, "Text", LEAD_A, group_id="nowhere")
    with pytest.raises(ValueError, match="RWA is not one of the trusts of York, Harrogate, South Tees and Airedale"):
        narrative.save_narrative(five_trusts, SUNDAY, STRANDED, "RWA", "Hull", "Ann", group_id=FOUR)
    assert query(five_trusts, "SELECT count(*) FROM narratives") == [(0,)]


def as_before_groups(db: Path) -> None:
    """Make ``db`` a database of the schema before groups, with a narrative saved before groups existed."""
    with duckdb.connect(str(db)) as con:
        con.execute("DROP VIEW narrative_current; ALTER TABLE narratives DROP COLUMN group_id; "
                    "DROP TABLE discharge_groups; UPDATE schema_state SET ddl_hash = 'before groups'")
        con.execute("INSERT INTO narratives VALUES (1, ?, ?, NULL, 'Written for all 13 trusts.', 'Ann', now())",
                    [SUNDAY, STRANDED])


def test_narratives_saved_before_groups_move_to_the_all_trusts_group_once(five_trusts: Path):
    """A database of schema 6: narratives had no group. The selection they were written for was never
    recorded, so they go to 'all'; running the migration again changes nothing."""
    as_before_groups(five_trusts)
    with open_for_write(five_trusts):
        pass
    with open_for_write(five_trusts) as con:
        con.execute("UPDATE schema_state SET ddl_hash = 'before groups'")  # run the migration a second time
    with open_for_write(five_trusts):
        pass
    assert query(five_trusts, "SELECT narrative_id, group_id, text FROM narratives") == [
        (1, "all", "Written for all 13 trusts.")]
    with connect_read(five_trusts) as con:
        assert narrative.current_narratives(con, SUNDAY)["text"].to_list() == ["Written for all 13 trusts."]
        assert narrative.current_narratives(con, SUNDAY, FOUR).is_empty()


def test_the_dashboard_brings_an_older_database_up_to_date_before_a_page_reads_it(five_trusts: Path):
    """A server upgraded over a database of schema 6: the weekly page asked for the narratives' group and
    failed until something was written. The dashboard migrates the file once, first."""
    as_before_groups(five_trusts)
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=page_run_guard_s()).run()
    assert not app.exception
    assert "Discharge group (Ann): Written for all 13 trusts." in [t.value for t in app.text]
    assert query(five_trusts, "SELECT group_id FROM narratives") == [("all",)]


def test_a_users_default_group_from_the_users_file_else_from_the_trusts_their_role_covers(tmp_path: Path):
    for name in ("trusts.csv", "groups.csv"):
        shutil.copy(REFERENCE_FIXTURES / name, tmp_path / name)
    (tmp_path / "users.csv").write_text("principal,role,covers,group\nlead@nhs.test,group_lead,QOQ,york-harrogate-"
                                        "tees-airedale\nwy@nhs.test,group_lead,QWO,\nall@nhs.test,viewer,*,\n",
                                        encoding="utf-8")
    rules = access.read_users(tmp_path / "users.csv")
    trusts = pl.read_csv(tmp_path / "trusts.csv")
    groups = [discharge_groups.ALL, *discharge_groups.read_groups_file(tmp_path / "groups.csv",
                                                                       set(trusts["org_code"]))]

    def default(email: str) -> str:
        claims = {"email": email, "email_verified": True}
        return discharge_groups.default_group_id(access.identity_from_claims(claims, rules), groups)

    assert default("lead@nhs.test") == FOUR  # the users file's group column
    assert default("wy@nhs.test") == "icb-qwo"  # West Yorkshire's six trusts: the group sharing most of them
    assert default("all@nhs.test") == "all"  # every trust


# --- Pages -----------------------------------------------------------------------------------

def run(page: str, **query_params: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / page), default_timeout=page_run_guard_s())
    for name, value in query_params.items():
        app.query_params[name] = value
    return app.run()


def test_the_weekly_page_opens_a_group_from_its_link_with_the_groups_own_narrative(five_trusts: Path):
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, None, "Four-trust text.", "Ann", group_id=FOUR)
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, None, "All-trust text.", "Bob")
    app = run("pages/weekly_position.py", group=FOUR)
    assert not app.exception
    assert app.selectbox[0].value == FOUR
    assert list(weekly_table(app)[""])[3:] == ["Airedale", "Harrogate", "South Tees", "York and Scarborough"]
    shown = [t.value for t in app.text]
    assert "Discharge group (Ann): Four-trust text." in shown and not any("All-trust" in t for t in shown)
    assert [m.label for m in app.multiselect] == ["Rows shown"]  # no filters to narrow a group's trusts
    everyone = run("pages/weekly_position.py")
    assert everyone.selectbox[0].value == "all" and len(list(weekly_table(everyone)[""])) == 3 + 5
    assert "Discharge group (Bob): All-trust text." in [t.value for t in everyone.text]


def test_the_narrative_page_edits_the_groups_own_narratives(five_trusts: Path):
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, None, "Humber text.", "Bob", group_id="icb-qoq")
    app = run("pages/narrative.py", group=FOUR)
    form = f"{FOUR}-{SUNDAY}-system"
    assert app.text_area(key=f"text-{form}-{STRANDED}").value.startswith("Combined: 45%")  # a draft, not Humber's
    app.text_input(key="narrative_author").input("Ann")
    app.text_area(key=f"text-{form}-{STRANDED}").input("Four-trust text.")
    app.button(key=f"save-{form}").click().run()
    assert not app.exception and app.success[0].value.startswith("Saved ")
    assert query(five_trusts, "SELECT group_id, text FROM narratives WHERE metric = ? ORDER BY narrative_id",
                 [STRANDED]) == [("icb-qoq", "Humber text."), (FOUR, "Four-trust text.")]


def test_trusts_picked_by_hand_are_saved_as_a_group_by_an_administrator(five_trusts: Path):
    app = AppTest.from_file(str(ROOT / "pages/narrative.py"), default_timeout=page_run_guard_s())
    app.query_params["group"] = "pick"
    app.query_params["trusts"] = ["RCB", "RWA"]
    app.run()
    assert not app.exception and app.multiselect[2].value == ["RCB", "RWA"]
    assert not [b for b in app.button if b.label == "Save"]  # drafts until saved to a group
    [name] = [t for t in app.text_input if t.label == "Group name"]
    name.input("Coast")
    [save] = [b for b in app.button if b.label == "Save group"]
    save.click().run()
    assert not app.exception
    assert app.query_params["group"] == "coast" and app.selectbox[0].value == "coast"
    assert groups_of(five_trusts)["coast"].org_codes == ("RCB", "RWA")
    assert [b.label for b in app.button][0] == "Save"  # now the group's narratives can be saved
    assert query(five_trusts, "SELECT action, detail FROM audit_log") == [
        ("group_saved", "discharge group coast added -> 'Coast': RCB, RWA")]


def test_the_trust_drilldown_shows_the_comments_of_the_group_in_use(five_trusts: Path):
    """The drill-down showed only the 'all' group's place-lead comments, whichever group's table it was opened
    from. York (RCB) is in the four-trust group and in Humber's: each group's comment on it is its own."""
    york = access.Identity("york@nhs.test", "token", (access.Grant("place_lead", ("RCB",)),))
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, "RCB", "Four: two wards shut.", york, group_id=FOUR)
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, "RCB", "Humber: discharge hub open.", york,
                             group_id="icb-qoq")
    narrative.save_narrative(five_trusts, SUNDAY, STRANDED, "RCB", "All: no change.", york)

    def comments(**query: str) -> list[str]:
        app = run("pages/trust.py", trust="RCB", **query)
        assert not app.exception
        return [t.value for t in app.text if t.value.startswith("Place lead's comment")]

    label = "Place lead's comment on Stranded: occupied beds with LoS 7+ days (york@nhs.test)"
    assert comments(group=FOUR) == [f"{label}: Four: two wards shut."]
    assert comments(group="icb-qoq") == [f"{label}: Humber: discharge hub open."]
    assert comments() == [f"{label}: All: no change."]  # no group in the link: the user's default, every trust
    assert comments(group="pick") == []  # trusts picked by hand: drafts, never saved
    # the weekly table's links keep the group, so the drill-down opened from it shows the group's comments
    weekly = run("pages/weekly_position.py", group=FOUR)
    html = weekly_table_html(weekly)
    links = re.findall(r'href="(trust\?[^"]+)"', html)
    assert links and all(link.endswith(f"&amp;group={FOUR}") for link in links)
