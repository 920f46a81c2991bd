"""The metric catalogue of docs/domain.md section 3: each metric's formula, written once.

Every metric is a numerator and a denominator summed over the days of a week (Monday to
Sunday) from the trust-day figures, so weekly percentages are ratios of weekly sums, never
averages of daily percentages. The warehouse views ``weekly_metric_parts`` and ``daily_metric_parts``
are generated from this list; ``weekly_position``, the pages and the exports all read from that view.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    better: str  # "lower" or "higher": decides whether a rise is an improvement
    aggregate: str  # "ratio" (percentage of sums), "daily_average" or "max"
    numerator: str  # SQL over one trust-day row of sitrep_trust_day
    denominator: str | None  # SQL for "ratio"; None otherwise
    definition: str
    short_label: str  # for a table row or a tile, where the full label would be cut off
    decimals: int = 0  # in the compact weekly table cell; the details always give one decimal place
    headline: bool = False  # one of the headline tiles of the selected trusts combined
    # What the numerator and denominator count, in words ("patients staying 7+ days", "occupied G&A beds"),
    # for the drill-down's counts and its sentence of what changed; empty: the formula's own words.
    numerator_words: str = ""
    denominator_words: str = ""
    related: tuple[str, ...] = ()  # ids of the metrics the drill-down shows beside this one

    @property
    def numerator_text(self) -> str:
        return self.numerator_words or _formula_words(self.numerator)

    @property
    def denominator_text(self) -> str | None:
        """None for a metric without a denominator (a daily average or a maximum)."""
        if self.aggregate != "ratio" or self.denominator is None:
            return None
        return self.denominator_words or _formula_words(self.denominator)

    @property
    def unit(self) -> str:
        return {"ratio": "%", "daily_average": "patients", "max": "level"}[self.aggregate]

    @property
    def has_spc(self) -> bool:
        """OPEL levels (the week's highest of 1-4) are not a continuous measure: no XmR chart."""
        return self.aggregate != "max"


def _formula_words(sql: str) -> str:
    """'los 7plus' from 'los_7plus': a fallback for a metric whose words the catalogue does not give."""
    return " ".join(sql.replace("_", " ").split())


_PATHWAY_TOTAL = "discharges_p0 + discharges_p1 + discharges_p2 + discharges_p3"
_PATHWAYS = ("pathway_0_pct", "pathway_1_pct", "pathway_2_pct", "pathway_3_pct")
_OCCUPIED, _NCTR, _DISCHARGES = "occupied G&A beds", "patients not meeting the criteria to reside", "discharges"

METRICS: tuple[Metric, ...] = (
    Metric("ga_occupancy_pct", "G&A bed occupancy", "lower", "ratio", "ga_beds_occupied", "ga_beds_open",
           "Adult G&A beds occupied as a percentage of G&A beds open (core plus escalation).",
           "G&A occupancy", headline=True,
           numerator_words=_OCCUPIED, denominator_words="G&A beds open",
           related=("nctr_pct_of_occupied", "stranded_7plus_pct", "super_stranded_21plus_pct", "ctr_discharged_pct",
                    "pathway_0_1_pct")),
    Metric("covid_occupancy_pct", "G&A beds occupied by COVID-19 patients", "lower", "ratio",
           "covid_beds_occupied", "ga_beds_occupied",
           "G&A beds occupied by patients with confirmed COVID-19 as a percentage of occupied G&A beds.",
           "COVID-19 beds",
           numerator_words="occupied beds with COVID-19 patients", denominator_words=_OCCUPIED,
           related=("ga_occupancy_pct", "stranded_7plus_pct", "nctr_pct_of_occupied")),
    Metric("stranded_7plus_pct", "Stranded: occupied beds with LoS 7+ days", "lower", "ratio", "los_7plus",
           "ga_beds_occupied", "Patients with a length of stay of 7 days or more as a percentage of occupied G&A beds.",
           "Stranded 7+ days", headline=True,
           numerator_words="patients staying 7+ days", denominator_words=_OCCUPIED,
           related=("stranded_14plus_pct", "super_stranded_21plus_pct", "nctr_pct_of_occupied", *_PATHWAYS)),
    Metric("stranded_14plus_pct", "Occupied beds with LoS 14+ days", "lower", "ratio", "los_14plus",
           "ga_beds_occupied",
           "Patients with a length of stay of 14 days or more as a percentage of occupied G&A beds.",
           "LoS 14+ days",
           numerator_words="patients staying 14+ days", denominator_words=_OCCUPIED,
           related=("stranded_7plus_pct", "super_stranded_21plus_pct", "nctr_pct_of_occupied", *_PATHWAYS)),
    Metric("super_stranded_21plus_pct", "Super-stranded: occupied beds with LoS 21+ days", "lower", "ratio",
           "los_21plus", "ga_beds_occupied",
           "Patients with a length of stay of 21 days or more as a percentage of occupied G&A beds.",
           "Super-stranded 21+", headline=True,
           numerator_words="patients staying 21+ days", denominator_words=_OCCUPIED,
           related=("stranded_7plus_pct", "stranded_14plus_pct", "nctr_pct_of_occupied", *_PATHWAYS)),
    Metric("nctr_pct_of_occupied", "Patients not meeting the criteria to reside", "lower", "ratio",
           "nctr_patients", "ga_beds_occupied",
           "Patients who no longer meet the criteria to reside as a percentage of occupied G&A beds.",
           "NCTR of occupied",
           numerator_words=_NCTR, denominator_words=_OCCUPIED,
           related=("ctr_discharged_pct", "recorded_delays", "stranded_14plus_pct", "super_stranded_21plus_pct",
                    *_PATHWAYS)),
    Metric("ctr_discharged_pct", "NCTR patients discharged that day", "higher", "ratio", "nctr_discharged",
           "nctr_patients",
           "Patients not meeting the criteria to reside who were discharged that day, as a percentage of them.",
           "NCTR discharged", decimals=1,
           numerator_words="NCTR patients discharged", denominator_words=_NCTR,
           related=("ctr_discharged_by_5pm_pct", "nctr_pct_of_occupied", "recorded_delays", *_PATHWAYS)),
    Metric("ctr_discharged_by_5pm_pct", "NCTR patients discharged by 5pm", "higher", "ratio",
           "nctr_discharged_by_5pm", "nctr_patients",
           "Patients not meeting the criteria to reside who were discharged by 17:00 that day, "
           "as a percentage of them.",
           "NCTR out by 5pm", decimals=1, headline=True,
           numerator_words="NCTR patients discharged by 5pm", denominator_words=_NCTR,
           related=("ctr_discharged_pct", "nctr_pct_of_occupied", "recorded_delays", *_PATHWAYS)),
    Metric("recorded_delays", "Recorded delays (daily average)", "lower", "daily_average",
           "nctr_patients - nctr_discharged", None,
           "Daily average of patients not meeting the criteria to reside who remained in hospital.",
           "Recorded delays", headline=True,
           numerator_words="NCTR patients still in hospital",
           related=("nctr_pct_of_occupied", "ctr_discharged_pct", "super_stranded_21plus_pct", *_PATHWAYS)),
    Metric("pathway_0_1_pct", "Discharges home on pathways 0-1", "higher", "ratio",
           "discharges_p0 + discharges_p1", _PATHWAY_TOTAL,
           "Discharges on pathways 0 and 1 as a percentage of all discharges.",
           "Home (P0-1)", headline=True,
           numerator_words="discharges home on pathways 0-1", denominator_words=_DISCHARGES,
           related=(*_PATHWAYS, "ctr_discharged_pct")),
    Metric("pathway_0_pct", "Discharges on pathway 0", "higher", "ratio", "discharges_p0", _PATHWAY_TOTAL,
           "Discharges home with no new support as a percentage of all discharges.",
           "Pathway 0",
           numerator_words="discharges on pathway 0", denominator_words=_DISCHARGES,
           related=("pathway_0_1_pct", *_PATHWAYS[1:], "ctr_discharged_pct")),
    Metric("pathway_1_pct", "Discharges on pathway 1", "higher", "ratio", "discharges_p1", _PATHWAY_TOTAL,
           "Discharges home with support (reablement) as a percentage of all discharges.",
           "Pathway 1",
           numerator_words="discharges on pathway 1", denominator_words=_DISCHARGES,
           related=("pathway_0_1_pct", _PATHWAYS[0], *_PATHWAYS[2:], "ctr_discharged_pct")),
    Metric("pathway_2_pct", "Discharges on pathway 2", "lower", "ratio", "discharges_p2", _PATHWAY_TOTAL,
           "Discharges to short-term bedded rehabilitation or recovery as a percentage of all discharges.",
           "Pathway 2",
           numerator_words="discharges on pathway 2", denominator_words=_DISCHARGES,
           related=("pathway_0_1_pct", *_PATHWAYS[:2], _PATHWAYS[3], "ctr_discharged_pct")),
    Metric("pathway_3_pct", "Discharges on pathway 3", "lower", "ratio", "discharges_p3", _PATHWAY_TOTAL,
           "Discharges to a new care home placement as a percentage of all discharges.",
           "Pathway 3",
           numerator_words="discharges on pathway 3", denominator_words=_DISCHARGES,
           related=("pathway_0_1_pct", *_PATHWAYS[:3], "ctr_discharged_pct")),
    Metric("trust_opel_max", "Trust OPEL (highest in the week)", "lower", "max", "trust_opel", None,
           "The highest OPEL level the trust reported in the week.",
           "Trust OPEL",
           related=("la_opel_max", "ga_occupancy_pct", "nctr_pct_of_occupied")),
    Metric("la_opel_max", "Local authority OPEL (highest in the week)", "lower", "max", "la_opel", None,
           "The highest OPEL level reported for the trust's main local authority in the week.",
           "LA OPEL",
           related=("trust_opel_max", "nctr_pct_of_occupied", "recorded_delays")),
)

METRIC_IDS: tuple[str, ...] = tuple(m.id for m in METRICS)


def _part_sql(metric: Metric) -> str:
    """One element of the per-week list of parts: numerator, denominator and days counted."""
    # Summed as DOUBLE, the parts' type, rather than as 128-bit integers: exact (a week of a trust's 32-bit
    # figures is far below 2**53) and a quarter faster over the national history.
    value = f"CAST(({metric.numerator}) AS DOUBLE)"
    if metric.aggregate == "ratio":
        # CASE inside the aggregate rather than FILTER: the same sums, a third faster on 360,000 trust-days.
        both = f"({metric.numerator}) IS NOT NULL AND ({metric.denominator}) IS NOT NULL"
        numerator = f"sum(CASE WHEN {both} THEN {value} END)"
        denominator = f"sum(CASE WHEN {both} THEN CAST(({metric.denominator}) AS DOUBLE) END)"
        days = f"count(CASE WHEN {both} THEN 1 END)"
    elif metric.aggregate == "daily_average":
        numerator = f"sum({value})"
        denominator = days = f"count({metric.numerator})"
    else:  # max
        numerator = f"max({metric.numerator})"
        denominator = "NULL"
        days = f"count({metric.numerator})"
    return (f"{{'metric': '{metric.id}', 'numerator': CAST({numerator} AS DOUBLE), "
            f"'denominator': CAST({denominator} AS DOUBLE), 'days': CAST({days} AS INTEGER)}}")


def metric_parts_sql(period: str, trust_days: str = "sitrep_trust_day") -> str:
    """A view body: one row per trust, period and metric with the summed parts of its formula.

    ``period`` is ``week_ending`` (weekly parts) or ``period_date`` (daily parts, one day each);
    ``trust_days`` is the relation of trust-day totals to sum (a subquery refreshes a few weeks).
    """
    parts = ",\n        ".join(_part_sql(m) for m in METRICS)
    return f"""
WITH grouped AS (
    SELECT org_code, {period}, count(*) AS days_reported,
        [{parts}] AS parts
    FROM {trust_days}
    GROUP BY org_code, {period}
)
SELECT {period}, org_code, part.metric AS metric, part.numerator AS numerator,
       part.denominator AS denominator, part.days AS days_with_data, days_reported
-- unnest in a projection, not a lateral join: a filter on a trust or date then reaches the scan
FROM (SELECT {period}, org_code, days_reported, unnest(parts) AS part FROM grouped)"""

METRIC_BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}
HEADLINE_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.headline)
