"""How a weekly figure is written for people: one place for the page, the exports and the narrative."""
from __future__ import annotations

import polars as pl

from pipelines.catalogue.wording import ASSURANCE_TEXT, VARIATION_TEXT

# Status fills, used by the pages and the Excel and Word exports alike. Red/amber/green of
# different lightness, so they stay distinct for colour-blind readers; always beside the words.
STATUS_FILL = {"green": "#CCE5D8", "amber": "#FFE9B3", "red": "#F7D4D1", "none": "#FFFFFF"}
NHS_PALE_GREY = "#E8EDEE"

STATUS_TEXT = {"green": "✓ meets ambition", "amber": "! just misses", "red": "✗ misses ambition", "none": ""}



def spc_text(variation: str | None, assurance: str | None) -> str:
    """'SPC ⇩ improvement, hit or miss': a trust/metric's variation and assurance in a few words."""
    words = [w for w in (VARIATION_TEXT.get(variation or "", ""), ASSURANCE_TEXT.get(assurance or "", "")) if w]
    return f"SPC {', '.join(words)}" if words else ""


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "not reported"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if unit == "patients" else f"{value:.0f}"


def format_change(change: float | None, direction: str | None, unit: str) -> str:
    if change is None or direction is None:
        return ""
    amount = f"{abs(change):.1f} pts" if unit == "%" else f"{abs(change):,.0f}"
    if direction == "same" or float(amount.split()[0].replace(",", "")) == 0:
        return "→ no change"  # a change too small to show is shown as none
    return f"{'↑' if change > 0 else '↓'} {amount} {direction}"


def format_delta(change: float | None, direction: str | None, unit: str) -> str:
    """'+0.3 pts, worse': signed, for widgets that draw their own arrow from the sign."""
    if change is None or direction is None:
        return ""
    if direction == "same":
        return "no change"
    amount = f"{change:+.1f} pts" if unit == "%" else f"{change:+,.0f}"
    return f"{amount}, {direction}"


def format_ambition(comparison: str | None, threshold: float | None, unit: str) -> str:
    if comparison is None or threshold is None:
        return "none"
    symbol = {"<=": "≤", ">=": "≥"}.get(comparison, comparison)
    return f"{symbol} {threshold:g}{'%' if unit == '%' else ''}"


def cell_text(row: dict) -> str:
    """'39.2% ✓ meets ambition, ↑ 2.0 pts worse', or 'not reported'; notes a part week."""
    text = format_value(row["value"], row["unit"])
    if row["value"] is None:
        return text
    parts = [text, STATUS_TEXT[row["status"]]]
    change = format_change(row["change"], row["change_direction"], row["unit"])
    if row["days_with_data"] < 7:
        parts.append(f"({row['days_with_data']} of 7 days)")
    spc = spc_text(row.get("variation"), row.get("assurance"))
    return " ".join(p for p in parts if p) + (f", {change}" if change else "") + (f"; {spc}" if spc else "")


NO_SUBMISSION = "no submission this week"


def position_grid(position: pl.DataFrame, trusts: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The discharge group's table: metrics as rows, ``trusts`` (short names, in order) as columns.

    Returns the cell texts and, in the same shape, each cell's status (for colouring). A trust
    with no figures in the week gets ``NO_SUBMISSION`` rather than a blank or a zero.
    """
    if position.is_empty():
        empty = pl.DataFrame(schema={"Metric": pl.String, "Ambition": pl.String, **{t: pl.String for t in trusts}})
        return empty, empty
    cells = position.with_columns(
        cell=pl.struct(pl.all()).map_elements(cell_text, return_dtype=pl.String),
        ambition_text=pl.struct("ambition_comparison", "ambition", "unit").map_elements(
            lambda r: format_ambition(r["ambition_comparison"], r["ambition"], r["unit"]), return_dtype=pl.String),
        trust=pl.coalesce("trust", "org_code"))
    rows = cells.group_by("display_order", "metric_label").agg(Ambition=pl.col("ambition_text").first()).sort("display_order")

    def wide(values: str, missing: str) -> pl.DataFrame:
        table = cells.pivot(on="trust", index="display_order", values=values, aggregate_function="first")
        for trust in trusts:
            if trust not in table.columns:
                table = table.with_columns(pl.lit(missing).alias(trust))
        return (rows.join(table, on="display_order", how="left").rename({"metric_label": "Metric"})
                .select("Metric", "Ambition", *trusts))

    return wide("cell", NO_SUBMISSION), wide("status", "none")


def headline_figures(system: pl.DataFrame, metrics: tuple[str, ...]) -> list[dict[str, str]]:
    """Tiles for one week of the selected trusts combined: value, change on last week, status."""
    rows = {r["metric"]: r for r in system.to_dicts()}
    return [{"metric": m, "label": r["metric_label"], "value": format_value(r["value"], r["unit"]),
             "delta": format_delta(r["change"], r["change_direction"], r["unit"]), "better": r["better"],
             "direction": r["change_direction"] or "",
             "status": STATUS_TEXT[r["status"]],
             "ambition": format_ambition(r["ambition_comparison"], r["ambition"], r["unit"])}
            for m in metrics if (r := rows.get(m))]
