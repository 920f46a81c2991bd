"""How a weekly figure is written for people: one place for the page, the exports and the narrative.

A cell of the weekly table is a typed ``TableCell`` (numbers, codes); its compact text ("39%",
"163, -22%"), symbol, arrow and the long words of its details are derived here, once, so the page,
the Word and Excel exports and the CSV never parse display text back into figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from pipelines.catalogue.metrics import METRIC_BY_ID, Metric, Unit
from pipelines.catalogue.wording import ASSURANCE_WORDS, VARIATION_LABELS

# Status fills, used by the pages and the Excel and Word exports alike. Pale green, mid amber and a
# darker red, so they differ in lightness as well as hue (distinct for a deuteranope too: see
# tests/test_presentation.py); the symbol is always printed beside the colour.
STATUS_FILL = {"green": "#E6F4EC", "amber": "#FFC83D", "red": "#E38B82", "none": "#FFFFFF"}
NHS_PALE_GREY = "#E8EDEE"
NHS_INK = "#212B32"  # NHS black: body text and lines
NHS_SECONDARY_TEXT = "#4C6272"  # 6.3:1 on white, 5.9:1 on Streamlit's pale widget grey
NHS_GREEN, NHS_RED = "#007F3B", "#D5281B"  # text on white: 5.3:1 and 4.9:1
# OPEL 1 to 4: one hue family from pale to dark, each level at least 1.75:1 lighter than the next, for
# a deuteranope too (NHS warm yellow and orange were 1.46:1 apart); the level's number in each cell is
# at least 4.5:1 on its colour. The one definition, for the trust page's strip and the OPEL page's grid.
OPEL_COLOURS = {1: "#FFF3C4", 2: "#F5A800", 3: "#B35900", 4: "#6E0F2D"}
OPEL_TEXT_COLOURS = {1: NHS_INK, 2: NHS_INK, 3: "#FFFFFF", 4: "#FFFFFF"}

STATUS_SYMBOL = {"green": "✓", "amber": "!", "red": "✗", "none": ""}
STATUS_WORDS = {"green": "meets the ambition", "amber": "just misses the ambition (within the amber tolerance)",
                "red": "misses the ambition", "none": "no national ambition"}
STATUS_TEXT = {s: f"{STATUS_SYMBOL[s]} {w}" if STATUS_SYMBOL[s] else "" for s, w in
               {"green": "meets ambition", "amber": "just misses", "red": "misses ambition", "none": ""}.items()}

# The cell's one SPC mark, told apart by shape as well as colour (a pack printed in black, a colour-blind
# reader): ▲ special-cause improvement, ▼ special-cause concern, whichever way the figures moved (the
# details say high or low). Common cause and run charts get no mark: a cell shows only what needs a word.
SPC_MARK = {"improvement_high": "▲", "improvement_low": "▲", "concern_high": "▼", "concern_low": "▼",
            "neither": "±"}
SPC_COLOUR = {"improvement": "#005EB8", "concern": "#A04C00"}  # NHS blue; a dark orange: 4.5:1 on pale fills
# The change on last week beside the status (docs/domain.md section 3): which way the figure moved and
# whether that is better or worse, by shape, never by colour alone: a thin arrow better, a heavy one
# worse (it stands out, as bad news should). Arrows, never triangles, so a change is not read as an SPC
# mark. The one definition: the cell's marks on the page and in the packs, and the change in words
# ('⬆ 3.0 pts worse').
CHANGE_ARROW = {("up", "better"): "↑", ("down", "better"): "↓", ("up", "worse"): "⬆", ("down", "worse"): "⬇"}
# The one line of the key, for the page and the packs.
KEY_TEXT = ("✓ meets the ambition, ! just misses (within tolerance), ✗ misses; on last week: ↑ ↓ better, "
            "⬆ ⬇ worse; SPC special cause: ▲ improvement, ▼ concern, ± mixed; 4d: 4 of 7 days of data; "
            "n/r: not reported; –: no submission")
NO_SUBMISSION = "no submission this week"
NOT_REPORTED = "not reported"


def spc_kind(variation: str | None) -> str:
    """'improvement', 'concern', 'common' or '' (no reading): the class of the cell's SPC mark."""
    if not variation or variation == "run_chart":
        return ""
    return variation.split("_")[0] if variation.startswith(("improvement", "concern")) else "common"



