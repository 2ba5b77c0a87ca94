"""SDP offer/answer for test calls (sip_checks/toolkit/sdp.py), offline, with the SDP bodies
of the RFC 4475 torture messages."""

from __future__ import annotations

import re

import pytest

from sip_checks.toolkit.message import SipParseError
from sip_checks.toolkit.message import parse as parse_sip
from sip_checks.toolkit.sdp import (
    DEFAULT_OFFER,
    EVENT_PT,
    MediaDescription,
    SdpError,
    answer_codecs,
    build,
    parse,
)
from tests.rfc4475 import TORTURE, needs_corpus


def _sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def test_build_default_offer_wire_format() -> None:
    assert build("192.168.254.10", 16000, session_id=1234) == _sdp(
        "v=0",
        "o=recette 1234 1 IN IP4 192.168.254.10",
        "s=recette",
        "c=IN IP4 192.168.254.10",
        "t=0 0",
        "m=audio 16000 RTP/AVP 8 0 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=sendrecv",
    )


def test_build_answer_without_dtmf() -> None:
    assert build("192.0.2.10", 4000, session_id=5, version=3, codecs=(("PCMU", 0, 8000),),
                 dtmf=False, ptime=30, direction="recvonly", user="b2bua") == _sdp(
        "v=0", "o=b2bua 5 3 IN IP4 192.0.2.10", "s=recette", "c=IN IP4 192.0.2.10", "t=0 0",
        "m=audio 4000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=ptime:30", "a=recvonly")


def test_build_picks_a_session_id_below_two_to_the_31() -> None:
    ids = {int(build("192.0.2.1", 4000).split(b"\r\n")[1].split()[1]) for _ in range(20)}
    assert len(ids) > 1 and all(0 <= i < 2**31 for i in ids)


def test_build_then_parse_round_trip() -> None:
    media = parse(build("192.168.254.10", 16000, session_id=1, ptime=30))
    assert media == MediaDescription(
        address="192.168.254.10", port=16000, payloads=[8, 0, 101],
        rtpmap={8: ("PCMA", 8000), 0: ("PCMU", 8000), 101: ("telephone-event", 8000)},
        fmtp={101: "0-16"}, direction="sendrecv", ptime=30, origin_address="192.168.254.10")
    assert media.event_pt == EVENT_PT
    assert media.first_audio() == (8, "PCMA")


def test_media_level_connection_overrides_session_level() -> None:
    media = parse(_sdp("v=0", "o=- 1 1 IN IP4 198.51.100.1", "s=-", "c=IN IP4 198.51.100.2",
                       "t=0 0", "m=audio 30000 RTP/AVP 0", "c=IN IP4 198.51.100.3/127"))
    assert (media.address, media.origin_address) == ("198.51.100.3", "198.51.100.1")


def test_session_level_connection_applies_when_media_has_none() -> None:
    media = parse(_sdp("v=0", "c=IN IP4 198.51.100.2", "t=0 0", "m=audio 30000 RTP/AVP 0"))
    assert media.address == "198.51.100.2" and media.origin_address is None


def test_only_the_first_audio_stream_counts() -> None:
    media = parse(_sdp(
        "v=0", "c=IN IP4 198.51.100.2", "t=0 0",
        "m=video 40000 RTP/AVP 96", "c=IN IP4 198.51.100.9", "a=rtpmap:96 H264/90000",
        "a=sendonly",
        "m=audio 30000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000", "a=inactive",
        "m=audio 30002 RTP/AVP 8", "c=IN IP4 198.51.100.7", "a=recvonly"))
    assert (media.address, media.port, media.payloads) == ("198.51.100.2", 30000, [0, 96])
    assert media.rtpmap == {96: ("telephone-event", 8000)}
    assert media.direction == "inactive"
    assert media.event_pt == 96


def test_lf_line_ends_junk_lines_and_rtpmap_details() -> None:
    media = parse(b"v=0\nc=IN IP4 192.0.2.4\nnot an sdp line\nx\nm=audio 5004 RTP/AVP 97 13\n"
                  b"a=rtpmap:97 opus/48000/2\na=rtpmap:13 CN\na=rtpmap:x PCMU/8000\n"
                  b"a=ptime:abc\n")
    assert media.rtpmap == {97: ("opus", 48000), 13: ("CN", 8000)}
    assert media.ptime is None
    assert media.first_audio() == (97, "opus")


def test_codec_lookup_static_and_dynamic() -> None:
    media = MediaDescription("192.0.2.1", 4000, [18, 9, 101, 3])
    assert media.codec(18) == ("G729", 8000)
    assert media.codec(9) == ("G722", 8000)
    assert media.codec(3) is None  # GSM: not in the module's static table
    assert media.event_pt is None  # 101 has no rtpmap here
    assert media.first_audio() == (18, "G729")
    assert MediaDescription("192.0.2.1", 4000, [101], {101: ("telephone-event", 8000)}
                            ).first_audio() is None


