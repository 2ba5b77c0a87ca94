"""Cisco IOS: which rule lists filter which path through the router.

Why here: the audits ask "from this interface to that one, what decides?", and IOS answers
in three ways: an ``ip access-group`` in or out on an interface (first match, implicit
deny; an undefined or empty list permits all), a zone-based firewall policy between the
two interfaces' zones (:mod:`.zbf`), or nothing at all (IOS routes freely). An inbound
WAN list sees the public address before NAT, so its destinations are re-expressed as the
forwards' inside hosts (:func:`.nat.post_nat`).
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from router_checks.cisco_ios.acl import Acl, Groups, read_ace, read_acls
from router_checks.cisco_ios.interfaces import Itf, Role
from router_checks.cisco_ios.nat import Static, post_nat
from router_checks.cisco_ios.operands import Redacted, Unsupported
from router_checks.cisco_ios.tree import Node, Note, source
from router_checks.cisco_ios.zbf import Builder
from router_checks.model import Rule, RuleList, Source


def read_filters(top: list[Node], itfs: dict[str, Itf], roles: dict[str, Role],
                 statics: list[Static], origin: str, note: Note, notes: list[str],
                 routed: tuple[IPv4Network, ...] = (), redacted: list[Source] | None = None
                 ) -> list[RuleList]:
    """The inbound list of each WAN interface: its ``ip access-group NAME in`` evaluated in
    order with IOS's implicit final deny, or IOS's permit-all when there is none. Then the
    lists that filter traffic between the LANs: each LAN interface's ``in`` list (traffic
    entering from that LAN) and ``out`` list (traffic routed into it). ``routed``: the
    public LANs reached untranslated, whose addresses an inbound entry names as they are;
    ``redacted`` collects the inbound entries left out because an address was hidden."""
    out: list[RuleList] = []
    groups = Groups.read(top)
    acls = read_acls(top)

    def rules_of(group: Node, direction: Literal["inbound", "internal"], name: str
                 ) -> RuleList:
        acl_name = group.words[2]
        acl = acls.get(acl_name)
        scope: dict[str, tuple[str, ...]] = {  # the interface it is applied to
            "ingress" if group.words[3] == "in" else "egress": (name,)}
        if acl is None or acl.empty():
            # IOS permits everything through an undefined or empty access list.
            why = "undefined" if acl is None else "empty"
            note(group, f"access list {acl_name} is {why}: IOS permits all")
            return RuleList(acl_name, direction, [], "permit", source(origin, [group]),
                            ingress=scope.get("ingress", ()), egress=scope.get("egress", ()))
        return entries(acl, direction, source(origin, [group]), scope)

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
                acl, "internal", source(origin, [head] if head else []), {}, strict=strict)
        return read[(acl_name, strict)]

    def entries(acl: Acl, direction: Literal["inbound", "internal"], where: Source,
                scope: dict[str, tuple[str, ...]], *, strict: bool = False) -> RuleList:
        rules: list[Rule] = []
        for e, words in acl.entries:
            ace_notes: list[str] = []
            try:
                ace = read_ace(words, groups, acl.standard, ace_notes)
            except Redacted as exc:
                note(e, f"left out: {exc}")
                if direction == "inbound" and redacted is not None:
                    redacted.append(source(origin, [e]))
                continue
            except Unsupported as exc:
                note(e, f"left out: {exc}")
                continue
            if strict and ace_notes:
                note(e, f"left out of a class that drops: {'; '.join(ace_notes)}")
                continue
            for why in ace_notes:
                note(e, why)
            if ace is None:
                continue
            dst = (post_nat(ace.dst, statics, f"{origin}:{e.num}", notes, routed)
                   if direction == "inbound" else ace.dst)  # no NAT between inside LANs
            for svc in ace.services:
                rules.append(Rule(ace.action, svc.proto, ace.src, dst, svc.ports,
                                  source(origin, [e]), ace.established))
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
                                source(origin, [itf.node]), ingress=(name,)))
            continue
        out.append(rules_of(itf.acl_in, "inbound", name))
    return out
