"""How every format's rows reach the warehouse (``pipelines.publication.formats``): replacing by key,
the trusts and names a publication gives, each trust's ICB as NHS England attributes it, and the
current trust-day rows of a source.

A later publication replaces an earlier one's figures for the same key; the trusts' own reference
file always wins over a published name or ICB.
"""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from pipelines.catalogue.sources import TRUST_SITREP
from pipelines.publication.names import short_name, title_case
from pipelines.safe_text import clean_column, clean_text_columns


def provenance(file_id: int, loaded_at: datetime) -> dict[str, pl.Expr]:
    """The columns every stored row carries: which file, loaded when."""
    return {"file_id": pl.lit(file_id, pl.Int32), "loaded_at": pl.lit(loaded_at)}


def add_unknown_trusts(con: duckdb.DuckDBPyConnection, trusts: pl.DataFrame) -> int:
    """Trusts the reference data does not know yet, so every published trust is selectable."""
    con.register("published", clean_text_columns(
        trusts.select("org_code", "name", "short_name", "region", "icb_code", "icb_name", "icb_source")))
    added = con.execute("""
        INSERT INTO trusts BY NAME
        SELECT *, 'nhse_publication' AS source FROM published
        WHERE org_code NOT IN (SELECT org_code FROM trusts)
    """).fetchall()[0][0]
    con.unregister("published")
    return added


def own_file_days(con: duckdb.DuckDBPyConnection, incoming: str) -> int:
    """How many trust-days of the registered frame ``incoming`` the trust's own sitrep also covers."""
    return con.execute(f"""
        SELECT count(*) FROM (SELECT DISTINCT org_code, period_date FROM {incoming}) i
        WHERE EXISTS (SELECT 1 FROM sitrep_daily d WHERE d.source = '{TRUST_SITREP}'
                      AND d.org_code = i.org_code AND d.period_date = i.period_date)""").fetchall()[0][0]


def replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: tuple[str, ...],
            kept_in: str | None = None) -> int:
    """``frame`` into ``table``, replacing the rows an earlier publication gave for the same key; returns how
    many it replaced. With ``kept_in`` (a revised publication), the replaced rows stay on record there with
    the file that replaced them and when (``superseded_by``, ``superseded_at``)."""
    con.register("incoming", frame)
    match = " AND ".join(f"d.{k} IS NOT DISTINCT FROM i.{k}" for k in key)
    earlier = f"(SELECT DISTINCT {', '.join(key)} FROM incoming) i WHERE {match}"
    if kept_in:
        con.execute(f"""INSERT INTO {kept_in} BY NAME
            SELECT d.*, (SELECT any_value(file_id) FROM incoming) AS superseded_by,
                (SELECT any_value(loaded_at) FROM incoming) AS superseded_at
            FROM {table} d WHERE EXISTS (SELECT 1 FROM {earlier})""")
    replaced = con.execute(f"DELETE FROM {table} d USING {earlier}").fetchall()[0][0]
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")
    return replaced


def _published_names(con: duckdb.DuckDBPyConnection, names: pl.DataFrame, period_end: date | None,
                     provenance: dict) -> None:
    """Remember each trust's published name by period; trusts the reference file does not name take the
    name of the latest period published (RBN became Mersey and West Lancashire)."""
    if names.is_empty() or period_end is None:
        return
    frame = names.select("org_code", published_name=clean_column("name")).unique("org_code").with_columns(
        period_end=pl.lit(period_end), **provenance)
    replace(con, "nhse_trust_names", frame, ("org_code", "period_end"))
    con.execute("""
        UPDATE trusts SET name = n.name, short_name = n.short_name FROM (
            SELECT org_code, published_name AS name FROM nhse_trust_names
            QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY period_end DESC, file_id DESC) = 1
        ) latest, (SELECT org_code, name, short_name FROM published_short) n
        WHERE trusts.org_code = latest.org_code AND n.org_code = latest.org_code AND n.name = latest.name
          AND trusts.source <> 'reference_data'
          AND trusts.org_code NOT IN (SELECT successor FROM trust_successions WHERE name IS NOT NULL)""")


def store_icbs(con: duckdb.DuckDBPyConnection, trust_icbs: pl.DataFrame, period_end: date | None,
               provenance: dict) -> None:
    """Each trust's ICB as NHS England attributes it, by period, with where it came from (``icb_source``);
    trusts the reference file does not hold take the latest (the reference file's own ICBs stay, and
    disagreements are listed on the data quality page)."""
    if trust_icbs.is_empty() or period_end is None:
        return
    replace(con, "nhse_trust_icb", trust_icbs.with_columns(period_end=pl.lit(period_end), **provenance),
            ("org_code", "period_end"))
    con.execute("""
        UPDATE trusts SET icb_code = latest.icb_code, icb_name = coalesce(latest.icb_name, trusts.icb_name),
            icb_source = latest.icb_source FROM (
            SELECT org_code, icb_code, icb_name, icb_source FROM nhse_trust_icb
            QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY period_end DESC, file_id DESC) = 1
        ) latest
        WHERE trusts.org_code = latest.org_code AND trusts.source <> 'reference_data'""")


def trust_rows(frame: pl.DataFrame, name: str = "org_name") -> pl.DataFrame:
    """org_code, name, short_name (and no region or ICB) of the trusts a beds publication names."""
    seen = frame.select("org_code", name).drop_nulls("org_code").unique("org_code", keep="last", maintain_order=True)
    return seen.select("org_code", name=pl.col(name).map_elements(title_case, return_dtype=pl.String),
                       short_name=pl.col(name).map_elements(short_name, return_dtype=pl.String),
                       region=pl.lit(None, pl.String), icb_code=pl.lit(None, pl.String),
                       icb_name=pl.lit(None, pl.String), icb_source=pl.lit(None, pl.String))


def with_names(con: duckdb.DuckDBPyConnection, trusts: pl.DataFrame, period_end: date | None,
               provenance: dict) -> int:
    """Adds the trusts nobody knew and records their published names; returns how many were added."""
    added = add_unknown_trusts(con, trusts)
    con.register("published_short", trusts)
    _published_names(con, trusts, period_end, provenance)
    con.unregister("published_short")
    return added


def current_rows(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, source: str, file_name: str) -> int:
    """The rows as history and as the current rows of ``source``; returns how many earlier rows they replaced."""
    con.register("incoming", rows)
    columns = ", ".join(c for c in rows.columns if c not in ("loaded_at",))
    con.execute(f"INSERT INTO sitrep_history BY NAME SELECT {columns}, '{source}' AS source FROM incoming")
    superseded = con.execute(f"""
        DELETE FROM sitrep_daily d USING incoming i
        WHERE d.source = '{source}' AND d.org_code = i.org_code AND d.period_date = i.period_date""").fetchall()[0][0]
    con.execute(f"""INSERT INTO sitrep_daily BY NAME SELECT *, '{source}' AS source,
                    '{file_name.replace("'", "''")}' AS source_file FROM incoming""")
    con.unregister("incoming")
    return superseded
