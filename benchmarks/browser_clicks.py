"""Clicks between pages in one tab (issue 24): in headless Chromium, on national-scale data, each click
on the navigation from one of the dashboard's pages to the next, beside the same clicks in a trivial
five-page ``st.navigation`` app measured in the same rounds.

A script, not a test. It builds (or reuses, with --keep) the pages benchmark's database of 140 synthetic
trusts x 7 years (pages_benchmark.build_database) and serves, side by side with ``streamlit run``, the
dashboard and a trivial app generated into benchmarks/output/: the dashboard's five page titles across
the top, each page one line of text (the yardstick: what a click between pages costs any Streamlit app
on this machine at this moment). Each app is opened once in a tab of its own (1366x768), which stays
open; a round then clicks, in that tab, from the weekly page to the trust drill-down, OPEL levels, the
weekly narrative, data quality and back to the weekly page, first in the trivial app, then in the
dashboard. Each click is timed inside the page (``performance.now()``): from the link's click until the
page's first screen is complete, checked on every animation frame: its main content visible (the
selectors of browser_pages.py; no page has another's, so what is visible was drawn by the run the click
started), the script no longer running (``data-test-script-state``) and no skeleton left. Round 1 is
each page's first click after the server started (its queries not yet cached) and is reported on its
own; the target takes the further rounds (--repeat): per page, the median over those rounds of
(dashboard click / trivial app click of the same round). Target: every click at most 3x the trivial app's.

    python benchmarks/browser_clicks.py [--trusts N] [--years N] [--repeat N] [--keep]
"""
from __future__ import annotations

import os
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from browser_pages import CHROMIUM, CHROMIUM_ARGS, national_database, national_flags, served  # noqa: E402
from run_all import target_line  # noqa: E402

# The clicks of a round, in order from the weekly page (each page's title in the navigation, and what
# marks its main content as shown, as in browser_pages.py); the drill-down opens on its default trust.
CLICKS = (("Trust drill-down", "ul.tiles"), ("OPEL levels", "table.og"),
          ("Weekly narrative", "textarea"),
          ("Data quality and upload", '[data-testid="stTabPanel"] [data-testid="stExpander"]'),
          ("Weekly position", "table.wt"))
TRIVIAL_LINE = "Trivial page:"
TRIVIAL_APP = f'''"""The yardstick of benchmarks/browser_clicks.py: the dashboard's five page titles, one line each."""
import streamlit as st


def page(title):
    def draw():
        st.write("{TRIVIAL_LINE} " + title)
    return draw


st.set_page_config(layout="wide")
PAGES = [st.Page(page(title), title=title, url_path=path, default=path == "weekly") for title, path in (
    ("Weekly position", "weekly"), ("Trust drill-down", "trust"), ("OPEL levels", "opel"),
    ("Weekly narrative", "narrative"), ("Data quality and upload", "data-quality"))]
st.navigation(PAGES, position="top").run()
'''
TRIVIAL_CONTENT = '[data-testid="stMarkdownContainer"]'
TARGET_RATIO = 3.0
FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'

# Clicks the navigation link titled ``title`` and notes, on every animation frame until done
# (performance.now(), milliseconds): the click, the page's content first visible (an element of
# ``content``, holding ``text`` if given, of non-zero size and not hidden), and the first frame from then
# on when the script is not running and no skeleton is shown. No page has another's content, so what is
# visible was drawn by the run the click started; that the run was seen "running" is not required, as
# React may draw a quick run's start and end in one go (the trivial app's OPEL page never showed it).
CLICK = """([title, content, text]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const seen = window.__click = {};
  const shown = () => [...document.querySelectorAll(content)].some(el => {
    if (text && !el.textContent.includes(text)) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  });
  const skeleton = '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]';
  const frame = () => {
    const now = performance.now();
    if (seen.visible === undefined && shown()) seen.visible = now;
    if (seen.visible !== undefined && app.getAttribute("data-test-script-state") === "notRunning"
        && !document.querySelector(skeleton)) {
      seen.done = now;
      return;
    }
    requestAnimationFrame(frame);
  };
  const link = [...document.querySelectorAll('[data-testid="stTopNavLink"]')]
    .find(a => a.textContent.includes(title));
  if (!link) throw new Error("no navigation link " + title);
  seen.start = performance.now();
  link.click();
  requestAnimationFrame(frame);
}"""


