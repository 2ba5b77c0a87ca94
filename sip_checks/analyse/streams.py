"""RTP streams of a capture, measured with the live checks' own receiver statistics.

One pass over the file's records: a UDP datagram that looks like RTP (version 2, not RTCP)
feeds the :class:`~sip_checks.toolkit.rtp.ReceiverStats` of its stream (addresses, ports,
SSRC), the very code that measures loss and RFC 3550 jitter during a live call, so the
analysis of a capture and the live check agree by construction; every other packet goes to
the sink that reads SIP (:mod:`sip_checks.analyse.sipread`). Why RTP is not read through
tshark: see :mod:`sip_checks.analyse.capture`.
"""

from __future__ import annotations

import ipaddress
import struct
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sip_checks.analyse import clock
from sip_checks.analyse.capture import Sink, frames
from sip_checks.toolkit.rtp import ReceiverStats

if TYPE_CHECKING:
    from sip_checks.analyse.dtmf import Digit
    from sip_checks.analyse.gaps import Gap

_PORTS = struct.Struct("!HHH")
_RTP = struct.Struct("!BBHII")
# Capture point, raw source address, port, destination, port, SSRC: a stream seen on both
# sides of a router is two streams (with a NAT the same tuple can even be seen on both).
Key = tuple[int, bytes, int, bytes, int, int]


def _text(raw: bytes) -> str:
    return ".".join(map(str, raw)) if len(raw) == 4 else str(ipaddress.IPv6Address(raw))


GAP_S = 1.0  # see :mod:`sip_checks.analyse.gaps`
SMALL_GAP = 100  # a forward sequence gap up to this (2 s at 20 ms) is loss, beyond a jump


@dataclass
class Stream:
    """One RTP stream (one SSRC from one address and port to another).

    Besides its receiver statistics it keeps what a second look needs: for a dynamic payload
    type, every packet's (arrival, timestamp, sequence number), to measure jitter again at the
    clock rate the SDP names (:meth:`use_clock`); the packets of 4 bytes of payload of a
    dynamic type (RFC 4733 events, :mod:`sip_checks.analyse.dtmf`); and each silence of a
    second or more (:mod:`sip_checks.analyse.gaps`). A static type's rate is known at its
    first packet (RFC 3551), so the common G.711 stream stores nothing per packet.
    """

    src: tuple[str, int]
    dst: tuple[str, int]
    ssrc: int
    pt: int  # the payload type of its first packet (the voice codec)
    stats: ReceiverStats = field(default_factory=ReceiverStats)
    packets: int = 0
    seq_errors: int = 0  # packets whose number is not the last one plus one
    jumps: int = 0  # ... nor a small step forward: repeated, or a jump (chance, not RTP)
    other_pt: int = 0  # packets of a static type other than the stream's (a second codec)
    max_len: int = 0  # the largest UDP payload
    events: int = 0  # RFC 4733 telephone-event packets (not fed to the jitter estimate)
    first_frame: int = 0
    iface: int = 0  # the capture point (pcapng interface) it was seen at
    clock_source: str = "static"  # "static", "sdp", "inferred" or "default" (8 kHz, unknown)
    # (arrival, seq | voice << 16 | ts << 17) of each packet, dynamic payload types only
    record: tuple[array[float], array[int]] | None = None
    # (arrival, payload type, timestamp, payload) of each 4-byte dynamic-type payload
    event_packets: list[tuple[float, int, int, bytes]] = field(default_factory=list)
    # (last arrival before, arrival after, sequence step, timestamp step) of each silence
    silences: list[tuple[float, float, int, int]] = field(default_factory=list)
    digits: list[Digit] = field(default_factory=list)  # set once matched (diagnose)
    gaps: list[Gap] = field(default_factory=list)  # ditto
    _last_seq: int = -1

    @property
    def label(self) -> str:
        return f"{self.src[0]}:{self.src[1]}→{self.dst[0]}:{self.dst[1]} 0x{self.ssrc:08X}"

    @property
    def where(self) -> str:
        return f"{self.src[0]}:{self.src[1]}→{self.dst[0]}:{self.dst[1]}"

    @property
    def start(self) -> float:
        return self.stats.first_arrival or 0.0

    @property
    def end(self) -> float:
        return self.stats.last_arrival or 0.0

    def points(self) -> list[tuple[float, int]]:
        """(arrival, timestamp) of each voice packet, for a dynamic type ([] otherwise)."""
        if self.record is None:
            return []
        ats, words = self.record
        return [(at, w >> 17) for at, w in zip(ats, words, strict=True) if w >> 16 & 1]

    def use_clock(self, rate: int, source: str) -> None:
        """Measure a dynamic type's stream again at ``rate`` (Hz): the statistics are rebuilt
        from the recorded packets, as a reader knowing that rate would have found them."""
        if self.record is None:
            return  # a static type: measured at RFC 3551's rate from its first packet
        self.clock_source = source
        if rate == self.stats.clock_rate:
            return
        stats = ReceiverStats(clock_rate=rate)
        update = stats.update
        for at, w in zip(*self.record, strict=True):
            update(w & 0xFFFF, w >> 17, at, voice=bool(w >> 16 & 1))
        self.stats = stats


