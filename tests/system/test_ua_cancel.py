"""The UA as the called party when the caller gives up: CANCEL while ringing (RFC 3261 9.2).

SIPp is the independent caller, on loopback. The UA must answer the CANCEL with 200 and the
INVITE with 487, never with 200 OK, and report the call as cancelled rather than answered.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.ua import CallRecord, Identity, UserAgent

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "sipp" / "cancel.xml"
LOOP = "127.0.0.1"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOP, 0))
        return int(s.getsockname()[1])


def _ua(ep: SipEndpoint) -> UserAgent:
    return UserAgent(ep, Identity("trunk01", "trunk01", "unused", "lab.invalid", (LOOP, 9)))


def _sent_statuses(ep: SipEndpoint) -> list[str]:
    """First line and CSeq of every response the UA sent."""
    out = []
    for w in ep.wire:
        text = w.data.decode(errors="replace")
        if w.outgoing and text.startswith("SIP/2.0"):
            cseq = next(x for x in text.split("\r\n") if x.lower().startswith("cseq:"))
            out.append(f"{text.split(chr(13))[0][8:]} / {cseq[5:].strip()}")
    return out


def test_cancel_while_ringing_gets_487_and_the_call_is_never_answered(tmp_path: Path) -> None:
    assert shutil.which("sipp"), "sipp (Debian package sip-tester) is required"

    async def scenario() -> tuple[CallRecord, int, list[str], str]:
        ep = await SipEndpoint.open(LOOP, 0)
        ua = _ua(ep)
        sipp = await asyncio.create_subprocess_exec(
            "sipp", f"{LOOP}:{ep.local[1]}", "-sf", str(SCENARIO), "-s", "0145670123",
            "-m", "1", "-i", LOOP, "-p", str(_free_udp_port()), "-nostdin",
            "-timeout", "20", "-trace_err", stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, cwd=tmp_path)
        try:
            rec = await ua.answer(media_ip=LOOP, timeout=10.0, duration=1.0, ring_s=8.0)
            _, err = await asyncio.wait_for(sipp.communicate(), 25)
        finally:
            if sipp.returncode is None:
                sipp.kill()
            ep.close()
        return rec, sipp.returncode or 0, _sent_statuses(ep), err.decode(errors="replace")

    rec, rc, sent, err = asyncio.run(scenario())
    assert rc == 0, f"SIPp saw a wrong answer (exit {rc}): {err[-1500:]} sent={sent}"
    assert (rec.status, rec.answered) == (487, None)
    assert rec.symptom is not None and rec.symptom.code == "CANCELLED_WHILE_RINGING", rec.symptom
    assert "200 OK / 1 CANCEL" in sent and "487 Request Terminated / 1 INVITE" in sent
    assert "200 OK / 1 INVITE" not in sent, sent


def test_cancel_for_no_call_gets_481() -> None:
    async def scenario() -> bytes:
        ep = await SipEndpoint.open(LOOP, 0)
        _ua(ep)
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((LOOP, 0))
            s.setblocking(False)
            port = s.getsockname()[1]
            cancel = (f"CANCEL sip:0145670123@{LOOP}:{ep.local[1]} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {LOOP}:{port};branch=z9hG4bK-nocall\r\n"
                      f"From: <sip:a@{LOOP}>;tag=1\r\nTo: <sip:0145670123@{LOOP}>\r\n"
                      "Call-ID: no-such-call\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\n"
                      "Content-Length: 0\r\n\r\n")
            await loop.sock_sendto(s, cancel.encode(), (LOOP, ep.local[1]))
            try:
                data = await asyncio.wait_for(loop.sock_recv(s, 4096), 5)
            finally:
                ep.close()
        return data

    assert asyncio.run(scenario()).startswith(b"SIP/2.0 481 ")


def test_cancel_matches_the_invite_transaction_and_487_is_repeated_until_acked() -> None:
    """A CANCEL on another branch is not ours (481); ours gets 200, then 487, which is sent
    again until the caller ACKs it (timer G: the caller had a 1xx, it will not retransmit)."""
    async def scenario() -> tuple[CallRecord, list[bytes]]:
        ep = await SipEndpoint.open(LOOP, 0)
        ua = _ua(ep)
        loop = asyncio.get_running_loop()
        got: list[bytes] = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((LOOP, 0))
            s.setblocking(False)
            me = f"{LOOP}:{s.getsockname()[1]}"

            def request(method: str, branch: str, body: str = "", to_tag: str = "") -> bytes:
                return (f"{method} sip:0145670123@{LOOP}:{ep.local[1]} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP {me};branch={branch}\r\n"
                        f"From: <sip:0899000001@{me}>;tag=caller\r\n"
                        f"To: <sip:0145670123@{LOOP}>{to_tag}\r\nCall-ID: cancel-test\r\n"
                        f"CSeq: 1 {method}\r\nContact: <sip:0899000001@{me}>\r\n"
                        "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

            async def until(status: bytes) -> bytes:
                while True:
                    data = await asyncio.wait_for(loop.sock_recv(s, 4096), 5)
                    got.append(data)
                    if data.startswith(b"SIP/2.0 " + status):
                        return data

            sdp = (f"v=0\r\no=- 1 1 IN IP4 {LOOP}\r\ns=-\r\nc=IN IP4 {LOOP}\r\nt=0 0\r\n"
                   "m=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
            answering = asyncio.create_task(ua.answer(media_ip=LOOP, timeout=10.0, ring_s=15.0))
            dest = (LOOP, ep.local[1])
            await loop.sock_sendto(s, request("INVITE", "z9hG4bK-inv", sdp), dest)
            await until(b"180")
            await loop.sock_sendto(s, request("CANCEL", "z9hG4bK-other"), dest)
            await until(b"481")
            await loop.sock_sendto(s, request("CANCEL", "z9hG4bK-inv"), dest)
            await until(b"200")
            first = await until(b"487")
            again = await until(b"487")  # not ACKed yet: timer G sends it again
            assert again == first
            tag = next(x for x in first.decode().split("\r\n") if x.startswith("To:"))
            ack = request("ACK", "z9hG4bK-inv").replace(
                b"To: <sip:0145670123@127.0.0.1>", tag.encode())
            await loop.sock_sendto(s, ack, dest)
            rec = await asyncio.wait_for(answering, 5)
        ep.close()
        return rec, got

    rec, got = asyncio.run(scenario())
    assert (rec.status, rec.answered) == (487, None)
    assert not any(g.startswith(b"SIP/2.0 200 OK") and b"CSeq: 1 INVITE" in g for g in got)
