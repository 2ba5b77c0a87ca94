"""The international-option gate (operator handbook §VIII-B).

International calling may be switched on for a trunk only 24 hours after the technical
service verified the site's firewall; a later failed verification blocks it, and a fraud
block (revocation) closes it until a new pass plus 24 hours.

The store is an append-only event log (``gate_events``); the state is always derived from
it, never stored beside it, so there is nothing to get out of step. Every transition runs in
one transaction holding the site's lock row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
serialises writers with ``BEGIN IMMEDIATE`` and WAL), so two processes recording and
activating at once cannot both win, and a process killed mid-transaction leaves no trace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from harness.errors import RecetteError

WAIT = dt.timedelta(hours=24)
# Not the handbook's: our rule. A verification not followed by an activation within this
# time is stale (the firewall may have changed since); a new one is needed.
VALID = dt.timedelta(days=30)
Kind = Literal["verification_pass", "verification_fail", "verification_unattested",
               "activate", "revoke"]
DEFAULT_URL = "sqlite:////var/lib/recette/gate.db"

_meta = sa.MetaData()
SITES = sa.Table("gate_sites", _meta, sa.Column("site", sa.String(200), primary_key=True))
EVENTS = sa.Table(
    "gate_events", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(200), nullable=False),
    sa.Column("trunk", sa.String(200)),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("evidence", sa.String(500)),
    sa.Column("detail", sa.Text),
)


class GateRefused(RecetteError):
    """An activation the rules refuse; the message says why and, if so, how long to wait;
    ``status`` is the state that refused it (its code for the console's languages)."""

    def __init__(self, message: str, status: Status | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Event:
    id: int
    site: str
    trunk: str | None
    kind: str
    at: dt.datetime
    actor: str
    evidence: str | None
    detail: dict[str, Any]

    def line(self) -> str:
        who = f" trunk {self.trunk}" if self.trunk else ""
        ref = f" [{self.evidence}]" if self.evidence else ""
        extra = f" {json.dumps(self.detail, ensure_ascii=False)}" if self.detail else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S}Z #{self.id} {self.kind}{who} by {self.actor}" \
               f"{ref}{extra}"


@dataclass(frozen=True)
class Status:
    site: str
    trunk: str | None
    state: Literal["no-verification", "blocked", "waiting", "eligible", "active", "revoked",
                   "expired"]
    reason: str
    eligible_at: dt.datetime | None
    # The reason as a message code and its parameters (times as aware datetimes), so the
    # console says it in the reader's language and time zone; ``reason`` stays the CLI's.
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.site}{f' / {self.trunk}' if self.trunk else ''}: {self.state}: {self.reason}"


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def now_utc() -> dt.datetime:
    """The current time, the machine's own. Nothing moves it outside the test suite (no
    environment variable, no flag): the 24 h rule is a toll-fraud control, and a clock a
    caller can set is a rule a caller can skip. Tests inject theirs (``at=``, the console's
    ``now``)."""
    return dt.datetime.now(dt.UTC)


def _left(delta: dt.timedelta) -> str:
    secs = int(delta.total_seconds())
    return f"{secs // 3600} h {secs % 3600 // 60:02d} min"


