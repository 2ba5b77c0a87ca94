"""The probe's ``/sip-moves`` (harness/probe/sipmoves.py, harness/probe/server.py) on loopback,
and the agent's reader (sip_checks/probes/sip_moves.py).

The site is a UDP socket answering with the bytes an Asterisk/FreePBX box sends to a scanner
(OPTIONS 200 naming itself, 401 for extensions and 404 for unknown users, an international
INVITE answered 100/183/200); it records what the probe sent, so the test sees the call ended
(ACK then BYE) and no media. The route plays only against the requester, refuses a number that
is not international or could connect, too many users or ports, and any field it does not
know; the answer's attestation covers the results it comes with, and the reader refuses a
forged one."""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.attest import Signer, generate, verify
from harness.errors import CheckError
from harness.probe import sipmoves
from harness.probe.client import ProbeClient
from harness.probe.server import ProbeConfig, ProbeServer
from sip_checks import sip_from_outside as judge
from sip_checks.probes import sip_moves as reader

KEY = secrets.token_urlsafe(32)
LO = "127.0.0.1"
PRODUCT = "FPBX-16.0.40.7(18.20.0)"
EXTENSIONS = {str(n) for n in range(100, 110)}


def _header(text: str, name: str) -> str:
    m = re.search(rf"(?im)^{name}\s*:\s*(.*?)\r$", text)
    return m.group(1) if m else ""


