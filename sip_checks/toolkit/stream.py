"""Media for test calls: one RTP thread for all calls, kernel receive timestamps.

Why a thread and not asyncio: packets must leave every ``ptime`` ms on an absolute schedule,
whatever SIP is doing, and asyncio's timers have millisecond granularity. Receive times come
from the kernel (SO_TIMESTAMPNS), so the measured jitter is the network's, not ours.
Send and receive share one socket per call (symmetric RTP, RFC 4961), which NAT needs.

Why one engine for every call also matters for delay: when both ends of a call are ours (a
hairpin through the operator), the receiving session finds the sending one in the engine and
measures the true one-way delay of each packet on one clock, matched by RTP timestamp, which
a media relay keeps even when it rewrites SSRC or sequence numbers.

Why ticks: every call's packets leave on one shared grid (``ptime`` multiples of the engine's
epoch), so the thread wakes once per 20 ms for all calls and sends the prepared packets back
to back. Waking once per call and packet cost six times SIPp's CPU at 30 calls
(bench/calls_vs_sipp.py): on a 2-core VM a wake-up alone costs 50-90 µs of CPU, as much as
four to seven sends, so giving each call its own instant in the tick (one wake-up per call)
would cost more than the whole harness does now. The batch keeps its pacing by other means
(the sender jitter of 30 calls on the lab went from 0.2-0.5 ms to about 0.05 ms): the thread
runs SCHED_FIFO where allowed, so nothing its own packets wake (the far end, above all)
preempts it in the middle of a batch; it wakes a learnt window before the tick, reads the
last tick's echoes in that window (poll, one datagram per ready socket), and spins to the
tick, so the batch starts at the same instant every tick; and the sends go in the same
order with nothing else in the loop. What is left is how long the sends before a call's
take (on the lab, the router, NAT and far end run inside each send). Receive times are the
kernel's, so reading a tick late changes no figure.

Why C for the per-packet work (``_rtpcore.c``): in Python it cost 2.3 s of CPU at 120 calls
x 20 s against SIPp's 0.1 s outside the kernel, twice SIPp's whole CPU; with the C core the
harness is at 1.3-1.4 times SIPp from 30 to 240 calls (bench/calls_vs_sipp.py). The Python
methods below stay the reference, run where the core is not built, and tests hold the two
equal packet for packet. Why groups (C core, above GROUP calls): a call's place in one long
batch moved with every send before it; see ``RtpEngine._tick_groups``.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import secrets
import select
import socket
import struct
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, TypeVar, overload

from sip_checks.toolkit.rtp import (
    HEADER,
    ReceiverStats,
    RtpPacket,
    dtmf_parse,
    dtmf_payload,
    tone_frame,
    unpack,
)

_CORE_MODULE: ModuleType | None
try:  # the per-packet work in C (setup.py builds it; see _rtpcore.c for why)
    from sip_checks.toolkit import _rtpcore as _CORE_MODULE
except ImportError:  # no C compiler where recette was installed: the Python reference
    _CORE_MODULE = None

SO_TIMESTAMPNS = 35
RTP_PORTS = (10000, 20000)
TX_WINDOW = 4096  # packets whose send time is kept, for echo RTT and one-way delay (82 s)
_TX_SLOT = TX_WINDOW - 1  # a power of two: the slot of a packet is a mask of its number
SCAN_FIRST = 50  # packets of a new SSRC checked against every local sender (one second) ...
RESCAN_EVERY = 25  # ... then one in this many while no local sender matched the last one
MAX_SOURCES = 16  # source addresses counted per call (a flood from many ports stays bounded)
READ_ROUNDS = 8  # poll rounds per tick: a socket holding more is read again
IDLE_TICK_S = 0.02  # how often a call not sending yet reads what arrived
RT_PRIORITY = 2  # SCHED_FIFO priority of the engine thread, where the system allows it
# The thread wakes this long before a tick (learnt: the wake-up's lateness, mean + K mean
# deviations, within these bounds), reads the last tick's echoes, then spins to the tick.
WINDOW_MIN_S, WINDOW_MAX_S, WINDOW_K = 0.00005, 0.001, 4
READ_RESERVE_S = 0.00005  # reading stops this long before the tick (one datagram's work) ...
CORE_READ_RESERVE_S = 0.00001  # ... in C (3-5 µs a datagram; stopped once per group)
GROUP = 60  # calls sent at one instant of a tick (C core); the next 60 a group's length later
GROUP_MARGIN = 1.1  # a group's instant is this many times the last groups' mean length apart
GROUP_MAX_S = 0.004
_TIMESPEC = struct.Struct("qq")
_SEQ_TS = struct.Struct("!HI")  # at offset 2 of the RTP header


def kernel_time(ancillary: list[tuple[int, int, bytes]], default: float) -> float:
    """The SO_TIMESTAMPNS receive time in an ancillary-data list, or ``default``."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(value)
            return float(sec + nsec / 1e9)
    return default


