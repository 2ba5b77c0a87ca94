"""The C core (sip_checks/toolkit/_rtpcore.c) against the Python reference it mirrors.

The same packets, with the same arrival times, go through ``ReceiverStats.update`` and
``Stats.update``, through ``MediaSession._receive`` and ``_rtpcore.receive``, and the same
ticks through both engines' ``_tick``: every figure and every byte on the wire must be equal.
setup.sh builds the core (it installs a C compiler), so its absence here is a failure.
"""

from __future__ import annotations

import math
import random
import socket
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_checks.toolkit import _rtpcore, stream
from sip_checks.toolkit.rtp import ReceiverStats, RtpPacket, dtmf_payload
from sip_checks.toolkit.stream import (
    MAX_SOURCES,
    TX_WINDOW,
    MediaSession,
    RtpEngine,
    media_core,
    open_media_socket,
)

LOOP = "127.0.0.1"
PORTS = (43000, 44000)

STATS_FIELDS = ("clock_rate", "received", "base_seq", "max_seq", "cycles", "bad_seq", "bad",
                "resyncs", "duplicates_or_late", "jitter", "jitter_sum_ms", "jitter_samples",
                "jitter_max_ms", "jitter_restarts", "first_arrival", "last_arrival",
                "expected", "unique", "lost", "loss_pct", "jitter_ms")


def _figures(stats: Any) -> dict[str, object]:
    return {name: getattr(stats, name) for name in STATS_FIELDS}


def test_the_engine_uses_the_c_core() -> None:
    assert media_core() is _rtpcore


# Packets as a relay, a wrap, loss, reordering, duplicates and renumbering give them.
_packet = st.tuples(
    st.one_of(st.integers(0, 0xFFFF), st.integers(65500, 0xFFFF), st.integers(0, 40)),
    st.integers(0, 0xFFFFFFFF),
    st.floats(0, 1e6, allow_nan=False),
    st.booleans())


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(_packet, max_size=60), st.sampled_from([8000, 16000, 48000]))
def test_stats_equal_the_reference_on_any_packets(
        packets: list[tuple[int, int, float, bool]], rate: int) -> None:
    ref, fast = ReceiverStats(clock_rate=rate), _rtpcore.Stats(clock_rate=rate)
    for seq, ts, arrival, voice in packets:
        ref.update(seq, ts, arrival, voice=voice)
        fast.update(seq, ts, arrival, voice=voice)
    assert _figures(fast) == _figures(ref)


def _stream(seed: int, n: int = 3000) -> list[tuple[int, int, float]]:
    """A call's packets through a bad network: loss, reordering, duplicates, a wrap, an SBC
    renumbering mid-call, and arrival times with jitter."""
    rnd = random.Random(seed)
    out: list[tuple[int, int, float]] = []
    seq, ts = 65000, 0xFFFFF000
    for i in range(n):
        if i == n // 2:
            seq += 20_000  # renumbered
        if rnd.random() < 0.05:
            continue  # lost
        out.append((seq + i & 0xFFFF, ts + 160 * i & 0xFFFFFFFF, 0.02 * i + rnd.random() / 200))
        if rnd.random() < 0.02:
            out.append(out[-1])  # duplicated
        if rnd.random() < 0.03 and len(out) > 2:
            out[-1], out[-2] = out[-2], out[-1]  # reordered
    return out


@pytest.mark.parametrize("seed", range(5))
def test_stats_equal_the_reference_on_long_streams(seed: int) -> None:
    ref, fast = ReceiverStats(), _rtpcore.Stats()
    for seq, ts, arrival in _stream(seed):
        ref.update(seq, ts, arrival)
        fast.update(seq, ts, arrival)
    assert _figures(fast) == _figures(ref)
    assert fast.lost > 0 and fast.duplicates_or_late > 0 and fast.resyncs == 1


def test_stats_refuse_a_clock_rate_of_zero() -> None:
    with pytest.raises(ValueError, match="clock_rate"):
        _rtpcore.Stats(clock_rate=0)


# --- one call's receiving: MediaSession._receive against _rtpcore.receive -------------------


