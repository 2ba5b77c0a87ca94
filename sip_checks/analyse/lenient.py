"""SIP start lines found in any bytes, and a lenient second reading of what the strict parser
refuses.

Why a second reading: the toolkit's strict parser (:func:`sip_checks.toolkit.message.parse`)
guards the live checks against hostile peers, so it refuses a message whose Content-Length
disagrees with its body, a duplicated Call-ID, a missing Max-Forwards, a double space in the
request line. A capture's analysis must instead see what the equipment saw: such a message
still moved a call forward on the wire (a SIP ALG that rewrote the SDP without fixing
Content-Length is the common case), and dropping it turns a call with two-way media into
"INVITE got no final response". So it is read here, as far as its text allows, and kept
flagged with the strict parser's reason as evidence. What no reading can use (no start line,
an unusable status code or request URI, more than 64 KiB) is refused with
:class:`LenientRefusal`, one line saying why; nothing else is raised.

Why start lines: SIP is found on any port by its first line (``METHOD sip:... SIP/2.0`` or
``SIP/2.0 NNN``), the way a support engineer spots it, not by tshark's port registry. The
detection pattern is stricter than the lenient reading (an upper-case method, an absolute
URI, single spaces) so that other text protocols on unusual ports are not taken for SIP.
"""

from __future__ import annotations

import re

from sip_checks.toolkit.message import MAX_HEADER_LINE, MAX_HEADERS, MAX_MESSAGE, SipMessage
from sip_checks.toolkit.numbers import uint

MAX_START = 1100  # bytes: a first line longer than this is not a start line
# Detection: a whole first line, at a line start. Methods of real equipment are upper case.
_START = (rb"(?:SIP/2\.0 [1-6][0-9][0-9](?: [^\r\n]*)?"
          rb"|[A-Z][A-Z0-9_.!%*+`'~-]{1,31} [A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f]+ SIP/2\.0"
          rb")\r?\n")
START = re.compile(_START)
_START_IN = re.compile(rb"(?m)^" + _START)
_LIKELY = re.compile(rb"SIP/2\.0 [1-6]|[A-Z][A-Z0-9_.!%*+`'~-]{1,31} (?:sips?|tel):")
BLANK = re.compile(rb"\r?\n\r?\n")
_CSEQ_LINE = re.compile(rb"(?im)^cseq[ \t]*:")
# The lenient reading's first lines: any run of blanks between the parts, any case for the
# version, a request URI with blanks inside it (RFC 4475 lwsruri) or between <> (ltgtruri).
_STATUS = re.compile(r"SIP/2\.0\s+([0-9]+)(?:\s+(.*))?", re.IGNORECASE)
_REQUEST = re.compile(r"([A-Za-z0-9!%*_+`'~.-]+)\s+(.+?)\s+SIP/2\.0", re.IGNORECASE)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f]+")
_WS = re.compile(r"\s+")


class LenientRefusal(ValueError):
    """Bytes even the lenient reading cannot use as a SIP message (the reason, one line)."""


def is_start(data: bytes | bytearray, pos: int = 0) -> bool:
    """Whether a SIP start line (and its line end) begins at ``data[pos]``."""
    return START.match(data, pos) is not None


def looks_like_start(data: bytes) -> bool:
    """Whether a TCP segment opens a SIP message: a whole start line, or the beginning of
    one cut by the segment's end (a message split into small segments)."""
    return START.match(data) is not None or (b"\n" not in data and _LIKELY.match(data) is not None)


def find_start(data: bytes | bytearray, pos: int = 0, *, whole: bool = False) -> int:
    """The offset of the first SIP start line at a line start at or after ``pos``, -1 if
    none. ``whole``: only one followed by a complete header block naming a CSeq, so that a
    message/sipfrag body (``SIP/2.0 200 OK`` alone) is not taken for the next message."""
    while True:
        m = _START_IN.search(data, pos)
        if m is None:
            return -1
        if not whole:
            return m.start()
        blank = BLANK.search(data, m.end() - 2)
        if blank is not None and _CSEQ_LINE.search(data, m.end(), blank.start()):
            return m.start()
        pos = m.end()


def content_length(head: bytes) -> int | None:
    """The first Content-Length (or ``l``) of a header block, None if absent or not a
    number."""
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() in (b"content-length", b"l"):
            return uint(value.decode("ascii", "replace").strip(), MAX_MESSAGE + 1)
    return None


def first_line(text: str) -> str:
    """The normalised first line (one space between parts, ``<>`` and blanks out of the
    request URI); raises :class:`LenientRefusal` when it is no SIP start line."""
    text = text.strip()
    m = _STATUS.fullmatch(text)
    if m:
        code = m.group(1)
        if len(code) != 3 or not "100" <= code <= "699":
            raise LenientRefusal(f"status code {code[:12]} is not 100 to 699")
        reason = _WS.sub(" ", m.group(2) or "").strip()
        return f"SIP/2.0 {code} {reason}".rstrip() if reason else f"SIP/2.0 {code}"
    m = _REQUEST.fullmatch(text)
    if m is None:
        raise LenientRefusal(f"no SIP start line: {text[:60]!r}")
    uri = _WS.sub("", m.group(2)).strip("<>")
    if not _URI.fullmatch(uri):
        raise LenientRefusal(f"request URI unreadable: {m.group(2)[:60]!r}")
    return f"{m.group(1)} {uri} SIP/2.0"


def read(data: bytes, *, datagram: bool) -> SipMessage:
    """The message in ``data`` read leniently: malformed header lines skipped, folded lines
    joined, duplicates kept (the first one counts), no header required. The body is what
    follows the blank line; in a datagram it is cut to Content-Length only when what lies
    beyond is blank or another message (RFC 4475 dblreq), not when it is body text an ALG
    added without fixing the length."""
    if len(data) > MAX_MESSAGE:
        raise LenientRefusal(f"message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    data = data.lstrip(b"\r\n")
    blank = BLANK.search(data)
    head, body = (data[:blank.start()], data[blank.end():]) if blank else (data, b"")
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    start = first_line(lines[0])
    names: list[str] = []
    parts: list[list[str]] = []
    for line in lines[1:]:
        if len(line) > MAX_HEADER_LINE:
            continue
        if line[:1] in (" ", "\t"):
            if parts:
                parts[-1].append(line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip() or len(names) >= MAX_HEADERS:
            continue
        names.append(name.strip())
        parts.append([value.strip()])
    headers = [(n, " ".join(p for p in v if p)) for n, v in zip(names, parts, strict=True)]
    declared = content_length(head)
    if datagram and declared is not None and declared < len(body) and trailing(body[declared:]):
        body = body[:declared]
    return SipMessage(start, headers, body)


def trailing(extra: bytes) -> bool:
    """Whether bytes after a datagram's declared body are harmless trailing octets: blanks,
    NULs, or another whole message (RFC 4475 dblreq), rather than body text."""
    return not extra.strip(b"\r\n\t \x00") or is_start(extra.lstrip(b"\r\n"))
