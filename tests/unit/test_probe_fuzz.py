"""Property: whatever JSON a key holder signs, the probe's control API answers 200 or a 4xx
(never a 500, never a traceback) and sends only to the requester (harness/probe/server.py)."""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.probe import server as server_mod
from harness.probe.server import AUTH_HEADER, ProbeConfig, ProbeServer, sign

KEY = secrets.token_hex(16).encode()
PATHS = ["/whoami", "/sweep", "/received", "/send-sip", "/udp-reflect", "/expect", "/nope"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False), st.text(max_size=40),
                    st.sampled_from(["127.0.0.1", "198.51.100.7", "00ff", "AAAA", "5060"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
keys = st.sampled_from(["ports", "token", "repeat", "call_id", "call_ids", "data", "port",
                        "from_port", "target"])
bodies = st.one_of(st.dictionaries(keys, values, max_size=5), values)


@pytest.fixture(scope="module")
def probe() -> Iterator[tuple[ProbeServer, list[tuple[str, int]]]]:
    sent: list[tuple[str, int]] = []
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        sip_port = s.getsockname()[1]
    srv = ProbeServer(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=KEY,
                                  sip_ip="127.0.0.1", sip_ports=(sip_port,)))
    srv.start_sip_listeners()
    srv.send_datagram = lambda sock, data, dst: sent.append(dst)  # type: ignore[method-assign]
    real_blast = server_mod._blast

    def blast(src: str, dst: str, ports: list[int], token: bytes, repeat: int
              ) -> tuple[int, float]:
        sent.extend((dst, p) for p in ports)
        return len(ports) * repeat, 0.0

    server_mod._blast = blast
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield srv, sent
    finally:
        server_mod._blast = real_blast
        srv.shutdown()
        srv.server_close()


def _signed(srv: ProbeServer, path: str, body: bytes) -> tuple[int, bytes]:
    ts, nonce = f"{time.time():.3f}", secrets.token_hex(8)
    conn = http.client.HTTPConnection(*srv.server_address, timeout=10)
    try:
        conn.request("POST", path, body, {
            AUTH_HEADER: f"{ts}.{nonce}.{sign(KEY, ts, nonce, 'POST', path, body)}"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), doc=bodies, raw=st.one_of(st.none(), st.binary(max_size=60)))
def test_signed_json_gets_200_or_4xx_and_sends_only_to_the_requester(
        probe: tuple[ProbeServer, list[tuple[str, int]]], path: str, doc: Any,
        raw: bytes | None) -> None:
    srv, sent = probe
    srv.state.last_sweep.clear()  # the sweep rate limit would hide the sweep's own checks
    body = raw if raw is not None else json.dumps(doc).encode()
    status, answer = _signed(srv, path, body)
    assert status == 200 or 400 <= status < 500, (status, answer)
    assert b"Traceback" not in answer
    json.loads(answer)
    assert all(dst[0] == "127.0.0.1" for dst in sent)
