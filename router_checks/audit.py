"""Audits of a normalised router model against the site profile and the operator's rules.

Every finding carries the configuration lines behind it, and its message is a code with
parameters (router_checks/texts.py), so the sheet says it in the customer's language. The
firewall audit evaluates the rules in order, as the device would, for UDP 5060 and every
port of 10000-20000, from the operator's SIP server and from witnesses of every other
source a rule admits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from harness.messages import Msg, Param, msg
from harness.portset import fmt
from harness.profile import Lan, Router
from router_checks.model import PortForward, RouterModel, Rule, RuleList, Source

SIP_PORT = 5060
RTP = range(10000, 20001)
VOICE_PORTS = (SIP_PORT, *RTP)
OUTSIDER_WITNESS = IPv4Address("203.0.113.66")
ADVISED_AGAINST = ("livebox", "freebox", "alicebox", "bbox", "sfr box", "dartybox",
                   "auchanbox", "clubbox", "nc box", "linksys wag", "zyxel p-660",
                   "netgear dg834g", "tp-link")

Severity = Literal["fail", "warn", "info"]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: Msg
    sources: tuple[Source, ...] = ()

    def line(self) -> str:
        """One line in English: ``[fail] CODE: text (refs)`` (``recette audit``, evidence)."""
        refs = "; ".join(s.ref() for s in self.sources)
        return f"[{self.severity}] {self.code}: {self.message}" + (f" ({refs})" if refs else "")


def _finding(severity: Severity, message: Msg, sources: Iterable[Source] = ()) -> Finding:
    """A finding named by its message's code."""
    return Finding(message.code, severity, message, tuple(sources))


def _role(role: str) -> Msg:
    """The LAN's role as a word of the sentence (``data`` / ``voice``)."""
    return msg("LAN_DATA") if role == "data" else msg("LAN_VOICE")


def _lan_interface(model: RouterModel, lan: Lan) -> tuple[str, Source] | None:
    for itf in model.interfaces:
        for addr in itf.addresses:
            if addr.ip == lan.gateway and addr.network == lan.network:
                return itf.name, itf.source
    return None


def audit_lans(model: RouterModel, router: Router) -> list[Finding]:
    """Voice and data LANs exist as planned and are separated (interfaces or VLANs)."""
    out: list[Finding] = []
    found: dict[str, tuple[str, Source]] = {}
    for role in ("data", "voice"):
        lan: Lan = getattr(router.lans, role)
        hit = _lan_interface(model, lan)
        if hit is None:
            near = [i for i in model.interfaces for a in i.addresses if a.ip in lan.network]
            where: dict[str, Param | Msg] = {
                "role": _role(role), "network": str(lan.network), "gateway": str(lan.gateway)}
            if near:
                out.append(_finding("fail", msg("LAN_MISMATCH", found=str(near[0].addresses[0]),
                                                interface=near[0].name, **where),
                                    (near[0].source,)))
            else:
                out.append(_finding("fail", msg("LAN_MISSING", **where)))
            continue
        found[role] = hit
    if "data" in found and "voice" in found and found["data"][0] == found["voice"][0]:
        out.append(_finding("fail", msg("LANS_NOT_SEPARATED", interface=found["data"][0]),
                            (found["data"][1],)))
    return out


# What "permit any between the LANs" is judged on: new flows an attacker on one LAN would
# use against the other (remote access, file shares, SNMP, web admin, SIP and RTP, ping).
SAMPLE_FLOWS = (("tcp", 22), ("tcp", 23), ("tcp", 80), ("tcp", 443), ("tcp", 445),
                ("tcp", 3389), ("udp", 53), ("udp", 161), ("udp", 5060), ("udp", 10000),
                ("icmp", 0))


