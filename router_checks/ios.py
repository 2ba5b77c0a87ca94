"""Cisco IOS (800-series) ``show running-config`` → :class:`RouterModel`.

The configuration is split by indentation into its blocks (``interface``, ``ip dhcp pool``,
``ip access-list``, ``object-group``), keeping every line's position, so each fact cites the
1-based line of the text exactly as collected (leading ``!`` lines included). The meaning of
the lines (wildcards, object groups, port operators, static NAT) is interpreted here, because
the audits need IOS's own semantics: first match, implicit deny, ACL before NAT.

Only what decides the audits is interpreted. An access-list entry with a qualifier the model
cannot express is listed under ``model.sources["unevaluated"]`` and left out, never guessed
(as the OpIOS parser does).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import (
    AddressValueError,
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    NetmaskValueError,
    summarize_address_range,
)
from typing import Literal

from router_checks.ios_tree import Node as _Node
from router_checks.ios_tree import source as _src
from router_checks.ios_tree import tree as _tree
from router_checks.ios_zbf import Builder
from router_checks.model import (
    Action,
    DhcpPool,
    Interface,
    PortForward,
    PortRange,
    Proto,
    RouterModel,
    Rule,
    RuleList,
    Source,
)
from router_checks.sanitize import ios_config

ORIGIN = "show running-config"
VERSION_ORIGIN = "show version"
ANY = IPv4Network("0.0.0.0/0")
RFC1918 = (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"),
           IPv4Network("192.168.0.0/16"))
# A non-contiguous wildcard is expanded into at most this many networks; beyond, the audits
# would test one witness per network and the entry is approximated instead (see _wildcard).
MAX_WILDCARD_NETS = 16
# Interfaces whose addresses say nothing about which side of the site they face.
NO_ROLE_PREFIXES = ("loopback", "null", "tunnel", "virtual-template", "nve")
# The port names IOS prints instead of numbers in tcp/udp entries (only those it may print).
PORT_NAMES: dict[str, int] = {
    "bgp": 179, "biff": 512, "bootpc": 68, "bootps": 67, "chargen": 19, "cmd": 514,
    "daytime": 13, "discard": 9, "dnsix": 195, "domain": 53, "echo": 7, "exec": 512,
    "finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70, "hostname": 101, "ident": 113,
    "irc": 194, "isakmp": 500, "klogin": 543, "kshell": 544, "login": 513, "lpd": 515,
    "mobile-ip": 434, "msrpc": 135, "nameserver": 42, "netbios-dgm": 138, "netbios-ns": 137,
    "netbios-ss": 139, "nntp": 119, "non500-isakmp": 4500, "ntp": 123, "pim-auto-rp": 496,
    "pop2": 109, "pop3": 110, "rip": 520, "sip": 5060, "smtp": 25, "snmp": 161,
    "snmptrap": 162, "sunrpc": 111, "syslog": 514, "tacacs": 49, "talk": 517, "telnet": 23,
    "tftp": 69, "time": 37, "uucp": 540, "who": 513, "whois": 43, "www": 80, "xdmcp": 177,
}
PROTO_NAMES: dict[str, Proto] = {"ip": "ip", "udp": "udp", "tcp": "tcp", "icmp": "icmp",
                                 "0": "ip", "1": "icmp", "6": "tcp", "17": "udp"}
OTHER_PROTOS = {"ahp", "eigrp", "esp", "gre", "igmp", "ipinip", "nos", "ospf", "pcp", "pim"}
# Trailing words of an entry that do not change which new datagrams it matches.
HARMLESS_OPTIONS = {"log", "log-input"}
# Options that narrow an entry in ways the model cannot express: the entry is left out.
NARROWING_OPTIONS = {"fragments", "time-range", "dscp", "precedence", "tos", "ttl", "option",
                     "ack", "fin", "psh", "rst", "syn", "urg", "match-all", "match-any"}


class Unsupported(ValueError):
    """A construct the model cannot express faithfully; the caller records it as unevaluated."""


_Note = Callable[["_Node", str], None]


def _addr(word: str) -> IPv4Address:
    try:
        return IPv4Address(word)
    except AddressValueError as exc:
        raise Unsupported(f"not an IPv4 address: {word}") from exc


def _masked(addr: str, mask: str) -> IPv4Network:
    """``A M`` with a subnet mask (interfaces, DHCP, network object groups), or ``A /len``."""
    try:
        return IPv4Network(f"{addr}/{mask.lstrip('/')}", strict=False)
    except (AddressValueError, NetmaskValueError, ValueError) as exc:
        raise Unsupported(f"not a network: {addr} {mask}") from exc


def _is_rfc1918(ip: IPv4Address) -> bool:
    # Not ip.is_private: Python counts the documentation ranges (192.0.2.0/24, ...) as
    # private, and those are exactly what example WAN addresses use.
    return any(ip in n for n in RFC1918)


def _wildcard(addr: str, wild: str, action: Action, notes: list[str]
              ) -> tuple[IPv4Network, ...]:
    """Networks an ``A WILDCARD`` pair matches. A non-contiguous wildcard is expanded
    exactly when small; otherwise a permit is widened to the smallest covering network and a
    deny narrowed to one of its networks, so the audit never under-reports an opening."""
    a, w = int(_addr(addr)), int(_addr(wild))
    tail = (w ^ (w + 1)).bit_length() - 1  # trailing one-bits: the contiguous host part
    free = [b for b in range(tail, 32) if w >> b & 1]  # the other, non-contiguous bits
    base = a & ~w & 0xFFFFFFFF
    plen = 32 - tail
    if len(free) == 0:
        return (IPv4Network(f"{IPv4Address(base)}/{plen}"),)
    if 2 ** len(free) <= MAX_WILDCARD_NETS:
        out = []
        for k in range(2 ** len(free)):
            net = base
            for i, b in enumerate(free):
                if k >> i & 1:
                    net |= 1 << b
            out.append(IPv4Network(f"{IPv4Address(net)}/{plen}"))
        return tuple(out)
    if action == "permit":
        top = max(free) + 1
        notes.append(f"non-contiguous wildcard {addr} {wild} widened to /{32 - top}")
        return (IPv4Network(f"{IPv4Address(a)}/{32 - top}", strict=False),)
    notes.append(f"non-contiguous wildcard {addr} {wild} narrowed to /{plen}")
    return (IPv4Network(f"{IPv4Address(base)}/{plen}"),)


def _port(word: str) -> int:
    if word.isdigit() and int(word) <= 65535:
        return int(word)
    if word in PORT_NAMES:
        return PORT_NAMES[word]
    raise Unsupported(f"unknown port {word}")


def _is_port(word: str) -> bool:
    return (word.isdigit() and int(word) <= 65535) or word in PORT_NAMES


def _port_op(words: list[str], i: int) -> tuple[tuple[PortRange, ...] | None, int]:
    """A port operator at ``words[i]`` (``eq``, ``neq``, ``gt``, ``lt``, ``range``) → the
    port ranges it admits and the next index; (None, i) when there is none."""
    if i >= len(words):
        return None, i
    op = words[i]
    if op in ("eq", "neq"):
        j = i + 1
        ports: list[int] = []
        while j < len(words) and _is_port(words[j]):  # IOS accepts several ports after eq
            ports.append(_port(words[j]))
            j += 1
        if not ports:
            raise Unsupported(f"'{op}' without a port")
        if op == "eq":
            return tuple(PortRange(p, p) for p in ports), j
        if len(ports) != 1:
            raise Unsupported("neq with several ports")
        p = ports[0]
        return tuple(r for r in (PortRange(0, p - 1), PortRange(p + 1, 65535))
                     if r.lo <= r.hi), j
    if op in ("gt", "lt"):
        if i + 1 >= len(words):
            raise Unsupported(f"'{op}' without a port")
        p = _port(words[i + 1])
        rng = PortRange(p + 1, 65535) if op == "gt" else PortRange(0, p - 1)
        return ((rng,) if rng.lo <= rng.hi else ()), i + 2
    if op == "range":
        if i + 2 >= len(words):
            raise Unsupported("'range' without two ports")
        return (PortRange(_port(words[i + 1]), _port(words[i + 2])),), i + 3
    return None, i


@dataclass(frozen=True)
class _Service:
    """One member of a service object group: a protocol and destination ports."""

    proto: Proto
    ports: tuple[PortRange, ...]


@dataclass
class _Groups:
    """``object-group network`` and ``object-group service`` definitions, by name."""

    network: dict[str, _Node] = field(default_factory=dict)
    service: dict[str, _Node] = field(default_factory=dict)

    def networks(self, name: str, notes: list[str], seen: frozenset[str] = frozenset()
                 ) -> tuple[IPv4Network, ...]:
        if name not in self.network:
            raise Unsupported(f"object-group network {name} is not defined")
        if name in seen:
            raise Unsupported(f"object-group network {name} includes itself")
        out: list[IPv4Network] = []
        for member in self.network[name].children:
            w = member.words
            if not w or w[0] in ("description", "!"):
                continue
            if w[0] == "host" and len(w) == 2:
                out.append(IPv4Network(f"{_addr(w[1])}/32"))
            elif w[0] == "range" and len(w) == 3:
                out.extend(summarize_address_range(_addr(w[1]), _addr(w[2])))
            elif w[0] == "group-object" and len(w) == 2:
                out.extend(self.networks(w[1], notes, seen | {name}))
            elif w[0] == "any":
                out.append(ANY)
            elif len(w) == 2 or (len(w) == 1 and "/" in w[0]):
                addr, _, plen = w[0].partition("/")
                out.append(_masked(addr, w[1] if len(w) == 2 else plen))
            else:
                raise Unsupported(f"object-group network {name}: '{member.text}'")
        return tuple(out)

    def services(self, name: str, action: Action, notes: list[str],
                 seen: frozenset[str] = frozenset()) -> list[_Service]:
        if name not in self.service:
            raise Unsupported(f"object-group service {name} is not defined")
        if name in seen:
            raise Unsupported(f"object-group service {name} includes itself")
        out: list[_Service] = []
        for member in self.service[name].children:
            w = member.words
            if not w or w[0] in ("description", "!"):
                continue
            if w[0] == "group-object" and len(w) == 2:
                out.extend(self.services(w[1], action, notes, seen | {name}))
                continue
            protos: list[Proto]
            if w[0] == "tcp-udp":
                protos = ["udp", "tcp"]
            elif w[0] in PROTO_NAMES:
                protos = [PROTO_NAMES[w[0]]]
            elif w[0] in OTHER_PROTOS or w[0].isdigit():
                protos = ["other"]
            else:
                raise Unsupported(f"object-group service {name}: '{member.text}'")
            ports: tuple[PortRange, ...] = ()
            if protos[0] in ("udp", "tcp"):
                i = 1
                if i < len(w) and w[i] == "source":  # see _ace on source ports
                    if action == "deny":
                        raise Unsupported(f"object-group service {name}: deny on a source port")
                    _, i = _port_op(w, i + 1)
                    notes.append(f"object-group service {name}: source port ignored "
                                 f"('{member.text}'): the sender picks it")
                found, i = _port_op(w, i)
                ports = found or ()
                if i != len(w):
                    raise Unsupported(f"object-group service {name}: '{member.text}'")
            out.extend(_Service(p, ports) for p in protos)
        return out


@dataclass
class _Ace:
    """One access-list entry, interpreted: one service per protocol/port combination."""

    action: Action
    services: list[_Service]
    src: tuple[IPv4Network, ...]
    dst: tuple[IPv4Network, ...]
    established: bool


def _address(words: list[str], i: int, groups: _Groups, action: Action, notes: list[str],
             standard: bool = False) -> tuple[tuple[IPv4Network, ...], int]:
    """An address operand (``any``, ``host A``, ``object-group N``, ``A WILDCARD``)."""
    if i >= len(words):
        raise Unsupported("missing address")
    w = words[i]
    if w == "any":
        return (ANY,), i + 1
    if w == "host" and i + 1 < len(words):
        return (IPv4Network(f"{_addr(words[i + 1])}/32"),), i + 2
    if w == "object-group" and i + 1 < len(words):
        return groups.networks(words[i + 1], notes), i + 2
    if i + 1 < len(words) and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", words[i + 1]):
        return _wildcard(w, words[i + 1], action, notes), i + 2
    if standard:  # a standard list accepts a bare address for one host
        return (IPv4Network(f"{_addr(w)}/32"),), i + 1
    raise Unsupported(f"address operand '{w}'")


def _ace(words: list[str], groups: _Groups, standard: bool, notes: list[str]) -> _Ace | None:
    """Interpret one entry (``[seq] permit|deny ...``); None for a remark."""
    i = 1 if words and words[0].isdigit() else 0
    if i >= len(words) or words[i] == "remark":
        return None
    if words[i] not in ("permit", "deny"):
        raise Unsupported(f"'{words[i]}' entry")
    action: Action = "permit" if words[i] == "permit" else "deny"
    i += 1
    if standard:
        src, i = _address(words, i, groups, action, notes, standard=True)
        rest = words[i:]
        if set(rest) - HARMLESS_OPTIONS:
            raise Unsupported(f"option(s) {' '.join(rest)}")
        return _Ace(action, [_Service("ip", ())], src, (ANY,), False)
    if i >= len(words):
        raise Unsupported("missing protocol")
    services: list[_Service]
    l4 = False  # a plain tcp/udp protocol, which takes port operators
    if words[i] == "object-group" and i + 1 < len(words):
        services = groups.services(words[i + 1], action, notes)  # ports come with the group
        i += 2
    elif words[i] in PROTO_NAMES:
        services = [_Service(PROTO_NAMES[words[i]], ())]
        l4 = services[0].proto in ("udp", "tcp")
        i += 1
    elif words[i] in OTHER_PROTOS or words[i].isdigit():
        services = [_Service("other", ())]
        i += 1
    else:
        raise Unsupported(f"protocol '{words[i]}'")
    src, i = _address(words, i, groups, action, notes)
    if l4:
        sport, i = _port_op(words, i)
        if sport is not None:
            # The sender picks its source port: a condition on it protects nothing, so a
            # permit is taken as if it had none and a deny cannot be relied on.
            if action == "deny":
                raise Unsupported("deny on a source port")
            notes.append("source port condition ignored")
    dst, i = _address(words, i, groups, action, notes)
    if l4:
        dport, i = _port_op(words, i)
        if dport is not None:
            services = [_Service(services[0].proto, dport)]
    established = False
    rest = words[i:]
    j = 0
    while j < len(rest):
        opt = rest[j]
        if opt in HARMLESS_OPTIONS:
            j += 1
        elif opt == "established" and l4 and services[0].proto == "tcp":
            established = True
            j += 1
        elif opt == "reflect":  # a reflexive permit still permits what it matches
            j += 2
            if j < len(rest) and rest[j] == "timeout":
                j += 2
        elif not l4 and j == 0 and services[0].proto == "icmp" and opt not in NARROWING_OPTIONS:
            j += 1 + (j + 1 < len(rest) and rest[j + 1].isdigit())  # icmp type [code]
        else:
            raise Unsupported(f"option(s) {' '.join(rest[j:])}")
    return _Ace(action, services, src, dst, established)


@dataclass
class _Acl:
    """An access list: its entries as (line, words of the entry proper)."""

    name: str
    standard: bool
    entries: list[tuple[_Node, list[str]]]

    def empty(self) -> bool:
        """Only remarks: IOS then permits everything, as for an undefined list."""
        return all((w[1:2] if w[:1] and w[0].isdigit() else w[:1]) == ["remark"]
                   for _, w in self.entries)


def _acls(top: list[_Node]) -> dict[str, _Acl]:
    """Named lists (``ip access-list extended|standard N``) and numbered ones
    (``access-list 1xx ...``, one line per entry), by name."""
    out: dict[str, _Acl] = {}
    for n in top:
        w = n.words
        if len(w) == 4 and w[:2] == ["ip", "access-list"] and w[2] in ("standard", "extended"):
            out[w[3]] = _Acl(w[3], w[2] == "standard",
                             [(c, c.words) for c in n.children if c.words])
        elif len(w) >= 3 and w[0] == "access-list" and w[1].isdigit():
            num = int(w[1])
            std = 1 <= num <= 99 or 1300 <= num <= 1999
            acl = out.setdefault(w[1], _Acl(w[1], std, []))
            acl.entries.append((n, w[2:]))
    return out


@dataclass
class _Itf:
    node: _Node
    addrs: list[tuple[IPv4Interface, _Node]]
    nat: Literal["inside", "outside"] | None
    acl_in: _Node | None
    vlan: int | None
    acl_out: _Node | None = None
    zone: tuple[str, _Node] | None = None  # zone-member security NAME


def _interfaces(top: list[_Node]) -> dict[str, _Itf]:
    out: dict[str, _Itf] = {}
    for n in top:
        w = n.words
        if len(w) < 2 or w[0] != "interface":
            continue
        name = w[1]
        m = re.fullmatch(r"[Vv]lan(\d+)", name)
        itf = _Itf(n, [], None, None, int(m.group(1)) if m else None)
        for c in n.children:
            cw = c.words
            if cw[:2] == ["ip", "address"] and len(cw) >= 4:  # not "dhcp" / "negotiated"
                with contextlib.suppress(ValueError):
                    addr = (IPv4Interface(f"{cw[2]}/{cw[3]}"), c)
                    # IOS prints secondaries before the primary; keep the primary first, as
                    # it is the address "interface X" stands for in NAT.
                    if cw[4:5] == ["secondary"]:
                        itf.addrs.append(addr)
                    else:
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


def _role(name: str, itf: _Itf) -> Literal["wan", "lan", "unknown"]:
    """``ip nat outside`` is the WAN and ``ip nat inside`` a LAN; without NAT the addresses
    decide (public → WAN, all RFC 1918 → LAN)."""
    if itf.nat == "outside":
        return "wan"
    if itf.nat == "inside":
        return "lan"
    if not itf.addrs or name.lower().startswith(NO_ROLE_PREFIXES):
        return "unknown"
    if any(not _is_rfc1918(a.ip) for a, _ in itf.addrs):
        return "wan"
    return "lan"


@dataclass
class _Static:
    """A static inside-source translation: inside address ``to`` reachable from outside at
    ``outside`` (None when that is an interface whose address the config does not show)."""

    fwd: PortForward
    outside: IPv4Address | None


def _static(w: list[str], node: _Node, itfs: dict[str, _Itf], origin: str) -> _Static:
    """``ip nat [inside] source static ...`` words after ``static``."""
    src = _src(origin, [node])

    def outside_at(i: int) -> tuple[IPv4Address | None, int]:
        if i < len(w) and w[i] == "interface" and i + 1 < len(w):
            itf = itfs.get(w[i + 1])
            return (itf.addrs[0][0].ip if itf and itf.addrs else None), i + 2
        if i < len(w):
            return _addr(w[i]), i + 1
        raise Unsupported("static NAT without an outside address")

    def wan_at(i: int) -> str | None:
        return w[i + 1] if i + 1 < len(w) and w[i] == "interface" else None

    if w and w[0] in ("udp", "tcp"):
        if len(w) < 5 or not w[2].isdigit():
            raise Unsupported("static port translation too short")
        inside = _addr(w[1])
        outside, i = outside_at(3)
        if i >= len(w) or not w[i].isdigit():
            raise Unsupported("static port translation without an outside port")
        port = int(w[i])
        proto: Proto = "udp" if w[0] == "udp" else "tcp"
        return _Static(PortForward(proto, (PortRange(port, port),), inside, (), src,
                                   to_port=int(w[2]), wan=wan_at(3)), outside)
    if w and w[0] in ("network", "esp"):
        raise Unsupported(f"static '{w[0]}' translation")
    if len(w) < 2:
        raise Unsupported("static translation too short")
    inside = _addr(w[0])
    outside, _ = outside_at(1)
    return _Static(PortForward("ip", (), inside, (), src, wan=wan_at(1)), outside)


def _post_nat(dst: tuple[IPv4Network, ...], statics: list[_Static], where: str,
              notes: list[str]) -> tuple[IPv4Network, ...]:
    """An inbound ACL on IOS sees the destination *before* NAT (the public address), while
    the audit asks about the forward's inside target. Re-express the entry's destination as
    the inside hosts whose public address it names; ``any`` stays any."""
    if any(n.prefixlen == 0 for n in dst):
        return (ANY,)
    out: list[IPv4Network] = []
    for s in statics:
        if s.outside is None:
            notes.append(f"{where}: public address of the forward to {s.fwd.to} is unknown "
                         "(dynamic WAN address); the entry is taken not to match it")
        elif any(s.outside in n for n in dst):
            net = IPv4Network(f"{s.fwd.to}/32")
            if net not in out:
                out.append(net)
    return tuple(out)


def _dhcp_range(net: IPv4Network, excluded: Sequence[tuple[int, int]]
                ) -> tuple[IPv4Address, IPv4Address] | None:
    """Lowest and highest host of ``net`` not excluded: IOS leases every host address of the
    pool's network except the ``ip dhcp excluded-address`` ranges."""
    if net.prefixlen >= 31:
        return None
    lo, hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
    start, end = lo, hi
    moved = True
    while moved and start <= hi:
        moved = False
        for a, b in excluded:
            if a <= start <= b:
                start, moved = b + 1, True
    moved = True
    while moved and end >= lo:
        moved = False
        for a, b in excluded:
            if a <= end <= b:
                end, moved = a - 1, True
    if start > end:
        return None
    return IPv4Address(start), IPv4Address(end)


