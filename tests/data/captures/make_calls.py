"""Write the call cases of tests/data/captures/<case>/ (issue 23: calls as a B2BUA, a
callee, a capture's end or a second interface show them), run from the repository root:
``.venv/bin/python tests/data/captures/make_calls.py``; then regenerate the expected files
with ``RECETTE_REGEN=1 .venv/bin/python -m pytest -n 0 tests/unit/test_analyse_cases.py``.

Built like make.py's cases (its helpers are imported), with SIP written as the devices of
each case write it: a callee's re-INVITE with the callee's From and CSeq, a B2BUA's second
leg with its own Call-ID, tags and number format, From headers as trunks send them.
"""

from __future__ import annotations

import itertools
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make import OP, SITE, SITE_PUB, T0, Capture, ether, rtp, sdp, sip  # noqa: E402


@dataclass
class Leg:
    """One INVITE dialog as seen on one wire: the caller's and the callee's SIP addresses,
    their From/To header values (without tags) and tags."""

    cap: Capture
    call_id: str
    caller: tuple[str, int]
    callee: tuple[str, int]
    ruri: str
    frm: str
    to: str
    tags: tuple[str, str] = ("a1", "b1")
    cseqs: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})
    # Branches from the Call-ID: the same dialog built twice (both sides of an ALG) keeps
    # them, as a router does.
    branches: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _hdr(self, value: str, tag: str) -> str:
        return f"{value};tag={tag}" if tag else value

    def request(self, at: float, method: str, *, by_caller: bool = True, body: str = "",
                extra: tuple[tuple[str, str], ...] = (), to_tag: bool = True,
                cseq: int | None = None) -> bytes:
        """A request from the caller (or the callee, in the dialog: its From is the callee)."""
        src, dst = (self.caller, self.callee) if by_caller else (self.callee, self.caller)
        if cseq is None:
            self.cseqs[by_caller] += 1
            cseq = self.cseqs[by_caller]
        mine, theirs = (self.frm, self.to) if by_caller else (self.to, self.frm)
        tag_mine, tag_theirs = self.tags if by_caller else self.tags[::-1]
        ruri = self.ruri if by_caller else f"sip:{dst[0]}:{dst[1]}"  # the caller's Contact
        msg = sip(f"{method} {ruri} SIP/2.0", [
            ("Via", f"SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK"
                    f"{zlib.crc32(self.call_id.encode()):08x}{next(self.branches):03d};rport"),
            ("Max-Forwards", "70"),
            ("From", self._hdr(mine, tag_mine)),
            ("To", self._hdr(theirs, tag_theirs if to_tag else "")),
            ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}"),
            ("Contact", f"<sip:{src[0]}:{src[1]}>"), *extra], body)
        self.cap.udp(at, src, dst, msg)
        return msg

    def response(self, at: float, req: bytes, status: str, *, body: str = "",
                 tag: bool = True) -> None:
        """The response to ``req``, sent back by its receiver (the To tag added)."""
        head = req.decode().split("\r\n\r\n")[0].split("\r\n")
        keep = [(k, v) for k, v in (ln.split(": ", 1) for ln in head[1:])
                if k in ("Via", "From", "To", "Call-ID", "CSeq")]
        to = next(v for k, v in keep if k == "To")
        by_caller = "From" in dict(keep) and dict(keep)["From"].endswith(f"tag={self.tags[0]}")
        if tag and ";tag=" not in to:
            keep = [(k, v + f";tag={self.tags[1] if by_caller else self.tags[0]}"
                     if k == "To" else v) for k, v in keep]
        me = self.callee if by_caller else self.caller
        keep.append(("Contact", f"<sip:{me[0]}:{me[1]}>"))
        src, dst = (self.callee, self.caller) if by_caller else (self.caller, self.callee)
        self.cap.udp(at, src, dst, sip(f"SIP/2.0 {status}", keep, body))

    def invite(self, at: float, sdp_caller: tuple[str, int], sdp_callee: tuple[str, int],
               *, ring: float = 0.2, answer: float | None = 0.5) -> None:
        """INVITE, 100, 180 after ``ring`` s, then 200 (with ACK) after ``answer`` s."""
        req = self.request(at, "INVITE", body=sdp(*sdp_caller), to_tag=False)
        self.response(at + 0.005, req, "100 Trying", tag=False)
        self.response(at + ring, req, "180 Ringing")
        if answer is not None:
            self.response(at + answer, req, "200 OK", body=sdp(*sdp_callee))
            self.request(at + answer + 0.01, "ACK", cseq=self.cseqs[True])

    def bye(self, at: float, *, by_caller: bool = True) -> None:
        req = self.request(at, "BYE", by_caller=by_caller)
        self.response(at + 0.02, req, "200 OK")


