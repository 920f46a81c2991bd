"""XmR engine (pipelines.spc.xmr) against hand-worked series, rule by rule, and the SVG icons (ui.spc_icons)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.catalogue.wording import ASSURANCE_LABELS, VARIATION_LABELS, assurance_label, variation_label
from pipelines.spc import totals
from pipelines.spc.totals import BLOCK_WEEKS, ORIGIN
from pipelines.spc.xmr import (
    E2,
    MIN_POINTS,
    OUTSIDE,
    SHIFT,
    TREND,
    TWO_OF_THREE,
    xmr,
    xmr_from_totals,
    xmr_latest,
    xmr_many,
)
from pipelines.warehouse.schema import SCHEMA_SQL
from ui.spc_icons import assurance_icon, variation_icon

START = date(2024, 1, 7)  # a week-ending Sunday

# The hand-worked baseline: 15 weekly points.
#   sum = 96, so mean = 96 / 15 = 6.4
#   moving ranges: 2,1,2,3,1,1,1,1,3,1,1,1,2,1 -> sum 21 over 14 ranges, mean moving range 1.5
#   process limits: 6.4 +/- 2.66 x 1.5 = 6.4 +/- 3.99 -> UPL 10.39, LPL 2.41
#   2-sigma lines:  6.4 +/- (2/3) x 2.66 x 1.5 = 6.4 +/- 2.66 -> 9.06 and 3.74
# Against 6.4 the signs are - + - + - - + - - + + - - + +: no run of 7, no trend, nothing beyond 2 sigma.
BASE = [5, 7, 6, 8, 5, 6, 7, 6, 5, 8, 7, 6, 5, 7, 8]
BASELINE = (START, START + timedelta(weeks=14))  # fixes the limits above whatever is appended
ON_MEAN = 6.4  # a point exactly on the mean: it ends any shift run (96 / 15 is the same double as 6.4)


def series(values: list[float | None], start: date = START) -> pl.DataFrame:
    return pl.DataFrame({"period": [start + timedelta(weeks=i) for i in range(len(values))], "value": values},
                        schema={"period": pl.Date, "value": pl.Float64})


def extended(tail: list[float], better: str = "higher", **kwargs):
    """The baseline's fixed limits, with ``tail`` appended after it."""
    return xmr(series(BASE + tail), better=better, baseline=BASELINE, **kwargs)


def flags(result, last: int) -> list[bool]:
    return result.points["special_cause"].to_list()[-last:]


def rules_of(result, last: int) -> list[list[str]]:
    return result.points["rules"].to_list()[-last:]


# --- limits -----------------------------------------------------------------------------------

def test_limits_worked_by_hand():
    result = xmr(series(BASE), better="higher")
    row = result.points.row(0, named=True)
    assert row["mean"] == pytest.approx(6.4)
    assert row["upper_limit"] == pytest.approx(10.39)
    assert row["lower_limit"] == pytest.approx(2.41)
    assert row["upper_2sigma"] == pytest.approx(9.06)
    assert row["lower_2sigma"] == pytest.approx(3.74)
    assert result.points["moving_range"].to_list() == [None, 2, 1, 2, 3, 1, 1, 1, 1, 3, 1, 1, 1, 2, 1]
    assert not any(result.points["special_cause"])
    assert set(result.points["signal"]) == {"common cause"}
    assert result.variation == "common_cause" and result.assurance is None
    assert result.n_points == 15 and result.message == "15 points; limits from all 15 points."


# --- rule 1: outside the limits ---------------------------------------------------------------

def test_point_above_upper_limit_is_special_cause():
    result = extended([10.5])
    assert flags(result, 1) == [True] and rules_of(result, 1) == [[OUTSIDE]]


def test_point_exactly_on_a_limit_is_not_outside():
    points = xmr(series(BASE), better="higher").points
    upper, lower = points["upper_limit"][0], points["lower_limit"][0]
    result = extended([upper, ON_MEAN, lower])
    assert OUTSIDE not in sum(rules_of(result, 3), [])


def test_point_below_lower_limit_is_special_cause():
    result = extended([2.0])
    assert flags(result, 1) == [True] and result.points["direction"][-1] == "low"


# --- rule 2: shift, 7 points on one side of the mean ------------------------------------------

def test_six_points_above_the_mean_are_not_a_shift():
    result = extended([ON_MEAN, 7, 7.5, 7, 7.5, 7, 7.5])
    assert flags(result, 7) == [False] * 7 and result.variation == "common_cause"


def test_seven_points_above_the_mean_are_a_shift_and_all_seven_are_flagged():
    result = extended([ON_MEAN, 7, 7.5, 7, 7.5, 7, 7.5, 7])
    assert flags(result, 8) == [False] + [True] * 7
    assert rules_of(result, 1) == [[SHIFT]]
    assert result.variation == "improvement_high"


def test_seven_points_below_the_mean_are_a_shift_low():
    result = extended([ON_MEAN, 6, 5.5, 6, 5.5, 6, 5.5, 6])
    assert flags(result, 7) == [True] * 7 and result.variation == "concern_low"


