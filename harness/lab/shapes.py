"""The field operator's shapes: where its SIP and media come from, one table line per shape.

No two operators are shaped alike. One runs its registrar, the proxy that calls the site and
the media relay on one address:port; another calls from a separate socket; a third sends its
INVITEs from an edge proxy and its media from a relay, each on an address of its own, which an
integrator only knows from the operator's handbook; some relays latch (send nothing to a site
before its first RTP packet). A check proven against one shape can quietly assume it, so the
field lab (``lab up --operator field --shape NAME``) builds each for real from this table:

- Kamailio's listen sockets and the socket it forces for every request to the site
  (:func:`harness.lab.kamailio.render` reads :attr:`Shape.invite_from`);
- rtpengine's ``--interface`` (:attr:`Shape.media_ip`, see :mod:`harness.lab.relay`);
- the addresses added to the operator's interface (:meth:`Shape.extra_addresses`);
- latching, nftables in the operator's namespace (:mod:`harness.lab.latch`);
- what the router's ``strict`` firewall admits (:attr:`Shape.addresses`, see
  :mod:`harness.lab.firewall`) and what the lab profile declares, as the operator's handbook
  would (:attr:`Shape.signalling_ips`, the media address; see :func:`harness.lab.profile_data`).

The registrar is always the profile's SIP server, 198.51.100.10:5060. A shape is added by one
line in :data:`SHAPES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from harness.errors import LabError
from harness.lab.topology import OP_SERVER

REGISTRAR = (OP_SERVER, 5060)
EDGE_PROXY = IPv4Address("198.51.100.11")  # three-address: the proxy that calls the site
MEDIA_RELAY = IPv4Address("198.51.100.30")  # three-address: the media relay


@dataclass(frozen=True)
class Shape:
    """One operator shape: what differs between operators, as data the lab parts read."""

    name: str
    summary: str  # one line for ``lab up``'s progress and ``--help``
    invite_from: tuple[IPv4Address, int]  # the socket every request to the site leaves from
    media_ip: IPv4Address = OP_SERVER  # where rtpengine anchors every call's media
    latching: bool = False  # the relay sends nothing to a site before its first RTP packet

    @property
    def signalling_ips(self) -> tuple[IPv4Address, ...]:
        """Addresses other than the registrar's that the site gets SIP requests from."""
        return () if self.invite_from[0] == REGISTRAR[0] else (self.invite_from[0],)

    @property
    def addresses(self) -> tuple[IPv4Address, ...]:
        """Every address of the operator's: registrar, edge proxy, media relay (in that
        order, each once). What a ``strict`` site firewall admits."""
        return tuple(dict.fromkeys((REGISTRAR[0], *self.signalling_ips, self.media_ip)))

    def extra_addresses(self, media_ip: IPv4Address | None = None) -> tuple[IPv4Address, ...]:
        """The addresses the operator's interface needs beside the registrar's: the edge
        proxy's and the media relay's (``media_ip`` when the lab moved it elsewhere)."""
        media = self.media_ip if media_ip is None else media_ip
        return tuple(a for a in dict.fromkeys((*self.signalling_ips, media))
                     if a != REGISTRAR[0])

    def listen(self) -> list[str]:
        """Kamailio's listen sockets: the registrar on UDP and TCP, and the socket that calls
        the site when it is another one (UDP: only the site's calls leave from it)."""
        sockets = [f"{proto}:{REGISTRAR[0]}:{REGISTRAR[1]}" for proto in ("udp", "tcp")]
        if self.invite_from != REGISTRAR:
            sockets.append(f"udp:{self.invite_from[0]}:{self.invite_from[1]}")
        return sockets


SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape("default", "registrar on :5060, calls to the site from a separate socket :5062, "
          "media on the registrar's address", invite_from=(OP_SERVER, 5062)),
    Shape("one-address", "one address:port for everything: registration, calls to the site "
          "and media all on 198.51.100.10(:5060)", invite_from=REGISTRAR),
    Shape("three-address", f"registrar 198.51.100.10:5060, calls to the site from an edge "
          f"proxy {EDGE_PROXY}:5060, media from a relay on {MEDIA_RELAY}",
          invite_from=(EDGE_PROXY, 5060), media_ip=MEDIA_RELAY),
    Shape("latching", "the default shape whose relay latches: no media to a site before "
          "its first RTP packet reached the relay port", invite_from=(OP_SERVER, 5062),
          latching=True),
)}
DEFAULT = SHAPES["default"]


def get(name: str) -> Shape:
    """The shape called ``name``; one line naming the known shapes otherwise."""
    try:
        return SHAPES[name]
    except KeyError:
        raise LabError(f"operator shape {name!r}: expected one of "
                       f"{', '.join(SHAPES)}") from None
