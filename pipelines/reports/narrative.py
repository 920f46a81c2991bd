"""Weekly narratives: a draft written from the figures, and every saved version kept.

The draft follows the discharge group's style (docs/domain.md section 1): trusts by short name, within
or over the ambition, better or worse than last week and by how much. It is a suggestion the
user edits; nothing here saves it. Saves go through ``warehouse.open_for_write`` and always add
a row, so the history of who wrote what, and when, is never lost.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines import access, config
from pipelines.catalogue.metrics import METRIC_IDS, METRICS, Metric, Unit
from pipelines.groups import ALL, ALL_GROUP, current_groups, find_group
from pipelines.reports.presentation import TableCell, format_value, percent_change, rounded_change
from pipelines.reports.weekly_table import MetricRow, WeeklyTable
from pipelines.safe_text import clean, clean_column
from pipelines.warehouse import open_for_write

MAX_LENGTH = 2000  # characters: a narrative is a cell of a board paper's table, not a report
MAX_AUTHOR_LENGTH = 200

# Control characters other than tab and newline cannot be stored in .docx or .xlsx (XML), and
# only ever arrive by accident (pasted from other tools), so they are dropped on saving.


# --- Drafting -------------------------------------------------------------------------------
# At most three short sentences per metric (about 60 words): the system first, then the trusts
# grouped, then what else matters (within but worsening, one SPC remark where it adds something,
# who sent nothing). SPC never contradicts the status: a point that meets the ambition in a process
# that does not reliably meet it is said to be exactly that.

MAX_NAMED = 5  # trusts named in a list; more are a count ("7 trusts"): a discharge group of five is named in full


def _last_and(items: list[str]) -> str:
    """' and ', or ', and ' where a bare name has its own 'and': 'Northern Lincolnshire, and York and
    Scarborough' is two trusts; without the comma it read as three. A figure after each name needs none."""
    ambiguous = any(" and " in item for item in items) and not any(item[-1:].isdigit() or item.endswith("%")
                                                                  for item in items)
    return ", and " if ambiguous else " and "


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])}{_last_and(names)}{names[-1]}"


def _count_or_names(names: list[str]) -> str:
    """Up to MAX_NAMED trusts by name, more as a count: 106 names would be most of the ~60 words."""
    return _names(names) if len(names) <= MAX_NAMED else f"{len(names)} trusts"


def _figure(cell: TableCell, threshold: float | None = None) -> str:
    """The table's figure as shown, or one decimal place where the compact one would read as the
    ambition itself ('1%' over an ambition of 1% or less); a mean delay in days ('2.4 days')."""
    metric = cell.catalogue
    compact = cell.figure()  # never rounded across a status boundary (presentation.shown_figure)
    if metric.is_mean:
        return f"{compact} days"
    if threshold is not None and metric.is_ratio and compact == format_value(threshold, Unit.PERCENT, metric.decimals):
        return cell.figure(full=True)
    return compact


def _points(amount: float, metric: Metric | None = None) -> str:
    """'3 points' of a percentage, '0.4 days' of a mean delay."""
    unit = "day" if metric is not None and metric.is_mean else "point"
    return f"{amount:g} {unit}{'s' * (amount != 1)}"


def _counted(cell: TableCell, row: MetricRow) -> str:
    """'3 patients waiting 21+ days beyond their discharge ready date, down from 7; the plan asks for none'."""
    metric = cell.catalogue
    figure = _figure(cell)
    text = f"{figure} patient{'s' * (figure != '1')} {metric.counted}"
    if cell.previous_value is not None and cell.change is not None:
        before = format_value(cell.previous_value, metric.unit)
        text += (", unchanged on last week" if before == figure
                 else f", {'down' if cell.change < 0 else 'up'} from {before}")
    if row.threshold == 0:  # the plan's asks to eliminate (reference_data/ambitions.csv)
        return f"{text}; the plan asks for none"
    return f"{text}; the ambition is {row.ambition}" if row.ambition != "none" else text


