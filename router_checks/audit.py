"""Audits of a normalised router model against the site profile and the operator's rules.

Every finding carries the configuration lines behind it, and its message is a code with
parameters (router_checks/texts.py), so the sheet says it in the customer's language. The
firewall audit evaluates the rules in order, as the device would, for UDP 5060 and every
port of 10000-20000, from each of the operator's addresses (registrar, edge proxy, media
relay: :mod:`router_checks.operator` says what each needs) and from witnesses of every
other source a rule admits, named as the configuration names them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from harness.messages import Msg, Param, msg
from harness.portset import fmt
from harness.profile import Lan, Router
from router_checks import operator as operator_mod
from router_checks.management import exposures
from router_checks.model import PortForward, RouterModel, Rule, RuleList, Source
from router_checks.operator import RTP, SIP_PORT, VOICE_PORTS, OperatorAddresses, Roles

# The ports beside the voice ports that the active checks also try (firewall.openings'
# sweeps and samples: 5061, the range's edges): predicted too, so that the cross-check
# compares the configuration with what was measured on the same ports.
EDGE_PORTS = (5061, 9999, 20001)
PREDICTED_PORTS = tuple(sorted({*VOICE_PORTS, *EDGE_PORTS}))
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
            # Only a LAN can be the LAN misaddressed: a WAN in the planned range (a router
            # behind the provider's box) is not where the LAN's gateway should be.
            near = [i for i in model.interfaces for a in i.addresses
                    if a.ip in lan.network and i.role != "wan"]
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
        why = (tuple(sorted(_refs(deciders), key=lambda x: (x.origin, x.lines)))
               if lists else (a_src, b_src))  # no list at all: the interfaces route freely
        flows = ", ".join(f"{p}/{n}" if p != "icmp" else "icmp" for p, n in SAMPLE_FLOWS)
        out.append(_finding("fail", msg(
            "LANS_OPEN_TO_EACH_OTHER", role=_role(a), network=str(lans[a].network),
            other=_role(b), other_network=str(lans[b].network), src=str(src), dst=str(dst),
            flows=flows), (s for s in why if s.lines)))
    return out


def audit_dhcp(model: RouterModel, router: Router, plan: LanPlan = "profile") -> list[Finding]:
    """DHCP ranges inside their LAN and clear of the gateway (with no LAN plan, a pool is
    judged on its own network and default router only)."""
    out: list[Finding] = []
    lans = [router.lans.data, router.lans.voice] if plan != "none" else []
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


def _forwards_for(model: RouterModel, port: int) -> list[PortForward]:
    """Every forward a UDP datagram to ``port`` may take (several one-to-one statics each
    forward every port, each on its own public address)."""
    return [fwd for fwd in model.forwards
            if fwd.proto in ("udp", "ip") and (not fwd.ports or any(r.contains(port)
                                                                    for r in fwd.ports))]


Decider = Rule | PortForward | Source | None


@dataclass
class Reach:
    """What a new inbound UDP datagram from one source reaches: the open ports, for each
    port what decided it (a rule, the forward, a list's default policy as its Source, or
    None when no forward exists at all), and the forwards it goes through."""

    opened: set[int] = field(default_factory=set)
    why: dict[int, Decider] = field(default_factory=dict)
    via: dict[int, list[PortForward]] = field(default_factory=dict)
    # Per open port, what let it through on each forward that carries it (several 1:1
    # statics each expose a host: a finding names them all, not the first).
    opened_by: dict[int, list[Decider]] = field(default_factory=dict)


def _lan_of(model: RouterModel, address: IPv4Address) -> str:
    """The interface whose network holds ``address`` (empty: none the model knows)."""
    return next((i.name for i in model.interfaces for a in i.addresses
                 if address in a.network), "")


def _wans(model: RouterModel) -> list[str]:
    return [i.name for i in model.interfaces if i.role == "wan"] or [""]


def _through(model: RouterModel, fwd: PortForward, src: IPv4Address, port: int,
             inbound: list[RuleList], wans: list[str]) -> tuple[bool, Decider]:
    """Whether ``fwd`` carries the datagram in, and what decided."""
    if fwd.src and not any(src in n for n in fwd.src):
        return False, fwd
    lan = _lan_of(model, fwd.to)
    inside = fwd.inside_port(port)
    first: Decider = None
    for wan in ([fwd.wan] if fwd.wan in wans else wans):
        decided: Decider = fwd
        ok = True
        for lst in (x for x in inbound if x.applies((wan, lan))):
            action, rule = lst.decide("udp", src, fwd.to, inside if lst.after_nat else port,
                                      (wan, lan))
            decided = rule if rule is not None else (lst.source if action == "deny"
                                                      else decided)
            if action == "deny":
                ok = False
                break
        if ok:
            return True, decided
        first = first or decided
    return False, first


def reach(model: RouterModel, src: IPv4Address, ports: Iterable[int] = VOICE_PORTS) -> Reach:
    """Ports of the site a new inbound UDP datagram from ``src`` reaches (see :class:`Reach`).

    Every forward of a port is tried, and every WAN a forward may arrive on (the one the
    configuration names, else all): a port open through any of them is open. Lists
    evaluated after NAT (nftables forward chains, IOS zone policies) see the translated
    port; an IOS WAN access list the original.
    """
    out = Reach()
    inbound = [f for f in model.filters if f.direction == "inbound"]
    wans = _wans(model)
    for port in ports:
        fwds = _forwards_for(model, port)
        if not fwds:
            out.why[port] = None
            continue
        for fwd in fwds:
            ok, decided = _through(model, fwd, src, port, inbound, wans)
            if ok:
                if port not in out.opened:
                    out.opened.add(port)
                    out.why[port] = decided
                out.via.setdefault(port, []).append(fwd)
                out.opened_by.setdefault(port, []).append(decided)
            elif port not in out.why:
                out.why[port] = decided
    return out


def reachable(model: RouterModel, src: IPv4Address, ports: Iterable[int] = VOICE_PORTS
              ) -> tuple[set[int], dict[int, Decider]]:
    """:func:`reach`'s open ports and deciders."""
    r = reach(model, src, ports)
    return r.opened, r.why


