"""The OPEL page: its queries, its grids and what a user sees, on a small hand-made fixture.

York and Scarborough (RCB, Humber and North Yorkshire ICB, LA City of York), Mon 13 to Thu 16 May 2024:
    trust OPEL 3, 3, 4, 2 and LA OPEL 2, 4, 4, blank; then Mon 10 June 2024: trust 1, LA 1.
South Tees (RTR, North East and North Cumbria ICB): 13 to 16 May, trust OPEL 1, 2, 2, 2, LA OPEL never reported.
Airedale (RCF, West Yorkshire ICB, LA Bradford): 13 and 14 May only, trust OPEL 4, 4, LA OPEL 3, 3.
Nobody submitted from 17 May to 9 June.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from helpers import load_rows_directly, read_only, sitrep_row
from hypothesis import given
from hypothesis import strategies as st
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_presentation import _deuteranope, _linear, _luminance, contrast

from pipelines.queries import opel, weeks
from pipelines.reports.opel_grid import STYLE, key_html, la_grid, trust_grid
from ui import opel_charts
from ui.opel_charts import headline
from ui.style import NHS_PALE_GREY, OPEL_COLOURS, OPEL_TEXT_COLOURS

ROOT = Path(__file__).resolve().parents[1]
MAY_13, MAY_16 = date(2024, 5, 13), date(2024, 5, 16)
ALL_ICBS = ("NHS Humber and North Yorkshire ICB", "NHS North East and North Cumbria ICB", "NHS West Yorkshire ICB")


def days(org_code: str, first_day: int, trust_opel: list[int], la_opel: list[int | None], month: int = 5) -> list[dict]:
    return [sitrep_row(org_code=org_code, period_date=date(2024, month, first_day + i).isoformat(),
                       trust_opel=t, la_opel=la) for i, (t, la) in enumerate(zip(trust_opel, la_opel, strict=True))]


@pytest.fixture
def opel_db(db: Path) -> Path:
    load_rows_directly(db, days("RCB", 13, [3, 3, 4, 2], [2, 4, 4, None]) + days("RCB", 10, [1], [1], month=6)
                       + days("RTR", 13, [1, 2, 2, 2], [None] * 4) + days("RCF", 13, [4, 4], [3, 3]))
    return db


@pytest.fixture
def con(opel_db: Path):
    yield from read_only(opel_db)


# --- queries ---

def test_date_extent(con):
    assert weeks.date_extent(con) == (MAY_13, date(2024, 6, 10))


def test_counts_by_trust_worst_first(con):
    counts = opel.opel_counts(con, MAY_13, MAY_16, ())
    assert counts["trust"].to_list() == ["Airedale", "York and Scarborough", "South Tees"]  # most days at OPEL 4 first
    york = counts.row(1, named=True)
    assert (york["days_reported"], york["days_opel_3"], york["days_opel_4"],
            york["highest_opel"]) == (4, 2, 1, 4)
    assert (york["la_days_reported"], york["la_days_opel_3"], york["la_days_opel_4"],
            york["la_highest_opel"]) == (3, 0, 2, 4)
    airedale, south_tees = counts.row(0, named=True), counts.row(2, named=True)
    assert (airedale["days_reported"], airedale["days_opel_4"], airedale["la_days_opel_3"]) == (2, 2, 2)
    assert (south_tees["days_opel_3"], south_tees["highest_opel"], south_tees["la_days_reported"],
            south_tees["la_highest_opel"]) == (0, 2, 0, None)
    assert opel.opel_counts(con, MAY_13, MAY_16, ("RTR", "RCB"))["trust"].to_list() == [
        "York and Scarborough", "South Tees"]  # a group's trusts only


def test_counts_keep_a_trust_with_no_submission_in_the_range(con):
    counts = opel.opel_counts(con, date(2024, 5, 15), date(2024, 6, 10), ("RCF",))
    assert counts.rows(named=True) == [{
        "icb_name": "NHS West Yorkshire ICB", "trust": "Airedale", "org_code": "RCF", "local_authority": "Bradford",
        "days_reported": 0, "days_opel_3": 0, "days_opel_4": 0, "highest_opel": None,
        "la_days_reported": 0, "la_days_opel_3": 0, "la_days_opel_4": 0, "la_highest_opel": None}]


def test_daily_grid_has_every_trust_and_day(con):
    daily = opel.daily_opel(con, MAY_13, MAY_16, ())
    assert daily.height == 3 * 4
    # by ICB
    assert daily["trust"].unique(maintain_order=True).to_list() == ["York and Scarborough", "South Tees", "Airedale"]
    airedale = daily.filter(org_code="RCF")
    assert airedale["submitted"].to_list() == [True, True, False, False]
    assert airedale["trust_opel"].to_list() == [4, 4, None, None]
    assert opel.daily_opel(con, MAY_13, MAY_16, ("RCF",))["trust"].unique().to_list() == ["Airedale"]


def test_a_trust_day_of_several_sites_has_the_level_the_trust_day_view_gives_it(db):
    # The page rolls up only its own days' rows (a filter on the view would group every day of the history):
    # the same levels as sitrep_trust_day, the highest of the sites' (docs/domain.md section 4).
    load_rows_directly(db, [sitrep_row(org_code="RCB", site_code=site, period_date="2024-05-13", trust_opel=level,
                                       la_opel=la) for site, level, la in (("RCB01", 2, 1), ("RCB02", 4, None))]
                       + days("RTR", 13, [1, 2], [None, 3]))
    reader = read_only(db)  # held, so its connection stays open to the end of the test
    con = next(reader)
    grid = opel.daily_opel(con, MAY_13, MAY_13 + timedelta(days=1), ()).filter(pl.col("submitted"))
    view = con.sql("SELECT org_code, period_date, trust_opel, la_opel FROM sitrep_trust_day").pl()
    assert grid.select(view.columns).sort("org_code", "period_date").equals(view.sort("org_code", "period_date"))
    assert grid.filter(org_code="RCB")["trust_opel"].to_list() == [4]
    counts = opel.opel_counts(con, MAY_13, MAY_13 + timedelta(days=1), ())
    assert counts.filter(org_code="RCB").select("days_reported", "days_opel_4", "la_highest_opel").row(0) == (1, 1, 1)


# --- the grids, as HTML a browser and a screen reader are sent ---

def parse(html: str) -> ET.Element:
    """The grid's table as an element tree (the markup is well formed XML), its region box around it."""
    return ET.fromstring(html.replace("<br>", "<br/>"))


