"""A hole of a second or more in a stream, told by the packets on either side: lost on the
way (numbers missing), silence suppression (timestamps ran on), the sender paused (neither),
and no fault while the SDP had the call on hold."""

from __future__ import annotations

from sip_checks.analyse.dialogs import Media
from sip_checks.analyse.fields import SipPacket
from sip_checks.analyse.gaps import gaps
from sip_checks.analyse.streams import Stream
from sip_checks.toolkit.message import parse
from sip_checks.toolkit.sdp import MediaDescription


def _stream(silence: tuple[float, float, int, int], expected_packets: int = 700) -> Stream:
    """A 20 ms stream over 14 s with one silence."""
    s = Stream(("10.0.0.1", 4000), ("10.0.0.2", 4000), 1, 8, silences=[silence])
    s.stats.update(0, 0, 100.0)
    s.stats.update(expected_packets - 1, 160 * (expected_packets - 1), 114.0)
    return s


def _media(at: float, direction: str) -> Media:
    message = parse(b"INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
                    b"From: <sip:a@y>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: c\r\n"
                    b"CSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n")
    packet = SipPacket(1, at, ("10.0.0.1", 5060), ("10.0.0.2", 5060), "udp", message, b"")
    sdp = MediaDescription("10.0.0.1", 4000, [8], direction=direction)
    return Media("10.0.0.1", 4000, True, sdp, packet, True)


def test_numbers_missing_for_the_hole_are_lost_on_the_way() -> None:
    (g,) = gaps(_stream((103.0, 110.02, 351, 351 * 160)))
    assert (g.kind, g.lost, g.fault, round(g.seconds, 2)) == ("lost", 350, True, 7.02)


def test_timestamps_that_ran_on_are_silence_suppression() -> None:
    (g,) = gaps(_stream((103.0, 108.0, 1, 5 * 8000), expected_packets=450))
    assert g.kind == "silent" and not g.fault


def test_a_sender_that_paused_its_clock_too() -> None:
    (g,) = gaps(_stream((103.0, 108.0, 1, 160), expected_packets=450))
    assert g.kind == "stopped" and g.fault


def test_a_hold_sdp_before_or_during_the_hole_is_no_fault() -> None:
    silence = (103.0, 108.0, 1, 160)
    (g,) = gaps(_stream(silence, 450), [_media(90.0, "sendrecv"), _media(102.5, "sendonly")])
    assert g.hold == "sendonly" and not g.fault
    (g,) = gaps(_stream(silence, 450), [_media(90.0, "inactive")])
    assert g.hold == "inactive"
    (g,) = gaps(_stream(silence, 450), [_media(90.0, "sendonly"), _media(95.0, "sendrecv")])
    assert g.hold is None and g.fault  # taken off hold before the hole
