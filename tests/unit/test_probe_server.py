"""The probe service (harness/probe/server.py) on loopback: the unauthenticated health answer
says nothing secret, every other unsigned request is still refused, and a probe with no
``send_from`` reports and uses the kernel's source towards the requester."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import __version__
from harness.attest import Signer, generate, verify
from harness.errors import CheckError
from harness.probe.client import ProbeClient
from harness.probe.server import STDOUT, SWEEP_MAGIC, ProbeConfig, ProbeServer

KEY = secrets.token_urlsafe(32)


@pytest.fixture
def probe(tmp_path: Path) -> Iterator[ProbeServer]:
    """A probe on 127.0.0.1 (a free port), no SIP listeners, logging to a file."""
    srv = ProbeServer(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=KEY.encode(),
                                  sip_listen=False, log=tmp_path / "probe.jsonl"))
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _http(srv: ProbeServer, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
    try:
        conn.request(method, path, body, headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_health_answers_without_a_key_and_reveals_nothing(probe: ProbeServer) -> None:
    status, headers, raw = _http(probe, "GET", "/health")
    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(raw)
    assert set(doc) == {"status", "version", "uptime_s", "sip", "signing_key"}
    assert doc["signing_key"] is None  # this probe signs nothing
    assert doc["sip"]["kept"] == 0 and set(doc["sip"]["dropped"]) >= {"unannounced", "full"}
    assert doc["status"] == "ok" and doc["version"] == __version__
    assert 0 <= doc["uptime_s"] < 600
    everything = raw + json.dumps(headers).encode()
    for secret in (KEY.encode(), KEY.encode().hex().encode(), KEY[:12].encode()):
        assert secret not in everything
    assert "Python" not in headers["Server"]
    assert _http(probe, "GET", "/health?verbose=1")[0] == 200


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 404), ("GET", "/whoami", 404), ("GET", "/healthz", 404),
    ("PUT", "/health", 405), ("DELETE", "/sweep", 405), ("HEAD", "/health", 405),
])
def test_other_requests_are_refused_cleanly(probe: ProbeServer, method: str, path: str,
                                            status: int) -> None:
    got, headers, raw = _http(probe, method, path)
    assert got == status
    if method == "HEAD":
        assert raw == b""
    else:
        assert "error" in json.loads(raw)
    if status == 405:
        assert headers["Allow"] == "GET, POST"


@pytest.mark.parametrize("path", ["/whoami", "/sweep", "/received", "/send-sip", "/health"])
def test_unsigned_posts_are_still_refused(probe: ProbeServer, tmp_path: Path,
                                          path: str) -> None:
    body = json.dumps({"ports": [[10000, 10001]], "token": "00" * 8}).encode()
    status, _, raw = _http(probe, "POST", path, body)
    assert (status, json.loads(raw)) == (401, {"error": "missing or malformed credentials"})
    status, _, raw = _http(probe, "POST", path, body, {"X-Recette-Auth": "1.2.3"})
    assert status == 401
    log = [json.loads(x) for x in (tmp_path / "probe.jsonl").read_text().splitlines()]
    assert [e["reason"] for e in log] == ["no credentials", "bad signature"]
    assert KEY not in (tmp_path / "probe.jsonl").read_text()


def test_with_no_send_from_the_probe_reports_and_uses_the_kernels_source(
        probe: ProbeServer, tmp_path: Path) -> None:
    client = ProbeClient("127.0.0.1", probe.server_address[1], KEY.encode())
    assert client.post("/whoami", {}) == {"requester": "127.0.0.1", "send_from": "127.0.0.1"}
    listeners = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
    try:
        for s in listeners:
            s.bind(("127.0.0.1", 0))
            s.settimeout(5)
        ports = sorted(s.getsockname()[1] for s in listeners)
        token = secrets.token_hex(8)
        ans = client.post("/sweep", {"ports": [[p, p] for p in ports], "token": token,
                                     "repeat": 1})
        assert (ans["from"], ans["to"], ans["sent"]) == ("127.0.0.1", "127.0.0.1", 3)
        for s in listeners:
            data, src = s.recvfrom(100)
            assert src[0] == "127.0.0.1"
            assert data == SWEEP_MAGIC + bytes.fromhex(token) + s.getsockname()[1].to_bytes(
                2, "big")
    finally:
        for s in listeners:
            s.close()
    (sweep,) = [e for e in map(json.loads, (tmp_path / "probe.jsonl").read_text().splitlines())
                if e["event"] == "sweep"]
    assert sweep["source"] == "127.0.0.1" and sweep["requester"] == "127.0.0.1"
    assert "attestation" not in ans and sweep["attestation"] is None  # no signing key


SIGNING, PUBLIC = generate()


@pytest.fixture
def signing_probe(tmp_path: Path) -> Iterator[ProbeServer]:
    """A probe with a signing key: each sweep's answer carries its attestation."""
    srv = ProbeServer(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=KEY.encode(),
                                  sip_listen=False, log=tmp_path / "probe.jsonl",
                                  signing_key=Signer.from_text(SIGNING)))
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_signing_probe_attests_what_it_sent_and_to_whom(signing_probe: ProbeServer,
                                                          tmp_path: Path) -> None:
    signer = Signer.from_text(SIGNING)
    status, _, raw = _http(signing_probe, "GET", "/health")
    assert status == 200 and json.loads(raw)["signing_key"] == signer.key_id
    assert SIGNING.encode() not in raw and PUBLIC.encode() not in raw
    client = ProbeClient("127.0.0.1", signing_probe.server_address[1], KEY.encode())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        token = secrets.token_hex(8)
        # Overlapping and reversed spans: the attestation says what was really swept.
        ans = client.post("/sweep", {"ports": [[port, port + 1], [port + 1, port + 2],
                                               [port + 9, port + 8]],
                                     "token": token, "repeat": 1, "site": "123/Lyon"})
    doc = verify(ans["attestation"], {signer.key_id: PUBLIC})
    assert doc["target"] == "127.0.0.1" == ans["to"] and doc["source"] == ans["from"]
    assert doc["token"] == token and doc["site"] == "123/Lyon" and doc["kind"] == "sweep"
    assert doc["ports"] == [[port, port + 2]] and doc["repeat"] == 1
    assert doc["sent"] == ans["sent"] == 3 and doc["probe"] == signer.key_id
    at = dt.datetime.fromisoformat(doc["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - at).total_seconds()) < 1
    text = (tmp_path / "probe.jsonl").read_text()
    (line,) = [e for e in map(json.loads, text.splitlines()) if e["event"] == "sweep"]
    assert line["attestation"] == doc["nonce"] and line["site"] == "123/Lyon"
    assert SIGNING not in text


@pytest.mark.parametrize("site", ["x" * 201, 5, ["a"]])
def test_a_sweep_site_is_a_short_string(signing_probe: ProbeServer, site: object) -> None:
    client = ProbeClient("127.0.0.1", signing_probe.server_address[1], KEY.encode())
    with pytest.raises(CheckError, match="site must be a string of at most 200"):
        client.post("/sweep", {"ports": [[40000, 40000]], "token": "00" * 8, "site": site})


def test_a_sweep_without_site_is_attested_with_site_null(signing_probe: ProbeServer) -> None:
    client = ProbeClient("127.0.0.1", signing_probe.server_address[1], KEY.encode())
    ans = client.post("/sweep", {"ports": [[40000, 40000]], "token": "ab" * 20})
    doc = verify(ans["attestation"], {Signer.from_text(SIGNING).key_id: PUBLIC})
    assert doc["site"] is None and doc["token"] == "ab" * 16  # the 16 bytes it used


def test_log_dash_writes_json_lines_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    srv = ProbeServer(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=b"k",
                                  sip_listen=False, log=STDOUT))
    try:
        srv.log_event(event="test", n=1)
    finally:
        srv.server_close()
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["event"] == "test"


def test_the_client_announces_and_tolerates_a_probe_without_announcements(
        probe: ProbeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ProbeClient("127.0.0.1", probe.server_address[1], KEY.encode())
    client.expect("a@b", "c@d")
    assert probe.inbox.totals()["requesters"] == 1
    with pytest.raises(CheckError):  # not a list of strings: a 400 is the agent's bug
        client.post("/expect", {"call_ids": "a@b"})
    real_post = client.post

    def old_probe(path: str, doc: dict[str, object]) -> dict[str, object]:
        return real_post("/no-expect-here" if path == "/expect" else path, doc)

    monkeypatch.setattr(client, "post", old_probe)
    client.expect("e@f")  # 404: an older probe, which keeps everything anyway
    client.expect("g@h")
    assert client._keeps_everything


def test_remembered_nonces_are_bounded_and_expire_oldest_first(
        probe: ProbeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key holder cannot grow the replay table without limit: past MAX_NONCES it gets a
    429 (and the table stays at the limit), and expired nonces are forgotten oldest first."""
    import time

    from harness.probe import server
    from harness.probe.client import RateLimited

    client = ProbeClient("127.0.0.1", probe.server_address[1], KEY.encode())
    old = time.time() - 3 * server.MAX_SKEW_S
    probe.state.nonces.update({f"old{i}": old for i in range(50)})
    client.post("/whoami", {})
    assert len(probe.state.nonces) == 1 and not any(
        n.startswith("old") for n in probe.state.nonces)
    monkeypatch.setattr(server, "MAX_NONCES", 4)
    for _ in range(3):
        client.post("/whoami", {})
    with pytest.raises(RateLimited) as exc:
        client.post("/whoami", {})
    assert exc.value.retry_after == 5.0
    assert len(probe.state.nonces) == 4
