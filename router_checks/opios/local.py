"""nftables: the input chains, as lists guarding the router itself from each WAN (for
:mod:`router_checks.management`).

Why per WAN: an input chain's rules speak of interfaces (``iifname "wan0"``, ``iifname !=
"wan0"``, ``iifname { "data0", "voice0" }``, wildcards such as ``"ppp*"``), and the
question is what a new connection arriving on the WAN meets, so each rule is read for that
WAN: a rule that cannot see it is left out, a condition it meets is dropped. Jumps and gotos
to regular chains are followed, their target's rules taking the jump's conditions; a
``return`` leaves the rules after it unsure, as is a rule with a matcher this reader does
not interpret (a named set, ``fib``, ``meta mark``…): in its place, it may or may not match,
so a verdict it could change is "not evaluated" (never guessed). A rule that can only match
another protocol (``icmp type echo-request``, ``udp dport 53``) is left out, since the
question is about TCP. Rate limits (``limit rate``) do not stop a scanner's connection and
are read as no condition.
"""

from __future__ import annotations

import fnmatch
from ipaddress import IPv4Network
from typing import Any

from router_checks.model import Action, PortRange, Proto, Rule, RuleList, Source
from router_checks.opios.expr import NftRule

Key = tuple[str, str, str]
Lines = dict[tuple[str, str, str, int], tuple[int, str]]
NFT_TEXT = "nft -a list ruleset"
MAX_DEPTH = 16
# Statements that neither match nor decide.
_PASSIVE = ("counter", "log", "limit", "meter", "quota")
_PROTOS: dict[str, Proto] = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ip": "ip", "th": "ip"}


def _names(right: Any) -> list[str] | None:
    if isinstance(right, dict) and "set" in right:
        values = right["set"]
    elif isinstance(right, list):
        values = right
    else:
        values = [right]
    return [str(v) for v in values] if all(isinstance(v, str) for v in values) else None


def _for_wan(exprs: list[dict[str, Any]], wan: str) -> list[dict[str, Any]] | None:
    """The rule's expressions for a new TCP connection arriving on ``wan``: conditions it
    meets dropped, None when it cannot match it."""
    out: list[dict[str, Any]] = []
    for e in exprs:
        if any(k in e for k in _PASSIVE):
            continue
        m = e.get("match")
        if not isinstance(m, dict):
            out.append(e)
            continue
        left, right, op = m.get("left"), m.get("right"), m.get("op", "==")
        meta = left.get("meta", {}).get("key") if isinstance(left, dict) else None
        payload = left.get("payload", {}) if isinstance(left, dict) else {}
        names = _names(right)
        if meta in ("iifname", "iif") and names is not None and op in ("==", "in", "!="):
            if any(n.startswith("@") for n in names):
                out.append(e)  # a named set: not read
                continue
            hit = any(fnmatch.fnmatchcase(wan, n) for n in names)
            if hit != (op == "!="):
                continue  # met: no condition left
            return None
        if meta == "l4proto" and names is not None and op in ("==", "in"):
            if "tcp" not in names:
                return None
            continue
        if meta == "nfproto" and names is not None and op in ("==", "in"):
            if "ipv4" not in names:
                return None
            continue
        if payload.get("protocol") == "ip" and payload.get("field") == "protocol" and (
                names is not None and op in ("==", "in")):
            if "tcp" not in names:
                return None
            continue
        if payload.get("protocol") not in (None, "tcp", "th", "ip"):
            return None  # icmp, udp, ip6…: never a TCP connection over IPv4
        out.append(e)
    return out


def _meet(a: tuple[IPv4Network, ...], b: tuple[IPv4Network, ...]) -> tuple[IPv4Network, ...]:
    return tuple(x if x.subnet_of(y) else y for x in a for y in b if x.overlaps(y))


def _meet_ports(a: tuple[PortRange, ...], b: tuple[PortRange, ...]
                ) -> tuple[PortRange, ...] | None:
    """Both port conditions (empty: any port); None when no port meets both."""
    if not a or not b:
        return a or b
    out = tuple(PortRange(max(x.lo, y.lo), min(x.hi, y.hi)) for x in a for y in b
                if max(x.lo, y.lo) <= min(x.hi, y.hi))
    return out or None


