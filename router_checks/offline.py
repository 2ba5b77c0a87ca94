"""``recette audit``: audit a saved router configuration, no device needed.

``--kind cisco_ios``: a ``show running-config`` text file. ``--kind opios``: a JSON file of the
collector's outputs (``{"ip -o -4 addr show": ..., "ip -j route": ..., "nft -j list ruleset":
..., "nft -a list ruleset": ..., "dhcp": ...}``), as ``recette run`` saves it beside the report.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path

from harness.errors import RecetteError
from harness.profile import Router
from router_checks import opios
from router_checks.audit import Finding, audit
from router_checks.model import RouterModel


def load_model(path: Path, kind: str) -> RouterModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecetteError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RecetteError(f"{path}: not UTF-8 text") from None
    if kind == "cisco_ios":
        from router_checks import ios

        return ios.parse(text, origin=str(path))
    try:
        out = json.loads(text)
        return opios.parse(addr_text=out["ip -o -4 addr show"], route_json=out["ip -j route"],
                           nft_json=out["nft -j list ruleset"],
                           nft_text=out["nft -a list ruleset"], dhcp_text=out.get("dhcp"))
    except (ValueError, KeyError, TypeError) as exc:
        raise RecetteError(f"{path}: not an OpIOS collector bundle (JSON with the collector's "
                           f"outputs): {exc}") from None


def audit_file(path: Path, kind: str, server: IPv4Address, router: Router
               ) -> list[Finding]:
    findings, _ = audit(load_model(path, kind), router, server)
    return findings
