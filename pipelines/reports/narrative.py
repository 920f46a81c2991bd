"""Weekly narratives: a draft written from the figures, and every saved version kept.

The draft follows the discharge group's style (DOMAIN section 1): trusts by short name, within
or over the ambition, better or worse than last week and by how much. It is a suggestion the
user edits; nothing here saves it. Saves go through ``warehouse.open_for_write`` and always add
a row, so the history of who wrote what, and when, is never lost.
"""
from __future__ import annotations

import operator
import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines import access, config
from pipelines.catalogue.metrics import METRIC_IDS
from pipelines.catalogue.wording import SPC_PHRASES
from pipelines.reports.presentation import format_ambition, format_value
from pipelines.reports.weekly_table import WeeklyTable
from pipelines.warehouse import open_for_write

MAX_LENGTH = 2000  # characters: a narrative is a cell of a board paper's table, not a report
MAX_AUTHOR_LENGTH = 200

# Control characters other than tab and newline cannot be stored in .docx or .xlsx (XML), and
# only ever arrive by accident (pasted from other tools), so they are dropped on saving.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


# --- Drafting -------------------------------------------------------------------------------

def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _met_last_week(row: dict) -> bool | None:
    """Whether last week's value met this week's ambition (None: no figure last week). The view
    gives only this week's status; last week is judged against the same ambition so that
    "remains within" and "is back within" compare like with like."""
    if row["previous_value"] is None:
        return None
    return _COMPARE[row["ambition_comparison"]](row["previous_value"], row["ambition"])


def _against_ambition(row: dict, ambition: str) -> str:
    """'remains within the ambition', 'has gone just over it', 'is below the ambition', ..."""
    before = _met_last_week(row)
    if row["status"] == "green":
        verb = {True: "remains", False: "is back", None: "is"}[before]
        return f"{verb} within {ambition}"
    side = ("just " if row["status"] == "amber" else "") + ("over" if row["better"] == "lower" else "below")
    verb = {True: "has gone" if row["better"] == "lower" else "has fallen", False: "remains", None: "is"}[before]
    return f"{verb} {side} {ambition}"


def _part_week(row: dict) -> str:
    return f" ({row['days_with_data']} of 7 days)" if row["days_with_data"] < 7 else ""


def _percent_clause(row: dict, ambition: str | None) -> str:
    """A percentage: its place against the ambition (if any), then better or worse by how many points."""
    value = format_value(row["value"], row["unit"]) + _part_week(row)
    if ambition is None:
        head, contrast = f"is at {value}", False
    else:
        head = f"{_against_ambition(row, ambition)} at {value}"
        contrast = (row["status"] == "green") == (row["change_direction"] == "worse")
    if row["change"] is None:
        return f"{head}, with no figure for the week before"
    points = abs(round(row["change"], 1))
    if points == 0:  # too small to show at one decimal place: the table says "no change" too
        return f"{head}, unchanged on last week"
    moved = "improved" if row["change_direction"] == "better" else "worsened"
    return f"{head} {'but' if contrast else 'and'} {moved} by {points:.1f} points"


def _count_clause(row: dict) -> str:
    """A daily average count, as the group writes it: '163, down 22% on last week'."""
    value = format_value(row["value"], row["unit"]) + _part_week(row)
    previous = row["previous_value"]
    if previous is None:
        return f"{value}, with no figure for the week before"
    if previous == 0:
        return f"{value}, unchanged on last week" if row["value"] == 0 else f"{value}, up from 0 last week"
    percent = round(100 * row["change"] / previous)
    if percent == 0:
        return f"{value}, unchanged on last week"
    return f"{value}, {'up' if percent > 0 else 'down'} {abs(percent)}% on last week"


def _level_clause(row: dict) -> str:
    """An OPEL level, the week's highest: 'highest level 3, up from 2 last week'."""
    level, previous = int(row["value"]), row["previous_value"]
    if previous is None:
        return f"highest level {level}"
    if previous == row["value"]:
        return f"highest level {level}, the same as last week"
    return f"highest level {level}, {'up' if row['value'] > previous else 'down'} from {int(previous)} last week"


def _uses_ambition(row: dict) -> bool:
    """Percentages are written against their ambition; counts and OPEL levels by their change alone
    (their status is in the table's colour)."""
    return row["unit"] == "%" and row["status"] != "none"




def spc_phrase(variation: str | None, assurance: str | None) -> str:
    """'special-cause concern, consistently failing the ambition': only what SPC says beyond noise
    (common cause and hit-or-miss go unsaid, to keep the draft short)."""
    return ", ".join(SPC_PHRASES[w] for w in (variation, assurance) if w in SPC_PHRASES)


def _clause(row: dict, ambition: str) -> str:
    name = row["trust"] or row["org_code"]
    if row["unit"] == "level":
        text = f"{name}: {_level_clause(row)}"
    elif row["unit"] == "patients":
        text = f"{name}: {_count_clause(row)}"
    else:
        text = f"{name} {_percent_clause(row, ambition if _uses_ambition(row) else None)}"
    spc = spc_phrase(row.get("variation"), row.get("assurance"))
    return f"{text} ({spc})" if spc else text


def _rows_by_trust(table: WeeklyTable, metric: str) -> list[tuple[str, str, dict | None]]:
    """(org_code, short name, the trust's figures or None when it has none) in the table's trust order."""
    found = {r["org_code"]: r for r in table.position.filter(pl.col("metric") == metric).to_dicts()
             if r["value"] is not None}
    return [(code, name, found.get(code)) for code, name in table.trusts.select("org_code", "trust").iter_rows()]