def test_a_point_on_the_mean_breaks_a_shift():
    # The baseline ends 7, 8 (above the mean): with 6.4 between, 2 + 5 above never make 7 in a row.
    result = extended([ON_MEAN, 7, 7.5, 7, 7.5, 7])
    assert not any(flags(result, 6))
    result = extended([7, 7.5, 7, 7.5, 7])  # without it: 7, 8 and these 5 are 7 in a row
    assert flags(result, 7) == [True] * 7


# --- rule 3: trend, 7 points each rising (or falling) ---------------------------------------

def test_six_rising_points_are_not_a_trend():
    # 8 (last baseline point) then 4 falls; 4 -> 6.5 is 6 points, 5 rises.
    result = extended([4, 4.5, 5, 5.5, 6, 6.5])
    assert not any(flags(result, 6))


def test_seven_rising_points_are_a_trend_counted_in_points():
    result = extended([4, 4.5, 5, 5.5, 6, 6.5, 7])  # 7 points, 6 rises
    assert flags(result, 8) == [False] + [True] * 7  # the 8 before the run is not part of it
    assert rules_of(result, 1) == [[TREND]]
    assert result.variation == "improvement_high"
    assert extended([4, 4.5, 5, 5.5, 6, 6.5, 7], better="lower").variation == "concern_high"


def test_equal_consecutive_values_break_a_trend():
    result = extended([4, 4.5, 5, 5, 5.5, 6, 6.5, 7])  # rises 3 points, a tie, then 5 points
    assert not any(flags(result, 8))


def test_seven_falling_points_are_a_trend_low():
    # 6.4 ends the baseline's run above the mean; 9 -> 6 is 7 points, 6 falls (9 is below 9.06).
    result = extended([ON_MEAN, 9, 8.5, 8, 7.5, 7, 6.5, 6])
    assert flags(result, 8) == [False] + [True] * 7
    assert result.points["direction"][-1] == "low" and result.variation == "concern_low"


# --- rule 4: two of three beyond 2 sigma on the same side -------------------------------------

def test_two_of_three_beyond_upper_two_sigma_flags_those_two():
    result = extended([ON_MEAN, 9.5, 6, 9.5])  # 9.5 > 9.06 twice in three, below the UPL 10.39
    assert flags(result, 3) == [True, False, True]
    assert rules_of(result, 1) == [[TWO_OF_THREE]]
    assert result.variation == "improvement_high"


def test_two_beyond_two_sigma_but_three_apart_do_not_fire():
    assert not any(flags(extended([ON_MEAN, 9.5, 6, 6, 9.5]), 4))


def test_two_beyond_two_sigma_on_opposite_sides_do_not_fire():
    assert not any(flags(extended([ON_MEAN, 9.5, 3.5]), 2))  # 3.5 < 3.74 but > LPL 2.41


def test_two_of_three_below_lower_two_sigma():
    result = extended([ON_MEAN, 3.5, 3.6], better="lower")
    assert flags(result, 2) == [True, True] and result.variation == "improvement_low"


def test_rules_pointing_both_ways_are_called_neither():
    # Seven points below the mean (shift low) that each rise (trend high): mixed signals.
    result = extended([ON_MEAN, 3.8, 4.1, 4.4, 4.7, 5.0, 5.3, 5.6])
    assert set(rules_of(result, 1)[0]) == {SHIFT, TREND}
    assert result.points["signal"][-1] == "neither" and result.variation == "neither"


# --- the variation icon matrix: direction x last point ----------------------------------------

@pytest.mark.parametrize(("better", "last_value", "expected"), [
    ("higher", 11.0, "improvement_high"), ("higher", 2.0, "concern_low"), ("higher", 6.0, "common_cause"),
    ("lower", 11.0, "concern_high"), ("lower", 2.0, "improvement_low"), ("lower", 6.0, "common_cause"),
])
def test_variation_from_the_last_point(better, last_value, expected):
    result = extended([last_value], better=better)
    assert result.variation == expected
    assert result.points["signal"][-1] == {"common_cause": "common cause"}.get(expected, expected.split("_")[0])


def test_variation_reads_only_the_last_point():
    assert extended([11.0, 6.0]).variation == "common_cause"


# --- assurance ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("better", "comparison", "target", "expected"), [
    ("higher", ">=", 2.0, "pass"), ("higher", ">=", 11.0, "fail"), ("higher", ">", 6.0, "hit_or_miss"),
    ("lower", "<=", 11.0, "pass"), ("lower", "<", 2.0, "fail"), ("lower", "<=", 6.0, "hit_or_miss"),
    ("higher", None, 2.0, "pass"), ("lower", None, 2.0, "fail"),
])
def test_assurance_from_target_against_limits(better, comparison, target, expected):
    # Limits are 2.41 to 10.39.
    assert xmr(series(BASE), better=better, target=target, target_comparison=comparison).assurance == expected


@pytest.mark.parametrize("better", ["higher", "lower"])
@pytest.mark.parametrize("limit", ["upper_limit", "lower_limit"])
def test_target_exactly_on_a_limit_is_hit_or_miss(better, limit):
    target = xmr(series(BASE), better=better).points[limit][0]
    assert xmr(series(BASE), better=better, target=target).assurance == "hit_or_miss"


def test_no_target_no_assurance():
    assert xmr(series(BASE), better="higher").assurance is None


