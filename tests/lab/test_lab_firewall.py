"""Acceptance: the lab router forwards SIP/RTP as its firewall mode says, from whom it says."""

from __future__ import annotations

import socket
import time

import pytest

from harness import lab as labmod
from harness import netns
from harness.lab import Lab

SAMPLED = (5060, 10000, 10001, 12345, 15000, 17777, 19999, 20000)
OUTSIDE = (5061, 9999, 20001)


def _arrivals(lab: Lab, source_role: str, ports: tuple[int, ...]) -> set[int]:
    """Ports of the LAN host that a datagram from ``source_role`` to the WAN address reached.

    Every port gets a datagram with a unique token; we stop as soon as all arrived, or after
    one second of silence (a dropped datagram cannot be observed any other way).
    """
    token = f"probe-{source_role}-{time.monotonic_ns()}".encode()
    listeners = []
    with netns.inside(lab.ns("lan")):
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            s.setblocking(False)
            listeners.append((port, s))
    with netns.inside(lab.ns(source_role)):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got: set[int] = set()
    try:
        for port in ports:
            sender.sendto(token + b":" + str(port).encode(), (str(labmod.RTR_WAN), port))
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and len(got) < len(ports):
            for port, s in listeners:
                try:
                    data = s.recv(2048)
                except BlockingIOError:
                    continue
                if data == token + b":" + str(port).encode():
                    got.add(port)
            time.sleep(0.005)
    finally:
        sender.close()
        for _, s in listeners:
            s.close()
    return got


@pytest.mark.lab
@pytest.mark.parametrize(
    ("mode", "from_op", "from_out"),
    [
        ("strict", set(SAMPLED), set()),
        ("open", set(SAMPLED), set(SAMPLED)),
        ("closed", set(), set()),
    ],
)
def test_firewall_mode(strict_lab: Lab, mode: str, from_op: set[int], from_out: set[int]) -> None:
    strict_lab.set_policy(firewall=mode)  # type: ignore[arg-type]
    assert _arrivals(strict_lab, "op", SAMPLED + OUTSIDE) == from_op
    assert _arrivals(strict_lab, "out", SAMPLED + OUTSIDE) == from_out


@pytest.mark.lab
def test_narrowed_rtp_range_closes_the_rest(strict_lab: Lab) -> None:
    strict_lab.set_policy(rtp=(10000, 15000))
    try:
        assert _arrivals(strict_lab, "op", SAMPLED) == {5060, 10000, 10001, 12345, 15000}
    finally:
        strict_lab.set_policy()
