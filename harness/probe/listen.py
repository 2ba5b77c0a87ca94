"""The probe's SIP listeners (UDP and TCP 5060 and 5088): bounded in memory and in time.

Every message goes to the :class:`~harness.probe.inbox.SipInbox`, which keeps only what a
requester announced. Over TCP, a peer on the internet may stream bytes with no SIP framing, a
huge Content-Length, or nothing at all, so each connection gets a linear framer (the header end
is searched only in bytes not yet searched) bounded at :data:`MAX_SIP_MESSAGE`, an idle
timeout and a lifetime, and connections are capped overall and per source address.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter

from harness.probe.inbox import SipInbox

MAX_SIP_MESSAGE = 64 * 1024  # headers and body of one message over TCP
MAX_TCP_CONNECTIONS = 64
MAX_TCP_PER_ADDRESS = 8
TCP_IDLE_S = 10.0  # no byte for this long: closed
TCP_LIFETIME_S = 60.0  # a connection lives at most this long (a trickle cannot hold it)
UDP_RCVBUF = 4 << 20  # a burst of scanner datagrams must not push out the agent's


class FrameError(Exception):
    """The stream cannot be framed as SIP; ``reason`` is an inbox drop reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _content_length(head: bytes) -> int:
    length = 0
    for line in head.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in (b"content-length", b"l"):
            digits = value.strip()
            if not digits.isdigit() or len(digits) > 9:
                raise FrameError("unframed")
            length = int(digits)
    return length


class Framer:
    """SIP messages out of a TCP byte stream (RFC 3261 §18.3: by Content-Length), in time
    linear in the bytes fed: each byte is searched for the header end at most once."""

    def __init__(self, limit: int = MAX_SIP_MESSAGE) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._searched = 0  # bytes of _buf already searched for b"\r\n\r\n"
        self._need: int | None = None  # total length of the message at the front, once known

    def feed(self, chunk: bytes) -> list[bytes]:
        """Append ``chunk``; return the complete messages, in order. Raises :class:`FrameError`
        on a message over the limit or a Content-Length that is not a number."""
        self._buf += chunk
        out: list[bytes] = []
        while True:
            if self._need is None:
                while self._buf[:2] == b"\r\n":  # keep-alive CRLFs between messages
                    del self._buf[:2]
                    self._searched = max(0, self._searched - 2)
                end = self._buf.find(b"\r\n\r\n", max(0, self._searched - 3))
                if end < 0:
                    self._searched = len(self._buf)
                    if len(self._buf) > self.limit:
                        raise FrameError("oversize")
                    return out
                self._need = end + 4 + _content_length(bytes(self._buf[:end]))
                if self._need > self.limit:
                    raise FrameError("oversize")
            if len(self._buf) < self._need:
                return out
            out.append(bytes(self._buf[:self._need]))
            del self._buf[:self._need]
            self._need, self._searched = None, 0


class SipListeners:
    """UDP and TCP listeners on ``ports`` feeding ``inbox``; the UDP sockets are also what
    ``/send-sip`` sends from, so the probe's messages come from its SIP ports."""

    def __init__(self, inbox: SipInbox, ip: str, ports: tuple[int, ...]) -> None:
        self.inbox = inbox
        self.udp: dict[int, socket.socket] = {}
        self._tcp: list[socket.socket] = []
        self._conns: Counter[str] = Counter()
        self._lock = threading.Lock()
        for port in ports:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF)
            u.bind((ip, port))
            self.udp[port] = u
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((ip, port))
            t.listen(64)
            self._tcp.append(t)

    def start(self) -> None:
        for port, u in self.udp.items():
            threading.Thread(target=self._udp_loop, args=(u, port), daemon=True,
                             name=f"sip-udp-{port}").start()
        for t in self._tcp:
            threading.Thread(target=self._tcp_accept, args=(t,), daemon=True,
                             name=f"sip-tcp-{t.getsockname()[1]}").start()

    def close(self) -> None:
        for s in [*self.udp.values(), *self._tcp]:
            s.close()

    def _udp_loop(self, sock: socket.socket, port: int) -> None:
        offer = self.inbox.offer
        while True:
            try:
                data, src = sock.recvfrom(65535)
            except OSError:
                if sock.fileno() < 0:
                    return  # closed
                time.sleep(0.01)  # a transient error must not end the listener
                continue
            offer(data, src, "udp", port)

    def _tcp_accept(self, sock: socket.socket) -> None:
        port = sock.getsockname()[1]
        while True:
            try:
                conn, src = sock.accept()
            except OSError:
                if sock.fileno() < 0:
                    return  # closed
                time.sleep(0.1)  # out of descriptors (EMFILE), a peer gone before accept
                continue
            ip = src[0]
            with self._lock:
                busy = (sum(self._conns.values()) >= MAX_TCP_CONNECTIONS
                        or self._conns[ip] >= MAX_TCP_PER_ADDRESS)
                if not busy:
                    self._conns[ip] += 1
            if busy:
                conn.close()
                self.inbox.count("busy")
                continue
            threading.Thread(target=self._tcp_read, args=(conn, src, port), daemon=True).start()

    def _tcp_read(self, conn: socket.socket, src: tuple[str, int], port: int) -> None:
        framer = Framer()
        ends = time.monotonic() + TCP_LIFETIME_S
        try:
            with conn:
                while (left := ends - time.monotonic()) > 0:
                    conn.settimeout(min(TCP_IDLE_S, left))
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        break
                    if not chunk:
                        return
                    for message in framer.feed(chunk):
                        self.inbox.offer(message, src, "tcp", port)
                self.inbox.count("idle")
        except FrameError as exc:
            self.inbox.count(exc.reason)
        except OSError:
            return
        finally:
            with self._lock:
                self._conns[src[0]] -= 1
                if self._conns[src[0]] <= 0:
                    del self._conns[src[0]]