def spc_words(variation: str | None, assurance: str | None) -> str:
    """'Special cause concern (high); consistently failing the ambition': the details' SPC reading."""
    words = [VARIATION_LABELS[variation]] if variation in VARIATION_LABELS and variation != "run_chart" else []
    if assurance in ASSURANCE_WORDS:
        words.append(ASSURANCE_WORDS[assurance])
    return "; ".join(words)


# Units whose figures and changes are shown to 0.1 in full (percentages, days); the others in whole numbers.
_TENTHS = (Unit.PERCENT, Unit.DAYS)


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """The figure to ``decimals`` places, by default the full one (one decimal place for percentages and
    days, none for counts and levels): '39.2%', '2.4', '1,352', '3'."""
    if value is None:
        return NOT_REPORTED
    places = decimals if decimals is not None else full_decimals(unit)
    if unit == Unit.PERCENT:
        return f"{value:.{places}f}%"
    return f"{value:,.{places}f}" if unit == Unit.PATIENTS else f"{value:.{places}f}"


def full_decimals(unit: str) -> int:
    """The places of a full figure, as in a cell's details: one for percentages and days, none otherwise."""
    return 1 if unit in _TENTHS else 0


Ambition = tuple[str, float, float]  # comparison, threshold, amber tolerance
MAX_DECIMALS = 2  # a figure is never shown to more places than this


def rag_status(value: float, ambition: Ambition) -> str:
    """The warehouse's ``rag_status`` macro for a figure in hand (as shown): green, amber or red.
    tests/test_presentation.py checks the two agree."""
    comparison, threshold, tolerance = ambition
    met = {"<": value < threshold, "<=": value <= threshold, ">": value > threshold, ">=": value >= threshold}
    if met[comparison]:
        return "green"
    near = value <= threshold + tolerance if comparison in ("<", "<=") else value >= threshold - tolerance
    return "amber" if near else "red"


def shown_figure(value: float, decimals: int, ambition: Ambition | None) -> tuple[float, int]:
    """The figure as shown (rounded) and its decimal places. THE rule, for the page and every pack: a figure is
    never rounded onto or across a status boundary (the ambition, or the end of the amber tolerance).
    It gets as many more places as its status needs, up to two: 92.1% beside '≤ 92%' and amber, not
    92%. Within 0.005 of a boundary it is rounded away from it to two places (92.001% shows 92.01%)."""
    if ambition is None:
        return round(value, decimals), decimals
    status = rag_status(value, ambition)
    for places in range(decimals, max(decimals, MAX_DECIMALS) + 1):
        if rag_status(shown := round(value, places), ambition) == status:
            return shown, places
    step = 10.0 ** -MAX_DECIMALS
    below, above = math.floor(value / step), math.ceil(value / step)
    candidates = [round(k * step, MAX_DECIMALS) for k in (below - 1, below, above, above + 1)]
    return min((c for c in candidates if rag_status(c, ambition) == status), key=lambda c: abs(c - value)), \
        MAX_DECIMALS


def format_shown(value: float | None, unit: str, decimals: int, ambition: Ambition | None) -> str:
    """``format_value`` under the rule of ``shown_figure``: the text never contradicts the status."""
    if value is None:
        return NOT_REPORTED
    figure, places = shown_figure(value, decimals, ambition)
    return format_value(figure, unit, places)


def row_ambition(row: dict) -> Ambition | None:
    """A query row's ambition (``ambition_comparison``, ``ambition``, ``amber_tolerance``), if it has one."""
    if row.get("ambition_comparison") is None or row.get("ambition") is None:
        return None
    return row["ambition_comparison"], row["ambition"], row.get("amber_tolerance") or 0.0


def rounded_change(change: float, unit: str) -> float:
    """The change as it is shown: to 0.1 for percentages (points) and days, to a whole number otherwise."""
    return round(change, 1) if unit in _TENTHS else round(change)


def change_arrow(change: float | None, direction: str | None, unit: str) -> str:
    """The change's mark (``CHANGE_ARROW``): '⬆' up and worse, '↓' down and better; '' when there is no
    change to show (none, or one that rounds to nothing)."""
    if change is None or direction not in ("better", "worse") or rounded_change(change, unit) == 0:
        return ""
    return CHANGE_ARROW["up" if change > 0 else "down", direction]


