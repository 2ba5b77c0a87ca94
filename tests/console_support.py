"""What the console's tests share: the clock they move (activation is allowed 24 h after a
verified pass; sessions end after 30 min idle or 8 h), the app served on a loopback port, as
`recette console serve` serves it, with a private key file, and a small HTTP client that
keeps the console's cookie and may speak from another loopback address (127.0.0.2, …: the
login limiter counts per client address)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import re
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from harness.console.app import create_app
from harness.console.store import ConsoleStore

T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
COOKIE = "recette_console"


class Clock:
    """The console's "now", set by the test."""

    def __init__(self, at: dt.datetime = T0) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@contextlib.contextmanager
def serving(store: ConsoleStore, clock: Clock, *, key_file: Path | None = None
            ) -> Iterator[str]:
    """The console on ``store`` at a free loopback port (its base URL), stopped on exit.
    Its cookie key is ``key_file`` (give the same one to instances that share sessions),
    by default a fresh 0600 file in a temporary folder of its own."""
    with contextlib.ExitStack() as stack:
        if key_file is None:
            key_file = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "key"
        server = make_server("127.0.0.1", 0, create_app(store, key_file=key_file, now=clock,
                                                        secure_cookies=False),
                             threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    text: str


class Client:
    """A browser without JavaScript over real HTTP: one cookie jar (the console's cookie),
    requests from ``source`` (a loopback address), redirects not followed."""

    def __init__(self, base: str, source: str = "127.0.0.1") -> None:
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.source = url.hostname or "", url.port or 80, source
        self.cookie: str | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                          source_address=(self.source, 0))
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            for value in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                if name.strip() == COOKIE:
                    val = rest.split(";", 1)[0]
                    gone = "Max-Age=0" in value or "1970" in value or not val
                    self.cookie = None if gone else val
            return Reply(resp.status, resp.headers.get("Location", ""), text)
        finally:
            conn.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found, page[:300]
        return found.group(1)

    def post(self, path: str, form: dict[str, str], *, token_from: str | None = None
             ) -> Reply:
        """POST ``form`` with a CSRF token read from ``token_from`` (default ``path``)."""
        return self.request("POST", path, {**form, "csrf_token":
                                           self.csrf(token_from or path)})

    def confirmed(self, path: str, form: dict[str, str], *, token_from: str | None = None
                  ) -> Reply:
        """POST the site page's ``form`` to ``path`` (``/sites/<key>/activate`` or
        ``/revoke``), then the confirmation page's confirm button: the second answer (or
        the first when no confirmation page came, e.g. a refusal)."""
        first = self.post(path, form, token_from=token_from)
        found = re.search(r'name="token" value="([^"]+)"', first.text)
        if first.status != 200 or not found:
            return first
        fields = dict(re.findall(r'name="(csrf_token|trunk|action)" value="([^"]+)"',
                                 first.text))
        return self.request("POST", path.rsplit("/", 1)[0] + "/confirm",
                            {**fields, "token": found.group(1), "choice": "confirm"})

    def login(self, user: str, password: str) -> Reply:
        return self.post("/login", {"username": user, "password": password})