def _conjoin(guard: Rule | None, r: Rule) -> Rule | None:
    """``r`` as it applies to the packets a jump's ``guard`` sent it (None: none)."""
    if guard is None:
        return r
    if guard.proto != "ip" and r.proto not in ("ip", guard.proto):
        return None
    src, dst = _meet(guard.src, r.src), _meet(guard.dst, r.dst)
    ports = _meet_ports(guard.dst_ports, r.dst_ports)
    if not src or not dst or ports is None:
        return None
    where = Source(r.source.origin, (*guard.source.lines, *r.source.lines),
                   (*guard.source.text, *r.source.text))
    return Rule(r.action, r.proto if r.proto != "ip" else guard.proto, src, dst, ports, where,
                guard.established_only or r.established_only,
                unsure="; ".join(x for x in (guard.unsure, r.unsure) if x))


class _Chains:
    def __init__(self, doc: list[dict[str, Any]], chains: dict[Key, dict[str, Any]],
                 lines: Lines) -> None:
        self.chains = chains
        self.lines = lines
        self.rules: dict[Key, list[dict[str, Any]]] = {}
        for item in doc:
            r = item.get("rule")
            if r is not None:
                self.rules.setdefault((r["family"], r["table"], r["chain"]), []).append(r)

    def source(self, key: Key, handle: int) -> Source:
        n, text = self.lines.get((*key, handle), (0, ""))
        return Source(NFT_TEXT, (n,) if n else (), (text,) if text else ())

    def flat(self, key: Key, wan: str, guard: Rule | None, policy: Action, depth: int
             ) -> list[Rule]:
        """The chain's rules for traffic from ``wan``, jumps followed."""
        out: list[Rule] = []
        after_return = ""
        for r in self.rules.get(key, []):
            exprs = _for_wan(r["expr"], wan)
            if exprs is None:
                continue
            verdict = next((k for e in exprs for k in ("accept", "drop", "reject", "jump",
                                                       "goto", "return", "queue") if k in e),
                           None)
            matchers = [e for e in exprs if "match" in e]
            nft = NftRule(matchers)
            here = self.source(key, r["handle"])
            unsure = "; ".join(x for x in (after_return, ", ".join(nft.unknown)) if x)
            rule = Rule("permit", _PROTOS.get(nft.proto, "other"), nft.src, nft.dst, nft.ports,
                        here, nft.established, unsure=unsure)
            if verdict in ("accept", "drop", "reject"):
                action: Action = "permit" if verdict == "accept" else "deny"
                got = _conjoin(guard, Rule(action, rule.proto, rule.src, rule.dst,
                                           rule.dst_ports, here, rule.established_only,
                                           unsure=unsure))
                out.extend([got] if got is not None else [])
            elif verdict in ("jump", "goto"):
                target = next(e[verdict] for e in exprs if verdict in e).get("target", "")
                inner = _conjoin(guard, rule)
                if inner is None:
                    continue
                tkey = (key[0], key[1], str(target))
                if depth >= MAX_DEPTH or tkey not in self.chains:
                    why = f"{verdict} to {target} not followed"
                    out.extend(Rule(a, inner.proto, inner.src, inner.dst, inner.dst_ports,
                                    here, inner.established_only, unsure=why)
                               for a in ("deny", "permit"))
                    continue
                out.extend(self.flat(tkey, wan, inner, policy, depth + 1))
                if verdict == "goto":  # what falls through ends at the base chain's policy
                    out.append(Rule(policy, inner.proto, inner.src, inner.dst,
                                    inner.dst_ports, here, inner.established_only,
                                    unsure=inner.unsure))
            elif verdict == "return" and _conjoin(guard, rule) is not None:
                after_return = "after a return"
            elif verdict == "queue" and (inner := _conjoin(guard, rule)) is not None:
                out.extend(Rule(a, inner.proto, inner.src, inner.dst, inner.dst_ports, here,
                                inner.established_only, unsure="queued to a program")
                           for a in ("deny", "permit"))
        return out


def input_lists(doc: list[dict[str, Any]], chains: dict[Key, dict[str, Any]], lines: Lines,
                wans: set[str]) -> list[RuleList]:
    """One list per IPv4 input filter chain and per WAN, its policy as its default (a drop in
    any of them stops the connection)."""
    reader = _Chains(doc, chains, lines)
    out: list[RuleList] = []
    for key, c in chains.items():
        if c.get("hook") != "input" or c.get("type") != "filter" or key[0] not in ("ip", "inet"):
            continue
        policy: Action = "permit" if c.get("policy", "accept") == "accept" else "deny"
        n, text = lines.get((*key, -1), (0, ""))
        where = Source(NFT_TEXT, (n,) if n else (), (text,) if text else ())
        for wan in sorted(wans):
            out.append(RuleList(f"{key[1]}/{key[2]}", "inbound",
                                reader.flat(key, wan, None, policy, 0), policy, where,
                                ingress=(wan,)))
    return out
