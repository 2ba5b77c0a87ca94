"""The SSH session every router kind's collector shares: log in with netmiko, run commands.

Bounded in time (connection, authentication and each command), and every failure becomes a
:class:`CheckError` with a message code naming the router and the cause. Passwords go to
netmiko only; no session log is kept (it would hold them). What to run is each kind's
business (its subpackage's ``collect.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.errors import CheckError
from harness.messages import Param, msg
from harness.profile import Router

REJECTED = ("not found", "permission denied", "operation not permitted",
            "% invalid input", "% unknown command", "% incomplete command", "error:")


def secret(inline: Any, env: str | None) -> str | None:
    """A profile secret given inline (pydantic ``SecretStr``) or by environment variable."""
    if inline is not None:
        return str(inline.get_secret_value())
    return os.environ.get(env) if env else None


def _connect(router: Router, device_type: str, timeout: float) -> Any:
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

    where: dict[str, Param] = {"host": router.host, "port": router.port}
    password = secret(router.password, router.password_env)
    if password is None:
        raise CheckError(msg("ROUTER_NO_PASSWORD", env=router.password_env, **where))
    try:
        return ConnectHandler(
            device_type=device_type, host=router.host, port=router.port,
            username=router.username, password=password,
            secret=secret(router.enable_secret, router.enable_secret_env) or "",
            conn_timeout=timeout, auth_timeout=timeout, banner_timeout=timeout,
            blocking_timeout=timeout, read_timeout_override=timeout, fast_cli=False,
            allow_agent=False, use_keys=False, session_log=None)
    except NetmikoAuthenticationException:
        raise CheckError(msg("ROUTER_AUTH_FAILED", user=router.username, **where)) from None
    except (NetmikoTimeoutException, TimeoutError):
        raise CheckError(msg("ROUTER_UNREACHABLE", seconds=timeout, **where)) from None
    except (OSError, EOFError) as exc:
        raise CheckError(msg("ROUTER_SSH_FAILED", detail=str(exc), **where)) from None
    except Exception as exc:  # paramiko raises a zoo of types; the message is what matters
        raise CheckError(msg("ROUTER_SSH_FAILED", detail=f"{type(exc).__name__}: {exc}",
                             **where)) from None


@contextmanager
def session(router: Router, device_type: str, timeout: float) -> Iterator[Any]:
    """A logged-in netmiko connection of ``device_type``, closed on the way out."""
    conn = _connect(router, device_type, timeout)
    try:
        yield conn
    finally:
        conn.disconnect()


def run(conn: Any, router: Router, cmd: str, timeout: float, *, required: bool = True
        ) -> str | None:
    """The output of ``cmd``; a command the device rejects is an error when ``required``,
    else None."""
    try:
        out = str(conn.send_command(cmd, read_timeout=timeout))
    except Exception as exc:
        raise CheckError(msg("ROUTER_COMMAND_INCOMPLETE", host=router.host, command=cmd,
                             detail=type(exc).__name__)) from None
    head = out.strip().splitlines()[:3]
    if any(bad in line.lower() for line in head for bad in REJECTED):
        if not required:
            return None
        raise CheckError(msg("ROUTER_COMMAND_REJECTED", host=router.host, command=cmd,
                             answer=head[0].strip()[:120]))
    return out


def outputs(conn: Any, router: Router, commands: Iterable[str], timeout: float
            ) -> dict[str, str]:
    """Each required command's output, by command."""
    return {cmd: run(conn, router, cmd, timeout) or "" for cmd in commands}
