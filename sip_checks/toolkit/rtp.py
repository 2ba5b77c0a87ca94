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
    head = unpack(data)
    if head is None:
        return None
    b1, seq, ts, ssrc, start, end = head
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bool(b1 & 0x80), data[start:end])


def unpack(data: bytes) -> tuple[int, int, int, int, int, int] | None:
    """(marker and PT byte, seq, ts, SSRC, payload start, payload end), or None as ``parse``.

    The media engine's per-packet reader: no packet object and no payload copy (a call
    receives 50 packets a second, most of which only feed the statistics).
    """
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = HEADER.unpack_from(data)
    pt = b1 & 0x7F
    if 64 <= pt <= 95:  # RTCP sharing the port: types 192-223 (RFC 5761 §4, which keeps
        return None     # RTP payload types 64-95 free for this): SR/RR/SDES/BYE/APP, RTPFB...
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
    return b1, seq, ts, ssrc, offset, end


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


RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000  # RFC 3550 A.1: a forward gap below this is loss, above it a jump
MAX_MISORDER = 100  # ... and one less than this behind the highest is late, not a jump
JITTER_RESTART_S = 1.0  # a transit change beyond this is a re-anchored stream, not jitter


@dataclass
class ReceiverStats:
    """RFC 3550 receiver statistics for one SSRC (one direction of a call).

    Sequence numbers follow A.1's ``update_seq`` (without the initial probation: the port
    and the SSRC are negotiated): a gap below ``MAX_DROPOUT`` is loss; a packet less than
    ``MAX_MISORDER`` behind the highest is late or a duplicate, numbered in the cycle it
    belongs to; anything else is a very large jump, set aside as ``bad`` until the next
    sequence number in that new space arrives, which resynchronises: relays and SBCs
    renumber streams. A resynchronisation closes the current run (its expected and unique
    counts are kept) and starts a new one at the first packet of the new numbering, so the
    jump is neither loss nor extra packets, and both packets of the pair are received.

    ``base_seq``, ``max_seq`` and ``cycles`` describe the current run; ``base_seq`` is
    extended (``cycles + seq`` space, below 0 when a late packet from before a wrap is older
    than the first one). ``expected``, ``unique`` and ``lost`` add every run.
    """

    clock_rate: int = 8000
    received: int = 0  # every packet accepted by A.1, duplicates included
    base_seq: int | None = None
    max_seq: int = 0
    cycles: int = 0
    bad_seq: int = RTP_SEQ_MOD + 1  # A.1: the sequence number that would confirm a jump
    bad: int = 0  # packets set aside as a jump that no sequential packet confirmed
    resyncs: int = 0
    duplicates_or_late: int = 0  # received again: received == unique + duplicates_or_late
    jitter: float = 0.0  # in timestamp units, RFC 3550 A.8
    jitter_sum_ms: float = 0.0
    jitter_samples: int = 0
    jitter_max_ms: float = 0.0
    jitter_restarts: int = 0
    first_arrival: float | None = None
    last_arrival: float | None = None
    _last_arrival: float | None = None  # arrival and timestamp of the last voice packet
    _last_ts: int = 0
    _seen: set[int] = field(default_factory=set)  # extended numbers of the current run
    _closed_expected: int = 0
    _closed_unique: int = 0

    def update(self, seq: int, ts: int, arrival: float, *, voice: bool = True) -> None:
        """Account one packet; ``arrival`` in seconds (kernel receive timestamp).

        Telephone-event packets (``voice=False``) count for loss but not for jitter: all
        packets of one event carry the event's start timestamp. Called for every packet of
        every call by the media engine, so the in-order case is kept short.
        """
        seq &= 0xFFFF
        if self.first_arrival is None:
            self.first_arrival = arrival
        self.last_arrival = arrival
        max_seq = self.max_seq
        if self.base_seq is None:
            self.base_seq = self.max_seq = seq
            ext = seq
        else:
            udelta = (seq - max_seq) & 0xFFFF
            if udelta < MAX_DROPOUT:  # in order, with a permissible gap
                if seq < max_seq:
                    self.cycles += RTP_SEQ_MOD
                self.max_seq = seq
                ext = self.cycles + seq
            elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:  # a very large jump
                if seq != self.bad_seq:
                    self.bad_seq = (seq + 1) & 0xFFFF
                    self.bad += 1
                    return
                self._resync(seq)
                ext = seq
            else:  # late or duplicate: the cycle it was sent in, maybe before a wrap
                ext = self.cycles + max_seq - (RTP_SEQ_MOD - udelta)
                self.base_seq = min(self.base_seq, ext)
        self.received += 1
        seen = self._seen
        if ext in seen:
            self.duplicates_or_late += 1
        else:
            seen.add(ext)
        if voice:
            self._jitter(ts, arrival)

    def _resync(self, seq: int) -> None:
        """A.1's ``init_seq`` at the second packet of a new numbering: close the run and
        start one whose base is the first packet (``seq - 1``, set aside as bad), counted now.
        """
        self._closed_expected += self._run_expected()
        self._closed_unique += len(self._seen)
        self.resyncs += 1
        self.bad -= 1
        self.cycles, self.max_seq, self.base_seq = 0, seq, seq - 1
        self.bad_seq = RTP_SEQ_MOD + 1
        self._seen = {seq - 1}
        self.received += 1

    def _jitter(self, ts: int, arrival: float) -> None:
        """A.8: J += (|D| - J) / 16, D the change of transit time since the last voice packet.

        A change beyond ``JITTER_RESTART_S`` (a new timestamp base after an SBC re-anchors
        the stream, a talkspurt after silence without timestamps) is not fed: the estimate
        restarts from this packet as its new transit reference and keeps its value.
        """
        last_arrival = self._last_arrival
        if last_arrival is not None:
            # The timestamp difference as a signed 32-bit number (a wrap is no jump).
            dts = ((ts - self._last_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            d = abs((arrival - last_arrival) * self.clock_rate - dts)
            if d <= self.clock_rate * JITTER_RESTART_S:
                jitter = self.jitter = self.jitter + (d - self.jitter) / 16
                ms = jitter * 1000 / self.clock_rate
                self.jitter_sum_ms += ms
                self.jitter_samples += 1
                if ms > self.jitter_max_ms:
                    self.jitter_max_ms = ms
            else:
                self.jitter_restarts += 1
        self._last_arrival, self._last_ts = arrival, ts

    def _run_expected(self) -> int:
        return 0 if self.base_seq is None else self.cycles + self.max_seq - self.base_seq + 1

    @property
    def expected(self) -> int:
        """Packets sent, from the sequence numbers: every run, the jumps between them not."""
        return self._closed_expected + self._run_expected()

    @property
    def unique(self) -> int:
        return self._closed_unique + len(self._seen)

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