def _model_name(version: str | None, top: list[_Node]) -> str | None:
    """The hardware model: ``cisco C891F-K9 (revision ...)`` in ``show version``, else the
    ``license udi pid`` line of the running-config."""
    if version:
        m = re.search(r"^\s*cisco\s+(\S+)\s+\(", version, re.IGNORECASE | re.MULTILINE)
        if m:
            return m.group(1)
        m = re.search(r"^\s*Model number\s*:\s*(\S+)", version, re.IGNORECASE | re.MULTILINE)
        if m:
            return m.group(1)
    for n in top:
        w = n.words
        if w[:3] == ["license", "udi", "pid"] and len(w) >= 4:
            return w[3]
    return None


def _filters(top: list[_Node], itfs: dict[str, _Itf],
             roles: dict[str, Literal["wan", "lan", "unknown"]], statics: list[_Static],
             origin: str, note: _Note, notes: list[str]) -> list[RuleList]:
    """The inbound list of each WAN interface: its ``ip access-group NAME in`` evaluated in
    order with IOS's implicit final deny, or IOS's permit-all when there is none. Then the
    lists that filter traffic between the LANs: each LAN interface's ``in`` list (traffic
    entering from that LAN) and ``out`` list (traffic routed into it)."""
    out: list[RuleList] = []
    groups = _Groups()
    for n in top:
        w = n.words
        if len(w) == 3 and w[0] == "object-group" and w[1] in ("network", "service"):
            (groups.network if w[1] == "network" else groups.service)[w[2]] = n
    acls = _acls(top)

    def rules_of(group: _Node, direction: Literal["inbound", "internal"], name: str
                 ) -> RuleList:
        acl_name = group.words[2]
        acl = acls.get(acl_name)
        scope: dict[str, tuple[str, ...]] = {  # the interface it is applied to
            "ingress" if group.words[3] == "in" else "egress": (name,)}
        if acl is None or acl.empty():
            # IOS permits everything through an undefined or empty access list.
            why = "undefined" if acl is None else "empty"
            note(group, f"access list {acl_name} is {why}: IOS permits all")
            return RuleList(acl_name, direction, [], "permit", _src(origin, [group]),
                            ingress=scope.get("ingress", ()), egress=scope.get("egress", ()))
        return entries(acl, direction, _src(origin, [group]), scope)

    read: dict[tuple[str, bool], RuleList] = {}

    def class_acl(acl_name: str, strict: bool) -> RuleList | None:
        """An access list as a ZBF class-map reads it: after NAT, inside addresses. For a
        class that drops (``strict``), an entry read by approximation is left out, since
        the approximations widen a permit and a permit there is a drop."""
        acl = acls.get(acl_name)
        if acl is None:
            return None
        if (acl_name, strict) not in read:  # once, so its notes are not repeated
            head = acl.entries[0][0] if acl.entries else None
            read[(acl_name, strict)] = entries(
                acl, "internal", _src(origin, [head] if head else []), {}, strict=strict)
        return read[(acl_name, strict)]

    def entries(acl: _Acl, direction: Literal["inbound", "internal"], where: Source,
                scope: dict[str, tuple[str, ...]], *, strict: bool = False) -> RuleList:
        rules: list[Rule] = []
        for e, words in acl.entries:
            ace_notes: list[str] = []
            try:
                ace = _ace(words, groups, acl.standard, ace_notes)
            except Unsupported as exc:
                note(e, f"left out: {exc}")
                continue
            if strict and ace_notes:
                note(e, f"left out of a class that drops: {'; '.join(ace_notes)}")
                continue
            for msg in ace_notes:
                note(e, msg)
            if ace is None:
                continue
            dst = (_post_nat(ace.dst, statics, f"{origin}:{e.num}", notes)
                   if direction == "inbound" else ace.dst)  # no NAT between inside LANs
            for svc in ace.services:
                rules.append(Rule(ace.action, svc.proto, ace.src, dst, svc.ports,
                                  _src(origin, [e]), ace.established))
        return RuleList(acl.name, direction, rules, "deny", where,
                        ingress=scope.get("ingress", ()), egress=scope.get("egress", ()))

    zbf = Builder(top, class_acl, origin, note)
    for a, a_itf in itfs.items():
        for b, b_itf in itfs.items():
            if a != b and roles[b] == "lan" and roles[a] in ("wan", "lan"):
                zl = zbf.between(a, a_itf.zone, b, b_itf.zone,
                                 "inbound" if roles[a] == "wan" else "internal")
                if zl is not None:
                    out.append(zl)
    for name, itf in itfs.items():
        if roles[name] == "lan":
            out.extend(rules_of(g, "internal", name) for g in (itf.acl_in, itf.acl_out)
                       if g is not None)
        if roles[name] != "wan":
            continue
        if itf.acl_in is None:
            # No inbound list: IOS forwards whatever NAT lets in.
            out.append(RuleList(f"{name} (no access-group in)", "inbound", [], "permit",
                                _src(origin, [itf.node]), ingress=(name,)))
            continue
        out.append(rules_of(itf.acl_in, "inbound", name))
    return out


