"""SDP offers and answers for test calls (RFC 4566, RFC 3264), G.711 and RFC 4733 events.

Only what a trunk acceptance needs: one audio stream, PCMA/PCMU, telephone-event. Parsing is
tolerant of order and extra lines, strict about what a call cannot work without.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

STATIC = {0: ("PCMU", 8000), 8: ("PCMA", 8000), 18: ("G729", 8000), 9: ("G722", 8000)}
DEFAULT_OFFER = (("PCMA", 8, 8000), ("PCMU", 0, 8000))
EVENT_PT = 101


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
                if not parts[1].isdigit() or not all(p.isdigit() for p in parts[3:]):
                    raise SdpError(f"malformed media line m={value}")
                media = MediaDescription(session_addr or "", int(parts[1]),
                                         [int(p) for p in parts[3:]], origin_address=origin)
        elif kind == "a" and in_audio and media is not None:
            attr, _, arg = value.partition(":")
            if attr == "rtpmap":
                pt, _, enc = arg.partition(" ")
                name, _, rate = enc.partition("/")
                if pt.isdigit():
                    media.rtpmap[int(pt)] = (name, int(rate.split("/")[0] or 8000))
            elif attr == "fmtp":
                pt, _, params = arg.partition(" ")
                if pt.isdigit():
                    media.fmtp[int(pt)] = params
            elif attr == "ptime" and arg.strip().isdigit():
                media.ptime = int(arg)
            elif attr in ("sendrecv", "sendonly", "recvonly", "inactive"):
                media.direction = attr
    if media is None:
        raise SdpError("no audio stream (m=audio) in SDP")
    if not media.address:
        raise SdpError("no connection address (c=) for the audio stream")
    return media


def answer_codecs(offer: MediaDescription,
                  supported: tuple[tuple[str, int, int], ...] = DEFAULT_OFFER
                  ) -> tuple[tuple[str, int, int], ...]:
    """The first offered voice codec we support, in the offerer's payload type."""
    names = {name.upper() for name, _, _ in supported}
    for pt in offer.payloads:
        c = offer.codec(pt)
        if c and c[0].upper() in names:
            return ((c[0].upper(), pt, c[1]),)
    raise SdpError("no common codec: offer has "
                   + ", ".join(str(offer.codec(p) or p) for p in offer.payloads))
