"""Page speed in a real browser: from navigation until each page's main content is visible, in
headless Chromium, on national-scale data, beside a one-line Streamlit page measured in the same run.

A script, not a test. It builds (or reuses, with --keep) the pages benchmark's database of 140
synthetic trusts x 7 years (pages_benchmark.build_database), serves the dashboard on it and a
one-line app (``st.write``) side by side with ``streamlit run``, and for every page times, in a new
browser tab each time, the first visit after the server started (cold: empty query cache) and the
next visit (warm: the cache filled, as for the second person to open the page). Each warm figure is
the best of --repeat visits. Target: every page within 1.5x of the trivial page, warm.

    python benchmarks/browser_pages.py [--trusts N] [--years N] [--repeat N] [--keep]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import pages_benchmark  # noqa: E402  (the national database)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# (page, address, what marks its main content as shown); the trust page opens the first synthetic trust.
PAGES = (("Weekly position", "", "table.wt"),
         ("Trust drill-down", "trust?trust=Z00", ".js-plotly-plot .main-svg"),
         ("OPEL levels", "opel", ".js-plotly-plot .main-svg"),
         ("Weekly narrative", "narrative", "textarea"),
         ("Data quality and upload", "data-quality", '[data-testid="stFileUploader"]'))
TRIVIAL = ('import streamlit as st\n\nst.write("Hello")\n', '[data-testid="stMarkdownContainer"] >> text=Hello')
TARGET_RATIO = 1.5
TARGET_SERVER_MIB = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_mib(pid: int) -> float:
    """A process's peak resident memory (VmHWM) so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def served(script: Path, db: Path) -> Iterator[tuple[str, int]]:
    """``streamlit run script`` on a free local port; yields its address and process id, stops it afterwards."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, "FLOW_DB": str(db)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"streamlit did not start for {script}")
            time.sleep(0.25)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def visit(browser, url: str, selector: str) -> float:
    """Seconds from navigation until ``selector`` is visible and the script run has finished."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.locator(selector).first.wait_for(state="visible", timeout=120_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    seconds = time.perf_counter() - start
    context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=140)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="warm visits per page; the best is reported")
    parser.add_argument("--keep", action="store_true", help="keep (and next time reuse) the generated database")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    (HERE / "output").mkdir(exist_ok=True)
    db = HERE / "output" / f"pages_{args.trusts}x{args.years}y.duckdb"
    pages_benchmark.build_database(db, args.trusts, args.years)
    trivial = HERE / "output" / "trivial_app.py"
    trivial.write_text(TRIVIAL[0])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with served(trivial, db) as (url, _):
            base_cold = visit(browser, url, TRIVIAL[1])
            base_warm = min(visit(browser, url, TRIVIAL[1]) for _ in range(args.repeat))
        rows = []
        with served(ROOT / "dashboard.py", db) as (url, server):
            visit(browser, url + "/opel", "h1")  # the server's own first start (imports), not any one page's
            for name, path, selector in PAGES:
                cold = visit(browser, f"{url}/{path}", selector)
                warm = min(visit(browser, f"{url}/{path}", selector) for _ in range(args.repeat))
                rows.append((name, cold, warm))
            server_peak = peak_mib(server)  # after every page, cold and warm
        browser.close()

    print(f"\n{args.trusts} trusts x {args.years} years, Chromium at 1366x768, {os.cpu_count()} cores")
    print(f"{'page':<26}{'cold':>8}{'warm':>8}{'warm / trivial':>16}   target: within {TARGET_RATIO:g}x, warm")
    print(f"{'one-line page (st.write)':<26}{base_cold:>7.2f}s{base_warm:>7.2f}s{1:>15.2f}x")
    for name, cold, warm in rows:
        ratio = warm / base_warm
        print(f"{name:<26}{cold:>7.2f}s{warm:>7.2f}s{ratio:>15.2f}x   {'met' if ratio <= TARGET_RATIO else 'NOT MET'}")
    for name, _cold, warm in rows:
        print(f"TARGET browser page {name} warm within {TARGET_RATIO:g}x a one-line page: {warm / base_warm:.2f}x: "
              f"{'met' if warm / base_warm <= TARGET_RATIO else 'NOT MET'}")
    print(f"TARGET dashboard server peak memory after visiting every page under {TARGET_SERVER_MIB} MiB: "
          f"{server_peak:,.0f} MiB: {'met' if server_peak < TARGET_SERVER_MIB else 'NOT MET'}")
    if not args.keep:
        db.unlink()


if __name__ == "__main__":
    main()
