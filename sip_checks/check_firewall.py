"""Firewall openings: UDP 5060 and 10000-20000 open to the operator's addresses (its SIP server,
and the edge proxy and media relay its profile names), and only to them (operator handbook
§VIII-B: toll-fraud protection, the condition for international calls).

No operator runs our software, so the proof rests on what a real site has:

- the operator's own traffic (:mod:`sip_checks.probes.media_ports`): its INVITE on a new flow
  proves 5060, its media reaching sampled SDP ports before the site sent proves the RTP range,
  and samples outside it (9999, 20001) must stay closed;
- the outsider probe's sweep of 5060, all of 10000-20000 and the edges, cold and warm: nothing
  may arrive from an address that is not the operator's;
- the router's configuration (``router.audit`` runs first) for what the traffic left unproven;
- and, when a profile names one, a probe at the server's address sweeping every port.

Each operator address is judged on its own (:mod:`sip_checks.openings`): proven, closed,
unproven, or vouched for by the configuration; anything left unproven makes the check an
error, never a pass, and nothing is recorded for the international option. The verdict and
the gate's record name, per address, the evidence they rest on.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from harness.errors import CheckError, fail
from harness.evidence import Evidence
from harness.gate.record import site_key
from harness.messages import Msg, msg
from harness.plugin import RunState
from harness.portset import fmt
from harness.probe.client import ProbeClient
from harness.profile import SIP_PORT, Profile
from harness.results import Attestation, OperatorTraffic, PortSets, PublicAddress, SampleRow
from harness.results import Sweep as SweepRow
from harness.schedule import run_async
from sip_checks import claims, exposure, openings
from sip_checks.probes import exposure as exposure_probe
from sip_checks.probes import media_ports
from sip_checks.probes.firewall import (
    SWEPT,
    Listener,
    Sweep,
    discrepancies,
    sweep,
)
from sip_checks.session import Site, open_ua, register_behind_nat
from sip_checks.toolkit import sdp


@pytest.mark.check(
    order=60,
    id="firewall.openings",
    claims=claims.firewall,
    fr="Pare-feu : UDP 5060 et 10000-20000 ouverts aux adresses de l'opérateur, et à elles "
       "seules",
    en="Firewall: UDP 5060 and 10000-20000 open to the operator's addresses, and only to them",
)
def check_firewall_openings(profile: Profile, site: Site, evidence: Evidence,
                            server_probe: ProbeClient | None, outsider_probe: ProbeClient,
                            run_state: RunState) -> None:
    ipbx = profile.router.ipbx if profile.router is not None else None
    if ipbx is not None and str(ipbx) != site.ip:
        # What the forward delivers reaches the IPBX, never us: every port would look closed.
        raise CheckError(msg("AGENT_NOT_IPBX", ipbx=str(ipbx), agent=site.ip))
    server_ip = str(profile.operator.sip_server.ip)
    alg = alg_seen(run_state)
    sampling: media_ports.Sampling | None = None
    not_sampled: Msg | None = None
    learned: set[str] = set()
    # The operator's traffic proves what no probe of ours can: always without a probe at the
    # server, and beside one when the operator has addresses the probe does not send from.
    if server_probe is None or set(profile.operator.sources()) - {
            profile.operator.sip_server.ip}:
        sampling, not_sampled = _sample(profile, site, evidence)
        if sampling is not None:
            _traffic_evidence(sampling, evidence)
    else:  # its sweep proves every port; one call still learns where media comes from
        learned = learn_media(profile, site)
    ledger = openings.build(profile.operator, sampling, not_sampled, alg=alg,
                            learned_media=learned)
    sweeps, elsewhere = _sweeps(site, server_ip, server_probe, outsider_probe, site_key(profile))
    evidence.add("ports reached", "\n".join(s.line() for s in sweeps))
    evidence.add("sweep attestations", "\n".join(s.attested() for s in sweeps))
    evidence.figures.sweeps = [
        SweepRow.model_validate({"vantage": s.vantage, "phase": s.phase, "source": s.source,
                                 "open": sorted(s.open_ports), "sent": s.sent,
                                 "seconds": s.seconds,
                                 "attestation": Attestation(**s.attestation)
                                 if s.attestation else None}) for s in sweeps]
    evidence.figures.public_address = public_address(site, sweeps)
    for s in sweeps:
        evidence.fact(f"{s.phase} {s.vantage}", s.line().split(": open ", 1)[1])
    # The ALG's pinholes are its effect, not the firewall's: out of the sweeps judged here
    # and handed to the cross-check, said once as a reserve.
    judged: list[Sweep] = []
    for s in sweeps:
        kept, pinholes = alg_pinholes(s, alg, run_state.predicted) \
            if s.vantage == "outsider" else (s, frozenset())
        if pinholes:
            evidence.reserve(msg("OPENINGS_BY_ALG", phase=msg(f"PHASE_{s.phase.upper()}"),
                                 ports=fmt(pinholes), source=s.source))
        judged.append(kept)
    by_vantage = {(s.vantage, s.phase): s for s in judged}
    problems: list[Msg] = [elsewhere] if elsewhere is not None else []
    for phase in ("cold", "warm"):
        problems += discrepancies(by_vantage.get(("server", phase)),
                                  by_vantage[("outsider", phase)])
    swept = _server_sweep_proves(ledger, by_vantage.get(("server", "cold")))
    config = openings.vouch(ledger, run_state.predicted)
    if config:
        evidence.add("unproven by traffic: the router's configuration", "\n".join(config))
    _media_sources(ledger, sampling, evidence)
    run_state.measured = _measured(judged, ledger, sampling, server_ip)
    for m in ledger.reserves:
        evidence.reserve(m)
    evidence.add("operator addresses", "\n".join(n.line() for n in ledger.needs))
    evidence.figures.operator_addresses = ledger.rows()
    for n in ledger.needs:
        evidence.fact(f"{n.address} {openings.LABEL[n.kind]}", n.status)
    bases = _bases(ledger, swept)
    evidence.fact("evidence", ", ".join(bases))
    problems += ledger.verdict_problems()
    questions = ledger.open_questions()
    if problems:
        _for_console(evidence, passed=False)
        for m in questions:
            evidence.reserve(m)
        fail(*problems)
    if questions:
        # Unproven is not a verdict on the site: nothing goes to the international option.
        evidence.fact("recorded for the international option",
                      "no: part of the opening is unproven")
        for m in questions[1:]:
            evidence.reserve(m)
        raise CheckError(questions[0])
    _for_console(evidence, passed=True)


def public_address(site: Site, sweeps: list[Sweep]) -> PublicAddress | None:
    """The site's public address as this run saw it: the registrar's view when a
    registration learned it, else where the outsider probe sent its sweep. The console
    matches the attestations' target to it."""
    if site.public is not None:
        return PublicAddress(address=site.public, seen_by="registrar")
    to = next((s.to for s in sweeps if s.vantage == "outsider" and s.to), None)
    return PublicAddress(address=to, seen_by="probe") if to is not None else None


