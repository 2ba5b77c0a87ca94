"""What the audit brings back from a Cisco IOS router over SSH.

Why these: ``show running-config`` is the configuration the findings cite (its secrets are
masked here, so no copy of them leaves the collector) and ``show version`` names the
hardware; the VLAN and NAT tables are kept as evidence when the device has them.
"""

from __future__ import annotations

from harness.errors import CheckError
from harness.messages import msg
from harness.profile import Router
from router_checks.cisco_ios.parse import ORIGIN, VERSION_ORIGIN
from router_checks.cisco_ios.sanitize import ios_config
from router_checks.collect import outputs, run, secret, session

COMMANDS = (ORIGIN, VERSION_ORIGIN)
OPTIONAL = ("show vlan-switch brief", "show ip nat translations")


def collect(router: Router, device_type: str, timeout: float) -> dict[str, str]:
    """Running-config and version (VLAN and NAT tables when the device has them)."""
    with session(router, device_type, timeout) as conn:
        if secret(router.enable_secret, router.enable_secret_env):
            try:
                conn.enable()
            except Exception:
                raise CheckError(msg("ROUTER_ENABLE_REFUSED", host=router.host)) from None
        out = outputs(conn, router, COMMANDS, timeout)
        out[ORIGIN] = ios_config(strip_ios_header(out[ORIGIN]))
        for cmd in OPTIONAL:
            got = run(conn, router, cmd, timeout, required=False)
            if got is not None:
                out[cmd] = got
        return out


def strip_ios_header(text: str) -> str:
    """The configuration without IOS's "Building configuration..." preamble, so that line
    numbers are those of the configuration itself (as saved with `copy running-config`)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(
            ("Building configuration", "Current configuration"))):
        i += 1
    return "\n".join(lines[i:]) + ("\n" if text.endswith("\n") else "")
