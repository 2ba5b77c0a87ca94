"""The console's notifications against real servers on loopback: aiosmtpd receives the
mails, an http.server receiver checks the webhook's signature. What is announced (the 24 h
up, a site turned red, an expiry), to whom (never another integrator's site), exactly once
(sweeps repeated, two instances on one SQLite file), and what survives a failure (SMTP
down then up; a receiver refusing; giving up after MAX_TRIES with the reason kept)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.console import notify, outbox, prefs, webhook
from harness.console.mailer import Mailer
from harness.console.store import SETTINGS, ConsoleStore, open_console
from tests.console_support import T0
from tests.notify_support import LOOPBACK, LYON, NANTES, receiver, smtp_server, two_sites, upload

DAY = dt.timedelta(hours=24)
MIN = dt.timedelta(minutes=1)
BASE = "https://console.example.fr"
TO: dict[str, Any] = {"base_url": BASE, "webhook_allow": LOOPBACK}  # the receivers: loopback


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gate.db'}"


@pytest.fixture
def store(url: str) -> ConsoleStore:
    return two_sites(url)


def _uid(store: ConsoleStore, name: str) -> int:
    user = store.user_by_name(name)
    assert user is not None
    return user.id


def _email(store: ConsoleStore, name: str, to: str, *events: str) -> None:
    prefs.save(store.engine, _uid(store, name), email=to, email_events=list(events),
               webhook_url="", webhook_events=[], lang="fr", now=T0)


def _mailer(port: int) -> Mailer:
    return Mailer("127.0.0.1", port, "recette@operateur.example")


def test_eligible_mail_arrives_in_french(store: ConsoleStore) -> None:
    _email(store, "tech", "tech@operateur.example", "eligible")
    _, secret = prefs.save(store.engine, _uid(store, "alpha"), email="a@alpha.example",
                           email_events=["eligible"], webhook_url="https://hooks.alpha.example/x",
                           webhook_events=["red"], lang="fr", now=T0)
    assert secret and secret.startswith("whsec_")
    assert notify.sweep(store, T0) == 0            # nothing is due yet
    assert notify.sweep(store, T0 + DAY - MIN) == 0
    assert notify.sweep(store, T0 + DAY + MIN) == 3  # tech: Lyon, Nantes; alpha: Lyon
    with smtp_server() as (port, inbox):
        counts = notify.deliver(store, T0 + DAY + MIN, mailer=_mailer(port), **TO)
    assert counts == {"sent": 3, "retry": 0, "dropped": 0}
    to_alpha = [m for rcpt, m in inbox.mails if rcpt == ["a@alpha.example"]]
    assert len(to_alpha) == 1
    msg = to_alpha[0]
    assert msg["Subject"] == "[recette] Lyon : option internationale activable (trunk01)"
    assert msg["Date"] and msg["Message-ID"] and msg["From"] == "recette@operateur.example"
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "Site : Lyon (Boulangerie), référence 11111111100014/Lyon" in body
    assert "Trunk SIP : trunk01" in body
    # T0 is 09:30 UTC, 10:30 in Paris (CET); the 24 h end a day later
    assert "vérification du pare-feu du 02/11/2026 à 10:30 (heure de Paris)" in body
    assert "écoulé depuis le 03/11/2026 à 10:30 (heure de Paris)" in body
    assert f"{BASE}/sites/11111111100014/Lyon" in body
    assert secret not in msg.as_string()
    assert sorted(r[0] for r, _ in inbox.mails) == ["a@alpha.example",
                                                    "tech@operateur.example",
                                                    "tech@operateur.example"]


def test_integrator_is_not_told_of_another_integrators_site(store: ConsoleStore) -> None:
    _email(store, "beta", "b@beta.example", "eligible", "red")
    notify.sweep(store, T0)
    notify.sweep(store, T0 + DAY + MIN)
    upload(store, "alpha", "fail", T0 + DAY + 2 * MIN)  # Lyon (alpha's) turns red
    with smtp_server() as (port, inbox):
        notify.deliver(store, T0 + DAY + 3 * MIN, mailer=_mailer(port), **TO)
    subjects = [m["Subject"] for _, m in inbox.mails]
    assert subjects == ["[recette] Nantes : option internationale activable (trunk01)"]


def test_red_is_enqueued_in_the_upload_transaction(store: ConsoleStore) -> None:
    _email(store, "alpha", "a@alpha.example", "red")
    assert outbox.rows(store.engine) == []
    upload(store, "alpha", "fail", T0 + MIN)
    rows = outbox.rows(store.engine)
    assert [(r.event, r.site, r.channel, r.state) for r in rows] == [
        ("red", LYON, "email", "pending")]
    upload(store, "alpha", "fail", T0 + 2 * MIN)  # still red: no new turn, nothing more
    assert len(outbox.rows(store.engine)) == 1
    with smtp_server() as (port, inbox):
        notify.deliver(store, T0 + 3 * MIN, mailer=_mailer(port), **TO)
    (_, msg), = inbox.mails
    assert msg["Subject"] == "[recette] Lyon : le site passe au rouge"
    assert "Trunk SIP : tous les trunks du site" in msg.get_content()


def test_expiry_is_announced_not_the_stale_24h(store: ConsoleStore) -> None:
    _email(store, "tech", "tech@operateur.example", "eligible", "expired")
    notify.sweep(store, T0)
    assert notify.sweep(store, T0 + dt.timedelta(days=30, minutes=1)) == 2
    assert {(r.event, r.site) for r in outbox.rows(store.engine)} == {
        ("expired", LYON), ("expired", NANTES)}


def test_once_across_sweeps_and_two_instances(store: ConsoleStore, url: str) -> None:
    _email(store, "tech", "tech@operateur.example", "eligible")
    other = open_console(url)  # a second console instance on the same SQLite file
    notify.sweep(store, T0)
    at = T0 + DAY + MIN
    errors: list[BaseException] = []

    def sweeps(st: ConsoleStore) -> None:
        try:
            for i in range(50):
                with st.engine.begin() as conn:  # forget the window: each sweep rescans
                    conn.execute(SETTINGS.delete().where(SETTINGS.c.key == notify.SWEPT))
                notify.sweep(st, at + i * dt.timedelta(seconds=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweeps, args=(s,)) for s in (store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(outbox.rows(store.engine)) == 2  # Lyon and Nantes, once each
    with smtp_server() as (port, inbox):
        notify.deliver(store, at + MIN, mailer=_mailer(port), **TO)
        notify.deliver(other, at + MIN, mailer=_mailer(port), **TO)
        notify.deliver(store, at + 10 * MIN, mailer=_mailer(port), **TO)
    assert len(inbox.mails) == 2


def test_retry_after_smtp_was_down(store: ConsoleStore) -> None:
    _email(store, "tech", "tech@operateur.example", "eligible")
    notify.sweep(store, T0)
    notify.sweep(store, T0 + DAY + MIN)
    port = notify_port = _closed_port()
    at = T0 + DAY + MIN
    started = time.monotonic()
    counts = notify.deliver(store, at, mailer=_mailer(port), **TO)
    assert time.monotonic() - started < 15  # a refused connection does not hang
    assert counts["retry"] == 2
    rows = outbox.rows(store.engine)
    assert {r.state for r in rows} == {"pending"} and {r.tries for r in rows} == {1}
    assert all(f"SMTP 127.0.0.1:{notify_port}" in (r.last_error or "") for r in rows)
    with smtp_server(port) as (_, inbox):
        assert notify.deliver(store, at + 30 * dt.timedelta(seconds=1), mailer=_mailer(port),
                              **TO)["sent"] == 0  # the backoff's minute not over
        assert notify.deliver(store, at + 2 * MIN, mailer=_mailer(port),
                              **TO)["sent"] == 2
    assert len(inbox.mails) == 2
    assert {r.state for r in outbox.rows(store.engine)} == {"sent"}


def test_gives_up_after_max_tries_and_keeps_the_reason(store: ConsoleStore) -> None:
    _email(store, "tech", "tech@operateur.example", "eligible")
    notify.sweep(store, T0)
    notify.sweep(store, T0 + DAY + MIN)
    port, at = _closed_port(), T0 + DAY + MIN
    for _ in range(outbox.MAX_TRIES + 2):
        notify.deliver(store, at, mailer=_mailer(port), **TO)
        at += outbox.LAST_RETRY
    rows = outbox.rows(store.engine)
    assert {(r.state, r.tries) for r in rows} == {("failed", outbox.MAX_TRIES)}
    assert all("SMTP 127.0.0.1" in (r.last_error or "") for r in rows)


def test_webhook_is_signed_and_a_wrong_secret_refused(store: ConsoleStore) -> None:
    at = T0 + DAY + MIN
    uid = _uid(store, "alpha")
    with receiver("unknown yet", lambda: at) as (hook, got):
        _, secret = prefs.save(store.engine, uid, email="", email_events=[],
                               webhook_url=hook, webhook_events=["eligible", "red"],
                               lang="fr", now=T0)
        assert secret is not None
        got.secret = secret
        notify.sweep(store, T0)
        notify.sweep(store, at)
        assert notify.deliver(store, at, mailer=None, **TO)["sent"] == 1
        assert got.good == [{"event": "eligible", "site": LYON, "trunk": "trunk01",
                             "at": "2026-11-03T09:30:00Z", "site_name": "Lyon",
                             "customer": "Boulangerie", "occurrence": got.good[0]["occurrence"],
                             "link": f"{BASE}/sites/11111111100014/Lyon"}]
        prefs.regenerate(store.engine, uid, at)  # the receiver still holds the old secret
        upload(store, "alpha", "fail", at + MIN)
        counts = notify.deliver(store, at + 2 * MIN, mailer=None, **TO)
        assert counts["retry"] == 1 and got.refused == 1 and len(got.good) == 1
        red = [r for r in outbox.rows(store.engine) if r.event == "red"]
        assert red[0].state == "pending" and "HTTP 401" in (red[0].last_error or "")


def test_signature_check_of_a_receiver() -> None:
    body, now = b'{"event": "red"}', T0
    stamp = str(int(now.timestamp()))
    sig = webhook.sign("s3cret", stamp, body)
    assert webhook.verify("s3cret", stamp, body, sig, now=now)
    assert not webhook.verify("other", stamp, body, sig, now=now)
    assert not webhook.verify("s3cret", stamp, body + b" ", sig, now=now)
    assert not webhook.verify("s3cret", str(int(now.timestamp()) + 1), body, sig, now=now)
    assert not webhook.verify("s3cret", stamp, body, sig, now=now + dt.timedelta(minutes=6))


def test_webhook_redirect_is_not_followed() -> None:
    import http.server

    hits: list[str] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(webhook.WebhookError, match=r"HTTP 307.*not followed"):
            webhook.post(f"http://127.0.0.1:{server.server_address[1]}/hook", "k",
                         {"event": "red"}, T0, allowed=LOOPBACK)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/hook"]


@pytest.mark.parametrize(("email", "hook", "key"), [
    ("pas-une-adresse", "", "notify_bad_email"),
    ("a@b.fr, c@d.fr", "", "notify_bad_email"),
    ("", "http://hooks.example.com/x", "notify_bad_url"),
    ("", "ftp://127.0.0.1/x", "notify_bad_url"),
    ("", "https://user:pw@hooks.example.com/x", "notify_bad_url"),
    ("", "https://", "notify_bad_url"),
])
def test_bad_input_is_refused_and_nothing_stored(store: ConsoleStore, email: str, hook: str,
                                                 key: str) -> None:
    uid = _uid(store, "tech")
    with pytest.raises(prefs.PrefsError) as exc:
        prefs.save(store.engine, uid, email=email, email_events=["red"], webhook_url=hook,
                   webhook_events=["red"], lang="fr", now=T0)
    assert exc.value.key == key
    assert prefs.load(store.engine, uid) == prefs.Prefs(uid)


def test_loopback_http_and_https_are_accepted() -> None:
    assert prefs.check_url("http://127.0.0.1:8000/hook")
    assert prefs.check_url("http://[::1]:8000/hook")
    assert prefs.check_url("https://hooks.example.com/recette?x=1")


def test_sweep_reads_only_the_window_at_10000_sites(tmp_path: Path) -> None:
    """10 000 sites verified over 30 days: a one-minute window's sweep reads the few whose
    24 h or expiry fell in it, through the indexes, not the 10 000."""
    from harness.console.store import SITE_ROWS
    from harness.gate.store import EVENTS, SITES, VALID, WAIT

    store = open_console(f"sqlite:///{tmp_path / 'big.db'}")
    store.add_user("tech", "correct horse battery", "technical")
    _email(store, "tech", "tech@operateur.example", "eligible", "expired")
    start = T0 - dt.timedelta(days=30)
    step = dt.timedelta(days=30) / 10_000
    with store.engine.begin() as conn:
        conn.execute(SITES.insert(), [{"site": f"{i:014d}/S"} for i in range(10_000)])
        conn.execute(EVENTS.insert(), [
            {"site": f"{i:014d}/S", "trunk": None, "kind": "verification_pass",
             "at": start + i * step, "actor": "console", "evidence": "run", "detail": None}
            for i in range(10_000)])
        conn.execute(SITE_ROWS.insert(), [
            {"site": f"{i:014d}/S", "site_name": "S", "customer": "C", "integrator": None,
             "light": "green", "since": start + i * step, "last_run": i,
             "last_generated": "", "trunks": '["t1"]', "expires": start + i * step + VALID}
            for i in range(10_000)])
        conn.execute(SETTINGS.insert().values(key=notify.SWEPT,
                                              value=(T0 - MIN).isoformat()))
    started = time.perf_counter()
    added = notify.sweep(store, T0)
    took = time.perf_counter() - started
    # a pass every 259.2 s: the minute before T0 holds at most one 24 h end, one expiry
    assert added <= 2
    assert took < 2.0, took
    with store.engine.connect() as conn:
        plan = " ".join(str(r) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM gate_events WHERE kind = ? AND at > ? "
            "AND at <= ?", ("verification_pass", T0 - WAIT, T0)))
        plan2 = " ".join(str(r) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT site FROM console_sites WHERE expires > ? "
            "AND expires <= ?", (T0 - MIN, T0)))
    assert "gate_events_kind_at" in plan and "console_sites_expires" in plan2
    print(f"sweep of a 1-minute window over 10000 sites: {took * 1000:.1f} ms, {added} rows")


def _closed_port() -> int:
    """A loopback port with nothing listening (the SMTP server is down)."""
    from tests.notify_support import free_port

    return free_port()


def test_cli_notify_once(store: ConsoleStore, url: str, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``recette console notify --once`` on the machine's clock: a pass recorded 24 h 30 min ago
    is announced by mail through the real server; a bad --smtp is one line."""
    from harness.cli import main as cli_main
    from harness.gate.store import now_utc

    _email(store, "tech", "tech@operateur.example", "eligible")
    store.gate.record(LYON, passed=True, actor="console", evidence="run",
                      at=now_utc() - dt.timedelta(hours=24, minutes=30))
    store.refresh_site(LYON, now_utc())
    monkeypatch.setenv("RECETTE_SMTP_PASSWORD", "never-shown-smtp-password")
    with smtp_server() as (port, inbox):
        assert cli_main(["console", "notify", "--once", "--url", url, "--smtp",
                         f"127.0.0.1:{port}", "--smtp-from", "recette@op.example",
                         "--base-url", BASE]) == 0
    (rcpt, msg), = inbox.mails
    assert rcpt == ["tech@operateur.example"] and "Lyon" in msg["Subject"]
    out = capsys.readouterr()
    assert "1 sent" in out.err and "never-shown" not in out.err + out.out
    assert cli_main(["console", "notify", "--once", "--db", url, "--smtp", "nohost:x"]) != 0
    assert "--smtp: expected HOST:PORT" in capsys.readouterr().err