def alg_seen(run_state: RunState) -> bool:
    """A SIP ALG seen at work by ``sip.alg``, or on in the router's configuration
    (``router.audit``): either way its pinholes look like forwards, so the traffic proves
    nothing it could have opened (a run of this check without ``sip.alg`` still knows)."""
    return bool(run_state.alg) or bool(run_state.predicted and run_state.predicted.sip_alg)


def alg_pinholes(outsider: Sweep, alg: bool, predicted: PortSets | None
                 ) -> tuple[Sweep, frozenset[int]]:
    """The outsider's sweep without the SIP ALG's pinholes, and those pinholes.

    A router's SIP ALG opens, for every SDP it rewrites, the media port it names and the next
    (RTCP) to the far side of that message: the ALG probe's INVITEs to the outsider make such
    pinholes, which the outsider's sweep then reaches. They are the ALG's effect (told by
    following the ALG: only when one was seen, only on ports an SDP of ours named to that very
    address), not a rule to close; a port the router's configuration opens to any address
    stays the firewall's."""
    if not alg:
        return outsider, frozenset()
    named = {p for port, to in sdp.OFFERED.items() if outsider.source in to
             for p in (port, port + 1)}
    pinholes = set(outsider.open_ports) & named
    if predicted is not None and predicted.any_source:
        pinholes -= set(predicted.any_source)
    if not pinholes:
        return outsider, frozenset()
    return replace(outsider, open_ports=outsider.open_ports - pinholes), frozenset(pinholes)


def _sample(profile: Profile, site: Site, evidence: Evidence
            ) -> tuple[media_ports.Sampling | None, Msg | None]:
    """The operator's own traffic; None and the reason when no call could make it send
    anything (the reason then makes every address unproven, never a pass)."""
    try:
        return run_async(media_ports.sample(profile, site, media_ports.plan())), None
    except CheckError as exc:
        evidence.fact("operator traffic", f"not sampled: {exc}")
        return None, exc.message


def _traffic_evidence(s: media_ports.Sampling, evidence: Evidence) -> None:
    """What the operator's SIP and media did, as the evidence's ladder-like record."""
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
    inside = [x for x in s.samples if x.in_range]
    outside = [x for x in s.samples if not x.in_range]
    n_open = sum(x.outcome == "open" for x in inside)
    evidence.fact("RTP samples", f"{n_open}/{len(inside)} in range open, "
                  f"{sum(x.outcome != 'open' for x in outside)}/{len(outside)} outside closed "
                  f"({len(s.samples)} calls, {s.seconds:.1f} s)")


def _server_sweep_proves(ledger: openings.Ledger, cold: Sweep | None) -> bool:
    """A probe at the server swept every port from its address: the needs of that address
    that it found entirely open are proven (what it found closed is already a failure)."""
    if cold is None:
        return False
    proved = False
    for n in ledger.needs:
        if n.address == cold.source and n.status == "unproven" \
                and openings.PORTS[n.kind] <= cold.open_ports:
            n.status, n.detail, n.why = "proven", "server probe sweep: every port open", None
            n.opened, n.basis = sorted(openings.PORTS[n.kind]), "server probe sweep"
            proved = True
    return proved


