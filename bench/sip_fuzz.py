"""Benchmark: the long run of the SIP fuzzer (tests/sip_fuzz.py), with its figures.

Run:  .venv/bin/python bench/sip_fuzz.py [--examples 1000000] [--minutes 20] [--chunk 20000]
No root needed. Hypothesis draws mutations of real messages in chunks (a fresh, numbered seed
per chunk keeps memory flat and each chunk reproducible); every example goes through the
same check as the suite's short run, which records instead of raising so one run counts every
undeclared exception. Prints examples run, undeclared exceptions (with up to five examples),
message parse time (median, p99, max, and how many over 10 ms), the other readers' time, the
parser's peak memory, and the share of messages parsed. Exit status 1 if any undeclared
exception or any parse over 10 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.sip_fuzz import MUTATION, Mutation, Outcome, check, mutate, retime, seeds

LIMIT_S = 0.010


def _chunk(number: int, examples: int, sink: list[Outcome], corpus: list[bytes],
           undeclared: list[tuple[bytes, list[str]]], slow: list[bytes]) -> None:
    @seed(number)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(seed_msg=st.sampled_from(corpus), mutations=st.lists(MUTATION, min_size=1,
                                                                 max_size=8))
    def run(seed_msg: bytes, mutations: list[Mutation]) -> None:
        data = mutate(seed_msg, mutations)
        outcome = check(data)
        sink.append(outcome)
        if outcome.undeclared:
            undeclared.append((data, outcome.undeclared))
        if outcome.seconds > LIMIT_S:
            slow.append(data)

    run()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--chunk", type=int, default=20_000)
    args = ap.parse_args()
    corpus = seeds()
    outcomes: list[Outcome] = []
    undeclared: list[tuple[bytes, list[str]]] = []
    slow_data: list[bytes] = []
    start = time.monotonic()
    number = 0
    while len(outcomes) < args.examples and time.monotonic() - start < args.minutes * 60:
        _chunk(number, min(args.chunk, args.examples - len(outcomes)), outcomes, corpus,
               undeclared, slow_data)
        number += 1
        print(f"  chunk {number}: {len(outcomes)} examples, {time.monotonic() - start:.0f} s",
              file=sys.stderr)
    wall = time.monotonic() - start
    parse_s = sorted(o.seconds for o in outcomes)
    readers_s = sorted(o.readers_seconds for o in outcomes)
    sizes = [o.size for o in outcomes]
    # A parse over 10 ms on the first pass is timed again, best of 5: a pause of the machine
    # (another process, the collector) shows as a fast re-time, a slow parse stays slow.
    slow = [t for t in (retime(d) for d in slow_data) if t > LIMIT_S]
    big = [o for o in outcomes if o.size > 32_768]
    parsed = sum(o.parsed for o in outcomes)
    print(f"seeds: {len(corpus)} real messages; chunks: {number} (hypothesis seeds "
          f"0..{number - 1})")
    print(f"examples: {len(outcomes)} in {wall:.0f} s ({len(outcomes) / wall:.0f}/s); "
          f"parsed: {parsed} ({100 * parsed / len(outcomes):.1f} %)")
    print(f"size: median {statistics.median(sizes):.0f} B, max {max(sizes)} B, "
          f"{len(big)} over 32 kB")
    print(f"message parse: median {1e6 * statistics.median(parse_s):.1f} us, "
          f"p99 {1e6 * parse_s[int(0.99 * (len(parse_s) - 1))]:.1f} us, "
          f"max {1e3 * parse_s[-1]:.2f} ms; over 10 ms on the first pass: {len(slow_data)}, "
          f"still over 10 ms timed again (best of 5): {len(slow)}")
    if slow_data:
        print(f"  re-timed max: {1e3 * max(retime(d) for d in slow_data):.2f} ms")
    if big:
        print(f"message parse over 32 kB: max {1e3 * max(o.seconds for o in big):.2f} ms")
    print(f"other readers (SDP, digest, Via, endpoint): median "
          f"{1e6 * statistics.median(readers_s):.1f} us, max {1e3 * readers_s[-1]:.2f} ms")
    print(f"parser peak memory: max {max(o.peak_bytes for o in outcomes) / 1024:.0f} KiB")
    print(f"undeclared exceptions: {len(undeclared)}")
    for data, what in undeclared[:5]:
        print(f"  {what[0]}  <- {data[:120]!r}")
    sys.exit(1 if undeclared or slow else 0)


if __name__ == "__main__":
    main()
