"""Write the small captures of tests/data/captures/<case>/ (run from the repository root:
``.venv/bin/python tests/data/captures/make.py``); then regenerate the expected files with
``RECETTE_REGEN=1 .venv/bin/python -m pytest -n 0 tests/unit/test_analyse_cases.py``.

The captures are built record by record so every figure is known: a seeded random loss and
jitter, SIP written as the lab's UAs write it. Each case is one folder: ``capture.pcap`` (or
``.pcapng``) and ``expected.txt`` (the English summary) or ``error.txt`` (the one-line
error, the path written ``{file}``).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0 = 1_700_000_000.0


def _csum(header: bytes) -> int:
    s = sum(struct.unpack(f"!{len(header) // 2}H", header))
    s = (s & 0xFFFF) + (s >> 16)
    return ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF


def ipv4_udp(src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> bytes:
    """An IPv4/UDP packet (no link layer)."""
    ulen = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0,
                     bytes(map(int, src[0].split("."))), bytes(map(int, dst[0].split("."))))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return ip + struct.pack("!HHHH", src[1], dst[1], ulen, 0) + payload


def ether(ip: bytes) -> bytes:
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip


@dataclass
class Capture:
    """Packets (time, IP bytes) to write as pcap (Ethernet) or pcapng (SLL2, ns)."""

    packets: list[tuple[float, bytes]] = field(default_factory=list)

    def udp(self, at: float, src: tuple[str, int], dst: tuple[str, int], data: bytes) -> None:
        self.packets.append((at, ipv4_udp(src, dst, data)))

    def pcap(self) -> bytes:
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
        for at, ip in sorted(self.packets, key=lambda p: p[0]):
            frame = ether(ip)
            sec = int(at)
            out.append(struct.pack("<IIII", sec, round((at - sec) * 1e6), len(frame),
                                   len(frame)) + frame)
        return b"".join(out)

    def pcapng(self) -> bytes:
        def block(btype: int, body: bytes) -> bytes:
            body += b"\0" * (-len(body) % 4)
            n = len(body) + 12
            return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
        out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
               block(1, struct.pack("<HHI", 276, 0, 65535)
                     + struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0))]
        for at, ip in sorted(self.packets, key=lambda p: p[0]):
            frame = struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x02" * 8) + ip
            ns = round(at * 1e9)
            out.append(block(6, struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF,
                                            len(frame), len(frame)) + frame))
        return b"".join(out)


def sip(first: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    lines = [first, *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sdp(ip: str, port: int) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n")


@dataclass
class Call:
    """One call's SIP between caller (a) and callee (b), both as seen on one wire."""

    cap: Capture
    a: tuple[str, int]
    b: tuple[str, int]
    calling: str
    called: str
    call_id: str
    sdp_a: tuple[str, int]
    sdp_b: tuple[str, int]
    contact_a: str = ""
    via_a: str = ""

    def _req(self, method: str, cseq: int, branch: str, body: str = "",
             to_tag: str = "") -> bytes:
        via = self.via_a or f"{self.a[0]}:{self.a[1]}"
        contact = self.contact_a or f"{self.a[0]}:{self.a[1]}"
        return sip(f"{method} sip:{self.called}@{self.b[0]} SIP/2.0", [
            ("Via", f"SIP/2.0/UDP {via};branch=z9hG4bK{branch};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{self.calling}@{self.b[0]}>;tag=a1"),
            ("To", f"<sip:{self.called}@{self.b[0]}>{to_tag}"),
            ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}"),
            ("Contact", f"<sip:{self.calling}@{contact}>")], body)

    def _resp(self, status: str, req: bytes, body: str = "", tag: bool = True) -> bytes:
        text = req.decode().split("\r\n\r\n")[0].split("\r\n")
        keep = [(k, v) for k, v in (ln.split(": ", 1) for ln in text[1:])
                if k in ("Via", "From", "To", "Call-ID", "CSeq")]
        keep = [(k, v + (";tag=b1" if k == "To" and tag else "")) for k, v in keep]
        keep.append(("Contact", f"<sip:{self.called}@{self.b[0]}:{self.b[1]}>"))
        return sip(f"SIP/2.0 {status}", keep, body)

    def invite(self, at: float, final: str = "200 OK") -> bytes:
        req = self._req("INVITE", 1, self.call_id[:6], sdp(*self.sdp_a))
        self.cap.udp(at, self.a, self.b, req)
        self.cap.udp(at + 0.01, self.b, self.a, self._resp("100 Trying", req, tag=False))
        body = sdp(*self.sdp_b) if final.startswith("2") else ""
        self.cap.udp(at + 0.5, self.b, self.a, self._resp(final, req, body))
        if final.startswith("2"):
            self.cap.udp(at + 0.51, self.a, self.b,
                         self._req("ACK", 1, self.call_id[:5] + "a", to_tag=";tag=b1"))
        return req

    def bye(self, at: float) -> None:
        req = self._req("BYE", 2, self.call_id[:5] + "b", to_tag=";tag=b1")
        self.cap.udp(at, self.a, self.b, req)
        self.cap.udp(at + 0.02, self.b, self.a, self._resp("200 OK", req))


