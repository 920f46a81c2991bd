"""The trust drill-down: its queries and figures checked by hand on small fixtures, and the page
(AppTest) checked for what a user sees."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import load_rows_directly, related_rows, shown, shown_all, tiles, week_of_rows
from patience import page_run_guard_s
from streamlit.testing.v1 import AppTest

from pipelines.catalogue.metrics import HEADLINE_METRICS, METRIC_BY_ID, METRICS
from pipelines.catalogue.wording import opel_text
from pipelines.queries import drilldown
from pipelines.queries.weeks import date_extent, default_window, week_ending, weeks_in_range
from pipelines.spc.explain import capitalised
from pipelines.warehouse import open_for_write
from ui import charts
from ui.style import NHS_BLUE

ROOT = Path(__file__).resolve().parents[1]
WEEK_1, WEEK_2 = date(2024, 4, 1), date(2024, 4, 8)  # Mondays; the weeks end on 7 and 14 April 2024
SUNDAY_1, SUNDAY_2 = date(2024, 4, 7), date(2024, 4, 14)


def site_rows(site_code: str, **figures: object) -> list[dict[str, object]]:
    return [{**row, "site_code": site_code} for row in week_of_rows("RCB", WEEK_2, **figures)]


@pytest.fixture
def drill(db: Path) -> Path:
    """Three trusts, figures chosen for hand checks (stranded = los_7plus / ga_beds_occupied):

    * Hull (RWA, ICB QOQ): 45 of 90 (50%) in week 1, then 36 of 90 (40%) in week 2.
    * York and Scarborough (RCB, QOQ), per site in week 2 only: RCB55 30 of 60 (50%), RCBCA 8 of 40
      (20%), so the trust is 38 of 100 (38%); recorded delays 10 and 4 a day; trust OPEL 3 and 2.
    * South Tees (RTR, ICB QHM): Monday to Friday of week 2 only (a part week), 36 of 80 (45%).
    Week 2 of Hull comes from a second file, loaded later.
    """
    load_rows_directly(db, week_of_rows("RWA", WEEK_1, ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RWA", WEEK_2, ga_beds_occupied=90, los_7plus=36)
                       + site_rows("RCB55", ga_beds_occupied=60, los_7plus=30, los_14plus=20, los_21plus=10,
                                   nctr_patients=15, nctr_discharged=5, trust_opel=3)
                       + site_rows("RCBCA", ga_beds_occupied=40, los_7plus=8, los_14plus=6, los_21plus=4,
                                   nctr_patients=6, nctr_discharged=2, nctr_discharged_by_5pm=1, trust_opel=2)
                       + week_of_rows("RTR", WEEK_2, ga_beds_occupied=80, los_7plus=36)[:5])
    with open_for_write(db) as con:
        con.execute("UPDATE sitrep_daily SET source_file = 'sitrep_week2.csv', file_id = 1, "
                    "loaded_at = TIMESTAMP '2024-04-15 09:30:00' WHERE org_code = 'RWA' AND period_date >= ?", [WEEK_2])
    return db


@pytest.fixture
def con(drill: Path):
    with duckdb.connect(str(drill), read_only=True) as connection:
        yield connection


def stranded(frame: pl.DataFrame) -> list[float]:
    return frame.filter(pl.col("metric") == "stranded_7plus_pct")["value"].to_list()


# --- queries --------------------------------------------------------------------------------------

def test_week_ending_is_the_sunday_of_the_week():
    assert [week_ending(WEEK_2 + timedelta(days=i)) for i in range(7)] == [SUNDAY_2] * 7


@pytest.mark.parametrize("first, last, expected", [
    (WEEK_1, SUNDAY_2, (SUNDAY_1, SUNDAY_2)),  # whole weeks
    (WEEK_1 + timedelta(days=2), SUNDAY_2, (SUNDAY_2, SUNDAY_2)),  # week 1 would count days before the range
    (WEEK_1, SUNDAY_2 - timedelta(days=1), (SUNDAY_1, SUNDAY_1)),  # week 2 would count a day after it
    (WEEK_1 - timedelta(days=3), SUNDAY_2 + timedelta(days=2),  # the whole data, part weeks at both ends
     (SUNDAY_1 - timedelta(days=7), SUNDAY_2 + timedelta(days=7))),
    (WEEK_2 + timedelta(days=1), WEEK_2 + timedelta(days=3), (SUNDAY_2, SUNDAY_2)),  # no whole week: the one touched
])
def test_weeks_in_range_keep_weekly_figures_inside_the_dates(first, last, expected):
    # the data runs from Friday 29 March to Tuesday 16 April 2024: part weeks at both ends
    assert weeks_in_range(first, last, WEEK_1 - timedelta(days=3), SUNDAY_2 + timedelta(days=2)) == expected


def test_date_bounds_span_the_figures(con):
    assert date_extent(con) == (WEEK_1, SUNDAY_2)


def test_date_bounds_of_an_empty_database(db):
    with open_for_write(db):
        pass  # schema and reference data only
    with duckdb.connect(str(db), read_only=True) as empty:
        assert date_extent(empty) == (None, None)


def test_trusts_lists_every_reference_trust_by_short_name_with_its_dates(con):
    trusts = drilldown.trusts(con)
    assert trusts["short_name"].to_list() == sorted(trusts["short_name"].to_list())
    assert trusts.height == 13
    by_code = {r["org_code"]: r for r in trusts.to_dicts()}
    assert (by_code["RWA"]["first_date"], by_code["RWA"]["last_date"]) == (WEEK_1, SUNDAY_2)
    assert by_code["RCD"]["first_date"] is None  # Harrogate: known but never reported here
    assert by_code["RCD"]["icb_code"] == "QWO" and by_code["RCB"]["local_authority"] == "City of York"


def test_trust_weekly_and_daily(con):
    weekly = drilldown.trust_weekly(con, "RWA", SUNDAY_1, SUNDAY_2)
    assert stranded(weekly) == pytest.approx([50.0, 40.0])
    daily = drilldown.trust_daily(con, "RWA", ("stranded_7plus_pct",), WEEK_2, WEEK_2 + timedelta(days=1))
    assert daily.select("period_date", "value", "numerator", "denominator").rows() == [
        (WEEK_2, pytest.approx(40.0), 36, 90), (WEEK_2 + timedelta(days=1), pytest.approx(40.0), 36, 90)]


def test_icb_members_and_system_figure_are_ratios_of_summed_parts(con):
    assert drilldown.icb_members(con, "RWA") == ["RCB", "RJL", "RWA"]
    system = drilldown.system_weekly(con, "RWA", "stranded_7plus_pct", SUNDAY_1, SUNDAY_2)
    # week 1: Hull alone; week 2: (7 x 36 + 7 x 38) / (7 x 90 + 7 x 100), not the mean of 40% and 38%
    assert system["value"].to_list() == pytest.approx([50.0, 100 * 74 / 190])


def test_peers_are_the_icb_trusts_of_the_week_lowest_first(con):
    peers = drilldown.peers(con, "RWA", "stranded_7plus_pct", SUNDAY_2)
    assert peers.select("org_code", "value", "status").rows() == [
        ("RCB", pytest.approx(38.0), "green"), ("RWA", pytest.approx(40.0), "amber")]  # South Tees is in QHM


@pytest.mark.parametrize("metric, expected", [
    ("stranded_7plus_pct", {"RCB55": 50.0, "RCBCA": 20.0}),
    ("super_stranded_21plus_pct", {"RCB55": 100 * 10 / 60, "RCBCA": 10.0}),
    ("recorded_delays", {"RCB55": 10.0, "RCBCA": 4.0}),
    ("ctr_discharged_by_5pm_pct", {"RCB55": 100 * 2 / 15, "RCBCA": 100 * 1 / 6}),
    ("trust_opel_max", {"RCB55": 3.0, "RCBCA": 2.0}),
])
def test_site_metric_by_hand(con, metric, expected):
    sites = drilldown.site_metric(con, "RCB", metric, WEEK_2, WEEK_2)
    assert dict(sites.select("site_code", "value").rows()) == pytest.approx(expected)


@pytest.mark.parametrize("metric", [m.id for m in METRICS if m.is_ratio and not m.optional])  # the fixture has no DRD
def test_site_parts_add_up_to_the_trust_figure(con, metric):
    """The per-site SQL is generated from the same catalogue as the views: the sites' summed parts
    give the trust's daily value."""
    sites = drilldown.site_metric(con, "RCB", metric, WEEK_2, WEEK_2)
    trust = drilldown.trust_daily(con, "RCB", (metric,), WEEK_2, WEEK_2)["value"][0]
    assert 100 * sites["numerator"].sum() / sites["denominator"].sum() == pytest.approx(trust)


