"""How long the data contract takes: the compiled Polars engine against Great Expectations.

A script, not a test. For each sample file (sample_data/sitrep and sample_data/flawed) it prints the
validation time on both engines (best of --repeat), then the totals for the 30-file sample build,
the one-off cost of importing Great Expectations, and how long a zip bomb takes to be rejected.

    python benchmarks/contract_benchmark.py [--repeat N]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from publication_benchmark import best_of  # noqa: E402
from test_attack_regressions import zip_bomb  # noqa: E402  (the zip bomb the tests reject)

from pipelines.catalogue.issues import FileRejected  # noqa: E402
from pipelines.ingest.contract import reference_sites, validate  # noqa: E402
from pipelines.ingest.readers import read_sitrep  # noqa: E402

TODAY = date(2025, 10, 1)


def import_seconds(module: str) -> float:
    code = f"import time, os; os.environ['GX_ANALYTICS_ENABLED']='false'; t=time.perf_counter(); import {module}; " \
           "print(time.perf_counter()-t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    known = [line.split(",")[0] for line in (ROOT / "reference_data" / "trusts.csv").read_text().splitlines()[1:]]
    sites = reference_sites()
    samples = ROOT / "sample_data"
    files = sorted((samples / "sitrep").glob("*.*")) + sorted((samples / "flawed").glob("*.csv"))
    print(f"GE import: {import_seconds('great_expectations'):.2f} s (paid once per process, only with --engine ge)")
    print(f"{'file':<24}{'rows':>7}{'polars s':>10}{'GE s':>8}{'ratio':>7}")
    totals = {"polars": 0.0, "ge": 0.0}
    sample_totals = {"polars": 0.0, "ge": 0.0}
    for path in files:
        read = read_sitrep(path)
        seconds = {engine: best_of(args.repeat, lambda e=engine, r=read: validate(r.frame, r.issues, known, TODAY,
                                                                                  sites=sites, engine=e))
                   for engine in ("polars", "ge")}
        for engine, value in seconds.items():
            totals[engine] += value
            if path.parent.name == "sitrep":
                sample_totals[engine] += value
        print(f"{path.name:<24}{read.frame.height:>7,}{seconds['polars']:>10.4f}{seconds['ge']:>8.3f}"
              f"{seconds['ge'] / seconds['polars']:>7.0f}x")
    print(f"30-file sample build, validation only: polars {sample_totals['polars']:.3f} s, "
          f"GE {sample_totals['ge']:.2f} s (+ its import), {sample_totals['ge'] / sample_totals['polars']:.0f}x")
    bomb = zip_bomb(210)
    start = time.perf_counter()
    try:
        read_sitrep("bomb.xlsx", bomb)
    except FileRejected as rejection:
        print(f"zip bomb ({len(bomb) / 1024:.0f} KB inflating to 210 MB) rejected in "
              f"{(time.perf_counter() - start) * 1000:.1f} ms: {rejection}")


if __name__ == "__main__":
    main()
