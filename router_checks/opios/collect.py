"""What the audit brings back from an OpIOS (Linux + nftables) router over SSH.

Why these: ``ip`` gives the interfaces and the default route (which one is the WAN), nft's
JSON gives the ruleset's structure and ``nft -a`` its text with handles, whose line numbers
the findings cite; the DHCP server's file gives the ranges it leases.
"""

from __future__ import annotations

from harness.profile import Router
from router_checks.collect import outputs, run, session
from router_checks.opios.parse import ADDR_TEXT, NFT_TEXT

COMMANDS = (ADDR_TEXT, "ip -j route", "nft -j list ruleset", NFT_TEXT)
DHCP = "dhcp"  # the DHCP server's configuration file as read ("" when there is none)
DHCP_PATH = "dhcp_config"  # where it was read, the name its lines are cited by


def collect(router: Router, device_type: str, timeout: float) -> dict[str, str]:
    """The outputs the parser needs, plus the DHCP server's configuration."""
    with session(router, device_type, timeout) as conn:
        out = outputs(conn, router, COMMANDS, timeout)
        out[DHCP] = run(conn, router, f"cat {router.dhcp_config}", timeout,
                        required=False) or ""
        out[DHCP_PATH] = router.dhcp_config
        return out