def test_site_metric_is_empty_for_trust_level_rows_and_refuses_unknown_metrics(con):
    assert drilldown.site_metric(con, "RWA", "stranded_7plus_pct", WEEK_1, SUNDAY_2).is_empty()
    with pytest.raises(KeyError):
        drilldown.site_metric(con, "RCB", "los_7plus); DROP TABLE trusts; --", WEEK_1, SUNDAY_2)


# --- figures --------------------------------------------------------------------------------------

def test_metric_figure_has_uk_hover_texts_and_a_named_ambition_step(con):
    weekly = drilldown.trust_weekly(con, "RWA", SUNDAY_1, SUNDAY_2).filter(pl.col("metric") == "stranded_7plus_pct")
    daily = drilldown.trust_daily(con, "RWA", ("stranded_7plus_pct",), WEEK_1, SUNDAY_2)
    fig = charts.metric_figure(daily, weekly, "%")
    daily_trace, weekly_trace, ambition = fig.data
    assert daily_trace.customdata[-1] == "Sun 14/04/2024<br>Daily: 40.0% (36 of 90)"
    assert weekly_trace.customdata[-1].startswith("Week ending Sun 14/04/2024<br>Weekly (Monday to Sunday): 40.0%")
    assert "! just misses" in weekly_trace.customdata[-1]
    assert ambition.name == "Ambition < 40%" and ambition.line.dash == "dash" and ambition.line.shape == "hv"
    assert list(ambition.x) == [WEEK_1, WEEK_2, SUNDAY_2 + timedelta(days=1)]  # Monday to Monday per week
    assert fig.layout.yaxis.title.text == "Per cent (%)"


