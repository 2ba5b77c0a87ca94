"""RTP (RFC 3550), G.711 and RFC 4733 events (sip_checks/toolkit/rtp.py), offline.

Expected numbers are worked out by hand in the comments, not taken from the module.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sip_checks.toolkit.rtp import (
    DTMF_EVENTS,
    ReceiverStats,
    RtpPacket,
    _alaw,
    _ulaw,
    dtmf_parse,
    dtmf_payload,
    parse,
    tone_frame,
)

Codec = Callable[[int], int]

# --- header build / parse -----------------------------------------------------------------


def test_pack_wire_format() -> None:
    pkt = RtpPacket(pt=8, seq=0x1234, ts=0xDEADBEEF, ssrc=0x01020304, marker=True,
                    payload=b"\xd5\xd5")
    # V=2 P=0 X=0 CC=0 -> 0x80; M=1 PT=8 -> 0x88; then seq, ts, ssrc in network order
    assert pkt.pack() == bytes.fromhex("80 88 1234 deadbeef 01020304 d5d5")


def test_pack_wraps_seq_and_timestamp() -> None:
    raw = RtpPacket(pt=0, seq=65536 + 5, ts=2**32 + 7, ssrc=1, marker=False, payload=b"").pack()
    assert raw == bytes.fromhex("80 00 0005 00000007 00000001")


@pytest.mark.parametrize("marker", [False, True])
def test_pack_parse_round_trip(marker: bool) -> None:
    pkt = RtpPacket(pt=101, seq=65535, ts=4294967295, ssrc=0xCAFEBABE, marker=marker,
                    payload=bytes(range(160)))
    assert parse(pkt.pack()) == pkt


def test_csrc_list_is_skipped() -> None:
    raw = bytes.fromhex("82 00 0001 00000002 00000003 0000000a 0000000b") + b"voice"
    pkt = parse(raw)
    assert pkt is not None and (pkt.seq, pkt.ts, pkt.ssrc, pkt.payload) == (1, 2, 3, b"voice")


def test_header_extension_is_skipped() -> None:
    # X=1; extension header: profile 0xBEDE, length 1 word, then that word
    raw = bytes.fromhex("90 08 0001 00000002 00000003 bede0001 11223344") + b"voice"
    pkt = parse(raw)
    assert pkt is not None and pkt.payload == b"voice" and pkt.pt == 8


def test_padding_is_removed() -> None:
    raw = bytes.fromhex("a0 00 0001 00000002 00000003") + b"voice" + b"\x00\x00\x03"
    pkt = parse(raw)
    assert pkt is not None and pkt.payload == b"voice"


@pytest.mark.parametrize(("raw", "why"), [
    (bytes.fromhex("80 00 0001 00000002 000000"), "11 bytes: shorter than a header"),
    (bytes.fromhex("40 00 0001 00000002 00000003"), "version 1"),
    (bytes.fromhex("00 01 0001 00000002 00000003"), "version 0 (STUN-like)"),
    (bytes.fromhex("80 c8 0006 00000003 00000000 00000000"), "RTCP SR (PT 200) on the port"),
    (bytes.fromhex("80 c9 0007 00000003 00000000 00000000"), "RTCP RR (PT 201)"),
    (bytes.fromhex("80 cc 0002 00000003 00000000 00000000"), "RTCP APP (PT 204)"),
    (bytes.fromhex("90 00 0001 00000002 00000003"), "extension bit but no extension header"),
    (bytes.fromhex("90 00 0001 00000002 00000003 bede0004 00000000"), "extension too long"),
    (bytes.fromhex("a0 00 0001 00000002 00000003 0010"), "padding longer than the packet"),
    (bytes.fromhex("8f 00 0001 00000002 00000003 00000004"), "15 CSRCs announced, 1 present"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_not_rtp_gives_none(raw: bytes, why: str) -> None:
    assert parse(raw) is None, why


@pytest.mark.parametrize("rtcp_type", [192, 205, 206, 207, 223])
def test_other_rtcp_types_are_not_rtp(rtcp_type: int) -> None:
    """RFC 5761 §4: RTCP types 192-223 (RTPFB, PSFB, XR...) share the port too, not only
    200-204."""
    raw = bytes([0x80, rtcp_type]) + bytes.fromhex("0003 00000003 00000000 00000000")
    assert parse(raw) is None


# --- G.711 ---------------------------------------------------------------------------------


def _alaw_decode(code: int) -> int:
    """G.711 A-law to 16-bit linear (reference decoder, written here independently)."""
    a = code ^ 0x55
    seg = (a & 0x70) >> 4
    mag = ((a & 0x0F) << 4) + 8  # middle of the quantisation step
    if seg:
        mag = (mag + 0x100) << (seg - 1)
    return mag if a & 0x80 else -mag


def _ulaw_decode(code: int) -> int:
    """G.711 µ-law to 16-bit linear (reference decoder, written here independently)."""
    u = ~code & 0xFF
    mag = ((((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84
    return -mag if u & 0x80 else mag


@pytest.mark.parametrize(("sample", "alaw", "ulaw"), [
    (0, 0xD5, 0xFF),        # the "silence" octets every G.711 capture is full of
    (1000, 0xFA, 0xCE),
    (-1000, 0x7A, 0x4E),
    (32767, 0xAA, 0x80),    # positive full scale
    (-32768, 0x2A, 0x00),   # negative full scale
])
def test_g711_known_codes(sample: int, alaw: int, ulaw: int) -> None:
    assert (_alaw(sample), _ulaw(sample)) == (alaw, ulaw)


def test_g711_known_decoded_values() -> None:
    # 1000 -> A-law segment 2, step 32 from 992: 1008; µ-law segment 3, step 32: 988
    assert _alaw_decode(_alaw(1000)) == 1008 and _alaw_decode(_alaw(-1000)) == -1008
    assert _ulaw_decode(_ulaw(1000)) == 988 and _ulaw_decode(_ulaw(-1000)) == -988
    assert _ulaw_decode(0xFF) == 0 and _ulaw_decode(0x80) == 32124 and _alaw_decode(0xAA) == 32256


@pytest.mark.parametrize(("encode", "decode", "floor"), [
    (_alaw, _alaw_decode, 16), (_ulaw, _ulaw_decode, 8),
], ids=["alaw", "ulaw"])
def test_g711_is_monotonic_with_bounded_error(encode: Codec, decode: Codec, floor: int) -> None:
    """Over every 16-bit sample: decoded values never go backwards, and the error stays within
    one step (1/16 of the magnitude, ``floor`` near zero) plus the 4 units the reference
    encoder's floor shift (``sample >> 2``) adds on negative µ-law samples; µ-law clips at
    32124."""
    previous = -40000
    for x in range(-32768, 32768):
        y = decode(encode(x))
        assert y >= previous, x
        previous = y
        if abs(x) <= 32124:
            assert abs(y - x) <= max(floor, abs(x) // 16) + 4, x


@pytest.mark.parametrize(("codec", "decode", "silence"), [
    ("PCMA", _alaw_decode, 0xD5), ("pcmu", _ulaw_decode, 0xFF),
])
def test_tone_frame(codec: str, decode: Codec, silence: int) -> None:
    frame = tone_frame(codec)
    assert len(frame) == 160 and frame[0] == silence  # sin(0) = 0
    assert all(frame[i] == frame[i + 20] for i in range(140))  # 400 Hz = 20 samples a cycle
    peak = max(decode(b) for b in frame)
    assert 7600 <= peak <= 8400  # level 8000 within one quantisation step
    assert tone_frame(codec, samples=80) == frame[:80]


# --- RFC 4733 telephone events ---------------------------------------------------------------


def test_dtmf_payload_layout() -> None:
    # event 5 | E=1 R=0 volume=10 -> 0x8A | duration 800 = 0x0320
    assert dtmf_payload("5", end=True, duration=800) == bytes([5, 0x8A, 0x03, 0x20])
    assert dtmf_payload("#", end=False, duration=160, volume=63) == bytes([11, 0x3F, 0x00, 0xA0])
    assert dtmf_payload("*", end=False, duration=65536 + 1)[0::3] == bytes([10, 1])


@pytest.mark.parametrize(("digit", "code"), [
    ("0", 0), ("9", 9), ("*", 10), ("#", 11), ("A", 12), ("d", 15)])
def test_dtmf_event_codes(digit: str, code: int) -> None:
    payload = dtmf_payload(digit, end=True, duration=1280)
    assert payload[0] == code
    assert dtmf_parse(payload) == (digit.upper(), True, 1280)


def test_dtmf_parse_rejects_non_events() -> None:
    assert dtmf_parse(bytes([16, 0x80, 0, 160])) is None  # 16 = flash, not a DTMF digit
    assert dtmf_parse(b"\x05\x8a\x03") is None
    assert dtmf_parse(bytes([3, 0x0A, 0x01, 0x40])) == ("3", False, 320)
    assert len(DTMF_EVENTS) == 16


# --- receiver statistics (RFC 3550 A.1, A.3, A.8) -------------------------------------------


def _feed(stats: ReceiverStats, seqs: list[int]) -> ReceiverStats:
    for i, seq in enumerate(seqs):
        stats.update(seq, 160 * i, 0.02 * i)
    return stats


def test_sequence_wrap_around_counts_no_loss() -> None:
    s = _feed(ReceiverStats(), [65533, 65534, 65535, 0, 1, 2])
    # cycles = 65536 after 65535 -> 0; expected = 65536 + 2 - 65533 + 1 = 6
    assert (s.cycles, s.max_seq, s.expected, s.lost, s.loss_pct) == (65536, 2, 6, 0, 0.0)


def test_loss_across_the_wrap() -> None:
    s = _feed(ReceiverStats(), [65533, 65534, 0, 2])
    # expected 65533..2 = 6 packets, received 4: lost 2 = 33.33 %
    assert (s.expected, s.received, s.lost) == (6, 4, 2)
    assert s.loss_pct == pytest.approx(100 * 2 / 6)


def test_reordering_is_not_loss_and_duplicates_are_counted() -> None:
    s = _feed(ReceiverStats(), [10, 12, 11, 13, 13])
    assert (s.max_seq, s.expected, s.unique, s.received) == (13, 4, 4, 5)
    assert (s.lost, s.duplicates_or_late) == (0, 1)


def test_empty_stats() -> None:
    s = ReceiverStats()
    assert (s.expected, s.lost, s.loss_pct, s.jitter_ms) == (0, 0, 0.0, 0.0)


def test_duplicate_from_before_the_wrap_does_not_hide_a_loss() -> None:
    s = _feed(ReceiverStats(), [65534, 65535, 0, 2, 65535])
    # the last 65535 is 3 behind the highest (2): numbered in the cycle before the wrap, it is
    # the packet already seen. Expected 65534..2 = 5, unique 4 (1 missing), received 5.
    assert (s.expected, s.lost, s.duplicates_or_late) == (5, 1, 1)
    assert (s.received, s.unique, s.cycles, s.max_seq) == (5, 4, 65536, 2)


def test_jitter_rfc3550_a8_by_hand() -> None:
    """Packets every 20 ms (160 ticks at 8 kHz), arrival offsets e = 0, 0, 5, 0, 1, 2.5 ms.

    Transit differences D in ticks: 0, 40, 40, 8, 12. J += (|D| - J) / 16:
    J = 0, 2.5, 4.84375, 5.041015625, 5.4759521484375 ticks
      = 0, 0.3125, 0.60546875, 0.630126953125, 0.6844940185546875 ms (J / 8).
    """
    s = ReceiverStats()
    offsets = [0.0, 0.0, 0.005, 0.0, 0.001, 0.0025]
    for i, e in enumerate(offsets):
        s.update(100 + i, 12345 + 160 * i, 1000.0 + 0.02 * i + e)
    assert s.jitter == pytest.approx(5.4759521484375, abs=1e-6)
    assert s.jitter_samples == 5
    assert s.jitter_max_ms == pytest.approx(0.6844940185546875, abs=1e-6)
    assert s.jitter_ms == pytest.approx(2.2325897216796875 / 5, abs=1e-6)
    assert s.first_arrival == 1000.0 and s.last_arrival == pytest.approx(1000.1025)


def test_constant_delay_is_no_jitter() -> None:
    s = ReceiverStats()
    for i in range(50):
        s.update(i, 160 * i, 5.0 + 0.02 * i + 0.150)
    assert s.jitter_max_ms == pytest.approx(0.0, abs=1e-6)


def test_events_count_for_loss_but_not_for_jitter() -> None:
    s = ReceiverStats()
    s.update(1, 0, 0.0)
    for i in range(2, 6):  # one event: every packet carries the event's start timestamp
        s.update(i, 160, 0.02 * i, voice=False)
    assert (s.received, s.expected, s.jitter_samples) == (5, 5, 0)


def test_timestamp_jump_over_ten_seconds_is_not_jitter() -> None:
    s = ReceiverStats()
    s.update(1, 0, 0.0)
    s.update(2, 160, 0.02)
    s.update(3, 160 + 8000 * 11, 0.04)  # new talkspurt with an 11 s timestamp jump
    s.update(4, 320 + 8000 * 11, 0.06)
    assert s.jitter_samples == 2 and s.jitter == pytest.approx(0.0, abs=1e-6)


# --- streams through relays: A.1 resynchronisation, wrap, reordering, re-anchoring ---------


def _stats(packets: list[tuple[int, int, float]]) -> ReceiverStats:
    s = ReceiverStats()
    for seq, ts, arrival in packets:
        s.update(seq, ts, arrival)
    return s


def _jumped(jump: int, first: int = 1000, n: int = 50,
            missing: frozenset[int] = frozenset()) -> list[int]:
    """``2 n`` packets from ``first``; from the ``n``th on, numbered ``jump`` further (mod
    2**16), as an SBC renumbering mid-call; indexes in ``missing`` never arrive."""
    return [(first + i + (jump if i >= n else 0)) & 0xFFFF for i in range(2 * n)
            if i not in missing]


@pytest.mark.parametrize("jump", [20_000, -20_000, 65535 - 1050, 2999, -102],
                         ids=["+20000", "-20000", "onto-65535-then-0", "+2999", "-102"])
def test_a_sequence_jump_mid_call_is_no_loss(jump: int) -> None:
    """1000..1049, then 50 packets renumbered: the first of them (1050 + jump) is set aside
    (a very large jump: 3000 or more ahead of 1049, as +2999 is; 100 or more behind), the
    second is its successor and resynchronises (A.1); the new run starts at the first. Two
    runs of 50: expected 100, all 100 received, 0 % loss. "onto-65535" puts the new run at
    65535, 0, 1, ... (a wrap inside the new run). With -102 both 948 and 949 are 100 or more
    behind 1049; with -101 the second would be 99 behind, a late packet for A.1."""
    s = _feed(ReceiverStats(), _jumped(jump))
    assert (s.expected, s.received, s.unique, s.lost, s.loss_pct) == (100, 100, 100, 0, 0.0)
    assert (s.resyncs, s.bad, s.duplicates_or_late) == (1, 0, 0)


def test_a_gap_just_under_max_dropout_is_loss() -> None:
    # 1049 -> 1050 + 2998 = 4048, 2999 ahead: a gap of 2998 (A.1's permissible gap), no jump.
    # Expected 1000..4097 = 3098, unique 100: lost 2998.
    s = _feed(ReceiverStats(), _jumped(2998))
    assert (s.resyncs, s.expected, s.unique, s.lost) == (0, 3098, 100, 2998)


def test_real_loss_after_a_jump_is_exactly_that_loss() -> None:
    """Index 10 lost before the jump (seq 1010), indexes 60 and 70 after it (21060, 21070):
    runs 1000..1049 (50 expected, 49 unique) and 21050..21099 (50, 48): lost 3 of 100."""
    s = _feed(ReceiverStats(), _jumped(20_000, missing=frozenset({10, 60, 70})))
    assert (s.expected, s.received, s.lost, s.resyncs) == (100, 97, 3, 1)
    assert s.loss_pct == pytest.approx(3.0)


def test_a_loss_at_the_jump_itself_is_invisible_as_in_a1() -> None:
    """Index 51 lost (21051): 21050 is set aside, 21052 is not its successor and is set aside
    too, 21053 confirms 21052. The new run is 21052..21099 (48) and 21050 stays bad: expected
    98, received 98, no loss. Sequence numbers cannot see a loss across the renumbering (as
    they cannot see the tail of a stream)."""
    s = _feed(ReceiverStats(), _jumped(20_000, missing=frozenset({51})))
    assert (s.expected, s.received, s.lost, s.bad, s.resyncs) == (98, 98, 0, 1, 1)


def test_a_stray_packet_far_away_is_set_aside() -> None:
    """10..19, one packet numbered 40000 (39981 ahead: a jump) with a timestamp from elsewhere,
    then 20..29. 20 is not 40001: no resync; the stray is neither received nor expected, and
    does not feed the jitter (constant delay: 19 samples of 0 between the 20 others)."""
    packets = [(seq, 160 * seq, 0.02 * seq) for seq in range(10, 20)]
    packets.append((40000, 987_654_321, 0.395))
    packets += [(seq, 160 * seq, 0.02 * seq) for seq in range(20, 30)]
    s = _stats(packets)
    assert (s.expected, s.received, s.lost, s.bad, s.resyncs) == (20, 20, 0, 1, 0)
    assert (s.max_seq, s.bad_seq) == (29, 40001)
    assert (s.jitter_samples, s.jitter_restarts) == (19, 0)
    assert s.jitter == pytest.approx(0.0, abs=1e-9)


def test_a_stray_confirmed_later_resyncs_there_and_back_without_loss() -> None:
    """A.1 remembers the expected successor, not when: 10..19, 40000, 20..29, 40001 (the
    successor: resync, run 40000..40001), then 30 (bad) and 31 (its successor: resync again,
    run 30..39). Runs 10..29 (20), 40000..40001 (2), 30..39 (10): expected 32, all received."""
    seqs = [*range(10, 20), 40000, *range(20, 30), 40001, *range(30, 40)]
    s = _feed(ReceiverStats(), seqs)
    assert (s.expected, s.received, s.lost, s.resyncs, s.bad) == (32, 32, 0, 2, 0)


@pytest.mark.parametrize(("seqs", "expected", "unique", "dups"), [
    # both 65535 and 0 again after the wrap: 2 duplicates, 65534..1 = 4 expected
    ([65534, 65535, 0, 1, 65535, 0], 4, 4, 2),
    # 65534 late (not a duplicate) after the wrap: first seen, 65533..1 = 5, nothing lost
    ([65533, 65535, 0, 1, 65534], 5, 5, 0),
    # 65535 older than the first packet (0): the run starts there; 65535..2 = 4
    ([0, 1, 2, 65535], 4, 4, 0),
    # ... and does not hide the loss of 3: 65535..4 = 6, unique 5
    ([0, 1, 2, 65535, 4], 6, 5, 0),
    # a duplicate of the packet before the wrap, at the wrap: 65535..0 = 2
    ([65535, 0, 65535], 2, 2, 1),
], ids=["dups-after-wrap", "late-after-wrap", "older-than-first", "older-than-first-loss",
        "dup-at-wrap"])
def test_duplicates_and_late_packets_around_the_wrap(seqs: list[int], expected: int,
                                                      unique: int, dups: int) -> None:
    s = _feed(ReceiverStats(), seqs)
    assert (s.expected, s.unique, s.duplicates_or_late) == (expected, unique, dups)
    assert (s.received, s.lost) == (len(seqs), expected - unique)


@pytest.mark.parametrize(("late", "received", "lost", "bad"), [
    (101, 200, 0, 0),  # 98 behind the highest (199): late, counted
    (100, 200, 0, 0),  # 99 behind: still within MAX_MISORDER
    (99, 199, 1, 1),  # 100 behind: A.1 takes it as a jump, set aside; 99 is lost
])
def test_reordering_within_max_misorder(late: int, received: int, lost: int, bad: int) -> None:
    """0..199 with one packet held back and delivered after 199: expected 200 either way."""
    seqs = [seq for seq in range(200) if seq != late] + [late]
    s = _feed(ReceiverStats(), seqs)
    assert (s.expected, s.received, s.lost, s.bad, s.resyncs) == (200, received, lost, bad, 0)


def test_an_sbc_re_anchoring_sequence_and_timestamps_is_no_loss_and_no_jitter() -> None:
    """20 ms packets, 150 ms constant delay. At packet 50 the relay renumbers (+20000) and
    rebases the timestamps (+123456789 ticks, over 4 h: a transit change of that much).
    Packet 50 is set aside until 51 confirms it, so 51 is the first fed after the jump: its
    transit change restarts the estimate. 49 differences of 0 before, 48 after: J stays 0."""
    packets = []
    for i in range(100):
        moved = i >= 50
        packets.append(((1000 + i + 20_000 * moved) & 0xFFFF,
                        (160 * i + 123_456_789 * moved) & 0xFFFFFFFF, 5.15 + 0.02 * i))
    s = _stats(packets)
    assert (s.expected, s.received, s.loss_pct, s.resyncs) == (100, 100, 0.0, 1)
    assert (s.jitter_samples, s.jitter_restarts) == (97, 1)
    assert s.jitter_max_ms == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("shift_s", "samples", "jitter"), [
    (0.9, 3, 7200 / 16),  # 0.9 s = 7200 ticks of transit change: fed, J = 7200 / 16
    (1.1, 2, 0.0),  # 1.1 s: the estimate restarts from that packet, J stays 0
    (-1.1, 2, 0.0),
])
def test_a_transit_change_beyond_one_second_restarts_the_jitter(
        shift_s: float, samples: int, jitter: float) -> None:
    """Four packets, constant delay; the timestamp base moves by ``shift_s`` at the third
    (same arrivals): D = 0, shift, 0."""
    step = round(8000 * shift_s)
    s = _stats([(1, 0, 0.0), (2, 160, 0.02), (3, 320 + step, 0.04), (4, 480 + step, 0.06)])
    assert (s.jitter_samples, s.jitter_restarts) == (samples, 3 - samples)
    # after the shift a D of 0: J -= J / 16
    assert s.jitter == pytest.approx(jitter * 15 / 16)


def test_a_timestamp_wrap_is_neither_jitter_nor_a_restart() -> None:
    # ts 2**32 - 480, -320, -160, then 0, 160, ...: each step is +160 modulo 2**32
    s = _stats([(i, (2**32 - 480 + 160 * i) & 0xFFFFFFFF, 0.02 * i) for i in range(8)])
    assert (s.jitter_samples, s.jitter_restarts) == (7, 0)
    assert s.jitter == pytest.approx(0.0, abs=1e-9)
