"""What an integrator needs from a capture: each stream's call, quality and the diagnoses.

The rules are those of the live checks where both exist (one-way audio names the silent
direction as :func:`sip_checks.verdict.one_way_diagnosis` does, quality is graded by
:func:`sip_checks.toolkit.quality.assess`, rewrites are diffed by
:func:`sip_checks.probes.alg.diff`), and the capture-only ones come from what a support desk
looks for first: private addresses leaking to the public side, media sent where nobody
listens, calls cut at a fixed time after answer, failed registrations, 408/503 on INVITE.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from harness.messages import Msg, Param, msg
from harness.profile import Thresholds
from sip_checks.analyse import clock, conversations, dtmf, gaps
from sip_checks.analyse.capture import CaptureInfo
from sip_checks.analyse.dialogs import Dialog, Media
from sip_checks.analyse.fields import IcmpError, SipPacket
from sip_checks.analyse.legs import legs
from sip_checks.analyse.streams import Stream, is_rtp_stream
from sip_checks.probes.alg import Change, via_parts
from sip_checks.probes.alg import diff as alg_diff
from sip_checks.toolkit.quality import Quality, assess

Role = Literal["up", "down"]  # caller→callee, callee→caller
PRIVATE = [ipaddress.ip_network(n) for n in
           ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")]
TEARDOWN_MIN_S = 25.0  # session timers and NAT bindings expire after this; test calls end before
TEARDOWN_SPREAD_S = 1.5
TIMER_B_S = 32.0  # RFC 3261 Timer B (64 × T1): an INVITE with no response at all gives up
TIMER_C_S = 180.0  # RFC 3261 Timer C (> 3 min): a proxy gives up on a ringing INVITE
SHORT_S = 2.0  # answered this little before the capture ended: too soon to judge its audio


def private(address: str) -> bool:
    """RFC 1918, RFC 6598 (carrier-grade NAT) and unique-local IPv6 addresses."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in PRIVATE if net.version == ip.version)


@dataclass
class CallStream:
    stream: Stream
    role: Role | None  # None: matched to the call by port only, direction unknown
    quality: Quality


@dataclass
class Call:
    """An INVITE dialog, its streams and what went wrong."""

    dialog: Dialog
    streams: list[CallStream] = field(default_factory=list)
    symptom: Msg | None = None  # the one line of the incident row; None for a good call
    silent: list[Role] = field(default_factory=list)  # directions nobody heard
    note: Msg | None = None  # what the capture cannot tell: it ended before the call did
    leg_of: Call | None = None  # the call's previous leg, through a B2BUA (see legs())
    b2bua: str = ""  # that B2BUA's address


@dataclass
class Rewrite:
    """One message seen on both sides of a router, and what changed on the way."""

    dialog: Dialog
    sent: SipPacket
    got: SipPacket
    changes: list[Change]


@dataclass
class Analysis:
    dialogs: list[Dialog]
    calls: list[Call]
    others: list[tuple[Stream, Quality]]  # RTP streams no call's SDP announced
    findings: list[Msg]
    rewrites: list[Rewrite]
    thresholds: Thresholds
    # What the file held: cut short (``cut_at``), the time of its last record (``last_at``).
    capture: CaptureInfo | None = None
    # What the capture cannot show about its calls (said beside the findings, not as one).
    notes: list[Msg] = field(default_factory=list)


def direction(call: Dialog, role: Role | None, s: Stream) -> Msg:
    """A stream's direction, by the call's numbers when known, always with its addresses."""
    where = f"{s.src[0]}:{s.src[1]}→{s.dst[0]}:{s.dst[1]}"
    if role == "up":
        return msg("AN_DIR_CALL", src=call.calling, dst=call.called, where=where)
    if role == "down":
        return msg("AN_DIR_CALL", src=call.called, dst=call.calling, where=where)
    return msg("AN_DIR", where=where)


def grade(s: Stream, d: Msg, t: Thresholds, ptime_ms: int = 20) -> Quality:
    """The live checks' grading of one direction; no round trip is known from a capture,
    so the mouth-to-ear delay is packetisation plus a jitter buffer of twice the jitter."""
    st = s.stats
    return assess(direction=d, sent=None, received=st.received, expected=st.expected,
                  loss_pct=st.loss_pct, jitter_ms=st.jitter_ms, jitter_max_ms=st.jitter_max_ms,
                  rtt_ms=None, ptime_ms=ptime_ms, loss_max=t.loss_pct, jitter_max=t.jitter_ms,
                  delay_max=t.one_way_delay_ms, r_pass=t.r_pass, r_warn=t.r_warn)


