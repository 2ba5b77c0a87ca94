"""HTTPS for the probe's control channel (``--tls-cert/--tls-key``).

waitress, which the control channel runs on because it never gives a thread to a client before
its request is complete, speaks no TLS. So TLS ends here, in one asyncio thread (a slow or
silent client holds a coroutine, not a thread): each client connection gets its own loopback
connection to waitress, and the front remembers which client is behind which loopback source
port, so the probe still answers and sends only to the real requester. A loopback connection
the front did not open has no client and is refused.

What a TLS connection costs is bounded here, since the internet can open them by the thousand
(bench/probe_soak.py --tls). TLS is done with :class:`ssl.SSLObject` over memory BIOs, not
asyncio's TLS transport, so that nothing is made for a connection before its first TLS record
(the ClientHello) has fully arrived: a stalled half ClientHello costs the bytes it sent, not
OpenSSL's handshake state and asyncio's 256 kB read buffer (0.3 MB a connection, 91 MB for 300
measured). Connections count from accept, in all and per client address. Timeouts after the
handshake are waitress's, on the loopback connection: the front only relays, and closes both
sides when either closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.probe.server import ProbeConfig

BACKEND = "127.0.0.1"
MAX_TLS_CONNECTIONS = 512  # about 30 MB of TLS state at most; waitress's own cap is 1000
MAX_PER_CLIENT = 64  # connections (handshakes included) from one address
CHUNK = 16 * 1024  # one TLS record's worth
HANDSHAKE = 0x16  # the content type of a TLS handshake record
MAX_RECORD = 5 + 16384  # header + the largest plaintext record a ClientHello may fill


class NotTls(Exception):
    """The first bytes are not a TLS handshake record (plain HTTP, a scanner's junk)."""

    def __init__(self, first: bytes) -> None:
        super().__init__()
        self.first = first


# Plain HTTP to the HTTPS port gets told so (as nginx does), rather than a reset that reads
# like a firewall: the agent's error then names the cure.
_PLAIN_BODY = (b'{"error": "this probe serves HTTPS (TLS) on this port: name its certificate '
               b'in the profile (tls_ca)"}')
PLAIN_HTTP_ANSWER = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: "
                     + str(len(_PLAIN_BODY)).encode() + b"\r\n\r\n" + _PLAIN_BODY)


@dataclass
class _Session:
    """One client's TLS state and the lock that keeps its outgoing records in order."""

    obj: ssl.SSLObject
    incoming: ssl.MemoryBIO
    outgoing: ssl.MemoryBIO
    sending: asyncio.Lock


class TlsFront:
    """A TLS listener on the control address relaying to waitress on ``backend_port``."""

    def __init__(self, cfg: ProbeConfig, backend_port: int) -> None:
        assert cfg.tls is not None
        self.cfg = cfg
        self.backend_port = backend_port
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(str(cfg.tls[0]), str(cfg.tls[1]))
        self.ctx.options |= ssl.OP_NO_RENEGOTIATION  # a relay reads and writes separately
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(cfg.control)
        self._sock.listen(256)
        self.address: tuple[str, int] = self._sock.getsockname()
        self._clients: dict[int, str] = {}  # loopback source port -> client address
        self._active = 0
        self._per_client: dict[str, int] = {}
        self._closed = 0  # connections ended so far (when to give memory back)
        self.max_connections = min(cfg.max_connections, MAX_TLS_CONNECTIONS)
        self._loop = asyncio.new_event_loop()
        self._accepting: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def client_of(self, addr: str, port: str) -> str | None:
        """The client behind a request waitress got from ``addr:port`` (None: not ours)."""
        if addr != BACKEND or not port.isdigit():
            return None
        return self._clients.get(int(port))

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="probe-tls").start()

    def _run(self) -> None:
        """Serve until :meth:`close`, then end the connections still open and close the loop:
        a handler left suspended in a stopped loop would run its cleanup when collected, on a
        loop that is gone ("Event loop is closed", seen when tests stop probes one after
        another while a client's last connection was still being torn down)."""
        try:
            self._loop.run_until_complete(self._serve())
            left = asyncio.all_tasks(self._loop)
            for task in left:
                task.cancel()
            if left:  # gather() of nothing would look for this thread's (absent) loop
                self._loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        finally:
            self._loop.close()

    def close(self) -> None:
        def stop() -> None:
            if self._accepting is not None:
                self._accepting.cancel()
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(stop)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._accepting = asyncio.current_task()
        self._sock.setblocking(False)
        trimmer = asyncio.ensure_future(self._give_back())
        try:
            while True:
                conn, addr = await loop.sock_accept(self._sock)
                peer = str(addr[0])
                if (self._active >= self.max_connections
                        or self._per_client.get(peer, 0) >= MAX_PER_CLIENT):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))  # a reset, nothing kept
                    conn.close()
                    continue
                self._active += 1
                self._per_client[peer] = self._per_client.get(peer, 0) + 1
                task = asyncio.ensure_future(self._connection(conn, peer))
                self._tasks.add(task)  # the loop holds tasks weakly
                task.add_done_callback(self._tasks.discard)
        except asyncio.CancelledError:
            pass
        finally:
            trimmer.cancel()
            self._sock.close()

    async def _give_back(self) -> None:
        """Return freed TLS memory to the system after connections end.

        glibc keeps what this thread's arena freed, and connections that overlap in time
        fragment it: on asyncio's TLS transport, waves of stalled handshakes took the probe
        from 48 to 106 MB with none left open, and malloc_trim(0) gave back 36 MB. With no
        TLS state before the ClientHello there is much less to give back; this stays as the
        cheap guard (at most once a second, only after connections closed)."""
        trim = _malloc_trim()
        if trim is None:
            return
        seen = self._closed
        while True:
            await asyncio.sleep(1.0)
            if self._closed != seen:
                seen = self._closed
                trim(0)

    async def _connection(self, conn: socket.socket, peer: str) -> None:
        loop = asyncio.get_running_loop()
        back: socket.socket | None = None
        port = None
        try:
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = await asyncio.wait_for(self._handshake(loop, conn),
                                         self.cfg.request_timeout_s)
            back = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            back.setblocking(False)
            back.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await asyncio.wait_for(loop.sock_connect(back, (BACKEND, self.backend_port)), 5)
            port = int(back.getsockname()[1])
            self._clients[port] = peer
            pipes = [asyncio.ensure_future(_upstream(loop, conn, back, tls)),
                     asyncio.ensure_future(_downstream(loop, back, conn, tls))]
            # waitress closes a silent or trickling connection (its timeouts); the backstop
            # only matters if it ever did not
            _, pending = await asyncio.wait(pipes, timeout=4 * self.cfg.lifetime_s,
                                            return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)  # off the sockets first
        except NotTls as exc:
            if exc.first[:1].isalpha():  # a request line: plain HTTP
                with contextlib.suppress(OSError, TimeoutError):
                    await asyncio.wait_for(_answer_plain(loop, conn), 2)
        except (OSError, TimeoutError, ssl.SSLError):
            pass
        finally:
            if port is not None:
                self._clients.pop(port, None)
            for s in (back, conn):
                if s is not None:
                    s.close()
            self._active -= 1
            self._closed += 1
            left = self._per_client[peer] - 1
            if left:
                self._per_client[peer] = left
            else:
                del self._per_client[peer]

    async def _handshake(self, loop: asyncio.AbstractEventLoop,
                         conn: socket.socket) -> _Session:
        """Wait for the whole first record, then make the TLS state and finish the
        handshake."""
        first = await _first_record(loop, conn)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = _Session(self.ctx.wrap_bio(incoming, outgoing, server_side=True), incoming,
                       outgoing, asyncio.Lock())
        incoming.write(first)
        while True:
            try:
                tls.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                await _flush(loop, conn, tls)
                data = await loop.sock_recv(conn, CHUNK)
                if not data:
                    raise ConnectionResetError("closed during the handshake") from None
                incoming.write(data)
        await _flush(loop, conn, tls)
        return tls


