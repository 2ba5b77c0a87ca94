"""Cisco IOS access lists and object groups → interpreted entries (:class:`Ace`).

Why here: an access-list entry is IOS's own little language (wildcards, ``object-group``
networks and services, port operators, ``established``, ``reflect``) and the audits need its
exact meaning, first match and implicit deny included. This module reads the lists and their
groups; :mod:`.filters` decides which lists filter which path. An entry with a qualifier the
model cannot express raises :class:`~.operands.Unsupported` and is left out by the caller,
never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from router_checks.cisco_ios.operands import ANY, Unsupported, ipv4, masked
from router_checks.cisco_ios.tree import Node
from router_checks.model import Action, PortRange, Proto

# A non-contiguous wildcard is expanded into at most this many networks; beyond, the audits
# would test one witness per network and the entry is approximated instead (see _wildcard).
MAX_WILDCARD_NETS = 16
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


def _wildcard(addr: str, wild: str, action: Action, notes: list[str]
              ) -> tuple[IPv4Network, ...]:
    """Networks an ``A WILDCARD`` pair matches. A non-contiguous wildcard is expanded
    exactly when small; otherwise a permit is widened to the smallest covering network and a
    deny narrowed to one of its networks, so the audit never under-reports an opening."""
    a, w = int(ipv4(addr)), int(ipv4(wild))
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
class Service:
    """One member of a service object group: a protocol and destination ports."""

    proto: Proto
    ports: tuple[PortRange, ...]


@dataclass
class Groups:
    """``object-group network`` and ``object-group service`` definitions, by name."""

    network: dict[str, Node] = field(default_factory=dict)
    service: dict[str, Node] = field(default_factory=dict)

    @classmethod
    def read(cls, top: list[Node]) -> Groups:
        groups = cls()
        for n in top:
            w = n.words
            if len(w) == 3 and w[0] == "object-group" and w[1] in ("network", "service"):
                (groups.network if w[1] == "network" else groups.service)[w[2]] = n
        return groups

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
                out.append(IPv4Network(f"{ipv4(w[1])}/32"))
            elif w[0] == "range" and len(w) == 3:
                out.extend(summarize_address_range(ipv4(w[1]), ipv4(w[2])))
            elif w[0] == "group-object" and len(w) == 2:
                out.extend(self.networks(w[1], notes, seen | {name}))
            elif w[0] == "any":
                out.append(ANY)
            elif len(w) == 2 or (len(w) == 1 and "/" in w[0]):
                addr, _, plen = w[0].partition("/")
                out.append(masked(addr, w[1] if len(w) == 2 else plen))
            else:
                raise Unsupported(f"object-group network {name}: '{member.text}'")
        return tuple(out)

    def services(self, name: str, action: Action, notes: list[str],
                 seen: frozenset[str] = frozenset()) -> list[Service]:
        if name not in self.service:
            raise Unsupported(f"object-group service {name} is not defined")
        if name in seen:
            raise Unsupported(f"object-group service {name} includes itself")
        out: list[Service] = []
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
            out.extend(Service(p, ports) for p in protos)
        return out


@dataclass
class Ace:
    """One access-list entry, interpreted: one service per protocol/port combination."""

    action: Action
    services: list[Service]
    src: tuple[IPv4Network, ...]
    dst: tuple[IPv4Network, ...]
    established: bool


def _address(words: list[str], i: int, groups: Groups, action: Action, notes: list[str],
             standard: bool = False) -> tuple[tuple[IPv4Network, ...], int]:
    """An address operand (``any``, ``host A``, ``object-group N``, ``A WILDCARD``)."""
    if i >= len(words):
        raise Unsupported("missing address")
    w = words[i]
    if w == "any":
        return (ANY,), i + 1
    if w == "host" and i + 1 < len(words):
        return (IPv4Network(f"{ipv4(words[i + 1])}/32"),), i + 2
    if w == "object-group" and i + 1 < len(words):
        return groups.networks(words[i + 1], notes), i + 2
    if i + 1 < len(words) and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", words[i + 1]):
        return _wildcard(w, words[i + 1], action, notes), i + 2
    if standard:  # a standard list accepts a bare address for one host
        return (IPv4Network(f"{ipv4(w)}/32"),), i + 1
    raise Unsupported(f"address operand '{w}'")


def read_ace(words: list[str], groups: Groups, standard: bool, notes: list[str]) -> Ace | None:
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
        return Ace(action, [Service("ip", ())], src, (ANY,), False)
    if i >= len(words):
        raise Unsupported("missing protocol")
    services: list[Service]
    l4 = False  # a plain tcp/udp protocol, which takes port operators
    if words[i] == "object-group" and i + 1 < len(words):
        services = groups.services(words[i + 1], action, notes)  # ports come with the group
        i += 2
    elif words[i] in PROTO_NAMES:
        services = [Service(PROTO_NAMES[words[i]], ())]
        l4 = services[0].proto in ("udp", "tcp")
        i += 1
    elif words[i] in OTHER_PROTOS or words[i].isdigit():
        services = [Service("other", ())]
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
            services = [Service(services[0].proto, dport)]
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
    return Ace(action, services, src, dst, established)


@dataclass
class Acl:
    """An access list: its entries as (line, words of the entry proper)."""

    name: str
    standard: bool
    entries: list[tuple[Node, list[str]]]

    def empty(self) -> bool:
        """Only remarks: IOS then permits everything, as for an undefined list."""
        return all((w[1:2] if w[:1] and w[0].isdigit() else w[:1]) == ["remark"]
                   for _, w in self.entries)


def read_acls(top: list[Node]) -> dict[str, Acl]:
    """Named lists (``ip access-list extended|standard N``) and numbered ones
    (``access-list 1xx ...``, one line per entry), by name."""
    out: dict[str, Acl] = {}
    for n in top:
        w = n.words
        if len(w) == 4 and w[:2] == ["ip", "access-list"] and w[2] in ("standard", "extended"):
            out[w[3]] = Acl(w[3], w[2] == "standard",
                             [(c, c.words) for c in n.children if c.words])
        elif len(w) >= 3 and w[0] == "access-list" and w[1].isdigit():
            num = int(w[1])
            std = 1 <= num <= 99 or 1300 <= num <= 1999
            acl = out.setdefault(w[1], Acl(w[1], std, []))
            acl.entries.append((n, w[2:]))
    return out

