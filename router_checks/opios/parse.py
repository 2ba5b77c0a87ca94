"""OpIOS (Linux + nftables) router → :class:`RouterModel`, from the commands the collector runs.

nft's JSON gives the structure; ``nft -a list ruleset`` gives the line numbers shown to the
integrator (rules are matched by their handle). Only what decides the audits is interpreted;
a rule with a matcher we do not understand is listed as unevaluated, never guessed.
"""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, summarize_address_range
from typing import Any, Literal

from router_checks.model import (
    Action,
    DhcpPool,
    Interface,
    PortForward,
    PortRange,
    RouterModel,
    Rule,
    RuleList,
    Source,
)

NFT_TEXT = "nft -a list ruleset"
ADDR_TEXT = "ip -o -4 addr show"
ANY = IPv4Network("0.0.0.0/0")


def _handle_lines(text: str) -> dict[tuple[str, str, str, int], tuple[int, str]]:
    """(family, table, chain, handle) → (line number, line) in ``nft -a list ruleset``."""
    out: dict[tuple[str, str, str, int], tuple[int, str]] = {}
    table = ("", "")
    chain = ""
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"table (\w+) (\S+) \{", s)
        if m:
            table = (m.group(1), m.group(2))
            continue
        m = re.match(r"chain (\S+) \{", s)
        if m:
            chain = m.group(1)
            out[(table[0], table[1], chain, -1)] = (n, s)
            continue
        if s.startswith("type ") and "policy" in s:  # the chain's default: cite this line
            out[(table[0], table[1], chain, -1)] = (n, s)
            continue
        m = re.search(r"# handle (\d+)$", s)
        if m:
            out[(table[0], table[1], chain, int(m.group(1)))] = (n, s.split(" # handle")[0])
    return out


def _values(right: Any) -> list[Any]:
    if isinstance(right, dict) and "set" in right:
        return list(right["set"])
    if isinstance(right, list):
        return right
    return [right]


def _nets(right: Any) -> tuple[IPv4Network, ...]:
    out = []
    for v in _values(right):
        if isinstance(v, dict) and "prefix" in v:
            out.append(IPv4Network(f"{v['prefix']['addr']}/{v['prefix']['len']}", strict=False))
        elif isinstance(v, dict) and "range" in v:
            lo, hi = (IPv4Address(x) for x in v["range"])
            out.extend(summarize_address_range(lo, hi))
        else:
            out.append(IPv4Network(f"{v}/32"))
    return tuple(out)


def _ports(right: Any) -> tuple[PortRange, ...]:
    out = []
    for v in _values(right):
        if isinstance(v, dict) and "range" in v:
            out.append(PortRange(int(v["range"][0]), int(v["range"][1])))
        else:
            out.append(PortRange(int(v), int(v)))
    return tuple(out)


