"""The console's files outside the database (harness/console/blobs.py, keeping.py,
housekeeping.py, filecmds.py): both blob backends (S3 against moto's real S3 server on
loopback), atomic and content-addressed writes, a refused upload leaving no blob, retention
by kind under an injected clock, archive and delete with their rules and audit lines, a
purged file answered 410 in French, and old in-database files moved out idempotently."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from harness.console import filecmds, keeping
from harness.console.app import create_app
from harness.console.blobs import BlobError, FileBlobs, S3Blobs, TooLarge, open_blobs
from harness.console.store import FILES, ConsoleStore, UploadForbidden, UploadRefused
from harness.console.store import open_console as _open
from harness.gate.store import EVENTS
from tests.console_support import T0, Clock
from tests.unit.test_console import PASSWORD, csrf, login, profile, results

CAPTURE = b"\x0a\x0d\x0d\x0a" + bytes(range(256)) * 4000  # ~1 MB
SHEET = b"<html><body>feuille de recette</body></html>"
REPORT = b"<html><body>rapport</body></html>"


def run_files(site: str = "Lyon", *, generated: str = "2026-11-02T09:00:00+00:00",
              capture: bytes = CAPTURE) -> dict[str, Any]:
    return {"results.json": json.dumps(results("Boulangerie", site,
                                               generated=generated)).encode(),
            "profile.yaml": profile("Boulangerie", "11111111100014", site,
                                    "Alpha Telecom").encode(),
            "sheet.html": SHEET, "report.html": REPORT, "capture.pcapng": capture}


def blob_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def store(tmp_path: Path, folder: Path) -> ConsoleStore:
    st = _open(f"sqlite:///{tmp_path / 'gate.db'}")
    st._blobs = FileBlobs(folder)
    st.add_user("tech", PASSWORD, "technical")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    st.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    return st


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(store: ConsoleStore, clock: Clock) -> Flask:
    return create_app(store, now=clock, secure_cookies=False, testing=True)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def upload(store: ConsoleStore, **kw: Any) -> Any:
    alpha = store.user_by_name("alpha")
    assert alpha
    run, new = store.add_run(run_files(**kw), uploader=alpha, at=T0)
    assert new
    return run


# -- the file backend -----------------------------------------------------------------------

def test_file_blobs_are_content_addressed_private_and_whole(folder: Path) -> None:
    blobs = FileBlobs(folder)
    first = blobs.put(io.BytesIO(CAPTURE))
    again = blobs.put(io.BytesIO(CAPTURE))
    assert first.sha256 == again.sha256 == hashlib.sha256(CAPTURE).hexdigest()
    assert first.created and not again.created
    stored = blob_files(folder)
    assert len(stored) == 1 and stored[0].name == first.sha256
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert b"".join(blobs.chunks(first.sha256)) == CAPTURE
    blobs.delete(first.sha256)
    assert not blobs.exists(first.sha256) and blob_files(folder) == []


class Broken(io.RawIOBase):
    """A stream that fails after 3 MB (a client gone mid-upload)."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.sent >= 3 * 1024 * 1024:
            raise ConnectionResetError("client gone")
        n = len(b)
        b[:n] = b"x" * n
        self.sent += n
        return n


def test_a_write_cut_short_or_too_large_leaves_nothing(folder: Path) -> None:
    blobs = FileBlobs(folder)
    with pytest.raises(ConnectionResetError):
        blobs.put(io.BufferedReader(Broken()))
    with pytest.raises(TooLarge, match="more than 1000"):
        blobs.put(io.BytesIO(b"y" * 5000), limit=1000)
    assert blob_files(folder) == []  # no blob, no temporary file left


def test_blob_store_urls() -> None:
    with pytest.raises(BlobError, match="expected one of file:, s3:"):
        open_blobs("ftp://x")
    with pytest.raises(BlobError, match="credentials go in the environment"):
        open_blobs("s3://key:secret@bucket/p")


# -- the S3 backend, against moto's S3 server on loopback ----------------------------------

@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Blobs]:
    server_mod = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="recette")
        blobs = open_blobs(f"s3://recette/runs?endpoint={endpoint}&region=us-east-1")
        assert isinstance(blobs, S3Blobs)
        yield blobs
    finally:
        server.stop()