def text(element: ET.Element) -> str:
    return "".join(element.itertext())


def grid_rows(html: str) -> dict[str, list[tuple[str, str]]]:
    """Each row header's text -> its cells as (class, text a screen reader reads)."""
    return {text(row.find("th")): [(td.get("class"), text(td)) for td in row.findall("td")]
            for row in parse(html).iter("tr") if row.find("th[@scope='row']") is not None}


def test_trust_grid_writes_each_days_level_in_its_colour(con):
    html = trust_grid(opel.daily_opel(con, MAY_13, MAY_16, ()), "Trust OPEL level by day")
    rows = grid_rows(html)
    assert list(rows) == ["York and Scarborough", "South Tees", "Airedale"]
    assert rows["York and Scarborough"] == [("og-3", "3"), ("og-3", "3"), ("og-4", "4"), ("og-2", "2")]
    assert rows["Airedale"] == [("og-4", "4"), ("og-4", "4"), ("og-0", "–no submission"), ("og-0", "–no submission")]
    for level, colour in OPEL_COLOURS.items():  # the one definition of the OPEL colours
        assert f".og-{level} {{ background: {colour}; color: {OPEL_TEXT_COLOURS[level]}; }}" in STYLE


def test_trust_grid_has_headers_a_screen_reader_reads(con):
    table = parse(trust_grid(opel.daily_opel(con, MAY_13, MAY_16, ()), "Trust OPEL level by day")).find("table")
    assert text(table.find("caption")) == "Trust OPEL level by day"
    week_row, day_row = table.find("thead").findall("tr")
    corner, week = week_row.findall("th")
    assert (text(corner), corner.get("scope"), corner.get("rowspan")) == ("Trust", "col", "2")
    assert (text(week), week.get("scope"), week.get("colspan")) == ("w/e 19/05/2024", "colgroup", "4")
    # each day: its letter and number on screen, its whole date for a screen reader
    assert [(th.get("scope"), th.find("span[@class='og-sr']").text) for th in day_row.findall("th")] == [
        ("col", "Mon 13/05/2024"), ("col", "Tue 14/05/2024"), ("col", "Wed 15/05/2024"), ("col", "Thu 16/05/2024")]
    assert [th.find("span[@aria-hidden='true']").text for th in day_row.findall("th")] == ["M", "T", "W", "T"]
    # the trusts of each ICB under the ICB's name
    icbs = [text(th) for th in table.iter("th") if th.get("scope") == "rowgroup"]
    assert icbs == list(ALL_ICBS)
    assert all(th.get("colspan") == "5" for th in table.iter("th") if th.get("scope") == "rowgroup")


