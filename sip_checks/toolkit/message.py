"""Parse and build SIP messages (RFC 3261 §7) defensively.

The harness must keep every byte it sends and receives as evidence, and must survive hostile
or broken peers: parsing never raises anything but :class:`SipParseError`, and bounds the
size of what it accepts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from sip_checks.toolkit.numbers import uint

MAX_MESSAGE = 65535
MAX_HEADER_LINE = 8192
MAX_HEADERS = 256
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l":
            "content-length", "c": "content-type", "k": "supported", "s": "subject",
            "e": "content-encoding"}
# RFC 3261 §25.1: Status-Code is exactly 3 DIGIT then SP (a trailing SP is stripped with the
# line, as in RFC 4475 noreason); Method is a token (digits included: intmeth, esc02); the
# Request-URI is an absolute URI (scheme ":" ...), so "<sip:...>" (ltgtruri) is refused. The
# classes are spelled out: re's \d and \S are Unicode-wide.
_STATUS = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?")
_TOKEN = r"[A-Za-z0-9!%*_+`'~.-]+"
_REQUEST = re.compile(rf"({_TOKEN}) ([A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f]+) SIP/2\.0")
# The blank line that ends the headers: the first line end (CRLF or LF, RFC 3261 §7.5 asks
# for CRLF; LF-only peers exist) followed by another.
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
# Header fields that a message carries exactly once (RFC 3261 §7.3.1, §20; RFC 4475 multi01).
SINGLE = ("CSeq", "Call-ID", "From", "To")
MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5: less than 2**31


class SipParseError(ValueError):
    """Bytes that are not a SIP message we can trust; the message says what is wrong."""


@dataclass
class SipMessage:
    """A parsed request or response; ``headers`` keeps order and original names."""

    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int | None:
        m = _STATUS.fullmatch(self.first_line)
        return int(m.group(1)) if m else None

    @property
    def reason(self) -> str:
        m = _STATUS.fullmatch(self.first_line)
        return (m.group(2) or "") if m else ""

    @property
    def method(self) -> str | None:
        m = _REQUEST.fullmatch(self.first_line)
        return m.group(1) if m else None

    def get(self, name: str) -> str | None:
        """First value of header ``name`` (compact forms understood), or None."""
        vals = self.get_all(name)
        return vals[0] if vals else None

    def get_all(self, name: str) -> list[str]:
        want = _canon(name)
        return [v for k, v in self.headers if _canon(k) == want]

    @property
    def cseq(self) -> tuple[int, str] | None:
        raw = self.get("CSeq")
        if raw is None:
            return None
        parts = raw.split()
        if len(parts) != 2:
            return None
        number = uint(parts[0], MAX_CSEQ + 1)
        if number is None or number > MAX_CSEQ:
            return None
        return number, parts[1]

    def via_branch(self) -> str | None:
        via = self.get("Via")
        if via is None:
            return None
        m = re.search(r";\s*branch=([^;,\s]+)", via)
        return m.group(1) if m else None


def _canon(name: str) -> str:
    low = name.strip().lower()
    return _COMPACT.get(low, low)


def parse(data: bytes) -> SipMessage:
    """Parse one SIP message from a datagram (or a complete stream frame)."""
    if len(data) > MAX_MESSAGE:
        raise SipParseError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    blank = _BLANK_LINE.search(data)
    if blank is None:
        raise SipParseError("truncated message: no blank line after the headers")
    try:
        head = data[:blank.start()].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"header bytes are not UTF-8 (offset {exc.start})") from None
    lines = head.replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    if not (_STATUS.fullmatch(first) or _REQUEST.fullmatch(first)):
        raise SipParseError(f"not a SIP start line: {first[:80]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise SipParseError(f"{len(lines) - 1} header lines exceed {MAX_HEADERS}")
    msg = SipMessage(first, _headers(lines[1:]), data[blank.end():])
    _check_single(msg)
    _frame_body(msg)
    for required in ("Via", "CSeq", "Call-ID", "From", "To"):
        if msg.get(required) is None:
            raise SipParseError(f"missing mandatory header {required}")
    if msg.cseq is None:
        raise SipParseError(f"malformed CSeq: {(msg.get('CSeq') or '')[:40]!r}")
    return msg


def _headers(lines: list[str]) -> list[tuple[str, str]]:
    """Header fields in order, folded lines joined with one space (RFC 3261 §7.3.1).

    Folded parts are collected and joined once, so a run of continuation lines costs linear
    time, not one copy of the growing value per line."""
    names: list[str] = []
    parts: list[list[str]] = []
    for line in lines:
        if len(line) > MAX_HEADER_LINE:
            raise SipParseError(f"header line of {len(line)} bytes exceeds {MAX_HEADER_LINE}")
        if line[:1] in (" ", "\t"):
            if not parts:
                raise SipParseError("continuation line before any header")
            parts[-1].append(line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise SipParseError(f"malformed header line: {line[:80]!r}")
        names.append(name.strip())
        parts.append([value.strip()])
    return [(name, " ".join(p for p in value if p)) for name, value in zip(names, parts,
                                                                          strict=True)]


def _check_single(msg: SipMessage) -> None:
    """Refuse a second CSeq, Call-ID, From or To: which one a transaction or dialog belongs to
    would be the reader's guess (RFC 4475 multi01 expects 400)."""
    for name in SINGLE:
        if len(msg.get_all(name)) > 1:
            raise SipParseError(f"duplicate header {name}")


def _frame_body(msg: SipMessage) -> None:
    """Cut the body to Content-Length. Two different lengths are a framing error (RFC 4475
    mcl01): the body would be whichever the reader picked. The same length repeated frames
    the body unambiguously, so it is accepted (lenient on a harmless duplicate)."""
    values = {v for v in msg.get_all("Content-Length")}
    if not values:
        return  # allowed over UDP: the body is the rest of the datagram (RFC 3261 §18.3)
    if len(values) > 1:
        shown = ", ".join(sorted(repr(v[:20]) for v in values))
        raise SipParseError(f"different Content-Length values: {shown}")
    clen = values.pop()
    n = uint(clen, MAX_MESSAGE + 1)
    if n is None:
        raise SipParseError(f"Content-Length is not a number: {clen[:20]!r}")
    if n > len(msg.body):
        raise SipParseError(f"truncated body: Content-Length {clen[:20]}, got "
                            f"{len(msg.body)} bytes")
    msg.body = msg.body[:n]


def new_branch() -> str:
    """An RFC 3261 branch (magic cookie + random) unique per transaction."""
    return "z9hG4bK" + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(10)}@{host}"


def build_request(
    method: str,
    uri: str,
    *,
    via_host: str,
    via_port: int,
    from_uri: str,
    to_uri: str,
    call_id: str,
    cseq: int,
    transport: str = "UDP",
    branch: str | None = None,
    from_tag: str | None = None,
    extra: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    user_agent: str = "recette",
) -> bytes:
    """Serialise a request exactly as it will go on the wire (kept as evidence)."""
    headers = [
        ("Via", f"SIP/2.0/{transport.upper()} {via_host}:{via_port};branch="
                f"{branch or new_branch()};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<{from_uri}>;tag={from_tag or new_tag()}"),
        ("To", f"<{to_uri}>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
        ("User-Agent", user_agent),
        *(extra or []),
        ("Content-Length", str(len(body))),
    ]
    text = f"{method} {uri} SIP/2.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return text.encode() + body
