"""Page speed on national-scale data: each page's full script run (AppTest), cold and warm.

A script, not a test. It builds (or reuses, with --keep) a database of 140 synthetic trusts
x 7 years with the ingest benchmark's generator (national_data.py), then for every page of the
dashboard runs the page script with Streamlit's AppTest twice in one process: cold (empty query
cache) and warm (the cache filled, as for the second person to open the page). Targets: every
page under 1 s warm and 3 s cold. Prints the peak memory of the page runs (the process's peak is
reset after the database is built, so the build does not count): what a server holds after every page.

    python benchmarks/pages_benchmark.py [--trusts N] [--years N] [--keep]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import benchmark as ingest_benchmark  # noqa: E402  (the ingest and its check)
import national_data  # noqa: E402  (the generator and reference writer)

PAGES = ("pages/weekly_position.py", "pages/trust.py", "pages/opel.py", "pages/narrative.py",
         "pages/data_quality.py")
TARGET_WARM, TARGET_COLD = 1.0, 3.0


def build_database(db: Path, trusts: int, years: int) -> None:
    """Generate the national history and load it through the real ingest (skipped if db exists): one file
    per year (``national_data.write_year_files``), all loaded by one ``ingest_paths`` call."""
    from pipelines.ingest.load import ingest_paths  # noqa: PLC0415 (lazy, as the ingest itself)

    reference = HERE / "output" / "reference"
    codes = national_data.trust_codes(trusts)
    national_data.write_reference(reference, codes)
    national_data.use_reference_dir(reference)
    if db.exists():
        print(f"reusing {db.relative_to(HERE.parent)}")
        return
    start = time.perf_counter()
    frame = national_data.generate_frame(codes, 365 * years, national_data.LAST_DAY)
    files = national_data.write_year_files(frame, HERE / "output", f"pages_{trusts}x{years}y")
    try:
        ingest_benchmark.check_outcomes(list(ingest_paths([csv for csv, _ in files], db=db)), files,
                                        "pages benchmark data")
    except SystemExit:
        db.unlink(missing_ok=True)  # never reused as if whole
        raise
    for csv, _ in files:
        csv.unlink()
    print(f"built {db.relative_to(HERE.parent)}: {frame.height:,} rows in {len(files)} files in "
          f"{time.perf_counter() - start:.1f} s")


def peak_mib() -> float:
    """This process's peak resident memory since the last reset (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_page(page: str) -> tuple[float, float]:
    """Seconds for a first (cold cache) and second (warm cache) full run of the page script."""
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415 (lazy: Streamlit only when a page is timed)

    runs = []
    for _ in range(2):
        app = AppTest.from_file(str(HERE.parent / page), default_timeout=120)
        start = time.perf_counter()
        app.run()
        runs.append(time.perf_counter() - start)
        if app.exception:
            raise SystemExit(f"{page} raised: {app.exception[0].message}")
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=140)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep (and next time reuse) the generated database")
    args = parser.parse_args()
    (HERE / "output").mkdir(exist_ok=True)
    db = HERE / "output" / f"pages_{args.trusts}x{args.years}y.duckdb"
    build_database(db, args.trusts, args.years)
    os.environ["FLOW_DB"] = str(db)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM): only the page runs count

    rows: list[tuple[str, float, float]] = []
    print(f"\n{'page':<28}{'cold':>9}{'warm':>9}   targets: cold < {TARGET_COLD:g} s, warm < {TARGET_WARM:g} s")
    for page in PAGES:
        cold, warm = time_page(page)
        rows.append((page, cold, warm))
        print(f"{page:<28}{cold:>8.2f}s{warm:>8.2f}s", flush=True)
    peak = peak_mib()
    print(f"\npeak memory of the page runs: {peak:,.0f} MiB; {os.cpu_count()} cores; "
          f"database {db.stat().st_size / 2**20:.1f} MiB")
    for page, cold, warm in rows:
        print(f"TARGET page script {page} (AppTest) under {TARGET_COLD:g} s cold and {TARGET_WARM:g} s warm: "
              f"{cold:.2f} s / {warm:.2f} s: {'met' if cold < TARGET_COLD and warm < TARGET_WARM else 'NOT MET'}")
    print(f"FIGURE page scripts peak memory after every page (AppTest, one process): {peak:,.0f} MiB")
    if not args.keep:
        db.unlink()


if __name__ == "__main__":
    main()