def test_ambition_contradicting_direction_is_refused():
    with pytest.raises(ValueError, match="contradicts"):
        xmr(series(BASE), better="lower", target=5, target_comparison=">=")
    with pytest.raises(ValueError):
        xmr(series(BASE), better="up")


# --- run chart, constant series, missing values ------------------------------------------------

def test_fewer_than_fifteen_points_is_a_run_chart():
    result = xmr(series(BASE[:9]), better="higher", target=5)
    assert result.variation == "run_chart" and result.assurance is None
    assert result.message == "Fewer than 15 points (9): shown as a run chart without limits."
    assert result.points["upper_limit"].null_count() == 9 and not any(result.points["special_cause"])
    assert xmr(series(BASE[:14]), better="higher").variation == "run_chart"


def test_constant_series_has_limits_on_the_mean_and_no_signal():
    result = xmr(series([5.0] * 20), better="higher", target=5.0)
    points = result.points
    assert set(points["upper_limit"]) == {5.0} and set(points["lower_limit"]) == {5.0}
    assert not any(points["special_cause"]) and result.variation == "common_cause"
    assert result.assurance == "hit_or_miss"  # target on both limits
    assert xmr(series([5.0] * 20), better="lower", target=6.0).assurance == "pass"


def test_missing_values_are_left_out_and_said():
    values: list[float | None] = BASE[:5] + [None] + BASE[5:10] + [float("nan")] + BASE[10:]
    result = xmr(series(values), better="higher")
    assert result.n_points == 15 and result.missing == 2
    assert "2 missing values left out" in result.message
    # Moving ranges join the points either side of the gap, so the limits are the hand-worked ones.
    assert result.points["mean"][0] == pytest.approx(6.4)
    assert result.points["upper_limit"][0] == pytest.approx(10.39)
    assert result.points["moving_range"][5] == 1  # 5 (week 5) to 6 (week 7)


def test_missing_values_can_leave_too_few_points():
    result = xmr(series(BASE[:14] + [None]), better="higher")
    assert result.variation == "run_chart" and "(14)" in result.message


def test_empty_and_unsorted_input():
    assert xmr(series([None, None]), better="higher").variation == "run_chart"
    shuffled = series(BASE).reverse()
    assert xmr(shuffled, better="higher").points["value"].to_list() == BASE


def test_duplicate_periods_are_refused():
    frame = pl.concat([series(BASE), series([1.0])])
    with pytest.raises(ValueError, match="once"):
        xmr(frame, better="higher")


# --- recalculation and a fixed baseline --------------------------------------------------------

def test_recalculation_from_a_date_gives_two_segments():
    values = BASE + [v + 10 for v in BASE]
    change = START + timedelta(weeks=15)
    without = xmr(series(values), better="lower")
    assert without.variation == "concern_high"  # one mean over both: a long shift above it
    result = xmr(series(values), better="lower", recalculate_from=[change])
    points = result.points
    assert points["segment"].to_list() == [0] * 15 + [1] * 15
    assert points["mean"][0] == pytest.approx(6.4) and points["mean"][-1] == pytest.approx(16.4)
    assert points["upper_limit"][-1] == pytest.approx(20.39)
    assert points["moving_range"][15] is None  # ranges do not cross the change
    assert not any(points["special_cause"]) and result.variation == "common_cause"
    assert "Limits recalculated from 21 Apr 2024 (15 points)" in result.message


def test_recalculation_between_points_and_outside_the_series():
    values = BASE + [v + 10 for v in BASE]
    dates = [START - timedelta(days=30), START + timedelta(weeks=15) - timedelta(days=3), date(2030, 1, 1)]
    result = xmr(series(values), better="lower", recalculate_from=dates)
    assert result.points["segment"].to_list() == [0] * 15 + [1] * 15


def test_runs_do_not_cross_a_recalculation():
    # Five rises before the change and five after would be a trend of 11 on one chart.
    values = BASE + [1, 2, 3, 4, 5] + [6, 7, 8, 9, 10] + BASE[:10]
    result = xmr(series(values), better="higher", recalculate_from=[START + timedelta(weeks=20)])
    assert TREND not in sum(result.points["rules"].to_list(), [])


def test_a_short_recalculated_segment_is_a_run_chart():
    result = xmr(series(BASE + [9.0] * 5), better="higher", target=5,
                 recalculate_from=[START + timedelta(weeks=15)])
    assert result.variation == "run_chart" and result.assurance is None
    assert "only 5 points, fewer than 15" in result.message
    assert result.points["mean"][0] == pytest.approx(6.4)  # the first segment keeps its limits


def test_fixed_baseline_keeps_its_limits_for_later_points():
    result = extended([8.0] * 5)
    points = result.points
    assert points["baseline"].to_list() == [True] * 15 + [False] * 5
    assert set(points["mean"].round(9)) == {6.4}
    assert xmr(series(BASE + [8.0] * 5), better="higher").points["mean"][0] == pytest.approx(6.8)  # (96 + 40) / 20
    assert result.message.startswith("20 points; limits from the fixed baseline 7 Jan 2024 to 14 Apr 2024 (15 points)")


def test_a_baseline_of_fewer_than_fifteen_points_gives_no_limits():
    result = xmr(series(BASE + [8.0] * 5), better="higher", baseline=(START, START + timedelta(weeks=9)))
    assert result.variation == "run_chart" and "fewer than 15" in result.message


