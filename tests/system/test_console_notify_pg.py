"""The notifications on a real PostgreSQL (a throw-away cluster): migration 0007 applies,
two console instances sweeping at once insert each notification once (ON CONFLICT DO
NOTHING under the unique key), and two senders claiming at once send each row once."""

from __future__ import annotations

import datetime as dt
import threading

from harness.console import notify, outbox, prefs
from harness.console.mailer import Mailer
from harness.console.store import SETTINGS, ConsoleStore, open_console
from tests.console_support import T0
from tests.notify_support import smtp_server, two_sites
from tests.pg import fresh_database
from tests.system.test_gate import postgres_url  # noqa: F401  (the cluster fixture)


def test_once_on_postgresql_with_two_instances(postgres_url: str) -> None:  # noqa: F811
    url = fresh_database(postgres_url, "notify")
    one = two_sites(url)
    two = open_console(url)
    try:
        tech = one.user_by_name("tech")
        assert tech is not None
        prefs.save(one.engine, tech.id, email="tech@operateur.example",
                   email_events=["eligible"], webhook_url="", webhook_events=[], lang="fr",
                   now=T0)
        notify.sweep(one, T0)
        at = T0 + dt.timedelta(hours=24, minutes=1)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def sweep(store: ConsoleStore) -> None:
            try:
                barrier.wait()
                for i in range(20):
                    with one.engine.begin() as conn:  # forget the window: rescan
                        conn.execute(SETTINGS.delete()
                                     .where(SETTINGS.c.key == notify.SWEPT))
                    notify.sweep(store, at + dt.timedelta(seconds=i))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=sweep, args=(s,)) for s in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        assert len(outbox.rows(one.engine)) == 2
        with smtp_server() as (port, inbox):
            mailer = Mailer("127.0.0.1", port, "recette@op.example")
            senders = [threading.Thread(target=notify.deliver, args=(s, at),
                                        kwargs={"mailer": mailer, "base_url": "https://c"})
                       for s in (one, two)]
            for t in senders:
                t.start()
            for t in senders:
                t.join(120)
        assert len(inbox.mails) == 2
        assert {r.state for r in outbox.rows(one.engine)} == {"sent"}
    finally:
        one.engine.dispose()
        two.engine.dispose()
