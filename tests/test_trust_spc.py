"""The drill-down's SPC chart and NHS England publication sections: the figure builders on
hand-made frames, the queries on small fixtures, and the page (AppTest) for what a user sees."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import NHSE_FIXTURES, load_rows_directly, query, read_only, related_rows, tiles, week_of_rows
from streamlit.testing.v1 import AppTest
from test_trust_page import OPEN, run_page, sections, texts

from pipelines.ingest.load import ingest_paths
from pipelines.publication import tables as nhse_tables
from pipelines.publication.read import NhseRead
from pipelines.publication.store import store_publication
from pipelines.queries import drilldown, provenance
from pipelines.spc import store
from pipelines.spc.store import refresh_derived
from pipelines.spc.xmr import OUTSIDE, SHIFT, TREND, SpcResult
from pipelines.warehouse import open_for_write
from ui import charts, data, spc_chart, trust_sections

FIRST_MONDAY = date(2024, 1, 1)
WORKBOOK = NHSE_FIXTURES / "acute-discharge-sitrep-2023-11.xlsx"


def sunday(week: int) -> date:
    """The Sunday ending week ``week`` (1-based) of the fixtures."""
    return FIRST_MONDAY + timedelta(weeks=week - 1, days=6)


# --- the SPC figure on a hand-made result -------------------------------------------------------

def hand_made_result() -> SpcResult:
    """Six weeks in two segments (limits recalculated from week 4): week 2 is a low point outside the
    limits (an improvement for a lower-is-better metric), week 3 a high shift-and-trend point (a concern)."""
    periods = [sunday(w) for w in range(1, 7)]
    points = pl.DataFrame({
        "period": periods, "value": [10.0, 8.0, 13.0, 20.0, 21.0, 19.0], "segment": [0, 0, 0, 1, 1, 1],
        "baseline": [True] * 6, "moving_range": [None, 2.0, 5.0, 7.0, 1.0, 2.0],
        "mean": [10.0, 10.0, 10.0, 20.0, 20.0, 20.0], "upper_limit": [12.0, 12.0, 12.0, 23.0, 23.0, 23.0],
        "lower_limit": [8.5, 8.5, 8.5, 17.0, 17.0, 17.0], "upper_2sigma": [11.0] * 3 + [22.0] * 3,
        "lower_2sigma": [9.0] * 3 + [18.0] * 3,
        "special_cause": [False, True, True, False, False, False],
        "rules": [[], [OUTSIDE], [SHIFT, TREND], [], [], []],
        "direction": [None, "low", "high", None, None, None],
        "signal": ["common cause", "improvement", "concern", "common cause", "common cause", "common cause"],
    }, schema_overrides={"segment": pl.Int32, "rules": pl.List(pl.String)})
    return SpcResult(points, "common_cause", "hit_or_miss", "6 points.", 6, 0)


def traces(fig) -> dict[str, object]:
    return {t.name: t for t in fig.data}


def test_special_cause_points_are_coloured_by_the_nhs_convention_with_the_rules_in_the_hover():
    fig = spc_chart.spc_figure(hand_made_result(), "Stranded", "%")
    by_name = traces(fig)
    improvement, concern = by_name["Special cause improvement"], by_name["Special cause concern"]
    common = by_name["Common cause variation"]
    assert (improvement.marker.color, improvement.marker.line.color) == ("#41B6E6", "#005EB8")
    assert concern.marker.color == "#ED8B00" and common.marker.color == "#768692"
    assert list(improvement.x) == [sunday(2)] and list(concern.x) == [sunday(3)]
    assert len(common.x) == 4
    # shape as well as colour, so the classes are told apart without colour vision
    assert len({improvement.marker.symbol, concern.marker.symbol, common.marker.symbol}) == 3
    assert improvement.customdata[0] == ("Week ending Sun 14/01/2024<br>Stranded: 8.0%<br>Special cause improvement "
                                         "(low): a point outside the process limits")
    assert "shift: 7 or more points in a row on one side of the mean" in concern.customdata[0]
    assert "trend: 7 or more points in a row all rising or all falling" in concern.customdata[0]
    assert common.customdata[0].endswith("<br>Common cause variation")


def test_each_segment_has_its_own_mean_and_limits_broken_at_the_recalculation():
    fig = spc_chart.spc_figure(hand_made_result(), "Stranded", "%")
    by_name = traces(fig)
    mean = by_name["Mean"]
    assert list(mean.y) == [10.0, 10.0, 10.0, None, 20.0, 20.0, 20.0]  # a gap: two separate lines
    assert list(mean.x)[3] is None and mean.connectgaps is False
    limits = [t for t in fig.data if t.legendgroup == "limits"]
    assert [list(t.y) for t in limits] == [[12.0] * 3 + [None] + [23.0] * 3, [8.5] * 3 + [None] + [17.0] * 3]
    assert [t.showlegend for t in limits] == [True, False]  # one legend entry, "Process limits"
    assert "limits of the weeks from Sun 28/01/2024" in mean.customdata[-1]
    # the recalculation is marked where the second segment starts
    assert [s.x0 for s in fig.layout.shapes] == [sunday(4)]
    assert fig.layout.annotations[0].text == "Recalculated from 28/01/2024"
    assert "2 sigma" not in " ".join(t.name or "" for t in fig.data)  # not drawn


def test_the_ambition_line_and_a_missing_week_break_the_lines():
    result = hand_made_result()
    points = result.points.filter(pl.col("period") != sunday(5))  # week 5 missing
    ambition = pl.DataFrame({"week_ending": [sunday(w) for w in range(1, 7)], "ambition": [12.0] * 6,
                             "ambition_comparison": ["<"] * 6, "unit": ["%"] * 6})
    fig = spc_chart.spc_figure(SpcResult(points, "common_cause", None, "", 5, 0), "Stranded", "%", ambition)
    values = fig.data[0]
    assert list(values.y) == [10.0, 8.0, 13.0, 20.0, None, 19.0]
    assert traces(fig)["Ambition < 12%"].line.dash == "dash"


def test_a_run_chart_has_no_limits_and_says_so_in_the_legend():
    points = hand_made_result().points.with_columns(
        pl.lit(None, pl.Float64).alias(c) for c in ("mean", "upper_limit", "lower_limit")).with_columns(
        signal=pl.lit(None, pl.String), special_cause=pl.lit(False), rules=pl.lit([], pl.List(pl.String)))
    fig = spc_chart.spc_figure(SpcResult(points, "run_chart", None, "", 6, 0), "Stranded", "%")
    assert [t.name for t in fig.data if t.showlegend is not False] == ["No limits (run chart)"]
    assert fig.data[-1].customdata[0].endswith("No limits (run chart)")


# --- the page: SPC ------------------------------------------------------------------------------

def stranded_weeks(levels: list[int], monday: date = FIRST_MONDAY) -> list[dict[str, object]]:
    """Harrogate (RCD), one complete week per level from ``monday``: los_7plus of 90 occupied beds every day."""
    return [row for week, level in enumerate(levels)
            for row in week_of_rows("RCD", monday + timedelta(weeks=week), ga_beds_occupied=90, los_7plus=level)]


# A step change: 15 weeks near 50% stranded, then 15 near 40% (lower is better): the last weeks are a
# shift below the mean, so special cause improvement (low); the ambition (< 40%) lies below the limits.
STEP = [45, 46] * 7 + [45] + [36, 37] * 7 + [36]


@pytest.fixture
def step(db: Path) -> Path:
    load_rows_directly(db, stranded_weeks(STEP))
    return db


def image_alts(app: AppTest) -> list[str]:
    return [img.alt for element in app.image for img in element.proto.imgs]


def labelled(widgets, label: str):
    [widget] = [w for w in widgets if w.label == label]
    return widget


def spc_message(app: AppTest) -> str:
    """The caption under the SPC chart: SpcResult.message."""
    return next(c for c in texts(app.caption) if "points" in c and ("limits" in c or "run chart" in c))


def test_a_step_change_shows_special_cause_improvement_with_its_icons(step):
    app = run_page(trust="RCD", metric="stranded_7plus_pct", spc="true")
    assert "SPC chart" in sections(app)
    words = " ".join(texts(app.markdown))
    assert "Special cause improvement (low); lower is better" in words
    assert "Consistently failing the ambition" in words  # < 40% is below the lower limit
    # the icons carry the same words as alt text
    assert image_alts(app) == ["Special cause improvement (low); lower is better", "Consistently failing the ambition"]
    assert spc_message(app) == "30 points; limits from all 30 points."
    spc = next(json.loads(c.proto.spec) for c in app.get("plotly_chart")
               if any(t.get("name") == "Mean" for t in json.loads(c.proto.spec)["data"]))
    improvement = next(t for t in spc["data"] if t.get("name") == "Special cause improvement")
    assert "Week ending Sun 28/07/2024" in improvement["customdata"][-1]  # the last week, hovered in UK form


def test_the_first_screen_says_what_changed_and_the_counts_behind_it(step):
    """Stranded falls from about 45 to 36 of 90 beds a day from the 16th week (ending 21/04/2024):
    before, 15 weeks averaging (8 x 45 + 7 x 46) / 15 = 45.5 a day; after, (8 x 36 + 7 x 37) / 15 = 36.5."""
    app = run_page(trust="RCD", metric="stranded_7plus_pct")
    first = texts(app.info)[0]  # the first box of the page, above the tiles
    assert first == ("**Stranded 7+ days.** Shift down since the week ending 21/04/2024 (special cause improvement): "
                     "patients staying 7+ days down 9.0 a day (from 45 to 36) while occupied G&A beds stayed level "
                     "(about 90 a day).   \nWeek ending Sun 28/07/2024: 36 patients staying 7+ days a day of 90 "
                     "occupied G&A beds (40.0%); the week before: 37 of 90 (41.1%).")
    table = related_rows(app)
    assert table["Figure"] == ["07/07/2024", "14/07/2024", "21/07/2024", "28/07/2024"]
    assert table["Patients staying 7+ days (a day)"] == ["37", "36", "37", "36"]
    assert table["Occupied G&A beds (a day)"] == ["90", "90", "90", "90"]
    assert list(table)[4:7] == ["LoS 14+ days", "Super-stranded 21+", "NCTR of occupied"]
    assert "Delay reasons: none in the files loaded, for this trust or its ICB." in texts(app.caption)


def test_fewer_than_15_weeks_is_a_run_chart_said_plainly(db):
    load_rows_directly(db, stranded_weeks([45, 46] * 5))
    app = run_page(trust="RCD", metric="stranded_7plus_pct", spc="true")
    assert spc_message(app) == "Fewer than 15 points (10): shown as a run chart without limits."
    assert "Run chart: too few points for limits" in " ".join(texts(app.markdown))


def test_opel_metrics_have_no_spc_chart(step):
    assert "SPC chart" not in sections(run_page(trust="RCD", metric="trust_opel_max"))


def test_saving_a_recalculation_date_through_the_form_recalculates_the_limits(step):
    app = run_page(trust="RCD", metric="stranded_7plus_pct", spc="true")
    labelled(app.date_input, "Recalculate limits from").set_value(FIRST_MONDAY + timedelta(weeks=15))
    labelled(app.text_input, "Reason").set_value("Discharge-to-assess service started")
    labelled(app.text_input, "Your name").set_value("Sam Analyst")
    labelled(app.button, "Save SPC settings").click().run()
    assert not app.exception, app.exception
    assert "Saved the SPC settings of Stranded: occupied beds with LoS 7+ days." in texts(app.success)
    assert spc_message(app) == ("30 points; limits from the first 15 points. "
                                "Limits recalculated from 21 Apr 2024 (15 points).")
    # the second segment alone is steady: common cause
    assert "Common cause variation; lower is better" in " ".join(texts(app.markdown))
    assert query(step, "SELECT recalculate_from, reason, set_by FROM spc_settings") == [
        ([date(2024, 4, 15)], "Discharge-to-assess service started", "Sam Analyst")]
    # the weekly table's reading (metric_spc) follows the same settings
    assert query(step, "SELECT variation FROM metric_spc WHERE org_code = 'RCD' AND metric = 'stranded_7plus_pct'"
                 ) == [("common_cause",)]
    assert any(c.startswith("Stored: limits recalculated from 15/04/2024 (Discharge-to-assess service started), "
                            "set by Sam Analyst") for c in texts(app.caption))

    labelled(app.button, "Clear baseline and recalculation dates").click().run()
    assert spc_message(app) == "30 points; limits from all 30 points."
    assert query(step, "SELECT baseline_start, recalculate_from FROM spc_settings") == [(None, [])]


def test_a_fixed_baseline_is_saved_and_half_a_baseline_is_refused(step):
    app = run_page(trust="RCD", metric="stranded_7plus_pct", spc="true")
    app.session_state["narrative_author"] = "Sam Analyst"  # the name given on the narrative page is reused
    app.run()
    assert labelled(app.text_input, "Your name").value == "Sam Analyst"
    labelled(app.date_input, "Baseline from").set_value(sunday(1))
    labelled(app.button, "Save SPC settings").click().run()
    assert texts(app.error) == ["Not saved: give both baseline dates, or neither."]
    assert query(step, "SELECT count(*) FROM spc_settings") == [(0,)]

    labelled(app.date_input, "Baseline from").set_value(sunday(1))
    labelled(app.date_input, "Baseline to").set_value(sunday(20))
    labelled(app.button, "Save SPC settings").click().run()
    assert spc_message(app) == "30 points; limits from the fixed baseline 7 Jan 2024 to 19 May 2024 (20 points)."


def test_the_settings_form_needs_a_name(step):
    app = run_page(trust="RCD", metric="stranded_7plus_pct", spc="true")
    labelled(app.date_input, "Recalculate limits from").set_value(sunday(16))
    labelled(app.button, "Save SPC settings").click().run()
    assert texts(app.error) == ["Enter your name, so the settings say who set them."]


def test_an_unwritable_database_gives_a_plain_message_and_names_lose_bidi_overrides(step, monkeypatch, caplog):
    saved = []
    app = run_page(trust="RCD", metric="stranded_7plus_pct", spc="true")
    labelled(app.text_input, "Your name").set_value("Dr \u202eecilA\u202c")
    labelled(app.text_input, "Reason").set_value("new [service](https://evil.example)")
    labelled(app.date_input, "Recalculate limits from").set_value(sunday(16))
    monkeypatch.setattr(store, "save_spc_settings", lambda *args: saved.append(args))
    labelled(app.button, "Save SPC settings").click().run()
    assert saved[0][-2:] == ("Dr ecilA", "new [service](https://evil.example)")  # who, and why, as typed

    def read_only(*args):
        raise PermissionError(13, "Permission denied", "/srv/data/flow.duckdb.writing")

    monkeypatch.setattr(store, "save_spc_settings", read_only)
    labelled(app.button, "Save SPC settings").click().run()
    assert not app.exception
    assert texts(app.error) == [data.NOT_SAVED] and "/srv" not in data.NOT_SAVED
    assert any(record.exc_info and record.exc_info[0] is PermissionError for record in caplog.records)


def test_trust_spc_reads_the_same_series_as_metric_spc(step):
    with duckdb.connect(str(step), read_only=True) as con:
        spc = drilldown.trust_spc(con, "RCD", "stranded_7plus_pct", sunday(30))
        latest = con.execute("SELECT variation, assurance FROM metric_spc "
                             "WHERE org_code = 'RCD' AND metric = 'stranded_7plus_pct'").fetchall()
    assert (spc.result.variation, spc.result.assurance) == ("improvement_low", "fail")
    assert latest == [("improvement_low", "fail")]  # the home page's reading of the same series
    assert spc.target == 40.0 and spc.better == "lower" and spc.settings is None
    assert spc.result.points.height == 30 and spc.ambition.height == 30


# --- NHS England's publication ------------------------------------------------------------------

NOVEMBER = [date(2023, 11, d) for d in range(1, 31)]
REASONS = ("Awaiting a medical decision/intervention including writing the discharge summary",
           "Awaiting transport", "Awaiting medicines to take home", "Awaiting Diagnostic test",
           "Awaiting therapy decision to discharge", "Pathway 1: awaiting availability of resource for assessment "
           "and start of care at home")


def publication() -> NhseRead:
    """A publication with one trust, Manchester University (R0A), unknown to the reference data:
    November 2023 day by day (20 NCTR patients, 8 discharged), Table 4 for October and November,
    Table 5 (delay reasons) for the two months."""
    source = {"source_sheet": "Table 2", "source_row": 30, "source_column": "E"}
    org = {"org_code": "R0A", "org_name": "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST", "region": "North West"}
    daily = pl.DataFrame([{"period_date": d, **org, "icb_code": None, "nctr_patients": 20, "nctr_discharged": 8,
                           "nctr_remaining": 12, "nctr_discharged_by_5pm": None, "nctr_discharged_after_5pm": None,
                           **source} for d in NOVEMBER], schema=nhse_tables.DAILY_SCHEMA)
    # per month: P0 700 + 20 (two destinations), P1 150, P2 80 (hospice not published), P3 30 + 20 (P3b)
    destinations = [("P0", "P0 - Domestic home without reablement support", 0, 700),
                    ("P0", "P0 - Other without reablement support", 0, 20),
                    ("P1", "P1 - Domestic home with reablement support", 1, 150),
                    ("P2", "P2 - Community Rehab Setting (short term 24hr support)", 2, 80),
                    ("P2", "P2 - Hospice (short term 24hr support)", 2, None),
                    ("P3", "P3 - Care Home (new admission, likely permanent)", 3, 30),
                    ("P3b", "P3b - Care Home (existing resident discharged back)", 3, 20)]
    monthly = pl.DataFrame([{"month": month, **org, "destination_code": code, "destination": name, "pathway": pathway,
                             "discharges": n, **source} for month in (date(2023, 10, 1), date(2023, 11, 1))
                            for code, name, pathway, n in destinations], schema=nhse_tables.DESTINATION_SCHEMA)
    # November: reason i has 60 - 10 i patients (the sixth, 10, falls out of the top 5); October: 5 each
    periods = ((date(2023, 10, 1), date(2023, 10, 31), lambda i: 5.0), (date(2023, 11, 1), date(2023, 11, 30),
                                                                        lambda i: 60.0 - 10 * i))
    reasons = pl.DataFrame([{"period_start": start, "period_end": end, **org, "reason": reason, "patients": n(i),
                             **source} for start, end, n in periods for i, reason in enumerate(REASONS)],
                           schema=nhse_tables.DELAY_REASON_SCHEMA)
    trusts = pl.DataFrame([{"org_code": "R0A", "name": "Manchester University NHS Foundation Trust",
                            "short_name": "Manchester University", "region": "North West", "icb_code": None,
                            "icb_name": None, "icb_source": None, "published_name": org["org_name"]}])
    return NhseRead(kind="nhse_monthly_workbook", reader="test", daily=daily, monthly_destinations=monthly,
                    delay_reasons=reasons, trusts=trusts)


@pytest.fixture
def published(db: Path) -> Path:
    """The synthetic publication, stored as an ingest stores it, beside Harrogate's own sitrep of
    September 2024 (so the latest weeks of the database are long after the publication's)."""
    load_rows_directly(db, stranded_weeks([45] * 4, date(2024, 9, 2)))
    loaded_at = datetime(2024, 1, 10, 9, 0)
    with open_for_write(db) as con:
        con.execute("INSERT INTO ingest_files (file_id, file_name, content_hash, received_at, status, rows_read, "
                    "rows_loaded, rows_rejected, rows_warned, rows_superseded) VALUES "
                    "(7, 'acute-discharge-sitrep-2023-11.xlsx', 'x', ?, 'loaded', 30, 30, 0, 0, 0)", [loaded_at])
        store_publication(con, publication(), 7, "acute-discharge-sitrep-2023-11.xlsx", loaded_at)
        refresh_derived(con, None)  # as an ingest does for what it touched
    return db


@pytest.fixture
def pub_con(published: Path):
    yield from read_only(published)


def test_source_groups_and_their_caption(pub_con):
    groups = provenance.source_groups(pub_con, "R0A", date(2023, 10, 1), date(2023, 12, 31))
    assert groups == [{"source": "nhse_publication", "files": ["acute-discharge-sitrep-2023-11.xlsx"],
                       "spans": [(date(2023, 11, 1), date(2023, 11, 30))], "days": 30,
                       "loaded_at": datetime(2024, 1, 10, 9, 0)}]
    assert trust_sections.source_text(groups + [
        {"source": "trust_sitrep", "files": [f"sitrep_{m}.csv" for m in range(1, 6)],
         "spans": [(date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 3, 1), date(2024, 5, 31))], "days": 123,
         "loaded_at": None}]) == (
        "Source: NHS England Acute Daily Discharge SitRep (acute-discharge-sitrep-2023-11.xlsx) for "
        "01/11/2023-30/11/2023; the trust's own sitrep files (5 files, sitrep_1.csv to sitrep_5.csv) for "
        "01/01/2024-31/01/2024 and 01/03/2024-31/05/2024. Latest loaded 10/01/2024 09:00.")


