"""Page speed in a real browser: from navigation until each page's main content is visible, in
headless Chromium, on national-scale data, beside a one-line Streamlit page measured in the same run.

A script, not a test. It builds (or reuses, with --keep) the pages benchmark's database of 140
synthetic trusts x 7 years (pages_benchmark.build_database) and serves, side by side with
``streamlit run``, the dashboard and three reference apps: a one-line page (``st.write``, no
navigation: the yardstick), the same line inside the dashboard's own shell (page settings, theme,
sign-in notice, ``st.navigation`` across the top), and the line with one small Plotly chart (what
loading plotly.js alone costs). Every visit is a new browser context (no HTTP cache: a new tab in a
fresh browser profile) and times the same two things, both inside the page on every animation frame
(``performance.now()``, from the navigation's start): the page's main-content selector visible and,
from then on, the script run finished. (Playwright's own wait for a selector polls at 0, 20, 70, 170
and 270 ms and then only every 500 ms, which rounded any time past the first 0.27 s after the page's
load event up to the next half second: unfair to whichever page landed just past a step.) Round 1 is
the first visit to each page after its server started (cold: empty query cache); each further round
(--repeat) visits every page once more in the same order (warm: as for the next person to open it),
so each page is paired with a one-line visit of its own round. A page's warm ratio is the median
over the rounds of (page / one-line page of that round). Target: every page within 1.5x of the
one-line page, warm; and the drill-down with its first Plotly chart drawn (the charts a user explores)
within 1.5x of the page with one small Plotly chart, warm, paired the same way (that page waits for
plotly.js, so it is judged against the page that does too; its ratio to the one-line page is printed
as a figure). Besides the five
pages as they open, it times the weekly table of a discharge group (3 synthetic ICBs, 12 trusts)
and the drill-down opened with its metric's day-by-day chart open (a link to that view: the drill-down's
Plotly charts are in sections closed until opened, so its first screen, timed on its own, has none).

Where the time goes, per page (medians of the warm visits): "server" from the browser's first
websocket message (the script-run request) to the last message it received (the script run,
its cache reads and sending its elements), "KB" received over the websocket (figures, tables,
HTML), and "browser" from that last message until the main content was visible (decoding, React,
sanitising HTML, plotly.js drawing, layout).

    python benchmarks/browser_pages.py [--trusts N] [--years N] [--repeat N] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import pages_benchmark  # noqa: E402  (the national database)
from run_all import target_line  # noqa: E402  (the line the runner collects)
from streamlit_server import peak_mib, served  # noqa: E402  (the servers under test)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# (page, address, what marks its main content as shown, and optionally a later milestone of the same
# visit, reported on a row of its own); the trust page opens the first synthetic trust.
PAGES = (("Weekly position", "", "table.wt"),
         # A discharge group's own view: about the 13 trusts of issue 12's meeting, rather than all of England.
         ("Weekly position, 3 ICBs (12 trusts)", "?" + "&".join(f"icb=NHS+Synthetic+Q0{n}+ICB" for n in range(3)),
          "table.wt"),
         # At 1366x768 the drill-down's first screen ends with its headline tiles. Its Plotly charts are in
         # sections below, each closed until opened; a link with one open (daily=true) opens it drawn.
         ("Trust drill-down, first screen (tiles)", "trust?trust=Z00", "ul.tiles"),
         ("Trust drill-down, a chart opened", "trust?trust=Z00&daily=true", ".js-plotly-plot .main-svg"),
         ("OPEL levels", "opel", "table.og"),  # the HTML grid of trusts by day (no Plotly on the page)
         ("Weekly narrative", "narrative", "textarea"),
         # The Upload tab's "Submit a file" box (its file box is drawn when opened); only this page has tabs.
         ("Data quality and upload", "data-quality", '[data-testid="stTabPanel"] [data-testid="stExpander"]'))
ONE_LINE = '[data-testid="stMarkdownContainer"] >> text=Hello'  # CSS >> text contained
# (name, app, selector): the yardstick first; the other two say how much of a page's time is the
# dashboard's shell and how much merely loading plotly.js (a Streamlit page with one small chart).
REFERENCES = (
    ("one-line page (st.write)", 'import streamlit as st\n\nst.write("Hello")\n', ONE_LINE),
    ("one line in the dashboard's shell", f"""import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from ui import auth
from ui.style import apply_theme


def one_line():
    st.write("Hello")


