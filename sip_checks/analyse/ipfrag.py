"""IPv4 and IPv6 fragments put back together (a large INVITE over UDP fragments: an SDP with
many codecs, a long Via chain, a certificate in Identity).

Why bounded: a capture is customer data of any size, and fragments whose rest never arrives
(lost, filtered, the capture started late) must not accumulate. At most :data:`MAX_PENDING`
datagrams wait, the oldest dropped first, each at most 64 KiB in at most
:data:`MAX_PIECES` pieces; those given up whose first piece shows SIP are counted
(:attr:`unfinished`) so the analysis can say that a SIP message is missing rather than
that nothing was there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

MAX_PENDING = 256
MAX_PIECES = 64
MAX_DATAGRAM = 65535


@dataclass
class _Pending:
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> data
    total: int | None = None  # known once the last fragment (MF clear) came
    size: int = 0
    first: int = 0  # the frame of its first fragment seen


class Defragmenter:
    """Fragments in, whole transport payloads out (in whatever order the fragments came)."""

    def __init__(self, worth: Callable[[tuple[object, ...], bytes], bool]) -> None:
        """``worth(key, first piece)``: whether a datagram given up counts (it was SIP)."""
        self._pending: dict[tuple[object, ...], _Pending] = {}
        self._worth = worth
        self.unfinished = 0  # datagrams worth it given up (evicted, oversized, incomplete)
        self.first_unfinished = 0  # the first frame of the first of them

    def add(self, key: tuple[object, ...], offset: int, more: bool, data: bytes,
            frame: int) -> bytes | None:
        """One fragment of datagram ``key`` (addresses, identification, protocol); the whole
        payload (transport header included) when this fragment completes it."""
        p = self._pending.get(key)
        if p is None:
            if len(self._pending) >= MAX_PENDING:
                self._give_up(next(iter(self._pending)))
            p = self._pending[key] = _Pending(first=frame)
        if offset + len(data) > MAX_DATAGRAM or len(p.pieces) >= MAX_PIECES:
            self._give_up(key)
            return None
        if offset not in p.pieces or len(p.pieces[offset]) < len(data):
            p.size += len(data) - len(p.pieces.get(offset, b""))
            p.pieces[offset] = data
        if not more:
            p.total = offset + len(data)
        if p.total is None or p.size < p.total:
            return None
        out = bytearray()
        for off in sorted(p.pieces):
            piece = p.pieces[off]
            if off > len(out):
                return None  # a hole: overlapping pieces made size look complete
            out += piece[len(out) - off:]
        if len(out) < p.total:
            return None
        del self._pending[key]
        return bytes(out[:p.total])

    def _give_up(self, key: tuple[object, ...]) -> None:
        p = self._pending.pop(key, None)
        if p is not None and self._worth(key, p.pieces.get(0, b"")):
            self.unfinished += 1
            self.first_unfinished = self.first_unfinished or p.first

    def close(self) -> None:
        """End of capture: what still waits is unfinished."""
        for key in list(self._pending):
            self._give_up(key)
