"""Ingest benchmark: national-scale sitrep history through the project's pipeline vs a bare baseline.

Run from anywhere:  python benchmarks/benchmark.py [--trusts N] [--years N] [--repeat N] [--keep]

1. Generates daily trust sitrep rows (docs/domain.md section 2.1): N trusts x 365*years days (defaults
   140 x 7 years = 357,700 rows), every row valid under every rule of the data contract
   (seeded, vectorised; the same arguments always give the same values), written as ONE CSV PER
   YEAR of 365 days (national_data.write_year_files), as NHS England or a trust's BI team sends a
   year: the ingest refuses a CSV of more than 100,000 lines (pipelines/ingest/cells.py MAX_ROWS),
   and a national year is about 51,000 (fewer days a file where a year would pass the limit).
2. Times (a) a baseline: bare ``polars.read_csv`` of every file, concatenated, plus one DuckDB table
   created from the frame in a fresh database file; (b) the project's full ingest: ONE
   ``pipelines.ingest.load.ingest_paths([...every file...])`` call into a fresh database, "cold" in
   a fresh subprocess (interpreter start and every import included), paired with the baseline run
   in a fresh subprocess too, and "warm" in this process after a tiny file has gone through the
   whole ingest once; then breaks (b) into read / contract (each file's, summed) / load by calling
   those steps directly.
3. Prints a table of the figures and the targets (issue 11's, with the ratios issue 24 accepted for
   the contract, provenance and derived tables the project requires): the cold ingest within 2.5x the
   cold baseline (whole processes), the warm ingest within 2.9x the warm baseline and under 5 s; rows per
   second, database file sizes, peak RSS and the machine's core count. Each ingest run is paired
   with a baseline run just before it, and the targets are judged on the median of the paired
   ratios (the best of each is shown too): on a shared machine, load moves both runs of a pair alike.

This is a script, not a test: nothing here is collected by pytest and no figure is asserted,
except that every file must load whole, without rejections or warnings (otherwise the
timings would measure the wrong thing). Generated files go to benchmarks/output/ (gitignored)
and are deleted at the end unless --keep is given.
"""
from __future__ import annotations

import time

T_START = time.perf_counter()  # the cold child counts its imports from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # so `python benchmarks/benchmark.py` finds pipelines/ from any cwd

# The synthetic national history (shared with pages_benchmark.py); numpy and polars load only when used.
from national_data import (  # noqa: E402
    LAST_DAY,
    generate_frame,
    trust_codes,
    use_reference_dir,
    write_reference,
    write_year_files,
)

OUTPUT_DIR = REPO_ROOT / "benchmarks" / "output"
# Issue 24 accepted these ratios (issue 11 had asked for 2x warm and 3x cold): what is beyond the bare
# read-and-create pays for the contract, the provenance and the derived tables.
TARGET_RATIO = 2.9      # full ingest within 2.9x of the bare read + insert (warm)
TARGET_COLD_RATIO = 2.5  # a fresh process's full ingest within 2.5x a fresh process's bare read + insert
TARGET_SECONDS = 5.0    # full ingest under 5 s


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def remove_db(db: Path) -> None:
    """A database and everything the writer leaves beside it (the previous generations included)."""
    for path in (db, Path(f"{db}.wal"), Path(f"{db}.lock"), Path(f"{db}.audit-head"), Path(f"{db}.fingerprint"),
                 db.with_name(f"{db.name}.writing"), Path(f"{db.with_name(db.name + '.writing')}.wal"),
                 *db.parent.glob(f"{db.name}.[0-9]*")):
        path.unlink(missing_ok=True)


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def secs(s: float) -> str:
    return f"{s:,.2f} s"


def rate(rows: int, s: float) -> str:
    return f"{rows / s:,.0f} rows/s" if s > 0 else "-"


def spread(samples: list[float]) -> str:
    return "" if len(samples) == 1 else f" (best of {', '.join(f'{s:.2f}' for s in samples)})"


def baseline_once(csvs: list[Path], db: Path, pl, duckdb) -> tuple[float, float, float]:
    """Bare polars.read_csv of every file (one frame), then a table created from it in a fresh DuckDB file."""
    remove_db(db)
    t0 = time.perf_counter()
    bare = pl.concat([pl.read_csv(csv) for csv in csvs], how="vertical_relaxed")
    t1 = time.perf_counter()
    con = duckdb.connect(str(db))
    con.register("bare", bare)
    con.execute("CREATE TABLE sitrep AS SELECT * FROM bare")
    con.execute("CHECKPOINT")
    con.close()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, t2 - t0


