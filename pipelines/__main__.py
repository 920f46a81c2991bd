"""Command line: ``python -m pipelines ingest PATH... [--db FILE] [--force]`` and
``python -m pipelines export [--week-ending YYYY-MM-DD] --format csv|xlsx|docx --out FILE [--db FILE]``.

ingest: exit status 0 when every row of every file loaded (or the file was already loaded),
1 when any row or file was rejected (all of it is stored, see rejected_rows and
ingest_files), 2 on usage errors.
export: the weekly narrative table, the same file as the dashboard's download; exit status 0
with the file written, 2 on usage errors (a bad date, an unknown format, no figures that week).

The command line is for administrators on the server: it acts with every right (any trust's rows,
NHS England publication files) and is recorded in the audit log as server:<login name>.
Everyone else uses the dashboard, signed in, where their role decides what they may do.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from tqdm import tqdm

from pipelines import config
from pipelines.ingest.load import expand_paths, ingest_paths
from pipelines.queries import weekly as queries
from pipelines.reports.export import FORMATS, render_table
from pipelines.reports.weekly_table import build_weekly_table
from pipelines.warehouse import connect_read

MAX_MESSAGES_SHOWN = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.split("\n\n")[0],
                                     epilog=" ".join(__doc__.split("\n\n")[2].split()))
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="load daily sitrep files (CSV or .xlsx) and folders of them")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    ingest.add_argument("--db", type=Path, help=f"database file (default: $FLOW_DB or {config.DEFAULT_DB})")
    ingest.add_argument("--force", action="store_true", help="load files again even if their content was loaded before")
    export = commands.add_parser("export", help="write the weekly narrative table (CSV, Excel or Word)")
    export.add_argument("--week-ending", type=_sunday, metavar="YYYY-MM-DD",
                        help="the Sunday that ends the week (default: the latest complete week)")
    export.add_argument("--format", required=True, choices=list(FORMATS), dest="fmt")
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write")
    export.add_argument("--db", type=Path, help=f"database file (default: $FLOW_DB or {config.DEFAULT_DB})")
    export.add_argument("--icb", nargs="+", action="extend", default=[], metavar="NAME",
                        help="only the trusts of these ICBs (names as on the dashboard)")
    export.add_argument("--place", nargs="+", action="extend", default=[], metavar="NAME",
                        help="only the trusts of these places")
    return parser


def _sunday(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written as YYYY-MM-DD") from None
    if day.isoweekday() != 7:
        raise argparse.ArgumentTypeError(f"{text} is a {day:%A}: weeks end on a Sunday")
    return day


def _ingest(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    files = expand_paths(args.paths)
    if not files:
        parser.error("no .csv or .xlsx files found in the folders given")
    db = config.db_path(args.db)
    print(f"Loading {len(files)} file{'s' * (len(files) != 1)} into {db}", file=sys.stderr)
    all_ok = True
    with tqdm(total=len(files), unit="file", disable=len(files) < 2 or not sys.stderr.isatty(), file=sys.stderr) as progress:
        for outcome in ingest_paths(args.paths, db, force=args.force,
                                    on_wait=lambda: tqdm.write("waiting for another load to finish...", file=sys.stderr)):
            all_ok &= outcome.ok
            tqdm.write(outcome.summary(), file=sys.stdout)
            for note in ([f"read as {outcome.reader}"] if outcome.reader else []) + outcome.notes:
                tqdm.write(f"          {note}", file=sys.stdout)
            if outcome.issues is not None and outcome.issues.height:
                for message in outcome.issues.get_column("message").head(MAX_MESSAGES_SHOWN):
                    tqdm.write(f"          {message}", file=sys.stdout)
                if outcome.issues.height > MAX_MESSAGES_SHOWN:
                    tqdm.write(f"          ... and {outcome.issues.height - MAX_MESSAGES_SHOWN:,} more "
                               f"(see rejected_rows, file_id {outcome.file_id})", file=sys.stdout)
            progress.update()
    return 0 if all_ok else 1


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    db = config.db_path(args.db)
    if not db.exists():
        parser.error(f"no database at {db}: load sitrep files first with `python -m pipelines ingest PATH`")
    if not args.out.parent.is_dir():
        parser.error(f"no such folder for the output file: {args.out.parent}")
    with connect_read(db) as con:
        trusts = queries.trusts_with_data(con)
        for option, column, wanted in (("--icb", "icb_name", args.icb), ("--place", "place", args.place)):
            known = set(trusts[column].drop_nulls())
            if unknown := [w for w in wanted if w not in known]:
                parser.error(f"{option}: no trust with figures belongs to {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        week = args.week_ending or queries.latest_complete_week(con)
        if week is None:
            parser.error(f"the database {db} has no figures yet")
        table = build_weekly_table(con, week, args.icb, args.place)
        if table.trusts.is_empty():
            parser.error("no trust is in both the --icb and the --place given")
        if table.position.is_empty():
            parser.error(f"no figures for the week ending {week:%d/%m/%Y} from the selected trusts")
        content = render_table(con, table, args.fmt)
    args.out.write_bytes(content)
    print(args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return _ingest(args, parser) if args.command == "ingest" else _export(args, parser)


if __name__ == "__main__":
    sys.exit(main())