# --- many series at once -----------------------------------------------------------------------

KEYS = ["trust", "metric"]


def batch_rows(key: tuple[str, str], values: list[float | None], start: date = START, *, better: str,
               target: float | None = None, target_comparison: str | None = None,
               baseline: tuple[date, date] | None = None, recalculate_from=()) -> pl.DataFrame:
    """One series as rows of an ``xmr_many`` input frame, the settings repeated on every row."""
    n = len(values)
    start_end = baseline or (None, None)
    return series(values, start).with_columns(
        trust=pl.lit(key[0]), metric=pl.lit(key[1]), better=pl.lit(better),
        target=pl.lit(target, pl.Float64), target_comparison=pl.lit(target_comparison, pl.String),
        baseline_start=pl.lit(start_end[0], pl.Date), baseline_end=pl.lit(start_end[1], pl.Date),
        recalculate_from=pl.Series([list(recalculate_from)] * n, dtype=pl.List(pl.Date)),
    )


def check_against_xmr(cases: list[tuple[tuple[str, str], list, date, dict]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``xmr_many`` over all ``cases`` at once (rows shuffled) gives what ``xmr`` gives one by one."""
    frame = pl.concat([batch_rows(key, values, start, **kwargs) for key, values, start, kwargs in cases])
    points, summary = xmr_many(frame.sample(fraction=1.0, shuffle=True, seed=7), keys=KEYS)
    assert summary.columns == [*KEYS, "last_period", "variation", "assurance", "n_points", "missing", "message"]
    assert summary.select(KEYS).rows() == sorted(key for key, *_ in cases)
    for key, values, start, kwargs in cases:
        alone = xmr(series(values, start), **kwargs)
        mine = pl.col("trust").eq(key[0]) & pl.col("metric").eq(key[1])
        assert_frame_equal(points.filter(mine).drop(KEYS), alone.points)
        row = summary.filter(mine).row(0, named=True)
        assert (row["variation"], row["assurance"], row["message"], row["n_points"], row["missing"]) == (
            alone.variation, alone.assurance, alone.message, alone.n_points, alone.missing), key
        assert row["last_period"] == (alone.points["period"][-1] if alone.n_points else None)
    return points, summary


def test_xmr_many_gives_what_xmr_gives_series_by_series():
    change = START + timedelta(weeks=15)
    gappy = BASE[:5] + [None] + BASE[5:10] + [float("nan")] + BASE[10:] + [11.0]
    trend = BASE + [4, 4.5, 5, 5.5, 6, 6.5, 7]
    cases = [
        (("T1", "shift"), BASE + [7, 7.5, 7, 7.5, 7], START, dict(better="higher", baseline=BASELINE)),
        (("T1", "short"), BASE[:9], START, dict(better="lower", target=5.0)),
        (("T1", "recalc"), BASE + [v + 10 for v in BASE], START,
         dict(better="lower", target=12.0, target_comparison="<=", recalculate_from=[change])),
        (("T1", "short recalc"), BASE + [9.0] * 5, START, dict(better="higher", recalculate_from=[change])),
        (("T2", "baseline"), BASE + [ON_MEAN, 9.5, 6, 9.5], START,
         dict(better="lower", target=2.0, baseline=BASELINE)),
        (("T2", "short baseline"), BASE + [8.0] * 5, START,
         dict(better="higher", baseline=(START, START + timedelta(weeks=9)))),
        (("T2", "missing"), gappy, START + timedelta(days=3),
         dict(better="higher", target=11.0, target_comparison=">=")),
        (("T2", "all missing"), [None, None], START, dict(better="higher")),
        (("T3", "constant"), [5.0] * 20, START, dict(better="higher", target=5.0)),
        (("T3", "trend up, higher"), trend, START, dict(better="higher", baseline=BASELINE)),
        (("T3", "trend up, lower"), trend, START, dict(better="lower", baseline=BASELINE)),
        (("T3", "neither"), BASE + [ON_MEAN, 3.8, 4.1, 4.4, 4.7, 5.0, 5.3, 5.6], START,
         dict(better="lower", baseline=BASELINE)),
    ]
    points, summary = check_against_xmr(cases)
    variations = dict(zip(summary["metric"], summary["variation"], strict=True))
    assert variations["shift"] == "improvement_high" and variations["trend up, lower"] == "concern_high"
    assert variations["short"] == "run_chart" and variations["neither"] == "neither"
    assert summary.filter(pl.col("metric") == "all missing").row(0, named=True)["message"] == "No points to chart."


@st.composite
def random_case(draw: st.DrawFn, key: tuple[str, str]) -> tuple[tuple[str, str], list, date, dict]:
    """A series of any length and shape, with any settings the engine accepts."""
    values = draw(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False),
                                     st.sampled_from([5.0, 6.0, 7.0])), min_size=1, max_size=40))
    better = draw(st.sampled_from(["higher", "lower"]))
    options: dict[str, object] = {"better": better}
    if draw(st.booleans()):
        options["target"] = draw(st.floats(-1e6, 1e6, allow_nan=False))
        options["target_comparison"] = draw(st.sampled_from([">", ">="] if better == "higher" else ["<", "<="]))
    weeks = st.integers(0, len(values)).map(lambda w: START + timedelta(weeks=w))
    if draw(st.booleans()):
        options["baseline"] = tuple(sorted(draw(st.tuples(weeks, weeks))))
    options["recalculate_from"] = draw(st.lists(weeks, max_size=2))
    return key, values, START, options


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True).flatmap(
    lambda metrics: st.tuples(*[random_case(("T", m)) for m in metrics])))
def test_random_series_at_once_give_what_each_gives_alone_with_settings_per_row_or_per_series(cases):
    """The vectorised engine equals the one-series chart on random series, and settings given once per
    series (as the stored SPC readings are built) chart exactly what settings on every row chart."""
    points, summary = check_against_xmr(list(cases))
    frame = pl.concat([batch_rows(key, values, start, **kwargs) for key, values, start, kwargs in cases])
    settings_once = frame.unique(KEYS).drop("period", "value")
    once = xmr_many(frame.select(*KEYS, "period", "value"), keys=KEYS, settings=settings_once)
    assert_frame_equal(once[0], points)
    assert_frame_equal(once[1], summary)
    assert_frame_equal(xmr_latest(frame.select(*KEYS, "period", "value"), keys=KEYS, settings=settings_once), summary)
    assert_frame_equal(xmr_latest(frame, keys=KEYS), summary)


PIECES = {"rise": lambda n, x: [x + i for i in range(n)], "fall": lambda n, x: [x - i for i in range(n)],
          "flat": lambda n, x: [x] * n, "high": lambda n, x: [x + 1e3] * n, "gap": lambda n, x: [None] * n}


@st.composite
def runs_case(draw: st.DrawFn, key: tuple[str, str]) -> tuple[tuple[str, str], list, date, dict]:
    """A series built of runs (rises, falls, flat stretches, jumps beyond the limits, gaps) and noise,
    so shifts, trends and two-of-three fire at the end of a series, just before it or not at all."""
    values: list[float | None] = []
    for piece in draw(st.lists(st.one_of(st.tuples(st.sampled_from(sorted(PIECES)), st.integers(1, 9)),
                                         st.tuples(st.just("noise"), st.integers(1, 20))), min_size=1, max_size=8)):
        kind, n = piece
        level = draw(st.sampled_from([-3.0, 0.0, 2.5, 6.0]))
        values += (draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=n, max_size=n)) if kind == "noise"
                   else PIECES[kind](n, level))
    better = draw(st.sampled_from(["higher", "lower"]))
    weeks = st.integers(0, len(values)).map(lambda w: START + timedelta(weeks=w))
    options: dict[str, object] = {"better": better, "recalculate_from": draw(st.lists(weeks, max_size=2))}
    if draw(st.booleans()):
        options["baseline"] = tuple(sorted(draw(st.tuples(weeks, weeks))))
    return key, values, START, options


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True).flatmap(
    lambda metrics: st.tuples(*[runs_case(("T", m)) for m in metrics])))
def test_the_latest_readings_alone_equal_the_full_charts_summary_whatever_runs_end_a_series(cases):
    """``xmr_latest`` runs the rules only on each series' last 7 points: the summary it stores must be
    exactly the full chart's, whichever rule fires at, just before or across the last point."""
    points, summary = check_against_xmr(list(cases))
    frame = pl.concat([batch_rows(key, values, start, **kwargs) for key, values, start, kwargs in cases])
    assert_frame_equal(xmr_latest(frame, keys=KEYS), summary)
    settings_once = frame.unique(KEYS).drop("period", "value")
    assert_frame_equal(xmr_latest(frame.select(*KEYS, "period", "value"), keys=KEYS, settings=settings_once),
                       summary)


# --- the stored running totals (pipelines.spc.totals) against the full engine ---------------------

@st.composite
def stored_case(draw: st.DrawFn, metric: str) -> dict:
    """A series over years (points 1 to 40 weeks apart, so across many 52-week blocks) built of runs and
    noise, any settings the engine accepts, and how it reached the store: its first points in one write,
    then the rest with one earlier point changed or removed (a resubmitted past week), or not.

    Values are quarters: any order of adding them up gives the same sums, as it must for the totals
    (added block by block) and the engine (added point by point) to give the same limits to the last bit."""
    values: list[float] = []
    for kind, n in draw(st.lists(st.tuples(st.sampled_from([*sorted(set(PIECES) - {"gap"}), "noise"]),
                                           st.integers(1, 9)), min_size=1, max_size=8)):
        level = draw(st.sampled_from([-3.0, 0.0, 2.5, 6.0]))
        values += ([q / 4 for q in draw(st.lists(st.integers(-40, 40), min_size=n, max_size=n))]
                   if kind == "noise" else PIECES[kind](n, level))
    steps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 5, 40, 52]), min_size=len(values), max_size=len(values)))
    periods = [START + timedelta(weeks=sum(steps[:i])) for i in range(len(values))]
    better = draw(st.sampled_from(["higher", "lower"]))
    days = st.tuples(st.sampled_from(periods), st.integers(0, 6)).map(lambda d: d[0] - timedelta(days=d[1]))
    options: dict[str, object] = {"better": better, "recalculate_from": draw(st.lists(days, max_size=2))}
    if draw(st.booleans()):
        options["target"] = draw(st.integers(-40, 40)) / 4
        options["target_comparison"] = draw(st.sampled_from([">", ">="] if better == "higher" else ["<", "<="]))
    if draw(st.booleans()):
        options["baseline"] = tuple(sorted(draw(st.tuples(days, days))))
    first = draw(st.integers(0, len(values)))
    # Most often the last point of a block: the next block's first moving range reaches back to it.
    block = [(day - ORIGIN).days // (7 * BLOCK_WEEKS) for day in periods]
    ends = [i for i in range(first - 1) if block[i] != block[i + 1]]
    at = st.integers(0, max(first - 1, 0)) | (st.sampled_from(ends) if ends else st.nothing())
    earlier = draw(st.none() | st.tuples(at, st.none() | st.integers(-40, 40)))
    return {"metric": metric, "periods": periods, "values": values, "options": options, "first": first,
            "earlier": earlier if first else None}


def _store_frames(case: dict, final: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The case's points before (its first ones, as first written) or after everything was written."""
    periods, values = case["periods"], list(case["values"])
    if not final:
        return pl.DataFrame({"period": periods[:case["first"]], "value": values[:case["first"]]},
                            schema={"period": pl.Date, "value": pl.Float64}), pl.DataFrame()
    changed = periods[case["first"]:]
    keep = [True] * len(values)
    if case["earlier"]:
        at, quarters = case["earlier"]
        changed.append(periods[at])
        if quarters is None:
            keep[at] = False
        else:
            values[at] = quarters / 4
    frame = pl.DataFrame({"period": periods, "value": values}, schema={"period": pl.Date, "value": pl.Float64})
    return frame.filter(pl.Series(keep)), pl.DataFrame({"week_ending": changed}, schema={"week_ending": pl.Date})


def check_stored_against_engine(cases: list[dict]) -> None:
    """Each case written to the store as it says; the readings and limits kept equal the full engine's."""
    keys = ["org_code", "metric"]
    rows = [batch_rows(("T", case["metric"]), case["values"], **case["options"]).with_columns(
        period=pl.Series(case["periods"])).rename({"trust": "org_code"}) for case in cases]
    settings_once = pl.concat(rows).unique(keys).drop("period", "value").sort(keys)
    con = duckdb.connect()
    con.execute(SCHEMA_SQL)
    con.register("settings", settings_once)
    for final in (False, True):
        frames = [(case["metric"], *_store_frames(case, final)) for case in cases]
        points = pl.concat([f.with_columns(org_code=pl.lit("T"), metric=pl.lit(m)) for m, f, _ in frames])
        con.register("points", points)
        written = [w.with_columns(org_code=pl.lit("T")) for _, _, w in frames if w.height]
        if final and written:
            con.register("weeks", pl.concat(written))
        totals.redo(con, "points", "settings", "weeks" if final and written else None)
    segments = totals.segments(con, "settings")
    charted = settings_once.join(points, on=keys, how="semi")  # a series whose every point went has no reading
    stored = xmr_from_totals(totals.tail(con, "points", "settings", segments), segments, charted, keys=keys)
    charted, expected = xmr_many(points, keys=keys, settings=charted)
    assert_frame_equal(stored, expected)
    # The limits themselves, segment by segment, to the last bit (a reading shows them only when a rule flips).
    limits = charted.group_by(*keys, "segment", maintain_order=True).agg(
        pl.col("period").first(), height=pl.len().cast(pl.Int64), mean=pl.col("mean").first(),
        upper_limit=pl.col("upper_limit").first())
    enough = pl.col("n_base") >= MIN_POINTS
    kept = segments.select(*keys, pl.col("segment").cast(pl.Int32), "period", "height",
                           mean=pl.when(enough).then("mean"), upper_limit=pl.when(enough).then(
                               pl.col("mean") + E2 * pl.col("mr_bar")))
    assert_frame_equal(kept, limits, check_dtypes=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True).flatmap(
    lambda metrics: st.tuples(*[stored_case(m) for m in metrics])))
def test_readings_from_the_stored_totals_equal_the_full_engine_after_any_writes(cases):
    """The stored readings come from running totals kept per 52-week block and the last 7 points, redone
    only for the weeks a write touched: after a first write and then new weeks, a changed or a removed
    earlier week, they must be exactly what the full engine gives on every point."""
    check_stored_against_engine(list(cases))


def test_a_resubmitted_last_week_of_a_block_changes_the_next_blocks_first_moving_range():
    weekly = [START + timedelta(weeks=i) for i in range(60)]  # 24/11/2024 ends a block, 01/12/2024 starts one
    assert [(day - ORIGIN).days // (7 * BLOCK_WEEKS) for day in weekly[46:48]] == [24, 25]
    values = [float(v) for v in (BASE * 4)[:60]]
    check_stored_against_engine([{"metric": "m", "periods": weekly, "values": values, "first": 60,
                                  "earlier": (46, 80), "options": {"better": "higher", "recalculate_from": []}}])


@pytest.mark.parametrize("parts", [4, 3])
def test_weeks_after_the_last_point_stored_are_added_to_the_sums_kept(monkeypatch, parts):
    """The day that completes a week: each series' new points are added to the sums kept, in their block or a
    new one (here one of each, with a recalculation date and a fixed baseline), and no block is read again;
    the sums are those of every block redone from the points, to the last bit: with quarters, and with thirds,
    whose sums depend on the order they are added in."""
    weekly = [START + timedelta(weeks=i) for i in range(50)]  # 24/11/2024 ends a block, 01/12/2024 starts one
    values = [q / parts for q in (BASE * 4)[:50]]
    settings_once = batch_rows(("T", "m"), values[:1], better="higher", baseline=BASELINE,
                               recalculate_from=[weekly[20]]).rename({"trust": "org_code"}).drop("period", "value")
    con = duckdb.connect()
    con.execute(SCHEMA_SQL)
    con.register("settings", settings_once)

    def write(upto: int, weeks: list[date] | None) -> list[tuple]:
        con.register("points", pl.DataFrame({"org_code": "T", "metric": "m", "period": weekly[:upto],
                                             "value": values[:upto]}))
        if weeks:
            con.register("weeks", pl.DataFrame({"org_code": "T", "week_ending": weeks}))
        totals.redo(con, "points", "settings", "weeks" if weeks else None)
        return con.execute("SELECT * FROM spc_blocks ORDER BY ALL").fetchall()

    write(46, None)
    with monkeypatch.context() as patched:  # the blocks' redo fails if it runs
        patched.setattr(totals, "_BLOCKS_SQL", "SELECT error('a block was read again')")
        write(47, weekly[46:47])  # the last week of a block
        added = write(49, weekly[47:49])  # two weeks of the next block
    assert added == write(49, None)


def test_series_added_to_and_series_redone_in_one_write_equal_every_block_redone(monkeypatch):
    """One write, two series: trust A's new weeks follow its last point stored (its new points are added to the
    sums kept), trust B's earlier week changed (its block is redone). Both series' sums are those of every block
    redone from the points, to the last bit (thirds: sums that depend on the order they are added in)."""
    weekly = [START + timedelta(weeks=i) for i in range(50)]
    values = [q / 3 for q in (BASE * 4)[:50]]
    settings_once = pl.concat([batch_rows((org, "m"), values[:1], better="higher") for org in ("A", "B")]).rename(
        {"trust": "org_code"}).drop("period", "value")
    con = duckdb.connect()
    con.execute(SCHEMA_SQL)
    con.register("settings", settings_once)

    def write(a_points: int, b_values: list[float], weeks: list[tuple[str, date]] | None) -> list[tuple]:
        con.register("points", pl.DataFrame({
            "org_code": ["A"] * a_points + ["B"] * len(b_values), "metric": "m",
            "period": weekly[:a_points] + weekly[:len(b_values)], "value": values[:a_points] + b_values}))
        if weeks:
            con.register("weeks", pl.DataFrame(weeks, schema=["org_code", "week_ending"], orient="row"))
        totals.redo(con, "points", "settings", "weeks" if weeks else None)
        return con.execute("SELECT * FROM spc_blocks ORDER BY ALL").fetchall()

    write(46, values[:48], None)
    corrected = [*values[:30], 99 / 3, *values[31:48]]
    all_added: list[bool] = []
    add_new_points = totals._add_new_points
    with monkeypatch.context() as patched:
        patched.setattr(totals, "_add_new_points", lambda *args: all_added.append(add_new_points(*args))
                        or all_added[-1])
        both = write(48, corrected, [("A", weekly[46]), ("A", weekly[47]), ("B", weekly[30])])
    assert all_added == [False]  # A's points added, B left for the redo
    assert both == write(48, corrected, None)


def test_settings_given_once_per_series_are_refused_twice():
    frame = batch_rows(("T1", "m"), BASE, better="higher")
    twice = pl.concat([frame.head(1), frame.head(1).with_columns(better=pl.lit("lower"))]).drop("period", "value")
    with pytest.raises(ValueError, match=r"only one row of settings \(series trust='T1', metric='m'\)"):
        xmr_many(frame.select(*KEYS, "period", "value"), keys=KEYS, settings=twice)


def test_runs_never_cross_from_one_series_into_the_next():
    # Each A ends, and the B after it starts, with part of a run; joined they would fire the rule.
    later = START + timedelta(weeks=4)
    own_base = (later, later + timedelta(weeks=14))  # B's fixed baseline: its own copy of BASE
    cases = [
        # shift: A ends with 4 points above the mean and B starts with 3 above (7 together)
        (("P1", "A"), BASE + [ON_MEAN, 7, 7.5, 7, 7.5], START, dict(better="higher", baseline=BASELINE)),
        (("P1", "B"), [7, 7.5, 7, ON_MEAN] + BASE, START, dict(better="higher", baseline=own_base)),
        # trend: A ends with 4 rising points and B starts with 3 more (7 points, 6 rises together)
        (("P2", "A"), BASE + [4, 4.5, 5, 5.5], START, dict(better="higher", baseline=BASELINE)),
        (("P2", "B"), [6, 6.5, 7, ON_MEAN] + BASE, START, dict(better="higher", baseline=own_base)),
        # two of three: one point beyond the upper 2-sigma line at the end of A and the start of B
        (("P3", "A"), BASE + [ON_MEAN, 9.5], START, dict(better="higher", baseline=BASELINE)),
        (("P3", "B"), [9.5, ON_MEAN, 6, ON_MEAN] + BASE, START, dict(better="higher", baseline=own_base)),
    ]
    points, summary = check_against_xmr(cases)
    assert not any(points["special_cause"]) and set(summary["variation"]) == {"common_cause"}
    firsts = points.filter(pl.col("metric") == "B").group_by("trust").agg(pl.col("moving_range").first())
    assert firsts["moving_range"].to_list() == [None] * 3  # no moving range reaches back into A
    # The same points as one series do fire: the test would catch a run joined across series.
    joined = xmr(series(BASE + [ON_MEAN, 7, 7.5, 7, 7.5] + [7, 7.5, 7]), better="higher", baseline=BASELINE)
    assert rules_of(joined, 1) == [[SHIFT]]
    joined = xmr(series(BASE + [4, 4.5, 5, 5.5, 6, 6.5, 7]), better="higher", baseline=BASELINE)
    assert rules_of(joined, 1) == [[TREND]]
    joined = xmr(series(BASE + [ON_MEAN, 9.5, 9.5]), better="higher", baseline=BASELINE)
    assert rules_of(joined, 1) == [[TWO_OF_THREE]]


def test_xmr_many_needs_only_keys_period_value_and_better():
    frame = pl.concat([series(BASE).with_columns(trust=pl.lit(t), better=pl.lit("higher")) for t in ("b", "a")])
    points, summary = xmr_many(frame, keys=["trust"])
    assert summary["trust"].to_list() == ["a", "b"]
    assert set(summary["message"]) == {"15 points; limits from all 15 points."}
    assert points.columns[:2] == ["trust", "period"] and points.height == 30


@pytest.mark.parametrize(("change", "match"), [
    (dict(better="up"), r"better must be 'higher' or 'lower', not 'up' \(series trust='T2', metric='m'\)"),
    (dict(better="lower", target=5.0, target_comparison=">="), r"contradicts 'lower is better' \(series trust='T2'"),
    (dict(better="higher", baseline=(START, None)), r"start and an end date \(series trust='T2'"),
])
def test_xmr_many_refuses_bad_settings_naming_the_series(change, match):
    frame = pl.concat([batch_rows(("T1", "m"), BASE, better="higher"), batch_rows(("T2", "m"), BASE, **change)])
    with pytest.raises(ValueError, match=match):
        xmr_many(frame, keys=KEYS)


def test_xmr_many_refuses_repeated_periods_and_settings_that_vary_within_a_series():
    good = batch_rows(("T1", "m"), BASE, better="higher")
    again = batch_rows(("T2", "m"), [1.0], better="higher")  # 7 Jan 2024 a second time
    repeated = pl.concat([good, batch_rows(("T2", "m"), BASE, better="higher"), again])
    with pytest.raises(ValueError, match=r"only once \(series trust='T2', metric='m'\)"):
        xmr_many(repeated, keys=KEYS)
    varying = pl.concat([good, batch_rows(("T2", "m"), BASE, better="higher").with_columns(
        target=pl.when(pl.col("period") > START).then(5.0))])
    with pytest.raises(ValueError, match=r"same on every row of a series \(series trust='T2'"):
        xmr_many(varying, keys=KEYS)


# --- labels and icons --------------------------------------------------------------------------

def test_labels_in_plain_english():
    assert variation_label("improvement_high") == "Special cause improvement (high)"
    assert variation_label("concern_low", "higher") == "Special cause concern (low); higher is better"
    assert variation_label("run_chart", "lower") == "Run chart: too few points for limits"
    assert assurance_label("pass") == "Consistently passing the ambition"
    assert assurance_label("fail") == "Consistently failing the ambition"
    assert assurance_label("hit_or_miss").startswith("Hit or miss")


SVG = "{http://www.w3.org/2000/svg}"


def check_svg(svg: str, alt: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label") == alt
    assert root.find(f"{SVG}title").text == alt
    return root


@pytest.mark.parametrize("variation", list(VARIATION_LABELS))
def test_variation_icons_are_valid_svg_with_alt_text(variation):
    root = check_svg(variation_icon(variation, "lower", size=40), variation_label(variation, "lower"))
    assert root.get("width") == "40"
    letters = [t.text for t in root.iter(f"{SVG}text")]
    expected = {"high": ["H"], "low": ["L"]}.get(variation.rsplit("_", 1)[-1], letters)
    assert letters == expected


@pytest.mark.parametrize("assurance", list(ASSURANCE_LABELS))
def test_assurance_icons_are_valid_svg_with_alt_text(assurance):
    root = check_svg(assurance_icon(assurance), assurance_label(assurance))
    letter = next(root.iter(f"{SVG}text")).text
    assert letter == {"pass": "P", "fail": "F", "hit_or_miss": "?"}.get(assurance, "\u2013")


def test_icon_colours_follow_making_data_count():
    assert "#005EB8" in variation_icon("improvement_low") and "#ED8B00" in variation_icon("concern_high")
    assert "#768692" in variation_icon("common_cause") and "#005EB8" in assurance_icon("pass")
    assert "#ED8B00" in assurance_icon("fail") and "#768692" in assurance_icon("hit_or_miss")
