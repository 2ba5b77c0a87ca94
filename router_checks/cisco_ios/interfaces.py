"""Cisco IOS interfaces → their addresses, VLAN, NAT side, access-groups and zone, and the
role each plays for the site (WAN, LAN or neither).

Why here: every other reader asks the same questions of an interface (which side of NAT,
which list filters it, which zone holds it), and the role decides which audits apply to it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from router_checks.cisco_ios.tree import Node, source
from router_checks.model import Interface

Role = Literal["wan", "lan", "unknown"]
RFC1918 = (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"),
           IPv4Network("192.168.0.0/16"))
# Interfaces whose addresses say nothing about which side of the site they face.
NO_ROLE_PREFIXES = ("loopback", "null", "tunnel", "virtual-template", "nve")


def _is_rfc1918(ip: IPv4Address) -> bool:
    # Not ip.is_private: Python counts the documentation ranges (192.0.2.0/24, ...) as
    # private, and those are exactly what example WAN addresses use.
    return any(ip in n for n in RFC1918)


@dataclass
class Itf:
    node: Node
    addrs: list[tuple[IPv4Interface, Node]]
    nat: Literal["inside", "outside"] | None
    acl_in: Node | None
    vlan: int | None
    acl_out: Node | None = None
    zone: tuple[str, Node] | None = None  # zone-member security NAME
    dynamic: Node | None = None  # ip address dhcp / negotiated: the ISP assigns it


# Words after an interface's name that qualify it (sub-interface types), not name it.
_QUALIFIERS = ("point-to-point", "multipoint")


def itf_name(words: list[str], i: int) -> tuple[str, int]:
    """The interface named at ``words[i]`` and the index after it. IOS accepts the type and
    number apart (``Loopback 100``, ``GigabitEthernet 0/0``) and stores them as one word."""
    name = words[i]
    if (i + 1 < len(words) and re.fullmatch(r"[A-Za-z-]+", name)
            and re.match(r"\d", words[i + 1])):
        return name + words[i + 1], i + 2
    return name, i + 1


def _blocks(top: list[Node]) -> dict[str, list[Node]]:
    """Each interface's ``interface`` blocks, by name: IOS merges a repeated block into the
    first (a later ``ip address`` replaces the primary, other lines add up)."""
    out: dict[str, list[Node]] = {}
    for n in top:
        w = n.words
        if len(w) >= 2 and w[0] == "interface":
            name, i = itf_name(w, 1)
            if all(x in _QUALIFIERS for x in w[i:]):
                out.setdefault(name, []).append(n)
    return out


def read_interfaces(top: list[Node]) -> dict[str, Itf]:
    out: dict[str, Itf] = {}
    for name, nodes in _blocks(top).items():
        n = nodes[0]
        if len(nodes) > 1:  # one view of the merged block, citing the first header
            n = Node(n.num, n.text, [c for x in nodes for c in x.children])
        m = re.fullmatch(r"[Vv]lan(\d+)", name)
        itf = Itf(n, [], None, None, int(m.group(1)) if m else None)
        for c in n.children:
            cw = c.words
            if cw[:2] == ["ip", "address"] and cw[2:3] in (["dhcp"], ["negotiated"]):
                itf.dynamic = c
            elif cw[:2] == ["ip", "address"] and len(cw) >= 4:
                with contextlib.suppress(ValueError):
                    addr = (IPv4Interface(f"{cw[2]}/{cw[3]}"), c)
                    # IOS prints secondaries before the primary; keep the primary first, as
                    # it is the address "interface X" stands for in NAT. A second primary
                    # (a repeated block) replaces the first, as on the device.
                    if cw[4:5] == ["secondary"]:
                        itf.addrs.append(addr)
                    else:
                        if itf.addrs and itf.addrs[0][1].words[4:5] != ["secondary"]:
                            itf.addrs.pop(0)
                        itf.addrs.insert(0, addr)
            elif cw[:2] == ["ip", "nat"] and len(cw) == 3 and cw[2] in ("inside", "outside"):
                itf.nat = "inside" if cw[2] == "inside" else "outside"
            elif cw[:2] == ["ip", "access-group"] and len(cw) == 4 and cw[3] == "in":
                itf.acl_in = c
            elif cw[:2] == ["ip", "access-group"] and len(cw) == 4 and cw[3] == "out":
                itf.acl_out = c
            elif cw[:2] == ["zone-member", "security"] and len(cw) == 3:
                itf.zone = (cw[2], c)
            elif (cw[:1] == ["encapsulation"] and len(cw) >= 3 and cw[1].lower() == "dot1q"
                  and cw[2].isdigit()):
                itf.vlan = int(cw[2])
        out[name] = itf
    return out


def role_of(name: str, itf: Itf) -> Role:
    """``ip nat outside`` is the WAN and ``ip nat inside`` a LAN; without NAT the addresses
    decide (public → WAN, all RFC 1918 → LAN)."""
    if itf.nat == "outside":
        return "wan"
    if itf.nat == "inside":
        return "lan"
    if itf.dynamic is not None and not itf.addrs and not name.lower().startswith(
            NO_ROLE_PREFIXES[:2]):
        return "wan"  # an address the provider hands out faces the internet
    if not itf.addrs or name.lower().startswith(NO_ROLE_PREFIXES):
        return "unknown"
    if any(not _is_rfc1918(a.ip) for a, _ in itf.addrs):
        return "wan"
    return "lan"


def model_interfaces(itfs: dict[str, Itf], roles: dict[str, Role], origin: str
                     ) -> list[Interface]:
    """The interfaces the audits see: those with an address, and every WAN (whose address
    may come from DHCP), each citing its ``interface`` line and address lines."""
    return [Interface(name, tuple(a for a, _ in itf.addrs), itf.vlan, roles[name],
                      source(origin, [itf.node, *(c for _, c in itf.addrs)]))
            for name, itf in itfs.items() if itf.addrs or roles[name] == "wan"]


def lan_vrfs(itfs: dict[str, Itf], roles: dict[str, Role]) -> list[Node]:
    """The ``vrf forwarding`` lines of LAN interfaces: what decides traffic between the LANs
    besides access-groups, and which the audits do not evaluate."""
    return [c for name, itf in itfs.items() if roles[name] == "lan" for c in itf.node.children
            if c.words[:2] == ["vrf", "forwarding"] or c.words[:3] == ["ip", "vrf", "forwarding"]]