def test_ambition_step_follows_a_change_of_ambition_and_is_none_without_one():
    weekly = pl.DataFrame({"week_ending": [SUNDAY_1, SUNDAY_2], "ambition": [40.0, 35.0],
                           "ambition_comparison": ["<", "<"], "unit": ["%", "%"]})
    step = charts.ambition_step(weekly)
    assert list(step.y) == [40.0, 35.0, 35.0] and step.name == "Ambition < 35%"
    assert "Ambition < 40% from Mon 01/04/2024" in step.customdata[0]
    assert charts.ambition_step(weekly.with_columns(ambition=pl.lit(None, pl.Float64))) is None


def test_opel_strip_pathway_and_peer_figures(con):
    daily = drilldown.trust_daily(con, "RCB", ("trust_opel_max",), WEEK_2, WEEK_2)
    strip = charts.opel_strip([("Trust", daily)]).data[0]
    assert strip.type == "heatmap" and list(strip.z[0]) == [3.0]
    assert strip.customdata[0][0] == f"Mon 08/04/2024<br>Trust: {opel_text(3)}"

    weekly = drilldown.trust_weekly(con, "RWA", SUNDAY_1, SUNDAY_2)
    pathway = charts.pathway_figure(weekly)
    assert [t.name for t in pathway.data] == [
        "P0 home, no new support", "P1 home with support", "P2 bedded rehabilitation", "P3 care home",
        "Ambition ≥ 95% home (P0+P1)"]
    # VALID_ROW discharges 6, 3, 1, 0 a day: P0 60%, home 90%
    assert list(pathway.data[0].y) == pytest.approx([60.0, 60.0])
    assert "Home (P0+P1): 90.0%" in pathway.data[0].customdata[0]

    peers, labels = charts.peer_figure(drilldown.peers(con, "RWA", "stranded_7plus_pct", SUNDAY_2), "RWA", "%").data
    assert list(peers.y) == ["York and Scarborough", "▶ Hull"]
    assert list(peers.marker.color)[1] == NHS_BLUE and list(peers.text) == ["38.0%", "40.0%"]
    # the values in a column right of every bar and of the ambition line (40%), which ran through them
    assert list(labels.y) == list(peers.y) and list(labels.text) == ["38.0%", "40.0%"]
    assert peers.textposition == "none" and labels.textposition == "middle right"
    assert len(set(labels.x)) == 1 and labels.x[0] > max(*peers.x, 40.0)