def test_preferences_page_refuses_bad_input_in_one_line(store: ConsoleStore) -> None:
    """Over real HTTP: the page needs a login, a bad address is refused with one line naming
    the field and stores nothing; a good save is audit-logged without the secret."""
    from tests.console_support import Client, Clock, serving
    from tests.notify_support import PASSWORD

    with serving(store, Clock(T0)) as base:
        c = Client(base)
        assert c.get("/preferences").status == 302
        c.login("tech", PASSWORD)
        bad = c.post("/preferences", {"email": "tech at operateur", "email_events": "red"})
        assert bad.status == 302
        page = c.get("/preferences").text
        assert "Adresse e-mail : format invalide (exemple : nom@domaine.fr)." in page
        assert prefs.load(store.engine, _uid(store, "tech")) == prefs.Prefs(
            _uid(store, "tech"))
        good = c.post("/preferences", {"email": "tech@operateur.example",
                                       "email_events": "red",
                                       "webhook_url": "https://hooks.example.com/r"})
        assert good.status == 200
        secret = prefs.secret(store.engine, _uid(store, "tech"))
        assert secret and secret in good.text
        assert secret not in c.get("/preferences").text
    entries = [e for e in store.audit_log() if e.action.startswith("notify_")]
    assert [e.action for e in entries] == ["notify_prefs"]
    assert entries[0].detail["email"] == "tech@operateur.example"
    assert secret not in repr(entries)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.1.20",
                                  "169.254.169.254", "::1", "fd00::1", "0.0.0.0"])
