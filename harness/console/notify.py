"""What to announce, when, and to whom: the console's notifications.

Three events: a trunk's 24 h after a verified firewall pass are up (the gate's
:func:`~harness.gate.store.decide` says ``eligible``), a site's light turns red (from another
light, in the upload's or the gate action's own transaction: :func:`site_turned`), and a
verification expires unused (``expired``, the site row's ``expires``). The two that come
with time are found by :func:`sweep`, which reads only what fell due since the previous
sweep (passes whose ``at + WAIT``, sites whose ``expires`` lies in the window; both indexed),
never every site: cheap at 10 000 sites, and run as often as one likes.

Recipients are the users who may see the site (an integrator its own sites, the technical
service and administrators all) and chose that event for that channel
(:mod:`harness.console.prefs`). Every notification is an outbox row first
(:mod:`harness.console.outbox`), sent later by :func:`deliver`: nothing here waits for an
SMTP server or a receiver.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from harness.console import outbox, prefs
from harness.console.labels import label
from harness.console.mailer import Mail, Mailer, MailError
from harness.console.outbox import CHANNELS, Channel, Item, NotifyEvent
from harness.console.store import SETTINGS, SITE_ROWS, USERS, ConsoleStore, User
from harness.console.webhook import IPNetwork, WebhookError
from harness.console.webhook import post as post_webhook
from harness.gate.store import EVENTS, WAIT, Event, _utc, decide, now_utc

PARIS = ZoneInfo("Europe/Paris")
SWEPT = "notify_swept_until"           # console_settings: the end of the last sweep's window
FIRST_LOOKBACK = dt.timedelta(hours=1)  # the first sweep ever looks back this far
EVERY = 60.0                            # seconds between two rounds of the loop


# -- who --------------------------------------------------------------------------------------

def recipients(conn: Connection, site: str, event: NotifyEvent
               ) -> list[tuple[prefs.Prefs, Channel]]:
    """Each (user's choices, channel) that wants ``event`` of ``site`` and may see it."""
    wanted = [(p, c) for p in prefs.all_in(conn) for c in CHANNELS if p.wants(c, event)]
    if not wanted:
        return []
    users = {r.id: User(r.id, r.username, r.role, r.company, bool(r.active))
             for r in conn.execute(sa.select(USERS).where(
                 USERS.c.id.in_({p.user_id for p, _ in wanted})))}
    seen: dict[int, bool] = {}
    out = []
    for p, c in wanted:
        u = users.get(p.user_id)
        if u is None or not u.active:
            continue
        if u.id not in seen:
            seen[u.id] = (u.role != "integrator"
                          or ConsoleStore._integrator_sees(conn, u, site))
        if seen[u.id]:
            out.append((p, c))
    return out


def _enqueue(conn: Connection, event: NotifyEvent, site: str, trunk: str | None,
             occurrence: str, at: dt.datetime, detail: dict[str, Any], now: dt.datetime
             ) -> int:
    added = 0
    for p, channel in recipients(conn, site, event):
        added += outbox.enqueue(conn, user_id=p.user_id, channel=channel, event=event,
                                site=site, trunk=trunk, occurrence=occurrence, at=at,
                                detail=detail, now=now)
    return added


def _about(conn: Connection, site: str) -> tuple[dict[str, Any], list[str | None]]:
    """The site's name, customer and trunks, from its summary row."""
    r = conn.execute(sa.select(SITE_ROWS.c.site_name, SITE_ROWS.c.customer,
                               SITE_ROWS.c.trunks).where(SITE_ROWS.c.site == site)).first()
    if r is None:
        return {"site_name": site, "customer": ""}, [None]
    trunks: list[str | None] = list(json.loads(r.trunks)) or [None]
    return {"site_name": r.site_name, "customer": r.customer}, trunks


# -- when -------------------------------------------------------------------------------------

def site_turned(conn: Connection, site: str, old: str | None, new: str, at: dt.datetime
                ) -> int:
    """Called where the site's row is rewritten, in that transaction: a light turned red
    from another one is announced (once per turn: the turn's time is its occurrence)."""
    if new != "red" or old in (None, "red"):
        return 0
    detail, _ = _about(conn, site)
    return _enqueue(conn, "red", site, None, f"red-{_utc(at).isoformat()}", at,
                    {**detail, "was": old}, at)


def sweep(store: ConsoleStore, now: dt.datetime) -> int:
    """Enqueue the time-driven events that fell due in (last sweep, ``now``]; how many rows
    were added. Safe to run any number of times, from any number of instances."""
    now = _utc(now)
    with store.gate._tx() as conn:
        row = conn.execute(sa.select(SETTINGS.c.value).where(SETTINGS.c.key == SWEPT)).first()
        since = _utc(dt.datetime.fromisoformat(row.value)) if row else now - FIRST_LOOKBACK
        if since >= now:
            return 0
        added = _eligible(conn, store, since, now) + _expired(conn, store, since, now)
        _mark(conn, now)
    return added


def _mark(conn: Connection, now: dt.datetime) -> None:
    """Where the next sweep starts; an upsert, as two instances may write it at once (a
    window swept twice costs a rescan, the outbox's key keeps it to one notification)."""
    ins: Any = (pg_insert(SETTINGS) if conn.dialect.name == "postgresql"
                else sqlite_insert(SETTINGS))
    ins = ins.values(key=SWEPT, value=now.isoformat())
    conn.execute(ins.on_conflict_do_update(index_elements=[SETTINGS.c.key],
                                           set_={"value": ins.excluded.value}))


def _last_pass(events: list[Event]) -> Event | None:
    passes = [e for e in events if e.kind == "verification_pass"]
    return passes[-1] if passes else None


def _eligible(conn: Connection, store: ConsoleStore, since: dt.datetime, now: dt.datetime
              ) -> int:
    """Passes whose 24 h ended in the window, still the site's latest, for each trunk the
    gate now calls eligible."""
    added = 0
    for p in conn.execute(sa.select(EVENTS.c.id, EVENTS.c.site, EVENTS.c.at).where(
            EVENTS.c.kind == "verification_pass", EVENTS.c.at > since - WAIT,
            EVENTS.c.at <= now - WAIT)).all():
        events = store.gate.events_in(conn, p.site)
        last = _last_pass(events)
        if last is None or last.id != p.id:
            continue
        detail, trunks = _about(conn, p.site)
        for trunk in trunks:
            if decide(events, trunk, now).state == "eligible":
                added += _enqueue(conn, "eligible", p.site, trunk, f"pass-{p.id}",
                                  last.at + WAIT, {**detail, "verified": last.at.isoformat()},
                                  now)
    return added


def _expired(conn: Connection, store: ConsoleStore, since: dt.datetime, now: dt.datetime
             ) -> int:
    """Sites whose verification expired in the window, for each trunk the gate now calls
    expired."""
    added = 0
    for s in conn.execute(sa.select(SITE_ROWS.c.site, SITE_ROWS.c.expires).where(
            SITE_ROWS.c.expires > since, SITE_ROWS.c.expires <= now)).all():
        events = store.gate.events_in(conn, s.site)
        last = _last_pass(events)
        if last is None:
            continue
        detail, trunks = _about(conn, s.site)
        for trunk in trunks:
            if decide(events, trunk, now).state == "expired":
                added += _enqueue(conn, "expired", s.site, trunk, f"pass-{last.id}",
                                  _utc(s.expires), {**detail,
                                                    "verified": last.at.isoformat()}, now)
    return added


# -- what -------------------------------------------------------------------------------------

def _paris(t: dt.datetime, lang: str) -> str:
    local = t.astimezone(PARIS)
    if lang == "en":
        return f"{local:%Y-%m-%d %H:%M} ({label('notify_paris_time', 'en')})"
    return f"{local:%d/%m/%Y à %H:%M} ({label('notify_paris_time', 'fr')})"


def link(base_url: str, site: str) -> str:
    return f"{base_url.rstrip('/')}/sites/{urllib.parse.quote(site)}"


def mail_of(item: Item, to: str, lang: str, base_url: str) -> Mail:
    """The mail announcing ``item``: which site, trunk, what happened, what to do, the
    link; times in Paris time, labelled."""
    d = item.detail
    name = d.get("site_name") or item.site
    trunk = item.trunk or label("notify_all_trunks", lang)
    verified = d.get("verified")
    values = {"site": name, "customer": d.get("customer") or "", "key": item.site,
              "trunk": trunk, "at": _paris(item.at, lang),
              "verified": _paris(dt.datetime.fromisoformat(verified), lang) if verified
              else ""}
    ev = item.event
    body = "\n".join([
        label("notify_hello", lang), "",
        label("notify_site_line", lang).format(**values),
        label("notify_trunk_line", lang).format(**values), "",
        label(f"notify_{ev}_what", lang).format(**values), "",
        label("notify_todo", lang) + " " + label(f"notify_{ev}_todo", lang), "",
        label("notify_link", lang) + " " + link(base_url, item.site), "",
        "-- ", label("notify_signature", lang), ""])
    return Mail(to, label(f"notify_{ev}_subject", lang).format(**values), body)


def payload_of(item: Item, base_url: str) -> dict[str, Any]:
    return {"event": item.event, "site": item.site, "trunk": item.trunk,
            "at": item.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "site_name": item.detail.get("site_name"),
            "customer": item.detail.get("customer"), "occurrence": item.occurrence,
            "link": link(base_url, item.site)}


# -- sending ----------------------------------------------------------------------------------

def deliver(store: ConsoleStore, now: dt.datetime, *, mailer: Mailer | None,
            base_url: str, limit: int = 50,
            webhook_allow: Sequence[IPNetwork] = ()) -> dict[str, int]:
    """Claim and send the due rows (e-mail only when a mailer is configured); counts of
    ``sent``, ``retry`` (failed, to be tried again or given up) and ``dropped``. Webhooks
    go to public addresses only, or to the networks of ``webhook_allow``."""
    counts = {"sent": 0, "retry": 0, "dropped": 0}
    channels: tuple[Channel, ...] = CHANNELS if mailer else ("webhook",)
    items = outbox.claim(store.engine, now, channels=channels, limit=limit)
    mails: list[tuple[Item, Mail]] = []
    for item in items:
        user = store.user(item.user_id)
        p = prefs.load(store.engine, item.user_id)
        if (user is None or not user.active or not p.wants(item.channel, item.event)
                or not store.can_see(user, item.site)):
            outbox.dropped(store.engine, item, now, "recipient no longer wants or may see "
                                                    "this notification")
            counts["dropped"] += 1
        elif item.channel == "email":
            assert p.email is not None
            mails.append((item, mail_of(item, p.email, p.lang, base_url)))
        else:
            secret = prefs.secret(store.engine, item.user_id)
            assert p.webhook_url is not None and secret is not None
            try:
                post_webhook(p.webhook_url, secret, payload_of(item, base_url), now,
                             allowed=webhook_allow)
            except WebhookError as exc:
                outbox.failed(store.engine, item, now, str(exc))
                counts["retry"] += 1
            else:
                outbox.sent(store.engine, item, now)
                counts["sent"] += 1
    if mails:
        assert mailer is not None
        try:
            results: list[str | None] = mailer.send([m for _, m in mails], now)
        except MailError as exc:
            results = [str(exc)] * len(mails)
        for (item, _), err in zip(mails, results, strict=True):
            if err is None:
                outbox.sent(store.engine, item, now)
                counts["sent"] += 1
            else:
                outbox.failed(store.engine, item, now, err)
                counts["retry"] += 1
    return counts


def run(store: ConsoleStore, *, mailer: Mailer | None, base_url: str, every: float = EVERY,
        once: bool = False, stop: threading.Event | None = None,
        clock: Callable[[], dt.datetime] = now_utc,
        webhook_allow: Sequence[IPNetwork] = ()) -> int:
    """Sweep then deliver, every ``every`` seconds until ``stop`` (or once). A round that
    fails (the database away) is said in one line on stderr and the loop goes on."""
    stop = stop or threading.Event()
    while True:
        try:
            at = clock()
            sweep(store, at)
            counts = deliver(store, at, mailer=mailer, base_url=base_url,
                             webhook_allow=webhook_allow)
            if any(counts.values()):
                print(f"recette notify: {counts['sent']} sent, {counts['retry']} to retry, "
                      f"{counts['dropped']} dropped", file=sys.stderr, flush=True)
        except Exception as exc:  # the loop outlives a bad round
            print(f"recette notify: {type(exc).__name__}: "
                  f"{' '.join(str(exc).split())[:300]}", file=sys.stderr, flush=True)
        if once or stop.wait(every):
            return 0
