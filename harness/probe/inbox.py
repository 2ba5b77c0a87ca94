"""What the probe's SIP listeners keep: only what a requester announced, for a while.

The SIP ports of an outsider probe are open to the internet, where scanners send OPTIONS to
every public 5060 all day. Keeping every datagram (as the first probe did) is a slow memory
leak, so the agent announces each Call-ID it is about to send (``POST /expect``, signed like
every request) and the probe keeps only messages that carry an announced Call-ID **and** come
from the address that announced it, for :data:`EXPECT_TTL_S` and within byte and message
quotas per requester and overall. Everything else is counted by reason and dropped; the
totals are in ``GET /health``. A datagram from an address that announced nothing is dropped
after one dictionary look-up, without parsing, so a flood costs little CPU and no memory.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

EXPECT_TTL_S = 60.0  # an announced Call-ID is kept this long (the checks need a few seconds)
MAX_CALL_ID = 256  # characters of one announced Call-ID
MAX_EXPECTED = 64  # announced Call-IDs per requester; more evicts the oldest
MAX_KEPT_PER_CALL = 8  # messages kept per Call-ID (a UA retransmits a few times)
MAX_BYTES_PER_REQUESTER = 256 * 1024
MAX_BYTES_TOTAL = 8 * 1024 * 1024
MAX_REQUESTERS = 256
HEADER_SCAN = 8192  # the Call-ID is looked for in the first bytes only

# Why a message was not kept: from an address that announced nothing; a Call-ID it did not
# announce (or expired); over a quota; a TCP message over MAX_SIP_MESSAGE; a TCP stream with
# no SIP framing (bad Content-Length); a TCP connection refused over the connection limits;
# a TCP connection closed idle or at the end of its lifetime.
DROP_REASONS = ("unannounced", "unmatched", "full", "oversize", "unframed", "busy", "idle")


class TooManyRequesters(Exception):
    """Every requester slot holds live announcements: the probe refuses a new one (429)."""


@dataclass
class Kept:
    """One message kept for its requester."""

    proto: str
    port: int
    src: tuple[str, int]
    at: float
    data: bytes

    def doc(self) -> dict[str, Any]:
        return {"proto": self.proto, "port": self.port, "src": list(self.src), "at": self.at,
                "data": base64.b64encode(self.data).decode()}


@dataclass
class _Expected:
    expires: float
    kept: list[Kept] = field(default_factory=list)


@dataclass
class _Requester:
    calls: dict[str, _Expected] = field(default_factory=dict)  # insertion order: oldest first
    bytes: int = 0


def call_id_of(data: bytes) -> str | None:
    """The Call-ID header's value (long or compact form), looked for in the header part."""
    head = data[:HEADER_SCAN]
    end = head.find(b"\r\n\r\n")
    if end >= 0:
        head = head[:end]
    for line in head.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in (b"call-id", b"i"):
            return value.strip().decode(errors="replace")
    return None


class SipInbox:
    """The bounded store behind ``/expect``, ``/received`` and ``/udp-reflect``; thread-safe
    (the UDP and TCP listener threads offer, the control channel reads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._by_ip: dict[str, _Requester] = {}
        self._bytes = 0
        self.kept = 0
        self.dropped: Counter[str] = Counter()

    def expect(self, requester: str, call_ids: Iterable[str]) -> int:
        """Announce Call-IDs from ``requester``; returns how many are now awaited."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            r = self._by_ip.get(requester)
            if r is None:
                if len(self._by_ip) >= MAX_REQUESTERS:
                    raise TooManyRequesters
                r = self._by_ip[requester] = _Requester()
            for cid in call_ids:
                if cid in r.calls:
                    r.calls[cid].expires = now + EXPECT_TTL_S
                    continue
                while len(r.calls) >= MAX_EXPECTED:
                    self._forget(r, next(iter(r.calls)))
                r.calls[cid] = _Expected(now + EXPECT_TTL_S)
            return len(r.calls)

    def offer(self, data: bytes, src: tuple[str, int], proto: str, port: int) -> bool:
        """One SIP message arrived: keep it if announced, else count why not."""
        if src[0] not in self._by_ip:  # the flood's path: no parsing, no lock for the test
            self._count("unannounced")
            return False
        cid = call_id_of(data)
        now = self._clock()
        with self._lock:
            r = self._by_ip.get(src[0])
            exp = r.calls.get(cid) if r is not None and cid is not None else None
            if r is None or exp is None or exp.expires < now:
                self.dropped["unmatched" if r is not None else "unannounced"] += 1
                return False
            size = len(data)
            if (len(exp.kept) >= MAX_KEPT_PER_CALL or r.bytes + size > MAX_BYTES_PER_REQUESTER
                    or self._bytes + size > MAX_BYTES_TOTAL):
                self.dropped["full"] += 1
                return False
            exp.kept.append(Kept(proto, port, src, time.time(), bytes(data)))
            r.bytes += size
            self._bytes += size
            self.kept += 1
            return True

    def messages(self, requester: str, call_id: str) -> list[Kept]:
        """What was kept for ``requester`` under ``call_id`` (nothing once it expired)."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            r = self._by_ip.get(requester)
            exp = r.calls.get(call_id) if r is not None else None
            return list(exp.kept) if exp is not None else []

    def count(self, reason: str) -> None:
        """A message the listeners dropped before it could be offered (TCP framing)."""
        self._count(reason)

    def _count(self, reason: str) -> None:
        with self._lock:
            self.dropped[reason] += 1

    def totals(self) -> dict[str, Any]:
        """For ``/health``: counts only, no address or content."""
        with self._lock:
            self._purge(self._clock())
            return {"kept": self.kept,
                    "dropped": {r: self.dropped.get(r, 0) for r in DROP_REASONS},
                    "held_bytes": self._bytes, "requesters": len(self._by_ip)}

    def _forget(self, r: _Requester, cid: str) -> None:
        exp = r.calls.pop(cid)
        size = sum(len(k.data) for k in exp.kept)
        r.bytes -= size
        self._bytes -= size

    def _purge(self, now: float) -> None:
        """Drop expired announcements and requesters left with none (under the lock)."""
        for ip in list(self._by_ip):
            r = self._by_ip[ip]
            for cid in [c for c, e in r.calls.items() if e.expires < now]:
                self._forget(r, cid)
            if not r.calls:
                del self._by_ip[ip]
