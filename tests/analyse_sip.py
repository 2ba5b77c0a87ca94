"""Builders for the analysis's unit tests: SIP packets as a capture gives them (parsed by the
toolkit, with addresses, time and capture point) and RTP streams fed packet by packet to
the live checks' receiver statistics, so the tests reach dialogs and diagnoses without a
capture file or tshark."""

from __future__ import annotations

from dataclasses import dataclass, field

from sip_checks.analyse.fields import SipPacket
from sip_checks.analyse.streams import Stream
from sip_checks.toolkit.message import parse

Addr = tuple[str, int]


def sdp(addr: Addr) -> str:
    ip, port = addr
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


def packet(at: float, src: Addr, dst: Addr, first: str, headers: list[tuple[str, str]],
           body: str = "", *, iface: int = 0, frame: int = 0) -> SipPacket:
    lines = [first, *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
    return SipPacket(frame, at, src, dst, "udp", parse(raw), raw, iface)


@dataclass
class Ladder:
    """One INVITE dialog between a caller and a callee, message by message."""

    call_id: str
    caller: Addr
    callee: Addr
    calling: str = "0100000001"
    called: str = "0899000000"
    tags: tuple[str, str] = ("a1", "b1")
    packets: list[SipPacket] = field(default_factory=list)
    cseq: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})
    ifaces: tuple[int, ...] = (0,)  # every message is seen at each of these capture points

    def _add(self, at: float, src: Addr, dst: Addr, first: str,
             headers: list[tuple[str, str]], body: str) -> None:
        for n, iface in enumerate(self.ifaces):
            self.packets.append(packet(at + n * 0.001, src, dst, first, headers, body,
                                       iface=iface, frame=len(self.packets) + 1))

    def _uris(self) -> tuple[str, str]:
        return (f"<sip:{self.calling}@{self.callee[0]}>",
                f"<sip:{self.called}@{self.callee[0]}>")

    def request(self, at: float, method: str, *, by_caller: bool = True, body: str = "",
                to_tag: bool = True, cseq: int | None = None) -> list[tuple[str, str]]:
        if cseq is None:
            self.cseq[by_caller] += 1
            cseq = self.cseq[by_caller]
        a, b = self._uris()
        mine, theirs = (a, b) if by_caller else (b, a)
        tag_mine, tag_theirs = self.tags if by_caller else self.tags[::-1]
        src, dst = (self.caller, self.callee) if by_caller else (self.callee, self.caller)
        headers = [("Via", f"SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK{method}{cseq}"),
                   ("From", f"{mine};tag={tag_mine}"),
                   ("To", f"{theirs};tag={tag_theirs}" if to_tag else theirs),
                   ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}")]
        ruri = f"sip:{self.called}@{dst[0]}" if by_caller else f"sip:{dst[0]}:{dst[1]}"
        self._add(at, src, dst, f"{method} {ruri} SIP/2.0", headers, body)
        return headers

    def response(self, at: float, request: list[tuple[str, str]], status: str, *,
                 body: str = "", tag: bool = True) -> None:
        by_caller = dict(request)["From"].endswith(f"tag={self.tags[0]}")
        headers = []
        for k, v in request:
            if k == "To" and tag and ";tag=" not in v:
                v += f";tag={self.tags[1]}"
            headers.append((k, v))
        src, dst = (self.callee, self.caller) if by_caller else (self.caller, self.callee)
        self._add(at, src, dst, f"SIP/2.0 {status}", headers, body)

    def invite(self, at: float, sdp_caller: Addr | None, sdp_callee: Addr | None, *,
               ring: float | None = 0.2, answer: float | None = 0.5,
               final: str = "200 OK") -> list[tuple[str, str]]:
        req = self.request(at, "INVITE", body=sdp(sdp_caller) if sdp_caller else "",
                           to_tag=False)
        self.response(at + 0.01, req, "100 Trying", tag=False)
        if ring is not None:
            self.response(at + ring, req, "180 Ringing")
        if answer is not None:
            body = sdp(sdp_callee) if sdp_callee and final.startswith("2") else ""
            self.response(at + answer, req, final, body=body)
            if final.startswith("2"):
                self.request(at + answer + 0.01, "ACK", cseq=1)
        return req

    def reinvite(self, at: float, *, by_caller: bool, offer: Addr, answer: Addr) -> None:
        req = self.request(at, "INVITE", by_caller=by_caller, body=sdp(offer))
        self.response(at + 0.03, req, "200 OK", body=sdp(answer))
        self.request(at + 0.05, "ACK", by_caller=by_caller, cseq=self.cseq[by_caller])

    def bye(self, at: float, *, by_caller: bool = True) -> None:
        req = self.request(at, "BYE", by_caller=by_caller)
        self.response(at + 0.02, req, "200 OK")


def stream(src: Addr, dst: Addr, *, start: float, seconds: float, ssrc: int = 1,
           iface: int = 0) -> Stream:
    """A G.711 stream of 20 ms packets, none lost, measured as the analysis measures it."""
    s = Stream(src, dst, ssrc, 8, iface=iface)
    for i in range(int(seconds * 50)):
        s.packets += 1
        s.stats.update(i, 160 * i, start + 0.02 * i)
    return s