def _change(cell: TableCell) -> str:
    """'3 points worse than last week', 'down 22% on last week', 'unchanged on last week'."""
    metric = cell.catalogue
    if cell.previous_value is None or cell.change is None:
        return "no figure for the week before"
    if metric.is_count:
        percent = percent_change(cell.change, cell.previous_value)
        if percent is None:
            return "unchanged on last week" if cell.change == 0 else "up from 0 last week"
        if percent == 0:
            return "unchanged on last week"
        return f"{'up' if percent > 0 else 'down'} {abs(percent)}% on last week"
    shown = rounded_change(cell.change, metric.unit)
    if shown == 0:
        return "unchanged on last week"
    if metric.is_level:
        return f"{'up' if shown > 0 else 'down'} from {cell.previous_value:.0f} last week"
    return f"{_points(abs(shown), metric)} {cell.change_direction} than last week"


def _side(metric: Metric) -> str:
    return "over" if metric.better == "lower" else "below"


def _against(cell: TableCell, ambition: str) -> str:
    """'within the ambition (< 40%)' or 'over the ambition (< 40%)'."""
    side = "within" if cell.status == "green" else _side(cell.catalogue)
    return f"{side} the ambition ({ambition})"


def _worst_first(cells: list[TableCell]) -> list[TableCell]:
    return sorted(cells, key=lambda c: -(c.value or 0.0) if c.catalogue.better == "lower" else (c.value or 0.0))


def _system_sentence(row: MetricRow) -> str:
    cell = row.system
    if cell is None or cell.value is None:
        return ""
    if cell.catalogue.is_level:
        return f"Highest level this week: {_figure(cell)}, {_change(cell)}."
    if cell.catalogue.counted:
        return f"Combined: {_counted(cell, row)}."
    status = f", {_against(cell, row.ambition)}" if cell.status != "none" else ""
    like_for_like = f" (over the {cell.compared_trusts} that reported both weeks)" if cell.compared_trusts else ""
    return f"Combined: {_figure(cell, row.threshold)}{status}, {_change(cell)}{like_for_like}."


def _moved_most(cells: list[TableCell]) -> str:
    """'Harrogate worsened most, by 3 points' (or by 10% for a count); '' when nobody worsened."""
    worse = [c for c in cells if c.change_direction == "worse" and c.change is not None]
    if not worse:
        return ""
    metric = worse[0].catalogue
    if metric.is_level:
        return ""
    if metric.is_count:
        scored = [(abs(p), c) for c in worse if (p := percent_change(c.change, c.previous_value))]
        if not scored:
            return ""
        percent, most = max(scored, key=lambda t: t[0])
        return f"{most.name} {'rose' if metric.better == 'lower' else 'fell'} most, by {percent}%"
    points, most = max(((abs(rounded_change(c.change or 0, metric.unit)), c) for c in worse), key=lambda t: t[0])
    return f"{most.name} worsened most, by {_points(points, metric)}" if points else ""


def _trusts_sentence(row: MetricRow, present: list[TableCell], total: int) -> str:
    metric = present[0].catalogue
    if metric.is_level:
        levels = sorted({int(c.value or 0) for c in present}, reverse=True)
        groups = [f"{level}: {_count_or_names([c.name for c in present if int(c.value or 0) == level])}"
                  for level in levels]
        return f"By trust, level {'; level '.join(groups)}."
    if row.ambition != "none" and metric.is_ratio:
        off = _worst_first([c for c in present if c.status in ("red", "amber")])
        if off:
            count = {1: "", 2: "Both "}.get(total, f"All {total} ") if len(off) == total else f"{len(off)} of {total} "
            head = f"{count}{_side(metric)} the ambition"  # more than MAX_NAMED: the count says it
            if len(off) <= MAX_NAMED:
                head += ": " + _names([f"{c.name} {_figure(c, row.threshold)}" for c in off])
            head = head[0].upper() + head[1:]
        else:
            head = f"All {total} within the ambition" if total > 1 else "Within the ambition"
    else:
        ranked = [f"{c.name} {_figure(c)}" for c in _worst_first(present)]
        most = "Highest" if metric.better == "lower" else "Lowest"
        head = f"{most}: {_names(ranked)}" if len(ranked) <= MAX_NAMED else f"{most} of {len(ranked)}: {ranked[0]}"
    moved = _moved_most(present)
    return f"{head}; {moved}." if moved else f"{head}."


