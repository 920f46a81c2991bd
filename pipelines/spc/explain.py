"""What changed and when, in one sentence: an XmR chart's readings read back together with the weekly
counts its metric is made of ("shift up since the week ending 12/01/2025: patients staying 7+ days up
18 a day while occupied G&A beds stayed level"). Pure functions over Polars frames, no Streamlit.

The counts are per day (a week's sum over its days with figures), so a week of 7 days and a part week
read alike, and the sentence compares the weeks of the signal with the weeks of the same segment
(limits) before it: that is the change a reader of the chart sees.
"""
from __future__ import annotations

import polars as pl

from pipelines.catalogue.dates import uk_date
from pipelines.spc.xmr import MIN_POINTS, OUTSIDE, SHIFT, TREND

LEVEL_SHARE = 0.02  # a count that moved by less than 2% of its level (and under one a day) "stayed level"
# Per direction of the points ("high", "low"): the words of each rule.
_KIND_WORDS = {SHIFT: ("shift up", "shift down"), TREND: ("rising trend", "falling trend")}
_OUTSIDE_WORDS = ("above the upper limit", "below the lower limit")
_TWO_WORDS = ("two of three weeks above the upper 2-sigma line", "two of three weeks below the lower 2-sigma line")
_SIGNAL_WORDS = {"improvement": "special cause improvement", "concern": "special cause concern",
                 "neither": "special cause, neither better nor worse"}


def capitalised(text: str) -> str:
    """'Patients staying 7+ days' from 'patients staying 7+ days' (str.capitalize would lower 'G&A')."""
    return text[:1].upper() + text[1:]


def per_day(parts: pl.DataFrame) -> pl.DataFrame:
    """``parts`` (``numerator``, ``denominator`` summed over a period's ``days_with_data``) with
    ``numerator_per_day`` and ``denominator_per_day``: the average count a day (null without days)."""
    days = pl.col("days_with_data").cast(pl.Float64)
    days = pl.when(days > 0).then(days)
    return parts.with_columns(numerator_per_day=pl.col("numerator") / days,
                              denominator_per_day=pl.col("denominator") / days)


def count_text(value: float | None) -> str:
    """A count a day as people read it: whole numbers from 10 up, one decimal place below."""
    if value is None:
        return "not reported"
    return f"{value:,.0f}" if round(abs(value), 1) >= 10 else f"{value:,.1f}"


def _average(parts: pl.DataFrame, column: str) -> float | None:
    """The average count a day over the weeks of ``parts``: their sums over their days."""
    known = parts.filter(pl.col(column).is_not_null() & (pl.col("days_with_data") > 0))
    days = float(known["days_with_data"].sum())
    return float(known[column].sum()) / days if days else None


def _moved(words: str, before: float | None, after: float | None) -> tuple[str, int | None]:
    """'patients staying 7+ days up 18 a day (from 40 to 58)' and the direction (1 up, -1 down, 0 level,
    None: not known)."""
    if before is None or after is None:
        return f"{words} not reported in every week", None
    change = after - before
    if abs(change) < max(1.0, LEVEL_SHARE * abs(before)):
        return f"{words} stayed level (about {count_text(after)} a day)", 0
    way = "up" if change > 0 else "down"
    return f"{words} {way} {count_text(abs(change))} a day (from {count_text(before)} to {count_text(after)})", (
        1 if change > 0 else -1)


def counts_text(before: pl.DataFrame, after: pl.DataFrame, numerator_words: str,
                denominator_words: str | None) -> str:
    """How the counts a day moved from the weeks ``before`` to the weeks ``after`` (``per_day`` input
    frames): 'patients staying 7+ days up 18 a day (from 40 to 58) while occupied G&A beds stayed level
    (about 400 a day)'."""
    after_numerator, after_denominator = _average(after, "numerator"), _average(after, "denominator")
    numerator, way = _moved(numerator_words, _average(before, "numerator"), after_numerator)
    if denominator_words is None:
        return numerator
    denominator, other = _moved(denominator_words, _average(before, "denominator"), after_denominator)
    if way == other == 0:
        return (f"{numerator_words} and {denominator_words} both stayed level (about "
                f"{count_text(after_numerator)} and {count_text(after_denominator)} a day)")
    return numerator + (" and " if way == other else " while ") + denominator