@pytest.mark.parametrize(("body", "error"), [
    (b"v=0\r\nc=IN IP4 \xff\r\n", "SDP is not UTF-8 text"),
    (_sdp("v=0", "c=IN IP6 2001:db8::1", "m=audio 4000 RTP/AVP 0"),
     "unsupported connection line c=IN IP6 2001:db8::1"),
    (_sdp("v=0", "c=IN IP4", "m=audio 4000 RTP/AVP 0"), "unsupported connection line c=IN IP4"),
    (_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio port RTP/AVP 0"),
     "malformed media line m=audio port RTP/AVP 0"),
    (_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0 PCMU"),
     "malformed media line m=audio 4000 RTP/AVP 0 PCMU"),
    (_sdp("v=0", "c=IN IP4 192.0.2.1", "m=video 4000 RTP/AVP 31"),
     "no audio stream (m=audio) in SDP"),
    (_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP"),
     "no audio stream (m=audio) in SDP"),
    (_sdp("v=0", "o=- 1 1 IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0"),
     "no connection address (c=) for the audio stream"),
    (b"", "no audio stream (m=audio) in SDP"),
], ids=["not-utf8", "ipv6", "no-address", "port-not-number", "format-not-number", "video-only",
        "no-formats", "no-connection", "empty"])
def test_parse_errors_say_what_is_wrong(body: bytes, error: str) -> None:
    with pytest.raises(SdpError) as info:
        parse(body)
    assert str(info.value) == error


@pytest.mark.parametrize(("media", "error"), [
    (("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 opus/abc"), "malformed rtpmap a=rtpmap:96 opus/abc"),
    (("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 opus/\u00b9"), "malformed rtpmap"),
    (("m=audio 4000 RTP/AVP 96", f"a=rtpmap:96 opus/{'4' * 5000}"), "malformed rtpmap"),
    (("m=audio \u00b2 RTP/AVP 0",), "malformed media line m=audio \u00b2 RTP/AVP 0"),
    (("m=audio \u0664\u0660\u0660\u0660 RTP/AVP 0",), "malformed media line"),
    ((f"m=audio {'4' * 5000} RTP/AVP 0",), "malformed media line"),
    (("m=audio 65536 RTP/AVP 0",), "malformed media line m=audio 65536 RTP/AVP 0"),
    (("m=audio 4000 RTP/AVP 0 \u00b2",), "malformed media line m=audio 4000 RTP/AVP 0 \u00b2"),
    ((f"m=audio 4000 RTP/AVP {'1' * 5000}",), "malformed media line"),
    (("m=audio 4000 RTP/AVP 128",), "malformed media line m=audio 4000 RTP/AVP 128"),
], ids=["rtpmap-rate-letters", "rtpmap-rate-superscript", "rtpmap-rate-5000-digits",
        "port-superscript", "port-arabic-indic", "port-5000-digits", "port-over-65535",
        "payload-superscript", "payload-5000-digits", "payload-over-127"])
def test_hostile_numbers_are_sdp_errors(media: tuple[str, ...], error: str) -> None:
    """Numbers that str.isdigit() accepts but int() refuses (or reads from another script), or
    too long for int(), are SdpErrors, never a bare ValueError the callers do not catch."""
    with pytest.raises(SdpError) as info:
        parse(_sdp("v=0", "c=IN IP4 192.0.2.1", *media))
    assert str(info.value).startswith(error)


def test_hostile_numbers_in_optional_attributes_are_skipped() -> None:
    """A payload type or ptime that is not an ASCII number names nothing we use: skipped."""
    media = parse(_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 8 101",
                       "a=rtpmap:\u00b9\u00b9 PCMA/8000", f"a=rtpmap:{'1' * 5000} PCMA/8000",
                       "a=fmtp:\u00b9 0-16", f"a=fmtp:{'1' * 5000} 0-16",
                       "a=ptime:\u00b2\u2070", f"a=ptime:{'2' * 5000}", "a=rtpmap:200 x/8000"))
    assert (media.rtpmap, media.fmtp, media.ptime) == ({}, {}, None)
    assert media.payloads == [8, 101]


def test_port_with_a_port_count_and_rate_defaults() -> None:
    media = parse(_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000/2 RTP/AVP 96 97",
                       "a=rtpmap:96 PCMA", "a=rtpmap:97 telephone-event/8000/1"))
    assert media.port == 4000
    assert media.rtpmap == {96: ("PCMA", 8000), 97: ("telephone-event", 8000)}


