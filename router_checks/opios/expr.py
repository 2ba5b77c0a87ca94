"""nftables JSON expressions → what a rule matches, in the terms the audits need.

Why a module of its own: the forward chains (:mod:`.parse`) and the input chains that guard
the router itself (:mod:`.local`) read rules the same way; a matcher this reader does not
understand is listed in ``unknown``, never guessed.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from typing import Any

from router_checks.model import PortRange

ANY = IPv4Network("0.0.0.0/0")


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


class NftRule:
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
