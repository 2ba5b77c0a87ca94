"""Down to the IP packet a frame carries, through link layers and tunnels.

Why decapsulate rather than take the outer IP packet: a capture from a router's WAN side is
PPPoE, a mirror port is often ERSPAN or VXLAN from a remote switch, a site linked to its
IPBX over a GRE or IP-in-IP tunnel carries its SIP and RTP inside; the outer packet is
GRE or UDP to 4789, never SIP, and a reader stopping there finds 0 dialogs and 0 streams and
would say "nothing wrong found". The analysis must see the inner packets exactly as if they
had been captured plain.

Each layer hands its payload to the next one by its protocol field (ethertype, IP protocol,
GRE protocol, PPP protocol, UDP port 4789), up to :data:`MAX_DEPTH` layers so that a frame
crafted to loop (GRE in GRE in GRE...) ends. A fragment of an outer tunnel packet is kept
as it is: :mod:`.sipread` reassembles it and peels the tunnel then.
"""

from __future__ import annotations

import struct

MAX_DEPTH = 8
# Link types (tcpdump.org/linktypes.html) read here, and the names of the usual others (for
# the error naming what a capture holds when nothing in it can be read).
NULL, ETHERNET, PPP, RAW_OLD, PPP_HDLC, PPP_ETHER = 0, 1, 9, 12, 50, 51
RAW, C_HDLC, LOOP, SLL, IPV4, IPV6, SLL2 = 101, 104, 108, 113, 228, 229, 276
NAMES = {NULL: "BSD loopback", ETHERNET: "Ethernet", PPP: "PPP", RAW_OLD: "raw IP",
         PPP_HDLC: "PPP in HDLC", PPP_ETHER: "PPPoE", RAW: "raw IP", C_HDLC: "Cisco HDLC",
         LOOP: "OpenBSD loopback", SLL: "Linux cooked", IPV4: "IPv4", IPV6: "IPv6",
         SLL2: "Linux cooked v2", 6: "Token Ring", 8: "SLIP", 10: "FDDI",
         105: "IEEE 802.11", 107: "Frame Relay", 119: "802.11 Prism", 127: "802.11 radiotap",
         143: "DOCSIS", 163: "802.11 AVS", 187: "Bluetooth HCI", 195: "IEEE 802.15.4",
         197: "Endace ERF", 220: "USB Linux mmapped", 249: "netlink", 252: "Wireshark upper PDU"}
READ = frozenset({NULL, ETHERNET, PPP, RAW_OLD, PPP_HDLC, PPP_ETHER, RAW, C_HDLC, LOOP, SLL,
                  IPV4, IPV6, SLL2})

ET_IPV4, ET_IPV6, ET_PPPOE, ET_TEB = b"\x08\x00", b"\x86\xdd", b"\x88\x64", b"\x65\x58"
VLAN_TAGS = frozenset({b"\x81\x00", b"\x88\xa8", b"\x91\x00", b"\x92\x00"})  # 802.1Q, QinQ
MPLS = frozenset({b"\x88\x47", b"\x88\x48"})
ERSPAN_2, ERSPAN_3, PPP_IN_GRE = b"\x88\xbe", b"\x22\xeb", b"\x88\x0b"
IPIP, IPV6_IN_IP, GRE, UDP = 4, 41, 47, 17
TUNNELS = frozenset({IPIP, IPV6_IN_IP, GRE})  # IP protocols whose payload is a packet
VXLAN_PORT = 4789
VXLAN_DPORT = struct.pack("!H", VXLAN_PORT)
_IPV6_OPTIONS = frozenset({0, 43, 60})  # hop-by-hop, routing, destination options
_U16 = struct.Struct("!H").unpack_from


def name(linktype: int, *, read: bool) -> str:
    """A link type as a person reads it: ``1 (Ethernet)``, ``127 (802.11 radiotap, not
    read)``."""
    return f"{linktype} ({NAMES.get(linktype, 'unknown')}{'' if read else ', not read'})"


def from_link(linktype: int, data: bytes) -> bytes | None:
    """The innermost IP packet of one record of ``linktype``, None when there is none (ARP,
    LLDP, STP, an unknown link type or tunnel)."""
    if linktype == ETHERNET:
        return from_ether(data, 0)
    if linktype == SLL:  # 16 bytes, the protocol last
        return from_ethertype(data[14:16], data, 16, 0)
    if linktype == SLL2:  # 20 bytes, the protocol first
        return from_ethertype(data[0:2], data, 20, 0)
    if linktype in (RAW, RAW_OLD, IPV4, IPV6):
        return from_ip(data, 0)
    if linktype in (NULL, LOOP):  # a 4-byte address family; the version nibble tells
        return from_ip(data[4:], 0)
    if linktype in (PPP, PPP_HDLC):
        return from_ppp(data, 0, 0)
    if linktype == PPP_ETHER:
        return from_pppoe(data, 0, 0)
    if linktype == C_HDLC:  # address, control, then an ethertype
        return from_ethertype(data[2:4], data, 4, 0)
    return None


def from_ether(data: bytes, off: int, depth: int = 0) -> bytes | None:
    """An Ethernet frame starting at ``off`` (tags, PPPoE, MPLS and tunnels below it)."""
    return from_ethertype(data[off + 12:off + 14], data, off + 14, depth)


