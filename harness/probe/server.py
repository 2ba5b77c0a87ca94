"""The operator-side probe service (``recette probe serve``).

Runs on an internet host an integrator rents (the outsider; in the lab: in ``out``) and, when
an operator allows it, beside the operator's SIP server (in the reference lab: in ``op``). A
site agent asks it, over an authenticated HTTP/JSON control channel, to send test traffic back
to the site or to report what SIP it received. The same command line serves on any host: it
listens on every address and, unless told ``send_from``, sends from the address the kernel
picks towards the requester (which ``/whoami`` and each sweep report). Abuse is designed out:

- every request carries an HMAC-SHA256 of its timestamp, nonce and body under a shared key;
  stale timestamps and replayed nonces are refused;
- the probe only ever sends to the address the request came from (there is no target field to
  abuse as a reflector), and a request naming another target is refused;
- sweeps are rate-limited per requester, packet rate is capped;
- every test is logged as one JSON line (to a file, or stdout for journald and containers);
- ``GET /health`` is the one unauthenticated answer: status, version and uptime, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from harness import __version__

AUTH_HEADER = "X-Recette-Auth"
MAX_SKEW_S = 60
MAX_PORTS = 12000
SWEEP_PPS = 50000
SWEEP_MIN_INTERVAL_S = 2.0
SWEEP_MAGIC = b"recette-sweep:"
DEFAULT_CONTROL_PORT = 5099  # the profile's vantage point default (harness.profile)
STDOUT: Literal["-"] = "-"  # ProbeConfig.log: JSON lines to stdout


def sign(key: bytes, ts: str, nonce: str, method: str, path: str, body: bytes) -> str:
    """The request MAC: what both sides compute over the same fields."""
    msg = b"\n".join([ts.encode(), nonce.encode(), method.encode(), path.encode(), body])
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def source_towards(dst_ip: str) -> str:
    """The source address the kernel picks for traffic to ``dst_ip`` (a connected UDP socket
    sends nothing): what a probe without ``send_from`` really sends from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((dst_ip, 9))
        return str(s.getsockname()[0])


@dataclass
class ProbeConfig:
    """Where the probe listens, which address it sends from, and its key."""

    control: tuple[str, int]
    send_from: str | None  # None: the kernel's choice towards each requester
    key: bytes
    sip_ip: str | None = None  # listen for SIP here (ALG detection), on sip_ports
    sip_ports: tuple[int, ...] = (5060, 5088)
    sip_listen: bool = True  # with no sip_ip: on every address; False: no SIP listeners
    log: Path | Literal["-"] | None = None

    def source_for(self, requester: str) -> str:
        return self.send_from or source_towards(requester)


@dataclass
class ProbeState:
    nonces: dict[str, float] = field(default_factory=dict)
    last_sweep: dict[str, float] = field(default_factory=dict)
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Call-ID
    lock: threading.Lock = field(default_factory=threading.Lock)


class ProbeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cfg: ProbeConfig) -> None:
        self.cfg = cfg
        self.state = ProbeState()
        self.udp_socks: dict[int, socket.socket] = {}
        self.started = time.monotonic()
        self._log_lock = threading.Lock()
        super().__init__(cfg.control, _Handler)

    def log_event(self, **event: Any) -> None:
        line = json.dumps({"at": round(time.time(), 3), **event})
        with self._log_lock:
            if self.cfg.log == STDOUT:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            elif self.cfg.log is not None:
                with self.cfg.log.open("a") as f:
                    f.write(line + "\n")

    # -- SIP listeners (ALG detection) --------------------------------------------------------
    def start_sip_listeners(self) -> None:
        if self.cfg.sip_ip is None and not self.cfg.sip_listen:
            return
        ip = self.cfg.sip_ip or "0.0.0.0"
        for port in self.cfg.sip_ports:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((ip, port))
            self.udp_socks[port] = u
            threading.Thread(target=self._udp_loop, args=(u, port), daemon=True).start()
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((ip, port))
            t.listen(16)
            threading.Thread(target=self._tcp_accept, args=(t, port), daemon=True).start()

    def _store(self, data: bytes, src: tuple[str, int], proto: str, port: int) -> None:
        call_id = _call_id(data) or "?"
        with self.state.lock:
            self.state.received.setdefault(call_id, []).append({
                "proto": proto, "port": port, "src": list(src), "at": time.time(),
                "data": base64.b64encode(data).decode()})

    def _udp_loop(self, sock: socket.socket, port: int) -> None:
        while True:
            data, src = sock.recvfrom(65535)
            self._store(data, src, "udp", port)

    def _tcp_accept(self, sock: socket.socket, port: int) -> None:
        while True:
            conn, src = sock.accept()
            threading.Thread(target=self._tcp_read, args=(conn, src, port),
                             daemon=True).start()

    def _tcp_read(self, conn: socket.socket, src: tuple[str, int], port: int) -> None:
        conn.settimeout(5)
        buf = b""
        with conn:
            try:
                while chunk := conn.recv(65535):
                    buf += chunk
                    while (msg := _frame(buf)) is not None:
                        self._store(msg, src, "tcp", port)
                        buf = buf[len(msg):]
            except OSError:
                return


