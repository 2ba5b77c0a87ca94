"""The router's own administration as the internet sees it (issue 25, toll fraud): which of
its management services a host on the internet can connect to, judged on the normalised
model whatever the kind (:attr:`RouterModel.listeners`, :attr:`RouterModel.local`).

Why it matters to the operator's gate: whoever takes the router controls the firewall in
front of the trunk, and the router is what attackers scan first after SIP. Severity, decided
here once for every kind:

- telnet (TCP 23) reachable from the internet: **fail**. Its password crosses the internet
  in clear, and telnet is the first thing botnets brute-force;
- the web administration (TCP 80, 443, 8080) reachable from the internet: **fail**. Web
  interfaces of routers are where mass exploitation happens (IOS XE's CVE-2023-20198 gave
  attackers level-15 accounts on tens of thousands of routers through it); HTTP also sends
  the password in clear;
- SSH (TCP 22) reachable from the internet: a **reserve** (warn). It is encrypted and may
  use keys, but every internet host can try passwords on it: restrict it to the LAN or to
  the integrator's addresses;
- a service the configuration turns on that the WAN's filter stops: **info**, citing the
  line that stops it (the exposure is not there, and the sheet's annex says why);
- what cannot be told (a rule the kind cannot read, a zone policy to the router not
  evaluated, a service whose state the configuration does not show): a **reserve** saying
  "not evaluated", never a clean result.

"From the internet" means from any address: a service restricted to named networks (the
integrator's office, the operator's management hosts) is what the finding asks for, so
only networks wider than a /16 count as the internet too. Each port is judged per WAN, at
the WAN's own address (unknown when the provider assigns it: then a rule naming a
destination may or may not match, and is unsure), through every list on that WAN's way
to the router (a drop in any stops it) and then the service's own source filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from harness.messages import Msg, msg
from router_checks import operator as operator_mod
from router_checks.model import (
    Interface,
    Listener,
    RouterModel,
    Rule,
    RuleList,
    Service,
    Source,
)

# What an attacker tries on a router, by port, when the kind cannot say what listens.
ADMIN_PORTS: dict[int, Service] = {22: "ssh", 23: "telnet", 80: "web", 443: "web",
                                   8080: "web"}
Severity = Literal["fail", "warn", "info"]
SEVERITY: dict[Service, Severity] = {"telnet": "fail", "web": "fail", "ssh": "warn"}
# A named public network at least this wide stands for the internet (more than a /16).
BROAD_PREFIX = 15
Verdict = Literal["permit", "deny", "unknown"]


@dataclass(frozen=True)
class Exposure:
    """One finding's matter, before it is said: severity, code, message and the lines."""

    severity: Severity
    message: Msg
    sources: tuple[Source, ...]


def decide(lst: RuleList, src: IPv4Address, dst: IPv4Address | None, port: int,
           path: tuple[str, str]) -> tuple[Verdict, list[Source]]:
    """First match of a new TCP connection to ``port``, with rules that may or may not
    match (``Rule.unsure``, or a rule naming a destination when the router's address is
    unknown): the verdict holds only when no such rule before the decision could have
    decided otherwise; otherwise "unknown", citing those rules."""
    maybe: list[Rule] = []
    for r in lst.rules:
        blind = dst is None and any(n.prefixlen for n in r.dst)
        if r.unsure or blind:
            if r.matches("tcp", src, None, port, path):
                maybe.append(r)
            continue
        if r.matches("tcp", src, dst, port, path):
            return _settle(r.action, r.source, maybe)
    return _settle(lst.default, lst.source, maybe)


def _settle(action: Literal["permit", "deny"], why: Source, maybe: list[Rule]
            ) -> tuple[Verdict, list[Source]]:
    doubt = [m.source for m in maybe if m.action != action]
    return ("unknown", doubt) if doubt else (action, [why])


@dataclass
class _Port:
    """What one port of one service comes to, over the WANs and the sources tried."""

    who: list[IPv4Network] = field(default_factory=list)  # sources it is open to
    why: list[Source] = field(default_factory=list)  # the lines that let it through
    how: list[str] = field(default_factory=list)  # the same, said in English
    unknown: list[Source] = field(default_factory=list)
    unknown_how: list[str] = field(default_factory=list)
    stopped: list[Source] = field(default_factory=list)  # what stops it (a list's line)


def _witnesses(local: list[RuleList], listeners: list[Listener]
               ) -> dict[IPv4Address, IPv4Network]:
    """Internet hosts to try: one outside every network the lists name ("any address"), and
    one in each public network they name that is wide enough to stand for the internet."""
    lists = [*local, *(x.allowed for x in listeners if x.allowed is not None)]
    rules = [r for lst in lists for r in lst.rules]
    named = [n for r in rules if r.action == "permit" for n in r.src]
    denied = [n for r in rules if r.action == "deny" for n in r.src]
    return {ip: net for ip, net in operator_mod.witnesses(named, {}, avoid=denied).items()
            if net.prefixlen == 0 or (net.prefixlen <= BROAD_PREFIX and ip.is_global
                                      and not ip.is_multicast)}


def _said(lst: RuleList, decided: Source) -> str:
    """A list's permit, in English: the rule's text, its default, or no list at all."""
    text = "; ".join(decided.text) or "its default"
    return f"{lst.name} admits it ({text})"