@pytest.mark.parametrize("metric, gap", [
    ("stranded_7plus_pct", "no bed or length-of-stay figures"), ("ga_occupancy_pct", "no bed or length-of-stay"),
    ("nctr_pct_of_occupied", "no bed or length-of-stay"), ("pathway_0_1_pct", "by month only"),
    ("trust_opel_max", "no OPEL levels"), ("ctr_discharged_pct", None), ("recorded_delays", None)])
def test_what_the_publication_cannot_supply(metric, gap):
    found = provenance.publication_gap(metric)
    assert found is None if gap is None else gap in found


def test_publication_queries(pub_con):
    months = drilldown.publication_destinations(pub_con, "R0A", date(2023, 10, 15), date(2023, 11, 30))
    assert months["month"].unique().sort().to_list() == [date(2023, 10, 1), date(2023, 11, 1)]
    assert set(months["ambition"]) == {95.0} and months["source_file"][0] == "acute-discharge-sitrep-2023-11.xlsx"
    november = drilldown.publication_destinations(pub_con, "R0A", date(2023, 11, 1), date(2023, 11, 30))
    assert november["month"].n_unique() == 1
    reasons = drilldown.publication_delay_reasons(pub_con, "R0A", date(2023, 10, 1), date(2023, 11, 30))
    # the top 5 of November (the latest period), each with both months
    assert reasons.filter(pl.col("period_start") == date(2023, 11, 1))["reason"].to_list() == list(REASONS[:5])
    assert reasons.height == 10 and reasons["rank"].to_list() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_monthly_pathway_figure_shares_detail_and_ambition(pub_con):
    months = drilldown.publication_destinations(pub_con, "R0A", date(2023, 10, 1), date(2023, 11, 30))
    fig = charts.monthly_pathway_figure(months, drilldown.publication_pathway_mix(pub_con, "R0A", date(2023, 10, 1),
                                                                                  date(2023, 11, 30)))
    p0, p1, p2, p3, ambition = fig.data
    # of 1,000 discharges a month: P0 720, P1 150, P2 80, P3 50 (new placements and P3b)
    assert list(p0.y) == pytest.approx([72.0, 72.0]) and list(p3.y) == pytest.approx([5.0, 5.0])
    assert p0.customdata[1].startswith("November 2023<br>P0 home, no new support: 72.0% (720 of 1,000)")
    assert "P0 - Other without reablement support: 20" in p0.customdata[1]
    assert "P2 - Hospice (short term 24hr support): not published" in p2.customdata[0]
    assert "Home (P0+P1): 87.0%" in p1.customdata[0]
    assert ambition.name == "Ambition ≥ 95% home (P0+P1)" and list(ambition.y) == [95.0, 95.0, 95.0]
    assert list(fig.layout.xaxis.ticktext) == ["Oct 2023", "Nov 2023"]