def _reply(req: str, status: str, extra: str = "", body: str = "") -> bytes:
    heads = "".join(f"{h}: {_header(req, h)}\r\n" for h in ("Via", "From", "Call-ID", "CSeq"))
    to = _header(req, "To")
    if "tag=" not in to:
        to += ";tag=pbx1"
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    return (f"SIP/2.0 {status}\r\n{heads}To: {to}\r\nServer: {PRODUCT}\r\n{extra}{ctype}"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def freepbx(req: str) -> list[bytes]:
    """What an open FreePBX answers (the shapes of tests/lab's weak IPBX)."""
    method, uri = req.split(" ", 2)[:2]
    user = uri.split(":", 1)[1].split("@", 1)[0]
    to_user = _header(req, "To").split("sip:", 1)[1].split("@", 1)[0]
    if method == "OPTIONS":
        return [_reply(req, "200 OK", "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n")]
    if method == "REGISTER":
        if to_user in EXTENSIONS:
            return [_reply(req, "401 Unauthorized",
                           'WWW-Authenticate: Digest realm="asterisk", nonce="1"\r\n')]
        return [_reply(req, "404 Not Found")]
    if method == "INVITE" and user.startswith(("+", "00")):
        sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        return [_reply(req, "100 Trying"), _reply(req, "183 Session Progress"),
                _reply(req, "200 OK", body=sdp)]
    if method == "BYE":
        return [_reply(req, "200 OK")]
    return []


@pytest.fixture
def site() -> Iterator[tuple[int, list[str]]]:
    """A UDP SIP site on loopback answering as :func:`freepbx`; what it received."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LO, 0))
    sock.settimeout(0.1)
    got: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            text = data.decode(errors="replace")
            got.append(text)
            for out in freepbx(text):
                sock.sendto(out, peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield sock.getsockname()[1], got
    finally:
        stop.set()
        t.join()
        sock.close()


@pytest.fixture
def probe(tmp_path: Path) -> Iterator[ProbeServer]:
    private, _ = generate()
    srv = ProbeServer(ProbeConfig(control=(LO, 0), send_from=None, key=KEY.encode(),
                                  sip_listen=False, log=tmp_path / "probe.jsonl",
                                  signing_key=Signer.from_text(private)))
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _client(srv: ProbeServer) -> ProbeClient:
    return ProbeClient(LO, srv.server_address[1], KEY.encode(), vantage="outsider")


def _closed_tcp() -> int:
    with socket.socket() as s:
        s.bind((LO, 0))
        return int(s.getsockname()[1])


def test_the_moves_against_an_open_freepbx_are_attested_and_the_call_is_ended(
        probe: ProbeServer, site: tuple[int, list[str]]) -> None:
    port, received = site
    asked: list[tuple[str, str]] = []
    plain = probe.run_sip_moves

    def watched(source: str, target: str, req: sipmoves.Request) -> Any:
        asked.append((source, target))
        return plain(source, target, req)

    probe.run_sip_moves = watched  # type: ignore[method-assign]
    closed = _closed_tcp()
    ports = [(port, "udp"), (closed, "tcp")]
    users = ["trunk01", "100", "105"]
    moves = reader.play(_client(probe), ports, users, judge.NUMBER, site="12345678901234")
    assert asked == [(LO, LO)] and moves.to == LO
    assert len(moves.made_up) == 3 and all(re.fullmatch(r"[1-9]\d{8}", u)
                                           for u in moves.made_up)
    udp = [m for m in moves.moves if m.transport == "udp"]
    assert next(m for m in udp if m.move == "options").codes == (200,)
    invite = next(m for m in udp if m.move == "invite")
    assert invite.codes == (100, 183, 200) and invite.ended == "ack+bye"
    assert invite.ended_with == (200,)
    # The site saw the call ended: the ACK, then the BYE, to the INVITE's own destination;
    # the SDP offered the discard port.
    methods = [r.split(" ", 1)[0] for r in received if judge.NUMBER in r.split("\r\n", 1)[0]]
    assert methods[0] == "INVITE" and methods[-2:] == ["ACK", "BYE"]
    assert "m=audio 9 RTP/AVP" in next(r for r in received if r.startswith("INVITE"))
    assert {m.state for m in moves.moves if m.transport == "tcp"} == {"closed"}

    findings = judge.judge(moves)
    kinds = {(f.where, f.move) for f in findings}
    assert kinds == {(f"{port}/UDP", "options"), (f"{port}/UDP", "invite"),
                     (f"{port}/UDP", "enumeration")}
    assert judge.enumerated(findings) == ["100", "105"]  # trunk01 answered as the made-up did
    assert all(f.fails for f in findings)
    assert next(f for f in findings if f.move == "invite").reason.code == \
        "SIPOUT_INVITE_ACCEPTED"

    assert moves.attestation is not None
    pub = probe.cfg.signing_key.public if probe.cfg.signing_key else ""
    doc = verify(moves.attestation, {moves.attestation["key"]: pub})
    assert doc["kind"] == "sip-moves" and doc["target"] == LO
    assert doc["number"] == judge.NUMBER and doc["users"] == users
    assert doc["moves"][0].startswith(f"{port}/udp options 200; invite 100,183,200 ack+bye")
    log = (probe.cfg.log if isinstance(probe.cfg.log, Path) else Path()).read_text()
    assert '"event": "sip-moves"' in log


def test_the_agent_refuses_an_answer_its_attestation_does_not_cover(
        probe: ProbeServer, site: tuple[int, list[str]]) -> None:
    port, _ = site
    ports, users = [(port, "udp")], ["100"]
    ans = _client(probe).post("/sip-moves", reader.request(ports, users, judge.NUMBER, None))
    assert reader.read(ans, ports, users, judge.NUMBER).moves
    forged = json.loads(json.dumps(ans))
    for r in forged["results"]:
        r["answers"], r["state"] = [], "silent"  # a site agent hiding what was found
    with pytest.raises(CheckError) as err:
        reader.read(forged, ports, users, judge.NUMBER)
    assert err.value.message.code == "SIPOUT_ATTESTATION" and "digest" in str(err.value)
    other = json.loads(json.dumps(ans))
    other["to"] = "203.0.113.9"
    with pytest.raises(CheckError, match=r"not 203\.0\.113\.9"):
        reader.read(other, ports, users, judge.NUMBER)
    with pytest.raises(CheckError, match="another number"):
        reader.read(ans, ports, users, "+28911111111")
    with pytest.raises(CheckError) as err:
        reader.read(ans, [(port, "udp"), (5060, "tcp")], users, judge.NUMBER)
    assert err.value.message.code == "SIPOUT_BAD_ANSWER"


GOOD = {"ports": [[5060, "udp"]], "users": ["100"], "number": "+28900000000"}


@pytest.mark.parametrize(("change", "status", "said"), [
    ({"target": "198.51.100.7"}, 403, "only sends to the requester"),
    ({"host": "198.51.100.7"}, 400, "unknown field 'host'"),
    ({"number": "0033123456789"}, 400, "connects nowhere"),  # France: it would ring
    ({"number": "+442079460000"}, 400, "connects nowhere"),
    ({"number": "3000"}, 400, "must be international"),
    ({"number": "+2891234"}, 400, "must be international"),  # 7 digits
    ({"number": "+88212345678901234"}, 400, "must be international"),  # 17 digits
    ({"number": "sip:+28900000000@198.51.100.7"}, 400, "must be international"),
    ({"users": [str(n) for n in range(17)]}, 400, "1 to 16 user names"),
    ({"users": ["100@198.51.100.7"]}, 400, "user names"),
    ({"users": []}, 400, "1 to 16 user names"),
    ({"ports": [[p, "udp"] for p in range(5060, 5067)]}, 400, "1 to 6"),
    ({"ports": [[5061, "tls"]]}, 400, "\"udp\"|\"tcp\""),
    ({"timeout_s": 30}, 400, "timeout_s must be"),
    ({"deadline_s": 600}, 400, "deadline_s must be"),
])
def test_requests_that_could_reach_further_are_refused(
        probe: ProbeServer, change: dict[str, Any], status: int, said: str) -> None:
    played: list[str] = []
    probe.run_sip_moves = lambda source, target, req: (  # type: ignore[method-assign]
        played.append(target) or {})
    with pytest.raises(CheckError) as err:
        _client(probe).post("/sip-moves", {**GOOD, **change})
    assert err.value.message.params["status"] == status
    assert said in str(err.value.message.params["detail"])
    assert played == []


@pytest.mark.parametrize("number", ["+28900000000", "0028912345678", "+88299123456",
                                    "0088399123456789"])
def test_numbers_of_ranges_that_connect_nowhere_are_accepted(number: str) -> None:
    assert sipmoves.international(number) == number


def test_made_up_users_are_nine_digits_and_never_a_named_one() -> None:
    made = sipmoves.made_up_users(16, ["100"])
    assert len(set(made)) == 16 and all(re.fullmatch(r"[1-9]\d{8}", u) for u in made)
