"""Discharge groups: the trusts a group meets over, whose narratives and comments are the group's own.

``reference_data/groups.csv`` (``group_id,name,org_code``, one row per member trust; a trust may be in
several groups) seeds them. An administrator adds, renames and changes groups in the browser: every
save is a new row of ``discharge_groups`` (nothing overwritten) and an audit row; a group saved in
the database wins over the file's group of the same id, and the file's other groups still show.

``all`` (``ALL_GROUP``) is built in: every trust with figures. It is the group of the narratives
written before groups existed (the warehouse migration moves them there), and the default view.
No Streamlit here.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines import access, config
from pipelines.warehouse import open_for_write

ALL_GROUP = "all"
ALL_GROUP_NAME = "All trusts"
MAX_NAME_LENGTH = 100
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


@dataclass(frozen=True)
class Group:
    group_id: str
    name: str
    org_codes: tuple[str, ...]  # the member trusts; empty for ALL_GROUP (every trust)

    @property
    def is_all(self) -> bool:
        return self.group_id == ALL_GROUP


ALL = Group(ALL_GROUP, ALL_GROUP_NAME, ())


def groups_file(reference_dir: Path | None = None) -> Path:
    return (reference_dir or config.reference_dir()) / "groups.csv"


def check_group(group_id: str, name: str, org_codes: Iterable[str], known: set[str]) -> Group:
    """The group as it will be kept, or a ValueError whose message can be shown as it is."""
    codes = tuple(sorted({c.strip().upper() for c in org_codes if c.strip()}))
    name = " ".join(name.split())
    if not _ID.fullmatch(group_id):
        raise ValueError(f"{group_id!r} is not a group id: lower-case letters, digits and hyphens, "
                         "up to 40 characters.")
    if group_id == ALL_GROUP:
        raise ValueError(f"{ALL_GROUP!r} is the built-in group of every trust: choose another id.")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A group's name must be 1 to {MAX_NAME_LENGTH} characters.")
    if not codes:
        raise ValueError(f"The group {name!r} has no trusts: choose at least one.")
    if unknown := [c for c in codes if c not in known]:
        raise ValueError(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a known trust ODS code.")
    return Group(group_id, name, codes)


def read_groups_file(path: Path, known: set[str]) -> list[Group]:
    """The groups of a groups file, in file order; a ValueError naming the row for anything wrong.
    No file: no groups (``all`` is built in)."""
    if not path.exists():
        return []
    table = pl.read_csv(path, infer_schema=False, comment_prefix="#").fill_null("")
    if missing := {"group_id", "name", "org_code"} - set(table.columns):
        raise ValueError(f"{path.name}: the columns {', '.join(sorted(missing))} are missing "
                         "(expected group_id,name,org_code)")
    members: dict[str, tuple[str, list[str]]] = {}
    for row_number, row in enumerate(table.iter_rows(named=True), start=2):
        group_id, name, code = row["group_id"].strip(), row["name"].strip(), row["org_code"].strip().upper()
        first_name, codes = members.setdefault(group_id, (name, []))
        if name != first_name:
            raise ValueError(f"{path.name} row {row_number}: the group {group_id!r} is named {first_name!r} "
                             f"on an earlier row, {name!r} here")
        try:
            check_group(group_id, name, [code], known)
        except ValueError as problem:
            raise ValueError(f"{path.name} row {row_number}: {problem}") from None
        codes.append(code)
    return [check_group(group_id, name, codes, known) for group_id, (name, codes) in members.items()]


def current_groups(con: duckdb.DuckDBPyConnection, reference_dir: Path | None = None) -> list[Group]:
    """Every group: ``all`` first, then by name; a group saved in the browser replaces the file's of that id."""
    folder = reference_dir or config.reference_dir()
    trusts_file = folder / "trusts.csv"  # the reference trusts, loaded or not yet
    known = {code for (code,) in con.execute("SELECT org_code FROM trusts").fetchall()} | (
        set(pl.read_csv(trusts_file, infer_schema=False)["org_code"]) if trusts_file.exists() else set())
    groups = {g.group_id: g for g in read_groups_file(groups_file(folder), known)}
    if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'discharge_groups'"
                   ).fetchall()[0][0]:  # a database written before groups has none saved
        for group_id, name, codes in con.execute("""
                SELECT group_id, name, org_codes FROM discharge_groups
                QUALIFY row_number() OVER (PARTITION BY group_id ORDER BY saved_at DESC, version DESC) = 1
                """).fetchall():
            groups[group_id] = Group(group_id, name, tuple(codes))
    return [ALL, *sorted(groups.values(), key=lambda g: g.name.lower())]


def find_group(groups: Sequence[Group], group_id: str | None) -> Group | None:
    return next((g for g in groups if g.group_id == group_id), None)


def new_group_id(name: str, taken: Iterable[str]) -> str:
    """A readable id from the name ('York, Harrogate' -> 'york-harrogate'), made unique among ``taken``."""
    base = (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:36].strip("-")) or "group"
    base = "group-all" if base == ALL_GROUP else base
    taken = set(taken)
    return next(candidate for n in range(1, len(taken) + 2)
                if (candidate := base if n == 1 else f"{base}-{n}") not in taken)


def save_group(db: Path, group_id: str, name: str, org_codes: Iterable[str], actor: access.Identity) -> Group:
    """Add a group or save a new version of one (administrators only), with an audit row."""
    access.require(actor, "edit_groups")
    with open_for_write(db) as con:
        known = {code for (code,) in con.execute("SELECT org_code FROM trusts").fetchall()}
        group = check_group(group_id, name, org_codes, known)
        before = find_group(current_groups(con), group_id)
        saved_at = config.uk_now()
        con.execute("""
            INSERT INTO discharge_groups (version, group_id, name, org_codes, saved_by, saved_at)
            SELECT coalesce(max(version), 0) + 1, ?, ?, ?, ?, ? FROM discharge_groups
        """, [group.group_id, group.name, list(group.org_codes), actor.name, saved_at])
        change = "added" if before is None else f"changed from {before.name!r}: {', '.join(before.org_codes)}"
        access.record(con, actor, "group_saved", None,
                      f"discharge group {group.group_id} {change} -> {group.name!r}: {', '.join(group.org_codes)}",
                      at=saved_at)
    return group


def default_group_id(identity: access.Identity, groups: Sequence[Group]) -> str:
    """The group a user sees first: their users.csv ``group``; else the group sharing most trusts with
    the trusts their role covers (the first such by name); else ``all``."""
    if identity.group and find_group(groups, identity.group):
        return identity.group
    covered = {code for grant in identity.grants if grant.org_codes is not None and not grant.covers_all
               for code in grant.org_codes}
    if not covered:
        return ALL_GROUP
    shared = [(len(covered & set(g.org_codes)), g.group_id) for g in groups if not g.is_all]
    best = max(shared, key=lambda pair: pair[0], default=(0, ALL_GROUP))
    return best[1] if best[0] else ALL_GROUP


def known_trusts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every trust a group may have: ODS code -> short name, by name."""
    return dict(con.execute("SELECT org_code, coalesce(short_name, org_code) AS trust FROM trusts ORDER BY trust"
                            ).fetchall())
