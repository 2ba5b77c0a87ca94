"""Benchmark: `recette demo` with checks at the same time (the default) vs `--serial`.

Run as root:  .venv/bin/python bench/demo_schedule.py [--runs 2]
Each run is the real CLI in a subprocess (lab up, every check, sheet and PDF, lab down): what
a technician waits for. Runs alternate between the two modes so machine load hits both.
Prints the wall times, whether every run gave the same verdicts, and each check's own
duration in both modes (concurrency must not stretch a check's measurement).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _demo(out: Path, serial: bool) -> tuple[float, dict[str, tuple[str, float]]]:
    argv = [sys.executable, "-m", "harness.cli", "demo", "--out", str(out)]
    if serial:
        argv.append("--serial")
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    results = out / "results.json"
    if not results.exists():
        sys.exit(f"demo produced no results (exit {proc.returncode}): {proc.stderr[-2000:]}")
    doc = json.loads(results.read_text())
    return wall, {c["id"]: (c["status"], c["duration_s"]) for c in doc["checks"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="runs of each mode")
    args = ap.parse_args()
    walls: dict[bool, list[float]] = {False: [], True: []}
    checks: dict[bool, list[dict[str, tuple[str, float]]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for serial in (False, True):
                wall, got = _demo(Path(tmp) / f"{i}-{serial}", serial)
                walls[serial].append(wall)
                checks[serial].append(got)
                print(f"run {i + 1} {'serial' if serial else 'concurrent'}: {wall:.1f} s, "
                      f"{sum(s == 'pass' for s, _ in got.values())}/{len(got)} pass",
                      flush=True)
    verdicts = {tuple((k, s) for k, (s, _) in sorted(run.items()))
                for runs in checks.values() for run in runs}
    conc, ser = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"\nconcurrent median {conc:.1f} s (min {min(walls[False]):.1f}, max "
          f"{max(walls[False]):.1f}); serial median {ser:.1f} s (min {min(walls[True]):.1f}, "
          f"max {max(walls[True]):.1f}); ratio {ser / conc:.2f}x")
    print(f"same verdicts in every run: {'yes' if len(verdicts) == 1 else 'NO'}")
    print(f"\n{'check':<34} {'concurrent s':>13} {'serial s':>9}")
    for ident in checks[False][0]:
        c = statistics.median(r[ident][1] for r in checks[False])
        s = statistics.median(r[ident][1] for r in checks[True])
        print(f"{ident:<34} {c:13.1f} {s:9.1f}")


if __name__ == "__main__":
    main()
