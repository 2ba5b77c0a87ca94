"""The public address and port a SIP server says it saw (top Via received/rport), from
well-formed, odd and hostile responses: anything unusable is "not said", with a reason."""

from __future__ import annotations

import pytest

from sip_checks.toolkit.message import SipMessage, parse
from sip_checks.toolkit.via import via_seen


# -- Via received/rport ----------------------------------------------------------------------
def _response(*vias: str) -> SipMessage:
    head = "".join(f"Via: {v}\r\n" for v in vias)
    return parse((f"SIP/2.0 200 OK\r\n{head}From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n"
                  "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())


VIAS: dict[str, tuple[str, str | None, int | None, str]] = {
    "received and rport": (
        "SIP/2.0/UDP 192.168.254.10:40000;branch=z9hG4bKa;rport=40001;received=192.0.2.2",
        "192.0.2.2", 40001, ""),
    "rport first, spaces around the equals, upper case": (
        "SIP/2.0/UDP 10.0.0.1:5060 ; RPORT = 1234 ; Received = 192.0.2.2 ;branch=z9hG4bKb",
        "192.0.2.2", 1234, ""),
    "rport without a value (the server ignores RFC 3581)": (
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKc;rport;received=192.0.2.2",
        "192.0.2.2", None, "rport without a value"),
    "received only": (
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKd;received=192.0.2.2",
        "192.0.2.2", None, "no rport parameter"),
    "rport only (no NAT on the address)": (
        "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKe;rport=5060", None, 5060, ""),
    "nothing of ours": ("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKf", None, None,
                        "no rport parameter"),
    "rport is a word": ("SIP/2.0/UDP h;branch=z9hG4bKg;rport=abc;received=1.2.3.4",
                        "1.2.3.4", None, "not a port number"),
    "rport zero": ("SIP/2.0/UDP h;branch=z9hG4bKh;rport=0", None, None, "not a port number"),
    "rport beyond 65535": ("SIP/2.0/UDP h;branch=z9hG4bKi;rport=70000", None, None,
                           "not a port number"),
    "rport of a thousand digits": ("SIP/2.0/UDP h;branch=z9hG4bKj;rport=" + "9" * 1000, None,
                                   None, "not a port number"),
    "rport in Arabic-Indic digits": ("SIP/2.0/UDP h;branch=z9hG4bKk;rport=\u0663\u0664",
                                     None, None, "not a port number"),
    "rport negative": ("SIP/2.0/UDP h;branch=z9hG4bKl;rport=-5", None, None,
                       "not a port number"),
    "rport twice, two values": ("SIP/2.0/UDP h;branch=z9hG4bKm;rport=1;rport=2", None, None,
                                "rport given 2 times"),
    "rport twice, same value": ("SIP/2.0/UDP h;branch=z9hG4bKn;rport=7;rport=7", None, 7, ""),
    "received is not an address": ("SIP/2.0/UDP h;branch=z9hG4bKo;received=evil;rport=9",
                                   None, 9, "received is not an IP address"),
    "received IPv6": ("SIP/2.0/UDP h;branch=z9hG4bKp;received=2001:db8::1;rport=9",
                      "2001:db8::1", 9, ""),
    "not a SIP Via": ("garbage;rport=5;received=1.2.3.4", None, None, "not a SIP Via"),
    "two via-parms in one header: the first counts": (
        "SIP/2.0/UDP a;branch=z9hG4bKq;rport=11, SIP/2.0/UDP b;branch=z9hG4bKr;rport=22",
        None, 11, ""),
}


@pytest.mark.parametrize("case", sorted(VIAS))
def test_via_received_and_rport(case: str) -> None:
    via, received, rport, note = VIAS[case]
    seen = via_seen(_response(via))
    assert (seen.received, seen.rport) == (received, rport)
    assert note in seen.note if note else seen.note == ""


def test_only_the_top_via_counts() -> None:
    seen = via_seen(_response("SIP/2.0/UDP a;branch=z9hG4bKs",
                              "SIP/2.0/UDP b;branch=z9hG4bKt;rport=33;received=1.2.3.4"))
    assert (seen.received, seen.rport) == (None, None)


def test_compact_via_and_a_message_without_via() -> None:
    compact = parse(b"SIP/2.0 401 Unauthorized\r\nv: SIP/2.0/UDP h;branch=z9hG4bKu;rport=44\r\n"
                    b"f: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\ni: x\r\nCSeq: 1 REGISTER\r\n\r\n")
    assert via_seen(compact).rport == 44
    assert via_seen(SipMessage("SIP/2.0 200 OK")).note == "no Via header"