def _spc_remark(present: list[TableCell]) -> str:
    """At most one SPC remark, only where it adds to the status, and never against it."""
    def named(pick: list[TableCell]) -> str:
        return _count_or_names([c.name for c in pick])

    if meets_but_fails := [c for c in present if c.status == "green" and c.assurance == "fail"]:
        return f"{named(meets_but_fails)} within this week but not reliably (SPC)"
    if misses_but_passes := [c for c in present if c.status in ("red", "amber") and c.assurance == "pass"]:
        return f"{named(misses_but_passes)} missed this week though it usually meets it (SPC)"
    if concern := [c for c in present if (c.variation or "").startswith("concern")]:
        return f"special-cause concern (SPC) at {named(concern)}"
    if improving := [c for c in present if (c.variation or "").startswith("improvement")]:
        still = " though still short of the ambition" if all(c.status in ("red", "amber") for c in improving) else ""
        return f"special-cause improvement (SPC) at {named(improving)}{still}"
    return ""


def _missing_notes(missing: list[TableCell], never: frozenset[str]) -> list[str]:
    """Who has no figure this week, apart from those that have never reported this figure at all."""
    notes = []
    if this_week := [c for c in missing if c.org_code not in never]:
        notes.append(f"no figures from {_count_or_names([c.name for c in this_week])}")
    if absent := [c for c in missing if c.org_code in never]:
        verb = "has" if len(absent) == 1 else "have"
        notes.append(f"{_count_or_names([c.name for c in absent])} {verb} never reported this figure")
    return notes


def _notes_sentence(row: MetricRow, present: list[TableCell], missing: list[TableCell],
                    never: frozenset[str] = frozenset()) -> str:
    metric = row.cells[0].catalogue if row.cells else None
    notes = []
    if metric is not None and metric.is_ratio and row.ambition != "none":
        # within and worsening; one whose process does not reliably meet the ambition gets the SPC remark instead
        drifting = [c for c in present if c.status == "green" and c.change_direction == "worse"
                    and rounded_change(c.change or 0, metric.unit) != 0 and c.assurance != "fail"]
        if drifting:
            verb = "rising" if metric.better == "lower" else "falling"
            notes.append(f"{_count_or_names([c.name for c in drifting])} within but {verb}")
    if spc := _spc_remark(present):
        notes.append(spc)
    notes.extend(_missing_notes(missing, never))
    if not notes:
        return ""
    text = "; ".join(notes)
    return text[0].upper() + text[1:] + "."


def draft_narrative(table: WeeklyTable, metric: str, never: frozenset[str] = frozenset()) -> str:
    """The system narrative for one metric: at most three short sentences. ``never``: the trusts that
    have never reported the metric (``queries.weekly.never_reported``), said apart from this week's gaps."""
    row = next((r for r in table.rows if r.metric == metric), None)
    if row is None:
        return "No figures this week."
    present = [c for c in row.cells if c.value is not None]
    missing = [c for c in row.cells if c.value is None]
    if not present:
        return "No figures this week."
    sentences = [_system_sentence(row), _trusts_sentence(row, present, len(present)),
                 _notes_sentence(row, present, missing, never)]
    return " ".join(s for s in sentences if s)


def draft_trust_narrative(table: WeeklyTable, metric: str, org_code: str) -> str:
    """A place lead's draft for one trust: its figure against the ambition, the change, and SPC
    only where it adds to the status."""
    if org_code not in set(table.trusts["org_code"]):
        raise ValueError(f"{org_code!r} is not one of the table's trusts.")
    row = next((r for r in table.rows if r.metric == metric), None)
    cell = next((c for c in row.cells if c.org_code == org_code), None) if row else None
    if row is None or cell is None or cell.value is None:
        name = dict(table.trusts.select("org_code", "trust").iter_rows())[org_code]
        return f"{name} has no figures for this week."
    if cell.catalogue.counted:
        text = f"{cell.name}: {_counted(cell, row)}."
        return f"{text} {spc}" if (spc := _trust_spc(cell)) else text
    status = f", {_against(cell, row.ambition)}" if cell.status != "none" and cell.catalogue.is_ratio else ""
    text = f"{cell.name}: {_figure(cell, row.threshold)}{status}, {_change(cell)}."
    return f"{text} {spc}" if (spc := _trust_spc(cell)) else text


def figure_summary(row: MetricRow) -> str:
    """The combined figure in a few words, beside the metric on the narrative form:
    'Combined 48% (ambition < 40%), 3 points worse than last week'."""
    cell = row.system
    if cell is None or cell.value is None:
        return "No combined figure this week."
    if cell.catalogue.is_level:
        return f"Highest level {_figure(cell)}, {_change(cell)}"
    ambition = f" (ambition {row.ambition})" if row.ambition != "none" else ""
    return f"Combined {_figure(cell, row.threshold)}{ambition}, {_change(cell)}"