def test_delay_reasons_figure_one_line_per_reason_with_exact_hovers(pub_con):
    reasons = drilldown.publication_delay_reasons(pub_con, "R0A", date(2023, 10, 1), date(2023, 11, 30))
    fig = charts.delay_reasons_figure(reasons)
    assert len(fig.data) == 5 and fig.data[0].name.startswith("1. Awaiting a medical decision")
    assert list(fig.data[0].y) == [5.0, 60.0]  # October, November: consecutive, so joined by a line
    assert fig.data[0].customdata[1].startswith("Wed 01/11/2023 to Thu 30/11/2023<br>")
    assert fig.data[0].customdata[1].endswith("60.0 patients (average, length of stay 14+ days)")
    assert len({(t.line.color, t.line.dash, t.marker.symbol) for t in fig.data}) == 5
    assert list(fig.layout.xaxis.ticktext) == ["Oct 2023", "Nov 2023"]


def test_a_publication_trust_opens_on_a_metric_it_has_figures_for(published):
    app = run_page(trust="R0A")  # no metric in the link: not the stranded default, which it has no figures for
    assert app.selectbox[1].value == provenance.publication_metrics()[0]
    assert "SPC chart" in sections(app)
    assert not any("Choose a criteria-to-reside metric" in i for i in texts(app.info))
    harrogate = run_page(trust="RCD")  # a trust's own sitreps: the stranded default as before
    assert harrogate.selectbox[1].value == "stranded_7plus_pct"


