"""The emulator itself: an SSH server (paramiko in server mode, one thread per connection)
that authenticates like IOS and runs one :class:`~.session.CliSession` per shell.

Why apart: the lifecycle (bind, accept, stop with every thread joined) and the constant-time
credential checks are what the tests rely on to leave nothing running and nothing leaked.
"""

from __future__ import annotations

import hmac
import logging
import socket
import threading
import time
from types import TracebackType

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

from harness.lab.ios_emulator.commands import build_tree
from harness.lab.ios_emulator.session import CliSession
from harness.lab.ios_emulator.show import config_hostname, vlan_table

log = logging.getLogger(__name__)

#: What IOS 15 announces in its SSH identification string (some clients key off it).
SSH_VERSION = "SSH-2.0-Cisco-1.25"


class _SshServer(paramiko.ServerInterface):
    """Password authentication and one interactive shell per connection, as IOS offers."""

    def __init__(self, emulator: IosEmulator) -> None:
        self.emulator = emulator
        self.shell_requested = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        if self.emulator.check_login(username, password):
            return AUTH_SUCCESSFUL
        log.info("ios emulator: failed login for user %r", username)
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel: paramiko.Channel, term: bytes, width: int,
                                  height: int, pixelwidth: int, pixelheight: int,
                                  modes: bytes) -> bool:
        return True  # IOS keeps its own terminal length/width whatever the client asks

    def check_channel_window_change_request(self, channel: paramiko.Channel, width: int,
                                            height: int, pixelwidth: int,
                                            pixelheight: int) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell_requested.set()
        return True


class IosEmulator:
    """An IOS 800-series router CLI on ``host:port`` (``port=0`` picks a free port; read
    :attr:`port` after :meth:`start`).

    ``config_text`` is what ``show running-config`` prints after its header, byte for byte,
    so audits can cite its line numbers. The host key is a fresh in-memory RSA 2048 key.
    """

    LOGIN_GRACE = 120.0  # IOS ``ip ssh time-out`` default: seconds to authenticate

    def __init__(self, *, host: str, port: int, username: str, password: str,
                 enable_secret: str, config_text: str, hostname: str | None = None,
                 model: str = "C891F-K9") -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password.encode()
        self._enable_secret = enable_secret.encode()
        self.config_text = config_text
        self.hostname = hostname or config_hostname(config_text) or "Router"
        self.model = model
        self.tree = build_tree(vlan_table(config_text) is not None)
        self.started_at = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._transports: set[paramiko.Transport] = set()
        self._host_key: paramiko.RSAKey | None = None

    def __repr__(self) -> str:
        return (f"IosEmulator(host={self.host!r}, port={self.port}, "
                f"username={self.username!r}, hostname={self.hostname!r})")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def check_login(self, username: str, password: str) -> bool:
        """Constant-time check of the vty credentials (both compared, always)."""
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        pass_ok = hmac.compare_digest(password.encode(), self._password)
        return user_ok and pass_ok

    def check_enable(self, secret: str) -> bool:
        return hmac.compare_digest(secret.encode(), self._enable_secret)

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Generate the host key, bind, and serve from a background thread; returns once the
        socket listens."""
        if self._sock is not None:
            raise RuntimeError("IosEmulator already started")
        self._stop.clear()
        self._host_key = paramiko.RSAKey.generate(2048)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.started_at = time.monotonic()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"ios-emu-{self.port}-accept")
        self._accept_thread.start()
        log.info("ios emulator %s listening on %s:%d", self.hostname, self.host, self.port)

    def stop(self) -> None:
        """Close the listener and every session, and wait for the threads to end."""
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
            self._accept_thread = None
        with self._lock:
            transports = list(self._transports)
            workers = list(self._workers)
        for t in transports:
            t.close()
        for w in workers:
            w.join(timeout=5)
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()]

    def __enter__(self) -> IosEmulator:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                break
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            worker = threading.Thread(target=self._serve, args=(conn, peer), daemon=True,
                                      name=f"ios-emu-{self.port}-vty-{peer[1]}")
            with self._lock:
                self._workers = [w for w in self._workers if w.is_alive()]
                self._workers.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        """One SSH connection: key exchange, authentication, then the exec session."""
        assert self._host_key is not None
        transport = paramiko.Transport(conn)
        transport.local_version = SSH_VERSION
        transport.add_server_key(self._host_key)
        server = _SshServer(self)
        with self._lock:
            self._transports.add(transport)
        try:
            transport.start_server(server=server)
            channel: paramiko.Channel | None = None
            deadline = time.monotonic() + self.LOGIN_GRACE
            while (channel is None and transport.is_active() and not self._stop.is_set()
                   and time.monotonic() < deadline):
                channel = transport.accept(timeout=0.2)
            if channel is None:
                return
            deadline = time.monotonic() + 10
            while not server.shell_requested.wait(0.2):
                if self._stop.is_set() or time.monotonic() > deadline:
                    channel.close()
                    return
            log.info("ios emulator: session from %s:%d", peer[0], peer[1])
            CliSession(self, channel).run()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("ios emulator: connection from %s ended: %s", peer[0], exc)
        finally:
            transport.close()
            with self._lock:
                self._transports.discard(transport)
