"""The UA inside an answered call against an independent peer: SIPp on loopback.

Calling the lab's test line (harness/lab/templates/sipp_test_line.xml): a reliable 183 with
early media gets its PRACK, the 200 OK sets a session timer the test line refreshes, its
re-INVITE moves the media, its OPTIONS and UPDATE are answered, and we hang up. Answering an
SBC-like caller (tests/data/sipp/reinvite_uac.xml): it re-INVITEs with and without SDP and
waits for our session refresh. SIPp checks our side (a wrong or missing answer fails its
call, and its exit status); our record must tell each step.

Where our RTP went is proven by SIPp's echo (-rtp_echo answers on [media_port] and
[media_port+2]): echoes coming back from the port a re-INVITE moved us to can only be of
packets we sent there.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness.profile import Thresholds
from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.message import SipMessage, parse
from sip_checks.toolkit.ua import CallRecord, Identity, UserAgent
from sip_checks.verdict import judge_call

REPO = Path(__file__).resolve().parents[2]
TEST_LINE = REPO / "harness" / "lab" / "templates" / "sipp_test_line.xml"
CALLER = REPO / "tests" / "data" / "sipp" / "reinvite_uac.xml"
LOOP = "127.0.0.1"
CALL_S = 8.0


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOP, 0))
        return int(s.getsockname()[1])


def _free_media_pair() -> int:
    """An even port P with P and P+2 free: SIPp's echo binds both with -rtp_echo."""
    for _ in range(100):
        port = random.randrange(30000, 39990, 2)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind((LOOP, port))
                b.bind((LOOP, port + 2))
        except OSError:
            continue
        return port
    raise OSError("no free media port pair")


async def _bound(port: int, timeout: float = 10.0) -> None:
    """Wait until something listens on UDP ``port`` (SIPp has started)."""
    want = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(want in line.split()[1] + " " for line in
               Path("/proc/net/udp").read_text().splitlines()[1:]):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing bound UDP {port}")


def _sipp(*args: str) -> list[str]:
    return ["sipp", *args, "-i", LOOP, "-mi", LOOP, "-rtp_echo", "-m", "1", "-nostdin",
            "-timeout", "60", "-trace_err"]


def _messages(ep: SipEndpoint, *, outgoing: bool) -> list[SipMessage]:
    return [parse(w.data) for w in ep.wire if w.outgoing == outgoing and not w.note]


async def _finish(sipp: asyncio.subprocess.Process) -> tuple[int, str]:
    try:
        _, err = await asyncio.wait_for(sipp.communicate(), 30)
    finally:
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()
    return sipp.returncode or 0, err.decode(errors="replace")


