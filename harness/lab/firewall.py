"""The lab router's nftables ruleset: NAT, the voice port-forward, the firewall, the SIP ALG,
and the port forwards to the site's IPBX (:data:`IPBX_FORWARDS`).

Rendered as text so the exact rules the lab installs can be shown, audited (router audit
issue) and compared with what the active probes see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Literal

FirewallMode = Literal["strict", "registrar-only", "open", "closed"]
LAB_SERVER = IPv4Address("198.51.100.10")
LAB_IPBX = IPv4Address("192.168.254.10")
LAB_PBX = IPv4Address("192.168.254.20")  # topology.PBX_HOST: the site's own IPBX

Forward = tuple[Literal["udp", "tcp"], int]
# What the router forwards from the WAN to the site's IPBX (harness.lab.ipbx), by its variant:
# on the weak site, what a careless integrator forwards "so that the phones work from home":
# SIP on UDP and TCP, the web administration, TFTP provisioning; from anyone.
IPBX_FORWARDS: dict[str, tuple[Forward, ...]] = {
    "none": (),
    "strict": (),
    "weak": (("udp", 5060), ("tcp", 5060), ("tcp", 80), ("tcp", 8080), ("udp", 69)),
}


@dataclass(frozen=True)
class RouterPolicy:
    """What the lab router lets in and whether its SIP ALG is on.

    ``mode`` (see :data:`ADMITS`): ``strict`` forwards SIP/RTP from every address of the
    operator's (``operator``: its registrar, edge proxy, media relay); ``registrar-only`` from
    the registrar (``server``) alone, the firewall of an integrator who read only the SIP
    server's address; ``open`` from anyone; ``closed`` from no one. ``rtp`` can be narrowed to
    build the "half-open" variants a firewall check must catch.
    """

    alg: bool = False
    mode: FirewallMode = "strict"
    server: IPv4Address = LAB_SERVER
    operator: tuple[IPv4Address, ...] = (LAB_SERVER,)
    ipbx: IPv4Address = LAB_IPBX
    sip_port: int = 5060
    rtp: tuple[int, int] = (10000, 20000)
    lans_open: bool = False  # forward anything between the voice and data LANs
    pbx: IPv4Address = LAB_PBX
    forwards: tuple[Forward, ...] = ()  # to ``pbx`` from anyone (see IPBX_FORWARDS)
    admin_wan: bool = False  # the router's web administration (TCP 80) open to its WAN


# Who each mode admits on the forwarded ports: these addresses, or None for anyone.
ADMITS: dict[FirewallMode, Callable[[RouterPolicy], tuple[IPv4Address, ...] | None]] = {
    "strict": lambda p: p.operator,
    "registrar-only": lambda p: (p.server,),
    "open": lambda p: None,
    "closed": lambda p: (),
}
FIREWALL_MODES: tuple[FirewallMode, ...] = tuple(ADMITS)


def _addresses(admitted: tuple[IPv4Address, ...]) -> str:
    """nft's form for some addresses: one address, or an anonymous set of them."""
    if len(admitted) == 1:
        return str(admitted[0])
    return f"{{ {', '.join(str(a) for a in admitted)} }}"


def _saddr(admitted: tuple[IPv4Address, ...]) -> str:
    """nft's match for the admitted sources."""
    return f"ip saddr {_addresses(admitted)} "


def ruleset(policy: RouterPolicy, *, wan: str, voice: str, data: str) -> str:
    """nft script (replacing the whole ruleset) for the interfaces ``wan``/``voice``/``data``."""
    lo, hi = policy.rtp
    ports = f"{{ {policy.sip_port}, {lo}-{hi} }}"
    helper = ""
    helper_chain = ""
    if policy.alg:
        helper = f'  ct helper sip-{policy.sip_port} {{ type "sip" protocol udp; }}\n'
        helper_chain = (
            "  chain alg {\n"
            "    type filter hook prerouting priority 0; policy accept;\n"
            f'    udp dport {policy.sip_port} ct helper set "sip-{policy.sip_port}"\n'
            "  }\n"
        )
    admitted = ADMITS[policy.mode](policy)
    inbound = "" if admitted == () else (
        f'    iifname "{wan}" oifname "{voice}" ct status dnat '
        f"{'' if admitted is None else _saddr(admitted)}udp dport {ports} accept\n")
    forwarded = "".join(
        f'    iifname "{wan}" oifname "{voice}" ct status dnat ip daddr {policy.pbx} '
        f"{proto} dport {port} accept\n" for proto, port in policy.forwards)
    return (
        "flush ruleset\n"
        "table ip recette_nat {\n"
        f"{helper}"
        "  chain pre {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        f"{_forwards_nat(policy, wan, ports)}"
        f'    iifname "{wan}" udp dport {ports} dnat to {policy.ipbx}\n'
        "  }\n"
        f"{helper_chain}"
        "  chain post {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        f'    oifname "{wan}" masquerade\n'
        "  }\n"
        "}\n"
        "table inet recette_filter {\n"
        "  chain forward {\n"
        "    type filter hook forward priority filter; policy drop;\n"
        "    ct state established,related accept\n"
        f'    iifname {{ "{voice}", "{data}" }} oifname "{wan}" accept\n'
        + (f'    iifname {{ "{voice}", "{data}" }} oifname {{ "{voice}", "{data}" }} accept\n'
           if policy.lans_open else "")
        + f"{inbound}"
        + f"{forwarded}"
        "  }\n"
        "  chain input {\n"
        "    type filter hook input priority filter; policy drop;\n"
        '    iifname "lo" accept\n'
        "    ct state established,related accept\n"
        f'    iifname {{ "{voice}", "{data}" }} accept\n'
        + (f'    iifname "{wan}" tcp dport 80 accept\n' if policy.admin_wan else "")
        + "    icmp type echo-request accept\n"
        "  }\n"
        "}\n"
    )


def _forwards_nat(policy: RouterPolicy, wan: str, ports: str) -> str:
    """The DNAT rules of the forwards to the IPBX, before the voice forward. When one takes a
    port of the voice forward (UDP 5060), the operator's own addresses are forwarded to the
    voice host first: the lab's agent, not the IPBX, plays the trunk's end towards the
    operator (plain matches, as the router audit reads them)."""
    lo, hi = policy.rtp
    operator = tuple(dict.fromkeys((policy.server, *policy.operator)))
    rules = []
    if any(proto == "udp" and (port == policy.sip_port or lo <= port <= hi)
           for proto, port in policy.forwards):
        rules.append(f'    iifname "{wan}" {_saddr(operator)}udp dport {ports} '
                     f"dnat to {policy.ipbx}\n")
    for proto, port in policy.forwards:
        rules.append(f'    iifname "{wan}" {proto} dport {port} dnat to {policy.pbx}\n')
    return "".join(rules)
