"""SIP ALG: does anything on the path rewrite SIP/SDP? (Operator handbook §V-A-b: "SIP ALG
enabled by default on some routers" is a top cause of registration and one-way audio
failures.) Both directions, UDP and TCP, on 5060 and on a non-standard port."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from harness.errors import CheckError, fail
from harness.evidence import Evidence
from harness.messages import msg
from harness.probe.client import ProbeClient
from harness.results import AlgProbe
from sip_checks.probes import alg
from sip_checks.session import Site


@pytest.mark.check(
    order=55,
    id="sip.alg",
    fr="Absence de SIP ALG : les messages SIP/SDP traversent le routeur sans réécriture",
    en="No SIP ALG: SIP/SDP messages cross the router unmodified",
)
def check_sip_alg(server_probe: ProbeClient | None, site: Site, evidence: Evidence) -> None:
    if server_probe is None:
        raise CheckError(msg("NO_VANTAGE_POINT", name="server"))
    probes = alg.run_all(server_probe, server_probe.host, site.ip)
    evidence.add("what crossed the router", "\n".join(alg.summary(p) for p in probes))
    for p in probes:
        if p.changes:
            evidence.add(f"rewritten: {p.label()}", "\n".join(c.line() for c in p.changes))
    evidence.figures.alg = [AlgProbe.model_validate(asdict(p)) for p in probes]
    rewritten = [p for p in probes if alg.is_alg(p)]
    elements = sorted({c.element.split("[")[0].split(" sent-by")[0]
                       for p in rewritten for c in p.changes})
    evidence.fact("SIP ALG", "DETECTED" if rewritten else "not detected")
    reasons = []
    if rewritten:
        evidence.fact("rewritten elements", ", ".join(elements))
        reasons.append(msg("ALG_REWRITES", elements=", ".join(elements)))
    for port in alg.PORTS:
        for method in ("REGISTER", "INVITE"):
            u = next(p for p in probes if (p.proto, p.port, p.method) == ("udp", port, method)
                     and p.direction == "site→operator")
            t = next(p for p in probes if (p.proto, p.port, p.method) == ("tcp", port, method))
            if not u.delivered and t.delivered:
                reasons.append(msg("ALG_FILTERS", method=method, port=port))
    if reasons:
        fail(*reasons)
