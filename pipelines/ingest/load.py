"""Ingest: file -> reader -> contract -> DuckDB, one transaction per file, with provenance.

Skips are about rows, not bytes: when a file's content was loaded before (the content hash ledger,
``pipelines.ingest.ledger``), the rows that earlier load accepted are skipped and every other row is
read and checked again, so rows rejected then (for another trust's submitter, say) load when a
permitted user sends the same file; a file whose every row is loaded already is skipped. Valid rows
of a file are loaded; rows breaking an error rule are stored in ``rejected_rows`` with their raw
values; warnings load the row and flag it. A later file's figures for a trust/site/day
replace the current ones in ``sitrep_daily``; every loaded row stays in ``sitrep_history``.

Files are loaded in rounds of write sessions (lock, copy, load, swap); each round then refreshes
the derived tables for the trust-weeks its files touched, and a file's outcome is yielded only after
its round is swapped in: whatever stops the caller (Ctrl+C, a closed pipe, a full disk), a file
reported as loaded is in the live database. Several files given at once (the first start's sample, a
folder, a national history of a file a year) are loaded together, a batch in one transaction
(``_load_together``), storing exactly what loading them one at a time stores; a batch that cannot be
is loaded one file at a time.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import cast

import duckdb
import polars as pl

from pipelines import access, config
from pipelines.catalogue.issues import ISSUE_SCHEMA, FileRejected
from pipelines.catalogue.sources import TRUST_SITREP
from pipelines.ingest import ledger
from pipelines.ingest.cells import check_size, too_large
from pipelines.ingest.contract import validate
from pipelines.ingest.ledger import EarlierLoad, FileOutcome
from pipelines.ingest.readers import SitrepRead, read_sitrep, read_sitreps
from pipelines.publication.formats import check_publication, store_publication
from pipelines.publication.read import detect as detect_publication
from pipelines.publication.read import read_publication
from pipelines.spc.store import refresh_derived
from pipelines.warehouse import DatabaseDamaged, connect_read, open_for_write
from pipelines.warehouse.reference import reload_reference
from pipelines.warehouse.schema import is_current
from pipelines.warehouse.session import threads_by_size

log = logging.getLogger(__name__)

FILE_TYPES = (".csv", ".xlsx")
SMALL_FILE_BYTES = 2**20  # a day of every trust in England is about 30 KB: loaded on one thread (threads_by_size)
Source = tuple[str, str, bytes | Exception]  # (name, path, content or why it was not read)



def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the .csv/.xlsx files inside folders (recursively, by name)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FILE_TYPES))
        else:
            files.append(path)
    return files


SHOWN_ROWS = 10  # a message lists at most this many row numbers, then says how many more


def row_list(rows: list[int]) -> str:
    """'2, 3, 5' or '2, 3, ... (and 1,990 more)': a bounded list of row numbers for a message."""
    shown = ", ".join(map(str, rows[:SHOWN_ROWS]))
    return shown + (f" and {len(rows) - SHOWN_ROWS:,} more" if len(rows) > SHOWN_ROWS else "")


def _settle_status(outcome: FileOutcome) -> None:
    if outcome.rows_rejected:
        outcome.status = "loaded_with_rejections" if outcome.rows_loaded else "rejected"
        outcome.message = f"{outcome.rows_rejected:,} of {outcome.rows_read:,} rows rejected"


def _store_rows(con: duckdb.DuckDBPyConnection, outcome: FileOutcome, frame: pl.DataFrame, raw: pl.DataFrame,
                issues: pl.DataFrame, received_at: datetime, replaces: bool = True) -> None:
    """Rejected and flagged rows with their raw values, then the valid rows as history and current.
    ``replaces`` is False when no current row shares a trust-day with ``frame`` (``loaded_levels`` found
    none): there is then nothing to supersede, and the search for it is skipped."""
    if not issues.is_empty():  # a clean file (most days, and every file of the sample) has none to store
        _store_issues(con, outcome, frame, raw, issues)
    rejected = issues.filter(pl.col("severity") == "error").get_column("source_row")
    incoming = frame.filter(~pl.col("source_row").is_in(rejected.implode())).with_columns(
        file_id=pl.lit(outcome.file_id), source=pl.lit(TRUST_SITREP), source_file=pl.lit(outcome.file_name),
        loaded_at=pl.lit(received_at))
    outcome.rows_superseded = _insert_rows(con, incoming, replaces)


def _insert_rows(con: duckdb.DuckDBPyConnection, incoming: pl.DataFrame, replaces: bool) -> int:
    """Valid rows with their provenance (file_id, source, source_file, loaded_at) as history and current;
    returns how many current rows they replaced (none are looked for unless ``replaces``)."""
    con.register("incoming", incoming)
    con.execute("INSERT INTO sitrep_history BY NAME SELECT * EXCLUDE (source_file, loaded_at) FROM incoming")
    # A trust-level row and site rows of the same trust-day describe the same beds: either replaces the other.
    superseded = 0 if not replaces else con.execute(f"""
        DELETE FROM sitrep_daily d USING (SELECT DISTINCT org_code, period_date, site_code FROM incoming) i
        WHERE d.source = '{TRUST_SITREP}' AND d.org_code = i.org_code AND d.period_date = i.period_date
          AND (d.site_code IS NOT DISTINCT FROM i.site_code OR d.site_code IS NULL OR i.site_code IS NULL)
    """).fetchall()[0][0]
    con.execute("INSERT INTO sitrep_daily BY NAME SELECT * FROM incoming")
    con.unregister("incoming")
    return superseded


def _store_issues(con: duckdb.DuckDBPyConnection, outcome: FileOutcome, frame: pl.DataFrame, raw: pl.DataFrame,
                  issues: pl.DataFrame) -> None:
    """Each issue in rejected_rows with its row's raw values, in the issues' order."""
    raw_json = raw.filter(pl.col("source_row").is_in(issues.get_column("source_row").implode())).select(
        "source_row", raw_values=pl.struct(pl.exclude("source_row")).struct.json_encode())
    flagged = (issues.join(frame.select("source_row", "org_code", "period_date"), on="source_row", how="left")
               .with_columns(file_id=pl.lit(outcome.file_id), file_name=pl.lit(outcome.file_name))
               .with_row_index("issue_order"))
    # Each issue row gets its row's raw values in the database, not here: a row breaking many rules
    # would otherwise carry its values once per rule in memory.
    con.register("flagged", flagged)
    con.register("raw_json", raw_json)
    con.execute("INSERT INTO rejected_rows BY NAME SELECT f.* EXCLUDE (issue_order), r.raw_values FROM flagged f "
                "LEFT JOIN raw_json r USING (source_row) ORDER BY f.issue_order")
    con.unregister("flagged")
    con.unregister("raw_json")


def known_org_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Trusts a trust's sitrep may name: those in reference_data/trusts.csv. A trust that only a
    publication added is listed for review on the data quality page and is not trusted until
    someone adds it to trusts.csv (which is the review)."""
    return [r[0] for r in con.execute("SELECT org_code FROM trusts WHERE source = 'reference_data'").fetchall()]


