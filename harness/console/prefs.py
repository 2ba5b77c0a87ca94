"""Each user's notification choices and their page (``/preferences``): an e-mail address,
a webhook URL, and which events go to each (migration 0007); the same page holds the time zone
(:mod:`harness.console.tzprefs`).

The webhook secret signs every POST (:mod:`harness.console.webhook`), so it is stored as it
is (a hash could not sign), generated here, shown once on the page that made it (never
cached, never again), and replaced on demand. Input is checked before anything is written:
a bad address or URL is refused with one line naming the field, nothing half-stored. Every
change is audit-logged without the secret. The page's language is kept as the user's, so
mails go out in the language the user reads the console in (French unless English).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy.engine import Connection, Engine

from harness.console import tzprefs
from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, login_required
from harness.console.labels import label
from harness.console.outbox import NOTIFY_EVENTS, Channel, NotifyEvent
from harness.gate.store import _utc

_meta = sa.MetaData()
PREFS = sa.Table("console_notify_prefs", _meta,
                 sa.Column("user_id", sa.Integer, primary_key=True),
                 sa.Column("email", sa.String(254)),
                 sa.Column("email_events", sa.String(100), nullable=False),
                 sa.Column("webhook_url", sa.String(500)),
                 sa.Column("webhook_events", sa.String(100), nullable=False),
                 sa.Column("webhook_secret", sa.String(100)),
                 sa.Column("lang", sa.String(5), nullable=False),
                 sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False))
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")


class PrefsError(ValueError):
    """Refused input: ``key`` is the label of the one-line reason (the field named)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Prefs:
    user_id: int
    email: str | None = None
    email_events: tuple[NotifyEvent, ...] = ()
    webhook_url: str | None = None
    webhook_events: tuple[NotifyEvent, ...] = ()
    has_secret: bool = False
    lang: str = "fr"

    def wants(self, channel: Channel, event: NotifyEvent) -> bool:
        if channel == "email":
            return bool(self.email) and event in self.email_events
        return bool(self.webhook_url) and self.has_secret and event in self.webhook_events


def check_email(value: str) -> str | None:
    """The address, or None when empty; PrefsError when it is not one."""
    value = value.strip()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise PrefsError("notify_bad_email")
    return value


def check_url(value: str) -> str | None:
    """An ``https://`` URL, or ``http://`` to a loopback host only (a receiver on this
    machine: tests, a local relay); None when empty; PrefsError otherwise."""
    value = value.strip()
    if not value:
        return None
    try:
        u = urllib.parse.urlsplit(value)
        host = u.hostname or ""
        _ = u.port
    except ValueError:
        raise PrefsError("notify_bad_url") from None
    if len(value) > 500 or not host or u.username or u.password or any(
            c.isspace() for c in value):
        raise PrefsError("notify_bad_url")
    if u.scheme == "https":
        return value
    if u.scheme == "http" and _loopback(host):
        return value
    raise PrefsError("notify_bad_url")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _events(values: list[str]) -> tuple[NotifyEvent, ...]:
    return tuple(e for e in NOTIFY_EVENTS if e in values)


def _split(text: str) -> tuple[NotifyEvent, ...]:
    return _events(text.split(","))


def _prefs(r: Any) -> Prefs:
    return Prefs(r.user_id, r.email, _split(r.email_events), r.webhook_url,
                 _split(r.webhook_events), bool(r.webhook_secret), r.lang)


def load(engine: Engine, user_id: int) -> Prefs:
    with engine.connect() as conn:
        r = conn.execute(sa.select(PREFS).where(PREFS.c.user_id == user_id)).first()
    return _prefs(r) if r else Prefs(user_id)


def all_in(conn: Connection) -> list[Prefs]:
    """Every user's choices, as the caller's transaction sees them (a handful of rows: only
    the users who asked for something)."""
    return [_prefs(r) for r in conn.execute(sa.select(PREFS))]


def secret(engine: Engine, user_id: int) -> str | None:
    """The user's webhook secret (the sender's use only: never rendered, never logged)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(PREFS.c.webhook_secret)
                            .where(PREFS.c.user_id == user_id)).scalar()


def save(engine: Engine, user_id: int, *, email: str, email_events: list[str],
         webhook_url: str, webhook_events: list[str], lang: str, now: dt.datetime
         ) -> tuple[Prefs, str | None]:
    """Check then store the user's choices; (them, a new secret when this save made one:
    the first webhook URL gets its secret at once, shown once by the page)."""
    mail, url = check_email(email), check_url(webhook_url)
    values = {"email": mail, "email_events": ",".join(_events(email_events)),
              "webhook_url": url, "webhook_events": ",".join(_events(webhook_events)),
              "lang": "en" if lang == "en" else "fr", "updated_at": _utc(now)}
    made = None
    with engine.begin() as conn:
        old = conn.execute(sa.select(PREFS.c.webhook_secret)
                           .where(PREFS.c.user_id == user_id)).first()
        if url and not (old and old.webhook_secret):
            made = values["webhook_secret"] = new_secret()
        if old is None:
            conn.execute(PREFS.insert().values(user_id=user_id, **values))
        else:
            conn.execute(PREFS.update().where(PREFS.c.user_id == user_id).values(**values))
    return load(engine, user_id), made


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def regenerate(engine: Engine, user_id: int, now: dt.datetime) -> str:
    """A fresh webhook secret for the user (the old one signs nothing from now)."""
    made = new_secret()
    with engine.begin() as conn:
        done = conn.execute(PREFS.update().where(PREFS.c.user_id == user_id).values(
            webhook_secret=made, updated_at=_utc(now))).rowcount
        if not done:
            conn.execute(PREFS.insert().values(user_id=user_id, email_events="",
                                               webhook_events="", webhook_secret=made,
                                               lang="fr", updated_at=_utc(now)))
    return made


# -- the page ---------------------------------------------------------------------------------

bp = Blueprint("prefs", __name__)


def _page(p: Prefs, new: str | None = None) -> Any:
    page = render_template("preferences.html", p=p, events=NOTIFY_EVENTS, new_secret=new,
                           **tzprefs.context())
    return page, 200, {"Cache-Control": "no-store"}  # a new secret is shown once


@bp.route("/preferences")
@login_required
def index() -> Any:
    return _page(load(store_of().engine, current_user().id))


@bp.route("/preferences", methods=["POST"])
@login_required
def save_form() -> Any:
    store, user, f = store_of(), current_user(), request.form
    if "tz" in f:  # the page's time-zone form
        return tzprefs.save(f.get("tz", ""))
    try:
        p, made = save(store.engine, user.id, email=f.get("email", ""),
                       email_events=f.getlist("email_events"),
                       webhook_url=f.get("webhook_url", ""),
                       webhook_events=f.getlist("webhook_events"), lang=g.lang, now=now())
    except PrefsError as exc:
        flash(label(exc.key, g.lang), "error")
        return redirect(url_for("prefs.index"))
    store.audit(user.username, "notify_prefs", ip=client_ip(), at=now(),
                detail={"email": p.email, "email_events": list(p.email_events),
                        "webhook_url": p.webhook_url,
                        "webhook_events": list(p.webhook_events),
                        "secret_made": made is not None})
    if made is None:
        flash(label("done", g.lang), "ok")
        return redirect(url_for("prefs.index"))
    return _page(p, made)


@bp.route("/preferences/secret", methods=["POST"])
@login_required
def new_secret_form() -> Any:
    store, user = store_of(), current_user()
    made = regenerate(store.engine, user.id, now())
    store.audit(user.username, "notify_secret", ip=client_ip(), at=now())
    return _page(load(store.engine, user.id), made)
