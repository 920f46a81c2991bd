"""Every benchmark in sequence (``make benchmark``), then one summary of every target: met / not met.

Run from anywhere:  python benchmarks/run_all.py [--repeat N] [--quick] [--only NAME ...]

Each script runs in its own process, its output shown as it goes. A script reports a target with a
line ``TARGET <what>: <figure>: met|NOT MET`` and a figure without a target with ``FIGURE <what>:
<figure>``; this collects those lines (and any script that failed) into the summary at the end, with
the machine's cores and load average (above the core count, other work inflates the timings).
``--quick`` runs every script on 10 trusts x 1 year (``sessions.py`` on its own small sizes) with one
repeat: a check that they all still run, not figures to quote. The pages benchmark keeps its national
database for the browser ones, and the last of them (the first visit after a load) deletes it at the end.
A script in benchmarks/ missing from ``SCRIPTS`` runs too, with its own defaults, so no benchmark is left
out of the summary.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = ("--trusts", "10", "--years", "1")  # --quick, for the scripts sized by trusts and years
# (name, script, its arguments, takes --repeat, what --quick adds)
SCRIPTS = (
    ("national ingest", "benchmark.py", (), True, SIZE),
    ("daily load", "daily_load.py", ("--scales", "1", "8"), True, SIZE),
    ("contract", "contract_benchmark.py", (), True, ()),
    ("publications", "publication_benchmark.py", (), False, ()),
    ("page scripts", "pages_benchmark.py", ("--keep",), False, SIZE),
    ("browser pages", "browser_pages.py", ("--keep",), True, SIZE),
    ("browser clicks", "browser_clicks.py", ("--keep",), True, SIZE),
    ("first visit after a load", "after_ingest.py", (), True, SIZE),
    ("first start", "first_start.py", (), True, ()),
    ("concurrent sessions", "sessions.py", (), True, ("--quick",)),  # its own small sizes (several histories)
)
REPORTED = re.compile(r"^(TARGET|FIGURE) (.*)$")
# this runner, and the helpers that generate the rows and start the servers
NOT_SCRIPTS = {"run_all.py", "national_data.py", "streamlit_server.py"}


def target_line(what: str, figure: str, met: bool) -> str:
    """A target as this runner collects it (``REPORTED``): ``TARGET <what>: <figure>: met|NOT MET``."""
    return f"TARGET {what}: {figure}: {'met' if met else 'NOT MET'}"


def every_script() -> tuple[tuple[str, str, tuple[str, ...], bool, tuple[str, ...]], ...]:
    """``SCRIPTS``, then any other script in benchmarks/ (with its own defaults)."""
    listed = {script for _, script, *_ in SCRIPTS}
    others = sorted(path.name for path in HERE.glob("*.py") if path.name not in listed | NOT_SCRIPTS)
    return SCRIPTS + tuple((name.removesuffix(".py"), name, (), False, ()) for name in others)


def run(script: str, arguments: list[str]) -> tuple[int, list[str], float]:
    """Run one script, echoing its output; its exit status, TARGET/FIGURE lines and seconds."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(HERE / script), *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert process.stdout is not None
    reported = []
    for line in process.stdout:
        print(line, end="", flush=True)
        if REPORTED.match(line.strip()):
            reported.append(line.strip())
    return process.wait(), reported, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, help="passed to the scripts that repeat (default: each script's own)")
    parser.add_argument("--quick", action="store_true", help="10 trusts x 1 year, one repeat: do they all run?")
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="only these scripts (file names)")
    args = parser.parse_args()
    repeat = "1" if args.quick else str(args.repeat) if args.repeat else None
    load_before = os.getloadavg()
    results = []
    for name, script, extra, repeats, quick in every_script():
        if args.only and script not in args.only:
            continue
        arguments = [*extra, *(["--repeat", repeat] if repeats and repeat else []),
                     *(quick if args.quick else [])]
        print(f"\n===== {name}: benchmarks/{script} {' '.join(arguments)}", flush=True)
        results.append((name, script, *run(script, arguments)))

    print(f"\n===== Summary: {os.cpu_count()} cores, load average (1, 5, 15 min) "
          f"{', '.join(f'{x:.2f}' for x in load_before)} at the start, "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
          + ("; --quick: sizes too small to quote" if args.quick else ""))
    for name, script, status, reported, seconds in results:
        state = "ran" if status == 0 else f"FAILED (exit {status})"
        print(f"\n{name} (benchmarks/{script}, {seconds:.0f} s): {state}")
        for line in reported or ["(figures only, no target)"]:
            print(f"  {line}")
    met = sum(line.endswith(": met") for *_, reported, _ in results for line in reported)
    missed = sum(line.startswith("TARGET") and not line.endswith(": met")
                 for *_, reported, _ in results for line in reported)
    print(f"\ntargets met: {met}, not met (or the run failed): {missed}; "
          f"scripts failed: {sum(r[2] != 0 for r in results)}")


if __name__ == "__main__":
    main()