def decide(events: list[Event], trunk: str | None, now: dt.datetime) -> Status:
    """The gate's state for ``trunk`` from the site's events (oldest first)."""
    site = events[0].site if events else "?"
    passes = [e for e in events if e.kind == "verification_pass"]
    if not passes:
        return Status(site, trunk, "no-verification",
                      "no firewall verification has passed for this site", None,
                      "GATE_NO_VERIFICATION")
    last_pass = passes[-1]
    verified = {"passed_at": last_pass.at, "evidence": last_pass.evidence or ""}
    later_fail = [e for e in events if e.kind == "verification_fail" and
                  (e.at, e.id) > (last_pass.at, last_pass.id)]
    if later_fail:
        f = later_fail[-1]
        return Status(site, trunk, "blocked",
                      f"the firewall verification of {f.at:%Y-%m-%d %H:%M}Z failed after the "
                      f"pass of {last_pass.at:%Y-%m-%d %H:%M}Z ({f.evidence or 'no ref'})", None,
                      "GATE_BLOCKED", {"failed_at": f.at, "passed_at": last_pass.at,
                                       "evidence": f.evidence or ""})
    mine = [e for e in events if e.trunk == trunk and e.kind in ("activate", "revoke")]
    revokes = [e for e in mine if e.kind == "revoke"]
    if revokes and (revokes[-1].at, revokes[-1].id) > (last_pass.at, last_pass.id):
        r = revokes[-1]
        return Status(site, trunk, "revoked",
                      f"revoked {r.at:%Y-%m-%d %H:%M}Z ({r.detail.get('reason', '')}): a new "
                      "firewall verification is needed", None,
                      "GATE_REVOKED", {"revoked_at": r.at,
                                       "reason": str(r.detail.get("reason", ""))})
    eligible = last_pass.at + WAIT
    if mine and mine[-1].kind == "activate" and (mine[-1].at, mine[-1].id) > (last_pass.at,
                                                                               last_pass.id):
        return Status(site, trunk, "active", f"active since {mine[-1].at:%Y-%m-%d %H:%M}Z",
                      eligible, "GATE_ACTIVE", {"since": mine[-1].at})
    if now >= last_pass.at + VALID:
        return Status(site, trunk, "expired",
                      f"the verification of {last_pass.at:%Y-%m-%d %H:%M}Z "
                      f"({last_pass.evidence}) is older than {VALID.days} days and the option "
                      "was not activated: a new firewall verification is needed", None,
                      "GATE_EXPIRED", {**verified, "days": VALID.days})
    if now < eligible:
        return Status(site, trunk, "waiting",
                      f"verified {last_pass.at:%Y-%m-%d %H:%M}Z ({last_pass.evidence}); "
                      f"activation allowed from {eligible:%Y-%m-%d %H:%M}Z, in "
                      f"{_left(eligible - now)}", eligible,
                      "GATE_WAITING", {**verified, "eligible_at": eligible,
                                       "left": _left(eligible - now)})
    return Status(site, trunk, "eligible",
                  f"verified {last_pass.at:%Y-%m-%d %H:%M}Z ({last_pass.evidence}); activation "
                  "allowed", eligible, "GATE_ELIGIBLE", verified)


class GateStore:
    """The event log behind the gate; open with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _lock(self, conn: Connection, site: str) -> None:
        if self.engine.dialect.name == "postgresql":
            conn.execute(sa.text("INSERT INTO gate_sites (site) VALUES (:s) "
                                 "ON CONFLICT DO NOTHING"), {"s": site})
            conn.execute(sa.select(SITES).where(SITES.c.site == site).with_for_update())
        else:
            exists = conn.execute(sa.select(SITES).where(SITES.c.site == site)).first()
            if exists is None:
                conn.execute(SITES.insert().values(site=site))

    def _events(self, conn: Connection, site: str) -> list[Event]:
        rows = conn.execute(sa.select(EVENTS).where(EVENTS.c.site == site)
                            .order_by(EVENTS.c.at, EVENTS.c.id)).all()
        return [Event(r.id, r.site, r.trunk, r.kind, _utc(r.at), r.actor, r.evidence,
                      json.loads(r.detail) if r.detail else {}) for r in rows]

    def _append(self, conn: Connection, site: str, trunk: str | None, kind: Kind,
                at: dt.datetime, actor: str, evidence: str | None,
                detail: dict[str, Any] | None) -> None:
        conn.execute(EVENTS.insert().values(
            site=site, trunk=trunk, kind=kind, at=at, actor=actor, evidence=evidence,
            detail=json.dumps(detail, ensure_ascii=False) if detail else None))

    def _tx(self) -> Any:
        if self.engine.dialect.name == "sqlite":
            conn = self.engine.connect()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return _SqliteTx(conn)
        return self.engine.begin()

    def record(self, site: str, *, passed: bool, actor: str, evidence: str | None,
               detail: dict[str, Any] | None = None, at: dt.datetime | None = None,
               kind: Kind | None = None) -> Event:
        """Record a firewall verification (pass or fail) for ``site``. Only the console
        calls this, on an upload it verified (:mod:`harness.console.gatekeeper`), with its
        own clock and the authenticated uploader; ``kind`` says ``verification_unattested``
        for a pass the console could not verify (kept in the trail, starts nothing)."""
        when = _utc(at or now_utc())
        with self._tx() as conn:
            self.append(conn, site, kind or ("verification_pass" if passed
                                             else "verification_fail"),
                        actor=actor, evidence=evidence, detail=detail, at=when)
            return self._events(conn, site)[-1]

    def append(self, conn: Connection, site: str, kind: Kind, *, actor: str,
               evidence: str | None, detail: dict[str, Any] | None, at: dt.datetime) -> None:
        """Append a verification inside the caller's transaction (the console's upload: the
        run and its verification are stored together or not at all)."""
        self._lock(conn, site)
        self._append(conn, site, None, kind, _utc(at), actor, evidence, detail)

    def events_in(self, conn: Connection, site: str) -> list[Event]:
        """The site's events as the caller's transaction sees them."""
        return self._events(conn, site)

    def activate(self, site: str, trunk: str, *, actor: str, at: dt.datetime | None = None
                 ) -> Status:
        """Switch international calling on, if the rules allow it now; else GateRefused."""
        when = _utc(at or now_utc())
        with self._tx() as conn:
            self._lock(conn, site)
            st = decide(self._events(conn, site), trunk, when)
            if st.state == "active":
                return st
            if st.state != "eligible":
                raise GateRefused(f"activation refused for {site} / {trunk}: {st.reason}", st)
            self._append(conn, site, trunk, "activate", when, actor, None, None)
            return decide(self._events(conn, site), trunk, when)

    def revoke(self, site: str, trunk: str, *, actor: str, reason: str,
               destinations: list[str], at: dt.datetime | None = None) -> Status:
        """Fraud block: close the option until a new verification plus 24 h."""
        when = _utc(at or now_utc())
        with self._tx() as conn:
            self._lock(conn, site)
            self._append(conn, site, trunk, "revoke", when, actor, None,
                         {"reason": reason, "destinations": destinations})
            return decide(self._events(conn, site), trunk, when)

    def status(self, site: str, trunk: str | None = None, *, at: dt.datetime | None = None
               ) -> Status:
        with self.engine.connect() as conn:
            events = self._events(conn, site)
        return dataclasses.replace(decide(events, trunk, _utc(at or now_utc())), site=site)

    def history(self, site: str) -> list[Event]:
        with self.engine.connect() as conn:
            return self._events(conn, site)


class _SqliteTx:
    """``with`` block around a connection already in BEGIN IMMEDIATE: commit or roll back."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self.conn.exec_driver_sql("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.conn.close()