def test_one_icb_has_no_icb_row(con):
    table = parse(trust_grid(opel.daily_opel(con, MAY_13, MAY_16, ("RCF",)), "x"))
    assert not [th for th in table.iter("th") if th.get("scope") == "rowgroup"]


def test_a_grid_in_a_given_order_has_its_rows_in_it_and_no_icb_headings(con):
    # A big group's first screen: its most pressed trusts, most first, whatever their ICBs.
    html = trust_grid(opel.daily_opel(con, MAY_13, MAY_16, ()), "x", order=("RCF", "RTR", "RCB"))
    rows = grid_rows(html)
    assert list(rows) == ["Airedale", "South Tees", "York and Scarborough"]
    assert rows["York and Scarborough"] == [("og-3", "3"), ("og-3", "3"), ("og-4", "4"), ("og-2", "2")]
    assert not [th for th in parse(html).iter("th") if th.get("scope") == "rowgroup"]


def test_a_week_split_by_the_range_is_named_for_a_screen_reader(con):
    table = parse(trust_grid(opel.daily_opel(con, date(2024, 5, 18), date(2024, 5, 21), ("RCF",)), "x")).find("table")
    weeks_header = table.find("thead").findall("tr")[0].findall("th")[1:]
    # Sat and Sun of one week, Mon and Tue of the next: too narrow for the words on screen
    assert [(th.get("colspan"), text(th)) for th in weeks_header] == [
        ("2", "week ending 19/05/2024"), ("2", "week ending 26/05/2024")]


def test_la_grid_rows_only_for_trusts_that_report_it(con):
    daily = opel.daily_opel(con, MAY_13, MAY_16, ())
    rows = grid_rows(la_grid(daily, "Local authority OPEL level by day"))
    assert list(rows) == ["City of York (York and Scarborough)", "Bradford (Airedale)"]
    assert rows["City of York (York and Scarborough)"][3] == ("og-0", "n/rnot reported")
    assert rows["Bradford (Airedale)"][2] == ("og-0", "–no submission")
    assert la_grid(daily.filter(org_code="RTR"), "x") == ""  # South Tees never reported it


def test_names_from_files_are_cleaned_and_escaped(con):
    daily = opel.daily_opel(con, MAY_13, MAY_13, ("RCF",)).with_columns(
        trust=pl.lit('<b onclick="x()">Aire\u202edale</b>'), icb_name=pl.lit("A & B"))
    html = trust_grid(daily, "OPEL of <i>group</i>")
    assert "<b " not in html and "<i>" not in html and "\u202e" not in html
    assert "&lt;b onclick=&quot;x()&quot;&gt;Airedale&lt;/b&gt;" in html
    assert text(parse(html).find(".//caption")) == "OPEL of <i>group</i>"


def test_two_trusts_of_one_name_in_an_icb_are_two_rows_of_their_own_days(con):
    daily = opel.daily_opel(con, MAY_13, MAY_16, ("RCB", "RTR")).with_columns(
        trust=pl.lit("Same name"), icb_name=pl.lit("One ICB"))
    table = parse(trust_grid(daily, "x"))
    rows = [row for row in table.iter("tr") if row.find("th[@scope='row']") is not None]
    assert [text(row.find("th")) for row in rows] == ["Same name", "Same name"]
    assert [len(row.findall("td")) for row in rows] == [4, 4]


def test_the_key_names_every_level_and_a_blank_day():
    key = key_html(with_not_reported=True)
    assert [f'<span class="og-{n}">{n}</span>OPEL {n}' in key for n in OPEL_COLOURS] == [True] * 4
    assert "–</span>no submission" in key and "n/r</span>submitted without" in key
    assert "n/r" not in key_html()


@given(st.lists(st.sampled_from([1, 2, 3, 4, None]), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40),
       st.text(st.characters(max_codepoint=0xFFFD, exclude_categories=("Cs",)), max_size=30))  # as XML allows
def test_every_cell_says_its_level_or_why_it_has_none(levels, submitted, name):
    """Whatever the levels and names: one cell a day, each its level or 'no submission'/'not reported'."""
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(len(levels))]
    sent = [s or v is not None for s, v in zip(submitted, levels, strict=False)]  # a level is a submission
    daily = pl.DataFrame({"org_code": "RXX", "trust": name, "icb_name": "ICB", "local_authority": name,
                          "period_date": days, "submitted": sent,
                          "trust_opel": levels}, schema_overrides={"trust_opel": pl.Int64})
    cells = next(iter(grid_rows(trust_grid(daily, name)).values()))
    assert [c for c, _ in cells] == [f"og-{v or 0}" for v in levels]
    assert [t for _, t in cells] == [str(v) if v else "–no submission" if not s else "n/rnot reported"
                                     for v, s in zip(levels, daily["submitted"], strict=False)]


