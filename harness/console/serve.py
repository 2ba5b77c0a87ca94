"""``recette console serve``, ``recette console user add``, ``recette console user passwd``
and ``recette console notify``:
the command-line side of the console, kept here so that the CLI stays a table of
subcommands."""

from __future__ import annotations

import getpass
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.console.mailer import PASSWORD_ENV, Mailer
from harness.console.store import ConsoleStore, open_console
from harness.console.webhook import IPNetwork
from harness.errors import RecetteError


def serve(listen: str, url: str | None, *, secure_cookies: bool, proxies: int = 0,
          key_file: Path | None = None, notifier: Notifier | None = None) -> int:
    """Serve the console with Werkzeug's threaded WSGI server: enough for one technical
    service behind a TLS proxy; for more, a WSGI server (gunicorn, uWSGI) can serve
    :data:`harness.console.wsgi.app` on the same database and key file, as many instances
    as needed. ``key_file``: the cookie-signing key (default beside a SQLite store, else
    ``/var/lib/recette/console.key``; made 0600 when missing). ``notifier``: the
    notifications' loop (:func:`notify`) in a thread of this process as well."""
    from werkzeug.serving import make_server

    from harness.console.app import create_app

    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise RecetteError(f"--listen: expected HOST:PORT, got {listen!r}")
    store = open_console(url)
    app = create_app(store, key_file=key_file, secure_cookies=secure_cookies, proxies=proxies)
    server = make_server(host.strip("[]"), int(port), app, threaded=True)
    print(f"recette console: http://{listen}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    stop = threading.Event()
    if notifier is not None:
        threading.Thread(target=notifier.run, args=(store, stop), daemon=True,
                         name="recette-notify").start()
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
    return 0


@dataclass(frozen=True)
class Notifier:
    """The notifications' settings from the command line (``console notify``, ``console
    serve --notify``); the SMTP password from ``$RECETTE_SMTP_PASSWORD`` only."""

    smtp: str | None
    smtp_from: str
    starttls: bool
    smtp_user: str | None
    base_url: str
    every: float = 60.0
    once: bool = False
    # internal networks a webhook may reach (a receiver on the operator's own network)
    webhook_allow: tuple[IPNetwork, ...] = ()

    def mailer(self) -> Mailer | None:
        if not self.smtp:
            return None
        return Mailer.parse(self.smtp, self.smtp_from, starttls=self.starttls,
                            user=self.smtp_user, password=os.environ.get(PASSWORD_ENV))

    def run(self, store: ConsoleStore, stop: threading.Event | None = None) -> int:
        from harness.console import notify as notifications

        return notifications.run(store, mailer=self.mailer(), base_url=self.base_url,
                                 every=self.every, once=self.once, stop=stop,
                                 webhook_allow=self.webhook_allow)


def notify(notifier: Notifier, url: str | None) -> int:
    """``console notify``: sweep for due events and send the outbox, once (cron, a systemd
    timer) or every ``every`` seconds until stopped."""
    if notifier.every <= 0:
        raise RecetteError("--every: expected a number of seconds above 0")
    notifier.mailer()  # a bad --smtp is said before anything runs
    try:
        return notifier.run(open_console(url))
    except KeyboardInterrupt:
        return 0


def _password(username: str) -> str:
    """``$RECETTE_CONSOLE_PASSWORD``, else asked twice."""
    password = os.environ.get("RECETTE_CONSOLE_PASSWORD")
    if not password:
        password = getpass.getpass(f"password for {username}: ")
        if password != getpass.getpass("again: "):
            raise RecetteError("the two passwords differ")
    return password


def user_add(username: str, role: str, company: str | None, url: str | None) -> int:
    """Create a user; the password from ``$RECETTE_CONSOLE_PASSWORD`` or asked twice."""
    password = _password(username)
    store = open_console(url)
    user = store.add_user(username, password, role, company)
    store.audit(getpass.getuser(), "user_add", detail={"user": user.username, "role": role,
                                                       "company": company, "via": "cli"})
    print(f"user {user.username} ({user.role}) created")
    return 0


def user_passwd(username: str, url: str | None) -> int:
    """An administrator's reset of ``username``'s password from the shell (forgotten, or
    leaked); the password from ``$RECETTE_CONSOLE_PASSWORD`` or asked twice, under the
    policy of the user's role. Every session of the user ends at once."""
    store = open_console(url)
    if store.user_by_name(username) is None:  # before asking a password for nobody
        raise RecetteError(f"no console user {username!r}")
    user = store.set_password(username, _password(username), reason="reset")
    store.audit(getpass.getuser(), "password_reset", detail={"user": user.username,
                                                             "via": "cli"})
    print(f"password of {user.username} changed; its open sessions are logged out")
    return 0


def probe(op: str, url: str | None, *, name: str | None = None, public: str | None = None,
          key_id: str | None = None) -> int:
    """``console probe add|list|revoke``: the probe keys whose signed sweeps start the 24 h
    clock. A shell on the console's host is its administrator's: audit-logged as such."""
    store = open_console(url)
    me = f"{getpass.getuser()} (shell)"
    if op == "add":
        assert name is not None and public is not None
        kid = store.add_probe_key(name, public, by=me)
        store.audit(me, "probe_key_add", detail={"name": name, "key_id": kid, "via": "cli"})
        print(f"probe key {kid} registered as {name!r}: its signed sweeps can now back a "
              "firewall pass")
    elif op == "revoke":
        assert key_id is not None
        store.revoke_probe_key(key_id, by=me)
        store.audit(me, "probe_key_revoke", detail={"key_id": key_id, "via": "cli"})
        print(f"probe key {key_id} retired: it backs no upload from now")
    else:
        keys = store.probe_keys()
        for k in keys:
            state = f"retired {k['revoked_at']:%Y-%m-%d %H:%M}Z" if k["revoked_at"] else "in use"
            print(f"{k['key_id']}  {k['name']}  {state}  added {k['added_at']:%Y-%m-%d %H:%M}Z "
                  f"by {k['added_by']}")
        if not keys:
            print("no probe key registered: no firewall pass can start the 24 h wait")
    return 0
