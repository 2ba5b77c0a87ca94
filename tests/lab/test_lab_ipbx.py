"""The lab's site IPBX seen from the internet: the strict site answers nothing on its WAN
address, the weak one answers as the FreePBX boxes scanners find (OPTIONS 200 naming it,
extensions told from unknown users, an unauthenticated international call routed, its web
administration and its phones' provisioning file reachable); SIPVicious, the attacker's own
tool, run from the outsider, finds the same.

Every exchange is plain sockets (or curl, svmap, svwar) in the ``out`` namespace towards the
router's WAN address, so it crosses the router's NAT and firewall as an attacker's would.
Silence can only be observed as a wait: one second per question asked of the strict site.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import lab as labmod
from harness import netns
from harness.lab import (
    OP_SERVER,
    OUTSIDER,
    PBX_HOST,
    RTR_WAN,
    VOICE_HOST,
    Lab,
    ipbx,
    procs,
    provisioning,
)
from tests.lab.labrun import sipvicious

REPO = Path(__file__).resolve().parents[2]
EXTENSIONS = {str(n) for n in range(100, 110)}
SILENCE = 1.0  # how long a question goes unanswered before we call it unanswered


# -- fixtures ---------------------------------------------------------------------------------
def _recette(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def strict_site() -> Iterator[Lab]:
    """A lab whose site has the strict IPBX (built in this process)."""
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", ipbx="strict")
    try:
        yield built
    finally:
        built.down()


@pytest.fixture(scope="module")
def weak_site(tmp_path_factory: pytest.TempPathFactory, cli_lab_module: None
              ) -> Iterator[Lab]:
    """A lab whose site has the weak IPBX, built as a user would: ``recette lab up --ipbx
    weak`` (the last test takes it down with ``recette lab down``; this is the safety net)."""
    prefix = f"rct{secrets.token_hex(2)}"
    prof = tmp_path_factory.mktemp("weak") / "lab.yaml"
    try:
        up = _recette("lab", "up", "--prefix", prefix, "--ipbx", "weak",
                      "--profile-out", str(prof))
        assert up.returncode == 0, up.stderr
        assert "weak IPBX on 192.168.254.20" in up.stderr
        assert "forwarded from the WAN: UDP 5060, TCP 5060, TCP 80, TCP 8080, UDP 69" \
            in up.stderr
        yield Lab.attach(prefix)
    finally:
        labmod.down(prefix)


# -- a tiny SIP client over plain sockets -----------------------------------------------------
class Peer:
    """One socket of ``role`` (its address ``ip``) speaking SIP to ``dst`` over UDP or TCP."""

    def __init__(self, lab: Lab, role: str, ip: object, dst: object, transport: str) -> None:
        self.transport = transport
        self.dst = (str(dst), ipbx.SIP_PORT)
        with netns.inside(lab.ns(role)):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if transport == "udp"
                                      else socket.SOCK_STREAM)
        self.sock.bind((str(ip), 0))
        self.ip, self.port = self.sock.getsockname()
        self.buf = b""
        if transport == "tcp":
            self.sock.settimeout(SILENCE)
            self.sock.connect(self.dst)

    def close(self) -> None:
        self.sock.close()

    def send(self, text: str) -> None:
        if self.transport == "udp":
            self.sock.sendto(text.encode(), self.dst)
        else:
            self.sock.sendall(text.encode())

    def request(self, method: str, user: str, *, call_id: str | None = None,
                to_tag: str = "", cseq: int = 1, sdp: bool = False) -> str:
        """Send ``method`` to ``user`` at the site's WAN address; returns the Call-ID."""
        call_id = call_id or secrets.token_hex(8)
        body = (f"v=0\r\no=- 1 1 IN IP4 {self.ip}\r\ns=-\r\nc=IN IP4 {self.ip}\r\nt=0 0\r\n"
                "m=audio 4000 RTP/AVP 8\r\n") if sdp else ""
        sender = user if method == "REGISTER" else "attacker"
        text = (
            f"{method} sip:{user}@{self.dst[0]} SIP/2.0\r\n"
            f"Via: SIP/2.0/{self.transport.upper()} {self.ip}:{self.port};"
            f"branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
            f"From: <sip:{sender}@{self.dst[0]}>;tag=a{call_id[:6]}\r\n"
            f"To: <sip:{user}@{self.dst[0]}>{';tag=' + to_tag if to_tag else ''}\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n"
            f"Contact: <sip:attacker@{self.ip}:{self.port};transport={self.transport}>\r\n"
            + ("Content-Type: application/sdp\r\n" if sdp else "")
            + f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.send(text)
        return call_id

    def answers(self, call_id: str, method: str, wait: float = 3.0) -> list[str]:
        """The responses to ``call_id``'s ``method`` until its first final one, or until
        ``SILENCE`` passes with none (or ``wait`` in all)."""
        got: list[str] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            msg = self._next(min(SILENCE, deadline - time.monotonic()))
            if msg is None:
                break
            if _header(msg, "Call-ID") == call_id and _header(msg, "CSeq").endswith(method):
                got.append(msg)
                if _code(msg) >= 200:
                    break
        return got

    def _next(self, timeout: float) -> str | None:
        self.sock.settimeout(max(timeout, 0.01))
        try:
            if self.transport == "udp":
                return self.sock.recv(65535).decode(errors="replace")
            while b"\r\n\r\n" not in self.buf:
                chunk = self.sock.recv(65535)
                if not chunk:
                    return None
                self.buf += chunk
            head, _, rest = self.buf.partition(b"\r\n\r\n")
            length = int(_header(head.decode(), "Content-Length") or 0)
            while len(rest) < length:
                rest += self.sock.recv(65535)
            self.buf = rest[length:]
            return (head + b"\r\n\r\n" + rest[:length]).decode(errors="replace")
        except TimeoutError:
            return None


def _header(msg: str, name: str) -> str:
    for line in msg.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def _code(msg: str) -> int:
    return int(msg.split(" ", 2)[1])


def _codes(msgs: list[str]) -> list[int]:
    return [_code(m) for m in msgs]


def _ask(lab: Lab, transport: str, method: str, user: str, *, role: str = "out",
         ip: object = OUTSIDER, dst: object = RTR_WAN) -> list[str]:
    peer = Peer(lab, role, ip, dst, transport)
    try:
        return peer.answers(peer.request(method, user, sdp=method == "INVITE"), method)
    finally:
        peer.close()


def _tcp_connects(lab: Lab, port: int, role: str = "out", dst: object = RTR_WAN) -> bool:
    with netns.inside(lab.ns(role)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with s:
        s.settimeout(SILENCE)
        try:
            return s.connect_ex((str(dst), port)) == 0
        except TimeoutError:
            return False


def _curl(lab: Lab, url: str, role: str = "out") -> subprocess.CompletedProcess[str]:
    head = ["-i"] if url.startswith("http") else []  # the status line and headers too
    return netns.run(lab.ns(role), ["curl", "-s", "-m", "3", *head, url], check=False,
                     timeout=10)


def _sipvicious(lab: Lab, tool: str, *args: str, home: Path) -> str:
    return sipvicious(lab, tool, *args, home=home)


# -- the strict site --------------------------------------------------------------------------
@pytest.mark.lab
def test_strict_site_answers_nothing_on_its_wan_address(strict_site: Lab) -> None:
    """The IPBX runs (the LAN host gets its OPTIONS, web page and TFTP), yet from the
    outsider no SIP on UDP or TCP, no web page, no TFTP file: the router forwards it
    nothing and the IPBX answers no stranger."""
    lab = strict_site
    assert lab.ipbx_running() == {"kamailio": True, "web": True, "tftpd": True}
    assert _codes(_ask(lab, "udp", "OPTIONS", "100", role="lan", ip=VOICE_HOST,
                       dst=PBX_HOST)) == [200]
    assert "<title>Administration</title>" in _curl(lab, f"http://{PBX_HOST}/", "lan").stdout
    assert "account.1.password" in _curl(
        lab, f"tftp://{PBX_HOST}/{provisioning.PHONE_FILE}", "lan").stdout

    assert _ask(lab, "udp", "OPTIONS", "100") == []
    assert _ask(lab, "udp", "INVITE", "0044207946000") == []
    for port in (5060, 80, 8080):
        assert not _tcp_connects(lab, port), f"TCP {port} reached from the internet"
    tftp = _curl(lab, f"tftp://{RTR_WAN}/{provisioning.PHONE_FILE}")
    assert tftp.returncode != 0 and "password" not in tftp.stdout


@pytest.mark.lab
def test_strict_ipbx_answers_everyone_alike_and_no_call_without_password(
        strict_site: Lab) -> None:
    """From the LAN: existing and unknown users meet the same 401 (nothing to enumerate),
    every INVITE, international or not, the same 407, and no answer names a product."""
    lab = strict_site
    seen = {}
    for transport in ("udp", "tcp"):
        for user in ("101", "999", "alice"):
            for method in ("REGISTER", "INVITE"):
                got = _ask(lab, transport, method, user, role="lan", ip=VOICE_HOST,
                           dst=PBX_HOST)
                seen[transport, user, method] = _codes(got)
                assert all(not _header(m, "Server") and not _header(m, "User-Agent")
                           for m in got)
        assert _codes(_ask(lab, transport, "INVITE", "0044207946000", role="lan",
                           ip=VOICE_HOST, dst=PBX_HOST)) == [407]
        assert _codes(_ask(lab, transport, "INVITE", "+882123456", role="lan",
                           ip=VOICE_HOST, dst=PBX_HOST)) == [407]
    assert {k: v for k, v in seen.items() if k[2] == "REGISTER"} == {
        (t, u, "REGISTER"): [401] for t in ("udp", "tcp") for u in ("101", "999", "alice")}
    assert {k: v for k, v in seen.items() if k[2] == "INVITE"} == {
        (t, u, "INVITE"): [407] for t in ("udp", "tcp") for u in ("101", "999", "alice")}


@pytest.mark.lab
def test_svmap_and_svwar_find_nothing_on_the_strict_site(strict_site: Lab,
                                                         tmp_path: Path) -> None:
    out = _sipvicious(strict_site, "svmap", home=tmp_path)
    assert "found nothing" in out and f"{RTR_WAN}:5060" not in out
    out = _sipvicious(strict_site, "svwar", "-e100-109", home=tmp_path)
    assert not re.findall(r"^\|\s*(\d+)\s*\|", out, re.M), out


@pytest.mark.lab
def test_set_site_swaps_the_ipbx_in_place(strict_site: Lab) -> None:
    """``none`` stops every IPBX process and takes its address away; ``weak`` then answers
    the outsider at once (the router's forwards follow); back to strict, silence again."""
    lab = strict_site
    pids = {d: int(ipbx.pidfile(lab.prefix, d).read_text()) for d in ipbx.DAEMONS}
    try:
        lab.set_site("none")
        assert lab.ipbx_running() == dict.fromkeys(ipbx.DAEMONS, False)
        assert all(not procs.exists(p) for p in pids.values())
        addrs = netns.run(lab.ns("lan"), ["ip", "-4", "-o", "addr"]).stdout
        assert str(PBX_HOST) not in addrs and str(VOICE_HOST) in addrs
        assert "192.168.254.20" not in netns.run(lab.ns("rtr"), ["nft", "list", "ruleset"]).stdout
        lab.set_site("weak")
        assert _codes(_ask(lab, "udp", "OPTIONS", "100")) == [200]
    finally:
        lab.set_site("strict")
    assert lab.state.ipbx == "strict" and Lab.attach(lab.prefix).state.ipbx == "strict"
    assert _ask(lab, "udp", "OPTIONS", "100") == []


# -- the weak site ----------------------------------------------------------------------------
@pytest.mark.lab
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_weak_site_answers_options_from_anyone_naming_the_pbx(weak_site: Lab,
                                                              transport: str) -> None:
    got = _ask(weak_site, transport, "OPTIONS", "100")
    assert _codes(got) == [200]
    assert _header(got[0], "Server") == ipbx.PRODUCT
    # what the router made of the attacker's address: the IPBX saw the outsider itself
    assert f"received={OUTSIDER}" in _header(got[0], "Via")


@pytest.mark.lab
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_weak_site_tells_extensions_from_unknown_users(weak_site: Lab, transport: str) -> None:
    """REGISTER and INVITE: 401 for an extension, 404 for a made-up user (svwar's
    difference)."""
    for method in ("REGISTER", "INVITE"):
        for user in ("100", "105", "109"):
            got = _ask(weak_site, transport, method, user)
            assert _codes(got) == [401], (method, user)
            assert _header(got[0], "WWW-Authenticate").startswith("Digest")
        for user in ("110", "999", "admin"):
            assert _codes(_ask(weak_site, transport, method, user)) == [404], (method, user)


@pytest.mark.lab
@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("number", ["00442079460000", "+88213123456"])
def test_weak_site_routes_an_unauthenticated_international_call(
        weak_site: Lab, transport: str, number: str) -> None:
    """100 Trying, 183 Session Progress, 200 OK with an SDP; the call then ends as a
    fraudster's would (ACK, BYE answered 200)."""
    peer = Peer(weak_site, "out", OUTSIDER, RTR_WAN, transport)
    try:
        call_id = peer.request("INVITE", number, sdp=True)
        got = peer.answers(call_id, "INVITE")
        assert _codes(got) == [100, 183, 200]
        final = got[-1]
        assert _header(final, "Content-Type") == "application/sdp"
        assert f"c=IN IP4 {PBX_HOST}" in final
        tag = _header(final, "To").split("tag=", 1)[1]
        peer.request("ACK", number, call_id=call_id, to_tag=tag)
        peer.request("BYE", number, call_id=call_id, to_tag=tag, cseq=2)
        assert _codes(peer.answers(call_id, "BYE")) == [200]
    finally:
        peer.close()


@pytest.mark.lab
def test_weak_site_web_administration_and_provisioning_file(weak_site: Lab) -> None:
    """Its login page on 80 and 8080 and, by TFTP, the reception phone's file with the
    Centrex account's password: a secret of the lab profile (so redacted in reports)."""
    for port in (80, 8080):
        page = _curl(weak_site, f"http://{RTR_WAN}:{port}/")
        assert page.stdout.startswith("HTTP/1.0 200"), page.stdout[:80]
        assert "<title>FreePBX Administration</title>" in page.stdout
    cfg = _curl(weak_site, f"tftp://{RTR_WAN}/{provisioning.PHONE_FILE}")
    assert cfg.returncode == 0, cfg.stderr
    secret = re.search(r"^account\.1\.password = (\S+)$", cfg.stdout, re.M)
    assert secret is not None
    assert secret.group(1) in weak_site.profile.secrets()
    assert "password" not in _curl(weak_site, f"tftp://{RTR_WAN}/{provisioning.COMMON_FILE}"
                                   ).stdout


@pytest.mark.lab
def test_svmap_and_svwar_find_the_weak_pbx_and_its_extensions(weak_site: Lab,
                                                              tmp_path: Path) -> None:
    out = _sipvicious(weak_site, "svmap", home=tmp_path)
    assert re.search(rf"\|\s*{re.escape(str(RTR_WAN))}:5060\s*\|\s*"
                     rf"{re.escape(ipbx.PRODUCT)}\s*\|", out), out
    out = _sipvicious(weak_site, "svwar", "-e100-120", home=tmp_path)
    found = dict(re.findall(r"^\|\s*(\d+)\s*\|\s*(\w+)\s*\|", out, re.M))
    assert found == dict.fromkeys(EXTENSIONS, "reqauth"), out


@pytest.mark.lab
def test_the_operator_still_reaches_the_agent_on_a_weak_site(weak_site: Lab) -> None:
    """The forward of UDP 5060 to the IPBX comes after the operator's own: its datagrams
    still reach the agent (192.168.254.10), the trunk's end in every other lab test."""
    with netns.inside(weak_site.ns("lan")):
        agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with netns.inside(weak_site.ns("op")):
        operator = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with agent, operator:
        agent.bind((str(VOICE_HOST), 5060))
        agent.settimeout(SILENCE)
        operator.bind((str(OP_SERVER), 0))
        token = secrets.token_bytes(8)
        operator.sendto(token, (str(RTR_WAN), 5060))
        assert agent.recv(64) == token
    rules = netns.run(weak_site.ns("rtr"), ["nft", "list", "ruleset"]).stdout
    assert f"ip saddr {OP_SERVER} udp dport {{ 5060, 10000-20000 }} dnat to {VOICE_HOST}" \
        in rules
    for proto, port in (("udp", 5060), ("tcp", 5060), ("tcp", 80), ("tcp", 8080), ("udp", 69)):
        assert f'iifname "wan0" {proto} dport {port} dnat to {PBX_HOST}' in rules


@pytest.mark.lab
def test_lab_status_then_down_remove_the_weak_site(weak_site: Lab) -> None:
    """Last of the module: `lab status` shows the IPBX running, `lab down` leaves none of
    its processes (children included) and no namespace."""
    st = _recette("lab", "status", "--json")
    mine = [s for s in json.loads(st.stdout) if s["prefix"] == weak_site.prefix]
    assert mine and mine[0]["ipbx"] == "weak"
    assert mine[0]["ipbx_daemons"] == {"kamailio": True, "web": True, "tftpd": True}
    text = _recette("lab", "status").stdout
    assert f"{weak_site.prefix}: " in text and "weak IPBX running" in text
    pids = ipbx._descendants(weak_site.ns("lan"), {
        int(ipbx.pidfile(weak_site.prefix, d).read_text()) for d in ipbx.DAEMONS})
    assert len(pids) > 3  # Kamailio's children at least
    down = _recette("lab", "down", "--prefix", weak_site.prefix)
    assert down.returncode == 0, down.stderr
    assert not any(netns.exists(weak_site.ns(r)) for r in labmod.ROLES)
    assert all(not procs.exists(p) for p in pids)
