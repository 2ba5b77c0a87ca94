"""Media for test calls: one RTP thread for all calls, kernel receive timestamps.

Why a thread and not asyncio: packets must leave every ``ptime`` ms on an absolute schedule,
whatever SIP is doing, and asyncio's timers have millisecond granularity. Receive times come
from the kernel (SO_TIMESTAMPNS), so the measured jitter is the network's, not ours.
Send and receive share one socket per call (symmetric RTP, RFC 4961), which NAT needs.

Why one engine for every call also matters for delay: when both ends of a call are ours (a
hairpin through the operator), the receiving session finds the sending one in the engine and
measures the true one-way delay of each packet on one clock, matched by RTP timestamp, which
a media relay keeps even when it rewrites SSRC or sequence numbers.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from sip_checks.toolkit.rtp import (
    ReceiverStats,
    RtpPacket,
    dtmf_parse,
    dtmf_payload,
    parse,
    tone_frame,
)

SO_TIMESTAMPNS = 35
RTP_PORTS = (10000, 20000)


def kernel_time(ancillary: list[tuple[int, int, bytes]], default: float) -> float:
    """The SO_TIMESTAMPNS receive time in an ancillary-data list, or ``default``."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", value[:16])
            return float(sec + nsec / 1e9)
    return default


def open_media_socket(bind_ip: str, ports: tuple[int, int] = RTP_PORTS) -> socket.socket:
    """A UDP socket on a free even port of ``ports`` (the range the operator's firewall opens)."""
    lo, hi = ports
    for _ in range(200):
        port = random.randrange(lo + (lo % 2), hi, 2)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((bind_ip, port))
        except OSError:
            s.close()
            continue
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setblocking(False)
        return s
    raise OSError(f"no free even UDP port in {lo}-{hi} on {bind_ip}")


@dataclass
class DtmfEvent:
    digit: str
    at: float
    duration_ms: float
    echoed: bool = False  # our own event, returned by an echoing far end


