"""The probe's ``/scan`` (harness/probe/scan.py, harness/probe/server.py) on loopback.

What answers is identified from real servers' bytes: Python's http.server (plain and behind
TLS with a certificate of ``recette probe cert``), and UDP/TCP sockets that answer with the
bytes a TFTP server, an Asterisk IAX2 peer and a telnet daemon send. The route scans only the
requester: no field names another address, a field it does not know is refused, and the
address the scan is given is the one the request came from. The answer's attestation signs
the results it comes with; the agent's reader (sip_checks/probes/exposure.py) refuses one
that was altered."""

from __future__ import annotations

import contextlib
import http.server
import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from harness.attest import Signer, generate, verify
from harness.errors import CheckError
from harness.probe import cert, scan
from harness.probe.client import ProbeClient, RateLimited
from harness.probe.server import ProbeConfig, ProbeServer
from sip_checks.probes import exposure as probe_exposure

KEY = secrets.token_urlsafe(32)
LO = "127.0.0.1"
PROVISIONING = (b"# phone provisioning\nsip.server = 198.51.100.10\n"
                b"account.1.user_name = 0100000001\naccount.1.password = Xq9-s3cret\n"
                b"<reg reg.1.auth.password=\"Xq9-s3cret\" reg.1.address=\"0100000001\"/>\n")


def _free(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LO, 0))
        return int(s.getsockname()[1])


