"""The user agent inside an answered call (sip_checks/toolkit/ua.py): re-INVITE and UPDATE
that move the media, offerless re-INVITE, glare, unknown dialogs, session timers (RFC 4028)
and reliable provisional responses (RFC 3262), against a scripted far end on loopback.

The far end here is a socket the test drives message by message, so that it can do what an
independent peer will not do on demand: hold a request unanswered to provoke glare, refuse
with 422, never refresh. The everyday flows run against SIPp in
tests/system/test_ua_dialog.py. Session intervals are 2-3 s (our Min-SE lowered), so the
timing bounds below are a second or more wide around sub-second waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.message import SipMessage, parse
from sip_checks.toolkit.ua import CallRecord, Identity, UserAgent

LOOP = "127.0.0.1"
TIMEOUT = 30.0  # no scenario may hang the suite
T = TypeVar("T")


def _udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOOP, 0))
    s.setblocking(False)
    return s


def _sdp(port: int, version: int = 1) -> str:
    return (f"v=0\r\no=far 7 {version} IN IP4 {LOOP}\r\ns=-\r\nc=IN IP4 {LOOP}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n")


def _sdp_port(body: bytes) -> int:
    m = re.search(rb"m=audio ([0-9]+) ", body)
    assert m, body
    return int(m.group(1))


def _tag(value: str | None) -> str | None:
    m = re.search(r";tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None


@dataclass
class Leg:
    """The dialog as the far end keeps it."""

    call_id: str
    tag: str  # the far end's
    ua_tag: str | None
    ua_target: str  # the UA's Contact URI
    uri: str  # the far end's AOR
    ua_uri: str
    cseq: int


class Far:
    """The scripted far end: one SIP socket, what it received, helpers to answer."""

    def __init__(self, ua: UserAgent) -> None:
        self.sock = _udp()
        self.addr = self.sock.getsockname()
        self.ua_addr = ua.ep.local
        self.got: list[tuple[float, SipMessage]] = []

    @property
    def me(self) -> str:
        return f"{self.addr[0]}:{self.addr[1]}"

    def close(self) -> None:
        self.sock.close()

    async def expect(self, want: str, timeout: float = 8.0) -> SipMessage:
        """The next message matching ``want``: a method ("UPDATE"), or a status and the
        CSeq method ("200 INVITE"); anything else received meanwhile is kept in ``got``."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                data, _ = await loop.sock_recvfrom(self.sock, 65535)
                m = parse(data)
                self.got.append((time.monotonic(), m))
                if m.is_response:
                    if f"{m.status} {(m.cseq or (0, ''))[1]}" == want:
                        return m
                elif m.method == want:
                    return m

    def send(self, text: str) -> None:
        self.sock.sendto(text.encode(), self.ua_addr)

    def answer(self, req: SipMessage, status: int, reason: str, *, tag: str | None = None,
               headers: str = "", body: str = "") -> str:
        lines = [f"SIP/2.0 {status} {reason}"]
        for name, value in req.headers:
            if name.lower() in ("via", "from", "call-id", "cseq"):
                lines.append(f"{name}: {value}")
            elif name.lower() == "to":
                lines.append(f"To: {value}" + (f";tag={tag}" if tag and not _tag(value) else ""))
        text = "\r\n".join(lines) + "\r\n" + f"Contact: <sip:far@{self.me}>\r\n" + headers
        if body:
            text += "Content-Type: application/sdp\r\n"
        text += f"Content-Length: {len(body)}\r\n\r\n{body}"
        self.send(text)
        return text

    def request(self, method: str, leg: Leg, *, headers: str = "", body: str = "",
                branch: str | None = None, cseq: int | None = None) -> str:
        """An in-dialog request of the far end; returns its branch."""
        if cseq is None and method != "ACK":
            leg.cseq += 1
        branch = branch or "z9hG4bK" + secrets.token_hex(6)
        to = f"<{leg.ua_uri}>" + (f";tag={leg.ua_tag}" if leg.ua_tag else "")
        text = (f"{method} {leg.ua_target} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.me};branch={branch}\r\n"
                f"From: <{leg.uri}>;tag={leg.tag}\r\nTo: {to}\r\nCall-ID: {leg.call_id}\r\n"
                f"CSeq: {cseq if cseq is not None else leg.cseq} {method}\r\n"
                f"Contact: <sip:far@{self.me}>\r\nMax-Forwards: 70\r\n{headers}")
        if body:
            text += "Content-Type: application/sdp\r\n"
        self.send(text + f"Content-Length: {len(body)}\r\n\r\n{body}")
        return branch


