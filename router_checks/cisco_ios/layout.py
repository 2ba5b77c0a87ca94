"""The shape of a running-config as people and tools hand it over: which lines are not
configuration at all, and which block a line belongs to when its indentation was lost.

Why here: the section readers trust the tree (:mod:`.tree`) to put ``ip address`` under its
``interface`` and ``permit`` under its ``ip access-list``. A configuration pasted into a
ticket, exported without indentation or captured from a terminal breaks that silently: the
sub-commands land at the top and the audit reads next to nothing. So, after the tree is
built by indentation, a block opener that received no indented line takes the following
lines that IOS's grammar says are its sub-commands (:func:`renest`), and what still looks
like a sub-command at the top is reported (:func:`orphans`), never dropped in silence.

The grammar is IOS's own split between global and sub-mode commands, kept to what a
running-config holds: a *strict* block (an access list, an object group, a class or policy
map, a zone pair) takes only the sub-commands it knows; a *loose* one (an interface, a DHCP
pool, a line) takes every line until one that is a global command, a ``!`` or ``exit``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from router_checks.cisco_ios.tree import Node

# Terminal and tool output around the configuration (IOS's own preamble, prompts, pagers).
_NOISE = re.compile(
    r"^(Building configuration\.\.\.|Current configuration\s*:.*|"
    r"[\w.:/-]+(\(config[\w-]*\))?[#>].*|\s*--More--\s*|"
    r"terminal length \d+|Using \d+ out of \d+ bytes.*)$")
_ADDR = re.compile(r"^\d+\.\d+\.\d+\.\d+(/\d+)?$")


def noise(text: str) -> bool:
    """A line that is no configuration: ``Building configuration...``, a prompt
    (``rtr#show running-config``, ``rtr(config)#``), a pager's ``--More--``."""
    return bool(_NOISE.match(text)) and not text.startswith("!")


def _top_ip(w: list[str]) -> bool:
    """``ip ...``: global (``ip route``, ``ip nat inside source``) or interface
    (``ip address``, ``ip nat inside``)?"""
    second = w[1] if len(w) > 1 else ""
    third = w[2] if len(w) > 2 else ""
    if second == "nat":
        return not (len(w) == 3 and third in ("inside", "outside", "enable"))
    if second in ("inspect", "ips", "auth-proxy", "admission", "audit", "wccp"):
        return w[-1] not in ("in", "out") and third not in ("redirect",)
    if second == "dhcp":
        return third in ("pool", "excluded-address", "snooping", "database", "conflict",
                         "ping", "use", "bootp", "class", "smart-relay", "relay", "limit")
    if second == "vrf":
        return third != "forwarding" and third != "sitemap"
    if second == "tcp":
        return third not in ("adjust-mss", "header-compression", "compression-connections")
    return second in _IP_GLOBAL


_IP_GLOBAL = frozenset((
    "access-list", "route", "domain", "domain-name", "domain-lookup", "name-server", "cef",
    "http", "ssh", "scp", "ftp", "tftp", "forward-protocol", "host", "sla", "routing",
    "subnet-zero", "classless", "default-gateway", "default-network", "dns", "prefix-list",
    "as-path", "community-list", "extcommunity-list", "local", "multicast-routing", "bootp",
    "source-route", "finger", "icmp", "flow-export", "flow-cache", "flow-top-talkers",
    "urlfilter", "port-map", "options", "gratuitous-arps", "radius", "tacacs", "msdp",
    "explicit-path", "rcmd", "telnet", "identd", "accounting-threshold", "accounting-list",
    "ddns", "rtcp", "arp", "igmp", "pim", "device", "access-list", "sla", "nbar"))
_IPV6_GLOBAL = frozenset(("unicast-routing", "route", "cef", "access-list", "prefix-list",
                          "multicast-routing", "general-prefix", "host", "name-server",
                          "dhcp", "router", "local"))
# First words that are global commands whatever follows.
_GLOBAL = frozenset((
    "hostname", "version", "boot-start-marker", "boot-end-marker", "boot", "enable", "aaa",
    "clock", "username", "license", "end", "banner", "ntp", "snmp-server", "access-list",
    "object-group", "interface", "class-map", "policy-map", "zone-pair", "zone", "line",
    "router", "control-plane", "redundancy", "vlan", "vtp", "errdisable", "archive", "alias",
    "scheduler", "event", "track", "dial-peer", "voice", "voice-port", "voice-card", "sip-ua",
    "telephony-service", "ephone", "ephone-dn", "ephone-type", "call-manager-fallback",
    "mgcp", "ccm-manager", "application", "gateway", "sccp", "stcapp", "dspfarm", "key",
    "radius-server", "tacacs-server", "radius", "tacacs", "parameter-map", "route-map",
    "dialer-list", "multilink", "wsma", "call-home", "platform", "security", "memory-size",
    "warm-reboot", "dot11", "chat-script", "controller", "template", "pseudowire-class",
    "l2tp-class", "vpdn", "vpdn-group", "bba-group", "subscriber", "diagnostic", "hw-module",
    "card", "exception", "file", "mac-address-table", "port-channel", "exit", "end",
    "flow", "crypto", "spanning-tree", "logging", "service", "cdp", "lldp", "login",
    "password", "vrf", "mac", "translation-rule", "ipv6", "ip", "no", "default",
    "process-max-time", "transceiver", "monitor", "system", "username", "privilege",
    "digital-signature", "mpls", "vxlan", "udld", "power", "rmon", "snmp", "ethernet",
    "table-map", "class", "netconf", "restconf", "management", "virtual-service", "iox",
    "telemetry", "cts", "device-tracking", "lisp", "nat64", "object"))


def is_global(w: list[str]) -> bool:
    """Whether the words are a global (configuration-mode) command rather than a sub-mode
    one, for the commands whose first word leaves it open (``ip``, ``no``, ``crypto``...)."""
    if not w:
        return False
    head = w[0]
    second = w[1] if len(w) > 1 else ""
    if head == "no" or head == "default":
        return is_global(w[1:])
    if head == "ip":
        return _top_ip(w)
    if head == "ipv6":
        return second in _IPV6_GLOBAL and not (second == "dhcp" and w[2:3] != ["pool"])
    if head == "crypto":
        return not (second == "map" and len(w) == 3)
    if head == "spanning-tree":
        return second in ("mode", "extend", "vlan", "loopguard", "logging", "uplinkfast",
                          "backbonefast", "mst", "etherchannel") or (
            second == "portfast" and len(w) > 2 and w[2] != "trunk")
    if head == "logging":
        return second != "event"
    if head == "service":
        return second != "instance"  # service instance: an interface's EVC
    if head in ("cdp", "lldp"):
        return second == "run"
    if head == "login":
        return second in ("block-for", "on-success", "on-failure", "quiet-mode", "delay")
    if head == "password":
        return second == "encryption"
    if head == "vrf":
        return second == "definition"
    if head == "mac":
        return second == "address-table"
    if head == "class":
        return False  # only in a policy map
    if head in ("mpls", "snmp", "ethernet", "power", "udld", "object", "monitor", "system"):
        return head in ("monitor",) or (head == "mpls" and second in ("label", "ldp"))
    return head in _GLOBAL


Kind = str
Accepts = Callable[[list[str]], bool]


def _acl_entry(w: list[str]) -> bool:
    i = 1 if w and w[0].isdigit() else 0
    return w[i:i + 1] in (["permit"], ["deny"], ["remark"], ["evaluate"], ["dynamic"])


def _net_member(w: list[str]) -> bool:
    return bool(w) and (w[0] in ("host", "range", "group-object", "description", "any")
                        or bool(_ADDR.match(w[0])))


def _svc_member(w: list[str]) -> bool:
    return bool(w) and (w[0] in ("description", "group-object", "tcp", "udp", "tcp-udp",
                                 "icmp", "ip", "esp", "ahp", "gre", "igmp", "ospf", "eigrp",
                                 "pim", "pcp", "ipinip", "nos")
                        or w[0].isdigit())


def _loose(w: list[str]) -> bool:
    return not is_global(w)


# Strict blocks: the sub-commands each takes. Loose blocks take all but global commands.
_STRICT: dict[Kind, Accepts] = {
    "acl": _acl_entry,
    "network-group": _net_member,
    "service-group": _svc_member,
    "class-map": lambda w: w[:1] in (["match"], ["description"]),
    "policy-map": lambda w: w[:1] in (["class"], ["description"]),
    "policy-class": lambda w: w[:1] in (
        ["inspect"], ["pass"], ["drop"], ["police"], ["set"], ["priority"], ["bandwidth"],
        ["shape"], ["service-policy"], ["log"], ["random-detect"], ["queue-limit"],
        ["fair-queue"], ["compress"], ["trust"], ["reset"], ["allow"], ["reject"]),
    "zone-pair": lambda w: w[:1] in (["service-policy"], ["description"]),
    "zone": lambda w: w[:1] in (["description"], ["vpn"]),
    "route-map": lambda w: w[:1] in (["match"], ["set"], ["description"], ["continue"]),
}


def opener(w: list[str], parent: Kind | None) -> Kind | None:
    """The kind of block ``w`` opens (None: a one-line command), in the parent's mode."""
    if parent == "policy-map":
        return "policy-class" if w[:1] == ["class"] else None
    if parent is not None:
        return None
    if (len(w) == 4 and w[:2] == ["ip", "access-list"] and w[2] in ("extended", "standard")
            ) or w[:2] == ["ipv6", "access-list"]:
        return "acl"
    if w[:2] == ["object-group", "network"]:
        return "network-group"
    if w[:2] == ["object-group", "service"]:
        return "service-group"
    for head in ("class-map", "policy-map", "zone-pair", "route-map"):
        if w[:1] == [head]:
            return head
    if w[:2] == ["zone", "security"]:
        return "zone"
    if w[:1] in (["interface"], ["line"], ["router"], ["controller"], ["control-plane"],
                 ["redundancy"], ["dial-peer"], ["voice-port"], ["telephony-service"],
                 ["ephone"], ["ephone-dn"], ["sip-ua"], ["parameter-map"], ["track"],
                 ["vlan"], ["archive"], ["key"], ["template"], ["call-home"], ["flow"]) \
            or w[:3] == ["ip", "dhcp", "pool"] or w[:2] in (
                ["crypto", "isakmp"], ["crypto", "pki"], ["crypto", "ipsec"],
                ["crypto", "keyring"], ["crypto", "ikev2"], ["voice", "service"],
                ["voice", "class"], ["vrf", "definition"], ["ip", "sla"],
                ["ip", "vrf"], ["aaa", "group"], ["radius", "server"]) \
            or (w[:2] == ["crypto", "map"] and len(w) > 3):
        return "loose"
    return None


def _takes(kind: Kind, w: list[str]) -> bool:
    return _STRICT.get(kind, _loose)(w)


def renest(siblings: list[Node], parent: Kind | None = None) -> int:
    """Give each block opener that received no indented line the lines after it that its
    grammar takes (an unindented paste), in place, nested blocks included (a policy map's
    classes and their actions); then the same inside every indented block. Returns how
    many lines were moved under a block."""
    out: list[Node] = []
    moved = 0
    open_: list[tuple[Node, Kind]] = []  # the flat blocks a line may still belong to
    for node in siblings:
        w = node.words
        while open_ and (node.text == "!" or not _takes(open_[-1][1], w)):
            open_.pop()
        if open_:
            owner, kind = open_[-1]
            owner.children.append(node)
            moved += 1
            inner = opener(w, kind)
            if inner is not None and not node.children:
                open_.append((node, inner))
            continue
        out.append(node)
        kind_ = opener(w, parent)
        if kind_ is not None and not node.children:
            open_.append((node, kind_))
    siblings[:] = out
    for node in siblings:
        if node.children:
            moved += renest(node.children, opener(node.words, parent))
    return moved


# Sub-commands that decide the audits: at the top of the tree, the block they belonged to
# is lost, and reading on would audit a different router.
_DECIDING: tuple[tuple[str, ...], ...] = (
    ("ip", "address"), ("ip", "access-group"), ("permit",), ("deny",), ("zone-member",),
    ("switchport", "access"), ("encapsulation",), ("network",), ("default-router",),
    ("match",), ("service-policy",))


def orphans(roots: list[Node]) -> list[Node]:
    """Top-level lines that only exist inside a block (``ip address``, ``permit ...``,
    ``ip nat inside``): their block could not be found."""
    out = []
    for n in roots:
        w = n.words
        i = 1 if w and w[0].isdigit() else 0
        if any(tuple(w[i:i + len(d)]) == d for d in _DECIDING) or (
                w[:2] == ["ip", "nat"] and len(w) == 3 and w[2] in ("inside", "outside")):
            out.append(n)
    return out


def unknown(roots: list[Node]) -> list[Node]:
    """Top-level lines that are no IOS global command (comments and noise aside)."""
    return [n for n in roots if not n.text.startswith("!") and not is_global(n.words)
            and opener(n.words, None) is None and n not in orphans([n])]
