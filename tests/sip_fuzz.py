"""A mutation fuzzer for the SIP stack's readers of a peer's bytes, shared by the short seeded
run in the suite (tests/unit/test_sip_fuzz.py) and the long one (bench/sip_fuzz.py).

Seeds are real messages: the RFC 4475 torture set when present (tests/rfc4475.py) and the
messages in tests/data (what Linux nf_nat_sip and Kamailio wrote in the ALG and registrar
cases), so mutations start from what parsers meet and stay near the paths that matter.
Each example goes through :func:`check`, which feeds the message parser, the SDP parser, the
digest challenge reader, the Via reader, the capture analysis's lenient reading and TCP
framing, and the live endpoint's receive path, and reports the
parse time, the parser's peak memory and any exception that is not the declared one.
"""

from __future__ import annotations

import contextlib
import re
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from sip_checks.analyse.fields import LenientRefusal, read_message
from sip_checks.analyse.tcp import SipStream
from sip_checks.toolkit import digest, sdp
from sip_checks.toolkit.endpoint import DROPPED, KEEPALIVE_NOTE, SipEndpoint
from sip_checks.toolkit.message import MAX_MESSAGE, SipParseError, parse
from sip_checks.toolkit.via import via_seen
from tests.rfc4475 import TORTURE

DATA = Path(__file__).resolve().parent / "data"
_DIGITS = re.compile(rb"[0-9]+")


# SIPp's keywords in the scenarios of tests/data/sipp, given the lab's values.
_SIPP_FIELDS = {"service": "0899000000", "field0": "trunk01", "field2": "198.51.100.20",
                "transport": "UDP", "local_ip": "192.168.254.10", "local_port": "5062",
                "media_ip": "192.168.254.10", "media_port": "16000", "pid": "4242",
                "call_number": "1", "call_id": "1-4242@192.168.254.10",
                "branch": "z9hG4bK-4242-1-0", "peer_tag_param": ";tag=a28e7b77",
                "media_ip_type": "4", "remote_ip": "198.51.100.20", "remote_port": "5060",
                "next_url": "sip:0899000000@198.51.100.20:5060",
                "routes": "Route: <sip:198.51.100.20;lr>",
                "last_To": "To: <sip:0899000000@198.51.100.20>;tag=a28e7b77",
                "field1": 'Authorization: Digest username="trunk01", '
                'realm="sip.recette.example", nonce="ZTk2", uri="sip:x", response="00"',
                "authentication": 'Authorization: Digest username="trunk01", realm="r", '
                'nonce="n", uri="sip:x", response="00"'}


def _sipp_messages(scenario: str) -> list[bytes]:
    """The messages a SIPp scenario sends, its keywords filled in, lines stripped, CRLF line
    ends, [len] the body's length: what SIPp puts on the wire in the lab."""
    out = []
    for block in re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", scenario, re.DOTALL):
        text = re.sub(r"\[(\w+)(?::[^\]]*)?\]",
                      lambda m: _SIPP_FIELDS.get(m.group(1), m.group(0)),
                      "\n".join(line.strip() for line in block.strip().split("\n")))
        head, _, body = text.partition("\n\n")
        body_bytes = body.replace("\n", "\r\n").encode()
        head = head.replace("[len]", str(len(body_bytes)))
        out.append(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body_bytes)
    return out


def seeds() -> list[bytes]:
    """Every real message we have, torture set first (sorted: the order is the seed)."""
    paths = sorted(TORTURE.glob("*.dat")) if TORTURE.is_dir() else []
    paths += sorted(DATA.glob("alg/*/*.txt")) + sorted(DATA.glob("alg_registrar/*/*.txt"))
    paths += sorted(DATA.glob("sip/seeds/*.txt"))
    found = [p.read_bytes() for p in paths]
    for scenario in sorted(DATA.glob("sipp/*.xml")):
        found += _sipp_messages(scenario.read_text())
    return found