# --- the page (AppTest) ---------------------------------------------------------------------------

# The sections below the first screen, each closed until opened, by the URL parameters that open them.
SECTIONS = ("daily", "spc", "system", "sites", "monthly", "lost", "drd", "pathways", "months", "delays", "bands")
OPEN = {key: "true" for key in SECTIONS}


def run_page(**query: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "trust.py"), default_timeout=page_run_guard_s())
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception, app.exception
    return app


def open_dates(app: AppTest) -> AppTest:
    """The page with its "Change the dates" box opened (as a click on it does), so its date picker is drawn."""
    app.session_state["dates"] = True
    app.run()
    assert not app.exception, app.exception
    return app


def sections(app: AppTest) -> list[str]:
    """The labels of the page's expanders: its sections below the first screen among them."""
    return [e.label for e in app.expander]


def texts(elements) -> list[str]:
    return shown_all(elements)  # as the user reads them: names from files are Markdown-escaped


def stranded_tile(app: AppTest):
    """The stranded 7+ days tile among the catalogue's headline tiles."""
    return next(t for t in tiles(app) if t["label"] == "Stranded 7+ days")


def test_page_defaults_to_the_first_reporting_trust_and_shows_its_latest_week(drill):
    app = run_page()
    trust, metric = app.selectbox
    assert {"Harrogate (RCD)", "South Tees (RTR)", "York and Scarborough (RCB)", "Hull (RWA)"} <= set(trust.options)
    assert trust.value == "RWA" and metric.value == "stranded_7plus_pct"  # Airedale, first by name, has no figures
    # the dates in words; their picker is sent only once its box is opened, on the same dates
    assert f"Dates: {WEEK_1:%d/%m/%Y} to {SUNDAY_2:%d/%m/%Y} (the default)" in texts(app.caption)
    assert not app.date_input
    assert open_dates(app).date_input[0].value == (WEEK_1, SUNDAY_2)
    assert shown(app.header[0].value) == "Hull (RWA)"
    assert "Week ending Sun 14/04/2024" in texts(app.subheader)
    assert [t["label"] for t in tiles(app)] == [METRIC_BY_ID[m].short_label for m in HEADLINE_METRICS]
    tile = stranded_tile(app)
    # the change's arrow follows its sign; better or worse is in its words (and its colour)
    assert tile == {"label": "Stranded 7+ days", "value": "40.0%", "delta": "↓ -10.0 pts, better",
                    "status": "! just misses (< 40%)"}
    # grouped by sitrep_daily.source: here the fixture's one source, the trust's own file, with its two files
    assert ("Source: the trust's own sitrep files (test, sitrep_week2.csv) for 01/04/2024-14/04/2024. "
            "Latest loaded 15/04/2024 09:30."
            in texts(app.caption))
    # each field's source, a line per field that mostly repeats one source: kept, but closed at first
    [sources] = [e for e in app.expander if e.label == "Where each figure came from"]
    assert not sources.proto.expanded and not sources.caption  # its words are sent only when opened
    app.session_state["field_sources"] = True
    app.run()
    [sources] = [e for e in app.expander if e.label == "Where each figure came from"]
    assert any(t.startswith("Where each figure came from (the trust's own file first") and
               "G&A beds occupied: the trust's own sitrep files (14 days)" in t for t in texts(sources.caption))
    assert not app.warning
    assert dict(app.query_params) == {"trust": "RWA", "metric": "stranded_7plus_pct"}  # default dates: not written


def test_trust_in_the_url_is_selected_and_a_part_week_is_flagged(drill):
    app = run_page(trust="RTR")
    assert app.selectbox[0].value == "RTR" and app.header[0].value == "South Tees (RTR)"
    assert stranded_tile(app)["value"] == "45.0%"
    assert "5 of 7 days reported" in app.warning[0].value


