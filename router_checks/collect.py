"""Collectors: log into the router over SSH with netmiko and bring back its configuration.

Bounded in time (connection, authentication and each command), and every failure becomes a
one-line :class:`CheckError` naming the router and the cause. Passwords go to netmiko only;
no session log is kept (it would hold them).
"""

from __future__ import annotations

import os
from typing import Any

from harness.errors import CheckError
from harness.profile import Router
from router_checks.sanitize import ios_config

OPIOS_COMMANDS = ("ip -o -4 addr show", "ip -j route", "nft -j list ruleset",
                  "nft -a list ruleset")
IOS_COMMANDS = ("show running-config", "show version")
IOS_OPTIONAL = ("show vlan-switch brief", "show ip nat translations")
REJECTED = ("not found", "permission denied", "operation not permitted",
            "% invalid input", "% unknown command", "% incomplete command", "error:")


def _secret(inline: Any, env: str | None) -> str | None:
    if inline is not None:
        return str(inline.get_secret_value())
    return os.environ.get(env) if env else None


def _connect(router: Router, device_type: str, timeout: float) -> Any:
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

    where = f"router {router.host}:{router.port}"
    password = _secret(router.password, router.password_env)
    if password is None:
        raise CheckError(f"{where}: no password (router.password_env "
                         f"{router.password_env} is not set)")
    try:
        return ConnectHandler(
            device_type=device_type, host=router.host, port=router.port,
            username=router.username, password=password,
            secret=_secret(router.enable_secret, router.enable_secret_env) or "",
            conn_timeout=timeout, auth_timeout=timeout, banner_timeout=timeout,
            blocking_timeout=timeout, read_timeout_override=timeout, fast_cli=False,
            allow_agent=False, use_keys=False, session_log=None)
    except NetmikoAuthenticationException:
        raise CheckError(f"{where}: authentication failed for user {router.username} (wrong "
                         "password?)") from None
    except (NetmikoTimeoutException, TimeoutError):
        raise CheckError(f"{where}: unreachable (no SSH answer within {timeout:g} s)") from None
    except (OSError, EOFError) as exc:
        raise CheckError(f"{where}: SSH failed: {exc}") from None
    except Exception as exc:  # paramiko raises a zoo of types; the message is what matters
        raise CheckError(f"{where}: SSH failed: {type(exc).__name__}: {exc}") from None


def _run(conn: Any, router: Router, cmd: str, timeout: float, *, required: bool = True
         ) -> str | None:
    try:
        out = str(conn.send_command(cmd, read_timeout=timeout))
    except Exception as exc:
        raise CheckError(f"router {router.host}: `{cmd}` did not complete: "
                         f"{type(exc).__name__}") from None
    head = out.strip().splitlines()[:3]
    if any(bad in line.lower() for line in head for bad in REJECTED):
        if not required:
            return None
        raise CheckError(f"router {router.host} rejected `{cmd}`: {head[0].strip()[:120]}")
    return out


def collect_opios(router: Router, *, timeout: float = 10.0) -> dict[str, str]:
    """The OpIOS (Linux) outputs the parser needs, plus the DHCP server's configuration."""
    conn = _connect(router, "linux", timeout)
    try:
        out = {cmd: _run(conn, router, cmd, timeout) or "" for cmd in OPIOS_COMMANDS}
        out["dhcp"] = _run(conn, router, f"cat {router.dhcp_config}", timeout,
                           required=False) or ""
        return out
    finally:
        conn.disconnect()


def collect_ios(router: Router, *, timeout: float = 10.0) -> dict[str, str]:
    """Cisco IOS: running-config and version (VLAN and NAT tables when the device has them)."""
    conn = _connect(router, "cisco_ios", timeout)
    try:
        if _secret(router.enable_secret, router.enable_secret_env):
            try:
                conn.enable()
            except Exception:
                raise CheckError(f"router {router.host}: enable refused (wrong enable "
                                 "secret?)") from None
        out = {cmd: _run(conn, router, cmd, timeout) or "" for cmd in IOS_COMMANDS}
        # Secrets are masked here, so no copy of them leaves the collector (report, JSON).
        out["show running-config"] = ios_config(strip_ios_header(out["show running-config"]))
        for cmd in IOS_OPTIONAL:
            got = _run(conn, router, cmd, timeout, required=False)
            if got is not None:
                out[cmd] = got
        return out
    finally:
        conn.disconnect()


def strip_ios_header(text: str) -> str:
    """The configuration without IOS's "Building configuration..." preamble, so that line
    numbers are those of the configuration itself (as saved with `copy running-config`)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(
            ("Building configuration", "Current configuration"))):
        i += 1
    return "\n".join(lines[i:]) + ("\n" if text.endswith("\n") else "")
