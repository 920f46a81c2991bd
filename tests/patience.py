"""Hang guards that scale with the machine: no test fails because the machine is busy.

A test waits for progress or for an event (a page's script finished, a file appeared, a process
ended), never for a fixed time. The only bounds are hang guards, so that a real hang still ends the
run: generous on a quiet machine (``guard_s``: 30 times the quiet duration, at least 5 minutes) and
multiplied by how slow this machine is now. The slowness is measured once per session, as the time
of a fixed CPU workload against its time on a quiet machine, and the one-minute load average per
core when a guard is set, whichever is larger (CI is a busy 2-core box shared with other work).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cache

QUIET_WORKLOAD_S = 0.25  # ``_workload`` on a quiet 2-core machine (the CI box with nothing else running)
LEAST_GUARD_S = 300


def _workload() -> None:
    total = 0
    for i in range(2_000_000):
        total += i * i % 7


@cache
def measured_slowness() -> float:
    """How many times slower than quiet this machine ran a fixed CPU workload (at least 1), once a session."""
    start = time.perf_counter()
    _workload()
    return max(1.0, (time.perf_counter() - start) / QUIET_WORKLOAD_S)


def slowness() -> float:
    """The measured slowness, or the load per core now if that is higher (the load can rise later)."""
    return max(measured_slowness(), os.getloadavg()[0] / (os.cpu_count() or 1))


def guard_s(quiet_s: float) -> float:
    """A hang guard, in seconds, for something that takes about ``quiet_s`` seconds on a quiet machine."""
    return max(LEAST_GUARD_S, 30 * quiet_s) * slowness()


def guard_ms(quiet_s: float) -> float:
    """``guard_s`` in milliseconds (Playwright's unit)."""
    return guard_s(quiet_s) * 1000


def wait_until(condition: Callable[[], bool], what: str, quiet_s: float = 5, every_s: float = 0.05) -> None:
    """Poll ``condition()`` until it is true; fail saying ``what`` did not happen only after a hang guard."""
    guard = guard_s(quiet_s)
    deadline = time.monotonic() + guard
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {guard:.0f} s (a hang guard)"
        time.sleep(every_s)


def page_run_guard_s() -> float:
    """AppTest's ``default_timeout``: one run of a page's script (a first start builds the sample database in it)."""
    return guard_s(20)
