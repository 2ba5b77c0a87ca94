"""SDP offers and answers for test calls (RFC 4566, RFC 3264), G.711 and RFC 4733 events.

Only what a trunk acceptance needs: one audio stream, PCMA/PCMU, telephone-event. Parsing is
tolerant of order and extra lines, strict about what a call cannot work without.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sip_checks.toolkit.numbers import uint

STATIC = {0: ("PCMU", 8000), 8: ("PCMA", 8000), 18: ("G729", 8000), 9: ("G722", 8000)}
DEFAULT_OFFER = (("PCMA", 8, 8000), ("PCMU", 0, 8000))
EVENT_PT = 101
# Bounds on a peer's numbers (RFC 4566 §5.14, RFC 3551 §3): a UDP port, a 7-bit RTP payload
# type, a clock rate and a packet time far above any codec's; larger is a malformed line.
MAX_PORT = 65535
MAX_PT = 127
MAX_RATE = 10_000_000
MAX_PTIME = 100_000


class SdpError(ValueError):
    """An SDP body a call cannot be set up with."""


@dataclass
class MediaDescription:
    """The audio stream of a session description."""

    address: str
    port: int
    payloads: list[int]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    direction: str = "sendrecv"
    ptime: int | None = None
    origin_address: str | None = None

    def codec(self, pt: int) -> tuple[str, int] | None:
        return self.rtpmap.get(pt) or STATIC.get(pt)

    @property
    def event_pt(self) -> int | None:
        for pt in self.payloads:
            c = self.codec(pt)
            if c and c[0].lower() == "telephone-event":
                return pt
        return None

    def first_audio(self) -> tuple[int, str] | None:
        """First payload that is a voice codec (the answer's choice, RFC 3264 §6.1)."""
        for pt in self.payloads:
            c = self.codec(pt)
            if c and c[0].lower() != "telephone-event":
                return pt, c[0]
        return None


# Every media port this process named in an SDP it sent, with the addresses it sent it to: a
# SIP ALG on the site's router opens a pinhole for each (the port and the next, RTCP), from the
# far side of the message, and a firewall sweep must tell those from the rules'.
OFFERED: dict[int, set[str]] = {}


def offered(port: int, to: str) -> None:
    """Note that an SDP naming ``port`` was sent to ``to`` (see :data:`OFFERED`)."""
    OFFERED.setdefault(port, set()).add(to)


def build(
    address: str, port: int, *, session_id: int | None = None, version: int = 1,
    codecs: tuple[tuple[str, int, int], ...] = DEFAULT_OFFER, dtmf: bool = True,
    ptime: int = 20, direction: str = "sendrecv", user: str = "recette",
) -> bytes:
    """An offer (or an answer, given the chosen codecs) for one audio stream."""
    sid = session_id if session_id is not None else secrets.randbelow(2**31)
    pts = [str(pt) for _, pt, _ in codecs] + ([str(EVENT_PT)] if dtmf else [])
    lines = [
        "v=0",
        f"o={user} {sid} {version} IN IP4 {address}",
        "s=recette",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(pts)}",
    ]
    lines += [f"a=rtpmap:{pt} {name}/{rate}" for name, pt, rate in codecs]
    if dtmf:
        lines += [f"a=rtpmap:{EVENT_PT} telephone-event/8000", f"a=fmtp:{EVENT_PT} 0-16"]
    lines += [f"a=ptime:{ptime}", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def parse(body: bytes) -> MediaDescription:
    """The first audio stream of ``body``; session-level c= applies when media has none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("SDP is not UTF-8 text") from None
    session_addr: str | None = None
    origin: str | None = None
    media: MediaDescription | None = None
    in_audio = False
    seen_media = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "o":
            parts = value.split()
            if len(parts) == 6:
                origin = parts[5]
        elif kind == "c":
            parts = value.split()
            if len(parts) < 3 or parts[1] != "IP4":
                raise SdpError(f"unsupported connection line c={value}")
            addr = parts[2].split("/")[0]
            if not seen_media:
                session_addr = addr
            elif in_audio and media is not None:
                media.address = addr
        elif kind == "m":
            seen_media = True
            parts = value.split()
            in_audio = len(parts) >= 4 and parts[0] == "audio" and media is None
            if in_audio:
                port = uint(parts[1].split("/")[0], MAX_PORT + 1)
                payloads = [uint(p, MAX_PT + 1) for p in parts[3:]]
                if (port is None or port > MAX_PORT
                        or any(pt is None or pt > MAX_PT for pt in payloads)):
                    raise SdpError(f"malformed media line m={value[:80]}")
                media = MediaDescription(session_addr or "", port,
                                         [pt for pt in payloads if pt is not None],
                                         origin_address=origin)
        elif kind == "a" and in_audio and media is not None:
            _attribute(media, value)
    if media is None:
        raise SdpError("no audio stream (m=audio) in SDP")
    if not media.address:
        raise SdpError("no connection address (c=) for the audio stream")
    return media


def _attribute(media: MediaDescription, value: str) -> None:
    """Apply one ``a=`` line of the audio stream. A payload type that is not a number is
    skipped (another stream's business or junk we do not need); an rtpmap of ours whose clock
    rate is not a number cannot be used to set up a call, so it is an SdpError."""
    attr, _, arg = value.partition(":")
    if attr == "rtpmap":
        pt_text, _, enc = arg.partition(" ")
        pt = uint(pt_text, MAX_PT + 1)
        if pt is None or pt > MAX_PT:
            return
        name, _, rate_text = enc.strip().partition("/")
        rate = uint(rate_text.split("/")[0], MAX_RATE + 1) if rate_text else 8000
        if rate is None or rate > MAX_RATE:
            raise SdpError(f"malformed rtpmap a={value[:80]}")
        media.rtpmap[pt] = (name, rate)
    elif attr == "fmtp":
        pt_text, _, params = arg.partition(" ")
        pt = uint(pt_text, MAX_PT + 1)
        if pt is not None and pt <= MAX_PT:
            media.fmtp[pt] = params
    elif attr == "ptime":
        ptime = uint(arg.strip(), MAX_PTIME + 1)
        if ptime is not None and ptime <= MAX_PTIME:
            media.ptime = ptime
    elif attr in ("sendrecv", "sendonly", "recvonly", "inactive"):
        media.direction = attr


def answer_codecs(offer: MediaDescription,
                  supported: tuple[tuple[str, int, int], ...] = DEFAULT_OFFER, *,
                  prefer: str | None = None) -> tuple[tuple[str, int, int], ...]:
    """The first offered voice codec we support, in the offerer's payload type; ``prefer``
    (the codec of a call in progress) wins when offered, so a re-INVITE that only moves the
    media does not change the codec under a running measurement."""
    names = {name.upper() for name, _, _ in supported}
    offered = [(c[0].upper(), pt, c[1]) for pt in offer.payloads
               if (c := offer.codec(pt)) and c[0].upper() in names]
    for name, pt, rate in offered:
        if prefer is not None and name == prefer.upper():
            return ((name, pt, rate),)
    if offered:
        return (offered[0],)
    raise SdpError("no common codec: offer has "
                   + ", ".join(str(offer.codec(p) or p) for p in offer.payloads))