def pcapng(packets: list[tuple[float, int, bytes]], interfaces: list[str]) -> bytes:
    """A pcapng of Ethernet frames on several interfaces (dumpcap -i a -i b writes one
    interface description per capture point, each packet naming its own)."""
    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def option(code: int, value: bytes) -> bytes:
        return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for name in interfaces:
        out.append(block(1, struct.pack("<HHI", 1, 0, 65535) + option(2, name.encode())
                         + option(9, b"\x09") + struct.pack("<HH", 0, 0)))
    for at, iface, ip in sorted(packets, key=lambda p: (p[0], p[1])):
        frame = ether(ip)
        ns = round(at * 1e9)
        out.append(block(6, struct.pack("<IIIII", iface, ns >> 32, ns & 0xFFFFFFFF,
                                        len(frame), len(frame)) + frame))
    return b"".join(out)


def callee_reinvite() -> Capture:
    """A clean call whose callee (the operator's SBC) refreshes the session with a re-INVITE
    carrying the same SDP: the callee's offer, the caller's answer."""
    cap = Capture()
    leg = Leg(cap, "reinv-1@lab", (SITE, 5060), (OP, 5060), f"sip:0899000000@{OP}",
              f"<sip:0100000001@{OP}>", f"<sip:0899000000@{OP}>")
    leg.invite(T0, (SITE, 16000), (OP, 30000))
    rtp(cap, (SITE, 16000), (OP, 30000), start=T0 + 0.6, seconds=3, seed=31)
    rtp(cap, (OP, 30000), (SITE, 16000), start=T0 + 0.6, seconds=3, seed=32)
    req = leg.request(T0 + 2.0, "INVITE", by_caller=False, body=sdp(OP, 30000),
                      extra=(("Session-Expires", "1800;refresher=uas"),))
    leg.response(T0 + 2.03, req, "200 OK", body=sdp(SITE, 16000))
    leg.request(T0 + 2.05, "ACK", by_caller=False, cseq=leg.cseqs[False])
    leg.bye(T0 + 3.8)
    return cap


def media_moved() -> Capture:
    """A clean call whose callee moves its media mid-call: its re-INVITE at 2 s names
    another port, both directions follow it (new streams from 2.1 s)."""
    cap = Capture()
    leg = Leg(cap, "moved-1@lab", (SITE, 5060), (OP, 5060), f"sip:0899000000@{OP}",
              f"<sip:0100000001@{OP}>", f"<sip:0899000000@{OP}>")
    leg.invite(T0, (SITE, 16010), (OP, 30010))
    rtp(cap, (SITE, 16010), (OP, 30010), start=T0 + 0.6, seconds=1.4, seed=35)
    rtp(cap, (OP, 30010), (SITE, 16010), start=T0 + 0.6, seconds=1.4, seed=36)
    req = leg.request(T0 + 2.0, "INVITE", by_caller=False, body=sdp(OP, 30110))
    leg.response(T0 + 2.03, req, "200 OK", body=sdp(SITE, 16010))
    leg.request(T0 + 2.05, "ACK", by_caller=False, cseq=leg.cseqs[False])
    rtp(cap, (SITE, 16010), (OP, 30110), start=T0 + 2.1, seconds=2, seed=37)
    rtp(cap, (OP, 30110), (SITE, 16010), start=T0 + 2.1, seconds=2, seed=38)
    leg.bye(T0 + 4.2)
    return cap


