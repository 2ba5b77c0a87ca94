"""Firewall openings: UDP 5060 and 10000-20000 open to the operator's SIP server, and only to
it (operator handbook §VIII-B: toll-fraud protection, the condition for international calls).
Proved actively from two vantage points, cold and warm."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from harness.errors import CheckError, RecetteError
from harness.evidence import Evidence
from harness.gate.record import record
from harness.profile import Profile
from sip_checks.probes.firewall import SWEPT, Listener, Sweep, discrepancies, sweep
from sip_checks.session import Site, open_ua, probe_client, register_behind_nat


@pytest.mark.check(
    order=60,
    id="firewall.openings",
    fr="Pare-feu : UDP 5060 et 10000-20000 ouverts au serveur SIP de l'opérateur, et à lui "
       "seul",
    en="Firewall: UDP 5060 and 10000-20000 open to the operator's SIP server, and only to it",
)
def check_firewall_openings(profile: Profile, site: Site, evidence: Evidence,
                            shared: dict[str, Any]) -> None:
    server = probe_client(profile, "server")
    outsider = probe_client(profile, "outsider")
    sent_from = server.post("/whoami", {})
    if sent_from.get("send_from") != str(profile.operator.sip_server.ip):
        evidence.fact("note", f"the server probe sends from {sent_from.get('send_from')}, not "
                      f"from the SIP server {profile.operator.sip_server.ip}")
    evidence.fact("site public address", sent_from.get("requester", "?"))
    listener = Listener(site.ip, SWEPT)
    try:
        if listener.busy:
            raise CheckError(f"cannot listen on UDP {listener.busy[:5]} of {site.ip} (in use): "
                             "stop the IPBX or softphone on this host during the check")
        sweeps: list[Sweep] = []
        for phase in ("cold", "warm"):
            if phase == "warm":
                listener.warm(str(sent_from.get("send_from")))
            sweeps.append(sweep(listener, server, "server", phase))
            sweeps.append(sweep(listener, outsider, "outsider", phase))
    finally:
        listener.close()
    evidence.add("ports reached", "\n".join(s.line() for s in sweeps))
    evidence.data["sweeps"] = [{"vantage": s.vantage, "phase": s.phase, "source": s.source,
                                "open": sorted(s.open_ports), "sent": s.sent,
                                "seconds": s.seconds} for s in sweeps]
    shared["firewall"] = {"server": set(sweeps[0].open_ports),
                          "others": set(sweeps[1].open_ports)}
    problems = [p for i in range(0, len(sweeps), 2)
                for p in discrepancies(sweeps[i], sweeps[i + 1])]
    media = media_sources(profile, site)
    evidence.fact("operator media sources", ", ".join(sorted(media)) or "none seen")
    others = sorted(media - {str(profile.operator.sip_server.ip)})
    if others:
        evidence.fact("reserve", f"media also comes from {', '.join(others)}: the firewall "
                      "must allow UDP 10000-20000 from there too (not probed: no probe there)")
    for s in sweeps:
        evidence.fact(f"{s.phase} {s.vantage}", s.line().split(": open ", 1)[1])
    try:  # the gate must also learn of failures: they block the international option
        ref = record(profile, evidence, passed=not problems)
        evidence.fact("recorded for the international option", ref)
    except RecetteError as exc:
        evidence.fact("reserve", f"verification not recorded in the gate store: {exc}")
    assert not problems, "; ".join(problems)


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