def test_a_webhook_to_an_internal_address_is_refused_unless_allowed(host: str) -> None:
    """Any user, an integrator too, chooses a webhook's URL: the console must not POST for
    it to its own host or its network (SSRF). Refused before any packet; allowed only in a
    network the administrator names (``--webhook-allow``)."""
    with pytest.raises(webhook.WebhookError, match="not a public address"):
        webhook.check_address(host, 443)
    webhook.check_address(host, 443, [ipaddress.ip_network("0.0.0.0/0"),
                                      ipaddress.ip_network("::/0")])
    webhook.check_address("8.8.8.8", 443)  # a public address: a literal, nothing is sent


def test_deliver_refuses_a_loopback_receiver_by_default(store: ConsoleStore) -> None:
    """Without ``--webhook-allow``, a receiver on the console's own host gets nothing and
    the row waits for a retry with the reason."""
    at = T0 + DAY + MIN
    uid = _uid(store, "alpha")
    with receiver("unknown yet", lambda: at) as (hook, got):
        _, secret = prefs.save(store.engine, uid, email="", email_events=[],
                               webhook_url=hook, webhook_events=["eligible"],
                               lang="fr", now=T0)
        assert secret is not None
        got.secret = secret
        notify.sweep(store, T0)
        notify.sweep(store, at)
        counts = notify.deliver(store, at, mailer=None, base_url=BASE)
        assert counts == {"sent": 0, "retry": 1, "dropped": 0}
        assert got.good == [] and got.refused == 0
        row = outbox.rows(store.engine)[0]
        assert "127.0.0.1 is not a public address" in (row.last_error or "")
