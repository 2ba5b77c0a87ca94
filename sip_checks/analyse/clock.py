"""An RTP stream's clock rate: the SDP's rtpmap, RFC 3551's static table, or the stream itself.

Jitter is measured in timestamp units and turned into milliseconds with the clock rate, so a
wrong rate scales it wrongly: an Opus stream (48 kHz) read at 8 kHz shows six times its
jitter, plus the difference between its arrival times at 8 kHz and its timestamps at 48 kHz.
Wireshark takes the rate from the SDP that set the stream up, else from RFC 3551's table;
so do we, and without SDP a dynamic type's rate is read from the stream (its timestamps
advance with time at the clock rate), snapped to the rates codecs use.
"""

from __future__ import annotations

from collections.abc import Iterable

# RFC 3551 §6 (tables 4 and 5), the static payload types with their RTP clock rate. G.722
# is 8000 although it samples at 16 kHz (§4.5.2: an error kept for compatibility).
STATIC: dict[int, int] = {
    0: 8000, 3: 8000, 4: 8000, 5: 8000, 6: 16000, 7: 8000, 8: 8000, 9: 8000, 10: 44100,
    11: 44100, 12: 8000, 13: 8000, 14: 90000, 15: 8000, 16: 11025, 17: 22050, 18: 8000,
    25: 90000, 26: 90000, 28: 90000, 31: 90000, 32: 90000, 33: 90000, 34: 90000,
}
DEFAULT = 8000
# The clock rates of the codecs a trunk or an IPBX speaks (G.711/G.729 8 kHz, G.722.2 and
# SILK 16 kHz, Opus 48 kHz, L16 44.1 kHz, video 90 kHz).
COMMON = (8000, 12000, 16000, 24000, 32000, 44100, 48000, 90000)


def static(pt: int) -> int | None:
    """RFC 3551's rate of a static payload type, None for a dynamic (or unassigned) one."""
    return STATIC.get(pt)


def snap(rate: float) -> int | None:
    """The common clock rate within 10 % of a measured one, None when none is."""
    best = min(COMMON, key=lambda r: abs(r - rate))
    return best if abs(best - rate) <= best * 0.10 else None


def inferred(points: Iterable[tuple[float, int]]) -> int | None:
    """The clock rate of a stream from its (arrival, timestamp) pairs: the timestamp advance
    over the elapsed time, from first to last (unwrapped; late packets and jumps of more than
    a second of timestamps at 90 kHz are left out so a re-anchored stream does not count).
    None when under a second of stream or no common rate fits."""
    first_at = last_at = 0.0
    total = 0
    prev: int | None = None
    for at, ts in points:
        if prev is None:
            first_at = last_at = at
            prev = ts
            continue
        d = ((ts - prev + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        prev = ts
        if 0 <= d <= 90000 * max(1.0, at - last_at + 1.0):
            total += d
        last_at = at
    if last_at - first_at < 1.0:
        return None
    return snap(total / (last_at - first_at))
