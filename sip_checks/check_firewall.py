"""Firewall openings: UDP 5060 and 10000-20000 open to the operator's SIP server, and only to
it (operator handbook §VIII-B: toll-fraud protection, the condition for international calls).

No operator runs our software, so the proof rests on what a real site has:

- the operator's own traffic (:mod:`sip_checks.probes.media_ports`): its INVITE on a new flow
  proves 5060, its media reaching sampled SDP ports before the site sent proves the RTP range,
  and samples outside it (9999, 20001) must stay closed;
- the outsider probe's sweep of 5060, all of 10000-20000 and the edges, cold and warm: nothing
  may arrive from an address that is not the operator's;
- the router's configuration (``router.audit`` runs first) for what the traffic left unproven;
- and, when a profile names one, a probe at the server's address sweeping every port.

The verdict, and the international-option gate's record, name the evidence they rest on.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

import pytest

from harness.errors import CheckError, RecetteError, fail
from harness.evidence import Evidence
from harness.gate.record import record
from harness.messages import Msg, msg
from harness.plugin import RunState
from harness.portset import fmt
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import OperatorTraffic, PortSets, SampleRow
from harness.results import Sweep as SweepRow
from harness.schedule import run_async
from sip_checks import claims
from sip_checks.probes import media_ports
from sip_checks.probes.firewall import (
    EXPECTED,
    SIP_PORT,
    SWEPT,
    Listener,
    Sweep,
    discrepancies,
    sweep,
)
from sip_checks.session import Site, open_ua, register_behind_nat


@pytest.mark.check(
    order=60,
    id="firewall.openings",
    claims=claims.firewall,
    fr="Pare-feu : UDP 5060 et 10000-20000 ouverts au serveur SIP de l'opérateur, et à lui "
       "seul",
    en="Firewall: UDP 5060 and 10000-20000 open to the operator's SIP server, and only to it",
)
def check_firewall_openings(profile: Profile, site: Site, evidence: Evidence,
                            server_probe: ProbeClient | None, outsider_probe: ProbeClient,
                            run_state: RunState) -> None:
    ipbx = profile.router.ipbx if profile.router is not None else None
    if ipbx is not None and str(ipbx) != site.ip:
        # What the forward delivers reaches the IPBX, never us: every port would look closed.
        raise CheckError(msg("AGENT_NOT_IPBX", ipbx=str(ipbx), agent=site.ip))
    server_ip = str(profile.operator.sip_server.ip)
    bases: list[str] = []
    problems: list[Msg] = []
    unproven: list[Msg] = []
    sampling = None
    if server_probe is None:
        sampling = _sample(profile, site, evidence)
        if sampling is not None:
            bases.append("operator traffic")
            _operator_findings(sampling, server_ip, evidence, problems, unproven)
        _media_sources(profile, sampling, evidence)
    else:  # its sweep proves every port; one call still learns where media comes from
        _media_sources(profile, None, evidence, learned=learn_media(profile, site))
    sweeps = _sweeps(site, server_ip, server_probe, outsider_probe)
    bases += ["outsider sweep"] + (["server probe sweep"] if server_probe else [])
    evidence.add("ports reached", "\n".join(s.line() for s in sweeps))
    evidence.figures.sweeps = [
        SweepRow.model_validate({"vantage": s.vantage, "phase": s.phase, "source": s.source,
                                 "open": sorted(s.open_ports), "sent": s.sent,
                                 "seconds": s.seconds}) for s in sweeps]
    for s in sweeps:
        evidence.fact(f"{s.phase} {s.vantage}", s.line().split(": open ", 1)[1])
    by_vantage = {(s.vantage, s.phase): s for s in sweeps}
    for phase in ("cold", "warm"):
        problems += discrepancies(by_vantage.get(("server", phase)),
                                  by_vantage[("outsider", phase)])
    run_state.measured = _measured(sweeps, sampling)
    if server_probe is not None:
        unproven = []  # the server's sweep tried every port
    elif unproven and run_state.predicted is not None:
        unproven = _config_covers(unproven, run_state.predicted, evidence)
        bases.append("router configuration")
    evidence.fact("evidence", ", ".join(bases))
    _record(profile, evidence, passed=not problems and not unproven, bases=bases)
    if problems:
        for m in unproven:
            evidence.reserve(m)
        fail(*problems)
    if unproven:
        for m in unproven[1:]:
            evidence.reserve(m)
        raise CheckError(unproven[0])


def _sample(profile: Profile, site: Site, evidence: Evidence) -> media_ports.Sampling | None:
    """The operator's own traffic; None (with the reason in the evidence) when no call could
    make it send anything."""
    try:
        return run_async(media_ports.sample(profile, site, media_ports.plan()))
    except CheckError as exc:
        evidence.fact("operator traffic", f"not sampled: {exc}")
        return None


def _operator_findings(s: media_ports.Sampling, server_ip: str, evidence: Evidence,
                       problems: list[Msg], unproven: list[Msg]) -> None:
    """What the SIP flow and the RTP samples prove, fail or leave open."""
    evidence.add("operator traffic: SIP", s.sip.line())
    evidence.add("operator traffic: RTP samples", "\n".join(
        [f"{len(s.samples)} calls ({s.route}) in {s.seconds:.1f} s"]
        + [x.line() for x in s.samples]))
    evidence.figures.operator_traffic = OperatorTraffic(
        route=s.route, seconds=round(s.seconds, 3), sip=s.sip.line(),
        sip_proven=s.sip.proven,
        sip_source=f"{s.sip.source[0]}:{s.sip.source[1]}" if s.sip.source else None,
        samples=[SampleRow(port=x.port, outcome=x.outcome, first_ms=x.first_ms,
                           after_punch_ms=x.after_punch_ms, sources=x.sources, sdp=x.sdp)
                 for x in s.samples])
    # SIP 5060
    if s.sip.source is not None and s.sip.source[0] != server_ip:
        evidence.reserve(msg("SIP_ELSEWHERE", address=s.sip.source[0]))
    if s.sip.proven:
        evidence.fact("SIP 5060 from the operator", "open: " + s.sip.line())
    elif s.sip.proven is False:
        evidence.fact("SIP 5060 from the operator", "unproven: " + s.sip.line())
        unproven.append(msg("SIP_FORWARD_UNPROVEN",
                            source=f"{s.sip.source[0]}:{s.sip.source[1]}" if s.sip.source
                            else "?"))
    elif s.hairpin_failed is not None:
        evidence.fact("SIP 5060 from the operator", f"closed: {s.hairpin_failed}")
        problems.append(msg("SIP_CLOSED_TO_SERVER", server=server_ip,
                            detail=s.hairpin_failed))
    else:
        evidence.fact("SIP 5060 from the operator", "unproven: no call came in")
        unproven.append(msg("SIP_NO_CALL_IN"))
    # RTP: open in range, closed outside; closed ports named with the addresses they
    # were closed to.
    inside = [x for x in s.samples if x.in_range]
    closed: dict[str, list[int]] = defaultdict(list)
    for x in inside:
        if x.outcome == "closed":
            closed[", ".join(sorted({src.rsplit(":", 1)[0] for src in x.sources}))].append(
                x.port)
    for sources, ports in sorted(closed.items()):
        problems.append(msg("RTP_CLOSED_TO_MEDIA", sources=sources, ports=fmt(ports)))
    beyond = [x.port for x in s.samples if not x.in_range and x.outcome == "open"]
    if beyond:
        problems.append(msg("RTP_OPEN_BEYOND", ports=fmt(beyond)))
    blind = [x for x in inside if x.outcome in ("silent", "failed")]
    if blind:
        why = next((x.note for x in blind if x.note is not None), msg("SAMPLE_SILENT"))
        unproven.append(msg("RTP_UNPROVEN", ports=fmt(x.port for x in blind), detail=why))
    if not any(x.outcome == "open" for x in inside) and closed:
        evidence.fact("note", "no sampled port received the operator's media before the "
                      "site sent: the firewall drops it, or the operator's relay waits for "
                      "the site's media (the router's configuration tells which)")
    n_open = sum(x.outcome == "open" for x in inside)
    outside = [x for x in s.samples if not x.in_range]
    evidence.fact("RTP samples", f"{n_open}/{len(inside)} in range open, "
                  f"{sum(x.outcome != 'open' for x in outside)}/{len(outside)} outside closed "
                  f"({len(s.samples)} calls, {s.seconds:.1f} s)")


def _media_sources(profile: Profile, s: media_ports.Sampling | None, evidence: Evidence,
                   learned: set[str] | None = None) -> None:
    """Where the operator's media comes from: the profile's declared addresses, the samples'
    SDP and RTP sources (or one call's). An address other than the server's that no sample
    proved open, or closed, is a reserve: the firewall must admit it too."""
    server_ip = str(profile.operator.sip_server.ip)
    media = {str(ip) for ip in profile.operator.media_ips} | (learned or set())
    judged: set[str] = set()
    if s is not None:
        media |= s.media_addresses()
        judged = {src.rsplit(":", 1)[0] for x in s.samples if x.in_range
                  and x.outcome in ("open", "closed") for src in x.sources}
    evidence.figures.media_sources = sorted(media)
    evidence.fact("operator media sources", ", ".join(sorted(media)) or "none seen")
    elsewhere = sorted(media - {server_ip} - judged)
    if elsewhere:
        evidence.reserve(msg("MEDIA_ELSEWHERE", addresses=", ".join(elsewhere)))


def learn_media(profile: Profile, site: Site) -> set[str]:
    """The addresses one short test call shows the operator's media on (SDP c= of the
    answer and the RTP's actual sources); empty when the call cannot be made."""
    found: set[str] = set()
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
        run_async(probe_call())
    return found


def _sweeps(site: Site, server_ip: str, server_probe: ProbeClient | None,
            outsider_probe: ProbeClient) -> list[Sweep]:
    """Cold then warm: the outsider always, the server's probe when there is one. Warm
    means every listening port has first sent one datagram to the operator (the NAT and
    conntrack state a running IPBX has)."""
    warm_to = server_ip
    if server_probe is not None:
        warm_to = str(server_probe.post("/whoami", {}).get("send_from") or server_ip)
    listener = Listener(site.ip, SWEPT)
    try:
        if listener.busy:
            raise CheckError(msg("PORTS_BUSY", ports=", ".join(map(str, listener.busy[:5])),
                                 ip=site.ip))
        sweeps: list[Sweep] = []
        for phase in ("cold", "warm"):
            if phase == "warm":
                listener.warm(warm_to)
            if server_probe is not None:
                sweeps.append(sweep(listener, server_probe, "server", phase))
            sweeps.append(sweep(listener, outsider_probe, "outsider", phase))
        return sweeps
    finally:
        listener.close()


def _measured(sweeps: list[Sweep], sampling: media_ports.Sampling | None) -> PortSets:
    """The ports found open to the server (every port when its probe swept, else the
    samples) and to others (the outsider's cold sweep), for ``router.crosscheck``."""
    server = next((s for s in sweeps if s.vantage == "server" and s.phase == "cold"), None)
    others = next(s for s in sweeps if s.vantage == "outsider" and s.phase == "cold")
    if server is not None:
        return PortSets(server=sorted(server.open_ports), others=sorted(others.open_ports))
    tested: list[int] = []
    found: list[int] = []
    if sampling is not None:
        for x in sampling.samples:
            if x.outcome in ("open", "closed"):
                tested.append(x.port)
                if x.outcome == "open":
                    found.append(x.port)
        # 5060 was tried when an INVITE came on a new flow (open) or none came (closed);
        # one that rode the site's own flow says nothing about it.
        if sampling.sip.proven or (sampling.sip.source is None
                                   and sampling.hairpin_failed is not None):
            tested.append(SIP_PORT)
            if sampling.sip.proven:
                found.append(SIP_PORT)
    return PortSets(server=sorted(found), others=sorted(others.open_ports),
                    tested=sorted(tested))


def _config_covers(unproven: list[Msg], predicted: PortSets, evidence: Evidence) -> list[Msg]:
    """The router's configuration vouches for what the traffic left unproven when it opens
    every expected port to the server; else the unproven stays."""
    if set(predicted.server) >= EXPECTED:
        evidence.fact("unproven by traffic, open in the router's configuration",
                      "; ".join(str(m) for m in unproven))
        return []
    return unproven


def _record(profile: Profile, evidence: Evidence, *, passed: bool, bases: list[str]) -> None:
    """Tell the international-option gate, which must also learn of failures: they block
    the option."""
    try:
        ref = record(profile, evidence, passed=passed, bases=bases)
        evidence.fact("recorded for the international option", ref)
    except RecetteError as exc:
        evidence.reserve(msg("GATE_NOT_RECORDED", detail=str(exc)))
