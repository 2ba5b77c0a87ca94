"""Media gaps: a stream that stops for a second or more in mid-call, when, how long, and why.

Why one second (:data:`sip_checks.analyse.streams.GAP_S`): a jitter buffer holds at most a
few hundred milliseconds, so a second without packets is a cut the listener hears, while
shorter holes already show in the loss and jitter figures; and the senders that go quiet on
purpose do it by whole seconds or not at all (Opus DTX sends a packet every 400 ms).

What the packets on either side of the hole tell (RFC 3550 numbering):
- numbers missing in between, about as many as the hole lasts: sent, and lost before the
  capture point (a link outage, Wi-Fi, a route or NAT binding change);
- no number missing, the timestamp advanced with the time: the sender had nothing to send
  (silence suppression, DTX): shown, not a fault;
- no number missing, the timestamp barely moved: the sender itself paused its media.
A hole while the SDP had the call on hold (a=sendonly, recvonly or inactive) is the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sip_checks.analyse.dialogs import Media
from sip_checks.analyse.streams import Stream

Kind = Literal["lost", "silent", "stopped"]
HOLD = ("sendonly", "recvonly", "inactive")
HOLD_LEAD_S = 2.0  # a hold's re-INVITE comes at most this long before its media stops


@dataclass(frozen=True)
class Gap:
    start: float  # arrival of the last packet before the hole
    end: float  # arrival of the first packet after it
    kind: Kind
    lost: int  # packets numbered in between (sent, never seen)
    hold: str | None = None  # the SDP direction that put the call on hold then

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def fault(self) -> bool:
        return self.hold is None and self.kind != "silent"


def _kind(s: Stream, dt: float, dseq: int, dts: int) -> tuple[Kind, int]:
    lost = max(0, dseq - 1)
    expected = max(2, s.stats.expected)
    interval = (s.end - s.start) / (expected - 1)  # the sender's packet interval
    if lost and lost * interval >= dt / 2:
        return "lost", lost
    if dts >= dt * s.stats.clock_rate / 2:
        return "silent", lost
    return "stopped", lost


def _hold(start: float, end: float, media: list[Media]) -> str | None:
    """The hold direction an SDP set around the hole: the last one before it, or one sent
    while it lasted (or just before it started)."""
    before = [m for m in media if m.packet.at <= start]
    during = [m for m in media if start - HOLD_LEAD_S <= m.packet.at <= end]
    for m in ([before[-1]] if before else []) + during:
        if m.sdp.direction in HOLD:
            return m.sdp.direction
    return None


def gaps(s: Stream, media: list[Media] | None = None) -> list[Gap]:
    """The holes of one stream, with the call's SDP (``media``) to tell a hold."""
    out = []
    for start, end, dseq, dts in s.silences:
        kind, lost = _kind(s, end - start, dseq, dts)
        out.append(Gap(start, end, kind, lost, _hold(start, end, media or [])))
    return out
