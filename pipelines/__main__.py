"""Command line: ``python -m pipelines ingest PATH... [--db FILE] [--force]``,
``python -m pipelines export [--week-ending YYYY-MM-DD] [--group ID] --format csv|xlsx|docx --out FILE [--db FILE]``
and
``python -m pipelines restore [--list] [--generation N] [--db FILE]``; ``-v`` for the log on stderr.

ingest: exit status 0 when every row of every file loaded (or the file was already loaded),
1 when any row or file was rejected (all of it is stored, see rejected_rows and
ingest_files), 2 on usage errors; a file is printed as loaded only once it is in the live database.
export: the weekly narrative table, the same file as the dashboard's download; exit status 0
with the file written, 2 on usage errors (a bad date, an unknown format, no figures that week).
restore: put an earlier generation of the database back (exit status 0), or list them.
Any command: 3 another write held the database too long, 4 the database is damaged (restore it),
5 the disk is full or not writable, 6 an internal error (a bug; a file it stopped is recorded as rejected,
the details are in the log), 130 interrupted (Ctrl+C), 141 the output was closed (a pipe).
The table of exit statuses in docs/operations.md is the reference.

The command line is for administrators on the server: it acts with every right (any trust's rows,
NHS England publication files) and is recorded in the audit log as server:<login name>.
Everyone else uses the dashboard, signed in, where their role decides what they may do.
"""
from __future__ import annotations

import argparse
import errno
import logging
import logging.handlers
import os
import sys
from datetime import date
from pathlib import Path

import duckdb
from tqdm import tqdm

from pipelines import access, config
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import expand_paths, ingest_paths
from pipelines.reports.formats import FORMATS
from pipelines.warehouse import DatabaseDamaged, WriteLockTimeout, connect_read
from pipelines.warehouse.integrity import is_damage
from pipelines.warehouse.session import generations, read_audit_head, restore

log = logging.getLogger("pipelines")
MAX_MESSAGES_SHOWN = 10
EXIT_REJECTED, EXIT_LOCK_TIMEOUT, EXIT_DAMAGED, EXIT_NO_SPACE, EXIT_INTERNAL_ERROR = 1, 3, 4, 5, 6
EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED = 130, 141


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what is done, with timings, on stderr (-vv for more); or set $FLOW_LOG_LEVEL")
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.split("\n\n")[0],
                                     epilog=" ".join(__doc__.split("\n\n")[2].split()))
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", parents=[common],
                                 help="load daily sitrep files (CSV or .xlsx) and folders of them")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    ingest.add_argument("--db", type=Path, help=f"database file (default: $FLOW_DB or {config.DEFAULT_DB})")
    ingest.add_argument("--force", action="store_true", help="load files again even if their content was loaded before")
    ingest.add_argument("--engine", choices=config.CONTRACT_ENGINES,
                        help="contract engine (default $FLOW_CONTRACT_ENGINE, else polars)")
    export = commands.add_parser("export", parents=[common],
                                 help="write the weekly narrative table (CSV, Excel or Word)")
    export.add_argument("--week-ending", type=_sunday, metavar="YYYY-MM-DD",
                        help="the Sunday that ends the week (default: the latest complete week)")
    export.add_argument("--format", required=True, choices=list(FORMATS), dest="fmt")
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write")
    export.add_argument("--db", type=Path, help=f"database file (default: $FLOW_DB or {config.DEFAULT_DB})")
    export.add_argument("--icb", nargs="+", action="extend", default=[], metavar="NAME",
                        help="only the trusts of these ICBs (names as on the dashboard)")
    export.add_argument("--place", nargs="+", action="extend", default=[], metavar="NAME",
                        help="only the trusts of these places")
    export.add_argument("--group", metavar="GROUP_ID",
                        help="a discharge group's trusts and narratives (default: every trust, group 'all'); "
                             "with --icb or --place, trusts picked by hand: no saved narratives")
    restore_ = commands.add_parser("restore", parents=[common],
                                   help="put an earlier generation of the database back (after damage or a mistake)")
    restore_.add_argument("--list", action="store_true", help="list the live database and the generations kept")
    restore_.add_argument("--generation", type=int, metavar="N",
                          help="the generation to restore (1 is the newest; default: the newest sound one, "
                               "only when the live database is damaged)")
    restore_.add_argument("--db", type=Path, help=f"database file (default: $FLOW_DB or {config.DEFAULT_DB})")
    return parser


