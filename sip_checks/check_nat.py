"""The site router's NAT, as the operator sees it (for the registration/keep-alive advice)."""

from __future__ import annotations

import pytest

from harness.errors import CheckError, fail
from harness.evidence import Evidence
from harness.messages import msg
from harness.probe.client import ProbeClient
from harness.results import NatFigures
from sip_checks.probes import nat
from sip_checks.session import Site


@pytest.mark.check(
    order=58,
    id="nat.behaviour",
    fr="NAT : conservation des ports, type de correspondance, durée de vie des associations "
       "UDP",
    en="NAT: port preservation, mapping type, UDP binding lifetime",
)
def check_nat_behaviour(server_probe: ProbeClient | None, outsider_probe: ProbeClient, site: Site,
                        evidence: Evidence, nat_idle_max: float) -> None:
    if server_probe is None:
        raise CheckError(msg("NO_VANTAGE_POINT", name="server"))
    m = nat.mapping(server_probe, outsider_probe, site.ip)
    evidence.fact("port preservation", f"{'yes' if m.preserved else 'no'} (local {m.local_port}"
                  f", seen {m.to_server})")
    evidence.fact("mapping", f"{m.kind} (server {m.to_server}, server other port "
                  f"{m.to_server_other_port}, outsider {m.to_outsider})")
    idles = sorted({t for t in (5, 10, 15, 20, 30, 45, 60, 90, 120, 180) if t <= nat_idle_max}
                   | {nat_idle_max})
    trials = nat.binding_timeout(server_probe, site.ip, idles)
    evidence.add("UDP binding trials", "\n".join(
        f"idle {t.idle_s:g} s: {'alive' if t.alive else 'expired' if t.alive is False else '?'}"
        for t in trials))
    lo, hi, advice = nat.recommendation(trials)
    evidence.fact("UDP binding lifetime", advice)
    evidence.figures.nat = NatFigures(
        local_port=m.local_port, seen=[m.to_server, m.to_server_other_port, m.to_outsider],
        mapping=m.kind, alive_max_s=lo, expired_min_s=hi)
    if None in (m.to_server, m.to_server_other_port, m.to_outsider):
        fail(msg("NAT_NOTHING_SEEN"))
