"""How long the console keeps each kind of file, and how files leave: retention, a run
deleted, a site's files deleted. Runs and sites may also be archived (hidden, reversible).

A capture weighs 15 MB and matters while the acceptance is fresh; a sheet weighs 200 kB and
is the contract's evidence for years. So each file has a kind (:data:`KINDS`, from its name)
and each kind a retention in days: :data:`DEFAULT_DAYS`, overridden by the settings table
(``retention_days.<kind>``, set by ``recette console retention --set KIND=DAYS``). Purging
removes the bytes and keeps the row with ``purged_at``: the site page says when and why
instead of offering a link. A deleted run keeps its row as a tombstone, because the gate's
trail names "run N" as evidence; the gate's events are never touched (they are the
toll-fraud control's trail).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from harness.errors import RecetteError

if TYPE_CHECKING:
    from harness.console.store import ConsoleStore

KINDS = ("capture", "report", "sheet")
DEFAULT_DAYS = {"capture": 90, "report": 365, "sheet": 3650}
MAX_DAYS = 36500
SETTING = "retention_days."
_settings = sa.table("console_settings", sa.column("key", sa.String),
                     sa.column("value", sa.Text))


def kind_of(name: str) -> str:
    """``capture`` for capture*.pcapng, ``report`` for report.html and junit.xml, ``sheet``
    for the rest (sheet.html/pdf, results.json, incidents.csv: the acceptance itself)."""
    if name.startswith("capture"):
        return "capture"
    if name in ("report.html", "junit.xml"):
        return "report"
    return "sheet"


def retention_days(engine: Engine | Connection) -> dict[str, int]:
    """Each kind's retention in days: the settings table's, else :data:`DEFAULT_DAYS`."""
    days = dict(DEFAULT_DAYS)
    query = sa.select(_settings.c.key, _settings.c.value).where(
        _settings.c.key.like(SETTING + "%"))
    rows = (engine.execute(query).all() if isinstance(engine, Connection)
            else _rows(engine, query))
    for key, value in rows:
        kind = key.removeprefix(SETTING)
        if kind in days and value.isdigit():
            days[kind] = int(value)
    return days


def _rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def parse_setting(text: str) -> tuple[str, int]:
    """``KIND=DAYS`` from the command line, or a one-line error naming the option."""
    kind, sep, value = text.partition("=")
    if not sep or kind not in KINDS:
        raise RecetteError(f"--set: expected KIND=DAYS with KIND one of {', '.join(KINDS)}, "
                           f"got {text!r}")
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise RecetteError(f"--set {kind}: days from 1 to {MAX_DAYS}, got {value!r}")
    return kind, int(value)


def set_days(store: ConsoleStore, kind: str, days: int) -> int:
    """Keep ``kind`` for ``days`` from now on, and move the end of retention of its files
    not yet purged accordingly (their stored time + days); how many rows moved."""
    from harness.console.store import FILES, SETTINGS

    moved = 0
    with store.engine.begin() as conn:
        key = SETTING + kind
        if conn.execute(sa.select(SETTINGS.c.key).where(SETTINGS.c.key == key)).first():
            conn.execute(SETTINGS.update().where(SETTINGS.c.key == key)
                         .values(value=str(days)))
        else:
            conn.execute(SETTINGS.insert().values(key=key, value=str(days)))
        rows = conn.execute(sa.select(FILES.c.run, FILES.c.name, FILES.c.stored_at)
                            .where(FILES.c.kind == kind, FILES.c.purged_at.is_(None),
                                   FILES.c.stored_at.is_not(None))).all()
        for r in rows:
            conn.execute(FILES.update().where(FILES.c.run == r.run, FILES.c.name == r.name)
                         .values(expires_at=r.stored_at + dt.timedelta(days=days)))
            moved += 1
    return moved


@dataclass
class Purged:
    """What one purge did (or would do): files, their bytes, per kind."""

    files: int = 0
    size: int = 0
    kinds: dict[str, int] | None = None

    def detail(self) -> dict[str, Any]:
        return {"files": self.files, "bytes": self.size, "kinds": self.kinds or {}}


def _purge(store: ConsoleStore, cond: list[Any], at: dt.datetime, *,
           dry_run: bool = False, extra: Any = None) -> Purged:
    """Purge the unpurged files matching ``cond``: rows marked ``purged_at`` (and their old
    in-row bytes cleared) in one transaction (``extra(conn)`` runs in it too), then each
    blob no other live row references is removed from the store. A crash between the two
    leaves unreferenced blobs, never a row pointing at nothing."""
    from harness.console.store import FILES
    from harness.gate.store import _utc

    done = Purged(kinds={})
    with store.engine.begin() as conn:
        rows = conn.execute(sa.select(FILES.c.run, FILES.c.name, FILES.c.size, FILES.c.kind,
                                      FILES.c.sha256)
                            .where(FILES.c.purged_at.is_(None), *cond)).all()
        for r in rows:
            done.files += 1
            done.size += r.size
            assert done.kinds is not None
            kind = r.kind or kind_of(r.name)
            done.kinds[kind] = done.kinds.get(kind, 0) + 1
        if dry_run:
            return done
        for r in rows:
            conn.execute(FILES.update().where(FILES.c.run == r.run, FILES.c.name == r.name)
                         .values(purged_at=_utc(at), data=None))
        if extra is not None:
            extra(conn)
    shas = sorted({r.sha256 for r in rows if r.sha256})
    if shas:
        with store.engine.connect() as conn:
            used = {r.sha256 for r in conn.execute(
                sa.select(FILES.c.sha256).where(FILES.c.sha256.in_(shas),
                                                FILES.c.purged_at.is_(None)))}
        for sha in shas:
            if sha not in used:
                store.blobs.delete(sha)
    return done


def retention(store: ConsoleStore, at: dt.datetime, *, dry_run: bool = False) -> Purged:
    """Purge every file whose retention ended at ``at``."""
    from harness.console.store import FILES
    from harness.gate.store import _utc

    return _purge(store, [FILES.c.expires_at.is_not(None), FILES.c.expires_at <= _utc(at)],
                  at, dry_run=dry_run)


def archive_run(store: ConsoleStore, pk: int, by: str, at: dt.datetime, *,
                undo: bool = False) -> None:
    """Hide a run from the site page's default list (files kept), or show it again."""
    from harness.console.store import RUNS
    from harness.gate.store import _utc

    with store.engine.begin() as conn:
        conn.execute(RUNS.update().where(RUNS.c.id == pk).values(
            archived_at=None if undo else _utc(at), archived_by=None if undo else by))