def test_headline_counts_trusts_at_opel_4(con):
    counts = opel.opel_counts(con, MAY_13, MAY_16, ())
    assert headline(counts, MAY_13, MAY_16) == (
        "2 of 3 trusts reported OPEL 4 on at least one day between 13/05/2024 and 16/05/2024.")
    assert headline(counts.filter(trust="Airedale"), MAY_13, MAY_16).startswith("1 of 1 trust reported")


# --- the page, as a user sees it ---

def run_page(**query: str | list[str]) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "opel.py"), default_timeout=page_run_guard_s())
    for name, value in query.items():
        app.query_params[name] = value
    return app.run()


def sections(app: AppTest) -> list[str]:
    """The labels of the page's sections below its first screen (expanders), each drawn when opened."""
    return [e.label for e in app.expander]


def infos(app: AppTest) -> list[str]:
    return [i.value for i in app.info]


def grids(app: AppTest) -> list[str]:
    """The OPEL grids the page draws (st.html elements with a table), without the key under each."""
    return [h.proto.body.split('<p class="og-key">')[0] for h in app.get("html") if "<table" in h.proto.body]


def test_page_opens_on_the_latest_four_weeks_of_every_trust(opel_db):
    app = run_page()
    assert not app.exception
    assert app.selectbox[0].value == "all" and app.selectbox[1].value == 4
    assert app.date_input[0].value == date(2024, 6, 10)
    assert app.markdown[0].value == (
        "**2 of 3 trusts reported OPEL 4 on at least one day between 13/05/2024 and 10/06/2024.**")
    [trust_html] = grids(app)  # the first screen: the trust grid alone
    york = grid_rows(trust_html)["York and Scarborough"]
    # four whole weeks (Monday 13/05 to Sunday 09/06) and Monday 10/06: 29 days, York at 3 on 13/05 and 14/05
    assert len(york) == 29 and york[:4] == [("og-3", "3"), ("og-3", "3"), ("og-4", "4"), ("og-2", "2")]
    assert york[-1] == ("og-1", "1")  # Mon 10/06/2024
    assert not app.get("plotly_chart")  # nothing waits for plotly.js
    assert dict(app.query_params) == {"group": "all"}


def test_the_local_authorities_and_the_days_table_are_drawn_when_opened(opel_db):
    """Issue 24: England's two grids and table were most of a click to the page; the first screen draws the trust
    grid, the rest when its section is opened, kept in the URL so a link opens the same view."""
    app = run_page()
    assert sections(app) == ["Local authority OPEL by day", "Days at OPEL 3 and 4, by trust"]
    assert not any(e.proto.expanded for e in app.expander) and not app.dataframe
    app.session_state["la"] = True  # the user opens the local authorities' grid
    app.run()
    assert list(grid_rows(grids(app)[1])) == ["City of York (York and Scarborough)", "Bradford (Airedale)"]
    assert "Local authority OPEL not reported by: South Tees." in [c.value for c in app.caption]
    assert not app.dataframe
    linked = run_page(days="true")  # a link to the table of days (the browser writes it: test_e2e_browser)
    assert [e.label for e in linked.expander if e.proto.expanded] == ["Days at OPEL 3 and 4, by trust"]
    table = linked.dataframe[0].value
    # most days at OPEL 4 first: Airedale's two (13/05 and 14/05), York's one
    assert list(table["trust"]) == ["Airedale", "York and Scarborough", "South Tees"]
    # Every column on a 1366 px screen, the trust not pinned (a pinned column is drawn in a faded grey)
    shown_columns = list(linked.dataframe[0].proto.column_order)
    assert shown_columns == ["trust", "days_reported", "days_opel_3", "days_opel_4", "local_authority",
                             "la_days_reported", "la_days_opel_3", "la_days_opel_4"]
    assert '"pinned"' not in linked.dataframe[0].proto.columns


def test_a_big_group_shows_its_most_pressed_trusts_first_and_every_trust_when_opened(opel_db, monkeypatch):
    """A region's or England's group (140 trusts) is more than a screen: its first grid has the trusts at OPEL 4 on
    most days, then OPEL 3, most first and without ICB headings; every trust by ICB is drawn when opened."""
    monkeypatch.setattr(opel_charts, "FIRST_SCREEN_TRUSTS", 2)
    app = run_page()
    [first] = grids(app)
    assert list(grid_rows(first)) == ["Airedale", "York and Scarborough"]  # 2 and 1 days at OPEL 4
    assert not [th for th in parse(first).iter("th") if th.get("scope") == "rowgroup"]
    assert text(parse(first).find(".//caption")).endswith(
        "All trusts: the 2 trusts at OPEL 4 on most days, then OPEL 3")
    assert sections(app)[0] == "Every trust, by ICB"
    every = run_page(every="true")
    assert list(grid_rows(grids(every)[1])) == ["York and Scarborough", "South Tees", "Airedale"]  # by ICB


