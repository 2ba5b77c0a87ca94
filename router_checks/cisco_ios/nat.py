"""Cisco IOS NAT → port forwards, masquerade and the SIP ALG.

Why here: NAT decides three audits at once. Static translations are the site's port
forwards (where voice ports go, and the public address an inbound access list names), an
``overload`` rule is the masquerade, and IOS runs its SIP ALG by default on whatever NAT
translates, unless ``no ip nat service sip udp port 5060`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from router_checks.cisco_ios.interfaces import Itf
from router_checks.cisco_ios.operands import ANY, Unsupported, ipv4
from router_checks.cisco_ios.tree import Node, Note, source
from router_checks.model import PortForward, PortRange, Proto, Source

ALG_ON = ["ip", "nat", "service", "sip", "udp", "port", "5060"]


@dataclass
class Static:
    """A static inside-source translation: inside address ``to`` reachable from outside at
    ``outside`` (None when that is an interface whose address the config does not show)."""

    fwd: PortForward
    outside: IPv4Address | None


def read_static(w: list[str], node: Node, itfs: dict[str, Itf], origin: str) -> Static:
    """``ip nat [inside] source static ...`` words after ``static``."""
    src = source(origin, [node])

    def outside_at(i: int) -> tuple[IPv4Address | None, int]:
        if i < len(w) and w[i] == "interface" and i + 1 < len(w):
            itf = itfs.get(w[i + 1])
            return (itf.addrs[0][0].ip if itf and itf.addrs else None), i + 2
        if i < len(w):
            return ipv4(w[i]), i + 1
        raise Unsupported("static NAT without an outside address")

    def wan_at(i: int) -> str | None:
        return w[i + 1] if i + 1 < len(w) and w[i] == "interface" else None

    if w and w[0] in ("udp", "tcp"):
        if len(w) < 5 or not w[2].isdigit():
            raise Unsupported("static port translation too short")
        inside = ipv4(w[1])
        outside, i = outside_at(3)
        if i >= len(w) or not w[i].isdigit():
            raise Unsupported("static port translation without an outside port")
        port = int(w[i])
        proto: Proto = "udp" if w[0] == "udp" else "tcp"
        return Static(PortForward(proto, (PortRange(port, port),), inside, (), src,
                                  to_port=int(w[2]), wan=wan_at(3)), outside)
    if w and w[0] in ("network", "esp"):
        raise Unsupported(f"static '{w[0]}' translation")
    if len(w) < 2:
        raise Unsupported("static translation too short")
    inside = ipv4(w[0])
    outside, _ = outside_at(1)
    return Static(PortForward("ip", (), inside, (), src, wan=wan_at(1)), outside)


def post_nat(dst: tuple[IPv4Network, ...], statics: list[Static], where: str,
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


@dataclass
class Nat:
    """What the NAT lines of one configuration say."""

    statics: list[Static] = field(default_factory=list)
    masquerade: list[Source] = field(default_factory=list)
    sip_alg: list[Source] = field(default_factory=list)  # why the ALG is on (empty: off)


def read_nat(top: list[Node], itfs: dict[str, Itf], origin: str, note: Note) -> Nat:
    """Static translations (port forwards), overload (masquerade) and the SIP ALG."""
    nat = Nat()
    nat_lines: list[Node] = []
    alg_explicit: Node | None = None
    alg_off = False
    for n in top:
        w = n.words
        if w[:2] == ["ip", "nat"] and w[2:3] == ["inside"] and w[3:4] == ["source"]:
            rest = w[4:]
        elif w[:3] == ["ip", "nat", "source"]:  # NAT virtual interface (ip nat enable)
            rest = w[3:]
        else:
            if w == ALG_ON:
                alg_explicit = n
            elif w == ["no", *ALG_ON]:
                alg_off = True
            continue
        nat_lines.append(n)
        if rest[:1] == ["static"]:
            try:
                nat.statics.append(read_static(rest[1:], n, itfs, origin))
            except Unsupported as exc:
                note(n, str(exc))
        elif "overload" in rest or "interface" in rest:
            nat.masquerade.append(source(origin, [n]))
    outside_lines = [c for itf in itfs.values() for c in itf.node.children
                     if c.words in (["ip", "nat", "outside"], ["ip", "nat", "enable"])]
    # IOS runs the SIP ALG by default on whatever NAT translates; without NAT it has
    # nothing to act on. Cite the explicit line if any, else the lines that make NAT active.
    if not alg_off and (alg_explicit is not None or nat_lines):
        cited = [alg_explicit] if alg_explicit is not None else [*outside_lines, *nat_lines]
        nat.sip_alg = [source(origin, [c]) for c in sorted(cited, key=lambda c: c.num)]
    return nat
