"""Reading a capture file's records: pcap or pcapng, any of the usual link types, down to IP.

Why this reads records itself instead of asking tshark for RTP fields: measured on a
1-million-packet capture (bench/analyse_vs_tshark.py), ``tshark -T fields`` emitting even one
RTP field takes about 15 s, three times Wireshark's own ``-z rtp,streams`` (5 s), because
field output builds each packet's protocol tree; this reader with the live checks'
:class:`~sip_checks.toolkit.rtp.ReceiverStats` takes about 3.5 s. So RTP (fixed binary
headers, nothing to reassemble) is read here, and every other packet goes, in the same pass,
to a :class:`Sink` that reads SIP and ICMP from it (:mod:`sip_checks.analyse.sipread`: IP
fragments, TCP reassembly, SIP on any port). Link layers and tunnels are peeled by
:mod:`.encap`; plain Ethernet/IPv4 keeps a fast path here.

A capture cut short, or damaged in the middle (an impossible record length), is read as
tshark reads it: every complete record before the damage is analysed, and
:class:`CaptureInfo` says where and after how many records the file stopped making sense, so
the summary can say the analysis is partial and the diagnoses need not blame the network for
what the file does not hold. A file that is not a capture, or whose very first record is
already unreadable, raises :class:`CaptureError`, one line naming the file and the byte.

A pcapng with several interfaces (dumpcap -i a -i b, mergecap -a) is yielded in time order:
a k-way merge of per-interface runs, each read by its own pass over the file, so memory stays
that of k read buffers whatever the file's size.
"""

from __future__ import annotations

import heapq
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from harness.errors import RecetteError
from harness.messages import Msg, msg
from sip_checks.analyse.encap import ETHERNET, READ, VXLAN_DPORT, from_link, name

MAX_RECORD = 1 << 18
MAX_BLOCK = MAX_RECORD + 64
CHUNK = 1 << 22  # larger than any snapshot length dumpcap writes (262144)
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_ALL = (0, 1 << 31)
MAX_MERGED = 8  # interfaces merged by time (each one more open file and 4 MiB buffer)
_TIME_ORDER = itemgetter(1, 0)  # (time, number): file order among equal times


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


@dataclass
class CaptureInfo:
    """What the file held, filled while it is read: complete records per link type, how many
    carried no IP packet, and where the file stopped making sense if it did (``cut_at``, the
    byte where the first incomplete or impossible record starts). ``last_at`` is the time of
    the latest complete record: a call still going on then, in a file cut short, is
    unfinished, not failed."""

    records: int = 0
    not_ip: int = 0
    link_types: Counter[int] = field(default_factory=Counter)
    cut_at: int | None = None
    damage: Msg | None = None  # what was wrong at ``cut_at``; None: the file just ends there
    last_at: float | None = None

    @property
    def partial(self) -> bool:
        return self.cut_at is not None

    def notes(self) -> list[Msg]:
        """The summary's lines on what the analysis could not read: a file cut short or
        damaged, records of a link type no decoder here reads."""
        out = []
        if self.cut_at is not None and self.damage is None:
            out.append(msg("AN_CAPTURE_CUT", byte=self.cut_at, records=self.records))
        elif self.cut_at is not None:
            out.append(msg("AN_CAPTURE_DAMAGED", byte=self.cut_at, records=self.records,
                           what=self.damage))
        out += [msg("AN_CAPTURE_UNREAD", count=n, link=name(lt, read=True))
                for lt, n in sorted(self.link_types.items()) if lt not in READ]
        return out

    def contents(self) -> str:
        """What the file holds, for the error when nothing in it is SIP or RTP: ``7 records:
        5 of link type 1 (Ethernet), 2 of link type 127 (802.11 radiotap, not read); 2 IP
        packets``."""
        kinds = ", ".join(f"{n} of link type {name(lt, read=lt in READ)}"
                          for lt, n in sorted(self.link_types.items()))
        return f"{self.records} records: {kinds}; {self.records - self.not_ip} IP packets"

    def _see(self, at: float | None) -> None:
        if at is not None and (self.last_at is None or at > self.last_at):
            self.last_at = at


def _ip_of(linktype: int, data: bytes) -> bytes | None:
    """The IPv4/IPv6 packet inside a link-layer frame, None for anything else (ARP, LLDP).

    Ethernet/IPv4 TCP or UDP (not to the VXLAN port), untagged or with one 802.1Q tag (a
    mirror port's trunk), is answered here without a call into :mod:`.encap`: it is nearly
    every packet of a big capture."""
    if linktype == ETHERNET:  # constant offsets: arithmetic on them costs as much
        if data[12:15] == b"\x08\x00\x45":
            if len(data) > 37 and (
                    (data[23] == 17 and data[36:38] != VXLAN_DPORT) or data[23] == 6):
                return data[14:]
        elif data[12:14] == b"\x81\x00" and data[16:19] == b"\x08\x00\x45" and \
                len(data) > 41 and (
                    (data[27] == 17 and data[40:42] != VXLAN_DPORT) or data[27] == 6):
            return data[18:]
    return from_link(linktype, data)


