"""SIP over TCP: each direction's bytes put back in order, then cut into messages.

Why here and not in tshark: tshark only reassembles what it dissects as SIP, which is decided
by its port registry (a SIP trunk on TCP 5080 or 8060 is read as something else). Here a
direction is read as SIP when it is on a SIP port (5060 and ``--sip-port``), or when the
first bytes of the connection (or, joined midway, of a segment) are a SIP start line.

Reassembly (:class:`TcpReader`): segments are delivered in sequence order; one that comes
early is held until the gap before it fills; retransmissions and overlaps are trimmed to the
bytes not yet delivered. Memory is bounded per direction (:data:`MAX_HELD` bytes held,
:data:`MAX_BUFFER` bytes waiting to be framed) and in flows (:data:`MAX_FLOWS`, the oldest
dropped first). A gap that never fills (a segment the capture missed) is skipped and
counted: the message it cut cannot be read, and the analysis says so.

Framing (:class:`SipStream`): RFC 3261 §18.3, a message ends Content-Length bytes after its
blank line. Content-Length is trusted when what follows it is the next start line, a
keep-alive CRLF or nothing yet. When it is not (an ALG grew the SDP without fixing the
length) or when the declared end lies past the next complete message (an ALG shrank it), the
message is cut at the next start line followed by a header block with a CSeq, and the
disagreement is kept for the Content-Length finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sip_checks.analyse.lenient import (
    BLANK,
    MAX_START,
    content_length,
    find_start,
    is_start,
    looks_like_start,
)
from sip_checks.toolkit.message import MAX_MESSAGE

MAX_FLOWS = 4096
MAX_HELD = 1 << 18  # bytes of early segments held per direction
MAX_HELD_SEGMENTS = 256
MAX_BUFFER = 2 * MAX_MESSAGE + 2048  # bytes waiting for the end of a message
SYN, FIN, RST = 0x02, 0x01, 0x04
# Capture point, source address, port, destination address, port: one direction.
FlowKey = tuple[int, bytes, int, bytes, int]


@dataclass(frozen=True)
class Framed:
    """One message cut from a direction's bytes: the frame and time of its last byte, and
    what was wrong with its framing."""

    raw: bytes
    frame: int
    at: float
    length: tuple[int, int] | None = None  # (Content-Length, body bytes) when they disagree
    note: str = ""  # why the framing is not Content-Length's own ("" when it is)


class SipStream:
    """In-order bytes of one direction in, SIP messages out."""

    def __init__(self, *, resync: bool) -> None:
        self.buf = bytearray()
        self.base = 0  # stream offset of buf[0]
        self.marks: list[tuple[int, int, float]] = []  # (end offset, frame, time) per chunk
        self.resync = resync  # looking for a start line (joined midway, after a gap)
        self.skipped = 0  # bytes discarded because no message could be framed from them

    def feed(self, data: bytes, frame: int, at: float) -> list[Framed]:
        self.buf += data
        self.marks.append((self.base + len(self.buf), frame, at))
        return self._messages(final=False)

    def gap(self) -> None:
        """Bytes are missing before what comes next: the message in progress is lost."""
        self._drop(len(self.buf), skipped=True)
        self.resync = True

    def flush(self) -> list[Framed]:
        """End of the stream: what is left, framed as well as it can be."""
        return self._messages(final=True)

    def _drop(self, n: int, *, skipped: bool = False) -> None:
        if skipped:
            self.skipped += n
        del self.buf[:n]
        self.base += n
        while self.marks and self.marks[0][0] <= self.base:
            self.marks.pop(0)

    def _emit(self, n: int, length: tuple[int, int] | None = None, note: str = "") -> Framed:
        last = self.base + n
        frame, at = next(((f, t) for end, f, t in self.marks if end >= last),
                         (self.marks[-1][1], self.marks[-1][2]))
        raw = bytes(self.buf[:n])
        self._drop(n)
        return Framed(raw, frame, at, length, note)

    def _messages(self, *, final: bool) -> list[Framed]:
        out: list[Framed] = []
        while True:
            got = self._one(final)
            if got is None:
                return out
            out.append(got)

    def _one(self, final: bool) -> Framed | None:
        buf = self.buf
        while True:
            if self.resync:
                i = find_start(buf)
                if i < 0:
                    # Keep a partial last line: a start line may be cut by the segment's end.
                    tail = len(buf) - (buf.rfind(b"\n") + 1)
                    self._drop(len(buf) - (tail if tail < MAX_START and not final else 0),
                               skipped=True)
                    return None
                self._drop(i, skipped=True)
                self.resync = False
            i = 0
            while i < len(buf) and buf[i] in (10, 13):
                i += 1
            self._drop(i)  # keep-alive CRLFs (RFC 5626) between messages
            if not buf:
                return None
            if buf.find(b"\n", 0, MAX_START) < 0:
                if len(buf) < MAX_START and not final:
                    return None
                self.resync = True
                continue
            if not is_start(buf):
                self.resync = True
                continue
            blank = BLANK.search(buf)
            if blank is None:
                if final:
                    return self._emit(len(buf), note="no blank line before the stream ended")
                if len(buf) > MAX_MESSAGE:
                    self._drop(1, skipped=True)
                    self.resync = True
                    continue
                return None
            head_end = blank.end()
            declared = content_length(bytes(buf[:blank.start()]))
            end = head_end + (declared or 0)
            if len(buf) < end:
                nxt = find_start(buf, head_end, whole=True)
                if nxt >= 0:
                    return self._emit(nxt, (declared or 0, nxt - head_end),
                                      "cut at the next start line")
                if final:
                    return self._emit(len(buf), note=f"cut short: Content-Length {declared}, "
                                      f"{len(buf) - head_end} bytes before the stream ended")
                return None
            rest = bytes(buf[end:end + MAX_START])
            if not rest or rest[0] in (10, 13) or is_start(rest):
                return self._emit(end, note="" if declared is not None
                                  else "no Content-Length on TCP")
            if b"\n" not in rest and len(rest) < MAX_START and not final:
                return None  # too little after the declared end to judge: wait
            nxt = find_start(buf, head_end, whole=True)  # before the declared end: too large
            if nxt < 0 and not final and len(buf) < MAX_BUFFER:
                return None  # the next message has not arrived yet
            stop = nxt if nxt >= 0 else len(buf)
            if declared is None:
                return self._emit(stop, note="no Content-Length on TCP")
            return self._emit(stop, (declared, stop - head_end), "cut at the next start line"
                              if nxt >= 0 else "cut at the end of the stream")


@dataclass
class _Flow:
    nxt: int  # the next sequence number expected
    sip: bool  # False: SYN seen, first data not yet (classification pending)
    stream: SipStream | None = None
    held: dict[int, tuple[bytes, int, float]] = field(default_factory=dict)
    held_bytes: int = 0
    closing: bool = False


def _delta(seq: int, nxt: int) -> int:
    return ((seq - nxt + 0x80000000) & 0xFFFFFFFF) - 0x80000000


@dataclass(frozen=True)
class Gap:
    """Bytes of a SIP direction the capture does not hold (the segment was never seen)."""

    key: FlowKey
    frame: int  # the first frame after the gap
    missing: int  # bytes


class TcpReader:
    """TCP segments in; each SIP message out through ``on_message(key, framed)``."""

    def __init__(self, sip_ports: frozenset[int],
                 on_message: Callable[[FlowKey, Framed], None]) -> None:
        self.ports = sip_ports
        self.on_message = on_message
        self.flows: dict[FlowKey, _Flow] = {}
        self.gaps: list[Gap] = []
        self.evicted = 0  # SIP directions dropped to bound memory

    def segment(self, key: FlowKey, seq: int, flags: int, payload: bytes, frame: int,
                at: float) -> None:
        flow = self.flows.get(key)
        if flags & SYN:
            if flow is not None:
                self._close(key, flow)
            sip = key[2] in self.ports or key[4] in self.ports
            flow = self._add(key, _Flow((seq + 1) & 0xFFFFFFFF, sip,
                                        SipStream(resync=False) if sip else None))
        elif flow is None:
            if not payload:
                return
            on_port = key[2] in self.ports or key[4] in self.ports
            if not (on_port or looks_like_start(payload)):
                return  # not SIP, or joined in the middle of a message: next segment
            flow = self._add(key, _Flow(seq, True,
                                        SipStream(resync=not looks_like_start(payload))))
        if payload:
            self._data(key, flow, seq, payload, frame, at)
        if flags & RST or (flags & FIN and _delta(seq + len(payload), flow.nxt) <= 0
                           and not flow.held):
            self._close(key, flow)
        elif flags & FIN:
            flow.closing = True

    def _add(self, key: FlowKey, flow: _Flow) -> _Flow:
        if len(self.flows) >= MAX_FLOWS:
            old = next(iter(self.flows))
            if self.flows[old].stream is not None:
                self.evicted += 1
            self._close(old, self.flows[old])
        self.flows[key] = flow
        return flow

    def _data(self, key: FlowKey, flow: _Flow, seq: int, payload: bytes, frame: int,
              at: float) -> None:
        d = _delta(seq, flow.nxt)
        if d > 0:
            if len(flow.held) >= MAX_HELD_SEGMENTS or flow.held_bytes + len(payload) > MAX_HELD:
                if not flow.sip:
                    return
                self._skip_gap(key, flow)
                self._data(key, flow, seq, payload, frame, at)
                return
            if len(flow.held.get(seq, (b"",))[0]) < len(payload):
                flow.held_bytes += len(payload) - len(flow.held.get(seq, (b"",))[0])
                flow.held[seq] = (payload, frame, at)
            return
        if -d >= len(payload):
            return  # a retransmission of bytes already delivered
        self._deliver(key, flow, payload[-d:], frame, at)
        self._drain(key, flow, (frame, at))

    def _deliver(self, key: FlowKey, flow: _Flow, data: bytes, frame: int, at: float) -> None:
        flow.nxt = (flow.nxt + len(data)) & 0xFFFFFFFF
        if not flow.sip:
            if not looks_like_start(data):
                del self.flows[key]  # the connection's first bytes are not SIP
                return
            flow.sip, flow.stream = True, SipStream(resync=False)
        assert flow.stream is not None
        for framed in flow.stream.feed(data, frame, at):
            self.on_message(key, framed)

    def _drain(self, key: FlowKey, flow: _Flow,
               completed: tuple[int, float] | None = None) -> None:
        """Deliver the held segments the stream has reached; a message they complete is
        cited at ``completed``, the frame that filled the gap (as Wireshark does)."""
        while flow.held and key in self.flows:
            seq = min(flow.held, key=lambda s: _delta(s, flow.nxt))
            d = _delta(seq, flow.nxt)
            if d > 0:
                return
            payload, frame, at = flow.held.pop(seq)
            flow.held_bytes -= len(payload)
            if -d < len(payload):
                frame, at = completed or (frame, at)
                self._deliver(key, flow, payload[-d:], frame, at)

    def _skip_gap(self, key: FlowKey, flow: _Flow) -> None:
        """Give up on the bytes before the earliest held segment (never captured)."""
        seq = min(flow.held, key=lambda s: _delta(s, flow.nxt))
        self.gaps.append(Gap(key, flow.held[seq][1], _delta(seq, flow.nxt)))
        if flow.stream is not None:
            flow.stream.gap()
        flow.nxt = seq
        self._drain(key, flow)

    def _close(self, key: FlowKey, flow: _Flow) -> None:
        while flow.held and flow.sip and key in self.flows:
            self._skip_gap(key, flow)
        if flow.stream is not None:
            for framed in flow.stream.flush():
                self.on_message(key, framed)
        self.flows.pop(key, None)

    def close(self) -> None:
        """End of the capture: every direction flushed, gaps counted."""
        for key, flow in list(self.flows.items()):
            self._close(key, flow)