def _named_sources(model: RouterModel, action: str = "permit") -> list[IPv4Network]:
    """Every source network an inbound ``action`` rule (or, for permits, a forward) names."""
    nets: list[IPv4Network] = []
    for lst in (f for f in model.filters if f.direction == "inbound"):
        for r in (flat for rule in lst.rules for flat in rule.flat()):
            if r.action == action:
                nets.extend(r.src)
    for fwd in model.forwards if action == "permit" else ():
        nets.extend(fwd.src)
    return nets


def _refs(decisions: Iterable[Decider]) -> tuple[Source, ...]:
    """The configuration places behind the decisions, once each (None, "no forward", has
    no line: the finding's message says what is missing instead)."""
    seen: dict[str, Source] = {}
    for d in decisions:
        if d is None:
            continue
        src = d if isinstance(d, Source) else d.source
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


def _target(ipbx: IPv4Address | None, voice: Lan | None) -> Msg:
    return (msg("TARGET_IPBX", ipbx=str(ipbx)) if ipbx is not None
            else msg("TARGET_VOICE_LAN", network=str(voice.network)) if voice is not None
            else msg("TARGET_NONE"))


def _closed(reaches: dict[IPv4Address, Reach], operator: dict[IPv4Address, Roles],
            ipbx: IPv4Address | None, voice: Lan | None,
            redacted: list[Source] | None = None) -> list[Finding]:
    """Voice ports closed to an operator address that needs them, by cause: no forward at
    all (say what is missing, there is no line to cite; the same for every address), or a
    rule, a forward restricted to other sources or a list's default that drops them (cite
    it), one finding per address, naming it with its role. Where lines that forward or
    filter had their address redacted, "closed" is not known: said as not evaluated, citing
    those lines, never as a fact."""
    out: list[Finding] = []
    need = operator_mod.needs(operator)
    unforwarded: set[int] = set()
    dropped: dict[IPv4Address, set[int]] = {}
    for ip, r in reaches.items():
        closed = need[ip] - r.opened
        unforwarded |= {p for p in closed if r.why.get(p) is None}
        lost = {p for p in closed if r.why.get(p) is not None}
        if lost:
            dropped[ip] = lost
    if redacted and (unforwarded or dropped):
        ports = unforwarded.union(*dropped.values())
        return [_finding("warn", msg("FW_REDACTED_UNKNOWN", ports=fmt(ports),
                                     target=_target(ipbx, voice)), redacted)]
    if unforwarded:
        out.append(_finding("fail", msg("FW_NOT_FORWARDED", ports=fmt(unforwarded),
                                        target=_target(ipbx, voice))))
    for ip, ports in dropped.items():
        out.append(_finding("fail", msg(
            "FW_CLOSED_TO_SERVER", ports=fmt(ports), server=str(ip),
            role=operator_mod.role_words(operator[ip])),
            _refs(reaches[ip].why[p] for p in sorted(ports))))
    return out


