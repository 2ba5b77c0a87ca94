"""Toll-fraud exposure: what an attacker on the internet reaches on the site, proven from
outside (issue 25; operator handbook §VIII-B: international calls wait for a verified site,
and suspected fraud blocks the trunk's outbound calls).

The firewall check proves the operator's opening (UDP 5060 and 10000-20000, to the operator
only). Attackers look further: SIP on TCP and TLS and on alternate ports, IAX2, H.323, SCCP,
the phones' provisioning (TFTP, HTTP: configuration files with SIP passwords) and the
administration of the IPBX and the router (HTTP, HTTPS, SSH, telnet). The outsider probe
scans those ports of the site's public address the way a scanner does (:mod:`harness.probe.scan`)
twice: cold, with no registration of ours open, and while one of the site's accounts is
registered from the site's SIP port (a registration opens NAT bindings and pinholes).

Every port that answers or accepts is a reserve with its risk in one sentence, and fails the
check; what could not be scanned (no outsider probe, probe unreachable, an answer its own
attestation does not cover, the scan of another address than the registrar's view, a port the
deadline cut) is an error, never a pass.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.errors import CheckError, fail
from harness.evidence import Evidence
from harness.gate.record import site_key
from harness.messages import Msg, msg
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import Attestation, ExposurePort, ExposureScan
from harness.schedule import run_async
from sip_checks import claims, exposure
from sip_checks.probes import exposure as probe
from sip_checks.session import Site, open_ua, register_behind_nat


@pytest.mark.check(
    order=65,
    id="security.exposure",
    claims=claims.exposure,
    fr="Exposition à la fraude : ce qu'un hôte d'internet atteint sur le site",
    en="Toll-fraud exposure: what an internet host reaches on the site",
)
def check_security_exposure(profile: Profile, site: Site, evidence: Evidence,
                            outsider_probe: ProbeClient) -> None:
    key = site_key(profile)
    scans = [probe.scan(outsider_probe, exposure.ports(), "cold", key, exposure.TFTP_FILES)]
    warm, not_warm = run_async(_registered_scan(profile, site, outsider_probe, key))
    if warm is not None:
        scans.append(warm)
    _evidence(evidence, scans, not_warm)
    _same_address(site, scans)
    found = exposure.judge({s.phase: list(s.ports) for s in scans})
    evidence.figures.exposure = [_figures(s) for s in scans]
    for e in found:
        evidence.fact(f"reached {e.port}/{e.transport}",
                      f"{e.answer.protocol or 'open'}: {exposure.what(e.answer)} "
                      f"({', '.join(e.phases)})")
    if any((e.port, e.transport) == exposure.FIREWALL_PORT for e in found):
        evidence.fact("UDP 5060 from outside", "also a failure of firewall.openings: the "
                      "operator's opening must admit the operator's addresses only")
    cut = exposure.unproven({s.phase: list(s.ports) for s in scans})
    if found:
        if not_warm is not None:
            evidence.reserve(not_warm)
        if cut:
            evidence.reserve(msg("EXPO_INCOMPLETE", ports=", ".join(cut)))
        fail(*[e.reason() for e in found])
    if cut:
        raise CheckError(msg("EXPO_INCOMPLETE", ports=", ".join(cut)))
    if not_warm is not None:
        raise CheckError(not_warm)


async def _registered_scan(profile: Profile, site: Site, client: ProbeClient, key: str
                           ) -> tuple[probe.Scan | None, Msg | None]:
    """The scan while the site's first account is registered from the site's SIP port (our
    user agent answers there as an IPBX would); None and why when it cannot be made."""
    account = next(iter(profile.accounts()), None)
    if account is None:
        return None, None  # nothing on this site ever registers: the cold scan is all
    try:
        ua = await open_ua(profile, account.user, site)
    except CheckError as exc:
        return None, msg("EXPO_NOT_REGISTERED", account=account.name, detail=exc.message)
    try:
        reg = await register_behind_nat(ua)
        if reg.status != 200:
            return None, msg("EXPO_NOT_REGISTERED", account=account.name,
                             detail=f"{reg.status} {reg.reason}".strip())
        try:
            # The probe's HTTP call blocks: in a thread, so this loop keeps serving the UA.
            return await asyncio.to_thread(probe.scan, client, exposure.ports(), "warm", key,
                                           exposure.TFTP_FILES), None
        finally:
            await ua.unregister()
    except CheckError as exc:
        return None, msg("EXPO_NOT_REGISTERED", account=account.name, detail=exc.message)
    finally:
        ua.ep.close()


def _same_address(site: Site, scans: list[probe.Scan]) -> None:
    """The probe scans the address our request came from: the site's public address only if
    the agent reached it through the site's link. When the registrar saw another one, the
    scan says nothing about the address the operator talks to."""
    if site.public is None:
        return
    public = site.public
    other = next((s.to for s in scans if s.to != public), None)
    if other is not None:
        raise CheckError(msg("EXPO_OTHER_ADDRESS", scanned=other, public=public))


def _evidence(evidence: Evidence, scans: list[probe.Scan], not_warm: Msg | None) -> None:
    """Each scan's table, each answer's bytes (the probe cut them and replaced password
    lines), and whether the console can verify the scans."""
    for s in scans:
        evidence.add(f"ports reached from outside ({s.phase}, {s.source} → {s.to}, "
                     f"{s.seconds:.1f} s)", "\n".join(a.line() for a in s.ports))
        opened = [f"{a.port}/{a.transport}" for a in s.ports if a.state == "open"]
        evidence.fact(f"{s.phase} outsider", ", ".join(opened) or "nothing reached")
        for a in s.ports:
            if a.state == "open" and a.answer:
                evidence.add(f"answer of {a.port}/{a.transport} ({s.phase})", a.answer,
                             kind="messages")
    evidence.add("scan attestations", "\n".join(s.attested() for s in scans))
    if not_warm is not None:
        evidence.fact("warm outsider", f"not scanned: {not_warm}")


def _figures(s: probe.Scan) -> ExposureScan:
    return ExposureScan(
        phase="warm" if s.phase == "warm" else "cold", source=s.source, to=s.to,
        seconds=round(s.seconds, 3),
        ports=[ExposurePort.model_validate({
            "port": a.port, "transport": a.transport, "state": a.state,
            "protocol": a.protocol, "answered": exposure.what(a) if a.state == "open" else "",
            "tls_subject": a.tls_subject, "risk": exposure.risk(a), "complete": a.complete})
            for a in s.ports],
        attestation=Attestation(**s.attestation) if s.attestation else None)