# Fragments that hit the parsers' edges: numbers int() refuses or reads from another script,
# numbers past every bound, line ends of every kind, separators, header names the parsers act
# on, and a long run without "=" (the digest reader's old quadratic case).
TOKENS: tuple[bytes, ...] = tuple(t.encode() for t in (
    "\u00b2", "\u0663", "\u00b9\u2070", "9" * 5000, "0" * 4400 + "1", "4294967301", "2147483648",
    "65536", "-1", "\r\n", "\n", "\r", "\r\n\r\n", "\n\n", "\r\n ", "\t", ":", ";", ",", "=",
    '"', "\\", "<", ">", "%", "\x00", "\xff", "SIP/2.0 ", "SIP/2.0 200 OK\r\n",
    "Content-Length: ", "l: ", "CSeq: ", "Call-ID: ", "From: ", "To: ", "Via: ", "Expires: ",
    "Contact: <sip:a@192.0.2.1:5060>;expires=", "WWW-Authenticate: Digest realm=",
    "Proxy-Authenticate: Digest ", 'realm="a\\", evil=\\"x", nonce="n"', "a" * 8000,
    "m=audio ", "c=IN IP4 ", "a=rtpmap:", "a=fmtp:", "a=ptime:", " RTP/AVP ", "v=0\r\n",
))

# Where the readers take numbers, quoted strings and separators from: a "field" mutation
# puts a token right after one of these.
FIELDS: tuple[bytes, ...] = (
    b"SIP/2.0 ", b"\nCSeq: ", b"\nContent-Length: ", b"\nl: ", b"\nExpires: ", b"expires=",
    b"rport=", b"received=", b"Digest ", b'realm="', b'nonce="', b"qop=", b"algorithm=",
    b"m=audio ", b" RTP/AVP ", b"a=rtpmap:", b"a=fmtp:", b"a=ptime:", b"c=IN IP4 ", b"/8000",
    b"\nCall-ID: ", b"\nFrom: ", b"\nTo: ", b"\nVia: ", b"\nContact: ", b"branch=",
)
_WORD = re.compile(rb"[^ \r\n;,/\"]*")

MUTATION = st.tuples(
    st.sampled_from(("flip", "insert", "token", "value", "number", "field", "delete", "repeat",
                     "dup_line", "lf_only", "truncate")),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.binary(max_size=16),
    st.integers(min_value=0, max_value=len(TOKENS) - 1),
    st.integers(min_value=1, max_value=4096),
)
Mutation = tuple[str, float, float, bytes, int, int]


def mutate(seed: bytes, mutations: list[Mutation]) -> bytes:
    """Apply ``mutations`` in order; positions are fractions of the current length, so a
    mutation means the same thing on a short or a long message. The result is capped a little
    past the parser's 64 kB bound, so both sides of the bound are exercised."""
    data = seed
    for op, at, span, blob, token, times in mutations:
        i = int(at * len(data))
        j = min(len(data), i + 1 + int(span * 64))
        if op == "flip" and data:
            i = min(i, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ (blob[0] if blob else 0x20)]) + data[i + 1:]
        elif op == "insert":
            data = data[:i] + blob + data[i:]
        elif op == "token":
            data = data[:i] + TOKENS[token] + data[i:]
        elif op == "value":  # the value of the header line at i becomes (or gains) a token
            start = data.rfind(b"\n", 0, i) + 1
            colon = data.find(b":", start)
            end = data.find(b"\r\n", start)
            if 0 <= colon < (end if end >= 0 else len(data)):
                keep = data[colon + 1:end] if times % 2 and end >= 0 else b" "
                data = data[:colon + 1] + keep + TOKENS[token] + (data[end:] if end >= 0 else b"")
        elif op == "field":  # the first word after a field the readers act on becomes a token
            at_field = data.find(FIELDS[token % len(FIELDS)])
            if at_field >= 0:
                k = at_field + len(FIELDS[token % len(FIELDS)])
                m = _WORD.match(data, k)
                end = m.end() if m else k
                data = data[:k] + TOKENS[times % len(TOKENS)] + data[end:]
        elif op == "number":  # the next run of digits becomes a token
            m = _DIGITS.search(data, i) or _DIGITS.search(data)
            if m:
                data = data[:m.start()] + TOKENS[token] + data[m.end():]
        elif op == "delete":
            data = data[:i] + data[j:]
        elif op == "repeat":
            data = data[:i] + data[i:j] * times + data[j:]
        elif op == "dup_line":
            start = data.rfind(b"\n", 0, i) + 1
            end = data.find(b"\n", i)
            line = data[start:end + 1] if end >= 0 else data[start:] + b"\r\n"
            data = data[:start] + line * min(times, 300) + data[start:]
        elif op == "lf_only":
            data = data.replace(b"\r\n", b"\n")
        elif op == "truncate":
            data = data[:i]
        data = data[:MAX_MESSAGE + 64]
    return data


