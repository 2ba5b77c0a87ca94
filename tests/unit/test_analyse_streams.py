"""Which runs of datagrams :func:`is_rtp_stream` takes for RTP when no SDP announced them, and
a dynamic payload type measured again at the SDP's clock rate.

Seeded synthetic flows, 50 datagrams each, every one with the two bits of RTP version 2 and a
constant SSRC field (the hardest case for chance): measured with these seeds, 0 of 200 RTP
streams with 30 % random loss and up to 20 ms of jitter refused (false negatives 0 %; the
former rule, sequence errors under 10 %, refused all 200), and 0 of 800 other flows taken for
RTP (false positives 0 %): random payloads, DNS answers, QUIC-like short headers (a constant
connection ID), and a counter protocol (game or VPN: a sequence counter but no timestamp).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from sip_checks.analyse.capture import CaptureInfo, Frame, frames
from sip_checks.analyse.streams import Stream, collect, is_rtp_stream
from sip_checks.toolkit.rtp import ReceiverStats

T0 = 1_700_000_000.0
N, PACKETS = 200, 50


class _Discard:
    """A sink that drops every non-RTP packet (these tests look at RTP only)."""

    def __init__(self) -> None:
        self.info = CaptureInfo()

    def write(self, frame: Frame) -> None:
        pass


def _pcap(packets: list[tuple[float, int, bytes]], path: Path) -> Path:
    """A pcap (raw IPv4) of UDP datagrams from 10.0.0.1:port to 10.0.0.2:5004."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]
    for at, port, payload in sorted(packets, key=lambda p: p[0]):
        udp = struct.pack("!HHHH", port, 5004, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                         b"\x0a\0\0\x01", b"\x0a\0\0\x02") + udp
        sec = int(at)
        out.append(struct.pack("<IIII", sec, round((at - sec) * 1e6), len(ip), len(ip)) + ip)
    path.write_bytes(b"".join(out))
    return path


def _collect(packets: list[tuple[float, int, bytes]], tmp: Path) -> list[Stream]:
    return collect(_pcap(packets, tmp / "c.pcap"), _Discard())


def lossy_rtp(rnd: random.Random, port: int, *, pt: int = 8, step: int = 160,
              loss: float = 0.30) -> list[tuple[float, int, bytes]]:
    ssrc, seq, ts = rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(32)
    out = []
    i = 0
    while len(out) < PACKETS:
        if rnd.random() >= loss:
            head = struct.pack("!BBHII", 0x80, pt, (seq + i) & 0xFFFF,
                               (ts + step * i) & 0xFFFFFFFF, ssrc)
            out.append((T0 + i * 0.02 + rnd.uniform(0, 0.02), port, head + b"\xd5" * 160))
        i += 1
    return out


def _version2(rnd: random.Random) -> int:
    """A first byte with RTP's two version bits, and a second byte that is no RTCP type."""
    return 0x80 | rnd.getrandbits(6)


def chance(kind: str, rnd: random.Random, port: int) -> list[tuple[float, int, bytes]]:
    ident = rnd.getrandbits(32).to_bytes(4, "big")
    out = []
    for i in range(PACKETS):
        at = T0 + i * rnd.uniform(0.005, 0.05)
        b1 = rnd.choice([b for b in range(256) if not 64 <= b & 0x7F <= 95])
        if kind == "random":
            body = bytes([_version2(rnd), b1]) + rnd.randbytes(6) + ident + rnd.randbytes(60)
        elif kind == "dns":  # an answer: random ID, flags 0x8180, 1 question, 1 answer
            body = (bytes([_version2(rnd), rnd.getrandbits(8)]) + b"\x81\x80\x00\x01\x00\x01"
                    + b"\x00\x00\x00\x00" + b"\x07example\x03com\x00\x00\x01\x00\x01" * 2)
        elif kind == "quic":  # short header: a constant connection ID, then ciphertext
            body = bytes([_version2(rnd)]) + b"\x9c" + ident + ident + rnd.randbytes(80)
        else:  # "counter": a sequence counter, then random bytes, then a session id
            body = (bytes([_version2(rnd), b1]) + struct.pack("!H", i) + rnd.randbytes(4)
                    + ident + rnd.randbytes(40))
        out.append((at, port, body))
    return out


