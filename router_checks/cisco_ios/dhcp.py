"""Cisco IOS DHCP server → the address range each pool leases and its gateway.

Why here: IOS has no range statement. A pool leases every host of its ``network`` except
the ``ip dhcp excluded-address`` ranges, which are top-level lines far from the pool, so
the range (and the lines that shape it) must be worked out before the audit can say
whether it stays inside its LAN and clear of the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network

from router_checks.cisco_ios.operands import Unsupported, ipv4, masked
from router_checks.cisco_ios.tree import Node, Note, source
from router_checks.model import DhcpPool


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


def dhcp_pools(top: list[Node], origin: str, note: Note) -> list[DhcpPool]:
    """Each ``ip dhcp pool`` with a network: the range it leases, its gateway, and the lines
    that make them (pool, network, default-router and the exclusions that shape the range)."""
    out: list[DhcpPool] = []
    excluded: list[tuple[int, int, Node]] = []
    for n in top:
        w = n.words
        if w[:3] == ["ip", "dhcp", "excluded-address"] and w[3:4] != ["vrf"] and len(w) >= 4:
            try:
                a = int(ipv4(w[3]))
                b = int(ipv4(w[4])) if len(w) >= 5 else a
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
                    net = masked(cw[1], cw[2])
                    cited.append(c)
                elif cw[:1] == ["default-router"] and len(cw) >= 2:
                    gateway = ipv4(cw[1])
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
                            source(origin, [*cited, *(x for _, _, x in mine)])))
    return out