def _window(d: Dialog) -> tuple[float, float]:
    return d.packets[0].at - 1.0, d.packets[-1].at + 2.0


def _end(point: tuple[str, int], media: list[Media]) -> int:
    """How well one end of a stream matches the SDP of one side: 3 address and port, 1 the
    port only (an address a NAT rewrote without an ALG), 0 not at all."""
    return max((3 if (m.address, m.port) == point else 1 if m.port == point[1] else 0
                for m in media), default=0)


SDP_LEAD_S = 1.0  # media may start this long before its SDP is seen (capture order)
SDP_LAG_S = 2.0  # a stream may start this long after a newer SDP replaced its own


def _valid(media: list[Media], at: float) -> list[Media]:
    """The SDP of one party in force at time ``at``: each version (one message and its
    copies on both sides of a router: CSeq and kind) from when it is seen until the next
    version; all of them when none is in force (media before any SDP was captured)."""
    versions: dict[tuple[object, ...], list[Media]] = {}
    for m in media:
        msg_ = m.packet.message
        versions.setdefault((msg_.cseq, msg_.is_response), []).append(m)
    ordered = sorted(versions.values(), key=lambda v: v[0].packet.at)
    out = []
    for i, version in enumerate(ordered):
        start = version[0].packet.at - SDP_LEAD_S if i else float("-inf")
        end = ordered[i + 1][0].packet.at + SDP_LAG_S if i + 1 < len(ordered) else float("inf")
        if start <= at <= end:
            out += version
    return out or media


def _role(d: Dialog, s: Stream) -> tuple[int, Role | None] | None:
    """(match strength, role) of stream ``s`` in call ``d``, None when its SDP never named
    either end. Both ends count: a stream to the caller comes from the callee's announced
    address (symmetric RTP), and the other way round. One end alone cannot tell calls apart
    when many calls share a far end's media port (a test number, an SBC), while the site's
    own port, even behind a NAT that changed its address, differs per call.

    Each SDP counts for the party that sent it (whoever offered: a re-INVITE may come from
    the callee), and only while it is in force (media moved by a re-INVITE)."""
    sides = d.media()
    caller = _valid([m for m in sides if m.caller], s.start)
    callee = _valid([m for m in sides if not m.caller], s.start)
    down = (_end(s.dst, caller), _end(s.src, callee))  # to the caller
    up = (_end(s.dst, callee), _end(s.src, caller))  # to the callee
    best = max((down, "down"), (up, "up"), key=lambda c: (sum(c[0]), c[0][0]))
    (dst, src), role = best
    if dst + src == 0:
        return None
    if sum(down) == sum(up) and down[0] == up[0]:
        return dst + src, None  # both parties announced the same ends: direction unknown
    return dst + src, role  # type: ignore[return-value]


def match(dialogs: list[Dialog], streams: list[Stream],
          t: Thresholds) -> tuple[list[Call], list[tuple[Stream, Quality]]]:
    """Each stream to the INVITE dialog whose SDP announced it and whose time it falls in,
    measured at the clock rate that SDP gives its payload type (:mod:`.clock`), with its
    DTMF digits and media gaps."""
    calls = [Call(d) for d in dialogs if d.method == "INVITE"]
    others = []
    for s in streams:
        best: tuple[int, Role | None, Call] | None = None
        for c in calls:
            lo, hi = _window(c.dialog)
            if not lo <= s.start <= hi:
                continue
            found = _role(c.dialog, s)
            if found and (best is None or found[0] > best[0]):
                best = (found[0], found[1], c)
        if best is None:
            if is_rtp_stream(s, matched=False):
                media_notes(s, [])
                others.append((s, grade(s, msg("AN_DIR", where=s.where), t)))
            continue
        _, role, c = best
        media_notes(s, c.dialog.media())
        c.streams.append(CallStream(s, role, grade(s, direction(c.dialog, role, s), t)))
    return calls, others


def media_notes(s: Stream, media: list[Media]) -> None:
    """A stream's clock rate, DTMF digits and gaps, from its call's SDP (``media``; [] for
    a stream no SDP announced)."""
    maps = [m.sdp for m in media if m.port == s.dst[1]] + [m.sdp for m in media]
    rate = next((sdp.rtpmap[s.pt][1] for sdp in maps if s.pt in sdp.rtpmap), None)
    if rate is not None:
        s.use_clock(rate, "sdp")
    elif s.record is not None:
        found = clock.inferred(s.points())
        if found is not None:
            s.use_clock(found, "inferred")
    events = next((pt for sdp in maps if (pt := sdp.event_pt) is not None), None)
    s.digits = dtmf.digits(s, events)
    s.gaps = gaps.gaps(s, media)