def _dhcp_pools(top: list[_Node], origin: str, note: _Note) -> list[DhcpPool]:
    """Each ``ip dhcp pool`` with a network: the range it leases, its gateway, and the lines
    that make them (pool, network, default-router and the exclusions that shape the range)."""
    out: list[DhcpPool] = []
    excluded: list[tuple[int, int, _Node]] = []
    for n in top:
        w = n.words
        if w[:3] == ["ip", "dhcp", "excluded-address"] and w[3:4] != ["vrf"] and len(w) >= 4:
            try:
                a = int(_addr(w[3]))
                b = int(_addr(w[4])) if len(w) >= 5 else a
            except Unsupported as exc:
                note(n, str(exc))
                continue
            excluded.append((min(a, b), max(a, b), n))
    for n in top:
        w = n.words
        if w[:3] != ["ip", "dhcp", "pool"] or len(w) != 4:
            continue
        net: IPv4Network | None = None
        gateway: IPv4Address | None = None
        cited = [n]
        for c in n.children:
            cw = c.words
            try:
                if cw[:1] == ["network"] and len(cw) >= 3:
                    net = _masked(cw[1], cw[2])
                    cited.append(c)
                elif cw[:1] == ["default-router"] and len(cw) >= 2:
                    gateway = _addr(cw[1])
                    cited.append(c)
            except Unsupported as exc:
                note(c, str(exc))
        if net is None:
            continue  # a manual-binding (host) pool hands out no range
        mine = [(a, b, x) for a, b, x in excluded
                if a <= int(net.broadcast_address) and b >= int(net.network_address)]
        span = _dhcp_range(net, [(a, b) for a, b, _ in mine])
        if span is None:
            note(n, "every address of the pool is excluded")
            continue
        out.append(DhcpPool(w[3], net, span[0], span[1], gateway,
                            _src(origin, [*cited, *(x for _, _, x in mine)])))
    return out


