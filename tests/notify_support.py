"""What the notification tests share: a real SMTP server (aiosmtpd) and a real HTTP receiver
on loopback, both in threads, and a console store with two integrators' sites whose firewall
passed at ``T0`` (the 24 h end at ``T0 + 24 h``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from harness.console import webhook
from harness.console.store import ConsoleStore, open_console
from tests.console_support import T0

PASSWORD = "correct horse battery"
# the tests' receivers are on loopback: what an administrator allows with --webhook-allow
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
LYON, NANTES = "11111111100014/Lyon", "22222222200028/Nantes"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd's handler: every message it accepted, parsed."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@contextlib.contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[int, Inbox]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port or free_port())
    ctl.start()
    try:
        yield ctl.port, inbox
    finally:
        ctl.stop()


@dataclass
class Receiver:
    """What the webhook receiver got: each POST's JSON when its signature held, and the
    count of those it refused."""

    secret: str
    clock: Any
    good: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def receiver(secret: str, clock: Any) -> Iterator[tuple[str, Receiver]]:
    """An HTTP server at ``/hook`` checking ``X-Recette-Signature`` with ``secret`` as a
    real receiver would (:func:`harness.console.webhook.verify`, its clock ``clock()``):
    204 when it holds, 401 otherwise."""
    got = Receiver(secret, clock)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = webhook.verify(got.secret, self.headers.get(webhook.TIMESTAMP, ""), body,
                                self.headers.get(webhook.SIGNATURE, ""), now=got.clock())
            with got.lock:
                if ok:
                    got.good.append(json.loads(body))
                else:
                    got.refused += 1
            self.send_response(204 if ok else 401)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def results(customer: str, site: str, fw: str, generated: dt.datetime) -> bytes:
    return json.dumps({
        "schema_version": 2, "generated": generated.isoformat(), "customer": customer,
        "site": site, "operator_server": "198.51.100.10", "lang": "fr",
        "counts": {"pass": int(fw == "pass"), "fail": int(fw == "fail"), "error": 0,
                   "skip": 0},
        "checks": [{"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall",
                    "status": fw, "reserves": []}], "incidents": []}).encode()


def profile(customer: str, siret: str, site: str, integrator: str) -> bytes:
    return (f"customer:\n  name: {customer}\n  siret: '{siret}'\n  integrator: {integrator}\n"
            f"site:\n  name: {site}\ntrunks:\n- name: trunk01\n").encode()


def upload(store: ConsoleStore, who: str, fw: str, at: dt.datetime, *,
           lyon: bool = True) -> None:
    customer, siret, site, integ = (("Boulangerie", "11111111100014", "Lyon", "Alpha Telecom")
                                    if lyon else ("Garage", "22222222200028", "Nantes",
                                                  "Beta Réseaux"))
    user = store.user_by_name(who)
    assert user is not None
    store.add_run({"results.json": results(customer, site, fw, at),
                   "profile.yaml": profile(customer, siret, site, integ)},
                  uploader=user, at=at)


def two_sites(url: str) -> ConsoleStore:
    """tech (technical), alpha (Alpha Telecom: Lyon), beta (Beta Réseaux: Nantes); both
    sites' firewall verified at T0 (as the console records a verified pass)."""
    store = open_console(url)
    store.add_user("tech", PASSWORD, "technical")
    store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    store.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    upload(store, "alpha", "pass", T0 - dt.timedelta(minutes=30))
    upload(store, "beta", "pass", T0 - dt.timedelta(minutes=30), lyon=False)
    for site in (LYON, NANTES):
        store.gate.record(site, passed=True, actor="console", evidence="run", at=T0)
        store.refresh_site(site, T0)
    return store
