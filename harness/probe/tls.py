"""HTTPS for the probe's control channel (``--tls-cert/--tls-key``).

waitress, which the control channel runs on because it never gives a thread to a client before
its request is complete, speaks no TLS. So TLS ends here, in one asyncio thread (a slow or
silent client holds a coroutine, not a thread): each client connection gets its own loopback
connection to waitress, and the front remembers which client is behind which loopback source
port, so the probe still answers and sends only to the real requester. A loopback connection
the front did not open has no client and is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.probe.server import ProbeConfig

BACKEND = "127.0.0.1"


class TlsFront:
    """A TLS listener on the control address relaying to waitress on ``backend_port``."""

    def __init__(self, cfg: ProbeConfig, backend_port: int) -> None:
        assert cfg.tls is not None
        self.cfg = cfg
        self.backend_port = backend_port
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(str(cfg.tls[0]), str(cfg.tls[1]))
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(cfg.control)
        self._sock.listen(256)
        self.address: tuple[str, int] = self._sock.getsockname()
        self._clients: dict[int, str] = {}  # loopback source port -> client address
        self._active = 0
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
        self._server = await asyncio.start_server(
            self._handle, sock=self._sock, ssl=self.ctx,
            ssl_handshake_timeout=self.cfg.request_timeout_s)
        with contextlib.suppress(asyncio.CancelledError):
            await self._server.serve_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            while data := await asyncio.wait_for(reader.read(65536),
                                                 self.cfg.request_timeout_s):
                writer.write(data)
                await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._active >= self.cfg.max_connections:
            writer.close()
            return
        self._active += 1
        port = None
        back: asyncio.StreamWriter | None = None
        try:
            peer = writer.get_extra_info("peername")
            b_reader, b_writer = await asyncio.wait_for(
                asyncio.open_connection(BACKEND, self.backend_port), 5)
            back = b_writer
            port = int(b_writer.get_extra_info("sockname")[1])
            self._clients[port] = str(peer[0])
            pipes = [asyncio.ensure_future(self._pipe(reader, b_writer)),
                     asyncio.ensure_future(self._pipe(b_reader, writer))]
            _, pending = await asyncio.wait(pipes, timeout=self.cfg.lifetime_s,
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