def _trust_spc(cell: TableCell) -> str:
    """One trust's SPC reading where it adds to the status, in the status's terms."""
    if cell.status == "green" and cell.assurance == "fail":
        return "It meets the ambition this week, but its process does not reliably meet it (SPC)."
    if cell.status in ("red", "amber") and cell.assurance == "pass":
        return "It misses the ambition this week, although its process usually meets it (SPC)."
    kind = (cell.variation or "").split("_")[0]
    if kind in ("concern", "improvement"):
        failing = " and consistently failing the ambition" if cell.assurance == "fail" else ""
        return f"SPC: special-cause {kind}{failing}."
    return ""


# --- Storage --------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """The text as it will be stored: one newline convention, no control or bidi characters, trimmed."""
    return clean(text, keep_lines=True).strip()


def texts_to_save(texts: Mapping[str, str], saved: Mapping[str, str], starts: Mapping[str, str],
                  shown: Collection[str]) -> dict[str, str]:
    """What one Save of the narrative form stores (metric -> text as typed): a box of the group's shown
    rows when it differs from its saved narrative (a draft is saved as it stands), a box of another
    metric (folded away) only when edited, that is when it differs from the text it ``starts`` from.
    An emptied box is never a change: a saved narrative can be replaced, not removed."""
    changed = {}
    for metric, text in texts.items():
        cleaned = clean_text(text)
        if cleaned and cleaned != saved.get(metric) and (metric in shown or cleaned != clean_text(starts[metric])):
            changed[metric] = text
    return changed


def check_narrative(text: str, author: str) -> tuple[str, str]:
    """The cleaned text and author, or a ValueError whose message can be shown to the user as it is."""
    text, author = clean_text(text), clean_text(author)
    if not text:
        raise ValueError("The narrative is empty: write some text before saving.")
    if (excess := len(text) - MAX_LENGTH) > 0:
        raise ValueError(f"The narrative is {len(text):,} characters long; the limit is {MAX_LENGTH:,}. "
                         f"Please shorten it by {excess:,} character{'s' * (excess != 1)}.")
    if not author:
        raise ValueError("Please give your name before saving: every saved narrative records its author.")
    if len(author) > MAX_AUTHOR_LENGTH:
        raise ValueError(f"The author's name is longer than {MAX_AUTHOR_LENGTH} characters.")
    return text, author


def save_narratives(db: Path, week_ending: date, org_code: str | None, texts: Mapping[str, str],
                    author: access.Identity | str, *, group_id: str = ALL_GROUP) -> list[str]:
    """Store a new version of each narrative in ``texts`` (metric -> text) of the discharge group
    ``group_id`` (``org_code`` None: the group's own narratives; else its place lead's comments on that
    trust), in one write: all of them or, when one is refused, none. Earlier versions stay: the
    current one is the latest (view ``narrative_current``). Returns the metrics saved.

    ``author`` is the acting identity (signed in: the email from the token), checked against the
    permission rules; a plain name means the single-analyst mode without sign-in (full rights).
    """
    actor = author if isinstance(author, access.Identity) else access.single_analyst(author)
    name = actor.name if isinstance(author, access.Identity) else author
    cleaned = {metric: check_narrative(text, name) for metric, text in texts.items()}
    if org_code is None:
        access.require(actor, "edit_system_narrative")
    else:
        access.require(actor, "edit_trust_narrative", org_code)
    if unknown := [m for m in cleaned if m not in METRIC_IDS]:
        raise ValueError(f"{unknown[0]!r} is not a metric: expected one of {', '.join(METRIC_IDS)}.")
    if week_ending.isoweekday() != 7:
        raise ValueError(f"{week_ending:%d/%m/%Y} is not a Sunday: weeks are labelled by the Sunday they end on.")
    with open_for_write(db) as con:
        group = ALL if group_id == ALL_GROUP else find_group(current_groups(con), group_id)
        if group is None:
            raise ValueError(f"{group_id!r} is not a discharge group.")
        if org_code is not None and not con.execute("SELECT count(*) FROM trusts WHERE org_code = ?",
                                                    [org_code]).fetchall()[0][0]:
            raise ValueError(f"{org_code!r} is not a known trust ODS code.")
        if org_code is not None and not group.is_all and org_code not in group.org_codes:
            raise ValueError(f"{org_code} is not one of the trusts of {group.name}.")
        saved_at = config.uk_now()
        which = "system narrative" if org_code is None else "place lead's narrative"
        for metric, (text, writer) in cleaned.items():
            # Under the write lock, so the next id cannot be taken by another writer.
            con.execute("""
                INSERT INTO narratives (narrative_id, week_ending, metric, org_code, text, author, saved_at, group_id)
                SELECT coalesce(max(narrative_id), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM narratives
            """, [week_ending, metric, org_code, text, writer, saved_at, group_id])
            access.record(con, actor, "narrative_saved", org_code,
                          f"{which} of {group_id}, {metric}, week ending {week_ending:%d/%m/%Y} "
                          f"({len(text):,} characters)", at=saved_at)
    return list(cleaned)


