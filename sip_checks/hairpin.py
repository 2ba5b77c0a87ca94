"""A hairpin call: one account of the site calls a DID of the same site through the operator.

Why: a real operator places no test call for us and its test number may not echo. Calling our
own DID from another of our accounts needs nothing from the operator but what it sells (out
over the trunk, back in on the DID), and both legs are ours, in one process, on one clock:
per direction we know exactly what was sent and what arrived, so loss, jitter and the true
one-way delay are measured per direction, and a silent direction is named with proof from
both legs.

The answering account listens on the site's SIP port (the one the router forwards); the
calling account uses an ephemeral port, as its replies come back on its own NAT binding. Each
leg takes its RTP port from its own half of the opened range (caller low, DID high), so the
legs can be told apart on the wire: in a capture, or by a lab that delays one direction only.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from harness.errors import CheckError
from harness.evidence import Evidence
from harness.messages import Msg, msg
from harness.profile import Profile, Thresholds
from sip_checks.session import (
    Site,
    open_ua,
    record_call,
    record_sip,
    register_behind_nat,
    require_registered,
)
from sip_checks.toolkit.quality import Quality
from sip_checks.toolkit.stream import RTP_PORTS
from sip_checks.toolkit.ua import CallRecord
from sip_checks.verdict import call_failed, grade_stream, quality_findings

# The halves of the RTP range each leg takes its port from (see the module docstring).
CALLER_PORTS = (RTP_PORTS[0], (RTP_PORTS[0] + RTP_PORTS[1]) // 2)
DID_PORTS = (CALLER_PORTS[1], RTP_PORTS[1])

# What the operator answers the caller when the call went out towards the site and nothing
# came back: a timeout, unavailable, or a server error.
UNDELIVERED = (408, 480, 500, 503, 504)


@dataclass
class Hairpin:
    """Both legs of one hairpin call: ``out`` placed by the caller, ``into`` answered on the
    DID."""

    caller: str
    number: str
    out: CallRecord
    into: CallRecord | None


def pick_caller(profile: Profile, owner: str) -> str | None:
    """An account of the site other than the DID's owner to call it from: a trunk first (it
    has channels to spare), else a Centrex line; None when the site has a single account."""
    others = [t.user for t in profile.trunks if t.user != owner]
    others += [c.user for c in profile.centrex if c.user != owner]
    return others[0] if others else None


def pick_did(profile: Profile, caller: str) -> tuple[str, str] | None:
    """(owner, number) of a DID of another line of the site, for ``caller`` to call; None
    when no other line has a DID."""
    dids = [(t.user, d) for t in profile.trunks for d in t.dids]
    dids += [(c.user, c.did) for c in profile.centrex if c.did]
    return next(((o, d) for o, d in dids if o != caller), None)


async def place(profile: Profile, caller: str, owner: str, number: str, site: Site,
                ev: Evidence, *, seconds: float, dtmf: str | None = None) -> Hairpin:
    """Register both accounts, call ``number`` from ``caller`` and answer it as ``owner``."""
    into_ua = await open_ua(profile, owner, site)
    into_ua.ep.expect(number)
    try:
        out_ua = await open_ua(profile, caller, site, port=0)
    except CheckError:
        into_ua.ep.close()
        raise
    answering: asyncio.Task[CallRecord] | None = None
    try:
        require_registered(await register_behind_nat(into_ua), owner)
        require_registered(await register_behind_nat(out_ua), caller)
        answering = asyncio.create_task(into_ua.answer(
            media_ip=site.ip, timeout=20.0, duration=seconds, dtmf=dtmf, hangup=False,
            media_ports=DID_PORTS))
        out = await out_ua.call(number, media_ip=site.ip, duration=seconds, dtmf=dtmf,
                                media_ports=CALLER_PORTS)
        into: CallRecord | None
        try:
            into = await asyncio.wait_for(answering, 20.0 if out.answered else 2.0)
        except (CheckError, TimeoutError):
            into = None
        record_call(ev, out, title=f"call {caller} → {number}")
        if into is not None:
            record_call(ev, into, title=f"call {number} ({owner})")
        await out_ua.unregister()
        await into_ua.unregister()
        return Hairpin(caller, number, out, into)
    finally:
        if answering is not None and not answering.done():
            answering.cancel()
            with contextlib.suppress(asyncio.CancelledError, CheckError):
                await answering
        record_sip(ev, out_ua, title=f"SIP {caller} → {number}")
        record_sip(ev, into_ua, title=f"SIP {number} ({owner})")
        out_ua.ep.close()
        into_ua.ep.close()


def _direction(to: CallRecord, frm: CallRecord, label: Msg, t: Thresholds) -> Quality | None:
    """The quality of what ``frm`` sent, as ``to`` received it (its one-way delay measured
    against ``frm``'s own send times); None when nothing of it arrived."""
    if to.media is None or frm.media is None:
        return None
    streams = [(ssrc, st) for ssrc, st in to.media.rx.items() if ssrc != to.media.ssrc]
    if not streams:
        return None
    ssrc, st = max(streams, key=lambda s: s[1].received)
    return grade_stream(label, st, sent=frm.media.sent, ptime_ms=to.media.ptime_ms,
                        rtt_ms=None, one_way=to.media.one_way_ms.get(ssrc, []), t=t)


@dataclass(frozen=True)
class HairpinVerdict:
    """What one hairpin says: the quality of each direction, and its first symptom."""

    qualities: list[Quality]
    symptom: Msg | None
    reserves: list[Msg]


def judge(h: Hairpin, t: Thresholds) -> HairpinVerdict:
    """Signalling first (the call out, then its arrival on the DID), then a silent direction,
    then quality: the same order as :func:`sip_checks.verdict.judge_call`."""
    out, into = h.out, h.into
    arrived = into is not None and into.answered is not None
    if not arrived and (out.status == 200 or out.status in UNDELIVERED):
        return HairpinVerdict([], msg("HAIRPIN_NOT_DELIVERED", number=h.number,
                                      caller=h.caller), [])
    if out.status != 200 or out.symptom or into is None:
        return HairpinVerdict([], out.symptom or call_failed(out), [])
    to_did = _direction(into, out, msg("DIR_TO_DID", number=h.number), t)
    from_did = _direction(out, into, msg("DIR_FROM_DID", number=h.number), t)
    qualities = [q for q in (to_did, from_did) if q is not None]
    silent = None
    if to_did is None:
        silent = msg("HAIRPIN_SILENT_TO_DID", number=h.number, caller=h.caller,
                     sent=out.media.sent if out.media else 0)
    elif from_did is None:
        silent = msg("HAIRPIN_SILENT_FROM_DID", number=h.number, caller=h.caller,
                     sent=into.media.sent if into.media else 0)
    poor, reserves = quality_findings(qualities)
    return HairpinVerdict(qualities, into.symptom or silent or poor, reserves)
