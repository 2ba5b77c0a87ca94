"""Parse and build SIP messages (RFC 3261 §7) defensively.

The harness must keep every byte it sends and receives as evidence, and must survive hostile
or broken peers: parsing never raises anything but :class:`SipParseError`, and bounds the
size of what it accepts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE = 65535
MAX_HEADER_LINE = 8192
MAX_HEADERS = 256
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l":
            "content-length", "c": "content-type", "k": "supported", "s": "subject",
            "e": "content-encoding"}
_STATUS = re.compile(r"^SIP/2\.0 ([1-6]\d\d) ?(.*)$")
_REQUEST = re.compile(r"^([A-Za-z!%*_+`'~.-]+) (\S+) SIP/2\.0$")


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
        m = _STATUS.match(self.first_line)
        return int(m.group(1)) if m else None

    @property
    def reason(self) -> str:
        m = _STATUS.match(self.first_line)
        return m.group(2) if m else ""

    @property
    def method(self) -> str | None:
        m = _REQUEST.match(self.first_line)
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
        if len(parts) != 2 or not parts[0].isdigit():
            return None
        return int(parts[0]), parts[1]

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
    sep = data.find(b"\r\n\r\n")
    seplen = 4
    if sep < 0:
        sep = data.find(b"\n\n")
        seplen = 2
    if sep < 0:
        raise SipParseError("truncated message: no blank line after the headers")
    try:
        head = data[:sep].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"header bytes are not UTF-8 (offset {exc.start})") from None
    lines = head.replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    if not (_STATUS.match(first) or _REQUEST.match(first)):
        raise SipParseError(f"not a SIP start line: {first[:80]!r}")
    headers: list[tuple[str, str]] = []
    if len(lines) > MAX_HEADERS:
        raise SipParseError(f"{len(lines) - 1} header lines exceed {MAX_HEADERS}")
    for line in lines[1:]:
        if len(line) > MAX_HEADER_LINE:
            raise SipParseError(f"header line of {len(line)} bytes exceeds {MAX_HEADER_LINE}")
        if line[:1] in (" ", "\t"):
            if not headers:
                raise SipParseError("continuation line before any header")
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise SipParseError(f"malformed header line: {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    msg = SipMessage(first, headers, data[sep + seplen:])
    clen = msg.get("Content-Length")
    if clen is not None:
        if not clen.isdigit():
            raise SipParseError(f"Content-Length is not a number: {clen[:20]!r}")
        n = int(clen)
        if n > len(msg.body):
            raise SipParseError(f"truncated body: Content-Length {n}, got {len(msg.body)} bytes")
        msg.body = msg.body[:n]
    for required in ("Via", "CSeq", "Call-ID", "From", "To"):
        if msg.get(required) is None:
            raise SipParseError(f"missing mandatory header {required}")
    cseq = msg.cseq
    if cseq is None or cseq[0] >= 2**31:  # RFC 3261 8.1.1.5: less than 2**31
        raise SipParseError(f"malformed CSeq: {(msg.get('CSeq') or '')[:40]!r}")
    return msg


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
