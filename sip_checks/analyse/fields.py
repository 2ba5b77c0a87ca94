"""The SIP and ICMP of a capture from one tshark field pass (``tshark -T fields``).

tshark does what a capture needs and a text parser cannot: TCP reassembly, IP fragments,
SIP over any port. It runs on the raw-IP file :mod:`sip_checks.analyse.capture` wrote (every
packet that is not RTP), and emits per frame its addresses, the SIP first line and the rest
of the message (``sip.msg_hdr``: headers and body, escaped), and for ICMP errors the flow
they quote. The message is then parsed by the toolkit's own SIP parser, so the analysis reads
headers exactly as the live checks do.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RecetteError
from sip_checks.toolkit.message import SipMessage, SipParseError, parse

AGG = "\x1f"  # between occurrences of one field: a byte no SIP text carries unescaped
FIELDS = ("frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
          "udp.srcport", "tcp.srcport", "udp.dstport", "tcp.dstport", "sip.Request-Line",
          "sip.Status-Line", "sip.msg_hdr", "icmp.type", "icmp.code", "icmpv6.type")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")
_SIMPLE = {"r": "\r", "n": "\n", "t": "\t", "\\": "\\", '"': '"', "a": "\a", "b": "\b",
           "f": "\f", "v": "\v", "0": "\0"}


@dataclass(frozen=True)
class SipPacket:
    """One SIP message as seen on the wire: where it went, when, and the parsed message."""

    frame: int  # the number of its (last) frame in the customer's capture
    at: float
    src: tuple[str, int]
    dst: tuple[str, int]
    transport: str  # "udp" or "tcp"
    message: SipMessage
    raw: bytes
    iface: int = 0  # the capture point it was seen at


@dataclass(frozen=True)
class IcmpError:
    """An ICMP destination unreachable, and the UDP flow it quotes (who sent to nobody)."""

    frame: int
    at: float
    quoted_dst: tuple[str, int]
    quoted_src: tuple[str, int]


def unescape(text: str) -> str:
    """Undo tshark's escaping of a string field (``\\r\\n``, ``\\xNN``, ``\\\\``)."""
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] == "x" and len(code) == 3:
            return chr(int(code[1:], 16))
        return _SIMPLE.get(code, "\\" + code)
    return _ESCAPE.sub(one, text)


def run_tshark(raw_ip_pcap: Path, numbers: list[int], ifaces: list[int] | None = None, *,
               tshark: str = "tshark") -> tuple[list[SipPacket], list[IcmpError]]:
    """SIP messages and ICMP errors of the raw-IP file (frame numbers and capture points
    mapped back)."""
    cmd = [tshark, "-n", "-r", str(raw_ip_pcap), "-Y", "sip || icmp || icmpv6", "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", f"aggregator={AGG}", "-E", "quote=n"]
    for name in FIELDS:
        cmd += ["-e", name]
    try:
        proc = subprocess.run(cmd, capture_output=True, check=False)
    except FileNotFoundError:
        raise RecetteError("tshark not found: install it (Debian package tshark)") from None
    if proc.returncode != 0:
        last = proc.stderr.decode(errors="replace").strip().splitlines()
        raise RecetteError(f"tshark failed on the SIP pass: {last[-1] if last else '?'}")
    return parse_lines(proc.stdout.decode("utf-8", "replace").splitlines(), numbers, ifaces)


def _first(value: str) -> str:
    return value.split(AGG)[0]


def parse_lines(lines: list[str], numbers: list[int], ifaces: list[int] | None = None,
                ) -> tuple[list[SipPacket], list[IcmpError]]:
    """Rows of :data:`FIELDS` (tab separated) into SIP packets and ICMP errors."""
    sips: list[SipPacket] = []
    icmps: list[IcmpError] = []
    for line in lines:
        cols = line.split("\t")
        if len(cols) != len(FIELDS):
            continue
        row = dict(zip(FIELDS, cols, strict=True))
        n = int(row["frame.number"])
        frame = numbers[n - 1] if 0 < n <= len(numbers) else n
        iface = ifaces[n - 1] if ifaces and 0 < n <= len(ifaces) else 0
        at = float(row["frame.time_epoch"])
        srcs = (row["ip.src"] or row["ipv6.src"]).split(AGG)
        dsts = (row["ip.dst"] or row["ipv6.dst"]).split(AGG)
        sports = (row["udp.srcport"] or row["tcp.srcport"]).split(AGG)
        dports = (row["udp.dstport"] or row["tcp.dstport"]).split(AGG)
        icmp_type = _first(row["icmp.type"]) or _first(row["icmpv6.type"])
        if icmp_type in ("3", "1") and len(srcs) > 1 and row["udp.dstport"]:
            # Destination unreachable quoting the datagram: inner addresses come second.
            icmps.append(IcmpError(frame, at, (dsts[-1], int(dports[-1])),
                                   (srcs[-1], int(sports[-1]))))
            continue
        if not (row["sip.Request-Line"] or row["sip.Status-Line"]) or not sports[0]:
            continue
        transport = "udp" if row["udp.srcport"] else "tcp"
        firsts = [x for x in row["sip.Request-Line"].split(AGG) if x]
        firsts += [x for x in row["sip.Status-Line"].split(AGG) if x]
        bodies = row["sip.msg_hdr"].split(AGG)
        for first, rest in zip(firsts, bodies, strict=False):
            raw = (unescape(first) + "\r\n" + unescape(rest)).encode("utf-8", "surrogateescape")
            try:
                message = parse(raw)
            except SipParseError:
                continue
            sips.append(SipPacket(frame, at, (srcs[0], int(sports[0])),
                                  (dsts[0], int(dports[0])), transport, message, raw, iface))
    return sips, icmps
