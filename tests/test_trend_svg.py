"""The drill-down's first-screen trend (ui/trend_svg.py): an SVG of the last weeks of the SPC chart with
its limits, an image to a screen reader whose words say what it shows, drawn without a browser."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from pipelines.catalogue.metrics import METRIC_BY_ID, Unit
from pipelines.queries.drilldown import TrustSpc
from pipelines.spc.xmr import xmr
from ui.spc_icons import CONCERN, IMPROVEMENT
from ui.trend_svg import last_weeks, spc_trend_html, trend_svg, trend_text

SVG = "{http://www.w3.org/2000/svg}"
FIRST_WEEK = date(2024, 1, 7)  # a Sunday
STRANDED = METRIC_BY_ID["stranded_7plus_pct"]


def chart(values: list[float], **settings) -> pl.DataFrame:  # noqa: ANN003 - xmr's settings
    weeks = [FIRST_WEEK + timedelta(weeks=i) for i in range(len(values))]
    return xmr(pl.DataFrame({"period": weeks, "value": values}), better="lower", **settings).points


# 30 weeks level around 40%, then a shift up to about 55% for the last 8: a special cause concern.
LEVEL = [40.0, 41.5, 39.0, 40.5, 38.5, 41.0, 40.0, 39.5, 42.0, 38.0] * 3
SHIFT = LEVEL + [55.0, 56.0, 54.5, 55.5, 57.0, 54.0, 56.5, 55.0]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_the_last_26_weeks_are_drawn_with_limits_and_words():
    points = last_weeks(chart(SHIFT))
    assert points.height == 26 and points["period"][-1] == FIRST_WEEK + timedelta(weeks=37) == date(2024, 9, 22)
    svg = parse(trend_svg(points, "Stranded 7+ days", Unit.PERCENT, 40.0, "< 40%"))
    assert svg.get("role") == "img"
    words = svg.get("aria-label")
    assert svg.find(f"{SVG}title").text == words  # the same words for a screen reader and a hover
    assert words == ("Stranded 7+ days, the 26 complete weeks to the week ending 22/09/2024: 39.0% in the first, "
                     "55.0% in the latest; mean 43.2%, process limits 37.0% to 49.5%; special cause improvement in "
                     "18 weeks, the latest 28/07/2024; special cause concern in 8 weeks, the latest 22/09/2024; "
                     "the ambition: < 40%.")
    # mean and both limits: one line each (one segment), the ambition dashed, the weekly line, 26 markers
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 4 and [len(line.get("points").split()) for line in lines] == [26] * 4
    assert len(svg.findall(f"{SVG}line")) == 1  # the ambition
    # Each special cause week by its shape as well as its colour: a square for concern, a diamond for improvement.
    assert len([r for r in svg.findall(f"{SVG}rect") if r.get("fill") == CONCERN]) == 8
    assert len([p for p in svg.findall(f"{SVG}polygon") if p.get("fill") == IMPROVEMENT]) == 18
    assert not svg.findall(f"{SVG}circle")  # no common cause week
    assert ["".join(t.itertext()) for t in svg.findall(f"{SVG}text")] == [
        "Ambition< 40%", "38.0%", "57.0%", "31/03/2024", "22/09/2024"]  # "Ambition" over "< 40%", beside the plot


def test_recalculated_limits_draw_a_line_per_segment():
    # limits recalculated from the shift, 24 weeks before the latest: 2 weeks of the old limits are in view
    points = last_weeks(chart(SHIFT + SHIFT[-8:] * 2, recalculate_from=[FIRST_WEEK + timedelta(weeks=30)]))
    svg = parse(trend_svg(points, "Stranded 7+ days", Unit.PERCENT))
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 2 * 3 + 1  # mean and two limits in each of two segments, and the weekly line
    assert not svg.findall(f"{SVG}line")  # no ambition, no ambition line


def test_too_few_weeks_for_limits_says_so():
    points = last_weeks(chart([40.0, 42.0, 41.0]))
    words = trend_text(points, "Stranded 7+ days", Unit.PERCENT)
    assert words == ("Stranded 7+ days, the 3 complete weeks to the week ending 21/01/2024: 40.0% in the first, "
                     "41.0% in the latest; too few weeks for process limits.")


def test_no_weeks_no_chart():
    assert trend_svg(chart([]), "x", Unit.PERCENT) == ""


def test_the_drilldowns_trend_uses_the_latest_ambition_in_force():
    result = xmr(pl.DataFrame({"period": [FIRST_WEEK + timedelta(weeks=i) for i in range(20)],
                               "value": LEVEL[:20]}), better="lower")
    ambition = pl.DataFrame({"week_ending": [FIRST_WEEK, FIRST_WEEK + timedelta(weeks=19)], "ambition": [45.0, 40.0],
                             "ambition_comparison": ["<", "<"], "unit": [Unit.PERCENT, Unit.PERCENT]})
    spc = TrustSpc(result, "lower", 40.0, "<", ambition, None, pl.DataFrame())
    html = spc_trend_html(spc, STRANDED)
    assert html.startswith("<figure") and "The last 26 complete weeks (SPC)" in html
    assert 'alt="Stranded 7+ days, the 20 complete weeks to the week ending 19/05/2024' in html  # short label
    assert '<img src="data:image/svg+xml;base64,' in html and "<svg" not in html  # st.html drops inline SVG
    assert "the ambition: &lt; 40%." in html


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60), st.text(max_size=40))
def test_any_series_draws_inside_the_box_with_its_label_escaped(values, label):
    svg = trend_svg(last_weeks(chart(values)), label, Unit.PATIENTS)
    root = parse(svg)  # well formed whatever the label: escaped
    for marker in root.findall(f"{SVG}circle"):
        assert 0 <= float(marker.get("cx")) <= 560 and 0 <= float(marker.get("cy")) <= 170
    assert root.get("aria-label").endswith(".")