def format_change(change: float | None, direction: str | None, unit: str, signed: bool = False) -> str:
    """The one change formatter: '⬆ 3.0 pts worse', '↓ 2.0 pts better' (the table's marks,
    ``CHANGE_ARROW``; or, ``signed``, '+3.0 pts, worse' for widgets that draw their own arrow);
    'no change' whenever the change rounds to nothing."""
    if change is None or direction is None:
        return ""
    shown = rounded_change(change, unit)
    if direction == "same" or shown == 0:
        return "no change"
    amount = f"{shown:+.1f} pts" if unit == Unit.PERCENT else f"{shown:+.1f} days" if unit == Unit.DAYS \
        else f"{shown:+,.0f}"
    if signed:
        return f"{amount}, {direction}"
    return f"{change_arrow(change, direction, unit)} {amount[1:]} {direction}"


def format_delta(change: float | None, direction: str | None, unit: str) -> str:
    """'+0.3 pts, worse' for a headline tile's change (drilldown_text.tiles_html): ``format_change`` signed."""
    return format_change(change, direction, unit, signed=True)


def percent_change(change: float | None, previous: float | None) -> int | None:
    """A count's change on last week in whole per cent of last week's figure (None when last week
    had none or zero). From the change, not this week's value: a combined change is like for like."""
    if change is None or previous is None or previous == 0:
        return None
    return round(100 * change / previous)


def format_ambition(comparison: str | None, threshold: float | None, unit: str) -> str:
    if comparison is None or threshold is None:
        return "none"
    symbol = {"<=": "≤", ">=": "≥"}.get(comparison, comparison)
    return f"{symbol} {threshold:g}{'%' if unit == Unit.PERCENT else ''}"


@dataclass(frozen=True)
class TableCell:
    """One cell of the weekly table: a trust's (or, ``org_code`` None, the selected trusts
    combined) figure for one metric and week, as numbers and codes."""
    org_code: str | None
    name: str
    metric: str
    value: float | None
    status: str  # green, amber, red, none
    previous_value: float | None = None
    change: float | None = None
    change_direction: str | None = None  # better, worse, same
    days_with_data: int = 7
    variation: str | None = None
    assurance: str | None = None
    submitted: bool = True  # False: the trust sent nothing that week
    sites: tuple[tuple[str, float | None], ...] = ()  # (site name, value) where the trust submits per site
    # Combined cells only: the change is over the trusts that reported both weeks; set when that is
    # fewer than reported this week, so the details can say the change is like for like.
    compared_trusts: int | None = None
    # A metric from optional columns, for a week before the trust's first figure: 'not collected before
    # 01/04/2024' (pipelines.queries.drd.not_collected), said instead of 'not reported'.
    uncollected: str = ""
    ambition: Ambition | None = None  # what the status was read against: the shown figure keeps to it

    def figure(self, full: bool = False) -> str:
        """The figure as shown (``format_shown``): the compact one, or ``full`` as in the details."""
        metric = self.catalogue
        decimals = max(metric.decimals, full_decimals(metric.unit)) if full else metric.decimals
        return format_shown(self.value, metric.unit, decimals, self.ambition)

    @property
    def catalogue(self) -> Metric:
        return METRIC_BY_ID[self.metric]

    @property
    def symbol(self) -> str:
        return STATUS_SYMBOL[self.status] if self.value is not None else ""

    @property
    def spc_mark(self) -> str:
        """'▲' special-cause improvement, '▼' concern, '±' mixed signals, '' otherwise."""
        return SPC_MARK.get(self.variation or "", "") if self.value is not None else ""

    @property
    def change_mark(self) -> str:
        """'↑' / '↓' better than last week, '⬆' / '⬇' worse, '' for no change or no figure either week."""
        return change_arrow(self.change, self.change_direction, self.catalogue.unit) if self.value is not None else ""

    @property
    def marks(self) -> str:
        """The cell's small second line as plain text: '✗ ⬆ ▼ 4d' (status, change on last week, SPC,
        days of data)."""
        parts = [self.symbol, self.change_mark, self.spc_mark]
        if self.value is not None and self.days_with_data < 7:
            parts.append(f"{self.days_with_data}d")
        return " ".join(p for p in parts if p)

    @property
    def text(self) -> str:
        """The compact figure: '39%', '21.6%', '3', and for recorded delays '163, -22%'."""
        if not self.submitted:
            return "–"
        metric = self.catalogue
        if self.value is None:
            return self.uncollected or "n/r"
        text = self.figure()
        percent = percent_change(self.change, self.previous_value)
        if metric.is_count and percent is not None:
            text += f", {percent:+d}%" if percent else ", 0%"
        return text

    @property
    def site_text(self) -> str:
        """'York 38% / Scarborough 41%' for a trust that submits per site, '' otherwise."""
        metric = self.catalogue
        return " / ".join(f"{name} {format_value(value, metric.unit, metric.decimals) if value is not None else 'n/r'}"
                          for name, value in self.sites)

    @property
    def change_words(self) -> str:
        """'3.0 pts worse than last week (49.0%)' or 'no change on last week (49.0%)'."""
        metric = self.catalogue
        if self.previous_value is None:
            return "no figure for the week before"
        change = format_change(self.change, self.change_direction, metric.unit)
        before = format_value(self.previous_value, metric.unit)
        if (compared := self.compared_trusts) is not None:
            before += f" for the {compared} trust{'s' * (compared != 1)} that reported both weeks"
        if change == "no change":
            return f"no change on last week ({before})"
        return f"{change[2:]} than last week ({before})"

    @property
    def details(self) -> str:
        """The long words of the cell, for its tooltip and screen readers."""
        metric = self.catalogue
        head = f"{self.name}, {metric.short_label}"  # the full label is the row's own tooltip
        if not self.submitted:
            return f"{head}: {NO_SUBMISSION}."
        if self.value is None:
            return f"{head}: {self.uncollected or NOT_REPORTED} this week."
        parts = [f"{head}: {self.figure(full=True)}"]
        if self.status != "none":
            parts.append(f"{self.symbol} {STATUS_WORDS[self.status]}")
        parts.append(self.change_words)
        if spc := spc_words(self.variation, self.assurance):
            parts.append(f"SPC: {spc}")
        if self.days_with_data < 7:
            parts.append(f"{self.days_with_data} of 7 days of data")
        if self.sites:
            parts.append(f"by site: {self.site_text}")
        return ". ".join(parts) + "."


