"""security.exposure's scan through the real probe against a site of real servers.

Three namespaces of this test's own: an internet host (``out``, the outsider probe run by its
command line), a router (``rtr``, nftables: masquerade for the LAN, and either DNAT of the
weak site's ports to its IPBX or a drop of everything new from the WAN) and the site's LAN
(``lan``: Kamailio answering SIP on UDP and TCP 5060, OpenSSH's sshd, tftpd-hpa serving a
phone configuration file with a SIP password, Python's http.server with an admin page, and
the agent asking the probe). The addresses are documentation ranges and the RFC 1918 voice
LAN; nothing leaves the namespaces.

The weak site fails on exactly what it exposes (SIP on UDP and TCP 5060, SSH, TFTP with the
file, the web page; the password never leaves the probe), the strict one exposes nothing, and
SIPVicious's ``svmap`` from the same host finds no SIP that recette did not."""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import netns
from harness.attest import generate, verify
from harness.probe.client import ProbeClient
from sip_checks import exposure
from sip_checks.probes import exposure as probe

ROOT = Path(__file__).resolve().parents[2]
OUT, WAN, LAN_GW, IPBX = "203.0.113.20", "203.0.113.2", "192.168.254.1", "192.168.254.10"
KEY = secrets.token_hex(16)
SECRET = "Zk4-" + secrets.token_hex(4)  # the phones' SIP password in the provisioning file
WEAK_FORWARDS = {"udp": "5060, 69", "tcp": "5060, 22, 80"}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@dataclass
class Site:
    prefix: str
    tmp: Path
    signer_public: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def ns(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def policy(self, weak: bool) -> None:
        """The router's ruleset: the weak site forwards its IPBX's ports to the internet;
        the strict one drops every new connection from the WAN."""
        fw = "\n".join(f"    iifname wan {proto} dport {{ {ports} }} dnat to {IPBX}"
                       for proto, ports in WEAK_FORWARDS.items()) if weak else ""
        guard = "" if weak else "    iifname wan ct state new drop"
        rules = f"""flush ruleset
table ip nat {{
  chain pre {{
    type nat hook prerouting priority -100;
{fw}
  }}
  chain post {{
    type nat hook postrouting priority 100;
    oifname wan masquerade
  }}
}}
table ip filter {{
  chain input {{
    type filter hook input priority 0;
{guard}
  }}
  chain forward {{
    type filter hook forward priority 0;
{guard}
  }}
}}
"""
        netns.run(self.ns("rtr"), ["nft", "-f", "-"], input=rules)


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def _kamailio_cfg(tmp: Path) -> Path:
    mods = (sorted(glob.glob("/usr/lib/*/kamailio/modules")) or ["/usr/lib/kamailio/modules"])[0]
    cfg = tmp / "kamailio.cfg"
    cfg.write_text(f"""#!KAMAILIO
debug=1
log_stderror=yes
children=1
tcp_children=1
listen=udp:{IPBX}:5060
listen=tcp:{IPBX}:5060
server_header="Server: weak-ipbx 1.0"
mpath="{mods}/"
loadmodule "sl.so"
request_route {{
  if (method == "OPTIONS") {{ sl_send_reply("200", "OK"); exit; }}
  sl_send_reply("404", "Not Here");
}}
""")
    return cfg


def _servers(site: Site, tmp: Path) -> None:
    lan = site.ns("lan")
    logs = open(tmp / "servers.log", "ab")  # noqa: SIM115 - handed to the daemons
    tftp = tmp / "tftp"
    tftp.mkdir()
    (tftp / "000000000000.cfg").write_text(
        f"reg.1.address=0100000001\nreg.1.auth.password={SECRET}\n")
    web = tmp / "web"
    web.mkdir()
    (web / "index.html").write_text("<html><head><title>IPBX Admin</title></head></html>")
    _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "hostkey"))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    for argv in (
        ["kamailio", "-f", str(_kamailio_cfg(tmp)), "-DD", "-E", "-n", "1",
         "-Y", str(tmp / "kam"), "-P", str(tmp / "kam.pid")],
        [shutil.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null",
         "-h", str(tmp / "hostkey"), "-o", f"ListenAddress={IPBX}",
         "-o", f"PidFile={tmp / 'sshd.pid'}"],
        ["in.tftpd", "-L", "-s", str(tftp), "-a", f"{IPBX}:69"],
        [sys.executable, "-m", "http.server", "80", "--bind", IPBX, "-d", str(web)],
    ):
        site.procs.append(netns.popen(lan, argv, stdout=logs, stderr=logs))
    signing, public = generate()
    site.signer_public = public
    env = {**os.environ, "PYTHONPATH": str(ROOT), "K": KEY,
           "RECETTE_PROBE_SIGNING_KEY": signing}
    site.procs.append(netns.popen(site.ns("out"), [
        sys.executable, "-m", "harness.cli", "probe", "serve", "--control", f"{OUT}:5099",
        "--no-sip", "--key-env", "K", "--log", str(tmp / "probe.jsonl")],
        env=env, stdout=logs, stderr=logs))


