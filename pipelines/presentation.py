"""How a weekly figure is written for people: one place for the page, the exports and the narrative."""
from __future__ import annotations

import polars as pl

STATUS_TEXT = {"green": "✓ meets ambition", "amber": "! just misses", "red": "✗ misses ambition", "none": ""}


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
    return " ".join(p for p in parts if p) + (f", {change}" if change else "")


def position_table(position: pl.DataFrame) -> pl.DataFrame:
    """Metrics as rows, trusts (short names) as columns, plus the ambition: the discharge group's table."""
    if position.is_empty():
        return pl.DataFrame({"Metric": [], "Ambition": []}, schema={"Metric": pl.String, "Ambition": pl.String})
    cells = position.with_columns(
        cell=pl.struct(pl.all()).map_elements(cell_text, return_dtype=pl.String),
        ambition_text=pl.struct("ambition_comparison", "ambition", "unit").map_elements(
            lambda r: format_ambition(r["ambition_comparison"], r["ambition"], r["unit"]), return_dtype=pl.String),
        trust=pl.coalesce("trust", "org_code"))
    table = cells.pivot(on="trust", index=["display_order", "metric_label"], values="cell", aggregate_function="first",
                        sort_columns=True)
    ambitions = cells.group_by("display_order").agg(Ambition=pl.col("ambition_text").first())
    return (table.join(ambitions, on="display_order").sort("display_order")
            .rename({"metric_label": "Metric"}).select("Metric", "Ambition", pl.exclude("Metric", "Ambition", "display_order")))