def open_tab(browser, url: str, ready: str):  # noqa: ANN001, ANN201 - Playwright's Browser and Page
    """A tab of its own at 1366x768 on ``url``, once ``ready`` is visible and the script has finished."""
    tab = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    tab.goto(url)
    tab.locator(ready).first.wait_for(state="visible", timeout=180_000)
    tab.wait_for_selector(FINISHED, timeout=180_000)
    return tab


def click(tab, title: str, content: str, text: str | None) -> dict[str, float]:  # noqa: ANN001 - Playwright's Page
    """Seconds from clicking ``title`` in the navigation until its content is visible ("visible") and its
    first screen complete ("done")."""
    tab.evaluate(CLICK, [title, content, text])
    seen = tab.wait_for_function("() => window.__click && window.__click.done !== undefined && window.__click",
                                 timeout=180_000).json_value()
    return {"visible": (seen["visible"] - seen["start"]) / 1000, "done": (seen["done"] - seen["start"]) / 1000}


def main() -> None:
    args = national_flags(__doc__, 5, "rounds after the first; medians are reported").parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (lazy: Playwright only when run)

    db = national_database(args.trusts, args.years)
    trivial_app = HERE / "output" / "trivial_multipage_app.py"
    trivial_app.write_text(TRIVIAL_APP)

    load_before = os.getloadavg()
    rounds: list[dict[str, dict[str, dict[str, float]]]] = []
    with sync_playwright() as playwright, ExitStack() as servers:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        trivial = open_tab(browser, servers.enter_context(served(trivial_app, db))[0],
                           f"{TRIVIAL_CONTENT} >> text={TRIVIAL_LINE}")
        dashboard = open_tab(browser, servers.enter_context(served(ROOT / "dashboard.py", db))[0], "table.wt")
        for _ in range(1 + args.repeat):
            rounds.append({
                "trivial": {title: click(trivial, title, TRIVIAL_CONTENT, f"{TRIVIAL_LINE} {title}")
                            for title, _content in CLICKS},
                "dashboard": {title: click(dashboard, title, content, None) for title, content in CLICKS}})
            last = rounds[-1]
            print(f"round {len(rounds)}, dashboard / trivial app: " + ", ".join(
                f"{title} {last['dashboard'][title]['done']:.2f} s / {last['trivial'][title]['done']:.2f} s"
                for title, _ in CLICKS) + f" (load average {os.getloadavg()[0]:.2f})", flush=True)
        browser.close()
    load_after = os.getloadavg()

    later = rounds[1:]

    def median(app: str, title: str, key: str = "done") -> float:
        return statistics.median(r[app][title][key] for r in later)

    def ratio(title: str) -> float:
        return statistics.median(r["dashboard"][title]["done"] / r["trivial"][title]["done"] for r in later)

    print(f"\n{args.trusts} trusts x {args.years} years, Chromium at 1366x768, one tab per app, {os.cpu_count()} "
          f"cores, load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end; medians of "
          f"{args.repeat} rounds after the first")
    print(f"{'click to':<26}{'first':>8}{'visible':>9}{'done':>8}{'trivial':>9}{'ratio':>8}"
          f"   target: at most {TARGET_RATIO:g}x the trivial app's")
    for title, _content in CLICKS:
        print(f"{title:<26}{rounds[0]['dashboard'][title]['done']:>7.2f}s{median('dashboard', title, 'visible'):>8.2f}s"
              f"{median('dashboard', title):>7.2f}s{median('trivial', title):>8.2f}s{ratio(title):>7.2f}x")
    for title, _content in CLICKS:
        print(target_line(f"click to {title} in one tab at most {TARGET_RATIO:g}x the trivial multipage app's",
                          f"{ratio(title):.2f}x", ratio(title) <= TARGET_RATIO))
    print(f"FIGURE click in one tab in the trivial multipage app (median of every page): "
          f"{statistics.median(r['trivial'][t]['done'] for r in later for t, _ in CLICKS):.2f} s")
    if not args.keep:
        db.unlink()


if __name__ == "__main__":
    main()