def _sample_hosts(lan: Lan, ipbx: IPv4Address | None) -> list[IPv4Address]:
    """Hosts of ``lan`` other than the router to judge it by: the IPBX when it is there, the
    first, a middle and the last address (a rule sparing one host is no isolation)."""
    net = lan.network
    picks = [ipbx] if ipbx is not None and ipbx in net else []
    if net.num_addresses > 2:
        first, last = net.network_address + 1, net.broadcast_address - 1
        picks += [first, IPv4Address((int(first) + int(last)) // 2), last]
    else:
        picks += list(net)
    return [h for h in dict.fromkeys(picks) if h != lan.gateway]


def _passes_all(lists: list[RuleList], src: IPv4Address, dst: IPv4Address,
                path: tuple[str, str]) -> list[Decider] | None:
    """What let every sampled flow from ``src`` to ``dst`` through (each list's deciding rule,
    or its default), or None as soon as one flow is refused."""
    deciders: list[Decider] = []
    for proto, port in SAMPLE_FLOWS:
        for lst in lists:
            action, rule = lst.decide(proto, src, dst, port, path)
            if action == "deny":
                return None
            deciders.append(rule if rule is not None else lst.source)
    return deciders


def audit_isolation(model: RouterModel, router: Router) -> list[Finding]:
    """With ``lans.isolated``, neither LAN may reach the other without restriction: a
    direction fails when, for some pair of sampled hosts, every sampled flow passes the lists
    between the two interfaces (IOS routes between its interfaces freely unless an
    access-group filters them). What the model cannot evaluate makes it a warning instead."""
    if not router.lans.isolated:
        return []
    if model.internal_unevaluated:
        return [_finding("warn", msg("LAN_ISOLATION_UNKNOWN"), model.internal_unevaluated)]
    lans = {role: getattr(router.lans, role) for role in ("data", "voice")}
    itfs = {role: _lan_interface(model, lan) for role, lan in lans.items()}
    if any(hit is None for hit in itfs.values()) or itfs["data"] == itfs["voice"]:
        return []  # LAN_MISSING / LAN_MISMATCH / LANS_NOT_SEPARATED already say why
    out: list[Finding] = []
    for a, b in (("data", "voice"), ("voice", "data")):
        (a_itf, a_src), (b_itf, b_src) = itfs[a], itfs[b]  # type: ignore[misc]
        path = (a_itf, b_itf)
        lists = [f for f in model.filters if f.direction == "internal" and f.applies(path)]
        for src in _sample_hosts(lans[a], router.ipbx):
            hit = next(((dst, d) for dst in _sample_hosts(lans[b], router.ipbx)
                        if (d := _passes_all(lists, src, dst, path)) is not None), None)
            if hit is not None:
                break
        if hit is None:
            continue
        dst, deciders = hit
        why = (tuple(sorted(_refs(deciders, ""), key=lambda x: (x.origin, x.lines)))
               if lists else (a_src, b_src))  # no list at all: the interfaces route freely
        flows = ", ".join(f"{p}/{n}" if p != "icmp" else "icmp" for p, n in SAMPLE_FLOWS)
        out.append(_finding("fail", msg(
            "LANS_OPEN_TO_EACH_OTHER", role=_role(a), network=str(lans[a].network),
            other=_role(b), other_network=str(lans[b].network), src=str(src), dst=str(dst),
            flows=flows), (s for s in why if s.lines)))
    return out


def audit_dhcp(model: RouterModel, router: Router) -> list[Finding]:
    """DHCP ranges inside their LAN and clear of the gateway."""
    out: list[Finding] = []
    lans = [router.lans.data, router.lans.voice]
    for pool in model.dhcp_pools:
        lan = next((x for x in lans if pool.start in x.network), None)
        net = pool.network or (lan.network if lan else None)
        gateway = pool.gateway or (lan.gateway if lan else None)
        where: dict[str, Param | Msg] = {
            "pool": pool.name, "start": str(pool.start), "end": str(pool.end)}
        if net is None or pool.start not in net or pool.end not in net:
            out.append(_finding("fail", msg(
                "DHCP_OUTSIDE_LAN", network=str(net) if net else msg("ANY_EXPECTED_LAN"),
                **where), (pool.source,)))
            continue
        if gateway is not None and int(pool.start) <= int(gateway) <= int(pool.end):
            out.append(_finding("fail", msg("DHCP_COVERS_GATEWAY", gateway=str(gateway),
                                            **where), (pool.source,)))
    return out


def _forward_for(model: RouterModel, port: int) -> PortForward | None:
    for fwd in model.forwards:
        if fwd.proto in ("udp", "ip") and (not fwd.ports or any(r.contains(port)
                                                                 for r in fwd.ports)):
            return fwd
    return None


Decider = Rule | PortForward | Source | None


def reachable(model: RouterModel, src: IPv4Address, ports: Iterable[int] = VOICE_PORTS
              ) -> tuple[set[int], dict[int, Decider]]:
    """Ports of the site a new inbound UDP datagram from ``src`` reaches, and for each port
    what decided it: a rule, the forward, a list's default policy (its Source), or None when
    no forward exists at all.

    Every WAN the forward may arrive on is tried (the one the configuration names, else all):
    a port open through any of them is open. Lists evaluated after NAT (nftables forward
    chains, IOS zone policies) see the translated port; an IOS WAN access list the original.
    """
    opened: set[int] = set()
    why: dict[int, Decider] = {}
    inbound = [f for f in model.filters if f.direction == "inbound"]
    wans = [i.name for i in model.interfaces if i.role == "wan"] or [""]
    for port in ports:
        fwd = _forward_for(model, port)
        if fwd is None or (fwd.src and not any(src in n for n in fwd.src)):
            why[port] = fwd
            continue
        lan = next((i.name for i in model.interfaces for a in i.addresses
                    if fwd.to in a.network), "")
        inside = fwd.inside_port(port)
        first: Decider = None
        for wan in ([fwd.wan] if fwd.wan in wans else wans):
            decided: Decider = fwd
            ok = True
            for lst in (x for x in inbound if x.applies((wan, lan))):
                action, rule = lst.decide("udp", src, fwd.to, inside if lst.after_nat else port)
                decided = rule if rule is not None else (lst.source if action == "deny"
                                                          else decided)
                if action == "deny":
                    ok = False
                    break
            if ok:
                opened.add(port)
                why[port] = decided
                break
            first = first or decided
        else:
            why[port] = first
    return opened, why


def _witnesses(model: RouterModel, server: IPv4Address) -> list[IPv4Address]:
    """Source addresses other than the server that some permit rule (or forward) admits:
    an outsider, plus a neighbour inside every narrower network a rule names."""
    out = {OUTSIDER_WITNESS}
    nets: list[IPv4Network] = []
    for lst in (f for f in model.filters if f.direction == "inbound"):
        for r in (flat for rule in lst.rules for flat in rule.flat()):
            if r.action == "permit":
                nets.extend(r.src)
    for fwd in model.forwards:
        nets.extend(fwd.src)
    for n in nets:
        if n.prefixlen == 0:
            continue
        if n.prefixlen == 32:
            if n.network_address != server:
                out.add(n.network_address)
            continue
        for host in (n.network_address + 1, n.broadcast_address - 1):
            if host != server and host in n:
                out.add(host)
                break
    out.discard(server)
    return sorted(out)


def _refs(decisions: Iterable[Decider], default: str) -> tuple[Source, ...]:
    seen: dict[str, Source] = {}
    for d in decisions:
        src = d if isinstance(d, Source) else (d.source if d is not None
                                               else Source(default, ()))
        seen.setdefault(src.ref(), src)
    return tuple(seen.values())


def _admitting(lst: RuleList) -> list[Rule]:
    """The rules of ``lst`` that let traffic in: its permits, and for a zone-policy class
    that inspects or passes, the permit entries of the access list it matches on."""
    out: list[Rule] = []
    for rule in lst.rules:
        if rule.action != "permit":
            continue
        if rule.match is None:
            out.append(rule)
        else:  # the class's own protocol/ports (match-all) narrow its access list's entries
            out.extend(r if rule.proto == "ip" else replace(r, proto=rule.proto,
                                                            dst_ports=rule.dst_ports)
                       for r in rule.flat()[1:] if r.action == "permit")
    return out


def audit_firewall(model: RouterModel, server: IPv4Address, ipbx: IPv4Address | None,
                   voice: Lan) -> tuple[list[Finding], dict[str, set[int]]]:
    """Open to the server and to no one else, forwarded to the IPBX; returns the findings and
    the predicted open sets (``server``, ``others``) for the cross-check."""
    out: list[Finding] = []
    expected = set(VOICE_PORTS)
    srv_open, srv_why = reachable(model, server)
    closed = expected - srv_open
    if closed:
        out.append(_finding("fail", msg("FW_CLOSED_TO_SERVER", ports=fmt(closed),
                                        server=str(server)),
                            _refs((srv_why[p] for p in sorted(closed)), "default policy")))
    others: set[int] = set()
    admitted: dict[IPv4Address, set[int]] = {}
    deciders: list[Decider] = []
    for w in _witnesses(model, server):
        w_open, w_why = reachable(model, w)
        if w_open:
            others |= w_open
            admitted[w] = w_open
            deciders.extend(w_why[p] for p in sorted(w_open))
    if admitted:
        who = ", ".join(f"{w} ({fmt(p)})" if p != others else str(w)
                        for w, p in admitted.items())
        out.append(_finding("fail", msg("FW_OPEN_TO_OTHERS", ports=fmt(others), who=who),
                            _refs(deciders, "no filtering")))
    server_net = IPv4Network(f"{server}/32")
    cited = [s for f in out if f.code == "FW_OPEN_TO_OTHERS" for s in f.sources]
    targets = {f.to for f in model.forwards}
    warned: set[str] = set()
    for lst in (f for f in model.filters if f.direction == "inbound"):
        for rule in _admitting(lst):
            if rule.established_only or rule.source.ref() in warned:
                continue  # replies only, never a new inbound flow; or already said
            voice_rule = rule.proto in ("udp", "ip") and (not rule.dst_ports or any(
                r.contains(p) for r in rule.dst_ports for p in (SIP_PORT, RTP[0], RTP[-1])))
            to_site = any(t in n for t in targets for n in rule.dst)
            broad = [n for n in rule.src if n != server_net]
            live = any(c.origin == rule.source.origin and set(rule.source.lines) <= set(c.lines)
                       for c in cited)
            if voice_rule and to_site and broad and not live:
                warned.add(rule.source.ref())
                out.append(_finding("warn", msg("ACL_BROAD_SHADOWED", networks=", ".join(
                    str(n) for n in broad)), (rule.source,)))
    wrong: dict[str, tuple[PortForward, set[int]]] = {}
    for p in sorted(srv_open):
        fwd = _forward_for(model, p)
        if fwd is not None and ((ipbx is not None and fwd.to != ipbx)
                                or fwd.to not in voice.network):
            wrong.setdefault(fwd.source.ref(), (fwd, set()))[1].add(p)
    if wrong:  # every forward that sends voice ports astray: fixing one is not enough
        target = (msg("TARGET_IPBX", ipbx=str(ipbx)) if ipbx
                  else msg("TARGET_VOICE_LAN", network=str(voice.network)))
        detail = [msg("FORWARDED_TO", ports=fmt(ports), to=str(fwd.to))
                  for fwd, ports in wrong.values()]
        out.append(_finding("fail", msg("NAT_WRONG_HOST", target=target, detail=detail),
                            (fwd.source for fwd, _ in wrong.values())))
    return out, {"server": srv_open, "others": others}


def audit_alg(model: RouterModel) -> list[Finding]:
    if not model.sip_alg:
        return []
    return [_finding("fail", msg("SIP_ALG_ON"), model.sip_alg_sources)]


def audit_device(model: RouterModel, router: Router) -> list[Finding]:
    name = " ".join(x for x in (router.model, model.model) if x).lower()
    bad = [b for b in ADVISED_AGAINST if b in name]
    if not bad:
        return []
    return [_finding("fail", msg("DEVICE_ADVISED_AGAINST", model=router.model or model.model))]


def audit(model: RouterModel, router: Router, server: IPv4Address
          ) -> tuple[list[Finding], dict[str, set[int]]]:
    """All audits; returns findings and the predicted firewall open sets."""
    fw, predicted = audit_firewall(model, server, router.ipbx, router.lans.voice)
    findings = [*audit_lans(model, router), *audit_isolation(model, router),
                *audit_dhcp(model, router), *fw,
                *audit_alg(model), *audit_device(model, router)]
    return findings, predicted