def test_a_publication_trust_page_shows_its_sections_and_says_what_is_not_reported(published):
    app = run_page(trust="R0A", metric="stranded_7plus_pct", **OPEN)
    # its own latest weeks (from the first day of figures), not the database's, which it has none of
    assert "Dates: 01/11/2023 to 30/11/2023 (the default)" in texts(app.caption)
    assert app.header[0].value == "Manchester University (R0A)"
    assert ("Source: NHS England Acute Daily Discharge SitRep (acute-discharge-sitrep-2023-11.xlsx) for "
            "01/11/2023-30/11/2023. Latest loaded 10/01/2024 09:00.") in texts(app.caption)
    infos = texts(app.info)
    assert ("Stranded: occupied beds with LoS 7+ days: not reported for this trust (NHS England's publication has "
            "no bed or length-of-stay figures). Choose a criteria-to-reside metric for the figures the publication "
            "has.") in infos
    assert [(t["label"], t["value"]) for t in tiles(app)] == [("NCTR discharged", "40.0%"),
                                                              ("Recorded delays", "12")]  # no empty tiles
    headings = sections(app)
    assert "Pathway mix by month (NHS England publication)" in headings
    assert "Delay reasons (NHS England publication)" in headings
    assert "SPC chart" not in headings  # nothing to chart for a metric that is not reported
    specs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    names = [[t.get("name") for t in spec["data"]] for spec in specs]
    assert ["P0 home, no new support", "P1 home with support", "P2 bedded rehabilitation", "P3 care home",
            "Ambition ≥ 95% home (P0+P1)"] in names
    assert any(n[0].startswith("1. Awaiting a medical decision") for n in names)


