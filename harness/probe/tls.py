"""HTTPS for the probe's control channel (``--tls-cert/--tls-key``).

waitress, which the control channel runs on because it never gives a thread to a client before
its request is complete, speaks no TLS. So TLS ends here, in one asyncio thread (a slow or
silent client holds a coroutine, not a thread): each client connection gets its own loopback
connection to waitress, and the front remembers which client is behind which loopback source
port, so the probe still answers and sends only to the real requester. A loopback connection
the front did not open has no client and is refused.

What a TLS connection costs is bounded here, since the internet can open them by the thousand
(bench/probe_soak.py --tls): connections are counted from accept, before their handshake
(asyncio's own TLS server counts nothing until a handshake ends, and a stalled half
ClientHello holds its buffers for the whole handshake timeout), in all and per client
address; asyncio's TLS read buffer is 16 kB, one TLS record, not 256 kB (about 0.3 MB a
connection measured, 70 kB after). Timeouts after the handshake are waitress's, on the
loopback connection: the front only relays, and closes both sides when either closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import socket
import ssl
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.probe.server import ProbeConfig

BACKEND = "127.0.0.1"
MAX_TLS_CONNECTIONS = 512  # about 35 MB of TLS state at most; waitress's own cap is 1000
MAX_PER_CLIENT = 64  # connections (handshakes included) from one address
# asyncio allocates a read buffer of SSLProtocol.max_size (256 kB) per TLS connection and
# fills it, handshakes included: 300 stalled ClientHellos cost 91 MB. One TLS record (16 kB)
# is all a read can hold anyway. A class attribute of asyncio.sslproto (3.11-3.13): checked.
TLS_READ_BUFFER = 16 * 1024


class TlsFront:
    """A TLS listener on the control address relaying to waitress on ``backend_port``."""

    def __init__(self, cfg: ProbeConfig, backend_port: int) -> None:
        assert cfg.tls is not None
        self.cfg = cfg
        self.backend_port = backend_port
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(str(cfg.tls[0]), str(cfg.tls[1]))
        # IPPROTO_TCP named, or asyncio does not set TCP_NODELAY on the accepted sockets and
        # each answer waits ~40 ms for the client's ACK of the session tickets (Nagle)
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
        self._server: asyncio.Server | None = None

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
            if self._server is not None:
                self._server.close()
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(stop)

    async def _serve(self) -> None:
        _small_tls_reads()
        # plain accept, TLS in the handler: so a connection counts from its first byte
        self._server = await asyncio.start_server(self._handle, sock=self._sock)
        trimmer = asyncio.ensure_future(self._give_back())
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await self._server.serve_forever()
        finally:
            trimmer.cancel()

    async def _give_back(self) -> None:
        """Return freed TLS memory to the system after connections end.

        glibc keeps what this thread's arena freed for reuse: waves of 150 stalled
        handshakes, each closed by the timeout, took the probe from 48 to 106 MB in 48 s
        (bench/probe_soak.py --tls) with no connection left open; malloc_trim(0) brought a
        local copy from 93 back to 57 MB. So after connections close, at most every second."""
        trim = _malloc_trim()
        if trim is None:
            return
        seen = self._closed
        while True:
            await asyncio.sleep(1.0)
            if self._closed != seen:
                seen = self._closed
                trim(0)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername")[0])
        if (self._active >= self.max_connections
                or self._per_client.get(peer, 0) >= MAX_PER_CLIENT):
            writer.transport.abort()  # no TLS state was made: nothing to wait for
            return
        self._active += 1
        self._per_client[peer] = self._per_client.get(peer, 0) + 1
        port = None
        back: asyncio.StreamWriter | None = None
        try:
            await writer.start_tls(self.ctx, ssl_handshake_timeout=self.cfg.request_timeout_s)
            b_reader, b_writer = await asyncio.wait_for(
                asyncio.open_connection(BACKEND, self.backend_port), 5)
            back = b_writer
            port = int(b_writer.get_extra_info("sockname")[1])
            self._clients[port] = peer
            pipes = [asyncio.ensure_future(self._pipe(reader, b_writer)),
                     asyncio.ensure_future(self._pipe(b_reader, writer))]
            # waitress closes a silent or trickling connection (its timeouts); the backstop
            # only matters if it ever did not
            _, pending = await asyncio.wait(pipes, timeout=4 * self.cfg.lifetime_s,
                                            return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
        except (OSError, TimeoutError, ssl.SSLError):
            pass
        finally:
            if port is not None:
                self._clients.pop(port, None)
            for w in (back, writer):
                if w is not None:
                    w.close()
            self._active -= 1
            self._closed += 1
            left = self._per_client[peer] - 1
            if left:
                self._per_client[peer] = left
            else:
                del self._per_client[peer]


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return fn


def _small_tls_reads() -> None:
    """Make asyncio read TLS in 16 kB buffers (see TLS_READ_BUFFER); if a Python version
    moved the attribute, say so loudly rather than serve with 0.3 MB per connection."""
    import asyncio.sslproto as sslproto

    proto = getattr(sslproto, "SSLProtocol", None)
    if proto is None or not isinstance(getattr(proto, "max_size", None), int):
        raise RuntimeError("asyncio.sslproto.SSLProtocol.max_size is gone: the TLS front's "
                           "memory bound needs revisiting for this Python")
    proto.max_size = TLS_READ_BUFFER
