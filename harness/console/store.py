"""The console's data, in the gate's own database (migration 0002).

Everything a console instance needs is here, files included: instances keep no state of their
own, so several can serve one PostgreSQL behind a load balancer. Sessions are rows of
``console_sessions`` (:mod:`harness.console.sessions`); the key signing their cookies is a
0600 file beside the database, not in it (:mod:`harness.console.keyfile`), so a copy of the
database forges no session. Passwords are argon2id hashes, checked under the policy of
:mod:`harness.console.policy`, at most :data:`ARGON2_AT_ONCE` at a time; upload tokens are
random 256-bit strings stored as SHA-256 digests (a fast hash suffices for a secret that
cannot be guessed, and a stolen database does not give them away).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from harness.console import blobs as blobs_mod
from harness.console import gatekeeper, keeping, policy, search, standing
from harness.console.blobs import Blobs, default_url, open_blobs
from harness.console.confirm import ConfirmStore
from harness.console.intake import LIMITS, Intake
from harness.console.intake import RUN_FILES as RUN_FILES
from harness.console.intake import UploadForbidden as UploadForbidden
from harness.console.intake import UploadRefused as UploadRefused
from harness.console.intake import read as read_upload
from harness.console.sessions import EndReason, SessionStore
from harness.console.standing import LIGHT_ORDER
from harness.errors import RecetteError
from harness.gate.store import (
    EVENTS,
    SITES,
    Event,
    GateStore,
    Status,
    _utc,
    decide,
    now_utc,
    open_store,
)

Role = Literal["administrator", "technical", "integrator"]
ROLES: tuple[Role, ...] = ("administrator", "technical", "integrator")
Light = Literal["green", "orange", "red", "grey"]
MIN_PASSWORD = policy.MIN_LENGTH  # characters of any console password
MAX_FAILURES_PAIR = 5       # failed logins per (user name, client address) within the window
MAX_FAILURES_IP = 20        # failed logins per client address, all user names, in the window
LOGIN_WINDOW = dt.timedelta(minutes=15)
ARGON2_AT_ONCE = 2          # argon2 computations at once in this process (64 MiB, ~50 ms each)

_meta = sa.MetaData()
SETTINGS = sa.Table("console_settings", _meta,
                    sa.Column("key", sa.String(100), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
USERS = sa.Table("console_users", _meta,
                 sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                 sa.Column("username", sa.String(200), nullable=False),
                 sa.Column("password_hash", sa.String(500), nullable=False),
                 sa.Column("role", sa.String(40), nullable=False),
                 sa.Column("company", sa.String(200)),
                 sa.Column("active", sa.Boolean, nullable=False),
                 sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                 sa.Column("tz", sa.String(64)))  # migration 0009; None: the default zone
GRANTS = sa.Table("console_grants", _meta,
                  sa.Column("user_id", sa.Integer, primary_key=True),
                  sa.Column("site", sa.String(200), primary_key=True))
TOKENS = sa.Table("console_tokens", _meta,
                  sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                  sa.Column("token_hash", sa.String(64), nullable=False),
                  sa.Column("user_id", sa.Integer, nullable=False),
                  sa.Column("label", sa.String(200), nullable=False),
                  sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                  sa.Column("created_by", sa.String(200), nullable=False),
                  sa.Column("revoked_at", sa.DateTime(timezone=True)))
RUNS = sa.Table("console_runs", _meta,
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("run_id", sa.String(64), nullable=False),
                sa.Column("site", sa.String(200), nullable=False),
                sa.Column("site_name", sa.String(200), nullable=False),
                sa.Column("customer", sa.String(200), nullable=False),
                sa.Column("integrator", sa.String(200)),
                sa.Column("generated", sa.String(40), nullable=False),
                sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("uploader", sa.String(200), nullable=False),
                sa.Column("n_pass", sa.Integer, nullable=False),
                sa.Column("n_fail", sa.Integer, nullable=False),
                sa.Column("n_error", sa.Integer, nullable=False),
                sa.Column("n_skip", sa.Integer, nullable=False),
                sa.Column("light", sa.String(10), nullable=False),
                sa.Column("trunks", sa.Text, nullable=False),
                sa.Column("digest", sa.Text, nullable=False),
                sa.Column("gate", sa.Text),
                sa.Column("archived_at", sa.DateTime(timezone=True)),
                sa.Column("archived_by", sa.String(200)),
                sa.Column("deleted_at", sa.DateTime(timezone=True)),
                sa.Column("deleted_by", sa.String(200)))
SITE_ROWS = sa.Table("console_sites", _meta,
                     sa.Column("site", sa.String(200), primary_key=True),
                     sa.Column("site_name", sa.String(200), nullable=False),
                     sa.Column("customer", sa.String(200), nullable=False),
                     sa.Column("integrator", sa.String(200)),
                     sa.Column("light", sa.String(10), nullable=False),
                     sa.Column("since", sa.DateTime(timezone=True)),
                     sa.Column("last_run", sa.Integer, nullable=False),
                     sa.Column("last_generated", sa.String(40), nullable=False),
                     sa.Column("trunks", sa.Text, nullable=False),
                     sa.Column("expires", sa.DateTime(timezone=True)),
                     sa.Column("checks", sa.String(10)),
                     sa.Column("archived_at", sa.DateTime(timezone=True)))
SORTS = ("site", "customer", "integrator", "light", "since", "last_run")
FILES = sa.Table("console_files", _meta,
                 sa.Column("run", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(200), primary_key=True),
                 sa.Column("size", sa.Integer, nullable=False),
                 # the bytes of rows written before migration 0008 (files migrate moves
                 # them out); new rows keep only metadata, the bytes are in the blob store
                 sa.Column("data", sa.LargeBinary),
                 sa.Column("sha256", sa.String(64)),
                 sa.Column("backend", sa.String(10)),
                 sa.Column("kind", sa.String(20)),
                 sa.Column("stored_at", sa.DateTime(timezone=True)),
                 sa.Column("expires_at", sa.DateTime(timezone=True)),
                 sa.Column("purged_at", sa.DateTime(timezone=True)))
AUDIT = sa.Table("console_audit", _meta,
                 sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                 sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                 sa.Column("actor", sa.String(200), nullable=False),
                 sa.Column("action", sa.String(40), nullable=False),
                 sa.Column("site", sa.String(200)),
                 sa.Column("ip", sa.String(64)),
                 sa.Column("detail", sa.Text))
PROBE_KEYS = sa.Table("console_probe_keys", _meta,
                      sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                      sa.Column("name", sa.String(100), nullable=False),
                      sa.Column("key_id", sa.String(32), nullable=False),
                      sa.Column("public_key", sa.String(100), nullable=False),
                      sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
                      sa.Column("added_by", sa.String(200), nullable=False),
                      sa.Column("revoked_at", sa.DateTime(timezone=True)),
                      sa.Column("revoked_by", sa.String(200)))
USED_ATTESTATIONS = sa.Table("console_attestations", _meta,
                             sa.Column("digest", sa.String(64), primary_key=True),
                             sa.Column("run", sa.Integer, nullable=False),
                             sa.Column("site", sa.String(200), nullable=False),
                             sa.Column("at", sa.DateTime(timezone=True), nullable=False))
ATTEMPTS = sa.Table("console_login_attempts", _meta,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("username", sa.String(200), nullable=False),
                    sa.Column("ip", sa.String(64), nullable=False),
                    sa.Column("ok", sa.Boolean, nullable=False))

_hasher = PasswordHasher()
# Parallel logins (or a spray across user names) must not take every core and 64 MiB each:
# the process computes argon2 this many at a time, the others wait their turn.
_argon2_slots = threading.BoundedSemaphore(ARGON2_AT_ONCE)


def _hash(password: str) -> str:
    with _argon2_slots:
        return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    with _argon2_slots:
        try:
            return bool(_hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    company: str | None
    active: bool
    tz: str | None = None  # the user's time zone (harness.console.localtime); None: default

    @property
    def technical(self) -> bool:
        """Who may switch the international option: the technical service (and its
        administrator, who is of the operator too)."""
        return self.role in ("technical", "administrator")


@dataclass(frozen=True)
class Run:
    id: int
    run_id: str
    site: str
    site_name: str
    customer: str
    integrator: str | None
    generated: str
    uploaded_at: dt.datetime
    uploader: str
    counts: dict[str, int]
    light: Light
    trunks: list[str]
    files: list[tuple[str, int]]
    # What the console recorded of its firewall verification (gatekeeper.Verification.summary)
    gate: dict[str, Any] = field(default_factory=dict)
    # Files whose bytes retention or a deletion removed: name -> when (the row stays)
    purged: dict[str, dt.datetime] = field(default_factory=dict)
    archived_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    deleted_by: str | None = None


@dataclass(frozen=True)
class StoredFile:
    """A file row: metadata, and the bytes only for a row of before migration 0008."""

    run: int
    name: str
    size: int
    sha256: str | None
    backend: str | None
    kind: str
    stored_at: dt.datetime | None
    purged_at: dt.datetime | None
    data: bytes | None = None


@dataclass(frozen=True)
class SiteRow:
    """One row of the sites page: the latest run's view of a site, and since when its light
    holds (the oldest run of the unbroken series of the same light)."""

    site: str
    site_name: str
    customer: str
    integrator: str | None
    light: Light
    since: dt.datetime | None
    last_run: str | None  # the latest run's ``generated`` time; None: no run uploaded
    trunks: list[str]
    checks: Light | None = None  # the latest run's checks alone (standing.checks_light)
    matched: tuple[search.Term, ...] = ()  # the search's terms that found it


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's filters (empty: any); ``since`` inclusive, ``until`` exclusive."""

    actor: str = ""
    action: str = ""
    site: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    actor: str
    action: str
    site: str | None
    ip: str | None
    detail: dict[str, Any]


