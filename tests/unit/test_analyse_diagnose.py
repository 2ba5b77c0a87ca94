"""The call diagnoses of ``recette analyse``: directions from whoever sent each SDP, capture
points that separate sides only when they do, calls the capture ended before, and the legs
of one call through a B2BUA."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.profile import Thresholds
from sip_checks.analyse.diagnose import (
    Call,
    analyse,
    fixed_teardowns,
    match,
    one_way,
    signalling,
    unfinished,
)
from sip_checks.analyse.dialogs import Dialog, group
from sip_checks.analyse.legs import is_leg, legs, same_number
from tests.analyse_sip import Ladder, stream

SITE, OP = "192.168.1.10", "198.51.100.10"
DATA = Path(__file__).resolve().parents[1] / "data" / "captures"


def _dialogs(*ladders: Ladder) -> list[Dialog]:
    return group([p for ladder in ladders for p in ladder.packets])


def _roles(calls: list[Call]) -> list[tuple[str, str | None]]:
    return [(f"{cs.stream.src[1]}→{cs.stream.dst[1]}", cs.role) for c in calls
            for cs in c.streams]


# -- direction from the party that sent each SDP ------------------------------------------

def test_a_callees_reinvite_leaves_each_stream_its_direction() -> None:
    call = Ladder("r1", (SITE, 5060), (OP, 5060))
    call.invite(0.0, (SITE, 16000), (OP, 30000))
    call.reinvite(2.0, by_caller=False, offer=(OP, 30000), answer=(SITE, 16000))
    call.bye(4.0)
    streams = [stream((SITE, 16000), (OP, 30000), start=0.6, seconds=3, ssrc=1),
               stream((OP, 30000), (SITE, 16000), start=0.6, seconds=3, ssrc=2)]
    a = analyse(_dialogs(call), streams, [])
    assert _roles(a.calls) == [("16000→30000", "up"), ("30000→16000", "down")]
    assert a.findings == []


def test_media_moved_by_the_callee_keeps_directions() -> None:
    call = Ladder("r2", (SITE, 5060), (OP, 5060))
    call.invite(0.0, (SITE, 16000), (OP, 30000))
    call.reinvite(2.0, by_caller=False, offer=(OP, 30100), answer=(SITE, 16000))
    streams = [stream((SITE, 16000), (OP, 30100), start=2.1, seconds=2, ssrc=1),
               stream((OP, 30100), (SITE, 16000), start=2.1, seconds=2, ssrc=2)]
    calls, others = match(_dialogs(call), streams, Thresholds())
    assert _roles(calls) == [("16000→30100", "up"), ("30100→16000", "down")]
    assert others == []


def test_a_stream_goes_to_the_call_whose_sdp_is_in_force_at_its_start() -> None:
    """Behind a NAT, an IPBX calls a far end that uses one media port for every call; its
    first call moves to another port at 10 s and its freed port 16004 serves the next call
    at 12 s. A stream from 16004 at 13 s is the second call's, not the first's."""
    first = Ladder("p1", (SITE, 5060), (OP, 5060), calling="0100000001")
    first.invite(0.0, ("192.0.2.2", 16004), (OP, 6000))
    first.reinvite(10.0, by_caller=True, offer=("192.0.2.2", 16008), answer=(OP, 6000))
    second = Ladder("p2", (SITE, 5060), (OP, 5060), calling="0100000002", tags=("c1", "d1"))
    second.invite(12.0, ("192.0.2.2", 16004), (OP, 6000))
    first.bye(20.0)
    second.bye(20.5)
    late = stream((SITE, 16004), (OP, 6000), start=13.0, seconds=2)
    calls, _ = match(_dialogs(first, second), [late], Thresholds())
    assert [(c.dialog.call_id, len(c.streams)) for c in calls] == [("p1", 0), ("p2", 1)]


def test_a_stream_both_parties_announced_has_no_direction_and_silences_none() -> None:
    call = Ladder("r3", (SITE, 5060), (SITE, 5062))
    call.invite(0.0, (SITE, 16000), (SITE, 16000))  # both ends announce the same address
    calls, _ = match(_dialogs(call), [stream((SITE, 16000), (SITE, 16000), start=0.6,
                                             seconds=2)], Thresholds())
    assert _roles(calls) == [("16000→16000", None)]
    assert one_way(calls[0]) is None and calls[0].silent == []


# -- capture points ----------------------------------------------------------------------

def test_sip_on_one_interface_and_rtp_on_another_is_heard() -> None:
    call = Ladder("i1", (SITE, 5060), (OP, 5060))
    call.invite(0.0, (SITE, 16000), (OP, 30000))
    streams = [stream((SITE, 16000), (OP, 30000), start=0.6, seconds=2, ssrc=1, iface=1),
               stream((OP, 30000), (SITE, 16000), start=0.6, seconds=2, ssrc=2, iface=1)]
    calls, _ = match(_dialogs(call), streams, Thresholds())
    assert one_way(calls[0]) is None


def test_two_sides_of_a_router_still_tell_media_that_never_crossed() -> None:
    call = Ladder("i2", (SITE, 5060), (OP, 5060), ifaces=(0, 1))  # LAN, then WAN
    call.invite(0.0, (SITE, 16000), (OP, 30000))
    streams = [stream((SITE, 16000), (OP, 30000), start=0.6, seconds=2, ssrc=1, iface=0),
               stream((SITE, 16000), (OP, 30000), start=0.6, seconds=2, ssrc=1, iface=1),
               stream((OP, 30000), (SITE, 16000), start=0.6, seconds=2, ssrc=2, iface=1)]
    calls, _ = match(_dialogs(call), streams, Thresholds())
    found = one_way(calls[0])
    assert found is not None and found.code == "AN_ONE_WAY_NOT_CROSSED"
    assert calls[0].silent == ["down"]


# -- calls the capture ended before ------------------------------------------------------

def _ringing(end_after: float) -> tuple[Dialog, float]:
    call = Ladder("u1", (SITE, 5060), (OP, 5060))
    call.invite(100.0, (SITE, 16000), None, answer=None)
    (d,) = _dialogs(call)
    return d, 100.0 + end_after


def test_a_call_ringing_when_the_capture_ends_is_unfinished() -> None:
    d, end = _ringing(5.0)
    assert signalling(d, end) is None
    note = unfinished(d, end)
    assert note is not None and note.code == "AN_UNFINISHED_RINGING"
    assert note.params == {"seconds": "5.0", "last": "180 Ringing"}


def test_ringing_past_timer_c_is_no_final_response() -> None:
    d, end = _ringing(181.0)
    failed = signalling(d, end)
    assert failed is not None and failed.code == "AN_INVITE_NO_FINAL"
    assert unfinished(d, end) is None


@pytest.mark.parametrize(("after", "code"), [(10.0, None), (31.9, None),
                                             (32.5, "AN_INVITE_NO_FINAL")])
def test_an_invite_without_any_response_times_out_after_timer_b(after: float,
                                                                 code: str | None) -> None:
    call = Ladder("u2", (SITE, 5060), (OP, 5060))
    call.request(100.0, "INVITE", body="", to_tag=False)
    call.request(100.5, "INVITE", body="", to_tag=False, cseq=1)  # retransmission
    (d,) = _dialogs(call)
    failed = signalling(d, 100.0 + after)
    assert (failed.code if failed else None) == code
    note = unfinished(d, 100.0 + after)
    assert (note.code if note else None) == (None if code else "AN_UNFINISHED_NO_RESPONSE")


def test_without_an_end_signalling_judges_as_before() -> None:
    d, _ = _ringing(5.0)
    failed = signalling(d)
    assert failed is not None and failed.code == "AN_INVITE_NO_FINAL"


def test_an_answered_call_not_hung_up_is_still_up_and_too_short_is_not_judged() -> None:
    call = Ladder("u3", (SITE, 5060), (OP, 5060))
    call.invite(0.0, (SITE, 16000), (OP, 30000))
    out = stream((SITE, 16000), (OP, 30000), start=0.6, seconds=0.8)
    a = analyse(_dialogs(call), [out], [], end=1.4)  # 0.9 s after answer, one way so far
    assert a.calls[0].note is not None and a.calls[0].note.code == "AN_STILL_UP_SHORT"
    assert a.findings == []
    a = analyse(_dialogs(call), [out], [], end=30.0)
    assert a.calls[0].note is not None and a.calls[0].note.code == "AN_STILL_UP"
    assert [f.params["finding"].code for f in a.findings] == ["AN_ONE_WAY"]


@pytest.mark.parametrize(("after", "code"), [(3.0, None), (33.0, "AN_REGISTER_NO_ANSWER")])
def test_a_register_sent_as_the_capture_ends_is_not_unanswered(after: float,
                                                               code: str | None) -> None:
    from sip_checks.analyse.diagnose import registration
    from tests.analyse_sip import packet

    register = packet(10.0, (SITE, 5060), (OP, 5060), f"REGISTER sip:{OP} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP {SITE}:5060;branch=z9hG4bKr1"),
        ("From", f"<sip:trunk01@{OP}>;tag=r1"), ("To", f"<sip:trunk01@{OP}>"),
        ("Call-ID", "reg-1"), ("CSeq", "1 REGISTER")])
    (d,) = group([register])
    failed = registration(d, 10.0 + after)
    assert (failed.code if failed else None) == code


def test_the_capture_end_defaults_to_its_last_packet() -> None:
    d, _ = _ringing(0.0)
    late = stream(("203.0.113.1", 4000), ("203.0.113.2", 4000), start=140.0, seconds=1)
    a = analyse([d], [late], [])  # the last packet is 40.98 s after the INVITE: ringing
    assert a.calls[0].note is not None and a.calls[0].note.params["seconds"] == "41.0"
    # Nothing blames the call; the lone unannounced stream only says what it cannot show.
    assert [f.code for f in a.findings] == ["AN_RTP_ONE_SIDED_CAPTURE"]


# -- legs of one call through a B2BUA ----------------------------------------------------

SBC, IPBX = "192.0.2.10", "203.0.113.20"


def _b2bua(*, b_after: float = 0.02, a_answer: float = 3.02, bye_b: float = 43.03,
           called_b: str = "0123456789", calling_b: str = "0612345678",
           ) -> tuple[Ladder, Ladder]:
    """The operator's call enters the SBC in E.164; its second leg leaves ``b_after`` s later
    in national form and is answered 2.98 s after; A is answered at ``a_answer``."""
    a = Ladder("leg-a", (OP, 5060), (SBC, 5060), calling="+33612345678",
               called="+33123456789", tags=("op", "s1"))
    b = Ladder("leg-b", (SBC, 5060), (IPBX, 5060), calling=calling_b, called=called_b,
               tags=("s2", "pbx"))
    a.invite(0.0, (OP, 30000), (SBC, 40000), answer=a_answer)
    b.invite(b_after, (SBC, 40002), (IPBX, 16000), answer=2.98)
    a.bye(43.0)
    b.bye(bye_b)
    return a, b


def test_two_legs_through_a_b2bua_are_one_call_not_two_teardowns() -> None:
    a = analyse(_dialogs(*_b2bua()), [], [])
    first, second = a.calls
    assert second.leg_of is first and second.b2bua == SBC and first.leg_of is None
    assert a.findings == []


def test_b2bua_legs_in_the_summary_follow_each_other() -> None:
    from sip_checks.analyse.output import summary

    late = Ladder("other", ("203.0.113.99", 5060), (OP, 5060), calling="0311111111",
                  called="0322222222", tags=("o1", "o2"))
    late.invite(0.01, ("203.0.113.99", 17000), (OP, 31000))
    late.bye(5.0)
    a, b = _b2bua()
    text = summary(analyse(_dialogs(a, late, b), [], []), Path("x.pcap"), "en")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "[leg-a]" in line)
    assert "[leg-b]" in lines[at + 1]
    assert lines[at + 2] == ("    ↳ leg of the call above through the B2BUA at 192.0.2.10 "
                             "(one call, not two)")


@pytest.mark.parametrize(("a", "b", "same"), [
    ("0123456789", "+33123456789", True), ("0033123456789", "+33123456789", True),
    ("2125551234", "+12125551234", True), ("201", "201", True), ("alice", "Alice", True),
    ("0123456789", "0123456780", False), ("201", "1201", False), ("?", "?", False),
    ("123456", "0123456", True), ("12345", "912345", False),
], ids=["fr-e164", "fr-00", "us", "extension", "name", "other", "short", "unknown",
        "six-digits-equal", "short-suffix"])
def test_same_number_in_any_form(a: str, b: str, same: bool) -> None:
    assert same_number(a, b) is same


def test_two_independent_calls_to_one_number_are_not_legs() -> None:
    """Two sites call the same number at the same server a moment apart and both hang up
    together after 40 s: no address is the first's destination and the second's source."""
    one = Ladder("s1", ("192.0.2.21", 5060), (OP, 5060), calling="0100000001",
                 tags=("x1", "y1"))
    two = Ladder("s2", ("192.0.2.22", 5060), (OP, 5060), calling="0100000002",
                 tags=("x2", "y2"))
    for n, ladder in enumerate((one, two)):
        ladder.invite(0.1 * n, None, None)
        ladder.bye(40.5 + 0.1 * n)
    dialogs = _dialogs(one, two)
    assert legs(dialogs, 41.0) == []
    a = analyse(dialogs, [], [])
    assert [f.code for f in a.findings] == ["AN_FIXED_TEARDOWN"]  # a true finding stays


@pytest.mark.parametrize(("change", "address"), [
    ("none", SBC), ("late", None), ("after-final", None), ("other-numbers", None),
    ("ends-apart", None)])
def test_legs_only_when_every_condition_holds(change: str, address: str | None) -> None:
    kwargs: dict[str, dict[str, object]] = {
        "none": {},
        "late": {"b_after": 12.0, "a_answer": 15.0},  # outside the 10 s window only
        "after-final": {"b_after": 3.5},  # after A's 200 at 3.02 s only
        "other-numbers": {"called_b": "0198765432", "calling_b": "0600000000"},
        "ends-apart": {"bye_b": 60.0},
    }
    a, b = _b2bua(**kwargs[change])  # type: ignore[arg-type]
    da, db = _dialogs(a, b)
    assert is_leg(da, db, 100.0) == address


def test_legs_with_the_same_calling_number_to_an_extension() -> None:
    a, b = _b2bua(called_b="201", calling_b="+33612345678")
    da, db = _dialogs(a, b)
    assert is_leg(da, db, 100.0) == SBC


def test_fixed_teardowns_count_a_b2bua_call_once() -> None:
    dialogs = _dialogs(*_b2bua())
    calls = [Call(d) for d in dialogs]
    assert [m.code for m in fixed_teardowns(calls)] == ["AN_FIXED_TEARDOWN"]  # as before
    calls[1].leg_of = calls[0]
    assert fixed_teardowns(calls) == []


# -- the derived captures' figures are tshark's -------------------------------------------

@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
@pytest.mark.parametrize("case", ["callee_reinvite", "media_moved", "ringing_at_end",
                                  "sip_rtp_interfaces", "alg_two_interfaces"])
def test_derived_call_captures_agree_with_wireshark(case: str) -> None:
    from tests.unit.test_analyse_tshark import agree, rtp_streams, streams_of

    (path,) = [p for p in (DATA / case).iterdir() if p.name.startswith("capture.")]
    assert agree(streams_of(path), rtp_streams(path)) >= 2


SBC_OUT = "203.0.113.30"


def _sbc_two_sides(*, b_answer: float = 2.98) -> tuple[Ladder, Ladder]:
    """An SBC with one address per side: the call enters at SBC, leaves from SBC_OUT."""
    a = Ladder("side-a", (OP, 5060), (SBC, 5060), calling="+33612345678",
               called="+33123456789", tags=("op", "s1"))
    b = Ladder("side-b", (SBC_OUT, 5060), (IPBX, 5060), calling="0612345678",
               called="0123456789", tags=("s2", "pbx"))
    a.invite(0.0, (OP, 30000), (SBC, 40000), answer=3.02)
    b.invite(0.02, (SBC_OUT, 40002), (IPBX, 16000), answer=b_answer)
    a.bye(43.0)
    b.bye(43.03)
    return a, b


def test_an_sbc_with_one_address_per_side_is_one_call() -> None:
    """No address is both A's destination and B's source, but B starts at once after A with
    both numbers the same and both legs answered together: one call, not two teardowns."""
    a = analyse(_dialogs(*_sbc_two_sides()), [], [])
    first, second = a.calls
    assert second.leg_of is first and second.b2bua == f"{SBC} / {SBC_OUT}"
    assert [f.code for f in a.findings] == []


def test_without_a_shared_address_the_answers_must_agree() -> None:
    """The same two dialogs with B answered 5 s after A: not one call through an SBC (A's
    caller heard an answer B's callee had not given)."""
    assert legs(_dialogs(*_sbc_two_sides(b_answer=8.0)), 44.0) == []


def test_a_leg_whose_other_leg_was_heard_is_not_said_unjudged() -> None:
    """RTP captured on the SBC's outer leg only: the inner leg's audio was judged there, so
    no call is listed as "without any RTP"; without any RTP the two legs are one such call."""
    dialogs = _dialogs(*_b2bua())
    heard = analyse(dialogs, [stream((OP, 30000), (SBC, 40000), start=3.1, seconds=2),
                              stream((SBC, 40000), (OP, 30000), start=3.1, seconds=2)], [])
    assert heard.calls[0].streams and not heard.calls[1].streams
    assert heard.notes == []
    silent = analyse(_dialogs(*_b2bua()), [], [])
    assert [n.code for n in silent.notes] == ["AN_MEDIA_NOT_CAPTURED"]
    assert silent.notes[0].params["count"] == 1