class _Reader:
    """Records of one open file, with the byte offset kept for error messages.

    ``info`` is filled by the one reader that accounts for the file (with several interfaces
    merged, the others read the same blocks and stay silent)."""

    def __init__(self, path: Path, f: BinaryIO, info: CaptureInfo | None,
                 account: bool = True) -> None:
        self.path, self.f, self.info, self.offset = path, f, info, 0
        self.account = account

    def fail(self, what: str, at: int | None = None) -> CaptureError:
        where = self.offset if at is None else at
        return CaptureError(f"{self.path}: {what} at byte {where}")

    def read(self, n: int, *, what: str) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise self.fail(f"truncated capture: {what} cut short")
        self.offset += n
        return data

    def stop(self, what: str, damage: Msg | None, at: int, records: int) -> None:
        """The file stops making sense at byte ``at``: an error when not one record came
        before (nothing sane can be read), otherwise the mark of a partial analysis."""
        if not self.account:
            return
        if records == 0:
            raise self.fail(what, at)
        if self.info is not None:
            self.info.cut_at, self.info.damage = at, damage

    def pcap(self, head: bytes) -> Iterator[Frame]:
        endian, unit = PCAP_MAGICS[head[:4]]
        rest = self.read(20, what="file header")
        linktype = struct.unpack(endian + "I", rest[16:20])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII").unpack_from
        number = skipped = 0
        at: float | None = None
        # Records are cut from large reads rather than read one by one: two read calls per
        # packet cost more than the packet's whole RTP accounting.
        buf, pos, base = b"", 0, self.offset
        try:
            while True:
                if len(buf) - pos < 16 + MAX_RECORD:
                    base += pos
                    buf = buf[pos:] + self.f.read(CHUNK)
                    pos = 0
                if pos == len(buf):
                    return
                if len(buf) - pos < 16:
                    self.stop("truncated capture: record header cut short", None,
                              base + pos, number)
                    return
                sec, frac, incl, _orig = rec(buf, pos)
                if incl > MAX_RECORD:
                    self.stop(f"corrupt capture: record of {incl} bytes",
                              msg("AN_DAMAGE_RECORD", size=incl), base + pos, number)
                    return
                end = pos + 16 + incl
                if end > len(buf):
                    self.stop("truncated capture: record cut short", None, base + pos,
                              number)
                    return
                data = buf[pos + 16:end]
                pos = end
                number += 1
                at = sec + frac * unit
                ip = _ip_of(linktype, data)
                if ip is None:
                    skipped += 1
                else:
                    yield Frame(number, at, ip)
        finally:
            if self.info is not None:
                self.info.records += number
                self.info.not_ip += skipped
                self.info.link_types[linktype] += number
                self.info._see(at)

    def pcapng(self, want: tuple[int, int] = _ALL) -> Iterator[Frame]:
        """The packets of the interfaces numbered ``want[0]`` to ``want[1] - 1`` (numbered
        through the whole file: a second section's interfaces follow the first's)."""
        account = self.account
        endian = "<"
        u32: Callable[..., tuple[int, ...]] = struct.Struct("<I").unpack_from
        epb: Callable[..., tuple[int, ...]] = struct.Struct("<IIII").unpack_from
        links: list[tuple[int, float]] = []  # per interface of the file: link type, unit
        section = 0  # the file-wide number of this section's interface 0
        per_iface: Counter[int] = Counter()  # complete packets per interface (accounting)
        number = skipped = 0
        last = float("-inf")
        lo, hi = want
        buf, pos, base = b"", 0, 0
        try:
            while True:
                if len(buf) - pos < MAX_BLOCK:
                    base += pos
                    buf = buf[pos:] + self.f.read(CHUNK)
                    pos = 0
                if pos == len(buf):
                    return
                at_byte = base + pos
                if len(buf) - pos < 12:
                    self.stop("truncated capture: block header cut short", None,
                              at_byte, number)
                    return
                if buf[pos:pos + 4] == PCAPNG_SHB:
                    bom = buf[pos + 8:pos + 12]
                    if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                        self.stop("corrupt capture: bad section byte-order mark",
                                  msg("AN_DAMAGE_SECTION"), at_byte, number)
                        return
                    endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                    u32 = struct.Struct(endian + "I").unpack_from
                    epb = struct.Struct(endian + "IIII").unpack_from
                    section = len(links)
                elif at_byte == 0:
                    raise self.fail("corrupt capture: no section header", 0)
                btype, blen = u32(buf, pos)[0], u32(buf, pos + 4)[0]
                if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                    self.stop(f"corrupt capture: block of {blen} bytes",
                              msg("AN_DAMAGE_BLOCK", size=blen), at_byte, number)
                    return
                end = pos + blen
                if end > len(buf):
                    self.stop("truncated capture: block cut short", None, at_byte,
                              number)
                    return
                if u32(buf, end - 4)[0] != blen:
                    self.stop("corrupt capture: block length mismatch",
                              msg("AN_DAMAGE_MISMATCH"), at_byte, number)
                    return
                if btype == 6:  # enhanced packet block: nearly every block of a file
                    iface, hi_ts, lo_ts, incl = epb(buf, pos + 8)
                    if incl > blen - 32:
                        incl = blen - 32
                    start = pos + 28
                elif btype == 2:  # obsolete packet block: 16-bit interface, 16-bit drops
                    iface = struct.unpack_from(endian + "H", buf, pos + 8)[0]
                    hi_ts, lo_ts, incl = epb(buf, pos + 12)[:3]
                    incl, start = min(incl, blen - 32), pos + 28
                elif btype == 3:  # simple packet block: interface 0, no time
                    iface, hi_ts, lo_ts = 0, 0, 0
                    incl, start = min(u32(buf, pos + 8)[0], blen - 16), pos + 12
                else:
                    if btype == 1:  # interface description
                        links.append((struct.unpack_from(endian + "H", buf, pos + 8)[0],
                                      _tsresol(buf[pos + 16:end - 4], endian)))
                    pos = end
                    continue
                g = section + iface
                if g >= len(links):
                    self.stop(f"corrupt capture: packet on undeclared interface {iface}",
                              msg("AN_DAMAGE_INTERFACE", iface=iface), at_byte, number)
                    return
                pos = end
                number += 1
                linktype, unit = links[g]
                at = ((hi_ts << 32) | lo_ts) * unit
                if account:
                    per_iface[g] += 1
                    if at > last:
                        last = at
                if lo <= g < hi:  # the packet is copied only by the reader that yields it
                    ip = _ip_of(linktype, buf[start:start + incl])
                    if ip is None:
                        skipped += 1
                    else:
                        yield Frame(number, at, ip, g)
        finally:
            if self.info is not None:
                self.info.not_ip += skipped
                if account:
                    self.info.records += number
                    for g, n in per_iface.items():
                        self.info.link_types[links[g][0]] += n
                    self.info._see(last if number else None)

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