def check_outcome(outcome, expected_rows: int, what: str) -> None:
    """Every generated row is valid: anything else means the benchmark measured the wrong thing."""
    if (outcome.status != "loaded" or outcome.rows_loaded != expected_rows or outcome.rows_rejected
            or outcome.rows_warned):
        first = ""
        if outcome.issues is not None and outcome.issues.height:
            first = "\n  " + "\n  ".join(outcome.issues.get_column("message").head(5).to_list())
        raise SystemExit(f"{what}: expected {expected_rows:,} rows loaded cleanly, got: {outcome.summary()}{first}")


def check_outcomes(outcomes: list, files: list[tuple[Path, int]], what: str) -> None:
    """One clean outcome per (file, rows), in order (check_outcome for each)."""
    if len(outcomes) != len(files):
        raise SystemExit(f"{what}: expected {len(files)} outcomes, one per file, got {len(outcomes)}")
    for (csv, rows), outcome in zip(files, outcomes, strict=True):
        check_outcome(outcome, rows, f"{what} ({csv.name})")


def ingest_all(files: list[tuple[Path, int]], db: Path, what: str) -> list:
    """ONE ingest_paths call with every file, each file's outcome checked clean."""
    from pipelines.ingest.load import ingest_paths  # noqa: PLC0415 (timed: imports count in the cold run)

    outcomes = list(ingest_paths([csv for csv, _ in files], db=db))
    check_outcomes(outcomes, files, what)
    return outcomes


# --------------------------------------------------------------------------------------------
# Cold run: a fresh interpreter, Great Expectations not yet imported
# --------------------------------------------------------------------------------------------

def cold_child(files: list[tuple[Path, int]], db: Path, reference_dir: Path) -> None:
    """Runs in the subprocess; prints one JSON line with its own timings (the outcomes checked after them)."""
    use_reference_dir(reference_dir)
    t0 = time.perf_counter()
    import pipelines.ingest.load  # noqa: F401, PLC0415  (polars, duckdb and the pipeline modules; GE stays lazy)
    t1 = time.perf_counter()
    ge_before = "great_expectations" in sys.modules
    from pipelines.ingest.load import ingest_paths  # noqa: PLC0415 (already imported just above)

    outcomes = list(ingest_paths([csv for csv, _ in files], db=db))
    t2 = time.perf_counter()
    check_outcomes(outcomes, files, "cold ingest")
    print(json.dumps({"startup_imports": t0 - T_START, "import_pipeline": t1 - t0, "ingest": t2 - t1,
                      "process_total": t2 - T_START, "ge_imported_before_ingest": ge_before,
                      "peak_rss": peak_rss_bytes()}))


# The baseline as a whole fresh process: interpreter start, imports, read every file, create, checkpoint.
COLD_BASELINE = """import sys, duckdb, polars as pl
bare = pl.concat([pl.read_csv(csv) for csv in sys.argv[2:]], how="vertical_relaxed")
con = duckdb.connect(sys.argv[1])
con.register("bare", bare)
con.execute("CREATE TABLE sitrep AS SELECT * FROM bare")
con.execute("CHECKPOINT")
con.close()
"""


def run_cold_baseline(csvs: list[Path], db: Path) -> float:
    """Wall seconds of the bare read-and-create of every file in a fresh process."""
    remove_db(db)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD_BASELINE, str(db), *map(str, csvs)], check=True, cwd=REPO_ROOT)
    return time.perf_counter() - t0


def run_cold(files: list[tuple[Path, int]], db: Path, reference_dir: Path) -> dict:
    remove_db(db)
    command = [sys.executable, str(Path(__file__).resolve()), "--cold-child", "--db", str(db),
               "--reference", str(reference_dir), "--csv", *(str(csv) for csv, _ in files),
               "--rows", *(str(rows) for _, rows in files)]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"cold ingest subprocess failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    figures["db_size"] = db.stat().st_size
    return figures


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------