SBC, IPBX = "192.0.2.10", "203.0.113.20"


def b2bua_legs() -> Capture:
    """Taken on a hosted SBC (one address): the operator's call to a DID in E.164 enters it,
    its second leg leaves 20 ms later to the customer's IPBX in national form, with its own
    Call-ID and tags; the caller hangs up after 40 s and the SBC relays the BYE (SIP only,
    as the teardown case)."""
    cap = Capture()
    a = Leg(cap, "a84f-carrier@198.51.100.10", (OP, 5060), (SBC, 5060),
            f"sip:+33123456789@{SBC};user=phone",
            f"<sip:+33612345678@{OP};user=phone>", f"<sip:+33123456789@{SBC};user=phone>",
            tags=("op77", "sbc1"))
    b = Leg(cap, "0b2c99e1@192.0.2.10", (SBC, 5060), (IPBX, 5060),
            f"sip:0123456789@{IPBX}", f"<sip:0612345678@{SBC}>",
            f"<sip:0123456789@{IPBX}>", tags=("sbc2", "pbx9"))
    req_a = a.request(T0, "INVITE", body=sdp(OP, 30000), to_tag=False)
    a.response(T0 + 0.004, req_a, "100 Trying", tag=False)
    req_b = b.request(T0 + 0.02, "INVITE", body=sdp(SBC, 40002), to_tag=False)
    b.response(T0 + 0.03, req_b, "100 Trying", tag=False)
    b.response(T0 + 0.3, req_b, "180 Ringing")
    a.response(T0 + 0.31, req_a, "180 Ringing")
    b.response(T0 + 3.0, req_b, "200 OK", body=sdp(IPBX, 16000))
    b.request(T0 + 3.01, "ACK", cseq=1)
    a.response(T0 + 3.02, req_a, "200 OK", body=sdp(SBC, 40000))
    a.request(T0 + 3.09, "ACK", cseq=1)
    a.bye(T0 + 43.0)
    b.bye(T0 + 43.03)
    return cap


def ringing_at_end() -> Capture:
    """The capture stops while one call still rings (180, no final response) and another,
    answered, still talks (RTP both ways, no BYE)."""
    cap = Capture()
    ringing = Leg(cap, "ring-1@lab", (SITE, 5060), (OP, 5060), f"sip:0899000001@{OP}",
                  f"<sip:0100000001@{OP}>", f"<sip:0899000001@{OP}>")
    ringing.invite(T0, (SITE, 16020), (OP, 30020), answer=None)
    talking = Leg(cap, "talk-1@lab", (SITE, 5060), (OP, 5060), f"sip:0899000002@{OP}",
                  f"<sip:0100000002@{OP}>", f"<sip:0899000002@{OP}>")
    talking.invite(T0 + 1, (SITE, 16022), (OP, 30022))
    rtp(cap, (SITE, 16022), (OP, 30022), start=T0 + 1.6, seconds=3, seed=41)
    rtp(cap, (OP, 30022), (SITE, 16022), start=T0 + 1.6, seconds=3, seed=42)
    return cap


FROM_FORMS = (
    ("<tel:+33123456789>", "tel URI"),
    ('"Accueil" <sip:+33123456790@trunk.example.net;user=phone>', "display name, user=phone"),
    ("sip:100@192.0.2.5", "no angle brackets: the tag is the header's"),
    ("<sips:alice@example.com>", "sips"),
    ("<sip:101@[2001:db8::5]:5060>", "IPv6 host"),
    ("<sip:192.0.2.7>", "no user part"),
    ('"Anonymous" <sip:anonymous@anonymous.invalid>', "anonymous caller"),
)


