"""The drill-down's sentence of what changed and when (pipelines.spc.explain), on planted weekly series
whose counts are worked by hand, and the counts a day behind a ratio (the tables and figures of
pipelines.queries.drilldown)."""
from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from pipelines.catalogue.metrics import METRIC_BY_ID, METRICS
from pipelines.reports import drilldown_text
from pipelines.spc.explain import change_sentence, count_text, counts_text, per_day
from pipelines.spc.xmr import MIN_POINTS, xmr

START = date(2024, 9, 1)  # a week-ending Sunday
# 20 steady weeks of long-stay patients a day: 39, 40, 41 repeating (mean 40), out of 400 beds a day.
STEADY = [39 + i % 3 for i in range(20)]
LONG_STAY, BEDS = "patients staying 7+ days", "occupied G&A beds"


def week(i: int) -> date:
    return START + timedelta(weeks=i)


def sentence(per_day_counts: list[float], beds: list[float] | None = None, better: str = "lower") -> str:
    """The sentence for weeks of 7 days each with these numerators a day (and beds a day, 400 by default)."""
    beds = beds or [400.0] * len(per_day_counts)
    parts = pl.DataFrame({"period": [week(i) for i in range(len(per_day_counts))],
                          "numerator": [7.0 * n for n in per_day_counts], "denominator": [7.0 * b for b in beds],
                          "days_with_data": [7] * len(per_day_counts)})
    chart = xmr(pl.DataFrame({"period": parts["period"],
                              "value": [100 * n / b for n, b in zip(per_day_counts, beds, strict=True)]}),
                better=better)
    return change_sentence(chart.points, parts, LONG_STAY, BEDS)


def test_a_shift_up_names_its_first_week_and_the_counts_behind_it():
    # 20 steady weeks averaging 40 a day (sum 800 over 20 weeks), then 7 weeks of 58 a day: up 18.
    text = sentence(STEADY + [58] * 7)
    assert text == ("Shift up since the week ending 19/01/2025 (special cause concern): patients staying 7+ days "
                    "up 18 a day (from 40 to 58) while occupied G&A beds stayed level (about 400 a day).")


def test_a_shift_down_on_a_lower_is_better_metric_is_an_improvement():
    text = sentence(STEADY + [30] * 7)
    assert text.startswith("Shift down since the week ending 19/01/2025 (special cause improvement): ")
    assert "patients staying 7+ days down 10 a day (from 40 to 30)" in text


def test_a_rise_in_beds_alone_shows_as_a_fall_in_the_share():
    # Long stays level at 40 a day; beds 400 then 500 a day: the share falls from 10% to 8%.
    text = sentence(STEADY + [40] * 7, [400.0] * 20 + [500.0] * 7)
    assert text.startswith("Shift down since the week ending 19/01/2025")
    assert "patients staying 7+ days stayed level (about 40 a day) while occupied G&A beds up 100 a day " \
           "(from 400 to 500)" in text


def test_a_trend_that_crosses_the_mean_is_called_a_trend_from_its_first_point():
    # 20 steady weeks, then 7 weeks rising by 1 from 37 to 43: 6 rises, crossing the mean (no shift),
    # inside the limits (mean moving range about 1.3, so the limits are about 40 +/- 3.6 before the rise).
    text = sentence(STEADY + [36.5, 37.5, 38.5, 39.5, 40.5, 41.5, 42.5])
    assert text.startswith("Rising trend since the week ending 19/01/2025 (special cause concern): ")


def test_a_rising_trend_below_the_mean_is_called_a_rising_trend():
    # A fall to 30 a day, then 7 weeks rising to 36: all below the mean (a low shift) and rising (a high
    # trend), so the points are both high and low; the sentence names the trend, the change under way.
    text = sentence(STEADY + [30, 30, 30, 30, 31, 32, 33, 34, 35, 36])
    assert text.startswith("Rising trend since the week ending ")
    assert "(special cause, neither better nor worse)" in text


def test_one_week_outside_the_limits_is_named():
    text = sentence(STEADY + [80])
    assert text == ("The week ending 19/01/2025 was above the upper limit (special cause concern): patients "
                    "staying 7+ days up 40 a day (from 40 to 80) while occupied G&A beds stayed level "
                    "(about 400 a day).")


def test_no_signal_says_common_cause():
    text = sentence(STEADY)
    assert text.startswith("Common cause variation: no shift, trend or point outside the limits up to the week "
                           "ending 12/01/2025; the last 4 weeks against the weeks before them: ")
    assert "patients staying 7+ days and occupied G&A beds both stayed level (about 40 and 400 a day)." in text


def test_too_few_points_says_so():
    assert sentence(STEADY[:8]) == ("Too few complete weeks for SPC limits (8 since the week ending 01/09/2024; "
                                    f"{MIN_POINTS} are needed), so SPC cannot yet say whether anything changed.")


def test_no_points_at_all():
    empty = xmr(pl.DataFrame(schema={"period": pl.Date, "value": pl.Float64}), better="lower")
    parts = pl.DataFrame(schema={"period": pl.Date, "numerator": pl.Float64, "denominator": pl.Float64,
                                 "days_with_data": pl.Int32})
    assert change_sentence(empty.points, parts, LONG_STAY, BEDS).startswith("No complete week")


