"""What crossed the lab router's WAN during a run, and whether firewall.openings' proofs are
true against it.

A proof sentence of the firewall check ("INVITE from X:p … a new flow, through the forward";
"10000: OPEN, operator media arrived first") is a claim about packets at the router's edge:
nothing the site sent may have opened the flow before. These tests do not take the check's
word for it: dumpcap on the router's WAN interface records every UDP datagram of the run
(tshark decodes it, an implementation we did not write), and :func:`assert_proofs_true`
checks each claim of the results against that record.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import netns
from harness.lab import RTR_WAN, Lab
from harness.results import CheckResult

WAN_IF = "wan0"


@dataclass(frozen=True)
class Packet:
    at: float
    src: tuple[str, int]
    dst: tuple[str, int]
    method: str  # the SIP request method, "" for anything else


@contextmanager
def wan_capture(lab: Lab, path: Path) -> Iterator[list[Packet]]:
    """Record the router's WAN (UDP only) while the block runs; the list is filled when the
    block ends."""
    packets: list[Packet] = []
    proc = netns.popen(lab.ns("rtr"), ["dumpcap", "-q", "-i", WAN_IF, "-f", "udp", "-w",
                                       str(path)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not path.exists() or path.stat().st_size == 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"dumpcap did not start: {err}")
        time.sleep(0.05)
    try:
        yield packets
    finally:
        time.sleep(0.3)  # the last datagrams of the run reach the file
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        packets.extend(read(path))


def read(path: Path) -> list[Packet]:
    out = subprocess.run(
        ["tshark", "-r", str(path), "-d", "udp.port==5060,sip", "-T", "fields",
         "-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst",
         "-e", "udp.dstport", "-e", "sip.Method", "-E", "separator=\t"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    packets = []
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < 5 or not cols[2]:
            continue
        packets.append(Packet(float(cols[0]), (cols[1], int(cols[2])), (cols[3], int(cols[4])),
                              cols[5] if len(cols) > 5 else ""))
    return packets


def _ip_port(text: str) -> tuple[str, int]:
    ip, port = text.rsplit(":", 1)
    return ip, int(port)


def assert_proofs_true(fw: CheckResult, packets: list[Packet]) -> int:
    """Every "open" the check proved from the operator's traffic is true at the WAN: the
    operator's datagram reached the router before the site had sent anything to that very
    address:port from the public port it reached. Every "closed" sample really saw the
    operator's media dropped (it reached the WAN before the site's first packet). Returns
    how many claims were checked."""
    traffic = fw.figures.operator_traffic
    assert traffic is not None, fw.facts
    wan = str(RTR_WAN)
    checked = 0
    if traffic.sip_proven:
        assert traffic.sip_source is not None
        source = _ip_port(traffic.sip_source)
        invite = next(p for p in packets if p.method == "INVITE" and p.src == source
                      and p.dst[0] == wan)
        before = [p for p in packets if p.src[0] == wan and p.src[1] == invite.dst[1]
                  and p.dst == source and p.at < invite.at]
        assert before == [], f"the site had sent to {source} before the 'new flow': {before}"
        checked += 1
    closed_to = {r.address for r in fw.figures.operator_addresses
                 if r.status == "closed" and r.ports != "5060"}
    for s in traffic.samples:
        for source in map(_ip_port, s.sources):
            if not (s.outcome == "open" or (s.outcome == "closed" and source[0] in closed_to)):
                continue  # "media only after the site sent" alone claims nothing
            came = [p for p in packets if p.src == source and p.dst == (wan, s.port)]
            went = [p for p in packets if p.src == (wan, s.port) and p.dst == source]
            assert came, f"{s.port}: no media from {source} crossed the WAN"
            first_out = went[0].at if went else float("inf")
            # open: it came before the site opened anything; closed: the operator was
            # sending and the router dropped it until the site sent (not a relay that waited)
            assert came[0].at < first_out, (
                f"{s.port} called {s.outcome}, but the site sent to {source} first")
            checked += 1
    return checked
