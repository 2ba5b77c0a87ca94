"""A SIP endpoint over UDP on asyncio: every datagram logged, transactions matched by branch.

This is the only place SIP bytes enter or leave the harness, so it is where evidence is kept
(:attr:`SipEndpoint.wire`) and where hostile input is contained: anything unparseable is
logged and dropped, never raised into a check.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from harness.errors import CheckError
from harness.messages import msg
from sip_checks.toolkit import sockbuf
from sip_checks.toolkit.message import SipMessage, SipParseError, parse
from sip_checks.toolkit.site_port import SitePort, call_id_of

T1 = 0.5
T2 = 4.0
# The notes of received datagrams that are not SIP messages (WireRecord.note).
DROPPED = "dropped: "
KEEPALIVE_NOTE = "keep-alive (RFC 5626 CRLF)"

@dataclass(frozen=True)
class WireRecord:
    """One datagram as it crossed our socket (wall-clock time, for incident rows)."""

    at: float
    outgoing: bool
    local: tuple[str, int]
    remote: tuple[str, int]
    data: bytes
    note: str = ""


@dataclass
class ClientResult:
    """What a client transaction got: provisional responses, then the final one."""

    final: SipMessage
    provisional: list[SipMessage] = field(default_factory=list)
    sent_at: float = 0.0
    final_at: float = 0.0


# Every (local, remote) pair this process has sent SIP on, with the *first* time: a firewall
# check proving that an operator's request came in on a flow the site never opened must know
# every flow any of our sockets opened in the run, not just its own socket's, and a flow opened
# once stays open for the NAT and the firewall whatever was sent on it since (keeping the last
# time let the site's own answers to an INVITE erase the REGISTER that opened its flow).
SENT_FLOWS: dict[tuple[tuple[str, int], tuple[str, int]], float] = {}


# Every flow (local, remote) a request arrived on, with the first arrival's time and method:
# the operator's first INVITE on a flow the site had never sent on proves the router let a new
# flow in, whichever check received it (a later one finds the flow opened by the site's own
# answers to the first).
ARRIVALS: dict[tuple[tuple[str, int], tuple[str, int]], tuple[float, str]] = {}


RequestHandler = Callable[[SipMessage, tuple[str, int]], Coroutine[Any, Any, None]]


class SipEndpoint(asyncio.DatagramProtocol):
    """One UDP socket speaking SIP, or one tenant of a shared fixed port (see
    :mod:`sip_checks.toolkit.site_port`): each endpoint keeps its own evidence either way."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.wire: list[WireRecord] = []
        self.local: tuple[str, int] = ("0.0.0.0", 0)
        self._pending: dict[str, asyncio.Queue[SipMessage]] = {}
        self._responses: dict[tuple[str, str], bytes] = {}  # server-side retransmissions
        self.on_request: RequestHandler | None = None
        self.icmp_errors: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # What a shared port routes by: the lines this endpoint serves, the numbers it waits
        # to be called on, the Call-IDs it has seen, the registrations it holds.
        self.site: SitePort | None = None
        self.users: set[str] = set()
        self.expecting: set[str] = set()
        self.call_ids: set[str] = set()
        self.bindings: set[tuple[str, str]] = set()

    @classmethod
    async def open(cls, host: str, port: int = 0, *, remote: tuple[str, int] | None = None
                   ) -> SipEndpoint:
        """A SIP socket on ``host:port``. With ``remote`` the socket is connected to that one
        peer, so the kernel reports ICMP port-unreachable (a server that is down) at once. A
        fixed port (the site's SIP port) is shared with the other endpoints of this event loop
        on it, as an IPBX serves every line on one socket."""
        loop = asyncio.get_running_loop()
        try:
            if port and remote is None:
                return cls._tenant_of(await SitePort.open(host, port))
            _, proto = await loop.create_datagram_endpoint(cls, local_addr=(host, port),
                                                           remote_addr=remote)
        except OSError as exc:
            raise CheckError(msg("SIP_SOCKET", where=f"{host}:{port}",
                                 detail=exc.strerror or str(exc))) from None
        return proto

    @classmethod
    def _tenant_of(cls, site: SitePort) -> SipEndpoint:
        ep = cls()
        assert site.transport is not None
        ep.site = site
        ep.connection_made(site.transport)
        site.attach(ep)
        return ep

    def awaits(self, branch: str) -> bool:
        """Is a client transaction of ours waiting for a response on ``branch``?"""
        return branch in self._pending

    def expect(self, number: str) -> None:
        """Calls to ``number`` are ours (a shared port routes new INVITEs by their To)."""
        self.expecting.add(number)

    def hold(self, binding: tuple[str, str]) -> None:
        """We register (user, contact): on a shared port, another endpoint's unregister must
        not remove it under us."""
        if binding not in self.bindings:
            self.bindings.add(binding)
            if self.site is not None:
                self.site.bindings[binding] += 1

    def release(self, binding: tuple[str, str]) -> bool:
        """We are done with (user, contact); True when no other endpoint on the socket holds
        it, so it may be unregistered."""
        elsewhere = self.site is not None and self.site.held_elsewhere(self, binding)
        if binding in self.bindings:
            self.bindings.discard(binding)
            if self.site is not None:
                self.site.bindings[binding] -= 1
        return not elsewhere

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.site is None:  # a shared site port sized its socket when it opened it
            sockbuf.enlarge(transport.get_extra_info("socket"))
        sock = transport.get_extra_info("sockname")
        self.local = (sock[0], sock[1])

    def close(self) -> None:
        if self.site is not None:
            site, self.site = self.site, None
            site.detach(self)
        elif self.transport is not None:
            self.transport.close()
        for task in self._tasks:
            task.cancel()

    def send(self, data: bytes, peer: tuple[str, int]) -> None:
        assert self.transport is not None
        now = time.time()
        self.wire.append(WireRecord(now, True, self.local, peer, data))
        SENT_FLOWS.setdefault((self.local, peer), now)
        call_id = call_id_of(data)
        if call_id is not None:
            self.call_ids.add(call_id)
        connected = self.transport.get_extra_info("peername") is not None
        self.transport.sendto(data, None if connected else peer)

    def error_received(self, exc: Exception) -> None:
        self.icmp_errors.append(
            "ICMP port unreachable" if isinstance(exc, ConnectionRefusedError) else str(exc)
        )

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Record every datagram, then act on the ones that parse. Whatever parse does with
        hostile bytes, the datagram is in :attr:`wire` with a note saying why it was dropped:
        an exception escaping here would only reach asyncio's log ("Exception in callback")
        and the evidence would miss the very datagram that explains a failure."""
        peer = (addr[0], addr[1])
        if data.strip(b"\r\n") == b"":
            self.wire.append(WireRecord(time.time(), False, self.local, peer, data,
                                        KEEPALIVE_NOTE))
            return
        try:
            msg = parse(data)
        except SipParseError as exc:
            self.wire.append(WireRecord(time.time(), False, self.local, peer, data,
                                        f"{DROPPED}{exc}"))
            return
        except Exception as exc:  # a parser bug: contain it, keep the datagram and say so
            self.wire.append(WireRecord(time.time(), False, self.local, peer, data,
                                        f"{DROPPED}parser failure {type(exc).__name__}: "
                                        f"{str(exc)[:200]}"))
            return
        now = time.time()
        self.wire.append(WireRecord(now, False, self.local, peer, data))
        if not msg.is_response:
            ARRIVALS.setdefault((self.local, peer), (now, msg.method or ""))
        self.call_ids.add(msg.get("Call-ID") or "")
        branch = msg.via_branch() or ""
        if msg.is_response:
            queue = self._pending.get(branch)
            if queue is not None:
                queue.put_nowait(msg)
            return
        cached = self._responses.get((branch, msg.method or ""))
        if cached is not None:  # a retransmitted request: repeat our last answer
            self.send(cached, peer)
            return
        if self.on_request is not None:
            task = asyncio.get_running_loop().create_task(self.on_request(msg, peer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def respond(self, request: SipMessage, response: bytes, peer: tuple[str, int]) -> None:
        """Send a response and remember it for retransmitted requests."""
        self._responses[(request.via_branch() or "", request.method or "")] = response
        self.send(response, peer)

    def respond_until(self, request: SipMessage, response: bytes, peer: tuple[str, int],
                      acked: asyncio.Event, *, give_up_after: float = 64 * T1
                      ) -> asyncio.Task[None]:
        """Send a final response to an INVITE and repeat it until ``acked`` is set, as the
        server transaction's timer G does over UDP (RFC 3261 17.2.1): a caller that already
        had a 1xx does not retransmit its INVITE, so a lost final response is ours to resend.
        The returned task ends with the ACK or after ``give_up_after`` s."""
        self.respond(request, response, peer)

        async def repeat() -> None:
            loop = asyncio.get_running_loop()
            interval, give_up = T1, loop.time() + give_up_after
            while loop.time() < give_up:
                try:
                    await asyncio.wait_for(acked.wait(), interval)
                    return
                except TimeoutError:
                    if self.transport is None or self.transport.is_closing():
                        return
                    self.send(response, peer)
                    interval = min(interval * 2, T2)

        task = asyncio.get_running_loop().create_task(repeat())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def transaction(
        self, request: bytes, peer: tuple[str, int], *, branch: str, invite: bool = False,
        timeout: float = 8.0, on_provisional: Callable[[SipMessage], None] | None = None,
    ) -> ClientResult:
        """Client transaction (RFC 3261 17.1): retransmit until a final response or timeout."""
        queue: asyncio.Queue[SipMessage] = asyncio.Queue()
        self._pending[branch] = queue
        provisional: list[SipMessage] = []
        start = time.time()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        interval = T1
        icmp_before = len(self.icmp_errors)
        try:
            self.send(request, peer)
            next_send = loop.time() + interval
            while True:
                now = loop.time()
                if now >= deadline:
                    break
                if len(self.icmp_errors) > icmp_before:
                    raise CheckError(msg("NO_SIP_SERVICE", server=f"{peer[0]}:{peer[1]}",
                                         detail=self.icmp_errors[-1]))
                try:
                    reply = await asyncio.wait_for(queue.get(), min(next_send, deadline) - now)
                except TimeoutError:
                    if loop.time() >= next_send and (not provisional or not invite):
                        self.send(request, peer)
                        interval = interval * 2 if invite else min(interval * 2, T2)
                        if provisional:
                            interval = T2
                        next_send = loop.time() + interval
                    elif loop.time() >= next_send:
                        next_send = loop.time() + T2
                    continue
                status = reply.status or 0
                if status < 200:
                    provisional.append(reply)
                    if on_provisional:
                        on_provisional(reply)
                    if not invite:
                        interval = T2
                    continue
                return ClientResult(reply, provisional, start, time.time())
        finally:
            self._pending.pop(branch, None)
        got = [msg("LAST_PROVISIONAL", line=provisional[-1].first_line)] if provisional else []
        junk = [w.note for w in self.wire
                if not w.outgoing and w.note.startswith(DROPPED) and w.remote == peer
                and w.at >= start]
        if junk:
            got.append(msg("UNUSABLE_FROM_PEER", count=len(junk), note=junk[-1]))
        raise CheckError(msg("NO_RESPONSE", server=f"{peer[0]}:{peer[1]}", seconds=timeout,
                             got=got))