@dataclass
class MediaSession:
    """One call's RTP: what we send, and per-SSRC statistics of what we receive."""

    sock: socket.socket
    pt: int
    codec: str
    event_pt: int | None = 101
    ptime_ms: int = 20
    remote: tuple[str, int] | None = None
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    seq: int = field(default_factory=lambda: secrets.randbits(15))
    ts: int = field(default_factory=lambda: secrets.randbits(31))
    sent: int = 0
    send_errors: int = 0
    started: float | None = None
    stopped: float | None = None
    first_rx: float | None = None  # arrival of the first RTP packet, from anyone
    next_send: float = 0.0
    sending: bool = False
    rx: dict[int, ReceiverStats] = field(default_factory=dict)
    rx_sources: dict[int, tuple[str, int]] = field(default_factory=dict)
    echo_rtt_ms: list[float] = field(default_factory=list)
    dtmf_received: list[DtmfEvent] = field(default_factory=list)
    _tx_time: dict[int, float] = field(default_factory=dict)
    _tx_ts: dict[int, float] = field(default_factory=dict)  # voice RTP ts -> wall send time
    one_way_ms: dict[int, list[float]] = field(default_factory=dict)  # per received SSRC
    _local: list[MediaSession] = field(default_factory=list)  # every session of the engine
    _dtmf_queue: list[tuple[str, int, int, bool] | None] = field(default_factory=list)
    _event_ts: int = 0
    _dtmf_seen: set[tuple[int, int]] = field(default_factory=set)
    _frame: bytes = b""

    @property
    def local(self) -> tuple[str, int]:
        addr = self.sock.getsockname()
        return addr[0], addr[1]

    def send_dtmf(self, digits: str, *, duration_ms: int = 100, gap_ms: int = 60) -> None:
        """Queue RFC 4733 events; they replace voice packets on the regular schedule."""
        if self.event_pt is None:
            raise ValueError("telephone-event was not negotiated")
        n = max(1, duration_ms // self.ptime_ms)
        for digit in digits:
            self._dtmf_queue += [(digit, i, n, False) for i in range(n)]
            self._dtmf_queue += [(digit, n - 1, n, True)] * 3  # end packet, sent 3 times
            self._dtmf_queue += [None] * max(1, gap_ms // self.ptime_ms)  # voice between

    # -- called by the engine thread ----------------------------------------------------------
    def _send_one(self, now_wall: float) -> None:
        step = 8 * self.ptime_ms
        if not self._frame:
            self._frame = tone_frame(self.codec, samples=step)
        payload, pt, marker, ts = self._frame, self.pt, False, self.ts
        item = self._dtmf_queue.pop(0) if self._dtmf_queue else None
        if item is not None and self.event_pt is not None:
            digit, i, n, end = item
            if i == 0 and not end:
                self._event_ts = self.ts
                marker = True
            # Every packet of one event carries the event's start timestamp (RFC 4733 2.5.1).
            pt, ts = self.event_pt, self._event_ts
            payload = dtmf_payload(digit, end=end, duration=step * (n if end else i + 1))
        packet = RtpPacket(pt, self.seq, ts, self.ssrc, marker, payload).pack()
        if self.remote is not None:
            try:
                self.sock.sendto(packet, self.remote)
                self._tx_time[self.seq] = now_wall
                if len(self._tx_time) > 4096:
                    self._tx_time.pop(next(iter(self._tx_time)))
                if pt == self.pt:
                    self._tx_ts[ts] = now_wall
                    if len(self._tx_ts) > 4096:
                        self._tx_ts.pop(next(iter(self._tx_ts)))
                self.sent += 1
            except OSError:
                self.send_errors += 1
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + step) & 0xFFFFFFFF

    def _receive(self, data: bytes, src: tuple[str, int], arrival: float) -> None:
        pkt = parse(data)
        if pkt is None:
            return
        if self.first_rx is None:
            self.first_rx = arrival
        if pkt.ssrc == self.ssrc:  # our own packet echoed back by the far end
            sent_at = self._tx_time.get(pkt.seq)
            if sent_at is not None:
                self.echo_rtt_ms.append((arrival - sent_at) * 1000)
        elif pkt.pt != self.event_pt:
            self._one_way(pkt.ssrc, pkt.ts, arrival)
        stats = self.rx.get(pkt.ssrc)
        if stats is None:
            stats = self.rx[pkt.ssrc] = ReceiverStats()
            self.rx_sources[pkt.ssrc] = src
        stats.update(pkt.seq, pkt.ts, arrival, voice=pkt.pt != self.event_pt)
        if self.event_pt is not None and pkt.pt == self.event_pt:
            ev = dtmf_parse(pkt.payload)
            if ev is not None and ev[1] and (pkt.ssrc, pkt.ts) not in self._dtmf_seen:
                digit, _, duration = ev
                self._dtmf_seen.add((pkt.ssrc, pkt.ts))
                self.dtmf_received.append(
                    DtmfEvent(digit, arrival, duration / 8, echoed=pkt.ssrc == self.ssrc))


    def _one_way(self, ssrc: int, ts: int, arrival: float) -> None:
        """When another session of this engine sent this packet, its one-way delay."""
        for sender in self._local:
            sent_at = sender._tx_ts.get(ts) if sender is not self else None
            if sent_at is not None:
                self.one_way_ms.setdefault(ssrc, []).append((arrival - sent_at) * 1000)
                return


class RtpEngine:
    """The one thread that sends and receives every call's RTP."""

    def __init__(self) -> None:
        self._sel = selectors.DefaultSelector()
        self._sessions: list[MediaSession] = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="recette-rtp", daemon=True)
        self._running = True
        self._thread.start()

    def add(self, session: MediaSession) -> None:
        with self._lock:
            self._sessions.append(session)
            session._local = self._sessions  # shared: a receiver finds local senders
            self._sel.register(session.sock, selectors.EVENT_READ, session)
        self._wake_w.send(b"x")

    def start_sending(self, session: MediaSession) -> None:
        with self._lock:
            session.started = time.time()
            session.next_send = time.monotonic()
            session.sending = True
        self._wake_w.send(b"x")

    def stop_sending(self, session: MediaSession) -> None:
        with self._lock:
            session.sending = False
            session.stopped = time.time()

    def remove(self, session: MediaSession) -> None:
        with self._lock:
            session.sending = False
            if session in self._sessions:
                self._sessions.remove(session)
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(session.sock)

    def close(self) -> None:
        self._running = False
        self._wake_w.send(b"x")
        self._thread.join(timeout=2)

    def _run(self) -> None:
        ancsize = socket.CMSG_SPACE(16)
        while self._running:
            with self._lock:
                due = min((s.next_send for s in self._sessions if s.sending), default=None)
            now = time.monotonic()
            wait = 0.05 if due is None else max(0.0, due - now)
            # epoll has millisecond granularity: wake a little early, then sleep precisely.
            events = self._sel.select(wait - 0.0015 if wait > 0.002 else 0)
            for key, _ in events:
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        self._wake_r.recv(64)
                    continue
                session: MediaSession = key.data
                while True:
                    try:
                        data, anc, _flags, src = session.sock.recvmsg(2048, ancsize)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # ICMP errors surface here on a connected path
                        break
                    session._receive(data, src, kernel_time(anc, time.time()))
            if due is None:
                continue
            left = due - time.monotonic()
            if 0 < left < 0.002:
                time.sleep(left)
            with self._lock:
                now = time.monotonic()
                wall = time.time()
                for s in self._sessions:
                    while s.sending and s.next_send <= now:
                        s._send_one(wall)
                        s.next_send += s.ptime_ms / 1000
                        if now - s.next_send > 0.2:  # we fell far behind: do not burst
                            s.next_send = now


_ENGINE: RtpEngine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> RtpEngine:
    """The process-wide RTP engine (started on first use)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = RtpEngine()
        return _ENGINE
