"""Benchmark of the source generator: rows per second (total and per table), elapsed time, peak memory.

    .venv/bin/python bench/generate.py --people 1000000 [--out DIR] [--seed 17] [--url-prefix URL]

Target on a 2-core machine: 1,000,000 people (about 3.8 million rows over six tables) in at most 90 s
and 2 GB peak RSS. Without --out the databases go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.generator import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="keep the databases here (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--defect-rate", type=float, default=0.02)
    parser.add_argument("--url-prefix", help="write PostgreSQL databases <prefix>population, ... instead")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="ndx-bench-"))
    first: dict[str, float] = {}
    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        first.setdefault(stage, now)
        if done >= total:
            last[stage] = now

    started = time.perf_counter()
    try:
        summary = generate(
            out_dir=out,
            people=args.people,
            seed=args.seed,
            defect_rate=args.defect_rate,
            url_prefix=args.url_prefix,
            progress=progress,
        )
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    elapsed = time.perf_counter() - started
    total_rows = sum(summary.rows.values())
    target = "PostgreSQL (COPY)" if args.url_prefix else "SQLite (executemany)"
    print(f"generator benchmark: {args.people:,} people, seed {args.seed}, defect rate {args.defect_rate}, {target}")
    print(f"  in-memory generation  {last['generate'] - first['generate']:7.1f} s")
    print(f"  {'table':<28}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    for table, rows in summary.rows.items():
        stage = f"write {table}"
        seconds = last.get(stage, first[stage]) - first[stage]
        print(f"  {table:<28}{rows:>12,}{seconds:>10.1f}{rows / max(seconds, 1e-9):>12,.0f}")
    print(f"  {'total':<28}{total_rows:>12,}{elapsed:>10.1f}{total_rows / elapsed:>12,.0f}")
    print(f"  defects injected      {sum(summary.defects.values()):,} findings in ground truth")
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  elapsed {elapsed:.1f} s, peak RSS {self_mb:,.0f} MB (self) + {children_mb:,.0f} MB (children)")


if __name__ == "__main__":
    main()