def test_s3_blobs_round_trip(s3: S3Blobs) -> None:
    first = s3.put(io.BytesIO(CAPTURE))
    assert first.created and first.sha256 == hashlib.sha256(CAPTURE).hexdigest()
    assert not s3.put(io.BytesIO(CAPTURE)).created  # stored once
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket="recette")["Contents"]]
    assert keys == [f"runs/{first.sha256}"]
    assert b"".join(s3.chunks(first.sha256)) == CAPTURE
    s3.delete(first.sha256)
    assert not s3.exists(first.sha256)


def test_s3_upload_and_download_through_the_console(tmp_path: Path, s3: S3Blobs,
                                                    clock: Clock) -> None:
    st = _open(f"sqlite:///{tmp_path / 's3.db'}")
    st._blobs = s3
    st.add_user("tech", PASSWORD, "technical")
    alpha = st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    run, _ = st.add_run(run_files(), uploader=alpha, at=T0)
    with create_app(st, now=clock, secure_cookies=False, testing=True).test_client() as c:
        login(c, "tech")
        resp = c.get(f"/runs/{run.id}/capture.pcapng")
        assert resp.status_code == 200 and resp.is_streamed
        assert resp.get_data() == CAPTURE
        assert resp.headers["ETag"].strip('"') == hashlib.sha256(CAPTURE).hexdigest()
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


# -- uploads ---------------------------------------------------------------------------------

def test_rows_keep_metadata_only(store: ConsoleStore, folder: Path) -> None:
    run = upload(store)
    with store.engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(sa.select(FILES).where(FILES.c.run == run.id))}
    cap = rows["capture.pcapng"]
    assert cap.data is None and cap.backend == "file" and cap.kind == "capture"
    assert cap.sha256 == hashlib.sha256(CAPTURE).hexdigest() and cap.size == len(CAPTURE)
    assert rows["report.html"].kind == "report" and rows["sheet.html"].kind == "sheet"
    assert len(blob_files(folder)) == 4  # results.json, sheet, report, capture


def test_a_refused_upload_leaves_no_blob(store: ConsoleStore, folder: Path) -> None:
    upload(store)  # Alpha's site
    before = blob_files(folder)
    beta = store.user_by_name("beta")
    assert beta
    other = run_files(generated="2026-11-02T09:10:00+00:00", capture=b"other capture")
    with pytest.raises(UploadForbidden):  # refused after intake: its blobs were written
        store.add_run(other, uploader=beta, at=T0)
    bad = {**other, "results.json": b"{not json"}
    with pytest.raises(UploadRefused, match=r"results\.json"):  # refused by intake
        store.add_run(bad, uploader=beta, at=T0)
    assert blob_files(folder) == before


def test_the_same_run_twice_keeps_one_copy(store: ConsoleStore, folder: Path) -> None:
    upload(store)
    alpha = store.user_by_name("alpha")
    assert alpha
    _, new = store.add_run(run_files(), uploader=alpha, at=T0)
    assert not new and len(blob_files(folder)) == 4


def test_api_upload_streams_a_capture_to_the_blob_store(store: ConsoleStore,
                                                        client: FlaskClient) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha
    token = store.create_token(alpha.id, "laptop", created_by="admin")
    big = os.urandom(3 * 1024 * 1024)  # past werkzeug's 500 kB: a spooled temporary file
    data = {n: (io.BytesIO(b), n) for n, b in run_files(capture=big).items()}
    resp = client.post("/api/runs", headers={"Authorization": f"Bearer {token}"},
                       content_type="multipart/form-data", data=data)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    stored = store.file(resp.get_json()["id"], "capture.pcapng")
    assert stored and stored.sha256 == hashlib.sha256(big).hexdigest()
    assert stored.size == len(big)


# -- downloads ---------------------------------------------------------------------------

