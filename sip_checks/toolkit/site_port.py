"""One SIP socket shared by every endpoint of the process bound to the same fixed port.

Why: the router forwards one SIP port (5060) to the IPBX, and a real IPBX serves all its
lines, and all their calls, on that one socket. When checks run at the same time (an outbound
call of a trunk while two of its DIDs are called), each check has its own
:class:`~sip_checks.toolkit.endpoint.SipEndpoint` (its own evidence), but they must share the
socket. A :class:`SitePort` owns the socket and hands each datagram to the endpoint it belongs
to, as an IPBX does: a response to the endpoint whose transaction it answers, an in-dialog
request to the endpoint of its Call-ID, a new INVITE to the endpoint waiting for that number
(the To user), else to one serving the Request-URI's user. What belongs to no one (a
keep-alive, junk) goes to every endpoint's evidence.

With a single endpoint nothing is routed: every datagram goes to it, exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from typing import TYPE_CHECKING

from sip_checks.toolkit import sockbuf
from sip_checks.toolkit.message import SipMessage, SipParseError, parse

if TYPE_CHECKING:
    from sip_checks.toolkit.endpoint import SipEndpoint

_CALL_ID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_USER = re.compile(r"sips?:([^@;>\s]+)@")

# Open shared ports: (event loop, host, port) → the port. One loop per run (see
# harness.schedule.run_async), so checks running at once find each other's socket here.
_PORTS: dict[tuple[int, str, int], SitePort] = {}
_OPENING: dict[tuple[int, str, int], asyncio.Future[SitePort]] = {}
# Sockets closed by their last tenant but not yet released: asyncio closes the socket one
# loop turn after transport.close(), and a check binding the port in between got "Address
# already in use" (a CI run lost an inbound call so). Opening waits for the release.
_CLOSING: dict[tuple[int, str, int], asyncio.Future[None]] = {}
CLOSE_WAIT_S = 2.0


def call_id_of(data: bytes) -> str | None:
    """The Call-ID of raw SIP bytes without a full parse (every datagram we send)."""
    m = _CALL_ID.search(data)
    return m.group(1).decode("ascii", "replace") if m else None


def _user(uri: str | None) -> str | None:
    m = _USER.search(uri or "")
    return m.group(1) if m else None


class SitePort(asyncio.DatagramProtocol):
    """The socket of one fixed SIP port and the endpoints sharing it."""

    def __init__(self, key: tuple[int, str, int]) -> None:
        self.key = key
        self.transport: asyncio.DatagramTransport | None = None
        self.tenants: list[SipEndpoint] = []
        # The site's public address as the registrar saw it (learned once, for every line).
        self.public: tuple[str, int] | None = None
        # (user, contact) bindings each tenant holds at the registrar (see UserAgent).
        self.bindings: Counter[tuple[str, str]] = Counter()
        self._released: asyncio.Future[None] | None = None  # set when the socket is closed

    @classmethod
    def lookup(cls, host: str, port: int) -> SitePort | None:
        return _PORTS.get((id(asyncio.get_running_loop()), host, port))

    @classmethod
    async def open(cls, host: str, port: int) -> SitePort:
        """The shared port for ``host:port`` in this event loop, opened if needed (an
        ``OSError`` when the port is taken by something else). Checks starting together
        wait for the one opening it rather than racing it for the bind."""
        loop = asyncio.get_running_loop()
        key = (id(loop), host, port)
        while True:
            found = _PORTS.get(key)
            if found is not None and found.transport is not None \
                    and not found.transport.is_closing():
                return found
            closing = _CLOSING.get(key)
            if closing is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(closing), CLOSE_WAIT_S)
                if _CLOSING.get(key) is closing:
                    _CLOSING.pop(key)  # released or not, the bind says which
                continue
            opening = _OPENING.get(key)
            if opening is not None:
                with contextlib.suppress(OSError):  # then try ourselves: our own error
                    await asyncio.shield(opening)
                continue
            fut: asyncio.Future[SitePort] = loop.create_future()
            _OPENING[key] = fut
            try:
                _, proto = await loop.create_datagram_endpoint(lambda: cls(key),
                                                               local_addr=(host, port))
            except BaseException as exc:
                fut.set_exception(exc)
                fut.exception()  # retrieved: each waiter retries and gets its own error
                raise
            finally:
                _OPENING.pop(key, None)
            _PORTS[key] = proto
            fut.set_result(proto)
            return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sockbuf.enlarge(transport.get_extra_info("socket"))

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is closed now: the port can be bound again."""
        released = self._released
        if released is not None and not released.done():
            released.set_result(None)
        if _CLOSING.get(self.key) is released:
            _CLOSING.pop(self.key, None)

    def attach(self, ep: SipEndpoint) -> None:
        self.tenants.append(ep)

    def detach(self, ep: SipEndpoint) -> None:
        """``ep`` is done; the last one out closes the socket (and frees the port)."""
        if ep in self.tenants:
            self.tenants.remove(ep)
        for binding in list(ep.bindings):
            ep.release(binding)
        if not self.tenants:
            _PORTS.pop(self.key, None)
            if self.transport is not None and not self.transport.is_closing():
                with contextlib.suppress(RuntimeError):  # no loop running: none to wait
                    self._released = asyncio.get_running_loop().create_future()
                    _CLOSING[self.key] = self._released
                self.transport.close()

    def held_elsewhere(self, ep: SipEndpoint, binding: tuple[str, str]) -> bool:
        """Does another endpoint on this socket hold ``binding`` (the same line registered with
        the same contact)? Then unregistering it would cut that endpoint's calls off."""
        return self.bindings[binding] - (1 if binding in ep.bindings else 0) > 0

    def error_received(self, exc: Exception) -> None:
        for ep in list(self.tenants):
            ep.error_received(exc)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        for ep in self.route(data):
            ep.datagram_received(data, addr)

    def route(self, data: bytes) -> list[SipEndpoint]:
        """Which endpoints get ``data``: one when it can be told, every one otherwise."""
        tenants = list(self.tenants)
        if len(tenants) <= 1:
            return tenants
        try:
            msg = parse(data)
        except (SipParseError, ValueError):
            return tenants  # each endpoint records it, with the parser's reason
        owner = self._owner(msg, tenants)
        return [owner] if owner is not None else tenants

    @staticmethod
    def _owner(msg: SipMessage, tenants: list[SipEndpoint]) -> SipEndpoint | None:
        if msg.is_response:
            branch = msg.via_branch() or ""
            found = next((t for t in tenants if t.awaits(branch)), None)
            if found is not None:
                return found
        call_id = msg.get("Call-ID") or ""
        found = next((t for t in tenants if call_id in t.call_ids), None)
        if found is not None or msg.is_response:
            return found
        to_user = _user(msg.get("To"))
        found = next((t for t in tenants if to_user is not None and to_user in t.expecting),
                     None)
        if found is not None:
            return found
        parts = msg.first_line.split(" ")
        ruri_user = _user(parts[1] if len(parts) > 1 else None)
        serving = [t for t in tenants if ruri_user in t.users]
        # A line's new call goes to the endpoint of that line that waits for calls, if any.
        return next((t for t in serving if t.expecting), serving[0] if serving else None)
