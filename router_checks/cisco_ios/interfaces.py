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

from router_checks.cisco_ios.operands import redacted
from router_checks.cisco_ios.tree import Node, source
from router_checks.model import Interface, PortForward

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
    hidden: Node | None = None  # ip address x.x.x.x ...: redacted in a published copy
    description: str = ""


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
            elif cw[:2] == ["ip", "address"] and len(cw) >= 4 and (
                    redacted(cw[2]) or redacted(cw[3])):
                itf.hidden = c
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
            elif cw[:1] == ["description"]:
                itf.description = " ".join(cw[1:])
            elif cw[:2] == ["zone-member", "security"] and len(cw) == 3:
                itf.zone = (cw[2], c)
            elif (cw[:1] == ["encapsulation"] and len(cw) >= 3 and cw[1].lower() == "dot1q"
                  and cw[2].isdigit()):
                itf.vlan = int(cw[2])
        out[name] = itf
    return out


# Words of an interface description that hint it faces the internet (a hint only: used to
# choose among public interfaces when nothing stronger says which is the WAN).
WAN_WORDS = re.compile(r"\b(wan|internet|isp|uplink|outside|upstream|provider|fai|ftth|"
                       r"fttb|adsl|vdsl|sdsl|dsl|fibre|fiber|transit|pppoe)\b", re.IGNORECASE)
# A public network this narrow on an interface that is not the WAN is a link to another
# router, not a LAN of hosts.
LINK_PREFIX = 30


def _is_public(itf: Itf) -> bool:
    """A public address, or one hidden in a published copy (people hide their public
    addresses, not their private ones)."""
    return itf.hidden is not None or any(not _is_rfc1918(a.ip) for a, _ in itf.addrs)


def default_routes(top: list[Node], itfs: dict[str, Itf]) -> set[str]:
    """The interfaces the global table's default routes leave by (``ip route 0.0.0.0
    0.0.0.0`` naming an interface, or a next hop on one of their networks)."""
    out: set[str] = set()
    for n in top:
        w = n.words
        if w[:4] != ["ip", "route", "0.0.0.0", "0.0.0.0"] or len(w) < 5:
            continue  # a VRF's default (ip route vrf ...) is not the site's WAN
        name, _ = itf_name(w, 4)
        if name in itfs:
            out.add(name)
            continue
        with contextlib.suppress(ValueError):
            hop = IPv4Address(w[4])
            out.update(x for x, itf in itfs.items() if any(hop in a.network and hop != a.ip
                                                             for a, _ in itf.addrs))
    return out


def _evident_wan(name: str, itf: Itf, egress: set[str]) -> bool:
    """Strong evidence of the WAN: ``ip nat outside``, an address the provider hands out
    (DHCP, PPP/dialer), the default route's egress when it is public (a default route to a
    private next hop leads to another box of the site, which this audit does not see)."""
    if itf.nat == "outside" or (name in egress and (_is_public(itf) or itf.dynamic)):
        return True
    return itf.dynamic is not None and not itf.addrs and not name.lower().startswith(
        NO_ROLE_PREFIXES[:2])


def roles_of(itfs: dict[str, Itf], top: list[Node]) -> dict[str, Role]:
    """Each interface's role, by the strongest evidence the configuration gives.

    The WAN is what ``ip nat outside``, a provider-assigned address or the default route's
    egress says; ``ip nat inside`` is a LAN. Then a public address is no proof of a WAN:
    a routed /29 of public hosts behind the WAN is a LAN (a narrower public network, a
    link to another router, has no role). Only when nothing says which interface is the
    WAN do the addresses decide (public → WAN), a description naming the internet
    choosing among several public interfaces."""
    egress = default_routes(top, itfs)
    strong = {n for n, itf in itfs.items() if _evident_wan(n, itf, egress)
              and not n.lower().startswith(NO_ROLE_PREFIXES[2:])}
    hinted = {n for n, itf in itfs.items() if _is_public(itf) and itf.nat != "inside"
              and WAN_WORDS.search(itf.description)}
    wans = strong or hinted
    out: dict[str, Role] = {}
    for name, itf in itfs.items():
        role = role_of(name, itf)
        if wans and role == "wan" and name not in wans:
            wide = [a for a, _ in itf.addrs if not _is_rfc1918(a.ip)]
            role = "lan" if wide and all(a.network.prefixlen < LINK_PREFIX for a in wide) \
                else "unknown"
        elif name in wans:
            role = "wan"
        out[name] = role
    return out


def role_of(name: str, itf: Itf) -> Role:
    """One interface alone: ``ip nat outside`` is the WAN and ``ip nat inside`` a LAN;
    without NAT the addresses decide (public → WAN, all RFC 1918 → LAN)."""
    if itf.nat == "outside":
        return "wan"
    if itf.nat == "inside":
        return "lan"
    if itf.dynamic is not None and not itf.addrs and not name.lower().startswith(
            NO_ROLE_PREFIXES[:2]):
        return "wan"  # an address the provider hands out faces the internet
    if name.lower().startswith(NO_ROLE_PREFIXES) or not (itf.addrs or itf.hidden):
        return "unknown"
    if _is_public(itf):
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


def routed_lans(itfs: dict[str, Itf], roles: dict[str, Role], origin: str
                ) -> list[PortForward]:
    """Each public network of a LAN interface that NAT does not translate (no ``ip nat
    inside``): the internet reaches its hosts at their own addresses, through the WAN's
    filters only. As a forward, to its first host that is not the router's own address."""
    out: list[PortForward] = []
    for name, itf in itfs.items():
        if roles[name] != "lan" or itf.nat == "inside":
            continue
        for addr, line in itf.addrs:
            net = addr.network
            if _is_rfc1918(addr.ip) or net.num_addresses < 4:
                continue
            host = next(h for h in net.hosts() if h != addr.ip)
            out.append(PortForward("ip", (), host, (), source(origin, [itf.node, line]),
                                   public=str(net), inside=str(net), routed=True))
    return out