def test_download_from_disk_has_range_and_etag(store: ConsoleStore,
                                               client: FlaskClient) -> None:
    run = upload(store)
    login(client, "tech")
    resp = client.get(f"/runs/{run.id}/capture.pcapng", headers={"Range": "bytes=4-9"})
    assert resp.status_code == 206 and resp.get_data() == CAPTURE[4:10]
    full = client.get(f"/runs/{run.id}/capture.pcapng")
    assert full.get_data() == CAPTURE
    assert full.headers["Content-Disposition"] == "attachment; filename=capture.pcapng"
    assert "sandbox" in full.headers["Content-Security-Policy"]
    again = client.get(f"/runs/{run.id}/capture.pcapng",
                       headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304
    sheet = client.get(f"/runs/{run.id}/sheet.html")
    assert sheet.get_data() == SHEET and "Content-Disposition" not in sheet.headers
    assert sheet.headers["Content-Type"] == "text/html; charset=utf-8"
    audit = [e for e in store.audit_log() if e.action == "download"]
    assert len(audit) == 4 and audit[0].detail == {"run_id": run.run_id,
                                                   "file": "sheet.html"}


# -- retention -------------------------------------------------------------------------------

def test_retention_purges_only_expired_kinds(store: ConsoleStore, folder: Path,
                                             client: FlaskClient) -> None:
    run = upload(store)
    sha = hashlib.sha256(CAPTURE).hexdigest()
    assert filecmds.retention(None, dry_run=False, settings=[], store=store,
                              at=T0 + dt.timedelta(days=89)) == 0
    assert store.file(run.id, "capture.pcapng").purged_at is None  # type: ignore[union-attr]
    dry = keeping.retention(store, T0 + dt.timedelta(days=91), dry_run=True)
    assert (dry.files, dry.kinds) == (1, {"capture": 1})
    assert (folder / sha[:2] / sha[2:4] / sha).exists()  # a dry run purges nothing
    filecmds.retention(None, dry_run=False, settings=[], store=store,
                       at=T0 + dt.timedelta(days=91))
    after = {n: store.file(run.id, n) for n in ("capture.pcapng", "report.html",
                                                 "sheet.html", "results.json")}
    assert after["capture.pcapng"].purged_at is not None  # type: ignore[union-attr]
    assert all(f.purged_at is None for n, f in after.items()  # type: ignore[union-attr]
               if n != "capture.pcapng")
    assert not (folder / sha[:2] / sha[2:4] / sha).exists()
    lines = [e for e in store.audit_log() if e.action == "retention"]
    assert [e.detail for e in lines] == [{"files": 0, "bytes": 0, "kinds": {}},
                                         {"files": 1, "bytes": len(CAPTURE),
                                          "kinds": {"capture": 1}}][::-1]
    login(client, "tech")
    gone = client.get(f"/runs/{run.id}/capture.pcapng")
    assert gone.status_code == 410
    assert gone.get_data(as_text=True) == ("capture.pcapng : supprimé le 01/02/2027 10:30 "
                                           "(heure de Paris) (conservation 90 jours).")
    page = client.get(f"/sites/{run.site}").get_data(as_text=True)
    assert "supprimé le 01/02/2027 10:30 (heure de Paris), conservation 90 jours" in page
    keeping.retention(store, T0 + dt.timedelta(days=366))
    assert store.file(run.id, "report.html").purged_at is not None  # type: ignore[union-attr]
    assert store.file(run.id, "sheet.html").purged_at is None  # type: ignore[union-attr]


def test_retention_setting_moves_the_end_of_retention(store: ConsoleStore) -> None:
    run = upload(store)
    filecmds.retention(None, dry_run=False, settings=["capture=10"], store=store,
                       at=T0 + dt.timedelta(days=11))
    assert store.file(run.id, "capture.pcapng").purged_at is not None  # type: ignore[union-attr]
    with pytest.raises(Exception, match="--set: expected KIND=DAYS"):
        keeping.parse_setting("pcap=3")
    with pytest.raises(Exception, match="--set sheet: days from 1"):
        keeping.parse_setting("sheet=0")


def test_a_blob_shared_by_two_runs_outlives_one_purge(store: ConsoleStore) -> None:
    first = upload(store)
    second = upload(store, generated="2026-11-02T09:10:00+00:00")  # the same capture
    keeping.delete_run(store, first.id, "tech", T0)
    sha = hashlib.sha256(CAPTURE).hexdigest()
    assert store.blobs.exists(sha)
    assert store.file(second.id, "capture.pcapng").purged_at is None  # type: ignore[union-attr]


# -- archive and delete ----------------------------------------------------------------------

def _post(client: FlaskClient, site: str, action: str, run: int | None = None) -> Any:
    path = f"/sites/{site}/files/{action}" + (f"?run={run}" if run else "")
    form = {"csrf_token": csrf(client, path)}
    if run:
        form["run"] = str(run)
    return client.post(f"/sites/{site}/files/{action}", data=form)


def test_integrators_cannot_archive_or_delete(store: ConsoleStore,
                                              client: FlaskClient) -> None:
    run = upload(store)
    login(client, "alpha")  # sees the site (its own upload)
    assert client.get(f"/sites/{run.site}").status_code == 200
    assert client.get(f"/sites/{run.site}/files/delete_run?run={run.id}").status_code == 404
    token = csrf(client, f"/sites/{run.site}")
    for action in ("archive_run", "delete_run", "archive_site", "delete_site"):
        resp = client.post(f"/sites/{run.site}/files/{action}",
                           data={"csrf_token": token, "run": str(run.id)})
        assert resp.status_code == 404
    assert store.file(run.id, "capture.pcapng").purged_at is None  # type: ignore[union-attr]
    assert store.run(run.id).archived_at is None  # type: ignore[union-attr]


def test_archive_then_delete_a_run(store: ConsoleStore, client: FlaskClient,
                                   folder: Path) -> None:
    run = upload(store)
    store.gate.record(run.site, passed=True, actor="console", evidence=f"run {run.id}",
                      at=T0)
    with store.engine.connect() as conn:
        events = conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one()
    login(client, "tech")
    confirm = client.get(f"/sites/{run.site}/files/delete_run?run={run.id}")
    text = confirm.get_data(as_text=True)
    assert "seront effacés définitivement" in text and "4 fichiers" in text
    assert store.file(run.id, "capture.pcapng").purged_at is None  # type: ignore[union-attr]
    assert _post(client, run.site, "archive_run", run.id).status_code == 302
    assert store.runs(run.site, archived=False) == []
    assert [r.id for r in store.runs(run.site)] == [run.id]
    assert f'data-run="{run.id}"' not in client.get(f"/sites/{run.site}").get_data(
        as_text=True)
    assert f'data-run="{run.id}"' in client.get(f"/sites/{run.site}?archived=1").get_data(
        as_text=True)
    assert _post(client, run.site, "delete_run", run.id).status_code == 302
    gone = store.run(run.id)
    assert gone is not None and gone.deleted_by == "tech"
    assert set(gone.purged) == {n for n, _ in gone.files}
    assert blob_files(folder) == []
    with store.engine.connect() as conn:  # the gate's trail is untouched
        assert conn.execute(sa.select(sa.func.count()).select_from(EVENTS)
                            ).scalar_one() == events
    assert store.gate.history(run.site)[-1].evidence == f"run {run.id}"
    lines = {e.action: e for e in store.audit_log(run.site)}
    assert lines["run_archive"].actor == "tech"
    assert lines["run_delete"].detail["files"] == 4
    assert lines["run_delete"].detail["bytes"] == sum(s for _, s in gone.files)
    resp = client.get(f"/runs/{run.id}/sheet.html")
    assert resp.status_code == 410
    assert "supprimé le 02/11/2026 10:30 (heure de Paris) par tech" in resp.get_data(as_text=True)


def test_archive_a_site_and_delete_its_files(store: ConsoleStore,
                                             client: FlaskClient) -> None:
    run = upload(store)
    login(client, "tech")
    assert _post(client, run.site, "archive_site").status_code == 302
    listed = client.get("/").get_data(as_text=True)
    assert "Lyon" not in listed
    assert "Lyon" in client.get("/?archived=1").get_data(as_text=True)
    assert _post(client, run.site, "delete_site").status_code == 302
    assert all(store.file(run.id, n).purged_at for n, _ in run.files)  # type: ignore[union-attr]
    line = next(e for e in store.audit_log(run.site) if e.action == "site_files_delete")
    assert line.detail["files"] == 4 and line.detail["runs"] == 1
    assert _post(client, run.site, "unarchive_site").status_code == 302
    assert "Lyon" in client.get("/").get_data(as_text=True)


# -- files of before 0008 ----------------------------------------------------------------------

def test_old_rows_are_read_then_moved_out(store: ConsoleStore, client: FlaskClient,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = upload(store)
    with store.engine.begin() as conn:  # a row as migration 0002 wrote it
        conn.execute(FILES.update().where(FILES.c.run == run.id,
                                          FILES.c.name == "sheet.html")
                     .values(data=b"old sheet", sha256=None, backend=None, expires_at=None,
                             size=9))
    login(client, "tech")
    assert client.get(f"/runs/{run.id}/sheet.html").get_data() == b"old sheet"
    assert filecmds.migrate(None, store=store) == 0
    err = capsys.readouterr().err
    assert f"1/1 run {run.id} sheet.html (9 bytes)" in err
    moved = store.file(run.id, "sheet.html")
    assert moved and moved.data is None and moved.sha256 == hashlib.sha256(
        b"old sheet").hexdigest()
    assert client.get(f"/runs/{run.id}/sheet.html").get_data() == b"old sheet"
    filecmds.migrate(None, store=store)  # again: nothing to move
    assert "0 files moved" in capsys.readouterr().out
