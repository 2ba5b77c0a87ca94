"""One normalised model of a site router, whatever it runs (OpIOS/Linux or Cisco IOS).

Every fact carries the configuration line(s) it came from (:class:`Source`), so each audit
finding can point at the exact lines an integrator must change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from harness.messages import Msg

Action = Literal["permit", "deny"]
Proto = Literal["ip", "udp", "tcp", "icmp", "other"]


@dataclass(frozen=True)
class Source:
    """Where a fact came from: a file or command and 1-based line numbers in it."""

    origin: str
    lines: tuple[int, ...]
    text: tuple[str, ...] = ()

    def ref(self) -> str:
        nums = ",".join(str(n) for n in self.lines)
        return f"{self.origin}:{nums}" if self.lines else self.origin


@dataclass(frozen=True)
class PortRange:
    lo: int
    hi: int

    def contains(self, port: int) -> bool:
        return self.lo <= port <= self.hi


ANY_PORT = PortRange(0, 65535)


@dataclass(frozen=True)
class Rule:
    """One filtering rule, in evaluation order within its list.

    ``src``/``dst`` are networks (``0.0.0.0/0`` is any); ``dst_ports`` empty means any port.
    ``direction`` says which traffic the list filters: ``inbound`` (from the internet into
    the site, after NAT for Linux forward chains), ``outbound``, or ``internal`` (between
    LANs).
    """

    action: Action
    proto: Proto
    src: tuple[IPv4Network, ...]
    dst: tuple[IPv4Network, ...]
    dst_ports: tuple[PortRange, ...]
    source: Source
    # Replies and expected flows only (TCP ``established``, nftables ``ct state
    # established,related``, ``ct helper``: the pinholes a helper such as the SIP ALG
    # opens): never a new inbound flow, so never an opening of the firewall's own.
    established_only: bool = False
    iif: tuple[str, ...] = ()  # interfaces the rule names (empty: any)
    oif: tuple[str, ...] = ()
    # Matches only flows a port forward translated (nftables ``ct status dnat``): every
    # inbound flow the audit follows comes through a forward, so it matches them all, but it
    # admits no source the forwards do not, and nothing while no forward exists.
    translated_only: bool = False
    # A zone-based firewall class matching on an access list: the rule matches what that
    # list permits (its deny entries mean "not this class", not "drop").
    match: RuleList | None = field(default=None, compare=False)
    # Why the rule may or may not match (a matcher or an entry the reader cannot interpret,
    # a jump): only the lists that guard the router itself (``RouterModel.local``) carry
    # such rules, and their evaluation (:mod:`router_checks.management`) says "not
    # evaluated" when one could change the verdict, never guesses.
    unsure: str = ""

    def matches(self, proto: str, src: IPv4Address, dst: IPv4Address | None, port: int,
                path: tuple[str, str] | None = None) -> bool:
        return self._selects(proto, src, dst, port, path) and (
            self.match is None or self.match.decide(proto, src, dst, port)[0] == "permit")

    def _selects(self, proto: str, src: IPv4Address, dst: IPv4Address | None, port: int,
                 path: tuple[str, str] | None) -> bool:
        """Everything but the class access list (``match``)."""
        if self.established_only:
            return False  # new inbound traffic never matches "established" rules
        if path is not None and ((self.iif and path[0] not in self.iif)
                                 or (self.oif and path[1] not in self.oif)):
            return False
        if self.proto not in ("ip", proto):
            return False
        if not any(src in n for n in self.src):
            return False
        if dst is not None and not any(dst in n for n in self.dst):
            return False
        return not self.dst_ports or any(r.contains(port) for r in self.dst_ports)

    def flat(self) -> list[Rule]:
        """This rule and, for a class on an access list, that list's entries."""
        return [self, *(r for inner in (self.match.rules if self.match else ())
                        for r in inner.flat())]


@dataclass
class RuleList:
    """An ordered list of rules with its default (what happens when nothing matches)."""

    name: str
    direction: Literal["inbound", "outbound", "internal"]
    rules: list[Rule]
    default: Action
    source: Source
    # The interfaces whose traffic crosses the list (empty: any). An IOS access-group or
    # zone pair filters only its own interfaces; an nftables forward chain sees every path.
    ingress: tuple[str, ...] = ()
    egress: tuple[str, ...] = ()
    after_nat: bool = False  # evaluated on translated packets (inside address and port)

    def applies(self, path: tuple[str, str]) -> bool:
        return ((not self.ingress or path[0] in self.ingress)
                and (not self.egress or path[1] in self.egress))

    def decide(self, proto: str, src: IPv4Address, dst: IPv4Address | None, port: int,
               path: tuple[str, str] | None = None) -> tuple[Action, Rule | None]:
        """First-match verdict and the rule that decided it (None: the default)."""
        for r in self.rules:
            if not r._selects(proto, src, dst, port, path):
                continue
            if r.match is None:
                return r.action, r
            verdict, inner = r.match.decide(proto, src, dst, port)  # once per packet
            if verdict != "permit":
                continue  # the class access list does not select it: next class
            if inner is None:
                return r.action, r
            # Cite the class and the entry that matched in its access list.
            return r.action, replace(inner, action=r.action, source=Source(
                r.source.origin, r.source.lines + inner.source.lines,
                r.source.text + inner.source.text))
        return self.default, None


