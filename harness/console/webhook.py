"""Signed JSON POSTs to a user's webhook, for the notifications.

The receiver must be able to tell our POST from anyone's and a fresh one from a replay: the
body is signed with HMAC-SHA256 under the user's secret, over ``<timestamp>.<body>``; the
timestamp travels in ``X-Recette-Timestamp`` and the signature in ``X-Recette-Signature:
sha256=<hex>``. A receiver recomputes it (:func:`verify` is the reference) and refuses a
timestamp too far from its clock. Redirects are not followed (a 3xx is a failure: the
signed body must not be carried elsewhere), the whole exchange is bounded by
:data:`TIMEOUT`, and any failure is a :class:`WebhookError` of one line without the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import urllib.parse
from collections.abc import Sequence
from typing import Any

from harness.errors import RecetteError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TIMEOUT = 5.0
SIGNATURE = "X-Recette-Signature"
TIMESTAMP = "X-Recette-Timestamp"
TOLERANCE = dt.timedelta(minutes=5)  # what :func:`verify` allows between clocks


class WebhookError(RecetteError):
    """The receiver was not reached, or did not answer 2xx (one line)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *,
           now: dt.datetime | None = None) -> bool:
    """What a receiver does: the signature matches, and the timestamp is within
    :data:`TOLERANCE` of ``now`` (default: the receiver's clock)."""
    try:
        when = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return False
    if abs((now or dt.datetime.now(dt.UTC)) - when) > TOLERANCE:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


def check_address(host: str, port: int, allowed: Sequence[IPNetwork] = ()) -> None:
    """Refuse a receiver whose address is not a public one (loopback, private, link-local,
    reserved...) unless it lies in ``allowed`` (the administrator's ``--webhook-allow``).
    Any console user, an integrator too, chooses a webhook's URL: without this, the console
    would POST for them to services of its own network (SSRF). Every address the name
    resolves to is checked; :class:`WebhookError` names the one refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookError(f"webhook {host}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address.is_global or any(address in net for net in allowed):
            continue
        raise WebhookError(f"webhook {host}: {address} is not a public address (the "
                           "console's administrator allows an internal receiver with "
                           "--webhook-allow NETWORK)")


def post(url: str, secret: str, payload: dict[str, Any], when: dt.datetime,
         *, timeout: float = TIMEOUT, allowed: Sequence[IPNetwork] = ()) -> int:
    """POST ``payload`` signed with ``secret`` as of ``when``; the 2xx status, else
    :class:`WebhookError`. The receiver's address must be public or in ``allowed``
    (:func:`check_address`)."""
    u = urllib.parse.urlsplit(url)
    check_address(u.hostname or "", u.port or (443 if u.scheme == "https" else 80), allowed)
    body = body_of(payload)
    stamp = str(int(when.timestamp()))
    conn_type = (http.client.HTTPSConnection if u.scheme == "https"
                 else http.client.HTTPConnection)
    conn = conn_type(u.hostname or "", u.port, timeout=timeout)
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    where = f"{u.scheme}://{u.hostname}{f':{u.port}' if u.port else ''}"
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "recette-console", TIMESTAMP: stamp,
            SIGNATURE: sign(secret, stamp, body)})
        resp = conn.getresponse()
        resp.read(4096)
    except (OSError, http.client.HTTPException) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise WebhookError(f"webhook {where}: {text[:300]}") from None
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        more = " (redirects are not followed)" if 300 <= resp.status < 400 else ""
        raise WebhookError(f"webhook {where}: HTTP {resp.status}{more}")
    return resp.status
