"""The site's IPBX: a real Kamailio on the voice LAN answering as a small business IPBX does,
with its web administration and its phones' provisioning server.

Toll fraud starts at the customer's IPBX, not at the trunk: scanners find a box answering
SIP from the internet, enumerate its extensions, and place calls to international numbers
through it. The checks that play that attacker need a site that answers as real boxes do,
so the lab's ``lan`` namespace gets a second address, :data:`PBX_HOST` (the agent keeps
``192.168.254.10`` and still plays the trunk's IPBX towards the operator), and on it, in one
of two variants (:data:`VARIANTS`):

- ``strict``: SIP only from the voice LAN and the operator (anyone else gets silence), no
  product named, every REGISTER answered 401 and every INVITE 407 until a valid password,
  existing and unknown users alike (nothing to enumerate); the router forwards nothing to it.
- ``weak`` (the FreePBX/Asterisk boxes scanners find): OPTIONS from anyone answered 200 naming
  the product in ``Server``/``User-Agent``; REGISTER for an extension (100-109) answered 401,
  for an unknown user 404 (svwar's difference); INVITE likewise (401 vs 404), except that an
  unauthenticated INVITE to an international number (``00`` or ``+``) is "routed": 100 Trying,
  183 Session Progress, 200 OK with an SDP, ACK and BYE then accepted. The box answers such a
  call itself and sends no media: nothing leaves the lab. The router forwards to it what a
  careless integrator forwards (:data:`harness.lab.firewall.IPBX_FORWARDS`).

Both run the web administration (:mod:`harness.lab.pbxweb`, a login page on TCP 80 and 8080,
titled with the product on the weak box) and TFTP provisioning (:mod:`harness.lab.provisioning`,
a phone's file with a Centrex password in clear): on the strict site only the LAN reaches them.
Every process is in ``lan``, so the lab's teardown removes them; :func:`stop` removes them
alone (``Lab.set_site``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import resources
from ipaddress import IPv4Address
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab import kamailio, provisioning
from harness.lab.procs import (
    kill_all,
    ns_pids,
    pid_alive,
    read_pid,
    run_kamailio,
    sh,
    tcp_listening,
)
from harness.lab.profile import lab_password
from harness.lab.state import lab_dir
from harness.lab.topology import PBX_HOST, VOICE_HOST, IpbxKind, ns

VARIANTS: tuple[IpbxKind, ...] = ("strict", "weak")
EXTENSIONS = tuple(str(n) for n in range(100, 110))
SIP_PORT = 5060
WEB_PORTS = (80, 8080)
LAN = "192.168.254.0/24"
# What the weak box calls itself (FreePBX's User-Agent form: version and Asterisk's).
PRODUCT = "FPBX-16.0.40.7(18.20.0)"
WEB_TITLE: dict[IpbxKind, str] = {"strict": "Administration",
                                  "weak": "FreePBX Administration"}
WEB_SERVER: dict[IpbxKind, str] = {"strict": "httpd", "weak": "Apache/2.4.38 (Debian)"}
DAEMONS = ("kamailio", "web", "tftpd")


def pidfile(prefix: str, daemon: str) -> Path:
    """The PID file of one of the IPBX's :data:`DAEMONS`."""
    return lab_dir(prefix) / f"ipbx-{daemon}.pid"


def extension_password(prefix: str, extension: str) -> str:
    """An extension's SIP password (from the lab's seed, like every lab password)."""
    return lab_password(prefix, f"ipbx-{extension}")


def render(kind: IpbxKind, prefix: str, operator: Sequence[IPv4Address]) -> str:
    """The Kamailio config of the ``kind`` IPBX (templates ``ipbx-<kind>.cfg``), answering
    the operator's ``operator`` addresses on the strict box."""
    if kind not in VARIANTS:
        raise LabError(f"IPBX {kind!r}: expected one of {', '.join(VARIANTS)}")
    accounts = "\n".join(f'  $sht(users=>{ext}) = "{extension_password(prefix, ext)}";'
                         for ext in EXTENSIONS)
    listen = "\n".join(f"listen={proto}:{PBX_HOST}:{SIP_PORT}" for proto in ("udp", "tcp"))
    text = resources.files("harness.lab").joinpath(f"templates/ipbx-{kind}.cfg").read_text()
    return (text.replace("@@LISTEN@@", listen)
            .replace("@@MODULES@@", kamailio.modules_dir())
            .replace("@@EXTENSIONS@@", accounts)
            .replace("@@LAN@@", LAN)
            .replace("@@OPERATOR@@", "".join(f"|| src_ip=={ip} " for ip in operator))
            .replace("@@PRODUCT@@", PRODUCT)
            .replace("@@IP@@", str(PBX_HOST)))


