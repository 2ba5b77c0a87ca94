"""Write the media cases of tests/data/captures/<case>/ (run from the repository root:
``.venv/bin/python tests/data/captures/make_media.py``), then regenerate their expected files
with ``RECETTE_REGEN=1 .venv/bin/python -m pytest -n 0 tests/unit/test_analyse_cases.py``.

Each case derives from one item of issue 23, built with :mod:`make`'s helpers (its SIP as
the lab's UAs write it) and a stream writer of any codec: payload type, samples per packet,
payload size, seeded random loss and delay, RFC 4733 events, holes. The figures tshark gives
for each (packets, lost, jitter: ``tshark -n -q -r F -z rtp,streams``) are checked against
ours by tests/unit/test_analyse_media_cases.py.
"""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make import OP, SITE, T0, Call, Capture  # noqa: E402


def stream(cap: Capture, src: tuple[str, int], dst: tuple[str, int], *, start: float,
           seconds: float, seed: int, pt: int = 8, step: int = 160, size: int = 160,
           loss: float = 0.0, jitter_ms: float = 0.0,
           holes: tuple[tuple[float, float, str], ...] = (),
           events: tuple[tuple[float, str], ...] = (), event_pt: int = 101) -> None:
    """A 20 ms stream: ``step`` timestamp units and ``size`` payload bytes a packet, random
    loss and uniform random delay up to ``jitter_ms``. ``holes``: (from, to, how) seconds into
    the stream with nothing captured, "lost" (sent: numbers and timestamps run on) or "hold"
    (not sent: numbers resume, timestamps ran on). ``events``: (second, key) RFC 4733 digits
    of 100 ms, an update every 20 ms and the end sent three times, as a phone sends them."""
    rnd = random.Random(seed)
    ssrc, seq, ts = rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(32)
    keys = dict(events)
    sent = 0
    i = 0
    while i < int(seconds * 50):
        now = i * 0.02
        hole = next((h for h in holes if h[0] <= now < h[1]), None)
        if hole is not None:
            if hole[2] == "lost":
                sent += 1  # sent, numbered, never captured
            i += 1
            continue
        at = start + now + rnd.uniform(0, jitter_ms) / 1000
        key = next((k for t, k in keys.items() if abs(t - now) < 1e-9), None)
        if key is not None:  # 6 packets: 5 updates then the end three times
            code = "0123456789*#ABCD".index(key)
            for n in range(1, 8):
                end = n >= 5
                payload = struct.pack("!BBH", code, (0x80 if end else 0) | 10, 160 * min(n, 5))
                head = struct.pack("!BBHII", 0x80, (0x80 if n == 1 else 0) | event_pt,
                                   (seq + sent) & 0xFFFF, (ts + step * i) & 0xFFFFFFFF, ssrc)
                cap.udp(at + 0.02 * min(n - 1, 4) + 0.001 * max(0, n - 5), src, dst,
                        head + payload)
                sent += 1
            i += 5
            continue
        if rnd.random() >= loss:
            head = struct.pack("!BBHII", 0x80, pt, (seq + sent) & 0xFFFF,
                               (ts + step * i) & 0xFFFFFFFF, ssrc)
            cap.udp(at, src, dst, head + bytes(rnd.getrandbits(8) for _ in range(size)))
        sent += 1
        i += 1