def cell_from_row(row: dict, name: str, sites: tuple[tuple[str, float | None], ...] = (),
                  uncollected: str = "") -> TableCell:
    """A ``weekly_position`` (or ``system_weekly``) row as a cell."""
    return TableCell(org_code=row.get("org_code"), name=name, metric=row["metric"], value=row["value"],
                     status=row["status"] or "none", previous_value=row["previous_value"], change=row["change"],
                     change_direction=row["change_direction"], days_with_data=row.get("days_with_data") or 7,
                     variation=row.get("variation"), assurance=row.get("assurance"), sites=sites,
                     compared_trusts=_compared_trusts(row), ambition=row_ambition(row), uncollected=uncollected)


def _compared_trusts(row: dict) -> int | None:
    """A combined row's like-for-like trust count where it differs from the trusts reporting."""
    compared, reporting = row.get("trusts_compared"), row.get("trusts_reporting")
    return compared if compared is not None and compared != reporting and row["previous_value"] is not None else None


def headline_figures(system: pl.DataFrame, metrics: tuple[str, ...]) -> list[dict[str, str]]:
    """Tiles for one week of ``system_weekly`` (or one trust's ``weekly_position``) rows: value,
    change on last week, status."""
    rows = {r["metric"]: r for r in system.to_dicts()}
    return [{"metric": m, "label": r["metric_label"], "short_label": METRIC_BY_ID[m].short_label,
             "value": format_shown(r["value"], r["unit"], full_decimals(r["unit"]), row_ambition(r)),
             "delta": (delta := format_delta(r["change"], r["change_direction"], r["unit"])), "better": r["better"],
             # As the text reads it: a change too small to show is "same" (no arrow), not better or worse.
             "direction": "same" if delta == "no change" else r["change_direction"] or "",
             "status": STATUS_TEXT[r["status"]],
             "ambition": format_ambition(r["ambition_comparison"], r["ambition"], r["unit"])}
            for m in metrics if (r := rows.get(m))]