class _Rule:
    """What one nft rule's expressions say, in the terms the audits need."""

    def __init__(self, exprs: list[dict[str, Any]]) -> None:
        self.iif: list[str] | None = None
        self.oif: list[str] | None = None
        self.proto = "ip"
        self.src: tuple[IPv4Network, ...] = (ANY,)
        self.dst: tuple[IPv4Network, ...] = (ANY,)
        self.ports: tuple[PortRange, ...] = ()
        self.established = False
        self.after_dnat = False  # "ct status dnat": only traffic a port-forward translated
        # "ct helper NAME" as a match: only the flows a helper expects (nft reads the helper
        # of the flow's master connection, as iptables' -m helper): the ALG's pinholes.
        self.helper_match: str | None = None
        self.verdict: str | None = None
        self.dnat: str | None = None
        self.dnat_port: int | None = None
        self.masquerade = False
        self.helper: str | None = None
        self.unknown: list[str] = []
        for e in exprs:
            self._expr(e)

    def _match(self, left: dict[str, Any], right: Any) -> None:
        if "meta" in left and left["meta"]["key"] in ("iifname", "oifname"):
            names = [str(v) for v in _values(right)]
            if left["meta"]["key"] == "iifname":
                self.iif = names
            else:
                self.oif = names
        elif "meta" in left and left["meta"]["key"] == "l4proto":
            self.proto = str(_values(right)[0])
        elif "payload" in left and left["payload"]["field"] in ("saddr", "daddr"):
            nets = _nets(right)
            if left["payload"]["field"] == "saddr":
                self.src = nets
            else:
                self.dst = nets
        elif "payload" in left and left["payload"]["field"] == "dport":
            self.proto = left["payload"]["protocol"]
            self.ports = _ports(right)
        elif "ct" in left and left["ct"]["key"] == "state":
            states = {str(v) for v in _values(right)}
            self.established = "new" not in states
        elif "ct" in left and left["ct"]["key"] == "status" and (
                {str(v) for v in _values(right)} == {"dnat"}):
            # "ct status dnat": true for port-forwarded traffic only (what the inbound lists
            # evaluate), never for traffic between the LANs; another status is not read.
            self.after_dnat = True
        elif "ct" in left and left["ct"]["key"] == "helper" and isinstance(right, str):
            # An expected flow of that helper (related, never new): the SIP ALG's pinholes
            # when the helper is SIP. Not an opening of the ruleset's own.
            self.helper_match = right
            self.established = True
        else:
            self.unknown.append(json.dumps(left)[:60])

    def _expr(self, e: dict[str, Any]) -> None:
        if "match" in e:
            m = e["match"]
            left, right, op = m["left"], m["right"], m.get("op", "==")
            if op not in ("==", "in"):
                self.unknown.append(f"{op} match")
                return
            named = [v for v in _values(right) if isinstance(v, str) and (
                v.startswith("@") or "*" in v)]
            if named:  # a named set or an interface wildcard: its members are not read here
                self.unknown.append(f"match on {named[0]}")
                return
            try:
                self._match(left, right)
            except (ValueError, TypeError, KeyError) as exc:
                self.unknown.append(f"unreadable match ({exc})"[:80])
            return
        if "accept" in e or "drop" in e or "reject" in e:
            self.verdict = next(k for k in ("accept", "drop", "reject") if k in e)
        elif "dnat" in e:
            self.dnat = str(e["dnat"].get("addr"))
            port = e["dnat"].get("port")
            self.dnat_port = int(port) if isinstance(port, int) else None
        elif "masquerade" in e or "snat" in e:
            self.masquerade = True
        elif "ct helper" in e:  # `ct helper set "name"`
            self.helper = str(e["ct helper"])
        elif "counter" in e or "log" in e:
            pass
        else:
            self.unknown.append(next(iter(e)))


def _forward_list(key: tuple[str, str, str], chain: dict[str, Any],
                  lines: dict[tuple[str, str, str, int], tuple[int, str]],
                  direction: Literal["inbound", "internal"]) -> RuleList:
    """An empty rule list for one forward chain, with the chain's policy as its default."""
    cl, ct = lines.get((*key, -1), (0, ""))
    return RuleList(f"{key[1]}/{key[2]}", direction, [],
                    "permit" if chain.get("policy", "accept") == "accept" else "deny",
                    Source(NFT_TEXT, (cl,) if cl else (), (ct,) if ct else ()),
                    after_nat=True)  # the forward hook sees packets after DNAT


