"""Dialogs of a capture: the calling number whatever form its From takes, who sent each
SDP (the caller or the callee, whoever offered), and the response that decided a call."""

from __future__ import annotations

import pytest

from sip_checks.analyse.dialogs import Dialog, group, tag_of, user_of
from tests.analyse_sip import Ladder

CALLER, CALLEE = ("192.168.1.10", 5060), ("198.51.100.10", 5060)


@pytest.mark.parametrize(("value", "user"), [
    ("<tel:+33123456789>;tag=x", "+33123456789"),
    ("<tel:+33123456789;phone-context=example.net>;tag=x", "+33123456789"),
    ('"Name" <sip:+33123456789@h.example;user=phone>;tag=x', "+33123456789"),
    ("sip:100@h.example;tag=x", "100"),
    ("sip:100@h.example", "100"),
    ("<sips:alice@example.com>;tag=x", "alice"),
    ("<sip:101@[2001:db8::5]:5060>;tag=x", "101"),
    ("sip:101@[2001:db8::5];tag=x", "101"),
    ("<sip:192.0.2.7>;tag=x", "192.0.2.7"),
    ("<sip:[2001:db8::7]:5060>;tag=x", "[2001:db8::7]:5060"),
    ("sip:192.0.2.7;tag=x", "192.0.2.7"),
    ('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x', "anonymous"),
    ('"sip:evil@spoof <x>" <sip:102@h.example>;tag=x', "102"),
    ("<sip:103:secret@h.example>", "103"),
    ("<sip:+33123456789;npdi;rn=+33199@h.example;user=phone>", "+33123456789"),
    ("<sip:%2B33123456789@h.example>", "+33123456789"),
    ("<SIP:104@H.EXAMPLE>;tag=x", "104"),
    ("f: sip:garbage", "garbage"),
    ("no uri at all", "no uri at all"),
    ("", "?"),
    (None, "?"),
], ids=["tel", "tel-context", "display-user-phone", "bare-tag", "bare", "sips", "ipv6",
        "ipv6-bare", "no-user", "no-user-ipv6", "no-user-bare", "anonymous", "display-uri",
        "password", "npdi", "escaped", "upper-scheme", "odd", "no-uri", "empty", "none"])
def test_user_of_every_form(value: str | None, user: str) -> None:
    assert user_of(value) == user


@pytest.mark.parametrize(("value", "tag"), [
    ("<sip:100@h>;tag=abc", "abc"),
    ("sip:100@h;tag=abc", "abc"),  # no brackets: the tag is the header's
    ("<sip:100@h;tag=uri-param>", None),  # inside the brackets: the URI's, not a tag
    ('"a;tag=no" <sip:100@h>', None),
    ("<sip:100@h> ; TAG = abc ;x=1", "abc"),
    (None, None),
], ids=["brackets", "bare", "uri-param", "display", "spaces", "none"])
def test_tag_of(value: str | None, tag: str | None) -> None:
    assert tag_of(value) == tag


def _reinvite_call() -> Dialog:
    call = Ladder("c1", CALLER, CALLEE)
    call.invite(0.0, ("192.168.1.10", 16000), ("198.51.100.10", 30000))
    call.reinvite(2.0, by_caller=False, offer=("198.51.100.10", 30100),
                  answer=("192.168.1.10", 16000))
    (dialog,) = group(call.packets)
    return dialog


def test_each_sdp_is_the_senders_whoever_offered() -> None:
    media = _reinvite_call().media()
    got = [(m.packet.message.method or m.packet.message.status, m.offer, m.caller, m.port)
           for m in media]
    assert got == [("INVITE", True, True, 16000), (200, False, False, 30000),
                   ("INVITE", True, False, 30100), (200, False, True, 16000)]


def test_sent_by_caller_reads_from_for_requests_and_to_for_responses() -> None:
    dialog = _reinvite_call()
    by = [(p.message.method or p.message.status, dialog.sent_by_caller(p))
          for p in dialog.packets]
    assert by == [("INVITE", True), (100, False), (180, False), (200, False), ("ACK", True),
                  ("INVITE", False), (200, True), ("ACK", False)]


def test_without_tags_the_from_uri_tells_the_caller() -> None:
    call = Ladder("c2", CALLER, CALLEE)
    call.invite(0.0, ("192.168.1.10", 16000), ("198.51.100.10", 30000))
    for p in call.packets:  # an RFC 2543 UA: no tags at all
        p.message.headers[:] = [(k, v.split(";tag=")[0]) for k, v in p.message.headers]
    (dialog,) = group(call.packets)
    assert [m.caller for m in dialog.media()] == [True, False]


def test_a_failed_reinvite_does_not_undo_the_answered_call() -> None:
    call = Ladder("c3", CALLER, CALLEE)
    call.invite(0.0, ("192.168.1.10", 16000), ("198.51.100.10", 30000))
    req = call.request(5.0, "INVITE", by_caller=False, body="")
    call.response(5.1, req, "488 Not Acceptable Here")
    (dialog,) = group(call.packets)
    assert dialog.status == 200 and dialog.answered == pytest.approx(0.5)


def test_a_challenge_then_a_pending_invite_is_no_final_yet() -> None:
    call = Ladder("c4", CALLER, CALLEE)
    call.invite(0.0, ("192.168.1.10", 16000), None, ring=None, answer=0.05,
                final="407 Proxy Authentication Required")
    call.request(0.1, "ACK", cseq=1, to_tag=True)
    call.request(0.2, "INVITE", body="", to_tag=False)  # with credentials, CSeq 2
    (dialog,) = group(call.packets)
    assert dialog.final is None and dialog.status is None
    assert dialog.pending is not None and dialog.pending.at == pytest.approx(0.2)
    assert dialog.provisionals() == []
    assert [p.message.status for p in dialog.finals()] == [407]


def test_a_challenge_then_an_answer_is_answered() -> None:
    call = Ladder("c5", CALLER, CALLEE)
    call.invite(0.0, None, None, ring=None, answer=0.05,
                final="407 Proxy Authentication Required")
    call.request(0.2, "INVITE", to_tag=False)
    req = [("Via", "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKINVITE2"),
           ("From", "<sip:0100000001@198.51.100.10>;tag=a1"),
           ("To", "<sip:0899000000@198.51.100.10>"), ("Call-ID", "c5"), ("CSeq", "2 INVITE")]
    call.response(0.3, req, "180 Ringing")
    call.response(1.0, req, "200 OK")
    (dialog,) = group(call.packets)
    assert dialog.status == 200
    assert [p.message.status for p in dialog.provisionals()] == [180]