def _witness(nets: Iterable[IPv4Network], operator: dict[IPv4Address, Roles]
             ) -> IPv4Address | None:
    """A source address in ``nets`` that is not the operator's."""
    for n in nets:
        for host in (n.network_address + 1, n.network_address, n.broadcast_address - 1):
            if host in n and host not in operator:
                return host
    return None


def _admitted_by_forwards(broad: list[IPv4Network],
                          fwds: list[tuple[PortForward, int]],
                          operator: dict[IPv4Address, Roles]) -> list[IPv4Network]:
    """What of ``broad`` a rule matching only translated flows (``ct status dnat``) can
    admit: the sources the forwards it sees translate. A forward restricted to the
    operator's addresses leaves it nothing broad to admit."""
    out: list[IPv4Network] = []
    for fwd, _ in fwds:
        for a in broad:
            for b in (fwd.src or (operator_mod.ANY,)):
                both = a if a.subnet_of(b) else b if b.subnet_of(a) else None
                if both is not None and not operator_mod.only_operator(both, operator) and (
                        both not in out):
                    out.append(both)
    return out


def _on_path(rule: Rule, path: tuple[str, str]) -> bool:
    """Whether ``rule`` sees traffic on ``path`` (its interfaces, when it names some)."""
    return (not rule.iif or path[0] in rule.iif) and (not rule.oif or path[1] in rule.oif)


def _paths(model: RouterModel, lst: RuleList, rule: Rule, to: IPv4Address
           ) -> list[tuple[str, str]]:
    """The paths from the internet to ``to`` that go through ``lst`` and ``rule``: a filter
    on a DMZ (or a rule naming another output) never sees traffic forwarded to the LAN."""
    lan = _lan_of(model, to)
    return [p for p in ((w, lan) for w in _wans(model))
            if lst.applies(p) and _on_path(rule, p)]


def _stopper(model: RouterModel, fwd: PortForward, src: IPv4Address, port: int,
             path: tuple[str, str]) -> tuple[RuleList | None, Decider] | None:
    """What stops a datagram from ``src`` forwarded by ``fwd`` on ``path``: the forward's
    own source restriction (list None), or the first list on the path that drops it with
    its deciding rule (None: its default); None when nothing stops it."""
    if fwd.src and not any(src in n for n in fwd.src):
        return None, fwd
    for lst in (x for x in model.filters if x.direction == "inbound" and x.applies(path)):
        action, rule = lst.decide("udp", src, fwd.to,
                                  fwd.inside_port(port) if lst.after_nat else port, path)
        if action == "deny":
            return lst, rule
    return None