def loaded_levels(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """How each trust-day of ``frame`` is loaded now from trusts' own sitreps: 'trust' (one
    trust-level row), 'site' (rows per site) or 'trust and site' (only from before this rule)."""
    first, last = frame.select(first=pl.col("period_date").min(), last=pl.col("period_date").max()).row(0)
    # nothing loaded in the file's dates (a first load)
    if not con.execute(f"SELECT EXISTS (FROM sitrep_daily WHERE source = '{TRUST_SITREP}' "
                       "AND period_date BETWEEN ? AND ?)", [first, last]).fetchall()[0][0]:
        return pl.DataFrame(schema={"org_code": pl.String, "period_date": pl.Date, "loaded_level": pl.String})
    con.register("file_days", frame.select("org_code", "period_date").unique())
    levels = con.sql(f"""
        SELECT d.org_code, d.period_date,
            CASE WHEN bool_and(d.site_code IS NULL) THEN 'trust' WHEN bool_and(d.site_code IS NOT NULL) THEN 'site'
                 ELSE 'trust and site' END AS loaded_level
        FROM sitrep_daily d JOIN file_days f USING (org_code, period_date)
        WHERE d.source = '{TRUST_SITREP}'
        GROUP BY ALL""").pl()
    con.unregister("file_days")
    return levels


def outside_cover(frame: pl.DataFrame, actor: access.Identity) -> pl.DataFrame:
    """An error for each row of a trust the actor does not submit for (ISSUE_SCHEMA)."""
    covered = access.trusts_covered(actor, "submit_rows")
    if covered is None:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    mine = ", ".join(sorted(covered)) or "none"
    return frame.filter(pl.col("org_code").is_not_null() & ~pl.col("org_code").is_in(sorted(covered))).select(
        "source_row", column_name=pl.lit("org_code"), rule=pl.lit("not_your_organisation"), severity=pl.lit("error"),
        message=pl.format("Row {}: {} is not one of the trusts {} submits for ({}); the row was not loaded.",
                          "source_row", "org_code", pl.lit(actor.name), pl.lit(mine))).select(
            pl.col(name).cast(dtype) for name, dtype in ISSUE_SCHEMA.items())


def _skip_loaded_rows(read: SitrepRead, outcome: FileOutcome, earlier: EarlierLoad | None) -> SitrepRead:
    """The read without the rows an earlier load of the same content accepted (noted, by row number)."""
    if earlier is None or not earlier.rows:
        return read
    loaded = pl.col("source_row").is_in(sorted(earlier.rows)).fill_null(False)
    skipped = read.frame.filter(loaded).get_column("source_row").to_list()
    if not skipped:
        return read
    outcome.rows_skipped = len(skipped)
    outcome.notes.append(f"rows {row_list(skipped)} skipped: {earlier.said()}")
    return SitrepRead(read.frame.filter(~loaded), read.raw.filter(~loaded), read.issues.filter(~loaded),
                      read.notes, read.reader)


def _load_sitrep(con: duckdb.DuckDBPyConnection, outcome: FileOutcome, content: bytes, today: date,
                 received_at: datetime, actor: access.Identity, earlier: EarlierLoad | None = None,
                 engine: str | None = None) -> str:
    """A trust's daily sitrep: read, check against the contract (on ``engine``, default the setting) and
    the actor's trusts, store (the rows an earlier load of the same content accepted are skipped).
    Returns the reader used."""
    read = read_sitrep(outcome.file_name, content)
    notes = read.notes
    read = _skip_loaded_rows(read, outcome, earlier)
    if read.frame.is_empty():
        raise AllRowsLoaded(outcome.rows_skipped)
    levels = loaded_levels(con, read.frame)
    issues = _check(con, read.frame, read.issues, today, actor, levels, engine)
    outcome.notes = notes + outcome.notes
    _count_issues(outcome, issues, read.frame.height)
    _store_rows(con, outcome, read.frame, read.raw, issues, received_at, replaces=levels.height > 0)
    return read.reader


def _check(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, read_issues: pl.DataFrame, today: date,
           actor: access.Identity, levels: pl.DataFrame, engine: str | None) -> pl.DataFrame:
    """A read file's issues: the contract's against the database's trusts and sites (``levels``: how its
    trust-days are loaded now), then a row of a trust the actor does not submit for."""
    return pl.concat([validate(frame, read_issues, known_org_codes(con), today,
                               sites=con.sql("SELECT site_code, org_code FROM sites").pl(),
                               loaded_levels=levels, engine=engine),
                      outside_cover(frame, actor)])


def _count_issues(outcome: FileOutcome, issues: pl.DataFrame, rows_read: int) -> None:
    """The outcome's issues, counts and status: a row with an error is rejected, one with only warnings loaded."""
    errors = issues.filter(pl.col("severity") == "error")
    warned = issues.filter(pl.col("severity") == "warning").join(errors, on="source_row", how="anti")
    outcome.issues, outcome.rows_read = issues, rows_read
    outcome.rows_rejected = errors.get_column("source_row").n_unique()
    outcome.rows_warned = warned.get_column("source_row").n_unique()
    outcome.rows_loaded = outcome.rows_read - outcome.rows_rejected
    _settle_status(outcome)


class AllRowsLoaded(Exception):
    """Every row of the file was accepted by an earlier load of the same content: nothing to do."""


def _load_publication(con: duckdb.DuckDBPyConnection, outcome: FileOutcome, content: bytes, today: date,
                      received_at: datetime, actor: access.Identity, earlier: EarlierLoad | None = None) -> str:
    """NHS England's published sitrep (workbook or long CSV): see pipelines.publication.store.
    Administrators only: it adds trusts and figures for the whole country."""
    if not access.may(actor, "upload_publication"):
        raise FileRejected(f"{outcome.file_name} is an NHS England publication file, which only administrators "
                           f"may load (it adds trusts and figures for every trust); nothing from it was loaded.")
    read = read_publication(outcome.file_name, content)
    check_publication(outcome.file_name, read)
    # ledger.open_entry gave the file its id before any loader runs
    counts = store_publication(con, read, cast(int, outcome.file_id), outcome.file_name, received_at)
    outcome.issues, outcome.notes = read.issues, read.notes
    outcome.rows_read, outcome.rows_loaded = counts["rows_read"], counts["rows_loaded"]
    outcome.rows_rejected, outcome.rows_warned = counts["rows_rejected"], counts["rows_warned"]
    outcome.rows_superseded = counts["rows_superseded"]
    _settle_status(outcome)
    if kept := counts["rows_loaded"] - counts["rows_current"]:
        outcome.notes.append(f"{kept:,} trust-days also in the trust's own sitrep: its fields take precedence, "
                             "these are used only for fields it does not report")
    if counts["trusts_added"]:
        outcome.notes.append(f"{counts['trusts_added']} trusts added to the reference data")
    return read.reader


def _close_entries(con: duckdb.DuckDBPyConnection, outcomes: list[tuple[FileOutcome, datetime]],
                   actor: access.Identity) -> None:
    """Each file's outcome in its ledger row, and its receipt (received at the time beside it) in the audit
    log, worded as the command line says it: a statement for all the ledger rows and one for all the receipts."""
    ledger.close_entries(con, [outcome for outcome, _ in outcomes])
    access.record_each(con, actor, "file_received", [
        (received_at, f"file #{outcome.file_id}: {' '.join(outcome.summary().split())}")
        for outcome, received_at in outcomes])


def _ingest_one(con: duckdb.DuckDBPyConnection, name: str, path: str, content: bytes, *, force: bool,
                today: date, actor: access.Identity, engine: str | None) -> FileOutcome:
    content_hash = hashlib.sha256(content).hexdigest()
    earlier = None if force else ledger.earlier_load(con, content_hash)
    if earlier is not None and earlier.everything:
        return ledger.skipped_outcome(con, name, earlier, actor)
    received_at = config.uk_now()
    outcome = FileOutcome(name, "loaded")
    con.execute("BEGIN TRANSACTION")
    try:
        ledger.open_entry(con, outcome, path, content, content_hash, received_at)
        try:
            check_size(name, content)  # before anything parses it (recognising a publication opens workbooks)
            # Which kind of file it is, by its content: NHS England's publication or a trust's own sitrep.
            publication = detect_publication(name, content)
            if publication and earlier is not None:  # published figures are loaded whole or not at all
                raise AllRowsLoaded(0)
            if publication:
                reader = _load_publication(con, outcome, content, today, received_at, actor, earlier)
            else:
                reader = _load_sitrep(con, outcome, content, today, received_at, actor, earlier, engine)
        except AllRowsLoaded as done:
            con.execute("ROLLBACK")
            return ledger.skipped_outcome(con, name, cast(EarlierLoad, earlier), actor, done.args[0])
        except FileRejected as rejection:  # raised before anything of the file was stored
            outcome = FileOutcome(name, "rejected", str(rejection), file_id=outcome.file_id)
            reader = None
        outcome.reader = reader
        _close_entries(con, [(outcome, received_at)], actor)
        con.execute("COMMIT")
        return outcome
    except (OSError, duckdb.IOException, duckdb.FatalException, access.AccessDenied):
        con.execute("ROLLBACK")
        raise  # the disk or the database, or the sender's session ended, not this file: see _ingest_source
    except Exception as error:  # a bug must not lose the file: the ledger says it failed, and why
        con.execute("ROLLBACK")
        log.exception("internal error loading %s", path)
        return ledger.record_failure(con, outcome, path, content, content_hash, received_at, error)
    except BaseException:
        con.execute("ROLLBACK")
        raise



def _ingest_source(con: duckdb.DuckDBPyConnection, name: str, path: str, content: bytes | Exception, *,
                   force: bool, today: date, actor: access.Identity, engine: str | None) -> FileOutcome:
    """One file, in its own transaction; a failure of this file alone is a rejection, logged with its traceback."""
    started = time.perf_counter()
    if isinstance(content, OSError):
        outcome = FileOutcome(name, "rejected", f"could not be read ({content.strerror or content})")
    elif isinstance(content, Exception):  # refused before it was read (too large)
        outcome = FileOutcome(name, "rejected", str(content))
    else:
        try:
            outcome = _ingest_one(con, name, path, content, force=force, today=today, actor=actor, engine=engine)
        except (OSError, duckdb.IOException, duckdb.FatalException, access.AccessDenied):
            raise  # the disk, the database or the sender's session, not this file: the round stops, none of it kept
        except Exception as error:  # a bug must not stop the other files, nor show a stack trace
            log.exception("internal error loading %s", path)
            outcome = FileOutcome(name, "rejected", f"could not be loaded because of an internal error "
                                                    f"({type(error).__name__}); nothing from it was loaded. "
                                                    "The details are in the log.", internal_error=True)
    log.info("%s %s in %.3f s", outcome.status, path, time.perf_counter() - started)
    return outcome


_FILE_ROWS = 1 << 32  # more source rows than any file has: file number * this + source_row tells files apart


def _load_together(con: duckdb.DuckDBPyConnection, sources: list[Source], *,
                   today: date, actor: access.Identity, engine: str | None) -> list[FileOutcome] | None:
    """Trust sitreps read, checked and stored as one frame in one transaction, each file with its own
    ledger row, rejected and flagged rows and audit row: what loading them one at a time gives when none
    of them was loaded before, no two share a trust-day and nothing loaded shares their days (then no rule
    can tell the files apart, and nothing one of them stores changes how another is checked; a file the
    check finds issues in is checked again on its own, for its messages). The first start's 30 sample
    files are such files, and pay the reader's, contract's and store's fixed costs once instead of 30
    times. None, with nothing written, when the files are not such: each is then loaded on its own."""
    started = time.perf_counter()
    named = [(name, content) for name, _, content in sources if isinstance(content, bytes)]
    if len(named) < len(sources):
        return None
    try:
        for name, content in named:
            check_size(name, content)  # before anything parses it (recognising a publication opens workbooks)
            if detect_publication(name, content):
                return None
    except FileRejected:
        return None
    hashes = [hashlib.sha256(content).hexdigest() for _, content in named]
    if len(set(hashes)) < len(hashes) or con.execute(
            "SELECT EXISTS (FROM ingest_files WHERE content_hash IN (SELECT unnest(?::VARCHAR[])))",
            [hashes]).fetchall()[0][0]:
        return None
    reads = read_sitreps(named)
    if any(isinstance(read, FileRejected) or read.issues.height for read in reads):
        return None
    sitreps = cast(list[SitrepRead], reads)
    rows = pl.concat([read.frame.with_columns(file=pl.lit(number, pl.Int64)) for number, read in enumerate(sitreps)])
    shared_day = rows.select("org_code", "period_date", "file").unique().select(
        pl.struct("org_code", "period_date").is_duplicated().any()).item()
    levels = loaded_levels(con, rows)
    if shared_day or levels.height:
        return None
    try:
        found = _check(con, rows.with_columns(pl.col("source_row") + pl.col("file") * _FILE_ROWS).drop("file"),
                       pl.DataFrame(schema=ISSUE_SCHEMA), today, actor, levels, engine)
        issues = {number: _check(con, sitreps[number].frame, sitreps[number].issues, today, actor, levels, engine)
                  for number in (found.get_column("source_row") // _FILE_ROWS).unique().to_list()}
    except FileRejected:  # too many issues: said the way each file on its own says it
        return None
    con.execute("BEGIN TRANSACTION")
    try:
        outcomes = _store_together(con, sources, hashes, sitreps, rows, issues, actor)
        con.execute("COMMIT")
    except BaseException as error:
        con.execute("ROLLBACK")
        if not isinstance(error, Exception):
            raise
        log.warning("the files could not be loaded together; loading each on its own", exc_info=True)
        return None
    log.info("%d files loaded together in %.3f s", len(outcomes), time.perf_counter() - started)
    return outcomes


def _store_together(con: duckdb.DuckDBPyConnection, sources: list[Source],
                    hashes: list[str], sitreps: list[SitrepRead], rows: pl.DataFrame,
                    issues: dict[int, pl.DataFrame], actor: access.Identity) -> list[FileOutcome]:
    """``_load_together``'s writes, inside its transaction, in the files' order: the files' ledger rows (one
    statement), each file's rejected and flagged rows (``issues``, by file number), the valid rows of all of
    them at once (``rows``: the files' frames, numbered by ``file``), then each file's outcome in its ledger
    row and the audit log (a statement for each of the two)."""
    outcomes: list[tuple[FileOutcome, datetime]] = []
    rejected = [pl.DataFrame(schema={"file": pl.Int64, "source_row": pl.Int64})]
    for number, ((name, _, _), read) in enumerate(zip(sources, sitreps, strict=True)):
        outcome = FileOutcome(name, "loaded", notes=read.notes, reader=read.reader)
        _count_issues(outcome, issues.get(number, pl.DataFrame(schema=ISSUE_SCHEMA)), read.frame.height)
        outcomes.append((outcome, config.uk_now()))
    ledger.open_entries(con, [(outcome, path, cast(bytes, content), content_hash, received_at) for
                              (outcome, received_at), (_, path, content), content_hash in
                              zip(outcomes, sources, hashes, strict=True)])
    for number, ((outcome, _), read) in enumerate(zip(outcomes, sitreps, strict=True)):
        if number in issues:
            _store_issues(con, outcome, read.frame, read.raw, issues[number])
            rejected.append(issues[number].filter(pl.col("severity") == "error").select(
                file=pl.lit(number, pl.Int64), source_row=pl.col("source_row").cast(pl.Int64)))
    files = pl.DataFrame([(number, outcome.file_id, outcome.file_name, received_at)
                          for number, (outcome, received_at) in enumerate(outcomes)],
                         schema={"file": pl.Int64, "file_id": pl.Int64, "source_file": pl.String,
                                 "loaded_at": pl.Datetime("us")}, orient="row")
    rejected_rows = pl.concat(rejected)
    # A national history has no rejected row: its 357,700 rows are not copied through a join that drops none.
    valid = rows if rejected_rows.is_empty() else rows.join(rejected_rows, on=["file", "source_row"], how="anti",
                                                            maintain_order="left")
    _insert_rows(con, valid.join(files, on="file", maintain_order="left").drop("file").with_columns(
        source=pl.lit(TRUST_SITREP)), replaces=False)
    _close_entries(con, outcomes, actor)
    return [outcome for outcome, _ in outcomes]


def _refresh_touched(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], everything: bool) -> None:
    """The derived tables for the trust-days this round's files brought (their rows in sitrep_history):
    everything when the reference data changed."""
    if everything:
        refresh_derived(con, None)
        return
    file_ids = [o.file_id for o in outcomes if o.file_id is not None and o.status in LOADED]
    if file_ids:
        refresh_derived(con, con.sql("SELECT DISTINCT org_code, period_date FROM sitrep_history "
                                     "WHERE file_id IN (SELECT unnest(?::INTEGER[]))", params=[file_ids]).pl())


LOADED = ("loaded", "loaded_with_rejections")


def upgrade_database(db: Path) -> bool:
    """A database made by an earlier release (its schema hash differs, docs/schema-migrations.md) brought
    up to date in one write session: the schema migrated, the reference data and metric catalogue
    reloaded and, when they changed, every weekly figure and SPC reading refreshed, so the pages can read
    the new columns and metrics before the next file arrives. True if it was upgraded; a damaged file is
    left for the pages to report."""
    try:
        with connect_read(db) as con:
            if is_current(con):
                return False
    except DatabaseDamaged:
        return False
    with open_for_write(db) as con:
        if reload_reference(con):
            refresh_derived(con, None)
    log.info("database %s brought up to date for this release", db)
    return True


# Files taken together at most this many bytes at a time: a national year of trust rows is about 3 MB,
# and seven of them (21 MB) peaked at about 700 MiB loaded together against 410 MiB one by one, so a
# folder of any size is read and checked a batch at a time, not all at once.
TOGETHER_BYTES = 32 * 2**20


def _batches(sources: Iterable[Source], together: bool) -> Iterator[list[Source]]:
    """The sources one at a time, or ``together`` in runs of at most TOGETHER_BYTES (a larger file alone)."""
    batch: list[Source] = []
    size = 0
    for source in sources:
        if not together:  # not pulling the next source first: an upload says a file started as it starts
            yield [source]
            continue
        length = len(source[2]) if isinstance(source[2], bytes) else 0
        if batch and size + length > TOGETHER_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(source)
        size += length
    if batch:
        yield batch


def ingest_sources(sources: Iterable[Source], db: Path | None = None, *,
                   force: bool = False, today: date | None = None, on_wait: Callable[[], None] | None = None,
                   round_s: float | None = None, actor: access.Identity | None = None,
                   engine: str | None = None, together: bool = False) -> Iterator[FileOutcome]:
    """Load (name, path, content) sources, yielding each file's outcome once it is in the live database.

    Rounds of write sessions (see the module doc) each take files until ``round_s`` (default
    $FLOW_ROUND_S, 5 s) has passed: one copy and swap per round keeps a big folder fast. A file's
    outcome is yielded after its round is swapped in, outside the write session, so stopping the
    iteration never holds the lock nor loses a file already yielded.

    ``actor`` is who sends the files (default: the administrator running the command line on the
    server); AccessDenied before anything is read when they may not upload at all, and their rows
    for trusts they do not submit for are rejected row by row. ``engine`` is the data contract's
    (default the setting, ``config.contract_engine``; the command line's ``--engine``). ``together``
    first tries the files as one (``_load_together``), TOGETHER_BYTES of them at a time, each such
    batch in one transaction; a batch that cannot be is loaded one file at a time.
    """
    actor = actor or access.server_admin()
    access.require(actor, "upload_file")
    round_s = config.ingest_round_s() if round_s is None else round_s
    target = config.db_path(db)
    today = today or config.uk_today()
    # Not together with FLOW_ROUND_S=0, which asks for one file a round, each reported as soon as it is saved.
    batches = _batches(sources, together and not force and round_s > 0)
    batch: list[Source] | None = None  # taken, not yet tried together
    apart: deque[Source] = deque()  # taken, to be loaded one at a time
    while True:
        done: list[FileOutcome] = []
        started = time.perf_counter()
        with open_for_write(target, on_wait) as con:
            access.require_live(con, actor)  # a sender who signed out (any tab, any server) loads nothing
            reference_changed = reload_reference(con)
            # Pulled under the lock: an upload says "waiting" before it says which file started.
            if batch is None and not apart:
                batch = next(batches, None)
            with threads_by_size(con) as fit_threads:
                while batch or apart:
                    if batch:
                        loaded = None
                        if len(batch) > 1:
                            fit_threads(all(not isinstance(c, bytes) or len(c) <= SMALL_FILE_BYTES
                                            for _, _, c in batch))
                            loaded = _load_together(con, batch, today=today, actor=actor, engine=engine)
                        apart.extend([] if loaded else batch)
                        batch = None
                        if not loaded:
                            continue  # its files one at a time, starting now: a round never ends empty
                        done.extend(loaded)
                    else:
                        name, path, content = apart.popleft()
                        fit_threads(not isinstance(content, bytes) or len(content) <= SMALL_FILE_BYTES)
                        done.append(_ingest_source(con, name, path, content, force=force, today=today,
                                                   actor=actor, engine=engine))
                    if not apart:
                        batch = next(batches, None)
                    if time.perf_counter() - started > round_s:
                        break
            _refresh_touched(con, done, reference_changed)
        log.info("round of %d files saved in %.3f s", len(done), time.perf_counter() - started)
        yield from done
        if batch is None and not apart:
            return


def ingest_paths(paths: Iterable[Path], db: Path | None = None, *, together: bool = True,
                 **options) -> Iterator[FileOutcome]:
    """Load files and folders from disk (see ingest_sources), ``together`` where they can be: a folder or
    a national history of several files then pays the reader's, contract's, store's and commit's fixed
    costs once a batch rather than once a file."""
    def sources() -> Iterator[Source]:
        for path in expand_paths(paths):
            try:
                # a file over the limit is refused before it is read (a 2-million-row CSV took 5 GB)
                yield path.name, str(path), too_large(path.name, path.stat().st_size) or path.read_bytes()
            except OSError as error:
                yield path.name, str(path), error
    yield from ingest_sources(sources(), db, together=together, **options)


def ensure_database(db: Path | None = None) -> bool:
    """Build the database from the bundled sample data when there is none; True if it was built. A
    database of an earlier release is brought up to date instead (``upgrade_database``)."""
    target = config.db_path(db)
    if target.exists():
        upgrade_database(target)
        return False
    # Nobody can be reading a database that does not exist yet: the whole sample in one round, one swap,
    # its 30 files read, checked and stored together.
    for _ in ingest_paths([config.SAMPLE_DIR], target, round_s=math.inf, actor=access.first_start()):
        pass
    return True
