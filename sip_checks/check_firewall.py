"""Firewall openings: UDP 5060 and 10000-20000 open to the operator's SIP server, and only to
it (operator handbook §VIII-B: toll-fraud protection, the condition for international calls).
Proved actively from two vantage points, cold and warm."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from harness.errors import CheckError, RecetteError, fail
from harness.evidence import Evidence
from harness.gate.record import record
from harness.messages import msg
from harness.plugin import RunState
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import PortSets
from harness.results import Sweep as SweepRow
from sip_checks.probes.firewall import SWEPT, Listener, Sweep, discrepancies, sweep
from sip_checks.session import Site, open_ua, register_behind_nat


@pytest.mark.check(
    order=60,
    id="firewall.openings",
    fr="Pare-feu : UDP 5060 et 10000-20000 ouverts au serveur SIP de l'opérateur, et à lui "
       "seul",
    en="Firewall: UDP 5060 and 10000-20000 open to the operator's SIP server, and only to it",
)
def check_firewall_openings(profile: Profile, site: Site, evidence: Evidence,
                            server_probe: ProbeClient | None, outsider_probe: ProbeClient,
                            run_state: RunState) -> None:
    if server_probe is None:
        raise CheckError(msg("NO_VANTAGE_POINT", name="server"))
    sent_from = server_probe.post("/whoami", {})
    if sent_from.get("send_from") != str(profile.operator.sip_server.ip):
        evidence.fact("note", f"the server probe sends from {sent_from.get('send_from')}, not "
                      f"from the SIP server {profile.operator.sip_server.ip}")
    evidence.fact("site public address", sent_from.get("requester", "?"))
    listener = Listener(site.ip, SWEPT)
    try:
        if listener.busy:
            raise CheckError(msg("PORTS_BUSY", ports=", ".join(map(str, listener.busy[:5])),
                                 ip=site.ip))
        sweeps: list[Sweep] = []
        for phase in ("cold", "warm"):
            if phase == "warm":
                listener.warm(str(sent_from.get("send_from")))
            sweeps.append(sweep(listener, server_probe, "server", phase))
            sweeps.append(sweep(listener, outsider_probe, "outsider", phase))
    finally:
        listener.close()
    evidence.add("ports reached", "\n".join(s.line() for s in sweeps))
    evidence.figures.sweeps = [
        SweepRow.model_validate({"vantage": s.vantage, "phase": s.phase, "source": s.source,
                                 "open": sorted(s.open_ports), "sent": s.sent,
                                 "seconds": s.seconds}) for s in sweeps]
    run_state.measured = PortSets(server=sorted(sweeps[0].open_ports),
                                  others=sorted(sweeps[1].open_ports))
    problems = [p for i in range(0, len(sweeps), 2)
                for p in discrepancies(sweeps[i], sweeps[i + 1])]
    media = media_sources(profile, site)
    evidence.figures.media_sources = sorted(media)
    evidence.fact("operator media sources", ", ".join(sorted(media)) or "none seen")
    others = sorted(media - {str(profile.operator.sip_server.ip)})
    if others:
        evidence.reserve(msg("MEDIA_ELSEWHERE", addresses=", ".join(others)))
    for s in sweeps:
        evidence.fact(f"{s.phase} {s.vantage}", s.line().split(": open ", 1)[1])
    try:  # the gate must also learn of failures: they block the international option
        ref = record(profile, evidence, passed=not problems)
        evidence.fact("recorded for the international option", ref)
    except RecetteError as exc:
        evidence.reserve(msg("GATE_NOT_RECORDED", detail=str(exc)))
    if problems:
        fail(*problems)


def media_sources(profile: Profile, site: Site) -> set[str]:
    """The operator's media addresses: the profile's, plus what a short test call shows (SDP
    c= of the answer and the RTP's actual source addresses)."""
    found = {str(ip) for ip in profile.operator.media_ips}
    number = profile.operator.test_number
    account = next(iter(profile.accounts()), None)
    if number is None or account is None:
        return found

    async def probe_call() -> None:
        ua = await open_ua(profile, account.user, site)
        try:
            if (await register_behind_nat(ua)).status != 200:
                return
            rec = await ua.call(number, media_ip=site.ip, duration=2.0)
            if rec.remote_media:
                found.add(rec.remote_media[0])
            if rec.media is not None:
                found.update(src[0] for src in rec.media.rx_sources.values())
            await ua.unregister()
        finally:
            ua.ep.close()

    # The call checks report call failures; here we only learn addresses.
    with contextlib.suppress(CheckError):
        asyncio.run(probe_call())
    return found
