"""RTP packets (RFC 3550), G.711 frames and RFC 4733 telephone events, and receiver statistics.

Figures are computed from the RTP itself because operators often send no RTCP: loss from the
extended sequence numbers (RFC 3550 A.1/A.3), interarrival jitter with the A.8 estimator fed
by kernel receive timestamps, so the harness's own scheduling does not show up as jitter.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

HEADER = struct.Struct("!BBHII")
DTMF_EVENTS = "0123456789*#ABCD"


@dataclass(frozen=True)
class RtpPacket:
    pt: int
    seq: int
    ts: int
    ssrc: int
    marker: bool
    payload: bytes

    def pack(self) -> bytes:
        return HEADER.pack(0x80, (0x80 if self.marker else 0) | self.pt, self.seq & 0xFFFF,
                           self.ts & 0xFFFFFFFF, self.ssrc) + self.payload


def parse(data: bytes) -> RtpPacket | None:
    """An RTP packet, or None for anything else (RTCP, STUN, garbage) on the media port."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = HEADER.unpack_from(data)
    pt = b1 & 0x7F
    if 72 <= pt <= 76:  # RTCP SR/RR/SDES/BYE/APP sharing the port (RFC 5761)
        return None
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:  # header extension
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
    end = len(data)
    if b0 & 0x20:  # padding
        end -= data[-1]
    if offset > end:
        return None
    return RtpPacket(pt, seq, ts, ssrc, bool(b1 & 0x80), data[offset:end])


_SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for i, end in enumerate(ends):
        if value <= end:
            return i
    return len(ends)


def _alaw(sample: int) -> int:
    """ITU-T G.711 A-law encoding of a 16-bit linear sample (the reference g711.c)."""
    val = sample >> 3
    mask = 0xD5
    if val < 0:
        mask, val = 0x55, -val - 1
    seg = _segment(val, _SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= ((val >> 1) if seg < 2 else (val >> seg)) & 0x0F
    return aval ^ mask


def _ulaw(sample: int) -> int:
    """ITU-T G.711 µ-law encoding of a 16-bit linear sample (the reference g711.c)."""
    val = sample >> 2
    mask = 0xFF
    if val < 0:
        mask, val = 0x7F, -val
    val = min(val, 8159) + (0x84 >> 2)
    seg = _segment(val, _SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((val >> (seg + 1)) & 0x0F)) ^ mask


def tone_frame(codec: str, *, freq: int = 400, samples: int = 160, level: int = 8000) -> bytes:
    """One frame of a sine tone: real, audible G.711 so a capture can be listened to.

    ``freq`` should be a multiple of 8000/``samples`` (50 Hz for 20 ms) so that repeating the
    frame keeps the phase continuous.
    """
    enc = _alaw if codec.upper() == "PCMA" else _ulaw
    return bytes(enc(int(level * math.sin(2 * math.pi * freq * i / 8000)))
                 for i in range(samples))


def dtmf_payload(digit: str, *, end: bool, duration: int, volume: int = 10) -> bytes:
    """RFC 4733 §2.3 event payload."""
    return struct.pack("!BBH", DTMF_EVENTS.index(digit.upper()), (0x80 if end else 0) | volume,
                       duration & 0xFFFF)


def dtmf_parse(payload: bytes) -> tuple[str, bool, int] | None:
    """(digit, end bit, duration) of an RFC 4733 event, None if not one."""
    if len(payload) < 4 or payload[0] >= len(DTMF_EVENTS):
        return None
    return DTMF_EVENTS[payload[0]], bool(payload[1] & 0x80), struct.unpack("!H", payload[2:4])[0]


@dataclass
class ReceiverStats:
    """RFC 3550 receiver statistics for one SSRC (one direction of a call)."""

    clock_rate: int = 8000
    received: int = 0
    base_seq: int | None = None
    max_seq: int = 0
    cycles: int = 0
    duplicates_or_late: int = 0
    jitter: float = 0.0  # in timestamp units, RFC 3550 A.8
    jitter_sum_ms: float = 0.0
    jitter_samples: int = 0
    jitter_max_ms: float = 0.0
    _transit: float | None = None
    first_arrival: float | None = None
    last_arrival: float | None = None
    _seen: set[int] = field(default_factory=set)

    def update(self, seq: int, ts: int, arrival: float, *, voice: bool = True) -> None:
        """Account one packet; ``arrival`` in seconds (kernel receive timestamp).

        Telephone-event packets (``voice=False``) count for loss but not for jitter: all
        packets of one event carry the event's start timestamp.
        """
        self.received += 1
        self.first_arrival = arrival if self.first_arrival is None else self.first_arrival
        self.last_arrival = arrival
        if self.base_seq is None:
            self.base_seq = self.max_seq = seq
        else:
            delta = (seq - self.max_seq) & 0xFFFF
            if 0 < delta < 0x8000:
                if seq < self.max_seq:
                    self.cycles += 1 << 16
                self.max_seq = seq
        ext = self.cycles + seq
        if ext in self._seen:
            self.duplicates_or_late += 1
        self._seen.add(ext)
        if not voice:
            return
        transit = arrival * self.clock_rate - ts
        if self._transit is not None:
            d = abs(transit - self._transit)
            if d < self.clock_rate * 10:  # ignore timestamp jumps (new talkspurt, wrap)
                self.jitter += (d - self.jitter) / 16
                ms = self.jitter * 1000 / self.clock_rate
                self.jitter_sum_ms += ms
                self.jitter_samples += 1
                self.jitter_max_ms = max(self.jitter_max_ms, ms)
        self._transit = transit

    @property
    def expected(self) -> int:
        if self.base_seq is None:
            return 0
        return self.cycles + self.max_seq - self.base_seq + 1

    @property
    def unique(self) -> int:
        return len(self._seen)

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.unique)

    @property
    def loss_pct(self) -> float:
        return 100.0 * self.lost / self.expected if self.expected else 0.0

    @property
    def jitter_ms(self) -> float:
        """Mean of the RFC 3550 estimator over the call (its last value alone is noisy)."""
        return self.jitter_sum_ms / self.jitter_samples if self.jitter_samples else 0.0