def test_choices_are_kept_in_the_url_and_a_changed_url_is_followed(drill):
    app = open_dates(run_page())
    app.selectbox[0].set_value("RCB").run()
    app.date_input[0].set_value((WEEK_2, SUNDAY_2)).run()
    assert stranded_tile(app)["value"] == "38.0%"
    # the end is the latest day, the default, so only the start is written
    assert dict(app.query_params) == {"trust": "RCB", "metric": "stranded_7plus_pct", "from": "2024-04-08"}
    app.query_params["trust"] = "RTR"
    app.run()
    assert app.selectbox[0].value == "RTR" and app.date_input[0].value == (WEEK_2, SUNDAY_2)
    assert f"Dates: {WEEK_2:%d/%m/%Y} to {SUNDAY_2:%d/%m/%Y}" in texts(app.caption)  # not the default: said so


def test_a_trust_without_submissions_in_the_range_says_so(drill):
    app = run_page(trust="RTR", **{"from": "2024-04-01", "to": "2024-04-07"})
    assert app.warning[0].value == ("South Tees has no submissions between 01/04/2024 and 07/04/2024. "
                                    "Its figures run from 08/04/2024 to 12/04/2024.")
    assert not tiles(app) and not app.get("plotly_chart")
    assert "not submitted any figures yet" in run_page(trust="RCD").warning[0].value


def test_metric_without_an_ambition_says_so(drill):
    app = run_page(metric="stranded_14plus_pct", daily="true")
    assert app.selectbox[1].value == "stranded_14plus_pct"
    assert any(i.startswith("No national ambition for this metric") for i in texts(app.info))
    assert not any(i.startswith("No national ambition") for i in texts(run_page(daily="true").info))


def test_site_breakdown_only_for_a_trust_with_site_rows(drill):
    app = run_page(trust="RCB", sites="true")
    assert "By site" in sections(app)
    assert any("York Hospital (RCB55), Scarborough Hospital (RCBCA)" in c for c in texts(app.caption))  # sites.csv
    assert "By site" not in sections(run_page(trust="RWA"))


def test_opel_metric_first_says_it_is_a_level_beside_related_figures(drill):
    app = run_page(trust="RCB", metric="trust_opel_max")
    assert texts(app.info)[0].startswith("**Trust OPEL.** A level, not a measurement, so SPC does not chart it")
    table = related_rows(app)
    assert list(table)[1:] == ["Trust OPEL", "LA OPEL", "G&A occupancy", "NCTR of occupied"]
    assert table["Trust OPEL"] == ["3"]  # the highest of its two sites' levels in the week


def test_opel_metric_is_a_strip_not_a_line(drill):
    app = run_page(trust="RCB", metric="trust_opel_max", daily="true")
    first_chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert first_chart["data"][0]["type"] == "heatmap"


def test_page_without_a_database_says_how_to_load(db):
    app = run_page()
    assert "No data yet" in app.info[0].value


def test_trust_weeks_fall_back_to_the_part_week_that_holds_the_only_figures(con):
    # Two days chosen inside week 2 (no whole week fits): the week they touch, summarised as it is.
    weeks = drilldown.trust_weeks(con, "RWA", WEEK_2 + timedelta(days=1), WEEK_2 + timedelta(days=2),
                                  (WEEK_1, SUNDAY_2))
    assert (weeks.first_week, weeks.last_week, weeks.week) == (SUNDAY_2, SUNDAY_2, SUNDAY_2)
    assert set(weeks.weekly["week_ending"]) == {SUNDAY_2}


def test_default_window_is_the_latest_weeks_or_a_stopped_trusts_own():
    earliest, latest = date(2023, 1, 2), date(2024, 4, 14)
    assert default_window(earliest, latest, latest, weeks=2) == (WEEK_1, latest)
    stopped = date(2023, 6, 4)  # a Sunday long before the latest weeks
    assert default_window(earliest, latest, stopped, weeks=2) == (date(2023, 5, 22), stopped)
    assert default_window(WEEK_2, latest, None, weeks=26) == (WEEK_2, latest)  # not before the data


@pytest.mark.parametrize("metric", [m for m in METRICS if m.is_ratio and not m.optional],  # the fixture has no DRD
                         ids=lambda m: m.id)
