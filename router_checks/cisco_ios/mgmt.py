"""Cisco IOS: the router's own management services, and what filters the internet's way to
them (for :mod:`router_checks.management`).

Why here: an attacker on the internet who reaches the router's telnet, SSH or web server
tries its passwords (or, for the web server, its flaws: CVE-2023-20198 took over tens of
thousands of IOS XE routers through the web UI in 2023). What IOS shows:

- the web server: ``ip http server`` (TCP 80, or ``ip http port``) and ``ip http
  secure-server`` (TCP 443, or ``ip http secure-port``), each turned off by its ``no`` form;
  ``ip http access-class [ipv4] ACL`` filters both. Whether a release enables them by
  default differs by platform and release, which is why IOS prints either form; a
  configuration that shows neither says nothing, and the port is then "not evaluated"
  (unless a list stops it anyway), never "closed";
- the VTY lines (``line vty 0 4``, ``line vty 5 15``): ``transport input`` names what they
  accept (``telnet``, ``ssh``, ``all``, ``none``), ``access-class ACL in`` filters the
  client's address. With no ``transport input`` line, classic IOS (12.x, 15.x) VTYs accept
  every transport, telnet included (only TTY lines default to none, since IOS 11.1), so
  telnet is taken as on and the finding says why; IOS XE (``version 16.x``/``17.x``) changed
  that default across releases (none, or ssh), so there both are "not evaluated". SSH also
  needs RSA keys, which no running-config shows: ``transport input ssh`` is taken as on.
  An undefined or empty access list filters nothing, as IOS applies it.

What stands between the internet and the router itself: the WAN's ``ip access-group IN in``
(first match, implicit deny), which sees the router's own address before any NAT, so its
entries are read as they are written; and, with a zone-based firewall, a ``zone-pair`` from
the WAN's zone to ``self``, which this reader does not evaluate (it becomes an unsure rule,
hence "not evaluated"); with no pair to ``self``, IOS lets traffic to the router through.
An entry the model cannot express stays in its list as an unsure rule, in its place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from router_checks.cisco_ios.acl import Acl, Groups, read_ace, read_acls
from router_checks.cisco_ios.interfaces import Itf, Role
from router_checks.cisco_ios.operands import ANY, Unsupported
from router_checks.cisco_ios.tree import Node, source
from router_checks.cisco_ios.zbf import Zbf
from router_checks.model import Action, Listener, Rule, RuleList, Service, Source

# The first IOS XE major version: its VTY default is no longer "all".
XE_MAJOR = 16
BOTH: tuple[tuple[Service, int], ...] = (("telnet", 23), ("ssh", 22))


def _major(top: list[Node]) -> int | None:
    for n in top:
        m = re.fullmatch(r"version (\d+)\.\d+\S*", n.text)
        if m:
            return int(m.group(1))
    return None


class _Reader:
    def __init__(self, top: list[Node], origin: str) -> None:
        self.top = top
        self.origin = origin
        self.acls = read_acls(top)
        self.groups = Groups.read(top)

    def src(self, nodes: Iterable[Node]) -> Source:
        return source(self.origin, nodes)

    def acl(self, name: str, where: Node, ingress: tuple[str, ...] = ()) -> RuleList:
        """An access list as it filters new connections, by the line that applies it; an
        undefined or empty one permits all, as on the device."""
        acl: Acl | None = self.acls.get(name)
        if acl is None or acl.empty():
            return RuleList(name, "inbound", [], "permit", self.src([where]), ingress=ingress)
        rules: list[Rule] = []
        for e, words in acl.entries:
            here = self.src([e])
            try:
                ace = read_ace(words, self.groups, acl.standard, [])
            except Unsupported as exc:  # Redacted too: in its place, it may or may not match
                i = 1 if words and words[0].isdigit() else 0
                action: Action = "deny" if words[i:i + 1] == ["deny"] else "permit"
                rules.append(Rule(action, "ip", (ANY,), (ANY,), (), here, unsure=str(exc)))
                continue
            if ace is None:
                continue
            rules.extend(Rule(ace.action, svc.proto, ace.src, ace.dst, svc.ports, here,
                              ace.established) for svc in ace.services)
        return RuleList(name, "inbound", rules, "deny", self.src([where]), ingress=ingress)

    def web(self) -> list[Listener]:
        shown: dict[str, Node] = {}
        port = {"http": 80, "https": 443}
        allowed: RuleList | None = None
        for n in self.top:
            w = n.words
            if w in (["ip", "http", "server"], ["no", "ip", "http", "server"]):
                shown["http"] = n
            elif w in (["ip", "http", "secure-server"], ["no", "ip", "http", "secure-server"]):
                shown["https"] = n
            elif w[:3] == ["ip", "http", "port"] and len(w) == 4 and w[3].isdigit():
                port["http"] = int(w[3])
            elif w[:3] == ["ip", "http", "secure-port"] and len(w) == 4 and w[3].isdigit():
                port["https"] = int(w[3])
            elif w[:3] == ["ip", "http", "access-class"] and len(w) in (4, 5) and (
                    len(w) == 4 or w[3] == "ipv4"):
                allowed = self.acl(w[-1], n)
        out: list[Listener] = []
        for kind, line in (("http", "ip http server"), ("https", "ip http secure-server")):
            node = shown.get(kind)
            if node is None:
                out.append(Listener("web", port[kind], Source(self.origin, ()), allowed,
                                    unsure=f"the configuration shows neither '{line}' nor "
                                           f"'no {line}' (the default differs by platform)"))
            elif node.words[0] != "no":
                out.append(Listener("web", port[kind], self.src([node]), allowed))
        return out

    def vty(self) -> list[Listener]:
        major = _major(self.top)
        out: list[Listener] = []
        for n in self.top:
            if n.words[:2] != ["line", "vty"]:
                continue
            transport = next((c for c in n.children if c.words[:2] == ["transport", "input"]),
                             None)
            klass = next((c for c in n.children if c.words[:1] == ["access-class"]
                          and len(c.words) >= 3 and c.words[2] == "in"), None)
            allowed = self.acl(klass.words[1], klass) if klass is not None else None
            cited = [n, *(c for c in (transport, klass) if c is not None)]
            if transport is not None:
                words = set(transport.words[2:])
                services: list[Service] = [s for s in ("telnet", "ssh")
                                           if s in words or "all" in words]
                out.extend(Listener(s, 23 if s == "telnet" else 22, self.src(cited), allowed)
                           for s in services)
            elif major is not None and major >= XE_MAJOR:
                out.extend(Listener(svc, p, self.src(cited), allowed, unsure=(
                    f"'{n.text}' has no 'transport input': the default of IOS XE "
                    f"{major} VTYs depends on the release"))
                    for svc, p in BOTH)
            else:
                ios = f"IOS {major}" if major is not None else "classic IOS"
                out.extend(Listener(svc, p, self.src(cited), allowed, default=(
                    f"'{n.text}' has no 'transport input': {ios} VTYs accept every "
                    "transport by default, telnet included"))
                    for svc, p in BOTH)
        return out

    def local(self, itfs: dict[str, Itf], roles: dict[str, Role]) -> list[RuleList]:
        """What filters new traffic from each WAN to the router itself."""
        zbf = Zbf.read(self.top)
        out: list[RuleList] = []
        for name, itf in itfs.items():
            if roles[name] != "wan":
                continue
            if itf.acl_in is not None:
                out.append(self.acl(itf.acl_in.words[2], itf.acl_in, ingress=(name,)))
            zone = itf.zone[0] if itf.zone else "default" if "default" in zbf.zones else None
            pair = zbf.pairs.get((zone, "self")) if zone is not None else None
            if pair is not None:  # its policy decides; not read here: it may or may not pass
                why = self.src([pair[0], *([pair[1]] if pair[1] is not None else [])])
                unsure = f"zone pair {zone} → self is not evaluated"
                out.append(RuleList(f"zone {zone} → self", "inbound", [
                    Rule("deny", "ip", (ANY,), (ANY,), (), why, unsure=unsure),
                    Rule("permit", "ip", (ANY,), (ANY,), (), why, unsure=unsure)],
                    "permit", why, ingress=(name,)))
        return out


def read_management(top: list[Node], itfs: dict[str, Itf], roles: dict[str, Role],
                    origin: str) -> tuple[list[Listener], list[RuleList]]:
    """The router's management listeners and the lists on the internet's way to them."""
    reader = _Reader(top, origin)
    return [*reader.web(), *reader.vty()], reader.local(itfs, roles)
