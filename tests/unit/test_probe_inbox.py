"""The probe's SIP listeners keep only what a requester announced (harness/probe/inbox.py),
frame TCP linearly within bounds and cap connections (harness/probe/listen.py)."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from harness.probe import inbox as inbox_mod
from harness.probe import listen
from harness.probe.inbox import EXPECT_TTL_S, MAX_EXPECTED, MAX_KEPT_PER_CALL, SipInbox
from harness.probe.listen import MAX_SIP_MESSAGE, FrameError, Framer, SipListeners


def _sip(call_id: str, body: bytes = b"", compact: bool = False) -> bytes:
    name = b"i" if compact else b"Call-ID"
    return (b"OPTIONS sip:p SIP/2.0\r\n" + name + b": " + call_id.encode() + b"\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_only_announced_call_ids_from_their_requester_are_kept() -> None:
    clock = Clock()
    box = SipInbox(clock)
    box.expect("192.0.2.7", ["abc"])
    assert box.offer(_sip("abc"), ("192.0.2.7", 4000), "udp", 5060)
    assert box.offer(_sip("abc", compact=True), ("192.0.2.7", 4001), "udp", 5088)
    assert not box.offer(_sip("abc"), ("198.51.100.9", 4000), "udp", 5060)  # not the requester
    assert not box.offer(_sip("other"), ("192.0.2.7", 4000), "udp", 5060)
    assert not box.offer(b"\x00garbage", ("192.0.2.7", 4000), "udp", 5060)
    assert [m.src for m in box.messages("192.0.2.7", "abc")] == [("192.0.2.7", 4000),
                                                                  ("192.0.2.7", 4001)]
    assert box.messages("198.51.100.9", "abc") == []
    t = box.totals()
    assert t["kept"] == 2 and t["dropped"]["unannounced"] == 1
    assert t["dropped"]["unmatched"] == 2 and t["requesters"] == 1
    clock.now += EXPECT_TTL_S + 1  # expired: forgotten, memory given back
    assert box.messages("192.0.2.7", "abc") == []
    assert box.totals()["held_bytes"] == 0 and box.totals()["requesters"] == 0


def test_quotas_bound_what_one_requester_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    box = SipInbox(Clock())
    box.expect("192.0.2.7", ["a"])
    for _ in range(MAX_KEPT_PER_CALL + 3):
        box.offer(_sip("a"), ("192.0.2.7", 1), "udp", 5060)
    assert len(box.messages("192.0.2.7", "a")) == MAX_KEPT_PER_CALL
    assert box.totals()["dropped"]["full"] == 3
    box.expect("192.0.2.7", [f"c{i}" for i in range(MAX_EXPECTED + 5)])  # oldest evicted
    assert box.messages("192.0.2.7", "a") == [] and box.totals()["held_bytes"] == 0
    monkeypatch.setattr(inbox_mod, "MAX_BYTES_PER_REQUESTER", 1000)
    big = _sip(f"c{MAX_EXPECTED}", b"x" * 900)
    assert box.offer(big, ("192.0.2.7", 1), "udp", 5060)
    assert not box.offer(big, ("192.0.2.7", 1), "udp", 5060)
    monkeypatch.setattr(inbox_mod, "MAX_REQUESTERS", 1)
    with pytest.raises(inbox_mod.TooManyRequesters):
        box.expect("192.0.2.8", ["x"])


def test_a_flood_from_strangers_costs_no_memory() -> None:
    box = SipInbox()
    box.expect("192.0.2.7", ["mine"])
    for i in range(20000):
        box.offer(_sip(f"scan{i}", b"v" * 500), ("203.0.113.5", 5060 + i % 7), "udp", 5060)
    t = box.totals()
    assert t["dropped"]["unannounced"] == 20000 and t["kept"] == 0 and t["held_bytes"] == 0


def test_framer_splits_messages_across_any_chunking() -> None:
    stream = b"\r\n\r\n" + _sip("a", b"v=0\r\n") + _sip("b") + b"\r\n" + _sip("c", b"xyz")
    for size in (1, 2, 3, 7, 64, len(stream)):
        f = Framer()
        got = [m for i in range(0, len(stream), size) for m in f.feed(stream[i:i + size])]
        assert got == [_sip("a", b"v=0\r\n"), _sip("b"), _sip("c", b"xyz")], size


@pytest.mark.parametrize(("data", "reason"), [
    (b"INVITE x SIP/2.0\r\nContent-Length: -1\r\n\r\n", "unframed"),
    (b"INVITE x SIP/2.0\r\nContent-Length: ten\r\n\r\n", "unframed"),
    (b"INVITE x SIP/2.0\r\nl: 99999999\r\n\r\n", "oversize"),
    (b"A" * (MAX_SIP_MESSAGE + 1), "oversize"),
])
def test_framer_refuses_what_cannot_be_sip(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as exc:
        Framer().feed(data)
    assert exc.value.reason == reason


def test_framer_is_linear_in_the_bytes_fed() -> None:
    """60 kB fed a byte at a time: a re-scan from the start each time would be 1.8 G steps."""
    f = Framer()
    t0 = time.perf_counter()
    for _ in range(MAX_SIP_MESSAGE - 100):
        f.feed(b"a")
    assert time.perf_counter() - t0 < 2.0


def test_tcp_listener_frames_limits_and_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listen, "TCP_IDLE_S", 0.5)
    monkeypatch.setattr(listen, "MAX_TCP_PER_ADDRESS", 2)
    box = SipInbox()
    with socket.socket() as probe_port:
        probe_port.bind(("127.0.0.1", 0))
        port = probe_port.getsockname()[1]
    lst = SipListeners(box, "127.0.0.1", (port,))
    lst.start()
    try:
        box.expect("127.0.0.1", ["tcp-1"])
        a = socket.create_connection(("127.0.0.1", port))
        b = socket.create_connection(("127.0.0.1", port))
        c = socket.create_connection(("127.0.0.1", port))  # third from one address: closed
        c.settimeout(2)
        assert c.recv(10) == b""
        a.sendall(_sip("tcp-1", b"body"))
        b.sendall(b"X" * (MAX_SIP_MESSAGE + 10))  # unframed: the probe hangs up
        b.settimeout(2)
        with contextlib.suppress(ConnectionResetError):  # closed with unread bytes: a reset
            while b.recv(1000):
                pass
        deadline = time.monotonic() + 3
        while not box.messages("127.0.0.1", "tcp-1") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m.proto for m in box.messages("127.0.0.1", "tcp-1")] == ["tcp"]
        a.settimeout(3)
        assert a.recv(10) == b""  # idle: closed after TCP_IDLE_S
        dropped = box.totals()["dropped"]
        assert dropped["busy"] == 1 and dropped["oversize"] == 1 and dropped["idle"] == 1
        for s in (a, b, c):
            s.close()
    finally:
        lst.close()
