"""Every datagram the SIP endpoint receives reaches the evidence (sip_checks/toolkit/endpoint.py),
over a real loopback socket: parsed, refused with the parser's reason, a keep-alive, or a
parser failure contained; asyncio never logs "Exception in callback"."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from sip_checks.toolkit import endpoint as endpoint_module
from sip_checks.toolkit.endpoint import DROPPED, KEEPALIVE_NOTE, SipEndpoint

MANDATORY = (b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKep1\r\n"
             b"CSeq: 1 OPTIONS\r\nCall-ID: ep@127.0.0.1\r\n"
             b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n")
OK = b"SIP/2.0 200 OK\r\n" + MANDATORY + b"Content-Length: 0\r\n\r\n"
HOSTILE = [
    (b"SIP/2.0 200 OK\r\n" + MANDATORY + "Content-Length: \u00b2\r\n\r\n".encode(),
     "Content-Length is not a number: '\u00b2'"),
    (b"SIP/2.0 200 OK\r\n" + MANDATORY.replace(b"CSeq: 1", b"CSeq: " + b"9" * 5000)
     + b"\r\n", "malformed CSeq"),
    (b"SIP/2.0 4294967301 better not break the receiver\r\n" + MANDATORY + b"\r\n",
     "not a SIP start line"),
    (b"\x00\xff garbage", "truncated message"),
]


async def _deliver(datagrams: list[bytes], count: int) -> SipEndpoint:
    """Send ``datagrams`` to a fresh endpoint on loopback; wait (at most 10 s, delivery on
    loopback takes microseconds) until it has recorded ``count`` of them."""
    ep = await SipEndpoint.open("127.0.0.1")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for data in datagrams:
                sock.sendto(data, ep.local)
            async with asyncio.timeout(10):
                while len(ep.wire) < count:
                    await asyncio.sleep(0.005)
    finally:
        ep.close()
    return ep


def test_every_datagram_reaches_the_wire_with_a_note(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    sent = [OK, *(data for data, _ in HOSTILE), b"\r\n\r\n"]
    ep = asyncio.run(_deliver(sent, len(sent)))
    assert [w.data for w in ep.wire] == sent
    assert not any(w.outgoing for w in ep.wire)
    assert ep.wire[0].note == ""
    for record, (_, reason) in zip(ep.wire[1:], HOSTILE, strict=False):
        assert record.note.startswith(DROPPED + reason), record.note
    assert ep.wire[-1].note == KEEPALIVE_NOTE
    assert "Exception in callback" not in caplog.text


def test_a_parser_failure_is_contained_and_recorded(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Defence in depth: should the parser ever raise something undeclared, the endpoint still
    keeps the datagram, with the exception named in the note, and the loop carries on."""
    caplog.set_level(logging.ERROR, logger="asyncio")

    def broken(data: bytes) -> None:
        raise ZeroDivisionError("parser bug")

    monkeypatch.setattr(endpoint_module, "parse", broken)
    ep = asyncio.run(_deliver([OK, OK], 2))
    assert [w.note for w in ep.wire] == [f"{DROPPED}parser failure ZeroDivisionError: "
                                         "parser bug"] * 2
    assert "Exception in callback" not in caplog.text
