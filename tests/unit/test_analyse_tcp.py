"""TCP reassembly and SIP framing (sip_checks/analyse/tcp.py): segments in any order,
retransmitted or overlapping, give each message once, whole, cited at the frame of its last
byte; several messages in one segment are cut by Content-Length; a lying Content-Length is
cut at the next start line and reported; a gap the capture never fills is counted; memory
stays bounded."""

from __future__ import annotations

from sip_checks.analyse.tcp import MAX_BUFFER, FlowKey, Framed, SipStream, TcpReader

A, B = b"\xc0\x00\x02\x02", b"\xc6\x33\x64\x0a"
KEY: FlowKey = (0, A, 40001, B, 5060)
SDP = b"v=0\r\nc=IN IP4 192.0.2.2\r\nm=audio 16000 RTP/AVP 8\r\n"


def _msg(first: str, cseq: str, body: bytes = b"", length: int | None = None) -> bytes:
    n = len(body) if length is None else length
    return (f"{first}\r\nCall-ID: c\r\nCSeq: {cseq}\r\nContent-Length: {n}\r\n\r\n".encode()
            + body)


INVITE = _msg("INVITE sip:b@x SIP/2.0", "1 INVITE", SDP)
OK = _msg("SIP/2.0 200 OK", "1 INVITE", SDP)
OPTIONS = _msg("OPTIONS sip:a@y SIP/2.0", "7 OPTIONS")


def _reader(ports: frozenset[int] = frozenset({5060})) -> tuple[TcpReader, list[Framed]]:
    got: list[Framed] = []
    return TcpReader(ports, lambda key, framed: got.append(framed)), got


def test_two_messages_in_one_segment_are_both_read() -> None:
    r, got = _reader()
    r.segment(KEY, 100, 0x02, b"", 1, 0.0)
    r.segment(KEY, 101, 0x18, OK + OPTIONS, 2, 0.5)
    assert [f.raw for f in got] == [OK, OPTIONS] and [f.frame for f in got] == [2, 2]
    assert all(f.length is None and f.note == "" for f in got)


def test_out_of_order_and_retransmitted_segments_give_the_message_once() -> None:
    r, got = _reader()
    r.segment(KEY, 0xFFFFFF00, 0x02, b"", 1, 0.0)  # the sequence wraps inside the message
    base = 0xFFFFFF01
    parts = [(base, INVITE[:50]), (base + 50, INVITE[50:120]), (base + 120, INVITE[120:])]
    for n, (seq, data) in enumerate([parts[2], parts[0], parts[0], parts[1]], start=2):
        r.segment(KEY, seq & 0xFFFFFFFF, 0x18, data, n, n / 10)
    assert [f.raw for f in got] == [INVITE]
    assert got[0].frame == 5  # where it became whole, as Wireshark cites it


def test_an_overlap_delivers_only_the_new_bytes() -> None:
    r, got = _reader()
    r.segment(KEY, 0, 0x18, OK[:40], 1, 0.0)
    r.segment(KEY, 20, 0x18, OK[20:], 2, 0.1)
    assert [f.raw for f in got] == [OK]


def test_sip_on_an_unknown_port_is_found_by_its_first_bytes() -> None:
    r, got = _reader()
    key: FlowKey = (0, A, 40001, B, 8080)
    r.segment(key, 9, 0x02, b"", 1, 0.0)
    r.segment(key, 30, 0x18, INVITE[20:], 3, 0.2)  # early: held until the first bytes come
    r.segment(key, 10, 0x18, INVITE[:20], 2, 0.1)
    http: FlowKey = (0, A, 40002, B, 8081)
    r.segment(http, 0, 0x02, b"", 4, 0.3)
    r.segment(http, 1, 0x18, b"GET / HTTP/1.1\r\n\r\n" + INVITE, 5, 0.4)
    assert [f.raw for f in got] == [INVITE] and http not in r.flows


def test_a_named_port_joined_midway_resyncs_on_the_next_start_line() -> None:
    r, got = _reader(frozenset({5080}))
    key: FlowKey = (0, A, 40001, B, 5080)
    r.segment(key, 500, 0x18, SDP[10:] + OPTIONS, 1, 0.0)
    r.close()
    assert [f.raw for f in got] == [OPTIONS]


def test_a_content_length_too_small_is_cut_at_the_next_start_line() -> None:
    s = SipStream(resync=False)
    grown = _msg("INVITE sip:b@x SIP/2.0", "1 INVITE", SDP, length=len(SDP) - 7)
    got = s.feed(grown + OPTIONS, 1, 0.0)
    assert [f.raw for f in got] == [grown, OPTIONS]
    assert got[0].length == (len(SDP) - 7, len(SDP)) and "next start line" in got[0].note


def test_a_content_length_too_large_is_cut_at_the_next_message() -> None:
    s = SipStream(resync=False)
    shrunk = _msg("INVITE sip:b@x SIP/2.0", "1 INVITE", SDP, length=len(SDP) + 30)
    got = s.feed(shrunk, 1, 0.0)
    assert got == []  # the rest of the body may still come
    got = s.feed(OPTIONS, 2, 0.1)
    assert [f.raw for f in got] == [shrunk, OPTIONS] and got[0].frame == 1
    assert got[0].length == (len(SDP) + 30, len(SDP))


def test_the_last_message_cut_short_is_flushed_without_blaming_an_alg() -> None:
    s = SipStream(resync=False)
    s.feed(INVITE[:-5], 1, 0.0)
    (got,) = s.flush()
    assert got.raw == INVITE[:-5] and got.length is None and "cut short" in got.note


def test_a_gap_never_filled_is_counted_and_reading_resumes() -> None:
    r, got = _reader()
    r.segment(KEY, 0, 0x18, INVITE[:30], 1, 0.0)
    r.segment(KEY, len(INVITE) + 5, 0x18, OPTIONS, 2, 0.1)  # 5 + the INVITE's rest missing
    r.close()
    assert [f.raw for f in got] == [OPTIONS]
    assert [(g.frame, g.missing) for g in r.gaps] == [(2, len(INVITE) - 30 + 5)]


def test_memory_is_bounded_on_a_stream_that_never_frames() -> None:
    s = SipStream(resync=False)
    s.feed(b"INVITE sip:b@x SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Length: 10\r\n\r\n", 1, 0.0)
    for n in range(100):
        s.feed(b"x" * 4096 + b"\r\n", n + 2, 0.0)
        assert len(s.buf) <= MAX_BUFFER + 4100
