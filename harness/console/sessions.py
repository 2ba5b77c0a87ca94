"""The console's server-side sessions (table ``console_sessions``, migration 0004).

The browser's cookie carries only a random 256-bit token; the store keeps its SHA-256 (a
stolen database gives no live cookie away) with the user, when it began, when it was last
seen and from where. Every request looks its session up, so the server alone decides when it
ends, on every instance at once: logout, a password change or reset, a disabled account end
it for good, where a signed cookie copied before stayed valid until its own expiry.

A session lasts :data:`ABSOLUTE` from login whatever happens, and ends after :data:`IDLE`
without a request. ``seen_at`` is written at most once per :data:`TOUCH` per session, so a
busy page does not write the database at every click; the idle limit is therefore exact to
within :data:`TOUCH`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from harness.gate.store import _utc

ABSOLUTE = dt.timedelta(hours=8)     # from login, however active the user
IDLE = dt.timedelta(minutes=30)      # without a request
TOUCH = dt.timedelta(minutes=1)      # seen_at written at most this often per session
EndReason = Literal["logout", "idle", "absolute", "password", "reset", "disabled"]

_meta = sa.MetaData()
SESSIONS = sa.Table("console_sessions", _meta,
                    sa.Column("id", sa.String(64), primary_key=True),
                    sa.Column("user_id", sa.Integer, nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("ip", sa.String(64)),
                    sa.Column("ended_at", sa.DateTime(timezone=True)),
                    sa.Column("end_reason", sa.String(20)))


def digest(token: str) -> str:
    """What the store keeps of a session token: its SHA-256, hex (a fast hash suffices for
    a 256-bit random secret)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    id: str  # the token's digest, never the token
    user_id: int
    created_at: dt.datetime
    seen_at: dt.datetime
    ip: str | None


class SessionStore:
    """Open, find and end sessions on the console's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(self, user_id: int, ip: str | None, at: dt.datetime) -> str:
        """A new session for ``user_id``: the token for the cookie (returned once, stored
        only as its digest)."""
        token = secrets.token_urlsafe(32)
        when = _utc(at)
        with self.engine.begin() as conn:
            conn.execute(SESSIONS.insert().values(id=digest(token), user_id=user_id,
                                                  created_at=when, seen_at=when,
                                                  ip=(ip or "?")[:64]))
        return token

    def find(self, token: str, at: dt.datetime) -> Session | None:
        """The live session of ``token`` at ``at``, else None. A session found past its
        absolute or idle limit is ended here (its reason kept); a live one has its
        ``seen_at`` moved when it is older than :data:`TOUCH`."""
        key, now = digest(token), _utc(at)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(SESSIONS).where(SESSIONS.c.id == key)).first()
        if row is None or row.ended_at is not None:
            return None
        created, seen = _utc(row.created_at), _utc(row.seen_at)
        if now - created >= ABSOLUTE:
            self._end(SESSIONS.c.id == key, "absolute", now)
            return None
        if now - seen >= IDLE:
            self._end(SESSIONS.c.id == key, "idle", now)
            return None
        if now - seen >= TOUCH:
            with self.engine.begin() as conn:
                conn.execute(SESSIONS.update().where(SESSIONS.c.id == key,
                                                     SESSIONS.c.ended_at.is_(None))
                             .values(seen_at=now))
            seen = now
        return Session(key, row.user_id, created, seen, row.ip)

    def end(self, token: str, reason: EndReason, at: dt.datetime) -> None:
        """End the session of ``token`` (logout)."""
        self._end(SESSIONS.c.id == digest(token), reason, _utc(at))

    def end_user(self, user_id: int, reason: EndReason, at: dt.datetime) -> int:
        """End every live session of ``user_id`` (password changed or reset, account
        disabled); how many were live."""
        return self._end(SESSIONS.c.user_id == user_id, reason, _utc(at))

    def _end(self, which: sa.ColumnElement[bool], reason: EndReason, at: dt.datetime) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(SESSIONS.update()
                                    .where(which, SESSIONS.c.ended_at.is_(None))
                                    .values(ended_at=at, end_reason=reason)).rowcount)

    def live(self, user_id: int, at: dt.datetime) -> int:
        """How many sessions of ``user_id`` are live at ``at`` (for tests and the users
        page)."""
        now = _utc(at)
        with self.engine.connect() as conn:
            return int(conn.execute(
                sa.select(sa.func.count()).select_from(SESSIONS)
                .where(SESSIONS.c.user_id == user_id, SESSIONS.c.ended_at.is_(None),
                       SESSIONS.c.created_at > now - ABSOLUTE,
                       SESSIONS.c.seen_at > now - IDLE)).scalar_one())
