"""How fast NHS England's publications load (issue target: under 2 s each).

A script, not a test. It prints how long ``detect`` takes on a 2,000,000-line trust sitrep CSV (it
must read only the start), then, for each publication in tests/fixtures/nhse (the discharge sitrep workbooks,
the UEC daily sitrep winter workbooks and the monthly beds CSV) the time to read it
(``read_publication``) and the full ingest into a fresh database (read, checks, load with
provenance, derived tables), best of three.

    python benchmarks/publication_benchmark.py [FOLDER]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.ingest.load import ingest_paths  # noqa: E402
from pipelines.publication.read import detect, read_publication  # noqa: E402

TARGET_SECONDS = 2.0
DETECT_TARGET_SECONDS = 0.05  # telling a big trust sitrep CSV from a publication reads only its start


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def detect_big_csv() -> None:
    big = b"period_date,org_code,nctr_patients\n" + b"2024-04-01,RCB,5\n" * 2_000_000
    seconds = best_of(3, lambda: detect("big.csv", big))
    verdict = "met" if seconds < DETECT_TARGET_SECONDS else "NOT MET"
    print(f"detect() on a {len(big) / 1e6:.0f} MB trust CSV: {seconds * 1000:.1f} ms   "
          f"target: < {DETECT_TARGET_SECONDS * 1000:g} ms   {verdict}")
    print(f"TARGET detect() on a {len(big) / 1e6:.0f} MB trust CSV under {DETECT_TARGET_SECONDS * 1000:g} ms: "
          f"{seconds * 1000:.1f} ms: {verdict}")


def main() -> None:
    detect_big_csv()
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "fixtures" / "nhse"
    workbooks = sorted(p for p in [*folder.glob("*.xlsx"), *folder.glob("*.csv")]
                       if detect(p.name, p.read_bytes()) not in (None, "nhse_community_workbook"))
    if not workbooks:
        raise SystemExit(f"no NHS England publications in {folder}")
    print(f"{'publication':<62}{'read':>8}{'ingest':>9}   target: ingest < {TARGET_SECONDS:g} s")
    with tempfile.TemporaryDirectory() as scratch:
        for number, workbook in enumerate(workbooks):
            content = workbook.read_bytes()
            read = best_of(3, lambda w=workbook, c=content: read_publication(w.name, c))
            dbs = iter(Path(scratch) / f"{number}-{run}.duckdb" for run in range(3))
            outcomes: list = []
            ingest = best_of(3, lambda w=workbook, d=dbs, o=outcomes: o.extend(ingest_paths([w], next(d))))
            # a failed ingest is quick but measures nothing: say so rather than "met"
            failed = sorted({o.status for o in outcomes if o.status not in ("loaded", "loaded_with_rejections")})
            verdict = f"FAILED ({', '.join(failed)})" if failed else "met" if ingest < TARGET_SECONDS else "NOT MET"
            print(f"{workbook.name:<62}{read:>7.2f}s{ingest:>8.2f}s   {verdict}")
            print(f"TARGET publication {workbook.name} ingest under {TARGET_SECONDS:g} s: {ingest:.2f} s: {verdict}")


if __name__ == "__main__":
    main()