def test_counts_are_sums_over_days_not_averages_of_weeks():
    # Before: a 7-day week of 70 and a 3-day part week of 60 -> 130 over 10 days = 13 a day (the
    # average of the two weeks' averages, 10 and 20, would say 15). After: 140 over 7 days = 20 a day.
    before = pl.DataFrame({"numerator": [70.0, 60.0], "denominator": [700.0, 300.0], "days_with_data": [7, 3]})
    after = pl.DataFrame({"numerator": [140.0], "denominator": [700.0], "days_with_data": [7]})
    assert counts_text(before, after, LONG_STAY, None) == "patients staying 7+ days up 7.0 a day (from 13 to 20)"
    assert counts_text(before, after, LONG_STAY, BEDS).endswith(
        "while occupied G&A beds stayed level (about 100 a day)")


def test_per_day_and_count_text():
    frame = per_day(pl.DataFrame({"numerator": [70.0, 5.0, None], "denominator": [630.0, 10.0, 3.0],
                                  "days_with_data": [7, 0, 1]}))
    assert frame["numerator_per_day"].to_list() == [10.0, None, None]
    assert frame["denominator_per_day"].to_list() == [90.0, None, 3.0]
    assert [count_text(v) for v in (9.94, 9.96, 1234.4, None)] == ["9.9", "10", "1,234", "not reported"]


# --- the figures behind a ratio, on the drill-down's weekly rows --------------------------------------

def weekly_rows() -> pl.DataFrame:
    """Two weeks of a trust's weekly_position rows: stranded 7+ 45 of 90 a day (315 of 630 over 7 days),
    then 36 of 90 (252 of 630); LoS 14+ 20%, then a part week of 3 days at 10%."""
    return pl.DataFrame([
        {"week_ending": date(2024, 4, 7), "metric": "stranded_7plus_pct", "value": 50.0, "numerator": 315.0,
         "denominator": 630.0, "days_with_data": 7},
        {"week_ending": date(2024, 4, 14), "metric": "stranded_7plus_pct", "value": 40.0, "numerator": 252.0,
         "denominator": 630.0, "days_with_data": 7},
        {"week_ending": date(2024, 4, 7), "metric": "stranded_14plus_pct", "value": 20.0, "numerator": 126.0,
         "denominator": 630.0, "days_with_data": 7},
        {"week_ending": date(2024, 4, 14), "metric": "stranded_14plus_pct", "value": 10.0, "numerator": 27.0,
         "denominator": 270.0, "days_with_data": 3},
    ])


def test_week_counts_text_gives_the_counts_a_day_behind_the_share():
    text = drilldown_text.week_counts_text(weekly_rows(), METRIC_BY_ID["stranded_7plus_pct"], date(2024, 4, 14))
    assert text == ("Week ending Sun 14/04/2024: 36 patients staying 7+ days a day of 90 occupied G&A beds "
                    "(40.0%); the week before: 45 of 90 (50.0%).")
    assert drilldown_text.week_counts_text(weekly_rows(), METRIC_BY_ID["recorded_delays"], date(2024, 4, 14)) == ""


def test_related_table_reads_across_the_weeks():
    table = drilldown_text.related_table(weekly_rows(), METRIC_BY_ID["stranded_7plus_pct"], date(2024, 4, 14))
    assert table.columns == ["Figure", "07/04/2024", "14/04/2024"]
    rows = {r[0]: list(r[1:]) for r in table.rows()}
    assert rows["Patients staying 7+ days (a day)"] == ["45", "36"]
    assert rows["Occupied G&A beds (a day)"] == ["90", "90"]
    assert rows["Stranded 7+ days"] == ["50.0%", "40.0%"]
    assert rows["LoS 14+ days"] == ["20.0%", "10.0%"]
    assert rows["Pathway 0"] == ["not reported", "not reported"]  # a related metric with no rows here
    assert list(rows)[:3] == ["Patients staying 7+ days (a day)", "Occupied G&A beds (a day)", "Stranded 7+ days"]


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.id)
def test_every_catalogue_metric_has_a_table_and_words(metric):
    """Any metric the catalogue holds, including ones added later, gets its rows and words."""
    assert all(r in METRIC_BY_ID and r != metric.id for r in metric.related)
    table = drilldown_text.related_table(weekly_rows(), metric, date(2024, 4, 14))
    ratio = metric.is_ratio
    assert table.height == 1 + len(metric.related) + (2 if ratio else 0)
    assert metric.numerator_text and (metric.denominator_text is not None) == ratio


def test_tiles_say_better_or_worse_in_words_and_escape_every_text():
    """The headline tiles' HTML: each a list item headed by its label (the full one read out), the change's arrow
    following its sign and its class (colour) following its words, no arrow for no change; text escaped."""
    tile = {"label": "Stranded: <b>LoS</b> 7+", "short_label": "Stranded 7+ days", "value": "40.0%",
            "delta": "-10.0 pts, better", "direction": "better", "better": "lower", "status": "✓ meets ambition",
            "ambition": "≤ 40%"}
    same = {**tile, "delta": "no change", "direction": "same", "status": "", "ambition": "none"}
    page = drilldown_text.tiles_html([tile, {**tile, "delta": "+2.0 pts, worse", "direction": "worse"}, same],
                                     "Headline figures, week ending Sun 14/04/2024")
    assert page.count("<li>") == 3 and 'aria-label="Headline figures, week ending Sun 14/04/2024"' in page
    assert "<b>" not in page and "Stranded: &lt;b&gt;LoS&lt;/b&gt; 7+" in page
    assert '<p class="change better"><span aria-hidden="true">↓</span> -10.0 pts, better</p>' in page
    assert '<p class="change worse"><span aria-hidden="true">↑</span> +2.0 pts, worse</p>' in page
    assert '<p class="change same">no change</p>' in page
    assert '<p class="status">✓ meets ambition (≤ 40%)</p>' in page
    assert '<p class="status">No national ambition</p>' in page
