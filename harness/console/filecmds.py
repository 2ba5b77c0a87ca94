"""``recette console retention`` and ``recette console files migrate``: the files' upkeep
from the shell (cron-friendly: quiet on success but for one summary line, exit 0).

``files migrate`` moves the bytes of rows written before migration 0008 out of the
database into the blob store, one file per transaction, so it can be stopped and run again
(idempotent: a moved row has no bytes left to move); progress on stderr."""

from __future__ import annotations

import datetime as dt
import getpass
import io
import sys

import sqlalchemy as sa

from harness.console import keeping
from harness.console.localtime import size as size_text
from harness.console.store import FILES, RUNS, ConsoleStore, open_console
from harness.gate.store import _utc, now_utc


def retention(url: str | None, *, dry_run: bool, settings: list[str],
              at: dt.datetime | None = None, store: ConsoleStore | None = None) -> int:
    """Apply (or with ``dry_run`` only count) each kind's retention; ``settings``
    (``KIND=DAYS``) change a kind's retention first. One audit line per run, with counts."""
    store = store or open_console(url)
    me, when = f"{getpass.getuser()} (shell)", at or now_utc()
    for text in settings:
        kind, days = keeping.parse_setting(text)
        moved = keeping.set_days(store, kind, days)
        store.audit(me, "retention_set", at=when, detail={"kind": kind, "days": days,
                                                          "files": moved})
        print(f"{kind}: kept {days} days ({moved} stored files' end of retention moved)")
    done = keeping.retention(store, when, dry_run=dry_run)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted((done.kinds or {}).items())) or "none"
    verb = "would purge" if dry_run else "purged"
    print(f"retention: {verb} {done.files} files, {size_text(done.size, 'en')} ({kinds})")
    if not dry_run:
        store.audit(me, "retention", at=when, detail=done.detail())
    return 0


def migrate(url: str | None, *, store: ConsoleStore | None = None) -> int:
    """Move every file row's in-database bytes to the blob store."""
    store = store or open_console(url)
    days = keeping.retention_days(store.engine)
    with store.engine.connect() as conn:
        todo = conn.execute(sa.select(FILES.c.run, FILES.c.name)
                            .where(FILES.c.data.is_not(None))
                            .order_by(FILES.c.run, FILES.c.name)).all()
    moved = size = 0
    for i, (run, name) in enumerate(todo, 1):
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(FILES.c.data, FILES.c.stored_at, RUNS.c.uploaded_at)
                               .join(RUNS, RUNS.c.id == FILES.c.run)
                               .where(FILES.c.run == run, FILES.c.name == name)).first()
        if row is None or row.data is None:  # moved meanwhile by another run of this
            continue
        blob = store.blobs.put(io.BytesIO(row.data))
        stored = _utc(row.stored_at or row.uploaded_at)
        kind = keeping.kind_of(name)
        with store.engine.begin() as conn:
            conn.execute(FILES.update().where(FILES.c.run == run, FILES.c.name == name,
                                              FILES.c.data.is_not(None))
                         .values(data=None, sha256=blob.sha256, backend=store.blobs.backend,
                                 kind=kind, stored_at=stored,
                                 expires_at=stored + dt.timedelta(days=days[kind])))
        moved, size = moved + 1, size + blob.size
        print(f"files migrate: {i}/{len(todo)} run {run} {name} ({blob.size} bytes)",
              file=sys.stderr, flush=True)
    print(f"files migrate: {moved} files moved out of the database "
          f"({size_text(size, 'en')}); nothing left to move")
    if moved:
        store.audit(f"{getpass.getuser()} (shell)", "files_migrate",
                    detail={"files": moved, "bytes": size, "backend": store.blobs.backend})
    return 0
