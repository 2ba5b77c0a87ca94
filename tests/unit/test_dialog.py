"""The rules of an answered call, offline (sip_checks/toolkit/dialog.py): the session timer's
grammar and arithmetic (RFC 4028), reliable provisional responses (RFC 3262), which SDP we
answer, how the media follows the far end's, and how events read in the evidence."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.messages import msg
from sip_checks.toolkit import sdp
from sip_checks.toolkit.dialog import (
    DialogEvent,
    LocalSdp,
    SessionExpires,
    SessionTimer,
    expire_after,
    follow,
    last_event,
    methods,
    min_se,
    refresh_after,
    reliable,
    render_events,
    rseq,
    session_expires,
    timer_for_request,
    timer_for_response,
)
from sip_checks.toolkit.message import SipMessage
from sip_checks.toolkit.stream import MediaSession


def _m(first: str, *headers: tuple[str, str]) -> SipMessage:
    return SipMessage(first, list(headers))


@pytest.mark.parametrize(("value", "parsed"), [
    ("1800", SessionExpires(1800, None)),
    ("90;refresher=uac", SessionExpires(90, "uac")),
    ("90 ; Refresher = UAS;x=1", SessionExpires(90, "uas")),
    ("9" * 5000, SessionExpires(2**31 - 1, None)),  # bounded, never int() of 5000 digits
    ("0", None), ("\u0663\u0660", None), ("soon", None),
], ids=["plain", "uac", "spaced-uas", "huge", "zero", "arabic-indic", "junk"])
def test_session_expires_is_read_bounded_and_ascii(value: str,
                                                   parsed: SessionExpires | None) -> None:
    assert session_expires(_m("UPDATE sip:a@b SIP/2.0", ("Session-Expires", value))) == parsed


def test_compact_session_expires_and_the_other_headers() -> None:
    m = _m("SIP/2.0 183 Session Progress", ("x", "120;refresher=uas"), ("Min-SE", "90"),
           ("Require", "100rel"), ("RSeq", "7"), ("Allow", "INVITE, ack,UPDATE"))
    assert session_expires(m) == SessionExpires(120, "uas")
    assert min_se(m) == 90 and rseq(m) == 7 and reliable(m)
    assert methods(m) == {"INVITE", "ACK", "UPDATE"}


@pytest.mark.parametrize(("headers", "expected"), [
    ((("Require", "100rel"),), False),  # no RSeq
    ((("RSeq", "1"),), False),  # not required
    ((("Require", "timer, 100rel"), ("RSeq", "0")), False),  # RSeq starts at 1
    ((("Require", "timer, 100rel"), ("RSeq", str(2**31))), False),
    ((("Require", "timer, 100rel"), ("RSeq", "1")), True),
])
def test_reliable_needs_require_100rel_and_an_rseq_in_range(
        headers: tuple[tuple[str, str], ...], expected: bool) -> None:
    assert reliable(_m("SIP/2.0 180 Ringing", *headers)) is expected
    assert not reliable(_m("SIP/2.0 200 OK", *headers))  # only provisional responses


def test_refresh_at_half_and_expiry_a_third_or_32_s_before_the_end() -> None:
    assert refresh_after(90) == 45
    assert expire_after(90) == 60  # 90 - 30
    assert expire_after(1800) == 1768  # 1800 - 32
    assert expire_after(3) == pytest.approx(2.0)


@pytest.mark.parametrize(("headers", "timer", "too_short"), [
    ((("Session-Expires", "1800;refresher=uac"),), SessionTimer(1800, False), False),
    ((("Session-Expires", "1800;refresher=uas"),), SessionTimer(1800, True), False),
    # no refresher: the caller refreshes when it supports timers, else we must (RFC 4028 §9)
    ((("Session-Expires", "1800"), ("Supported", "timer")), SessionTimer(1800, False), False),
    ((("Session-Expires", "1800"),), SessionTimer(1800, True), False),
    ((("Session-Expires", "60;refresher=uac"),), None, True),  # below our 90: 422
    ((), None, False),
], ids=["uac", "uas", "absent-supported", "absent-unsupported", "too-short", "none"])
def test_the_far_ends_request_sets_the_timer(headers: tuple[tuple[str, str], ...],
                                             timer: SessionTimer | None,
                                             too_short: bool) -> None:
    assert timer_for_request(_m("INVITE sip:a@b SIP/2.0", *headers), None, 90) == \
        (timer, too_short)


def test_a_refresh_without_session_expires_keeps_the_timer_in_force() -> None:
    current = SessionTimer(90, False)
    assert timer_for_request(_m("UPDATE sip:a@b SIP/2.0"), current, 90) == (current, False)
    assert timer_for_response(_m("SIP/2.0 200 OK"), current) is current
    assert timer_for_response(_m("SIP/2.0 200 OK"), None) is None
    assert timer_for_response(_m("SIP/2.0 200 OK", ("Session-Expires", "90;refresher=uas")),
                              None) == SessionTimer(90, False)
    assert timer_for_response(_m("SIP/2.0 200 OK", ("Session-Expires", "90")),
                              None) == SessionTimer(90, True)


def test_the_refresher_is_named_in_the_terms_of_each_transaction() -> None:
    we = SessionTimer(90, True)
    they = SessionTimer(90, False)
    assert we.header(our_request=True) == "90;refresher=uac"  # our UPDATE: we are its UAC
    assert we.header(our_request=False) == "90;refresher=uas"  # our 200 to their request
    assert they.header(our_request=True) == "90;refresher=uas"
    assert they.header(our_request=False) == "90;refresher=uac"


def _offer(port: int, *, codecs: str = "8 0 101", direction: str = "sendrecv",
           address: str = "198.51.100.10") -> sdp.MediaDescription:
    body = (f"v=0\r\no=x 1 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {codecs}\r\na=rtpmap:101 telephone-event/8000\r\n"
            f"a={direction}\r\n")
    return sdp.parse(body.encode())


def test_our_answer_keeps_port_codec_and_version_unless_something_changed() -> None:
    local = LocalSdp("192.0.2.10", 16000, codecs=(("PCMU", 0, 8000),), dtmf=True,
                     session_id=5)
    first = local.answer(_offer(30000), "PCMU")  # PCMA offered first, PCMU in use: kept
    assert b"m=audio 16000 RTP/AVP 0 101" in first
    assert b"o=recette 5 1 IN IP4" in first  # nothing changed: same version
    held = local.answer(_offer(30010, direction="sendonly"), "PCMU")
    assert b"a=recvonly" in held and b"o=recette 5 2 IN IP4" in held
    assert local.body == held
    with pytest.raises(sdp.SdpError):
        local.answer(_offer(30010, codecs="18"), "PCMU")


@pytest.fixture
def media() -> Iterator[MediaSession]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    m = MediaSession(s, pt=8, codec="PCMA", remote=("198.51.100.10", 30000))
    yield m
    s.close()


def test_following_the_far_ends_sdp(media: MediaSession) -> None:
    old = ("198.51.100.10", 30000)
    new, changes = follow(media, _offer(30010), old, (8, "PCMA"))
    assert media.remote == new == ("198.51.100.10", 30010)
    assert [c.text for c in changes] == [
        "media moved 198.51.100.10:30000 → 198.51.100.10:30010"]
    _, changes = follow(media, _offer(30010, direction="inactive"), new, (8, "PCMA"))
    assert media.remote is None and changes[0].code == "EV_HOLD"  # we stop sending
    _, changes = follow(media, _offer(30010, address="0.0.0.0"), new, (8, "PCMA"))
    assert media.remote is None and changes == []  # still held: nothing new
    _, changes = follow(media, _offer(30010), new, (0, "PCMU"))
    assert media.remote == new
    assert [c.code for c in changes] == ["EV_MEDIA_RESUMED", "EV_CODEC_CHANGED"]
    assert (media.pt, media.codec) == (0, "PCMU")
    _, changes = follow(media, _offer(30010), new, (0, "PCMU"))
    assert [c.text for c in changes] == ["media unchanged (198.51.100.10:30010)"]


def test_events_read_in_order_and_the_last_one_names_who_asked() -> None:
    peer = ("198.51.100.10", 5060)
    events = [
        DialogEvent(101.5, "re-INVITE", True, peer, 488,
                    (msg("EV_SDP_REFUSED", detail="no audio"),)),
        DialogEvent(102.0, "UPDATE", False, peer, None),
        DialogEvent(102.5, "ACK", True, peer, None),
    ]
    assert render_events(events, 100.0).split("\n") == [
        "   +1.50 s  ← re-INVITE  198.51.100.10:5060    488         unusable SDP (no audio)",
        "   +2.00 s  → UPDATE     198.51.100.10:5060    no response",
        "   +2.50 s  ← ACK        198.51.100.10:5060    -",
    ]
    assert render_events([], 0.0) == "(no in-dialog event)"
    assert last_event([]) is None
    theirs = last_event(events[:1])
    assert theirs is not None
    assert theirs.text == " (last in-dialog event: its re-INVITE, which we answered 488)"
    ours = last_event(events[:2])
    assert ours is not None and ours.text == " (last in-dialog event: our UPDATE, answered -)"
