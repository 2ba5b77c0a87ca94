"""Acceptance: the command lines that ship in deploy/ are the ones that run.

The field lab's outsider probe is started from the systemd unit's ``ExecStart``; the
container recipe's ``ENTRYPOINT`` + ``CMD`` is started here in a pair of namespaces of its own
(a "VM" and a "site" joined by a cable, addresses of neither written in the command) and
exercised as a site agent would: health, whoami, a short sweep to the requester, the SIP
reflector on 5060 and 5088 over UDP and TCP, and its safety refusals.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from harness import lab as labmod
from harness import netns
from harness.errors import CheckError
from harness.lab import Lab
from harness.lab.procs import ns_pids, tcp_listening
from harness.lab.profile import lab_password
from harness.probe import cert
from harness.probe.client import ProbeClient
from harness.probe.deploy import (
    CREDENTIALS_DIR,
    HTTPS_DROPIN,
    container_argv,
    credentials,
    runnable,
    unit_argv,
)
from harness.probe.server import SWEEP_MAGIC
from harness.profile import VantagePoint

VM, SITE = "198.18.0.1", "198.18.0.2"  # RFC 2544 benchmarking addresses, only in this test
PORT = 5099


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")


def _health(ns: str, host: str) -> dict[str, object]:
    with netns.inside(ns):
        s = socket.create_connection((host, PORT), timeout=5)
    with s:
        s.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := s.recv(4096):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    doc: dict[str, object] = json.loads(body)
    return doc


@pytest.mark.lab
def test_the_field_labs_outsider_runs_the_units_command_line(field_lab: Lab) -> None:
    out = field_lab.ns("out")
    procs = {pid: _cmdline(pid) for pid in ns_pids(out)}
    assert runnable(unit_argv()) in procs.values(), procs
    assert _health(field_lab.ns("lan"), str(labmod.OUTSIDER))["status"] == "ok"
    client = ProbeClient(str(labmod.OUTSIDER), PORT,
                         lab_password(field_lab.prefix, "probe").encode())
    with netns.inside(field_lab.ns("lan")):
        assert client.post("/whoami", {}) == {"requester": "192.0.2.2",
                                              "send_from": str(labmod.OUTSIDER)}
    # stdout (--log -) is the state folder's JSON log, as journald would keep it
    log = [json.loads(x) for x in (field_lab.dir / "probe-out.jsonl").read_text().splitlines()]
    start = next(e for e in log if e["event"] == "start")
    assert (start["control"], start["send_from"], start["sip_ip"]) == (
        ["0.0.0.0", PORT], "auto", "any")
    assert "recette probe: control 0.0.0.0:5099" in (field_lab.dir / "probe-out.log").read_text()


@dataclass
class Host:
    """The container's probe running in the VM namespace; where its output goes."""

    vm: str
    site: str
    key: str
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path


@contextlib.contextmanager
def _vm_running(tmp_path: Path, argv: list[str], listening: list[str] | None = None
                ) -> Iterator[Host]:
    """``argv`` (``listening`` is the probe's own, for the cmdline check, when ``argv`` wraps
    it) in a "VM" namespace cabled to a "site" one, keyed with a fresh key; both removed."""
    tag = secrets.token_hex(2)
    vm, site = f"rpd{tag}-vm", f"rpd{tag}-site"  # not a lab prefix: `lab down` leaves them
    made: list[str] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        for name in (vm, site):
            netns.run(None, ["ip", "netns", "add", name])
            made.append(name)
            netns.run(name, ["ip", "link", "set", "lo", "up"])
        netns.run(None, ["ip", "link", "add", f"rpd{tag}v", "netns", vm, "type", "veth",
                         "peer", "name", f"rpd{tag}s", "netns", site])
        for name, dev, ip in ((vm, f"rpd{tag}v", VM), (site, f"rpd{tag}s", SITE)):
            netns.run(name, ["ip", "addr", "add", f"{ip}/24", "dev", dev])
            netns.run(name, ["ip", "link", "set", dev, "up"])
        key = secrets.token_urlsafe(32)
        stdout, stderr = tmp_path / "stdout.jsonl", tmp_path / "stderr.log"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = netns.popen(vm, argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                               env={**os.environ, "RECETTE_PROBE_KEY": key})
        deadline = time.monotonic() + 20
        while not tcp_listening(vm, VM, PORT):
            assert proc.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "the probe did not listen within 20 s"
            time.sleep(0.05)
        assert _cmdline(proc.pid) == (listening or argv)
        yield Host(vm, site, key, proc, stdout, stderr)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        for name in made:
            netns.run(None, ["ip", "netns", "del", name], check=False)


@pytest.fixture
def container_probe(tmp_path: Path) -> Iterator[Host]:
    with _vm_running(tmp_path, runnable(container_argv())) as host:
        yield host