def test_choosing_a_group_shows_only_its_trusts_and_goes_in_the_url(opel_db):
    app = run_page()
    app.selectbox[0].set_value("icb-qwo").run()
    assert list(grid_rows(grids(app)[0])) == ["Airedale"]
    assert app.query_params["group"] == "icb-qwo"
    assert "West Yorkshire ICB" in parse(grids(app)[0]).find(".//caption").text


def test_more_weeks_and_an_earlier_day_from_a_link(opel_db):
    app = run_page(group="york-harrogate-tees-airedale", weeks="8", to="2024-05-16")
    assert (app.selectbox[0].value, app.selectbox[1].value, app.date_input[0].value) == (
        "york-harrogate-tees-airedale", 8, MAY_16)
    rows = grid_rows(grids(app)[0])
    assert len(rows["Airedale"]) == 4  # 8 weeks back, but no earlier than the data
    assert app.markdown[0].value.startswith("**2 of 3 trusts reported OPEL 4")
    app.selectbox[1].set_value(13).run()
    assert app.query_params["weeks"] == "13"


def test_a_range_with_no_data_says_so(opel_db):
    app = run_page(weeks="2", to="2024-06-09")
    assert not app.exception
    assert infos(app) == ["All trusts: no trust submitted figures between 27/05/2024 and 09/06/2024. "
                          "The data runs from 13/05/2024 to 10/06/2024."]
    assert not app.dataframe and not grids(app)


def test_no_local_authority_opel_in_the_selection_says_so(opel_db):
    app = run_page(group="icb-qhm", la="true", days="true")
    assert infos(app) == ["No trust reported its local authority's OPEL level between 13/05/2024 and 10/06/2024."]
    assert len(grids(app)) == 1  # the trust grid still shows
    assert list(app.dataframe[0].value["trust"]) == ["South Tees"]


def test_the_grid_shows_a_new_load_on_the_next_view(opel_db):
    # The grids are kept per data version (ui/kept.py), so a load must not leave a stale grid.
    assert grid_rows(grids(run_page())[0])["South Tees"][-1] == ("og-0", "–no submission")
    load_rows_directly(opel_db, days("RTR", 10, [3], [None], month=6))
    assert grid_rows(grids(run_page())[0])["South Tees"][-1] == ("og-3", "3")


def test_without_a_database_says_how_to_load(db):
    app = run_page()
    assert not app.exception
    assert "No data yet" in infos(app)[0]


def test_four_weeks_up_to_a_day():
    # Monday 10/06/2024: the four whole weeks before it, then that Monday; a Sunday ends its own fourth week.
    assert opel.first_day(date(2024, 6, 10)) == date(2024, 5, 13)
    assert opel.first_day(date(2024, 6, 10), 8) == date(2024, 4, 15)
    assert opel.first_day(date(2024, 6, 9)) == date(2024, 5, 13)
    assert opel.first_day(date(2024, 6, 9), 2) == date(2024, 5, 27)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_each_opel_level_is_clearly_lighter_than_the_next_for_a_deuteranope_too(level):
    """OPEL 2 and 3 were NHS warm yellow and orange, 1.46:1 apart in lightness: one read as the other."""
    this, darker = _linear(OPEL_COLOURS[level]), _linear(OPEL_COLOURS[level + 1])
    assert contrast(_luminance(this), _luminance(darker)) >= 1.75
    assert contrast(_luminance(_deuteranope(this)), _luminance(_deuteranope(darker))) >= 1.65


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_the_level_number_is_readable_on_its_colour(level):
    assert contrast(_luminance(_linear(OPEL_TEXT_COLOURS[level])), _luminance(_linear(OPEL_COLOURS[level]))) >= 4.5


def test_no_submission_differs_from_opel_1_in_hue_for_a_deuteranope():
    """Grey and the palest level are close in lightness; a deuteranope still sees yellow against grey
    (the blue-yellow axis is kept), and a level's cell carries its number where no submission has none."""
    grey, pale = _deuteranope(_linear(NHS_PALE_GREY)), _deuteranope(_linear(OPEL_COLOURS[1]))
    assert grey[2] - pale[2] > 0.2  # blue channel: grey is neutral, OPEL 1 yellow