def light_of(results: dict[str, Any]) -> Light:
    """The site's light from one run: red when the firewall verification or any check
    failed or errored, orange when it passed with reserves, green otherwise; grey when the
    run had no firewall verification at all (it says nothing of the option's premise)."""
    checks = results.get("checks") or []
    fw = next((c for c in checks if c.get("id") == "firewall.openings"), None)
    if fw is None or fw.get("status") == "skip":
        return "grey"
    if any(c.get("status") in ("fail", "error") for c in checks):
        return "red"
    if any(c.get("reserves") for c in checks):
        return "orange"
    return "green"


def digest_of(results: dict[str, Any]) -> dict[str, Any]:
    """What the site page needs of a results.json, kept beside the run: each check's id,
    titles, status and reserve count, the incident rows, and the run's worst call quality
    (lowest MOS, highest loss of any direction). A real results.json weighs up to MBs
    (ladders, evidence): reading 20 of them per page view would not hold at scale."""
    checks = [c for c in results.get("checks") or [] if isinstance(c, dict)]
    rows = [q for c in checks for q in (c.get("figures") or {}).get("quality") or []
            if isinstance(q, dict)]
    quality = None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        if rows:
            quality = {"mos": min(float(q["mos"]) for q in rows),
                       "loss_pct": max(float(q["loss_pct"]) for q in rows)}
    return {"checks": [{"id": str(c.get("id")), "fr": str(c.get("fr") or ""),
                        "en": str(c.get("en") or ""), "status": str(c.get("status")),
                        "reserves": len(c.get("reserves") or [])} for c in checks],
            "incidents": [i for i in results.get("incidents") or [] if isinstance(i, dict)],
            "quality": quality}