def _ua(server: tuple[str, int] = (LOOP, 9)) -> Callable[[], Awaitable[UserAgent]]:
    async def make() -> UserAgent:
        ep = await SipEndpoint.open(LOOP, 0)
        ua = UserAgent(ep, Identity("trunk01", "trunk01", "pw", "lab.invalid", server),
                       timeout=2.0)
        ua.min_se = 1
        return ua
    return make


async def _inbound(ua: UserAgent, far: Far, media_port: int, *, invite_headers: str = "",
                   duration: float = 20.0) -> tuple[asyncio.Task[CallRecord], Leg, SipMessage]:
    """The far end calls the UA, which answers (and lets the far end hang up)."""
    answering = asyncio.create_task(ua.answer(media_ip=LOOP, timeout=5.0, duration=duration,
                                              hangup=False, ring_s=0.0))
    leg = Leg(f"in-{secrets.token_hex(4)}", "far1", None, f"sip:0145670123@{LOOP}:"
              f"{ua.ep.local[1]}", f"sip:0899000001@{far.me}", "sip:0145670123@lab.invalid", 1)
    far.request("INVITE", leg, body=_sdp(media_port), cseq=1, headers=invite_headers)
    ok = await far.expect("200 INVITE")
    leg.ua_tag = _tag(ok.get("To"))
    m = re.search(r"<([^>]+)>", ok.get("Contact") or "")
    assert m
    leg.ua_target = m.group(1)
    far.request("ACK", leg, cseq=1)
    return answering, leg, ok


async def _rtp_from(sock: socket.socket, port: int, want: int, timeout: float = 5.0) -> int:
    """How many RTP packets from our UA's media ``port`` reach ``sock`` (stop at ``want``)."""
    loop = asyncio.get_running_loop()
    n = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while n < want:
                _, src = await loop.sock_recvfrom(sock, 2048)
                n += src[1] == port
    return n


def _drain(sock: socket.socket) -> int:
    n = 0
    while True:
        try:
            sock.recv(2048)
        except BlockingIOError:
            return n
        n += 1


def _run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(TIMEOUT):
            return await scenario()
    return asyncio.run(bounded())


def test_a_reinvite_that_moves_the_media_is_answered_and_our_rtp_follows() -> None:
    """200 with our SDP (same port, same codec), the same 200 again for a retransmission,
    then our RTP goes to the new port and no longer to the old one."""
    async def scenario() -> None:
        ua = await _ua()()
        far = Far(ua)
        old, new = _udp(), _udp()
        moved_to = new.getsockname()
        try:
            answering, leg, ok = await _inbound(ua, far, old.getsockname()[1])
            our_port = _sdp_port(ok.body)
            assert await _rtp_from(old, our_port, 5) == 5  # the call is talking
            branch = far.request("INVITE", leg, body=_sdp(new.getsockname()[1], 2))
            re_ok = await far.expect("200 INVITE")
            assert _sdp_port(re_ok.body) == our_port
            assert b"PCMA/8000" in re_ok.body
            assert "UPDATE" in (re_ok.get("Allow") or "") and \
                "timer" in (re_ok.get("Supported") or "")
            far.request("INVITE", leg, body=_sdp(new.getsockname()[1], 2), branch=branch,
                        cseq=leg.cseq)  # retransmitted: the very same answer
            again = await far.expect("200 INVITE")
            assert again.headers == re_ok.headers and again.body == re_ok.body
            far.request("ACK", leg, cseq=leg.cseq)
            assert await _rtp_from(new, our_port, 10) == 10
            await asyncio.sleep(0.5)  # a packet the engine had taken before the move
            _drain(old)
            assert await _rtp_from(old, our_port, 1, timeout=0.6) == 0
            far.request("BYE", leg)
            await far.expect("200 BYE")
            rec = await answering
        finally:
            far.close()
            old.close()
            new.close()
            ua.ep.close()
        assert rec.symptom is None and rec.ended_by == "remote"
        moved = [e for e in rec.events if e.method == "re-INVITE"]
        assert [e.status for e in moved] == [200]
        assert moved[0].changes[0].code == "EV_MEDIA_MOVED"
        assert rec.remote_media == moved_to
    _run(scenario)


