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
- ``/scan`` (:mod:`harness.probe.scan`) looks at a few ports of the requester, TCP and UDP,
  the way a toll-fraud scanner does: only the requester's address (no field of the request
  can name another; a request with a field it does not know is refused), at most
  :data:`~harness.probe.scan.MAX_PORTS` ports, a per-port timeout and a deadline, one scan at a
  time per requester and :data:`MAX_SCANS` at once; answers come back cut and with password
  lines replaced, signed like a sweep;
- ``/sip-moves`` (:mod:`harness.probe.sipmoves`) plays a toll-fraud attacker's SIP moves
  against the requester only (OPTIONS, REGISTER to named and made-up users, an unauthenticated
  INVITE to an international number that connects nowhere, always ended by the probe), on at
  most a few ports, bounded in time, signed like a scan;
- every test is logged as one JSON line (to a file, or stdout for journald and containers);
- with a signing key (``signing_key``, Ed25519, :mod:`harness.attest`), each sweep's answer
  carries the probe's signed attestation of what it sent, to whom, from where and when: the
  agent carries it into ``results.json`` and the console, which knows the probe's public key,
  verifies it. The signing key never leaves the probe (agents hold only the HMAC key);
- ``GET /health`` is the one unauthenticated answer: status, version, uptime and the SIP
  listeners' counts (kept, dropped by reason), nothing else;