def from_ethertype(etype: bytes, data: bytes, off: int, depth: int) -> bytes | None:
    """The payload at ``off`` of protocol ``etype``, through any number of VLAN tags."""
    while etype in VLAN_TAGS and len(data) >= off + 4:
        etype, off = data[off + 2:off + 4], off + 4
    if etype in (ET_IPV4, ET_IPV6):
        return from_ip(data[off:] if off else data, depth)
    if etype == ET_PPPOE:
        return from_pppoe(data, off, depth)
    if etype == ET_TEB and depth < MAX_DEPTH:  # Linux cooked capture of a gretap interface
        return from_ether(data, off, depth + 1)
    if etype in MPLS:
        return from_mpls(data, off, depth)
    return None


def from_pppoe(data: bytes, off: int, depth: int) -> bytes | None:
    """A PPPoE session frame: 6 bytes (version/type, code 0, session, length), then PPP."""
    if len(data) < off + 8 or data[off] != 0x11 or data[off + 1] != 0:
        return None  # discovery (PADI/PADO/...) or not PPPoE at all
    length = _U16(data, off + 4)[0]
    return from_ppp(data[off + 6:off + 6 + length], 0, depth)


def from_ppp(data: bytes, off: int, depth: int) -> bytes | None:
    """A PPP frame: optional HDLC address/control (ff 03), a 1- or 2-byte protocol."""
    if data[off:off + 2] == b"\xff\x03":
        off += 2
    if off < len(data) and data[off] & 1:  # protocol field compression: one byte
        proto, off = data[off], off + 1
    elif len(data) >= off + 2:
        proto, off = _U16(data, off)[0], off + 2
    else:
        return None
    if proto in (0x21, 0x57):  # IPv4, IPv6
        return from_ip(data[off:], depth)
    return None


def from_mpls(data: bytes, off: int, depth: int) -> bytes | None:
    """An MPLS label stack to its bottom entry, then IP (told by the version nibble)."""
    while len(data) >= off + 4:
        bottom = data[off + 2] & 1
        off += 4
        if bottom:
            return from_ip(data[off:], depth)
    return None


def from_ip(ip: bytes, depth: int) -> bytes | None:
    """``ip`` itself, or the packet its tunnel carries (IP-in-IP, GRE, VXLAN)."""
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20:
        proto, off = ip[9], (ip[0] & 0x0F) << 2
        if proto == UDP:  # the usual case: answered before any copy
            if ip[off + 2:off + 4] != VXLAN_DPORT:
                return ip
        elif proto not in TUNNELS:
            return ip
        if (ip[6] & 0x3F) or ip[7]:
            return ip  # a fragment: sipread reassembles it
        end = _U16(ip, 2)[0] or len(ip)  # 0: TCP segmentation offload, take the frame
    elif version == 6 and len(ip) >= 40:
        proto, off = ip[6], 40
        while proto in _IPV6_OPTIONS and len(ip) >= off + 8:
            proto, off = ip[off], off + ((ip[off + 1] + 1) << 3)
        if proto == UDP:
            if ip[off + 2:off + 4] != VXLAN_DPORT:
                return ip
        elif proto not in TUNNELS:
            return ip
        end = 40 + _U16(ip, 4)[0]
    else:
        return None
    if depth >= MAX_DEPTH:
        return ip
    inner = ip[off:end]
    if proto == UDP:  # VXLAN: 8 bytes of UDP, 8 of VXLAN (flag I set), then Ethernet
        found = from_ether(inner, 16, depth + 1) if len(inner) >= 30 and inner[8] & 0x08 \
            else None
    elif proto == GRE:
        found = from_gre(inner, depth + 1)
    else:
        found = from_ip(inner, depth + 1)
    return ip if found is None else found


def from_gre(gre: bytes, depth: int) -> bytes | None:
    """A GRE packet (RFC 2784/2890; version 1 as PPTP): its header is 4 bytes, plus 4 for
    each of checksum (C, or the RFC 1701 routing bit), key (K), sequence (S) and, in
    version 1, acknowledgment (A)."""
    if len(gre) < 4:
        return None
    flags, version = gre[0], gre[1] & 0x07
    off = 4 + (4 if flags & 0xC0 else 0) + (4 if flags & 0x20 else 0) + \
        (4 if flags & 0x10 else 0)
    if version == 1:
        off += 4 if gre[1] & 0x80 else 0
    elif version:
        return None
    proto = gre[2:4]
    if proto in (ET_IPV4, ET_IPV6):
        return from_ip(gre[off:], depth)
    if proto == ET_TEB:
        return from_ether(gre, off, depth)
    if proto == ERSPAN_2:
        # Type II carries an 8-byte ERSPAN header and sets the GRE sequence bit; type I has
        # neither (Wireshark tells them apart the same way).
        return from_ether(gre, off + 8 if flags & 0x10 else off, depth)
    if proto == ERSPAN_3:
        return from_erspan3(gre, off, depth)
    if proto == PPP_IN_GRE:
        return from_ppp(gre, off, depth)
    if proto in MPLS:
        return from_mpls(gre, off, depth)
    return None


def from_erspan3(data: bytes, off: int, depth: int) -> bytes | None:
    """ERSPAN type III: a 12-byte header, 8 more when its O flag announces the platform
    subheader; its frame type FT says Ethernet (0) or IP (2)."""
    if len(data) < off + 12:
        return None
    frame_type, optional = (data[off + 10] >> 2) & 0x1F, data[off + 11] & 1
    off += 20 if optional else 12
    if frame_type == 0:
        return from_ether(data, off, depth)
    if frame_type == 2:
        return from_ip(data[off:], depth)
    return None
