"""The probe's HTTPS front (harness/probe/tls.py) bounds what the internet can make it hold:
connections count from accept, handshakes included, in all and per address; a stalled half
ClientHello costs a 16 kB read buffer, not asyncio's 256 kB; and it relays without timeouts
of its own (waitress's apply)."""

from __future__ import annotations

import contextlib
import functools
import resource
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest

from harness.probe import cert, tls
from harness.probe.client import ProbeClient
from harness.probe.server import ProbeConfig, ProbeServer

KEY = secrets.token_hex(16).encode()
HERE = "127.0.0.1"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> cert.CertFiles:
    return cert.write(IPv4Address(HERE), tmp_path_factory.mktemp("cert"))


def _start(files: cert.CertFiles, **limits: float) -> ProbeServer:
    srv = ProbeServer(ProbeConfig(control=(HERE, 0), send_from=None, key=KEY, sip_listen=False,
                                  tls=(files.cert, files.key), **limits))  # type: ignore[arg-type]
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    return srv


@pytest.fixture
def probe(files: cert.CertFiles) -> Iterator[ProbeServer]:
    srv = _start(files, request_timeout_s=2.0)
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _client(srv: ProbeServer, files: cert.CertFiles) -> ProbeClient:
    ctx = ssl.create_default_context(cafile=str(files.cert))
    return ProbeClient(*srv.server_address, KEY, timeout=10, tls=ctx)


@functools.cache
def _half_hello() -> bytes:
    """The first half of a real ClientHello: a handshake the probe must wait on."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = out.read()
    return hello[:len(hello) // 2]


def _stalled(srv: ProbeServer, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(srv.server_address, timeout=5)
        s.sendall(_half_hello())
        socks.append(s)
    return socks


def _refused(srv: ProbeServer) -> bool:
    """Whether a new connection is dropped at once (reset or closed before any answer)."""
    try:  # the reset may come as early as connect() on a loaded machine
        with socket.create_connection(srv.server_address, timeout=5) as s:
            s.sendall(_half_hello())
            return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_stalled_handshakes_count_against_the_per_address_cap(
        probe: ProbeServer, files: cert.CertFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "MAX_PER_CLIENT", 4)
    held = _stalled(probe, 4)
    try:
        assert _refused(probe)  # the fifth from this address, though none has a handshake
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 10  # the front notices the closes
    while time.monotonic() < deadline:
        try:
            assert _client(probe, files).post("/whoami", {})["requester"] == HERE
            break
        except Exception:  # retried until the slots are free
            time.sleep(0.1)
    else:
        pytest.fail("the address's slots were not given back after its connections closed")


def test_the_handshake_timeout_frees_the_slots(files: cert.CertFiles,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "MAX_PER_CLIENT", 3)
    srv = _start(files, request_timeout_s=1.0)
    try:
        held = _stalled(srv, 3)
        for s in held:  # the probe ends each stalled handshake itself
            s.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                assert s.recv(1) == b""
            s.close()
        assert _client(srv, files).post("/whoami", {})["requester"] == HERE
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_front_caps_connections_in_all(files: cert.CertFiles) -> None:
    srv = _start(files, max_connections=5)
    try:
        held = _stalled(srv, 5)
        try:
            assert _refused(srv)
        finally:
            for s in held:
                s.close()
    finally:
        srv.shutdown()
        srv.server_close()


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def test_stalled_handshakes_cost_kilobytes_not_a_quarter_megabyte(
        probe: ProbeServer, files: cert.CertFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    """300 stalled half ClientHellos (server and client side together, measured): 91 MB on
    asyncio's TLS transport, 21 MB with its read buffer cut to 16 kB, 1.6 MB now that no TLS
    state is made before the whole ClientHello is in; the bound is between."""
    monkeypatch.setattr(tls, "MAX_PER_CLIENT", 1000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    before = _rss_mb()
    held = _stalled(probe, 300)
    try:
        assert _client(probe, files).post("/whoami", {})["requester"] == HERE
        grown = _rss_mb() - before
    finally:
        for s in held:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert grown < 12, f"{grown:.1f} MB for 300 stalled handshakes"


def test_plain_http_to_the_https_port_is_told_so(probe: ProbeServer) -> None:
    """A 400 naming the cure, then a clean close (not a reset that reads like a firewall)."""
    with socket.create_connection(probe.server_address, timeout=5) as s:
        s.sendall(b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\n{}")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"serves HTTPS (TLS) on this port" in body and b"tls_ca" in body
    assert int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) == len(body)


def test_raw_junk_to_the_https_port_is_closed_without_an_answer(probe: ProbeServer) -> None:
    with socket.create_connection(probe.server_address, timeout=5) as s:
        s.sendall(b"\x00\x01garbage")
        with contextlib.suppress(ConnectionResetError):
            assert s.recv(100) == b""