- it lives on the open internet: the SIP listeners keep only what a requester announced
  (:mod:`harness.probe.inbox`, :mod:`harness.probe.listen`), and the control channel runs on
  waitress, which buffers each request before a worker thread sees it, so slow or malformed
  clients hold a socket, never a thread, and are closed after a timeout (``bench/probe_soak.py``
  measured it against cheroot and the standard library's ``http.server``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

from waitress.server import BaseWSGIServer, create_server

from harness import __version__
from harness.attest import Signer, sweep_doc
from harness.portset import ranges
from harness.probe import scan, sipmoves
from harness.probe.inbox import MAX_CALL_ID, SipInbox, TooManyRequesters
from harness.probe.listen import SipListeners

AUTH_HEADER = "X-Recette-Auth"
MAX_SKEW_S = 60
MAX_PORTS = 12000
SWEEP_PPS = 50000
SWEEP_MIN_INTERVAL_S = 2.0
SWEEP_MAGIC = b"recette-sweep:"
DEFAULT_CONTROL_PORT = 5099  # the profile's vantage point default (harness.profile)
STDOUT: Literal["-"] = "-"  # ProbeConfig.log: JSON lines to stdout
MAX_BODY = 256 * 1024  # the largest real request is /send-sip with 64 kB of base64
MAX_HEADERS = 8 * 1024
# A body over this goes to a temporary file while it arrives: 1000 connections each sending a
# body slowly hold at most 1000 x (8 + 16) kB of memory, not 1000 x 256 kB.
MAX_BODY_IN_MEMORY = 16 * 1024
MAX_CONNECTIONS = 1000  # control connections at once (the unit raises LimitNOFILE for them)
REQUEST_TIMEOUT_S = 10.0  # a connection silent this long is closed
CONNECTION_LIFETIME_S = 30.0  # a connection with no request running is closed after this
WORKERS = 8
MAX_EXPECT = 16  # Call-IDs in one /expect
# Nonces remembered at once: each signed request is kept 2 x MAX_SKEW_S against replay, so
# this is about 800 requests a second for two minutes, far past any agent; past it a key
# holder gets 429 rather than the probe growing a table (or a leaked key its memory).
MAX_NONCES = 100_000
# Port ranges in one sweep, once merged: the agent sends 3; the attestation lists them and
# must stay well inside harness.attest.MAX_DOC.
MAX_SPANS = 64
MAX_SITE = 200  # characters of a sweep's site key (the agent's name for the site, attested)
MAX_SCANS = 4  # scans running at once, all requesters together (each holds a worker thread)
SCAN_FIELDS = frozenset({"ports", "timeout_s", "deadline_s", "site", "tftp_files", "target"})
_TFTP_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/")


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
    tls: tuple[Path, Path] | None = None  # (certificate chain, private key): HTTPS control
    request_timeout_s: float = REQUEST_TIMEOUT_S
    lifetime_s: float = CONNECTION_LIFETIME_S
    max_connections: int = MAX_CONNECTIONS
    signing_key: Signer | None = None  # signs each sweep's attestation (harness.attest)

    def source_for(self, requester: str) -> str:
        return self.send_from or source_towards(requester)


class BadRequest(Exception):
    """The request's JSON does not say what the route needs: a 400 with this text."""


@dataclass
class ProbeState:
    nonces: dict[str, float] = field(default_factory=dict)
    last_sweep: dict[str, float] = field(default_factory=dict)
    last_scan: dict[str, float] = field(default_factory=dict)
    scanning: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Reply:
    status: int
    doc: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bool = True


def _bounded_server(cfg: ProbeConfig, app: Callable[..., Iterable[bytes]],
                    host: str, port: int) -> Any:
    """waitress with the probe's limits; its maintenance also closes connections that
    trickle bytes for longer than ``lifetime_s`` with no request running (waitress itself only
    closes silent ones)."""
    server = create_server(
        app, host=host, port=port, threads=WORKERS, connection_limit=cfg.max_connections,
        channel_timeout=cfg.request_timeout_s,
        cleanup_interval=max(0.5, min(cfg.request_timeout_s, cfg.lifetime_s) / 2),
        max_request_header_size=MAX_HEADERS, max_request_body_size=MAX_BODY,
        inbuf_overflow=MAX_BODY_IN_MEMORY, asyncore_use_poll=True, asyncore_loop_timeout=0.5,
        ident="recette-probe", expose_tracebacks=False, clear_untrusted_proxy_headers=True,
        backlog=256)
    assert isinstance(server, BaseWSGIServer)  # one address: not a MultiSocketServer
    plain = server.maintenance
    lifetime = cfg.lifetime_s

    def maintenance(now: float) -> None:
        plain(now)  # type: ignore[arg-type]
        channels: dict[int, Any] = server.active_channels  # type: ignore[assignment]
        for channel in list(channels.values()):
            if not channel.requests and channel.creation_time < now - lifetime:
                channel.will_close = True

    server.maintenance = maintenance  # type: ignore[method-assign]
    return server  # Any: the stubs lack effective_port and the socket map the loop needs


class ProbeServer:
    """The control channel (a WSGI app on waitress) and the SIP listeners, sharing state."""

    def __init__(self, cfg: ProbeConfig) -> None:
        self.cfg = cfg
        self.state = ProbeState()
        self.inbox = SipInbox()
        self.sip: SipListeners | None = None
        self.started = time.monotonic()
        self._log_lock = threading.Lock()
        self._tls = None
        self._stop, self._stopped = threading.Event(), threading.Event()
        host, port = cfg.control
        if cfg.tls is not None:
            from harness.probe.tls import TlsFront

            self._wsgi = _bounded_server(cfg, self.app, "127.0.0.1", 0)
            self._tls = TlsFront(cfg, self._wsgi.effective_port)
            self.server_address: tuple[str, int] = self._tls.address
        else:
            self._wsgi = _bounded_server(cfg, self.app, host, port)
            self.server_address = (host, int(self._wsgi.effective_port))

    @property
    def udp_socks(self) -> dict[int, socket.socket]:
        return self.sip.udp if self.sip is not None else {}

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown`, which this loop notices every ``poll_interval``."""
        if self._tls is not None:
            self._tls.start()
        self._stop.clear()
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                self._wsgi.asyncore.loop(timeout=poll_interval, map=self._wsgi._map,
                                         use_poll=True, count=1)
        finally:
            self._wsgi.task_dispatcher.shutdown(timeout=2)
            for channel in list(self._wsgi._map.values()):
                channel.close()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread) and wait for it."""
        if self._tls is not None:
            self._tls.close()
        self._stop.set()
        self._stopped.wait(5)

    def server_close(self) -> None:
        if self.sip is not None:
            self.sip.close()

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
        self.sip = SipListeners(self.inbox, self.cfg.sip_ip or "0.0.0.0", self.cfg.sip_ports)
        self.sip.start()

    def send_datagram(self, sock: socket.socket, data: bytes, dst: tuple[str, int]) -> None:
        """Every datagram ``/send-sip`` sends goes through here (the tests watch it)."""
        sock.sendto(data, dst)

    # -- the control channel ------------------------------------------------------------------
    def requester_of(self, environ: dict[str, Any]) -> str | None:
        """The address the request came from (through the TLS front: the client's)."""
        addr = str(environ.get("REMOTE_ADDR", ""))
        if self._tls is None:
            return addr
        return self._tls.client_of(addr, str(environ.get("REMOTE_PORT", "")))

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]
            ) -> Iterable[bytes]:
        try:
            reply = self._dispatch(environ)
        except Exception as exc:  # a probe must answer, and never with a traceback
            self.log_event(event="error", path=str(environ.get("PATH_INFO", "")),
                           error=repr(exc))
            reply = Reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "probe failure"})
        body = json.dumps(reply.doc).encode()
        status = HTTPStatus(reply.status)
        start_response(f"{status.value} {status.phrase}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            *reply.headers])
        return [body] if reply.body else []

    def _dispatch(self, environ: dict[str, Any]) -> Reply:
        method = str(environ.get("REQUEST_METHOD", ""))
        path = str(environ.get("PATH_INFO", ""))
        requester = self.requester_of(environ)
        if requester is None:
            return Reply(HTTPStatus.FORBIDDEN, {"error": "not through this probe's TLS front"})
        if method == "GET":
            if path != "/health":
                return Reply(HTTPStatus.NOT_FOUND, {"error": f"no such page {path}"})
            return Reply(HTTPStatus.OK, {
                "status": "ok", "version": __version__,
                "uptime_s": round(time.monotonic() - self.started, 1),
                "sip": self.inbox.totals(),
                # public: the console's registry names the key; an operator compares them
                "signing_key": self.cfg.signing_key.key_id if self.cfg.signing_key else None})
        if method != "POST":
            return Reply(HTTPStatus.METHOD_NOT_ALLOWED,
                         {"error": f"method {method} not allowed"},
                         [("Allow", "GET, POST")], body=method != "HEAD")
        query = str(environ.get("QUERY_STRING", ""))
        full = path + ("?" + query if query else "")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return Reply(HTTPStatus.BAD_REQUEST, {"error": "bad Content-Length"})
        if length > MAX_BODY:
            return Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        refused = self._authenticate(environ, full, body, requester)
        if refused is not None:
            return refused
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return Reply(HTTPStatus.BAD_REQUEST, {"error": "body is not JSON"})
        if not isinstance(req, dict):
            return Reply(HTTPStatus.BAD_REQUEST, {"error": "body is not a JSON object"})
        target = req.get("target")
        if target is not None and target != requester:
            self.log_event(event="refused", reason="foreign target", requester=requester,
                           target=str(target)[:100], path=full)
            return Reply(HTTPStatus.FORBIDDEN, {
                "error": f"refused: this probe only sends to the requester ({requester}), "
                         f"not to {str(target)[:100]}"})
        route = {"/whoami": self._whoami, "/sweep": self._sweep, "/received": self._received,
                 "/send-sip": self._send_sip, "/udp-reflect": self._udp_reflect,
                 "/expect": self._expect, "/scan": self._scan,
                 "/sip-moves": self._sip_moves}.get(full)
        if route is None:
            return Reply(HTTPStatus.NOT_FOUND, {"error": f"no such test {full}"})
        try:
            return route(req, requester)
        except BadRequest as exc:
            return Reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    def _authenticate(self, environ: dict[str, Any], path: str, body: bytes,
                      requester: str) -> Reply | None:
        raw = str(environ.get("HTTP_" + AUTH_HEADER.upper().replace("-", "_"), ""))
        parts = raw.rsplit(".", 2)  # the timestamp itself has a dot
        if len(parts) != 3:
            self.log_event(event="refused", reason="no credentials", requester=requester,
                           path=path)
            return Reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or malformed credentials"})
        ts, nonce, mac = parts
        good = sign(self.cfg.key, ts, nonce, "POST", path, body)
        now = time.time()
        st = self.state
        with st.lock:
            # oldest first (insertion order): forgetting the expired ones costs what expired
            while st.nonces and now - next(iter(st.nonces.values())) > 2 * MAX_SKEW_S:
                del st.nonces[next(iter(st.nonces))]
            replay = nonce in st.nonces
            fresh = (ts.isascii() and ts.replace(".", "", 1).isdigit() and len(ts) < 32
                     and abs(now - float(ts)) <= MAX_SKEW_S)
            signed = hmac.compare_digest(good.encode(), mac.encode(errors="replace"))
            ok = signed and fresh and not replay
            full = ok and len(st.nonces) >= MAX_NONCES
            if ok and not full:
                st.nonces[nonce] = now
        if full:
            self.log_event(event="refused", reason="too many requests", requester=requester,
                           path=path)
            return Reply(HTTPStatus.TOO_MANY_REQUESTS,
                         {"error": "too many signed requests: retry in a few seconds",
                          "retry_after": 5.0})
        if ok:
            return None
        why = "bad signature" if not signed else (
            "replayed nonce" if replay else "stale timestamp")
        self.log_event(event="refused", reason=why, requester=requester, path=path)
        return Reply(HTTPStatus.UNAUTHORIZED, {"error": why})

    def _whoami(self, req: dict[str, Any], requester: str) -> Reply:
        return Reply(HTTPStatus.OK, {"requester": requester,
                                     "send_from": self.cfg.source_for(requester)})

    def _sweep(self, req: dict[str, Any], requester: str) -> Reply:
        st = self.state
        now = time.monotonic()
        with st.lock:
            last = st.last_sweep.get(requester, -1e9)
            if now - last < SWEEP_MIN_INTERVAL_S:
                wait = SWEEP_MIN_INTERVAL_S - (now - last)
                return Reply(HTTPStatus.TOO_MANY_REQUESTS,
                             {"error": f"rate limited: retry in {wait:.1f} s",
                              "retry_after": round(wait, 3)})
            st.last_sweep[requester] = now
            if len(st.last_sweep) > 1000:  # requesters whose interval is over are forgotten
                st.last_sweep = {r: t for r, t in st.last_sweep.items()
                                 if now - t < SWEEP_MIN_INTERVAL_S}
        try:
            spans = [(_int(a), _int(b)) for a, b in req["ports"]]
            token = bytes.fromhex(_text(req["token"]))[:16]
            repeat = max(1, min(3, _int(req.get("repeat", 2))))
        except (KeyError, ValueError, TypeError) as exc:
            raise BadRequest("expected ports [[lo, hi], ...], token (hex), repeat") from exc
        site = req.get("site")
        if site is not None and not (isinstance(site, str) and len(site) <= MAX_SITE):
            raise BadRequest(f"site must be a string of at most {MAX_SITE} characters")
        if sum(max(0, min(65535, hi) - max(1, lo) + 1) for lo, hi in spans) > 65535:
            raise BadRequest(f"at most {MAX_PORTS} ports")
        ports = sorted({p for lo, hi in spans for p in range(max(1, lo), min(65535, hi) + 1)})
        if len(ports) > MAX_PORTS:
            raise BadRequest(f"at most {MAX_PORTS} ports")
        swept = ranges(ports)
        if len(swept) > MAX_SPANS:
            raise BadRequest(f"at most {MAX_SPANS} port ranges")
        source = self.cfg.source_for(requester)
        sent, took = _blast(source, requester, ports, token, repeat)
        answer: dict[str, Any] = {"sent": sent, "ports": len(ports), "from": source,
                                  "to": requester, "seconds": took}
        nonce = None
        if self.cfg.signing_key is not None:
            # What was really sent: the ports as swept (clamped, deduplicated), the token as
            # used (its first 16 bytes), to the requester, timed by this probe's clock.
            doc = sweep_doc(target=requester, source=source, ports=swept,
                            repeat=repeat, sent=sent, token=token.hex(), site=site)
            answer["attestation"] = self.cfg.signing_key.sign(doc)
            nonce = doc["nonce"]
        self.log_event(event="sweep", requester=requester, source=source,
                       ports=len(ports), repeat=repeat, sent=sent, seconds=round(took, 3),
                       site=site, attestation=nonce)
        return Reply(HTTPStatus.OK, answer)

    def _scan(self, req: dict[str, Any], requester: str) -> Reply:
        """Scan the requester's ports (:mod:`harness.probe.scan`); never another address."""
        ports, timeout, deadline, files, site = _scan_request(req)
        if (busy := self._begin_scan(requester)) is not None:
            return busy
        try:
            source = self.cfg.source_for(requester)
            results, took = self.run_scan(source, requester, ports, timeout=timeout,
                                          deadline=deadline, tftp_files=files)
        finally:
            self._end_scan(requester)
        answer: dict[str, Any] = {"from": source, "to": requester, "seconds": round(took, 3),
                                  "results": results}
        nonce = None
        if self.cfg.signing_key is not None:
            doc = scan.scan_doc(target=requester, source=source,
                                ports=[(p, t) for p, t, _ in ports], results=results,
                                seconds=took, site=site)
            answer["attestation"] = self.cfg.signing_key.sign(doc)
            nonce = doc["nonce"]
        self.log_event(event="scan", requester=requester, source=source, ports=len(ports),
                       open=[f"{r['port']}/{r['transport']}" for r in results
                             if r["state"] == "open"],
                       seconds=round(took, 3), site=site, attestation=nonce)
        return Reply(HTTPStatus.OK, answer)

    def _begin_scan(self, requester: str) -> Reply | None:
        """Admit a scan or a run of SIP moves (they share the budget): one at a time per
        requester, a pause between two, MAX_SCANS at once; a 429 saying when to retry."""
        st = self.state
        now = time.monotonic()
        with st.lock:
            last = st.last_scan.get(requester, -1e9)
            if requester in st.scanning or len(st.scanning) >= MAX_SCANS \
                    or now - last < SWEEP_MIN_INTERVAL_S:
                wait = max(SWEEP_MIN_INTERVAL_S - (now - last), 1.0)
                return Reply(HTTPStatus.TOO_MANY_REQUESTS,
                             {"error": f"rate limited: retry in {wait:.1f} s",
                              "retry_after": round(wait, 3)})
            st.scanning.add(requester)
            st.last_scan[requester] = now
            if len(st.last_scan) > 1000:  # requesters whose pause is over are forgotten
                st.last_scan = {r: t for r, t in st.last_scan.items()
                                if now - t < SWEEP_MIN_INTERVAL_S}
        return None

    def _end_scan(self, requester: str) -> None:
        with self.state.lock:
            self.state.scanning.discard(requester)

    def run_scan(self, source: str, target: str,
                 ports: list[tuple[int, scan.Transport, scan.Probe]], *, timeout: float,
                 deadline: float, tftp_files: list[str]) -> tuple[list[dict[str, Any]], float]:
        """Every scan goes through here (the tests watch the address it is given)."""
        return scan.scan(source, target, ports, timeout=timeout, deadline=deadline,
                         tftp_files=tftp_files)

    def _sip_moves(self, req: dict[str, Any], requester: str) -> Reply:
        """Play the attacker's SIP moves against the requester (:mod:`harness.probe.sipmoves`);
        never another address. One scan or run of moves at a time per requester."""
        try:
            moves = sipmoves.parse_request(req, MAX_SITE)
        except sipmoves.Refused as exc:
            raise BadRequest(str(exc)) from None
        if (busy := self._begin_scan(requester)) is not None:
            return busy
        try:
            source = self.cfg.source_for(requester)
            played = self.run_sip_moves(source, requester, moves)
        finally:
            self._end_scan(requester)
        answer: dict[str, Any] = {"from": source, "to": requester, **played}
        nonce = None
        if self.cfg.signing_key is not None:
            doc = sipmoves.moves_doc(target=requester, source=source, req=moves,
                                     played=played)
            answer["attestation"] = self.cfg.signing_key.sign(doc)
            nonce = doc["nonce"]
        self.log_event(event="sip-moves", requester=requester, source=source,
                       ports=len(moves.ports), users=len(moves.users),
                       seconds=played["seconds"], site=moves.site, attestation=nonce)
        return Reply(HTTPStatus.OK, answer)

    def run_sip_moves(self, source: str, target: str, req: sipmoves.Request
                      ) -> dict[str, Any]:
        """Every run of the moves goes through here (the tests watch the address it gets)."""
        return sipmoves.play(source, target, req)

    def _expect(self, req: dict[str, Any], requester: str) -> Reply:
        """Announce Call-IDs the requester is about to send: only these are kept."""
        ids = req.get("call_ids")
        if not isinstance(ids, list) or not 0 < len(ids) <= MAX_EXPECT or not all(
                isinstance(c, str) and 0 < len(c) <= MAX_CALL_ID for c in ids):
            raise BadRequest(f"expected call_ids: 1 to {MAX_EXPECT} strings of at most "
                             f"{MAX_CALL_ID} characters")
        try:
            awaited = self.inbox.expect(requester, ids)
        except TooManyRequesters:
            return Reply(HTTPStatus.TOO_MANY_REQUESTS,
                         {"error": "too many requesters at once", "retry_after": 5.0})
        return Reply(HTTPStatus.OK, {"expected": len(ids), "awaited": awaited})

    def _received(self, req: dict[str, Any], requester: str) -> Reply:
        got = self.inbox.messages(requester, _call_id_field(req))
        return Reply(HTTPStatus.OK, {"messages": [m.doc() for m in got]})

    def _send_sip(self, req: dict[str, Any], requester: str) -> Reply:
        """Send a SIP message (given base64) from a probe SIP port to the requester."""
        try:
            data = base64.b64decode(_text(req["data"]), validate=True)
            port = _int(req["port"])
            from_port = _int(req.get("from_port", self.cfg.sip_ports[0]))
        except (KeyError, ValueError, TypeError, binascii.Error) as exc:
            raise BadRequest("expected data (base64) and port") from exc
        if not 0 < port < 65536:
            raise BadRequest("port out of range")
        if from_port not in self.udp_socks:
            raise BadRequest("this probe has no such SIP port")
        # From the listening socket itself: the message must come from the SIP port.
        self.send_datagram(self.udp_socks[from_port], data[:65000], (requester, port))
        self.log_event(event="send-sip", requester=requester, port=port, bytes=len(data))
        return Reply(HTTPStatus.OK, {"sent": len(data)})

    def _udp_reflect(self, req: dict[str, Any], requester: str) -> Reply:
        """Report the source ports seen from the requester on the probe's SIP UDP ports (NAT
        mapping tests)."""
        got = self.inbox.messages(requester, _call_id_field(req))
        return Reply(HTTPStatus.OK, {"ports": [m.src[1] for m in got if m.proto == "udp"]})


def _int(value: object) -> int:
    """A JSON integer (not a bool, a float or a string of digits a thousand long)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _seconds(req: dict[str, Any], name: str, bounds: tuple[float, float, float]) -> float:
    lo, hi, default = bounds
    value = req.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise BadRequest(f"{name} must be a number of seconds from {lo} to {hi}")
    return float(value)


def _scan_request(req: dict[str, Any]
                  ) -> tuple[list[tuple[int, scan.Transport, scan.Probe]], float, float,
                             list[str], str | None]:
    """A scan request's ports ([port, "tcp"|"udp"] or [port, transport, probe]), timeouts,
    TFTP file names and site, bounded; anything else in it is refused, so that no field, under
    any name, can point the scan at another address."""
    unknown = sorted(set(req) - SCAN_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0][:40]!r}: a scan only looks at the "
                         "requester's own address")
    raw = req.get("ports")
    if not isinstance(raw, list) or not 0 < len(raw) <= scan.MAX_PORTS:
        raise BadRequest(f"expected ports: 1 to {scan.MAX_PORTS} [port, \"tcp\"|\"udp\"]")
    ports: list[tuple[int, scan.Transport, scan.Probe]] = []
    for item in raw:
        if not isinstance(item, list) or len(item) not in (2, 3):
            raise BadRequest("each port is [port, \"tcp\"|\"udp\"] or [port, transport, probe]")
        try:
            port = _int(item[0])
        except TypeError:
            raise BadRequest("a port is an integer") from None
        transport = item[1]
        if not 0 < port < 65536 or transport not in ("tcp", "udp"):
            raise BadRequest("a port is 1-65535, its transport tcp or udp")
        probe = item[2] if len(item) == 3 else scan.default_probe(port, transport)
        if probe not in scan.PROBES:
            raise BadRequest(f"a probe is one of {', '.join(scan.PROBES)}")
        if (port, transport) not in {(p, t) for p, t, _ in ports}:
            ports.append((port, transport, probe))
    files = req.get("tftp_files", list(scan.TFTP_FILES))
    if not isinstance(files, list) or not 0 < len(files) <= scan.MAX_TFTP_FILES or not all(
            isinstance(f, str) and 0 < len(f) <= 64 and set(f) <= _TFTP_NAME for f in files):
        raise BadRequest(f"tftp_files: 1 to {scan.MAX_TFTP_FILES} file names of letters, "
                         "digits and ._-/")
    site = req.get("site")
    if site is not None and not (isinstance(site, str) and len(site) <= MAX_SITE):
        raise BadRequest(f"site must be a string of at most {MAX_SITE} characters")
    return (ports, _seconds(req, "timeout_s", scan.TIMEOUT_S),
            _seconds(req, "deadline_s", scan.DEADLINE_S), files, site)


def _call_id_field(req: dict[str, Any]) -> str:
    cid = req.get("call_id", "")
    if not isinstance(cid, str):
        raise BadRequest("call_id must be a string")
    return cid


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
                  tls=cfg.tls is not None,
                  signing_key=cfg.signing_key.key_id if cfg.signing_key else None,
                  send_from=cfg.send_from or "auto", sip_ip=cfg.sip_ip or (
                      "any" if cfg.sip_listen else None), sip_ports=list(cfg.sip_ports))
    srv.serve_forever()
