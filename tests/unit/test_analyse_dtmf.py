"""RFC 4733 digits: one per event whatever its updates and end retransmissions, the event
type from the SDP or, without SDP, from payloads that read as events and nothing else."""

from __future__ import annotations

import random
import struct

from sip_checks.analyse.dtmf import digits, event_pt
from sip_checks.analyse.streams import Stream


def _event(at: float, ts: int, key: int, duration: int, end: bool,
           pt: int = 101) -> tuple[float, int, int, bytes]:
    return at, pt, ts, struct.pack("!BBH", key, (0x80 if end else 0) | 10, duration)


def _press(at: float, ts: int, key: int, pt: int = 101) -> list[tuple[float, int, int, bytes]]:
    """A 100 ms key: four updates, then the end three times (as phones send it)."""
    updates = [_event(at + 0.02 * n, ts, key, 160 * (n + 1), False, pt) for n in range(4)]
    return updates + [_event(at + 0.1 + 0.001 * n, ts, key, 800, True, pt) for n in range(3)]


def _stream(packets: list[tuple[float, int, int, bytes]]) -> Stream:
    return Stream(("10.0.0.1", 4000), ("10.0.0.2", 4000), 1, 8, event_packets=packets)


def test_one_digit_per_event_with_its_length() -> None:
    s = _stream(_press(1.0, 8000, 1) + _press(2.0, 16000, 11) + _press(3.0, 24000, 1))
    got = digits(s, 101)
    assert [d.key for d in got] == ["1", "#", "1"]
    assert [d.duration_ms for d in got] == [100.0, 100.0, 100.0]
    assert all(d.ended for d in got) and [d.at for d in got] == [1.0, 2.0, 3.0]


def test_an_event_whose_end_was_not_captured_is_kept_not_ended() -> None:
    (d,) = digits(_stream(_press(1.0, 8000, 5)[:3]), 101)
    assert d.key == "5" and not d.ended and d.duration_ms == 60.0


def test_without_sdp_the_event_type_is_found_from_the_payloads() -> None:
    s = _stream(_press(1.0, 8000, 9, pt=96) + _press(2.0, 16000, 10, pt=96))
    assert event_pt(s) == 96
    assert "".join(d.key for d in digits(s, None)) == "9*"


def test_random_4_byte_payloads_are_no_events() -> None:
    rnd = random.Random(4733)
    packets = [(i * 0.02, 100, rnd.getrandbits(32), rnd.randbytes(4)) for i in range(50)]
    s = _stream(packets)
    assert event_pt(s) is None and digits(s, None) == []


def test_flash_and_tones_are_not_keys() -> None:
    assert digits(_stream(_press(1.0, 8000, 16)), 101) == []
