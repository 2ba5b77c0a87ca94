"""A far end with known jitter: echoes each UDP packet after a uniform random delay.

Used to prove the harness measures jitter right (this kernel has no netem). With delays
drawn independently from U(0, D) and D no larger than the packet interval (no reordering),
the RFC 3550 interarrival jitter of the echoed stream converges to E|X1 - X2| = D/3.

    python -m harness.lab.jitter --bind 198.51.100.10:6300 --max-ms 20
"""

from __future__ import annotations

import argparse
import heapq
import random
import socket
import threading
import time


def serve(bind: tuple[str, int], max_ms: float, *, stop: threading.Event | None = None,
          seed: int | None = None) -> None:
    """Echo until ``stop`` is set. A receiving thread stamps each packet on arrival and files
    it by due time; this thread sends each one at its due time (sleeping, not polling)."""
    rng = random.Random(seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(bind)
    sock.settimeout(0.2)
    pending: list[tuple[float, int, bytes, tuple[str, int]]] = []
    cond = threading.Condition()
    stop = stop or threading.Event()

    def receive() -> None:
        n = 0
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(2048)
            except TimeoutError:
                continue
            due = time.monotonic() + rng.uniform(0, max_ms) / 1000
            n += 1
            with cond:
                heapq.heappush(pending, (due, n, data, addr))
                cond.notify()

    threading.Thread(target=receive, daemon=True).start()
    while not stop.is_set():
        with cond:
            if not pending:
                cond.wait(0.2)
                continue
            due, _, data, addr = pending[0]
            left = due - time.monotonic()
            if left > 0.002:
                cond.wait(left - 0.001)
                continue
            heapq.heappop(pending)
        left = due - time.monotonic()
        if left > 0:
            time.sleep(left)
        sock.sendto(data, addr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", required=True, help="ip:port")
    ap.add_argument("--max-ms", type=float, default=20.0)
    args = ap.parse_args()
    host, port = args.bind.rsplit(":", 1)
    serve((host, int(port)), args.max_ms)


if __name__ == "__main__":
    main()
