"""Channel capacity: as many simultaneous calls as the trunk's ordered channels, all with good
two-way RTP, and what the operator does with one call more (handbook §II-E-a on sizing)."""

from __future__ import annotations

import asyncio

import pytest

from harness.errors import fail
from harness.evidence import Evidence
from harness.incidents import Incident
from harness.messages import Msg, msg
from harness.profile import Profile
from harness.schedule import run_async
from sip_checks import claims
from sip_checks.session import Site, open_ua, record_sip, register_behind_nat, require_registered
from sip_checks.toolkit.ua import CallRecord
from sip_checks.verdict import judge_call, test_number_kind


@pytest.mark.check(
    order=50,
    id="sip.capacity",
    claims=claims.capacity,
    fr="Capacité : autant d'appels simultanés que de canaux commandés, audio correct",
    en="Capacity: as many simultaneous calls as ordered channels, with good audio",
)
def check_sip_capacity(profile: Profile, trunk: str, site: Site, evidence: Evidence,
                           incidents: list[Incident], call_seconds: float,
                           test_number: str) -> None:
    run_async(_capacity(profile, trunk, test_number, site, evidence, incidents,
                          call_seconds))


async def _capacity(profile: Profile, trunk: str, number: str, site: Site, ev: Evidence,
                    incidents: list[Incident], seconds: float) -> None:
    channels = next(t.channels for t in profile.trunks if t.user == trunk)
    ua = await open_ua(profile, trunk, site)
    try:
        require_registered(await register_behind_nat(ua), trunk)
        settled = [asyncio.Event() for _ in range(channels)]
        calls = [asyncio.create_task(ua.call(number, media_ip=site.ip, duration=seconds,
                                             settled=s)) for s in settled]
        await asyncio.gather(*(s.wait() for s in settled))
        extra = await ua.call(number, media_ip=site.ip, duration=2.0)
        records: list[CallRecord] = list(await asyncio.gather(*calls))
        problems: list[Msg] = []
        lines = []
        for i, rec in enumerate(records, 1):
            kind = test_number_kind(rec, profile.operator.test_number_kind)
            verdict = judge_call(rec, profile.thresholds, echoes=kind == "echo")
            ev.figures.quality.extend(verdict.qualities)
            lines.append(f"call {i}: {rec.status} {rec.reason}, MOS min "
                         f"{verdict.worst_mos:.2f}, {verdict.silent or 'two-way audio'}")
            if verdict.symptom:
                problems.append(msg("CAPACITY_CALL", index=i, symptom=verdict.symptom))
                incidents.append(Incident(rec.started, trunk, number, verdict.symptom))
        connected = sum(1 for r in records if r.status == 200)
        ev.add("calls", "\n".join(lines))
        ev.fact("channels ordered", channels)
        ev.fact("how", f"{channels} simultaneous calls from {trunk} to the test number, one "
                "channel each, then one more")
        ev.fact("connected", f"{connected}/{channels}")
        beyond = (f"{extra.status} {extra.reason}" if extra.status != 200
                  else "connected too: the operator does not enforce the channel count")
        ev.fact(f"call {channels + 1}", beyond)
        ev.figures.extra_call_status = extra.status
        if problems:
            fail(msg("CAPACITY_FAILED", failed=len(problems), channels=channels,
                     calls=problems[:3]))
    finally:
        record_sip(ev, ua)
        ua.ep.close()