def save_narrative(db: Path, week_ending: date, metric: str, org_code: str | None, text: str,
                   author: access.Identity | str, *, group_id: str = ALL_GROUP) -> None:
    """One narrative (``save_narratives`` of one metric)."""
    save_narratives(db, week_ending, org_code, {metric: text}, author, group_id=group_id)


def narrative_history(con: duckdb.DuckDBPyConnection, week_ending: date, org_code: str | None,
                      group_id: str = ALL_GROUP) -> pl.DataFrame:
    """Every saved version of the group's narratives of the week (``org_code`` None: its own; else its place
    lead's comments on that trust), newest first: narrative_id, metric, text, author, saved_at."""
    return con.sql("""
        SELECT narrative_id, metric, text, author, saved_at FROM narratives
        WHERE group_id = ? AND week_ending = ? AND org_code IS NOT DISTINCT FROM ?::VARCHAR
        ORDER BY saved_at DESC, narrative_id DESC
    """, params=[group_id, week_ending, org_code]).pl().with_columns(_cleaned_text())


def current_narratives(con: duckdb.DuckDBPyConnection, week_ending: date, group_id: str | None = ALL_GROUP
                       ) -> pl.DataFrame:
    """The latest version of each narrative of the group's week (system ones have org_code null);
    ``group_id`` None (trusts picked by hand, no group): none, as drafts are never saved."""
    return con.sql("""
        SELECT metric, org_code, text, author, saved_at, narrative_id FROM narrative_current
        WHERE group_id = ?::VARCHAR AND week_ending = ? ORDER BY metric, org_code NULLS FIRST
    """, params=[group_id, week_ending]).pl().with_columns(_cleaned_text())


def _cleaned_text() -> list[pl.Expr]:
    """A narrative's text (its line breaks kept) and author as every page and export shows them:
    whatever was saved, even before saving cleaned it, shows no bidi or control characters."""
    return [clean_column("text", keep_lines=True).alias("text"), clean_column("author").alias("author")]


def narrative_text(narratives: pl.DataFrame, metric: str, org_code: str | None = None) -> str:
    """The current text of one narrative from ``current_narratives``, or '' when none was saved."""
    found = narratives.filter((pl.col("metric") == metric) & (
        pl.col("org_code").is_null() if org_code is None else pl.col("org_code") == org_code))
    return found["text"][0] if found.height else ""


def comments_by_cell(narratives: pl.DataFrame) -> dict[tuple[str, str | None], str]:
    """(metric, org_code or None) -> the saved text marked as whose it is, for the weekly table's
    cell details: "Place lead's comment (Yve): ..." (org_code None: the system narrative)."""
    def whose(org_code: str | None, author: str) -> str:
        return f"Narrative ({author})" if org_code is None else f"Place lead's comment ({author})"

    return {(r["metric"], r["org_code"]): f"{whose(r['org_code'], r['author'])}: {r['text']}"
            for r in narratives.to_dicts()}


def trust_comments(narratives: pl.DataFrame, org_code: str) -> list[tuple[str, str, str]]:
    """A trust's place lead's comments of the week: (metric label, author, text), in catalogue order."""
    saved = {r["metric"]: r for r in narratives.to_dicts() if r["org_code"] == org_code}
    return [(m.label, saved[m.id]["author"], saved[m.id]["text"]) for m in METRICS if m.id in saved]
