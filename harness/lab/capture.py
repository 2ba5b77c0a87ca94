"""Watch UDP datagrams cross a lab host's interface, below any application socket.

The ALG acceptance has to see what reached the operator host byte for byte even though
Kamailio owns port 5060 there, so :class:`UdpCapture` reads the wire with an AF_PACKET socket
as it goes. :class:`Wire` keeps a whole exchange instead (dumpcap into a pcap, read back with
tshark, both in the namespace), with capture timestamps: what the operator's shapes are judged
by (which address a request to the site came from, whether the relay sent before the site).
"""

from __future__ import annotations

import secrets
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness import capture, netns

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


@dataclass(frozen=True)
class Captured:
    """One UDP datagram of a :class:`Wire` capture, with when it crossed (capture clock)."""

    at: float
    src: tuple[str, int]
    dst: tuple[str, int]
    payload: bytes

    @property
    def sip_first_line(self) -> str | None:
        """The request or status line when the payload is SIP, else None."""
        head = self.payload.split(b"\r\n", 1)[0]
        if head.startswith(b"SIP/2.0 ") or head.endswith(b" SIP/2.0"):
            return head.decode(errors="replace")
        return None

    @property
    def rtp(self) -> bool:
        """True when the payload looks like RTP (version 2, not RTCP's payload types)."""
        return (len(self.payload) >= 12 and self.payload[0] >> 6 == 2
                and not 72 <= self.payload[1] & 0x7F <= 76)


class Wire:
    """dumpcap on one interface of a namespace while the block runs; :meth:`datagrams` then
    reads the capture back with tshark (every UDP datagram, in capture order).

    Stopping dumpcap loses what the kernel holds but dumpcap has not read yet (libpcap hands
    packets over in blocks, up to a fraction of a second late): a BYE sent just before the
    block ends was missing from one run's capture. So the block ends with a marker datagram
    sent out of the interface, and dumpcap is stopped only once the marker is in its file:
    everything that crossed the interface before it is then in the file too."""

    SETTLE_S = 10.0  # how long the marker may take to reach the file on a loaded machine

    def __init__(self, ns: str, ifname: str, path: Path, bpf: str = "udp") -> None:
        self.ns, self.ifname, self.path, self.bpf = ns, ifname, path, bpf
        self._dumpcap: capture.Dumpcap | None = None
        self._marker = b"recette-wire-end:" + secrets.token_hex(8).encode()

    def __enter__(self) -> Wire:
        exe = capture.tool()
        if exe is None:
            raise RuntimeError("dumpcap is not installed (Debian: apt install tshark)")
        self._dumpcap = capture.Dumpcap.start(exe, self.ns, self.path, [self.ifname],
                                              self.bpf, side="lab")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dumpcap is None:
            return
        try:
            self._settle()
        finally:
            self._dumpcap.stop()

    def _settle(self) -> None:
        """Send the marker out of the interface (a broadcast bound to it: no route needed,
        nothing answers) and wait until dumpcap has written it."""
        with netns.inside(self.ns):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.ifname.encode())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # From the discard port, not an ephemeral one: a lab part's filter may drop a
            # source port of its own range (the latching relay drops its 30000-39999 to any
            # site not latched; an ephemeral port falls there one time in four).
            sock.bind(("0.0.0.0", 9))
            sock.sendto(self._marker, ("255.255.255.255", 9))
        deadline = time.monotonic() + self.SETTLE_S
        while self._marker not in self.path.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.02)

    def datagrams(self) -> list[Captured]:
        """Every UDP datagram of the capture (tshark's fields, its payload as bytes); not the
        headers an ICMP error quotes."""
        out = netns.run(None, [
            "tshark", "-r", str(self.path), "-n", "-Y", "udp && !icmp", "-T", "fields",
            "-E", "occurrence=f", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport",
            "-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.payload"]).stdout
        got = []
        for line in out.splitlines():
            at, src, sport, dst, dport, payload = (line.split("\t") + [""] * 6)[:6]
            data = bytes.fromhex(payload.replace(":", ""))
            if not at or not sport or data == self._marker:
                continue
            got.append(Captured(float(at), (src, int(sport)), (dst, int(dport)), data))
        return got
