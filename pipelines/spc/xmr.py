"""XmR statistical process control charts by the NHS England "Making Data Count" rules (docs/domain.md section 6).

Pure functions over Polars frames, no Streamlit, no database: ``xmr`` charts one series of
(period, value); ``xmr_many`` charts many series (one per value of some key columns) in one
vectorised pass, and ``xmr`` is that pass run on a single series, so there is one copy of the rules.
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
  Internally every window runs over ``_seg``, an id unique across all series and segments, on rows
  sorted by series then period, so nothing crosses from one series into the next either.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.catalogue.dates import DATE_WORDS

MIN_POINTS = 15  # fewer than this and limits are too unreliable to draw
RUN_POINTS = 7  # shift and trend length, counted in points
E2 = 2.66  # 3 / d2 for moving ranges of two points

OUTSIDE, SHIFT, TREND, TWO_OF_THREE = "outside limits", "shift", "trend", "two of three beyond 2 sigma"
RULE_LISTS = pl.Series([[rule for bit, rule in enumerate((OUTSIDE, SHIFT, TREND, TWO_OF_THREE)) if mask >> bit & 1]
                        for mask in range(16)], dtype=pl.List(pl.String))  # the rules fired, by bitmask



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


# Columns of an ``xmr_many`` input frame besides the keys; all but ``better`` may be left out (null).
INPUT = pl.Schema({"period": pl.Date(), "value": pl.Float64(), "better": pl.String(), "target": pl.Float64(),
                   "target_comparison": pl.String(), "baseline_start": pl.Date(), "baseline_end": pl.Date(),
                   "recalculate_from": pl.List(pl.Date)})
SETTINGS = list(INPUT)[2:]  # constant within a series
POINTS = ["period", "value", "segment", "baseline", "moving_range", "mean", "upper_limit", "lower_limit",
          "upper_2sigma", "lower_2sigma", "special_cause", "rules", "direction", "signal"]
SUMMARY = ["last_period", "variation", "assurance", "n_points", "missing", "message"]


def _refuse(refused: pl.DataFrame, problem: str, keys: Sequence[str], settings: pl.DataFrame | None = None) -> None:
    """Raise ``problem`` (formatted with the row's columns) for the first row of ``refused``, if any;
    with ``settings``, the row is a point and its series' keys and settings are looked up there."""
    if refused.height:
        row = refused.row(0, named=True)
        row = row if settings is None else settings.row(row["_series"], named=True) | row
        where = ", ".join(f"{k}={row[k]!r}" for k in keys)
        raise ValueError(problem.format(**row) + (f" (series {where})" if keys else ""))


def _check(settings: pl.DataFrame, keys: Sequence[str]) -> None:
    """Refuse, naming the series, settings that cannot be charted (one row per series)."""
    c, comparison = pl.col, pl.col("target_comparison")
    checks = {  # a null comparison is no ambition, so a null condition does not refuse
        "better must be 'higher' or 'lower', not {better!r}":
            ~c("better").is_in(["higher", "lower"]).fill_null(False),
        "unknown target comparison {target_comparison!r}": ~comparison.is_in(["<", "<=", ">", ">="]),
        # An ambition "< 40%" on a higher-is-better metric would make the icons contradict each other.
        "ambition {target_comparison} contradicts '{better} is better'":
            comparison.str.starts_with(">") != (c("better") == "higher"),
        "a fixed baseline needs a start and an end date":
            c("baseline_start").is_null() != c("baseline_end").is_null(),
    }
    for problem, bad in checks.items():
        _refuse(settings.filter(bad.fill_null(False)), problem, keys)


def _shifted(expr: pl.Expr, k: int) -> pl.Expr:
    """``expr`` k rows back (forward for negative k), null across a segment boundary. Rows are sorted
    by series then period, so a plain shift checked against ``_seg`` is a shift within the segment
    (and ten times faster than ``.shift(k).over("_seg")``)."""
    return pl.when(pl.col("_seg").shift(k) == pl.col("_seg")).then(expr.shift(k))


def _segments(points: pl.DataFrame, settings: pl.DataFrame) -> pl.DataFrame:
    """Number each series' segments from 0 (dense rank: dates before the first point, or with no
    point between them, add no segment), then give each (series, segment) a global id ``_seg``."""
    starts = (settings.select("_series", start="recalculate_from").explode("start").drop_nulls().unique()
              .sort("_series", "start").with_columns(_passed=pl.int_range(1, pl.len() + 1).over("_series")))
    segment = pl.lit(0, pl.Int32)
    if starts.height:  # _passed: how many recalculation dates are on or before the point
        points = points.join_asof(starts, left_on="period", right_on="start", by="_series", check_sortedness=False)
        segment = pl.col("_passed").fill_null(0).rank("dense").over("_series").cast(pl.Int32) - 1
    points = points.with_columns(segment=segment).with_columns(_seg=pl.struct("_series", "segment").rle_id())
    # The fixed baseline is the first segment's; later ones use all their points.
    fixed = pl.col("period").is_between(pl.col("baseline_start"), pl.col("baseline_end"))
    in_base = pl.col("baseline_start").is_null() | fixed | (pl.col("segment") > 0)
    return points.with_columns(baseline=in_base, moving_range=(pl.col("value") - _shifted(pl.col("value"), 1)).abs())


def _limits(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean, limits and 2-sigma lines per segment, from the points flagged ``baseline``."""
    in_base, seg = pl.col("baseline"), "_seg"
    # Moving ranges inside the baseline only: the first baseline point's range reaches outside it.
    frame = frame.with_columns(mr_in_base=in_base & _shifted(in_base, 1).fill_null(False))
    enough = in_base.sum().over(seg) >= MIN_POINTS
    mean = pl.col("value").filter(in_base).mean().over(seg)
    mr_bar = pl.col("moving_range").filter(pl.col("mr_in_base")).mean().over(seg)
    frame = frame.with_columns(mean=pl.when(enough).then(mean), mr_bar=pl.when(enough).then(mr_bar))
    return _lines(frame).drop("mr_in_base")


def _lines(frame: pl.DataFrame) -> pl.DataFrame:
    """The process limits and 2-sigma lines from ``mean`` and ``mr_bar`` (null without limits), which goes."""
    width, two_sigma = E2 * pl.col("mr_bar"), 2 / 3 * E2 * pl.col("mr_bar")
    return frame.with_columns(
        upper_limit=pl.col("mean") + width, lower_limit=pl.col("mean") - width,
        upper_2sigma=pl.col("mean") + two_sigma, lower_2sigma=pl.col("mean") - two_sigma,
    ).drop("mr_bar")


def _rules(frame: pl.DataFrame) -> pl.DataFrame:
    """Flag the four special-cause rules and say, per point, whether it is high or low."""
    value, seg = pl.col("value"), "_seg"
    side = (value - pl.col("mean")).sign()  # null without limits, so no rule fires on a run chart
    step = (value - _shifted(value, 1)).sign()  # +1 rise, -1 fall, 0 equal (ends a trend)
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
                 .when(_shifted(pl.col("trend_step"), -1).fill_null(False)).then(_shifted(step, -1)))
    up, down = value > pl.col("upper_2sigma"), value < pl.col("lower_2sigma")

    def two_of_three(beyond: pl.Expr) -> pl.Expr:
        # Two points beyond the same line lie in one window of three exactly when at most 2 apart.
        near = pl.any_horizontal([_shifted(beyond, k) for k in (-2, -1, 1, 2)])
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
    fired = [c("out_high") | c("out_low"), c("shift_flag"), c("trend_dir").is_not_null(), c("two_high") | c("two_low")]
    # Read the list of rules off a table by bitmask: far faster than building 800,000 lists.
    rules = pl.lit(RULE_LISTS).gather(pl.sum_horizontal(f.cast(pl.UInt32) * (1 << bit) for bit, f in enumerate(fired)))
    good = pl.when(c("better") == "higher").then(high).otherwise(low)
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


def _day(day: pl.Expr) -> pl.Expr:
    return day.dt.strftime(DATE_WORDS)


def _segment_table(points: pl.DataFrame) -> pl.DataFrame:
    """One row per segment of charted ``points``: ``_seg``, ``_series``, ``segment``, its first ``period``,
    ``n_base`` (points its limits come from), ``height`` (its points) and whether it has ``limits``."""
    c = pl.col
    return points.group_by("_seg").agg(c("_series", "segment", "period").first(), n_base=c("baseline").sum(),
                                       height=pl.len(), limits=c("mean").first().is_not_null())


def _segment_notes(segments: pl.DataFrame, settings: pl.DataFrame) -> pl.DataFrame:
    """Per series, what was done in each segment (``_segment_table``), in words (``notes``)."""
    c, few = pl.col, f"fewer than {MIN_POINTS}"
    segments = (segments.sort("_seg").join(settings.select("_series", "baseline_start", "baseline_end"), on="_series")
                .with_columns(n_points=c("height").sum().over("_series"), n_segments=pl.len().over("_series")))
    whole = pl.when(c("n_segments") == 1).then(pl.lit("all")).otherwise(pl.lit("the first"))
    source = (pl.when(c("baseline_start").is_null()).then(pl.format("{} {} points", whole, c("n_base")))
              .otherwise(pl.format("the fixed baseline {} to {} ({} points)",
                                   _day(c("baseline_start")), _day(c("baseline_end")), c("n_base"))))
    first = (pl.when(c("limits")).then(pl.format("{} points; limits from {}.", c("n_points"), source))
             .otherwise(pl.format(f"{{}} points; limits would come from {{}}, {few}, so the first {{}} points are "
                                  "shown as a run chart without limits.", c("n_points"), source, c("height"))))
    later = (pl.when(c("limits")).then(pl.format("Limits recalculated from {} ({} points).",
                                                 _day(c("period")), c("n_base")))
             .otherwise(pl.format(f"Recalculated from {{}}: only {{}} points, {few}, so shown as a run chart "
                                  "without limits.", _day(c("period")), c("n_base"))))
    notes = pl.when(c("segment") == 0).then(first).otherwise(later)
    return segments.group_by("_series").agg(notes=notes.str.join(" "))


def _summary(charted: pl.DataFrame, segments: pl.DataFrame, settings: pl.DataFrame,
             keys: Sequence[str]) -> pl.DataFrame:
    """One row per series: variation read from its last point (the rules run on ``charted``, every
    point or the last few of each series), assurance from the latest limits; counts and notes from
    every segment (``_segment_table``)."""
    c = pl.col
    last = charted.group_by("_series").agg(
        c("mean", "upper_limit", "lower_limit", "special_cause", "signal", "direction").last(),
        last_period=c("period").last()).join(
            segments.group_by("_series").agg(n_points=c("height").sum().cast(pl.Int64)), on="_series")
    frame = (settings.join(last, on="_series", how="left").with_columns(c("n_points").fill_null(0))
             .join(_segment_notes(segments, settings), on="_series", how="left"))
    variation = (pl.when(c("mean").is_null()).then(pl.lit("run_chart"))
                 .when(~c("special_cause")).then(pl.lit("common_cause"))
                 .when(c("signal") == "neither").then(pl.lit("neither"))
                 .otherwise(pl.concat_str(c("signal"), pl.lit("_"), c("direction"))))
    # A target exactly on a limit is hit or miss: the limits are estimates, and a point on the
    # limit may fall either side of it.
    above, below = c("lower_limit") > c("target"), c("upper_limit") < c("target")  # the whole process
    assurance = (pl.when(c("target").is_null() | c("mean").is_null()).then(None)
                 .when(above | below).then(pl.when(above == (c("better") == "higher")).then(pl.lit("pass"))
                                           .otherwise(pl.lit("fail")))
                 .otherwise(pl.lit("hit_or_miss")))
    plural = pl.when(c("missing") > 1).then(pl.lit("s")).otherwise(pl.lit(""))
    missing = pl.when(c("missing") > 0).then(pl.format(
        "{} missing value{} left out; moving ranges join the points either side.", c("missing"), plural))
    few = pl.format(f"Fewer than {MIN_POINTS} points ({{}}): shown as a run chart without limits.", c("n_points"))
    message = (pl.when(c("n_points") == 0).then(pl.lit("No points to chart."))
               .otherwise(pl.concat_str(pl.when(c("n_points") < MIN_POINTS).then(few).otherwise(c("notes")),
                                        missing, separator=" ", ignore_nulls=True)))
    return frame.with_columns(variation=variation, assurance=assurance, message=message).select(*keys, *SUMMARY)


def _given(frame: pl.DataFrame, names: Sequence[str]) -> list[pl.Expr]:
    """The input columns ``names`` as INPUT types, null where ``frame`` leaves one out."""
    return [pl.col(name).cast(INPUT[name]) if name in frame.columns else pl.lit(None, INPUT[name]).alias(name)
            for name in names]


def xmr_many(frame: pl.DataFrame, *, keys: Sequence[str],
             settings: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """XmR charts of every series in ``frame``, one series per value of ``keys`` (none: one series).

    Columns besides the keys: ``period`` Date, ``value`` Float64 (null = missing), ``better``
    ("higher"/"lower"), ``target`` Float64, ``target_comparison`` String, ``baseline_start`` and
    ``baseline_end`` Date, ``recalculate_from`` List(Date), all but ``better`` optional and null
    for none; the settings are the same on every row of a series (refused otherwise). Or the
    settings once per series: ``settings`` with the keys and those columns, one row per series
    (``frame`` then needs only the keys, ``period`` and ``value``): the same charts, without
    carrying the settings on every point.
    Returns ``(points, summary)``: ``points`` one row per charted point, ``*keys`` then the columns
    of ``SpcResult.points``; ``summary`` one row per series, ``*keys`` then ``last_period``,
    ``variation``, ``assurance``, ``n_points``, ``missing``, ``message``; both sorted by keys.
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    points, settings = _prepared(frame, keys, settings)
    points = _rules(points.with_columns(pl.lit(settings[name]).gather(pl.col("_series")) for name in keys))
    return points.select(*keys, *POINTS), _summary(points, _segment_table(points), settings, keys)


def xmr_latest(frame: pl.DataFrame, *, keys: Sequence[str], settings: pl.DataFrame | None = None) -> pl.DataFrame:
    """``xmr_many``'s summary alone (the same frame, the same checks and refusals), as the stored
    readings need it: the limits from every point, the rules only on each series' last ``RUN_POINTS``
    points. The last point's variation depends on nothing earlier: a point outside the limits is
    itself, two of three looks two points back, and a shift or trend that reaches the last point is
    flagged there once its last 7 points are one run."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    points, settings = _prepared(frame, keys, settings)
    # Sorted by series then period: a point is in its series' last 7 when the point 7 rows on is not.
    tail = points.filter((pl.col("_series").shift(-RUN_POINTS) != pl.col("_series")).fill_null(True))
    return _summary(_rules(tail), _segment_table(points), settings, keys)


def xmr_from_totals(tail: pl.DataFrame, segments: pl.DataFrame, settings: pl.DataFrame, *,
                    keys: Sequence[str]) -> pl.DataFrame:
    """``xmr_latest``'s summary from what a store keeps instead of every point (``pipelines.spc.totals``):
    ``segments`` one row per segment of each series (keys, ``segment`` numbered from 0 in time order, its
    first ``period``, ``height`` its points, ``n_base`` its baseline points and their ``mean`` and mean
    moving range ``mr_bar``); ``tail`` the last ``RUN_POINTS`` points of each series (keys, ``period``,
    ``value``, ``segment``); ``settings`` one row per series (keys and the settings columns), no point
    missing. The rules are ``xmr_latest``'s, on the same last points, with the same limits."""
    keys = list(keys)
    settings = (settings.select(*keys, *_given(settings, SETTINGS)).sort(keys).with_row_index("_series")
                .with_columns(missing=pl.lit(0, pl.Int64)))
    _check(settings, keys)
    ids = settings.select("_series", *keys)
    enough = pl.col("n_base") >= MIN_POINTS
    segments = (segments.join(ids, on=keys).sort("_series", "segment").with_row_index("_seg")
                .with_columns(segment=pl.col("segment").cast(pl.Int32), mean=pl.when(enough).then(pl.col("mean")),
                              mr_bar=pl.when(enough).then(pl.col("mr_bar")))
                .with_columns(limits=pl.col("mean").is_not_null()))
    tail = (tail.select(*keys, "period", pl.col("value").cast(pl.Float64), pl.col("segment").cast(pl.Int32))
            .join(ids, on=keys).join(segments.select("_series", "segment", "_seg", "mean", "mr_bar"),
                                     on=["_series", "segment"])
            .sort("_series", "period")
            .with_columns(better=pl.lit(settings["better"]).gather(pl.col("_series"))))
    return _summary(_rules(_lines(tail)), segments, settings, keys)


def _prepared(frame: pl.DataFrame, keys: list[str], settings: pl.DataFrame | None) -> tuple[pl.DataFrame,
                                                                                               pl.DataFrame]:
    """The points checked, sorted by series then period, segmented and with their limits (no keys,
    the series' number ``_series``); the settings checked, one row per series in that order."""
    if settings is not None and not keys:
        raise ValueError("settings given once per series need key columns")
    per_row = SETTINGS if settings is None else []
    # One chunk: a frame straight from DuckDB comes in pieces, and joins on pieces are three times slower.
    frame = frame.select(*keys, *_given(frame, ["period", "value", *per_row])).with_columns(
        pl.col("value").fill_nan(None)).rechunk()
    if keys:  # number the series 0, 1, ... in key order
        ids = frame.select(keys).unique().sort(keys).with_row_index("_series")
        frame = frame.join(ids, on=keys, nulls_equal=True)
    else:
        frame = frame.with_columns(_series=pl.lit(0, pl.UInt32))
    missing = pl.col("value").null_count().cast(pl.Int64).alias("missing")
    if settings is None:
        settings = frame.group_by("_series").agg(*(pl.col(name).first() for name in [*keys, *SETTINGS]),
                                                  missing).sort("_series")
    else:
        given = settings.select(*keys, *_given(settings, SETTINGS))
        _refuse(given.filter(pl.struct(keys).is_duplicated()), "each series may have only one row of settings",
                keys)
        settings = (ids.join(given, on=keys, how="left", nulls_equal=True)
                    .join(frame.group_by("_series").agg(missing), on="_series").sort("_series"))
    _check(settings, keys)
    # Sort only what the rules need, on one integer: series (high bits) then period. Sorting every
    # column on the keys themselves would take most of the time.
    points = (frame.select("_series", "period", "value", *([pl.struct(SETTINGS).hash().alias("_settings")]
                                                           if per_row else []))
              .sort(pl.col("_series").cast(pl.Int64) * 2**32 + pl.col("period").to_physical()))
    same_series = pl.col("_series") == pl.col("_series").shift(1)
    if per_row:
        varies = same_series & (pl.col("_settings") != pl.col("_settings").shift(1))
        _refuse(points.filter(varies), "settings must be the same on every row of a series", keys, settings)
    points = points.drop_nulls("value")
    repeated = same_series & (pl.col("period") == pl.col("period").shift(1))
    _refuse(points.filter(repeated), "each period may appear only once", keys, settings)
    # Settings per point, read from the settings row of the point's series (row number = series id).
    points = points.with_columns(pl.lit(settings[name]).gather(pl.col("_series"))
                                 for name in ["better", "baseline_start", "baseline_end"])
    return _limits(_segments(points, settings)), settings


def xmr(series: pl.DataFrame, *, better: str, target: float | None = None,
        target_comparison: str | None = None, baseline: tuple[date, date] | None = None,
        recalculate_from: Sequence[date] = ()) -> SpcResult:
    """An XmR chart of ``series`` (columns ``period`` Date, ``value`` Float64; null = missing).

    ``baseline`` fixes the first segment's limits to the points between two dates (inclusive);
    each date in ``recalculate_from`` starts a new segment with limits from all its own points.
    """
    start, end = baseline if baseline is not None else (None, None)
    settings = pl.DataFrame([(better, target, target_comparison, start, end, list(recalculate_from))],
                            schema={name: INPUT[name] for name in SETTINGS}, orient="row")
    if series.height == 0:  # no row to carry the settings: check them, and chart nothing
        _check(settings, [])
    points, summary = xmr_many(series.select("period", "value").join(settings, how="cross"), keys=())
    if summary.height == 0:
        return SpcResult(points, "run_chart", None, "No points to chart.", 0, 0)
    return SpcResult(points, *summary.select("variation", "assurance", "message", "n_points", "missing").row(0))