def _dormant(model: RouterModel, lst: RuleList, rule: Rule, broad: list[IPv4Network],
             operator: dict[IPv4Address, Roles], ipbx: IPv4Address | None) -> Finding | None:
    """Why a permit that admits voice ports from sources other than the operator's lets
    nothing in today, said as it is: an earlier rule of its list decides that traffic first
    (cite both), no forward sends those ports into the site (adding the one the audit asks
    for would open them), or another filter on the path stops it. Only the forwards whose
    path goes through the rule count (a filter on a DMZ says nothing of a forward to the
    LAN), and only what really stops the traffic on that path is "another filter". A rule
    that matches only translated flows (``ct status dnat``) is as broad as the forwards it
    sees: behind a forward restricted to the operator it admits no one else, and with no
    forward nothing."""
    ports = [p for p in (SIP_PORT, RTP[0], RTP[-1])
             if not rule.dst_ports or any(r.contains(p) for r in rule.dst_ports)]
    fwds = [(f, p, path) for p in ports for f in _forwards_for(model, p)
            if any(f.to in n for n in rule.dst) for path in _paths(model, lst, rule, f.to)]
    if rule.translated_only:
        broad = _admitted_by_forwards(broad, [(f, p) for f, p, _ in fwds], operator)
        if not broad:
            return None
    allowed = operator_mod.listed(operator)
    nets = [operator_mod.source_words(n) for n in broad]
    if not fwds:
        targets = [ipbx] if ipbx is not None else [f.to for f in model.forwards]
        if not any(t in n and _paths(model, lst, rule, t) for t in targets for n in rule.dst):
            return None  # it admits nothing toward the site's forwards or IPBX
        return _finding("warn", msg("ACL_BROAD_UNFORWARDED", networks=nets, allowed=allowed),
                        (rule.source,))
    src = _witness(broad, operator)
    if src is None:
        return None
    stops = []
    for fwd, port, path in fwds:
        stop = _stopper(model, fwd, src, port, path)
        if stop is None:
            return None  # it does let that source in: the open finding says so
        stops.append(stop)
    for stop_list, decider in stops:
        if stop_list is lst and isinstance(decider, Rule) and (
                decider.source.lines != rule.source.lines):
            return _finding("warn", msg("ACL_BROAD_SHADOWED", networks=nets),
                            (decider.source, rule.source))
    return _finding("warn", msg("ACL_BROAD_BLOCKED", networks=nets, allowed=allowed),
                    (rule.source,))


@dataclass
class Prediction:
    """What the configuration opens, for ``firewall.openings`` (which lets it vouch for what
    the operator's traffic left unproven, per address) and ``router.crosscheck``: the ports
    of :data:`PREDICTED_PORTS` open to each operator address, to the registrar, to some other
    source, to any address at all, and whether a SIP ALG (or a SIP-aware inspection) opens
    pinholes the rules do not show."""

    by_source: dict[IPv4Address, set[int]]
    server: set[int]
    others: set[int]
    anyone: set[int]
    sip_alg: bool = False
    # False: the firewall part was not evaluated (no interface faces the internet); the
    # sets are then empty and say nothing, and no check may lean on them.
    evaluated: bool = True


