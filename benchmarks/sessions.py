"""Concurrent sessions (issue 24): the dashboard's pages opened by 1, 10 and 25 sessions at once, driven over
Streamlit's websocket without a browser, so a browser's own cost on a 2-core machine does not hide the server's;
the server's memory with 25 sessions; and how the page times grow with 1, 4 and 10 years of history.

A script, not a test. It builds (or reuses: they are kept in benchmarks/output/) the pages benchmark's
databases of 140 synthetic trusts x N years (``pages_benchmark.build_database``: the project's own ingest),
serves ``streamlit run dashboard.py`` on each, and a one-line Streamlit page (``st.write``: the yardstick)
beside them. A session is what a browser tab does: it opens ``ws://.../_stcore/stream`` and asks for a page
with a ``BackMsg`` ``rerun_script`` (the page's URL path as ``page_name``, its query string), then reads the
``ForwardMsg`` stream until ``script_finished``; a visit's time runs from the request to that message.
Errors are counted: an exception element in the deltas, a page not found, a script finished with a compile
error, a closed connection, a visit longer than --timeout.

Growth (one session per history, the histories in paired rounds): each round empties the caches (a ``BackMsg``
``clear_cache``: the first visit after an ingest, when every page query runs), visits every page ("first view"),
then visits every page again (warm: the queries cached). Target: each page's first view with the most history
within 1.5x of the least (median of the rounds' ratios): page queries read the latest weeks, not all history.

Sessions (on the largest history): for each K of --sessions, K sessions connect, then all open the weekly
position at once, then all the trust drill-down, then all the OPEL page (warm: as for a meeting whose members
open the same link); the one-line page is opened the same way by K sessions just before, in each round.
Per page and K: p50 and p95 of every visit of every round, errors, and p50 against the one-line page's p50
(median of the rounds). Target: no errors. The server's memory (its process and any children: peak VmHWM and
resident VmRSS from /proc) after the largest K's round, its sessions still connected. Target: under 500 MiB.

    python benchmarks/sessions.py [--trusts N] [--years 1 4 10] [--sessions 1 10 25] [--repeat N] [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import pages_benchmark  # noqa: E402  (the national databases)
from run_all import target_line  # noqa: E402  (the line the runner collects)
from streamlit_server import served, tree_mib  # noqa: E402  (the servers under test)


@dataclass(frozen=True)
class Page:
    """A page as a browser asks for it: its URL path (``""`` for the home page) and query string."""
    name: str
    path: str
    query: str = ""


# The first synthetic trust (national_data.trust_codes) for the drill-down.
PAGES = (Page("weekly position", ""), Page("trust drill-down", "trust", "trust=Z00"), Page("OPEL levels", "opel"))
ONE_LINE = Page("one-line page", "")
ONE_LINE_APP = 'import streamlit as st\n\nst.write("Hello")\n'
TARGET_GROWTH = 1.5
TARGET_SERVER_MIB = 500
QUICK_TRUSTS, QUICK_YEARS = 10, [1, 2]  # --quick, with one round
STATES = ("first view", "warm")


@dataclass(frozen=True)
class Visit:
    """One page visit: seconds from the request to ``script_finished``, KB received, what went wrong (or None)."""
    seconds: float
    kb: float
    error: str | None


def rerun_request(page: Page) -> bytes:
    """The ``BackMsg`` a browser sends to run a page: ``rerun_script`` with the page's path and query string."""
    message = BackMsg()
    message.rerun_script.page_name = page.path
    message.rerun_script.query_string = page.query
    return message.SerializeToString()


def clear_cache_request() -> bytes:
    """The ``BackMsg`` that empties the server's ``st.cache_data`` and ``st.cache_resource`` (every session's)."""
    return BackMsg(clear_cache=True).SerializeToString()


def read_message(frame: bytes) -> tuple[bool, str | None]:
    """One ``ForwardMsg``: whether the page's run has ended, and what went wrong in it (None: nothing).
    A run ended early for a rerun (``st.rerun``) has not ended: the rerun follows."""
    message = ForwardMsg.FromString(frame)
    kind = message.WhichOneof("type")
    if kind == "delta" and message.delta.new_element.WhichOneof("type") == "exception":
        exception = message.delta.new_element.exception
        return False, f"exception {exception.type}: {exception.message[:80]}"
    if kind == "page_not_found":
        return False, "page not found"
    if kind != "script_finished":
        return False, None
    if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
        return True, "script compile error"
    return message.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                       ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY), None


