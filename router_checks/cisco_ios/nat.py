"""Cisco IOS NAT → port forwards, masquerade and the SIP ALG.

Why here: NAT decides three audits at once. Static translations are the site's port
forwards (where voice ports go, and the public address an inbound access list names), an
``overload`` rule is the masquerade, and IOS runs its SIP ALG by default on whatever NAT
translates, unless ``no ip nat service sip udp port 5060`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from router_checks.cisco_ios.interfaces import Itf, itf_name
from router_checks.cisco_ios.operands import ANY, Redacted, Unsupported, ipv4, masked
from router_checks.cisco_ios.tree import Node, Note, source
from router_checks.model import PortForward, PortRange, Proto, Source

ALG_ON = ["ip", "nat", "service", "sip", "udp", "port", "5060"]


@dataclass
class Static:
    """A static inside-source translation: inside address ``to`` reachable from outside at
    ``outside`` (None when that is an interface whose address the config does not show)."""

    fwd: PortForward
    outside: IPv4Address | None


# Trailing words of a static translation that do not change what reaches the inside host.
HARMLESS = {"extendable", "no-alias", "no-payload", "add-route", "reversible"}
# Words that make a static translation apply only under a condition the model cannot test:
# read as unconditional, it would claim a forward the device may not make.
CONDITIONS = {"route-map", "vrf", "match-in-vrf", "redundancy", "mapping-id", "rg-id"}


def _condition(w: list[str], i: int) -> str | None:
    """What, after the translation proper (``w[i:]``), makes it conditional, else None;
    an option the reader does not know is Unsupported."""
    rest = w[i:]
    j = 0
    while j < len(rest):
        if rest[j] in HARMLESS:
            j += 1
        elif rest[j] in CONDITIONS:
            if rest[j] in ("route-map", "vrf"):
                return " ".join(rest[j:j + 2])
            j += 1 + (j + 1 < len(rest) and rest[j] != "match-in-vrf")
        else:
            raise Unsupported(f"option(s) {' '.join(rest[j:])}")
    return None


def read_static(w: list[str], node: Node, itfs: dict[str, Itf], origin: str) -> Static:
    """``ip nat [inside] source static ...`` words after ``static``. A translation under a
    ``route-map`` or ``vrf`` is :class:`Conditional`; one whose inside address was redacted
    raises :class:`Redacted` (its target is unknown), one whose outside address was is kept
    with that address unknown (``hidden``: its word, as the file shows it)."""
    src = source(origin, [node])
    hidden: list[str] = []

    def outside_at(i: int) -> tuple[IPv4Address | None, int, str | None]:
        if i < len(w) and w[i] == "interface" and i + 1 < len(w):
            name, j = itf_name(w, i + 1)
            itf = itfs.get(name)
            return (itf.addrs[0][0].ip if itf and itf.addrs else None), j, name
        if i < len(w):
            try:
                return ipv4(w[i]), i + 1, None
            except Redacted:
                hidden.append(w[i])
                return None, i + 1, None
        raise Unsupported("static NAT without an outside address")

    def public_of(outside: IPv4Address | None, wan: str | None) -> str | None:
        return f"{hidden[0]} {REDACTED_MARK}" if hidden else _public(outside, wan)

    def checked(static: Static, i: int) -> Static:
        cond = _condition(w, i)
        if cond is not None:
            raise Conditional(cond)
        return static

    if w and w[0] in ("udp", "tcp"):
        if len(w) < 5 or not w[2].isdigit():
            raise Unsupported("static port translation too short")
        inside = ipv4(w[1])
        outside, i, wan = outside_at(3)
        if i >= len(w) or not w[i].isdigit():
            raise Unsupported("static port translation without an outside port")
        port = int(w[i])
        proto: Proto = "udp" if w[0] == "udp" else "tcp"
        return checked(Static(PortForward(proto, (PortRange(port, port),), inside, (), src,
                                          to_port=int(w[2]), wan=wan,
                                          public=public_of(outside, wan)), outside), i + 1)
    if w and w[0] == "network":
        # ip nat inside source static network INSIDE OUTSIDE MASK|/LEN: host n of the inside
        # network is host n of the outside one. The model holds one target, the first host:
        # every host of the network is forwarded alike.
        if len(w) < 4:
            raise Unsupported("static network translation too short")
        inside_net = masked(w[1], w[3])
        outside_net = masked(w[2], w[3])
        first = 1 if inside_net.num_addresses > 1 else 0
        return checked(Static(PortForward(
            "ip", (), inside_net.network_address + first, (), src,
            public=str(outside_net), inside=str(inside_net)),
            outside_net.network_address + first), 4)
    if w and w[0] == "esp":
        raise Unsupported(f"static '{w[0]}' translation")
    if len(w) < 2:
        raise Unsupported("static translation too short")
    inside = ipv4(w[0])
    outside, i, wan = outside_at(1)
    return checked(Static(PortForward("ip", (), inside, (), src, wan=wan,
                                      public=public_of(outside, wan)), outside), i)


def _public(outside: IPv4Address | None, wan: str | None) -> str | None:
    return str(outside) if outside is not None else (f"{wan} (dynamic)" if wan else None)


# How a forward's ``public`` says its public address was redacted.
REDACTED_MARK = "(redacted)"


class Conditional(Unsupported):
    """A static translation that applies only under a route-map or in a VRF."""


def post_nat(dst: tuple[IPv4Network, ...], statics: list[Static], where: str,
             notes: list[str], routed: tuple[IPv4Network, ...] = ()
             ) -> tuple[IPv4Network, ...]:
    """An inbound ACL on IOS sees the destination *before* NAT (the public address), while
    the audit asks about the forward's inside target. Re-express the entry's destination as
    the inside hosts whose public address it names; ``any`` stays any, and what it names of
    a routed public LAN (no translation) stays as it is."""
    if any(n.prefixlen == 0 for n in dst):
        return (ANY,)
    out: list[IPv4Network] = []
    for s in statics:
        if s.outside is None:
            why = "redacted" if (s.fwd.public or "").endswith(REDACTED_MARK) \
                else "dynamic WAN address"
            notes.append(f"{where}: public address of the forward to {s.fwd.to} is unknown "
                         f"({why}); the entry is taken not to match it")
        elif any(s.outside in n for n in dst):
            net = IPv4Network(f"{s.fwd.to}/32")
            if net not in out:
                out.append(net)
    for lan in routed:
        for n in dst:
            both = n if n.subnet_of(lan) else lan if lan.subnet_of(n) else None
            if both is not None and both not in out:
                out.append(both)
    return tuple(out)


@dataclass
class Nat:
    """What the NAT lines of one configuration say."""

    statics: list[Static] = field(default_factory=list)
    masquerade: list[Source] = field(default_factory=list)
    sip_alg: list[Source] = field(default_factory=list)  # why the ALG is on (empty: off)
    sip_alg_tcp: list[Source] = field(default_factory=list)  # the same for TCP 5060
    redacted: list[Source] = field(default_factory=list)  # statics with a hidden address


def read_nat(top: list[Node], itfs: dict[str, Itf], origin: str, note: Note) -> Nat:
    """Static translations (port forwards), overload (masquerade) and the SIP ALG.

    Every static translation is read (several one-to-one statics, ``static network``); one
    under a route-map or VRF is noted and left out, as are the forms that are no inbound
    forward of UDP (``ip nat outside source``, ``ip nat inside destination``), so the
    report says what the audit did not take into account."""
    nat = Nat()
    nat_lines: list[Node] = []
    alg: dict[str, tuple[Node | None, bool]] = {"udp": (None, False), "tcp": (None, False)}
    for n in top:
        w = n.words
        if w[:4] == ["ip", "nat", "inside", "source"]:
            rest = w[4:]
        elif w[:3] == ["ip", "nat", "source"]:  # NAT virtual interface (ip nat enable)
            rest = w[3:]
        elif w[:4] == ["ip", "nat", "outside", "source"]:
            nat_lines.append(n)
            note(n, "outside source translation: the addresses the filters see for that "
                    "outside host are not evaluated")
            continue
        elif w[:4] == ["ip", "nat", "inside", "destination"]:
            nat_lines.append(n)
            note(n, "inside destination translation (TCP load distribution): not a UDP "
                    "forward, not evaluated")
            continue
        else:
            for proto in ("udp", "tcp"):
                on = [*ALG_ON[:4], proto, *ALG_ON[5:]]
                if w == on:
                    alg[proto] = (n, False)
                elif w == ["no", *on]:
                    alg[proto] = (n, True)
            continue
        nat_lines.append(n)
        if rest[:1] == ["static"]:
            try:
                nat.statics.append(read_static(rest[1:], n, itfs, origin))
                if (nat.statics[-1].fwd.public or "").endswith(REDACTED_MARK):
                    note(n, "public address redacted: the entries naming it are unknown")
                    nat.redacted.append(source(origin, [n]))
            except Redacted as exc:
                note(n, f"{exc}: where this translation sends traffic is unknown")
                nat.redacted.append(source(origin, [n]))
            except Conditional as exc:
                note(n, f"static translation applies only under {exc}: not evaluated")
            except Unsupported as exc:
                note(n, str(exc))
        elif "overload" in rest or "interface" in rest:
            nat.masquerade.append(source(origin, [n]))
    outside_lines = [c for itf in itfs.values() for c in itf.node.children
                     if c.words in (["ip", "nat", "outside"], ["ip", "nat", "enable"])]
    # IOS runs the SIP ALG by default, on UDP and on TCP 5060, on whatever NAT translates;
    # without NAT it has nothing to act on. `no ip nat service sip udp port 5060` turns off
    # the UDP one only. Cite the explicit line if any, else the lines that make NAT active.
    for proto, (line, off) in alg.items():
        if off or not (line is not None or nat_lines):
            continue
        cited = [line] if line is not None else [*outside_lines, *nat_lines]
        srcs = [source(origin, [c]) for c in sorted(cited, key=lambda c: c.num)]
        if proto == "udp":
            nat.sip_alg = srcs
        else:
            nat.sip_alg_tcp = srcs
            if alg["udp"][1] and alg["udp"][0] is not None:  # why it is half off
                nat.sip_alg_tcp = [source(origin, [alg["udp"][0]]), *srcs]
    return nat
