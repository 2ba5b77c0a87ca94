"""RTP without signalling (a trunk's SIP over TLS, or SIP not captured): streams paired into
conversations by their addresses, and what they alone can tell.

A stream's reverse is the one between the same addresses and ports swapped (symmetric RTP,
RFC 4961, which nearly every trunk and IPBX uses), else between the same addresses on other
ports at the same time (asymmetric RTP). With no SDP, nobody said a reverse was expected: a
stream alone is only suspicious when other conversations of the same capture are seen both
ways (so the capture point does see both directions); when none is, the capture cannot judge
one-way audio at all, and says so instead of finding nothing wrong.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from harness.messages import Msg, msg
from sip_checks.analyse.streams import Stream
from sip_checks.toolkit.quality import Quality


@dataclass
class Conversation:
    """One stream and its reverse (None: not in the capture)."""

    a: tuple[Stream, Quality]
    b: tuple[Stream, Quality] | None
    symmetric: bool = True  # the reverse uses the same ports


def _overlap(x: Stream, y: Stream) -> bool:
    return x.start <= y.end and y.start <= x.end


def pair(others: list[tuple[Stream, Quality]]) -> list[Conversation]:
    """Each stream with its reverse, in order of first packet (indexed by addresses: an
    RTP-only trunk capture holds thousands of streams)."""
    ordered = sorted(others, key=lambda sq: (sq[0].start, sq[0].first_frame))
    by_ends: dict[tuple[tuple[str, int], tuple[str, int]], list[int]] = defaultdict(list)
    by_hosts: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (s, _) in enumerate(ordered):
        by_ends[(s.src, s.dst)].append(i)
        by_hosts[(s.src[0], s.dst[0])].append(i)
    used: set[int] = set()
    out = []
    for i, (s, q) in enumerate(ordered):
        if i in used:
            continue
        used.add(i)
        exact = next((j for j in by_ends[(s.dst, s.src)] if j not in used), None)
        loose = next((j for j in by_hosts[(s.dst[0], s.src[0])]
                      if j not in used and _overlap(ordered[j][0], s)), None)
        j = exact if exact is not None else loose
        if j is None:
            out.append(Conversation((s, q), None))
            continue
        used.add(j)
        out.append(Conversation((s, q), ordered[j], symmetric=exact is not None))
    return out


def findings(others: list[tuple[Stream, Quality]], *, signalled: bool,
             two_way_calls: int = 0) -> list[Msg]:
    """What RTP without an SDP shows: no signalling to judge calls by (when the capture
    holds no call at all), directions suspected silent, streams of poor quality.
    ``two_way_calls``: calls of the capture whose media is seen both ways, which show as well
    as two-way conversations that the capture point sees both directions."""
    if not others:
        return []
    convs = pair(others)
    both = len([c for c in convs if c.b is not None]) + two_way_calls
    out = []
    if not signalled:
        out.append(msg("AN_RTP_NO_SIGNALLING", streams=len(others), conversations=len(convs)))
    alone = [c for c in convs if c.b is None]
    if alone and not both:
        out.append(msg("AN_RTP_ONE_SIDED_CAPTURE", count=len(alone)))
    elif alone:
        for c in alone:
            s = c.a[0]
            out.append(msg("AN_RTP_ONE_WAY_INFERRED", where=s.where, packets=s.packets,
                           both=both))
    for s, q in sorted(others, key=lambda sq: (sq[0].start, sq[0].first_frame)):
        if q.grade == "bad":
            out.append(msg("AN_RTP_POOR", where=s.where, problems=q.problems))
    return out
