"""Derived tables refreshed for what a write touched are exactly what a full rebuild gives (issue 11, item 2),
and pages read stored SPC readings (item 3)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl
from helpers import load_rows_directly, week_of_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.catalogue.columns import COLUMN_NAMES, SCHEMA
from pipelines.catalogue.issues import ISSUE_SCHEMA
from pipelines.catalogue.sources import PRECEDENCE
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import _store_rows
from pipelines.spc import store
from pipelines.warehouse.derived import refresh_weekly_parts
from pipelines.warehouse.reference import reload_reference
from pipelines.warehouse.schema import grouped_trust_day_sql, migrate, trust_day_sql

FIRST_MONDAY = date(2024, 1, 1)
SEED_WEEKS = 14  # enough complete weeks for SPC limits, so corrections move real readings
TRUSTS = ("RCD", "RTR")
COUNTS = [c for c in COLUMN_NAMES if c not in ("period_date", "org_code", "site_code")]


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame([{**r, "source_row": i} for i, r in enumerate(rows, start=2)], schema=SCHEMA)


def _row(org_code: str, day: date, site_code: str | None, value: int | None) -> dict[str, object]:
    """A row whose figures follow one number (None blanks a figure), keeping the template's relations."""
    row: dict[str, object] = {"period_date": day, "org_code": org_code, "site_code": site_code}
    for column in COUNTS:
        row[column] = None if value is None else (value % 4) + 1 if column.endswith("opel") else value + 10
    if value is not None:
        row["ga_beds_open"], row["ga_beds_occupied"] = 200 + value, 150 + value
    return row


