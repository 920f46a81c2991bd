"""The first visit after a load (issue 24): a daily file is loaded by the command line into the database
of a running dashboard, then the weekly, trust drill-down and OPEL pages are opened in new tabs, each
first visit (the new file's data: nothing of it cached by any visit) paired with a warm visit of the
same page just after it.

A script, not a test. It copies the pages benchmark's database of 140 synthetic trusts x 7 years
(pages_benchmark.build_database; built or reused, with --keep) into benchmarks/output/after_ingest/ and
serves the dashboard on the copy with ``streamlit run``; every page is visited once before the first
round (the server's own start). Each round (--repeat) then loads the next day for every trust (1 April
2026 onwards, after the history's last day: a day's file as trusts send it each morning) with
``python -m pipelines ingest FILE --db COPY`` (a whole process, as the morning's scheduled load runs),
waits --settle seconds after it returns (people open the dashboard after the morning's load, not in the
same second; the server notices a new file within a second), and visits each page twice in new
browser contexts, timed as browser_pages.py times a visit (main content visible and the script run
finished). A page's ratio is the median over the rounds of (first visit / warm visit of the same round).
Target: the first visit after a load at most 1.2x a warm visit.

    python benchmarks/after_ingest.py [--trusts N] [--years N] [--repeat N] [--settle S] [--keep]
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import browser_pages  # noqa: E402  (the same browser, visits and database)
import national_data  # noqa: E402  (the day's rows, as the history's)
from run_all import target_line  # noqa: E402  (the line the runner collects)

VISITED = ("Weekly position", "Trust drill-down, first screen (tiles)", "OPEL levels")
TARGET_RATIO = 1.2
OUTPUT = HERE / "output" / "after_ingest"


def ingest_next_day(db: Path, codes: list[str], number: int) -> float:
    """Load day ``number`` after the history (every trust's row) with the command line; its wall seconds."""
    day = national_data.LAST_DAY + timedelta(days=number)
    csv = OUTPUT / f"day_{day.isoformat()}.csv"
    national_data.generate_frame(codes, 1, day).write_csv(csv)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines", "ingest", str(csv), "--db", str(db)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = browser_pages.national_flags(__doc__, 3, "rounds (a load each); medians are reported")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds from the load's end to the first visit")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (lazy: Playwright only when run)

    pages_db = browser_pages.national_database(args.trusts, args.years)  # also points the loads at its synthetic trusts
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    db = OUTPUT / "flow.duckdb"
    shutil.copyfile(pages_db, db)
    codes = national_data.trust_codes(args.trusts)
    pages = [(name, path, selector) for name, path, selector, *_later in browser_pages.PAGES if name in VISITED]

    load_before = os.getloadavg()
    rounds: list[dict[str, dict[str, float]]] = []
    loads: list[float] = []
    with sync_playwright() as playwright, browser_pages.served(ROOT / "dashboard.py", db) as (url, _server):
        browser = playwright.chromium.launch(executable_path=browser_pages.CHROMIUM,
                                             args=browser_pages.CHROMIUM_ARGS)
        for _name, path, selector in pages:  # the server's own start, not any round's
            browser_pages.visit(browser, f"{url}/{path}", selector)
        for number in range(1, args.repeat + 1):
            loads.append(ingest_next_day(db, codes, number))
            time.sleep(args.settle)
            rounds.append({})
            for name, path, selector in pages:
                rounds[-1][f"{name}: first"] = browser_pages.visit(browser, f"{url}/{path}", selector)["total"]
                rounds[-1][f"{name}: warm"] = browser_pages.visit(browser, f"{url}/{path}", selector)["total"]
            print(f"round {number}: load {loads[-1]:.2f} s; " + ", ".join(
                f"{name} first {rounds[-1][name + ': first']:.2f} s, warm {rounds[-1][name + ': warm']:.2f} s"
                for name, _path, _selector in pages) + f" (load average {os.getloadavg()[0]:.2f})", flush=True)
        browser.close()
    load_after = os.getloadavg()

    def ratio(name: str) -> float:
        return statistics.median(r[f"{name}: first"] / r[f"{name}: warm"] for r in rounds)

    print(f"\n{args.trusts} trusts x {args.years} years, Chromium at 1366x768, {os.cpu_count()} cores, load average "
          f"{load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end; medians of {args.repeat} rounds, "
          f"first visit {args.settle:g} s after the load's command returned")
    print(f"{'page':<40}{'first':>8}{'warm':>8}{'ratio':>8}   target: first at most {TARGET_RATIO:g}x warm")
    for name, _path, _selector in pages:
        print(f"{name:<40}{statistics.median(r[name + ': first'] for r in rounds):>7.2f}s"
              f"{statistics.median(r[name + ': warm'] for r in rounds):>7.2f}s{ratio(name):>7.2f}x")
    for name, _path, _selector in pages:
        print(target_line(
            f"first visit of {name} {args.settle:g} s after a daily load at most {TARGET_RATIO:g}x a warm visit",
            f"{ratio(name):.2f}x", ratio(name) <= TARGET_RATIO))
    print(f"FIGURE daily load by the command line into the served database (median): "
          f"{statistics.median(loads):.2f} s")
    shutil.rmtree(OUTPUT)
    if not args.keep:
        pages_db.unlink()


if __name__ == "__main__":
    main()