def main() -> None:  # noqa: PLR0915  (the whole benchmark run in the order the docstring gives)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=140, help="number of trusts (default 140)")
    parser.add_argument("--years", type=int, default=7, help="years of daily history, 365 days each (default 7)")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSVs, databases and reference files")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of the baseline, the warm ingest and the breakdown; the best is "
                             "reported (default 3; the cold run is always once)")
    # Internal: the cold run re-invokes this script in a fresh interpreter.
    parser.add_argument("--cold-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_child(list(zip(args.csv, args.rows, strict=True)), args.db, args.reference)
        return
    if args.trusts < 1 or args.years < 1 or args.repeat < 1:
        parser.error("--trusts, --years and --repeat must be at least 1")
    load_before = os.getloadavg()[0]

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    reference_dir = OUTPUT_DIR / "reference"
    prefix = f"sitrep_national_{args.trusts}x{args.years}y"  # one file a year: <prefix>_000.csv, ...
    tiny_csv = OUTPUT_DIR / "warmup_tiny.csv"
    dbs = {name: OUTPUT_DIR / f"{name}.duckdb" for name in ("baseline", "ingest_cold", "ingest_warm",
                                                            "warmup_tiny")}
    for db in dbs.values():
        remove_db(db)

    codes = trust_codes(args.trusts)
    use_reference_dir(reference_dir)
    write_reference(reference_dir, codes)

    import duckdb  # noqa: PLC0415 (timed: imports count in the cold run)
    import polars as pl  # noqa: PLC0415 (timed: imports count in the cold run)

    from pipelines.ingest.load import ingest_paths  # noqa: PLC0415  (imports the pipeline; GE stays lazy)

    today = date.today()
    last_day = min(LAST_DAY, today - timedelta(days=1))
    days = 365 * args.years
    cores = os.cpu_count()
    print(f"Ingest benchmark: {args.trusts} trusts x {days:,} days ({args.years} years to {last_day:%d/%m/%Y}), "
          f"{cores} cores, Python {sys.version.split()[0]}, polars {pl.__version__}, duckdb {duckdb.__version__}")

    # 1. Generate ----------------------------------------------------------------------------
    t0 = time.perf_counter()
    frame = generate_frame(codes, days, last_day)
    files = write_year_files(frame, OUTPUT_DIR, prefix)
    t_generate = time.perf_counter() - t0
    rows = frame.height
    frame.head(2).write_csv(tiny_csv)
    del frame
    csvs = [csv for csv, _ in files]
    csv_bytes = sum(csv.stat().st_size for csv in csvs)
    print(f"\n[1] generated {rows:,} rows -> {len(files)} files {OUTPUT_DIR.relative_to(REPO_ROOT)}/{prefix}_*.csv "
          f"({', '.join(f'{n:,}' for _, n in files)} rows; {mib(csv_bytes)}) in {secs(t_generate)}")

    # 2a. Baseline: bare read + DuckDB table from the frame in a fresh file ------------------
    # A first, untimed pass on the tiny file loads what DuckDB needs to scan a Polars frame
    # (pyarrow), so the baseline is as warm as the warm ingest it is compared with.
    baseline_once([tiny_csv], dbs["baseline"], pl, duckdb)
    samples = [baseline_once(csvs, dbs["baseline"], pl, duckdb) for _ in range(args.repeat)]
    base_read, base_insert, base_total = min(samples, key=lambda s: s[2])
    base_size = dbs["baseline"].stat().st_size
    print(f"[2a] baseline: polars.read_csv x {len(csvs)} {secs(base_read)} + DuckDB create table {secs(base_insert)} "
          f"= {secs(base_total)}{spread([s[2] for s in samples])}")

    # 2b cold: full ingest in a fresh interpreter, paired with the baseline in one ---------------
    print("[2b] cold full ingest and cold baseline, each in a fresh subprocess, paired ...", flush=True)
    cold_runs, cold_bases = [], []
    for _ in range(args.repeat):
        cold_bases.append(run_cold_baseline(csvs, dbs["baseline"]))
        cold_runs.append(run_cold(files, dbs["ingest_cold"], reference_dir))
    cold = min(cold_runs, key=lambda run: run["wall"])
    cold_base = min(cold_bases)
    cold_ratios = [run["wall"] / base for run, base in zip(cold_runs, cold_bases, strict=True)]
    cold_imports = cold["startup_imports"] + cold["import_pipeline"]
    print(f"     ingest_paths of {len(files)} files {secs(cold['ingest'])} (process: imports {secs(cold_imports)}, "
          f"wall incl. interpreter start {secs(cold['wall'])}{spread([r['wall'] for r in cold_runs])}); "
          f"bare read-and-create process {secs(cold_base)}{spread(cold_bases)}; paired ratios "
          f"{', '.join(f'{r:.2f}' for r in cold_ratios)}")

    # Warm-up in this process: the whole ingest once on a tiny file (the default contract engine) ---
    t0 = time.perf_counter()
    ingest_all([(tiny_csv, 2)], dbs["warmup_tiny"], "warm-up ingest")
    tiny_ingest = time.perf_counter() - t0
    print(f"[2b] warm-up: tiny 2-row ingest {secs(tiny_ingest)}")

    # 2b warm: full ingest, contract already used once in this process, each paired with a baseline -
    warm_samples, warm_ratios = [], []
    for _ in range(args.repeat):
        paired_base = baseline_once(csvs, dbs["baseline"], pl, duckdb)[2]
        remove_db(dbs["ingest_warm"])
        t0 = time.perf_counter()
        warm = list(ingest_paths(csvs, db=dbs["ingest_warm"]))
        warm_samples.append(time.perf_counter() - t0)
        warm_ratios.append(warm_samples[-1] / paired_base)
        check_outcomes(warm, files, "warm ingest")
    warm_total = min(warm_samples)
    warm_size = dbs["ingest_warm"].stat().st_size
    print(f"[2b] warm full ingest: ingest_paths of {len(files)} files {secs(warm_total)}{spread(warm_samples)} -> "
          f"{sum(o.rows_loaded for o in warm):,} rows loaded from {len(warm)} files, none rejected or warned; "
          f"paired ratios {', '.join(f'{r:.2f}' for r in warm_ratios)}")

    # 2b breakdown: the same steps called directly ----------------------------------------------
    runs = [run_breakdown(csvs, dbs["ingest_warm"], codes, today, rows, warm_total) for _ in range(args.repeat)]
    breakdown = {phase: min(run[phase] for run in runs) for phase in runs[0]}  # best of the runs, per phase
    print("[2b] breakdown: " + ", ".join(f"{k} {secs(v)}" for k, v in breakdown.items() if not k.startswith("  ")))

    # 3. Table ------------------------------------------------------------------------------------
    ratio, cold_ratio = statistics.median(warm_ratios), statistics.median(cold_ratios)
    ratio_ok, time_ok, cold_ok = ratio <= TARGET_RATIO, warm_total < TARGET_SECONDS, cold_ratio <= TARGET_COLD_RATIO
    table: list[tuple[str, str, str]] = [
        ("Data", "", ""),
        ("rows (trusts x days)", f"{rows:,}", f"{args.trusts} x {days:,}"),
        ("CSV size", mib(csv_bytes), f"{len(files)} files, one a year; ISO dates, trust-level rows"),
        ("generation", secs(t_generate), "numpy + polars write_csv"),
        ("(a) Baseline", "", ""),
        ("polars.read_csv", secs(base_read), f"each of the {len(files)} files, concatenated"),
        ("DuckDB CREATE TABLE AS frame", secs(base_insert), "fresh file, incl. checkpoint + close"),
        ("baseline total (a)", secs(base_total), rate(rows, base_total) + f"; best of {args.repeat}"),
        ("baseline DB size", mib(base_size), "one table, no provenance"),
        (f"(b) Full ingest: one ingest_paths call, {len(files)} files", "", ""),
        ("cold: ingest_paths call", secs(cold["ingest"]),
         rate(rows, cold["ingest"]) + "; fresh process, all imports inside"),
        ("cold: process imports", secs(cold["startup_imports"] + cold["import_pipeline"]),
         "polars, duckdb, pipelines (before the call)"),
        ("cold: subprocess wall", secs(cold["wall"]), "interpreter start + imports + ingest"),
        ("cold: peak RSS (subprocess)", mib(cold["peak_rss"]), "the ingest alone"),
        ("cold baseline: subprocess wall", secs(cold_base),
         f"bare read-and-create, fresh process; best of {args.repeat}"),
        ("warm: ingest_paths (b)", secs(warm_total),
         rate(rows, warm_total) + f"; contract already ran once; best of {args.repeat}"),
        ("warm: DB size", mib(warm_size), "history + current + provenance"),
        (f"(b) Breakdown (direct calls, best of {args.repeat} per phase)", "", ""),
        *[(k, secs(v), f"{100 * v / sum(x for n, x in breakdown.items() if not n.startswith('  ')):.0f}%"
           if not k.startswith("  ") else "") for k, v in breakdown.items()],
        ("(c) Targets", "", ""),
        ("ratio b/a (median of paired runs)", f"{ratio:.1f}x",
         f"best b / best a {warm_total / base_total:.1f}x; "
         f"target <= {TARGET_RATIO:g}x: {'MET' if ratio_ok else 'NOT MET'}"),
        ("b under 5 s", secs(warm_total), f"target < {TARGET_SECONDS:.0f} s: {'MET' if time_ok else 'NOT MET'}"),
        ("ratio cold/cold baseline (median of paired)", f"{cold_ratio:.1f}x",
         f"whole fresh processes; best / best {cold['wall'] / cold_base:.1f}x; "
         f"target <= {TARGET_COLD_RATIO:g}x: {'MET' if cold_ok else 'NOT MET'}"),
        ("Machine", "", ""),
        ("CPU cores (os.cpu_count)", str(cores), ""),
        ("load average (1 min)", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}",
         "at start -> end; above the core count, other work skews the timings"),
        ("peak RSS (this process)", mib(peak_rss_bytes()), "generation + baseline + warm + breakdown"),
    ]
    print_table(table)
    print(f"TARGET national cold ingest within {TARGET_COLD_RATIO:g}x bare read-and-create (fresh processes): "
          f"{cold_ratio:.1f}x median of {args.repeat} pairs (best {cold['wall']:.2f} s vs {cold_base:.2f} s): "
          f"{'met' if cold_ok else 'NOT MET'}")
    print(f"TARGET national warm ingest within {TARGET_RATIO:g}x bare read-and-create: "
          f"{ratio:.1f}x median of {args.repeat} pairs (best {warm_total:.2f} s vs {base_total:.2f} s): "
          f"{'met' if ratio_ok else 'NOT MET'}")
    print(f"FIGURE national ingest peak memory (cold process): {cold['peak_rss'] / 2**20:,.0f} MiB")

    if args.keep:
        print(f"\nkept: {OUTPUT_DIR.relative_to(REPO_ROOT)}/ (CSVs, databases, reference/)")
    else:
        for db in dbs.values():
            remove_db(db)
        for path in (*csvs, tiny_csv):
            path.unlink(missing_ok=True)
        shutil.rmtree(reference_dir, ignore_errors=True)


