"""Watch UDP datagrams arrive on a lab host, below any application socket.

The ALG acceptance has to see what reached the operator host byte for byte even though
Kamailio owns port 5060 there, so we read the wire with an AF_PACKET socket instead.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness import netns

ETH_P_IP = 0x0800


@dataclass(frozen=True)
class Datagram:
    """One captured IPv4/UDP datagram."""

    src: tuple[str, int]
    dst: tuple[str, int]
    payload: bytes


def _decode(packet: bytes) -> Datagram | None:
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != socket.IPPROTO_UDP:
        return None
    ihl = (packet[0] & 0x0F) * 4
    sport, dport, length = struct.unpack("!HHH", packet[ihl:ihl + 6])
    payload = packet[ihl + 8: ihl + length]
    return Datagram(
        (socket.inet_ntoa(packet[12:16]), sport), (socket.inet_ntoa(packet[16:20]), dport),
        payload,
    )


class UdpCapture:
    """Open before sending; :meth:`wait_for` then returns the first matching datagram."""

    def __init__(self, ns: str | None, ifname: str) -> None:
        with netns.inside(ns):
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
            self._sock.bind((ifname, ETH_P_IP))

    def wait_for(self, match: Callable[[Datagram], bool], timeout: float) -> Datagram | None:
        """First captured datagram for which ``match`` is true, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self._sock.settimeout(left)
            try:
                pkt, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                return None
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            dgram = _decode(pkt)
            if dgram is not None and match(dgram):
                return dgram
        return None

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> UdpCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