def audit_firewall(model: RouterModel, operator: IPv4Address | OperatorAddresses,
                   ipbx: IPv4Address | None, voice: Lan | None
                   ) -> tuple[list[Finding], Prediction]:
    """Open to every operator address on what its role needs, to no one else, forwarded to
    the IPBX; returns the findings and what the configuration predicts open. ``voice`` is
    None when no LAN plan is known (an offline audit without a profile)."""
    ops = operator_mod.addresses_of(operator)
    model = _aimed(model, ipbx)
    reaches = {ip: reach(model, ip, PREDICTED_PORTS) for ip in ops}
    out = _closed(reaches, ops, ipbx, voice, model.redacted)
    stands = operator_mod.witnesses(_named_sources(model), ops,
                                    avoid=_named_sources(model, "deny"))
    by_net: dict[IPv4Network, set[int]] = {}
    others: set[int] = set()
    anyone: set[int] = set()
    deciders: list[Decider] = []
    for w, net in stands.items():
        r = reach(model, w, PREDICTED_PORTS)
        others |= r.opened
        if net == operator_mod.ANY:
            anyone = set(r.opened)
        voice_open = r.opened & set(VOICE_PORTS)
        if voice_open:
            by_net.setdefault(net, set()).update(voice_open)
            deciders.extend(d for p in sorted(voice_open) for d in r.opened_by[p])
    voice_others = others & set(VOICE_PORTS)
    if voice_others:
        out.append(_finding("fail", msg(
            "FW_OPEN_TO_OTHERS", ports=fmt(voice_others),
            who=operator_mod.who(by_net, voice_others), allowed=operator_mod.listed(ops)),
            _refs(deciders)))
    cited = [s for f in out if f.code == "FW_OPEN_TO_OTHERS" for s in f.sources]
    warned: set[str] = set()
    for lst in (f for f in model.filters if f.direction == "inbound"):
        for rule in _admitting(lst):
            if rule.established_only or rule.source.ref() in warned:
                continue  # replies and expected flows only, never a new one; or already said
            voice_rule = rule.proto in ("udp", "ip") and (not rule.dst_ports or any(
                r.contains(p) for r in rule.dst_ports for p in (SIP_PORT, RTP[0], RTP[-1])))
            broad = [n for n in rule.src if not operator_mod.only_operator(n, ops)]
            live = any(c.origin == rule.source.origin and set(rule.source.lines) <= set(c.lines)
                       for c in cited)
            if voice_rule and broad and not live:
                found = _dormant(model, lst, rule, broad, ops, ipbx)
                if found is not None:
                    warned.add(rule.source.ref())
                    out.append(found)
    out.extend(_astray(reaches, ipbx, voice))
    predicted = Prediction(
        by_source={ip: set(r.opened) for ip, r in reaches.items()},
        server=set(reaches[operator_mod.registrar(ops)].opened), others=others,
        anyone=anyone, sip_alg=bool(model.sip_alg or model.sip_inspection))
    return out, predicted


def _aimed(model: RouterModel, ipbx: IPv4Address | None) -> RouterModel:
    """The model with each routed public LAN aimed at the IPBX when it is on that LAN, and
    left out when the IPBX is elsewhere (its other hosts are no voice path); without an IPBX
    every routed LAN stays, reached at its first host, since any host may be the IPBX."""
    if ipbx is None or not any(f.routed for f in model.forwards):
        return model
    kept = [f if not f.routed else replace(f, to=ipbx) for f in model.forwards
            if not f.routed or (f.inside is not None and ipbx in IPv4Network(f.inside))]
    return replace(model, forwards=kept)


def _astray(reaches: dict[IPv4Address, Reach], ipbx: IPv4Address | None, voice: Lan | None
            ) -> list[Finding]:
    """Every forward that sends voice ports open to an operator address elsewhere than the
    IPBX (or the voice LAN), each with its public address: fixing one is not enough.
    Without an IPBX and a LAN plan there is nothing to compare with."""
    if ipbx is None and voice is None:
        return []
    wrong: dict[str, tuple[PortForward, set[int]]] = {}
    for r in reaches.values():
        for p in sorted(r.opened & set(VOICE_PORTS)):
            for fwd in r.via.get(p, []):
                if not fwd.routed and ((ipbx is not None and fwd.to != ipbx) or (
                        voice is not None and fwd.to not in voice.network)):
                    wrong.setdefault(fwd.source.ref(), (fwd, set()))[1].add(p)
    if not wrong:
        return []
    detail = [msg("FORWARDED_AT", ports=fmt(ports), to=fwd.inside or str(fwd.to),
                  public=fwd.public) if fwd.public
              else msg("FORWARDED_TO", ports=fmt(ports), to=str(fwd.to))
              for fwd, ports in wrong.values()]
    return [_finding("fail", msg("NAT_WRONG_HOST", target=_target(ipbx, voice), detail=detail),
                     (fwd.source for fwd, _ in wrong.values()))]


