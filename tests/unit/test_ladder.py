"""SIP ladder diagrams and transcripts from the wire log (sip_checks/toolkit/ladder.py)."""

from __future__ import annotations

from sip_checks.toolkit.endpoint import WireRecord
from sip_checks.toolkit.ladder import render, transcript
from sip_checks.toolkit.message import build_request

LOCAL = ("192.168.254.10", 5062)
SERVER = ("198.51.100.20", 5060)


def _register(call_id: str = "abc@192.168.254.10") -> bytes:
    return build_request("REGISTER", "sip:198.51.100.20", via_host=LOCAL[0], via_port=LOCAL[1],
                         from_uri="sip:trunk01@198.51.100.20", to_uri="sip:trunk01@198.51.100.20",
                         call_id=call_id, cseq=1, branch="z9hG4bK1", from_tag="t1")


def _response(first: str, call_id: str = "abc@192.168.254.10") -> bytes:
    return (f"{first}\r\nVia: SIP/2.0/UDP 192.168.254.10:5062;branch=z9hG4bK1\r\n"
            "From: <sip:trunk01@198.51.100.20>;tag=t1\r\nTo: <sip:trunk01@198.51.100.20>;tag=s\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n").encode()


RECORDS = [
    WireRecord(1000.0, True, LOCAL, SERVER, _register()),
    WireRecord(1000.0125, False, LOCAL, SERVER, _response("SIP/2.0 401 Unauthorized")),
    WireRecord(1000.5, False, LOCAL, ("203.0.113.66", 5060), b"junk", "dropped: not SIP"),
]


def test_render_ladder() -> None:
    # Each arrow is 46 columns: "──" + dashes + " label " + dashes + "─▶" (or "◀─" ... "──"),
    # the label centred in the 40 columns left of the 4 fixed ones; unparseable datagrams
    # show the parse error, cut to 38 characters.
    assert render(RECORDS).split("\n") == [
        "   t (ms)  192.168.254.10:5062                                              remote",
        "      0.0                       ────────────────── REGISTER ─────────────────▶"
        "  198.51.100.20:5060",
        "     12.5                       ◀─────── 401 Unauthorized (REGISTER) ─────────"
        "  198.51.100.20:5060",
        "    500.0                       ◀── (garbage: truncated message: no blank  ───"
        "  203.0.113.66:5060  [dropped: not SIP]",
    ]


def test_arrows_have_one_width_whatever_the_label() -> None:
    long_reason = "SIP/2.0 503 Service Unavailable because the trunk is being maintained"
    rows = render([*RECORDS, WireRecord(1001.0, False, LOCAL, SERVER, _response(long_reason))]
                  ).split("\n")[1:]
    for row in rows:  # time (9) + 2 + local column (21): the arrow fills columns 32 to 77
        arrow = row[32:78]
        assert arrow[:2] in ("──", "◀─") and arrow[-2:] in ("─▶", "──"), row
        assert row[78:80] == "  " and row[80].isdigit(), row
    assert "◀─ 503 Service Unavailable beca (REGISTER) ───" in rows[-1]  # cut at 28 characters


def test_render_filters_one_call_and_restarts_the_clock() -> None:
    other = [WireRecord(999.0, True, LOCAL, SERVER, _register("other@192.168.254.10")), *RECORDS]
    rows = render(other, call_id="abc@192.168.254.10").split("\n")
    assert len(rows) == 3  # header, REGISTER, 401: the other call and the junk are left out
    assert rows[1].lstrip().startswith("0.0 ") and rows[2].lstrip().startswith("12.5 ")
    assert render(RECORDS, call_id="nobody") == "(no SIP message)"
    assert render([]) == "(no SIP message)"


def test_transcript_shows_every_byte_in_order() -> None:
    text = transcript(RECORDS)
    lines = text.split("\n")
    assert lines[0] == f"--- +0.0 ms → 198.51.100.20:5060 ({len(RECORDS[0].data)} bytes)"
    # the message keeps its own CRLF line ends; only the trailing blank line is dropped
    assert lines[1] == "REGISTER sip:198.51.100.20 SIP/2.0\r"
    assert _register().decode().rstrip("\r\n") in text
    assert f"--- +12.5 ms ← 198.51.100.20:5060 ({len(RECORDS[1].data)} bytes)" in lines
    assert lines[-2:] == ["--- +500.0 ms ← 203.0.113.66:5060 (4 bytes) [dropped: not SIP]",
                          "junk"]
    assert text.count("Content-Length: 0") == 2


def test_transcript_of_nothing_is_empty() -> None:
    assert transcript([]) == ""
    assert transcript(RECORDS, call_id="nobody") == ""


def test_transcript_replaces_undecodable_bytes() -> None:
    rec = WireRecord(0.0, False, LOCAL, SERVER, b"\xff\xfeSIP\r\n\r\n")
    assert transcript([rec]).split("\n")[1] == "\ufffd\ufffdSIP"  # trailing CRLFs stripped


def test_an_invite_inside_a_dialog_is_drawn_as_a_re_invite() -> None:
    def invite(to_tag: str) -> bytes:
        return build_request("INVITE", "sip:0899@198.51.100.20", via_host=LOCAL[0],
                             via_port=LOCAL[1], from_uri="sip:trunk01@198.51.100.20",
                             to_uri="sip:0899@198.51.100.20", call_id="c@x", cseq=1,
                             branch="z9hG4bK2", from_tag="t1").replace(
            b"To: <sip:0899@198.51.100.20>", f"To: <sip:0899@198.51.100.20>{to_tag}".encode())
    rows = render([WireRecord(1.0, True, LOCAL, SERVER, invite("")),
                   WireRecord(2.0, False, LOCAL, SERVER, invite(";tag=s9"))]).split("\n")
    assert " INVITE " in rows[1] and "re-INVITE" not in rows[1]
    assert " re-INVITE " in rows[2]
