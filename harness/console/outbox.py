"""The outbox (migration 0007): every notification is a row before it is a mail or a POST.

Why a table and not a send on the spot: an upload or a page must never wait for, or fail
with, an SMTP server or a receiver; and "announce once" must hold across sweeps and console
instances. A row is keyed by (user, channel, event, site, trunk, occurrence), inserted with
insert-or-ignore, so the 100th sweep, or a second instance sweeping at the same moment, adds
nothing. Senders claim a row with one conditional UPDATE (a lease), so two senders never
send the same row; a failure schedules the next try with a growing delay and, after
:data:`MAX_TRIES`, the row is ``failed`` with its reason kept.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from harness.gate.store import _utc

Channel = Literal["email", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "webhook")
NotifyEvent = Literal["eligible", "red", "expired"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("eligible", "red", "expired")
MAX_TRIES = 8
FIRST_RETRY = dt.timedelta(minutes=1)   # then doubled at each failure
LAST_RETRY = dt.timedelta(hours=1)      # the longest wait between two tries
LEASE = dt.timedelta(minutes=2)         # a claimed row returns to the pool after this

_meta = sa.MetaData()
OUTBOX = sa.Table("console_outbox", _meta,
                  sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                  sa.Column("user_id", sa.Integer, nullable=False),
                  sa.Column("channel", sa.String(10), nullable=False),
                  sa.Column("event", sa.String(20), nullable=False),
                  sa.Column("site", sa.String(200), nullable=False),
                  sa.Column("trunk", sa.String(200), nullable=False),
                  sa.Column("occurrence", sa.String(100), nullable=False),
                  sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                  sa.Column("detail", sa.Text, nullable=False),
                  sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                  sa.Column("state", sa.String(10), nullable=False),
                  sa.Column("tries", sa.Integer, nullable=False),
                  sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
                  sa.Column("claimed_until", sa.DateTime(timezone=True)),
                  sa.Column("sent_at", sa.DateTime(timezone=True)),
                  sa.Column("last_error", sa.String(500)),
                  sa.UniqueConstraint("user_id", "channel", "event", "site", "trunk",
                                      "occurrence", name="console_outbox_once"))


@dataclass(frozen=True)
class Item:
    """One claimed notification: what to say, to whom (``user_id``), by which channel."""

    id: int
    user_id: int
    channel: Channel
    event: NotifyEvent
    site: str
    trunk: str | None
    occurrence: str
    at: dt.datetime
    detail: dict[str, Any]
    tries: int


def enqueue(conn: Connection, *, user_id: int, channel: Channel, event: NotifyEvent,
            site: str, trunk: str | None, occurrence: str, at: dt.datetime,
            detail: dict[str, Any], now: dt.datetime) -> bool:
    """Add the notification unless the same one is already there (any state); whether it
    was added. Runs in the caller's transaction (an upload's, a sweep's)."""
    values = {"user_id": user_id, "channel": channel, "event": event, "site": site,
              "trunk": trunk or "", "occurrence": occurrence, "at": _utc(at),
              "detail": json.dumps(detail, ensure_ascii=False), "created_at": _utc(now),
              "state": "pending", "tries": 0, "due_at": _utc(now)}
    ins: Any = (pg_insert(OUTBOX) if conn.dialect.name == "postgresql"
                else sqlite_insert(OUTBOX))
    done = conn.execute(ins.values(**values).on_conflict_do_nothing()).rowcount
    return bool(done)


def claim(engine: Engine, now: dt.datetime, *, channels: tuple[Channel, ...] = CHANNELS,
          limit: int = 50) -> list[Item]:
    """Up to ``limit`` due rows of ``channels``, each taken by one conditional UPDATE (the
    lease and the try counted together): a row another sender holds is skipped."""
    now = _utc(now)
    free = sa.or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(OUTBOX).where(
            OUTBOX.c.state == "pending", OUTBOX.c.due_at <= now, free,
            OUTBOX.c.channel.in_(channels)).order_by(OUTBOX.c.due_at, OUTBOX.c.id)
            .limit(limit)).all()
    out = []
    for r in rows:
        with engine.begin() as conn:
            took = conn.execute(OUTBOX.update().where(
                OUTBOX.c.id == r.id, OUTBOX.c.state == "pending", OUTBOX.c.tries == r.tries,
                free).values(claimed_until=now + LEASE, tries=r.tries + 1)).rowcount
        if took:
            out.append(Item(r.id, r.user_id, r.channel, r.event, r.site, r.trunk or None,
                            r.occurrence, _utc(r.at), json.loads(r.detail), r.tries + 1))
    return out


def sent(engine: Engine, item: Item, now: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(OUTBOX.update().where(OUTBOX.c.id == item.id).values(
            state="sent", sent_at=_utc(now), claimed_until=None))


def retry_delay(tries: int) -> dt.timedelta:
    """The wait after the ``tries``-th failure: 1, 2, 4 … minutes, at most an hour."""
    wait: dt.timedelta = FIRST_RETRY * 2 ** max(tries - 1, 0)
    return min(wait, LAST_RETRY)


def failed(engine: Engine, item: Item, now: dt.datetime, reason: str) -> None:
    """A try failed for ``reason`` (one line, no secret): try again later, or give up after
    :data:`MAX_TRIES` keeping the reason."""
    reason = " ".join(reason.split())[:500]
    final = item.tries >= MAX_TRIES
    with engine.begin() as conn:
        conn.execute(OUTBOX.update().where(OUTBOX.c.id == item.id).values(
            state="failed" if final else "pending", last_error=reason, claimed_until=None,
            due_at=_utc(now) + (dt.timedelta(0) if final else retry_delay(item.tries))))


def dropped(engine: Engine, item: Item, now: dt.datetime, reason: str) -> None:
    """The row cannot be sent at all (the user removed the address, or lost the site):
    closed at once with the reason."""
    with engine.begin() as conn:
        conn.execute(OUTBOX.update().where(OUTBOX.c.id == item.id).values(
            state="failed", last_error=reason[:500], claimed_until=None))


def rows(engine: Engine) -> list[Any]:
    """Every row, oldest first (tests, the administrator's eye)."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id)).all())