def draft_narrative(table: WeeklyTable, metric: str) -> str:
    """The system narrative for one metric of the weekly table, one clause per trust, with the
    trust's SPC reading where it says more than noise."""
    clauses, missing, named = [], [], False
    for code, name, row in _rows_by_trust(table, metric):
        if row is None:
            missing.append(name)
            continue
        # Name the ambition once, then refer back to it: "York is within the ambition ...; Harrogate is over it".
        clauses.append(_clause(row, "it" if named else "the ambition"))
        named = named or _uses_ambition(row)
    sentences = ["; ".join(clauses) + "."] if clauses else []
    if missing:
        sentences.append(f"No figures this week from {_names(missing)}.")
    return " ".join(sentences) or "No figures this week."


def draft_trust_narrative(table: WeeklyTable, metric: str, org_code: str) -> str:
    """A place lead's draft for one trust: as in the system narrative, with the ambition spelt out."""
    rows = {code: (name, row) for code, name, row in _rows_by_trust(table, metric)}
    if org_code not in rows:
        raise ValueError(f"{org_code!r} is not one of the table's trusts.")
    name, row = rows[org_code]
    if row is None:
        return f"{name} has no figures for this week."
    ambition = f"the ambition ({format_ambition(row['ambition_comparison'], row['ambition'], row['unit'])})"
    return _clause(row, ambition) + "."


# --- Storage --------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """The text as it will be stored: one newline convention, no control characters, trimmed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


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


def save_narrative(db: Path, week_ending: date, metric: str, org_code: str | None, text: str,
                   author: access.Identity | str) -> None:
    """Store a new version of the narrative (``org_code`` None: the system narrative). Earlier
    versions stay: the current one is the latest (view ``narrative_current``).

    ``author`` is the acting identity (signed in: the email from the token), checked against the
    permission rules; a plain name means the single-analyst mode without sign-in (full rights).
    """
    actor = author if isinstance(author, access.Identity) else access.single_analyst(author)
    text, name = check_narrative(text, actor.name if isinstance(author, access.Identity) else author)
    if org_code is None:
        access.require(actor, "edit_system_narrative")
    else:
        access.require(actor, "edit_trust_narrative", org_code)
    if metric not in METRIC_IDS:
        raise ValueError(f"{metric!r} is not a metric: expected one of {', '.join(METRIC_IDS)}.")
    if week_ending.isoweekday() != 7:
        raise ValueError(f"{week_ending:%d/%m/%Y} is not a Sunday: weeks are labelled by the Sunday they end on.")
    with open_for_write(db) as con:
        if org_code is not None and not con.execute("SELECT count(*) FROM trusts WHERE org_code = ?",
                                                    [org_code]).fetchall()[0][0]:
            raise ValueError(f"{org_code!r} is not a known trust ODS code.")
        saved_at = config.uk_now()
        # Under the write lock, so the next id cannot be taken by another writer.
        con.execute("""
            INSERT INTO narratives (narrative_id, week_ending, metric, org_code, text, author, saved_at)
            SELECT coalesce(max(narrative_id), 0) + 1, ?, ?, ?, ?, ?, ? FROM narratives
        """, [week_ending, metric, org_code, text, name, saved_at])
        which = "system narrative" if org_code is None else "place lead's narrative"
        access.record(con, actor, "narrative_saved", org_code,
                      f"{which}, {metric}, week ending {week_ending:%d/%m/%Y} ({len(text):,} characters)", at=saved_at)


def narrative_history(con: duckdb.DuckDBPyConnection, week_ending: date, metric: str,
                      org_code: str | None) -> pl.DataFrame:
    """Every saved version of one narrative, newest first: narrative_id, text, author, saved_at."""
    return con.sql("""
        SELECT narrative_id, text, author, saved_at FROM narratives
        WHERE week_ending = ? AND metric = ? AND org_code IS NOT DISTINCT FROM ?::VARCHAR
        ORDER BY saved_at DESC, narrative_id DESC
    """, params=[week_ending, metric, org_code]).pl()


def current_narratives(con: duckdb.DuckDBPyConnection, week_ending: date) -> pl.DataFrame:
    """The latest version of each narrative of the week (system ones have org_code null)."""
    return con.sql("""
        SELECT metric, org_code, text, author, saved_at, narrative_id FROM narrative_current
        WHERE week_ending = ? ORDER BY metric, org_code NULLS FIRST
    """, params=[week_ending]).pl()


def narrative_text(narratives: pl.DataFrame, metric: str, org_code: str | None = None) -> str:
    """The current text of one narrative from ``current_narratives``, or '' when none was saved."""
    found = narratives.filter((pl.col("metric") == metric) & (
        pl.col("org_code").is_null() if org_code is None else pl.col("org_code") == org_code))
    return found["text"][0] if found.height else ""


def with_narratives(table: WeeklyTable, narratives: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The table's text and status frames with a last "Narrative" column: the saved system
    narratives (status "none", so uncoloured), for showing the table as the discharge group reads it."""
    metric_of = dict(table.position.select("metric_label", "metric").unique().iter_rows())
    texts = [narrative_text(narratives, metric_of[label]) for label in table.text["Metric"]]
    return (table.text.with_columns(Narrative=pl.Series(texts, dtype=pl.String)),
            table.status.with_columns(Narrative=pl.lit("none")))