def test_an_offerless_reinvite_gets_our_offer_and_the_answer_in_the_ack_moves_the_media(
) -> None:
    async def scenario() -> None:
        ua = await _ua()()
        far = Far(ua)
        old, new = _udp(), _udp()
        try:
            answering, leg, ok = await _inbound(ua, far, old.getsockname()[1])
            far.request("INVITE", leg)
            offer = await far.expect("200 INVITE")
            assert offer.body == ok.body  # our last SDP, same version: nothing changed
            again = await far.expect("200 INVITE", timeout=3.0)  # no ACK yet: repeated
            assert again.body == offer.body
            far.request("ACK", leg, cseq=leg.cseq, body=_sdp(new.getsockname()[1], 2))
            assert await _rtp_from(new, _sdp_port(ok.body), 5) == 5
            far.request("BYE", leg)
            rec = await answering
        finally:
            far.close()
            old.close()
            new.close()
            ua.ep.close()
        codes = [(e.method, [c.code for c in e.changes]) for e in rec.events]
        assert ("re-INVITE", ["EV_OFFER_IN_200"]) in codes
        assert ("ACK", ["EV_MEDIA_MOVED"]) in codes
    _run(scenario)


def test_glare_our_refresh_reinvite_pending_gets_491_then_completes() -> None:
    """We refresh (Session-Expires: 2;refresher=uas) by re-INVITE, the far end not allowing
    UPDATE; while ours is unanswered, its own re-INVITE gets 491 (RFC 3261 §14.2)."""
    async def scenario() -> None:
        ua = await _ua()()
        far = Far(ua)
        media = _udp()
        try:
            answering, leg, ok = await _inbound(
                ua, far, media.getsockname()[1], invite_headers=(
                    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\nSupported: timer\r\n"
                    "Session-Expires: 2;refresher=uas\r\n"))
            assert ok.get("Session-Expires") == "2;refresher=uas"
            assert ok.get("Require") == "timer"
            t0 = time.monotonic()
            ours = await far.expect("INVITE")
            waited = time.monotonic() - t0
            # Half of 2 s after our 200 left; we see it a little later (more when loaded).
            assert 0.5 < waited < 6.0, waited
            assert ours.get("Session-Expires") == "2;refresher=uac"
            assert ours.body == ok.body  # the same SDP, same version
            far.request("INVITE", leg, body=_sdp(media.getsockname()[1], 2))
            refused = await far.expect("491 INVITE")
            far.request("ACK", leg, cseq=leg.cseq, branch=refused.via_branch())
            far.answer(ours, 200, "OK", body=_sdp(media.getsockname()[1], 3),
                       headers="Session-Expires: 2;refresher=uac\r\nRequire: timer\r\n")
            ack = await far.expect("ACK")
            assert ack.cseq == ((ours.cseq or (0, ""))[0], "ACK")
            far.request("BYE", leg)
            rec = await answering
        finally:
            far.close()
            media.close()
            ua.ep.close()
        assert rec.symptom is None
        seen = [(e.method, e.incoming, e.status) for e in rec.events]
        assert ("re-INVITE", True, 491) in seen and ("re-INVITE", False, 200) in seen
    _run(scenario)


def test_requests_for_a_dialog_we_do_not_know_get_481() -> None:
    async def scenario() -> list[str]:
        ua = await _ua()()
        far = Far(ua)
        got = []
        try:
            leg = Leg("nobody@far", "far1", "notours", f"sip:trunk01@{LOOP}:{ua.ep.local[1]}",
                      f"sip:0899000001@{far.me}", "sip:trunk01@lab.invalid", 5)
            for method in ("INVITE", "UPDATE", "BYE", "INFO", "OPTIONS"):
                far.request(method, leg, body=_sdp(4000) if method == "INVITE" else "")
                resp = await far.expect(f"481 {method}")
                got.append(method)
                if method == "INVITE":
                    far.request("ACK", leg, cseq=leg.cseq, branch=resp.via_branch())
            leg.ua_tag = None  # out of any dialog: OPTIONS is answered, with what we do
            far.request("OPTIONS", leg)
            ok = await far.expect("200 OPTIONS")
            assert ok.get("Allow") == "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, PRACK, INFO"
            assert ok.get("Supported") == "timer, 100rel"
        finally:
            far.close()
            ua.ep.close()
        return got
    result = _run(scenario)
    assert result == ["INVITE", "UPDATE", "BYE", "INFO", "OPTIONS"]