def start(prefix: str, kind: IpbxKind, operator: Sequence[IPv4Address],
          timeout: float = 10.0) -> None:
    """Give ``lan`` the IPBX's address and start its Kamailio, web page and TFTP server; each
    is waited for until it answers. On failure what was started is stopped again."""
    try:
        if str(PBX_HOST) not in sh(["ip", "-4", "-o", "addr", "show", "dev", "eth0"],
                                   ns=ns(prefix, "lan")):
            sh(["ip", "addr", "add", f"{PBX_HOST}/24", "dev", "eth0"], ns=ns(prefix, "lan"))
        _start_kamailio(prefix, kind, operator, timeout)
        _start_web(prefix, kind, timeout)
        provisioning.start(prefix, timeout)
    except BaseException:
        stop(prefix)
        raise


def _start_kamailio(prefix: str, kind: IpbxKind, operator: Sequence[IPv4Address],
                    timeout: float) -> None:
    state_dir = lab_dir(prefix)
    run_kamailio(ns(prefix, "lan"), state_dir / "ipbx-kamailio.cfg",
                 render(kind, prefix, operator), pidfile=pidfile(prefix, "kamailio"),
                 log=state_dir / "ipbx-kamailio.log", memory=(16, 4),
                 ping=(str(VOICE_HOST), str(PBX_HOST), SIP_PORT), timeout=timeout,
                 name="the IPBX's kamailio")


def _start_web(prefix: str, kind: IpbxKind, timeout: float) -> None:
    state_dir = lab_dir(prefix)
    log = open(state_dir / "ipbx-web.log", "ab")  # noqa: SIM115 - handed to the process
    with log:
        proc = netns.popen(ns(prefix, "lan"),
                           [sys.executable, "-m", "harness.lab.pbxweb", str(PBX_HOST),
                            *(str(p) for p in WEB_PORTS), "--title", WEB_TITLE[kind],
                            "--server", WEB_SERVER[kind]],
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    pidfile(prefix, "web").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not all(tcp_listening(ns(prefix, "lan"), str(PBX_HOST), p) for p in WEB_PORTS):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"the IPBX's web page did not start: see {state_dir / 'ipbx-web.log'}")
        time.sleep(0.02)


def running(prefix: str) -> dict[str, bool]:
    """Which of the IPBX's daemons run."""
    return {d: pid_alive(pidfile(prefix, d)) for d in DAEMONS}


def stop(prefix: str) -> None:
    """Stop the IPBX's daemons and their children (nothing else in ``lan``: the agent may run
    there) and take its address away again (idempotent)."""
    name = ns(prefix, "lan")
    roots = {pid for d in DAEMONS if (pid := read_pid(pidfile(prefix, d))) is not None}
    kill_all(sorted(_descendants(name, roots)))
    for d in DAEMONS:
        pidfile(prefix, d).unlink(missing_ok=True)
    if netns.exists(name):
        netns.run(name, ["ip", "addr", "del", f"{PBX_HOST}/24", "dev", "eth0"], check=False)


def _descendants(name: str, roots: set[int]) -> set[int]:
    """``roots`` and every process of namespace ``name`` descending from one of them."""
    parent: dict[int, int] = {}
    for pid in ns_pids(name):
        with contextlib.suppress(OSError, IndexError, ValueError), \
                open(f"/proc/{pid}/stat") as f:
            parent[pid] = int(f.read().rsplit(")", 1)[1].split()[1])
    found = {r for r in roots if r in parent}
    grew = True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in found and pid not in found}
        found |= more
        grew = bool(more)
    return found