def _judge(local: list[RuleList], x: Listener, wan: Interface, src: IPv4Address,
           net: IPv4Network, out: _Port) -> None:
    """One listener, one WAN, one source: where it gets, recorded in ``out``."""
    path = (wan.name, "")
    dst = wan.addresses[0].ip if wan.addresses else None
    hows: list[str] = []
    whys: list[Source] = []
    unsure: list[Source] = []
    lists = [lst for lst in local if lst.applies(path)]
    for lst in lists:
        verdict, why = decide(lst, src, dst, x.port, path)
        if verdict == "deny":
            out.stopped.extend(why)
            return
        if verdict == "unknown":
            unsure.extend(why)
        else:
            whys.extend(why)
            hows.append(_said(lst, why[0]))
    if not lists:
        hows.append(f"no list filters {wan.name} on the way to the router")
        whys.append(wan.source)
    if x.allowed is not None:
        verdict, why = decide(x.allowed, src, None, x.port, path)
        if verdict == "deny":
            return  # its own source filter: what the finding would ask for
        if verdict == "unknown":
            unsure.extend(why)
        else:
            whys.extend([x.allowed.source, *why])
            hows.append(f"its access list {x.allowed.name} admits it")
    elif x.source.lines:
        hows.append(f"'{x.source.text[0]}' with no access-class")
    if x.default:
        hows.append(x.default)
    if unsure or x.unsure:
        out.unknown.extend([*unsure, *(s for s in [x.source] if s.lines)])
        out.unknown_how.append(x.unsure or "a rule on the way is not evaluated")
        return
    if net not in out.who:
        out.who.append(net)
    out.why.extend([*(s for s in [x.source] if s.lines), *whys])
    out.how.extend(hows)


def _once(sources: list[Source]) -> tuple[Source, ...]:
    seen: dict[str, Source] = {}
    for s in sources:
        if s.lines:
            seen.setdefault(s.ref(), s)
    return tuple(sorted(seen.values(), key=lambda s: (s.origin, s.lines)))


def _open(svc: Service, **params: str | list[Msg]) -> Msg:
    if svc == "telnet":
        return msg("ADMIN_TELNET_OPEN", **params)
    if svc == "web":
        return msg("ADMIN_WEB_OPEN", **params)
    return msg("ADMIN_SSH_OPEN", **params)


def _word(svc: Service) -> Msg:
    if svc == "telnet":
        return msg("ADMIN_SVC_TELNET")
    if svc == "web":
        return msg("ADMIN_SVC_WEB")
    return msg("ADMIN_SVC_SSH")


def _ports(ports: list[int]) -> str:
    return ", ".join(str(p) for p in sorted(set(ports)))


def exposures(model: RouterModel) -> list[Exposure]:
    """Each management service's exposure to the internet, per the module's rules. A model
    without a WAN gives none (the firewall part is already said not evaluated)."""
    wans = [i for i in model.interfaces if i.role == "wan"]
    if not wans:
        return []
    local = model.local
    if local is None:  # a kind that does not read what guards the router itself
        return [Exposure("warn", msg("ADMIN_NOT_READ", kind=model.kind), ())]
    listeners = model.listeners if model.listeners is not None else [
        Listener(svc, port, Source("", ())) for port, svc in ADMIN_PORTS.items()]
    sources = _witnesses(local, listeners)
    by_port: dict[tuple[Service, int], _Port] = {}
    for x in listeners:
        got = by_port.setdefault((x.service, x.port), _Port())
        for wan in wans:
            for src, net in sources.items():
                _judge(local, x, wan, src, net, got)
    out: list[Exposure] = []
    order: tuple[Service, ...] = ("telnet", "web", "ssh")
    stopped: list[tuple[Service, int, list[Source]]] = []
    for svc in order:
        ports = {p: r for (s, p), r in by_port.items() if s == svc}
        opened = [p for p, r in ports.items() if r.who]
        if opened:
            who = list(dict.fromkeys(n for p in opened for n in ports[p].who))
            how = list(dict.fromkeys(h for p in opened for h in ports[p].how))
            out.append(Exposure(SEVERITY[svc], _open(
                svc, ports=_ports(opened),
                who=[operator_mod.source_words(n)
                     for n in sorted(who, key=lambda n: n.prefixlen)],
                how="; ".join(how)), _once([s for p in opened for s in ports[p].why])))
        unknown = [p for p, r in ports.items() if r.unknown_how and p not in opened]
        if unknown:
            how = list(dict.fromkeys(h for p in unknown for h in ports[p].unknown_how))
            out.append(Exposure("warn", msg(
                "ADMIN_NOT_EVALUATED", service=_word(svc), ports=_ports(unknown),
                how="; ".join(how)), _once([s for p in unknown for s in ports[p].unknown])))
        # On, by a line of the configuration, and stopped by the WAN's filter for everyone.
        for p, r in ports.items():
            if r.stopped and p not in opened and p not in unknown and any(
                    x.source.lines and not x.unsure for x in listeners
                    if x.service == svc and x.port == p):
                stopped.append((svc, p, r.stopped))
    if stopped and model.listeners is not None:
        services = list(dict.fromkeys(svc for svc, _, _ in stopped))
        on = [x.source for x in listeners for svc, p, _ in stopped
              if x.service == svc and x.port == p and not x.unsure]
        out.append(Exposure("info", msg(
            "ADMIN_FILTERED", service=[_word(s) for s in services],
            ports=_ports([p for _, p, _ in stopped])),
            _once([*on, *(s for _, _, why in stopped for s in why)])))
    return out
