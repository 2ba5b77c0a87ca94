"""Migration 0008 on SQLite and a real PostgreSQL (the gate's throw-away cluster): a
database at revision 0005 holding a run whose file is a blob in ``console_files.data`` is
upgraded; the old row keeps its bytes and gets its kind and stored time, and
``files migrate`` moves it to the blob store, where retention then finds it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from harness.console import filecmds, keeping
from harness.console.blobs import FileBlobs
from harness.console.store import open_console
from tests.console_support import T0
from tests.pg import fresh_database
from tests.system.test_gate import postgres_url  # noqa: F401  (the cluster fixture)

MIGRATIONS = Path(__file__).resolve().parents[2] / "harness/gate/migrations"
OLD = b"<html>une feuille d'avant</html>"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gate.db'}"
    else:
        yield fresh_database(request.getfixturevalue("postgres_url"), "files")


def test_upgrade_from_0005_keeps_old_files_then_moves_them(url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(sa.text(
            "INSERT INTO console_runs (id, run_id, site, site_name, customer, generated, "
            "uploaded_at, uploader, n_pass, n_fail, n_error, n_skip, light, trunks, digest) "
            "VALUES (1, 'r1', 's/Lyon', 'Lyon', 'C', '2026-11-02T09:00:00+00:00', :at, 'a', "
            "1, 0, 0, 0, 'green', '[]', '{}')"), {"at": T0})
        for name in ("sheet.html", "capture.pcapng"):
            conn.execute(sa.text("INSERT INTO console_files (run, name, size, data) "
                                 "VALUES (1, :n, :s, :d)"), {"n": name, "s": len(OLD),
                                                             "d": OLD})
    engine.dispose()
    store = open_console(url)  # upgrades to head
    store._blobs = FileBlobs(tmp_path / "files")
    old = store.file(1, "capture.pcapng")
    assert old is not None and old.data == OLD and old.kind == "capture"
    assert old.stored_at == T0 and old.sha256 is None
    assert filecmds.migrate(None, store=store) == 0
    moved = store.file(1, "capture.pcapng")
    assert moved is not None and moved.data is None
    assert moved.sha256 == hashlib.sha256(OLD).hexdigest()
    assert b"".join(store.blobs.chunks(moved.sha256)) == OLD
    assert len([p for p in (tmp_path / "files").rglob("*/*/*")]) == 1  # one content
    done = keeping.retention(store, T0 + dt.timedelta(days=91))
    assert (done.files, done.kinds) == (1, {"capture": 1})
    assert store.blobs.exists(moved.sha256)  # the sheet, same bytes, still needs it
    store.engine.dispose()
