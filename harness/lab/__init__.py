"""The reference lab: a customer site, its router, the internet, the operator and an outsider.

Built from real parts in network namespaces joined by veth pairs::

    lan  192.168.254.10 ─┐                        ┌─ op  198.51.100.10 (Kamailio)
                          rtr ── 192.0.2.2 ── inet ┤
    data 192.168.1.10  ──┘  NAT, nftables, ALG    └─ out 203.0.113.66 (outsider)

With ``ipbx`` (``strict`` or ``weak``) the voice LAN also holds the site's own IPBX on
192.168.254.20 (a second address of ``lan``), and on the weak site the router forwards to it
what a careless integrator forwards: see :mod:`~harness.lab.ipbx`.

With ``operator="field"`` the operator side is a carrier's SBC instead (Kamailio plus rtpengine
anchoring all media, an announcement test number, no lab caller and no probe beside the SIP
server): see :mod:`~harness.lab.relay` and :mod:`~harness.lab.announcement`. Its ``shape``
says where its SIP and media come from (one address, an edge proxy and a relay of their own,
a latching relay...): see :mod:`~harness.lab.shapes`.

Every namespace is named ``<prefix>-<role>`` with a prefix ``rct`` + 4 hex digits, so a lab
left behind by a killed run is found and removed by :func:`down_all`. Lab state (Kamailio's
config, PID file and log, the policy in force) lives under ``/run/recette/<prefix>``.

This module holds :class:`Lab`, the handle callers use; the work is done by one module per
part: :mod:`~harness.lab.topology` (roles, addresses, namespaces and links),
:mod:`~harness.lab.router` (policy, impairment, SSH), :mod:`~harness.lab.operator` (Kamailio,
the SIPp far end, the probes), :mod:`~harness.lab.state` (saved state, finding and removing
labs) and :mod:`~harness.lab.procs` (process helpers). The names callers import from
``harness.lab`` are re-exported here.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from harness import netns
from harness.attest import Signer
from harness.errors import LabError, PreflightError
from harness.lab import (
    announcement,
    delay,
    ipbx,
    kamailio,
    latch,
    operator,
    provisioning,
    relay,
    router,
    shapes,
    testline,
    topology,
)
from harness.lab.firewall import FirewallMode, RouterPolicy
from harness.lab.procs import ns_pids as _ns_pids
from harness.lab.profile import MAX_CENTREX, dump_yaml, lab_profile_data, lab_signing_key
from harness.lab.state import (
    LabState,
    down,
    down_all,
    existing_prefixes,
    lab_dir,
    load_state,
    owner_alive,
    save_state,
)
from harness.lab.topology import (
    DATA_HOST,
    ECHO_NUMBER,
    GATEWAYS,
    INET_OP,
    INET_OUT,
    INET_WAN,
    IPBX_KINDS,
    LINKS,
    OP_SERVER,
    OUTSIDER,
    PBX_HOST,
    PREFIX_RE,
    PROBE,
    PROBE_PORT,
    ROLES,
    RTR_DATA,
    RTR_VOICE,
    RTR_WAN,
    SIP_DOMAIN,
    TEST_NUMBER,
    VOICE_HOST,
    IpbxKind,
    OperatorKind,
)
from harness.profile import Profile

__all__ = [
    "DATA_HOST", "ECHO_NUMBER", "FIELD_COMMANDS", "GATEWAYS", "INET_OP", "INET_OUT",
    "INET_WAN", "IPBX_COMMANDS", "IPBX_KINDS", "LINKS", "OP_SERVER", "OUTSIDER", "PBX_HOST",
    "PREFIX_RE",
    "PROBE", "PROBE_PORT", "REQUIRED_COMMANDS", "ROLES", "RTR_DATA", "RTR_VOICE", "RTR_WAN",
    "SIP_DOMAIN", "TEST_NUMBER", "VOICE_HOST", "IpbxKind", "Lab", "LabState", "OperatorKind",
    "Progress", "_ns_pids", "down", "down_all", "existing_prefixes", "owner_alive", "preflight",
    "profile_data",
]

REQUIRED_COMMANDS = {"ip": "iproute2", "nft": "nftables", "kamailio": "kamailio",
                     "conntrack": "conntrack", "sshd": "openssh-server",
                     "setcap": "libcap2-bin"}

FIELD_COMMANDS = {**REQUIRED_COMMANDS, "rtpengine": "rtpengine-daemon", "sipp": "sip-tester"}

IPBX_COMMANDS = {"in.tftpd": "tftpd-hpa"}  # the site's IPBX (strict or weak) provisions phones

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


def profile_data(state: LabState) -> dict[str, object]:
    """The profile of the lab ``state`` describes: the operator's addresses as its handbook
    gives them (the shape's edge proxy, the media address) unless the lab was built with a
    profile that forgets them (``declared`` false)."""
    shape = shapes.get(state.shape)
    return lab_profile_data(
        state.prefix, operator=state.operator,
        media_ip=state.media_ip if state.declared else None,
        signalling_ips=[str(ip) for ip in shape.signalling_ips] if state.declared else [],
        channels=state.channels, centrex=state.centrex)


def _media_address(operator: OperatorKind, shape: shapes.Shape,
                   media_ip: str | IPv4Address | None) -> IPv4Address:
    """The field lab's media address: the shape's by default, else a free address of the
    operator's network (``--media-ip``, the default shape only); refused for the default
    operator, which has no relay."""
    if media_ip is None:
        return shape.media_ip
    if operator != "field":
        raise LabError("--media-ip needs --operator field (the default lab has no media relay)")
    if shape != shapes.DEFAULT:
        raise LabError(f"--media-ip: the {shape.name} shape puts its media on "
                       f"{shape.media_ip}; only the default shape takes --media-ip")
    try:
        media = IPv4Address(str(media_ip))
    except ValueError:
        raise LabError(f"--media-ip {media_ip}: not an IPv4 address") from None
    net = IPv4Network(f"{OP_SERVER}/24", strict=False)
    if media not in net or media in (net.network_address, net.broadcast_address, INET_OP):
        raise LabError(f"--media-ip {media}: expected a free address of the operator's network "
                       f"{net} (not {INET_OP}, the internet's side of it)")
    return media


def _forwards(forwards: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{proto.upper()} {port}" for proto, port in forwards) or "nothing"


class Lab:
    """Handle on one built lab; obtain with :meth:`up` or :meth:`attach`.

    Each method hands its work to the part module named in its docstring."""

    def __init__(self, state: LabState, profile: Profile) -> None:
        self.state = state
        self.profile = profile

    # -- naming -------------------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self.state.prefix

    @property
    def dir(self) -> Path:
        return lab_dir(self.prefix)

    def ns(self, role: str) -> str:
        """Namespace name of a lab host role (see :func:`topology.ns`)."""
        return topology.ns(self.prefix, role)

    @property
    def policy(self) -> RouterPolicy:
        return router.policy(self.state)

    @property
    def field(self) -> bool:
        """True for the field operator (a carrier's SBC: relay, announcement, no lab caller)."""
        return self.state.operator == "field"

    @property
    def shape(self) -> shapes.Shape:
        """The operator's shape (the default operator's is :data:`shapes.DEFAULT`)."""
        return shapes.get(self.state.shape)

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
        operator: OperatorKind = "default",
        media_ip: str | IPv4Address | None = None,
        shape: str = "default",
        declared: bool = True,
        ipbx: IpbxKind = "none",
    ) -> Lab:
        """Build the lab; on any failure everything built so far is torn down again.

        ``owned``: this process will tear the lab down (tests, demo), so ``lab down`` leaves it
        alone while the process lives; ``recette lab up`` builds unowned labs.
        ``operator``: ``default``, or ``field`` (a carrier's SBC, see the module docstring),
        of the given ``shape`` (:data:`shapes.SHAPES`), whose media relay listens on
        ``media_ip`` in the default shape (the SIP server's address unless given).
        ``declared`` false: the lab profile leaves out the shape's edge proxy and media
        addresses, as an integrator who forgot them would.
        ``ipbx``: the site's own IPBX on the voice LAN, ``strict`` or ``weak`` (forwarded to
        the internet), or ``none`` (see :mod:`~harness.lab.ipbx` and :meth:`set_site`).
        """
        preflight({**(FIELD_COMMANDS if operator == "field" else REQUIRED_COMMANDS),
                   **(IPBX_COMMANDS if ipbx != "none" else {})})
        prefix = prefix or f"rct{secrets.token_hex(2)}"
        topology.check_prefix(prefix)
        form = shapes.get(shape)
        if form != shapes.DEFAULT and operator != "field":
            raise LabError(f"--shape {shape} needs --operator field (the default lab's "
                           "operator has one shape)")
        media = _media_address(operator, form, media_ip)
        if ipbx not in IPBX_KINDS:
            raise LabError(f"--ipbx {ipbx}: expected one of {', '.join(IPBX_KINDS)}")
        if any(netns.exists(f"{prefix}-{r}") for r in ROLES):
            raise LabError(f"a lab named {prefix} already exists: run `recette lab down` first")
        state = LabState(prefix, alg, firewall, str(profile_path) if profile_path else None,
                         time.time(), owner_pid=os.getpid() if owned else None,
                         shape=form.name, declared=declared, ipbx=ipbx)
        if operator == "field":
            state.operator, state.media_ip = "field", str(media)
            state.echo_number, state.announcement_number = ECHO_NUMBER, TEST_NUMBER
        profile = Profile.model_validate(profile_data(state))
        lab = cls(state, profile)
        try:
            lab._build(progress)
        except BaseException:
            down(prefix)
            raise
        return lab

    def _build(self, progress: Progress) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        save_state(self.state)
        field = self.field
        progress(f"namespaces {self.prefix}-{{{','.join(ROLES)}}}")
        topology.build_namespaces(self.prefix)
        progress("links and addresses")
        media = IPv4Address(self.state.media_ip or OP_SERVER)
        shape = self.shape
        # The default lab's probe beside the SIP server; the field lab's edge proxy and media
        # addresses when its shape has addresses of their own.
        op_extra = (PROBE,) if not field else shape.extra_addresses(media)
        topology.build_links(self.prefix, op_extra=op_extra)
        progress(f"router: firewall {self.state.firewall}, SIP ALG "
                 f"{'on' if self.state.alg else 'off'}")
        router.apply_policy(self.state)
        if field:
            progress(f"operator: shape {shape.name}: {shape.summary}")
            progress(f"operator: rtpengine (userspace) anchoring all media on {media}")
            self.start_relay()
        if shape.latching:
            progress("operator: the relay latches: nothing to a site before its first RTP "
                     f"packet reached the relay port (nftables table {latch.TABLE} in op)")
            latch.install(self.prefix, media)
        invite_ip, invite_port = shape.invite_from
        progress(f"operator: Kamailio on {OP_SERVER}:5060"
                 + (" as the carrier's SBC (hairpins, media on the relay)" if field else "")
                 + f", calling the site from {invite_ip}:{invite_port}")
        self.start_kamailio()
        progress(f"operator: far end (SIPp UAS, RTP echo + stream) on {OP_SERVER}:"
                 f"{kamailio.FAR_END_PORT}"
                 + (f", number {self.state.echo_number}" if field else ""))
        self.start_far_end()
        if field:
            progress(f"operator: test number {self.state.announcement_number}, an "
                     f"announcement (SIPp UAS, no echo) on {OP_SERVER}:{announcement.PORT}")
            self.start_announcement()
            progress(f"operator: test line {testline.NUMBER} (short code: 100rel, early media, "
                     f"session timer, a re-INVITE moving the media) on {OP_SERVER}:"
                     f"{testline.PORT}")
            self.start_test_line()
        if self.state.ipbx != "none":
            progress(f"site: {self.state.ipbx} IPBX on {PBX_HOST} (Kamailio SIP 5060 UDP/TCP, "
                     f"web administration {'/'.join(map(str, ipbx.WEB_PORTS))}, TFTP "
                     f"{provisioning.PORT}); forwarded from the WAN: "
                     f"{_forwards(self.policy.forwards)}")
            self.start_ipbx()
        progress(f"router: OpenSSH on {RTR_VOICE}:22 for the audit (user {self.prefix})")
        self.start_router_ssh()
        if field:
            progress(f"probe: outsider {OUTSIDER}:{PROBE_PORT} only")
        else:
            progress(f"probes: server side {PROBE}:{PROBE_PORT} (sending from {OP_SERVER}), "
                     f"outsider {OUTSIDER}:{PROBE_PORT}")
        self.start_probes()
        if self.state.profile_path:
            self.write_profile(Path(self.state.profile_path))
            progress(f"profile written to {self.state.profile_path}")

    @classmethod
    def attach(cls, prefix: str) -> Lab:
        """Handle on a lab built by another process."""
        state = load_state(prefix)
        return cls(state, Profile.model_validate(profile_data(state)))

    def down(self) -> None:
        """Tear this lab down (idempotent)."""
        down(self.prefix)

    # -- router -------------------------------------------------------------------------------
    def set_policy(self, *, alg: bool | None = None, firewall: FirewallMode | None = None,
                   rtp: tuple[int, int] = (10000, 20000), lans_open: bool = False,
                   admin_wan: bool = False) -> None:
        """Change the router's ALG/firewall in place (see :func:`router.set_policy`)."""
        router.set_policy(self.state, alg=alg, firewall=firewall, rtp=rtp, lans_open=lans_open,
                          admin_wan=admin_wan)

    def impair(self, *, loss_pct: float, direction: str = "in") -> None:
        """Drop ``loss_pct`` % of the site's RTP at random (see :func:`router.impair`)."""
        router.impair(self.state, loss_pct=loss_pct, direction=direction)

    def delay_to_site(self, *, ms: float, ports: tuple[int, int]) -> subprocess.Popen[bytes]:
        """Media from the operator to the site on ``ports`` arrives ``ms`` late (see
        :func:`delay.start`); give the returned process to :meth:`undelay`."""
        return delay.start(self.prefix, ms, ports)

    def undelay(self, proc: subprocess.Popen[bytes]) -> None:
        delay.stop(self.prefix, proc)

    def impairment_drops(self) -> int:
        """Packets the loss impairment has dropped so far (see :func:`router.impairment_drops`)."""
        return router.impairment_drops(self.prefix)

    def start_router_ssh(self, timeout: float = 10.0) -> None:
        """OpenSSH on the router for the audit (see :func:`router.start_router_ssh`)."""
        router.start_router_ssh(self.prefix, timeout)

    # -- the site's IPBX -----------------------------------------------------------------------
    def start_ipbx(self, timeout: float = 10.0) -> None:
        """Start the site's IPBX of the lab's variant (see :func:`ipbx.start`)."""
        ipbx.start(self.prefix, self.state.ipbx, self.shape.addresses, timeout)

    def set_site(self, kind: IpbxKind) -> None:
        """Put a ``kind`` IPBX on the site in place (``none`` removes it): the IPBX stopped,
        the router's forwards to it changed (conntrack flushed), the new one started."""
        if kind not in IPBX_KINDS:
            raise LabError(f"IPBX {kind!r}: expected one of {', '.join(IPBX_KINDS)}")
        ipbx.stop(self.prefix)
        self.state.ipbx = kind
        save_state(self.state)
        router.apply_policy(self.state)
        if kind != "none":
            self.start_ipbx()

    def ipbx_running(self) -> dict[str, bool]:
        """Which of the IPBX's daemons run (Kamailio, web page, TFTP)."""
        return ipbx.running(self.prefix)

    # -- operator -----------------------------------------------------------------------------
    @property
    def kamailio_pidfile(self) -> Path:
        return operator.kamailio_pidfile(self.prefix)

    def start_kamailio(self, timeout: float = 10.0) -> None:
        """Start Kamailio and wait until it answers (see :func:`operator.start_kamailio`)."""
        operator.start_kamailio(self.prefix, self.profile, self.state.digest, timeout,
                                field=self.field, shape=self.shape)

    def start_far_end(self, timeout: float = 5.0) -> None:
        """Start the SIPp far end (see :func:`operator.start_far_end`)."""
        operator.start_far_end(self.prefix, timeout)

    def start_announcement(self, timeout: float = 5.0) -> None:
        """Start the field lab's announcement test number (see
        :func:`operator.start_announcement`)."""
        operator.start_announcement(self.prefix, timeout)

    def start_test_line(self, timeout: float = 5.0) -> None:
        """Start the field lab's test line (see :mod:`harness.lab.testline`)."""
        operator.start_test_line(self.prefix, timeout)

    def start_relay(self, timeout: float = 10.0) -> None:
        """Start rtpengine on the lab's media address (see :func:`relay.start`)."""
        relay.start(self.prefix, self.state.media_ip or str(OP_SERVER), timeout)

    def relay_running(self) -> bool:
        return relay.running(self.prefix)

    def latch_held(self) -> int:
        """RTP packets the latching relay held back so far, sent to a site before it latched
        (see :func:`latch.held`; the latching shape only)."""
        if not self.shape.latching:
            raise LabError(f"the {self.shape.name} shape does not latch")
        return latch.held(self.prefix)

    def set_channels(self, channels: int) -> None:
        """Restart Kamailio enforcing ``channels`` on the lab trunk (486 beyond them, as the
        operator's SBC refuses a call over the contract); :meth:`write_profile` then writes
        that count."""
        if not 1 <= channels <= 1000:
            raise LabError(f"channels {channels}: expected 1 to 1000")
        self._restart_operator(channels=channels)

    def set_centrex(self, count: int) -> None:
        """Restart Kamailio serving ``count`` Centrex accounts (centrex101..., DIDs
        +33199000101...); :meth:`write_profile` then lists them (a large hosted-PBX site)."""
        if not 1 <= count <= MAX_CENTREX:
            raise LabError(f"centrex {count}: expected 1 to {MAX_CENTREX}")
        self._restart_operator(centrex=count)

    def _restart_operator(self, **changes: object) -> None:
        """Stop Kamailio, change the lab's state (saved for other processes), start it again
        on the profile that state now describes."""
        operator.stop_kamailio(self.prefix)
        for name, value in changes.items():
            setattr(self.state, name, value)
        save_state(self.state)
        self.profile = Profile.model_validate(profile_data(self.state))
        self.start_kamailio()

    def set_digest(self, algorithm: str) -> None:
        """Restart Kamailio challenging with ``algorithm`` (RFC 8760: "MD5" or "SHA-256")."""
        if algorithm not in ("MD5", "SHA-256"):
            raise LabError(f"digest algorithm {algorithm!r}: expected MD5 or SHA-256")
        self._restart_operator(digest=algorithm)

    def start_probes(self, timeout: float = 10.0) -> None:
        """Start the probe services, the outsider only in the field lab (see
        :func:`operator.start_probes`)."""
        operator.start_probes(self.prefix, timeout, server_side=not self.field)

    def probe_keys(self) -> dict[str, str]:
        """The PUBLIC signing key of each probe this lab runs ("outsider", and "server"
        beside the SIP server unless field): what the demo and tests register in the console
        so it can verify the sweeps' attestations. The private halves stay in the probes'
        environment."""
        roles = ["out"] if self.field else ["op", "out"]
        return {operator.PROBE_NAMES[r]: Signer.from_text(
            lab_signing_key(self.prefix, operator.PROBE_NAMES[r])).public for r in roles}

    def kamailio_running(self) -> bool:
        return operator.kamailio_running(self.prefix)

    def stop_kamailio(self) -> None:
        """Stop Kamailio and wait for it to exit (see :func:`operator.stop_kamailio`)."""
        operator.stop_kamailio(self.prefix)

    # -- profile ------------------------------------------------------------------------------
    def write_profile(self, path: Path) -> None:
        """Write the lab's site profile (it holds the lab's random passwords: mode 0600)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(profile_data(self.state)))
        path.chmod(0o600)

    def status(self) -> dict[str, object]:
        """Live state: which namespaces exist, whether Kamailio runs, the router policy."""
        return {
            "prefix": self.prefix,
            "operator": self.state.operator,
            "namespaces": {r: netns.exists(self.ns(r)) for r in ROLES},
            "kamailio": self.kamailio_running(),
            "rtpengine": self.relay_running() if self.field else None,
            "shape": self.state.shape,
            "declared": self.state.declared,
            "media_ip": self.state.media_ip,
            "echo_number": self.state.echo_number,
            "announcement_number": self.state.announcement_number,
            "alg": self.state.alg,
            "firewall": self.state.firewall,
            "ipbx": self.state.ipbx,
            "ipbx_daemons": self.ipbx_running() if self.state.ipbx != "none" else None,
            "rtp": list(self.state.rtp),
            "profile": self.state.profile_path,
        }