def test_every_ratio_metric_opens_on_its_counts_and_what_changed(drill, metric):
    """Whatever ratio the catalogue holds, its first box names the counts it is made of and what SPC says."""
    app = run_page(trust="RWA", metric=metric.id)
    first = texts(app.info)[0]
    assert first.startswith(f"**{metric.short_label}.** Too few complete weeks for SPC limits (2 since the week "
                            "ending 07/04/2024")
    counts = [f"{capitalised(words)} (a day)" for words in (metric.numerator_text, metric.denominator_text)]
    assert list(related_rows(app))[1:4] == [*counts, metric.short_label]
    if metric.id == "stranded_7plus_pct":  # Hull: 45 then 36 of 90 beds a day
        assert first.endswith("Week ending Sun 14/04/2024: 36 patients staying 7+ days a day of 90 occupied G&A beds "
                              "(40.0%); the week before: 45 of 90 (50.0%).")


def test_the_counts_chart_draws_no_axis_line_through_the_lower_panels_title(drill):
    """The upper panel's date line ran through the title "Occupied G&A beds (a day)" under it. The chart is
    in its expander on the first screen, drawn when opened."""
    app = AppTest.from_file(str(ROOT / "pages" / "trust.py"), default_timeout=page_run_guard_s())
    app.query_params["trust"] = "RWA"
    app.session_state["counts_RWA_stranded_7plus_pct"] = True  # the expander opened
    app.run()
    [counts] = [e for e in app.expander if e.label == "Counts day by day (interactive chart)"]
    layout = json.loads(counts.get("plotly_chart")[0].proto.spec)["layout"]
    assert [a["text"] for a in layout["annotations"]] == ["Patients staying 7+ days (a day)",
                                                           "Occupied G&A beds (a day)"]
    assert layout["xaxis"]["showline"] is False and layout["xaxis2"].get("showline") is not False


def test_sections_below_the_first_screen_are_closed_and_drawn_only_when_opened(drill):
    """Issue 24: the first screen sends no Plotly chart; each section below it runs when opened, and the open
    ones are kept in the URL so a link opens the same view."""
    app = run_page(trust="RCB")
    assert sections(app)[0] == "Change the dates"  # the first screen's: the dates, the counts, each field's source
    assert sections(app)[3:] == ["Day by day", "SPC chart", "Beside the system and its peers", "By site",
                                 "Pathway mix", "Days from discharge ready date to discharge"]
    assert not any(e.proto.expanded for e in app.expander) and not app.get("plotly_chart")
    app.session_state["spc"] = True  # the user opens the SPC chart
    app.run()
    [spc] = [e for e in app.expander if e.label == "SPC chart"]
    assert spc.proto.expanded and len(spc.get("plotly_chart")) == 1 and len(app.get("plotly_chart")) == 1
    linked = run_page(trust="RCB", spc="true")  # a link to that view (the browser writes it: test_e2e_drilldown)
    assert [e.label for e in linked.expander if e.proto.expanded] == ["SPC chart"]
    assert len(linked.get("plotly_chart")) == 1


def lazy_section_app() -> None:
    """Two sections, one kept in the URL: each writes a line while open."""
    from ui.sections import lazy_section  # noqa: PLC0415  (AppTest runs the function's source on its own)

    for label, key, in_url in (("Linked", "linked", True), ("Session only", "session_only", False)):
        if box := lazy_section(label, key, in_url=in_url):
            box.write(f"{label} drawn")


def test_lazy_section_draws_nothing_until_opened_and_a_linked_one_follows_the_url():
    app = AppTest.from_function(lazy_section_app, default_timeout=page_run_guard_s()).run()
    assert [(e.label, e.proto.expanded) for e in app.expander] == [("Linked", False), ("Session only", False)]
    assert not app.markdown
    app.session_state["session_only"] = True
    app.run()
    assert [m.value for m in app.markdown] == ["Session only drawn"] and dict(app.query_params) == {}
    linked = AppTest.from_function(lazy_section_app, default_timeout=page_run_guard_s())
    linked.query_params["linked"] = "true"
    linked.run()
    assert [m.value for m in linked.markdown] == ["Linked drawn"]
    assert [e.label for e in linked.expander if e.proto.expanded] == ["Linked"]
