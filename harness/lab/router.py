"""The customer's router: the NAT and firewall policy in force, loss injected on its WAN, and
the SSH server the router audit logs in to.

The checks judge a site by what its router lets through, so tests change the router's policy
in place (ALG on or off, firewall strict, open or closed, a narrowed RTP range, LANs opened
to each other) without rebuilding the lab, and audit it over SSH as they would OpIOS. The
rules text itself is written by :mod:`harness.lab.firewall`; this module applies it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab import shapes
from harness.lab.firewall import IPBX_FORWARDS, FirewallMode, RouterPolicy, ruleset
from harness.lab.procs import kill_all, pid_alive, read_pid, sh, tcp_listening
from harness.lab.profile import lab_password
from harness.lab.state import LabState, lab_dir, save_state
from harness.lab.topology import OP_SERVER, PBX_HOST, RTR_DATA, RTR_VOICE, RTR_WAN, VOICE_HOST, ns


def policy(state: LabState) -> RouterPolicy:
    """The router policy ``state`` asks for. ``strict`` admits the addresses of the
    operator's shape, not a relay moved off them with ``--media-ip`` (the firewall an
    integrator built before the operator moved its media). The site's IPBX gets the forwards
    its variant calls for (:data:`IPBX_FORWARDS`)."""
    return RouterPolicy(alg=state.alg, mode=state.firewall, server=OP_SERVER,
                        operator=shapes.get(state.shape).addresses, ipbx=VOICE_HOST,
                        rtp=state.rtp, lans_open=state.lans_open, pbx=PBX_HOST,
                        forwards=IPBX_FORWARDS[state.ipbx], admin_wan=state.admin_wan)


def set_policy(state: LabState, *, alg: bool | None = None,
               firewall: FirewallMode | None = None, rtp: tuple[int, int] = (10000, 20000),
               lans_open: bool = False, admin_wan: bool = False) -> None:
    """Change the router's ALG/firewall in place; flushes conntrack so it applies at once.

    ``rtp`` narrows the forwarded media range (a half-open firewall a check must catch);
    ``lans_open`` lets the voice and data LANs reach each other (the "permit any" between
    LANs an isolation audit must catch); ``admin_wan`` runs the router's own web
    administration and lets its WAN reach it (what `router.audit` and `security.exposure`
    must both catch). None is sticky: each call states what it wants.
    """
    if alg is not None:
        state.alg = alg
    if firewall is not None:
        state.firewall = firewall
    state.rtp = rtp
    state.lans_open = lans_open
    state.admin_wan = admin_wan
    _router_web(state.prefix, admin_wan)
    apply_policy(state)
    save_state(state)


ROUTER_WEB_TITLE = "OpIOS - Router administration"


def _router_web(prefix: str, on: bool, timeout: float = 10.0) -> None:
    """The router's own web administration (a login page, :mod:`harness.lab.pbxweb`) on its
    WAN address's TCP 80, started or stopped (idempotent)."""
    pidfile = lab_dir(prefix) / "router-web.pid"
    pid = read_pid(pidfile)
    if not on:
        if pid is not None:
            kill_all([pid])
        pidfile.unlink(missing_ok=True)
        return
    if pid is not None and pid_alive(pidfile):
        return
    log = open(lab_dir(prefix) / "router-web.log", "ab")  # noqa: SIM115 - handed over
    with log:
        proc = netns.popen(ns(prefix, "rtr"),
                           [sys.executable, "-m", "harness.lab.pbxweb", str(RTR_WAN), "80",
                            "--title", ROUTER_WEB_TITLE, "--server", "lighttpd/1.4.69"],
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    pidfile.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not tcp_listening(ns(prefix, "rtr"), str(RTR_WAN), 80):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError("the router's web administration did not start: see "
                           f"{lab_dir(prefix) / 'router-web.log'}")
        time.sleep(0.02)


def apply_policy(state: LabState) -> None:
    """Load the policy ``state`` asks for into the router (also kept as ``router.nft``)."""
    text = ruleset(policy(state), wan="wan0", voice="voice0", data="data0")
    (lab_dir(state.prefix) / "router.nft").write_text(text)
    rtr = ns(state.prefix, "rtr")
    # nft replaces the ruleset in one netlink transaction; on a CI machine tearing other
    # labs' namespaces down at the same time it once took over 30 s (the kernel's netns
    # cleanup holds what the transaction waits for): a generous bound, not a hang.
    sh(["nft", "-f", "-"], ns=rtr, input=text, timeout=120)
    # Existing flows keep the helper/NAT they were created with: start clean.
    netns.run(rtr, ["conntrack", "-F"], check=False)


def impair(state: LabState, *, loss_pct: float, direction: str = "in") -> None:
    """Drop ``loss_pct`` % of the site's RTP at random (nftables numgen; this kernel has
    no netem): ``in`` what enters the site, ``out`` what leaves it. Undone by the next
    :func:`set_policy`."""
    if not 0 <= loss_pct <= 100:
        raise LabError(f"loss_pct {loss_pct} is not a percentage")
    if direction not in ("in", "out"):
        raise LabError(f"direction {direction!r}: expected 'in' or 'out'")
    lo, hi = state.rtp
    match = (f'iifname "wan0" udp dport {lo}-{hi}' if direction == "in"
             else f'oifname "wan0" udp sport {lo}-{hi}')
    per_10k = round(loss_pct * 100)
    sample = "" if per_10k >= 10000 else f"numgen random mod 10000 < {per_10k} "
    text = (
        "table inet recette_impair {\n"
        "  chain forward {\n"
        "    type filter hook forward priority -10; policy accept;\n"
        f"    {match} {sample}counter drop\n"
        "  }\n"
        "}\n"
    )
    rtr = ns(state.prefix, "rtr")
    netns.run(rtr, ["nft", "delete", "table", "inet", "recette_impair"], check=False)
    # nft replaces the ruleset in one netlink transaction; on a CI machine tearing other
    # labs' namespaces down at the same time it once took over 30 s (the kernel's netns
    # cleanup holds what the transaction waits for): a generous bound, not a hang.
    sh(["nft", "-f", "-"], ns=rtr, input=text, timeout=120)


def impairment_drops(prefix: str) -> int:
    """Packets the loss impairment has dropped so far (its nftables counter)."""
    out = sh(["nft", "-j", "list", "table", "inet", "recette_impair"], ns=ns(prefix, "rtr"))
    for item in json.loads(out)["nftables"]:
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                return int(expr["counter"]["packets"])
    return 0


def _template(name: str) -> str:
    return resources.files("harness.lab").joinpath(f"templates/{name}").read_text()


def start_router_ssh(prefix: str, timeout: float = 10.0) -> None:
    """A real OpenSSH server on the router, as OpIOS has, for the router audit.

    The lab's router user is a throw-away system account named after the lab; it gets
    `nft` through a copy carrying only CAP_NET_ADMIN (no root login)."""
    user = prefix
    state_dir = lab_dir(prefix)
    home = state_dir / "home"
    if netns.run(None, ["id", user], check=False).returncode != 0:
        sh(["useradd", "-M", "-N", "-g", "65534", "-d", str(home), "-s", "/bin/sh",
            "-c", "recette lab router user", user])
    sh(["chpasswd"], input=f"{user}:{lab_password(prefix, 'router')}\n")
    bindir = state_dir / "bin"
    bindir.mkdir(exist_ok=True)
    nft = bindir / "nft"
    shutil.copy2(shutil.which("nft") or "/usr/sbin/nft", nft)
    sh(["setcap", "cap_net_admin+ep", str(nft)])
    home.mkdir(exist_ok=True)
    (home / ".profile").write_text(f"PATH={bindir}:/usr/sbin:/sbin:$PATH\nexport PATH\n")
    shutil.chown(home, user=user)
    key = state_dir / "ssh_host_ed25519_key"
    if not key.exists():
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    (state_dir / "dnsmasq.conf").write_text(_template("dnsmasq.conf"))
    cfg = state_dir / "sshd_config"
    cfg.write_text(
        _template("sshd_config")
        .replace("@@RTR_VOICE@@", str(RTR_VOICE))
        .replace("@@RTR_DATA@@", str(RTR_DATA))
        .replace("@@HOST_KEY@@", str(key))
        .replace("@@PID_FILE@@", str(state_dir / "sshd.pid"))
        .replace("@@USER@@", user)
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = open(state_dir / "sshd.log", "ab")  # noqa: SIM115 - handed to the daemon
    with log:
        proc = netns.popen(ns(prefix, "rtr"), [shutil.which("sshd") or "/usr/sbin/sshd",
                                               "-D", "-e", "-f", str(cfg)],
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not tcp_listening(ns(prefix, "rtr"), str(RTR_VOICE), 22):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"sshd did not start on the router: see {state_dir / 'sshd.log'}")
        time.sleep(0.02)