def run_breakdown(csvs: list[Path], db: Path, codes: list[str], today: date, rows: int,
                  warm_total: float) -> dict[str, float]:
    """Read and contract timed by calling them directly on each file in turn (summed); the load (with
    provenance, history and the derived tables) is the warm ingest's remainder, of which an empty
    write session on the loaded database (lock, copy, checkpoint, swap) and the derived tables' full
    build (weekly parts and the SPC readings of every series, as a first load builds them) are timed too."""
    from pipelines.ingest.contract import validate  # noqa: PLC0415 (timed: imports count in the cold run)
    from pipelines.ingest.readers import read_sitrep  # noqa: PLC0415 (timed: imports count in the cold run)
    from pipelines.spc.store import refresh_spc  # noqa: PLC0415 (timed: imports count in the cold run)
    from pipelines.warehouse import open_for_write  # noqa: PLC0415 (timed: imports count in the cold run)
    from pipelines.warehouse.derived import rebuild_weekly_parts  # noqa: PLC0415 (timed: imports count in the cold run)

    read_s = contract_s = 0.0
    for csv in csvs:
        t0 = time.perf_counter()
        read = read_sitrep(csv.name, csv.read_bytes())
        t1 = time.perf_counter()
        issues = validate(read.frame, read.issues, codes, today)
        t2 = time.perf_counter()
        read_s, contract_s = read_s + t1 - t0, contract_s + t2 - t1
        if issues.height:
            raise SystemExit(f"breakdown: the contract found issues in generated data ({csv.name}):\n  "
                             + "\n  ".join(issues.get_column("message").head(5).to_list()))
    if duckdb_count(db) != rows:
        raise SystemExit(f"breakdown: expected {rows:,} rows in {db.name}")
    t3 = time.perf_counter()
    with open_for_write(db):
        pass
    t4 = time.perf_counter()
    with open_for_write(db) as con:
        t5 = time.perf_counter()
        rebuild_weekly_parts(con)
        t6 = time.perf_counter()
        refresh_spc(con)
        t7 = time.perf_counter()
    return {"read (read_bytes + read_sitrep)": read_s, "contract (contract.validate)": contract_s,
            "load (warm ingest - read - contract)": max(warm_total - read_s - contract_s, 0.0),
            "  of which a write session's fixed cost": t4 - t3,
            "  of which weekly parts, full build": t6 - t5,
            "  of which SPC of every series": t7 - t6}


def duckdb_count(db: Path) -> int:
    import duckdb  # noqa: PLC0415 (timed: imports count in the cold run)

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM sitrep_daily").fetchall()[0][0]
    finally:
        con.close()


def print_table(table: list[tuple[str, str, str]]) -> None:
    width = max(len(label) for label, value, _ in table if value) + 2  # section titles do not count
    value_width = max(len(value) for _, value, _ in table) + 2
    rule = "-" * (width + value_width + 44)
    print("\n" + rule)
    for i, (label, value, note) in enumerate(table):
        if not value and not note:
            print(("" if i == 0 else "\n") + label)
            continue
        print(f"  {label:<{width}}{value:>{value_width}}   {note}")
    print(rule)


if __name__ == "__main__":
    main()