class Session:
    """One connected session (a browser tab without the browser). After a timeout or a closed connection it is
    lost: its later visits are errors, since a late ``script_finished`` would end the wrong visit."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.lost: str | None = None

    async def visit(self, page: Page, timeout: float) -> Visit:
        if self.lost:
            return Visit(math.nan, 0.0, f"session lost earlier ({self.lost})")
        errors: list[str] = []
        received = 0
        start = time.perf_counter()
        try:
            await self.socket.send(rerun_request(page))
            async with asyncio.timeout(timeout):
                while True:
                    frame = await self.socket.recv(decode=False)
                    received += len(frame)
                    finished, error = read_message(frame)
                    errors += [error] if error else []
                    if finished:
                        break
        except TimeoutError:
            self.lost = f"no script_finished within {timeout:g} s"
        except ConnectionClosed as closed:
            self.lost = f"connection closed: {closed}"
        problems = errors + ([self.lost] if self.lost else [])
        return Visit(time.perf_counter() - start, received / 1024, "; ".join(problems) or None)


@asynccontextmanager
async def sessions(url: str, count: int) -> AsyncIterator[list[Session]]:
    """``count`` sessions connected to the server at ``url`` (as many browser tabs), closed afterwards."""
    address = url.replace("http://", "ws://") + "/_stcore/stream"
    # The "streamlit" subprotocol as a browser's; no Origin header, so the server asks for no XSRF token (a
    # browser sends its cookie's); no keepalive pings, which a browser never sends.
    sockets = await asyncio.gather(*(connect(address, subprotocols=[Subprotocol("streamlit")], max_size=None,
                                             proxy=None, open_timeout=120, ping_interval=None)
                                     for _ in range(count)))
    try:
        yield [Session(socket) for socket in sockets]
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))


async def all_visit(open_sessions: Sequence[Session], page: Page, timeout: float) -> list[Visit]:
    """Every session asks for ``page`` at the same moment."""
    return list(await asyncio.gather(*(session.visit(page, timeout) for session in open_sessions)))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0.5: the median; 0.95: p95) of the values that are numbers."""
    ordered = sorted(v for v in values if not math.isnan(v))
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)] if ordered else math.nan


# --------------------------------------------------------------------------------------------
# Growth: one session per history, paired rounds
# --------------------------------------------------------------------------------------------

async def growth_rounds(urls: dict[int, str], rounds: int, timeout: float) -> list[dict[tuple[int, str, str], Visit]]:
    """Per round, per history (years) in turn: the caches emptied, every page's first view, then every page
    warm. Keys: (years, page, "first view" or "warm")."""
    found: list[dict[tuple[int, str, str], Visit]] = []
    async with AsyncExitStack() as stack:
        held = {years: (await stack.enter_async_context(sessions(url, 1)))[0] for years, url in urls.items()}
        for page in PAGES:  # untimed: the servers' imports, the schema check and a deep link's first rerun
            for session in held.values():
                await session.visit(page, timeout)
        for _ in range(rounds):
            visits: dict[tuple[int, str, str], Visit] = {}
            for years, session in held.items():
                await session.socket.send(clear_cache_request())
                for state in STATES:
                    for page in PAGES:
                        visits[years, page.name, state] = await session.visit(page, timeout)
            found.append(visits)
    return found


def report_growth(found: list[dict[tuple[int, str, str], Visit]], years: Sequence[int]) -> None:
    """The one-session table per history, its FIGURE lines, and the growth TARGET per page."""
    def median(y: int, page: Page, state: str) -> float:
        return statistics.median(r[y, page.name, state].seconds for r in found)

    print(f"\none session, medians of {len(found)} rounds; first view: the caches emptied just before")
    print(f"{'page':<20}" + "".join(f"{f'{y} y {state}':>16}" for y in years for state in STATES))
    for page in PAGES:
        print(f"{page.name:<20}" + "".join(f"{median(y, page, state):>15.2f}s" for y in years for state in STATES))
    for y in years:
        for page in PAGES:
            for state in STATES:
                print(f"FIGURE one session {page.name} {state} with {y} years: {median(y, page, state):.2f} s")
    least, most = min(years), max(years)
    if least == most:
        print("(one history only: no growth target)")
        return
    for page in PAGES:
        ratio = statistics.median(r[most, page.name, STATES[0]].seconds / r[least, page.name, STATES[0]].seconds
                                  for r in found)
        print(target_line(f"one session {page.name} first view with {most} years within {TARGET_GROWTH:g}x of "
                          f"{least} year{'s' if least > 1 else ''}", f"{ratio:.2f}x", ratio <= TARGET_GROWTH))


# --------------------------------------------------------------------------------------------
# Concurrent sessions on the largest history
# --------------------------------------------------------------------------------------------

async def session_rounds(url: str, line_url: str, pid: int, counts: Sequence[int], rounds: int, timeout: float
                         ) -> tuple[dict[int, list[dict[str, list[Visit]]]], tuple[float, float]]:
    """Per K of ``counts`` and round: K sessions open the one-line page at once, then K sessions of the
    dashboard open each page in turn, all at once. Also the dashboard server's memory (resident, peak) after
    the largest K's last round, its sessions still connected."""
    found: dict[int, list[dict[str, list[Visit]]]] = {}
    memory = (math.nan, math.nan)
    async with sessions(line_url, 1) as (tab,):  # untimed: the one-line server's first run, as the dashboard's
        await tab.visit(ONE_LINE, timeout)
    for count in counts:
        found[count] = []
        for _ in range(rounds):
            async with sessions(line_url, count) as tabs:
                visits = {ONE_LINE.name: await all_visit(tabs, ONE_LINE, timeout)}
            async with sessions(url, count) as tabs:
                for page in PAGES:
                    visits[page.name] = await all_visit(tabs, page, timeout)
                if count == max(counts):
                    memory = tree_mib(pid)
            found[count].append(visits)
    return found, memory