def rtp(cap: Capture, src: tuple[str, int], dst: tuple[str, int], *, start: float,
        seconds: float, seed: int, loss: float = 0.0, jitter_ms: float = 0.0) -> None:
    """A G.711 stream: 20 ms packets, random loss, uniform random delay up to jitter_ms."""
    rnd = random.Random(seed)
    ssrc, seq, ts = rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(32)
    for i in range(int(seconds * 50)):
        if rnd.random() < loss:
            continue
        at = start + i * 0.02 + rnd.uniform(0, jitter_ms) / 1000
        head = struct.pack("!BBHII", 0x80, 8, (seq + i) & 0xFFFF, (ts + 160 * i) & 0xFFFFFFFF,
                           ssrc)
        cap.udp(at, src, dst, head + b"\xd5" * 160)


SITE, SITE_PUB, OP = "192.168.254.10", "192.0.2.2", "198.51.100.10"


def one_way() -> Capture:
    """The site's call is answered, its audio goes out, nothing comes back."""
    cap = Capture()
    c = Call(cap, (SITE, 5060), (OP, 5060), "0100000001", "0899000000", "oneway-1@lab",
             (SITE, 16000), (OP, 30000))
    c.invite(T0)
    rtp(cap, (SITE, 16000), (OP, 30000), start=T0 + 0.6, seconds=4, seed=1)
    c.bye(T0 + 5)
    return cap


def loss_jitter() -> Capture:
    """Both directions flow; the far end's has 2 % loss and up to 20 ms of jitter."""
    cap = Capture()
    c = Call(cap, (SITE, 5060), (OP, 5060), "0100000001", "0899000000", "loss-1@lab",
             (SITE, 16002), (OP, 30002))
    c.invite(T0)
    rtp(cap, (SITE, 16002), (OP, 30002), start=T0 + 0.6, seconds=8, seed=2)
    rtp(cap, (OP, 30002), (SITE, 16002), start=T0 + 0.6, seconds=8, seed=3, loss=0.02,
        jitter_ms=20)
    c.bye(T0 + 9)
    return cap


def alg() -> Capture:
    """The same INVITE before and after a router whose ALG rewrote Via, Contact and SDP."""
    cap = Capture()
    inside = Call(cap, (SITE, 5060), (OP, 5060), "0100000001", "0899000000", "alg-1@lab",
                  (SITE, 16004), (OP, 30004))
    inside.invite(T0)
    outside = Call(cap, (SITE_PUB, 5060), (OP, 5060), "0100000001", "0899000000",
                   "alg-1@lab", (SITE_PUB, 16004), (OP, 30004))
    outside.invite(T0 + 0.001)
    rtp(cap, (SITE, 16004), (OP, 30004), start=T0 + 0.6, seconds=2, seed=4)
    rtp(cap, (SITE_PUB, 16004), (OP, 30004), start=T0 + 0.6001, seconds=2, seed=4)
    rtp(cap, (OP, 30004), (SITE_PUB, 16004), start=T0 + 0.6, seconds=2, seed=5)
    rtp(cap, (OP, 30004), (SITE, 16004), start=T0 + 0.6001, seconds=2, seed=5)
    inside.bye(T0 + 3)
    outside.bye(T0 + 3.001)
    return cap


def private_leak() -> Capture:
    """Seen at the operator: the site's INVITE names its LAN address (no ALG, no SBC), and
    the operator sends its audio there."""
    cap = Capture()
    c = Call(cap, (SITE_PUB, 5060), (OP, 5060), "0100000001", "0899000000", "leak-1@lab",
             (SITE, 16006), (OP, 30006), contact_a=f"{SITE}:5060", via_a=f"{SITE}:5060")
    c.invite(T0)
    rtp(cap, (SITE_PUB, 16006), (OP, 30006), start=T0 + 0.6, seconds=2, seed=6)
    rtp(cap, (OP, 30006), (SITE, 16006), start=T0 + 0.6, seconds=2, seed=7)
    c.bye(T0 + 3)
    return cap