def test_in_dialog_options_info_and_updates_are_answered_and_recorded() -> None:
    async def scenario() -> CallRecord:
        ua = await _ua()()
        far = Far(ua)
        media, moved = _udp(), _udp()
        try:
            answering, leg, ok = await _inbound(ua, far, media.getsockname()[1])
            far.request("OPTIONS", leg)
            await far.expect("200 OPTIONS")
            far.request("INFO", leg, headers="Content-Type: application/dtmf-relay\r\n")
            await far.expect("200 INFO")
            far.request("UPDATE", leg, headers="Session-Expires: 90;refresher=uac\r\n"
                                               "Supported: timer\r\n")
            refresh = await far.expect("200 UPDATE")
            assert refresh.body == b""
            assert refresh.get("Session-Expires") == "90;refresher=uac"
            far.request("UPDATE", leg, body=_sdp(moved.getsockname()[1], 2))
            answer = await far.expect("200 UPDATE")
            assert _sdp_port(answer.body) == _sdp_port(ok.body)
            assert await _rtp_from(moved, _sdp_port(ok.body), 3) == 3
            far.request("INVITE", leg, body=_sdp(4000), cseq=2)  # below the last CSeq
            await far.expect("500 INVITE")
            far.request("BYE", leg)
            return await answering
        finally:
            far.close()
            media.close()
            moved.close()
            ua.ep.close()
    rec = _run(scenario)
    assert [(e.method, e.status) for e in rec.events] == [
        ("OPTIONS", 200), ("INFO", 200), ("UPDATE", 200), ("UPDATE", 200),
        ("re-INVITE", 500), ("BYE", 200)]
    assert rec.events[2].changes[0].code == "EV_TIMER_PEER"
    assert rec.events[3].changes[0].code == "EV_MEDIA_MOVED"


async def _outbound(ua: UserAgent, far: Far, *, duration: float
                    ) -> tuple[asyncio.Task[CallRecord], SipMessage]:
    calling = asyncio.create_task(ua.call("3000", media_ip=LOOP, duration=duration,
                                          answer_timeout=10.0))
    return calling, await far.expect("INVITE")


def test_we_refresh_by_update_at_half_the_interval_and_retry_a_422_with_its_min_se() -> None:
    async def scenario() -> CallRecord:
        ua = await _ua()()
        far = Far(ua)
        ua.id.server = far.addr
        ua.session_expires = 2
        media = _udp()
        try:
            calling, invite = await _outbound(ua, far, duration=4.0)
            assert invite.get("Supported") == "timer, 100rel"
            assert invite.get("Session-Expires") == "2" and invite.get("Min-SE") == "1"
            far.answer(invite, 200, "OK", tag="far9", body=_sdp(media.getsockname()[1]),
                       headers="Allow: INVITE, ACK, BYE, UPDATE\r\nRequire: timer\r\n"
                               "Session-Expires: 2;refresher=uac\r\n")
            t0 = time.monotonic()
            await far.expect("ACK")
            first = await far.expect("UPDATE")
            assert 0.8 < time.monotonic() - t0 < 6.0
            assert first.get("Session-Expires") == "2;refresher=uac" and first.body == b""
            far.answer(first, 422, "Session Interval Too Small", headers="Min-SE: 3\r\n")
            t1 = time.monotonic()
            retried = await far.expect("UPDATE")
            assert time.monotonic() - t1 < 3.0  # at once (without it: BYE at expiry)
            assert retried.get("Session-Expires") == "3;refresher=uac"
            far.answer(retried, 200, "OK", headers="Session-Expires: 3;refresher=uac\r\n")
            t2 = time.monotonic()
            second = await far.expect("UPDATE")
            assert 1.3 < time.monotonic() - t2 < 7.0  # half of the new 3 s
            far.answer(second, 200, "OK", headers="Session-Expires: 3;refresher=uac\r\n")
            bye = await far.expect("BYE")
            far.answer(bye, 200, "OK")
            return await calling
        finally:
            far.close()
            media.close()
            ua.ep.close()
    rec = _run(scenario)
    assert rec.symptom is None and rec.ended_by == "local"
    updates = [(e.status, [c.code for c in e.changes]) for e in rec.events
               if e.method == "UPDATE"]
    assert updates[:3] == [(422, ["EV_MIN_SE"]), (200, ["EV_TIMER_US"]),
                           (200, ["EV_TIMER_US"])]