def sdp(ip: str, port: int, codecs: str, rtpmaps: tuple[str, ...],
        direction: str = "sendrecv", version: int = 1) -> str:
    lines = [f"m=audio {port} RTP/AVP {codecs}", *(f"a=rtpmap:{m}" for m in rtpmaps),
             "a=ptime:20", f"a={direction}"]
    return (f"v=0\r\no=- 1 {version} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            + "\r\n".join(lines) + "\r\n")


def call(cap: Capture, n: int, body_a: str, body_b: str, at: float) -> Call:
    """An answered call from the site (caller) to the operator, with these SDP bodies."""
    c = Call(cap, (SITE, 5060), (OP, 5060), "0100000001", f"089900000{n}", f"media-{n}@lab",
             (SITE, 16000 + 2 * n), (OP, 30000 + 2 * n))
    req = c._req("INVITE", 1, c.call_id[:6] + "i", body_a)
    cap.udp(at, c.a, c.b, req)
    cap.udp(at + 0.01, c.b, c.a, c._resp("100 Trying", req, tag=False))
    cap.udp(at + 0.5, c.b, c.a, c._resp("200 OK", req, body_b))
    cap.udp(at + 0.51, c.a, c.b, c._req("ACK", 1, c.call_id[:6] + "a", to_tag=";tag=b1"))
    return c


def reinvite(c: Call, at: float, cseq: int, body_a: str, body_b: str) -> None:
    req = c._req("INVITE", cseq, f"{c.call_id[:6]}r{cseq}", body_a, to_tag=";tag=b1")
    c.cap.udp(at, c.a, c.b, req)
    c.cap.udp(at + 0.05, c.b, c.a, c._resp("200 OK", req, body_b))
    c.cap.udp(at + 0.06, c.a, c.b, c._req("ACK", cseq, f"{c.call_id[:6]}k{cseq}",
                                           to_tag=";tag=b1"))


PCMA = ("8 101", ("8 PCMA/8000", "101 telephone-event/8000"))
OPUS = ("111 101", ("111 opus/48000/2", "101 telephone-event/8000"))
G722 = ("9 101", ("9 G722/8000", "101 telephone-event/8000"))
A, B = (SITE, 16010), ("203.0.113.20", 40000)
C, D = (SITE, 16012), ("203.0.113.21", 40002)


def rtp_only_lossy() -> Capture:
    """SIP over TLS (not in the capture): one conversation, the far end's direction with
    30 % random loss, both directions of jitter."""
    cap = Capture()
    stream(cap, A, B, start=T0, seconds=10, seed=31, jitter_ms=5)
    stream(cap, B, A, start=T0 + 0.01, seconds=10, seed=32, loss=0.30, jitter_ms=15)
    return cap


def rtp_only_one_way() -> Capture:
    """Two conversations without SIP: the first both ways, the second one way only."""
    cap = Capture()
    stream(cap, A, B, start=T0, seconds=6, seed=33, jitter_ms=2)
    stream(cap, B, A, start=T0 + 0.01, seconds=6, seed=34, jitter_ms=2)
    stream(cap, C, D, start=T0 + 1, seconds=5, seed=35, jitter_ms=2)
    return cap


def rtp_only_one_sided() -> Capture:
    """A capture point that sees one direction only: each stream alone, nothing to judge
    one-way audio by."""
    cap = Capture()
    stream(cap, A, B, start=T0, seconds=5, seed=36, jitter_ms=2)
    stream(cap, C, D, start=T0 + 0.5, seconds=5, seed=37, jitter_ms=2)
    return cap


def opus_call() -> Capture:
    """An Opus call (rtpmap 111 opus/48000/2): 960 timestamp units a packet, with jitter."""
    cap = Capture()
    c = call(cap, 1, sdp(SITE, 16002, *OPUS), sdp(OP, 30002, *OPUS), T0)
    stream(cap, (SITE, 16002), (OP, 30002), start=T0 + 0.6, seconds=8, seed=41, pt=111,
           step=960, size=80, jitter_ms=3)
    stream(cap, (OP, 30002), (SITE, 16002), start=T0 + 0.61, seconds=8, seed=42, pt=111,
           step=960, size=80, loss=0.02, jitter_ms=12)
    c.bye(T0 + 9)
    return cap


def g722_call() -> Capture:
    """A G.722 call (PT 9, clock 8000 by RFC 3551 although it samples at 16 kHz)."""
    cap = Capture()
    c = call(cap, 2, sdp(SITE, 16004, *G722), sdp(OP, 30004, *G722), T0)
    stream(cap, (SITE, 16004), (OP, 30004), start=T0 + 0.6, seconds=8, seed=43, pt=9,
           jitter_ms=3)
    stream(cap, (OP, 30004), (SITE, 16004), start=T0 + 0.61, seconds=8, seed=44, pt=9,
           loss=0.01, jitter_ms=10)
    c.bye(T0 + 9)
    return cap


def dtmf_call() -> Capture:
    """The caller keys 1 2 3 # into a voice menu (RFC 4733, PT 101, end sent three times)."""
    cap = Capture()
    c = call(cap, 3, sdp(SITE, 16006, *PCMA), sdp(OP, 30006, *PCMA), T0)
    stream(cap, (SITE, 16006), (OP, 30006), start=T0 + 0.6, seconds=6, seed=45,
           events=((1.0, "1"), (1.6, "2"), (2.2, "3"), (3.0, "#")))
    stream(cap, (OP, 30006), (SITE, 16006), start=T0 + 0.61, seconds=6, seed=46)
    c.bye(T0 + 7)
    return cap


def gap_call() -> Capture:
    """The far end's media lost for 7 s in mid-call (a link outage): its packets were sent
    (numbers run on) and never reached the capture point."""
    cap = Capture()
    c = call(cap, 4, sdp(SITE, 16008, *PCMA), sdp(OP, 30008, *PCMA), T0)
    stream(cap, (SITE, 16008), (OP, 30008), start=T0 + 0.6, seconds=14, seed=47)
    stream(cap, (OP, 30008), (SITE, 16008), start=T0 + 0.61, seconds=14, seed=48,
           holes=((3.0, 10.0, "lost"),))
    c.bye(T0 + 15)
    return cap


def hold_call() -> Capture:
    """The caller puts the call on hold for 6 s (re-INVITE a=sendonly, then sendrecv): the
    far end's media stops meanwhile, which is no fault."""
    cap = Capture()
    c = call(cap, 5, sdp(SITE, 16010, *PCMA), sdp(OP, 30010, *PCMA), T0)
    reinvite(c, T0 + 3.5, 2, sdp(SITE, 16010, *PCMA, direction="sendonly", version=2),
             sdp(OP, 30010, *PCMA, direction="recvonly", version=2))
    reinvite(c, T0 + 9.5, 3, sdp(SITE, 16010, *PCMA, version=3),
             sdp(OP, 30010, *PCMA, version=2))
    stream(cap, (SITE, 16010), (OP, 30010), start=T0 + 0.6, seconds=12, seed=49)
    stream(cap, (OP, 30010), (SITE, 16010), start=T0 + 0.61, seconds=12, seed=50,
           holes=((3.0, 9.0, "hold"),))
    c.bye(T0 + 13)
    return cap


CASES = {"rtp_only_lossy": rtp_only_lossy, "rtp_only_one_way": rtp_only_one_way,
         "rtp_only_one_sided": rtp_only_one_sided, "opus_call": opus_call,
         "g722_call": g722_call, "dtmf_call": dtmf_call, "media_gap": gap_call,
         "media_hold": hold_call}


def main() -> None:
    for name, build in CASES.items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "capture.pcap").write_bytes(build().pcap())
        expected = folder / "expected.txt"
        if not expected.exists():
            expected.write_text("(run the regeneration)\n")


if __name__ == "__main__":
    main()
