"""RTP streams of a capture, measured with the live checks' own receiver statistics.

One pass over the file's records: a UDP datagram that looks like RTP (version 2, not RTCP)
feeds the :class:`~sip_checks.toolkit.rtp.ReceiverStats` of its stream (addresses, ports,
SSRC), the very code that measures loss and RFC 3550 jitter during a live call, so the
analysis of a capture and the live check agree by construction; every other packet is
copied for tshark's SIP pass. Why RTP is not read through tshark: see
:mod:`sip_checks.analyse.capture`.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from pathlib import Path

from sip_checks.analyse.capture import RawIpWriter, frames
from sip_checks.toolkit.rtp import ReceiverStats

_PORTS = struct.Struct("!HHH")
_RTP = struct.Struct("!BBHII")
# Capture point, raw source address, port, destination, port, SSRC: a stream seen on both
# sides of a router is two streams (with a NAT the same tuple can even be seen on both).
Key = tuple[int, bytes, int, bytes, int, int]


def _text(raw: bytes) -> str:
    return ".".join(map(str, raw)) if len(raw) == 4 else str(ipaddress.IPv6Address(raw))


@dataclass
class Stream:
    """One RTP stream (one SSRC from one address and port to another)."""

    src: tuple[str, int]
    dst: tuple[str, int]
    ssrc: int
    pt: int  # the payload type of its first packet (the voice codec)
    stats: ReceiverStats = field(default_factory=ReceiverStats)
    packets: int = 0
    seq_errors: int = 0  # packets whose number is not the last one plus one
    events: int = 0  # RFC 4733 telephone-event packets (not fed to the jitter estimate)
    first_frame: int = 0
    iface: int = 0  # the capture point (pcapng interface) it was seen at
    _last_seq: int = -1

    @property
    def label(self) -> str:
        return f"{self.src[0]}:{self.src[1]}→{self.dst[0]}:{self.dst[1]} 0x{self.ssrc:08X}"

    @property
    def start(self) -> float:
        return self.stats.first_arrival or 0.0

    @property
    def end(self) -> float:
        return self.stats.last_arrival or 0.0


def collect(path: Path, sink: RawIpWriter) -> list[Stream]:
    """Every RTP stream of the capture; every non-RTP packet is written to ``sink``."""
    table: dict[Key, Stream] = {}
    write = sink.write
    unpack_ports, unpack_rtp = _PORTS.unpack_from, _RTP.unpack_from
    for frame in frames(path, sink.info):
        ip = frame.ip
        if not ip:
            continue
        version = ip[0] >> 4
        if version == 4:
            # UDP, not a fragment (fragments go to tshark, which reassembles them).
            if len(ip) < 28 or ip[9] != 17 or (ip[6] & 0x3F) or ip[7]:
                write(frame)
                continue
            off = (ip[0] & 0x0F) << 2
            src, dst = ip[12:16], ip[16:20]
        elif version == 6 and len(ip) >= 48 and ip[6] == 17:
            off, src, dst = 40, ip[8:24], ip[24:40]
        else:
            write(frame)
            continue
        if len(ip) < off + 20:
            write(frame)
            continue
        sport, dport, length = unpack_ports(ip, off)
        b0, b1, seq, ts, ssrc = unpack_rtp(ip, off + 8)
        if b0 & 0xC0 != 0x80 or 64 <= (b1 & 0x7F) <= 95 or length < 20:
            write(frame)  # SIP, STUN, RTCP, DNS...: text or other headers for tshark
            continue
        key = (frame.iface, src, sport, dst, dport, ssrc)
        st = table.get(key)
        if st is None:
            st = table[key] = Stream((_text(src), sport), (_text(dst), dport), ssrc, b1 & 0x7F,
                                     first_frame=frame.number, iface=frame.iface)
        pt = b1 & 0x7F
        st.packets += 1
        if seq != (st._last_seq + 1) & 0xFFFF and st._last_seq >= 0:
            st.seq_errors += 1
        st._last_seq = seq
        # A packet of another dynamic payload type than the stream's voice is an RFC 4733
        # event: it counts for loss, not jitter, as in the live check.
        voice = pt == st.pt or pt < 96
        if not voice:
            st.events += 1
        st.stats.update(seq, ts, frame.at, voice=voice)
    return list(table.values())


def is_rtp_stream(s: Stream, *, matched: bool) -> bool:
    """Whether a candidate is RTP: matched to a call's SDP, or a run long and orderly enough
    that chance (DNS, games, VPNs with the same two bits) cannot explain it."""
    if matched:
        return True
    return s.packets >= 20 and s.seq_errors <= s.packets // 10