def _bases(ledger: openings.Ledger, swept: bool) -> list[str]:
    """The evidence the verdict rests on, in the order the technical service reads it."""
    bases = []
    if any(n.status in ("proven", "closed") and n.basis == "operator traffic"
           for n in ledger.needs):
        bases.append("operator traffic")
    bases.append("outsider sweep")
    if swept:
        bases.append("server probe sweep")
    if any(n.status == "vouched" for n in ledger.needs):
        bases.append("router configuration")
    return bases


def _media_sources(ledger: openings.Ledger, s: media_ports.Sampling | None,
                   evidence: Evidence) -> None:
    """Where the operator's media comes from: the declared and the seen addresses."""
    media = {n.address for n in ledger.of("rtp")} | (s.media_addresses() if s else set())
    evidence.figures.media_sources = sorted(media)
    evidence.fact("operator media sources", ", ".join(sorted(media)) or "none seen")


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
            outsider_probe: ProbeClient, key: str) -> tuple[list[Sweep], Msg | None]:
    """Cold then warm: the outsider always, the server's probe when there is one. Warm
    means every listening port has first sent one datagram to the operator (the NAT and
    conntrack state a running IPBX has). Each asks the probe to attest the sweep for the
    site ``key`` (the gate's name for it). With the cold outsider sweep, whether UDP 5060
    answers the outsider though nothing reached us (:func:`_answered_elsewhere`)."""
    warm_to = server_ip
    if server_probe is not None:
        warm_to = str(server_probe.post("/whoami", {}).get("send_from") or server_ip)
    listener = Listener(site.ip, SWEPT)
    answered: Msg | None = None
    try:
        if listener.busy:
            raise CheckError(msg("PORTS_BUSY", ports=", ".join(map(str, listener.busy[:5])),
                                 ip=site.ip))
        sweeps: list[Sweep] = []
        for phase in ("cold", "warm"):
            if phase == "warm":
                listener.warm(warm_to)
            if server_probe is not None:
                sweeps.append(sweep(listener, server_probe, "server", phase, key))
            sweeps.append(sweep(listener, outsider_probe, "outsider", phase, key))
            if phase == "cold" and SIP_PORT not in sweeps[-1].open_ports:
                answered = _answered_elsewhere(outsider_probe, key)
        return sweeps, answered
    finally:
        listener.close()


def _measured(sweeps: list[Sweep], ledger: openings.Ledger,
              sampling: media_ports.Sampling | None, registrar: str) -> PortSets:
    """The ports found open to the server (every port when its probe swept, else what the
    traffic proved) and to others (the outsider's cold sweep), per operator address too, for
    ``router.crosscheck``."""
    server = next((s for s in sweeps if s.vantage == "server" and s.phase == "cold"), None)
    others = next(s for s in sweeps if s.vantage == "outsider" and s.phase == "cold")
    found, tested = openings.measured(ledger, sampling)
    if server is not None:
        found[server.source] = sorted(server.open_ports)
        tested.pop(server.source, None)
        return PortSets(server=sorted(server.open_ports), others=sorted(others.open_ports),
                        by_source=found, tested_by_source=tested)
    # ``server``/``tested`` keep their meaning for a reader without ``by_source``: what the
    # registrar's own address proved and was tried on.
    return PortSets(server=found.get(registrar, []), others=sorted(others.open_ports),
                    tested=tested.get(registrar, []), by_source=found,
                    tested_by_source=tested)


def _for_console(evidence: Evidence, *, passed: bool) -> None:
    """Say where the verdict goes: the agent writes no gate. The console records the
    verification when the run is uploaded, with its own clock and the uploader's identity,
    and starts the 24 h clock only on a pass whose outsider sweeps the probe signed
    (:mod:`harness.console.gatekeeper`); a failure blocks the option there too."""
    evidence.fact("recorded for the international option",
                  "by the console, when this run is uploaded ("
                  + ("a pass starts the 24 h wait only with the probe's signed sweeps)"
                     if passed else "a failure blocks the option)"))


def _answered_elsewhere(outsider_probe: ProbeClient, key: str) -> Msg | None:
    """UDP 5060 answering the outsider's OPTIONS while the outsider's sweep reached nothing
    here: the router forwards the port to another device of the site (an IPBX), from any
    address. The sweep only sees what reaches this computer, so without this a forward to
    the IPBX from the whole internet passed (the lab's weak IPBX, issue 25). Asked while
    the sweep's listener holds this computer's 5060 and answers nothing, so an answer is
    never ours. A silent device stays unproven here: the router's configuration and
    ``security.exposure`` speak for it."""
    scan = exposure_probe.scan(outsider_probe, [(SIP_PORT, "udp")], "cold", key)
    row = scan.ports[0]
    if row.state != "open":
        return None
    return msg("OPENINGS_ANSWERED_ELSEWHERE", port=SIP_PORT, source=scan.source,
               answered=exposure.what(row))
