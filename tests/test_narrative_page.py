"""AppTest of the narrative page: the draft beside the saved text, saving with an author, the
history, narratives shown literally (never as Markdown or HTML), and the downloads."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers import load_rows_directly, query, week_of_rows
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest

from pipelines.reports.narrative import save_narrative

ROOT = Path(__file__).resolve().parents[1]
SUNDAY_2 = date(2024, 4, 14)
STRANDED_KEY = "2024-04-14-system-stranded_7plus_pct"
# Like for like: Harrogate alone sent both weeks (the combined 48% includes South Tees' first week).
STRANDED_DRAFT = ("Combined: 48%, over the ambition (< 40%), 3 points worse than last week (over the 1 that reported "
                  "both weeks). Both over the ambition: Harrogate 52% and South Tees 45%; Harrogate worsened most, by 3 points.")


@pytest.fixture
def two_weeks(db: Path) -> Path:
    """Harrogate stranded 49% then 52%; South Tees 45% in the second week only."""
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=100, los_7plus=49)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=100, los_7plus=52)
                       + week_of_rows("RTR", date(2024, 4, 8), ga_beds_occupied=100, los_7plus=45))
    return db


def run_page(**query_params: str) -> AppTest:
    """The page for stranded patients, one metric at a time, unless the query says otherwise."""
    app = AppTest.from_file(str(ROOT / "pages/narrative.py"), default_timeout=page_run_guard_s())
    query_params = {"metric": "stranded_7plus_pct", **query_params}
    for name, value in query_params.items():
        app.query_params[name] = value
    return app.run()


def texts(app: AppTest) -> list[str]:
    return [t.value for t in app.text]


def save(app: AppTest, key: str, text: str) -> AppTest:
    app.text_area(key=f"text-{key}").input(text)
    return app.button(key=f"save-{key}").click().run()


def test_draft_beside_nothing_saved_yet(two_weeks):
    app = run_page()
    assert not app.exception
    assert app.selectbox[0].value == SUNDAY_2  # the latest complete week, as on the home page
    assert STRANDED_DRAFT in texts(app)
    assert app.text_area(key=f"text-{STRANDED_KEY}").value == STRANDED_DRAFT  # the edit box starts from the draft
    assert "Nothing saved yet for this week." in texts(app)
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]  # a draft is never saved by itself


def test_save_shows_who_saved_and_keeps_the_history(two_weeks):
    app = run_page()
    app.text_input(key="narrative_author").input("Jo Smith")
    save(app, STRANDED_KEY, "Harrogate worse again; South Tees new to the table.")
    assert not app.exception
    assert [s.value for s in app.success] == ["Saved the narrative for Stranded: occupied beds with LoS 7+ days."]
    shown = texts(app)
    assert "Harrogate worse again; South Tees new to the table." in shown
    assert any(t.startswith("Last saved by Jo Smith at ") for t in shown)
    assert [e.label for e in app.expander][0] == "History (1 saved version)"

    save(app, STRANDED_KEY, "Second thoughts.")
    assert "Second thoughts." in texts(app)
    assert [e.label for e in app.expander][0] == "History (2 saved versions)"
    history = app.expander[0].dataframe[0].value
    assert list(history["text"]) == ["Second thoughts.", "Harrogate worse again; South Tees new to the table."]
    assert list(history["author"]) == ["Jo Smith", "Jo Smith"]
    assert query(two_weeks, "SELECT org_code, author FROM narratives ORDER BY narrative_id") == [
        (None, "Jo Smith"), (None, "Jo Smith")]


def test_author_is_asked_before_saving(two_weeks):
    app = save(run_page(), STRANDED_KEY, "No name given.")
    assert [e.value for e in app.error] == ["Please give your name before saving: every saved narrative records its author."]
    assert app.text_area(key=f"text-{STRANDED_KEY}").value == "No name given."  # the text is not lost
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]


def test_too_long_a_narrative_is_refused_with_a_message(two_weeks):
    app = run_page()
    app.text_input(key="narrative_author").input("Jo")
    save(app, STRANDED_KEY, "x" * 2050)
    assert [e.value for e in app.error] == ["The narrative is 2,050 characters long; the limit is 2,000. "
                                            "Please shorten it by 50 characters."]
    assert query(two_weeks, "SELECT count(*) FROM narratives") == [(0,)]


def test_narrative_text_is_shown_literally(two_weeks):
    tricky = "**Bold** <script>alert(1)</script> [click](http://evil.example) <b>html</b>"
    save_narrative(two_weeks, SUNDAY_2, "stranded_7plus_pct", None, tricky, "<i>Mallory</i> **M**")
    app = run_page()
    assert not app.exception
    assert tricky in texts(app)  # st.text: no Markdown or HTML
    assert any(t.startswith("Last saved by <i>Mallory</i> **M** at ") for t in texts(app))
    rendered = [m.value for m in app.markdown] + [c.value for c in app.caption]
    assert not any("evil.example" in m or "script" in m or "Mallory" in m for m in rendered)


def test_place_lead_comment_for_one_trust(two_weeks):
    app = run_page(trust="RCD")
    assert not app.exception
    assert app.selectbox[1].value == "RCD"
    assert "Harrogate: 52%, over the ambition (< 40%), 3 points worse than last week." in texts(app)
    app.text_input(key="narrative_author").input("Place lead")
    save(app, "2024-04-14-RCD-stranded_7plus_pct", "Harrogate: ward closures.")
    assert query(two_weeks, "SELECT org_code, text FROM narratives") == [("RCD", "Harrogate: ward closures.")]
    assert app.query_params["trust"] == "RCD"


def test_filters_from_the_url_match_the_home_page(two_weeks):
    app = run_page(icb="NHS North East and North Cumbria ICB")
    assert app.multiselect[0].value == ["NHS North East and North Cumbria ICB"]
    assert app.selectbox[1].options == ["The weekly table (all selected trusts)", "South Tees: place lead's comment"]
    assert ("Combined: 45%, over the ambition (< 40%), no figure for the week before. Over the ambition: "
            "South Tees 45%.") in texts(app)


def test_downloads_are_offered(two_weeks):
    app = run_page()
    assert [b.label for b in app.download_button] == [
        "Narrative table: Excel (.xlsx)", "Narrative table: Word (.docx)", "Narrative table: CSV"]
    # The daily figures are drawn once their section is opened (collapsed at first, so the page opens faster).
    assert [e.label for e in app.expander][-1].startswith("Underlying daily figures")
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
