"""The drill-down's discharge ready date section: the delay bands week by week, checked by hand on a small
fixture, the figure's colours, and what the trust page shows (AppTest)."""
from __future__ import annotations

from datetime import date

import duckdb
import pytest
from helpers import DRD_ROW, load_rows_directly, week_of_rows
from test_presentation import _linear, _luminance, contrast
from test_trust_page import run_page, sections, texts

from pipelines.catalogue.columns import DRD_BANDS
from pipelines.queries import drd
from ui import drd_charts

WEEK_1, WEEK_2 = date(2024, 4, 1), date(2024, 4, 8)


@pytest.fixture
def drd_db(db):
    """Harrogate: no discharge ready dates in week 1, every day of week 2 as DRD_ROW (bands 4, 2, 1, 1, 1, 0, 1
    of 10 a day); South Tees: never any."""
    load_rows_directly(db, week_of_rows("RCD", WEEK_1) + week_of_rows("RCD", WEEK_2, **DRD_ROW)
                       + week_of_rows("RTR", WEEK_2))
    return db


def test_the_bands_are_each_weeks_shares_of_its_discharges(drd_db):
    with duckdb.connect(str(drd_db), read_only=True) as con:
        bands = drd.weekly_bands(con, "RCD", WEEK_1, date(2024, 4, 14))
        firsts = drd.first_figures(con)
    assert bands["week_ending"].unique().to_list() == [date(2024, 4, 14)]  # week 1 had none: no bars, no zeros
    assert bands["band"].to_list() == list(DRD_BANDS)
    assert bands["patients"].to_list() == [28, 14, 7, 7, 7, 0, 7]  # 7 days of 4, 2, 1, 1, 1, 0, 1
    assert bands["share"].to_list() == pytest.approx([40, 20, 10, 10, 10, 0, 10])
    assert firsts[("RCD", "delay_21plus_pct")] == WEEK_2 and ("RTR", "delay_21plus_pct") not in firsts


def test_the_figure_stacks_the_bands_in_order_in_colours_readable_on_white(drd_db):
    with duckdb.connect(str(drd_db), read_only=True) as con:
        fig = drd_charts.delay_bands_figure(drd.weekly_bands(con, "RCD", WEEK_1, date(2024, 4, 14)))
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == list(drd.BAND_LABELS.values())
    assert sum(t.y[0] for t in fig.data) == pytest.approx(100)
    assert "21+ days after the discharge ready date: 10.0% (7 patients)" in fig.data[-1].customdata[0]
    white = _luminance(_linear("#FFFFFF"))
    assert all(contrast(_luminance(_linear(t.marker.color)), white) >= 3 for t in fig.data)
    assert len({t.marker.color for t in fig.data}) == len(fig.data)


def test_the_trust_page_shows_the_bands_and_when_collection_started(drd_db):
    app = run_page(trust="RCD", bands="true", **{"from": WEEK_1.isoformat(), "to": "2024-04-14"})
    assert "Days from discharge ready date to discharge" in sections(app)
    assert any("Not collected before 08/04/2024" in c for c in texts(app.caption))
    charts = [c for c in app.get("plotly_chart") if "Discharged" in c.proto.spec]
    assert len(charts) == 1


def test_a_trust_without_discharge_ready_dates_says_so(drd_db):
    app = run_page(trust="RTR", bands="true")
    assert "South Tees: discharge ready dates not collected in the chosen dates." in texts(app.info)
