"""Test calls with real RTP both ways (operator handbook §I: "inbound and outbound calls").

Outbound: each account calls the operator's test number; inbound: the operator side calls
each DID and the harness answers as the registered contact. Every call carries RTP both ways
for the configured time, DTMF (RFC 4733) both ways, and is graded per direction (loss,
jitter, RTT, E-model R/MOS). A failed call becomes an incident row.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.errors import CheckError, fail, not_applicable
from harness.evidence import Evidence
from harness.incidents import Incident
from harness.messages import msg
from harness.profile import Profile
from harness.schedule import run_async
from sip_checks import claims, hairpin
from sip_checks.session import (
    InboundCaller,
    Site,
    open_ua,
    record_call,
    record_sip,
    register_behind_nat,
    require_registered,
)
from sip_checks.toolkit.quality import line
from sip_checks.toolkit.ua import CallRecord, UserAgent
from sip_checks.verdict import call_failed, cut_short, far_end_kind, judge_call, test_number_kind

DTMF_SENT = "2580"


def _report_media(rec: CallRecord, profile: Profile, ev: Evidence,
                  incidents: list[Incident], *, echoes: bool = True) -> None:
    """Facts, quality lines, DTMF and the verdict on the media of an answered call."""
    media = rec.media
    assert media is not None
    ev.fact("codec", f"{rec.codec} (telephone-event PT {rec.event_pt})")
    ev.fact("RTP sent", f"{media.sent} packets to {rec.remote_media}")
    verdict = judge_call(rec, profile.thresholds, echoes=echoes)
    ev.figures.quality.extend(verdict.qualities)
    ev.add("RTP quality", "\n".join(line(q) for q in verdict.qualities) or "no RTP received")
    for q in verdict.qualities:
        ev.fact(f"MOS {q.direction}", f"{q.mos:.2f} (R {q.r:.1f}, {q.grade})")
    if verdict.symptom:
        incidents.append(Incident(rec.started, rec.calling, rec.called, verdict.symptom))
        fail(verdict.symptom)
    for reserve in verdict.reserves:
        ev.reserve(reserve)
    if media.event_pt is None:
        ev.fact("DTMF", "not sent: the far end's answer offers no telephone-event")
        return
    got = "".join(e.digit for e in media.dtmf_received if not e.echoed)
    echoed = "".join(e.digit for e in media.dtmf_received if e.echoed)
    ev.fact("DTMF", f"sent {DTMF_SENT!r}, echoed back {echoed!r}, received from the far "
            f"end {got!r}")


@pytest.mark.check(
    order=30,
    id="sip.call.outbound",
    claims=claims.outbound,
    fr="Appel sortant vers le numéro de test, audio dans les deux sens, DTMF, qualité",
    en="Outbound call to the test number, two-way audio, DTMF, quality",
)
def check_sip_call_outbound(profile: Profile, account: str, site: Site, evidence: Evidence,
                            incidents: list[Incident], call_seconds: float,
                            test_number: str) -> None:
    run_async(_outbound(profile, account, test_number, site, evidence, incidents,
                          call_seconds))


async def _outbound(profile: Profile, account: str, number: str, site: Site, ev: Evidence,
                    incidents: list[Incident], seconds: float) -> None:
    ua = await open_ua(profile, account, site)
    try:
        require_registered(await register_behind_nat(ua), account)
        try:
            rec = await ua.call(number, media_ip=site.ip, duration=seconds, dtmf=DTMF_SENT)
        except CheckError as exc:
            incidents.append(Incident(ua.ep.wire[-1].at, account, number, exc.message))
            raise
        ev.fact("call", f"{rec.status} {rec.reason}, hung up by {rec.ended_by}")
        record_call(ev, rec)
        if rec.status != 200 or rec.symptom:
            symptom = rec.symptom or call_failed(rec)
            incidents.append(Incident(rec.started, account, number, symptom))
            fail(symptom)
        declared = profile.operator.test_number_kind
        kind = test_number_kind(rec, declared)
        ev.fact("test number", f"{declared} (as the profile says)" if declared else
                f"{kind} (detected)" if far_end_kind(rec) else "unknown: nothing came back")
        cut = cut_short(rec, seconds) if kind == "echo" else None
        if cut is not None:  # an echo line stays on until we hang up; an announcement may not
            incidents.append(Incident(rec.started, account, number, cut))
            fail(cut)
        _report_media(rec, profile, ev, incidents, echoes=kind == "echo")
        await ua.unregister()
    finally:
        record_sip(ev, ua)
        ua.ep.close()
    if kind == "announcement":  # our audio to the far end is proven through a DID instead
        await _uplink_by_hairpin(profile, account, site, ev, incidents, seconds)


async def _uplink_by_hairpin(profile: Profile, account: str, site: Site, ev: Evidence,
                             incidents: list[Incident], seconds: float) -> None:
    """The test number plays and does not echo: prove that the site's audio reaches the
    operator by calling a DID of another line from this account."""
    await asyncio.sleep(0)  # the closed call's SIP socket releases the site's port 5060
    target = hairpin.pick_did(profile, account)
    if target is None:
        ev.reserve(msg("UPLINK_NOT_PROVEN", account=account))
        return
    owner, number = target
    h = await hairpin.place(profile, account, owner, number, site, ev, seconds=seconds)
    if h.out.status != 200 or h.into is None or h.into.answered is None:
        # Our audio cannot be followed if the call does not come back in: that is the
        # inbound checks' finding, not an outbound one.
        ev.reserve(msg("UPLINK_NOT_PROVEN_INBOUND", account=account, number=number))
        return
    verdict = hairpin.judge(h, profile.thresholds)
    to_did = [q for q in verdict.qualities if q.direction.code == "DIR_TO_DID"]
    ev.figures.quality.extend(to_did)
    if not to_did:
        symptom = msg("NO_AUDIO_FROM_SITE_HAIRPIN", account=account, number=number,
                      sent=h.out.media.sent if h.out.media else 0)
        incidents.append(Incident(h.out.started, account, number, symptom))
        fail(symptom)
    if verdict.symptom:
        incidents.append(Incident(h.out.started, account, number, verdict.symptom))
        fail(verdict.symptom)
    ev.fact("site→operator proven by", f"a call from {account} to {number}")


@pytest.mark.check(
    order=40,
    id="sip.call.inbound",
    claims=claims.inbound,
    fr="Appel entrant sur chaque SDA depuis le réseau de l'opérateur, audio dans les deux sens",
    en="Inbound call to each DID from the operator's network, two-way audio",
)
def check_sip_call_inbound(profile: Profile, did: tuple[str, str], site: Site,
                           evidence: Evidence, incidents: list[Incident],
                           inbound_caller: InboundCaller | None, call_seconds: float) -> None:
    if inbound_caller is None:  # a real operator calls nobody for us: call D from the site
        run_async(_inbound_hairpin(profile, did, site, evidence, incidents, call_seconds))
    else:
        run_async(_inbound(profile, did, site, evidence, incidents, inbound_caller,
                             call_seconds))


async def _inbound_hairpin(profile: Profile, did: tuple[str, str], site: Site, ev: Evidence,
                           incidents: list[Incident], seconds: float) -> None:
    """D called from another account of the site, through the operator; both legs ours."""
    owner, number = did
    caller = hairpin.pick_caller(profile, owner)
    if caller is None:
        not_applicable(msg("HAIRPIN_NEEDS_TWO_ACCOUNTS", number=number))
    h = await hairpin.place(profile, caller, owner, number, site, ev, seconds=seconds,
                            dtmf=DTMF_SENT)
    ev.fact("call", f"{caller} → {number}: {h.out.status} {h.out.reason}; "
            + ("answered on the DID" if h.into and h.into.answered else "not delivered"))
    verdict = hairpin.judge(h, profile.thresholds)
    ev.figures.quality.extend(verdict.qualities)
    ev.add("RTP quality", "\n".join(line(q) for q in verdict.qualities) or "no RTP received")
    for q in verdict.qualities:
        ev.fact(f"MOS {q.direction}", f"{q.mos:.2f} (R {q.r:.1f}, {q.grade})")
        if q.one_way_ms is not None:
            ev.fact(f"one-way delay {q.direction}", f"{q.one_way_ms:.1f} ms")
    if verdict.symptom:
        incidents.append(Incident(h.out.started, h.out.calling, number, verdict.symptom))
        fail(verdict.symptom)
    for reserve in verdict.reserves:
        ev.reserve(reserve)
    if h.into is not None and h.into.media is not None:
        got = "".join(e.digit for e in h.into.media.dtmf_received if not e.echoed)
        ev.fact("DTMF", f"sent {DTMF_SENT!r} from {caller}, received on {number} {got!r}")


async def _inbound(profile: Profile, did: tuple[str, str], site: Site, ev: Evidence,
                   incidents: list[Incident], caller: InboundCaller, seconds: float) -> None:
    account, number = did
    ua: UserAgent = await open_ua(profile, account, site)
    ua.ep.expect(number)
    try:
        require_registered(await register_behind_nat(ua), account)
        placing = asyncio.create_task(caller.call(number, talk_s=seconds))
        try:
            rec = await ua.answer(media_ip=site.ip, timeout=20.0, duration=seconds,
                                  dtmf=DTMF_SENT, hangup=False)
        except CheckError as exc:
            result = await placing
            ev.add("operator-side caller", result.trace or "(no SIP trace)")
            ev.fact("operator-side caller", result.summary())
            symptom = msg("INBOUND_NEVER_ARRIVED", number=number, detail=exc.message)
            incidents.append(Incident(ua.ep.wire[-1].at, "+33100000000", number, symptom))
            fail(symptom)
        result = await placing
        ev.add("operator-side caller", result.trace)
        ev.fact("call", (f"answered; hung up by {rec.ended_by}" if rec.answered is not None
                         else f"not answered: {rec.status} {rec.reason}")
                + f"; caller {result.summary()}")
        record_call(ev, rec)
        if rec.symptom:
            incidents.append(Incident(rec.started, rec.calling, number, rec.symptom))
            fail(rec.symptom)
        _report_media(rec, profile, ev, incidents)
        await ua.unregister()
    finally:
        record_sip(ev, ua)
        ua.ep.close()
