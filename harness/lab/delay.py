"""A delaying leg on the lab's internet: media from the operator to the site, on a range of
destination ports, arrives a fixed time late.

Why: a one-way delay measured per direction is only proven if a delay added to one direction
shows there and not in the other. This kernel has no netem, so the delay is a process in the
``inet`` namespace: an nftables rule drops the chosen packets in forwarding, a packet socket on
the operator-facing interface (which sees them before netfilter) keeps a copy, and after the
delay a raw IP socket sends the copy on, headers and source address unchanged, as locally
generated traffic that the forwarding rule does not see.

    python -m harness.lab.delay --iface op0 --dst IP --ports 15000-20000 --ms 40
"""

from __future__ import annotations

import argparse
import heapq
import socket
import struct
import subprocess
import sys
import threading
import time

from harness import netns
from harness.errors import LabError
from harness.lab.topology import RTR_WAN, ns

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
TABLE = "recette_delay"


def ruleset(iface: str, dst: str, lo: int, hi: int) -> str:
    """The nftables table that takes the delayed packets out of the forwarding path."""
    return (f"table ip {TABLE} {{\n"
            "  chain forward {\n"
            "    type filter hook forward priority -10; policy accept;\n"
            f'    iifname "{iface}" ip daddr {dst} udp dport {lo}-{hi} drop\n'
            "  }\n}\n")


def _selected(frame: bytes, dst: bytes, lo: int, hi: int) -> bytes | None:
    """The IP packet in an Ethernet frame when it is UDP to ``dst`` on a port in range."""
    packet = frame[14:]
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != socket.IPPROTO_UDP:
        return None
    if packet[16:20] != dst:
        return None
    ihl = (packet[0] & 0x0F) * 4
    (port,) = struct.unpack("!H", packet[ihl + 2:ihl + 4])
    if not lo <= port <= hi:
        return None
    # A veth hands the packet over before the sender's UDP checksum is filled in (offload):
    # resent as is it would be dropped, so send it without one (0: none, valid over IPv4).
    return packet[:ihl + 6] + b"\x00\x00" + packet[ihl + 8:]


def serve(iface: str, dst: str, lo: int, hi: int, delay_ms: float,
          stop: threading.Event | None = None) -> None:
    """Capture, hold ``delay_ms`` and resend until ``stop`` is set (a receiving thread files
    each packet by due time; this thread sends each one at its due time)."""
    stop = stop or threading.Event()
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    cap.bind((iface, 0))
    cap.settimeout(0.2)
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    target = socket.inet_aton(dst)
    pending: list[tuple[float, int, bytes]] = []
    cond = threading.Condition()

    def receive() -> None:
        n = 0
        while not stop.is_set():
            try:
                frame, addr = cap.recvfrom(65535)
            except TimeoutError:
                continue
            packet = None if addr[2] == PACKET_OUTGOING else _selected(frame, target, lo, hi)
            if packet is None:
                continue
            n += 1
            with cond:
                heapq.heappush(pending, (time.monotonic() + delay_ms / 1000, n, packet))
                cond.notify()

    threading.Thread(target=receive, daemon=True).start()
    while not stop.is_set():
        with cond:
            while not pending and not stop.is_set():
                cond.wait(0.2)
            if not pending:
                continue
            due, _, packet = pending[0]
            wait = due - time.monotonic()
            if wait > 0:
                cond.wait(wait)
                continue
            heapq.heappop(pending)
        out.sendto(packet, (dst, 0))


def start(prefix: str, delay_ms: float, ports: tuple[int, int]) -> subprocess.Popen[bytes]:
    """Delay media from the operator to the site's public address on ``ports`` by
    ``delay_ms`` (undone by :func:`stop`; the lab's teardown also ends the process)."""
    inet = ns(prefix, "inet")
    proc = netns.popen(inet, [sys.executable, "-m", "harness.lab.delay", "--iface", "op0",
                              "--dst", str(RTR_WAN), "--ports", f"{ports[0]}-{ports[1]}",
                              "--ms", str(delay_ms)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # the packet socket is bound before the rule takes the packets away
    if proc.poll() is not None:
        raise LabError(f"the delaying leg in {inet} exited at once ({proc.returncode})")
    netns.run(inet, ["nft", "-f", "-"], input=ruleset("op0", str(RTR_WAN), *ports))
    return proc


def stop(prefix: str, proc: subprocess.Popen[bytes]) -> None:
    """Put media back on the direct path and end the delaying process."""
    netns.run(ns(prefix, "inet"), ["nft", "delete", "table", "ip", TABLE], check=False)
    proc.terminate()
    proc.wait(timeout=5)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m harness.lab.delay", description=__doc__)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--ports", required=True, help="LO-HI destination UDP ports")
    ap.add_argument("--ms", type=float, required=True)
    args = ap.parse_args()
    lo, hi = (int(p) for p in args.ports.split("-"))
    serve(args.iface, args.dst, lo, hi, args.ms)


if __name__ == "__main__":
    main()