def _points(d: Dialog) -> tuple[int, int] | None:
    """The capture points nearest the caller and the callee: where the INVITE was seen first
    and last. None when it was seen at one point only: capture points then do not separate
    two sides of a router (a pcapng may hold SIP on one interface and RTP on another), and
    any of them hears."""
    first = d.first
    copies = [p for p in d.packets if p.message.method == "INVITE"
              and p.message.cseq == first.message.cseq]
    if len({p.iface for p in copies}) < 2:
        return None
    return copies[0].iface, copies[-1].iface


def one_way(c: Call) -> Msg | None:
    """The silent direction(s) of an answered call, as the live check names them.

    A direction is heard where its receiver is: at the capture point nearest the callee for
    caller→callee, nearest the caller for the other way. With a capture on both sides of a
    router (the INVITE seen at two capture points), media seen only on the sending side
    never crossed it (the same tuple can be seen on both sides, so the capture point, not
    the addresses, tells). A stream whose direction is unknown (both parties announced its
    ends) may be either: no direction is then said silent, since none can be named."""
    if c.dialog.answered is None or not c.streams:
        return None  # no RTP in the capture for this call at all: filtered, not silent
    points = _points(c.dialog)
    sent: dict[Role, list[Stream]] = defaultdict(list)
    heard: dict[Role, list[Stream]] = defaultdict(list)
    unknown = 0
    for cs in c.streams:
        if cs.stream.stats.received == 0:
            continue
        if cs.role is None:
            unknown += 1
            continue
        sent[cs.role].append(cs.stream)
        receiver = None if points is None else points[1] if cs.role == "up" else points[0]
        if receiver is None or cs.stream.iface == receiver:
            heard[cs.role].append(cs.stream)
    roles: tuple[Role, Role] = ("down", "up")  # the site's own side first, as the live check
    c.silent = [r for r in roles if not heard[r]] if not unknown else []
    if not c.silent:
        return None
    if len(c.silent) == 2:
        return msg("AN_NO_AUDIO", calling=c.dialog.calling, called=c.dialog.called)
    role = c.silent[0]
    if sent[role]:
        s = sent[role][0]
        return msg("AN_ONE_WAY_NOT_CROSSED", silent=_role_msg(c.dialog, role),
                   where=f"{s.src[0]}:{s.src[1]}→{s.dst[0]}:{s.dst[1]}")
    return msg("AN_ONE_WAY", silent=_role_msg(c.dialog, role))


def _role_msg(d: Dialog, role: Role) -> Msg:
    src, dst = (d.calling, d.called) if role == "up" else (d.called, d.calling)
    return msg("AN_DIR_NUMBERS", src=src, dst=dst)


def capture_end(dialogs: list[Dialog], streams: list[Stream], icmps: list[IcmpError]) -> float:
    """The time of the capture's last SIP, RTP or ICMP packet (its last packet of any kind
    is at least as late)."""
    return max([p.at for d in dialogs for p in d.packets] + [s.end for s in streams]
               + [e.at for e in icmps], default=0.0)


def timed_out(d: Dialog, end: float) -> bool:
    """Whether the INVITE transaction gave up inside the capture: no response at all for
    Timer B (32 s), or no final one for Timer C (3 min) after the last provisional. Before
    that, a capture that ends shows a call not finished yet, not a lost INVITE."""
    pending = d.pending
    if pending is None:
        return True
    provisionals = d.provisionals()
    if not provisionals:
        return end - pending.at >= TIMER_B_S
    return end - provisionals[-1].at >= TIMER_C_S


def signalling(d: Dialog, end: float | None = None) -> Msg | None:
    """A call's failure as signalling says it (None: answered, cancelled by the caller, or
    still waiting for its final response when the capture ended at ``end``: see
    :func:`unfinished`)."""
    status = d.status
    final = d.final
    if status is None:
        if any(p.message.method == "CANCEL" for p in d.packets):
            return None
        if end is not None and not timed_out(d, end):
            return None
        return msg("AN_INVITE_NO_FINAL", calling=d.calling, called=d.called)
    if status // 100 == 2 or status == 487:
        return None
    reason = final.message.reason if final is not None else ""
    if status == 408:
        return msg("AN_INVITE_408", calling=d.calling, called=d.called, reason=reason)
    if status == 503:
        return msg("AN_INVITE_503", calling=d.calling, called=d.called, reason=reason)
    return msg("AN_INVITE_FAILED", calling=d.calling, called=d.called, status=status,
               reason=reason)


