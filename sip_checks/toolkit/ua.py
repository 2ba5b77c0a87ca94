"""A small SIP user agent for checks: register, call, answer, hang up, all on the record.

It builds every message itself (so what goes on the wire is exactly what the check decided)
and keeps every datagram in its endpoint's wire log (so a ladder diagram and the incident
rows can be drawn from evidence, not from memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from harness.errors import CheckError
from harness.messages import Msg, msg
from sip_checks.toolkit import digest, sdp
from sip_checks.toolkit.endpoint import T1, ClientResult, SipEndpoint
from sip_checks.toolkit.message import SipMessage, build_request, new_branch, new_call_id, new_tag
from sip_checks.toolkit.numbers import uint
from sip_checks.toolkit.stream import RTP_PORTS, MediaSession, engine, open_media_socket

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
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str | None
    local_uri: str
    remote_uri: str
    remote_target: str
    route_set: list[str]
    cseq: int
    peer: tuple[str, int]


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


# What a call does once answered and acknowledged: by default RTP both ways for its duration
# (:meth:`UserAgent._talk`); a firewall sample listens first instead (see
# :mod:`sip_checks.probes.media_ports`). It must end the call (:meth:`UserAgent.hangup`).
Talk = Callable[["MediaSession", "Dialog", "CallRecord"], Awaitable[None]]


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
        self._incoming: asyncio.Queue[tuple[SipMessage, tuple[str, int]]] = asyncio.Queue()
        self._dialogs: dict[str, CallRecord] = {}
        self._byes: dict[str, asyncio.Event] = {}
        self._acks: dict[str, asyncio.Event] = {}
        self._unanswered: dict[str, _Unanswered] = {}  # Call-ID → INVITE not yet answered
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
                           ("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")],
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
        self, method: str, uri: str, *, to_uri: str, extra: object, call_id: str,
        from_tag: str, body: bytes = b"", invite: bool = False, timeout: float | None = None,
    ) -> tuple[ClientResult, str | None]:
        """Send a request, answer one 401/407 challenge, return the final result."""
        auth: list[tuple[str, str]] = []
        algorithm = None
        for attempt in range(2):
            self.cseq += 1
            branch = new_branch()
            headers = list(extra()) if callable(extra) else []
            raw = self._request(method, uri, to_uri=to_uri, call_id=call_id, cseq=self.cseq,
                                branch=branch, from_tag=from_tag, extra=auth + headers,
                                body=body)
            res = await self.ep.transaction(raw, self.id.server, branch=branch, invite=invite,
                                            timeout=timeout or self.timeout)
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

    def _ack_error(self, invite: bytes, final: SipMessage, branch: str) -> None:
        """ACK for a non-2xx final response: same branch, hop by hop (RFC 3261 17.1.1.3)."""
        head = invite.split(b"\r\n\r\n", 1)[0].decode()
        lines = head.split("\r\n")
        uri = lines[0].split()[1]
        keep = [ln for ln in lines[1:] if ln.split(":")[0].lower() in
                ("via", "from", "call-id", "max-forwards", "route")]
        to = final.get("To") or ""
        cseq = (final.cseq or (0, ""))[0]
        ack = "\r\n".join([f"ACK {uri} SIP/2.0", *keep, f"To: {to}", f"CSeq: {cseq} ACK",
                           "Content-Length: 0", "", ""])
        self.ep.send(ack.encode(), self.id.server)

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
        adv_ip = self.contact_addr[0]
        offer = sdp.build(adv_ip, sock.getsockname()[1])
        media = MediaSession(sock, pt=8, codec="PCMA")
        rec.media = media
        engine().add(media)
        try:
            res, _ = await self._authenticated(
                "INVITE", to_uri, to_uri=to_uri, call_id=call_id, from_tag=tag, body=offer,
                extra=lambda: [("Contact", self.contact), ("Content-Type", "application/sdp"),
                               ("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")],
                invite=True, timeout=answer_timeout,
            )
            final = res.final
            rec.status, rec.reason = final.status, final.reason
            if final.status != 200:
                rec.symptom = msg("CALL_REJECTED", status=final.status, reason=final.reason)
                return rec
            rec.answered = time.time()
            if settled is not None:
                settled.set()
            dialog = self._dialog_from_2xx(final, call_id, tag, to_uri)
            self._send_ack(dialog)
            try:
                answer = sdp.parse(final.body)
            except sdp.SdpError as exc:
                rec.symptom = msg("SDP_ANSWER_UNUSABLE", detail=str(exc))
                await self._bye(dialog, rec)
                return rec
            chosen = answer.first_audio()
            if chosen is None:
                rec.symptom = msg("SDP_NO_CODEC")
                await self._bye(dialog, rec)
                return rec
            media.pt, media.codec = chosen
            media.event_pt = answer.event_pt
            rec.codec, rec.event_pt = chosen[1], answer.event_pt
            media.remote = rec.remote_media = (answer.address, answer.port)
            if talk is not None:
                await talk(media, dialog, rec)
            else:
                await self._talk(media, duration, dtmf, dialog, rec)
            return rec
        finally:
            engine().remove(media)
            sock.close()

    def _dialog_from_2xx(self, final: SipMessage, call_id: str, tag: str, to_uri: str
                         ) -> Dialog:
        routes = [_angle(v) for rr in reversed(final.get_all("Record-Route"))
                  for v in reversed(rr.split(","))]
        target = _angle(final.get("Contact") or f"<{to_uri}>")
        peer = uri_target(routes[0]) if routes else uri_target(target)
        return Dialog(call_id, tag, _tag(final.get("To")), self.id.aor, to_uri, target, routes,
                      (final.cseq or (1, ""))[0], peer)

    def _send_ack(self, d: Dialog) -> None:
        raw = self._in_dialog("ACK", d, cseq=d.cseq)
        self.ep.send(raw, d.peer)

    def _in_dialog(self, method: str, d: Dialog, *, cseq: int, branch: str | None = None
                   ) -> bytes:
        extra = [("Route", f"<{r}>") for r in d.route_set]
        extra.append(("Contact", self.contact))
        return self._request(method, d.remote_target, to_uri=d.remote_uri, call_id=d.call_id,
                             cseq=cseq, branch=branch or new_branch(), from_tag=d.local_tag,
                             to_tag=d.remote_tag, extra=extra, from_uri=d.local_uri)

    async def _talk(self, media: MediaSession, duration: float, dtmf: str | None, d: Dialog,
                    rec: CallRecord) -> None:
        bye = self._byes.setdefault(d.call_id, asyncio.Event())
        eng = engine()
        eng.start_sending(media)
        if dtmf and media.event_pt is not None:  # else the far end took no DTMF
            await asyncio.sleep(1.0)
            media.send_dtmf(dtmf)
        try:
            await asyncio.wait_for(bye.wait(), duration)
            rec.ended_by = "remote"
        except TimeoutError:
            pass
        eng.stop_sending(media)
        await asyncio.sleep(0.2)  # let the last echoes come back before counting
        if rec.ended_by is None:
            await self._bye(d, rec)
        rec.ended = time.time()

    async def hangup(self, d: Dialog, rec: CallRecord) -> None:
        """Send BYE unless the far end already did (for a :data:`Talk` of one's own)."""
        if not self._byes.setdefault(d.call_id, asyncio.Event()).is_set():
            await self._bye(d, rec)
        else:
            rec.ended_by = "remote"
        rec.ended = time.time()

    async def _bye(self, d: Dialog, rec: CallRecord) -> None:
        d.cseq += 1
        branch = new_branch()
        raw = self._in_dialog("BYE", d, cseq=d.cseq, branch=branch)
        res = await self.ep.transaction(raw, d.peer, branch=branch, timeout=self.timeout)
        rec.ended_by = "local"
        if res.final.status != 200:
            rec.symptom = rec.symptom or msg("BYE_REFUSED", status=res.final.status)

    # -- inbound call -------------------------------------------------------------------------
    async def _on_request(self, req: SipMessage, peer: tuple[str, int]) -> None:
        method = req.method
        call_id = req.get("Call-ID") or ""
        if method == "INVITE" and not _tag(req.get("To")):
            self.ep.respond(req, self._response(req, 100, "Trying"), peer)
            self._unanswered[call_id] = _Unanswered(req, peer, new_tag())
            await self._incoming.put((req, peer))
        elif method == "ACK":
            self._acks.setdefault(call_id, asyncio.Event()).set()
        elif method == "BYE":
            self.ep.respond(req, self._response(req, 200, "OK"), peer)
            self._byes.setdefault(call_id, asyncio.Event()).set()
        elif method == "CANCEL":
            self._on_cancel(req, peer)
        elif method == "OPTIONS":
            self.ep.respond(req, self._response(req, 200, "OK"), peer)
        else:
            self.ep.respond(req, self._response(req, 405, "Method Not Allowed"), peer)

    def _on_cancel(self, cancel: SipMessage, peer: tuple[str, int]) -> None:
        """RFC 3261 9.2: 200 to the CANCEL and 487 to the INVITE it cancels while that is
        unanswered; once answered the CANCEL changes nothing (the caller must send BYE), and
        a CANCEL matching no INVITE gets 481."""
        call_id = cancel.get("Call-ID") or ""
        pending = self._unanswered.get(call_id)
        if pending is not None and cancel.via_branch() != pending.invite.via_branch():
            pending = None  # 9.2: a CANCEL matches its INVITE's transaction, not just the call
        if pending is None:
            known = call_id in self._acks
            self.ep.respond(cancel, self._response(cancel, 200, "OK") if known else
                            self._response(cancel, 481, "Call/Transaction Does Not Exist"),
                            peer)
            return
        del self._unanswered[call_id]
        self.ep.respond(cancel, self._response(cancel, 200, "OK"), peer)
        pending.cancelled.set()
        self.ep.respond_until(pending.invite,
                              self._response(pending.invite, 487, "Request Terminated",
                                             to_tag=pending.tag),
                              pending.peer, self._acks.setdefault(call_id, asyncio.Event()))

    def _response(self, req: SipMessage, status: int, reason: str, *, to_tag: str | None = None,
                  extra: list[tuple[str, str]] | None = None, body: bytes = b"") -> bytes:
        lines = [f"SIP/2.0 {status} {reason}"]
        for name, value in req.headers:
            low = name.lower()
            if low in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
                lines.append(f"{name}: {value}")
            elif low in ("to", "t"):
                tagged = value if _tag(value) or not to_tag else f"{value};tag={to_tag}"
                lines.append(f"{name}: {tagged}")
        for name, value in extra or []:
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
            where = f"{self.contact_addr[0]}:{self.contact_addr[1]}"
            raise CheckError(msg("NO_INVITE", contact=where, seconds=timeout)) from None
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
        engine().add(media)
        try:
            answer = sdp.build(self.contact_addr[0], sock.getsockname()[1], codecs=codecs,
                               dtmf=offer.event_pt is not None)
            self.ep.respond(invite, self._response(invite, 180, "Ringing", to_tag=tag), peer)
            with contextlib.suppress(TimeoutError):  # ring briefly, as a phone does
                await asyncio.wait_for(pending.cancelled.wait(), ring_s)
            if pending.cancelled.is_set():
                rec.status, rec.reason = 487, "Request Terminated"
                rec.symptom = msg("CANCELLED_WHILE_RINGING")
                return rec
            self._unanswered.pop(call_id, None)  # answered: a later CANCEL changes nothing
            ok = self._response(invite, 200, "OK", to_tag=tag, body=answer, extra=[
                ("Contact", self.contact), ("Content-Type", "application/sdp")])
            ack = self._acks.setdefault(call_id, asyncio.Event())
            repeating = self.ep.respond_until(invite, ok, peer, ack, give_up_after=32 * T1)
            rec.status, rec.reason, rec.answered = 200, "OK", time.time()
            await repeating  # timer G until the ACK
            if not ack.is_set():
                rec.symptom = msg("NO_ACK")
            routes = [_angle(v) for rr in invite.get_all("Record-Route") for v in rr.split(",")]
            target = _angle(invite.get("Contact") or "")
            dialog = Dialog(call_id, tag, _tag(invite.get("From")),
                            _angle(invite.get("To") or ""), _angle(invite.get("From") or ""),
                            target, routes, 0, uri_target(routes[0]) if routes else peer)
            await self._talk(media, duration if hangup else duration + 15, dtmf, dialog, rec)
            if not hangup and rec.ended_by == "local":
                rec.symptom = msg("CALLER_KEPT_LINE", seconds=duration + 15)
            return rec
        finally:
            engine().remove(media)
            sock.close()


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
