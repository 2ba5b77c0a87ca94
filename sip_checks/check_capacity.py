"""Channel capacity: as many simultaneous calls as the trunk's ordered channels, all with good
two-way RTP, and what the operator does with one call more (handbook §II-E-a on sizing)."""

from __future__ import annotations

import asyncio

import pytest

from harness.errors import CheckError, fail
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
                           test_number: str, load_channels: tuple[int | None, bool]) -> None:
    ordered = next(t.channels for t in profile.trunks if t.user == trunk)
    asked, beyond = load_channels
    channels = asked or ordered
    if channels > ordered and not beyond:
        raise CheckError(msg("CAPACITY_BEYOND_CONTRACT", channels=channels, ordered=ordered,
                             trunk=trunk))
    run_async(_capacity(profile, trunk, test_number, site, evidence, incidents,
                          call_seconds, channels, ordered))


def peak(records: list[CallRecord]) -> int:
    """The most calls up at one instant: answered and not yet ended (the evidence that the
    channels were used together, not one after another)."""
    edges = sorted([(r.answered, 1) for r in records if r.answered is not None]
                   + [(r.ended, -1) for r in records
                      if r.answered is not None and r.ended is not None])
    up = best = 0
    for _, step in edges:  # an end sorts before a start at the same instant: not together
        up += step
        best = max(best, up)
    return best


async def _capacity(profile: Profile, trunk: str, number: str, site: Site, ev: Evidence,
                    incidents: list[Incident], seconds: float, channels: int,
                    ordered: int) -> None:
    ua = await open_ua(profile, trunk, site)
    try:
        require_registered(await register_behind_nat(ua), trunk)
        cps = profile.operator.max_cps
        settled = [asyncio.Event() for _ in range(channels)]
        calls = []
        for i, s in enumerate(settled):
            if i:
                await asyncio.sleep(1 / cps)
            # Set up at the operator's rate, each call lasts until the last one has had its
            # own ``seconds``: all of them are up together at the end.
            calls.append(asyncio.create_task(ua.call(
                number, media_ip=site.ip, duration=seconds + (channels - 1 - i) / cps,
                settled=s)))
        await asyncio.gather(*(s.wait() for s in settled))
        # One call more tells whether the operator enforces the contract; a load test of
        # another count (--channels) has no such call to make.
        extra = (await ua.call(number, media_ip=site.ip, duration=2.0)
                 if channels == ordered else None)
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
        ev.fact("channels ordered", ordered)
        if channels != ordered:
            ev.fact("load test", f"{channels} calls (recette run --channels)")
        ev.fact("how", f"{channels} simultaneous calls from {trunk} to the test number, one "
                "channel each" + (", then one more" if extra is not None else ""))
        ev.fact("call rate", f"{cps:g} calls/s (the profile's operator.max_cps)")
        ev.fact("connected", f"{connected}/{channels}")
        together = peak(records)
        ev.fact("up at once", f"{together} of {channels} (the most calls answered and "
                "not yet ended at one instant)")
        if extra is not None:
            beyond = (f"{extra.status} {extra.reason}" if extra.status != 200
                      else "connected too: the operator does not enforce the channel count")
            ev.fact(f"call {channels + 1}", beyond)
            ev.figures.extra_call_status = extra.status
        if problems:
            fail(msg("CAPACITY_FAILED", failed=len(problems), channels=channels,
                     calls=problems[:3]))
        if together < channels:
            # Every call was good, but not all at the same time: the channels are unproven.
            raise CheckError(msg("CAPACITY_NOT_TOGETHER", peak=together, channels=channels))
    finally:
        record_sip(ev, ua)
        ua.ep.close()
