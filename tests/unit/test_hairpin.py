"""The hairpin verdict (sip_checks/hairpin.py) on call records built by hand: which account
calls, and what each leg's media says per direction."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.profile import Profile, Thresholds, load_profile
from sip_checks import hairpin
from sip_checks.toolkit.rtp import ReceiverStats
from sip_checks.toolkit.stream import MediaSession
from sip_checks.toolkit.ua import CallRecord

NUMBER = "+33199000101"
EXAMPLE = Path(__file__).resolve().parents[2] / "profiles" / "example.yaml"


@pytest.fixture
def site_profile() -> Profile:
    """The example site: one trunk (0299000000) and one Centrex line (centrex101)."""
    return load_profile(EXAMPLE)


@pytest.fixture
def sock() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield s
    s.close()


def _leg(sock: socket.socket, *, sent: int, answered: bool = True) -> CallRecord:
    rec = CallRecord("outbound", "a", "b", "x", status=200, reason="OK",
                     answered=1.0 if answered else None)
    rec.media = MediaSession(sock, pt=8, codec="PCMA")
    rec.media.sent = sent
    return rec


def _receive(rec: CallRecord, ssrc: int, n: int, *, one_way_ms: float | None) -> None:
    """``n`` in-order packets of ``ssrc`` 20 ms apart, with their one-way delay when the
    sender is one of ours."""
    assert rec.media is not None
    stats = rec.media.rx.setdefault(ssrc, ReceiverStats())
    for i in range(n):
        stats.update(100 + i, 1000 + 160 * i, 10.0 + 0.02 * i)
    if one_way_ms is not None:
        rec.media.one_way_ms[ssrc] = [one_way_ms] * n


def test_the_caller_is_another_account_trunk_first(site_profile: Profile) -> None:
    assert hairpin.pick_caller(site_profile, "centrex101") == "0299000000"
    assert hairpin.pick_caller(site_profile, "0299000000") == "centrex101"


def test_a_single_account_has_no_one_to_call_from(site_profile: Profile) -> None:
    single = site_profile.model_copy(update={"centrex": []})
    assert hairpin.pick_caller(single, "0299000000") is None


def test_a_call_that_never_reaches_the_did_is_named(sock: socket.socket) -> None:
    h = hairpin.Hairpin("trunk01", NUMBER, _leg(sock, sent=0), None)
    v = hairpin.judge(h, Thresholds())
    assert v.symptom is not None and v.symptom.code == "HAIRPIN_NOT_DELIVERED"
    assert v.symptom.params == {"number": NUMBER, "caller": "trunk01"}


def test_each_direction_has_its_own_one_way_delay(sock: socket.socket) -> None:
    out, into = _leg(sock, sent=250), _leg(sock, sent=250)
    _receive(into, 0xA, 250, one_way_ms=45.0)  # the caller's stream, as the DID got it
    _receive(out, 0xB, 250, one_way_ms=5.0)
    v = hairpin.judge(hairpin.Hairpin("trunk01", NUMBER, out, into), Thresholds())
    assert v.symptom is None and v.reserves == []
    to_did, from_did = v.qualities
    assert (to_did.direction.code, to_did.one_way_ms) == ("DIR_TO_DID", 45.0)
    assert (from_did.direction.code, from_did.one_way_ms) == ("DIR_FROM_DID", 5.0)
    assert to_did.loss_pct == 0 and to_did.sent == 250


def test_a_silent_direction_is_named_with_what_was_sent(sock: socket.socket) -> None:
    out, into = _leg(sock, sent=250), _leg(sock, sent=240)
    _receive(out, 0xB, 240, one_way_ms=5.0)  # the DID's audio arrives; the caller's does not
    v = hairpin.judge(hairpin.Hairpin("trunk01", NUMBER, out, into), Thresholds())
    assert v.symptom is not None and v.symptom.code == "HAIRPIN_SILENT_TO_DID"
    assert v.symptom.params["sent"] == 250


def test_a_few_chance_matches_give_no_one_way_delay(sock: socket.socket) -> None:
    """A foreign stream may match a local RTP timestamp by chance: not a measurement."""
    out, into = _leg(sock, sent=250), _leg(sock, sent=250)
    _receive(into, 0xA, 250, one_way_ms=None)
    into.media.one_way_ms[0xA] = [3000.0]  # type: ignore[union-attr]
    _receive(out, 0xB, 250, one_way_ms=5.0)
    v = hairpin.judge(hairpin.Hairpin("trunk01", NUMBER, out, into), Thresholds())
    assert v.qualities[0].one_way_ms is None and v.symptom is None


def test_a_timeout_from_the_operator_with_nothing_on_the_did_is_not_delivered(
        sock: socket.socket) -> None:
    out = _leg(sock, sent=0, answered=False)
    out.status, out.reason = 408, "Request Timeout"
    v = hairpin.judge(hairpin.Hairpin("trunk01", NUMBER, out, None), Thresholds())
    assert v.symptom is not None and v.symptom.code == "HAIRPIN_NOT_DELIVERED"


def test_a_refusal_of_the_caller_is_the_callers_failure(sock: socket.socket) -> None:
    out = _leg(sock, sent=0, answered=False)
    out.status, out.reason = 403, "Forbidden"
    v = hairpin.judge(hairpin.Hairpin("trunk01", NUMBER, out, None), Thresholds())
    assert v.symptom is not None and v.symptom.code == "CALL_FAILED"
    assert v.symptom.params == {"status": 403, "reason": "Forbidden"}