_TIGHTENED: set[Path] = set()  # files whose loose mode was said on stderr already


def private_dir(path: Path) -> None:
    """Make ``path`` (and its missing parents) if missing, the last one 0700: the store and
    the console's key live there and nobody else has business listing them. An existing
    folder is left as it is (it may be shared, ``/tmp`` in tests)."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process made it meanwhile
        path.mkdir(mode=0o700)
        os.chmod(path, 0o700)  # whatever the umask


def tighten(path: Path, mode: int = 0o600) -> None:
    """Give an existing ``path`` we own ``mode`` when group or others could read or write
    it, and say so on stderr (once per file and process): a store made 0644 by an older
    version held the users' hashes and the console's sessions for anyone on the host."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    loose = stat.S_IMODE(st.st_mode)
    if not loose & 0o077 or st.st_uid != os.geteuid():
        return
    os.chmod(path, mode)
    if path not in _TIGHTENED:
        _TIGHTENED.add(path)
        print(f"recette: {path} was mode {loose:04o}, now {mode:04o} (only its owner may "
              "read it)", file=sys.stderr, flush=True)


def private_sqlite_file(path: Path) -> None:
    """The SQLite database ``path`` made 0600 before SQLite opens it (its folder 0700 when
    we make it), or tightened when it exists with a looser mode. SQLite gives the ``-wal``
    and ``-shm`` files it creates the database file's mode, so they follow; existing ones
    are tightened too. No umask is changed: it is process-wide, and the console serves
    from threads."""
    if not path.name or path.name == ":memory:":
        return
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for each in (path, path.with_name(path.name + "-wal"),
                 path.with_name(path.name + "-shm")):
        tighten(each)


def open_store(url: str | None = None) -> GateStore:
    """Open (and migrate to the latest schema) the gate store at ``url``: SQLite by default,
    ``$RECETTE_GATE_URL`` or a ``postgresql+psycopg://`` URL for the shared store."""
    from alembic import command
    from alembic.config import Config

    url = url or os.environ.get("RECETTE_GATE_URL") or DEFAULT_URL
    if url.startswith("sqlite:///"):
        private_sqlite_file(Path(url.removeprefix("sqlite:///").partition("?")[0]))
        engine = sa.create_engine(url, connect_args={"timeout": 30, "isolation_level": None})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        raise RecetteError(f"gate store {engine.url.render_as_string(hide_password=True)}: "
                           f"{str(exc.orig).strip().splitlines()[0]}") from None
    return GateStore(engine)
