"""Cisco IOS zone-based firewall (ZBF) → the rule lists between two interfaces.

The Cisco 800 configurations that Cisco Configuration Professional writes, and many an
integrator's, filter with zones rather than interface access-groups: interfaces are
``zone-member security Z``; traffic from zone A to zone B passes only through a
``zone-pair security … source A destination B`` whose ``policy-map type inspect`` takes the
first ``class type inspect`` that matches (``inspect``/``pass`` let it through, ``drop``
stops it) and otherwise its ``class class-default`` (drop unless it says otherwise).
Between an interface in a zone and one in none, IOS drops everything; inside one zone it
passes everything. Class-map ACLs are read after NAT (inside addresses), as IOS applies the
policy after translating.

Each list is scoped to the (ingress, egress) interface pair it filters, so the audits can ask
for the path a packet takes. A ``source Z destination Z`` pair filters inside zone Z, and an
IOS-XE ``zone security default`` holds the interfaces in no zone. What is not evaluated is
noted and left out, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from router_checks.cisco_ios.operands import ANY
from router_checks.cisco_ios.tree import Node as _Node
from router_checks.cisco_ios.tree import Note, source
from router_checks.model import Action, PortRange, Proto, Rule, RuleList, Source

# `match protocol NAME` for the names that reach the ports the audits look at (or that are
# common in ZBF configs); anything else is noted as not evaluated.
PROTOCOLS: dict[str, list[tuple[Proto, tuple[PortRange, ...]]]] = {
    "udp": [("udp", ())], "tcp": [("tcp", ())], "icmp": [("icmp", ())],
    "sip": [("udp", (PortRange(5060, 5060),)), ("tcp", (PortRange(5060, 5060),))],
    "sip-tls": [("tcp", (PortRange(5061, 5061),))],
    "dns": [("udp", (PortRange(53, 53),)), ("tcp", (PortRange(53, 53),))],
    "ntp": [("udp", (PortRange(123, 123),))], "http": [("tcp", (PortRange(80, 80),))],
    "https": [("tcp", (PortRange(443, 443),))], "ssh": [("tcp", (PortRange(22, 22),))],
    "telnet": [("tcp", (PortRange(23, 23),))], "h323": [("tcp", (PortRange(1720, 1720),))],
    "skinny": [("tcp", (PortRange(2000, 2000),))],
}
Direction = Literal["inbound", "internal"]


@dataclass
class Zbf:
    """The zone definitions of one configuration."""

    class_maps: dict[str, _Node] = field(default_factory=dict)
    policy_maps: dict[str, _Node] = field(default_factory=dict)
    pairs: dict[tuple[str, str], tuple[_Node, _Node | None]] = field(default_factory=dict)
    zones: dict[str, _Node] = field(default_factory=dict)  # zone security NAME

    @classmethod
    def read(cls, top: list[_Node]) -> Zbf:
        z = cls()
        for n in top:
            w = n.words
            if w[:2] == ["zone", "security"] and len(w) == 3:
                z.zones[w[2]] = n
            elif w[:3] == ["class-map", "type", "inspect"] and len(w) >= 4:
                z.class_maps[w[-1]] = n
            elif w[:3] == ["policy-map", "type", "inspect"] and len(w) == 4:
                z.policy_maps[w[3]] = n
            elif (w[:2] == ["zone-pair", "security"] and len(w) == 7
                  and w[3] == "source" and w[5] == "destination"):
                policy = next((c for c in n.children
                               if c.words[:3] == ["service-policy", "type", "inspect"]), None)
                z.pairs[(w[4], w[6])] = (n, policy)
        return z


def _action(cls_node: _Node) -> Action | None:
    for c in cls_node.children:
        if c.words[:1] in (["inspect"], ["pass"]):
            return "permit"
        if c.words[:1] == ["drop"]:
            return "deny"
    return None


class Builder:
    """Rule lists for zone pairs, from one configuration's ZBF definitions."""

    def __init__(self, top: list[_Node], acl: Callable[[str, bool], RuleList | None],
                 origin: str, note: Note) -> None:
        self.zbf = Zbf.read(top)
        # An access list by name, read with inside addresses (None: undefined); the flag
        # asks for the strict reading a dropping class needs.
        self.acl = acl
        self.origin = origin
        self.note = note
        self._policies: dict[str, tuple[list[Rule], Action, _Node]] = {}

    def _src(self, nodes: list[_Node]) -> Source:
        return source(self.origin, nodes)

    def between(self, a: str, a_zone: tuple[str, _Node] | None, b: str,
                b_zone: tuple[str, _Node] | None, direction: Direction) -> RuleList | None:
        """The list traffic from interface ``a`` to ``b`` crosses, None when zones do not
        filter it (neither in a zone, or both in the same one)."""
        if a_zone is None and b_zone is None:
            return None
        if "default" in self.zbf.zones:  # IOS-XE: interfaces in no zone are in "default"
            a_zone = a_zone or ("default", self.zbf.zones["default"])
            b_zone = b_zone or ("default", self.zbf.zones["default"])
        scope: dict[str, tuple[str, ...]] = {"ingress": (a,), "egress": (b,)}
        if a_zone is None or b_zone is None:  # IOS: zone member ↔ non-member is dropped
            member = a_zone or b_zone
            assert member is not None
            return RuleList(f"zone {member[0]} ↔ {b if a_zone else a} (no zone)", direction, [],
                            "deny", self._src([member[1]]), **scope, after_nat=True)
        pair = self.zbf.pairs.get((a_zone[0], b_zone[0]))
        if a_zone[0] == b_zone[0] and pair is None:
            return None  # inside one zone everything passes, unless an intra-zone pair says
        if pair is None or pair[1] is None:
            cited = [a_zone[1], b_zone[1], *([pair[0]] if pair else [])]
            return RuleList(f"no policy from zone {a_zone[0]} to {b_zone[0]}", direction, [],
                            "deny", self._src(cited), **scope, after_nat=True)
        pair_node, service = pair
        assert service is not None
        return self._policy(service.words[3] if len(service.words) > 3 else "", service,
                            direction, scope, pair_node)

    def _policy(self, name: str, service: _Node, direction: Direction,
                scope: dict[str, tuple[str, ...]], pair_node: _Node) -> RuleList:
        pmap = self.zbf.policy_maps.get(name)
        if pmap is None:
            self.note(service, f"policy-map type inspect {name} is not defined: IOS drops")
            return RuleList(name, direction, [], "deny", self._src([pair_node, service]),
                            **scope, after_nat=True)
        if name not in self._policies:  # read once: its notes are not repeated per pair
            rules: list[Rule] = []
            default: Action = "deny"
            for c in pmap.children:
                w = c.words
                if w == ["class", "class-default"]:
                    default = _action(c) or "deny"
                elif w[:3] == ["class", "type", "inspect"] and len(w) == 4:
                    action = _action(c)
                    if action is None:
                        self.note(c, "class without inspect/pass/drop: left out")
                        continue
                    rules.extend(self._class(w[3], action, c, frozenset()))
            self._policies[name] = (rules, default, pmap)
        rules, default, pmap = self._policies[name]
        return RuleList(name, direction, list(rules), default,
                        self._src([pair_node, service, pmap]), **scope, after_nat=True)

    def _class(self, name: str, action: Action, where: _Node, seen: frozenset[str]
               ) -> list[Rule]:
        cmap = self.zbf.class_maps.get(name)
        if cmap is None or name in seen:
            self.note(where, f"class-map type inspect {name} is "
                             f"{'not defined' if cmap is None else 'recursive'}: left out")
            return []
        matches = [c for c in cmap.children if c.words[:1] == ["match"]]
        match_all = "match-any" not in cmap.words
        if match_all and len(matches) > 1:
            return self._match_all(matches, action, where, cmap)
        out: list[Rule] = []
        for m in matches:
            out.extend(self._match(m, action, where, seen | {name}))
        return out

    def _match(self, m: _Node, action: Action, where: _Node, seen: frozenset[str]
               ) -> list[Rule]:
        w = m.words
        src = self._src([where, m])
        if (w[1:3] == ["access-group", "name"] and len(w) == 4) or (
                w[1] == "access-group" and len(w) == 3 and w[2].isdigit()):
            acl = self.acl(w[-1], action == "deny")
            if acl is None:
                self.note(m, f"access list {w[-1]} is not defined: the class matches nothing")
                return []
            return [Rule(action, "ip", (ANY,), (ANY,), (), src, match=acl)]
        if w[1] == "protocol" and len(w) == 3:
            if w[2] not in PROTOCOLS:
                self.note(m, f"protocol {w[2]} is not evaluated: left out")
                return []
            return [Rule(action, proto, (ANY,), (ANY,), ports, src)
                    for proto, ports in PROTOCOLS[w[2]]]
        if w[1] == "class-map" and len(w) == 3:
            return self._class(w[2], action, where, seen)
        self.note(m, f"'{m.text}' is not evaluated: left out")
        return []

    def _match_all(self, matches: list[_Node], action: Action, where: _Node, cmap: _Node
                   ) -> list[Rule]:
        """match-all with one protocol and one access list (CCP's usual pair): both must hold."""
        protos = [m for m in matches if m.words[1] == "protocol"]
        groups = [m for m in matches if m.words[1] == "access-group"]
        if len(protos) != 1 or len(groups) != 1 or len(matches) != 2:
            self.note(cmap, "match-all class other than one protocol and one access list: "
                            "left out")
            return []
        with_ports = self._match(protos[0], action, where, frozenset())
        acl = self._match(groups[0], action, where, frozenset())
        if not with_ports or not acl:
            return []
        src = self._src([where, protos[0], groups[0]])
        return [Rule(action, r.proto, (ANY,), (ANY,), r.dst_ports, src, match=acl[0].match)
                for r in with_ports]