def collect(path: Path, sink: Sink) -> list[Stream]:
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
        pt = b1 & 0x7F
        st = table.get(key)
        if st is None:
            st = table[key] = _new(frame.number, frame.iface, src, sport, dst, dport, ssrc, pt)
        st.packets += 1
        if length > st.max_len:
            st.max_len = length
        last_seq = st._last_seq
        if seq != (last_seq + 1) & 0xFFFF and last_seq >= 0:
            st.seq_errors += 1
            step = (seq - last_seq) & 0xFFFF
            if step == 0 or SMALL_GAP < step < 0x10000 - SMALL_GAP:
                st.jumps += 1
        st._last_seq = seq
        # A packet of another dynamic payload type than the stream's voice is an RFC 4733
        # event: it counts for loss, not jitter, as in the live check.
        if pt == st.pt:
            voice = True
        elif pt < 96:
            voice = True
            if pt != 13:  # comfort noise (RFC 3389) is part of a voice stream
                st.other_pt += 1
        else:
            voice = False
            st.events += 1
        stats = st.stats
        last = stats.last_arrival
        if last is not None and frame.at - last >= GAP_S:
            st.silences.append((last, frame.at, (seq - last_seq) & 0xFFFF,
                                ((ts - stats._last_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000))
        record = st.record
        if record is not None:
            record[0].append(frame.at)
            record[1].append(seq | voice << 16 | ts << 17)
        if pt >= 96 and length == 24 + 4 * (b0 & 0x0F) and not b0 & 0x30:
            at = off + 20 + 4 * (b0 & 0x0F)
            st.event_packets.append((frame.at, pt, ts, ip[at:at + 4]))
        stats.update(seq, ts, frame.at, voice=voice)
    return list(table.values())


def _new(number: int, iface: int, src: bytes, sport: int, dst: bytes, dport: int, ssrc: int,
         pt: int) -> Stream:
    """A stream at its first packet: a static type's clock rate is known now; a dynamic
    type's waits for the SDP (or the stream itself), so its packets are recorded."""
    rate = clock.static(pt)
    st = Stream((_text(src), sport), (_text(dst), dport), ssrc, pt, first_frame=number,
                iface=iface, stats=ReceiverStats(clock_rate=rate or clock.DEFAULT))
    if rate is None:
        st.record = (array("d"), array("q"))
        st.clock_source = "default"
    return st


# Why a run of datagrams is RTP when no SDP announced it (RTP over an encrypted trunk's
# signalling): chance gives version 2 in one datagram in four, and then a sequence number
# and a timestamp that mean nothing. Real RTP, even with 30 % random loss, steps its sequence
# numbers forward by small gaps (a 1 % chance at random per packet), its timestamps advance
# with arrival time at the clock rate (a jitter restart in RFC 3550's estimator at random),
# keeps one payload type and packets no larger than a datagram on a voice path. The packet
# rate is no criterion of its own: DTX sends 2.5 packets a second in silence and video a
# thousand, and timestamps in step with arrival times already say the rate is the clock's.
MIN_PACKETS = 20
MAX_JUMPS = 0.10  # repeated numbers and jumps: resynchronisations, duplicates
MAX_RESTARTS = 0.10  # timestamps out of step with time by more than a second
MAX_OTHER_PT = 0.10
MAX_UDP = 1500


def is_rtp_stream(s: Stream, *, matched: bool) -> bool:
    """Whether a candidate is RTP: matched to a call's SDP, or a run that chance (DNS, games,
    VPNs with the same two bits) cannot explain (see the heuristics above)."""
    if matched:
        return True
    n = s.packets
    return (n >= MIN_PACKETS and s.jumps <= n * MAX_JUMPS
            and s.stats.jitter_restarts <= n * MAX_RESTARTS and s.other_pt <= n * MAX_OTHER_PT
            and s.max_len <= MAX_UDP)
