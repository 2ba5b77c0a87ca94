"""``recette audit``: audit a saved router configuration, no device needed.

The file is what ``recette run`` saves beside the report (the kind's ``saved_name``: for
``cisco_ios`` a ``show running-config`` text, for ``opios`` a JSON object of the collector's
outputs by command); the kind reads it back and parses it exactly as after collecting it,
so the findings are those of the run, citing the file's own lines where the kind can.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from harness.errors import RecetteError
from harness.messages import Msg
from harness.profile import Router
from router_checks.audit import Finding, audit, plan_fact, plan_of, unusable
from router_checks.kind import RouterKind
from router_checks.model import RouterModel
from router_checks.operator import OperatorAddresses

# Findings that say a part of the audit could not be evaluated: never a clean result.
NOT_EVALUATED = ("CONFIG_NO_WAN", "FW_REDACTED_UNKNOWN", "ADMIN_NOT_EVALUATED",
                 "ADMIN_NOT_READ")


def load_model(path: Path, kind: RouterKind) -> RouterModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecetteError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RecetteError(f"{path}: not UTF-8 text") from None
    bundle = kind.load(text, path)
    try:
        return kind.parse(bundle, origin=str(path))
    except (ValueError, KeyError, TypeError) as exc:
        raise RecetteError(f"{path}: not a {kind.name} configuration the audit can read: "
                           f"{exc}") from None


def default_router(kind: RouterKind) -> Router:
    """The router an audit without a profile stands for: no IPBX, no model, and a LAN plan
    that is not compared (``plan="none"``). Not validated, so a kind in the table that
    profiles do not list yet still audits."""
    return Router.model_construct(kind=kind.name, host="offline", username="-",
                                  password_env="UNUSED")


@dataclass
class OfflineAudit:
    """What ``recette audit`` prints: the findings, the LAN plan they were judged against,
    and the lines the parser left out (``REF: why``), so a clean result is never silently
    partial."""

    findings: list[Finding]
    lan_plan: Msg
    unevaluated: list[str]

    def blocking(self) -> bool:
        """Whether the audit stops acceptance: a failure, or a part it could not evaluate
        (no WAN, redacted addresses), which is never a pass."""
        return any(f.severity == "fail" or f.code in NOT_EVALUATED for f in self.findings)

    def lines(self) -> list[str]:
        out = [f.line() for f in self.findings]
        out.append(f"LAN plan: {self.lan_plan}")
        if self.unevaluated:
            out.append(f"not evaluated ({len(self.unevaluated)}):")
            out.extend(f"  {u}" for u in self.unevaluated)
        return out


def audit_file(path: Path, kind: RouterKind, operator: IPv4Address | OperatorAddresses,
               router: Router | None) -> OfflineAudit:
    """The audit of the saved configuration at ``path`` (``operator``: the operator's
    addresses by role, or its one server; ``router``: the profile's, or None: no LAN plan,
    the LANs are the configuration's own). A configuration the audit cannot read (no WAN,
    no interface, lines whose block is lost) is a one-line RecetteError; one with no WAN is
    audited for its LANs and DHCP, the firewall part said not evaluated."""
    model = load_model(path, kind)
    why = unusable(model)
    if why:
        raise RecetteError(f"{path}: cannot audit: {why[0]}")
    plan = plan_of(router)
    used = router or default_router(kind)
    findings, _ = audit(model, used, operator, plan)
    return OfflineAudit(findings, plan_fact(model, used, plan),
                        model.sources.get("unevaluated", "").splitlines())
