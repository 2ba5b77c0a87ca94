"""What a SIP server says it saw of us: ``received`` and ``rport`` on the top Via of its
response (RFC 3261 §18.2.1, RFC 3581 §4).

Why a module of its own: every real site has one witness of its public address and port
that needs nothing of ours, the operator's registrar. A NAT measurement built on it must not
misread a server that ignores ``rport`` (the parameter comes back without a value), adds
``received`` only, repeats a parameter with two values or sends garbage: each of those is
"not said", never a guess, and the reason is kept for the evidence.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sip_checks.toolkit.message import SipMessage


@dataclass(frozen=True)
class ViaSeen:
    """The source address a server reports for our request; None where it did not say (or
    said something unusable), with ``note`` saying why the port is missing."""

    received: str | None
    rport: int | None
    note: str = ""


def _params(via_value: str) -> tuple[str, list[tuple[str, str | None]]]:
    """(sent-protocol and sent-by, [(parameter name in lower case, value or None)]) of the
    first via-parm of a Via header value."""
    first = via_value.split(",", 1)[0]
    head, *raw = first.split(";")
    params: list[tuple[str, str | None]] = []
    for p in raw:
        name, eq, value = p.partition("=")
        params.append((name.strip().lower(), value.strip() if eq else None))
    return head.strip(), params


def _one(params: list[tuple[str, str | None]], name: str) -> tuple[bool, str | None, str]:
    """(present, value, problem) of parameter ``name``; two different values are a problem."""
    values = [v for n, v in params if n == name]
    if not values:
        return False, None, ""
    if len(set(values)) > 1:
        return True, None, f"{name} given {len(values)} times with different values"
    return True, values[0], ""


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return None


def via_seen(response: SipMessage) -> ViaSeen:
    """``received`` and ``rport`` from the top Via of ``response`` (our own Via, since the
    transaction matched its branch)."""
    top = response.get("Via")
    if top is None:
        return ViaSeen(None, None, "no Via header")
    head, params = _params(top)
    if not head.upper().startswith("SIP/2.0/"):
        return ViaSeen(None, None, f"top Via is not a SIP Via: {head[:40]!r}")
    has_rec, rec_value, rec_problem = _one(params, "received")
    received = _address(rec_value)
    notes = []
    if rec_problem:
        notes.append(rec_problem)
    elif has_rec and received is None:
        notes.append(f"received is not an IP address: {(rec_value or '')[:40]!r}")
    has_rport, rport_value, rport_problem = _one(params, "rport")
    rport: int | None = None
    if rport_problem:
        notes.append(rport_problem)
    elif not has_rport:
        notes.append("no rport parameter")
    elif rport_value is None or rport_value == "":
        notes.append("rport without a value (the server does not fill it in, RFC 3581)")
    elif not (rport_value.isascii() and rport_value.isdigit() and len(rport_value) <= 5
              and 0 < int(rport_value) < 65536):
        notes.append(f"rport is not a port number: {rport_value[:20]!r}")
    else:
        rport = int(rport_value)
    return ViaSeen(received, rport, "; ".join(notes))