def from_forms() -> Capture:
    """One short answered call per From form trunks send (SIP only)."""
    cap = Capture()
    for i, (frm, _why) in enumerate(FROM_FORMS):
        leg = Leg(cap, f"from-{i + 1}@lab", (OP, 5060), (SITE_PUB, 5060),
                  f"sip:+3389900000{i}@{SITE_PUB};user=phone", frm,
                  f"<sip:+3389900000{i}@{SITE_PUB};user=phone>", tags=(f"f{i + 1}", "s1"))
        leg.invite(T0 + 2 * i, (OP, 30040 + 2 * i), (SITE_PUB, 16040 + 2 * i))
        leg.bye(T0 + 2 * i + 1.5)
    return cap


def sip_rtp_interfaces() -> bytes:
    """A clean call captured with ``dumpcap -i sip0 -i rtp0``: its SIP on one interface
    (the signalling VLAN), its RTP on another (the voice VLAN)."""
    cap = Capture()
    leg = Leg(cap, "ifaces-1@lab", (SITE, 5060), (OP, 5060), f"sip:0899000000@{OP}",
              f"<sip:0100000001@{OP}>", f"<sip:0899000000@{OP}>")
    leg.invite(T0, (SITE, 16030), (OP, 30030))
    leg.bye(T0 + 3.8)
    signalling = list(cap.packets)
    media = Capture()
    rtp(media, (SITE, 16030), (OP, 30030), start=T0 + 0.6, seconds=3, seed=51)
    rtp(media, (OP, 30030), (SITE, 16030), start=T0 + 0.6, seconds=3, seed=52)
    return pcapng([(at, 0, ip) for at, ip in signalling]
                  + [(at, 1, ip) for at, ip in media.packets], ["sip0", "rtp0"])


def alg_two_interfaces() -> bytes:
    """The ALG case captured on the router's two interfaces (LAN first, WAN second): the
    site's audio crosses, the operator's reaches the WAN side and never the LAN."""
    lan, wan = Capture(), Capture()
    inside = Leg(lan, "alg2-1@lab", (SITE, 5060), (OP, 5060), f"sip:0899000000@{OP}",
                 f"<sip:0100000001@{OP}>", f"<sip:0899000000@{OP}>")
    inside.invite(T0, (SITE, 16004), (OP, 30004))
    outside = Leg(wan, "alg2-1@lab", (SITE_PUB, 5060), (OP, 5060), f"sip:0899000000@{OP}",
                  f"<sip:0100000001@{OP}>", f"<sip:0899000000@{OP}>")
    outside.invite(T0 + 0.001, (SITE_PUB, 16004), (OP, 30004))
    rtp(lan, (SITE, 16004), (OP, 30004), start=T0 + 0.6, seconds=2, seed=61)
    rtp(wan, (SITE_PUB, 16004), (OP, 30004), start=T0 + 0.6001, seconds=2, seed=61)
    rtp(wan, (OP, 30004), (SITE_PUB, 16004), start=T0 + 0.6, seconds=2, seed=62)
    inside.bye(T0 + 3)
    outside.bye(T0 + 3.001)
    return pcapng([(at, 0, ip) for at, ip in lan.packets]
                  + [(at, 1, ip) for at, ip in wan.packets], ["lan0", "wan0"])


CASES = {"callee_reinvite": callee_reinvite, "media_moved": media_moved,
         "b2bua_legs": b2bua_legs,
         "ringing_at_end": ringing_at_end, "from_forms": from_forms}
NG_CASES = {"sip_rtp_interfaces": sip_rtp_interfaces, "alg_two_interfaces": alg_two_interfaces}


def main() -> None:
    for name, build in CASES.items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "capture.pcap").write_bytes(build().pcap())
    for name, build_ng in NG_CASES.items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "capture.pcapng").write_bytes(build_ng())


if __name__ == "__main__":
    main()
