"""XmR statistical process control charts by the NHS England "Making Data Count" rules (DOMAIN section 6).

One pure function, ``xmr``, over a Polars frame of (period, value): no Streamlit, no database.
Written here rather than taken from a package because the maintained Python ports use other run
lengths or other 2-sigma rules than Making Data Count.

- Centre line: the mean; process limits: mean +/- 2.66 x mean moving range; 2-sigma lines at
  mean +/- (2/3) x 2.66 x mean moving range.
- Limits need at least 15 points (from the fixed baseline, or from the whole segment); with fewer
  the segment is a run chart: no centre line, no limits, no rules, and the message says so.
- Special cause: a point strictly outside the limits; 7+ points in a row strictly above or below
  the mean (a point on the mean ends the run); 7+ points in a row each strictly higher (or lower)
  than the one before (7 points = 6 rises; an equal value ends the run); 2 of 3 points in a row
  strictly beyond the same 2-sigma line. Every point of a firing run is flagged; for 2 of 3, only
  the points beyond the 2-sigma line are (the third point may sit anywhere).
- Runs and moving ranges never cross a recalculation date: each segment is charted on its own.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

MIN_POINTS = 15  # fewer than this and limits are too unreliable to draw
RUN_POINTS = 7  # shift and trend length, counted in points
E2 = 2.66  # 3 / d2 for moving ranges of two points

OUTSIDE, SHIFT, TREND, TWO_OF_THREE = "outside limits", "shift", "trend", "two of three beyond 2 sigma"

VARIATION_LABELS = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause improvement (high)",
    "improvement_low": "Special cause improvement (low)",
    "concern_high": "Special cause concern (high)",
    "concern_low": "Special cause concern (low)",
    "neither": "Special cause variation with mixed signals (rules point both up and down)",
    "run_chart": "Run chart: too few points for limits",
}
ASSURANCE_LABELS = {
    "pass": "Consistently passing the ambition",
    "fail": "Consistently failing the ambition",
    "hit_or_miss": "Hit or miss: the ambition lies within the process limits",
    None: "No assurance: no ambition, or too few points for limits",
}


@dataclass(frozen=True)
class SpcResult:
    """``points``: one row per charted point. ``variation`` is read from the last point,
    ``assurance`` from the latest segment's limits; ``message`` says in words what was done."""
    points: pl.DataFrame
    variation: str
    assurance: str | None
    message: str
    n_points: int
    missing: int


def variation_label(variation: str, better: str | None = None) -> str:
    """Plain English for a variation code; with ``better`` it also says which way is good."""
    label = VARIATION_LABELS[variation]
    return f"{label}; {better} is better" if better and variation != "run_chart" else label


def assurance_label(assurance: str | None) -> str:
    return ASSURANCE_LABELS[assurance]


def _higher_is_good(better: str, target_comparison: str | None) -> bool:
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    if target_comparison is not None:
        if target_comparison not in ("<", "<=", ">", ">="):
            raise ValueError(f"unknown target comparison {target_comparison!r}")
        # An ambition "< 40%" on a higher-is-better metric would make the icons contradict each other.
        if (target_comparison[0] == ">") != (better == "higher"):
            raise ValueError(f"ambition {target_comparison} contradicts '{better} is better'")
    return better == "higher"


