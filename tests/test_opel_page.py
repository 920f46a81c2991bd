"""The OPEL page: its queries, its heatmaps and what a user sees, on a small hand-made fixture.

York and Scarborough (RCB, Humber and North Yorkshire ICB, LA City of York), Mon 13 to Thu 16 May 2024:
    trust OPEL 3, 3, 4, 2 and LA OPEL 2, 4, 4, blank; then Mon 10 June 2024: trust 1, LA 1.
South Tees (RTR, North East and North Cumbria ICB): 13 to 16 May, trust OPEL 1, 2, 2, 2, LA OPEL never reported.
Airedale (RCF, West Yorkshire ICB, LA Bradford): 13 and 14 May only, trust OPEL 4, 4, LA OPEL 3, 3.
Nobody submitted from 17 May to 9 June.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from helpers import load_rows_directly, read_only, sitrep_row
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest
from test_presentation import _deuteranope, _linear, _luminance, contrast

from pipelines.queries import opel, weeks
from ui.opel_charts import headline, la_heatmap, trust_heatmap
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

def test_date_extent_and_icbs(con):
    assert weeks.date_extent(con) == (MAY_13, date(2024, 6, 10))
    assert opel.icb_names(con) == list(ALL_ICBS)


def test_counts_by_trust_worst_first(con):
    counts = opel.opel_counts(con, MAY_13, MAY_16, ALL_ICBS)
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


def test_counts_keep_a_trust_with_no_submission_in_the_range(con):
    counts = opel.opel_counts(con, date(2024, 5, 15), date(2024, 6, 10), ("NHS West Yorkshire ICB",))
    assert counts.rows(named=True) == [{
        "icb_name": "NHS West Yorkshire ICB", "trust": "Airedale", "org_code": "RCF", "local_authority": "Bradford",
        "days_reported": 0, "days_opel_3": 0, "days_opel_4": 0, "highest_opel": None,
        "la_days_reported": 0, "la_days_opel_3": 0, "la_days_opel_4": 0, "la_highest_opel": None}]


def test_daily_grid_has_every_trust_and_day(con):
    daily = opel.daily_opel(con, MAY_13, MAY_16, ALL_ICBS)
    assert daily.height == 3 * 4
    # by ICB
    assert daily["trust"].unique(maintain_order=True).to_list() == ["York and Scarborough", "South Tees", "Airedale"]
    airedale = daily.filter(org_code="RCF")
    assert airedale["submitted"].to_list() == [True, True, False, False]
    assert airedale["trust_opel"].to_list() == [4, 4, None, None]
    assert opel.daily_opel(con, MAY_13, MAY_16, ("NHS West Yorkshire ICB",))["trust"].unique().to_list() == ["Airedale"]


# --- figures and text ---

def cell(fig, row: str, day: int) -> tuple[str, list]:
    """The hover text of a cell (from the one trace that draws it), and each trace's value there
    (None where the trace leaves a gap)."""
    heatmaps = [trace for trace in fig.data if trace.type == "heatmap"]
    r = list(heatmaps[0].y[1]).index(row)
    hovers = [trace.customdata[r][day] for trace in heatmaps if trace.customdata[r][day] is not None]
    assert len(hovers) == 1  # exactly one trace hovers each cell
    return hovers[0], [trace.z[r][day] for trace in heatmaps]


def test_trust_heatmap_is_discrete_with_uk_hover(con):
    fig = trust_heatmap(opel.daily_opel(con, MAY_13, MAY_16, ALL_ICBS))
    names = ["OPEL 1", "OPEL 2", "OPEL 3", "OPEL 4", "No submission"]
    colours = [*OPEL_COLOURS.values(), NHS_PALE_GREY]
    heatmaps, keys = fig.data[:5], fig.data[5:]
    assert [t.name for t in heatmaps] == names
    for trace, colour in zip(heatmaps, colours, strict=True):
        assert {c for _, c in trace.colorscale} == {colour}  # one flat colour per level: no continuous scale
    # The legend: every level, in its colour, whether or not it occurs in the range.
    assert [(t.name, t.marker.color, t.showlegend is not False) for t in keys] == [
        (n, c, True) for n, c in zip(names, colours, strict=True)]
    assert not any(t.showlegend for t in heatmaps)
    assert list(fig.data[0].y[0]) == ["Humber and North Yorkshire", "North East and North Cumbria", "West Yorkshire"]
    assert cell(fig, "York and Scarborough", 1) == ("York and Scarborough, Tue 14/05/2024: OPEL 3",
                                                    [None, None, 3, None, None])
    assert cell(fig, "Airedale", 2) == ("Airedale, Wed 15/05/2024: no submission", [None, None, None, None, 0])
    assert fig.data[2].texttemplate == "%{z}"  # four days: the level is written in each cell


def test_long_ranges_drop_the_numbers_in_cells(con):
    fig = trust_heatmap(opel.daily_opel(con, MAY_13, date(2024, 6, 13), ALL_ICBS))
    assert all(not t.texttemplate for t in fig.data)


def test_la_heatmap_rows_only_for_trusts_that_report_it(con):
    fig = la_heatmap(opel.daily_opel(con, MAY_13, MAY_16, ALL_ICBS))
    assert list(fig.data[0].y[1]) == ["City of York (York and Scarborough)", "Bradford (Airedale)"]
    assert cell(fig, "City of York (York and Scarborough)", 3)[0] == (
        "City of York (York and Scarborough), Thu 16/05/2024: LA OPEL not reported")
    assert cell(fig, "Bradford (Airedale)", 2)[0] == "Bradford (Airedale), Wed 15/05/2024: no submission"


def test_headline_counts_trusts_at_opel_4(con):
    counts = opel.opel_counts(con, MAY_13, MAY_16, ALL_ICBS)
    assert headline(counts, MAY_13, MAY_16) == (
        "2 of 3 trusts reported OPEL 4 on at least one day between 13/05/2024 and 16/05/2024.")
    assert headline(counts.filter(trust="Airedale"), MAY_13, MAY_16).startswith("1 of 1 trust reported")


# --- the page, as a user sees it ---

def run_page(**query: str | list[str]) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "opel.py"), default_timeout=page_run_guard_s())
    for name, value in query.items():
        app.query_params[name] = value
    return app.run()


def infos(app: AppTest) -> list[str]:
    return [i.value for i in app.info]


def test_page_defaults_to_all_data_up_to_the_latest_day(opel_db):
    app = run_page()
    assert not app.exception
    assert app.date_input[0].value == (MAY_13, date(2024, 6, 10))  # 8 weeks back, but no earlier than the data
    assert app.markdown[0].value == (
        "**2 of 3 trusts reported OPEL 4 on at least one day between 13/05/2024 and 10/06/2024.**")
    table = app.dataframe[0].value
    assert list(table["trust"]) == ["Airedale", "York and Scarborough", "South Tees"]
    york = table.set_index("trust").loc["York and Scarborough"]
    assert [york[c] for c in ("days_reported", "days_opel_3", "days_opel_4", "highest_opel",
                                   "la_days_reported", "la_days_opel_4", "la_highest_opel")] == [5, 2, 1, 4, 4, 2, 4]
    # Every column on a 1366 px screen, the trust not pinned (a pinned column is drawn in a faded grey)
    shown_columns = list(app.dataframe[0].proto.column_order)
    assert shown_columns == ["trust", "days_reported", "days_opel_3", "days_opel_4", "local_authority",
                             "la_days_reported", "la_days_opel_3", "la_days_opel_4"]
    assert '"pinned"' not in app.dataframe[0].proto.columns
    assert "Local authority OPEL not reported by: South Tees." in [c.value for c in app.caption]
    assert len(app.get("plotly_chart")) == 2
    assert dict(app.query_params) == {"from": "2024-05-13", "to": "2024-06-10"}


def test_choosing_an_icb_shows_only_its_trusts_and_goes_in_the_url(opel_db):
    app = run_page()
    app.multiselect[0].set_value(["NHS West Yorkshire ICB"]).run()
    assert list(app.dataframe[0].value["trust"]) == ["Airedale"]
    # Streamlit's own binding writes it to the URL as icb=... in the browser (AppTest has no browser):
    assert app.multiselect[0].proto.query_param_key == "icb"
    assert app.markdown[0].value.startswith("**1 of 1 trust reported OPEL 4")


def test_a_link_opens_the_same_view(opel_db):
    app = run_page(icb=["NHS Humber and North Yorkshire ICB", "NHS West Yorkshire ICB"], **{"from": "2024-05-14"},
                   to="2024-05-16")
    assert app.date_input[0].value == (date(2024, 5, 14), MAY_16)
    assert app.multiselect[0].value == ["NHS Humber and North Yorkshire ICB", "NHS West Yorkshire ICB"]
    # From the 14th each has one day at OPEL 4; York and Scarborough also has one at 3, so it comes first.
    assert list(app.dataframe[0].value["trust"]) == ["York and Scarborough", "Airedale"]


def test_a_range_with_no_data_says_so(opel_db):
    app = run_page()
    app.date_input[0].set_value((date(2024, 5, 20), date(2024, 6, 9))).run()
    assert not app.exception
    assert infos(app) == ["No trust in any ICB submitted figures between 20/05/2024 and 09/06/2024. "
                          "The data runs from 13/05/2024 to 10/06/2024."]
    assert not app.dataframe and not app.get("plotly_chart")


def test_an_icb_with_nothing_in_the_range_says_so(opel_db):
    app = run_page(icb="NHS West Yorkshire ICB", **{"from": "2024-05-15"}, to="2024-05-16")
    assert infos(app) == ["No trust in the NHS West Yorkshire ICB submitted figures between 15/05/2024 and "
                          "16/05/2024. The data runs from 13/05/2024 to 10/06/2024."]


def test_no_local_authority_opel_in_the_selection_says_so(opel_db):
    app = run_page(icb="NHS North East and North Cumbria ICB")
    assert infos(app) == ["No trust reported its local authority's OPEL level between 13/05/2024 and 10/06/2024."]
    assert len(app.get("plotly_chart")) == 1  # the trust heatmap still shows
    assert list(app.dataframe[0].value["trust"]) == ["South Tees"]


def hovers(app: AppTest, chart: int = 0) -> set[str]:
    """Every cell's hover text in one of the page's heatmaps, as the browser is sent it."""
    spec = json.loads(app.get("plotly_chart")[chart].proto.spec)
    return {text for trace in spec["data"] if trace["type"] == "heatmap"
            for row in trace["customdata"] for text in row if text is not None}


def test_the_heatmap_shows_a_new_load_on_the_next_view(opel_db):
    # The figures are kept per data version (ui/kept.py), so a load must not leave a stale heatmap.
    before = hovers(run_page())
    assert "South Tees, Mon 10/06/2024: no submission" in before
    load_rows_directly(opel_db, days("RTR", 10, [3], [None], month=6))
    after = hovers(run_page())
    assert "South Tees, Mon 10/06/2024: OPEL 3" in after
    assert after - before == {"South Tees, Mon 10/06/2024: OPEL 3"}


def test_without_a_database_says_how_to_load(db):
    app = run_page()
    assert not app.exception
    assert "No data yet" in infos(app)[0]


def test_the_page_opens_on_eight_weeks_up_to_the_latest_day():
    assert opel.default_first_day(date(2024, 6, 10)) == date(2024, 4, 16)


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