def _sip(call_id: str, proto: str, port: int) -> bytes:
    return (f"OPTIONS sip:probe@{VM}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/{proto.upper()} {SITE}:5062;branch=z9hG4bK{secrets.token_hex(6)}\r\n"
            f"From: <sip:site@{SITE}>;tag=1\r\nTo: <sip:probe@{VM}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()


@pytest.mark.lab
def test_the_container_command_line_serves_a_site_agent(container_probe: Host) -> None:
    h = container_probe
    assert _cmdline(h.proc.pid) == runnable(container_argv())
    assert _health(h.site, VM)["status"] == "ok"
    client = ProbeClient(VM, PORT, h.key.encode(), vantage="outsider")
    with netns.inside(h.site):
        # the source it reports is the VM's own, found without being told
        assert client.post("/whoami", {}) == {"requester": SITE, "send_from": VM}
        listeners = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
        sip = {("udp", p): socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for p in (5060, 5088)}
        tcp = {("tcp", p): socket.create_connection((VM, p), timeout=5) for p in (5060, 5088)}
    try:
        for s in listeners:
            s.bind((SITE, 0))
            s.settimeout(5)
        ports = sorted(s.getsockname()[1] for s in listeners)
        token = secrets.token_hex(8)
        with netns.inside(h.site):
            ans = client.post("/sweep", {"ports": [[p, p] for p in ports], "token": token,
                                         "repeat": 1})
        assert (ans["from"], ans["to"], ans["sent"]) == (VM, SITE, 4)
        for s in listeners:
            data, src = s.recvfrom(100)
            assert src[0] == VM
            assert data == SWEEP_MAGIC + bytes.fromhex(token) + s.getsockname()[1].to_bytes(
                2, "big")

        call_id, stranger = secrets.token_hex(8), secrets.token_hex(8)
        with netns.inside(h.site):
            client.expect(call_id)  # only announced Call-IDs are kept
        sip[("udp", 5060)].sendto(_sip(stranger, "udp", 5060), (VM, 5060))
        for (proto, port), s in {**sip, **tcp}.items():
            if proto == "udp":
                s.sendto(_sip(call_id, proto, port), (VM, port))
            else:
                s.sendall(_sip(call_id, proto, port))
        deadline = time.monotonic() + 10
        got: list[dict[str, Any]] = []
        while len(got) < 4 and time.monotonic() < deadline:
            with netns.inside(h.site):
                got = client.post("/received", {"call_id": call_id})["messages"]
            time.sleep(0.1)
        assert sorted((m["proto"], m["port"]) for m in got) == [
            ("tcp", 5060), ("tcp", 5088), ("udp", 5060), ("udp", 5088)]
        assert {m["src"][0] for m in got} == {SITE}
        with netns.inside(h.site):
            assert client.post("/received", {"call_id": stranger})["messages"] == []
            with urllib.request.urlopen(f"http://{VM}:{PORT}/health", timeout=5) as r:
                counts = json.loads(r.read())["sip"]
        assert counts["kept"] == 4 and counts["dropped"]["unmatched"] == 1

        with netns.inside(h.site), pytest.raises(CheckError) as refused:
            client.post("/whoami", {"target": "198.18.0.3"})
        assert refused.value.message.params["status"] == 403
    finally:
        for s in (*listeners, *sip.values(), *tcp.values()):
            s.close()

    with netns.inside(h.site):
        unsigned = urllib.request.Request(f"http://{VM}:{PORT}/sweep", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as http_refused:
            urllib.request.urlopen(unsigned, timeout=5)
    assert http_refused.value.code == 401

    events = [json.loads(x) for x in h.stdout.read_text().splitlines()]
    assert [e["event"] for e in events if e["event"] != "refused"] == ["start", "sweep"]
    sweep = next(e for e in events if e["event"] == "sweep")
    assert (sweep["requester"], sweep["source"], sweep["ports"]) == (SITE, VM, 4)
    assert {e["reason"] for e in events if e["event"] == "refused"} == {
        "foreign target", "no credentials"}
    assert h.key not in h.stdout.read_text() + h.stderr.read_text()


@pytest.mark.lab
def test_the_units_https_drop_in_serves_an_agent_that_pins_the_certificate(
        tmp_path: Path) -> None:
    """deploy/recette-probe-https.conf over the unit, as systemd would run it: the files
    `recette probe cert --name probe` makes, placed where LoadCredential= puts them (a tmpfs
    over /run in a mount namespace of the probe's own, so the host's /run is untouched); the
    agent pins the certificate through its profile's vantage point and the probe still
    answers and keeps only for the requester behind the TLS front."""
    cert.write(IPv4Address(VM), tmp_path, name="probe")
    probe_argv = runnable(unit_argv(dropins=[HTTPS_DROPIN]))
    assert probe_argv[probe_argv.index("--tls-cert") + 1].startswith(f"{CREDENTIALS_DIR}/")
    place = [f"mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p {CREDENTIALS_DIR}"]
    place += [f"cp {shlex.quote(str(tmp_path / source.name))} {CREDENTIALS_DIR}/{ident}"
              for ident, source in credentials(HTTPS_DROPIN).items()]
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            " && ".join([*place, 'exec "$@"']), "sh", *probe_argv]
    with _vm_running(tmp_path, argv, probe_argv) as h:
        vp = VantagePoint(address=IPv4Address(VM), control_port=PORT,
                          tls_ca=tmp_path / "probe.crt")
        client = ProbeClient(VM, PORT, h.key.encode(), vantage="outsider",
                             tls=vp.ssl_context())
        call_id = secrets.token_hex(8)
        with netns.inside(h.site):
            assert client.post("/whoami", {}) == {"requester": SITE, "send_from": VM}
            client.expect(call_id)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with s:
            s.sendto(_sip(call_id, "udp", 5060), (VM, 5060))
            deadline = time.monotonic() + 10
            got: list[dict[str, Any]] = []
            while not got and time.monotonic() < deadline:
                with netns.inside(h.site):
                    got = client.post("/received", {"call_id": call_id})["messages"]
                time.sleep(0.1)
        assert [(m["proto"], m["port"], m["src"][0]) for m in got] == [("udp", 5060, SITE)]
        plain = ProbeClient(VM, PORT, h.key.encode(), vantage="outsider", timeout=10)
        with netns.inside(h.site), pytest.raises(CheckError) as refused:
            plain.post("/whoami", {})
        assert refused.value.message.code == "PROBE_REFUSED"  # told it is HTTPS
        assert "serves HTTPS (TLS) on this port" in str(refused.value.message)
    assert "(HTTPS)" in h.stderr.read_text()
