"""RFC 4733 DTMF digits of a stream: which keys were pressed, when, for how long.

Every packet of one event carries the event's start timestamp (RFC 4733 §2.5.1.2), and its
end is sent three times (§2.5.1.4): so one digit per distinct timestamp, whatever the number
of updates and end retransmissions. The event payload type is the SDP's telephone-event
rtpmap; without SDP, a dynamic type other than the voice whose 4-byte payloads all read as
events (code 0-15, reserved bit clear, durations growing within an event).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sip_checks.analyse.streams import Stream
from sip_checks.toolkit.rtp import DTMF_EVENTS

EVENT_RATE = 8000  # telephone-event/8000, the rate every trunk offers


@dataclass(frozen=True)
class Digit:
    key: str  # 0-9, *, #, A-D
    at: float  # arrival of its first packet
    duration_ms: float  # the longest duration its packets announced
    ended: bool  # an end packet arrived (else the capture lost or cut it)


def _events(packets: list[tuple[float, int, int, bytes]], pt: int) -> list[Digit]:
    by_ts: dict[int, list[tuple[float, bytes]]] = {}
    for at, p, ts, payload in packets:
        if p == pt:
            by_ts.setdefault(ts, []).append((at, payload))
    digits = []
    for group in by_ts.values():
        code = group[0][1][0]
        if code >= len(DTMF_EVENTS):
            continue  # flash, tones: not a key
        duration = max(struct.unpack_from("!H", payload, 2)[0] for _, payload in group)
        digits.append(Digit(DTMF_EVENTS[code], group[0][0], duration * 1000 / EVENT_RATE,
                            any(payload[1] & 0x80 for _, payload in group)))
    return sorted(digits, key=lambda d: d.at)


def _looks_like_events(packets: list[tuple[float, int, int, bytes]], pt: int) -> bool:
    """Every 4-byte payload of type ``pt`` reads as an RFC 4733 event, durations growing
    within each event: at random, a code under 16 and the reserved bit clear is a chance of
    1 in 32 per packet."""
    last: dict[int, int] = {}
    count = 0
    for _, p, ts, payload in packets:
        if p != pt:
            continue
        count += 1
        duration = struct.unpack_from("!H", payload, 2)[0]
        if payload[0] >= len(DTMF_EVENTS) or payload[1] & 0x40 or duration < last.get(ts, 0):
            return False
        last[ts] = duration
    return count >= 2


def event_pt(s: Stream) -> int | None:
    """The dynamic payload type of the stream's events, read from the stream alone."""
    types = sorted({p for _, p, _, _ in s.event_packets if p != s.pt})
    return next((pt for pt in types if _looks_like_events(s.event_packets, pt)), None)


def digits(s: Stream, pt: int | None) -> list[Digit]:
    """The keys pressed in the stream, in order (``pt``: the SDP's telephone-event type;
    None: found from the stream itself)."""
    if pt is None:
        pt = event_pt(s)
    return _events(s.event_packets, pt) if pt is not None else []
