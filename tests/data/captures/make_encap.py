"""Write the capture-layer cases of tests/data/captures/<case>/: the packets of an existing
case (make.py's ``loss_jitter`` call: SIP, RTP with loss and jitter) re-encapsulated as real
equipment writes them, plus files cut short, damaged, empty, or holding no SIP or RTP.

Run from the repository root (``.venv/bin/python tests/data/captures/make_encap.py``), then
regenerate the expected files with ``RECETTE_REGEN=1 .venv/bin/python -m pytest -n 0
tests/unit/test_analyse_cases.py`` and read them. Every encapsulated case must read exactly
as its plain source (tests/unit/test_analyse_capture.py checks it); tshark was checked to
decode each one to the same SIP and the same ``-z rtp,streams`` figures.

Written with struct, byte by byte, like make.py: the headers follow their RFCs and vendors'
documents (PPPoE RFC 2516, GRE RFC 2784/2890, ERSPAN draft-foschiano-erspan, VXLAN RFC 7348,
802.1Q/802.1ad, Linux cooked capture), with the field values the usual equipment uses.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make import SITE, _csum, alg, loss_jitter, one_way  # noqa: E402

MAC_A, MAC_B = b"\x00\x1b\x21\x3a\x4c\x01", b"\xc8\x0e\x14\x2f\x9a\x02"  # router, BRAS
MIRROR_SWITCH, COLLECTOR = "10.20.0.2", "10.20.0.10"  # ERSPAN/VXLAN source and analyser
TUNNEL_SITE, TUNNEL_HQ = "203.0.113.5", "203.0.113.9"  # GRE / IP-in-IP endpoints


def ether(payload: bytes, etype: int, *, tags: tuple[tuple[int, int], ...] = (),
          reverse: bool = False) -> bytes:
    """An Ethernet header with VLAN tags (TPID, VLAN id) before the ethertype."""
    dst, src = (MAC_A, MAC_B) if reverse else (MAC_B, MAC_A)
    head = dst + src
    for tpid, vid in tags:
        head += struct.pack("!HH", tpid, vid)
    return head + struct.pack("!H", etype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 0) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                       bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return head[:10] + struct.pack("!H", _csum(head)) + head[12:] + payload


def from_site(ip: bytes) -> bool:
    """Whether the inner packet goes out of the site (sent by its private address)."""
    return ip[12:16] == bytes(map(int, SITE.split(".")))


def pppoe(ip: bytes) -> bytes:
    """PPPoE session (code 0, session 0x1a2b), PPP protocol 0x0021 (IPv4): 8 bytes."""
    ppp = struct.pack("!H", 0x0021) + ip
    return struct.pack("!BBHH", 0x11, 0x00, 0x1A2B, len(ppp)) + ppp


def gre(proto: int, payload: bytes, *, key: int | None = None, seq: int | None = None) -> bytes:
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    head = struct.pack("!HH", flags, proto)
    if key is not None:
        head += struct.pack("!I", key)
    if seq is not None:
        head += struct.pack("!I", seq)
    return head + payload


class Encap:
    """A per-packet encapsulation keeping a counter (GRE sequence numbers, IP ids)."""

    def __init__(self, linktype: int, wrap: Callable[[Encap, bytes], bytes]) -> None:
        self.linktype, self.wrap, self.n = linktype, wrap, 0

    def __call__(self, ip: bytes) -> bytes:
        self.n += 1
        return self.wrap(self, ip)


def _vlan_pppoe(e: Encap, ip: bytes) -> bytes:
    # A router's WAN side towards a French FTTH operator: VLAN 835, PPPoE, PPP.
    return ether(pppoe(ip), 0x8864, tags=((0x8100, 835),), reverse=not from_site(ip))


def _qinq(e: Encap, ip: bytes) -> bytes:
    # An operator's collect link: S-tag 802.1ad 100, C-tag 802.1Q 200.
    return ether(ip, 0x0800, tags=((0x88A8, 100), (0x8100, 200)), reverse=not from_site(ip))


def _sll_pppoe(e: Encap, ip: bytes) -> bytes:
    # tcpdump -i any on the router: Linux cooked v1 of the PPPoE frames on its WAN port.
    ptype = 4 if from_site(ip) else 0  # outgoing / to us
    mac = MAC_A if from_site(ip) else MAC_B
    return struct.pack("!HHH8sH", ptype, 1, 6, mac + b"\0\0", 0x8864) + pppoe(ip)


def _ipip(e: Encap, ip: bytes) -> bytes:
    a, b = (TUNNEL_SITE, TUNNEL_HQ) if from_site(ip) else (TUNNEL_HQ, TUNNEL_SITE)
    return ether(ipv4(a, b, 4, ip, e.n), 0x0800, reverse=not from_site(ip))


def _gre(e: Encap, ip: bytes) -> bytes:
    # A keyed GRE tunnel with sequence numbers (Cisco "tunnel key 42", "tunnel sequence-datagrams").
    a, b = (TUNNEL_SITE, TUNNEL_HQ) if from_site(ip) else (TUNNEL_HQ, TUNNEL_SITE)
    return ether(ipv4(a, b, 47, gre(0x0800, ip, key=42, seq=e.n), e.n), 0x0800,
                 reverse=not from_site(ip))


def _mirrored(ip: bytes) -> bytes:
    """The frame the monitored port carried (tagged VLAN 20 on the switch's trunk)."""
    return ether(ip, 0x0800, tags=((0x8100, 20),), reverse=not from_site(ip))


def _erspan1(e: Encap, ip: bytes) -> bytes:
    # ERSPAN type I (old Catalyst 6500): GRE 0x88BE without sequence number, no ERSPAN header.
    return ether(ipv4(MIRROR_SWITCH, COLLECTOR, 47, gre(0x88BE, _mirrored(ip)), e.n), 0x0800)


def _erspan2(e: Encap, ip: bytes) -> bytes:
    # ERSPAN type II: GRE sequence bit set, 8-byte header (version 1, VLAN 20, session 7).
    head = struct.pack("!HHI", (1 << 12) | 20, (0 << 13) | (3 << 11) | 7, 0)
    return ether(ipv4(MIRROR_SWITCH, COLLECTOR, 47,
                      gre(0x88BE, head + _mirrored(ip), seq=e.n), e.n), 0x0800)


def _erspan3(e: Encap, ip: bytes) -> bytes:
    # ERSPAN type III: 12-byte header (version 2, session 9, a timestamp, frame type 0
    # Ethernet, hardware id 1, O flag set) and the 8-byte platform-specific subheader.
    word0 = struct.pack("!HH", (2 << 12) | 20, 9)
    stamp = struct.pack("!I", (e.n * 200_000) & 0xFFFFFFFF)  # 100 ns units
    word2 = struct.pack("!HBB", 0, (0 << 7) | (0 << 2) | 0, (1 << 4) | (0 << 3) | (1 << 1) | 1)
    platform = struct.pack("!II", (3 << 26) | 0x10, 0)
    return ether(ipv4(MIRROR_SWITCH, COLLECTOR, 47, gre(0x22EB, word0 + stamp + word2 + platform
                                                        + _mirrored(ip), seq=e.n), e.n), 0x0800)


def _vxlan(e: Encap, ip: bytes) -> bytes:
    # A cloud mirror (VXLAN traffic mirroring): UDP to 4789, VNI 123, the Ethernet frame.
    inner = struct.pack("!BBHI", 0x08, 0, 0, 123 << 8) + _mirrored(ip)
    udp = struct.pack("!HHHH", 49152 + e.n % 1000, 4789, 8 + len(inner), 0) + inner
    return ether(ipv4(MIRROR_SWITCH, COLLECTOR, 17, udp, e.n), 0x0800)


ENCAPS = {
    "pppoe_vlan": Encap(1, _vlan_pppoe), "qinq": Encap(1, _qinq),
    "sll_pppoe": Encap(113, _sll_pppoe), "ipip": Encap(1, _ipip), "gre": Encap(1, _gre),
    "erspan1": Encap(1, _erspan1), "erspan2": Encap(1, _erspan2),
    "erspan3": Encap(1, _erspan3), "vxlan": Encap(1, _vxlan),
}


def pcap(records: list[tuple[float, bytes]], linktype: int) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for at, frame in records:
        sec = int(at)
        out.append(struct.pack("<IIII", sec, round((at - sec) * 1e6), len(frame), len(frame))
                   + frame)
    return b"".join(out)


def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(interfaces: list[tuple[int, str]], records: list[tuple[int, float, bytes]]) -> bytes:
    """A pcapng as dumpcap writes it: section header, one description per interface
    (link type, name, ns resolution), then the packets (interface, time, frame) in the order
    given."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out = [shb]
    for linktype, ifname in interfaces:
        raw = ifname.encode()
        opts = (struct.pack("<HH", 2, len(raw)) + raw + b"\0" * (-len(raw) % 4)
                + struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0))
        out.append(_block(1, struct.pack("<HHI", linktype, 0, 262144) + opts))
    for iface, at, frame in records:
        ns = round(at * 1e9)
        out.append(_block(6, struct.pack("<IIIII", iface, ns >> 32, ns & 0xFFFFFFFF,
                                         len(frame), len(frame)) + frame))
    return b"".join(out)


def _arp(i: int) -> bytes:
    """Who has 192.168.254.<20+i>? (padded to Ethernet's 60 bytes)."""
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, bytes([192, 168, 254, 1]),
                      b"\0" * 6, bytes([192, 168, 254, 20 + i]))
    return ether(arp + b"\0" * 18, 0x0806)


def _dns(i: int) -> bytes:
    query = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0) + \
        b"\x03sip\x08operator\x03net\x00" + struct.pack("!HH", 1, 1)
    udp = struct.pack("!HHHH", 40000 + i, 53, 8 + len(query), 0) + query
    return ether(ipv4("192.168.254.10", "192.168.254.1", 17, udp, i), 0x0800)


