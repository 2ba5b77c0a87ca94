"""Acceptance: the lab router's SIP ALG is the kernel's real one, and off means untouched."""

from __future__ import annotations

import socket

import pytest

from harness import lab as labmod
from harness import netns
from harness.lab import Lab
from harness.lab.capture import Datagram, UdpCapture
from sip_checks.toolkit.message import build_request, new_branch, new_call_id, parse


def _invite(local_port: int, call_id: str) -> bytes:
    host = str(labmod.VOICE_HOST)
    sdp = (
        "v=0\r\n"
        f"o=recette 1 1 IN IP4 {host}\r\n"
        "s=-\r\n"
        f"c=IN IP4 {host}\r\n"
        "t=0 0\r\n"
        "m=audio 16000 RTP/AVP 8 0 101\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
    ).encode()
    return build_request(
        "INVITE", f"sip:+33199000001@{labmod.OP_SERVER}",
        via_host=host, via_port=local_port,
        from_uri=f"sip:trunk01@{host}", to_uri=f"sip:+33199000001@{labmod.OP_SERVER}",
        call_id=call_id, cseq=1, branch=new_branch(),
        extra=[("Contact", f"<sip:trunk01@{host}:{local_port}>"),
               ("Content-Type", "application/sdp")],
        body=sdp,
    )


def _send_invite_and_capture(lab: Lab) -> tuple[bytes, Datagram]:
    with netns.inside(lab.ns("lan")):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sock, UdpCapture(lab.ns("op"), "eth0") as cap:
        sock.bind((str(labmod.VOICE_HOST), 0))
        call_id = new_call_id("alg-test")
        sent = _invite(sock.getsockname()[1], call_id)
        sock.sendto(sent, (str(labmod.OP_SERVER), 5060))
        got = cap.wait_for(
            lambda d: d.dst[1] == 5060 and call_id.encode() in d.payload, timeout=3.0
        )
    assert got is not None, "the INVITE never reached the operator host"
    return sent, got


@pytest.mark.lab
def test_alg_on_rewrites_via_contact_and_sdp(strict_lab: Lab) -> None:
    strict_lab.set_policy(alg=True)
    sent, got = _send_invite_and_capture(strict_lab)
    assert got.src[0] == str(labmod.RTR_WAN)
    assert got.payload != sent
    before, after = parse(sent), parse(got.payload)
    wan, lan = str(labmod.RTR_WAN), str(labmod.VOICE_HOST)
    assert lan in (before.get("Via") or "") and wan in (after.get("Via") or "")
    assert lan in (before.get("Contact") or "") and wan in (after.get("Contact") or "")
    body = after.body.decode()
    assert f"c=IN IP4 {wan}" in body and f"o=recette 1 1 IN IP4 {wan}" in body
    assert lan not in body
    assert after.get("Content-Length") == str(len(after.body))


@pytest.mark.lab
def test_alg_off_leaves_invite_byte_identical(strict_lab: Lab) -> None:
    sent, got = _send_invite_and_capture(strict_lab)
    assert got.src[0] == str(labmod.RTR_WAN)  # NAT still happened
    assert got.payload == sent