@dataclass
class Outcome:
    """What one message did: parsed or refused, how long the message parse took and how much
    memory it peaked at, and every undeclared exception (which must stay empty)."""

    size: int
    parsed: bool
    seconds: float
    peak_bytes: int
    undeclared: list[str]
    readers_seconds: float = 0.0  # SDP, digest, Via and endpoint on the same bytes


def _parse_timed(data: bytes) -> tuple[bool, float]:
    start = time.perf_counter()
    try:
        parse(data)
        ok = True
    except SipParseError:
        ok = False
    return ok, time.perf_counter() - start


def retime(data: bytes, runs: int = 5) -> float:
    """The best of ``runs`` parse times of ``data``: what the parser costs, without the
    machine's pauses."""
    return min(_parse_timed(data)[1] for _ in range(runs))


def check(data: bytes, *, memory: bool = True) -> Outcome:
    """Run every reader on ``data``; an exception other than the reader's declared one is
    recorded (type, message, reader), not raised, so a long run counts them all."""
    undeclared: list[str] = []

    def guard(where: str, fn: Callable[..., object],
              declared: tuple[type[Exception], ...], *args: object,
              **kwargs: object) -> object:
        try:
            return fn(*args, **kwargs)
        except declared:
            return None
        except Exception as exc:
            undeclared.append(f"{where}: {type(exc).__name__}: {str(exc)[:120]}")
            return None

    try:
        parsed, seconds = _parse_timed(data)
    except Exception as exc:
        undeclared.append(f"message.parse: {type(exc).__name__}: {str(exc)[:120]}")
        return Outcome(len(data), False, 0.0, 0, undeclared)
    peak = 0
    if memory:
        tracemalloc.start()
        with contextlib.suppress(SipParseError):
            parse(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    readers_start = time.perf_counter()
    if parsed:
        msg = parse(data)
        _ = (msg.status, msg.reason, msg.method, msg.cseq, msg.via_branch())
        guard("sdp.parse(body)", sdp.parse, (sdp.SdpError,), msg.body)
        guard("via_seen", via_seen, (), msg)  # declared: no exception at all
        for name in ("WWW-Authenticate", "Proxy-Authenticate"):
            for value in msg.get_all(name):
                guard("digest.parse_challenge", digest.parse_challenge, (digest.DigestError,),
                      value)
    guard("sdp.parse(raw)", sdp.parse, (sdp.SdpError,), data)
    for line in data.split(b"\n")[:64]:
        text = line.decode("utf-8", "replace")
        guard("digest.parse_challenge(line)", digest.parse_challenge, (digest.DigestError,),
              text.partition(":")[2] or text)
    # The capture analysis's readers: the lenient second reading, and TCP framing of the
    # message cut in two segments then flushed.
    guard("analyse.read_message", read_message, (LenientRefusal,), data, datagram=True)
    stream = SipStream(resync=False)
    guard("analyse.SipStream.feed", stream.feed, (), data[:len(data) // 2], 1, 0.0)
    guard("analyse.SipStream.feed", stream.feed, (), data[len(data) // 2:], 2, 0.0)
    guard("analyse.SipStream.flush", stream.flush, ())
    ep = SipEndpoint()
    guard("endpoint.datagram_received", ep.datagram_received, (), data, ("192.0.2.1", 5060))
    keepalive = data.strip(b"\r\n") == b""
    if len(ep.wire) != 1 or ep.wire[0].data != data:
        undeclared.append(f"endpoint: {len(ep.wire)} wire records for one datagram")
    elif keepalive != (ep.wire[0].note == KEEPALIVE_NOTE) or (
            not keepalive and parsed == ep.wire[0].note.startswith(DROPPED)):
        undeclared.append(f"endpoint: note {ep.wire[0].note[:80]!r} but parsed={parsed}")
    return Outcome(len(data), parsed, seconds, peak, undeclared,
                   time.perf_counter() - readers_start)