# Every local media address this process has sent RTP from, with the first time: the NAT
# and conntrack entries that sending opened may outlive the call, so a firewall check that
# proves a port's forward by media arriving there before the site sent must not sample a port
# an earlier call of the run sent from.
SENT_MEDIA: dict[tuple[str, int], float] = {}


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


class _Counters:
    """What the engine changes in a session for every packet, kept apart from the session.

    With the C core built, a session's counters are its ``State``: a C struct the core reads
    and writes directly. Held as Python objects in the session, they cost a Python object
    per value and per packet, whose cache misses after each tick's sleep took more time than
    the rest of the core's work (perf, 120 calls). This class is the same where it is not.
    """

    __slots__ = (
        "next_send",
        "out_dequeues",
        "out_voice",
        "ready",
        "send_errors",
        "sent",
        "seq",
        "ts",
    )

    def __init__(self, *windows: array[Any]) -> None:
        self.seq = self.ts = self.sent = self.send_errors = 0
        self.next_send = 0.0
        self.ready, self.out_voice, self.out_dequeues = False, True, False


_T = TypeVar("_T")


class _Counted(Generic[_T]):
    """A MediaSession attribute kept in its counters (``_st``): ``s.seq`` is ``s._st.seq``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name.lstrip("_")

    @overload
    def __get__(self, obj: None, owner: type) -> _Counted[_T]: ...
    @overload
    def __get__(self, obj: MediaSession, owner: type) -> _T: ...

    def __get__(self, obj: MediaSession | None, owner: type) -> _Counted[_T] | _T:
        if obj is None:
            return self
        value: _T = getattr(obj._st, self._name)
        return value

    def __set__(self, obj: MediaSession, value: _T) -> None:
        setattr(obj._st, self._name, value)


@dataclass(slots=True)
class MediaSession:
    """One call's RTP: what we send, and per-SSRC statistics of what we receive.

    Slots: the engine reads and writes a dozen fields per call and tick, 15 % faster so;
    the C core reads them at their slot's offset. What changes with every packet is in
    ``_st`` (see ``_Counters``).
    """

    sock: socket.socket
    pt: int
    codec: str
    event_pt: int | None = 101
    ptime_ms: int = 20
    remote: tuple[str, int] | None = None
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    started: float | None = None
    stopped: float | None = None
    first_rx: float | None = None  # arrival of the first RTP packet, from anyone
    sending: bool = False
    rx: dict[int, ReceiverStats] = field(default_factory=dict)
    rx_sources: dict[int, tuple[str, int]] = field(default_factory=dict)
    # Packets per source address (the first MAX_SOURCES sources): after a re-INVITE moves
    # the far end's media, an echo coming back from the new address proves our RTP went there.
    rx_from: dict[tuple[str, int], int] = field(default_factory=dict)
    echo_rtt_ms: list[float] = field(default_factory=list)
    dtmf_received: list[DtmfEvent] = field(default_factory=list)
    # Send times of the last TX_WINDOW packets, in slots by packet number: by sequence
    # number (what left), and by RTP timestamp (voice only, for one-way delay); each slot
    # holds its key, -1 if that packet did not leave. Arrays, not dicts: nothing allocated
    # or freed per packet, a sixth of the memory, and a commit half as long when the
    # caches are cold (as they are after each tick's sleep).
    _tx_time: array[float] = field(default_factory=lambda: array("d", bytes(8 * TX_WINDOW)))
    _tx_seq: array[int] = field(default_factory=lambda: array("q", [-1]) * TX_WINDOW)
    _tx_ts: array[float] = field(default_factory=lambda: array("d", bytes(8 * TX_WINDOW)))
    _tx_ts_key: array[int] = field(default_factory=lambda: array("q", [-1]) * TX_WINDOW)
    one_way_ms: dict[int, list[float]] = field(default_factory=dict)  # per received SSRC
    _local: list[MediaSession] = field(default_factory=list)  # every session of the engine
    _dtmf_queue: list[tuple[str, int, int, bool] | None] = field(default_factory=list)
    _event_ts: int = 0
    _dtmf_seen: set[tuple[int, int]] = field(default_factory=set)
    _origin: dict[int, MediaSession] = field(default_factory=dict)  # rx SSRC -> local sender
    _voice: bytearray = field(default_factory=bytearray)  # header + frame, seq/ts rewritten
    _voice_key: tuple[int, str, int, int] | None = None  # (pt, codec, step, ssrc) it was for
    _out: bytes | bytearray = b""  # the packet prepared for the next tick
    _fd: int = -1  # the socket's descriptor while in the engine
    _out_event_ts: int = 0
    _st: Any = field(init=False, repr=False)  # the counters below (see _Counters)

    seq = _Counted[int]()  # of the next packet (random start, RFC 3550)
    ts = _Counted[int]()
    sent = _Counted[int]()
    send_errors = _Counted[int]()
    next_send = _Counted[float]()  # monotonic time of the next packet's tick
    _ready = _Counted[bool]()  # _out holds the next packet ...
    _out_voice = _Counted[bool]()  # ... a voice packet ...
    _out_dequeues = _Counted[bool]()  # ... made of the head of the DTMF queue

    def __post_init__(self) -> None:
        make = _Counters if _CORE_MODULE is None else _CORE_MODULE.State
        self._st = make(self._tx_time, self._tx_seq, self._tx_ts, self._tx_ts_key)
        self.seq, self.ts = secrets.randbits(15), secrets.randbits(31)

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
    def _prepare(self) -> None:
        """Build the next packet before the tick, so that sending it is one call.

        Nothing is committed here (sequence number, timestamp, the DTMF queue): a call
        stopped before the tick simply does not send what was prepared.
        """
        step = 8 * self.ptime_ms
        item = self._dtmf_queue[0] if self._dtmf_queue else None
        self._out_dequeues = bool(self._dtmf_queue)  # a gap (None) is dequeued too
        if item is None or self.event_pt is None:
            packet = self._voice_packet(step)
            _SEQ_TS.pack_into(packet, 2, self.seq, self.ts)
            self._out, self._out_voice, self._ready = packet, True, True
            return
        self._ready = True
        digit, i, n, end = item
        marker = i == 0 and not end
        # Every packet of one event carries the event's start timestamp (RFC 4733 2.5.1).
        self._out_event_ts = self.ts if marker else self._event_ts
        payload = dtmf_payload(digit, end=end, duration=step * (n if end else i + 1))
        self._out = RtpPacket(self.event_pt, self.seq, self._out_event_ts, self.ssrc, marker,
                              payload).pack()
        self._out_voice = False

    def _commit(self, sent_at: float | None) -> None:
        """The prepared packet left at ``sent_at`` (wall clock), failed (None), or was not
        sent for want of a remote address (NaN): the clock advances in every case."""
        step = 8 * self.ptime_ms
        seq, ts = self.seq, self.ts
        self._ready = False
        if self._out_dequeues:
            self._dtmf_queue.pop(0)
        if not self._out_voice:
            self._event_ts = self._out_event_ts
        # This packet's slots, which held the one sent TX_WINDOW packets ago (the RTP
        # timestamp advances by one step per packet, voice or event).
        i, j = seq & _TX_SLOT, (ts // step) & _TX_SLOT
        if sent_at is None:
            self.send_errors += 1
            self._tx_seq[i] = self._tx_ts_key[j] = -1
        elif sent_at == sent_at:  # not NaN: it left
            self._tx_time[i], self._tx_seq[i] = sent_at, seq
            if self._out_voice:
                self._tx_ts[j], self._tx_ts_key[j] = sent_at, ts
            else:
                self._tx_ts_key[j] = -1
            self.sent += 1
        else:
            self._tx_seq[i] = self._tx_ts_key[j] = -1
        self.seq = (seq + 1) & 0xFFFF
        self.ts = (ts + step) & 0xFFFFFFFF

    def _sent_at(self, ts: int) -> float | None:
        """When the voice packet with RTP timestamp ``ts`` left, if among the last ones."""
        j = (ts // (8 * self.ptime_ms)) & _TX_SLOT
        return self._tx_ts[j] if self._tx_ts_key[j] == ts else None

    def _voice_packet(self, step: int) -> bytearray:
        """The voice packet buffer: built once per codec, only seq and ts change after."""
        key = (self.pt, self.codec, step, self.ssrc)
        if key != self._voice_key:
            header = HEADER.pack(0x80, self.pt, 0, 0, self.ssrc)
            self._voice = bytearray(header + tone_frame(self.codec, samples=step))
            self._voice_key = key
        return self._voice

    def _receive(self, data: bytes, src: tuple[str, int], arrival: float) -> None:
        head = unpack(data)
        if head is None:
            return
        b1, seq, ts, ssrc, start, end = head
        if self.first_rx is None:
            self.first_rx = arrival
        count = self.rx_from.get(src)
        if count is not None:
            self.rx_from[src] = count + 1
        elif len(self.rx_from) < MAX_SOURCES:
            self.rx_from[src] = 1
        event = (b1 & 0x7F) == self.event_pt
        stats = self.rx.get(ssrc)
        if stats is None:
            stats = self.rx[ssrc] = ReceiverStats()
            self.rx_sources[ssrc] = src
        stats.update(seq, ts, arrival, voice=not event)
        if ssrc == self.ssrc:  # our own packet echoed back by the far end
            i = seq & _TX_SLOT
            if self._tx_seq[i] == seq:
                self.echo_rtt_ms.append((arrival - self._tx_time[i]) * 1000)
        elif not event:
            self._one_way(ssrc, ts, arrival, stats.received)
        if event:
            self._dtmf_rx(data[start:end], ssrc, ts, arrival)

    def _dtmf_rx(self, payload: bytes, ssrc: int, ts: int, arrival: float) -> None:
        """A telephone-event packet: a digit once per event (the C core calls this too)."""
        ev = dtmf_parse(payload)
        if ev is not None and ev[1] and (ssrc, ts) not in self._dtmf_seen:
            digit, _, duration = ev
            self._dtmf_seen.add((ssrc, ts))
            self.dtmf_received.append(
                DtmfEvent(digit, arrival, duration / 8, echoed=ssrc == self.ssrc))

    def _one_way(self, ssrc: int, ts: int, arrival: float, count: int) -> None:
        """When another session of this engine sent this packet, its one-way delay.

        The sender that matched this SSRC last is asked first; every local sender only for
        the first packets of an SSRC and then now and then, so a foreign stream (the usual
        call) costs no scan of every call per packet, and a relay that starts forwarding a
        local sender under an SSRC it already used is still found.
        """
        sender = self._origin.get(ssrc)
        sent_at = sender._sent_at(ts) if sender is not None else None
        if sent_at is None:
            if count > SCAN_FIRST and count % RESCAN_EVERY:
                return
            for other in self._local:
                sent_at = other._sent_at(ts) if other is not self else None
                if sent_at is not None:
                    self._origin[ssrc] = other
                    break
            else:
                return
        self.one_way_ms.setdefault(ssrc, []).append((arrival - sent_at) * 1000)


class RtpEngine:
    """The one thread that sends and receives every call's RTP, one wake-up per tick.

    ``realtime`` tells whether the thread got SCHED_FIFO (see :func:`_realtime`).
    ``core`` is the C module that does the per-packet work (`_rtpcore`), or None for the
    Python reference methods, which it mirrors and against which it is tested.
    """

    def __init__(self, core: ModuleType | None = None) -> None:
        self.core = core
        self._sessions: list[MediaSession] = []
        # Readiness once per tick without waiting. The Python reference polls every socket
        # (poll(0)); the C core asks an epoll set for the ready ones: poll cost 0.4 µs per
        # socket and call, and two calls per tick, about 0.8 µs per packet at 120 calls,
        # where epoll costs one callback per arriving packet, run where the packet arrives.
        self._poll = select.poll()
        self._epoll = select.epoll() if core is not None else None
        self._by_fd: dict[int, MediaSession] = {}
        self._lock = threading.Lock()
        # Held by the engine while it waits for a call; released by a caller to wake it
        # early. The last stretch before a tick is a time.sleep instead: on this 2-core VM
        # it costs 50 µs of CPU per wake-up where the timed lock wait costs 85 µs, and it
        # wakes up later by a steadier amount (epoll rounds to milliseconds: up to 2.6 ms).
        self._kick = threading.Lock()
        self._kick.acquire()
        self._epoch = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="recette-rtp", daemon=True)
        self._running = True
        self.realtime = False  # set by the thread: whether it runs SCHED_FIFO
        self._late = 0.0  # how late after its target the thread is ready: mean ...
        self._late_dev = 0.0  # ... and mean deviation (seconds)
        self._window = WINDOW_MAX_S  # the thread wakes this long before a tick
        self._group_s = GROUP * 15e-6  # between the instants of two groups (learnt)
        self._thread.start()

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # already woken
            self._kick.release()

    def add(self, session: MediaSession) -> None:
        with self._lock:
            self._sessions.append(session)
            session._local = self._sessions  # shared: a receiver finds local senders
            session._fd = session.sock.fileno()
            self._by_fd[session._fd] = session
            if self._epoll is not None:
                with contextlib.suppress(OSError):  # a socket closed before it was added
                    self._epoll.register(session._fd, select.EPOLLIN)
            else:
                self._poll.register(session._fd, select.POLLIN)
        self._wake()

    def start_sending(self, session: MediaSession) -> None:
        SENT_MEDIA.setdefault(session.local, time.time())
        with self._lock:
            session.started = time.time()
            session.next_send = self._next_tick(session)
            session.sending = True
        self._wake()

    def _next_tick(self, session: MediaSession) -> float:
        """The first tick of the shared grid not yet passed: every call sends in one batch.

        One wake-up per tick, however many calls: spreading 30 calls over three phases of
        the tick doubled the engine's CPU time on a 2-core VM (a wake-up costs 50-90 µs
        of CPU there, a send 10-15 µs), and one phase per call would add 75 ms of CPU per
        second, more than the whole harness spends on 30 calls.
        """
        period = session.ptime_ms / 1000
        return self._epoch + period * math.ceil((time.monotonic() - self._epoch) / period)

    def stop_sending(self, session: MediaSession) -> None:
        with self._lock:
            session.sending = False
            session.stopped = time.time()

    def remove(self, session: MediaSession) -> None:
        with self._lock:
            session.sending = False
            if session in self._sessions:
                self._sessions.remove(session)
                if self._by_fd.get(session._fd) is session:
                    del self._by_fd[session._fd]
                    with contextlib.suppress(KeyError):
                        self._poll.unregister(session._fd)
                    if self._epoll is not None:
                        with contextlib.suppress(OSError):  # closed: epoll dropped it
                            self._epoll.unregister(session._fd)

    def streams_up(self) -> int:
        """Sessions sending now (a progress view's "streams up"; read without the lock: a
        figure shown a few times a second may be one tick old)."""
        return sum(1 for s in list(self._sessions) if s.sending)

    def close(self) -> None:
        """Stop the thread (the epoll set stays, for a test that reads by itself)."""
        self._running = False
        self._wake()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        self.realtime = _realtime()
        while self._running:
            with self._lock:
                # Next packets built now, so that the tick only sends; the first tick due.
                if self.core is not None:
                    due = self.core.plan(self._sessions)
                else:
                    sending = [s for s in self._sessions if s.sending]
                    for s in sending:
                        if not s._ready:
                            s._prepare()
                    due = min((s.next_send for s in sending), default=None)
                listening = bool(self._sessions)
            if due is None:
                # Nothing to send: read what arrives once per tick (kernel timestamps keep
                # the figures exact), or sleep until a call is added.
                if not listening:
                    self._kick.acquire()
                elif self._kick.acquire(timeout=IDLE_TICK_S):
                    continue
                self._read()
                continue
            left = due - time.monotonic() - IDLE_TICK_S
            if left > 0:  # a tick further than usual (a longer ptime): a call may start
                self._kick.acquire(timeout=left)
                continue  # plan again
            target = due - self._window
            slept = target > time.monotonic()
            if slept:
                time.sleep(max(0.0, target - time.monotonic()))
            if not self._tick(due, target if slept else None):
                self._read()

    def _learn(self, late: float) -> None:
        """Size the window before a tick from how late after its target the thread was
        ready: late wake-ups vary from tick to tick, and a tick the thread misses shows
        as jitter in every call, while each microsecond of window that reading does not
        fill is spent spinning."""
        self._late += (late - self._late) / 16
        self._late_dev += (abs(late - self._late) - self._late_dev) / 16
        self._window = min(WINDOW_MAX_S,
                           max(WINDOW_MIN_S, self._late + WINDOW_K * self._late_dev))

    def _tick(self, due: float, target: float | None) -> bool:
        """Send the tick's prepared packets back to back at ``due``, then account for them.

        The thread wakes a little before the tick (``target``, None if it did not sleep),
        lists what it will send, reads the echoes of the last tick until just before
        ``due``, then spins to it, so that the first packet leaves at the same instant of
        every tick whatever the wake-up's lateness: the list and the read also warm the
        caches that a sleep leaves cold (a list of 30 calls took 33 µs just after waking).
        The sending loop does nothing else, in the same order every tick, so a call's
        packet keeps its place, and the time between the tick and its departure varies
        only with how long the sends before it take. A call with no remote address yet
        sends nothing but keeps its clock (as a silent phone).

        Returns whether everything that had arrived was read.
        """
        with self._lock:
            # Within a microsecond is the same tick: each call adds its ptime to its own
            # send time, and the sums of calls started at other ticks differ in the last
            # bits, which split one tick into two batches (twice the ticks at 120 calls).
            batch = (self.core.batch(self._sessions, due) if self.core is not None else
                     [s for s in self._sessions if s.sending and s.next_send <= due + 1e-6])
            if self.core is not None:
                return self._tick_groups(batch, due, target)
            sends: list[tuple[Callable[[bytes | bytearray, tuple[str, int]], int],
                              bytes | bytearray, tuple[str, int] | None]] = []
            for s in batch:
                if not s._ready:  # started while the engine slept
                    s._prepare()
                sends.append((s.sock.sendto, s._out, s.remote))
            monotonic = time.monotonic
            if target is not None:
                self._learn(monotonic() - target)
            whole = self._read(due - READ_RESERVE_S)
            while monotonic() < due:
                pass
            clock = time.time
            sent_at: list[float | None] = []
            mark = sent_at.append
            for sendto, packet, remote in sends:
                if remote is None:
                    mark(math.nan)
                    continue
                at: float | None = clock()  # before: on loopback it arrives within the call
                try:
                    sendto(packet, remote)
                except OSError:
                    at = None
                mark(at)
            now = monotonic()
            for s, at in zip(batch, sent_at, strict=True):
                s._commit(at)
                s.next_send += s.ptime_ms / 1000
                if now - s.next_send > 0.2:  # we fell far behind: do not burst
                    s.next_send = self._next_tick(s)
            return whole

    def _tick_groups(self, batch: list[MediaSession], due: float, target: float | None) -> bool:
        """The C core's tick: the same steps, in groups of GROUP calls, each group at its
        own instant, the last group's usual length after the one before.

        A call's place in one long batch moved with how long every send before it took
        (each send carries the lab router's NAT and the far end's delivery): at 240 calls
        the batch took 2.7 ms, varying by 0.4 ms from tick to tick, and the sender jitter
        grew with the place, 0.08 ms for the first 40 calls to 0.25 ms for the last 40.
        Starting each group at its instant bounds the drift to one group's. The time
        between groups is not spun away: the echoes that have arrived are read in it.
        """
        core = self.core
        assert core is not None
        core.prepare(batch)
        if target is not None:
            self._learn(time.monotonic() - target)
        at, whole = due, True
        groups = (len(batch) + GROUP - 1) // GROUP
        # The groups fit in half a ptime whatever was learnt (a slow machine, 1 000 calls):
        # the next tick's first group must not wait for this tick's last.
        step = min(self._group_s, batch[0].ptime_ms / 2000 / max(1, groups - 1)) if batch else 0
        for start in range(0, len(batch), GROUP):
            group = batch[start:start + GROUP]
            if start:
                at += step
            whole = self._read(at - CORE_READ_RESERVE_S)
            behind, span = core.send(group, at)
            if len(group) == GROUP:  # learn a whole group's length, with a margin
                self._group_s += (min(GROUP_MAX_S, span * GROUP_MARGIN) - self._group_s) / 16
            for s in behind:  # fell far behind: do not burst
                s.next_send = self._next_tick(s)
        return whole

    def _read(self, until: float = math.inf) -> bool:
        """The datagrams waiting on the media sockets, each with its kernel arrival time.

        One datagram per ready socket and round, and a few rounds: a socket that holds
        more (a burst after a pause, 10 ms packets) is read again at once, any backlog
        beyond that at the next tick. Stops at ``until`` (monotonic), then returns False.
        """
        if self.core is not None and self._epoll is not None:
            return bool(self.core.read(self._epoll.fileno(), self._by_fd, until,
                                       self.core.Stats))
        ancsize = socket.CMSG_SPACE(16)
        by_fd = self._by_fd
        monotonic = time.monotonic
        for _ in range(READ_ROUNDS):
            if monotonic() >= until:
                return False
            ready = self._poll.poll(0)
            if not ready:
                return True
            for fd, events in ready:
                if monotonic() >= until:
                    return False
                session = by_fd.get(fd)
                if session is None:  # removed since
                    continue
                if events & select.POLLNVAL:  # closed without being removed
                    with contextlib.suppress(KeyError):
                        self._poll.unregister(fd)
                    continue
                try:
                    data, anc, _flags, src = session.sock.recvmsg(2048, ancsize)
                except OSError:  # an ICMP error on the path (POLLERR), or closed meanwhile
                    continue
                session._receive(data, src, kernel_time(anc, 0.0) or time.time())
        return True


def _realtime() -> bool:
    """Move the calling thread to SCHED_FIFO, where the system allows it (root, or an
    RLIMIT_RTPRIO); otherwise it stays an ordinary thread and paces less evenly.

    An ordinary thread is preempted in the middle of a batch by whatever the kernel wakes
    on its CPU, first of all the far end that the batch's own packets wake: on the lab at
    30 calls that alone made the sender jitter 0.2-0.6 ms (0.04-0.08 ms as SCHED_FIFO),
    and several milliseconds while other work loaded the machine. The thread runs less
    than a millisecond per tick, and never forks (the policy would not be inherited).
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK,
                              os.sched_param(RT_PRIORITY))
    except (OSError, AttributeError):
        return False
    return True


_ENGINE: RtpEngine | None = None
_ENGINE_LOCK = threading.Lock()


def media_core() -> ModuleType | None:
    """The C core, unless absent or RECETTE_MEDIA_CORE=python asks for the Python reference
    (to compare the two, or to rule the C out when a figure looks wrong)."""
    if os.environ.get("RECETTE_MEDIA_CORE", "").lower() == "python":
        return None
    return _CORE_MODULE


def streams_up() -> int:
    """Our RTP streams sending now, without starting the engine when no call ever ran."""
    eng = _ENGINE
    return 0 if eng is None else eng.streams_up()


def engine() -> RtpEngine:
    """The process-wide RTP engine (started on first use)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = RtpEngine(media_core())
        return _ENGINE
