"""SIP and ICMP errors read from every packet that is not RTP, in the same pass as RTP.

Why not tshark (it decoded these packets from a temporary raw-IP pcap until issue 23): tshark
finds SIP only on its registered ports, gives a SIP trunk on a port registered to another
protocol to that protocol, and hands on nothing of a message its own parser finds malformed.
Reading here costs no second process nor temporary file, finds SIP on any port by its start
line (:mod:`sip_checks.analyse.lenient`) plus the ports named with ``--sip-port``, and keeps
what a strict reader refuses as flagged evidence. Measured with bench/analyse_vs_tshark.py,
see bench/README.md.

:class:`SipReader` is the sink of :func:`sip_checks.analyse.streams.collect`: ``write(frame)``
per packet. It undoes IP fragmentation (:mod:`.ipfrag`), reassembles TCP (:mod:`.tcp`),
reads each message strictly then leniently (:func:`.fields.read_message`), keeps ICMP
unreachables quoting a UDP flow, and after :meth:`close` says in :meth:`findings` what the
capture could not show or what was malformed on the wire.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable

from harness.messages import Msg, msg
from sip_checks.analyse.capture import CaptureInfo, Frame
from sip_checks.analyse.encap import GRE, VXLAN_PORT, from_ether, from_gre
from sip_checks.analyse.fields import IcmpError, LenientRefusal, SipPacket, read_message
from sip_checks.analyse.ipfrag import Defragmenter
from sip_checks.analyse.lenient import MAX_START, is_start
from sip_checks.analyse.tcp import FlowKey, Framed, TcpReader

SIP_PORT = 5060
UDP, TCP, ICMP, ICMPV6, FRAGMENT, IPIP, IPV6_IN_IP = 17, 6, 1, 58, 44, 4, 41
_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options
_V4 = struct.Struct("!HHHBBH4s4s")  # total length, id, flags+offset, ttl, proto, sum, addrs
_PORTS = struct.Struct("!HHH")
_TCP = struct.Struct("!HHI")


def text(raw: bytes) -> str:
    """An address as Wireshark writes it (dotted quad, compressed IPv6)."""
    return ".".join(map(str, raw)) if len(raw) == 4 else str(ipaddress.IPv6Address(raw))


def _label(p: SipPacket) -> str:
    m = p.message
    if m.method:
        return m.method
    return f"{m.status} ({m.cseq[1] if m.cseq else '?'})"


class SipReader:
    """The sink for non-RTP packets: SIP messages and ICMP errors out."""

    def __init__(self, sip_ports: Iterable[int] = ()) -> None:
        self.ports = frozenset({SIP_PORT, *sip_ports})
        self.info = CaptureInfo()  # filled by capture.frames as the file is read
        self.sips: list[SipPacket] = []
        self.icmps: list[IcmpError] = []
        self.unreadable: list[tuple[int, str]] = []  # (frame, why) looked like SIP, was not
        self.frag = Defragmenter(self._was_sip)
        self.tcp = TcpReader(self.ports, self._tcp_message)

    # -- IP ------------------------------------------------------------------------------
    def write(self, frame: Frame, depth: int = 0) -> None:
        ip = frame.ip
        if not ip:
            return
        version = ip[0] >> 4
        if version == 4 and len(ip) >= 20:
            total, ident, frag, _ttl, proto, _sum, src, dst = _V4.unpack_from(ip, 2)
            head = (ip[0] & 0x0F) * 4
            payload = ip[head:total] if head <= total <= len(ip) else ip[head:]
            if frag & 0x3FFF:  # more fragments, or an offset
                whole = self.frag.add((src, dst, ident, proto), (frag & 0x1FFF) * 8,
                                      bool(frag & 0x2000), payload, frame.number)
                if whole is None:
                    return
                payload = whole
        elif version == 6 and len(ip) >= 40:
            proto, pos = ip[6], 40
            src, dst = ip[8:24], ip[24:40]
            end = 40 + struct.unpack_from("!H", ip, 4)[0]  # 0: a jumbogram, or TSO
            ip = ip[:end] if 40 < end <= len(ip) else ip
            while proto in _EXTENSIONS and pos + 2 <= len(ip):
                proto, pos = ip[pos], pos + (ip[pos + 1] + 1) * 8
            payload = ip[pos:]
            if proto == FRAGMENT and len(ip) >= pos + 8:
                proto = ip[pos]
                offset_flags, ident = struct.unpack_from("!HI", ip, pos + 2)
                whole = self.frag.add((src, dst, ident, proto), offset_flags & 0xFFF8,
                                      bool(offset_flags & 1), ip[pos + 8:], frame.number)
                if whole is None:
                    return
                payload = whole
        else:
            return
        if proto == UDP:
            self._udp(frame, src, dst, payload)
        elif proto == TCP:
            if len(payload) >= 20:
                sport, dport, seq = _TCP.unpack_from(payload)
                self.tcp.segment((frame.iface, src, sport, dst, dport), seq, payload[13],
                                 payload[(payload[12] >> 4) * 4:], frame.number, frame.at)
        elif proto in (ICMP, ICMPV6):
            self._icmp(frame, proto, payload)
        elif proto in (IPIP, IPV6_IN_IP) and payload and depth < 4:
            # IP in IP (RFC 2003, 4213): the inner packet is what was routed.
            self.write(frame._replace(ip=payload), depth + 1)
        elif proto == GRE and depth < 4:
            # Only a fragmented GRE packet gets here (capture's encap peels whole ones).
            inner = from_gre(payload, depth + 1)
            if inner is not None:
                self.write(frame._replace(ip=inner), depth + 1)

    # -- UDP, TCP, ICMP ------------------------------------------------------------------
    def _udp(self, frame: Frame, src: bytes, dst: bytes, payload: bytes) -> None:
        if len(payload) < 9:
            return
        sport, dport, length = _PORTS.unpack_from(payload)
        if dport == VXLAN_PORT and len(payload) >= 30 and payload[8] & 0x08:
            # Only a fragmented VXLAN packet gets here (capture's encap peels whole ones).
            inner = from_ether(payload, 16, 1)
            if inner is not None:
                self.write(frame._replace(ip=inner), 1)
            return
        data = payload[8:length] if 8 < length <= len(payload) else payload[8:]
        # A start line, or on a SIP port anything naming SIP/2.0 in its first line (the
        # lenient reading may still make it out); keep-alives, STUN and NULs are not SIP.
        if not is_start(data) and not ((sport in self.ports or dport in self.ports)
                                       and b"SIP/2.0" in data[:MAX_START]):
            return
        self._sip(frame.number, frame.at, frame.iface, "udp", (text(src), sport),
                  (text(dst), dport), data, None)

    def _tcp_message(self, key: FlowKey, framed: Framed) -> None:
        iface, src, sport, dst, dport = key
        self._sip(framed.frame, framed.at, iface, "tcp", (text(src), sport), (text(dst), dport),
                  framed.raw, framed)

    def _sip(self, number: int, at: float, iface: int, transport: str, src: tuple[str, int],
             dst: tuple[str, int], raw: bytes, framed: Framed | None) -> None:
        try:
            if framed is None:
                reading = read_message(raw, datagram=True)
            else:
                reading = read_message(raw, datagram=False, length=framed.length)
        except LenientRefusal as exc:
            self.unreadable.append((number, f"{transport.upper()} {src[0]}:{src[1]}→"
                                    f"{dst[0]}:{dst[1]}: {exc}"))
            return
        lenient = reading.lenient or (framed.note if framed is not None else "")
        self.sips.append(SipPacket(number, at, src, dst, transport, reading.message, raw, iface,
                                   lenient, reading.length))

    def _icmp(self, frame: Frame, proto: int, payload: bytes) -> None:
        """Destination unreachable (ICMP 3, ICMPv6 1) quoting a UDP datagram: who sent it
        and where nobody listened."""
        inner = payload[8:]
        if proto == ICMP and payload[:1] == b"\x03" and len(inner) >= 20 and inner[9] == UDP:
            head = (inner[0] & 0x0F) * 4
            src, dst = inner[12:16], inner[16:20]
        elif proto == ICMPV6 and payload[:1] == b"\x01" and len(inner) >= 44 and inner[6] == UDP:
            head, src, dst = 40, inner[8:24], inner[24:40]
        else:
            return
        if len(inner) < head + 4:
            return
        sport, dport = struct.unpack_from("!HH", inner, head)
        self.icmps.append(IcmpError(frame.number, frame.at, (text(dst), dport),
                                    (text(src), sport)))

    def _was_sip(self, key: tuple[object, ...], first: bytes) -> bool:
        """Whether a fragmented datagram given up was SIP, by its first piece."""
        if key[-1] != UDP or len(first) < 8:
            return False
        sport, dport = struct.unpack_from("!HH", first)
        return sport in self.ports or dport in self.ports or is_start(first[8:])

    # -- end ---------------------------------------------------------------------------
    def close(self) -> None:
        """End of the capture: TCP directions flushed, waiting fragments given up."""
        self.tcp.close()
        self.frag.close()

    def findings(self) -> list[Msg]:
        """What was malformed on the wire, and what SIP the capture could not show."""
        out: list[Msg] = []
        bad_length = [p for p in self.sips if p.length is not None]
        if bad_length:
            p = bad_length[0]
            assert p.length is not None
            out.append(msg("AN_SIP_LENGTH", count=len(bad_length), frame=p.frame,
                           message=_label(p), src=f"{p.src[0]}:{p.src[1]}",
                           dst=f"{p.dst[0]}:{p.dst[1]}", declared=p.length[0],
                           actual=p.length[1],
                           framing=msg("AN_SIP_LENGTH_TCP") if p.transport == "tcp"
                           else msg("AN_SIP_LENGTH_UDP")))
        lenient = [p for p in self.sips if p.lenient and p.length is None]
        if lenient:
            p = lenient[0]
            out.append(msg("AN_SIP_LENIENT", count=len(lenient), frame=p.frame,
                           message=_label(p), reason=p.lenient))
        if self.unreadable:
            frame, why = self.unreadable[0]
            out.append(msg("AN_SIP_UNREADABLE", count=len(self.unreadable), frame=frame,
                           reason=why))
        if self.tcp.gaps:
            g = self.tcp.gaps[0]
            out.append(msg("AN_SIP_TCP_GAP", count=len(self.tcp.gaps), frame=g.frame,
                           missing=g.missing, where=f"{text(g.key[1])}:{g.key[2]}→"
                           f"{text(g.key[3])}:{g.key[4]}"))
        if self.frag.unfinished:
            out.append(msg("AN_SIP_FRAGMENTS", count=self.frag.unfinished,
                           frame=self.frag.first_unfinished))
        return out
