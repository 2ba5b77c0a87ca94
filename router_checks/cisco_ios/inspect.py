"""Cisco IOS SIP-aware inspection: CBAC (``ip inspect name X sip``) and zone policies that
``inspect`` a class matching ``protocol sip``.

Why here: turning off the NAT SIP ALG (``no ip nat service sip ...``) is not the whole story
on an IOS firewall. A stateful inspection told about SIP parses every SIP message and opens
media ports from the SDP it reads: it is the same kind of middlebox the operator asks to
avoid, and the audit must say where it is on. Only an inspection that is applied counts (a
CBAC rule set on an interface, a policy on a zone pair).
"""

from __future__ import annotations

from router_checks.cisco_ios.interfaces import Itf
from router_checks.cisco_ios.tree import Node, source
from router_checks.model import Source


def _cbac(top: list[Node], itfs: dict[str, Itf], origin: str) -> list[Source]:
    sets = {n.words[3]: n for n in top
            if n.words[:3] == ["ip", "inspect", "name"] and n.words[4:5] == ["sip"]}
    out = []
    for itf in itfs.values():
        for c in itf.node.children:
            w = c.words
            if w[:2] == ["ip", "inspect"] and len(w) == 4 and w[2] in sets:
                out.append(source(origin, [sets[w[2]], c]))
    return out


def _sip_matches(name: str, maps: dict[str, Node], seen: frozenset[str]) -> list[Node]:
    """The ``match protocol sip`` lines a class map holds, through nested class maps."""
    cmap = maps.get(name)
    if cmap is None or name in seen:
        return []
    out = []
    for m in cmap.children:
        w = m.words
        if w == ["match", "protocol", "sip"]:
            out.append(m)
        elif w[:2] == ["match", "class-map"] and len(w) == 3:
            out.extend(_sip_matches(w[2], maps, seen | {name}))
    return out


def _zones(top: list[Node], origin: str) -> list[Source]:
    maps = {n.words[-1]: n for n in top if n.words[:3] == ["class-map", "type", "inspect"]}
    policies = {n.words[3]: n for n in top
                if n.words[:3] == ["policy-map", "type", "inspect"] and len(n.words) == 4}
    out = []
    for pair in (n for n in top if n.words[:2] == ["zone-pair", "security"]):
        for sp in pair.children:
            if sp.words[:3] != ["service-policy", "type", "inspect"] or len(sp.words) < 4:
                continue
            pmap = policies.get(sp.words[3])
            for cls in (pmap.children if pmap else []):
                w = cls.words
                if w[:3] != ["class", "type", "inspect"] or len(w) != 4:
                    continue
                if not any(a.words[:1] == ["inspect"] for a in cls.children):
                    continue
                sip = _sip_matches(w[3], maps, frozenset())
                if sip:
                    out.append(source(origin, [pair, sp, cls, *sip]))
    return out


def sip_inspection(top: list[Node], itfs: dict[str, Itf], origin: str) -> list[Source]:
    """Where a SIP-aware inspection is applied, each with the lines that make it."""
    return [*_cbac(top, itfs, origin), *_zones(top, origin)]