class ConsoleStore:
    """The console's API over its tables; the gate itself stays :class:`GateStore`."""

    def __init__(self, gate: GateStore, blobs: Blobs | None = None) -> None:
        self.gate = gate
        self.engine: Engine = gate.engine
        self.sessions = SessionStore(self.engine)
        self.confirmations = ConfirmStore(self.engine)
        self._blobs = blobs

    @property
    def blobs(self) -> Blobs:
        """Where the files' bytes live (:mod:`harness.console.blobs`), opened on first use:
        ``$RECETTE_FILES``, else beside a SQLite database, else /var/lib/recette/files."""
        if self._blobs is None:
            self._blobs = open_blobs(default_url(self.engine.url))
        return self._blobs

    # -- users ----------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str, company: str | None = None,
                 *, at: dt.datetime | None = None) -> User:
        if role not in ROLES:
            raise RecetteError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
        if role == "integrator" and not company:
            raise RecetteError("an integrator user needs its company (--company)")
        if not username.strip():
            raise RecetteError("a user needs a name")
        policy.check(password, username, role)
        hashed = _hash(password)
        with self.engine.begin() as conn:
            if conn.execute(sa.select(USERS.c.id).where(USERS.c.username == username)).first():
                raise RecetteError(f"user {username!r} already exists")
            conn.execute(USERS.insert().values(
                username=username, password_hash=hashed, role=role,
                company=company or None, active=True, created_at=_utc(at or now_utc())))
        user = self.user_by_name(username)
        assert user is not None
        return user

    def _user(self, row: Any) -> User:
        return User(row.id, row.username, row.role, row.company, bool(row.active), row.tz)

    def user_by_name(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS).where(USERS.c.username == username)).first()
        return self._user(row) if row else None

    def user(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS).where(USERS.c.id == user_id)).first()
        return self._user(row) if row else None

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [self._user(r) for r in conn.execute(sa.select(USERS)
                                                        .order_by(USERS.c.username))]

    def set_tz(self, user_id: int, tz: str | None) -> None:
        """The user's time zone (None: the console's default); the caller validated it
        (:func:`harness.console.localtime.zone`)."""
        with self.engine.begin() as conn:
            conn.execute(USERS.update().where(USERS.c.id == user_id).values(tz=tz))

    def set_active(self, user_id: int, active: bool, *, at: dt.datetime | None = None
                   ) -> None:
        """Enable or disable a user; disabling ends all its sessions at once."""
        with self.engine.begin() as conn:
            conn.execute(USERS.update().where(USERS.c.id == user_id).values(active=active))
        if not active:
            self.sessions.end_user(user_id, "disabled", at or now_utc())

    def set_password(self, username: str, password: str, *,
                     at: dt.datetime | None = None, reason: EndReason = "reset") -> User:
        """Give ``username`` a new password (argon2id, under :func:`policy.check` for its
        role) and end every session of the user (``reason`` ``password`` for the user's own
        change, whose page opens the current browser a new one)."""
        user = self.user_by_name(username)
        if user is None:
            raise RecetteError(f"no console user {username!r}")
        policy.check(password, username, user.role)
        hashed = _hash(password)
        with self.engine.begin() as conn:
            conn.execute(USERS.update().where(USERS.c.id == user.id)
                         .values(password_hash=hashed))
        self.sessions.end_user(user.id, reason, at or now_utc())
        return user

    def check_password(self, username: str, password: str) -> User | None:
        """The user when the password is right and the account active; always hashes, so
        the time taken does not tell whether the user exists. A hash made with other argon2
        parameters than today's is made again (sessions are rows, not marks of the hash, so
        a new salt logs nobody out). Callers reserve the attempt first
        (:meth:`reserve_attempt`)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS).where(USERS.c.username == username)).first()
        stored = row.password_hash if row else _DUMMY_HASH
        if not _verify(stored, password) or row is None or not row.active:
            return None
        if _hasher.check_needs_rehash(stored):
            fresh = _hash(password)
            with self.engine.begin() as conn:  # unless the password changed meanwhile
                conn.execute(USERS.update().where(USERS.c.id == row.id,
                                                  USERS.c.password_hash == stored)
                             .values(password_hash=fresh))
        return self._user(row)

    # -- login rate limiting --------------------------------------------------------------

    def _limiter_tx(self, ip: str) -> Any:
        """A transaction in which counting and recording an attempt from ``ip`` cannot
        interleave with another's: SQLite's BEGIN IMMEDIATE (one writer), PostgreSQL a
        transaction-scoped advisory lock on the address (both counts are the address's)."""
        if self.engine.dialect.name != "postgresql":
            return self.gate._tx()
        tx = self.engine.begin()

        class _Locked:
            def __enter__(self) -> Connection:
                conn = tx.__enter__()
                key = int.from_bytes(hashlib.sha256(f"console-login:{ip}".encode())
                                     .digest()[:8], "big", signed=True)
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                return conn

            def __exit__(self, *exc: Any) -> None:
                tx.__exit__(*exc)
        return _Locked()

    def reserve_attempt(self, username: str, ip: str, at: dt.datetime) -> int | None:
        """Reserve a password check for ``username`` from ``ip``: None when it is blocked
        (:data:`MAX_FAILURES_PAIR` failures of this pair, or :data:`MAX_FAILURES_IP` from
        this address, within :data:`LOGIN_WINDOW`), else the id of an attempt recorded as
        failed, which :meth:`attempt_ok` turns into a success. Counting and recording are
        one locked transaction before any hashing, so parallel tries cannot all pass the
        count: 30 at once get exactly 5 checks. Keyed on the pair, an outsider's failures
        from elsewhere do not lock the user out of its own address."""
        name, addr, when = username[:200], ip[:64], _utc(at)
        since = when - LOGIN_WINDOW
        with self._limiter_tx(addr) as conn:
            def failures(*cond: Any) -> int:
                return int(conn.execute(
                    sa.select(sa.func.count()).select_from(ATTEMPTS)
                    .where(*cond, ATTEMPTS.c.at >= since,
                           ATTEMPTS.c.ok == sa.false())).scalar_one())
            if (failures(ATTEMPTS.c.ip == addr) >= MAX_FAILURES_IP
                    or failures(ATTEMPTS.c.ip == addr, ATTEMPTS.c.username == name)
                    >= MAX_FAILURES_PAIR):
                return None
            return int(conn.execute(ATTEMPTS.insert().values(
                at=when, username=name, ip=addr, ok=False)).inserted_primary_key[0])

    def attempt_ok(self, attempt: int) -> None:
        """The reserved attempt succeeded: it no longer counts as a failure."""
        with self.engine.begin() as conn:
            conn.execute(ATTEMPTS.update().where(ATTEMPTS.c.id == attempt).values(ok=True))

    # -- grants and visibility ------------------------------------------------------------

    def grant(self, user_id: int, site: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(sa.select(GRANTS).where(GRANTS.c.user_id == user_id,
                                                        GRANTS.c.site == site)).first():
                conn.execute(GRANTS.insert().values(user_id=user_id, site=site))

    def ungrant(self, user_id: int, site: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(GRANTS.delete().where(GRANTS.c.user_id == user_id,
                                               GRANTS.c.site == site))

    def grants(self, user_id: int) -> list[str]:
        with self.engine.connect() as conn:
            return [r.site for r in conn.execute(sa.select(GRANTS.c.site)
                                                 .where(GRANTS.c.user_id == user_id)
                                                 .order_by(GRANTS.c.site))]

    def site_exists(self, site: str) -> bool:
        """Whether the console knows ``site`` (an uploaded run, or the gate's own row)."""
        with self.engine.connect() as conn:
            return (conn.execute(sa.select(SITE_ROWS.c.site)
                                 .where(SITE_ROWS.c.site == site)).first() is not None
                    or conn.execute(sa.select(SITES.c.site)
                                    .where(SITES.c.site == site)).first() is not None)

    def all_sites(self) -> list[str]:
        """Every site the console knows: uploaded runs and the gate's own sites."""
        with self.engine.connect() as conn:
            return sorted({r.site for r in conn.execute(sa.select(SITE_ROWS.c.site))}
                          | {r.site for r in conn.execute(sa.select(SITES.c.site))})

    def _visible(self, user: User) -> Any:
        """The sites an integrator sees, as a subquery: those granted to it (or that it
        uploaded) and those whose runs name its company as integrator."""
        granted = sa.select(GRANTS.c.site).where(GRANTS.c.user_id == user.id)
        if not user.company:
            return granted
        return sa.union(granted, sa.select(RUNS.c.site)
                        .where(RUNS.c.integrator == user.company))

    def can_see(self, user: User, site: str) -> bool:
        if user.role != "integrator":
            return True
        with self.engine.connect() as conn:
            return self._integrator_sees(conn, user, site)

    @staticmethod
    def _integrator_sees(conn: Connection, user: User, site: str) -> bool:
        """Granted to the integrator, or a site of its company's runs."""
        if conn.execute(sa.select(GRANTS.c.site).where(GRANTS.c.user_id == user.id,
                                                       GRANTS.c.site == site)).first():
            return True
        return bool(user.company) and conn.execute(
            sa.select(RUNS.c.id).where(RUNS.c.site == site,
                                       RUNS.c.integrator == user.company).limit(1)
        ).first() is not None

    # -- tokens ---------------------------------------------------------------------------

    def create_token(self, user_id: int, label: str, *, created_by: str,
                     at: dt.datetime | None = None) -> str:
        """A new upload token for ``user_id``; the clear token is returned once, never
        stored."""
        token = "rct_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(TOKENS.insert().values(
                token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id,
                label=label or "upload", created_at=_utc(at or now_utc()),
                created_by=created_by))
        return token

    def revoke_token(self, token_id: int, *, at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(TOKENS.update().where(TOKENS.c.id == token_id)
                         .values(revoked_at=_utc(at or now_utc())))

    def tokens(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(TOKENS, USERS.c.username)
                                .join(USERS, USERS.c.id == TOKENS.c.user_id)
                                .order_by(TOKENS.c.id)).all()
        return [{"id": r.id, "label": r.label, "username": r.username,
                 "created_at": _utc(r.created_at), "created_by": r.created_by,
                 "revoked": r.revoked_at is not None} for r in rows]

    def token_user(self, token: str) -> User | None:
        """The active user behind a live upload token, else None."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS).join(TOKENS, TOKENS.c.user_id == USERS.c.id)
                               .where(TOKENS.c.token_hash == digest,
                                      TOKENS.c.revoked_at.is_(None))).first()
        if row is None or not row.active:
            return None
        return self._user(row)

    # -- runs -----------------------------------------------------------------------------

    def add_run(self, files: Mapping[str, bytes | IO[bytes]], *, uploader: User,
                at: dt.datetime | None = None) -> tuple[Run, bool]:
        """Store an uploaded output folder; (the run, True when it was new). The run's id is
        the SHA-256 of its results.json, so the same run sent twice is one run. Every part is
        read and checked first (:func:`harness.console.intake.read`, against ``at``, the
        console's clock): a refused part stores nothing. Parts are bytes or seekable binary
        files (the API passes werkzeug's spooled uploads: a capture is copied to the blob
        store by chunks, never read whole). The blobs are written before the rows, in one
        transaction; blobs this upload created that no row came to reference (a refusal
        after intake, the same run sent twice) are removed at once."""
        at = at or now_utc()
        up = read_upload(files, now=at)
        written: list[blobs_mod.Stored] = []
        try:
            for name, part in up.files.items():
                stream = io.BytesIO(part) if isinstance(part, bytes) else part
                stream.seek(0)
                written.append(self.blobs.put(stream, limit=LIMITS[name]))
            return self._add_rows(up, dict(zip(up.files, written, strict=True)),
                                  uploader=uploader, at=at)
        finally:
            self._drop_orphans([w.sha256 for w in written if w.created])

    def _drop_orphans(self, shas: list[str]) -> None:
        """Remove blobs no live file row references (written by an upload that was refused
        or was already stored)."""
        if not shas:
            return
        with self.engine.connect() as conn:
            used = {r.sha256 for r in conn.execute(
                sa.select(FILES.c.sha256).where(FILES.c.sha256.in_(shas),
                                                FILES.c.purged_at.is_(None)))}
        for sha in set(shas) - used:
            self.blobs.delete(sha)

    def _add_rows(self, up: Intake, stored: dict[str, blobs_mod.Stored], *, uploader: User,
                  at: dt.datetime) -> tuple[Run, bool]:
        key, results, run_id = up.site, up.results, up.run_id
        days = keeping.retention_days(self.engine)
        counts = {s: int(results["counts"].get(s, 0)) for s in ("pass", "fail", "error",
                                                                  "skip")}
        with self.gate._tx() as conn:
            if uploader.role == "integrator" and not self._may_upload(conn, uploader, key):
                raise UploadForbidden("", "", "not_granted", site=key,
                                      user=uploader.username)
            old = conn.execute(sa.select(RUNS.c.id).where(RUNS.c.run_id == run_id)).first()
            if old is not None:
                existing = self._run(conn, old.id)
                assert existing is not None
                return existing, False
            pk = conn.execute(RUNS.insert().values(
                run_id=run_id, site=key, site_name=up.site_name, customer=up.customer,
                integrator=up.integrator, generated=up.generated_text,
                uploaded_at=_utc(at), uploader=uploader.username,
                n_pass=counts["pass"], n_fail=counts["fail"], n_error=counts["error"],
                n_skip=counts["skip"], light=light_of(results),
                trunks=json.dumps(up.trunks),
                digest=json.dumps(digest_of(results), ensure_ascii=False))
            ).inserted_primary_key[0]
            for name, blob in stored.items():
                kind = keeping.kind_of(name)
                conn.execute(FILES.insert().values(
                    run=pk, name=name, size=blob.size, sha256=blob.sha256,
                    backend=self.blobs.backend, kind=kind, stored_at=_utc(at),
                    expires_at=_utc(at) + dt.timedelta(days=days[kind])))
            received = _utc(at)
            self._verify(conn, pk, key, results, run_id=run_id, generated=up.generated_text,
                         uploader=uploader, received=received)
            self._refresh_site(conn, key, received)
            if conn.execute(sa.select(SITE_ROWS.c.last_run)
                            .where(SITE_ROWS.c.site == key)).scalar_one() == pk:
                search.replace_terms(conn, key, search.terms_of(
                    siret=up.siret, customer=up.customer, site_name=up.site_name,
                    trunks=up.trunks, dids=list(up.numbers)))
            if uploader.role == "integrator" and not conn.execute(
                    sa.select(GRANTS).where(GRANTS.c.user_id == uploader.id,
                                            GRANTS.c.site == key)).first():
                    conn.execute(GRANTS.insert().values(user_id=uploader.id, site=key))
            run = self._run(conn, pk)
        assert run is not None
        return run, True

    def _verify(self, conn: Connection, pk: int, site: str, results: dict[str, Any], *,
                run_id: str, generated: str, uploader: User, received: dt.datetime
                ) -> gatekeeper.Verification:
        """Record the run's firewall verification in the gate, in the upload's transaction:
        the console's clock, the uploader's name, the run as evidence
        (:mod:`harness.console.gatekeeper` says what it is worth). A run older than the
        latest verification already recorded is kept but does not overturn it."""
        used = {r.digest for r in conn.execute(
            sa.select(USED_ATTESTATIONS.c.digest)
            .where(USED_ATTESTATIONS.c.digest.in_(gatekeeper.candidates(results))))}
        v = gatekeeper.decide(results, site=site, received=received,
                              keys=self._probe_keys(conn), used=used)
        newer = [e for e in self.gate.events_in(conn, site)
                 if e.kind.startswith("verification_")
                 and str(e.detail.get("run_generated", "")) > generated]
        if v.kind is not None and newer:
            v.note = (f"older than the verification recorded {newer[-1].at:%Y-%m-%d %H:%M}Z "
                      f"({newer[-1].evidence}): not recorded")
            v.note_code = "older"
            v.note_params = {"at": newer[-1].at.isoformat(),
                             "evidence": newer[-1].evidence or ""}
            v.kind = None
        if v.kind is not None:
            ref = f"run {pk}"
            self.gate.append(conn, site, v.kind, actor=uploader.username, evidence=ref,
                             detail={"run_id": run_id, "run": pk,
                                     "run_generated": generated, **v.detail},
                             at=received)
            for digest in v.digests:
                conn.execute(USED_ATTESTATIONS.insert().values(digest=digest, run=pk,
                                                               site=site, at=received))
        conn.execute(RUNS.update().where(RUNS.c.id == pk)
                     .values(gate=json.dumps(v.summary(), ensure_ascii=False)))
        return v

    # -- probe keys -----------------------------------------------------------------------

    def add_probe_key(self, name: str, public: str, *, by: str,
                      at: dt.datetime | None = None) -> str:
        """Register a probe's public signing key under ``name``; its key id. The key is a
        trust anchor of the gate: only an administrator adds one (the page and the shell
        both audit it)."""
        from harness.attest import AttestationError, key_id

        name = name.strip()
        if not name or len(name) > 100 or not name.isprintable():
            raise RecetteError("probe name: 1 to 100 printable characters")
        try:
            kid = str(key_id(public.strip()))
        except AttestationError as exc:
            raise RecetteError(f"public key: {exc}") from None
        with self.engine.begin() as conn:
            if conn.execute(sa.select(PROBE_KEYS.c.id)
                            .where(PROBE_KEYS.c.key_id == kid)).first():
                raise RecetteError(f"probe key {kid} is already registered")
            conn.execute(PROBE_KEYS.insert().values(
                name=name, key_id=kid, public_key=public.strip(),
                added_at=_utc(at or now_utc()), added_by=by))
        return kid

    def revoke_probe_key(self, kid: str, *, by: str, at: dt.datetime | None = None) -> None:
        """A probe key no longer backs any upload from now (a probe lost or retired)."""
        with self.engine.begin() as conn:
            done = conn.execute(PROBE_KEYS.update()
                                .where(PROBE_KEYS.c.key_id == kid,
                                       PROBE_KEYS.c.revoked_at.is_(None))
                                .values(revoked_at=_utc(at or now_utc()), revoked_by=by)
                                ).rowcount
        if not done:
            raise RecetteError(f"no registered probe key {kid!r} in use")

    def probe_keys(self) -> list[dict[str, Any]]:
        """Every registered probe key, revoked ones included (the page lists them)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(PROBE_KEYS).order_by(PROBE_KEYS.c.id)).all()
        return [{"name": r.name, "key_id": r.key_id, "public_key": r.public_key,
                 "added_at": _utc(r.added_at), "added_by": r.added_by,
                 "revoked_at": _utc(r.revoked_at) if r.revoked_at else None,
                 "revoked_by": r.revoked_by} for r in rows]

    @staticmethod
    def _probe_keys(conn: Connection) -> dict[str, gatekeeper.ProbeKey]:
        return {r.key_id: gatekeeper.ProbeKey(r.key_id, r.name, r.public_key)
                for r in conn.execute(sa.select(PROBE_KEYS)
                                      .where(PROBE_KEYS.c.revoked_at.is_(None)))}

    def _may_upload(self, conn: Connection, user: User, site: str) -> bool:
        """A new site, or one the integrator already sees (granted, or its company's runs).
        A site the gate knows (its row in ``gate_sites`` or its events: the agent recorded a
        verification) exists though no run was uploaded: the first integrator to upload for
        it must not be granted it by doing so."""
        known = (sa.select(RUNS.c.site).where(RUNS.c.site == site)
                 .union_all(sa.select(SITES.c.site).where(SITES.c.site == site),
                            sa.select(EVENTS.c.site).where(EVENTS.c.site == site))
                 .limit(1))
        if conn.execute(known).first() is None:
            return True
        return self._integrator_sees(conn, user, site)

    def _run(self, conn: Connection, pk: int) -> Run | None:
        r = conn.execute(sa.select(RUNS).where(RUNS.c.id == pk)).first()
        if r is None:
            return None
        files = conn.execute(sa.select(FILES.c.name, FILES.c.size, FILES.c.purged_at)
                             .where(FILES.c.run == pk).order_by(FILES.c.name)).all()
        return self._to_run(r, files)

    @staticmethod
    def _to_run(r: Any, files: Sequence[Any]) -> Run:
        return Run(r.id, r.run_id, r.site, r.site_name, r.customer, r.integrator,
                   r.generated, _utc(r.uploaded_at), r.uploader,
                   {"pass": r.n_pass, "fail": r.n_fail, "error": r.n_error, "skip": r.n_skip},
                   r.light, json.loads(r.trunks), [(f.name, f.size) for f in files],
                   json.loads(r.gate) if getattr(r, "gate", None) else {},
                   {f.name: _utc(f.purged_at) for f in files if f.purged_at is not None},
                   _utc(r.archived_at) if r.archived_at else None,
                   _utc(r.deleted_at) if r.deleted_at else None, r.deleted_by)

    def run(self, pk: int) -> Run | None:
        with self.engine.connect() as conn:
            return self._run(conn, pk)

    def runs(self, site: str, *, archived: bool = True) -> list[Run]:
        """The site's runs, newest first (``archived`` False: without the archived ones,
        the site page's default list)."""
        cond = [RUNS.c.site == site]
        if not archived:
            cond.append(RUNS.c.archived_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(RUNS).where(*cond)
                                .order_by(RUNS.c.generated.desc(), RUNS.c.id.desc())).all()
            files: dict[int, list[Any]] = {}
            if rows:
                for f in conn.execute(sa.select(FILES.c.run, FILES.c.name, FILES.c.size,
                                                FILES.c.purged_at)
                                      .where(FILES.c.run.in_([r.id for r in rows]))
                                      .order_by(FILES.c.name)):
                    files.setdefault(f.run, []).append(f)
        return [self._to_run(r, files.get(r.id, [])) for r in rows]

    def digests(self, site: str, limit: int = 100) -> list[tuple[Run, dict[str, Any]]]:
        """The site's latest ``limit`` runs with their digest (:func:`digest_of`), newest
        first: the site page's history, incidents and chart."""
        runs = self.runs(site)[:limit]
        if not runs:
            return []
        with self.engine.connect() as conn:
            texts = {r.id: r.digest for r in conn.execute(
                sa.select(RUNS.c.id, RUNS.c.digest)
                .where(RUNS.c.id.in_([r.id for r in runs])))}
        return [(r, json.loads(texts[r.id])) for r in runs]

    def file(self, pk: int, name: str) -> StoredFile | None:
        """A run's file: its metadata, and where its bytes are (the blob store, or the row
        itself for a file stored before migration 0008 and not yet moved out)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(FILES).where(FILES.c.run == pk,
                                                      FILES.c.name == name)).first()
        if row is None:
            return None
        return StoredFile(row.run, row.name, row.size, row.sha256, row.backend,
                          row.kind or keeping.kind_of(row.name),
                          _utc(row.stored_at) if row.stored_at else None,
                          _utc(row.purged_at) if row.purged_at else None,
                          bytes(row.data) if row.data is not None else None)

    def refresh_site(self, site: str, at: dt.datetime) -> None:
        """Recompute the site's row after a gate event outside an upload (an activation, a
        revocation): its light follows the gate's state."""
        with self.gate._tx() as conn:
            if conn.execute(sa.select(RUNS.c.id).where(RUNS.c.site == site).limit(1)).first():
                self._refresh_site(conn, site, _utc(at))

    def _refresh_site(self, conn: Connection, site: str, at: dt.datetime) -> None:
        """Rewrite the site's summary row from its runs and its gate events: the latest run
        (by its own time, so an old folder uploaded late does not take over), the site's
        light (:mod:`harness.console.standing`: the latest run's checks and each trunk's
        gate state), when its verification expires, and since when its light holds (the
        oldest run of the unbroken series of that light, by the run's own time; the gate
        event's time when the gate set the light)."""
        series = conn.execute(sa.select(RUNS.c.id, RUNS.c.site_name, RUNS.c.customer,
                                        RUNS.c.integrator, RUNS.c.light, RUNS.c.uploaded_at,
                                        RUNS.c.generated, RUNS.c.trunks, RUNS.c.digest)
                              .where(RUNS.c.site == site)
                              .order_by(RUNS.c.generated.desc(), RUNS.c.id.desc())).all()
        last = series[0]
        events = self.gate.events_in(conn, site)
        states = [decide(events, t, at) for t in (json.loads(last.trunks) or [None])]
        search.write_gate(conn, site, events, states)
        checks = standing.checks_light(json.loads(last.digest))
        light = standing.worst(standing.trunk_light(checks, st.state) for st in states)
        if light == checks:
            since = _when(last)
            for r in series:
                if standing.checks_light(json.loads(r.digest)) != checks:
                    break
                since = _when(r)
        else:
            since = events[-1].at if events else _when(last)
        values = {"site_name": last.site_name, "customer": last.customer,
                  "integrator": last.integrator, "light": light, "since": _utc(since),
                  "last_run": last.id, "last_generated": last.generated,
                  "trunks": last.trunks, "expires": standing.expires(events, states),
                  "checks": checks}
        before = conn.execute(sa.select(SITE_ROWS.c.light)
                              .where(SITE_ROWS.c.site == site)).first()
        if before is None:
            conn.execute(SITE_ROWS.insert().values(site=site, **values))
        else:
            conn.execute(SITE_ROWS.update().where(SITE_ROWS.c.site == site).values(**values))
        from harness.console import notify  # its outbox row in this same transaction

        notify.site_turned(conn, site, before.light if before else None, light, at)

    def _listing(self, now: dt.datetime | None) -> Any:
        """Every site as one selectable: the uploaded ones' summary rows (grey from ``at``
        on when their verification expired, unless red), and the gate's sites without a run
        (written by agents before the console was the gate's authority), coloured by their
        latest verification (grey without one). ``now``: the console's clock."""
        kinds = ("verification_pass", "verification_fail")
        latest = (sa.select(EVENTS.c.kind, EVENTS.c.at)
                  .where(EVENTS.c.site == SITES.c.site, EVENTS.c.kind.in_(kinds))
                  .order_by(EVENTS.c.at.desc(), EVENTS.c.id.desc()).limit(1))
        kind = latest.with_only_columns(EVENTS.c.kind).scalar_subquery()
        at = latest.with_only_columns(EVENTS.c.at).scalar_subquery()
        light: Any = SITE_ROWS.c.light
        if now is not None:
            light = sa.case((sa.and_(SITE_ROWS.c.expires.is_not(None),
                                     SITE_ROWS.c.expires <= _utc(now),
                                     SITE_ROWS.c.light != "red"), "grey"),
                            else_=SITE_ROWS.c.light)
        uploaded = sa.select(SITE_ROWS.c.site, SITE_ROWS.c.site_name, SITE_ROWS.c.customer,
                             SITE_ROWS.c.integrator, light.label("light"), SITE_ROWS.c.since,
                             SITE_ROWS.c.last_generated, SITE_ROWS.c.trunks,
                             SITE_ROWS.c.checks, SITE_ROWS.c.archived_at)
        gate_only = sa.select(
            SITES.c.site, SITES.c.site.label("site_name"),
            sa.literal("", sa.String).label("customer"),
            sa.cast(sa.null(), sa.String).label("integrator"),
            sa.case((kind == "verification_pass", "green"),
                    (kind == "verification_fail", "red"), else_="grey").label("light"),
            at.label("since"), sa.cast(sa.null(), sa.String).label("last_generated"),
            sa.literal("[]", sa.String).label("trunks"),
            sa.cast(sa.null(), sa.String).label("checks"),
            sa.cast(sa.null(), sa.DateTime(timezone=True)).label("archived_at"),
        ).where(SITES.c.site.not_in(sa.select(SITE_ROWS.c.site)))
        return sa.union_all(uploaded, gate_only).subquery("listing")

    def page(self, user: User | None, *, q: str = "", light: str = "", gate: str = "",
             eligible_now: bool = False, sort: str = "site", desc: bool = False,
             offset: int = 0, limit: int | None = None, at: dt.datetime | None = None,
             archived: bool = False) -> tuple[list[SiteRow], int]:
        """The sites page's rows (``user`` None: every site) after search, light filter,
        gate filter and sort, one page of them, and how many match: one query for the rows,
        one count. ``q`` matches the listing's names (substring) or the site's terms
        (:mod:`harness.console.search`: a number in any form, a SIRET, a trunk's name);
        ``gate``: sites with a trunk in that state at ``at``
        (:data:`search.GATE_FILTERS`); ``eligible_now``: sites with a trunk whose option
        may be switched on at ``at`` (the 24 h are up, not expired, not active, not
        blocked). ``at``: the console's now (an expired verification is grey from then).
        ``archived``: the archived sites only (hidden otherwise)."""
        s = self._listing(at)
        cond: list[Any] = [s.c.archived_at.is_not(None) if archived
                           else s.c.archived_at.is_(None)]
        if user is not None and user.role == "integrator":
            cond.append(s.c.site.in_(self._visible(user)))
        if q:
            like = f"%{search.escape_like(q.lower())}%"
            either: list[Any] = [sa.func.lower(c).like(like, escape="\\") for c in
                                 (s.c.site, s.c.site_name, s.c.customer, s.c.integrator)]
            terms = search.sites_matching(q)
            if terms is not None:
                either.append(s.c.site.in_(terms))
            cond.append(sa.or_(*either))
        if light in LIGHT_ORDER:
            cond.append(s.c.light == light)
        when = _utc(at or now_utc())
        if gate in search.GATE_FILTERS:
            cond.append(s.c.site.in_(search.sites_in_gate_state(gate, when)))
        if eligible_now:
            cond.append(s.c.site.in_(search.sites_in_gate_state("eligible", when)))
        col = {"site": sa.func.lower(s.c.site_name), "customer": sa.func.lower(s.c.customer),
               "integrator": sa.func.lower(sa.func.coalesce(s.c.integrator, "")),
               "light": sa.case(*((s.c.light == k, v) for k, v in LIGHT_ORDER.items()),
                                else_=9),
               "since": s.c.since, "last_run": sa.func.coalesce(s.c.last_generated, "")
               }[sort if sort in SORTS else "site"]
        order = [col.desc().nulls_last() if desc else col.asc().nulls_first(), s.c.site]
        query = sa.select(s).where(*cond).order_by(*order).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            total = int(conn.execute(sa.select(sa.func.count()).select_from(s)
                                     .where(*cond)).scalar_one())
            found = search.matches(conn, [r.site for r in rows], q) if q else {}
        out = []
        for r in rows:
            out.append(_site_row(r, tuple(found.get(r.site, ()))))
        return out, total

    def site_row(self, site: str, at: dt.datetime | None = None) -> SiteRow | None:
        """One site's row (the site page's header) as of ``at``."""
        with self.engine.connect() as conn:
            s = self._listing(at)
            r = conn.execute(sa.select(s).where(s.c.site == site)).first()
        return None if r is None else _site_row(r)

    def statuses(self, wanted: list[tuple[str, str | None]], at: dt.datetime
                 ) -> dict[tuple[str, str | None], Status]:
        """The gate's state of each (site, trunk), by the gate's own :func:`decide`, from
        one query over the sites' events (a page of sites, not one query per trunk)."""
        sites = sorted({site for site, _ in wanted})
        events: dict[str, list[Event]] = {site: [] for site in sites}
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(EVENTS).where(EVENTS.c.site.in_(sites))
                                  .order_by(EVENTS.c.at, EVENTS.c.id)):
                events[r.site].append(Event(r.id, r.site, r.trunk, r.kind, _utc(r.at),
                                            r.actor, r.evidence,
                                            json.loads(r.detail) if r.detail else {}))
        out = {}
        for site, trunk in wanted:
            out[(site, trunk)] = dataclasses.replace(decide(events[site], trunk, _utc(at)),
                                                     site=site)
        return out

    # -- audit ----------------------------------------------------------------------------

    def audit(self, actor: str, action: str, *, site: str | None = None,
              ip: str | None = None, detail: dict[str, Any] | None = None,
              at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(AUDIT.insert().values(
                at=_utc(at or now_utc()), actor=actor, action=action, site=site, ip=ip,
                detail=json.dumps(detail, ensure_ascii=False) if detail else None))

    @staticmethod
    def _audit_where(f: AuditFilter) -> list[Any]:
        cond: list[Any] = []
        if f.actor:
            cond.append(AUDIT.c.actor == f.actor)
        if f.action:
            cond.append(AUDIT.c.action == f.action)
        if f.site:
            cond.append(AUDIT.c.site == f.site)
        if f.since is not None:
            cond.append(AUDIT.c.at >= _utc(f.since))
        if f.until is not None:
            cond.append(AUDIT.c.at < _utc(f.until))
        return cond

    def audit_page(self, f: AuditFilter, *, offset: int = 0, limit: int | None = 100
                   ) -> tuple[list[AuditEntry], int]:
        """The audit entries matching ``f``, newest first, one page of them (``limit`` None:
        all, for the CSV export), and how many match."""
        cond = self._audit_where(f)
        q = (sa.select(AUDIT).where(*cond).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc())
             .offset(offset))
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            rows = [AuditEntry(_utc(r.at), r.actor, r.action, r.site, r.ip,
                               json.loads(r.detail) if r.detail else {})
                    for r in conn.execute(q)]
            total = int(conn.execute(sa.select(sa.func.count()).select_from(AUDIT)
                                     .where(*cond)).scalar_one())
        return rows, total

    def audit_actions(self) -> list[str]:
        """Every action the audit log holds (the audit page's action filter)."""
        with self.engine.connect() as conn:
            return [r.action for r in conn.execute(sa.select(AUDIT.c.action).distinct()
                                                   .order_by(AUDIT.c.action))]

    def audit_log(self, site: str | None = None, limit: int = 200) -> list[AuditEntry]:
        q = sa.select(AUDIT).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(limit)
        if site is not None:
            q = q.where(AUDIT.c.site == site)
        with self.engine.connect() as conn:
            return [AuditEntry(_utc(r.at), r.actor, r.action, r.site, r.ip,
                               json.loads(r.detail) if r.detail else {})
                    for r in conn.execute(q)]


def _when(run: Any) -> dt.datetime:
    """When a run happened: its results.json's ``generated``, else when it was uploaded."""
    try:
        return _utc(dt.datetime.fromisoformat(run.generated))
    except (TypeError, ValueError):
        return _utc(run.uploaded_at)


def _site_row(r: Any, matched: tuple[search.Term, ...] = ()) -> SiteRow:
    """A listing row as a SiteRow; a gate-only site (no run, no customer known) is named by
    its key, ``SIRET or customer/site name``."""
    if r.customer:
        customer, name = r.customer, r.site_name
    else:
        customer, _, name = r.site.partition("/")
    return SiteRow(r.site, name or r.site, customer, r.integrator, r.light,
                   _utc(r.since) if r.since is not None else None, r.last_generated,
                   json.loads(r.trunks), r.checks, matched)


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def open_console(url: str | None = None) -> ConsoleStore:
    """The console store on the gate's database (migrated to the latest schema)."""
    return ConsoleStore(open_store(url))