def audit_alg(model: RouterModel) -> list[Finding]:
    """The NAT SIP ALG (on UDP, or on TCP alone when only UDP was turned off) and a SIP-aware
    stateful inspection, each citing the lines that turn it on."""
    out: list[Finding] = []
    if model.sip_alg:
        out.append(_finding("fail", msg("SIP_ALG_ON"), model.sip_alg_sources))
    elif model.sip_alg_tcp:
        out.append(_finding("fail", msg("SIP_ALG_TCP_ON"), model.sip_alg_tcp))
    if model.sip_inspection:
        out.append(_finding("warn", msg("SIP_INSPECTION_ON"), model.sip_inspection))
    return out


def audit_device(model: RouterModel, router: Router) -> list[Finding]:
    name = " ".join(x for x in (router.model, model.model) if x).lower()
    bad = [b for b in ADVISED_AGAINST if b in name]
    if not bad:
        return []
    return [_finding("fail", msg("DEVICE_ADVISED_AGAINST", model=router.model or model.model))]


# Where the LAN plan the audit compares with comes from: the profile's router.lans, the
# operator's default plan (a profile without router.lans), or none (``recette audit``
# without a profile: the LANs are the configuration's own, and nothing is compared).
LanPlan = Literal["profile", "default", "none"]


def plan_of(router: Router | None) -> LanPlan:
    if router is None:
        return "none"
    return "profile" if "lans" in router.model_fields_set else "default"


def plan_fact(model: RouterModel, router: Router, plan: LanPlan) -> Msg:
    """What the audit said about the LANs, in one sentence for the report."""
    if plan == "none":
        found = ", ".join(f"{i.name} {a}" for i in model.lan_interfaces() for a in i.addresses)
        return msg("LAN_PLAN_NONE", found=found or "-")
    lans = router.lans
    where = {"data": str(lans.data.network), "data_gw": str(lans.data.gateway),
             "voice": str(lans.voice.network), "voice_gw": str(lans.voice.gateway)}
    if plan == "default":
        return msg("LAN_PLAN_ASSUMED", **where)
    return msg("LAN_PLAN_PROFILE", **where)


def unusable(model: RouterModel) -> list[Msg]:
    """Why the model cannot be audited (empty: it can): what the parser could not rebuild,
    no interface with an address. No interface facing the internet is not one: the LAN,
    VLAN and DHCP checks need no WAN, only the firewall part does (:func:`audit`)."""
    out = list(model.unusable)
    if not out and not model.interfaces:
        out.append(msg("CONFIG_NO_INTERFACE"))
    return out


def has_wan(model: RouterModel) -> bool:
    return any(i.role == "wan" for i in model.interfaces)


def audit_management(model: RouterModel) -> list[Finding]:
    """The router's own administration reachable from the internet
    (:mod:`router_checks.management` says what each severity means)."""
    return [_finding(e.severity, e.message, e.sources) for e in exposures(model)]


def audit(model: RouterModel, router: Router, operator: IPv4Address | OperatorAddresses,
          plan: LanPlan = "profile") -> tuple[list[Finding], Prediction]:
    """All audits; returns findings and what the configuration predicts open. ``operator``:
    the operator's addresses by role (``Operator.addresses()``), or one address standing for
    all of them. With no LAN plan (``plan="none"``), the LANs are not compared and forwards
    only with the IPBX. With no interface facing the internet, the LAN, VLAN and DHCP audits
    still run and the firewall part is a CONFIG_NO_WAN reserve, its prediction marked not
    evaluated (``Prediction.evaluated``)."""
    voice = router.lans.voice if plan != "none" else None
    if has_wan(model):
        fw, predicted = audit_firewall(model, operator, router.ipbx, voice)
    else:  # where calls come in is unknown: the firewall part is not evaluated, said so
        fw = [_finding("warn", msg("CONFIG_NO_WAN"))]
        predicted = Prediction({ip: set() for ip in operator_mod.addresses_of(operator)},
                               set(), set(), set(), bool(model.sip_alg or model.sip_inspection),
                               evaluated=False)
    lans = [*audit_lans(model, router), *audit_isolation(model, router)] if plan != "none" \
        else []
    findings = [*lans, *audit_dhcp(model, router, plan), *fw,
                *audit_alg(model), *audit_device(model, router), *audit_management(model)]
    return findings, predicted