st.set_page_config(page_title="Discharge and flow", page_icon="🏥", layout="wide")
apply_theme()
PAGES = [st.Page(one_line, title="Weekly position", icon=":material/table_chart:", default=True)] + [
    st.Page(one_line, title=title, icon=icon, url_path=path) for title, icon, path in (
        ("Trust drill-down", ":material/monitoring:", "trust"), ("OPEL levels", ":material/grid_on:", "opel"),
        ("Weekly narrative", ":material/edit_note:", "narrative"),
        ("Data quality and upload", ":material/fact_check:", "data-quality"))]
auth.gate(PAGES)
st.navigation(PAGES, position="top").run()
""", ONE_LINE),
    ("one line and one small Plotly chart", "import plotly.graph_objects as go\nimport streamlit as st\n\n"
     "st.write(\"Hello\")\nst.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n",
     ".js-plotly-plot .main-svg"),
)
TARGET_RATIO = 1.5
# Issue 24: a page whose explored chart has drawn against the page with one small Plotly chart. The drill-down's
# Plotly charts are what a user explores (its first screen is HTML and SVG): opened by a link, timed until drawn.
EXPLORED_CHART, PLOTLY_PAGE, TARGET_EXPLORED = PAGES[3][0], REFERENCES[2][0], 1.5
TARGET_SERVER_MIB = 500


# Runs in the page before its own scripts: on every animation frame until done, notes (performance.now(),
# milliseconds from the navigation's start) when the main content is first visible as Playwright
# defines it (a box of non-zero size, not visibility:hidden), when the script run is then finished,
# and when the later milestone, if any, is visible.
WATCH = """([content, text, later]) => {
  const seen = window.__visit = {};
  const shown = (selector, text) => [...document.querySelectorAll(selector)].some(el => {
    if (text && !el.textContent.includes(text)) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  });
  const finished = '[data-testid="stApp"][data-test-script-state="notRunning"]';
  const frame = () => {
    const now = performance.now();
    if (seen.visible === undefined && shown(content, text)) seen.visible = now;
    if (seen.visible !== undefined && seen.done === undefined && document.querySelector(finished)) seen.done = now;
    if (later && seen.later === undefined && shown(later, null)) seen.later = now;
    if (seen.done === undefined || (later && seen.later === undefined)) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""


def _css_and_text(selector: str) -> tuple[str, str | None]:
    """'CSS >> text=Words' as (CSS, words the element must contain); plain CSS as (CSS, None)."""
    css, _, text = selector.partition(" >> text=")
    return css, text or None


def visit(browser, url: str, selector: str, later: str | None = None) -> dict[str, float]:
    """One visit in a new browser context: seconds from navigation until ``selector`` is visible and
    the script run has finished ("total"), with where they went ("server", "KB", "browser": see above);
    with ``later``, the same until that is visible too ("later", "later browser")."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    content, text = _css_and_text(selector)
    context.add_init_script(f"({WATCH})({json.dumps([content, text, later])})")
    page = context.new_page()
    frames: list[tuple[str, float, int]] = []

    def watch(socket) -> None:  # noqa: ANN001 - Playwright's WebSocket
        socket.on("framesent", lambda data: frames.append(("sent", time.perf_counter(), len(data))))
        socket.on("framereceived", lambda data: frames.append(("received", time.perf_counter(), len(data))))

    page.on("websocket", watch)
    start = time.perf_counter()
    page.goto(url)
    seen = page.wait_for_function(
        f"() => {{ const v = window.__visit; return v && v.done !== undefined && "
        f"({'v.later !== undefined' if later else 'true'}) && v; }}", timeout=120_000).json_value()
    context.close()
    visible, done = start + seen["visible"] / 1000, start + seen["done"] / 1000
    then = start + seen.get("later", seen["done"]) / 1000
    sent = [t for kind, t, _ in frames if kind == "sent"]
    received = [(t, size) for kind, t, size in frames if kind == "received" and t <= done]
    last = received[-1][0] if received else start
    return {"total": done - start, "server": last - (sent[0] if sent else start),
            "KB": sum(size for _, size in received) / 1024, "browser": max(visible - last, 0.0),
            "later": max(then, done) - start, "later browser": max(then - last, 0.0)}


def national_flags(doc: str, repeat: int, repeat_help: str) -> argparse.ArgumentParser:
    """The browser benchmarks' flags: the national database's size, the rounds, --keep."""
    parser = argparse.ArgumentParser(description=doc.partition("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=140)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    parser.add_argument("--keep", action="store_true", help="keep (and next time reuse) the generated database")
    return parser


def national_database(trusts: int, years: int) -> Path:
    """The pages benchmark's database of ``trusts`` x ``years`` (built, or reused if kept), in benchmarks/output/."""
    (HERE / "output").mkdir(exist_ok=True)
    db = HERE / "output" / f"pages_{trusts}x{years}y.duckdb"
    pages_benchmark.build_database(db, trusts, years)
    return db


def main() -> None:
    args = national_flags(__doc__, 5, "warm rounds; medians are reported").parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (lazy: Playwright only when run)

    db = national_database(args.trusts, args.years)
    apps = []
    for number, (_name, source, _selector) in enumerate(REFERENCES):
        apps.append(HERE / "output" / f"reference_app_{number}.py")
        apps[-1].write_text(source)

    # Every visit of a round, in order: the references, then the dashboard's pages.
    load_before = os.getloadavg()
    with sync_playwright() as playwright, ExitStack() as servers:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visits = [(name, servers.enter_context(served(app, db))[0], selector, None)
                  for (name, _, selector), app in zip(REFERENCES, apps, strict=True)]
        url, server = servers.enter_context(served(ROOT / "dashboard.py", db))
        visit(browser, url + "/opel", "h1")  # the server's own first start (imports), not any one page's
        visits += [(name, f"{url}/{path}", selector, later) for name, path, selector, *later in PAGES]
        rounds = [{name: visit(browser, address, selector, later[0][1] if later else None)
                   for name, address, selector, later in visits} for _ in range(1 + args.repeat)]
        rows = []  # table rows: every visit, and after a page its later milestone as a row of its own
        for name, _address, _selector, later in visits:
            rows.append(name)
            if later:
                rows.append(later[0][0])
                for found in rounds:
                    found[later[0][0]] = {**found[name], "total": found[name]["later"],
                                          "browser": found[name]["later browser"]}
        server_peak = peak_mib(server)  # after every page, cold and warm
        browser.close()
    load_after = os.getloadavg()

    yardstick = REFERENCES[0][0]
    references = {name for name, _source, _selector in REFERENCES}
    warm = rounds[1:]

    def median_of(name: str, key: str) -> float:
        return statistics.median(r[name][key] for r in warm)

    def ratio(name: str, against: str = yardstick) -> float:
        return statistics.median(r[name]["total"] / r[against]["total"] for r in warm)

    print(f"\n{args.trusts} trusts x {args.years} years, Chromium at 1366x768, {os.cpu_count()} cores, load average "
          f"{load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end; warm: medians of {args.repeat} rounds")
    print(f"{'page':<36}{'cold':>7}{'warm':>7}{'ratio':>8}{'server':>8}{'KB':>8}{'browser':>9}"
          f"   target: within {TARGET_RATIO:g}x the one-line page, warm")
    # The explored chart's page has its own yardstick (issue 24: the one-Plotly-chart page, judged below), so
    # its ratio to the one-line page is printed as a figure, not held to the one-line target.
    unjudged = references | {EXPLORED_CHART}
    for name in rows:
        target = "" if name in unjudged else "met" if ratio(name) <= TARGET_RATIO else "NOT MET"
        print(f"{name:<36}{rounds[0][name]['total']:>6.2f}s{median_of(name, 'total'):>6.2f}s{ratio(name):>7.2f}x"
              f"{median_of(name, 'server'):>7.2f}s{median_of(name, 'KB'):>8,.0f}{median_of(name, 'browser'):>8.2f}s"
              f"   {target}")
    for name in rows:
        if name in unjudged:
            continue
        print(target_line(f"browser page {name} warm within {TARGET_RATIO:g}x a one-line page",
                          f"{ratio(name):.2f}x", ratio(name) <= TARGET_RATIO))
    explored = ratio(EXPLORED_CHART, PLOTLY_PAGE)
    print(target_line(f"browser page whose explored Plotly chart has drawn ({EXPLORED_CHART}) warm at most "
                      f"{TARGET_EXPLORED:g}x the one-Plotly-chart page", f"{explored:.2f}x",
                      explored <= TARGET_EXPLORED))
    for name in [EXPLORED_CHART] + [name for name, _source, _selector in REFERENCES[1:]]:
        print(f"FIGURE browser {name}, warm, against a one-line page: {ratio(name):.2f}x")
    print(target_line(f"dashboard server peak memory after visiting every page under {TARGET_SERVER_MIB} MiB",
                      f"{server_peak:,.0f} MiB", server_peak < TARGET_SERVER_MIB))
    if not args.keep:
        db.unlink()


if __name__ == "__main__":
    main()
