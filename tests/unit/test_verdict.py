"""The call verdict (sip_checks/verdict.py) on records built by hand: an announcement that
never echoes is not a silent uplink, and what the far end is gets told from what came back."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.messages import msg
from harness.profile import Thresholds
from sip_checks.toolkit.dialog import DialogEvent
from sip_checks.toolkit.rtp import ReceiverStats
from sip_checks.toolkit.stream import MediaSession
from sip_checks.toolkit.ua import CallRecord
from sip_checks.verdict import cut_short, far_end_kind, judge_call


@pytest.fixture
def rec() -> Iterator[CallRecord]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = CallRecord("outbound", "trunk01", "3000", "x", status=200, reason="OK", answered=1.0)
    r.media = MediaSession(s, pt=8, codec="PCMA")
    r.media.sent = 250
    yield r
    s.close()


def _stream(rec: CallRecord, ssrc: int, n: int = 250) -> None:
    assert rec.media is not None
    st = rec.media.rx.setdefault(ssrc, ReceiverStats())
    for i in range(n):
        st.update(i, 160 * i, 5.0 + 0.02 * i)


def test_nothing_back_is_no_kind(rec: CallRecord) -> None:
    assert far_end_kind(rec) is None


def test_our_own_stream_back_is_an_echo(rec: CallRecord) -> None:
    assert rec.media is not None
    _stream(rec, rec.media.ssrc)
    _stream(rec, 0xFA)
    assert far_end_kind(rec) == "echo"


def test_only_the_far_ends_stream_is_an_announcement(rec: CallRecord) -> None:
    _stream(rec, 0xFA)
    assert far_end_kind(rec) == "announcement"


def test_an_announcement_is_not_a_silent_uplink_but_an_echo_that_stays_silent_is(
        rec: CallRecord) -> None:
    _stream(rec, 0xFA)
    assert judge_call(rec, Thresholds(), echoes=False).symptom is None
    said = judge_call(rec, Thresholds(), echoes=True).symptom
    assert said is not None and said.code == "NO_AUDIO_FROM_SITE"


def test_a_far_end_that_hangs_up_early_is_named_with_the_real_duration(rec: CallRecord) -> None:
    """An echo line that drops the call after we refused its re-INVITE: the reason says the
    far end hung up, after how long, and what came just before; a BYE at the planned end,
    or our own, is no symptom."""
    peer = ("198.51.100.10", 5060)
    rec.ended_by = "remote"
    rec.events = [DialogEvent(3.0, "re-INVITE", True, peer, 488,
                              (msg("EV_SDP_REFUSED", detail="no audio"),)),
                  DialogEvent(3.2, "BYE", True, peer, 200)]
    cut = cut_short(rec, 10.0)
    assert cut is not None
    assert cut.text == ("the call was answered, then the far end hung up after 2.2 s of the "
                        "planned 10 s (last in-dialog event: its re-INVITE, which we answered "
                        "488)")
    rec.events[-1] = DialogEvent(10.6, "BYE", True, peer, 200)
    assert cut_short(rec, 10.0) is None  # within a second of the plan: the normal end
    rec.events[-1] = DialogEvent(3.2, "BYE", False, peer, 200)
    rec.ended_by = "local"
    assert cut_short(rec, 10.0) is None
