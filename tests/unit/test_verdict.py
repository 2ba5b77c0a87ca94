"""The call verdict (sip_checks/verdict.py) on records built by hand: an announcement that
never echoes is not a silent uplink, and what the far end is gets told from what came back."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.profile import Thresholds
from sip_checks.toolkit.rtp import ReceiverStats
from sip_checks.toolkit.stream import MediaSession
from sip_checks.toolkit.ua import CallRecord
from sip_checks.verdict import far_end_kind, judge_call


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