def _sunday(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written as YYYY-MM-DD") from None
    if day.isoweekday() != 7:
        raise argparse.ArgumentTypeError(f"{text} is a {day:%A}: weeks end on a Sunday")
    return day


def _print_outcome(outcome: FileOutcome) -> None:
    lines = [outcome.summary()] + [f"          {note}" for note in
                                   ([f"read as {outcome.reader}"] if outcome.reader else []) + outcome.notes]
    if outcome.issues is not None and outcome.issues.height:
        lines += [f"          {message}" for message in outcome.issues.get_column("message").head(MAX_MESSAGES_SHOWN)]
        if outcome.issues.height > MAX_MESSAGES_SHOWN:
            lines.append(f"          ... and {outcome.issues.height - MAX_MESSAGES_SHOWN:,} more "
                         f"(see rejected_rows, file_id {outcome.file_id})")
    for line in lines:
        tqdm.write(line, file=sys.stdout)
    sys.stdout.flush()  # now, so that a closed pipe is met here and not at exit


def _stopped(why: str) -> str:
    return (f"{why}. Every file reported above is saved in the database. Run the same command again "
            "to load the rest: files already loaded are skipped.")


def _ingest(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    files = expand_paths(args.paths)
    if not files:
        parser.error("no .csv or .xlsx files found in the folders given")
    db = config.db_path(args.db)
    print(f"Loading {len(files)} file{'s' * (len(files) != 1)} into {db}", file=sys.stderr)
    all_ok, internal_error = True, False
    try:
        with tqdm(total=len(files), unit="file", disable=len(files) < 2 or not sys.stderr.isatty(),
                  file=sys.stderr) as progress:
            for outcome in ingest_paths(args.paths, db, force=args.force, engine=args.engine,
                                        on_wait=lambda: tqdm.write("waiting for another load to finish...",
                                                                   file=sys.stderr)):
                all_ok &= outcome.ok
                internal_error |= outcome.internal_error
                _print_outcome(outcome)
                progress.update()
    except KeyboardInterrupt:
        print(_stopped("Interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        print(_stopped("Stopped because the output was closed"), file=sys.stderr)
        return EXIT_OUTPUT_CLOSED
    except (OSError, duckdb.IOException, duckdb.FatalException) as error:
        log.exception("the ingest stopped")
        print(_stopped(_write_failure(error)), file=sys.stderr)
        return EXIT_NO_SPACE
    if internal_error:
        print("A file could not be loaded because of an internal error (see above): it is recorded as rejected "
              "and the details are in the log. Tell the dashboard's support team.", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    return 0 if all_ok else EXIT_REJECTED


def _write_failure(error: OSError | duckdb.Error) -> str:
    """What stopped a write, in words: a full disk (DuckDB says it in its own message: an IOException,
    or a FatalException when a checkpoint cannot write), or why not."""
    if isinstance(error, OSError):
        return ("The disk is full" if error.errno == errno.ENOSPC
                else f"The database could not be written ({error.strerror or type(error).__name__})")
    text = str(error)
    if "No space left" in text:
        return "The disk is full"
    return "The database could not be written (" + (text.rsplit(": ", 1)[-1].strip() or "an input/output error") + ")"


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    db = config.db_path(args.db)
    if not db.exists():
        parser.error(f"no database at {db}: load sitrep files first with `python -m pipelines ingest PATH`")
    if not args.out.parent.is_dir():
        parser.error(f"no such folder for the output file: {args.out.parent}")
    # Only an export needs the table, its queries, the discharge groups and the Word and Excel writers: an
    # ingest never imports them.
    from pipelines.groups import ALL_GROUP, current_groups, find_group  # noqa: PLC0415
    from pipelines.queries import weekly, weeks  # noqa: PLC0415
    from pipelines.reports.export import render_table  # noqa: PLC0415
    from pipelines.reports.weekly_table import build_weekly_table  # noqa: PLC0415
    with connect_read(db, thorough=True) as con:  # every block read first: damage is exit 4, not a traceback
        trusts = weekly.trusts_with_data(con)
        for option, column, wanted in (("--icb", "icb_name", args.icb), ("--place", "place", args.place)):
            known = set(trusts[column].drop_nulls())
            if unknown := [w for w in wanted if w not in known]:
                parser.error(f"{option}: no trust with figures belongs to {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        week = args.week_ending or weeks.latest_complete_week(con)
        if week is None:
            parser.error(f"the database {db} has no figures yet")
        groups = current_groups(con)
        group = find_group(groups, args.group or ALL_GROUP)
        if group is None or (args.group and (args.icb or args.place)):
            parser.error(f"--group: {args.group!r} is not a discharge group; known: "
                         f"{', '.join(g.group_id for g in groups)}" if group is None
                         else "--group or --icb/--place, not both")
        table = build_weekly_table(con, week, args.icb, args.place, group.org_codes)
        if table.trusts.is_empty():
            parser.error("no trust is in both the --icb and the --place given")
        if table.position.is_empty():
            parser.error(f"no figures for the week ending {week:%d/%m/%Y} from the selected trusts")
        content = render_table(con, table, args.fmt, None if args.icb or args.place else group.group_id)
    args.out.write_bytes(content)
    print(args.out)
    return 0


def _restore(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    db = config.db_path(args.db)
    head = read_audit_head(db)
    found = generations(db)
    if args.list:
        if not found:
            print(f"no database and no earlier generations at {db}")
        elif found[0].number == 0 and found[0].problem is None:
            with connect_read(db) as con:
                print(access.audit_chain(con, head).describe())
        for g in found:
            state = f"DAMAGED: {g.problem}" if g.problem else (
                f"{g.files_loaded} files loaded, figures to {g.latest_day or '-'}")
            label = "live" if g.number == 0 else f"{g.number:>4}"
            print(f"{label}  {g.modified:%d/%m/%Y %H:%M:%S}  {g.size_bytes / 1024 / 1024:8.1f} MiB  {state}")
        return 0
    earlier = [g for g in found if g.number > 0]
    live_sound = bool(found) and found[0].number == 0 and found[0].problem is None
    if args.generation is None:
        if live_sound:
            parser.error("the live database is sound; give --generation N to go back to an earlier one "
                         "(see --list)")
        sound = [g for g in earlier if g.problem is None]
        if not sound:
            print(f"No sound earlier generation of {db} is kept, so nothing can be restored.", file=sys.stderr)
            return EXIT_DAMAGED
        chosen = sound[0]
    else:
        matching = [g for g in earlier if g.number == args.generation]
        if not matching:
            parser.error(f"no generation {args.generation} of {db}; kept: "
                         f"{', '.join(str(g.number) for g in earlier) or 'none'}")
        chosen = matching[0]
    set_aside = restore(db, chosen.number, access.server_admin())
    print(f"Restored {db} from generation {chosen.number} (saved {chosen.modified:%d/%m/%Y %H:%M}, "
          f"{chosen.files_loaded} files loaded, figures to {chosen.latest_day or '-'}).")
    if set_aside:
        print(f"The damaged file was kept as {set_aside}.")
    else:
        print("The database it replaced is now generation 1.")
    return 0


_HANDLERS: list[logging.Handler] = []


def configure_logging(verbosity: int, db: Path) -> None:
    """The log: always at INFO, with tracebacks, in ``<database folder>/pipelines.log`` (when that folder
    is writable); also on stderr with -v (INFO), -vv (DEBUG) or $FLOW_LOG_LEVEL (a level name)."""
    named = config.console_log_level()
    console_level = (logging.DEBUG if verbosity > 1 else logging.INFO if verbosity
                     else getattr(logging, named, None) if named else None)
    root = logging.getLogger()
    for handler in _HANDLERS:  # main() run again in one process (tests): one set of handlers
        root.removeHandler(handler)
    _HANDLERS.clear()
    root.setLevel(min(console_level or logging.INFO, logging.INFO))
    if console_level is not None:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        _HANDLERS.append(console)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.RotatingFileHandler(db.parent / "pipelines.log", maxBytes=2_000_000,
                                                       backupCount=3, encoding="utf-8")
        to_file.setLevel(logging.INFO)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        _HANDLERS.append(to_file)
    except OSError:
        pass  # a read-only folder: only the console, if asked for
    for handler in _HANDLERS:
        root.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, config.db_path(args.db))
    command = {"ingest": _ingest, "export": _export, "restore": _restore}[args.command]
    try:
        return command(args, parser)
    except WriteLockTimeout as timeout:
        print(timeout, file=sys.stderr)
        return EXIT_LOCK_TIMEOUT
    except DatabaseDamaged as damaged:
        print(damaged.plain, file=sys.stderr)
        return EXIT_DAMAGED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OUTPUT_CLOSED
    except (OSError, duckdb.IOException, duckdb.FatalException) as error:  # the disk: full, read-only, failing
        log.exception("%s stopped", args.command)
        print(f"{_write_failure(error)}; nothing was changed.", file=sys.stderr)
        return EXIT_NO_SPACE
    except duckdb.Error as error:
        if not is_damage(error):
            raise
        log.exception("%s stopped: the database is damaged", args.command)
        print(DatabaseDamaged(config.db_path(args.db), "part of it cannot be read").plain, file=sys.stderr)
        return EXIT_DAMAGED
    except KeyboardInterrupt:
        print("Interrupted; nothing was changed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # a bug: the write session left the live file as it was; the traceback goes to the log
        log.exception("%s stopped by an internal error", args.command)
        print(f"The {args.command} stopped because of an internal error; nothing more was changed. The details "
              "are in pipelines.log beside the database: tell the dashboard's support team.", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