def _limits(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean, limits and 2-sigma lines per segment, from the points flagged ``baseline``."""
    in_base = pl.col("baseline")
    # Moving ranges inside the baseline only: the first baseline point's range reaches outside it.
    frame = frame.with_columns(mr_in_base=in_base & in_base.shift(1).over("segment").fill_null(False))
    enough = in_base.sum().over("segment") >= MIN_POINTS
    mean = pl.col("value").filter(in_base).mean().over("segment")
    mr_bar = pl.col("moving_range").filter(pl.col("mr_in_base")).mean().over("segment")
    frame = frame.with_columns(mean=pl.when(enough).then(mean), mr_bar=pl.when(enough).then(mr_bar))
    width, two_sigma = E2 * pl.col("mr_bar"), 2 / 3 * E2 * pl.col("mr_bar")
    return frame.with_columns(
        upper_limit=pl.col("mean") + width, lower_limit=pl.col("mean") - width,
        upper_2sigma=pl.col("mean") + two_sigma, lower_2sigma=pl.col("mean") - two_sigma,
    ).drop("mr_bar", "mr_in_base")


def _rules(frame: pl.DataFrame, higher_is_good: bool) -> pl.DataFrame:
    """Flag the four special-cause rules and say, per point, whether it is high or low."""
    value, seg = pl.col("value"), "segment"
    side = (value - pl.col("mean")).sign()  # null without limits, so no rule fires on a run chart
    step = value.diff().sign().over(seg)  # +1 rise, -1 fall, 0 equal (ends a trend)
    frame = frame.with_columns(
        side=side, step=pl.when(pl.col("mean").is_not_null()).then(step),
        side_run=pl.struct(seg, side).rle_id(), step_run=pl.struct(seg, step).rle_id(),
    )
    side, step = pl.col("side"), pl.col("step")
    # A trend of 7 points is 6 equal-signed steps; the point before the first step belongs to it too.
    trend_step = (step != 0) & (pl.len().over("step_run") >= RUN_POINTS - 1)
    frame = frame.with_columns(trend_step=trend_step.fill_null(False))
    shift = (side != 0) & (pl.len().over("side_run") >= RUN_POINTS)
    trend_dir = (pl.when(pl.col("trend_step")).then(step)
                 .when(pl.col("trend_step").shift(-1).over(seg).fill_null(False)).then(step.shift(-1).over(seg)))
    up, down = value > pl.col("upper_2sigma"), value < pl.col("lower_2sigma")

    def two_of_three(beyond: pl.Expr) -> pl.Expr:
        # Two points beyond the same line lie in one window of three exactly when at most 2 apart.
        near = pl.any_horizontal([beyond.shift(k).over(seg) for k in (-2, -1, 1, 2)])
        return (beyond & near).fill_null(False)

    frame = frame.with_columns(
        out_high=(value > pl.col("upper_limit")).fill_null(False),
        out_low=(value < pl.col("lower_limit")).fill_null(False),
        shift_flag=shift.fill_null(False), trend_dir=trend_dir,
        two_high=two_of_three(up), two_low=two_of_three(down),
    )
    c = pl.col
    high = c("out_high") | (c("shift_flag") & (c("side") > 0)) | c("two_high") | (c("trend_dir") > 0).fill_null(False)
    low = c("out_low") | (c("shift_flag") & (c("side") < 0)) | c("two_low") | (c("trend_dir") < 0).fill_null(False)
    rules = pl.concat_list(
        pl.when(c("out_high") | c("out_low")).then(pl.lit(OUTSIDE)),
        pl.when(c("shift_flag")).then(pl.lit(SHIFT)),
        pl.when(c("trend_dir").is_not_null()).then(pl.lit(TREND)),
        pl.when(c("two_high") | c("two_low")).then(pl.lit(TWO_OF_THREE)),
    ).list.drop_nulls()
    good = high if higher_is_good else low
    frame = frame.with_columns(
        special_cause=high | low, rules=rules,
        # A rising trend below the mean (say) is both: called "neither" rather than picking one.
        direction=pl.when(high & low).then(pl.lit("mixed")).when(high).then(pl.lit("high"))
        .when(low).then(pl.lit("low")),
        signal=pl.when(c("mean").is_null()).then(None)
        .when(~(high | low)).then(pl.lit("common cause"))
        .when(high & low).then(pl.lit("neither"))
        .when(good).then(pl.lit("improvement")).otherwise(pl.lit("concern")),
    )
    return frame.drop("side", "step", "side_run", "step_run", "out_high", "out_low", "shift_flag",
                      "trend_step", "trend_dir", "two_high", "two_low")


def _assurance(last: dict, target: float | None, higher_is_good: bool) -> str | None:
    """Where the ambition sits against the latest limits. A target exactly on a limit is hit or
    miss: the limits are estimates, and a point on the limit may fall either side of it."""
    if target is None or last["mean"] is None:
        return None
    upper, lower = last["upper_limit"], last["lower_limit"]
    if higher_is_good:
        return "pass" if lower > target else "fail" if upper < target else "hit_or_miss"
    return "pass" if upper < target else "fail" if lower > target else "hit_or_miss"


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _message(frame: pl.DataFrame, baseline: tuple[date, date] | None, missing: int) -> str:
    segments = frame.partition_by("segment", maintain_order=True)
    parts: list[str] = []
    if frame.height < MIN_POINTS:
        parts.append(f"Fewer than {MIN_POINTS} points ({frame.height}): shown as a run chart without limits.")
    for seg in segments if frame.height >= MIN_POINTS else ():
        first, n_base, limits = seg["period"][0], int(seg["baseline"].sum()), seg["mean"][0] is not None
        if seg["segment"][0] == 0:
            source = (f"the fixed baseline {_day(baseline[0])} to {_day(baseline[1])} ({n_base} points)"
                      if baseline is not None else f"{'all' if len(segments) == 1 else 'the first'} {n_base} points")
            parts.append(f"{frame.height} points; limits from {source}." if limits else
                         f"{frame.height} points; limits would come from {source}, fewer than {MIN_POINTS}, so "
                         f"the first {seg.height} points are shown as a run chart without limits.")
        else:
            parts.append(f"Limits recalculated from {_day(first)} ({n_base} points)." if limits else
                         f"Recalculated from {_day(first)}: only {n_base} points, fewer than {MIN_POINTS}, "
                         "so shown as a run chart without limits.")
    if missing:
        parts.append(f"{missing} missing value{'s' if missing > 1 else ''} left out; "
                     "moving ranges join the points either side.")
    return " ".join(parts)


def xmr(series: pl.DataFrame, *, better: str, target: float | None = None,
        target_comparison: str | None = None, baseline: tuple[date, date] | None = None,
        recalculate_from: Sequence[date] = ()) -> SpcResult:
    """An XmR chart of ``series`` (columns ``period`` Date, ``value`` Float64; null = missing).

    ``baseline`` fixes the first segment's limits to the points between two dates (inclusive);
    each date in ``recalculate_from`` starts a new segment with limits from all its own points.
    """
    higher_is_good = _higher_is_good(better, target_comparison)
    frame = (series.select("period", pl.col("value").cast(pl.Float64).fill_nan(None))
             .sort("period"))
    missing = int(frame["value"].null_count())
    frame = frame.drop_nulls("value")
    if frame["period"].is_duplicated().any():
        raise ValueError("each period may appear only once")
    starts = sorted(set(recalculate_from))
    segment = pl.lit(0, pl.Int32)
    if starts:  # dense rank: dates before the first point, or with no point between them, add no segment
        segment = pl.sum_horizontal([pl.col("period") >= d for d in starts]).rank("dense").cast(pl.Int32) - 1
    frame = frame.with_columns(segment=segment)
    in_base = pl.lit(True)
    if baseline is not None:  # the fixed baseline is the first segment's; later ones use all their points
        in_base = pl.col("period").is_between(*baseline) | (pl.col("segment") > 0)
    frame = frame.with_columns(baseline=in_base, moving_range=pl.col("value").diff().abs().over("segment"))
    frame = _rules(_limits(frame), higher_is_good)
    if frame.height == 0:
        return SpcResult(frame, "run_chart", None, "No points to chart.", 0, missing)
    last = frame.row(-1, named=True)
    if last["mean"] is None:
        variation = "run_chart"
    elif not last["special_cause"]:
        variation = "common_cause"
    else:
        variation = "neither" if last["signal"] == "neither" else f"{last['signal']}_{last['direction']}"
    return SpcResult(frame, variation, _assurance(last, target, higher_is_good),
                     _message(frame, baseline, missing), frame.height, missing)
