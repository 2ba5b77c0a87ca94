"""Recording firewall verifications in the international-option gate (:mod:`harness.gate`).

A pass or a failure of ``firewall.openings`` becomes a gate event for the site, with the
sweeps as its detail; the gate then decides when the option may be switched on.
"""

from __future__ import annotations

import datetime as dt
import getpass
import secrets

from harness.evidence import Evidence
from harness.gate.store import open_store
from harness.profile import Profile, normalise_siret


def site_key(profile: Profile) -> str:
    """The gate's name for a site: SIRET and site name (one customer, several sites). The
    SIRET is normalised as the console's intake does (:mod:`harness.console.intake`): a
    SIRET written with spaces must not make a look-alike site."""
    siret = normalise_siret(profile.customer.siret) if profile.customer.siret else ""
    return f"{siret or profile.customer.name}/{profile.site.name}"


def record(profile: Profile, evidence: Evidence, *, passed: bool,
           bases: list[str] | None = None,
           addresses: dict[str, list[dict[str, str]]] | None = None) -> str:
    """Append the verification to the gate store; returns its reference. ``bases`` names
    the evidence the verdict rests on (operator traffic, outsider sweep, server probe sweep,
    router configuration): the technical service must see what a pass was proven with;
    ``addresses``, per operator address, which ports rest on what (proven by traffic or a
    sweep, vouched for by the configuration)."""
    ref = f"fw-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    traffic = evidence.figures.operator_traffic
    detail = {"server_ip": str(profile.operator.sip_server.ip),
              "trunks": [t.name for t in profile.trunks],
              "evidence": bases or ["server probe sweep", "outsider sweep"],
              "sweeps": [s.model_dump() for s in evidence.figures.sweeps],
              "operator_traffic": traffic.model_dump() if traffic is not None else None,
              "addresses": addresses or {}}
    open_store().record(site_key(profile), passed=passed, actor=getpass.getuser(),
                        evidence=ref, detail=detail)
    return ref
