"""Command line: ``python -m pipelines ingest PATH... [--db FILE] [--force]``.

Exit status: 0 when every row of every file loaded (or the file was already loaded),
1 when any row or file was rejected (all of it is stored, see rejected_rows and
ingest_files), 2 on usage errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from pipelines import config
from pipelines.load import expand_paths, ingest_paths

MAX_MESSAGES_SHOWN = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="load daily sitrep files (CSV or .xlsx) and folders of them")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    ingest.add_argument("--db", type=Path, help=f"database file (default: $FLOW_DB or {config.DEFAULT_DB})")
    ingest.add_argument("--force", action="store_true", help="load files again even if their content was loaded before")
    return parser


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
            if outcome.issues is not None and outcome.issues.height:
                for message in outcome.issues.get_column("message").head(MAX_MESSAGES_SHOWN):
                    tqdm.write(f"          {message}", file=sys.stdout)
                if outcome.issues.height > MAX_MESSAGES_SHOWN:
                    tqdm.write(f"          ... and {outcome.issues.height - MAX_MESSAGES_SHOWN:,} more "
                               f"(see rejected_rows, file_id {outcome.file_id})", file=sys.stdout)
            progress.update()
    return 0 if all_ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return _ingest(args, parser)


if __name__ == "__main__":
    sys.exit(main())