def _interfaces_up_front(f: BinaryIO) -> int:
    """How many interfaces the pcapng declares before its first packet (its first blocks
    only; the file is left where it was)."""
    start = f.tell()
    count = 0
    endian = "<"
    try:
        while True:
            head = f.read(12)
            if len(head) < 12:
                return count
            if head[:4] == PCAPNG_SHB:
                endian = ">" if head[8:12] == b"\x1a\x2b\x3c\x4d" else "<"
            btype, blen = struct.unpack(endian + "II", head[:8])
            if btype in (2, 3, 6) or blen < 12 or blen > MAX_BLOCK:
                return count
            count += btype == 1
            f.seek(blen - 12, 1)
    finally:
        f.seek(start)


def frames(path: Path, info: CaptureInfo | None = None) -> Iterator[Frame]:
    """Every IP packet of the capture at ``path`` (pcap or pcapng), in file order, or in
    time order across the interfaces of a pcapng that has several; ``info`` (when given) is
    filled as the file is read."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise CaptureError(f"{path}: cannot read: {exc.strerror}") from None
    with f:
        reader = _Reader(path, f, info)
        head = f.read(4)
        reader.offset = len(head)
        if head in PCAP_MAGICS:
            yield from reader.pcap(head)
            return
        if head != PCAPNG_SHB:
            raise CaptureError(f"{path}: not a pcap or pcapng capture file")
        f.seek(0)
        reader.offset = 0
        k = _interfaces_up_front(f)
        if k <= 1 or k > MAX_MERGED:  # more: file order, as tshark reads it
            yield from reader.pcapng()
            return
        # One pass per interface, each keeping only its own packets (the last also those of
        # interfaces declared later), merged by time: exact whatever the file's order, in
        # the memory of k read buffers.
        with ExitStack() as stack:
            runs = [reader.pcapng((0, 1))]
            for i in range(1, k):
                other = stack.enter_context(path.open("rb"))
                runs.append(_Reader(path, other, info, account=False).pcapng(
                    (i, i + 1 if i < k - 1 else _ALL[1])))
            yield from heapq.merge(*runs, key=_TIME_ORDER)


class Sink(Protocol):
    """Where :func:`sip_checks.analyse.streams.collect` puts every packet that is not RTP
    (:class:`sip_checks.analyse.sipread.SipReader`), with the file's :class:`CaptureInfo`
    that :func:`frames` fills as it reads."""

    info: CaptureInfo

    def write(self, frame: Frame) -> None: ...
