"""The ambition in force (the warehouse macro ``ambition_in_force``) is the same everywhere it is read."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from helpers import REFERENCE_FIXTURES, load_rows_directly, week_of_rows

from pipelines.queries import weekly
from pipelines.spc import store
from pipelines.warehouse import connect_read

WEEK_1, WEEK_2 = date(2024, 4, 1), date(2024, 4, 8)
SUNDAY_1, SUNDAY_2 = date(2024, 4, 7), date(2024, 4, 14)
METRIC = "stranded_7plus_pct"


@pytest.fixture
def changed_ambition(tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reference folder where the metric's ambition changes on Monday 8 April 2024 (to 30, from
    the fixture's own value), and two weeks of one trust's figures either side of it."""
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE_FIXTURES, reference)
    with open(reference / "ambitions.csv", "a", encoding="utf-8") as handle:
        handle.write(f"{METRIC},<,30,2,2024-04-08,test: a new planning year\n")
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(reference))
    load_rows_directly(db, week_of_rows("RCD", WEEK_1) + week_of_rows("RCD", WEEK_2))
    return db


def test_each_week_takes_the_ambition_in_force_that_week(changed_ambition: Path) -> None:
    with connect_read(changed_ambition) as con:
        before = con.execute("SELECT threshold FROM ambition_in_force(?, ?)", [METRIC, SUNDAY_1]).fetchall()[0][0]
        assert before != 30  # the fixture's earlier ambition
        position = dict(con.execute("SELECT week_ending, ambition FROM weekly_position WHERE metric = ? "
                                    "ORDER BY week_ending", [METRIC]).fetchall())
        system = weekly.system_weekly(con, ("RCD",), SUNDAY_1, SUNDAY_2).filter(metric=METRIC)
        target = store.weekly_series(con, SUNDAY_2, ["RCD"], [METRIC])["target"].unique().to_list()
    assert position == {SUNDAY_1: before, SUNDAY_2: 30.0}
    assert dict(zip(system["week_ending"], system["ambition"], strict=True)) == position
    assert target == [30.0]  # SPC: the ambition in force in the series' last week


def test_a_database_written_before_the_macro_still_answers(changed_ambition: Path) -> None:
    """A read connection defines the macro for itself, so pages work on a file from an older version."""
    with duckdb.connect(str(changed_ambition)) as con:
        con.execute("DROP MACRO TABLE ambition_in_force")
    with connect_read(changed_ambition) as con:
        assert con.execute("SELECT threshold FROM ambition_in_force(?, ?)", [METRIC, SUNDAY_2]).fetchall() == [(30.0,)]