def report_sessions(found: dict[int, list[dict[str, list[Visit]]]]) -> None:
    """Per K and page: p50, p95, errors and the p50 against the one-line page's (median of the rounds)."""
    print(f"\n{'sessions':>8}  {'page':<20}{'p50':>8}{'p95':>8}{'KB':>7}{'errors':>9}  p50 / one-line p50")
    for count, rounds in found.items():
        for page in (ONE_LINE, *PAGES):
            visits = [v for r in rounds for v in r[page.name]]
            p50, p95 = percentile([v.seconds for v in visits], 0.5), percentile([v.seconds for v in visits], 0.95)
            ratio = statistics.median(percentile([v.seconds for v in r[page.name]], 0.5)
                                      / percentile([v.seconds for v in r[ONE_LINE.name]], 0.5) for r in rounds)
            errors = sum(v.error is not None for v in visits)
            print(f"{count:>8}  {page.name:<20}{p50:>7.2f}s{p95:>7.2f}s{statistics.median(v.kb for v in visits):>7,.0f}"
                  f"{errors:>5} of {len(visits):<3}{ratio:>6.2f}x")
            print(f"FIGURE {count} sessions at once, {page.name}: p50 {p50:.2f} s, p95 {p95:.2f} s, "
                  f"{ratio:.2f}x the one-line page's p50, {errors} errors in {len(visits)} visits")


def report_errors(visits: list[Visit]) -> None:
    """Every distinct error with its count, and the TARGET of none."""
    errors = [v.error for v in visits if v.error]
    for message in sorted(set(errors)):
        print(f"  error ({errors.count(message)}x): {message}")
    print(target_line("no errors in any session's visit", f"{len(errors)} of {len(visits)}", not errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=140)
    parser.add_argument("--years", type=int, nargs="+", default=[1, 4, 10],
                        help="histories for the growth rounds; the sessions run on the largest")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 25], help="sessions at once, in turn")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of growth and of each number of sessions")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a visit may take before it is an error")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_TRUSTS} trusts x {' and '.join(map(str, QUICK_YEARS))} years, one round "
                             "(a check that it runs: not figures to quote)")
    args = parser.parse_args()
    if args.quick:
        args.trusts, args.years, args.repeat = QUICK_TRUSTS, QUICK_YEARS, 1
    years = sorted(set(args.years))
    (HERE / "output").mkdir(exist_ok=True)
    dbs = {y: HERE / "output" / f"pages_{args.trusts}x{y}y.duckdb" for y in years}
    for y, db in dbs.items():
        pages_benchmark.build_database(db, args.trusts, y)
    app = HERE / "output" / "one_line_app.py"
    app.write_text(ONE_LINE_APP)

    load = [os.getloadavg()[0]]
    with ExitStack() as servers:
        line_url, _ = servers.enter_context(served(app, dbs[years[-1]]))
        dashboards = {y: servers.enter_context(served(ROOT / "dashboard.py", db)) for y, db in dbs.items()}
        growth = asyncio.run(growth_rounds({y: url for y, (url, _) in dashboards.items()}, args.repeat, args.timeout))
        load.append(os.getloadavg()[0])
        url, pid = dashboards[years[-1]]
        before = tree_mib(pid)
        found, (resident, peak) = asyncio.run(session_rounds(url, line_url, pid, args.sessions, args.repeat,
                                                             args.timeout))
        load.append(os.getloadavg()[0])

    print(f"\n{args.trusts} trusts x {', '.join(map(str, years))} years, {os.cpu_count()} cores, load average (1 min) "
          f"{load[0]:.2f} at the start, {load[1]:.2f} after the growth rounds, {load[2]:.2f} after the sessions"
          + ("; --quick: sizes too small to quote" if args.quick else ""))
    report_growth(growth, years)
    report_sessions(found)
    report_errors([v for r in growth for v in r.values()]
                  + [v for rounds in found.values() for r in rounds for page in r.values() for v in page])
    most = max(args.sessions)
    print(f"FIGURE server memory with {years[-1]} years after the one-session rounds (peak): {before[1]:,.0f} MiB")
    print(f"FIGURE server memory with {years[-1]} years and {most} sessions connected (resident): {resident:,.0f} MiB")
    print(target_line(f"server memory with {years[-1]} years and {most} sessions under {TARGET_SERVER_MIB} MiB (peak)",
                      f"{peak:,.0f} MiB", peak < TARGET_SERVER_MIB))


if __name__ == "__main__":
    main()