class CountingHasher:
    """The store's argon2 hasher, counting verifications and how many ran at once."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls, self.running, self.most = real, 0, 0, 0
        self.lock = threading.Lock()

    def verify(self, stored: str, password: str) -> Any:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return self.real.verify(stored, password)
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


PUBLIC = "192.0.2.10"  # the lab site's public address (documentation range)


def sweep_doc(site: str, at: dt.datetime, *, target: str = PUBLIC,
              ports: list[list[int]] | None = None) -> dict[str, object]:
    """What the outsider probe signs for one sweep (harness.probe.server /sweep), before the
    signer adds its key id: the ports the agent sweeps (5060, 10000-20000 and the edges)."""
    import secrets

    spans = ports or [[5060, 5061], [9999, 20001]]
    count = sum(hi - lo + 1 for lo, hi in spans)
    return {"v": 1, "kind": "sweep", "at": at.isoformat(timespec="milliseconds"),
            "target": target, "source": "203.0.113.66", "ports": spans, "repeat": 2,
            "sent": 2 * count, "token": secrets.token_hex(8), "site": site,
            "nonce": secrets.token_hex(8)}


EXPOSURE_PORTS = ["5060/udp", "5060/tcp", "5061/tcp", "5080/udp", "5080/tcp", "5160/udp",
                  "5160/tcp", "4569/udp", "1720/tcp", "2000/tcp", "69/udp", "80/tcp",
                  "443/tcp", "8080/tcp", "8088/tcp", "8089/tcp", "22/tcp", "23/tcp"]


def scan_doc(site: str, at: dt.datetime, *, target: str = PUBLIC,
             found_open: list[str] | None = None,
             ports: list[str] | None = None) -> dict[str, object]:
    """What the outsider probe signs for one exposure scan (harness.probe.scan.scan_doc),
    before the signer adds its key id: security.exposure's 18 ports, nothing open."""
    import secrets

    return {"v": 1, "kind": "scan", "at": at.isoformat(timespec="milliseconds"),
            "target": target, "source": "203.0.113.66",
            "ports": EXPOSURE_PORTS if ports is None else ports, "open": found_open or [],
            "results": secrets.token_hex(32), "seconds": 1.5, "site": site,
            "nonce": secrets.token_hex(8)}


def firewall_results(status: str, sweeps: list[dict[str, object]], *,
                     generated: dt.datetime, public: str | None = PUBLIC,
                     customer: str = "Boulangerie", site: str = "Lyon",
                     scans: list[dict[str, object]] | None = None,
                     exposure: str = "pass") -> bytes:
    """A results.json whose firewall.openings has ``status`` and cites ``sweeps`` (each
    ``{"phase", "attestation"}``, from the outsider), shaped as the plugin writes it; with
    ``scans`` (the same shape), a security.exposure check of status ``exposure`` citing them
    (a firewall pass starts the wait only beside an attested exposure pass)."""
    import json

    fw = {"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall", "status": status,
          "reasons": [], "reserves": [], "facts": {"evidence": "operator traffic, outsider "
                                                                "sweep"},
          "figures": {"sweeps": [{"vantage": "outsider", "phase": s["phase"],
                                  "source": "203.0.113.66", "open": [], "sent": 20010,
                                  "seconds": 0.5, "attestation": s.get("attestation")}
                                 for s in sweeps],
                      "public_address": ({"address": public, "seen_by": "registrar"}
                                         if public else None)}}
    return json.dumps({
        "schema_version": 2, "generated": generated.isoformat(), "customer": customer,
        "site": site, "operator_server": "198.51.100.10", "lang": "fr",
        "counts": {"pass": int(status == "pass"), "fail": int(status == "fail"),
                   "error": int(status == "error"), "skip": 0},
        "checks": [fw, *([] if scans is None else [{
            "id": "security.exposure", "fr": "Exposition", "en": "Exposure",
            "status": exposure, "reserves": [], "facts": {},
            "reasons": ([] if exposure != "fail" else [
                {"code": "EXPO_SIP", "params": {}, "text": "SIP 5060/tcp answers"}]),
            "figures": {"exposure": [{"phase": s["phase"], "source": "203.0.113.66",
                                      "to": public, "seconds": 1.5, "ports": [],
                                      "attestation": s.get("attestation")}
                                     for s in scans]}}])],
        "incidents": []}).encode()



def parallel_wrong_logins(base: str, user: str, n: int = 30) -> list[Reply]:
    """``n`` wrong passwords for ``user`` posted at once from one address (each client
    fetched its CSRF token first, then all wait on one barrier): the limiter's race."""
    clients = [Client(base) for _ in range(n)]
    tokens = [c.csrf() for c in clients]
    start = threading.Barrier(n)
    replies: list[Reply] = []

    def attack(c: Client, token: str) -> None:
        start.wait()
        replies.append(c.request("POST", "/login", {"username": user, "csrf_token": token,
                                                    "password": "wrong wrong wrong"}))

    threads = [threading.Thread(target=attack, args=pair)
               for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return replies