def test_the_session_expires_without_a_refresh_we_send_bye_and_say_why() -> None:
    async def scenario() -> tuple[CallRecord, float]:
        ua = await _ua()()
        far = Far(ua)
        ua.id.server = far.addr
        ua.session_expires = 2
        media = _udp()
        try:
            calling, invite = await _outbound(ua, far, duration=30.0)
            far.answer(invite, 200, "OK", tag="far9", body=_sdp(media.getsockname()[1]),
                       headers="Require: timer\r\nSession-Expires: 2;refresher=uas\r\n")
            t0 = time.monotonic()
            bye = await far.expect("BYE")
            waited = time.monotonic() - t0
            far.answer(bye, 200, "OK")
            return await calling, waited
        finally:
            far.close()
            media.close()
            ua.ep.close()
    rec, waited = _run(scenario)
    assert 1.1 < waited < 8.0, waited  # 2 s less a third, far before the 30 s call
    assert rec.ended_by == "local"
    assert rec.symptom is not None and rec.symptom.code == "SESSION_TIMER_EXPIRED"
    assert rec.symptom.params["interval"] == 2
    assert rec.events[-1].method == "BYE" and rec.events[-1].status == 200


def test_a_422_to_our_invite_is_retried_with_its_min_se() -> None:
    async def scenario() -> tuple[CallRecord, SipMessage, SipMessage]:
        ua = await _ua()()
        far = Far(ua)
        ua.id.server = far.addr
        ua.session_expires = 90
        try:
            calling, invite = await _outbound(ua, far, duration=1.0)
            far.answer(invite, 422, "Session Interval Too Small", tag="far9",
                       headers="Min-SE: 120\r\n")
            ack = await far.expect("ACK")
            again = await far.expect("INVITE")
            assert ack.via_branch() == invite.via_branch()
            far.answer(again, 486, "Busy Here", tag="far9")
            return await calling, invite, again
        finally:
            far.close()
            ua.ep.close()
    rec, first, again = _run(scenario)
    assert first.get("Session-Expires") == "90" and again.get("Session-Expires") == "120"
    assert again.get("Call-ID") == first.get("Call-ID")
    assert (again.cseq or (0, ""))[0] > (first.cseq or (0, ""))[0]
    assert rec.status == 486
    assert [(e.method, e.status, e.changes[0].code) for e in rec.events] == [
        ("INVITE", 422, "EV_MIN_SE")]