def delete_run(store: ConsoleStore, pk: int, by: str, at: dt.datetime) -> Purged:
    """Purge a run's files and mark it deleted; its row stays (the gate's trail)."""
    from harness.console.store import FILES, RUNS
    from harness.gate.store import _utc

    def mark(conn: Connection) -> None:
        conn.execute(RUNS.update().where(RUNS.c.id == pk, RUNS.c.deleted_at.is_(None))
                     .values(deleted_at=_utc(at), deleted_by=by))
    return _purge(store, [FILES.c.run == pk], at, extra=mark)


def delete_site_files(store: ConsoleStore, site: str, by: str, at: dt.datetime) -> Purged:
    """Purge the files of every run of ``site``; each run becomes a tombstone."""
    from harness.console.store import FILES, RUNS
    from harness.gate.store import _utc

    ids = sa.select(RUNS.c.id).where(RUNS.c.site == site).scalar_subquery()

    def mark(conn: Connection) -> None:
        conn.execute(RUNS.update().where(RUNS.c.site == site, RUNS.c.deleted_at.is_(None))
                     .values(deleted_at=_utc(at), deleted_by=by))
    return _purge(store, [FILES.c.run.in_(ids)], at, extra=mark)


def archive_site(store: ConsoleStore, site: str, at: dt.datetime, *,
                 undo: bool = False) -> None:
    """Hide a site from the sites page's default list, or show it again."""
    from harness.console.store import SITE_ROWS
    from harness.gate.store import _utc

    with store.engine.begin() as conn:
        conn.execute(SITE_ROWS.update().where(SITE_ROWS.c.site == site)
                     .values(archived_at=None if undo else _utc(at)))


def site_archived(store: ConsoleStore, site: str) -> bool:
    from harness.console.store import SITE_ROWS

    with store.engine.connect() as conn:
        r = conn.execute(sa.select(SITE_ROWS.c.archived_at)
                         .where(SITE_ROWS.c.site == site)).first()
    return r is not None and r.archived_at is not None
