"""First start benchmark (issue 11): a newcomer's ``streamlit run dashboard.py`` with no database,
until the home page's weekly table is shown in a browser.

Run from anywhere:  python benchmarks/first_start.py [--repeat 3]

Each run uses a fresh FLOW_DB path (no database), so the server builds the database from the bundled
sample data as it starts (``ensure_database``, from dashboard.py's ``st.App`` lifespan) and the first page
view waits for it before the weekly table is drawn. Headless Chromium
is started before the clock (a newcomer's browser is already open); the clock starts when
``streamlit run`` is launched and the run prints:
  * server healthy: /_stcore/health answers "ok" (the page is then requested at once);
  * database built: the database file exists (the sample build has been swapped in);
  * home page shown: the weekly table (``table.wt``) is visible and the script has finished.
It also times the sample build alone, ``ensure_database()`` in a fresh ``python -c`` process
(interpreter start and imports included), and, paired in the same round, the floor no app can go
below: a one-line Streamlit script (``st.write``) from ``streamlit run`` to its text shown, in the
same browser. Target (issue 24): home page shown at most 2x the one-line app, as the median of each
round's ratio. Median of --repeat rounds (each also printed).
A script, not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from browser_pages import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the same browser)
from streamlit_server import free_port, healthy, streamlit_command  # noqa: E402  (the same server command)

TARGET_RATIO = 2.0  # issue 24: at most twice the one-line app's first start, in the same rounds
TIMEOUT_S = 180


TRIVIAL_APP = 'import streamlit as st\n\nst.write("A one-line Streamlit app.")\n'


def first_start(browser, workdir: Path, trivial: bool = False) -> dict[str, float]:
    """Seconds from ``streamlit run`` to health, database file and weekly table, on a fresh FLOW_DB;
    with ``trivial``, from ``streamlit run`` of a one-line script to its text shown."""
    db = workdir / "flow.duckdb"
    script = "dashboard.py"
    if trivial:
        script = str(workdir / "trivial.py")
        Path(script).write_text(TRIVIAL_APP, encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    times: dict[str, float] = {}
    start = time.perf_counter()
    server = subprocess.Popen(streamlit_command(script, port), cwd=ROOT, env={**os.environ, "FLOW_DB": str(db)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watching = threading.Event()

    def watch_db() -> None:  # the moment the built database appears
        while not watching.is_set():
            if db.exists():
                times["database built"] = time.perf_counter() - start
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_db, daemon=True)
    watcher.start()
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        while not healthy(url):
            if server.poll() is not None or time.perf_counter() - start > TIMEOUT_S:
                raise SystemExit("streamlit did not start")
            time.sleep(0.05)
        times["server healthy"] = time.perf_counter() - start
        page = context.new_page()
        page.goto(url, timeout=TIMEOUT_S * 1000)
        shown = page.get_by_text("A one-line Streamlit app.") if trivial else page.locator("table.wt").first
        shown.wait_for(state="visible", timeout=TIMEOUT_S * 1000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_S * 1000)
        times["one-line app shown" if trivial else "home page shown"] = time.perf_counter() - start
    finally:
        watching.set()
        context.close()
        server.terminate()
        server.wait(timeout=20)
    return times


def sample_build_alone(workdir: Path) -> float:
    """Wall seconds of ``ensure_database()`` in a fresh process (imports included), on a fresh path."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from pipelines.ingest.load import ensure_database; ensure_database()"],
                   cwd=ROOT, env={**os.environ, "FLOW_DB": str(workdir / "alone.duckdb")}, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each; the median is reported")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    runs: list[dict[str, float]] = []
    trivial: list[float] = []
    alone: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for number in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="first_start") as work:
                trivial.append(first_start(browser, Path(work), trivial=True)["one-line app shown"])
                runs.append(first_start(browser, Path(work)))
                alone.append(sample_build_alone(Path(work)))
            print(f"run {number + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in runs[-1].items())
                  + f"; one-line app shown {trivial[-1]:.2f} s; ensure_database() alone {alone[-1]:.2f} s"
                  + f" (load average {os.getloadavg()[0]:.2f})", flush=True)
        browser.close()

    print(f"\nfirst start, median of {args.repeat}; {os.cpu_count()} cores, "
          f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
    for step in ("server healthy", "database built", "home page shown"):
        print(f"  {step:<36}{statistics.median(r[step] for r in runs):>7.2f} s")
    print(f"  {'one-line Streamlit app shown':<36}{statistics.median(trivial):>7.2f} s")
    print(f"  {'ensure_database() alone (process)':<36}{statistics.median(alone):>7.2f} s")
    # Paired rounds: each round's ratio to the one-line app started just before it, then their median.
    ratio = statistics.median(r["home page shown"] / t for r, t in zip(runs, trivial, strict=True))
    print(f"TARGET first start at most {TARGET_RATIO:g}x the one-line app's: {ratio:.2f}x: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT MET'}")


if __name__ == "__main__":
    main()