def test_a_publication_trust_has_its_delay_reasons_on_the_first_screen(published):
    app = run_page(trust="R0A", metric="recorded_delays")
    [reasons] = [c for c in texts(app.caption) if c.startswith("Largest delay reasons")]
    assert reasons.startswith("Largest delay reasons, 01/11/2023 to 30/11/2023 (NHS England publication; ")
    assert "Awaiting a medical decision" in reasons


def test_a_trust_the_publication_does_not_list_gets_its_icbs_delay_reasons(published):
    """Harrogate (RCD, ICB QWO) has no trust-level delay reasons: its ICB's are shown, named as the ICB's."""
    with open_for_write(published) as con:
        con.executemany("INSERT INTO nhse_delay_reasons_area (period_start, period_end, level, area_code, area_name, "
                        "reason, patients, file_id) VALUES ('2024-09-01', '2024-09-30', ?, ?, ?, ?, ?, 7)",
                        [("icb", "QWO", "NHS West Yorkshire ICB", "Awaiting transport", 4.0),
                         ("icb", "QWO", "NHS West Yorkshire ICB", "Awaiting a care home place", 9.5),
                         ("icb", "QOQ", "NHS Humber and North Yorkshire ICB", "Awaiting transport", 99.0),
                         ("region", "Y63", "North East and Yorkshire", "Awaiting transport", 50.0)])
    with duckdb.connect(str(published), read_only=True) as con:
        reasons = drilldown.publication_delay_reasons(con, "RCD", date(2024, 9, 2), date(2024, 9, 29))
        own = drilldown.publication_delay_reasons(con, "R0A", date(2023, 10, 1), date(2023, 11, 30))
    assert reasons[["reason", "patients", "area", "rank"]].rows() == [
        ("Awaiting a care home place", 9.5, "NHS West Yorkshire ICB", 1),
        ("Awaiting transport", 4.0, "NHS West Yorkshire ICB", 2)]
    assert drilldown.delay_reasons_text(reasons) == (
        "Largest delay reasons, NHS West Yorkshire ICB (the trust's ICB), 01/09/2024 to 30/09/2024 (NHS England "
        "publication; patients staying 14+ days not meeting the criteria to reside, average a day): Awaiting a care "
        "home place 9.5; Awaiting transport 4.0.")
    assert own["area"].is_null().all()  # a listed trust: its own reasons, not its ICB's
    app = run_page(trust="RCD", metric="stranded_7plus_pct", delays="true")
    assert any(c.startswith("Largest delay reasons, NHS West Yorkshire ICB") for c in texts(app.caption))
    [box] = [e for e in app.expander if e.label == "Delay reasons (NHS England publication)"]
    assert texts(box.caption)[0].startswith("NHS West Yorkshire ICB (the trust's ICB: the publication does not list "
                                            "the trust). Average number of patients")


def test_a_publication_trust_metric_it_supplies_has_its_spc_chart(published):
    app = run_page(trust="R0A", metric="recorded_delays", spc="true", system="true")
    assert "SPC chart" in sections(app)
    assert spc_message(app) == "Fewer than 15 points (3): shown as a run chart without limits."
    # what is known, not a file to edit
    assert any(i.startswith("ICB not known from the files loaded, so Manchester University has no system")
               for i in texts(app.info))
    assert not any("trusts.csv" in t for t in texts(app.info) + texts(app.caption))


def test_the_real_workbook_gives_a_publication_trust_its_sections(db):
    [outcome] = list(ingest_paths([WORKBOOK], db))
    assert outcome.status == "loaded"
    app = run_page(trust="R0A")
    assert any(c.startswith("Source: NHS England Acute Daily Discharge SitRep (acute-discharge-sitrep-2023-11.xlsx) "
                            "for 01/11/2023-30/11/2023") for c in texts(app.caption))
    headings = sections(app)
    assert {"Pathway mix by month (NHS England publication)",
            "Delay reasons (NHS England publication)"} <= set(headings)
    assert any("not reported for this trust (NHS England's publication has no bed or length-of-stay figures)" in i
               for i in texts(app.info))
