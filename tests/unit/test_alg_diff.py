"""SIP ALG detection by diff (sip_checks/probes/alg.py), offline.

Golden cases under tests/data/alg/<case>/: ``sent.txt`` (bytes as the harness sends them),
``received.txt`` (bytes as they arrived) and ``expected.json`` (the ALG-like changes and the
NAT-ordinary ones, in the order diff reports them). The nf-nat-sip-* cases apply what the
Linux kernel's nf_nat_sip does (net/netfilter/nf_nat_sip.c): an address equal to the flow's
private host:port in the Request-URI, top Via, Contact, From and To, and the SDP o=/c=, is
replaced by the public one, and Content-Length is recomputed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from harness.messages import msg
from sip_checks.probes.alg import (
    ORIGINAL_HEADER,
    Change,
    Probe,
    _strip_original,
    diff,
    is_alg,
    message,
    summary,
)
from sip_checks.toolkit.message import parse
from sip_checks.toolkit.sdp import parse as parse_sdp

ALG_DATA = Path(__file__).resolve().parents[1] / "data" / "alg"


def _cases() -> list[Any]:
    params = []
    for case in sorted(p for p in ALG_DATA.iterdir() if p.is_dir()):
        exp = json.loads((case / "expected.json").read_text())
        marks = [pytest.mark.xfail(strict=True, reason=exp["xfail"])] if "xfail" in exp else []
        params.append(pytest.param(case, exp, id=case.name, marks=marks))
    return params


def _as_dicts(changes: list[Change]) -> list[dict[str, str]]:
    return [{"element": c.element, "before": c.before, "after": c.after} for c in changes]


@pytest.mark.parametrize(("case", "exp"), _cases())
def test_alg_golden_case(case: Path, exp: dict[str, Any]) -> None:
    changes, nat = diff((case / "sent.txt").read_bytes(), (case / "received.txt").read_bytes())
    assert _as_dicts(changes) == exp["changes"]
    assert _as_dicts(nat) == exp["nat_only"]


def test_golden_cases_are_well_formed() -> None:
    """Every case has its three files, sent.txt is valid SIP with CRLF line ends, and each
    case differs from the others (one behaviour per case)."""
    cases = [p for p in ALG_DATA.iterdir() if p.is_dir()]
    assert len(cases) >= 10
    pairs = set()
    for case in cases:
        assert sorted(p.name for p in case.iterdir()) == ["expected.json", "received.txt",
                                                          "sent.txt"], case.name
        sent = (case / "sent.txt").read_bytes()
        parse(sent)
        head = sent.split(b"\r\n\r\n", 1)[0]
        assert b"\n" not in head.replace(b"\r\n", b""), case.name
        pairs.add((sent, (case / "received.txt").read_bytes()))
    assert len(pairs) == len(cases)


def test_nf_nat_sip_content_length_matches_the_rewritten_body() -> None:
    got = (ALG_DATA / "nf-nat-sip-invite-sdp" / "received.txt").read_bytes()
    msg_ = parse(got)
    assert int(msg_.get("Content-Length") or "") == len(got.split(b"\r\n\r\n", 1)[1])
    assert parse_sdp(msg_.body).address == "203.0.113.7"
    assert msg_.get("Call-ID") == "3f2a9c1e88d04b7a@192.168.254.10"  # nf_nat_sip leaves it


def test_diff_is_empty_for_identical_messages_and_symmetric_in_elements() -> None:
    case = ALG_DATA / "nf-nat-sip-register"
    sent, got = (case / "sent.txt").read_bytes(), (case / "received.txt").read_bytes()
    assert diff(sent, sent) == ([], [])
    forward, _ = diff(sent, got)
    backward, _ = diff(got, sent)
    assert [(c.element, c.before, c.after) for c in forward] == [
        (c.element, c.after, c.before) for c in backward]


def test_unparseable_sent_message_is_reported_too() -> None:
    changes, nat = diff(b"garbage", b"garbage")
    assert (_as_dicts(changes), nat) == ([{
        "element": "message", "before": "valid SIP",
        "after": "unparseable: truncated message: no blank line after the headers"}], [])


def test_hostile_received_message_does_not_crash_the_diff() -> None:
    """'Content-Length: ²' is a SipParseError (not a bare ValueError), which diff reports."""
    sent = (ALG_DATA / "untouched" / "sent.txt").read_bytes()
    got = sent.replace(b"Content-Length: 0", "Content-Length: \u00b2".encode())
    changes, _ = diff(sent, got)
    assert changes[0].element == "message"


def test_change_line() -> None:
    assert Change("Contact", "<sip:a@192.168.1.2>", "<sip:a@203.0.113.7>").line() == (
        "Contact: '<sip:a@192.168.1.2>' → '<sip:a@203.0.113.7>'")


# --- the probe message and its carrier header -----------------------------------------------


@pytest.mark.parametrize("method", ["REGISTER", "INVITE"])
def test_probe_message_carries_its_own_original(method: str) -> None:
    raw, call_id = message(method, local_ip="192.168.254.10", local_port=40312, proto="udp",
                           target="198.51.100.20")
    sent = parse(raw)
    assert sent.method == method and sent.get("Call-ID") == call_id
    assert call_id.endswith("@192.168.254.10")
    assert sent.get("Contact") == "<sip:recette-alg@192.168.254.10:40312;transport=udp>"
    names = [k for k, _ in sent.headers]
    assert names[-2:] == [ORIGINAL_HEADER, "Content-Length"]
    original = base64.b64decode(sent.get(ORIGINAL_HEADER) or "")
    assert _strip_original(raw) == original
    assert ORIGINAL_HEADER.encode() not in original
    assert diff(original, _strip_original(raw)) == ([], [])


def test_probe_invite_offers_our_private_rtp_address() -> None:
    raw, _ = message("INVITE", local_ip="192.168.254.10", local_port=5060, proto="tcp",
                     target="198.51.100.20")
    sent = parse(raw)
    assert sent.first_line == "INVITE sip:0899000000@198.51.100.20 SIP/2.0"
    assert (sent.get("Via") or "").startswith("SIP/2.0/TCP 192.168.254.10:5060;")
    assert sent.get("Content-Type") == "application/sdp"
    media = parse_sdp(sent.body)
    assert media.address == media.origin_address == "192.168.254.10"
    assert 16000 <= media.port < 18000 and media.port % 2 == 0


def test_probe_register_is_addressed_to_the_target() -> None:
    raw, _ = message("REGISTER", local_ip="192.168.254.10", local_port=5060, proto="udp",
                     target="198.51.100.20")
    sent = parse(raw)
    assert sent.first_line == "REGISTER sip:198.51.100.20 SIP/2.0"
    assert sent.get("To") == "<sip:recette-alg@192.168.254.10>" and sent.body == b""


def test_strip_original_is_case_insensitive_and_keeps_the_rest() -> None:
    data = b"A\r\nx-recette-original: abc\r\nX-Recette-Originality: keep\r\n\r\n"
    assert _strip_original(data) == b"A\r\nX-Recette-Originality: keep\r\n\r\n"


# --- probe summaries ---------------------------------------------------------------------------


def test_summaries_and_verdict() -> None:
    lost = Probe("site→operator", "INVITE", "udp", 5088,
                 note=msg("ALG_NOT_RECEIVED", seconds=2.0))
    assert summary(lost) == ("site→operator INVITE UDP/5088: NOT DELIVERED (not received by the "
                             "probe within 2 s)")
    assert not is_alg(lost)
    nat = Probe("site→operator", "REGISTER", "tcp", 5060, delivered=True,
                nat_only=[Change("Via[0] received", "(absent)", "203.0.113.7"),
                          Change("Via[0] rport", "", "40312")])
    assert summary(nat) == ("site→operator REGISTER TCP/5060: untouched "
                            "(NAT only: Via[0] received, Via[0] rport)")
    assert not is_alg(nat)
    clean = Probe("operator→site", "INVITE", "udp", 5060, delivered=True)
    assert summary(clean) == "operator→site INVITE UDP/5060: untouched"
    rewritten = Probe("site→operator", "INVITE", "udp", 5060, delivered=True,
                      changes=[Change("Contact", "a", "b"), Change("SDP c=", "c", "d")])
    assert summary(rewritten) == "site→operator INVITE UDP/5060: REWRITTEN (2 elements)"
    assert is_alg(rewritten) and rewritten.rewritten
