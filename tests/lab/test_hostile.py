"""A hostile or broken SIP server: the harness reports ``error`` with a reason, never crashes,
never hangs. Responses modelled on RFC 4475's torture tests, plus truncated, oversized and
binary datagrams, sent by a fake server in the lab's operator namespace."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from harness import lab as labmod
from harness import netns
from harness.errors import CheckError
from harness.lab import Lab
from harness.messages import Msg
from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.message import SipMessage, parse
from sip_checks.toolkit.ua import Identity, Registration, UserAgent
from tests.lab.labrun import in_namespace, run

FAKE_PORT = 5070
Reply = Callable[[SipMessage], list[bytes]]


def _echo_headers(req: SipMessage, status: str, extra: str = "", *, body: bytes = b"",
                  clen: str | None = None) -> bytes:
    keep = "".join(f"{k}: {v}\r\n" for k, v in req.headers
                   if k.lower() in ("via", "from", "to", "call-id", "cseq"))
    length = clen if clen is not None else str(len(body))
    return f"SIP/2.0 {status}\r\n{keep}{extra}Content-Length: {length}\r\n\r\n".encode() + body


# Each case: the reply, the code of the CheckError's message, and a fragment of its detail:
# for NO_RESPONSE the note on the unusable messages the server sent (None: nothing required;
# "": that unusable messages were reported), for CHALLENGE_UNANSWERABLE the digest error.
CASES: dict[str, tuple[Reply, str, str | None]] = {
    "truncated-no-blank-line": (
        lambda r: [_echo_headers(r, "200 OK").split(b"\r\n\r\n")[0]],
        "NO_RESPONSE", "truncated message: no blank line"),
    "body-shorter-than-content-length": (
        lambda r: [_echo_headers(r, "200 OK", clen="5000", body=b"v=0\r\n")],
        "NO_RESPONSE", "truncated body: Content-Length 5000"),
    "negative-content-length (RFC 4475 3.1.2.8)": (
        lambda r: [_echo_headers(r, "200 OK", clen="-999")],
        "NO_RESPONSE", "Content-Length is not a number"),
    "cseq-overflow (RFC 4475 3.1.2.4 scalar02)": (
        lambda r: [_echo_headers(r, "200 OK").replace(b"CSeq: 1 ", b"CSeq: 36893488147419103232 ")],
        "NO_RESPONSE", "malformed CSeq"),
    "missing-via": (
        lambda r: [b"\r\n".join(ln for ln in _echo_headers(r, "200 OK").split(b"\r\n")
                                if not ln.startswith(b"Via"))],
        "NO_RESPONSE", "missing mandatory header Via"),
    "bad-version (RFC 4475 3.1.2.16 badvers)": (
        lambda r: [_echo_headers(r, "200 OK").replace(b"SIP/2.0 200", b"SIP/7.0 200", 1)],
        "NO_RESPONSE", "not a SIP start line"),
    "oversized-header": (
        lambda r: [_echo_headers(r, "200 OK", "Warning: 399 x \"" + "A" * 60000 + "\"\r\n")],
        "NO_RESPONSE", "header line of 60"),
    "binary-garbage": (lambda r: [os.urandom(1200)], "NO_RESPONSE", ""),
    "not-utf8": (lambda r: [_echo_headers(r, "200 OK", "Subject: \xff\xfe\r\n")
                            .replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe")],
                 "NO_RESPONSE", "header bytes are not UTF-8"),
    "unrelated-branch": (
        lambda r: [_echo_headers(r, "200 OK").replace(b"branch=z9hG4bK", b"branch=z9hG4bKx")],
        "NO_RESPONSE", None),
    "flood-of-garbage": (lambda r: [b"\x00garbage" * 10] * 500, "NO_RESPONSE", ""),
    # Issue 12: each of these was misread or escaped as a bare ValueError (asyncio's "Exception
    # in callback", the datagram missing from the evidence); now a note on the wire.
    "unicode-digit-content-length": (
        lambda r: [_echo_headers(r, "200 OK", clen="\u00b2")],
        "NO_RESPONSE", "Content-Length is not a number"),
    "content-length-of-5000-digits": (
        lambda r: [_echo_headers(r, "200 OK", clen="9" * 5000)],
        "NO_RESPONSE", "truncated body: Content-Length 9999"),
    "unicode-digit-cseq": (
        lambda r: [_echo_headers(r, "200 OK").replace(b"CSeq: 1 ", "CSeq: \u00b9 ".encode())],
        "NO_RESPONSE", "malformed CSeq"),
    "overlarge-status (RFC 4475 3.1.2.19 bigcode)": (
        lambda r: [_echo_headers(r, "200 OK").replace(b"SIP/2.0 200 OK",
                                                      b"SIP/2.0 4294967301 OK", 1)],
        "NO_RESPONSE", "not a SIP start line"),
    "duplicate-cseq (RFC 4475 3.3.8 multi01)": (
        lambda r: [_echo_headers(r, "200 OK", "CSeq: 59 REGISTER\r\n")],
        "NO_RESPONSE", "duplicate header CSeq"),
    "two-content-lengths (RFC 4475 3.3.9 mcl01)": (
        lambda r: [_echo_headers(r, "200 OK", "Content-Length: 13\r\n")],
        "NO_RESPONSE", "different Content-Length values"),
    "401-without-nonce": (
        lambda r: [_echo_headers(r, "401 Unauthorized", 'WWW-Authenticate: Digest realm="x"\r\n')],
        "CHALLENGE_UNANSWERABLE", "challenge without realm or nonce"),
    "401-basic-only": (
        lambda r: [_echo_headers(r, "401 Unauthorized", 'WWW-Authenticate: Basic realm="x"\r\n')],
        "CHALLENGE_UNANSWERABLE", "unsupported authentication scheme 'Basic'"),
}


def _unusable_notes(m: Msg) -> list[str]:
    """The notes on the unusable messages a NO_RESPONSE message reports."""
    got = m.params.get("got")
    assert isinstance(got, list), m
    return [str(g.params["note"]) for g in got if g.code == "UNUSABLE_FROM_PEER"]


class FakeServer:
    """Answers every request on 198.51.100.10:5070 in ``op`` with ``reply(request)``."""

    def __init__(self, ns: str) -> None:
        with netns.inside(ns):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((str(labmod.OP_SERVER), FAKE_PORT))
        self.sock.settimeout(0.1)
        self.reply: Reply = lambda r: []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
                req = parse(data)
            except (TimeoutError, ValueError):
                continue
            for out in self.reply(req):
                self.sock.sendto(out, addr)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def fake(lab: Lab) -> Iterator[FakeServer]:
    server = FakeServer(lab.ns("op"))
    yield server
    server.close()


def _register_from_lan(lab: Lab, timeout: float) -> Registration:
    async def reg() -> Registration:
        ep = await SipEndpoint.open(str(labmod.VOICE_HOST), 0)
        ua = UserAgent(ep, Identity("trunk01", "trunk01", "pw", labmod.SIP_DOMAIN,
                                    (str(labmod.OP_SERVER), FAKE_PORT)), timeout=timeout)
        try:
            return await ua.register()
        finally:
            ep.close()

    return in_namespace(lab.ns("lan"), reg, timeout + 20)


@pytest.mark.lab
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_response_gives_an_error_with_a_reason(lab: Lab, fake: FakeServer,
                                                       case: str) -> None:
    fake.reply, code, fragment = CASES[case]
    with pytest.raises(CheckError) as exc:
        _register_from_lan(lab, timeout=1.0)
    said = exc.value.message
    assert said.code == code, said
    if code == "NO_RESPONSE":
        assert said.params["server"] == f"{labmod.OP_SERVER}:{FAKE_PORT}", said
        if fragment is not None:
            notes = _unusable_notes(said)
            assert notes and any(fragment in n for n in notes), said
    else:
        assert (said.params["method"], said.params["status"]) == ("REGISTER", 401), said
        assert fragment is not None and fragment in str(said.params["detail"]), said


@pytest.mark.lab
def test_torture_but_valid_response_is_understood(lab: Lab, fake: FakeServer) -> None:
    """RFC 4475 3.1.1.1-style folding, compact forms and odd case are legal: accepted."""
    def reply(r: SipMessage) -> list[bytes]:
        raw = _echo_headers(r, "200 OK", "cOnTaCt:\r\n <sip:trunk01@192.168.254.10>\r\n"
                            "  ;expires=120\r\n")
        return [raw.replace(b"Call-ID:", b"i:").replace(b"CSeq:", b"CSEQ:")]

    fake.reply = reply
    reg = _register_from_lan(lab, timeout=5.0)  # answered at once; the margin is for load
    assert reg.status == 200


@pytest.mark.lab
def test_run_against_a_garbage_server_reports_error(lab: Lab, fake: FakeServer,
                                                    tmp_path: Path) -> None:
    fake.reply = CASES["binary-garbage"][0]
    prof = tmp_path / "lab.yaml"
    lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    data["operator"]["sip_server"]["port"] = FAKE_PORT
    prof.write_text(yaml.safe_dump(data))
    proc, doc = run(prof, tmp_path / "out", "sip.register[trunk01]")
    (reg,) = doc.checks
    assert proc.returncode == 1
    assert reg.status == "error"
    (said,) = reg.reasons
    assert said.code == "NO_RESPONSE", said
    assert (said.params["server"], said.params["seconds"]) == (f"198.51.100.10:{FAKE_PORT}", 8)
    assert _unusable_notes(said), said
