"""A latching media relay: the operator sends no media to a site before the site's own.

Many SBCs latch: they send a call's media only to where that call's RTP came from, and so
nothing at all until the site's first packet has reached the relay port. A site whose firewall
is closed to the operator's media then still "works" (its own packets open the flow), and a
check that waits for the operator's media on a silent port waits for nothing. rtpengine sends
at once (to the SIP source and the SDP port), so the ``latching`` shape
(:mod:`harness.lab.shapes`) holds its media back for real, with nftables in the operator's
namespace:

- every RTP packet arriving from the wire at a relay port adds (site address, site port,
  relay port) to a dynamic set, refreshed by each packet while the call lasts;
- the relay's packets leaving by the wire from a relay port are dropped unless their (site
  address, site port, relay port) is in the set; media between the relay and the operator's
  own far ends (on the namespace's loopback) is untouched.

The key is the whole tuple, so a site is latched per relay port (per call leg) and per port of
its own, as an SBC's latching is; the drops are counted (:func:`held`) so a test can tell "held
back" from "never sent".
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address

from harness.lab.procs import sh
from harness.lab.relay import PORTS
from harness.lab.topology import ns

TABLE = "recette_latch"
IFACE = "eth0"  # the operator's wire (its far ends talk to the relay on lo)
TIMEOUT_S = 60  # a leg silent this long must latch again


def ruleset(media_ip: IPv4Address, ports: tuple[int, int] = PORTS, iface: str = IFACE) -> str:
    """The nft script adding the latching table for a relay on ``media_ip`` with RTP on
    ``ports``."""
    lo, hi = ports
    to_relay = f"ip daddr {media_ip} udp dport {lo}-{hi}"
    from_relay = f"ip saddr {media_ip} udp sport {lo}-{hi}"
    return (
        f"table inet {TABLE} {{\n"
        "  set latched {\n"
        "    type ipv4_addr . inet_service . inet_service\n"
        "    flags dynamic, timeout\n"
        f"    timeout {TIMEOUT_S}s\n"
        "  }\n"
        "  chain seen {\n"
        "    type filter hook prerouting priority filter; policy accept;\n"
        f'    iifname "{iface}" {to_relay} '
        "update @latched { ip saddr . udp sport . udp dport }\n"
        "  }\n"
        "  chain hold {\n"
        "    type filter hook output priority filter; policy accept;\n"
        f'    oifname "{iface}" {from_relay} '
        "ip daddr . udp dport . udp sport != @latched counter drop\n"
        "  }\n"
        "}\n"
    )


def install(prefix: str, media_ip: IPv4Address) -> None:
    """Load the latching table into the lab's operator namespace."""
    sh(["nft", "-f", "-"], ns=ns(prefix, "op"), input=ruleset(media_ip))


def held(prefix: str) -> int:
    """Packets of the relay held back so far (sent to a site before it latched)."""
    out = sh(["nft", "-j", "list", "chain", "inet", TABLE, "hold"], ns=ns(prefix, "op"))
    for item in json.loads(out)["nftables"]:
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                return int(expr["counter"]["packets"])
    return 0