@dataclass(frozen=True)
class Interface:
    name: str
    addresses: tuple[IPv4Interface, ...]
    vlan: int | None
    role: Literal["wan", "lan", "unknown"]
    source: Source


@dataclass(frozen=True)
class DhcpPool:
    name: str
    network: IPv4Network | None
    start: IPv4Address
    end: IPv4Address
    gateway: IPv4Address | None
    source: Source


@dataclass(frozen=True)
class PortForward:
    """Inbound DNAT: ``proto`` ``ports`` on the WAN go to ``to`` (from ``src`` only, if set)."""

    proto: Proto
    ports: tuple[PortRange, ...]
    to: IPv4Address
    src: tuple[IPv4Network, ...]
    source: Source
    to_port: int | None = None  # the inside port of ports[0] when the forward translates it
    wan: str | None = None  # the WAN interface it is on, when the configuration names it
    public: str | None = None  # where the internet reaches it (address, network), if known
    inside: str | None = None  # the inside network, for a forward of a whole network
    # No translation at all: a LAN of public addresses the router routes to (``inside`` is
    # that LAN), reached at the hosts' own addresses; filtered only by the lists on its path.
    routed: bool = False

    def inside_port(self, port: int) -> int:
        """The port the packet carries after translation."""
        if self.to_port is None or not self.ports:
            return port
        return self.to_port + (port - self.ports[0].lo)


Service = Literal["ssh", "telnet", "web"]


@dataclass(frozen=True)
class Listener:
    """A management service of the router itself, as its configuration turns it on (IOS
    ``ip http server``, a ``line vty`` block's transports): the TCP port it answers on, the
    lines that turn it on, and the source filter of its own (IOS ``access-class``,
    ``ip http access-class``; None: anyone who reaches the port may connect). ``default``
    says why it is on when no line says so (an IOS release's default); ``unsure`` why it
    may be on or off (the configuration does not say): then a port the lists leave open
    is "not evaluated", never "closed"."""

    service: Service
    port: int
    source: Source
    allowed: RuleList | None = None
    default: str = ""
    unsure: str = ""


@dataclass
class RouterModel:
    kind: str  # the router-kind table's name for what it was read from (router_checks.kinds)
    hostname: str | None = None
    model: str | None = None
    interfaces: list[Interface] = field(default_factory=list)
    dhcp_pools: list[DhcpPool] = field(default_factory=list)
    filters: list[RuleList] = field(default_factory=list)
    forwards: list[PortForward] = field(default_factory=list)
    masquerade: list[Source] = field(default_factory=list)
    sip_alg: bool = False
    sip_alg_sources: list[Source] = field(default_factory=list)
    # The SIP ALG on TCP 5060 alone (UDP turned off): a trunk over TCP is still rewritten.
    sip_alg_tcp: list[Source] = field(default_factory=list)
    # A SIP-aware stateful inspection (IOS CBAC `ip inspect name X sip`, a zone policy that
    # inspects `match protocol sip`): it parses SIP and opens media from what it reads.
    sip_inspection: list[Source] = field(default_factory=list)
    # Why the configuration cannot be audited at all (no interface, lines whose block is
    # lost): the audit is then an error, never a pass or a wall of findings. No WAN is not
    # one: the LAN checks run and the firewall part is said not evaluated (audit.audit).
    unusable: list[Msg] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # origin → raw text (evidence)
    # What may decide traffic between the LANs but is not evaluated (IOS VRFs, an nft rule on
    # a named set or a jump): the isolation audit then cannot judge.
    internal_unevaluated: list[Source] = field(default_factory=list)
    # Lines whose address was redacted in a published copy (``x.x.x.x``, ``<removed>``): a
    # forward or a filter entry whose effect is unknown, so "closed" cannot be concluded.
    redacted: list[Source] = field(default_factory=list)
    # The router's own management services (None: the kind cannot tell what listens, as
    # a Linux router's ruleset does not say: every administration port is then judged by
    # the lists alone), the lists that filter new traffic from the internet to the router
    # itself (IOS: the WAN's ``ip access-group in``, seen before NAT, and a zone pair to
    # ``self``; nftables: the input chains), each scoped to its WAN (``ingress``); what
    # the kind cannot read there is a rule marked ``unsure``. None: the kind does not read
    # them at all (the audit then says the router's administration is not evaluated).
    listeners: list[Listener] | None = None
    local: list[RuleList] | None = None

    def lan_interfaces(self) -> list[Interface]:
        return [i for i in self.interfaces if i.role == "lan"]