def unfinished(d: Dialog, end: float) -> Msg | None:
    """What the capture cannot show of a call because it ended first: a call still ringing
    (or not yet answered at all) before its transaction timed out, or answered and not hung
    up. None for a call whose outcome is in the capture."""
    if d.method != "INVITE":
        return None
    answered = d.answered
    if d.status is None:
        pending = d.pending
        if (pending is None or timed_out(d, end)
                or any(p.message.method == "CANCEL" for p in d.packets)):
            return None
        seconds = f"{end - pending.at:.1f}"
        provisionals = d.provisionals()
        if provisionals:
            last = provisionals[-1].message
            return msg("AN_UNFINISHED_RINGING", seconds=seconds,
                       last=f"{last.status} {last.reason}".strip())
        return msg("AN_UNFINISHED_NO_RESPONSE", seconds=seconds)
    if answered is not None and d.bye is None:
        seconds = f"{end - answered:.1f}"
        if end - answered < SHORT_S:
            return msg("AN_STILL_UP_SHORT", seconds=seconds)
        return msg("AN_STILL_UP", seconds=seconds)
    return None


def registration(d: Dialog, end: float | None = None) -> Msg | None:
    """A failed registration; a REGISTER still inside its transaction's 32 s (Timer F)
    when the capture ended is not one."""
    status = d.status
    user = d.calling
    if status is None:
        pending = d.pending
        if end is not None and pending is not None and end - pending.at < TIMER_B_S:
            return None
        return msg("AN_REGISTER_NO_ANSWER", user=user, count=sum(
            1 for p in d.packets if p.message.method == "REGISTER"))
    if status // 100 == 2:
        return None
    final = d.final
    return msg("AN_REGISTER_FAILED", user=user, status=status,
               reason=final.message.reason if final is not None else "")


def _host(hostport: str) -> str:
    hostport = hostport.strip()
    if hostport.startswith("["):
        return hostport[1:].split("]")[0]
    return hostport.split(":")[0]


def private_elements(p: SipPacket) -> list[str]:
    """The elements of a message that name a private address (Via sent-by, Contact, SDP)."""
    m = p.message
    found = []
    for i, via in enumerate(m.get_all("Via")[:1]):
        head, _ = via_parts(via)
        sent_by = head.split()[-1] if head.split() else ""
        if private(_host(sent_by)):
            found.append(f"Via[{i}] {sent_by}")
    for contact in m.get_all("Contact"):
        uri = contact.split("<")[-1].split(">")[0]
        host = uri.split("@")[-1].split(";")[0]
        if private(_host(host)):
            found.append(f"Contact {host}")
    for line in m.body.decode(errors="replace").splitlines():
        if line[:2] in ("c=", "o=") and line.split() and private(line.split()[-1]):
            found.append(f"SDP {line.strip()}")
    return found


def leaks(d: Dialog) -> list[Msg]:
    """Private addresses in messages between two public addresses (past the NAT)."""
    out = []
    seen: set[str] = set()
    for p in d.packets:
        if private(p.src[0]) or private(p.dst[0]):
            continue
        elements = [e for e in private_elements(p) if e not in seen]
        if elements:
            seen.update(elements)
            label = p.message.method or f"{p.message.status} ({(p.message.cseq or (0, ''))[1]})"
            out.append(msg("AN_PRIVATE_ON_PUBLIC", message=label, frame=p.frame,
                           src=f"{p.src[0]}:{p.src[1]}", dst=f"{p.dst[0]}:{p.dst[1]}",
                           elements=", ".join(elements)))
    return out


def rewrites(d: Dialog) -> list[Rewrite]:
    """The same message seen on the private and the public side, diffed (an ALG at work).

    Copies are paired by CSeq, first line kind, top Via branch and Via count (a proxy adds a
    Via; an ALG or a NAT does not), the earlier copy being what was sent."""
    groups: dict[tuple[object, ...], list[SipPacket]] = defaultdict(list)
    for p in d.packets:
        m = p.message
        key = (m.cseq, m.method or m.status, m.via_branch(), len(m.get_all("Via")))
        groups[key].append(p)
    out = []
    for copies in groups.values():
        inside = [p for p in copies if private(p.src[0]) or private(p.dst[0])]
        outside = [p for p in copies if not (private(p.src[0]) or private(p.dst[0]))]
        if not inside or not outside:
            continue
        a, b = inside[0], outside[0]
        sent, got = (a, b) if a.at <= b.at else (b, a)
        changes, _nat = alg_diff(sent.raw, got.raw)
        if changes:
            out.append(Rewrite(d, sent, got, changes))
    return out