def parse(config_text: str, *, version: str | None = None, origin: str = ORIGIN
          ) -> RouterModel:
    """Build the model from ``show running-config`` (and ``show version`` for the model)."""
    # Count lines as editors and ``grep -n`` do (only "\n" ends a line), so the cited numbers
    # match the file; str.splitlines() would also split on form feeds and the like.
    config_text = ios_config(config_text)  # a saved file may still hold its secrets
    lines = [x.removesuffix("\r") for x in config_text.split("\n")]
    unterminated: list[_Node] = []
    top = _tree(lines, unterminated)
    model = RouterModel(kind="cisco_ios")
    model.sources = {origin: config_text}
    if version is not None:
        model.sources[VERSION_ORIGIN] = version
    notes: list[str] = []

    def note(node: _Node, why: str) -> None:
        notes.append(f"{origin}:{node.num}: {why} ('{node.text}')")

    for n in top:
        if n.words[:1] == ["hostname"] and len(n.words) == 2:
            model.hostname = n.words[1]
    model.model = _model_name(version, top)

    # Interfaces.
    itfs = _interfaces(top)
    roles: dict[str, Literal["wan", "lan", "unknown"]] = {}
    for name, itf in itfs.items():
        roles[name] = _role(name, itf)
        if not itf.addrs and roles[name] != "wan":
            continue
        model.interfaces.append(Interface(
            name, tuple(a for a, _ in itf.addrs), itf.vlan, roles[name],
            _src(origin, [itf.node, *(c for _, c in itf.addrs)])))

    # NAT: static translations (port forwards), overload (masquerade), the SIP ALG.
    statics: list[_Static] = []
    nat_lines: list[_Node] = []
    alg_explicit: _Node | None = None
    alg_off = False
    for n in top:
        w = n.words
        if w[:2] == ["ip", "nat"] and w[2:3] == ["inside"] and w[3:4] == ["source"]:
            rest = w[4:]
        elif w[:3] == ["ip", "nat", "source"]:  # NAT virtual interface (ip nat enable)
            rest = w[3:]
        else:
            if w == ["ip", "nat", "service", "sip", "udp", "port", "5060"]:
                alg_explicit = n
            elif w == ["no", "ip", "nat", "service", "sip", "udp", "port", "5060"]:
                alg_off = True
            continue
        nat_lines.append(n)
        if rest[:1] == ["static"]:
            try:
                statics.append(_static(rest[1:], n, itfs, origin))
            except Unsupported as exc:
                note(n, str(exc))
        elif "overload" in rest or "interface" in rest:
            model.masquerade.append(_src(origin, [n]))
    model.forwards = [s.fwd for s in statics]
    outside_lines = [c for itf in itfs.values() for c in itf.node.children
                     if c.words in (["ip", "nat", "outside"], ["ip", "nat", "enable"])]
    # IOS runs the SIP ALG by default on whatever NAT translates; without NAT it has
    # nothing to act on. Cite the explicit line if any, else the lines that make NAT active.
    if not alg_off and (alg_explicit is not None or nat_lines):
        model.sip_alg = True
        cited = [alg_explicit] if alg_explicit is not None else [*outside_lines, *nat_lines]
        model.sip_alg_sources = [_src(origin, [c]) for c in sorted(cited, key=lambda c: c.num)]

    model.filters = _filters(top, itfs, roles, statics, origin, note, notes)
    for name, itf in itfs.items():  # what decides LAN-to-LAN traffic besides access-groups
        for c in itf.node.children if roles[name] == "lan" else ():
            if c.words[:2] == ["vrf", "forwarding"] or c.words[:3] == ["ip", "vrf", "forwarding"]:
                note(c, "VRF on a LAN interface: traffic between the LANs is not evaluated")
                model.internal_unevaluated.append(_src(origin, [c]))
    for b in unterminated:
        note(b, "banner never ends (no closing delimiter): the lines after it are not read")
    model.dhcp_pools = _dhcp_pools(top, origin, note)
    if notes:
        model.sources["unevaluated"] = "".join(f"{m}\n" for m in notes)
    return model
