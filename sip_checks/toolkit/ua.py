"""A small SIP user agent for checks: register, call, answer, hang up, all on the record.

It builds every message itself (so what goes on the wire is exactly what the check decided)
and keeps every datagram in its endpoint's wire log (so a ladder diagram and the incident
rows can be drawn from evidence, not from memory).

A call once answered is not left alone by real operators: their SBCs and B2BUAs move the
media with a re-INVITE or an UPDATE, ping with OPTIONS, refresh the session (RFC 4028) and
play early media in a reliable 183 (RFC 3262). Answering those with 405 made the far end drop
the call and the check blame the firewall, so the UA is a full peer there: it answers and
follows each of them, keeps the session timer from either side, PRACKs reliable provisional
responses, and writes each event on the call's record
(:class:`~sip_checks.toolkit.dialog.DialogEvent`). The rules it decides by are in
:mod:`sip_checks.toolkit.dialog`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from harness.errors import CheckError
from harness.messages import Msg, msg
from sip_checks.toolkit import digest, sdp
from sip_checks.toolkit.dialog import (
    ALLOW,
    MIN_SE,
    SESSION_EXPIRES,
    SUPPORTED,
    Dialog,
    DialogEvent,
    LocalSdp,
    SessionTimer,
    expire_after,
    follow,
    last_event,
    methods,
    min_se,
    option_tags,
    refresh_after,
    reliable,
    rseq,
    timer_for_request,
    timer_for_response,
    where,
)
from sip_checks.toolkit.endpoint import T1, ClientResult, SipEndpoint
from sip_checks.toolkit.message import SipMessage, build_request, new_branch, new_call_id, new_tag
from sip_checks.toolkit.numbers import uint
from sip_checks.toolkit.stream import RTP_PORTS, MediaSession, engine, open_media_socket

__all__ = ["CallRecord", "Dialog", "Identity", "Registration", "Talk", "UserAgent"]

# Numbers in a peer's headers are read as ASCII digits through toolkit/numbers (re's \d is
# Unicode-wide and int() refuses over 4 300 digits); Expires saturates at 2**32 - 1 as
# RFC 3261 §20.19 asks of a larger value.
_URI_HOSTPORT = re.compile(r"sip:(?:[^@;>]+@)?([^;>:]+)(?::([0-9]+))?", re.IGNORECASE)
_EXPIRES = re.compile(r";\s*expires=([0-9]+)", re.IGNORECASE)
MAX_EXPIRES = 2**32 - 1


def uri_target(uri: str, default_port: int = 5060) -> tuple[str, int]:
    """(host, port) to send to for a SIP URI (IP literals only; the lab and most trunks)."""
    m = _URI_HOSTPORT.search(uri)
    port = uint(m.group(2), 65536) if m and m.group(2) else default_port
    if not m or port is None or not 0 < port < 65536:
        raise CheckError(msg("URI_UNROUTABLE", uri=uri[:200]))
    return m.group(1), port


def _angle(value: str) -> str:
    m = re.search(r"<([^<>]*)>", value)  # [^<>]: linear on a run of "<" with no ">"
    return m.group(1) if m else value.split(";")[0].strip()


def _tag(value: str | None) -> str | None:
    m = re.search(r";\s*tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None


@dataclass
class Identity:
    """Who the UA is: SIP user, digest credentials, domain, registrar address."""

    user: str
    auth_user: str
    password: str
    domain: str
    server: tuple[str, int]

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@{self.domain}"


@dataclass
class Registration:
    status: int
    reason: str
    granted: int | None
    requested: int
    contact: str
    algorithm: str | None
    public_addr: tuple[str, int] | None


@dataclass
class CallRecord:
    """Everything a call check reports: timing, statuses, media, hang-up side."""

    direction: str
    calling: str
    called: str
    call_id: str
    started: float = field(default_factory=time.time)
    status: int | None = None
    reason: str = ""
    answered: float | None = None
    ended: float | None = None
    ended_by: str | None = None
    codec: str | None = None
    event_pt: int | None = None
    media: MediaSession | None = None
    remote_media: tuple[str, int] | None = None
    symptom: Msg | None = None
    # What happened in the call after the INVITE (PRACK, re-INVITE, UPDATE, OPTIONS, INFO,
    # session refreshes, BYE), in order: the evidence lists them and a symptom quotes the last.
    events: list[DialogEvent] = field(default_factory=list)
    early_media: int = 0  # RTP packets of the far end's own stream before its 200 OK

    def lasted(self) -> float:
        """Seconds from the answer to the end of the call (to now while it lasts)."""
        if self.answered is None:
            return 0.0
        end = self.ended if self.ended is not None else time.time()
        return round(max(0.0, end - self.answered), 1)


# What a call does once answered and acknowledged: by default RTP both ways for its duration
# (:meth:`UserAgent._talk`); a firewall sample listens first instead (see
# :mod:`sip_checks.probes.media_ports`). It must end the call (:meth:`UserAgent.hangup`).
Talk = Callable[["MediaSession", "Dialog", "CallRecord"], Awaitable[None]]
Headers = Sequence[tuple[str, str]]


@dataclass
class _Call:
    """An answered call while it lasts: what the far end's in-dialog requests act on, and the
    session timer's state."""

    dialog: Dialog
    rec: CallRecord
    media: MediaSession
    local: LocalSdp
    peer_allow: set[str]  # the far end's Allow (UPDATE or not for our refreshes)
    remote_cseq: int | None = None
    timer: SessionTimer | None = None
    timer_since: float = 0.0  # loop time of the last refresh, either side's
    offering: bool = False  # a re-INVITE or UPDATE of ours with an offer is in progress
    answer_in_ack: int | None = None  # CSeq of its offerless re-INVITE: our offer is in the 200
    update_refused: bool = False  # the far end said UPDATE was not allowed after all
    refresh_failure: Msg | None = None  # our refresh was refused: end at expiry, saying so
    ended_by: str | None = None
    over: asyncio.Event = field(default_factory=asyncio.Event)
    rearm: asyncio.Event = field(default_factory=asyncio.Event)  # the timer changed
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass
class _Early:
    """Our INVITE before its final response: the early dialog of its 18x (PRACK, RFC 3262)
    and their early media."""

    call_id: str
    tag: str
    to_uri: str
    rec: CallRecord
    media: MediaSession
    cseq: int = 0  # the highest CSeq used in it (PRACKs)
    # The last reliable provisional response acknowledged, per early dialog (To tag: a
    # forking proxy may bring 18x from several callees).
    rseq: dict[str | None, int] = field(default_factory=dict)
    sdp: sdp.MediaDescription | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class UserAgent:
    """One identity on one SIP endpoint."""

    def __init__(self, endpoint: SipEndpoint, ident: Identity, *,
                 advertised: tuple[str, int] | None = None, timeout: float = 8.0) -> None:
        self.ep = endpoint
        self.id = ident
        self.advertised = advertised  # public ip:port for Via/Contact/SDP, learned or given
        self.timeout = timeout
        self.call_id = new_call_id(endpoint.local[0])
        self.from_tag = new_tag()
        self.cseq = 0
        # RFC 4028: the interval our INVITE asks for (None: ask none, only say we support
        # timers) and the shortest we accept from the far end (422 below it).
        self.session_expires: int | None = SESSION_EXPIRES
        self.min_se = MIN_SE
        self._incoming: asyncio.Queue[tuple[SipMessage, tuple[str, int]]] = asyncio.Queue()
        self._acks: dict[tuple[str, int], asyncio.Event] = {}  # (Call-ID, CSeq) → ACK came
        self._unanswered: dict[str, _Unanswered] = {}  # Call-ID → INVITE not yet answered
        self._calls: dict[str, _Call] = {}  # Call-ID → answered call in progress
        endpoint.on_request = self._on_request
        endpoint.users.add(ident.user)

    # -- addressing ---------------------------------------------------------------------------
    @property
    def contact_addr(self) -> tuple[str, int]:
        return self.advertised or self.ep.local

    @property
    def contact(self) -> str:
        host, port = self.contact_addr
        return f"<sip:{self.id.user}@{host}:{port}>"

    def _request(self, method: str, uri: str, *, to_uri: str, call_id: str, cseq: int,
                 branch: str, from_tag: str, to_tag: str | None = None,
                 extra: list[tuple[str, str]] | None = None, body: bytes = b"",
                 from_uri: str | None = None) -> bytes:
        host, port = self.contact_addr
        raw = build_request(method, uri, via_host=host, via_port=port,
                            from_uri=from_uri or self.id.aor, to_uri=to_uri, call_id=call_id,
                            cseq=cseq, branch=branch, from_tag=from_tag, extra=extra, body=body)
        if to_tag:
            raw = raw.replace(f"To: <{to_uri}>\r\n".encode(),
                              f"To: <{to_uri}>;tag={to_tag}\r\n".encode(), 1)
        return raw

    # -- registration -------------------------------------------------------------------------
    async def register(self, expires: int = 300) -> Registration:
        """REGISTER with digest; learns the public address from Via received/rport."""
        if expires:
            self.ep.hold((self.id.user, self.contact))
        res, alg = await self._authenticated(
            "REGISTER", f"sip:{self.id.domain}", to_uri=self.id.aor,
            extra=lambda: [("Contact", self.contact), ("Expires", str(expires)),
                           ("Allow", ALLOW)],
            call_id=self.call_id, from_tag=self.from_tag,
        )
        final = res.final
        granted = None
        public = None
        if final.status == 200:
            granted = self._granted_expires(final, expires)
            public = self._learned_public(final)
        return Registration(final.status or 0, final.reason, granted, expires, self.contact,
                            alg, public)

    def _granted_expires(self, final: SipMessage, fallback: int) -> int | None:
        host, port = self.contact_addr
        for value in final.get_all("Contact"):
            for part in value.split(","):
                if f"{host}:{port}" in part:
                    m = _EXPIRES.search(part)
                    if m:
                        return uint(m.group(1), MAX_EXPIRES)
        exp = final.get("Expires")
        return uint(exp, MAX_EXPIRES) if exp else None

    def _learned_public(self, final: SipMessage) -> tuple[str, int] | None:
        via = final.get("Via") or ""
        rec = re.search(r";\s*received=([0-9.]+)", via)
        rport = re.search(r";\s*rport=([0-9]+)", via)
        if not rec:
            return None
        if not rport:
            return rec.group(1), self.ep.local[1]
        port = uint(rport.group(1), 65536)
        return (rec.group(1), port) if port is not None and 0 < port < 65536 else None

    async def unregister(self) -> Registration:
        """REGISTER with expires 0, unless another check's endpoint on the same socket still
        uses this line's binding (checks running at once share the site's SIP port): then the
        binding is left to the last one, and the answer says so without a request."""
        if not self.ep.release((self.id.user, self.contact)):
            return Registration(200, "OK (binding kept for another check of this line)", 0, 0,
                                self.contact, None, None)
        return await self.register(expires=0)

    async def _authenticated(
        self, method: str, uri: str, *, to_uri: str,
        extra: Callable[[], Headers] | Headers, call_id: str, from_tag: str,
        body: bytes = b"", invite: bool = False, timeout: float | None = None,
        on_provisional: Callable[[SipMessage], None] | None = None,
    ) -> tuple[ClientResult, str | None]:
        """Send a request, answer one 401/407 challenge, return the final result."""
        auth: list[tuple[str, str]] = []
        algorithm = None
        for attempt in range(2):
            self.cseq += 1
            branch = new_branch()
            headers = list(extra()) if callable(extra) else list(extra)
            raw = self._request(method, uri, to_uri=to_uri, call_id=call_id, cseq=self.cseq,
                                branch=branch, from_tag=from_tag, extra=auth + headers,
                                body=body)
            res = await self.ep.transaction(raw, self.id.server, branch=branch, invite=invite,
                                            timeout=timeout or self.timeout,
                                            on_provisional=on_provisional)
            status = res.final.status or 0
            if invite and status >= 300:
                self._ack_error(raw, res.final, branch)
            if status not in (401, 407) or attempt == 1:
                return res, algorithm
            header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
            try:
                ch = digest.best(res.final.get_all(header))
            except digest.DigestError as exc:
                raise CheckError(msg("CHALLENGE_UNANSWERABLE", method=method, status=status,
                                     detail=str(exc))) from None
            algorithm = ch.algorithm
            value = digest.authorization(ch, method=method, uri=uri,
                                         username=self.id.auth_user, password=self.id.password)
            auth = [("Authorization" if status == 401 else "Proxy-Authorization", value)]
        raise AssertionError("unreachable")

    def _ack_error(self, invite: bytes, final: SipMessage, branch: str,
                   dest: tuple[str, int] | None = None) -> None:
        """ACK for a non-2xx final response: same branch, hop by hop (RFC 3261 17.1.1.3), to
        where the INVITE went (the server, or the dialog's next hop for a re-INVITE)."""
        head = invite.split(b"\r\n\r\n", 1)[0].decode()
        lines = head.split("\r\n")
        uri = lines[0].split()[1]
        keep = [ln for ln in lines[1:] if ln.split(":")[0].lower() in
                ("via", "from", "call-id", "max-forwards", "route")]
        to = final.get("To") or ""
        cseq = (final.cseq or (0, ""))[0]
        ack = "\r\n".join([f"ACK {uri} SIP/2.0", *keep, f"To: {to}", f"CSeq: {cseq} ACK",
                           "Content-Length: 0", "", ""])
        self.ep.send(ack.encode(), dest or self.id.server)

    # -- outbound call ------------------------------------------------------------------------
    async def call(self, number: str, *, media_ip: str, duration: float = 10.0,
                   dtmf: str | None = None, answer_timeout: float = 30.0,
                   settled: asyncio.Event | None = None,
                   media_ports: tuple[int, int] = RTP_PORTS,
                   media_socket: socket.socket | None = None,
                   talk: Talk | None = None) -> CallRecord:
        """Place a call with RTP both ways for ``duration`` s, then hang up (BYE).

        ``settled`` is set as soon as the call is answered or has failed, so a capacity check
        can place one more call while these are up. ``media_ports`` is where our RTP port is
        picked (inside the range the operator's firewall rule opens), unless ``media_socket``
        gives the very socket (and port) to offer. ``talk`` replaces what the call does once
        answered (it must hang up).

        Only a request that got no response at all raises (:class:`CheckError`); what happens
        once the call is answered, a BYE that nobody answers included, is on the record.
        """
        try:
            return await self._call(number, media_ip=media_ip, duration=duration, dtmf=dtmf,
                                    answer_timeout=answer_timeout, settled=settled,
                                    media_ports=media_ports, media_socket=media_socket,
                                    talk=talk)
        finally:
            if settled is not None:
                settled.set()

    async def _call(self, number: str, *, media_ip: str, duration: float, dtmf: str | None,
                    answer_timeout: float, settled: asyncio.Event | None,
                    media_ports: tuple[int, int], media_socket: socket.socket | None,
                    talk: Talk | None) -> CallRecord:
        call_id = new_call_id(self.ep.local[0])
        tag = new_tag()
        to_uri = f"sip:{number}@{self.id.domain}"
        rec = CallRecord("outbound", self.id.user, number, call_id)
        sock = media_socket or open_media_socket(media_ip, media_ports)
        local = LocalSdp(self.contact_addr[0], sock.getsockname()[1])
        media = MediaSession(sock, pt=8, codec="PCMA")
        rec.media = media
        engine().add(media)
        early = _Early(call_id, tag, to_uri, rec, media)
        call: _Call | None = None
        try:
            final = await self._invite(early, local.body, answer_timeout)
            rec.status, rec.reason = final.status, final.reason
            if final.status != 200:
                rec.symptom = msg("CALL_REJECTED", status=final.status, reason=final.reason)
                return rec
            rec.answered = time.time()
            rec.early_media = _far_packets(media)
            if settled is not None:
                settled.set()
            dialog = self._dialog_from_2xx(final, call_id, tag, to_uri)
            invite_cseq = dialog.cseq
            dialog.cseq = max(invite_cseq, early.cseq)  # our PRACKs came after the INVITE
            call = self._begin(dialog, rec, media, local, allow=methods(final),
                               timer=timer_for_response(final, None))
            self._send_ack(dialog, invite_cseq)
            try:
                # The final 200's SDP wins; without one, the answer was in a reliable 18x.
                answer = sdp.parse(final.body) if final.body else early.sdp
                if answer is None:
                    raise sdp.SdpError("no SDP in the 200 OK nor in a reliable 18x")
            except sdp.SdpError as exc:
                rec.symptom = msg("SDP_ANSWER_UNUSABLE", detail=str(exc))
                await self._bye(call)
                return rec
            chosen = answer.first_audio()
            if chosen is None:
                rec.symptom = msg("SDP_NO_CODEC")
                await self._bye(call)
                return rec
            was = rec.remote_media
            changes = self._follow(call, answer, chosen)
            if was is not None and any(c.code != "EV_MEDIA_KEPT" for c in changes):
                self._event(rec, "200 OK", True, dialog.peer, 200, changes)
            if talk is not None:
                await talk(media, dialog, rec)
            else:
                await self._talk(call, duration, dtmf)
            return rec
        finally:
            for task in early.tasks:
                task.cancel()
            if call is not None:
                self._finish(call)
            engine().remove(media)
            sock.close()

    async def _invite(self, early: _Early, body: bytes, timeout: float) -> SipMessage:
        """The INVITE transaction (digest answered), with PRACKs for reliable 18x and early
        media from their SDP; a 422 naming a longer Min-SE is retried with it (RFC 4028 §7.4).
        """
        se = self.session_expires
        final: SipMessage | None = None
        for _ in range(3):
            headers: list[tuple[str, str]] = [
                ("Contact", self.contact), ("Content-Type", "application/sdp"),
                ("Allow", ALLOW), ("Supported", SUPPORTED)]
            if se is not None:
                headers += [("Session-Expires", str(se)), ("Min-SE", str(min(se, self.min_se)))]
            res, _ = await self._authenticated(
                "INVITE", early.to_uri, to_uri=early.to_uri, call_id=early.call_id,
                from_tag=early.tag, body=body, extra=headers, invite=True, timeout=timeout,
                on_provisional=lambda resp: self._provisional(early, resp))
            final = res.final
            asked = min_se(final)
            if final.status != 422 or se is None or asked is None or asked <= se:
                return final
            self._event(early.rec, "INVITE", False, self.id.server, 422,
                        [msg("EV_MIN_SE", asked=asked, was=se)])
            se = asked
        assert final is not None
        return final

    def _provisional(self, early: _Early, resp: SipMessage) -> None:
        """A 18x to our INVITE: its SDP points our media early (so early media is received
        and counted), and a reliable one (Require: 100rel, RSeq) gets its PRACK, once."""
        status = resp.status or 0
        if status <= 100:
            return
        changes: list[Msg] = []
        if resp.body:
            try:
                desc = sdp.parse(resp.body)
            except sdp.SdpError as exc:
                changes.append(msg("EV_SDP_REFUSED", detail=str(exc)))
            else:
                first = early.sdp is None
                early.sdp = desc
                new, moved = follow(early.media, desc, early.rec.remote_media,
                                    desc.first_audio())
                early.rec.remote_media = new
                early.rec.codec, early.rec.event_pt = early.media.codec, early.media.event_pt
                changes = [msg("EV_EARLY_MEDIA", where=where(new))] if first else \
                    [c for c in moved if c.code != "EV_MEDIA_KEPT"]
        if reliable(resp):
            number = rseq(resp)
            assert number is not None
            tag = _tag(resp.get("To"))
            if number <= early.rseq.get(tag, 0):
                return  # a retransmission of one already acknowledged (RFC 3262 §4)
            early.rseq[tag] = number
            task = asyncio.get_running_loop().create_task(
                self._prack(early, resp, number, changes))
            early.tasks.add(task)
            task.add_done_callback(early.tasks.discard)
        elif changes:
            self._event(early.rec, f"{status} {resp.reason}"[:40], True, self.id.server, None,
                        changes)

    async def _prack(self, early: _Early, resp: SipMessage, number: int,
                     changes: list[Msg]) -> None:
        """PRACK (RFC 3262 §4): its own transaction in the early dialog the 18x made."""
        routes = [_angle(v) for rr in reversed(resp.get_all("Record-Route"))
                  for v in reversed(rr.split(","))]
        target = _angle(resp.get("Contact") or f"<{early.to_uri}>")
        try:
            peer = uri_target(routes[0]) if routes else uri_target(target)
        except CheckError:
            peer = self.id.server
        self.cseq += 1
        early.cseq = max(early.cseq, self.cseq)
        d = Dialog(early.call_id, early.tag, _tag(resp.get("To")), self.id.aor, early.to_uri,
                   target, routes, self.cseq, peer)
        branch = new_branch()
        invite_cseq = (resp.cseq or (0, ""))[0]
        raw = self._in_dialog("PRACK", d, cseq=d.cseq, branch=branch,
                              extra=[("RAck", f"{number} {invite_cseq} INVITE")])
        final = await self._transaction(raw, peer, branch)
        acked = msg("EV_PRACKED", rseq=number, response=f"{resp.status} {resp.reason}"[:40])
        self._event(early.rec, "PRACK", False, peer, final.status if final else None,
                    [acked, *changes])

    def _dialog_from_2xx(self, final: SipMessage, call_id: str, tag: str, to_uri: str
                         ) -> Dialog:
        routes = [_angle(v) for rr in reversed(final.get_all("Record-Route"))
                  for v in reversed(rr.split(","))]
        target = _angle(final.get("Contact") or f"<{to_uri}>")
        peer = uri_target(routes[0]) if routes else uri_target(target)
        return Dialog(call_id, tag, _tag(final.get("To")), self.id.aor, to_uri, target, routes,
                      (final.cseq or (1, ""))[0], peer)

    def _send_ack(self, d: Dialog, cseq: int) -> None:
        """ACK for a 2xx: the CSeq number of the INVITE it answers (RFC 3261 §13.2.2.4)."""
        raw = self._in_dialog("ACK", d, cseq=cseq)
        self.ep.send(raw, d.peer)

    def _in_dialog(self, method: str, d: Dialog, *, cseq: int, branch: str | None = None,
                   extra: Headers = (), body: bytes = b"") -> bytes:
        headers = [("Route", f"<{r}>") for r in d.route_set]
        headers.append(("Contact", self.contact))
        headers += extra
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return self._request(method, d.remote_target, to_uri=d.remote_uri, call_id=d.call_id,
                             cseq=cseq, branch=branch or new_branch(), from_tag=d.local_tag,
                             to_tag=d.remote_tag, extra=headers, from_uri=d.local_uri,
                             body=body)

    async def _transaction(self, raw: bytes, peer: tuple[str, int], branch: str, *,
                           invite: bool = False) -> SipMessage | None:
        """A client transaction inside a call: its final response, None when none came (an
        answered call that dies is reported as such, never as "no response" to the check)."""
        try:
            res = await self.ep.transaction(raw, peer, branch=branch, invite=invite,
                                            timeout=self.timeout)
        except CheckError:
            return None
        return res.final

    async def _request_in(self, call: _Call, method: str, *, extra: Headers = (),
                          body: bytes = b"") -> SipMessage | None:
        """Send ``method`` in the call's dialog; a re-INVITE's final response is ACKed."""
        d = call.dialog
        d.cseq += 1
        cseq, branch = d.cseq, new_branch()
        raw = self._in_dialog(method, d, cseq=cseq, branch=branch, extra=extra, body=body)
        offering = bool(body) and method in ("INVITE", "UPDATE")
        call.offering = call.offering or offering
        try:
            final = await self._transaction(raw, d.peer, branch, invite=method == "INVITE")
        finally:
            if offering:
                call.offering = False
        if final is not None and method == "INVITE":
            if 200 <= (final.status or 0) < 300:
                self._send_ack(d, cseq)
            else:
                self._ack_error(raw, final, branch, d.peer)
        return final

    # -- the call in progress -----------------------------------------------------------------
    def _event(self, rec: CallRecord, method: str, incoming: bool, peer: tuple[str, int],
               status: int | None, changes: Sequence[Msg] = ()) -> None:
        rec.events.append(DialogEvent(time.time(), method, incoming, peer, status,
                                      tuple(changes)))

    def _begin(self, dialog: Dialog, rec: CallRecord, media: MediaSession, local: LocalSdp, *,
               allow: set[str], timer: SessionTimer | None, remote_cseq: int | None = None
               ) -> _Call:
        """The call is answered: in-dialog requests find it from now on, its timer runs."""
        call = _Call(dialog, rec, media, local, allow, remote_cseq)
        self._calls[dialog.call_id] = call
        self._set_timer(call, timer)
        task = asyncio.get_running_loop().create_task(self._session_timer(call))
        call.tasks.add(task)
        task.add_done_callback(call.tasks.discard)
        return call

    def _finish(self, call: _Call) -> None:
        if self._calls.get(call.dialog.call_id) is call:
            del self._calls[call.dialog.call_id]
        call.over.set()
        for task in list(call.tasks):
            task.cancel()

    def _set_timer(self, call: _Call, timer: SessionTimer | None) -> None:
        """A successful refresh, either side's (or the first answer): the interval starts
        again."""
        call.timer = timer
        call.timer_since = asyncio.get_running_loop().time()
        call.refresh_failure = None
        call.rearm.set()

    def _follow(self, call: _Call, desc: sdp.MediaDescription,
                codec: tuple[int, str] | None) -> list[Msg]:
        """The far end's new SDP (offer or answer) applied to our media and the record."""
        new, changes = follow(call.media, desc, call.rec.remote_media, codec)
        call.rec.remote_media = new
        call.rec.codec, call.rec.event_pt = call.media.codec, call.media.event_pt
        return changes

    async def _talk(self, call: _Call, duration: float, dtmf: str | None) -> None:
        media, rec = call.media, call.rec
        eng = engine()
        eng.start_sending(media)
        if dtmf and media.event_pt is not None:  # else the far end took no DTMF
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.over.wait(), 1.0)
            media.send_dtmf(dtmf)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.over.wait(), duration)
        eng.stop_sending(media)
        await asyncio.sleep(0.2)  # let the last echoes come back before counting
        if call.ended_by is None:
            await self._bye(call)
        else:  # ended by the far end, or by our session timer whose BYE may still be out
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.over.wait(), self.timeout + 1)
        rec.ended_by = call.ended_by
        rec.ended = time.time()

    async def hangup(self, d: Dialog, rec: CallRecord) -> None:
        """Send BYE unless the call already ended (for a :data:`Talk` of one's own)."""
        call = self._calls.get(d.call_id)
        if call is not None and call.ended_by is None:
            await self._bye(call)
        if call is not None:
            rec.ended_by = call.ended_by
        rec.ended = time.time()

    async def _bye(self, call: _Call, changes: Sequence[Msg] = ()) -> None:
        """Hang up. Whatever the far end answers, the call was answered and is over: the
        record says how the BYE fared, with the call's real duration and its last event."""
        rec = call.rec
        call.ended_by = rec.ended_by = "local"
        before = last_event(rec.events)
        final = await self._request_in(call, "BYE")
        status = final.status if final else None
        self._event(rec, "BYE", False, call.dialog.peer, status, changes)
        if status is None:
            rec.symptom = rec.symptom or msg(
                "CALL_BYE_UNANSWERED", seconds=rec.lasted(), server=where(call.dialog.peer),
                timeout=self.timeout, after=before)
        elif status == 481:
            rec.symptom = rec.symptom or msg("CALL_GONE_AT_BYE", seconds=rec.lasted(),
                                             after=before)
        elif status >= 300:
            rec.symptom = rec.symptom or msg("BYE_REFUSED", status=status)
        call.over.set()

    async def _teardown(self, call: _Call, symptom: Msg, *, bye: bool = True) -> None:
        """End the call ourselves because the session is gone (RFC 4028 §10)."""
        if call.ended_by is not None:
            return
        call.rec.symptom = call.rec.symptom or symptom
        if bye:
            await self._bye(call, [symptom])
        else:
            call.ended_by = call.rec.ended_by = "local"
            call.over.set()

    async def _session_timer(self, call: _Call) -> None:
        """RFC 4028 §10: the refresher refreshes at half the interval; the other side ends
        the call a little before the interval when no refresh came."""
        loop = asyncio.get_running_loop()
        while not call.over.is_set():
            call.rearm.clear()
            t = call.timer
            if t is None:
                await call.rearm.wait()
                continue
            refreshing = t.we_refresh and call.refresh_failure is None
            due = call.timer_since + (refresh_after(t.interval) if refreshing
                                      else expire_after(t.interval))
            try:
                await asyncio.wait_for(call.rearm.wait(), max(0.0, due - loop.time()))
                continue  # refreshed or changed meanwhile: plan again
            except TimeoutError:
                pass
            if refreshing:
                await self._refresh(call, t)
            else:
                await self._teardown(call, call.refresh_failure or msg(
                    "SESSION_TIMER_EXPIRED", interval=t.interval, seconds=call.rec.lasted()))
                return

    async def _refresh(self, call: _Call, t: SessionTimer) -> None:
        """Refresh the session: UPDATE when the far end allows it, else a re-INVITE with the
        same SDP; 422 is retried with its Min-SE, 491 after a random pause (RFC 3261 §14.1),
        an UPDATE refused as unknown by a re-INVITE."""
        method = "UPDATE" if "UPDATE" in call.peer_allow and not call.update_refused \
            else "INVITE"
        final: SipMessage | None = None
        for _ in range(4):
            extra = [("Session-Expires", t.header(our_request=True)),
                     ("Min-SE", str(min(t.interval, self.min_se))),
                     ("Supported", SUPPORTED), ("Allow", ALLOW)]
            final = await self._request_in(call, method, extra=extra,
                                           body=call.local.body if method == "INVITE" else b"")
            if call.over.is_set():
                return
            status = final.status if final is not None else None
            label = "re-INVITE" if method == "INVITE" else method
            asked = min_se(final) if final is not None else None
            if status == 422 and asked is not None and asked > t.interval:
                self._event(call.rec, label, False, call.dialog.peer, 422,
                            [msg("EV_MIN_SE", asked=asked, was=t.interval)])
                t = call.timer = SessionTimer(asked, t.we_refresh)
                continue
            if status in (405, 501) and method == "UPDATE":
                self._event(call.rec, label, False, call.dialog.peer, status)
                call.update_refused, method = True, "INVITE"
                continue
            if status == 491:
                self._event(call.rec, label, False, call.dialog.peer, 491, [msg("EV_GLARE")])
                # RFC 3261 §14.1: the owner of the Call-ID (the caller) waits 2.1-4 s.
                owner = call.rec.direction == "outbound"
                await asyncio.sleep(random.uniform(2.1, 4.0) if owner else random.uniform(0, 2))
                if call.over.is_set():
                    return
                continue
            break
        status = final.status if final is not None else None
        label = "re-INVITE" if method == "INVITE" else method
        if final is not None and status is not None and 200 <= status < 300:
            timer = timer_for_response(final, t)
            changes = [timer.describe()] if timer else [msg("EV_TIMER_OFF")]
            if method == "INVITE" and final.body:
                try:
                    desc = sdp.parse(final.body)
                    changes += self._follow(call, desc, desc.first_audio())
                except sdp.SdpError as exc:
                    changes.append(msg("EV_SDP_REFUSED", detail=str(exc)))
            self._event(call.rec, label, False, call.dialog.peer, status, changes)
            self._set_timer(call, timer)
            return
        self._event(call.rec, label, False, call.dialog.peer, status)
        result = "no response" if status is None else f"{status} {final.reason if final else ''}"
        failure = msg("SESSION_REFRESH_FAILED", method=label, result=result.strip(),
                      seconds=call.rec.lasted())
        if status in (None, 408, 481):  # RFC 4028 §10: the session is gone
            await self._teardown(call, failure, bye=status != 481)
        else:  # refused: the session lasts until it expires, then we end it saying why
            call.refresh_failure = failure

    # -- inbound requests ---------------------------------------------------------------------
    async def _on_request(self, req: SipMessage, peer: tuple[str, int]) -> None:
        method = req.method or ""
        call_id = req.get("Call-ID") or ""
        to_tag = _tag(req.get("To"))
        if method == "ACK":
            self._on_ack(req, peer)
        elif method == "CANCEL":
            self._on_cancel(req, peer)
        elif not to_tag:
            if method == "INVITE":
                await self._on_invite(req, peer)
            elif method == "OPTIONS":
                self.ep.respond(req, self._response(req, 200, "OK", extra=[
                    ("Accept", "application/sdp")]), peer)
            elif method in ("BYE", "UPDATE", "PRACK", "INFO"):
                self._no_dialog(req, peer)
            else:
                self.ep.respond(req, self._response(req, 405, "Method Not Allowed"), peer)
        else:
            call = self._calls.get(call_id)
            remote_tag = call.dialog.remote_tag if call is not None else None
            if call is None or call.dialog.local_tag != to_tag or \
                    remote_tag not in (None, _tag(req.get("From"))):
                pending = self._unanswered.get(call_id)
                if method == "BYE" and pending is not None and pending.tag == to_tag:
                    self._end_unanswered(req, peer, pending)  # BYE in the early dialog
                else:
                    self._no_dialog(req, peer)
                return
            self._in_call(call, req, peer)

    def _no_dialog(self, req: SipMessage, peer: tuple[str, int]) -> None:
        self.ep.respond(req, self._response(req, 481, "Call/Transaction Does Not Exist"), peer)

    def _ack_event(self, call_id: str, cseq: int) -> asyncio.Event:
        return self._acks.setdefault((call_id, cseq), asyncio.Event())

    def _on_ack(self, ack: SipMessage, peer: tuple[str, int]) -> None:
        """An ACK stops the repetition of our final response to its INVITE; after an
        offerless re-INVITE it carries the answer to the offer in our 200."""
        call_id = ack.get("Call-ID") or ""
        cseq = (ack.cseq or (0, ""))[0]
        self._ack_event(call_id, cseq).set()
        call = self._calls.get(call_id)
        if call is None or call.answer_in_ack != cseq:
            return
        call.answer_in_ack = None
        if not ack.body:
            self._event(call.rec, "ACK", True, peer, None, [msg("EV_NO_ANSWER_IN_ACK")])
            return
        try:
            desc = sdp.parse(ack.body)
        except sdp.SdpError as exc:
            self._event(call.rec, "ACK", True, peer, None,
                        [msg("EV_SDP_REFUSED", detail=str(exc))])
            return
        self._event(call.rec, "ACK", True, peer, None,
                    self._follow(call, desc, desc.first_audio()))

    async def _on_invite(self, invite: SipMessage, peer: tuple[str, int]) -> None:
        """A new call: 422 when its session interval is below our Min-SE (the caller retries
        with ours, RFC 4028 §8), else 100 Trying and into the queue :meth:`answer` reads."""
        call_id = invite.get("Call-ID") or ""
        _, too_short = timer_for_request(invite, None, self.min_se)
        if too_short:
            self.ep.respond_until(
                invite, self._response(invite, 422, "Session Interval Too Small",
                                       to_tag=new_tag(), extra=[("Min-SE", str(self.min_se))]),
                peer, self._ack_event(call_id, (invite.cseq or (0, ""))[0]))
            return
        self.ep.respond(invite, self._response(invite, 100, "Trying"), peer)
        self._unanswered[call_id] = _Unanswered(invite, peer, new_tag())
        await self._incoming.put((invite, peer))

    def _in_call(self, call: _Call, req: SipMessage, peer: tuple[str, int]) -> None:
        """A request of the far end in an answered call."""
        method = req.method or ""
        cseq = (req.cseq or (0, ""))[0]
        label = "re-INVITE" if method == "INVITE" else method
        if call.remote_cseq is not None and cseq <= call.remote_cseq:
            # RFC 3261 §12.2.2: out of order (a retransmission is answered by the endpoint).
            resp = self._response(req, 500, "Server Internal Error",
                                  extra=[("Retry-After", str(random.randint(0, 10)))])
            self._final(req, resp, peer)
            self._event(call.rec, label, True, peer, 500,
                        [msg("EV_CSEQ_ORDER", cseq=cseq, last=call.remote_cseq)])
            return
        call.remote_cseq = cseq
        if method in ("INVITE", "UPDATE"):
            self._offer_in(call, req, peer)
        elif method == "BYE":
            self.ep.respond(req, self._response(req, 200, "OK"), peer)
            if call.ended_by is None:
                call.ended_by = "remote"
            self._event(call.rec, "BYE", True, peer, 200)
            call.over.set()
        elif method in ("OPTIONS", "INFO"):
            self.ep.respond(req, self._response(req, 200, "OK", extra=[
                ("Accept", "application/sdp")] if method == "OPTIONS" else []), peer)
            self._event(call.rec, method, True, peer, 200)
        elif method == "PRACK":  # we never send a reliable provisional (RFC 3262 §3)
            self._no_dialog(req, peer)
            self._event(call.rec, method, True, peer, 481)
        else:
            self.ep.respond(req, self._response(req, 405, "Method Not Allowed"), peer)
            self._event(call.rec, method, True, peer, 405)

    def _final(self, req: SipMessage, resp: bytes, peer: tuple[str, int],
               call: _Call | None = None) -> None:
        """A final response: an INVITE's is repeated until its ACK (timer G), others once.
        With ``call``, an ACK that never comes is an event of the call (an SBC that gets
        no ACK ends the call; the record then says why)."""
        if req.method != "INVITE":
            self.ep.respond(req, resp, peer)
            return
        acked = self._ack_event(req.get("Call-ID") or "", (req.cseq or (0, ""))[0])
        repeating = self.ep.respond_until(req, resp, peer, acked, give_up_after=32 * T1)
        if call is None:
            return

        async def watch() -> None:
            await repeating
            if not acked.is_set() and not call.over.is_set():
                self._event(call.rec, "ACK", True, peer, None, [msg("EV_NO_ACK")])
        task = asyncio.get_running_loop().create_task(watch())
        call.tasks.add(task)
        task.add_done_callback(call.tasks.discard)

    def _offer_in(self, call: _Call, req: SipMessage, peer: tuple[str, int]) -> None:
        """A re-INVITE or UPDATE of the far end (RFC 3261 §14.2, RFC 3311): answered 200 with
        our SDP (same port, the codec in use), the media followed wherever its SDP moves it;
        an offerless re-INVITE gets our offer in the 200 and its answer in the ACK. 491 while
        an offer of ours is pending, 422 for a too short session interval, 488 for an SDP we
        cannot use. Each is a session refresh (RFC 4028)."""
        method = req.method or ""
        invite = method == "INVITE"
        label = "re-INVITE" if invite else method
        timer, too_short = timer_for_request(req, call.timer, self.min_se)
        if too_short:
            self._final(req, self._response(req, 422, "Session Interval Too Small",
                                            extra=[("Min-SE", str(self.min_se))]), peer)
            self._event(call.rec, label, True, peer, 422)
            return
        if (invite or req.body) and (call.offering or call.answer_in_ack is not None):
            self._final(req, self._response(req, 491, "Request Pending"), peer)
            self._event(call.rec, label, True, peer, 491, [msg("EV_GLARE")])
            return
        changes: list[Msg] = []
        body = b""
        if req.body:
            try:
                offer = sdp.parse(req.body)
                body = call.local.answer(offer, call.media.codec)
            except sdp.SdpError as exc:
                self._final(req, self._response(req, 488, "Not Acceptable Here"), peer)
                self._event(call.rec, label, True, peer, 488,
                            [msg("EV_SDP_REFUSED", detail=str(exc))])
                return
            name, pt, _ = call.local.codecs[0]
            changes += self._follow(call, offer, (pt, name))
        elif invite:  # offerless: our offer goes in the 200, the answer comes in the ACK
            body = call.local.body
            call.answer_in_ack = (req.cseq or (0, ""))[0]
            changes.append(msg("EV_OFFER_IN_200"))
        extra: list[tuple[str, str]] = [("Contact", self.contact)]
        if body:
            extra.append(("Content-Type", "application/sdp"))
        extra += self._timer_headers(req, timer)
        self._final(req, self._response(req, 200, "OK", extra=extra, body=body), peer, call)
        self._set_timer(call, timer)
        if timer is not None:
            changes.append(timer.describe())
        self._event(call.rec, label, True, peer, 200, changes)

    def _timer_headers(self, req: SipMessage, timer: SessionTimer | None
                       ) -> list[tuple[str, str]]:
        """Session-Expires for our 2xx to the far end's INVITE, re-INVITE or UPDATE, with
        Require: timer when it supports timers (RFC 4028 §9)."""
        if timer is None:
            return []
        out = [("Session-Expires", timer.header(our_request=False))]
        if "timer" in option_tags(req, "Supported"):
            out.append(("Require", "timer"))
        return out

    def _on_cancel(self, cancel: SipMessage, peer: tuple[str, int]) -> None:
        """RFC 3261 9.2: 200 to the CANCEL and 487 to the INVITE it cancels while that is
        unanswered; once answered the CANCEL changes nothing (the caller must send BYE), and
        a CANCEL matching no INVITE gets 481."""
        call_id = cancel.get("Call-ID") or ""
        pending = self._unanswered.get(call_id)
        if pending is not None and cancel.via_branch() != pending.invite.via_branch():
            pending = None  # 9.2: a CANCEL matches its INVITE's transaction, not just the call
        if pending is None:
            known = call_id in self._calls
            self.ep.respond(cancel, self._response(cancel, 200, "OK") if known else
                            self._response(cancel, 481, "Call/Transaction Does Not Exist"),
                            peer)
            return
        self._end_unanswered(cancel, peer, pending)

    def _end_unanswered(self, req: SipMessage, peer: tuple[str, int],
                        pending: _Unanswered) -> None:
        """A CANCEL, or a BYE in the early dialog (RFC 3261 §15): 200 to it, 487 to the
        INVITE, repeated until its ACK."""
        call_id = req.get("Call-ID") or ""
        del self._unanswered[call_id]
        self.ep.respond(req, self._response(req, 200, "OK"), peer)
        pending.cancelled.set()
        invite = pending.invite
        self.ep.respond_until(invite,
                              self._response(invite, 487, "Request Terminated",
                                             to_tag=pending.tag),
                              pending.peer, self._ack_event(call_id, (invite.cseq or (0, ""))[0]))

    def _response(self, req: SipMessage, status: int, reason: str, *, to_tag: str | None = None,
                  extra: Headers = (), body: bytes = b"") -> bytes:
        """A response to ``req``; every one says what we allow and support, so the far end
        knows it may re-INVITE, UPDATE and refresh the session."""
        lines = [f"SIP/2.0 {status} {reason}"]
        for name, value in req.headers:
            low = name.lower()
            if low in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
                lines.append(f"{name}: {value}")
            elif low in ("to", "t"):
                tagged = value if _tag(value) or not to_tag else f"{value};tag={to_tag}"
                lines.append(f"{name}: {tagged}")
        for name, value in [*extra, ("Allow", ALLOW), ("Supported", SUPPORTED)]:
            lines.append(f"{name}: {value}")
        lines += ["User-Agent: recette", f"Content-Length: {len(body)}", "", ""]
        return "\r\n".join(lines).encode() + body

    async def answer(self, *, media_ip: str, timeout: float, duration: float = 10.0,
                     dtmf: str | None = None, hangup: bool = True, ring_s: float = 0.2,
                     media_ports: tuple[int, int] = RTP_PORTS) -> CallRecord:
        """Wait for an INVITE, answer it with RTP both ways, and let either side hang up.

        With ``hangup`` false we wait for the caller's BYE, but never more than ``duration``
        plus 15 s: then we hang up ourselves and say so in the record's symptom.
        """
        try:
            invite, peer = await asyncio.wait_for(self._incoming.get(), timeout)
        except TimeoutError:
            where_ = f"{self.contact_addr[0]}:{self.contact_addr[1]}"
            raise CheckError(msg("NO_INVITE", contact=where_, seconds=timeout)) from None
        call_id = invite.get("Call-ID") or ""
        from_user = re.search(r"sip:([^@;>]+)", invite.get("From") or "")
        to_user = re.search(r"sip:([^@;>]+)", invite.get("To") or "")
        rec = CallRecord("inbound", from_user.group(1) if from_user else "?",
                         to_user.group(1) if to_user else "?", call_id)
        pending = self._unanswered.get(call_id)
        if pending is None:  # cancelled while it waited for us: 487 has been sent
            rec.status, rec.reason = 487, "Request Terminated"
            rec.symptom = msg("CANCELLED_BEFORE_ANSWER")
            return rec
        tag = pending.tag
        cseq = (invite.cseq or (0, ""))[0]
        try:
            offer = sdp.parse(invite.body)
            codecs = sdp.answer_codecs(offer)
        except sdp.SdpError as exc:
            self.ep.respond(invite, self._response(invite, 488, "Not Acceptable Here",
                                                   to_tag=tag), peer)
            self._unanswered.pop(call_id, None)
            rec.status, rec.symptom = 488, msg("SDP_OFFER_UNUSABLE", detail=str(exc))
            return rec
        sock = open_media_socket(media_ip, media_ports)
        name, pt, _ = codecs[0]
        media = MediaSession(sock, pt=pt, codec=name, event_pt=offer.event_pt,
                             remote=(offer.address, offer.port))
        rec.media, rec.codec, rec.event_pt = media, name, offer.event_pt
        rec.remote_media = media.remote
        local = LocalSdp(self.contact_addr[0], sock.getsockname()[1], codecs=codecs,
                         dtmf=offer.event_pt is not None)
        timer, _ = timer_for_request(invite, None, self.min_se)
        engine().add(media)
        call: _Call | None = None
        try:
            # A caller that requires 100rel gets no 180 (it would have to be reliable): the
            # 100 Trying already sent is enough before the answer.
            if "100rel" not in option_tags(invite, "Require"):
                self.ep.respond(invite, self._response(invite, 180, "Ringing", to_tag=tag),
                                peer)
            with contextlib.suppress(TimeoutError):  # ring briefly, as a phone does
                await asyncio.wait_for(pending.cancelled.wait(), ring_s)
            if pending.cancelled.is_set():
                rec.status, rec.reason = 487, "Request Terminated"
                rec.symptom = msg("CANCELLED_WHILE_RINGING")
                return rec
            self._unanswered.pop(call_id, None)  # answered: a later CANCEL changes nothing
            routes = [_angle(v) for rr in invite.get_all("Record-Route") for v in rr.split(",")]
            target = _angle(invite.get("Contact") or "")
            dialog = Dialog(call_id, tag, _tag(invite.get("From")),
                            _angle(invite.get("To") or ""), _angle(invite.get("From") or ""),
                            target, routes, 0, uri_target(routes[0]) if routes else peer)
            call = self._begin(dialog, rec, media, local, allow=methods(invite), timer=timer,
                               remote_cseq=cseq)
            ok = self._response(invite, 200, "OK", to_tag=tag, body=local.body, extra=[
                ("Contact", self.contact), ("Content-Type", "application/sdp"),
                *self._timer_headers(invite, timer)])
            ack = self._ack_event(call_id, cseq)
            repeating = self.ep.respond_until(invite, ok, peer, ack, give_up_after=32 * T1)
            rec.status, rec.reason, rec.answered = 200, "OK", time.time()
            await repeating  # timer G until the ACK
            if not ack.is_set():
                rec.symptom = msg("NO_ACK")
            await self._talk(call, duration if hangup else duration + 15, dtmf)
            if not hangup and rec.ended_by == "local" and rec.symptom is None:
                rec.symptom = msg("CALLER_KEPT_LINE", seconds=duration + 15)
            return rec
        finally:
            if call is not None:
                self._finish(call)
            engine().remove(media)
            sock.close()


def _far_packets(media: MediaSession) -> int:
    """RTP packets of the far end's own streams received so far (not our echo)."""
    return sum(st.received for ssrc, st in list(media.rx.items()) if ssrc != media.ssrc)

@dataclass
class _Unanswered:
    """An inbound INVITE between its arrival and our 200 OK: what a CANCEL needs for 487."""

    invite: SipMessage
    peer: tuple[str, int]
    tag: str
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


def random_number() -> str:
    """A national number for test calls that no real subscriber has (lab far end)."""
    return "0899" + "".join(str(secrets.randbelow(10)) for _ in range(6))