def test_answer_keeps_the_offerers_payload_type_and_order() -> None:
    offer = parse(_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 18 0 8 101",
                       "a=rtpmap:101 telephone-event/8000"))
    assert answer_codecs(offer) == (("PCMU", 0, 8000),)
    dynamic = parse(_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 96",
                         "a=rtpmap:96 pcma/8000"))
    assert answer_codecs(dynamic) == (("PCMA", 96, 8000),)
    assert answer_codecs(offer, (("G729", 18, 8000),)) == (("G729", 18, 8000),)


def test_a_new_offer_keeps_the_codec_in_use_when_it_is_offered() -> None:
    """A re-INVITE that moves the media must not switch codecs under a measurement."""
    offer = parse(_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0 8 101"))
    assert answer_codecs(offer, prefer="PCMA") == (("PCMA", 8, 8000),)
    assert answer_codecs(offer, prefer="G729") == (("PCMU", 0, 8000),)  # not offered: first


def test_answer_built_from_the_choice_parses_back() -> None:
    offer = parse(build("198.51.100.20", 30000, codecs=(("PCMU", 0, 8000), ("PCMA", 8, 8000))))
    chosen = answer_codecs(offer, DEFAULT_OFFER)
    answer = parse(build("192.168.254.10", 16000, codecs=chosen))
    assert answer.payloads == [0, 101] and answer.first_audio() == (0, "PCMU")


def test_no_common_codec_lists_the_offer() -> None:
    offer = parse(_sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 18 9 96 3",
                       "a=rtpmap:96 opus/48000/2"))
    with pytest.raises(SdpError) as info:
        answer_codecs(offer)
    assert str(info.value) == ("no common codec: offer has ('G729', 8000), ('G722', 8000), "
                               "('opus', 48000), 3")


# --- the bodies of the RFC 4475 torture messages ------------------------------------------------

# Case -> what the SDP parser makes of the message's body: (address, port, payloads), or the
# SdpError text. The body is the one message.parse frames, or, for a message it refuses, the
# bytes after the blank line (the SDP parser is tested on its own). Every torture SDP has an
# audio stream (most also a video one, which is skipped); four bodies are not usable SDP.
SDP_EXPECTED: dict[str, tuple[str, int, list[int]] | str] = {
    "baddate": ("192.0.2.5", 49217, [0, 12]),
    "badinv01": ("192.0.2.15", 49217, [0, 12]),
    "bcast": ("192.0.2.198", 49217, [0, 12]),
    "clerr": ("192.0.2.155", 49217, [0, 12]),
    "esc01": ("192.0.2.1", 49217, [0, 12]),
    "escruri": ("192.0.2.1", 49217, [0, 12]),
    "insuf": ("192.0.2.95", 49217, [0, 12]),
    "inv2543": ("192.0.2.5", 49217, [0]),
    "invut": "no audio stream (m=audio) in SDP",  # application/unknownformat: not SDP
    "longreq": ("192.0.2.1", 49217, [0, 12]),
    "ltgtruri": ("192.0.2.5", 49217, [0, 12]),
    "lwsruri": ("192.0.2.1", 49217, [0, 12]),
    "lwsstart": ("192.0.2.1", 49217, [0, 12]),
    "mcl01": "no audio stream (m=audio) in SDP",  # text/plain: not SDP
    "mismatch02": ("192.0.2.1", 49217, [0, 12]),
    "mpart01": "SDP is not UTF-8 text",  # multipart/mixed with a binary part: not SDP
    "multi01": ("192.0.2.25", 49217, [0, 12]),
    "ncl": ("192.0.2.53", 49217, [0, 12]),
    "quotbal": ("192.0.2.15", 49217, [0, 12]),
    "sdp01": ("192.0.2.5", 49217, [0, 12]),
    "test": "no audio stream (m=audio) in SDP",  # "v=0", "testing=123": no media line
    "unreason": ("192.0.2.198", 49217, [0, 12]),
    "wsinv": ("192.0.2.4", 49217, [0, 12]),  # its o= says 192.0.2.3: c= decides
}


def _torture_body(data: bytes) -> bytes:
    try:
        return parse_sip(data).body
    except SipParseError:
        return re.split(rb"\r?\n\r?\n", data, maxsplit=1)[1]


@needs_corpus
def test_sdp_table_covers_every_torture_message_with_a_body() -> None:
    with_body = {p.stem for p in TORTURE.glob("*.dat") if _torture_body(p.read_bytes()).strip()}
    assert with_body == set(SDP_EXPECTED)


@needs_corpus
@pytest.mark.parametrize(("name", "expected"), SDP_EXPECTED.items(), ids=SDP_EXPECTED.keys())
def test_rfc4475_sdp_body(name: str, expected: tuple[str, int, list[int]] | str) -> None:
    body = _torture_body((TORTURE / f"{name}.dat").read_bytes())
    if isinstance(expected, str):
        with pytest.raises(SdpError) as info:
            parse(body)
        assert str(info.value) == expected
        return
    media = parse(body)
    assert (media.address, media.port, media.payloads) == expected
