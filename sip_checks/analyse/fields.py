"""What the analysis knows of one SIP message or ICMP error seen in a capture, and how a SIP
message's bytes become one.

A message is read first by the toolkit's strict parser, so the analysis reads headers exactly
as the live checks do; what it refuses is read again leniently
(:mod:`sip_checks.analyse.lenient`) and kept with the strict parser's reason in
:attr:`SipPacket.lenient`, because a message the strict reader refuses may still have moved a
call forward on the wire. A Content-Length that disagrees with the body is kept in
:attr:`SipPacket.length`: something on the path (typically a SIP ALG) rewrote the body
without fixing it. The bytes come from :mod:`sip_checks.analyse.sipread`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sip_checks.analyse.lenient import BLANK, LenientRefusal, content_length, trailing
from sip_checks.analyse.lenient import read as read_leniently
from sip_checks.toolkit.message import SipMessage, SipParseError, parse


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
    lenient: str = ""  # why the strict reading was not kept ("" when it was)
    length: tuple[int, int] | None = None  # (Content-Length, body bytes) when they disagree


@dataclass(frozen=True)
class IcmpError:
    """An ICMP destination unreachable, and the UDP flow it quotes (who sent to nobody)."""

    frame: int
    at: float
    quoted_dst: tuple[str, int]
    quoted_src: tuple[str, int]


@dataclass(frozen=True)
class Reading:
    """A message's bytes read: the message, why the strict reading was not kept, and the
    Content-Length disagreement if any."""

    message: SipMessage
    lenient: str = ""
    length: tuple[int, int] | None = None


def read_message(raw: bytes, *, datagram: bool,
                 length: tuple[int, int] | None = None) -> Reading:
    """Strictly, then leniently (raises :class:`LenientRefusal` when neither can).

    ``datagram``: the bytes are a whole UDP payload, so the body is the datagram's rest and
    a declared length is checked against it here; for TCP the framer
    (:mod:`sip_checks.analyse.tcp`) has already cut the message and passes ``length`` when
    Content-Length did not end it."""
    if datagram:
        length = _disagreement(raw)
    try:
        message = parse(raw)
    except SipParseError as exc:
        return Reading(read_leniently(raw, datagram=datagram), str(exc), length)
    if length is not None:
        # Accepted strictly, but with its body cut to a length that something rewrote: the
        # whole body is what the sender meant.
        return Reading(read_leniently(raw, datagram=datagram),
                       f"Content-Length {length[0]}, body of {length[1]} bytes", length)
    return Reading(message)


def _disagreement(raw: bytes) -> tuple[int, int] | None:
    """(declared, actual) when a datagram's Content-Length is not its body's length, beyond
    harmless trailing octets."""
    blank = BLANK.search(raw)
    if blank is None:
        return None
    declared = content_length(raw[:blank.start()])
    body = raw[blank.end():]
    if declared is None or declared == len(body):
        return None
    if declared < len(body) and trailing(body[declared:]):
        return None
    return declared, len(body)


__all__ = ["IcmpError", "LenientRefusal", "Reading", "SipPacket", "read_message"]
