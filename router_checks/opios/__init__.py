"""OpIOS routers (Linux + nftables): the ``opios`` entry of the router-kind table.

Collected over SSH with netmiko's ``linux`` driver (:mod:`.collect`), read by :mod:`.parse`,
saved beside the report as ``router-opios.json``, the collector's outputs by command.
"""

from __future__ import annotations

from harness.profile import Router
from router_checks.kind import Bundle, JsonKind
from router_checks.model import RouterModel
from router_checks.opios import collect as _collect
from router_checks.opios.parse import ADDR_TEXT, NFT_TEXT, parse

__all__ = ["OPIOS", "parse"]


class OpIos(JsonKind):
    name = "opios"
    device_type = "linux"
    saved_name = "router-opios.json"
    required = _collect.COMMANDS

    def collect(self, router: Router, *, timeout: float = 10.0) -> Bundle:
        return _collect.collect(router, self.device_type, timeout)

    def parse(self, bundle: Bundle, origin: str | None = None) -> RouterModel:
        return parse(addr_text=bundle[ADDR_TEXT], route_json=bundle["ip -j route"],
                     nft_json=bundle["nft -j list ruleset"], nft_text=bundle[NFT_TEXT],
                     dhcp_text=bundle.get(_collect.DHCP) or None,
                     dhcp_origin=bundle.get(_collect.DHCP_PATH) or _collect.DHCP)

    def shown(self, bundle: Bundle) -> list[tuple[str, str]]:
        dhcp = bundle.get(_collect.DHCP_PATH) or _collect.DHCP
        return [(f"collected: {NFT_TEXT}", bundle.get(NFT_TEXT, "")),
                (f"collected: {ADDR_TEXT}", bundle.get(ADDR_TEXT, "")),
                (f"collected: {dhcp}", bundle.get(_collect.DHCP) or "(none)")]


OPIOS = OpIos()
