"""The reference lab: a customer site, its router, the internet, the operator and an outsider.

Built from real parts in network namespaces joined by veth pairs::

    lan  192.168.254.10 ─┐                        ┌─ op  198.51.100.10 (Kamailio)
                          rtr ── 192.0.2.2 ── inet ┤
    data 192.168.1.10  ──┘  NAT, nftables, ALG    └─ out 203.0.113.66 (outsider)

Every namespace is named ``<prefix>-<role>`` with a prefix ``rct`` + 4 hex digits, so a lab
left behind by a killed run is found and removed by :func:`down_all`. Lab state (Kamailio's
config, PID file and log, the policy in force) lives under ``/run/recette/<prefix>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address
from pathlib import Path

from harness import netns
from harness.errors import LabError, PreflightError
from harness.lab import farend, kamailio
from harness.lab.firewall import FirewallMode, RouterPolicy, ruleset
from harness.lab.profile import STATE_ROOT, dump_yaml, lab_password, lab_profile_data
from harness.profile import Profile

PREFIX_RE = re.compile(r"^rct[0-9a-f]{4}$")
ROLES = ("lan", "data", "rtr", "inet", "op", "out")

# Addresses (documentation ranges on the internet side, OpIOS defaults on the LAN side).
VOICE_HOST = IPv4Address("192.168.254.10")
DATA_HOST = IPv4Address("192.168.1.10")
RTR_VOICE = IPv4Address("192.168.254.1")
RTR_DATA = IPv4Address("192.168.1.1")
RTR_WAN = IPv4Address("192.0.2.2")
INET_WAN = IPv4Address("192.0.2.1")
INET_OP = IPv4Address("198.51.100.1")
INET_OUT = IPv4Address("203.0.113.1")
OP_SERVER = IPv4Address("198.51.100.10")
OUTSIDER = IPv4Address("203.0.113.66")
PROBE = IPv4Address("198.51.100.20")  # the operator's probe service, beside the SIP server
PROBE_PORT = 5099
SIP_DOMAIN = "sip.recette.example"

# (ns A, ifname in A, address/len in A, ns B, ifname in B, address/len in B)
LINKS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("lan", "eth0", f"{VOICE_HOST}/24", "rtr", "voice0", f"{RTR_VOICE}/24"),
    ("data", "eth0", f"{DATA_HOST}/24", "rtr", "data0", f"{RTR_DATA}/24"),
    ("rtr", "wan0", f"{RTR_WAN}/24", "inet", "site0", f"{INET_WAN}/24"),
    ("op", "eth0", f"{OP_SERVER}/24", "inet", "op0", f"{INET_OP}/24"),
    ("out", "eth0", f"{OUTSIDER}/24", "inet", "out0", f"{INET_OUT}/24"),
)
GATEWAYS = {"lan": RTR_VOICE, "data": RTR_DATA, "rtr": INET_WAN, "op": INET_OP, "out": INET_OUT}

REQUIRED_COMMANDS = {"ip": "iproute2", "nft": "nftables", "kamailio": "kamailio",
                     "conntrack": "conntrack", "sshd": "openssh-server",
                     "setcap": "libcap2-bin"}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def preflight(commands: dict[str, str] = REQUIRED_COMMANDS) -> None:
    """Fail with one actionable line when not root or a needed system package is missing."""
    if os.geteuid() != 0:
        raise PreflightError(
            "the lab needs root (it creates network namespaces): run it with sudo"
        )
    missing = sorted({pkg for cmd, pkg in commands.items() if shutil.which(cmd) is None})
    if missing:
        raise PreflightError(
            f"missing system package(s): {', '.join(missing)}: run `sudo ./setup.sh` "
            f"(or apt-get install {' '.join(missing)})"
        )


def _sh(argv: list[str], *, ns: str | None = None, input: str | None = None) -> str:
    try:
        return netns.run(ns, argv, input=input).stdout
    except subprocess.CalledProcessError as exc:
        where = f" in {ns}" if ns else ""
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        errors = [ln for ln in lines if ln.lower().startswith("error")]
        detail = (errors or lines or [str(exc.returncode)])[0]
        raise LabError(f"`{' '.join(argv)}`{where} failed: {detail}") from None


@dataclass
class LabState:
    """What ``lab up`` built, persisted so ``status``/``down`` work from another process."""

    prefix: str
    alg: bool
    firewall: FirewallMode
    profile_path: str | None
    created: float
    rtp: tuple[int, int] = (10000, 20000)
    owner_pid: int | None = None  # a test or demo process that will tear it down itself
    digest: str = "MD5"  # the algorithm Kamailio challenges with (MD5 or SHA-256)
    lans_open: bool = False  # the router forwards anything between the voice and data LANs


class Lab:
    """Handle on one built lab; obtain with :meth:`up` or :meth:`attach`."""

    def __init__(self, state: LabState, profile: Profile) -> None:
        self.state = state
        self.profile = profile

    # -- naming -------------------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self.state.prefix

    @property
    def dir(self) -> Path:
        return STATE_ROOT / self.prefix

    def ns(self, role: str) -> str:
        """Namespace name of a lab host role (``lan``, ``data``, ``rtr``, ``inet``, ``op``,
        ``out``)."""
        if role not in ROLES:
            raise KeyError(role)
        return f"{self.prefix}-{role}"

    @property
    def policy(self) -> RouterPolicy:
        return RouterPolicy(alg=self.state.alg, mode=self.state.firewall, server=OP_SERVER,
                            ipbx=VOICE_HOST, rtp=self.state.rtp, lans_open=self.state.lans_open)

    # -- life cycle ---------------------------------------------------------------------------
    @classmethod
    def up(
        cls,
        *,
        prefix: str | None = None,
        alg: bool = False,
        firewall: FirewallMode = "strict",
        profile_path: Path | None = None,
        progress: Progress = _quiet,
        owned: bool = True,
    ) -> Lab:
        """Build the lab; on any failure everything built so far is torn down again.

        ``owned``: this process will tear the lab down (tests, demo), so ``lab down`` leaves it
        alone while the process lives; ``recette lab up`` builds unowned labs.
        """
        preflight()
        prefix = prefix or f"rct{secrets.token_hex(2)}"
        if not PREFIX_RE.match(prefix):
            raise LabError(f"lab prefix {prefix!r} must be 'rct' followed by 4 hex digits")
        if any(netns.exists(f"{prefix}-{r}") for r in ROLES):
            raise LabError(f"a lab named {prefix} already exists: run `recette lab down` first")
        state = LabState(prefix, alg, firewall, str(profile_path) if profile_path else None,
                         time.time(), owner_pid=os.getpid() if owned else None)
        profile = Profile.model_validate(lab_profile_data(prefix))
        lab = cls(state, profile)
        try:
            lab._build(progress)
        except BaseException:
            down(prefix)
            raise
        return lab

    def _build(self, progress: Progress) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._save_state()
        progress(f"namespaces {self.prefix}-{{{','.join(ROLES)}}}")
        for role in ROLES:
            _sh(["ip", "netns", "add", self.ns(role)])
            _sh(["ip", "-n", self.ns(role), "link", "set", "lo", "up"])
        progress("links and addresses")
        for a, if_a, ip_a, b, if_b, ip_b in LINKS:
            _sh(["ip", "link", "add", if_a, "netns", self.ns(a), "type", "veth",
                 "peer", "name", if_b, "netns", self.ns(b)])
            for ns_role, ifname, addr in ((a, if_a, ip_a), (b, if_b, ip_b)):
                _sh(["ip", "-n", self.ns(ns_role), "addr", "add", addr, "dev", ifname])
                _sh(["ip", "-n", self.ns(ns_role), "link", "set", ifname, "up"])
        _sh(["ip", "-n", self.ns("op"), "addr", "add", f"{PROBE}/24", "dev", "eth0"])
        for role, gw in GATEWAYS.items():
            _sh(["ip", "-n", self.ns(role), "route", "add", "default", "via", str(gw)])
        for role in ("rtr", "inet"):
            _sh(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns=self.ns(role))
        progress(f"router: firewall {self.state.firewall}, SIP ALG "
                 f"{'on' if self.state.alg else 'off'}")
        self._apply_policy()
        progress(f"operator: Kamailio on {OP_SERVER}:5060")
        self.start_kamailio()
        progress(f"operator: far end (SIPp UAS, RTP echo + stream) on {OP_SERVER}:"
                 f"{kamailio.FAR_END_PORT}")
        self.start_far_end()
        progress(f"router: OpenSSH on {RTR_VOICE}:22 for the audit (user {self.prefix})")
        self.start_router_ssh()
        progress(f"probes: server side {PROBE}:{PROBE_PORT} (sending from {OP_SERVER}), "
                 f"outsider {OUTSIDER}:{PROBE_PORT}")
        self.start_probes()
        if self.state.profile_path:
            self.write_profile(Path(self.state.profile_path))
            progress(f"profile written to {self.state.profile_path}")

    def _save_state(self) -> None:
        (self.dir / "state.json").write_text(json.dumps(asdict(self.state)))

    @classmethod
    def attach(cls, prefix: str) -> Lab:
        """Handle on a lab built by another process."""
        path = STATE_ROOT / prefix / "state.json"
        try:
            raw = json.loads(path.read_text())
            state = LabState(**{**raw, "rtp": tuple(raw.get("rtp", (10000, 20000)))})
        except FileNotFoundError:
            raise LabError(f"no lab named {prefix} (no {path})") from None
        return cls(state, Profile.model_validate(lab_profile_data(prefix)))

    def down(self) -> None:
        """Tear this lab down (idempotent)."""
        down(self.prefix)

    # -- router -------------------------------------------------------------------------------
    def set_policy(self, *, alg: bool | None = None, firewall: FirewallMode | None = None,
                   rtp: tuple[int, int] = (10000, 20000), lans_open: bool = False) -> None:
        """Change the router's ALG/firewall in place; flushes conntrack so it applies at once.

        ``rtp`` narrows the forwarded media range (a half-open firewall a check must catch);
        ``lans_open`` lets the voice and data LANs reach each other (the "permit any" between
        LANs an isolation audit must catch). Neither is sticky: each call states what it wants.
        """
        if alg is not None:
            self.state.alg = alg
        if firewall is not None:
            self.state.firewall = firewall
        self.state.rtp = rtp
        self.state.lans_open = lans_open
        self._apply_policy()
        self._save_state()

    def _apply_policy(self) -> None:
        text = ruleset(self.policy, wan="wan0", voice="voice0", data="data0")
        (self.dir / "router.nft").write_text(text)
        _sh(["nft", "-f", "-"], ns=self.ns("rtr"), input=text)
        # Existing flows keep the helper/NAT they were created with: start clean.
        netns.run(self.ns("rtr"), ["conntrack", "-F"], check=False)

    def impair(self, *, loss_pct: float, direction: str = "in") -> None:
        """Drop ``loss_pct`` % of the site's RTP at random (nftables numgen; this kernel has
        no netem): ``in`` what enters the site, ``out`` what leaves it. Undone by the next
        :meth:`set_policy`."""
        if not 0 <= loss_pct <= 100:
            raise LabError(f"loss_pct {loss_pct} is not a percentage")
        if direction not in ("in", "out"):
            raise LabError(f"direction {direction!r}: expected 'in' or 'out'")
        lo, hi = self.state.rtp
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
        netns.run(self.ns("rtr"), ["nft", "delete", "table", "inet", "recette_impair"],
                  check=False)
        _sh(["nft", "-f", "-"], ns=self.ns("rtr"), input=text)

    def impairment_drops(self) -> int:
        """Packets the loss impairment has dropped so far (its nftables counter)."""
        out = _sh(["nft", "-j", "list", "table", "inet", "recette_impair"], ns=self.ns("rtr"))
        for item in json.loads(out)["nftables"]:
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    return int(expr["counter"]["packets"])
        return 0

    # -- operator's Kamailio ------------------------------------------------------------------
    @property
    def kamailio_pidfile(self) -> Path:
        return self.dir / "kamailio.pid"

    def start_kamailio(self, timeout: float = 10.0) -> None:
        """Start the operator's Kamailio in ``op`` and wait until it answers OPTIONS."""
        cfg = self.dir / "kamailio.cfg"
        cfg.write_text(kamailio.render(self.profile, algorithm=self.state.digest))
        cfg.chmod(0o600)
        check = netns.run(None, ["kamailio", "-c", "-f", str(cfg)], check=False)
        if check.returncode != 0:
            lines = (check.stderr or "").strip().splitlines()
            why = [ln.split(": ", 2)[-1] for ln in lines if "CRITICAL" in ln or "ERROR" in ln]
            raise LabError(f"kamailio rejected {cfg}: {' | '.join(why[:2] or lines[-2:])}")
        log = open(self.dir / "kamailio.log", "ab")  # noqa: SIM115 - handed to the daemon
        with log:
            rc = netns.popen(
                self.ns("op"),
                ["kamailio", "-f", str(cfg), "-P", str(self.kamailio_pidfile),
                 "-w", str(self.dir), "-m", "32", "-M", "8"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            ).wait(timeout)
        if rc != 0:
            raise LabError(f"kamailio exited with {rc}: see {self.dir / 'kamailio.log'}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._options_ping():
                return
        raise LabError(f"kamailio did not answer within {timeout:.0f} s: see "
                       f"{self.dir / 'kamailio.log'}")

    def _options_ping(self) -> bool:
        with netns.inside(self.ns("op")):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with s:
            s.settimeout(0.2)
            s.bind((str(OP_SERVER), 0))
            port = s.getsockname()[1]
            msg = (
                f"OPTIONS sip:{OP_SERVER} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {OP_SERVER}:{port};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
                f"From: <sip:ping@{OP_SERVER}>;tag=1\r\nTo: <sip:{OP_SERVER}>\r\n"
                f"Call-ID: {secrets.token_hex(8)}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            try:
                s.sendto(msg.encode(), (str(OP_SERVER), 5060))
                return s.recv(4096).startswith(b"SIP/2.0 200")
            except OSError:
                time.sleep(0.05)
                return False

    def start_far_end(self, timeout: float = 5.0) -> None:
        """Start the SIPp far end in ``op`` and wait until its SIP port is bound."""
        pcap = self.dir / "farend.pcap"
        if not pcap.exists():
            farend.write_pcap(pcap)
        scen = self.dir / "farend.xml"
        scen.write_text(farend.scenario(pcap))
        log = open(self.dir / "farend.log", "ab")  # noqa: SIM115 - handed to the process
        with log:
            proc = netns.popen(self.ns("op"),
                               farend.command(scen, str(OP_SERVER), kamailio.FAR_END_PORT),
                               stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                               cwd=str(self.dir))
        (self.dir / "farend.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LabError(f"the SIPp far end exited with {proc.returncode}: see "
                               f"{self.dir / 'farend.log'}")
            if _udp_port_taken(self.ns("op"), str(OP_SERVER), kamailio.FAR_END_PORT):
                return
            time.sleep(0.02)
        raise LabError(f"the SIPp far end did not start within {timeout:.0f} s")

    def set_digest(self, algorithm: str) -> None:
        """Restart Kamailio challenging with ``algorithm`` (RFC 8760: "MD5" or "SHA-256")."""
        if algorithm not in ("MD5", "SHA-256"):
            raise LabError(f"digest algorithm {algorithm!r}: expected MD5 or SHA-256")
        self.stop_kamailio()
        self.state.digest = algorithm
        self._save_state()
        self.start_kamailio()

    def start_router_ssh(self, timeout: float = 10.0) -> None:
        """A real OpenSSH server on the router, as OpIOS has, for the router audit.

        The lab's router user is a throw-away system account named after the lab; it gets
        `nft` through a copy carrying only CAP_NET_ADMIN (no root login)."""
        user = self.prefix
        home = self.dir / "home"
        if netns.run(None, ["id", user], check=False).returncode != 0:
            _sh(["useradd", "-M", "-N", "-g", "65534", "-d", str(home), "-s", "/bin/sh",
                 "-c", "recette lab router user", user])
        _sh(["chpasswd"], input=f"{user}:{lab_password(self.prefix, 'router')}\n")
        bindir = self.dir / "bin"
        bindir.mkdir(exist_ok=True)
        nft = bindir / "nft"
        shutil.copy2(shutil.which("nft") or "/usr/sbin/nft", nft)
        _sh(["setcap", "cap_net_admin+ep", str(nft)])
        home.mkdir(exist_ok=True)
        (home / ".profile").write_text(f"PATH={bindir}:/usr/sbin:/sbin:$PATH\nexport PATH\n")
        shutil.chown(home, user=user)
        key = self.dir / "ssh_host_ed25519_key"
        if not key.exists():
            _sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
        (self.dir / "dnsmasq.conf").write_text(
            "# OpIOS DHCP (dnsmasq syntax), written by the recette lab\n"
            "interface=data0\ninterface=voice0\n"
            "dhcp-range=interface:data0,192.168.1.100,192.168.1.200,12h\n"
            "dhcp-range=interface:voice0,192.168.254.100,192.168.254.200,12h\n")
        cfg = self.dir / "sshd_config"
        cfg.write_text(
            f"ListenAddress {RTR_VOICE}\nListenAddress {RTR_DATA}\nPort 22\n"
            f"HostKey {key}\nPidFile {self.dir / 'sshd.pid'}\n"
            "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM no\n"
            f"PermitRootLogin no\nAllowUsers {user}\nPrintMotd no\nStrictModes no\n")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = open(self.dir / "sshd.log", "ab")  # noqa: SIM115 - handed to the daemon
        with log:
            proc = netns.popen(self.ns("rtr"), [shutil.which("sshd") or "/usr/sbin/sshd",
                                                "-D", "-e", "-f", str(cfg)],
                               stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _tcp_listening(self.ns("rtr"), str(RTR_VOICE), 22):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"sshd did not start on the router: see {self.dir / 'sshd.log'}")
            time.sleep(0.02)

    def start_probes(self, timeout: float = 10.0) -> None:
        """``recette probe serve`` in ``op`` (SIP listeners, sending from the server IP) and in
        ``out`` (the outsider vantage point), keyed with the lab's probe key."""
        env = {**os.environ, "RECETTE_PROBE_KEY": lab_password(self.prefix, "probe")}
        for role, control, send_from, sip in (
            ("op", PROBE, OP_SERVER, PROBE), ("out", OUTSIDER, OUTSIDER, OUTSIDER),
        ):
            argv = [sys.executable, "-m", "harness.cli", "probe", "serve", "--control",
                    f"{control}:{PROBE_PORT}", "--send-from", str(send_from),
                    "--log", str(self.dir / f"probe-{role}.jsonl")]
            if sip is not None:
                argv += ["--sip-ip", str(sip)]
            log = open(self.dir / f"probe-{role}.log", "ab")  # noqa: SIM115 - handed over
            with log:
                proc = netns.popen(self.ns(role), argv, stdout=log, stderr=log,
                                   stdin=subprocess.DEVNULL, env=env)
            deadline = time.monotonic() + timeout
            while not _tcp_listening(self.ns(role), str(control), PROBE_PORT):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise LabError(f"the {role} probe did not start: see "
                                   f"{self.dir / f'probe-{role}.log'}")
                time.sleep(0.02)

    def kamailio_running(self) -> bool:
        return _pid_alive(self.kamailio_pidfile)

    def stop_kamailio(self) -> None:
        """Stop the operator's Kamailio (all its children) and wait for them to exit."""
        far = _read_pid(self.dir / "farend.pid")
        _kill_all([p for p in _ns_pids(self.ns("op")) if p != far])
        self.kamailio_pidfile.unlink(missing_ok=True)

    # -- profile ------------------------------------------------------------------------------
    def write_profile(self, path: Path) -> None:
        """Write the lab's site profile (it holds the lab's random passwords: mode 0600)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(lab_profile_data(self.prefix)))
        path.chmod(0o600)

    def status(self) -> dict[str, object]:
        """Live state: which namespaces exist, whether Kamailio runs, the router policy."""
        return {
            "prefix": self.prefix,
            "namespaces": {r: netns.exists(self.ns(r)) for r in ROLES},
            "kamailio": self.kamailio_running(),
            "alg": self.state.alg,
            "firewall": self.state.firewall,
            "rtp": list(self.state.rtp),
            "profile": self.state.profile_path,
        }


def _udp_port_taken(ns: str, ip: str, port: int) -> bool:
    with netns.inside(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        try:
            s.bind((ip, port))
        except OSError:
            return True
    return False


def _read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _tcp_listening(ns: str, ip: str, port: int) -> bool:
    with netns.inside(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with s:
        s.settimeout(0.2)
        return s.connect_ex((ip, port)) == 0


def _pid_alive(pidfile: Path) -> bool:
    pid = _read_pid(pidfile)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ns_pids(ns: str) -> list[int]:
    if not netns.exists(ns):
        return []
    out = netns.run(None, ["ip", "netns", "pids", ns], check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _kill_all(pids: list[int], grace: float = 2.0) -> None:
    """SIGTERM every pid at once, SIGKILL whatever is still there after ``grace`` seconds."""
    alive = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            alive.append(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [p for p in alive if _exists(p)]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    """True while ``pid`` is a live (non-zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def existing_prefixes() -> list[str]:
    """Prefixes of every lab with at least a namespace or a state folder on this machine."""
    found = {n.split("-", 1)[0] for n in netns.list_names()
             if "-" in n and PREFIX_RE.match(n.split("-", 1)[0])}
    if STATE_ROOT.is_dir():
        found |= {p.name for p in STATE_ROOT.iterdir() if PREFIX_RE.match(p.name)}
    return sorted(found)


def down(prefix: str) -> None:
    """Remove one lab: kill its processes, delete its namespaces and state (idempotent)."""
    if not PREFIX_RE.match(prefix):
        raise LabError(f"lab prefix {prefix!r} must be 'rct' followed by 4 hex digits")
    _kill_all([pid for role in ROLES for pid in _ns_pids(f"{prefix}-{role}")])
    if netns.run(None, ["id", prefix], check=False).returncode == 0:
        netns.run(None, ["userdel", prefix], check=False)  # the router's throw-away account
    for role in ROLES:
        name = f"{prefix}-{role}"
        if netns.exists(name):
            netns.run(None, ["ip", "netns", "del", name], check=False)
    shutil.rmtree(STATE_ROOT / prefix, ignore_errors=True)


def owner_alive(prefix: str) -> int | None:
    """PID of the live process that owns lab ``prefix`` (and will remove it), if any."""
    try:
        raw = json.loads((STATE_ROOT / prefix / "state.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    pid = raw.get("owner_pid")
    return pid if isinstance(pid, int) and _exists(pid) else None


def down_all(*, force: bool = False) -> tuple[list[str], list[str]]:
    """Remove the labs on this machine: those built by ``recette lab up``, and those left by
    a run that died (owner gone, or half-built). A lab whose owning process still runs (a
    test session, a demo) is kept unless ``force``. Returns (removed, kept)."""
    removed, kept = [], []
    for p in existing_prefixes():
        if not force and owner_alive(p) is not None:
            kept.append(p)
            continue
        down(p)
        removed.append(p)
    return removed, kept
