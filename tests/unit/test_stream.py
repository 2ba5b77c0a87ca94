"""The RTP engine (sip_checks/toolkit/stream.py) on loopback: when both ends of a call are
ours, the receiver measures each packet's true one-way delay, also through a relay that
rewrites SSRC and sequence numbers and delays one direction only."""

from __future__ import annotations

import contextlib
import math
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from types import ModuleType

import pytest

from sip_checks.toolkit import _rtpcore
from sip_checks.toolkit.rtp import RtpPacket, parse
from sip_checks.toolkit.stream import (
    TX_WINDOW,
    WINDOW_MAX_S,
    WINDOW_MIN_S,
    MediaSession,
    RtpEngine,
    engine,
    kernel_time,
    open_media_socket,
)

LOOP = "127.0.0.1"
PORTS = (41000, 42000)


def _session(remote: tuple[str, int] | None = None) -> MediaSession:
    return MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA", remote=remote)


def _talk(*sessions: MediaSession, seconds: float) -> None:
    eng = engine()
    for s in sessions:
        eng.add(s)
    for s in sessions:
        eng.start_sending(s)
    time.sleep(seconds)  # the call's length, not an assertion
    for s in sessions:
        eng.remove(s)
        s.sock.close()


class Relay:
    """A media relay in a thread: forwards a→b after ``delay_s`` with new SSRC and sequence
    numbers (as an SBC re-anchoring a stream does), and b→a at once, untouched."""

    def __init__(self, delay_s: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOP, 0))
        self.sock.settimeout(0.05)
        self.delay_s = delay_s
        self.a: tuple[str, int] | None = None
        self.b: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def addr(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()
        return str(host), int(port)

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            try:
                data, src = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            pkt = parse(data)
            if pkt is None or self.a is None or self.b is None:
                continue
            if src == self.a:
                seq += 1
                out = RtpPacket(pkt.pt, seq, pkt.ts, 0x5EED, pkt.marker, pkt.payload).pack()
                threading.Timer(self.delay_s, self._send, (out, self.b)).start()
            else:
                self.sock.sendto(data, self.a)

    def _send(self, data: bytes, dest: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # a packet still held when the relay closed
            self.sock.sendto(data, dest)

    def __enter__(self) -> Relay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def relay() -> Iterator[Relay]:
    with Relay(delay_s=0.040) as r:
        yield r


def test_a_local_sender_gives_the_one_way_delay_of_each_packet() -> None:
    a, b = _session(), _session()
    a.remote, b.remote = b.local, a.local
    _talk(a, b, seconds=0.5)
    got = b.one_way_ms.get(a.ssrc, [])
    assert len(got) >= 10 and all(d >= 0 for d in got)
    assert statistics.median(got) < 50  # loopback: well under a millisecond unloaded
    assert a.one_way_ms.get(b.ssrc) and not a.echo_rtt_ms


def test_one_way_delay_survives_a_relay_that_renumbers_and_delays_one_direction(
        relay: Relay) -> None:
    a, b = _session(relay.addr), _session(relay.addr)
    relay.a, relay.b = a.local, b.local
    _talk(a, b, seconds=0.6)
    to_b = b.one_way_ms.get(0x5EED, [])  # the relay's SSRC: matched by RTP timestamp
    to_a = a.one_way_ms.get(b.ssrc, [])
    assert len(to_b) >= 10 and len(to_a) >= 10
    # The relay holds a→b for 40 ms: never less, and the other direction does not pay it.
    assert min(to_b) >= 40
    assert statistics.median(to_b) < 40 + 100
    assert statistics.median(to_a) < statistics.median(to_b) - 20


def test_dtmf_digits_and_their_gaps_all_leave_in_order() -> None:
    """Every event of a queued string is sent, each with its own start timestamp (a gap
    between two digits is queued as voice and must be consumed, or the next digit never
    goes)."""
    a, b = _session(), _session()
    a.remote, b.remote = b.local, a.local
    eng = engine()
    for s in (a, b):
        eng.add(s)
        eng.start_sending(s)
    try:
        a.send_dtmf("2580")
        deadline = time.monotonic() + 15  # ~0.9 s of packets; generous for a loaded machine
        while len(b.dtmf_received) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "".join(e.digit for e in b.dtmf_received) == "2580"
        assert not any(e.echoed for e in b.dtmf_received)
        assert all(e.duration_ms == 100 for e in b.dtmf_received)
    finally:
        for s in (a, b):
            eng.remove(s)
            s.sock.close()


def test_the_calls_of_a_tick_leave_in_the_same_order_every_tick() -> None:
    """A call keeps its place in the batch, so where it leaves in the tick does not move
    (on loopback a datagram is queued at the sink within its send)."""
    sink = open_media_socket(LOOP, PORTS)
    calls = [_session(sink.getsockname()) for _ in range(5)]
    _talk(*calls, seconds=0.5)
    ticks: list[list[int]] = []
    last = -1.0
    with contextlib.suppress(BlockingIOError):
        while True:
            data, anc, _, _ = sink.recvmsg(2048, socket.CMSG_SPACE(16))
            at = kernel_time(anc, 0.0)
            if at - last > 0.005:  # ticks are 20 ms apart, a batch takes microseconds
                ticks.append([])
            last = at
            pkt = parse(data)
            assert pkt is not None
            ticks[-1].append(pkt.ssrc)
    sink.close()
    ssrcs = [c.ssrc for c in calls]
    # A call started while the engine had listed its batch begins a tick later.
    whole = [t for t in ticks if len(t) == len(ssrcs)]
    assert len(whole) >= 10
    assert all(t == ssrcs for t in whole), whole


@pytest.mark.parametrize("core", [None, _rtpcore], ids=["python", "c"])
def test_reading_stops_at_its_deadline_and_the_rest_is_read_after(core: ModuleType | None
                                                                    ) -> None:
    """The read before a tick must not delay the tick: it stops at its deadline, and what
    it left is read afterwards, with the kernel's arrival times (both engines' reads)."""
    eng = RtpEngine(core)
    eng.close()  # its thread stopped: only this test reads
    a, b = _session(), _session()
    try:
        for s in (a, b):
            eng.add(s)
            for seq in range(3):
                s.sock.sendto(RtpPacket(8, seq, 160 * seq, 0xABC, False, b"\xd5" * 160).pack(),
                              s.local)
        time.sleep(0.01)
        assert eng._read(until=time.monotonic() - 1) is False
        assert not a.rx and not b.rx
        assert eng._read() is True
        assert a.rx[0xABC].received == b.rx[0xABC].received == 3
        arrivals = [s.rx[0xABC].first_arrival for s in (a, b)]
        assert all(t is not None and 0 < t <= time.time() for t in arrivals)
    finally:
        for s in (a, b):
            eng.remove(s)
            s.sock.close()


def test_the_window_before_a_tick_follows_the_wake_up_lateness_within_bounds() -> None:
    """The engine wakes early enough for its usual lateness, and never spins long."""
    eng = RtpEngine()
    eng.close()
    for _ in range(200):
        eng._learn(0.0002)  # woken 200 µs late, steadily
    assert eng._window == pytest.approx(0.0002, abs=0.00002)
    for _ in range(200):
        eng._learn(0.0)
    assert eng._window == WINDOW_MIN_S
    for _ in range(200):
        eng._learn(0.01)  # a machine that stalls
    assert eng._window == WINDOW_MAX_S


def test_send_times_are_kept_for_the_last_window_of_packets_that_left() -> None:
    """Echo RTT and one-way delay look up when a packet left: the last TX_WINDOW packets,
    a packet that did not leave (no remote, or an error) never."""
    s = _session(("127.0.0.1", 9))
    s.sock.close()
    first_ts = s.ts
    for n in range(TX_WINDOW + 10):
        s._prepare()
        s._commit(None if n == TX_WINDOW + 5 else math.nan if n == TX_WINDOW + 6 else
                  1000.0 + n)
    step = 8 * s.ptime_ms
    assert s._sent_at(first_ts) is None  # left TX_WINDOW + 10 packets ago: forgotten
    assert s._sent_at((first_ts + 10 * step) & 0xFFFFFFFF) == 1010.0  # the oldest kept
    assert s._sent_at((first_ts + (TX_WINDOW + 5) * step) & 0xFFFFFFFF) is None
    assert s._sent_at((first_ts + (TX_WINDOW + 6) * step) & 0xFFFFFFFF) is None
    assert s._sent_at((first_ts + (TX_WINDOW + 9) * step) & 0xFFFFFFFF) == 1000.0 + TX_WINDOW + 9
    assert s.sent == TX_WINDOW + 8 and s.send_errors == 1
