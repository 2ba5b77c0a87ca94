"""The lab's map: its host roles, the wires between them and every address, and the building
of namespaces and links from that map.

The router's rules, Kamailio's listen address, the probes and the tests that send packets
all name lab hosts by these constants, so the map is written once, here; the code that turns
it into namespaces, veth pairs, addresses and routes sits beside it so the two cannot drift.
A lab's namespaces are named ``<prefix>-<role>`` (see :mod:`harness.lab`).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Literal

from harness.errors import LabError
from harness.lab.procs import sh

PREFIX_RE = re.compile(r"^rct[0-9a-f]{4}$")
ROLES = ("lan", "data", "rtr", "inet", "op", "out")

# The operator a lab is built with: "default" (Kamailio, an echoing far end, a lab caller and a
# probe beside the SIP server) or "field" (Kamailio and rtpengine as a carrier's SBC, an
# announcement test number, nothing of ours on the operator side: see harness.lab.field).
OperatorKind = Literal["default", "field"]
OPERATOR_KINDS: tuple[OperatorKind, ...] = ("default", "field")

# The site's own IPBX (harness.lab.ipbx): none (the lab as before: the agent plays the IPBX),
# strict (LAN and operator only, every request authenticated, nothing forwarded to it) or weak
# (a FreePBX-like box a careless integrator forwarded to the internet).
IpbxKind = Literal["none", "strict", "weak"]
IPBX_KINDS: tuple[IpbxKind, ...] = ("none", "strict", "weak")

# Addresses (documentation ranges on the internet side, OpIOS defaults on the LAN side).
VOICE_HOST = IPv4Address("192.168.254.10")
PBX_HOST = IPv4Address("192.168.254.20")  # the site's IPBX, a second address of ``lan``
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

# Numbers the operator answers itself. The default lab sends every other number to its echo
# far end; the field lab answers TEST_NUMBER with an announcement and ECHO_NUMBER with the echo.
TEST_NUMBER = "0899000000"
ECHO_NUMBER = "0899000001"

# (ns A, ifname in A, address/len in A, ns B, ifname in B, address/len in B)
LINKS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("lan", "eth0", f"{VOICE_HOST}/24", "rtr", "voice0", f"{RTR_VOICE}/24"),
    ("data", "eth0", f"{DATA_HOST}/24", "rtr", "data0", f"{RTR_DATA}/24"),
    ("rtr", "wan0", f"{RTR_WAN}/24", "inet", "site0", f"{INET_WAN}/24"),
    ("op", "eth0", f"{OP_SERVER}/24", "inet", "op0", f"{INET_OP}/24"),
    ("out", "eth0", f"{OUTSIDER}/24", "inet", "out0", f"{INET_OUT}/24"),
)
GATEWAYS = {"lan": RTR_VOICE, "data": RTR_DATA, "rtr": INET_WAN, "op": INET_OP, "out": INET_OUT}


def check_prefix(prefix: str) -> None:
    """Refuse a lab name that is not ``rct`` + 4 hex digits (the only names teardown finds)."""
    if not PREFIX_RE.match(prefix):
        raise LabError(f"lab prefix {prefix!r} must be 'rct' followed by 4 hex digits")


def ns(prefix: str, role: str) -> str:
    """Namespace name of a lab host role (``lan``, ``data``, ``rtr``, ``inet``, ``op``,
    ``out``)."""
    if role not in ROLES:
        raise KeyError(role)
    return f"{prefix}-{role}"


def build_namespaces(prefix: str) -> None:
    """One namespace per role, loopback up."""
    for role in ROLES:
        sh(["ip", "netns", "add", ns(prefix, role)])
        sh(["ip", "-n", ns(prefix, role), "link", "set", "lo", "up"])


def build_links(prefix: str, op_extra: tuple[IPv4Address, ...] = (PROBE,)) -> None:
    """The veth pairs of :data:`LINKS` with their addresses, the extra addresses of ``op``
    (the probe's by default; the field lab's media address when it has its own), default
    routes, and forwarding on the router and the internet."""
    for a, if_a, ip_a, b, if_b, ip_b in LINKS:
        sh(["ip", "link", "add", if_a, "netns", ns(prefix, a), "type", "veth",
            "peer", "name", if_b, "netns", ns(prefix, b)])
        for ns_role, ifname, addr in ((a, if_a, ip_a), (b, if_b, ip_b)):
            sh(["ip", "-n", ns(prefix, ns_role), "addr", "add", addr, "dev", ifname])
            sh(["ip", "-n", ns(prefix, ns_role), "link", "set", ifname, "up"])
    for extra in op_extra:
        sh(["ip", "-n", ns(prefix, "op"), "addr", "add", f"{extra}/24", "dev", "eth0"])
    for role, gw in GATEWAYS.items():
        sh(["ip", "-n", ns(prefix, role), "route", "add", "default", "via", str(gw)])
    for role in ("rtr", "inet"):
        sh(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns=ns(prefix, role))
