"""``recette audit``: audit a saved router configuration, no device needed.

The file is what ``recette run`` saves beside the report (the kind's ``saved_name``: for
``cisco_ios`` a ``show running-config`` text, for ``opios`` a JSON object of the collector's
outputs by command); the kind reads it back and parses it exactly as after collecting it,
so the findings are those of the run, citing the file's own lines where the kind can.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from harness.errors import RecetteError
from harness.profile import Router
from router_checks.audit import Finding, audit
from router_checks.kind import RouterKind
from router_checks.model import RouterModel


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
    """The router an audit without a profile assumes: the default LAN plan, no IPBX, no
    model. Not validated, so a kind in the table that profiles do not list yet still audits
    (only the LANs are read)."""
    return Router.model_construct(kind=kind.name, host="offline", username="-",
                                  password_env="UNUSED")


def audit_file(path: Path, kind: RouterKind, server: IPv4Address, router: Router | None
               ) -> list[Finding]:
    """The findings on the saved configuration at ``path`` (``router``: the profile's, or
    None for :func:`default_router`)."""
    findings, _ = audit(load_model(path, kind), router or default_router(kind), server)
    return findings