class Warehouse:
    """An in-memory warehouse written through the ingest's own store, with the ingest's refresh."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        migrate(self.con)
        reload_reference(self.con)
        self.file_id = 0
        seed = [_row(org, FIRST_MONDAY + timedelta(days=d), None, 40 + (d * 7) % 13)
                for org in TRUSTS for d in range(7 * SEED_WEEKS)]
        self.write(seed, incremental=False)

    def write(self, rows: list[dict[str, object]], incremental: bool = True) -> pl.DataFrame | None:
        self.file_id += 1
        outcome = FileOutcome(f"file_{self.file_id}.csv", "loaded", file_id=self.file_id)
        frame = _frame(rows)
        raw = frame.select("source_row", *[pl.col(c).cast(pl.String) for c in COLUMN_NAMES])
        _store_rows(self.con, outcome, frame, raw, pl.DataFrame(schema=ISSUE_SCHEMA),
                    datetime(2024, 6, 1))
        if not incremental:
            store.refresh_derived(self.con, None)
            return None
        touched = self.con.sql("SELECT DISTINCT org_code, period_date FROM sitrep_history WHERE file_id = ?",
                               params=[self.file_id]).pl()
        store.refresh_derived(self.con, touched)
        return touched

    def derived(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """The weekly parts, the SPC readings and the running totals they come from (every sum to the last bit)."""
        return (self.con.execute("SELECT * FROM weekly_metric_parts ORDER BY ALL").fetchall(),
                self.con.execute("SELECT * FROM spc_latest ORDER BY ALL").fetchall(),
                self.con.execute("SELECT * FROM spc_blocks ORDER BY ALL").fetchall())


# A file: some rows for trust-days near the end of the seeded history or just after it (new weeks,
# corrections, supersedes between trust-level and site rows, blanked figures).
_day = st.integers(min_value=7 * (SEED_WEEKS - 3), max_value=7 * SEED_WEEKS + 9).map(
    lambda d: FIRST_MONDAY + timedelta(days=d))
_rows = st.lists(st.tuples(st.sampled_from(TRUSTS), _day, st.sampled_from([None, "A", "B"]),
                           st.one_of(st.none(), st.integers(min_value=0, max_value=60))),
                 min_size=1, max_size=12, unique_by=lambda r: (r[0], r[1], r[2]))
_files = st.lists(_rows, min_size=1, max_size=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=_files)
def test_incremental_refresh_equals_a_full_rebuild(files: list[list[tuple]]) -> None:
    warehouse = Warehouse()
    for rows in files:
        warehouse.write([_row(*r) for r in rows])
    incremental = warehouse.derived()
    store.refresh_derived(warehouse.con, None)
    assert incremental == warehouse.derived()


def test_a_day_that_completes_no_week_changes_no_spc_series() -> None:
    warehouse = Warehouse()
    spc_before = warehouse.derived()[1]
    monday = FIRST_MONDAY + timedelta(weeks=SEED_WEEKS)
    warehouse.write([_row("RCD", monday, None, 30)])
    assert warehouse.derived()[1] == spc_before
    again = refresh_weekly_parts(warehouse.con, pl.DataFrame({"org_code": ["RCD"], "period_date": [monday]}))
    assert again.is_empty()  # its week is incomplete, so no series' complete weeks changed
    # the seventh day completes the week: that trust's series are refreshed and gain a point
    warehouse.write([_row("RCD", monday + timedelta(days=d), None, 30) for d in range(1, 7)])
    after = warehouse.derived()[1]
    assert {r[2] for r in after if r[0] == "RCD"} == {monday + timedelta(days=6)}
    assert [r for r in after if r[0] == "RTR"] == [r for r in spc_before if r[0] == "RTR"]


def test_spc_summary_reads_the_stored_reading_of_the_latest_week_and_charts_earlier_weeks(db, monkeypatch):
    weeks = [FIRST_MONDAY + timedelta(weeks=w) for w in range(SEED_WEEKS)]
    load_rows_directly(db, [r for i, monday in enumerate(weeks)
                            for r in week_of_rows("RCD", monday, los_7plus=40 + i % 5)]
                       + [r for monday in weeks[:-2] for r in week_of_rows("RTR", monday, los_7plus=30)])
    latest, earlier = weeks[-1] + timedelta(days=6), weeks[-2] + timedelta(days=6)  # RTR stops at weeks[-3]
    with duckdb.connect(str(db), read_only=True) as con:
        computed = {week: store._latest_points(con, week, None).filter(pl.col("week_ending") == week).sort(store.KEYS)
                    for week in (latest, earlier)}
        charted: list[object] = []
        original = store._latest_points
        monkeypatch.setattr(store, "_latest_points", lambda *a: charted.append(a[2]) or original(*a))
        assert store.spc_summary(con, latest).sort(store.KEYS).equals(computed[latest])
        assert charted == []  # the latest week: read from spc_latest, nothing charted
        assert store.spc_summary(con, earlier).sort(store.KEYS).equals(computed[earlier])
        assert charted == [["RCD"]]  # only the series with later weeks are charted


_INT32 = st.integers(min_value=-2**31, max_value=2**31 - 1)
_daily_rows = st.lists(st.tuples(st.sampled_from(TRUSTS), st.integers(0, 9), st.sampled_from([None, "A", "B"]),
                                 st.sampled_from([*PRECEDENCE, "another_source"]),
                                 st.lists(st.one_of(st.none(), _INT32), min_size=len(COUNTS), max_size=len(COUNTS))),
                       max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=_daily_rows)
def test_trust_days_passed_through_equal_the_grouped_definition(rows: list[tuple]) -> None:
    """One-row trust-days skip the grouping (the national ingest's speed); any mix of sources, sites,
    blanks and extreme figures gives exactly what grouping every trust-day gives."""
    con = duckdb.connect()
    migrate(con)
    daily = pl.DataFrame(
        [{"org_code": org, "period_date": FIRST_MONDAY + timedelta(days=day), "site_code": site, "source": source,
          **dict(zip(COUNTS, values, strict=True)), "file_id": 1, "source_file": "f.csv", "source_row": i,
          "loaded_at": datetime(2024, 6, 1)} for i, (org, day, site, source, values) in enumerate(rows)],
        schema={**SCHEMA, "source": pl.String, "file_id": pl.Int32, "source_file": pl.String,
                "source_row": pl.Int32, "loaded_at": pl.Datetime}).drop("source_row").with_row_index("source_row")
    con.register("daily", daily)
    con.execute("INSERT INTO sitrep_daily BY NAME SELECT * FROM daily")
    fast = con.execute(f"SELECT * FROM ({trust_day_sql()}) ORDER BY ALL").fetchall()
    assert fast == con.execute(f"SELECT * FROM ({grouped_trust_day_sql('sitrep_daily')}) ORDER BY ALL").fetchall()
    # A daily load whose trust-days are each one row leaves the grouping out (derived.refresh_weekly_parts).
    con.execute("CREATE TABLE one_row AS FROM sitrep_daily "
                "QUALIFY row_number() OVER (PARTITION BY org_code, period_date ORDER BY source_row) = 1")
    assert (con.execute(f"SELECT * FROM ({trust_day_sql('one_row', several_rows=False)}) ORDER BY ALL").fetchall()
            == con.execute(f"SELECT * FROM ({grouped_trust_day_sql('one_row')}) ORDER BY ALL").fetchall())