def parse(*, addr_text: str, route_json: str, nft_json: str, nft_text: str,
          dhcp_text: str | None, dhcp_origin: str = "dhcp") -> RouterModel:
    """Build the model from the collector's outputs."""
    model = RouterModel(kind="opios")
    model.sources = {ADDR_TEXT: addr_text, NFT_TEXT: nft_text}
    routes = json.loads(route_json or "[]")
    wan = {r.get("dev") for r in routes if r.get("dst") == "default"}
    by_if: dict[str, list[tuple[IPv4Interface, int, str]]] = {}
    for n, line in enumerate(addr_text.splitlines(), 1):
        m = re.match(r"\d+:\s+(\S+)\s+inet\s+(\S+)", line)
        if m and m.group(1) != "lo":
            by_if.setdefault(m.group(1), []).append((IPv4Interface(m.group(2)), n, line.strip()))
    for name, addrs in by_if.items():
        role = "wan" if name in wan else ("lan" if all(a.ip.is_private for a, _, _ in addrs)
                                          else "unknown")
        model.interfaces.append(Interface(
            name, tuple(a for a, _, _ in addrs), None, role,  # type: ignore[arg-type]
            Source(ADDR_TEXT, tuple(n for _, n, _ in addrs), tuple(t for _, _, t in addrs))))
    wan_names = wan - {None}
    lines = _handle_lines(nft_text)
    doc = json.loads(nft_json or '{"nftables": []}')["nftables"]
    chains = {(c["family"], c["table"], c["name"]): c
              for c in (x["chain"] for x in doc if "chain" in x)}
    helpers = {(h["family"], h["table"], h["name"]): h
               for h in (x["ct helper"] for x in doc if "ct helper" in x)}
    lists: dict[tuple[str, str, str], RuleList] = {}
    internal: dict[tuple[str, str, str], RuleList] = {}
    admits_pinholes: list[Source] = []  # accepts of the SIP helper's expected flows
    for item in doc:
        if "rule" not in item:
            continue
        r = item["rule"]
        key = (r["family"], r["table"], r["chain"])
        chain = chains.get(key, {})
        line_no, text = lines.get((*key, r["handle"]), (0, ""))
        src = Source(NFT_TEXT, (line_no,) if line_no else (), (text,) if text else ())
        rule = _Rule(r["expr"])
        hook = chain.get("hook")
        if rule.helper is not None:
            h = helpers.get((r["family"], r["table"], rule.helper.strip('"')))
            if h is not None and h.get("type") == "sip":
                model.sip_alg = True
                model.sip_alg_sources.append(src)
        # The kernel compares `ct helper NAME` with its own helper's name ("sip"), whatever
        # the ct helper object that set it is called.
        if rule.helper_match == "sip" and rule.verdict == "accept" and not rule.unknown and (
                hook == "forward"):
            admits_pinholes.append(src)
        if hook == "prerouting" and rule.dnat and (rule.iif is None or set(rule.iif) & wan_names):
            wan_in = [n for n in rule.iif or () if n in wan_names]
            model.forwards.append(PortForward(rule.proto, rule.ports,  # type: ignore[arg-type]
                                              IPv4Address(rule.dnat),
                                              () if rule.src == (ANY,) else rule.src, src,
                                              to_port=rule.dnat_port,
                                              wan=wan_in[0] if len(wan_in) == 1 else None))
        if hook == "postrouting" and rule.masquerade:
            model.masquerade.append(src)
        if (hook != "forward" or chain.get("type") != "filter"
                or r["family"] not in ("ip", "inet")  # IPv4 forwarding only
                or (rule.verdict is None and not rule.unknown)):  # counters, logs
            continue
        inbound = (rule.iif is None or bool(set(rule.iif) & wan_names)) and (
            rule.oif is None or not set(rule.oif) & wan_names)
        # Between the LANs: neither side on the WAN, and no port-forward involved.
        iif = tuple(n for n in rule.iif or () if n not in wan_names)
        oif = tuple(n for n in rule.oif or () if n not in wan_names)
        between = (rule.iif is None or bool(iif)) and (rule.oif is None or bool(oif)) and (
            not rule.after_dnat)
        if not (inbound or between):
            continue
        if rule.unknown:
            model.sources.setdefault("unevaluated", "")
            model.sources["unevaluated"] += f"{src.ref()}: {', '.join(rule.unknown)}\n"
            if between and not rule.established:  # it may decide traffic between the LANs
                model.internal_unevaluated.append(src)
            continue
        action: Action = "permit" if rule.verdict == "accept" else "deny"
        proto = rule.proto if rule.proto in ("udp", "tcp", "icmp") else "ip"
        if inbound:  # with the interfaces it names: a rule out voice0 never sees data0's
            lists.setdefault(key, _forward_list(key, chain, lines, "inbound")).rules.append(
                Rule(action, proto, rule.src, rule.dst, rule.ports,  # type: ignore[arg-type]
                     src, rule.established, tuple(rule.iif or ()), tuple(rule.oif or ()),
                     translated_only=rule.after_dnat))
        if between:
            internal.setdefault(key, _forward_list(key, chain, lines, "internal")).rules.append(
                Rule(action, proto, rule.src, rule.dst, rule.ports,  # type: ignore[arg-type]
                     src, rule.established, iif, oif))
    for key, c in chains.items():  # forward chains with no rule of a kind still have a policy
        if c.get("hook") == "forward" and c.get("type") == "filter" and key[0] in ("ip", "inet"):
            lists.setdefault(key, _forward_list(key, c, lines, "inbound"))
            internal.setdefault(key, _forward_list(key, c, lines, "internal"))
    if model.sip_alg:
        # What lets the ALG's pinholes through is part of the ALG's effect, said with it
        # (SIP_ALG_ON), never an opening of its own; without the ALG it admits nothing.
        model.sip_alg_sources.extend(admits_pinholes)
    prio = {f"{k[1]}/{k[2]}": int(c.get("prio", 0)) for k, c in chains.items()}
    model.filters = sorted([*lists.values(), *internal.values()],
                           key=lambda x: prio.get(x.name, 0))
    if dhcp_text is not None:
        model.sources[dhcp_origin] = dhcp_text
        for n, line in enumerate(dhcp_text.splitlines(), 1):
            s = line.strip()
            if not s.startswith("dhcp-range="):
                continue
            ips = re.findall(r"(?<![\d.])(\d+\.\d+\.\d+\.\d+)(?![\d.])", s)
            if len(ips) >= 2:
                start, end = IPv4Address(ips[0]), IPv4Address(ips[1])
                model.dhcp_pools.append(DhcpPool(f"line {n}", None, start, end, None,
                                                 Source(dhcp_origin, (n,), (s,))))
    return model
