"""SIP ALG: does anything on the path rewrite SIP/SDP? (Operator handbook §V-A-b: "SIP ALG
enabled by default on some routers" is a top cause of registration and one-way audio
failures.) Both directions, UDP and TCP, on 5060 and on a non-standard port.

No operator runs our probe beside its server, so the check rests on what a real site has:
the outsider probe's SIP reflector (an ALG rewrites SIP to any destination on its port) and
the operator's registrar (what its 200 OK says it received, see
:mod:`sip_checks.alg_registrar`). A probe beside the server, when the profile names one, adds
its own diff. A rewrite seen by any witness is a finding; with no witness at all the check
cannot conclude and errors.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from harness.errors import CheckError, fail
from harness.evidence import Evidence
from harness.messages import Msg, msg
from harness.plugin import RunState
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import AlgProbe
from harness.schedule import run_async
from sip_checks import alg_registrar, claims
from sip_checks.alg_witnesses import Run, elements, filtered, table
from sip_checks.probes import alg
from sip_checks.session import Site, probe_client

WITNESS_FACT = {"outsider": "witness: outsider probe's reflector",
                "registrar": "witness: operator's registrar",
                "server": "witness: probe beside the SIP server"}


def _witness(vantage: str) -> Msg:
    """The witness's name, for the customer."""
    if vantage == "outsider":
        return msg("VANTAGE_OUTSIDER")
    if vantage == "server":
        return msg("VANTAGE_SERVER")
    return msg("ALG_WITNESS_REGISTRAR")


def _probe_run(client: ProbeClient | None, vantage: alg.Vantage, local_ip: str,
               failure: Msg | None = None) -> tuple[Run, str | None]:
    """Every ALG probe through one probe's reflector, and our public address as it saw us."""
    if client is None:
        return Run(vantage, [], failure), None
    try:
        public = alg.public_address(client)
        return Run(vantage, alg.run_all(client, client.host, local_ip, vantage=vantage,
                                        public=public)), public
    except CheckError as exc:
        return Run(vantage, [], exc.message), None


def _outsider(profile: Profile) -> tuple[ProbeClient | None, Msg | None]:
    try:
        return probe_client(profile, "outsider"), None
    except CheckError as exc:
        return None, exc.message


@pytest.mark.check(
    order=55,
    id="sip.alg",
    claims=claims.alg,
    fr="Absence de SIP ALG : les messages SIP/SDP traversent le routeur sans réécriture",
    en="No SIP ALG: SIP/SDP messages cross the router unmodified",
)
def check_sip_alg(profile: Profile, server_probe: ProbeClient | None, site: Site,
                  evidence: Evidence, run_state: RunState) -> None:
    client, why = _outsider(profile)
    outsider, public = _probe_run(client, "outsider", site.ip, why)
    runs = [outsider]
    witness = run_async(alg_registrar.observe(profile, site, public=public))
    runs.append(Run("registrar", [witness.probe],
                    None if witness.probe.delivered else witness.probe.note))
    if server_probe is not None:
        runs.append(_probe_run(server_probe, "server", site.ip)[0])
    probes = [p for r in runs for p in r.probes]
    _record(evidence, runs, witness, profile.operator.sip_server.port)
    if not any(r.saw_something for r in runs):
        details = [msg("ALG_WITNESS_FAILED", witness=_witness(r.vantage),
                       detail=r.failure or msg("ALG_NOTHING_ARRIVED")) for r in runs]
        raise CheckError(msg("ALG_NO_WITNESS", details=details))
    for r in runs:
        if r.vantage != "registrar" and not r.saw_something:
            evidence.reserve(msg("ALG_WITNESS_MISSING", witness=_witness(r.vantage),
                                 detail=r.failure or msg("ALG_NOTHING_ARRIVED")))
    rewritten = elements(p for p in probes if alg.is_alg(p))
    run_state.alg = bool(rewritten)
    evidence.fact("SIP ALG", "DETECTED" if rewritten else "not detected")
    reasons = []
    if rewritten:
        evidence.fact("rewritten elements", ", ".join(rewritten))
        reasons.append(msg("ALG_REWRITES", elements=", ".join(rewritten)))
    reasons += [msg("ALG_FILTERS", method=method, port=port)
                for method, port in filtered(probes)]
    if reasons:
        fail(*reasons)


def _record(evidence: Evidence, runs: list[Run], witness: alg_registrar.Witness,
            port: int) -> None:
    """Each witness's account: what crossed, what it saw rewritten, the side-by-side table."""
    probes = [p for r in runs for p in r.probes]
    evidence.add("what crossed the router", "\n".join(alg.summary(p) for p in probes))
    for r in runs:
        if not r.saw_something:
            evidence.fact(WITNESS_FACT[r.vantage],
                          f"could not run: {r.failure or 'none of our messages arrived'}")
        else:
            seen, n = r.rewritten(), sum(p.delivered for p in r.probes)
            evidence.fact(WITNESS_FACT[r.vantage], f"rewritten: {', '.join(seen)}" if seen else
                          f"nothing rewritten ({n} message{'s' if n > 1 else ''} compared)")
    if all(r.vantage != "server" for r in runs):
        evidence.fact(WITNESS_FACT["server"], "none in the profile (not required)")
    for p in probes:
        if p.changes:
            evidence.add(f"rewritten: {p.label()}", "\n".join(c.line() for c in p.changes))
    evidence.add("witnesses: our REGISTER as each saw it", table(runs, witness.view, port))
    if witness.view is not None and witness.view.public:
        evidence.fact("public address (registrar's comparison)",
                      f"{witness.view.public} (from {witness.view.public_from})")
    if witness.transcript:
        evidence.add(f"registrar witness: REGISTER of {witness.account} and its answer",
                     witness.transcript, kind="messages")
    evidence.figures.alg = [AlgProbe.model_validate(asdict(p)) for p in probes]