def fixed_teardowns(calls: list[Call]) -> list[Msg]:
    """Answered calls ended by a BYE the same time after answer (beyond test-call lengths):
    a session timer nobody refreshed, or a NAT/firewall binding expiring. A call through a
    B2BUA counts once (its first leg): its legs end together because they are one call."""
    durations = []
    for c in calls:
        if c.leg_of is not None:
            continue
        answered, bye = c.dialog.answered, c.dialog.bye
        if answered is not None and bye is not None and bye.at - answered >= TEARDOWN_MIN_S:
            durations.append((bye.at - answered, c))
    durations.sort(key=lambda x: x[0])
    out = []
    i = 0
    while i < len(durations):
        j = i
        while j + 1 < len(durations) and durations[j + 1][0] - durations[i][0] <= \
                TEARDOWN_SPREAD_S:
            j += 1
        group = durations[i:j + 1]
        expires = {c.dialog.session_expires() for _, c in group} - {None}
        if len(group) >= 2 or expires:
            seconds = statistics.median(d for d, _ in group)
            timer = next((e for e in expires if e is not None and (
                abs(seconds - e) <= 2 or abs(seconds - e / 2) <= 2)), None)
            if len(group) >= 2 or timer is not None:
                out.append(msg("AN_FIXED_TEARDOWN", count=len(group), seconds=f"{seconds:.0f}",
                               cause=msg("AN_CAUSE_SESSION_TIMER", seconds=timer)
                               if timer is not None else msg("AN_CAUSE_BINDING")))
                for _, c in group:
                    c.symptom = c.symptom or msg("AN_TORN_DOWN", seconds=f"{seconds:.0f}")
        i = j + 1
    return out


def unreachable(streams: list[Stream], icmps: list[IcmpError],
                leaked: set[str]) -> list[Msg]:
    """Media sent where nobody listens: an ICMP unreachable quoting the stream, or a public
    sender aiming at a private address that an SDP leaked past the NAT (no router forwards
    it: the far end followed the SDP of a site without ALG or SBC)."""
    out = []
    refused = defaultdict(list)
    for e in icmps:
        refused[(e.quoted_src, e.quoted_dst)].append(e.frame)
    for s in streams:
        where = f"{s.src[0]}:{s.src[1]}→{s.dst[0]}:{s.dst[1]}"
        frames = refused.get((s.src, s.dst))
        if frames:
            out.append(msg("AN_RTP_REFUSED", where=where, count=len(frames), frame=frames[0]))
        elif s.dst[0] in leaked and not private(s.src[0]):
            out.append(msg("AN_RTP_TO_PRIVATE", where=where, packets=s.packets))
    return out


def _leaked_media(dialogs: list[Dialog]) -> set[str]:
    """Private SDP connection addresses seen in messages between public addresses."""
    return {m.address for d in dialogs for m in d.media()
            if private(m.address) and not private(m.packet.src[0])
            and not private(m.packet.dst[0])}


def _calls_at_end(calls: list[Call], end: float) -> None:
    """Each call's note when the capture ended before it did, and its previous leg when it
    continues another call through a B2BUA."""
    by_dialog = {id(c.dialog): c for c in calls}
    for c in calls:
        c.note = unfinished(c.dialog, end)
    for leg in legs([c.dialog for c in calls], end):
        c = by_dialog[id(leg.dialog)]
        c.leg_of, c.b2bua = by_dialog[id(leg.previous)], leg.b2bua


def media_findings(calls: list[Call], others: list[tuple[Stream, Quality]]) -> list[Msg]:
    """Media gaps that are faults (each call's, then the unannounced streams'), and what RTP
    without SDP shows (:mod:`.conversations`)."""
    out = []
    for c in calls:
        for cs in c.streams:
            for g in cs.stream.gaps:
                if g.fault:
                    found = msg("AN_MEDIA_GAP", stream=direction(c.dialog, cs.role, cs.stream),
                                **gap_params(g, c.dialog.answered))
                    out.append(found)
                    c.symptom = c.symptom or found
    for s, _ in others:
        out += [msg("AN_MEDIA_GAP", stream=msg("AN_DIR", where=s.where), **gap_params(g, None))
                for g in s.gaps if g.fault]
    two_way = sum(1 for c in calls if {cs.role for cs in c.streams} >= {"up", "down"})
    return out + conversations.findings(others, signalled=bool(calls), two_way_calls=two_way)