def main() -> None:
    source = sorted(loss_jitter().packets, key=lambda p: p[0])
    cases: dict[str, bytes] = {}
    for case, encap in ENCAPS.items():
        cases[case] = pcap([(at, encap(ip)) for at, ip in source], encap.linktype)
    # Both sides of a router, as `mergecap -a lan.pcapng wan.pcapng` writes them: each
    # interface's packets in time order, the second file's after the first's whole.
    both = sorted(alg().packets, key=lambda p: p[0])
    lan = [(0, at, ether(ip, 0x0800)) for at, ip in both if SITE.encode() in _addrs(ip)]
    wan = [(1, at, ether(ip, 0x0800)) for at, ip in both if SITE.encode() not in _addrs(ip)]
    cases["interfaces_merged"] = pcapng([(1, "lan0"), (1, "wan0")], lan + wan)
    # The end of a file cut short (a capture stopped by a full disk, a copy interrupted).
    whole = one_way().pcap()
    cases["truncated"] = whole[:len(whole) - 100]
    # A record length damaged in the middle (0x7fffffff, as a bit flip in a copy does).
    plain = pcap([(at, ether(ip, 0x0800)) for at, ip in source], 1)
    cases["damaged_mid"] = _damage(plain, 300)
    # dumpcap that saw nothing: a section header and an interface, no packet.
    cases["empty"] = pcapng([(1, "eth0")], [])
    # Nothing SIP or RTP: ARP and DNS on the wire, and an 802.11 radiotap interface.
    t0 = source[0][0]
    other = [(0, t0 + i, _arp(i)) for i in range(3)] + [(0, t0 + 3 + i, _dns(i)) for i in range(2)]
    other += [(1, t0 + 5 + i, b"\x00\x00\x08\x00\x00\x00\x00\x00" + b"\x80\x00" + b"\0" * 22)
              for i in range(2)]
    cases["no_sip_rtp"] = pcapng([(1, "eth0"), (127, "wlan0mon")], other)
    for case, data in cases.items():
        folder = HERE / case
        folder.mkdir(exist_ok=True)
        ext = "pcapng" if data[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"
        for old in folder.glob("capture.*"):
            old.unlink()
        (folder / f"capture.{ext}").write_bytes(data)
        if not any((folder / n).exists() for n in ("expected.txt", "error.txt")):
            name = "error.txt" if case in ("empty", "no_sip_rtp") else "expected.txt"
            (folder / name).write_text("(run the regeneration)\n")


def _addrs(ip: bytes) -> bytes:
    return b".".join(str(b).encode() for b in ip[12:16]) + b" " + \
        b".".join(str(b).encode() for b in ip[16:20])


def _damage(data: bytes, record: int) -> bytes:
    """``data`` (a pcap) with the captured length of record number ``record`` (from 1)
    made impossible."""
    off = 24
    for _ in range(record - 1):
        off += 16 + struct.unpack_from("<I", data, off + 8)[0]
    return data[:off + 8] + b"\xff\xff\xff\x7f" + data[off + 12:]


if __name__ == "__main__":
    main()
