"""Daily-load benchmark: one day for N trusts into a national database, against a bare copy-and-append.

Run from anywhere:  python benchmarks/daily_load.py [--trusts 140] [--years 7] [--scales 1 8] [--repeat 3]

For each history scale (1x = --years of daily history, 8x = eight times as many days):
1. builds the national database once (synthetic rows of benchmarks/national_data.py put straight into
   the warehouse, derived tables built in full), and writes the next day's file as a CSV;
2. times, each in a fresh process on a fresh copy of that database, --repeat rounds of the three runs
   below one after the other (paired: a busy machine slows a round's runs alike), reporting medians:
   (a) the baseline: copy the database file, read the day's CSV with Polars, append it to
       ``sitrep_daily``, checkpoint, rename the copy over the original;
   (b) the project's daily load, ``pipelines.ingest.load.ingest_paths`` (reader, contract, ledger,
       history, supersede, incremental refresh of weekly parts and SPC, generations, swap), with the
       pipeline and Great Expectations imported before the clock starts ("load"), and the process
       as a whole including those imports ("process");
3. prints wall times, (b)/(a), and each process's peak RSS, against the targets: within 2x the
   baseline, under 1 s, under 400 MiB, flat as history grows.

A script, not a test: nothing here is asserted except that the day's rows all load cleanly.
Generated files go to benchmarks/output/daily/ and are deleted unless --keep is given.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from national_data import LAST_DAY, generate_frame, trust_codes, use_reference_dir, write_reference  # noqa: E402

OUTPUT = REPO_ROOT / "benchmarks" / "output" / "daily"
TARGET_RATIO, TARGET_S, TARGET_MIB = 2.0, 1.0, 400
TARGET_FLAT = 1.25  # "flat": the load's own work on the largest history within this factor of the smallest's


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(db: Path, codes: list[str], days: int) -> None:
    """The national history as an ingest would leave it, without paying for the ingest."""
    import polars as pl  # noqa: PLC0415 (each child process measures its own imports)

    from pipelines.spc.store import refresh_derived  # noqa: PLC0415 (each child process measures its own imports)
    from pipelines.warehouse import open_for_write  # noqa: PLC0415 (each child process measures its own imports)
    from pipelines.warehouse.reference import reload_reference  # noqa: PLC0415 (each child process measures its own imports)

    history = generate_frame(codes, days, LAST_DAY - timedelta(days=1)).with_columns(
        file_id=pl.lit(1), source=pl.lit("trust_sitrep"), source_file=pl.lit("history.csv"),
        source_row=pl.int_range(2, pl.len() + 2), loaded_at=pl.datetime(2026, 3, 30))
    with open_for_write(db) as con:
        reload_reference(con)
        con.register("history", history)
        con.execute("INSERT INTO sitrep_daily BY NAME SELECT * FROM history")
        con.execute("INSERT INTO sitrep_history BY NAME SELECT * EXCLUDE (source_file, loaded_at) FROM history")
        con.execute("INSERT INTO ingest_files VALUES (1, 'history.csv', NULL, 'x', 0, TIMESTAMP '2026-03-30', "
                    "'benchmark', 'loaded', ?, ?, 0, 0, 0, NULL)", [history.height, history.height])
        refresh_derived(con, None)


def child_baseline(db: Path, csv: Path) -> dict:
    import os  # noqa: PLC0415 (each child process measures its own imports)

    import duckdb  # noqa: PLC0415 (each child process measures its own imports)
    import polars as pl  # noqa: PLC0415 (each child process measures its own imports)

    started, cpu = time.perf_counter(), time.process_time()
    work = db.with_name(db.name + ".writing")
    shutil.copyfile(db, work)
    day = pl.read_csv(csv, try_parse_dates=True)
    con = duckdb.connect(str(work))
    con.register("day", day)
    con.execute("INSERT INTO sitrep_daily BY NAME SELECT *, 'trust_sitrep' AS source, 2 AS file_id, "
                "'day.csv' AS source_file, 2 AS source_row, now() AS loaded_at FROM day")
    con.execute("CHECKPOINT")
    con.close()
    os.replace(work, db)
    return {"load": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def child_ingest(db: Path, csv: Path, rows: int, contract: bool = True) -> dict:
    import pipelines.ingest.contract  # the contract (default engine: the suite compiled to Polars)  # noqa: PLC0415 (each child process measures its own imports)
    from pipelines.ingest.load import ingest_paths  # noqa: PLC0415 (each child process measures its own imports)

    if not contract:  # the write path alone: what the contract checks is measured by benchmark.py
        import polars as pl  # noqa: PLC0415 (each child process measures its own imports)

        from pipelines.catalogue.issues import ISSUE_SCHEMA  # noqa: PLC0415 (each child process measures its own imports)
        pipelines.ingest.contract.validate = lambda *_args, **_kwargs: pl.DataFrame(schema=ISSUE_SCHEMA)

    started, cpu = time.perf_counter(), time.process_time()
    [outcome] = list(ingest_paths([csv], db))
    if outcome.status != "loaded" or outcome.rows_loaded != rows:
        raise SystemExit(f"the day did not load cleanly: {outcome.summary()}")
    return {"load": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def run_child(kind: str, pristine: Path, work_db: Path, csv: Path, rows: int, reference: Path) -> dict:
    for leftover in work_db.parent.glob(work_db.name + "*"):
        leftover.unlink()
    shutil.copyfile(pristine, work_db)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--db", str(work_db), "--csv", str(csv),
                           "--rows", str(rows), "--reference", str(reference)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{kind} child failed:\n{done.stderr}")
    return {**json.loads(done.stdout.splitlines()[-1]), "process": time.perf_counter() - started}


def main() -> None:  # noqa: PLR0915  (the whole benchmark run in the order the docstring gives)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=140)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", choices=["baseline", "ingest", "write"])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--reference", type=Path)
    args = parser.parse_args()
    if args.child:
        use_reference_dir(args.reference)
        result = child_baseline(args.db, args.csv) if args.child == "baseline" else \
            child_ingest(args.db, args.csv, args.rows, contract=args.child == "ingest")
        print(json.dumps({**result, "peak_mib": peak_mib()}))
        return

    OUTPUT.mkdir(parents=True, exist_ok=True)
    codes = trust_codes(args.trusts)
    reference = OUTPUT / "reference"
    write_reference(reference, codes)
    use_reference_dir(reference)
    csv = OUTPUT / "day.csv"
    generate_frame(codes, 1, LAST_DAY).write_csv(csv, date_format="%Y-%m-%d")
    load_before = os.getloadavg()[0]
    print(f"Daily load: one day ({args.trusts} trusts, {LAST_DAY:%d/%m/%Y}) into {args.years}-year history x "
          f"{args.scales}; median of {args.repeat} rounds of fresh processes (baseline, write path, daily load "
          f"in turn); {os.cpu_count()} cores, load average {load_before:.2f}")
    print(f"{'history':>8} {'rows':>10} {'db MiB':>6} | {'run':<26} {'wall s':>7} {'cpu s':>6} {'process s':>9} "
          f"{'MiB':>5} | {'wall/base':>9} {'cpu/base':>8}")
    daily: dict[int, tuple[dict, dict]] = {}  # scale -> (the daily load, its baseline)
    for scale in args.scales:
        days = 365 * args.years * scale
        pristine = OUTPUT / f"national_{scale}x.duckdb"
        if not pristine.exists():
            build(pristine, codes, days)
        work_db = OUTPUT / "work" / "flow.duckdb"
        work_db.parent.mkdir(exist_ok=True)
        rounds = [{kind: run_child(kind, pristine, work_db, csv, args.trusts, reference)
                   for kind in ("baseline", "write", "ingest")} for _ in range(args.repeat)]
        runs = {kind: {key: statistics.median(r[kind][key] for r in rounds) for key in rounds[0][kind]}
                for kind in ("baseline", "write", "ingest")}
        base = runs["baseline"]
        daily[scale] = (runs["ingest"], base)
        for kind, label in (("baseline", "baseline: copy+append+swap"), ("write", "write path (no contract)"),
                            ("ingest", "daily load (with contract)")):
            run = runs[kind]
            print(f"{f'{scale}x':>8} {days * args.trusts:>10,} {pristine.stat().st_size / 2**20:>6.1f} | "
                  f"{label:<26} {run['load']:>7.3f} {run['cpu']:>6.3f} {run['process']:>9.3f} "
                  f"{run['peak_mib']:>5.0f} | "
                  f"{run['load'] / base['load']:>8.1f}x {run['cpu'] / base['cpu']:>7.1f}x")
    print("wall s / cpu s: wall and CPU time (all threads) of the load, imports excluded; process s: the "
          "whole process, imports included; MiB: the process's peak RSS (VmHWM); each the median of the rounds")
    print(f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"targets: load within {TARGET_RATIO:.0f}x the baseline, under {TARGET_S:.0f} s, "
          f"under {TARGET_MIB} MiB, flat as history grows")
    for scale, (run, base) in daily.items():
        ratio = run["load"] / base["load"]
        print(f"TARGET daily load {scale}x within {TARGET_RATIO:g}x bare copy-and-append (imports excluded): "
              f"{ratio:.1f}x ({run['load']:.2f} s vs {base['load']:.2f} s): {verdict(ratio <= TARGET_RATIO)}")
        print(f"TARGET daily load {scale}x under {TARGET_S:g} s wall (whole process): "
              f"{run['process']:.2f} s: {verdict(run['process'] < TARGET_S)}")
        print(f"TARGET daily load {scale}x under {TARGET_MIB} MiB peak: {run['peak_mib']:.0f} MiB: "
              f"{verdict(run['peak_mib'] < TARGET_MIB)}")
    if len(daily) > 1:
        smallest, largest = min(daily), max(daily)
        (big, big_base), (small, small_base) = daily[largest], daily[smallest]
        # The copy of the live file (write-then-swap, which issue 11 says to keep) grows with the file
        # in the bare baseline too; "flat" is judged on the load's own work beyond that copy-and-append.
        own_work = {scale: run["load"] - base["load"] for scale, (run, base) in daily.items()}
        growth = own_work[largest] / own_work[smallest] if own_work[smallest] > 0 else float("inf")
        print(f"daily load {largest}x vs {smallest}x history: {big['load'] / small['load']:.2f}x wall in all, "
              f"of which the bare copy-and-append {big_base['load'] / small_base['load']:.2f}x")
        print(f"TARGET daily load flat as history grows (its work beyond the bare copy-and-append, {largest}x vs "
              f"{smallest}x, within {TARGET_FLAT:g}x): {own_work[largest]:.3f} s vs {own_work[smallest]:.3f} s, "
              f"{growth:.2f}x: {verdict(growth <= TARGET_FLAT)}")
    if not args.keep:
        shutil.rmtree(OUTPUT)


if __name__ == "__main__":
    main()