def gap_params(g: gaps.Gap, answered: float | None) -> dict[str, Param | Msg]:
    """When and how long a gap lasted (UTC, and seconds after answer when known), and why."""
    hhmmss = dt.datetime.fromtimestamp(g.start, dt.UTC).strftime("%H:%M:%S")
    when = msg("AN_GAP_WHEN", clock=hhmmss) if answered is None else msg(
        "AN_GAP_WHEN_CALL", clock=hhmmss, offset=f"{g.start - answered:.1f}")
    cause = msg(f"AN_GAP_{g.kind.upper()}", lost=g.lost)
    if g.hold is not None:
        cause = msg("AN_GAP_HOLD", direction=g.hold)
    return {"seconds": f"{g.seconds:.1f}", "when": when, "cause": cause}


def unheard(calls: list[Call]) -> list[Msg]:
    """Answered calls of which the capture holds no RTP at all: their audio is not judged.
    Media often takes another path than signalling (a relay, another interface, a capture
    filter on port 5060), so this is said, never taken for silence nor for good audio."""
    heard = {id(c) for c in calls if c.streams}
    # A leg through a B2BUA whose other leg's media is in the capture was judged there.
    heard |= {id(c.leg_of) for c in calls if c.leg_of is not None and c.streams}
    heard |= {id(c) for c in calls if c.leg_of is not None and id(c.leg_of) in heard}
    # One call through a B2BUA is said once, by its first leg.
    quiet = [c for c in calls if c.dialog.answered is not None and id(c) not in heard
             and (c.leg_of is None or c.leg_of.dialog.answered is None)]
    if not quiet:
        return []
    return [msg("AN_MEDIA_NOT_CAPTURED", count=len(quiet),
                calls=", ".join(f"{c.dialog.calling}→{c.dialog.called}" for c in quiet[:3])
                + (", …" if len(quiet) > 3 else ""))]


def analyse(dialogs: list[Dialog], streams: list[Stream], icmps: list[IcmpError],
            t: Thresholds | None = None, *, end: float | None = None,
            capture: CaptureInfo | None = None) -> Analysis:
    """Every diagnosis of the capture, and each failed call's one-line symptom. ``end``:
    the capture's last packet time, when known (else the last record's, from ``capture``,
    else its last SIP, RTP or ICMP packet's); ``capture``: what the file held and whether it
    was cut short (said in the summary)."""
    t = t or Thresholds()
    calls, others = match(dialogs, streams, t)
    if end is None and capture is not None:
        end = capture.last_at
    if end is None:
        end = capture_end(dialogs, streams, icmps)
    _calls_at_end(calls, end)
    findings: list[Msg] = []
    all_rewrites: list[Rewrite] = []
    for d in dialogs:
        if d.method == "REGISTER":
            failed = registration(d, end)
            if failed:
                findings.append(failed)
        findings += leaks(d)
        all_rewrites += rewrites(d)
    if all_rewrites:
        elements = sorted({ch.element for r in all_rewrites for ch in r.changes})
        findings.append(msg("AN_ALG", count=len(all_rewrites), elements=", ".join(elements)))
    for c in calls:
        failed = signalling(c.dialog, end)
        if failed is not None:
            findings.append(failed)
            c.symptom = failed
            continue
        silent = one_way(c) if c.note is None or c.note.code != "AN_STILL_UP_SHORT" else None
        if silent is not None:
            findings.append(msg("AN_CALL", calling=c.dialog.calling, called=c.dialog.called,
                                finding=silent))
            c.symptom = silent
            continue
        bad = [cs.quality for cs in c.streams if cs.quality.grade == "bad"]
        if bad:
            c.symptom = msg("POOR_QUALITY", problems=[p for q in bad for p in q.problems])
            findings.append(msg("AN_CALL", calling=c.dialog.calling, called=c.dialog.called,
                                finding=c.symptom))
    findings += fixed_teardowns(calls)
    findings += media_findings(calls, others)
    findings += unreachable([cs.stream for c in calls for cs in c.streams]
                            + [s for s, _ in others], icmps, _leaked_media(dialogs))
    return Analysis(dialogs, calls, others, findings, all_rewrites, t, capture,
                    notes=unheard(calls))
