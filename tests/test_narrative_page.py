"""AppTest of the narrative page: the draft beside the saved text, saving with an author, the
history, narratives shown literally (never as Markdown or HTML), and the downloads."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers import load_rows_directly, query, week_of_rows
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest

from pipelines.catalogue.metrics import DEFAULT_ROWS
from pipelines.reports.narrative import save_narrative

ROOT = Path(__file__).resolve().parents[1]
SUNDAY_2 = date(2024, 4, 14)
FORM = "all-2024-04-14-system"  # the form of the all-trusts group's own narratives for the week
STRANDED = "stranded_7plus_pct"
STRANDED_LABEL = "Stranded: occupied beds with LoS 7+ days"
# Like for like: Harrogate alone sent both weeks (the combined 48% includes South Tees' first week).
STRANDED_DRAFT = ("Combined: 48%, over the ambition (< 40%), 3 points worse than last week (over the 1 that reported "
                  "both weeks). Both over the ambition: Harrogate 52% and South Tees 45%; "
                  "Harrogate worsened most, by 3 points.")


@pytest.fixture
def two_weeks(db: Path) -> Path:
    """Harrogate stranded 49% then 52%; South Tees 45% in the second week only."""
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=100, los_7plus=49)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=100, los_7plus=52)
                       + week_of_rows("RTR", date(2024, 4, 8), ga_beds_occupied=100, los_7plus=45))
    return db


def run_page(**query_params: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages/narrative.py"), default_timeout=page_run_guard_s())
    for name, value in query_params.items():
        app.query_params[name] = value
    return app.run()


def texts(app: AppTest) -> list[str]:
    return [t.value for t in app.text]


def box(app: AppTest, form: str = FORM, metric: str = STRANDED):
    return app.text_area(key=f"text-{form}-{metric}")


def save(app: AppTest, text: str, form: str = FORM, metric: str = STRANDED) -> AppTest:
    box(app, form, metric).input(text)
    return app.button(key=f"save-{form}").click().run()


def headings(app: AppTest) -> list[str]:
    """The one line over each box (escaped HTML, never Markdown)."""
    return [h.proto.body for h in app.get("html") if 'class="nh"' in h.proto.body]


def other_metrics(app: AppTest):
    """The folded section of the metrics not in the group's shown rows."""
    [other] = [e for e in app.expander if e.label.startswith("Other metrics")]
    return other


def saved_texts(db: Path, metric: str = STRANDED) -> list[tuple]:
    return query(db, "SELECT group_id, org_code, text, author FROM narratives WHERE metric = ? ORDER BY narrative_id",
                 [metric])


def test_every_metric_on_one_form_starting_from_the_drafts(two_weeks):
    app = run_page()
    assert not app.exception
    assert app.selectbox[0].value == "all" and app.selectbox[1].value == SUNDAY_2  # the group, then the latest week
    assert box(app).value == STRANDED_DRAFT  # each box starts from the draft
    assert box(app).label == STRANDED_LABEL  # its own label, read out by a screen reader
    assert len(app.text_area) == len(headings(app)) > 5  # every row shown
    assert [b.label for b in app.button][0] == "Save"  # above the boxes, so it is on the first screen
    # over each box, one line: the metric, draft or saved, the combined figure (HTML escaped), whole on hover
    line = "Stranded 7+ days</b> · draft · Combined 48% (ambition &lt; 40%), 3 points worse than last week"
    assert any(f"<b>{line}" in h and f'title="{line.replace("</b>", "")}' in h for h in headings(app))
    # the group's rows shown (the default 13) are the form; the other metrics are folded below, in the same form,
    # their boxes drawn once opened (a rerun: what was typed above is kept)
    shown = {b.key.removeprefix(f"text-{FORM}-") for b in app.text_area}
    assert shown and shown <= set(DEFAULT_ROWS) and not other_metrics(app).text_area
    app.session_state["narrative_other"] = True
    others = {b.key.removeprefix(f"text-{FORM}-") for b in other_metrics(app.run()).text_area}
    assert others and not others & set(DEFAULT_ROWS) and len(app.text_area) == len(shown) + len(others) > 10
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]  # a draft is never saved by itself
    # The administrators' group editor is drawn once opened (a group chosen: it starts folded)
    assert any(e.label.startswith("Discharge groups (administrators)") for e in app.expander)
    assert "Save group" not in [b.label for b in app.button] and not app.get("multiselect")[1:]
    app.session_state["group_editor"] = True
    assert "Save group" in [b.label for b in app.run().button]


def test_one_save_keeps_every_changed_box_and_the_history(two_weeks):
    app = run_page()
    app.text_input(key="narrative_author").input("Jo Smith")
    save(app, "Harrogate worse again; South Tees new to the table.")
    assert not app.exception
    drafted = len(app.text_area)  # the shown rows' drafts, as they stand (the other metrics folded, not drawn)
    assert [s.value for s in app.success] == [f"Saved {drafted} narratives of All trusts."]
    assert box(app).value == "Harrogate worse again; South Tees new to the table."
    assert any("<b>Stranded 7+ days</b> · saved by Jo Smith · Combined 48%" in h for h in headings(app))
    # Saving again changes only what was edited: one more version, of the stranded narrative alone
    save(app, "Second thoughts.")
    assert [s.value for s in app.success] == [f"Saved 1 narrative of All trusts: {STRANDED_LABEL}."]
    [history_section] = [e for e in app.expander if e.label.startswith("History")]
    assert not history_section.dataframe  # drawn once opened
    app.session_state["narrative_history"] = True
    [history_section] = [e for e in app.run().expander if e.label.startswith("History")]
    history = history_section.dataframe[0].value
    assert history_section.label == f"History of this week ({drafted + 1} saved versions)"
    assert history["text"][0] == "Second thoughts." and history["metric"][0] == STRANDED_LABEL  # newest first
    assert "Harrogate worse again; South Tees new to the table." in list(history["text"])
    assert saved_texts(two_weeks) == [("all", None, "Harrogate worse again; South Tees new to the table.", "Jo Smith"),
                                      ("all", None, "Second thoughts.", "Jo Smith")]
    # A folded metric's box is saved when edited, alone: the drafts beside it stay drafts
    app.session_state["narrative_other"] = True
    folded = other_metrics(app.run()).text_area[0]
    folded.input("Pathway 0 steady.")
    # Folded again before Save, its boxes stay drawn (hidden), so the browser keeps what was typed in them
    app.session_state["narrative_other"] = False
    assert [b.key for b in other_metrics(app.run()).text_area][0] == folded.key
    folded = other_metrics(app).text_area[0]
    folded.input("Pathway 0 steady.")
    app.button(key=f"save-{FORM}").click().run()
    assert [s.value for s in app.success] == [f"Saved 1 narrative of All trusts: {folded.label}."]
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(drafted + 2,)]