@pytest.mark.parametrize("final_sdp", [False, True], ids=["answer-in-183", "200-sdp-wins"])
def test_a_reliable_183_gets_one_prack_and_its_sdp_brings_early_media(final_sdp: bool) -> None:
    async def scenario() -> tuple[CallRecord, list[SipMessage], int, int, int]:
        ua = await _ua()()
        far = Far(ua)
        ua.id.server = far.addr
        early, final = _udp(), _udp()
        try:
            calling, invite = await _outbound(ua, far, duration=1.0)
            our_port = _sdp_port(invite.body)
            progress = far.answer(invite, 183, "Session Progress", tag="far9",
                                  headers="Require: 100rel\r\nRSeq: 1\r\n",
                                  body=_sdp(early.getsockname()[1]))
            prack = await far.expect("PRACK")
            far.send(progress)  # the 183 again, as if our PRACK were lost: no second PRACK
            await asyncio.sleep(0.3)
            far.answer(prack, 200, "OK")
            rtp = bytes([0x80, 8, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4]) + b"\xd5" * 160
            for _ in range(5):  # early media, before the answer
                early.sendto(rtp, (LOOP, our_port))
            await asyncio.sleep(0.3)
            body = _sdp(final.getsockname()[1], 2) if final_sdp else ""
            far.answer(invite, 200, "OK", tag="far9", body=body)
            await far.expect("ACK")
            sock = final if final_sdp else early
            echoed = await _rtp_from(sock, our_port, 5)
            bye = await far.expect("BYE")
            far.answer(bye, 200, "OK")
            rec = await calling
            pracks = [m for _, m in far.got if m.method == "PRACK"]
            return rec, pracks, echoed, (invite.cseq or (0, ""))[0], final.getsockname()[1]
        finally:
            far.close()
            early.close()
            final.close()
            ua.ep.close()
    rec, pracks, echoed, invite_cseq, final_port = _run(scenario)
    assert len({p.via_branch() for p in pracks}) == 1  # retransmissions of one PRACK only
    assert pracks[0].get("RAck") == f"1 {invite_cseq} INVITE"
    assert (pracks[0].cseq or (0, ""))[0] > invite_cseq
    assert rec.status == 200 and rec.symptom is None
    assert rec.early_media == 5
    assert echoed == 5  # our RTP went where the SDP that counts said
    prack = rec.events[0]
    assert (prack.method, prack.status) == ("PRACK", 200)
    assert [c.code for c in prack.changes] == ["EV_PRACKED", "EV_EARLY_MEDIA"]
    if final_sdp:
        assert rec.remote_media == (LOOP, final_port)
        assert rec.events[1].method == "200 OK"
        assert rec.events[1].changes[0].code == "EV_MEDIA_MOVED"


@pytest.mark.parametrize(("bye_status", "code"), [(None, "CALL_BYE_UNANSWERED"),
                                                   (481, "CALL_GONE_AT_BYE")],
                         ids=["no-response", "481"])
def test_an_answered_call_whose_bye_fails_is_reported_as_such_not_as_no_response(
        bye_status: int | None, code: str) -> None:
    """The false error of issue 21: the far end had dropped the call, our BYE got nothing,
    and the check said "no response … firewall, SIP ALG" with no duration. The record now
    says the call was answered, how long it lasted, and what became of the BYE."""
    async def scenario() -> CallRecord:
        ua = await _ua()()
        far = Far(ua)
        ua.id.server = far.addr
        ua.timeout = 1.5
        media = _udp()
        try:
            calling, invite = await _outbound(ua, far, duration=0.5)
            far.answer(invite, 200, "OK", tag="far9", body=_sdp(media.getsockname()[1]))
            bye = await far.expect("BYE")
            if bye_status is not None:
                far.answer(bye, bye_status, "Call/Transaction Does Not Exist")
            return await calling  # returns: no CheckError out of an answered call
        finally:
            far.close()
            media.close()
            ua.ep.close()
    rec = _run(scenario)
    assert rec.status == 200 and rec.answered is not None and rec.ended_by == "local"
    assert rec.symptom is not None and rec.symptom.code == code
    seconds = rec.symptom.params["seconds"]
    assert isinstance(seconds, float) and 0.5 <= seconds < 10
    assert "likely causes" not in rec.symptom.text
    assert (rec.events[-1].method, rec.events[-1].status) == ("BYE", bye_status)


def test_a_reinvite_whose_200_is_never_acked_is_an_event_of_the_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Our 200 is repeated until its ACK; none coming is written on the call (the SBC will
    likely end it, and the record then says what came before)."""
    monkeypatch.setattr("sip_checks.toolkit.ua.T1", 0.05)  # give up after 1.6 s, not 16

    async def scenario() -> CallRecord:
        ua = await _ua()()
        far = Far(ua)
        media = _udp()
        try:
            answering, leg, _ = await _inbound(ua, far, media.getsockname()[1])
            far.request("INVITE", leg, body=_sdp(media.getsockname()[1], 2))
            await far.expect("200 INVITE")
            await far.expect("200 INVITE", timeout=3.0)  # repeated: no ACK
            for _ in range(100):
                if any(e.method == "ACK" for e in ua._calls[leg.call_id].rec.events):
                    break
                await asyncio.sleep(0.1)
            far.request("BYE", leg)
            return await answering
        finally:
            far.close()
            media.close()
            ua.ep.close()
    rec = _run(scenario)
    assert [(e.method, [c.code for c in e.changes]) for e in rec.events][1:] == [
        ("ACK", ["EV_NO_ACK"]), ("BYE", [])]
