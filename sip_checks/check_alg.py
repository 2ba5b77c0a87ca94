"""SIP ALG: does anything on the path rewrite SIP/SDP? (Operator handbook §V-A-b: "SIP ALG
enabled by default on some routers" is a top cause of registration and one-way audio
failures.) Both directions, UDP and TCP, on 5060 and on a non-standard port."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from harness.evidence import Evidence
from harness.profile import Profile
from sip_checks.probes import alg
from sip_checks.session import Site, probe_client


@pytest.mark.check(
    order=55,
    id="sip.alg",
    fr="Absence de SIP ALG : les messages SIP/SDP traversent le routeur sans réécriture",
    en="No SIP ALG: SIP/SDP messages cross the router unmodified",
)
def check_sip_alg(profile: Profile, site: Site, evidence: Evidence) -> None:
    client = probe_client(profile, "server")
    probes = alg.run_all(client, client.host, site.ip)
    evidence.add("what crossed the router", "\n".join(alg.summary(p) for p in probes))
    for p in probes:
        if p.changes:
            evidence.add(f"rewritten: {p.label()}", "\n".join(c.line() for c in p.changes))
    evidence.data["alg"] = [asdict(p) for p in probes]
    rewritten = [p for p in probes if alg.is_alg(p)]
    elements = sorted({c.element.split("[")[0].split(" sent-by")[0]
                       for p in rewritten for c in p.changes})
    evidence.fact("SIP ALG", "DETECTED" if rewritten else "not detected")
    if rewritten:
        evidence.fact("rewritten elements", ", ".join(elements))
    findings = [f"{p.label()} rewritten: " + "; ".join(c.line() for c in p.changes[:4])
                for p in rewritten]
    for port in alg.PORTS:
        for method in ("REGISTER", "INVITE"):
            u = next(p for p in probes if (p.proto, p.port, p.method) == ("udp", port, method)
                     and p.direction == "site→operator")
            t = next(p for p in probes if (p.proto, p.port, p.method) == ("tcp", port, method))
            if not u.delivered and t.delivered:
                findings.append(f"{method} dropped on UDP/{port} while TCP/{port} passes "
                                "(a filtering ALG)")
    assert not findings, "SIP ALG: " + " | ".join(findings)
