"""What an integrator needs from a capture: each stream's call, quality and the diagnoses.

The rules are those of the live checks where both exist (one-way audio names the silent
direction as :func:`sip_checks.verdict.one_way_diagnosis` does, quality is graded by
:func:`sip_checks.toolkit.quality.assess`, rewrites are diffed by
:func:`sip_checks.probes.alg.diff`), and the capture-only ones come from what a support desk
looks for first: private addresses leaking to the public side, media sent where nobody
listens, calls cut at a fixed time after answer, failed registrations, 408/503 on INVITE.
"""

from __future__ import annotations

import ipaddress
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from harness.messages import Msg, msg
from harness.profile import Thresholds
from sip_checks.analyse.capture import CaptureInfo
from sip_checks.analyse.dialogs import Dialog, Media
from sip_checks.analyse.fields import IcmpError, SipPacket
from sip_checks.analyse.streams import Stream, is_rtp_stream
from sip_checks.probes.alg import Change, via_parts
from sip_checks.probes.alg import diff as alg_diff
from sip_checks.toolkit.quality import Quality, assess

Role = Literal["up", "down"]  # caller→callee, callee→caller
PRIVATE = [ipaddress.ip_network(n) for n in
           ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")]
TEARDOWN_MIN_S = 25.0  # session timers and NAT bindings expire after this; test calls end before
TEARDOWN_SPREAD_S = 1.5


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


def _role(d: Dialog, s: Stream) -> tuple[int, Role | None] | None:
    """(match strength, role) of stream ``s`` in call ``d``, None when its SDP never named
    either end. Both ends count: a stream to the offerer comes from the answerer's announced
    address (symmetric RTP), and the other way round. One end alone cannot tell calls apart
    when many calls share a far end's media port (a test number, an SBC), while the site's
    own port, even behind a NAT that changed its address, differs per call."""
    sides = d.media()
    offers = [m for m in sides if m.offer]
    answers = [m for m in sides if not m.offer]
    down = (_end(s.dst, offers), _end(s.src, answers))  # to the offerer
    up = (_end(s.dst, answers), _end(s.src, offers))  # to the answerer
    best = max((down, "down"), (up, "up"), key=lambda c: (sum(c[0]), c[0][0]))
    (dst, src), role = best
    if dst + src == 0:
        return None
    return dst + src, role  # type: ignore[return-value]


def match(dialogs: list[Dialog], streams: list[Stream],
          t: Thresholds) -> tuple[list[Call], list[tuple[Stream, Quality]]]:
    """Each stream to the INVITE dialog whose SDP announced it and whose time it falls in."""
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
                others.append((s, grade(s, msg("AN_DIR", where=s.label.rsplit(" ", 1)[0]), t)))
            continue
        _, role, c = best
        c.streams.append(CallStream(s, role, grade(s, direction(c.dialog, role, s), t)))
    return calls, others


def _points(d: Dialog) -> tuple[int, int]:
    """The capture points nearest the caller and the callee: where the INVITE was seen first
    and last (the same one for a capture taken at one point)."""
    first = d.first
    copies = [p for p in d.packets if p.message.method == "INVITE"
              and p.message.cseq == first.message.cseq]
    return copies[0].iface, copies[-1].iface


def one_way(c: Call) -> Msg | None:
    """The silent direction(s) of an answered call, as the live check names them.

    A direction is heard where its receiver is: at the capture point nearest the callee for
    caller→callee, nearest the caller for the other way. With a capture on both sides of a
    router, media seen only on the sending side never crossed it (the same tuple can be seen
    on both sides, so the capture point, not the addresses, tells)."""
    if c.dialog.answered is None or not c.streams:
        return None  # no RTP in the capture for this call at all: filtered, not silent
    at_caller, at_callee = _points(c.dialog)
    where: dict[Role, int] = {"up": at_callee, "down": at_caller}
    sent: dict[Role, list[Stream]] = defaultdict(list)
    heard: dict[Role, list[Stream]] = defaultdict(list)
    for cs in c.streams:
        if cs.role is not None and cs.stream.stats.received > 0:
            sent[cs.role].append(cs.stream)
            if cs.stream.iface == where[cs.role]:
                heard[cs.role].append(cs.stream)
    roles: tuple[Role, Role] = ("down", "up")  # the site's own side first, as the live check
    c.silent = [r for r in roles if not heard[r]]
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


def signalling(d: Dialog) -> Msg | None:
    """A call's failure as signalling says it (None: answered or cancelled by the caller)."""
    status = d.status
    final = d.final
    if status is None:
        if any(p.message.method == "CANCEL" for p in d.packets):
            return None
        return msg("AN_INVITE_NO_FINAL", calling=d.calling, called=d.called)
    if status // 100 == 2 or status == 487:
        return None
    reason = final.message.reason if final is not None else ""
    if status == 408:
        return msg("AN_INVITE_408", calling=d.calling, called=d.called, reason=reason)
    if status == 503:
        return msg("AN_INVITE_503", calling=d.calling, called=d.called, reason=reason)
    return msg("CALL_FAILED", status=status, reason=reason)


def registration(d: Dialog) -> Msg | None:
    status = d.status
    user = d.calling
    if status is None:
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
    a session timer nobody refreshed, or a NAT/firewall binding expiring."""
    durations = []
    for c in calls:
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


def analyse(dialogs: list[Dialog], streams: list[Stream], icmps: list[IcmpError],
            t: Thresholds | None = None, capture: CaptureInfo | None = None) -> Analysis:
    """Every diagnosis of the capture, and each failed call's one-line symptom."""
    t = t or Thresholds()
    calls, others = match(dialogs, streams, t)
    findings: list[Msg] = []
    all_rewrites: list[Rewrite] = []
    for d in dialogs:
        if d.method == "REGISTER":
            failed = registration(d)
            if failed:
                findings.append(failed)
        findings += leaks(d)
        all_rewrites += rewrites(d)
    if all_rewrites:
        elements = sorted({ch.element for r in all_rewrites for ch in r.changes})
        findings.append(msg("AN_ALG", count=len(all_rewrites), elements=", ".join(elements)))
    for c in calls:
        failed = signalling(c.dialog)
        if failed is not None:
            findings.append(failed)
            c.symptom = failed
            continue
        silent = one_way(c)
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
    findings += unreachable([cs.stream for c in calls for cs in c.streams]
                            + [s for s, _ in others], icmps, _leaked_media(dialogs))
    return Analysis(dialogs, calls, others, findings, all_rewrites, t, capture)