def failures() -> Capture:
    """A REGISTER refused after its challenge, an INVITE answered 503, another 408."""
    cap = Capture()
    site, op = (SITE, 5060), (OP, 5060)
    for i, final in enumerate(("401 Unauthorized", "403 Forbidden")):
        req = sip(f"REGISTER sip:{OP} SIP/2.0", [
            ("Via", f"SIP/2.0/UDP {SITE}:5060;branch=z9hG4bKreg{i};rport"),
            ("From", f"<sip:trunk01@{OP}>;tag=r1"), ("To", f"<sip:trunk01@{OP}>"),
            ("Call-ID", "reg-1@lab"), ("CSeq", f"{i + 1} REGISTER"),
            ("Contact", f"<sip:trunk01@{SITE}:5060>"), ("Expires", "300")])
        cap.udp(T0 + i, site, op, req)
        resp = sip(f"SIP/2.0 {final}", [
            ("Via", f"SIP/2.0/UDP {SITE}:5060;branch=z9hG4bKreg{i};rport"),
            ("From", f"<sip:trunk01@{OP}>;tag=r1"), ("To", f"<sip:trunk01@{OP}>;tag=x"),
            ("Call-ID", "reg-1@lab"), ("CSeq", f"{i + 1} REGISTER")])
        cap.udp(T0 + i + 0.05, op, site, resp)
    Call(cap, site, op, "0100000001", "0612345678", "busy-1@lab", (SITE, 16008),
         (OP, 30008)).invite(T0 + 3, "503 Service Unavailable")
    Call(cap, site, op, "0100000001", "0612345679", "late-1@lab", (SITE, 16010),
         (OP, 30010)).invite(T0 + 5, "408 Request Timeout")
    return cap


def teardown() -> Capture:
    """Two calls, both cut 32 s after answer (no RTP in this capture: SIP only)."""
    cap = Capture()
    for i in range(2):
        c = Call(cap, (SITE, 5060), (OP, 5060), "0100000001", f"089900000{i}",
                 f"cut-{i}@lab", (SITE, 16012 + 2 * i), (OP, 30012 + 2 * i))
        c.invite(T0 + 40 * i)
        c.bye(T0 + 40 * i + 0.5 + 32.2 + 0.3 * i)
    return cap


def shared_far_end() -> Capture:
    """Seen on the LAN behind a NAT: two calls at once to one far end that uses one media port
    for every call (a test number, an SBC); each call's SDP names the site's public address
    with its own port. Each stream must be told to its own call by the site's port."""
    cap = Capture()
    for i, port in enumerate((16004, 16006)):
        c = Call(cap, (SITE, 5060), (OP, 5060), f"010000000{i + 1}", "0899000000",
                 f"shared-{i + 1}@lab", (SITE_PUB, port), (OP, 6000))
        c.invite(T0 + i * 0.2)
        rtp(cap, (SITE, port), (OP, 6000), start=T0 + 0.7, seconds=3, seed=10 + i)
        rtp(cap, (OP, 6000), (SITE, port), start=T0 + 0.7, seconds=3, seed=20 + i)
        c.bye(T0 + 4 + i * 0.2)
    return cap


CASES = {"one_way": one_way, "loss_jitter": loss_jitter, "alg_both_sides": alg,
         "shared_far_end": shared_far_end,
         "private_leak": private_leak, "failures": failures, "teardown": teardown}


def main() -> None:
    for name, build in CASES.items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        cap = build()
        if name == "loss_jitter":  # one case as dumpcap writes: pcapng, ns, Linux cooked v2
            (folder / "capture.pcapng").write_bytes(cap.pcapng())
        else:
            (folder / "capture.pcap").write_bytes(cap.pcap())
    whole = one_way().pcap()
    # "truncated" (a partial analysis, no longer an error) is written by make_encap.py.
    for name, data in (("corrupt", whole[:32] + b"\xff\xff\xff\x7f" + whole[36:]),
                       ("not_capture", b"INVITE sip:0899000000@198.51.100.10 SIP/2.0\r\n\r\n")):
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "capture.pcap").write_bytes(data)
        error = folder / "error.txt"
        if not error.exists():
            error.write_text("(run the regeneration)\n")


if __name__ == "__main__":
    main()