async def _first_record(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bytes:
    """The client's first TLS record, read whole (at most MAX_RECORD bytes, no more)."""
    buf = bytearray()
    need = 5
    while len(buf) < need:
        data = await loop.sock_recv(conn, need - len(buf))
        if not data:
            raise ConnectionResetError("closed before its ClientHello")
        buf += data
        if buf[0] != HANDSHAKE:
            raise NotTls(bytes(buf))
        if len(buf) >= 5:
            need = 5 + int.from_bytes(buf[3:5], "big")
            if need > MAX_RECORD:
                raise NotTls(bytes(buf))
    return bytes(buf)


async def _answer_plain(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    """Say 400 to plain HTTP, then read what the client sent (at most 64 kB) until it closes,
    so our close is a FIN after the answer, not a reset that could discard it."""
    await loop.sock_sendall(conn, PLAIN_HTTP_ANSWER)
    conn.shutdown(socket.SHUT_WR)
    taken = 0
    while taken < 65536 and (data := await loop.sock_recv(conn, 4096)):
        taken += len(data)


async def _flush(loop: asyncio.AbstractEventLoop, conn: socket.socket, tls: _Session) -> None:
    """Send what OpenSSL wrote, in order (both relay directions may produce records)."""
    async with tls.sending:
        data = tls.outgoing.read()
        if data:
            await loop.sock_sendall(conn, data)


async def _upstream(loop: asyncio.AbstractEventLoop, conn: socket.socket,
                    back: socket.socket, tls: _Session) -> None:
    """Client to waitress: decrypt and forward until the client closes. What came with the
    client's last handshake record (a TLS 1.3 client sends its request at once) is already
    in the BIO: read that before waiting on the socket."""
    while True:
        while True:
            try:
                plain = tls.obj.read(CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # the client's close_notify
                return
            if not plain:
                return
            await loop.sock_sendall(back, plain)
        await _flush(loop, conn, tls)  # TLS 1.3 session tickets, alerts
        data = await loop.sock_recv(conn, CHUNK)
        if not data:
            return
        tls.incoming.write(data)


async def _downstream(loop: asyncio.AbstractEventLoop, back: socket.socket,
                      conn: socket.socket, tls: _Session) -> None:
    """Waitress to client: encrypt and forward until waitress closes, then close_notify."""
    while data := await loop.sock_recv(back, CHUNK):
        tls.obj.write(data)
        await _flush(loop, conn, tls)
    with contextlib.suppress(ssl.SSLError):
        tls.obj.unwrap()
    await _flush(loop, conn, tls)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return fn