def test_a_call_to_the_test_line_prack_early_media_moved_media_options_update(
        tmp_path: Path) -> None:
    assert shutil.which("sipp"), "sipp (Debian package sip-tester) is required"

    async def scenario() -> tuple[CallRecord, SipEndpoint, int, int, str]:
        sip_port, mp = _free_udp_port(), _free_media_pair()
        sipp = await asyncio.create_subprocess_exec(
            *_sipp("-sf", str(TEST_LINE), "-p", str(sip_port), "-mp", str(mp)),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
        ep = await SipEndpoint.open(LOOP, 0)
        try:
            await _bound(sip_port)
            ua = UserAgent(ep, Identity("trunk01", "trunk01", "unused", "lab.invalid",
                                        (LOOP, sip_port)))
            rec = await ua.call("3000", media_ip=LOOP, duration=CALL_S)
        finally:
            rc, err = await _finish(sipp)
            ep.close()
        return rec, ep, mp, rc, err

    rec, ep, mp, rc, err = asyncio.run(scenario())
    assert rc == 0, f"SIPp saw a wrong answer (exit {rc}): {err[-1500:]}"
    # answered, no error, audio both ways, hung up by us
    assert (rec.status, rec.symptom, rec.ended_by) == (200, None, "local")
    assert judge_call(rec, Thresholds()).symptom is None
    assert [(e.method, e.incoming, e.status) for e in rec.events] == [
        ("PRACK", False, 200), ("re-INVITE", True, 200), ("OPTIONS", True, 200),
        ("UPDATE", True, 200), ("BYE", False, 200)]
    prack, reinvite, _, update, _ = rec.events
    # PRACK sent with its RAck, and answered
    sent = _messages(ep, outgoing=True)
    invite = next(m for m in sent if m.method == "INVITE")
    pracks = [m for m in sent if m.method == "PRACK"]
    assert {p.get("RAck") for p in pracks} == {f"1 {(invite.cseq or (0, ''))[0]} INVITE"}
    assert invite.get("Supported") == "timer, 100rel"
    # early media received before the 200 OK
    assert [c.code for c in prack.changes] == ["EV_PRACKED", "EV_EARLY_MEDIA"]
    media = rec.media
    assert media is not None and media.first_rx is not None and rec.answered is not None
    assert rec.early_media > 0 and media.first_rx < rec.answered
    # the re-INVITE answered 200 with our SDP (our port, unchanged), the media followed
    assert reinvite.changes[0].text == (f"media moved {LOOP}:{mp} → {LOOP}:{mp + 2}")
    ours = next(m for m in sent if m.status == 200 and (m.cseq or (0, ""))[1] == "INVITE")
    offered = re.search(rb"m=audio ([0-9]+) ", invite.body)
    assert offered is not None
    assert b"m=audio " + offered.group(1) + b" RTP/AVP 8 101" in ours.body
    assert rec.remote_media == (LOOP, mp + 2)
    # ~6 s of our RTP went to the new port: 300 packets, their echo comes back from there
    assert media.rx_from.get((LOOP, mp + 2), 0) >= 100, media.rx_from
    # the UPDATE refreshed the session; the test line stays the refresher
    assert update.changes[0].code == "EV_TIMER_PEER"
    assert update.changes[0].params["interval"] == 90


def test_answering_a_caller_that_reinvites_with_and_without_sdp_and_lets_us_refresh(
        tmp_path: Path) -> None:
    assert shutil.which("sipp"), "sipp (Debian package sip-tester) is required"

    async def scenario() -> tuple[CallRecord, int, int, str]:
        ep = await SipEndpoint.open(LOOP, 0)
        ua = UserAgent(ep, Identity("trunk01", "trunk01", "unused", "lab.invalid", (LOOP, 9)))
        ua.min_se = 6  # the caller asks for 6 s, to see our refresh within the test
        mp = _free_media_pair()
        sipp = await asyncio.create_subprocess_exec(
            *_sipp(f"{LOOP}:{ep.local[1]}", "-sf", str(CALLER), "-s", "0145670123",
                   "-p", str(_free_udp_port()), "-mp", str(mp)),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
        try:
            rec = await ua.answer(media_ip=LOOP, timeout=15.0, duration=20.0, hangup=False)
        finally:
            rc, err = await _finish(sipp)
            ep.close()
        return rec, mp, rc, err

    rec, mp, rc, err = asyncio.run(scenario())
    assert rc == 0, f"SIPp saw a wrong answer (exit {rc}): {err[-1500:]}"
    assert (rec.status, rec.symptom, rec.ended_by) == (200, None, "remote")
    assert [(e.method, e.incoming, e.status, [c.code for c in e.changes])
            for e in rec.events] == [
        ("re-INVITE", True, 200, ["EV_MEDIA_MOVED", "EV_TIMER_US"]),
        ("re-INVITE", True, 200, ["EV_OFFER_IN_200", "EV_TIMER_US"]),
        ("ACK", True, None, ["EV_MEDIA_MOVED"]),
        ("UPDATE", False, 200, ["EV_TIMER_US"]),
        ("BYE", True, 200, []),
    ]
    moved, offerless, ack, update, _ = rec.events
    assert moved.changes[0].text == f"media moved {LOOP}:{mp} → {LOOP}:{mp + 2}"
    assert ack.changes[0].text == f"media moved {LOOP}:{mp + 2} → {LOOP}:{mp}"
    # we refreshed at half the 6 s interval after its last refresh (its offerless re-INVITE)
    assert 2.5 < update.at - offerless.at < 9.0, update.at - offerless.at
    media = rec.media
    assert media is not None
    assert media.rx_from.get((LOOP, mp + 2), 0) > 10, media.rx_from  # ~1 s there
    assert rec.remote_media == (LOOP, mp)


def test_the_test_line_answers_a_proxied_invite_with_its_vias_and_route(
        tmp_path: Path) -> None:
    """Behind Kamailio the INVITE has two Via and a Record-Route, and a PRACK comes between
    it and the 200 OK: the 200 must still carry both Via and the Record-Route of the INVITE,
    and the test line's re-INVITE must follow the route to the caller's Contact. A socket
    of ours plays the proxy, which is all SIPp sees of one."""
    assert shutil.which("sipp"), "sipp (Debian package sip-tester) is required"
    sip_port, mp = _free_udp_port(), _free_media_pair()
    proxy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    proxy.bind((LOOP, 0))
    proxy.settimeout(10)
    me = f"{LOOP}:{proxy.getsockname()[1]}"
    sipp = subprocess.Popen(_sipp("-sf", str(TEST_LINE), "-p", str(sip_port), "-mp", str(mp)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        asyncio.run(_bound(sip_port))
        body = (f"v=0\r\no=- 1 1 IN IP4 {LOOP}\r\ns=-\r\nc=IN IP4 {LOOP}\r\nt=0 0\r\n"
                "m=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
        head = ("Max-Forwards: 69\r\nFrom: <sip:trunk01@lab.invalid>;tag=ua1\r\n"
                "Call-ID: proxied-1@192.0.2.10\r\n")
        proxy.sendto((
            f"INVITE sip:3000@{LOOP}:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {me};branch=z9hG4bKproxy1\r\n"
            "Via: SIP/2.0/UDP 192.0.2.10:5060;received=192.0.2.10;rport=5060;branch=z9hG4bKua1\r\n"
            f"Record-Route: <sip:{me};lr>\r\n{head}To: <sip:3000@lab.invalid>\r\n"
            "CSeq: 7 INVITE\r\nContact: <sip:trunk01@192.0.2.10:5060>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode(), (LOOP, sip_port))

        def until(first: str, cseq: str) -> SipMessage:
            while True:
                m = parse(proxy.recv(65535))
                if m.first_line.startswith(first) and m.get("CSeq") == cseq:
                    return m

        progress = until("SIP/2.0 183", "7 INVITE")
        to = progress.get("To") or ""
        proxy.sendto((
            f"PRACK sip:3000@{LOOP}:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {me};branch=z9hG4bKproxy2\r\n{head}To: {to}\r\n"
            "CSeq: 8 PRACK\r\nRAck: 1 7 INVITE\r\nContent-Length: 0\r\n\r\n").encode(),
            (LOOP, sip_port))
        ok = until("SIP/2.0 200", "7 INVITE")
        proxy.sendto((
            "ACK sip:3000@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {me};branch=z9hG4bKproxy3\r\n{head}To: {to}\r\n"
            "CSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n").encode(), (LOOP, sip_port))
        reinvite = parse(proxy.recv(65535))
        while reinvite.method != "INVITE":
            reinvite = parse(proxy.recv(65535))
    finally:
        sipp.kill()
        sipp.wait()
        proxy.close()
    assert ok.get_all("Via") == [
        f"SIP/2.0/UDP {me};branch=z9hG4bKproxy1",
        "SIP/2.0/UDP 192.0.2.10:5060;received=192.0.2.10;rport=5060;branch=z9hG4bKua1"]
    assert ok.get_all("Record-Route") == [f"<sip:{me};lr>"]
    assert ok.get("To") == to and ok.get("Session-Expires") == "90;refresher=uas"
    assert reinvite.first_line == "INVITE sip:trunk01@192.0.2.10:5060 SIP/2.0"
    assert reinvite.get("Route") == f"<sip:{me};lr>"
    assert reinvite.get("To") == "<sip:trunk01@lab.invalid>;tag=ua1"
    assert f"m=audio {mp + 2} ".encode() in reinvite.body
