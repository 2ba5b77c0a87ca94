"""One-time confirmation tokens for the site page's consequential buttons (table
``console_confirmations``, migration 0010).

Activating the international option opens a trunk to toll fraud; revoking it cuts a
customer's international calls. A click on the site page therefore only *asks*: the console
answers with a page that spells the consequence out and carries a confirmation token, and
only the second POST with that token acts. The token is bound to the user, the site, the
trunk and the action (and keeps the revocation's reason and destinations, so what is
confirmed is what was shown), lives :data:`TTL`, and serves once: a stale, reused or
foreign token is refused with a sentence. It is a random 256-bit string kept as its SHA-256
(as sessions and upload tokens are), in the database rather than in the cookie, so that any
console instance on the store honours it and a second use is refused on all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from harness.gate.store import _utc

TTL = dt.timedelta(minutes=5)  # long enough to read the page, short enough to be one act
Action = Literal["activate", "revoke"]
Why = Literal["unknown", "used", "expired", "mismatch"]

_meta = sa.MetaData()
CONFIRMATIONS = sa.Table(
    "console_confirmations", _meta,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("site", sa.String(200), nullable=False),
    sa.Column("trunk", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)))


class ConfirmRefused(Exception):
    """The token does not confirm this act; ``why`` says which sentence to show."""

    def __init__(self, why: Why) -> None:
        super().__init__(why)
        self.why: Why = why


@dataclass(frozen=True)
class Pending:
    """What a taken token confirms."""

    user_id: int
    site: str
    trunk: str
    action: Action
    detail: dict[str, Any]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConfirmStore:
    """Issue and take confirmation tokens on the console's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, *, user_id: int, site: str, trunk: str, action: Action,
              detail: dict[str, Any], at: dt.datetime) -> str:
        """A new token for this act (returned once, stored as its digest). Rows used or
        expired for a day are deleted here, so the table stays small without a cron."""
        token, now = secrets.token_urlsafe(32), _utc(at)
        with self.engine.begin() as conn:
            conn.execute(CONFIRMATIONS.delete().where(
                CONFIRMATIONS.c.expires_at < now - dt.timedelta(days=1)))
            conn.execute(CONFIRMATIONS.insert().values(
                digest=_digest(token), user_id=user_id, site=site, trunk=trunk,
                action=action, detail=json.dumps(detail, ensure_ascii=False),
                created_at=now, expires_at=now + TTL))
        return token

    def take(self, token: str, *, user_id: int, site: str, trunk: str, action: Action,
             at: dt.datetime) -> Pending:
        """Use ``token`` for this act, once; else :class:`ConfirmRefused`. A token offered
        for another user, site, trunk or action is refused and stays unused (its rightful
        use is still possible); an expired one is marked used."""
        key, now = _digest(token), _utc(at)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(CONFIRMATIONS)
                               .where(CONFIRMATIONS.c.digest == key)).first()
            if row is None:
                raise ConfirmRefused("unknown")
            if (row.user_id, row.site, row.trunk, row.action) != (user_id, site, trunk,
                                                                  action):
                raise ConfirmRefused("mismatch")
            if row.used_at is not None:
                raise ConfirmRefused("used")
            # one writer wins: the row changes only while still unused
            won = conn.execute(CONFIRMATIONS.update()
                               .where(CONFIRMATIONS.c.digest == key,
                                      CONFIRMATIONS.c.used_at.is_(None))
                               .values(used_at=now)).rowcount
            if won != 1:
                raise ConfirmRefused("used")
            expired = now >= _utc(row.expires_at)  # committed as used: never comes back
        if expired:
            raise ConfirmRefused("expired")
        return Pending(row.user_id, row.site, row.trunk, action, json.loads(row.detail))

    def cancel(self, token: str, *, user_id: int, at: dt.datetime) -> Pending | None:
        """Spend ``token`` without acting (the confirmation page's cancel button): what it
        would have confirmed, or None when it was not this user's live token."""
        key, now = _digest(token), _utc(at)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(CONFIRMATIONS)
                               .where(CONFIRMATIONS.c.digest == key,
                                      CONFIRMATIONS.c.user_id == user_id)).first()
            if row is None or row.used_at is not None:
                return None
            conn.execute(CONFIRMATIONS.update().where(CONFIRMATIONS.c.digest == key,
                                                      CONFIRMATIONS.c.used_at.is_(None))
                         .values(used_at=now))
        act: Action = "revoke" if row.action == "revoke" else "activate"
        return Pending(row.user_id, row.site, row.trunk, act, json.loads(row.detail))