def _signal_start(segment: pl.DataFrame) -> int:
    """The row where the run of special-cause points ending at the segment's last point starts
    (all on the same side: a high run is not continued by a low point)."""
    flags, directions = segment["special_cause"].to_list(), segment["direction"].to_list()
    start = len(flags) - 1
    while start > 0 and flags[start - 1] and directions[start - 1] == directions[-1]:
        start -= 1
    return start


def _signal_words(run: pl.DataFrame) -> str:
    """'shift up since the week ending 12/01/2025': the strongest rule the run fired, its direction, its start."""
    fired = {rule for rules in run["rules"].to_list() for rule in rules or ()}
    direction, kinds = run["direction"][-1], [SHIFT, TREND]
    if direction == "mixed":  # a rising trend below the mean, say: the trend is the change, read off the values
        direction, kinds = ("high" if run["value"][-1] >= run["value"][0] else "low"), [TREND, SHIFT]
    side = 0 if direction == "high" else 1
    since = f"since the week ending {uk_date(run['period'][0])}"
    for rule in kinds:
        if rule in fired:
            return f"{_KIND_WORDS[rule][side]} {since}"
    if OUTSIDE in fired and run.height == 1:
        return f"the week ending {uk_date(run['period'][0])} was {_OUTSIDE_WORDS[side]}"
    if OUTSIDE in fired:
        return f"{_OUTSIDE_WORDS[side]} {since}"
    return f"{_TWO_WORDS[side]} {since}"


def change_sentence(points: pl.DataFrame, parts: pl.DataFrame, numerator_words: str,
                    denominator_words: str | None = None) -> str:
    """One sentence of what SPC says changed and when, with the counts behind it.

    ``points``: an XmR chart's points (``SpcResult.points``: period, value, segment, mean, special_cause,
    rules, direction, signal), sorted by period; ``parts``: the same weeks' counts (``period``,
    ``numerator``, ``denominator``, ``days_with_data``); ``numerator_words`` and ``denominator_words``
    what they count (no denominator: a daily average)."""
    if points.is_empty():
        return "No complete week (all 7 days reported) yet, so SPC cannot say whether anything changed."
    counted = parts.select("period", "numerator", "denominator", "days_with_data")
    segment = points.filter(pl.col("segment") == points["segment"].max()).join(counted, on="period", how="left")
    last = segment.row(-1, named=True)
    if last["mean"] is None:
        return (f"Too few complete weeks for SPC limits ({segment.height} since the week ending "
                f"{uk_date(segment['period'][0])}; {MIN_POINTS} are needed), so SPC cannot yet say whether "
                "anything changed.")
    if not last["special_cause"]:
        recent = segment.tail(4)
        earlier = segment.filter(pl.col("special_cause"))
        note = (f" The last special cause in these limits was in the week ending {uk_date(earlier['period'][-1])}."
                if earlier.height else "")
        moved = counts_text(segment.head(segment.height - recent.height), recent, numerator_words, denominator_words)
        counts = f"; the last 4 weeks against the weeks before them: {moved}" if segment.height > recent.height else ""
        return (f"Common cause variation: no shift, trend or point outside the limits up to the week ending "
                f"{uk_date(last['period'])}{counts}.{note}")
    start = _signal_start(segment)
    run, before = segment.slice(start), segment.head(start)
    what = _signal_words(run)
    kind = _SIGNAL_WORDS.get(last["signal"], "special cause")
    if before.is_empty():  # the whole segment is the signal: nothing earlier to compare the counts with
        return f"{capitalised(what)} ({kind})."
    return (f"{capitalised(what)} ({kind}): "
            f"{counts_text(before, run, numerator_words, denominator_words)}.")