class _Page(http.server.BaseHTTPRequestHandler):
    """An IPBX's login page, and a provisioning file at /cfg."""

    server_version = "Apache/2.4.57"
    sys_version = ""

    def do_GET(self) -> None:
        body = (PROVISIONING if self.path == "/cfg" else
                b"<html><head><title>FreePBX Administration</title></head><body>login"
                b"<input type=password name=password></body></html>\n"
                + PROVISIONING)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """The page in clear and behind TLS (a certificate made as the probe makes its own)."""
    plain = http.server.ThreadingHTTPServer((LO, 0), _Page)
    tls = http.server.ThreadingHTTPServer((LO, 0), _Page)
    files = cert.write(IPv4Address(LO), tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files.cert, files.key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for srv in (plain, tls):
        threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield plain.server_address[1], tls.server_address[1]
    finally:
        for srv in (plain, tls):
            srv.shutdown()
            srv.server_close()


def _udp_answering(reply: Any) -> tuple[int, threading.Event, list[bytes]]:
    """A UDP socket that answers each datagram with ``reply(data)`` from a port of its own
    when ``reply`` returns (bytes, True) (as TFTP does: a new TID), else from itself."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LO, 0))
    s.settimeout(0.1)
    stop, got = threading.Event(), []

    def run() -> None:
        with s:
            while not stop.is_set():
                try:
                    data, peer = s.recvfrom(2048)
                except TimeoutError:
                    continue
                got.append(data)
                answer, new_tid = reply(data)
                if new_tid:
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as t:
                        t.bind((LO, 0))
                        t.sendto(answer, peer)
                        if answer[:2] == b"\x00\x03":  # a DATA block: the probe aborts it
                            t.settimeout(3.0)  # (late on a loaded machine)
                            with contextlib.suppress(TimeoutError):  # on the TID
                                got.append(t.recvfrom(2048)[0])
                else:
                    s.sendto(answer, peer)

    threading.Thread(target=run, daemon=True).start()
    return int(s.getsockname()[1]), stop, got


def _tftp(data: bytes) -> tuple[bytes, bool]:
    name = data[2:].split(b"\0", 1)[0]
    if data[:2] == b"\x00\x01" and name == b"000000000000.cfg":
        return b"\x00\x03\x00\x01" + PROVISIONING, True
    return b"\x00\x05\x00\x01File not found\x00", True


def _iax2(data: bytes) -> tuple[bytes, bool]:
    # Asterisk's PONG to a POKE: full frame, its call number, ours, type 6 subclass 3.
    assert data[10:12] == b"\x06\x1e"
    return b"\x80\x05\x00\x01" + b"\x00\x00\x00\x03" + b"\x00\x01" + b"\x06\x03", False


def test_identifies_web_tftp_iax2_telnet_and_closed_ports(web: tuple[int, int]) -> None:
    http_port, https_port = web
    tftp, stop_tftp, tftp_got = _udp_answering(_tftp)
    iax, stop_iax, _ = _udp_answering(_iax2)
    telnet = socket.socket()
    telnet.bind((LO, 0))
    telnet.listen()

    def telnetd() -> None:  # what inetutils telnetd sends first: IAC DO TTYPE, ...
        c, _ = telnet.accept()
        with c:
            c.sendall(b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27")

    threading.Thread(target=telnetd, daemon=True).start()
    closed_tcp, closed_udp = _free(socket.SOCK_STREAM), _free(socket.SOCK_DGRAM)
    try:
        results, took = scan.scan(LO, LO, [
            (http_port, "tcp", "http"), (https_port, "tcp", "https"), (tftp, "udp", "tftp"),
            (iax, "udp", "iax2"), (telnet.getsockname()[1], "tcp", "banner"),
            (closed_tcp, "tcp", "banner"), (closed_udp, "udp", "sip")],
            timeout=1.0, deadline=5.0, tftp_files=["SEPDefault.cnf.xml", "000000000000.cfg"])
    finally:
        stop_tftp.set()
        stop_iax.set()
        telnet.close()
    page, tls, tf, ax, tn, ctcp, cudp = results
    assert took < 5.0
    assert (page["state"], page["protocol"], page["summary"]) == ("open", "http",
                                                                  "HTTP/1.0 200 OK")
    assert page["server"] == "Apache/2.4.57" and page["title"] == "FreePBX Administration"
    assert (tls["tls"], tls["protocol"], tls["tls_subject"]) == (True, "http", "CN=127.0.0.1")
    assert tls["title"] == "FreePBX Administration"
    # TFTP: the served file beats the other name's error; its password lines never leave.
    assert (tf["state"], tf["protocol"]) == ("open", "tftp")
    assert tf["summary"].startswith("TFTP DATA block 1") and "000000000000.cfg" in tf["summary"]
    assert tf["redacted"] == 2 and "Xq9-s3cret" not in json.dumps(results)
    assert "account.1.password [redacted]" in tf["answer"]
    assert "account.1.user_name = 0100000001" in tf["answer"]  # the rest stays as evidence
    # The transfer was ended: the probe's abort reaches the server's thread, which records it
    # on its own time (a loaded machine may run it after the scan returned: wait for it).
    deadline = time.monotonic() + 5.0
    while not any(d.startswith(b"\x00\x05") for d in tftp_got) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(d.startswith(b"\x00\x05") for d in tftp_got)
    assert (ax["state"], ax["protocol"], ax["summary"]) == ("open", "iax2", "IAX2 PONG")
    assert (tn["state"], tn["protocol"]) == ("open", "telnet")
    assert tn["summary"] == "telnet negotiation" and tn["answer"].startswith("\\xff\\xfd")
    assert (ctcp["state"], cudp["state"]) == ("closed", "closed")
    assert all(r["complete"] for r in results)
    assert all(len(r["answer"]) <= 4 * scan.MAX_ANSWER for r in results)


def test_a_silent_udp_port_is_open_or_filtered_and_the_deadline_cuts() -> None:
    """A socket that reads and never answers: nothing to say but ``open|filtered``; a TCP
    port that accepts and says nothing is ``open`` with no protocol."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((LO, 0))
    mute = socket.socket()
    mute.bind((LO, 0))
    mute.listen()
    with silent, mute:
        results, _ = scan.scan(LO, LO, [(silent.getsockname()[1], "udp", "sip"),
                                        (mute.getsockname()[1], "tcp", "banner")],
                               timeout=0.4, deadline=3.0)
    assert [(r["state"], r["protocol"], r["complete"]) for r in results] == [
        ("open|filtered", None, True), ("open", None, True)]
    with socket.socket() as mute2:
        mute2.bind((LO, 0))
        mute2.listen()
        results, took = scan.scan(LO, LO, [(mute2.getsockname()[1], "tcp", "banner")],
                                  timeout=5.0, deadline=1.0)
    assert took < 3.0
    assert results[0]["state"] == "open" and not results[0]["complete"]


def test_redact_cuts_each_line_naming_a_secret_after_the_name() -> None:
    data = (b"user=alice\nPassword: hunter2\n<authPassword>x1</authPassword>\nP34 = pw\n"
            b"secret=abc\nbypass=ok\n")
    out, n = scan.redact(data)
    assert n == 4
    assert b"hunter2" not in out and b"x1" not in out and b"pw" not in out.split(b"P34")[1]
    assert out.startswith(b"user=alice\nPassword [redacted]\n")
    assert b"bypass=ok" in out  # a word that only contains "pass" is not a secret


# -- the route ------------------------------------------------------------------------------

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


def test_scan_is_of_the_requester_only_and_attested(probe: ProbeServer,
                                                    web: tuple[int, int]) -> None:
    asked: list[tuple[str, str]] = []
    plain = probe.run_scan

    def watched(source: str, target: str, *args: Any, **kw: Any) -> Any:
        asked.append((source, target))
        return plain(source, target, *args, **kw)

    probe.run_scan = watched  # type: ignore[method-assign]
    ports = [(web[0], "tcp"), (_free(socket.SOCK_STREAM), "tcp")]
    s = probe_exposure.scan(_client(probe), ports, "cold", site="12345678901234/siege")
    assert asked == [(LO, LO)]
    assert s.to == LO and [a.state for a in s.ports] == ["open", "closed"]
    assert s.ports[0].protocol == "http" and "[redacted]" in s.ports[0].answer
    assert s.attestation is not None
    pub = probe.cfg.signing_key.public if probe.cfg.signing_key else ""
    doc = verify(s.attestation, {s.attestation["key"]: pub})
    assert doc["kind"] == "scan" and doc["target"] == LO and doc["site"] == \
        "12345678901234/siege"
    assert doc["open"] == [f"{web[0]}/tcp http"]
    log = (probe.cfg.log if isinstance(probe.cfg.log, Path) else Path()).read_text()
    assert '"event": "scan"' in log and "Xq9" not in log


@pytest.mark.parametrize(("extra", "status", "said"), [
    ({"target": "198.51.100.7"}, 403, "only sends to the requester"),
    ({"host": "198.51.100.7"}, 400, "unknown field 'host'"),
    ({"address": "198.51.100.7"}, 400, "unknown field 'address'"),
    ({"ports": [[80, "tcp"]] * 2 + [[p, "udp"] for p in range(1, 65)]}, 400, "1 to 64"),
    ({"ports": [[80, "sctp"]]}, 400, "transport tcp or udp"),
    ({"ports": [[80, "tcp", "nmap-all"]]}, 400, "a probe is one of"),
    ({"timeout_s": 60}, 400, "timeout_s must be"),
    ({"deadline_s": 3600}, 400, "deadline_s must be"),
    ({"tftp_files": ["../../etc/shadow\n"]}, 400, "tftp_files"),
])
def test_scan_requests_that_could_reach_further_are_refused(
        probe: ProbeServer, extra: dict[str, Any], status: int, said: str) -> None:
    scanned: list[str] = []
    probe.run_scan = lambda source, target, *a, **k: (  # type: ignore[method-assign]
        scanned.append(target) or ([], 0.0))
    with pytest.raises(CheckError) as err:
        _client(probe).post("/scan", {"ports": [[80, "tcp"]], **extra})
    assert err.value.message.params["status"] == status
    assert said in str(err.value.message.params["detail"])
    assert scanned == []


def test_one_scan_at_a_time_per_requester(probe: ProbeServer) -> None:
    probe.run_scan = lambda *a, **k: ([], 0.0)  # type: ignore[method-assign]
    client = _client(probe)
    client.post("/scan", {"ports": [[80, "tcp"]]})
    with pytest.raises(RateLimited) as err:
        client.post("/scan", {"ports": [[80, "tcp"]]})
    assert 1.0 <= err.value.retry_after <= 2.0


def test_the_agent_refuses_an_answer_its_attestation_does_not_cover(
        probe: ProbeServer, web: tuple[int, int]) -> None:
    ports = [(web[0], "tcp")]
    ans = _client(probe).post("/scan", probe_exposure.request(ports, None))
    assert probe_exposure.read(ans, ports, "cold").ports[0].state == "open"
    forged = json.loads(json.dumps(ans))
    forged["results"][0]["state"] = "closed"  # a site agent hiding what was found
    with pytest.raises(CheckError) as err:
        probe_exposure.read(forged, ports, "cold")
    assert err.value.message.code == "EXPO_ATTESTATION"
    assert "digest" in str(err.value)
    other = json.loads(json.dumps(ans))
    other["to"] = "203.0.113.9"
    with pytest.raises(CheckError, match=r"not of 203\.0\.113\.9"):
        probe_exposure.read(other, ports, "cold")
    with pytest.raises(CheckError) as err:
        probe_exposure.read(ans, [(web[0], "tcp"), (80, "tcp")], "cold")
    assert err.value.message.code == "EXPO_BAD_ANSWER"
