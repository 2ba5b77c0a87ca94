"""Benchmark: how long `recette lab up` + `recette lab down` take, and the demo's wall time.

Run as root:  .venv/bin/python bench/lab_cycle.py [--runs 5]
Each cycle runs the real CLI in a subprocess (what a user waits for), so interpreter start-up
is included. Prints the median and spread; the figures go into the issue note.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _timed(argv: list[str], timeout: float = 120) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=REPO, check=True,
                   capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    ups, downs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            prefix = f"rct{secrets.token_hex(2)}"
            ups.append(_timed(["lab", "up", "--prefix", prefix, "--profile-out",
                               f"{tmp}/lab.yaml"]))
            downs.append(_timed(["lab", "down", "--prefix", prefix]))
        # The demo runs every check (calls, capacity, NAT lifetimes): minutes, not seconds.
        demo = _timed(["demo", "--out", f"{tmp}/demo"], timeout=900)
    cycles = [u + d for u, d in zip(ups, downs, strict=True)]
    for name, xs in (("lab up", ups), ("lab down", downs), ("up + down", cycles)):
        print(f"{name:<10} median {statistics.median(xs):.2f} s  "
              f"(min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})")
    print(f"{'demo':<10} {demo:.2f} s wall time")


if __name__ == "__main__":
    main()