def test_lossy_rtp_kept_and_chance_refused(tmp_path: Path) -> None:
    rnd = random.Random(23)
    rtp = [p for n in range(N) for p in lossy_rtp(rnd, 20000 + n)]
    kept = [s for s in _collect(rtp, tmp_path) if is_rtp_stream(s, matched=False)]
    streams = _collect(rtp, tmp_path)
    assert len(streams) == N
    assert len(kept) == N  # false negatives: 0 / 200
    assert not [s for s in streams if s.seq_errors <= s.packets // 10]  # the former rule
    for k, kind in enumerate(("random", "dns", "quic", "counter")):
        flows = [p for n in range(N) for p in chance(kind, rnd, 30000 + 1000 * k + n)]
        taken = [s for s in _collect(flows, tmp_path) if is_rtp_stream(s, matched=False)]
        assert taken == [], kind  # false positives: 0 / 200 of each kind


def test_a_short_run_is_not_rtp_but_a_matched_one_is(tmp_path: Path) -> None:
    packets = lossy_rtp(random.Random(1), 20000, loss=0.0)[:10]
    (s,) = _collect(packets, tmp_path)
    assert not is_rtp_stream(s, matched=False) and is_rtp_stream(s, matched=True)


def test_a_second_codec_or_oversized_datagrams_are_not_rtp(tmp_path: Path) -> None:
    packets = lossy_rtp(random.Random(2), 20000, loss=0.0)
    mixed = [(at, port, p[:1] + bytes([0 if i % 3 else 8]) + p[2:])
             for i, (at, port, p) in enumerate(packets)]
    (s,) = _collect(mixed, tmp_path)
    assert s.other_pt > 10 and not is_rtp_stream(s, matched=False)
    big = [(at, port, p + b"\0" * 1500) for at, port, p in packets]
    (s,) = _collect(big, tmp_path)
    assert not is_rtp_stream(s, matched=False)


def test_a_dynamic_type_is_measured_again_at_the_sdps_rate(tmp_path: Path) -> None:
    """An Opus stream (960 units a packet): read at 8 kHz its jitter is the 48 kHz
    timestamps against 8 kHz arrivals; at 48 kHz it is what a 48 kHz reader finds."""
    rnd = random.Random(3)
    packets = lossy_rtp(rnd, 20000, pt=111, step=960, loss=0.05)
    (s,) = _collect(packets, tmp_path)
    assert s.record is not None and s.stats.clock_rate == 8000 and s.stats.jitter_ms > 50
    direct = ReceiverStats(clock_rate=48000)
    for frame in frames(tmp_path / "c.pcap"):  # the arrival times the capture keeps
        _, _, seq, ts, _ = struct.unpack_from("!BBHII", frame.ip, 28)
        direct.update(seq, ts, frame.at)
    s.use_clock(48000, "sdp")
    assert s.clock_source == "sdp" and s.stats.clock_rate == 48000
    assert s.stats.jitter_ms == pytest.approx(direct.jitter_ms, rel=1e-6)
    assert s.stats.jitter_max_ms == pytest.approx(direct.jitter_max_ms, rel=1e-6)
    assert (s.stats.received, s.stats.lost) == (direct.received, direct.lost)
    assert s.stats.jitter_ms < 10


def test_a_static_type_records_nothing_and_keeps_its_rate(tmp_path: Path) -> None:
    (s,) = _collect(lossy_rtp(random.Random(4), 20000, pt=0), tmp_path)
    assert s.record is None and s.clock_source == "static"
    before = s.stats
    s.use_clock(16000, "sdp")
    assert s.stats is before and s.clock_source == "static"


def test_without_sdp_a_dynamic_types_rate_is_read_from_the_stream(tmp_path: Path) -> None:
    from sip_checks.analyse.diagnose import media_notes

    (s,) = _collect(lossy_rtp(random.Random(5), 20000, pt=111, step=960), tmp_path)
    media_notes(s, [])
    assert (s.stats.clock_rate, s.clock_source) == (48000, "inferred")
    assert s.stats.jitter_ms < 10