def _wait_ready(site: Site) -> None:
    """The probe's health through the router's masquerade, and every server listening."""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        conn = http.client.HTTPConnection(OUT, 5099, timeout=1)
        try:
            with netns.inside(site.ns("lan")):  # the socket is made by request()
                conn.request("GET", "/health")
            ok = conn.getresponse().status == 200
        except OSError:
            ok = False
        finally:
            conn.close()
        listening = netns.run(site.ns("lan"), ["ss", "-Hltun"]).stdout
        if ok and all(f"{IPBX}:{p} " in listening for p in ("5060", "22", "69", "80")):
            return
        time.sleep(0.2)
    raise AssertionError("the test site did not come up: " + listening)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    for tool in ("kamailio", "in.tftpd", "sshd", "nft"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.fail(f"{tool} missing: run setup.sh")
    tmp = tmp_path_factory.mktemp("exposure")
    s = Site(f"xp{secrets.token_hex(2)}", tmp)
    names = [s.ns(n) for n in ("out", "rtr", "lan")]
    try:
        for n in names:
            _sh("ip", "netns", "add", n)
            netns.run(n, ["ip", "link", "set", "lo", "up"])
        _sh("ip", "link", "add", "wan", "netns", s.ns("rtr"), "type", "veth", "peer", "eth0",
            "netns", s.ns("out"))
        _sh("ip", "link", "add", "lan", "netns", s.ns("rtr"), "type", "veth", "peer", "eth0",
            "netns", s.ns("lan"))
        for ns, dev, addr in ((s.ns("out"), "eth0", f"{OUT}/24"),
                              (s.ns("rtr"), "wan", f"{WAN}/24"),
                              (s.ns("rtr"), "lan", f"{LAN_GW}/24"),
                              (s.ns("lan"), "eth0", f"{IPBX}/24")):
            netns.run(ns, ["ip", "addr", "add", addr, "dev", dev])
            netns.run(ns, ["ip", "link", "set", dev, "up"])
        netns.run(s.ns("lan"), ["ip", "route", "add", "default", "via", LAN_GW])
        netns.run(s.ns("rtr"), ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        s.policy(weak=True)
        _servers(s, tmp)
        _wait_ready(s)
        yield s
    finally:
        for p in s.procs:
            p.terminate()
        for p in s.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
            if p.poll() is None:
                p.kill()
        for n in names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True, check=False)


def _scan(site: Site, phase: str = "cold") -> probe.Scan:
    with netns.inside(site.ns("lan")):
        client = ProbeClient(OUT, 5099, KEY.encode(), vantage="outsider")
        return probe.scan(client, exposure.ports(), phase, "12345678901234/siege",
                          exposure.TFTP_FILES)


def test_weak_site_fails_on_what_it_exposes_and_the_password_stays_out(site: Site) -> None:
    site.policy(weak=True)
    t0 = time.monotonic()
    s = _scan(site)
    took = time.monotonic() - t0
    by = {a.key: a for a in s.ports}
    assert s.to == WAN and s.source == OUT
    assert (by[5060, "udp"].protocol, by[5060, "udp"].summary) == ("sip", "SIP/2.0 200 OK")
    assert by[5060, "udp"].server == by[5060, "tcp"].server == "weak-ipbx 1.0"
    assert by[22, "tcp"].protocol == "ssh" and by[22, "tcp"].summary.startswith("SSH-2.0-OpenSSH")
    assert by[69, "udp"].summary.startswith("TFTP DATA block 1")
    assert "000000000000.cfg" in by[69, "udp"].summary
    assert by[80, "tcp"].title == "IPBX Admin"
    # The router itself listens on nothing: what is not forwarded is refused, not silent.
    assert {a.key for a in s.ports if a.state == "open"} == {
        (5060, "udp"), (5060, "tcp"), (22, "tcp"), (69, "udp"), (80, "tcp")}
    assert all(a.state == "closed" for a in s.ports if a.state != "open")
    found = exposure.judge({"cold": list(s.ports)})
    assert [(e.port, e.transport, e.risk.code) for e in found] == [
        (5060, "udp", "EXPO_SIP"), (5060, "tcp", "EXPO_SIP"), (69, "udp", "EXPO_TFTP_FILE"),
        (80, "tcp", "EXPO_WEB"), (22, "tcp", "EXPO_SSH")]
    assert SECRET not in repr(s) and "password [redacted]" in by[69, "udp"].answer
    assert SECRET not in (site.tmp / "probe.jsonl").read_text()
    assert s.attestation is not None
    doc = verify(s.attestation, {s.attestation["key"]: site.signer_public})
    assert doc["target"] == WAN and "69/udp tftp" in doc["open"]
    print(f"\nrecette /scan: {len(s.ports)} ports, {len(found)} exposed, {took:.2f} s")


def test_strict_site_exposes_nothing(site: Site) -> None:
    site.policy(weak=False)
    try:
        s = _scan(site)
    finally:
        site.policy(weak=True)
    assert s.to == WAN
    assert {a.state for a in s.ports} <= {"filtered", "open|filtered"}
    assert all(a.complete for a in s.ports)
    assert exposure.judge({"cold": list(s.ports)}) == []
    assert exposure.unproven({"cold": list(s.ports)}) == []
    print(f"\nrecette /scan, strict site: {len(s.ports)} ports, nothing reached, "
          f"{s.seconds:.2f} s at the probe")


def test_recette_finds_at_least_what_svmap_finds(site: Site) -> None:
    """SIPVicious's svmap from the same internet host, on the SIP ports recette scans."""
    if shutil.which("svmap") is None:
        pytest.fail("svmap missing: apt-get install sipvicious")
    site.policy(weak=True)
    t0 = time.monotonic()
    out = netns.run(site.ns("out"), ["svmap", WAN, "-p", "5060,5080,5160", "-t", "0.05"],
                    timeout=120).stdout
    svmap_s = time.monotonic() - t0
    theirs = {int(p) for p in re.findall(rf"{re.escape(WAN)}:(\d+)", out)}
    assert theirs == {5060}, out  # the independent peer sees the weak IPBX's UDP SIP
    t0 = time.monotonic()
    s = _scan(site)
    ours_s = time.monotonic() - t0
    ours = {a.port for a in s.ports if a.transport == "udp" and a.protocol == "sip"}
    assert theirs <= ours
    print(f"\nsvmap: {sorted(theirs)} in {svmap_s:.2f} s; recette: UDP SIP {sorted(ours)}, "
          f"{sum(a.state == 'open' for a in s.ports)} open of {len(s.ports)} in {ours_s:.2f} s")