def _call_id(data: bytes) -> str | None:
    for line in data.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"call-id", b"i"):
            return value.strip().decode(errors="replace")
    return None


def _frame(buf: bytes) -> bytes | None:
    """One complete SIP message at the start of a TCP stream buffer, by Content-Length."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = 0
    for line in buf[:end].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            length = int(value.strip() or 0)
    total = end + 4 + length
    return buf[:total] if len(buf) >= total else None


class _Handler(BaseHTTPRequestHandler):
    server: ProbeServer
    protocol_version = "HTTP/1.1"
    server_version = "recette-probe"  # the Server header names no Python version
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authenticated(self, body: bytes) -> bool:
        raw = self.headers.get(AUTH_HEADER, "")
        parts = raw.rsplit(".", 2)  # the timestamp itself has a dot
        requester = self.client_address[0]
        if len(parts) != 3:
            self.server.log_event(event="refused", reason="no credentials", requester=requester,
                                  path=self.path)
            self._reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or malformed credentials"})
            return False
        ts, nonce, mac = parts
        good = sign(self.server.cfg.key, ts, nonce, self.command, self.path, body)
        now = time.time()
        st = self.server.state
        with st.lock:
            for n, t in list(st.nonces.items()):
                if now - t > 2 * MAX_SKEW_S:
                    del st.nonces[n]
            replay = nonce in st.nonces
            fresh = ts.replace(".", "").isdigit() and abs(now - float(ts)) <= MAX_SKEW_S
            ok = hmac.compare_digest(good, mac) and fresh and not replay
            if ok:
                st.nonces[nonce] = now
        if not ok:
            why = "bad signature" if not hmac.compare_digest(good, mac) else (
                "replayed nonce" if replay else "stale timestamp")
            self.server.log_event(event="refused", reason=why, requester=requester,
                                  path=self.path)
            self._reply(HTTPStatus.UNAUTHORIZED, {"error": why})
        return ok

    def do_GET(self) -> None:
        """``/health`` for monitors and container health checks: no key, nothing secret."""
        if self.path.split("?", 1)[0] != "/health":
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no such page {self.path}"})
            return
        self._reply(HTTPStatus.OK, {
            "status": "ok", "version": __version__,
            "uptime_s": round(time.monotonic() - self.server.started, 1)})

    def _not_allowed(self) -> None:
        """Any other method: 405 naming the two the probe speaks (not the default 501 page)."""
        body = json.dumps({"error": f"method {self.command} not allowed"}).encode()
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, POST")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length > 1_000_000:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            return
        body = self.rfile.read(length)
        if not self._authenticated(body):
            return
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "body is not JSON"})
            return
        requester = self.client_address[0]
        target = req.get("target")
        if target is not None and target != requester:
            self.server.log_event(event="refused", reason="foreign target", requester=requester,
                                  target=target, path=self.path)
            self._reply(HTTPStatus.FORBIDDEN, {
                "error": f"refused: this probe only sends to the requester ({requester}), "
                         f"not to {target}"})
            return
        route = {"/whoami": self._whoami, "/sweep": self._sweep, "/received": self._received,
                 "/send-sip": self._send_sip, "/udp-reflect": self._udp_reflect}.get(self.path)
        if route is None:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no such test {self.path}"})
            return
        try:
            route(req, requester)
        except Exception as exc:  # a probe must answer, never drop the connection
            self.server.log_event(event="error", path=self.path, error=repr(exc))
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"probe failure: {exc}"})

    def _whoami(self, req: dict[str, Any], requester: str) -> None:
        self._reply(HTTPStatus.OK, {"requester": requester,
                                    "send_from": self.server.cfg.source_for(requester)})

    def _sweep(self, req: dict[str, Any], requester: str) -> None:
        st = self.server.state
        now = time.monotonic()
        with st.lock:
            last = st.last_sweep.get(requester, -1e9)
            if now - last < SWEEP_MIN_INTERVAL_S:
                wait = SWEEP_MIN_INTERVAL_S - (now - last)
                self._reply(HTTPStatus.TOO_MANY_REQUESTS,
                            {"error": f"rate limited: retry in {wait:.1f} s",
                             "retry_after": round(wait, 3)})
                return
            st.last_sweep[requester] = now
        try:
            spans = [(int(a), int(b)) for a, b in req["ports"]]
            token = bytes.fromhex(str(req["token"]))[:16]
            repeat = max(1, min(3, int(req.get("repeat", 2))))
        except (KeyError, ValueError, TypeError):
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "expected ports [[lo, hi], ...], "
                                                          "token (hex), repeat"})
            return
        ports = sorted({p for lo, hi in spans for p in range(max(1, lo), min(65535, hi) + 1)})
        if len(ports) > MAX_PORTS:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": f"at most {MAX_PORTS} ports"})
            return
        source = self.server.cfg.source_for(requester)
        sent, took = _blast(source, requester, ports, token, repeat)
        self.server.log_event(event="sweep", requester=requester, source=source,
                              ports=len(ports), repeat=repeat, sent=sent,
                              seconds=round(took, 3))
        self._reply(HTTPStatus.OK, {"sent": sent, "ports": len(ports), "from": source,
                                    "to": requester, "seconds": took})

    def _received(self, req: dict[str, Any], requester: str) -> None:
        call_id = str(req.get("call_id", ""))
        with self.server.state.lock:
            got = [m for m in self.server.state.received.get(call_id, [])
                   if m["src"][0] == requester]
        self._reply(HTTPStatus.OK, {"messages": got})

    def _send_sip(self, req: dict[str, Any], requester: str) -> None:
        """Send a SIP message (given base64) from a probe SIP port to the requester."""
        try:
            data = base64.b64decode(str(req["data"]))
            port = int(req["port"])
            from_port = int(req.get("from_port", self.server.cfg.sip_ports[0]))
        except (KeyError, ValueError):
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "expected data (base64) and port"})
            return
        if from_port not in self.server.udp_socks:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "this probe has no such SIP port"})
            return
        # From the listening socket itself: the message must come from the SIP port.
        self.server.udp_socks[from_port].sendto(data[:65000], (requester, port))
        self.server.log_event(event="send-sip", requester=requester, port=port,
                              bytes=len(data))
        self._reply(HTTPStatus.OK, {"sent": len(data)})

    def _udp_reflect(self, req: dict[str, Any], requester: str) -> None:
        """Report the source ports seen from the requester on the probe's SIP UDP ports (NAT
        mapping tests)."""
        call_id = str(req.get("call_id", ""))
        with self.server.state.lock:
            got = [m["src"][1] for m in self.server.state.received.get(call_id, [])
                   if m["src"][0] == requester and m["proto"] == "udp"]
        self._reply(HTTPStatus.OK, {"ports": got})


def _blast(src_ip: str, dst_ip: str, ports: list[int], token: bytes, repeat: int
           ) -> tuple[int, float]:
    """Send one datagram per port (``repeat`` rounds), paced at :data:`SWEEP_PPS`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((src_ip, 0))
    sent = 0
    t0 = time.monotonic()
    with s:
        for _ in range(repeat):
            for p in ports:
                try:
                    s.sendto(SWEEP_MAGIC + token + p.to_bytes(2, "big"), (dst_ip, p))
                    sent += 1
                except OSError:
                    time.sleep(0.001)
                if sent % 500 == 0:
                    ahead = sent / SWEEP_PPS - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
    return sent, time.monotonic() - t0


def serve(cfg: ProbeConfig) -> None:
    srv = ProbeServer(cfg)
    srv.start_sip_listeners()
    srv.log_event(event="start", version=__version__, control=list(cfg.control),
                  send_from=cfg.send_from or "auto", sip_ip=cfg.sip_ip or (
                      "any" if cfg.sip_listen else None), sip_ports=list(cfg.sip_ports))
    srv.serve_forever()
