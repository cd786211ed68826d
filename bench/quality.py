"""Benchmark the quality engine on generated sources: precision, recall, F1 per check, wall time, peak RSS.

usage: python bench/quality.py --people 20000 [--seed 17] [--defect-rate 0.02] [--dir DIR] [--keep]

Generates the four sources and their ground truth, runs every check (as ``ndx quality run`` does, without
the platform database), writes findings.json and scores it against ground_truth.json the way
shared/SOURCES.md lays down (quality/scoring.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.generator import generate
from connectors.registry import Sources
from quality.findings import read_findings, write_findings
from quality.runner import run_checks
from quality.scoring import missed_and_extra, score

SOURCE_NAMES = ("population", "insurance", "land", "enterprise")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--defect-rate", type=float, default=0.02)
    parser.add_argument("--dir", type=Path, default=None, help="Where to generate (default: a temporary folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the generated folder.")
    parser.add_argument("--reuse", action="store_true", help="Reuse sources already generated in --dir.")
    parser.add_argument("--show", type=int, default=0, help="Print up to N missed and extra units per check.")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="ndx-quality-bench-"))
    try:
        started = time.perf_counter()
        if not (args.reuse and (folder / "ground_truth.json").exists()):
            # In a child process, so that the peak RSS printed below is the quality run's alone.
            child = multiprocessing.get_context("fork").Process(
                target=generate,
                kwargs={"out_dir": folder, "people": args.people, "seed": args.seed, "defect_rate": args.defect_rate},
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                print(f"generation failed (exit code {child.exitcode})", file=sys.stderr)
                return 1
        generated = time.perf_counter()
        sources = Sources({n: f"sqlite:///{folder / (n + '.db')}" for n in SOURCE_NAMES}, timeout_s=3600)
        result = run_checks(sources)
        sources.dispose()
        checked = time.perf_counter()
        write_findings(folder / "findings.json", result.findings)
        truth = read_findings(folder / "ground_truth.json")
        scores = score(result.findings, truth)
        print(f"people {args.people:,}  seed {args.seed}  defect rate {args.defect_rate}")
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in result.row_counts.items()))
        print(f"{'check':<22} {'tp':>7} {'fp':>6} {'fn':>6} {'precision':>9} {'recall':>7} {'F1':>7}")
        for check, s in scores.items():
            print(
                f"{check:<22} {s.true_positives:>7} {s.false_positives:>6} {s.false_negatives:>6} "
                f"{s.precision:>9.4f} {s.recall:>7.4f} {s.f1:>7.4f}"
            )
        if args.show:
            for check in scores:
                if check == "overall":
                    continue
                missed, extra = missed_and_extra(result.findings, truth, check)
                for unit in sorted(missed, key=str)[: args.show]:
                    print("  missed", unit)
                for unit in sorted(extra, key=str)[: args.show]:
                    print("  extra ", unit)
        print(f"generate {generated - started:.1f} s; quality run {checked - generated:.1f} s {result.timings}")
        print(f"peak RSS of the quality run {peak_rss_mb():,.0f} MB (generation ran in a child process)")
    finally:
        if not (args.keep or args.dir):
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
