"""OpIOS (Linux + nftables) router → :class:`RouterModel`, from the commands the collector runs.

nft's JSON gives the structure; ``nft -a list ruleset`` gives the line numbers shown to the
integrator (rules are matched by their handle). Only what decides the audits is interpreted;
a rule with a matcher we do not understand is listed as unevaluated, never guessed.
"""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Address, IPv4Interface
from typing import Any, Literal

from router_checks.model import (
    Action,
    DhcpPool,
    Interface,
    PortForward,
    RouterModel,
    Rule,
    RuleList,
    Source,
)
from router_checks.opios.expr import ANY, NftRule
from router_checks.opios.local import input_lists

NFT_TEXT = "nft -a list ruleset"  # router_checks.opios.local cites the same text
ADDR_TEXT = "ip -o -4 addr show"


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
        rule = NftRule(r["expr"])
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
    model.local = input_lists(doc, chains, lines, wan_names)
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
