"""Reading a capture file's records: pcap or pcapng, any of the usual link types, down to IP.

Why this reads records itself instead of asking tshark for RTP fields: measured on a
1-million-packet capture (bench/analyse_vs_tshark.py), ``tshark -T fields`` emitting even one
RTP field takes about 15 s, three times Wireshark's own ``-z rtp,streams`` (5 s), because
field output builds each packet's protocol tree; this reader with the live checks'
:class:`~sip_checks.toolkit.rtp.ReceiverStats` takes about 3.5 s. So RTP (fixed binary
headers, nothing to reassemble) is read here, and every other packet goes, in the same pass,
to a :class:`Sink` that reads SIP and ICMP from it (:mod:`sip_checks.analyse.sipread`: IP
fragments, TCP reassembly, SIP on any port).

A file that is not a capture, ends inside a record or carries an impossible record length
raises :class:`CaptureError`, one line naming the file and the byte where it went wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from harness.errors import RecetteError

MAX_RECORD = 1 << 18
CHUNK = 1 << 22  # larger than any snapshot length dumpcap writes (262144)
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
# Link types (tcpdump.org/linktypes.html) -> how many bytes before the network header, or a
# function of the frame for the variable ones.
ETHERNET, NULL, RAW, RAW_OLD, IPV4, IPV6, SLL, SLL2, LOOP = 1, 0, 101, 12, 228, 229, 113, 276, 108


class CaptureError(RecetteError):
    """The file cannot be read as a capture (one line: file, where, what)."""


class Frame(NamedTuple):
    """One record: its number in the file (from 1), time (s since the epoch), the IP packet.

    A named tuple, not a dataclass: one is made per packet, and a tuple is built several
    times faster (a million-packet capture reads in a third less time)."""

    number: int
    at: float
    ip: bytes
    iface: int = 0  # the capture point: a pcapng interface (mergecap keeps one per file)


def _ip_of(linktype: int, data: bytes) -> bytes | None:
    """The IPv4/IPv6 packet inside a link-layer frame, None for anything else (ARP, LLDP)."""
    if linktype == ETHERNET:
        off, etype = 14, data[12:14]
        while etype in (b"\x81\x00", b"\x88\xa8") and len(data) >= off + 4:  # VLAN tags
            etype, off = data[off + 2:off + 4], off + 4
        return data[off:] if etype in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == SLL:
        return data[16:] if data[14:16] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == SLL2:
        return data[20:] if data[0:2] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype in (NULL, LOOP):
        return data[4:]
    if linktype in (RAW, RAW_OLD, IPV4, IPV6):
        return data
    return None


class _Reader:
    """Records of one open file, with the byte offset kept for error messages."""

    def __init__(self, path: Path, f: BinaryIO) -> None:
        self.path, self.f, self.offset = path, f, 0

    def fail(self, what: str, at: int | None = None) -> CaptureError:
        where = self.offset if at is None else at
        return CaptureError(f"{self.path}: {what} at byte {where}")

    def read(self, n: int, *, what: str) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise self.fail(f"truncated capture: {what} cut short")
        self.offset += n
        return data

    def pcap(self, head: bytes) -> Iterator[Frame]:
        endian, unit = PCAP_MAGICS[head[:4]]
        rest = self.read(20, what="file header")
        linktype = struct.unpack(endian + "I", rest[16:20])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII").unpack_from
        number = 0
        # Records are cut from large reads rather than read one by one: two read calls per
        # packet cost more than the packet's whole RTP accounting.
        buf, pos = b"", 0
        while True:
            if len(buf) - pos < 16 + MAX_RECORD:
                buf = buf[pos:] + self.f.read(CHUNK)
                pos = 0
            if pos == len(buf):
                return
            if len(buf) - pos < 16:
                raise self.fail("truncated capture: record header cut short")
            sec, frac, incl, _orig = rec(buf, pos)
            if incl > MAX_RECORD:
                raise self.fail(f"corrupt capture: record of {incl} bytes")
            end = pos + 16 + incl
            if end > len(buf):
                self.offset += 16
                raise self.fail("truncated capture: record cut short")
            data = buf[pos + 16:end]
            self.offset += end - pos
            pos = end
            number += 1
            ip = _ip_of(linktype, data)
            if ip is not None:
                yield Frame(number, sec + frac * unit, ip)

    def pcapng(self) -> Iterator[Frame]:
        endian = "<"
        links: list[tuple[int, float]] = []  # per interface: link type, timestamp unit
        number = 0
        first = True
        while True:
            start = self.f.read(8)
            if not start:
                return
            if len(start) != 8:
                raise self.fail("truncated capture: block header cut short")
            if start[:4] == PCAPNG_SHB:
                bom = self.f.read(4)
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    raise self.fail("corrupt capture: bad section byte-order mark")
                self.f.seek(-4, 1)
                links = []
            elif first:
                raise self.fail("corrupt capture: no section header")
            first = False
            btype, blen = struct.unpack(endian + "II", start)
            if blen < 12 or blen % 4 or blen > MAX_RECORD + 64:
                raise self.fail(f"corrupt capture: block of {blen} bytes")
            self.offset += 8
            body = self.read(blen - 8, what="block")
            if struct.unpack(endian + "I", body[-4:])[0] != blen:
                raise self.fail("corrupt capture: block length mismatch")
            if btype == 1:  # interface description
                links.append((struct.unpack(endian + "H", body[:2])[0],
                              _tsresol(body[8:-4], endian)))
            elif btype in (6, 3):  # enhanced / simple packet
                number += 1
                if btype == 6:
                    iface, hi, lo, incl = struct.unpack(endian + "IIII", body[:16])
                    data = body[20:20 + incl]
                else:
                    iface, hi, lo = 0, 0, 0
                    data = body[4:-4]
                if iface >= len(links):
                    raise self.fail(f"corrupt capture: packet on undeclared interface {iface}")
                linktype, unit = links[iface]
                ip = _ip_of(linktype, data)
                if ip is not None:
                    yield Frame(number, ((hi << 32) | lo) * unit, ip, iface)


def _tsresol(options: bytes, endian: str) -> float:
    """The interface's timestamp unit from its ``if_tsresol`` option (default µs)."""
    off = 0
    while off + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, off)
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = options[off + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        off += 4 + (length + 3) // 4 * 4
    return 1e-6


def frames(path: Path) -> Iterator[Frame]:
    """Every IP packet of the capture at ``path`` in file order (pcap or pcapng)."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise CaptureError(f"{path}: cannot read: {exc.strerror}") from None
    with f:
        reader = _Reader(path, f)
        head = f.read(4)
        reader.offset = len(head)
        if head in PCAP_MAGICS:
            yield from reader.pcap(head)
        elif head == PCAPNG_SHB:
            f.seek(0)
            reader.offset = 0
            yield from reader.pcapng()
        else:
            raise CaptureError(f"{path}: not a pcap or pcapng capture file")


class Sink(Protocol):
    """Where :func:`sip_checks.analyse.streams.collect` puts every packet that is not RTP
    (:class:`sip_checks.analyse.sipread.SipReader`)."""

    def write(self, frame: Frame) -> None: ...