def test_saving_with_nothing_changed_says_so(two_weeks):
    app = run_page()
    app.text_input(key="narrative_author").input("Jo")
    save(app, STRANDED_DRAFT)
    app.button(key=f"save-{FORM}").click().run()
    assert [i.value for i in app.info] == ["Nothing to save: every box is as saved."]


def test_author_is_asked_before_saving(two_weeks):
    app = save(run_page(), "No name given.")
    assert [e.value for e in app.error] == [
        "Please give your name before saving: every saved narrative records its author."]
    assert box(app).value == "No name given."  # the text is not lost
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]


def test_too_long_a_narrative_is_refused_with_a_message_and_nothing_is_saved(two_weeks):
    app = run_page()
    app.text_input(key="narrative_author").input("Jo")
    save(app, "x" * 2050)
    assert [e.value for e in app.error] == ["The narrative is 2,050 characters long; the limit is 2,000. "
                                            "Please shorten it by 50 characters."]
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]  # not even the other metrics' drafts


def test_narrative_text_is_shown_literally(two_weeks, monkeypatch):
    tricky = "**Bold** <script>alert(1)</script> [click](http://evil.example) <b>html</b>"
    save_narrative(two_weeks, SUNDAY_2, STRANDED, None, tricky, "<i>Mallory</i> **M**")
    monkeypatch.setenv("FLOW_READ_ONLY", "1")  # read, not edited: the saved texts as text
    app = run_page()
    assert not app.exception
    assert f"{tricky}\n(saved by <i>Mallory</i> **M**)" in texts(app)  # st.text: no Markdown or HTML
    rendered = [m.value for m in app.markdown] + [c.value for c in app.caption]
    assert not any("evil.example" in m or "script" in m or "<i>" in m or "**M**" in m for m in rendered)
    assert not any("evil.example" in h or "script" in h or "<i>" in h for h in headings(app))
    assert any("saved by &lt;i&gt;Mallory&lt;/i&gt; **M**" in h for h in headings(app))  # the name, escaped


def test_place_lead_comment_for_one_trust(two_weeks):
    app = run_page(trust="RCD")
    assert not app.exception
    assert app.selectbox[2].value == "RCD"
    assert box(app, "all-2024-04-14-RCD").value == (
        "Harrogate: 52%, over the ambition (< 40%), 3 points worse than last week.")
    app.text_input(key="narrative_author").input("Place lead")
    save(app, "Harrogate: ward closures.", "all-2024-04-14-RCD")
    assert saved_texts(two_weeks) == [("all", "RCD", "Harrogate: ward closures.", "Place lead")]
    assert app.query_params["trust"] == "RCD"


def test_old_filters_from_the_url_pick_trusts_by_hand_and_nothing_is_saved(two_weeks):
    app = run_page(icb="NHS North East and North Cumbria ICB")
    assert app.selectbox[0].value == "pick"
    assert app.multiselect[0].value == ["NHS North East and North Cumbria ICB"]
    assert app.selectbox[2].options == ["The group's narrative (all its trusts)", "South Tees: place lead's comment"]
    assert ("Draft from the figures: Combined: 45%, over the ambition (< 40%), no figure for the week before. "
            "Over the ambition: South Tees 45%.") in texts(app)
    assert not app.get("form") or not [b for b in app.button if b.label == "Save"]  # drafts: no Save
    assert any("Trusts picked by hand" in c.value for c in app.caption)


def test_downloads_are_offered(two_weeks):
    app = run_page()
    # The narrative table's three files are drawn once their section is opened (not fetched by every new tab).
    assert not app.download_button
    assert any(e.label == "Download the narrative table: Excel, Word or CSV" for e in app.expander)
    app.session_state["narrative_downloads"] = True
    app.run()
    assert [b.label for b in app.download_button] == [
        "Narrative table: Excel (.xlsx)", "Narrative table: Word (.docx)", "Narrative table: CSV"]
    # The daily figures are drawn once their section is opened (collapsed at first, so the page opens faster).
    assert any(e.label.startswith("Underlying daily figures") for e in app.expander)
    assert not app.date_input and "daily_trust" not in [s.key for s in app.selectbox]
    app.session_state["daily_figures"] = True
    app.run()
    assert [b.label for b in app.download_button][-1] == "Daily figures (CSV)"
    assert app.selectbox(key="daily_trust").options == ["Harrogate (RCD)", "South Tees (RTR)"]
    assert app.date_input(key="daily_dates-2024-04-14").value == (date(2024, 4, 8), SUNDAY_2)


def test_without_a_database_says_how_to_load(db):
    app = run_page()
    assert not app.exception
    assert "No data yet" in app.info[0].value
