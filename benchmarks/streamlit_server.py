"""A Streamlit server for the benchmarks: ``streamlit run`` on a free local port, its health, and its memory.

Used by ``browser_pages.py``, ``first_start.py`` and ``sessions.py``. Not a benchmark itself (``run_all.py``
leaves it out).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command(script: str, port: int) -> list[str]:
    """``streamlit run script`` headless on 127.0.0.1:port, no usage statistics, no file watcher."""
    return [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port",
            str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers its health check with "ok"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.read().strip() == b"ok"
    except OSError:
        return False


@contextmanager
def served(script: Path, db: Path) -> Iterator[tuple[str, int]]:
    """``streamlit run script`` with ``FLOW_DB=db`` on a free local port; yields its address and process
    id once healthy, stops it afterwards."""
    port = free_port()
    server = subprocess.Popen(streamlit_command(str(script), port), cwd=ROOT, env={**os.environ, "FLOW_DB": str(db)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(url):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"streamlit did not start for {script}")
            time.sleep(0.25)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def _status_mib(pid: int, field: str) -> float:
    """A memory field (``VmHWM``, ``VmRSS``) of /proc/PID/status in MiB; 0 for a process that has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith(f"{field}:")), 0.0)


def peak_mib(pid: int) -> float:
    """A process's peak resident memory (VmHWM) so far."""
    return _status_mib(pid, "VmHWM")


def _children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (from /proc/*/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after the command name, which may hold spaces
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def tree_mib(pid: int) -> tuple[float, float]:
    """Resident memory now (VmRSS) and the sum of peaks (VmHWM) of a process and all its descendants."""
    pids, pending = [], [pid]
    while pending:
        pids.append(pending.pop())
        pending.extend(_children(pids[-1]))
    return sum(_status_mib(p, "VmRSS") for p in pids), sum(_status_mib(p, "VmHWM") for p in pids)
