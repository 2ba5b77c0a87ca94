"""The lenient second reading (sip_checks/analyse/lenient.py) and the strict-then-lenient
choice (sip_checks/analyse/fields.py): every RFC 4475 torture message gives a message or a
one-line refusal, never another exception; what the strict parser refuses is kept with its
reason; a Content-Length that disagrees with a datagram's body is reported, harmless
trailing octets are not."""

from __future__ import annotations

import pytest

from sip_checks.analyse.fields import read_message
from sip_checks.analyse.lenient import LenientRefusal, find_start, first_line, is_start, read
from sip_checks.toolkit.message import SipParseError, parse
from tests.rfc4475 import TORTURE, needs_corpus

HEAD = ("INVITE sip:0899@198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK1"
        "\r\nFrom: <sip:0100@x>;tag=a\r\nTo: <sip:0899@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n")
SDP = b"v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n" \
      b"m=audio 16000 RTP/AVP 8\r\n"


def _invite(length: int, body: bytes = SDP) -> bytes:
    return f"{HEAD}Content-Length: {length}\r\n\r\n".encode() + body


@needs_corpus
@pytest.mark.parametrize("name", sorted(p.name for p in TORTURE.glob("*.dat")) if
                         TORTURE.is_dir() else [])
def test_torture_messages_are_read_or_refused_in_one_line(name: str) -> None:
    data = (TORTURE / name).read_bytes()
    try:
        got = read_message(data, datagram=True)
    except LenientRefusal as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert got.message.method or got.message.status
    try:
        parse(data)
    except SipParseError as exc:
        assert got.lenient == str(exc)  # refused strictly: kept with the strict reason


@needs_corpus
@pytest.mark.parametrize(("name", "first"), [
    ("lwsstart.dat", "INVITE sip:user@example.com SIP/2.0"),
    ("ltgtruri.dat", "INVITE sip:user@example.com SIP/2.0"),
    ("multi01.dat", None), ("clerr.dat", None), ("insuf.dat", None)])
def test_what_a_liberal_element_may_accept_is_read(name: str, first: str | None) -> None:
    got = read_message((TORTURE / name).read_bytes(), datagram=True)
    assert got.lenient  # the strict parser refused it
    if first is not None:
        assert got.message.first_line == first and got.message.method == "INVITE"


@needs_corpus
def test_an_overlarge_status_code_is_refused() -> None:
    with pytest.raises(LenientRefusal, match="status code 4294967301 is not 100 to 699"):
        read_message((TORTURE / "bigcode.dat").read_bytes(), datagram=True)


@needs_corpus
def test_trailing_octets_of_a_datagram_are_no_length_finding() -> None:
    got = read_message((TORTURE / "dblreq.dat").read_bytes(), datagram=True)
    assert got.length is None and got.message.method == "REGISTER" and got.message.body == b""


def test_a_body_shrunk_by_an_alg_is_read_whole_and_reported() -> None:
    got = read_message(_invite(len(SDP) + 10), datagram=True)
    assert got.length == (len(SDP) + 10, len(SDP))
    assert "truncated body" in got.lenient and got.message.body == SDP
    assert got.message.cseq == (1, "INVITE")


def test_a_body_grown_by_an_alg_is_read_whole_not_cut_to_the_length() -> None:
    got = read_message(_invite(len(SDP) - 6), datagram=True)
    assert got.length == (len(SDP) - 6, len(SDP)) and got.message.body == SDP


@pytest.mark.parametrize("extra", [b"\r\n", b"\0\0\0\0", _invite(0, b"")])
def test_blank_or_another_message_after_the_body_is_no_finding(extra: bytes) -> None:
    got = read_message(_invite(len(SDP), SDP + extra), datagram=True)
    assert got.length is None and got.lenient == "" and got.message.body == SDP


def test_a_good_message_is_the_strict_reading() -> None:
    got = read_message(_invite(len(SDP)), datagram=True)
    assert (got.lenient, got.length) == ("", None)


@pytest.mark.parametrize(("line", "want"), [
    ("SIP/2.0  200   OK ", "SIP/2.0 200 OK"), ("sip/2.0 180", "SIP/2.0 180"),
    ("BYE  sip:a@b ; lr  SIP/2.0", "BYE sip:a@b;lr SIP/2.0")])
def test_first_lines_are_normalised(line: str, want: str) -> None:
    assert first_line(line) == want


@pytest.mark.parametrize("line", ["GET / HTTP/1.1", "SIP/2.0 099 x", "INVITE <> SIP/2.0"])
def test_what_is_no_start_line_is_refused(line: str) -> None:
    with pytest.raises(LenientRefusal):
        first_line(line)


def test_headers_without_a_colon_are_skipped_and_no_blank_line_is_no_error() -> None:
    m = read(b"OPTIONS sip:a@b SIP/2.0\r\nbroken line\r\nCall-ID: x\r\n", datagram=True)
    assert m.headers == [("Call-ID", "x")] and m.body == b""


def test_detection_wants_a_sip_start_line_not_another_text_protocol() -> None:
    assert is_start(b"SIP/2.0 200 OK\r\n") and is_start(b"OPTIONS sip:a@b SIP/2.0\r\n")
    assert not is_start(b"GET /index.html HTTP/1.1\r\n") and not is_start(b"SIP/2.0 200 OK")
    sipfrag = b"NOTIFY sip:a@b SIP/2.0\r\nCSeq: 2 NOTIFY\r\n\r\nSIP/2.0 200 OK\r\n"
    assert find_start(sipfrag, 10) == sipfrag.index(b"SIP/2.0 200")
    assert find_start(sipfrag, 10, whole=True) == -1  # a sipfrag body is no next message
