"""Router audit (operator handbook §VIII-A/B): pull the site router's configuration over SSH
and check LANs, separation, DHCP, the voice openings (rule by rule, in order), NAT forwards,
SIP ALG and the device model. Every finding names the configuration lines behind it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.evidence import Evidence
from harness.portset import fmt
from harness.profile import Profile
from router_checks import opios
from router_checks.audit import Finding, audit
from router_checks.collect import collect_opios
from router_checks.model import RouterModel


def _model(profile: Profile, evidence: Evidence) -> RouterModel:
    router = profile.router
    assert router is not None
    if router.kind == "opios":
        out = collect_opios(router)
        evidence.data["collected"] = out  # the bundle `recette audit --kind opios` reads
        evidence.add("collected: nft -a list ruleset", out["nft -a list ruleset"])
        evidence.add("collected: ip -o -4 addr show", out["ip -o -4 addr show"])
        evidence.add(f"collected: {router.dhcp_config}", out["dhcp"] or "(none)")
        return opios.parse(addr_text=out["ip -o -4 addr show"], route_json=out["ip -j route"],
                           nft_json=out["nft -j list ruleset"],
                           nft_text=out["nft -a list ruleset"], dhcp_text=out["dhcp"] or None,
                           dhcp_origin=router.dhcp_config)
    from router_checks import ios
    from router_checks.collect import collect_ios

    out = collect_ios(router)
    evidence.data["collected"] = out  # written beside the report as router-running-config.txt
    evidence.add("collected: show running-config", out["show running-config"])
    return ios.parse(out["show running-config"], version=out.get("show version"))


def report(findings: list[Finding], evidence: Evidence) -> None:
    evidence.add("findings", "\n".join(f.line() for f in findings) or "no finding")
    for f in findings:
        for src in f.sources:
            if src.text:
                evidence.add(f"{f.code} at {src.ref()}", "\n".join(src.text))
    evidence.data["findings"] = [{"code": f.code, "severity": f.severity, "message": f.message,
                                  "lines": [s.ref() for s in f.sources]} for f in findings]


@pytest.mark.check(
    order=70,
    id="router.audit",
    fr="Audit du routeur : LAN voix/données, DHCP, ouvertures du pare-feu, NAT, SIP ALG",
    en="Router audit: voice/data LANs, DHCP, firewall openings, NAT, SIP ALG",
)
def check_router_audit(profile: Profile, evidence: Evidence, shared: dict[str, Any]) -> None:
    if profile.router is None:
        pytest.skip("no router in the profile")
    model = _model(profile, evidence)
    findings, predicted = audit(model, profile.router, profile.operator.sip_server.ip)
    shared["router"] = predicted
    report(findings, evidence)
    evidence.fact("predicted open to the server", fmt(predicted["server"]))
    evidence.fact("predicted open to others", fmt(predicted["others"]))
    if model.sources.get("unevaluated"):
        evidence.add("rules not evaluated", model.sources["unevaluated"])
    warns = [f for f in findings if f.severity == "warn"]
    if warns:
        evidence.fact("reserve", "; ".join(f"{f.code} ({', '.join(s.ref() for s in f.sources)})"
                                           for f in warns))
    fails = [f for f in findings if f.severity == "fail"]
    assert not fails, " | ".join(f.line() for f in fails)


@pytest.mark.check(
    order=80,
    id="router.crosscheck",
    fr="Concordance entre la configuration du routeur et la vérification active du pare-feu",
    en="Router configuration agrees with the active firewall verification",
)
def check_router_crosscheck(shared: dict[str, Any], evidence: Evidence) -> None:
    if "router" not in shared or "firewall" not in shared:
        pytest.skip("needs the router audit and the active firewall verification in one run")
    cfg, real = shared["router"], shared["firewall"]
    evidence.data["crosscheck"] = json.loads(json.dumps(
        {"config": {k: sorted(v) for k, v in cfg.items()},
         "measured": {k: sorted(v) for k, v in real.items()}}))
    problems = []
    for key, who in (("server", "the operator server"), ("others", "other sources")):
        only_cfg, only_real = cfg[key] - real[key], real[key] - cfg[key]
        if only_cfg:
            problems.append(f"the configuration opens UDP {fmt(only_cfg)} to {who} but they "
                            "were found closed")
        if only_real:
            problems.append(f"UDP {fmt(only_real)} found open to {who} although the "
                            "configuration closes them")
    evidence.fact("server: config / measured", f"{fmt(cfg['server'])} / {fmt(real['server'])}")
    evidence.fact("others: config / measured", f"{fmt(cfg['others'])} / {fmt(real['others'])}")
    assert not problems, "; ".join(problems)
