"""The probe's control channel on the open internet (harness/probe/server.py on waitress,
harness/probe/tls.py): malformed HTTP gets a 4xx or a closed connection within the timeout,
slow clients hold no thread (a signed request is answered at once beside 60 of them), and the
optional TLS front keeps the requester's own address."""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import CheckError
from harness.probe.client import ProbeClient
from harness.probe.server import ProbeConfig, ProbeServer

KEY = secrets.token_hex(16).encode()
TIMEOUT_S = 1.0


def _start(cfg: ProbeConfig) -> ProbeServer:
    srv = ProbeServer(cfg)
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    return srv


@pytest.fixture
def probe() -> Iterator[ProbeServer]:
    srv = _start(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=KEY,
                             sip_listen=False, request_timeout_s=TIMEOUT_S, lifetime_s=2.0))
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _raw(srv: ProbeServer, data: bytes, wait_s: float = TIMEOUT_S + 3) -> tuple[bytes, float]:
    """Send ``data``, read until the probe closes; (what came back, seconds it took)."""
    t0 = time.monotonic()
    with socket.create_connection(srv.server_address, timeout=wait_s) as s:
        s.sendall(data)
        got = b""
        try:
            while chunk := s.recv(4096):
                got += chunk
        except ConnectionResetError:
            pass
    return got, time.monotonic() - t0


@pytest.mark.parametrize("request_bytes", [
    b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: -1\r\n\r\n",
    b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: abc\r\n\r\n",
    b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: 99999999999\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: p\r\nX-Junk: " + b"j" * 20000 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: 100\r\n\r\n{\"a\":",  # then silent
    b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n"
    b"X-Recette-Auth: 1\xb2.n.mac\r\n\r\n{}",  # a Latin-1 digit in the timestamp
    b"POST /whoami HTT",  # a request line never finished
    b"",  # connects, says nothing
])
def test_malformed_http_is_refused_or_closed_within_the_timeout(
        probe: ProbeServer, request_bytes: bytes) -> None:
    got, took = _raw(probe, request_bytes)
    assert took < TIMEOUT_S + 2.5
    if got:
        status = int(got.split(b" ", 2)[1])
        assert 400 <= status < 500, got[:200]
        assert b"Traceback" not in got


def test_slow_clients_hold_no_thread(probe: ProbeServer) -> None:
    """60 clients trickling a header byte by byte (more than the worker threads): a signed
    request is still answered at once, and the trickle is cut at the connection lifetime."""
    slow = [socket.create_connection(probe.server_address) for _ in range(60)]
    try:
        for s in slow:
            s.sendall(b"POST /whoami HTTP/1.1\r\nHost: p\r\n")
        client = ProbeClient(*probe.server_address, KEY, timeout=5)
        times = []
        for _ in range(5):
            for s in slow:
                s.sendall(b"X")
            t0 = time.monotonic()
            assert client.post("/whoami", {})["requester"] == "127.0.0.1"
            times.append(time.monotonic() - t0)
            time.sleep(0.2)
        assert max(times) < 0.5
        time.sleep(3.5)  # past lifetime_s and a maintenance pass
        for s in slow:
            s.settimeout(1)
            try:
                s.sendall(b"X" * 100)
                closed = s.recv(10) == b""
            except OSError:  # reset
                closed = True
            assert closed
    finally:
        for s in slow:
            s.close()


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    crt, key = tmp_path / "probe.crt", tmp_path / "probe.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=probe.test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


def test_tls_front_keeps_the_requesters_address(cert: tuple[Path, Path]) -> None:
    srv = _start(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=KEY,
                             sip_listen=False, tls=cert, request_timeout_s=TIMEOUT_S))
    try:
        ctx = ssl.create_default_context(cafile=str(cert[0]))
        client = ProbeClient(*srv.server_address, KEY, timeout=5, tls=ctx)
        assert client.post("/whoami", {})["requester"] == "127.0.0.1"
        conn = http.client.HTTPSConnection(*srv.server_address, timeout=5, context=ctx)
        conn.request("GET", "/health")
        assert json.loads(conn.getresponse().read())["status"] == "ok"
        conn.close()
        with pytest.raises(CheckError):  # plain HTTP to the TLS port: no answer
            ProbeClient(*srv.server_address, KEY, timeout=TIMEOUT_S + 3).post("/whoami", {})
        # waitress behind the front, reached directly: no client behind it, refused
        backend = http.client.HTTPConnection("127.0.0.1", srv._wsgi.effective_port, timeout=5)
        backend.request("GET", "/health")
        assert backend.getresponse().status == 403
        backend.close()
        _, took = _raw(srv, b"\x16\x03\x01")  # a handshake never finished: closed in time
        assert took < TIMEOUT_S + 2.5
    finally:
        srv.shutdown()


def test_a_large_signed_body_is_read_whole(probe: ProbeServer) -> None:
    """Over MAX_BODY_IN_MEMORY the body waits in a temporary file; it is still signed whole
    and answered; over MAX_BODY it is refused (413) before it is read."""
    client = ProbeClient(*probe.server_address, KEY, timeout=5)
    assert client.post("/whoami", {"pad": "x" * 200_000})["requester"] == "127.0.0.1"
    body = json.dumps({"pad": "x" * 300_000}).encode()
    got, took = _raw(probe, b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body[:1000])
    assert got.startswith(b"HTTP/1.1 413 ") and took < 2
