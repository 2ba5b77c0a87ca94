"""Router audit (operator handbook §VIII-A/B): pull the site router's configuration over SSH
and check LANs, separation, DHCP, the voice openings (rule by rule, in order), NAT forwards,
SIP ALG and the device model. Every finding names the configuration lines behind it.

The router's kind (profile ``router.kind``) is looked up in the router-kind table
(:mod:`router_checks.kinds`), which collects and parses it; nothing here depends on it.
"""

from __future__ import annotations

import re

import pytest

from harness.claims import Claims
from harness.errors import CheckError, fail, not_applicable
from harness.evidence import Evidence
from harness.messages import Msg, msg
from harness.plugin import RunState
from harness.portset import fmt
from harness.profile import Profile
from harness.results import CrossCheck, Finding, PortSets, RouterConfig
from router_checks import audit as audits
from router_checks import crosscheck
from router_checks.kinds import KINDS
from router_checks.model import RouterModel

# "REF: why" as the parsers write each line of model.sources["unevaluated"].
_UNEVALUATED = re.compile(r"(?P<ref>.+?:[\d,]+): (?P<detail>.*)|(?P<origin>[^:]+): (?P<rest>.*)")


def unevaluated(model: RouterModel) -> list[Msg]:
    """What the parser left out, one message per line it noted."""
    out: list[Msg] = []
    for line in model.sources.get("unevaluated", "").splitlines():
        m = _UNEVALUATED.fullmatch(line)
        ref, detail = (m.group("ref") or m.group("origin"), m.group("detail") or m.group("rest")
                       ) if m else ("", line)
        out.append(msg("RULE_NOT_EVALUATED", ref=ref, detail=detail))
    return out


def report(findings: list[audits.Finding], evidence: Evidence) -> None:
    """The findings as typed figures, and each cited configuration block once, by its ref
    (the sheet's router annex finds a finding's lines by that ref)."""
    evidence.add("findings", "\n".join(f.line() for f in findings) or "no finding")
    cited: set[str] = set()
    for f in findings:
        for src in f.sources:
            if src.text and src.ref() not in cited:
                cited.add(src.ref())
                evidence.add(f"{f.code} at {src.ref()}", "\n".join(src.text), kind="config",
                             ref=src.ref())
    evidence.figures.findings = [
        Finding(code=f.code, severity=f.severity, message=f.message,
                lines=[s.ref() for s in f.sources]) for f in findings]


def predicted_sets(predicted: audits.Prediction) -> PortSets:
    """The prediction as the run state carries it: per operator address (what
    ``firewall.openings`` lets the configuration vouch for), the registrar's column, other
    sources, any address, and whether a SIP ALG opens pinholes beside the rules."""
    return PortSets(server=sorted(predicted.server), others=sorted(predicted.others),
                    by_source={str(ip): sorted(p) for ip, p in predicted.by_source.items()},
                    any_source=sorted(predicted.anyone), sip_alg=predicted.sip_alg)


@pytest.mark.check(
    order=59,  # before firewall.openings, which may rest on its prediction
    id="router.audit",
    claims=lambda _params, _ctx: Claims(expect_s=4.0),  # SSH to the router: beside anything
    fr="Audit du routeur : LAN voix/données, DHCP, ouvertures du pare-feu, NAT, SIP ALG",
    en="Router audit: voice/data LANs, DHCP, firewall openings, NAT, SIP ALG",
)
def check_router_audit(profile: Profile, evidence: Evidence, run_state: RunState) -> None:
    router = profile.router
    if router is None:
        not_applicable(msg("NO_ROUTER"))
    kind = KINDS[router.kind]
    bundle = kind.collect(router)
    # What `recette run` saves beside the report, for `recette audit` (secrets masked).
    evidence.figures.router_config = RouterConfig(kind=kind.name, files=bundle)
    for title, text in kind.shown(bundle):
        evidence.add(title, text, kind="collected")
    model = kind.parse(bundle)
    if model.sources.get("unevaluated"):
        evidence.add("rules not evaluated", model.sources["unevaluated"])
        evidence.figures.unevaluated = unevaluated(model)
    why = audits.unusable(model)
    if why:  # a near-empty model would pass or fail on nothing: say why it cannot be read
        raise CheckError(why[0])
    plan = audits.plan_of(router)
    evidence.figures.lan_plan = audits.plan_fact(model, router, plan)
    evidence.fact("LAN plan", str(evidence.figures.lan_plan))
    operator = profile.operator.addresses()
    findings, predicted = audits.audit(model, router, operator, plan)
    report(findings, evidence)
    fails = [f.message for f in findings if f.severity == "fail"]
    if not predicted.evaluated:  # no WAN: the LAN checks ran, the firewall part did not
        blind = [f.message for f in findings if f.code == "CONFIG_NO_WAN"]
        if fails:
            fail(*fails, *blind)
        raise CheckError(blind[0])  # never a pass: nothing said where calls come in
    run_state.predicted = predicted_sets(predicted)
    for ip, roles in operator.items():
        evidence.fact(f"predicted open to {ip} ({'/'.join(roles)})",
                      fmt(predicted.by_source[ip]))
    evidence.fact("predicted open to any address", fmt(predicted.anyone))
    evidence.fact("predicted open to other sources", fmt(predicted.others))
    for f in findings:
        if f.severity == "warn":
            evidence.reserve(f.message)
    if fails:
        fail(*fails)


@pytest.mark.check(
    order=80,
    id="router.crosscheck",
    claims=lambda _params, _ctx: Claims(after=("router.audit", "firewall.openings"),
                                        expect_s=0.1),
    fr="Concordance entre la configuration du routeur et la vérification active du pare-feu",
    en="Router configuration agrees with the active firewall verification",
)
def check_router_crosscheck(profile: Profile, run_state: RunState, evidence: Evidence) -> None:
    cfg, real = run_state.predicted, run_state.measured
    if cfg is None or real is None:
        not_applicable(msg("CROSSCHECK_NEEDS_BOTH"))
    evidence.figures.crosscheck = CrossCheck(config=cfg, measured=real)
    roles = {str(ip): r for ip, r in profile.operator.addresses().items()}
    found = crosscheck.compare(cfg, real, roles)
    for label, text in found.lines:
        evidence.fact(label, text)
    for m in found.alg:
        evidence.reserve(m)
    if found.problems:
        fail(*found.problems)