def _pair(**kw: Any) -> tuple[MediaSession, MediaSession]:
    """Two sessions alike in every field that shapes receiving (one per implementation): the
    first with the Python counters, the second with the C core's State."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stream, "_CORE_MODULE", None)
        a = MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA", **kw)
    b = MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA", ssrc=a.ssrc, **kw)
    b.seq, b.ts = a.seq, a.ts
    assert type(a._st) is stream._Counters and type(b._st) is _rtpcore.State
    return a, b


def _state(s: MediaSession) -> dict[str, object]:
    return {
        "first_rx": s.first_rx, "rx_from": s.rx_from, "rx_sources": s.rx_sources,
        "rx": {k: _figures(v) for k, v in s.rx.items()}, "echo_rtt_ms": s.echo_rtt_ms,
        "one_way_ms": s.one_way_ms,
        "dtmf": [(e.digit, e.at, e.duration_ms, e.echoed) for e in s.dtmf_received],
        "origin": {k: v.ssrc for k, v in s._origin.items()},
    }


Datagram = tuple[bytes, tuple[str, int], float]


def _datagrams(own: int, local: MediaSession | None, seed: int) -> list[Datagram]:
    """Echoes of our own packets, a far end's stream, a local sender's stream (one-way
    delay), DTMF events, RTCP, garbage, header extensions, padding, many source ports."""
    rnd = random.Random(seed)
    out: list[Datagram] = []
    far = 0x0BADCAFE
    for i in range(400):
        at = 1000.0 + 0.02 * i + rnd.random() / 500
        src = ("198.51.100.7", 20000 + (i % 40 if i > 300 else 0))  # > MAX_SOURCES ports
        kind = rnd.random()
        if kind < 0.35:
            out.append((RtpPacket(8, i, 160 * i, own, False, b"\xd5" * 160).pack(), src, at))
        elif kind < 0.7:
            out.append((RtpPacket(8, 7 * i, 160 * i, far, i == 0, b"\x55" * 160).pack(), src, at))
        elif kind < 0.8 and local is not None:
            ts = (local.ts + 160 * (i % 30)) & 0xFFFFFFFF
            out.append((RtpPacket(8, i, ts, 0x5EED, False, b"\xd5" * 160).pack(), src, at))
        elif kind < 0.88:
            end = i % 4 == 3
            out.append((RtpPacket(101, i, 160 * (i // 4), far, not end,
                                  dtmf_payload("5#"[i % 2], end=end, duration=320)).pack(),
                        src, at))
        elif kind < 0.92:
            out.append((bytes([0x80, 200]) + bytes(26), src, at))  # RTCP SR
        elif kind < 0.95:
            out.append((bytes(rnd.randrange(256) for _ in range(rnd.randrange(30))), src, at))
        else:  # extension header and padding
            body = RtpPacket(8, 7 * i, 160 * i, far, False, b"\x55" * 20).pack()
            ext = b"\xbe\xde\x00\x01" + b"\x00" * 4
            out.append((bytes([0x80 | 0x10 | 0x20]) + body[1:12] + ext + body[12:] + b"\x00\x02",
                        src, at))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_receiving_equals_the_reference(seed: int) -> None:
    ref, fast = _pair()
    sender_ref, sender_fast = _pair(remote=("127.0.0.1", 9))
    try:
        # A local sender whose packets come back (a hairpin): its send times give one-way delay.
        for sender in (sender_ref, sender_fast):
            sender.ssrc = 0x5EED
            sender.ts = 16000
            for n in range(30):
                sender._prepare()
                sender._commit(999.0 + 0.02 * n)
            sender.ts = 16000
        # The echoes of our own packets give a round trip.
        for s in (ref, fast):
            s.seq = 0  # the echoes below carry 0..399
            for n in range(400):
                s._prepare()
                s._commit(999.5 + 0.02 * n)
            s._local = [s, sender_ref if s is ref else sender_fast]
        for data, src, at in _datagrams(ref.ssrc, sender_ref, seed):
            ref._receive(data, src, at)
            _rtpcore.receive(fast, data, src, at, _rtpcore.Stats)
        assert _state(fast) == _state(ref)
        assert ref.echo_rtt_ms and ref.one_way_ms and ref.dtmf_received
        assert len(ref.rx_from) == MAX_SOURCES
    finally:
        for s in (ref, fast, sender_ref, sender_fast):
            s.sock.close()


def test_a_python_stats_left_in_rx_is_updated_by_the_reference() -> None:
    """Tests and tools may put a ReceiverStats in rx: the core hands the packet to _receive."""
    s = MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA")
    try:
        s.rx[0xABC] = ReceiverStats()
        _rtpcore.receive(s, RtpPacket(8, 1, 160, 0xABC, False, b"\xd5").pack(), ("192.0.2.1", 4),
                         5.0, _rtpcore.Stats)
        assert s.rx[0xABC].received == 1 and s.first_rx == 5.0
    finally:
        s.sock.close()


# --- ticks: both engines' _tick, byte for byte on the wire ----------------------------------


def _engine(core: Any) -> RtpEngine:
    eng = RtpEngine(core)
    eng.close()  # its thread stopped: the test drives the ticks
    eng._next_tick = lambda s: s.next_send  # type: ignore[method-assign]
    return eng


def _drain(sock: socket.socket) -> list[bytes]:
    out: list[bytes] = []
    sock.setblocking(False)
    while True:
        try:
            out.append(sock.recv(2048))
        except BlockingIOError:
            return out


def test_ticks_send_the_same_packets_and_keep_the_same_state() -> None:
    """Voice, DTMF digits with their gaps, a call with no remote yet (its clock runs), a
    failed send (closed socket): the same packets leave, the same counters and windows."""
    sinks = [open_media_socket(LOOP, PORTS) for _ in range(2)]
    engines = [_engine(None), _engine(_rtpcore)]
    voice, silent, broken = _pair(), _pair(), _pair()
    sessions = [(voice[i], silent[i], broken[i]) for i in range(2)]
    try:
        for i, (s, quiet, bad) in enumerate(sessions):
            s.remote = sinks[i].getsockname()
            bad.remote = sinks[i].getsockname()
            for x in (s, quiet, bad):
                engines[i].add(x)
                x.sending, x.next_send = True, 1.0
            bad.sock.close()
        for tick in range(120):
            if tick == 10:
                for s, _, _ in sessions:
                    s.send_dtmf("1#", duration_ms=60, gap_ms=40)
            if tick == 50:
                for i, (_, quiet, _) in enumerate(sessions):
                    quiet.remote = sinks[i].getsockname()
            for i, eng in enumerate(engines):
                due = min(x.next_send for x in sessions[i])
                eng._tick(due, None)
        wire = [_drain(sink) for sink in sinks]
        assert wire[1] == wire[0] and len(wire[0]) == 120 + 70
        assert any(p[1] & 0x7F == 101 for p in wire[0])
        for ref, fast in zip(*sessions, strict=True):
            assert (fast.seq, fast.ts, fast.sent, fast.send_errors, fast._event_ts) == (
                ref.seq, ref.ts, ref.sent, ref.send_errors, ref._event_ts)
            assert fast._dtmf_queue == ref._dtmf_queue == []
            assert list(fast._tx_seq) == list(ref._tx_seq)
            assert list(fast._tx_ts_key) == list(ref._tx_ts_key)
            assert fast.next_send == ref.next_send == pytest.approx(1.0 + 120 * 0.02)
        assert sessions[0][2].send_errors == 120 and sessions[0][1].sent == 70
    finally:
        for eng, group in zip(engines, sessions, strict=True):
            for x in group:
                eng.remove(x)
                x.sock.close()
        for sink in sinks:
            sink.close()


def test_a_send_time_is_the_wall_clock_just_before_the_packet_left() -> None:
    eng = _engine(_rtpcore)
    sink = open_media_socket(LOOP, PORTS)
    s = MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA",
                     remote=sink.getsockname())
    try:
        eng.add(s)
        s.sending, s.next_send = True, time.monotonic()
        before = time.time()
        eng._tick(s.next_send, None)
        after = time.time()
        slot = (s.seq - 1) & (TX_WINDOW - 1)
        assert before <= s._tx_time[slot] <= after and s._tx_seq[slot] == (s.seq - 1) & 0xFFFF
        assert len(_drain(sink)) == 1
    finally:
        eng.remove(s)
        s.sock.close()
        sink.close()


def test_a_host_name_remote_is_sent_through_the_socket_module() -> None:
    """An SDP may give a host name (RFC 8866 allows an FQDN in c=): resolved as Python does."""
    eng = _engine(_rtpcore)
    sink = open_media_socket(LOOP, PORTS)
    s = MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA",
                     remote=("localhost", sink.getsockname()[1]))
    try:
        eng.add(s)
        s.sending, s.next_send = True, 1.0
        for _ in range(3):
            eng._tick(s.next_send, None)
        assert len(_drain(sink)) == 3 and s.sent == 3 and not math.isnan(s._tx_time[0] or 0)
    finally:
        eng.remove(s)
        s.sock.close()
        sink.close()


def test_a_large_tick_leaves_in_groups_each_at_its_instant() -> None:
    """Past GROUP calls, each group of a tick starts its group interval after the one before
    (never earlier: the sends wait for the instant), and the calls keep their order."""
    eng = _engine(_rtpcore)
    sink = open_media_socket(LOOP, PORTS)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sessions = [MediaSession(open_media_socket(LOOP, PORTS), pt=8, codec="PCMA",
                             remote=sink.getsockname()) for _ in range(2 * stream.GROUP + 5)]
    try:
        for s in sessions:
            eng.add(s)
            s.sending = True
        for _ in range(3):
            eng._group_s = 0.002  # 2 ms between groups (learnt from the sends otherwise)
            _rtpcore.prepare(sessions)  # packets built (the first time, a tone per call)
            due = time.monotonic() + 0.001
            wall = due + time.time() - time.monotonic()  # the tick on the wall clock
            for s in sessions:
                s.next_send = due
            eng._tick(due, None)
            left = [s._tx_time[(s.seq - 1) & (TX_WINDOW - 1)] for s in sessions]
            firsts = left[::stream.GROUP]
            # Each group leaves no earlier than its instant (a preempted send leaves later,
            # never earlier): each whole group moves the interval a sixteenth of the way to
            # its own length, so the instants are at least these far from the tick.
            step1 = 0.002 * 15 / 16
            assert firsts[0] >= wall - 1e-4
            assert firsts[1] >= wall + step1 - 1e-4
            assert firsts[2] >= wall + step1 + step1 * 15 / 16 - 1e-4
            assert left == sorted(left)
        ssrcs = [_rtpcore_ssrc(p) for p in _drain(sink)]
        assert ssrcs == [s.ssrc for s in sessions] * 3
    finally:
        for s in sessions:
            eng.remove(s)
            s.sock.close()
        sink.close()


def _rtpcore_ssrc(packet: bytes) -> int:
    return int.from_bytes(packet[8:12], "big")
