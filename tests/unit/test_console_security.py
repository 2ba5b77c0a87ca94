"""The console's security (issue 22), each attack through real HTTP on a loopback port
(:func:`tests.console_support.serving`): the store's and the key's file modes, a cookie
forged with a key read from the database, a cookie copied before logout, the idle and the
absolute session limits, an outsider locking a user out, 30 parallel wrong passwords, a weak
administrator password, the audit page and its CSV, CSV injection in the exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from markupsafe import escape

import harness.console.store as console_store
from harness.cli import main as cli_main
from harness.console import policy
from harness.console.csvsafe import cell
from harness.console.keyfile import default_key_file, load_key
from harness.console.labels import label
from harness.console.sessions import ABSOLUTE, IDLE
from harness.console.store import ConsoleStore, open_console
from harness.errors import RecetteError
from tests.console_support import (
    T0,
    Client,
    Clock,
    CountingHasher,
    parallel_wrong_logins,
    serving,
)

PASSWORD = "correct horse battery"
HYPERLINK = '=HYPERLINK("http://x","y")'


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    st = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    st.add_user("admin", PASSWORD, "administrator")
    st.add_user("tech", PASSWORD, "technical")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    return st


@pytest.fixture
def base(store: ConsoleStore, clock: Clock, tmp_path: Path) -> Iterator[str]:
    with serving(store, clock, key_file=tmp_path / "console.key") as url:
        yield url


def logged_in(base: str, user: str, source: str = "127.0.0.1") -> Client:
    c = Client(base, source)
    reply = c.login(user, PASSWORD)
    assert reply.status == 302, reply.text[:300]
    return c


# -- files ------------------------------------------------------------------------------


def test_store_folder_0700_files_0600_wal_and_shm_too(tmp_path: Path) -> None:
    folder = tmp_path / "made" / "here"
    st = open_console(f"sqlite:///{folder / 'gate.db'}")
    st.add_user("tech", PASSWORD, "technical")  # a write: the WAL and its index exist
    assert mode(folder) == 0o700
    for name in ("gate.db", "gate.db-wal", "gate.db-shm"):
        assert (folder / name).exists() and mode(folder / name) == 0o600, name
    st.engine.dispose()


def test_a_loose_store_is_tightened_and_said_once(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "old.db"
    sqlite3.connect(db).close()
    os.chmod(db, 0o644)  # as an older version left it
    open_console(f"sqlite:///{db}").engine.dispose()
    assert mode(db) == 0o600
    said = capsys.readouterr().err
    assert f"{db} was mode 0644, now 0600" in said and said.count("\n") == 1
    os.chmod(db, 0o644)
    open_console(f"sqlite:///{db}").engine.dispose()
    assert mode(db) == 0o600 and capsys.readouterr().err == ""  # said once per process


def test_key_file_made_0600_shared_and_refused_when_loose(tmp_path: Path) -> None:
    path = default_key_file(f"sqlite:///{tmp_path / 'db' / 'gate.db'}")
    assert path == tmp_path / "db" / "console.key"
    key = load_key(path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and len(key) == 64
    assert load_key(path) == key  # a second instance reads the same
    os.chmod(path, 0o640)
    with pytest.raises(RecetteError, match=r"mode 0640: group or others may read it; "
                                           r"chmod 600") as exc:
        load_key(path)
    assert "\n" not in str(exc.value)
    os.chmod(path, 0o600)
    path.write_text("short\n")
    with pytest.raises(RecetteError, match="at least 32 characters"):
        load_key(path)


def test_the_key_is_no_longer_in_the_database(store: ConsoleStore) -> None:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key FROM console_settings").all()
    assert rows == []


def forge(key: str, payload: dict[str, Any]) -> str:
    """A session cookie signed with ``key`` as Flask signs the console's."""
    app = Flask("forger")
    app.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return str(serializer.dumps(payload))


def test_a_cookie_forged_with_a_database_key_gets_nothing(store: ConsoleStore, base: str,
                                                          tmp_path: Path) -> None:
    """Before: the key was the ``secret_key`` row; signing {uid, pw} with it gave /users.
    A database copied from an old version still has the row: it is worth nothing now, and
    even the real key forges nothing without a live session's token."""
    admin = store.user_by_name("admin")
    assert admin
    old_key = "0123456789abcdef" * 4
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO console_settings (key, value) "
                             "VALUES ('secret_key', ?)", (old_key,))
    real_key = load_key(tmp_path / "console.key")
    for key in (old_key, real_key):
        c = Client(base)
        c.cookie = forge(key, {"uid": admin.id, "pw": "x", "sid": "guessed", "lang": "fr"})
        reply = c.get("/users")
        assert reply.status == 302 and "/login" in reply.location


# -- sessions ---------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_refused_after(base: str) -> None:
    c = logged_in(base, "admin")
    copied = c.cookie
    assert c.get("/users").status == 200
    c.post("/logout", {}, token_from="/")
    thief = Client(base)
    thief.cookie = copied
    reply = thief.get("/users")
    assert reply.status == 302 and "/login" in reply.location
    assert c.get("/").status == 302


def test_idle_limit(base: str, clock: Clock, store: ConsoleStore) -> None:
    c = logged_in(base, "tech")
    clock.at = T0 + dt.timedelta(seconds=30)
    assert c.get("/").status == 200
    tech = store.user_by_name("tech")
    assert tech
    with store.engine.connect() as conn:  # seen_at not written for a click within a minute
        seen = conn.exec_driver_sql("SELECT seen_at FROM console_sessions").scalar_one()
    assert str(seen).startswith("2026-11-02 09:30:00")
    clock.at += IDLE + dt.timedelta(minutes=1)  # 31 min later
    reply = c.get("/")
    assert reply.status == 302 and "/login" in reply.location
    with store.engine.connect() as conn:
        reason = conn.exec_driver_sql("SELECT end_reason FROM console_sessions").scalar_one()
    assert reason == "idle"


def test_absolute_limit(base: str, clock: Clock) -> None:
    c = logged_in(base, "tech")
    clicks = 0
    while clock.at + dt.timedelta(minutes=10) < T0 + ABSOLUTE:
        clock.at += dt.timedelta(minutes=10)
        assert c.get("/").status == 200, clock.at
        clicks += 1
    assert clicks == 47  # 7 h 50 of clicks every 10 minutes
    clock.at = T0 + ABSOLUTE
    reply = c.get("/")
    assert reply.status == 302 and "/login" in reply.location


def test_disabling_a_user_ends_its_sessions(base: str, store: ConsoleStore) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha
    victim, admin = logged_in(base, "alpha"), logged_in(base, "admin")
    assert victim.get("/").status == 200
    admin.post("/users/active", {"user_id": str(alpha.id), "active": "0"},
               token_from="/users")
    assert victim.get("/").status == 302
    admin.post("/users/active", {"user_id": str(alpha.id), "active": "1"},
               token_from="/users")
    assert victim.get("/").status == 302  # enabled again: the old session stays over


def test_password_change_reissues_this_session_and_ends_the_others(base: str) -> None:
    mine, other = logged_in(base, "tech"), logged_in(base, "tech")
    before = mine.cookie
    reply = mine.post("/password", {"current": PASSWORD, "new": "another horse, stapled",
                                    "again": "another horse, stapled"})
    assert reply.status == 302
    assert mine.cookie != before and mine.get("/").status == 200
    assert other.get("/").status == 302
    stale = Client(base)
    stale.cookie = before
    assert stale.get("/").status == 302


# -- login limiter ----------------------------------------------------------------------


def test_an_outsider_cannot_lock_a_user_out(base: str) -> None:
    outsider = Client(base, "127.0.0.2")
    for _ in range(5):
        assert outsider.login("tech", "wrong wrong wrong").status == 401
    assert outsider.login("tech", PASSWORD).status == 429  # that pair is locked
    assert Client(base, "127.0.0.1").login("tech", PASSWORD).status == 302


def test_one_address_cannot_spray_user_names(base: str) -> None:
    sprayer = Client(base, "127.0.0.3")
    for i in range(20):
        assert sprayer.login(f"user{i}", "wrong wrong wrong").status == 401
    assert sprayer.login("someone-else", "wrong wrong wrong").status == 429
    assert Client(base, "127.0.0.4").login("tech", PASSWORD).status == 302


def test_thirty_parallel_wrong_passwords_get_exactly_five_checks(
        base: str, monkeypatch: pytest.MonkeyPatch, store: ConsoleStore) -> None:
    counting = CountingHasher(console_store._hasher)
    monkeypatch.setattr(console_store, "_hasher", counting)
    replies = parallel_wrong_logins(base, "tech")
    assert sorted(r.status for r in replies) == [401] * 5 + [429] * 25
    assert counting.calls == 5
    assert counting.most <= console_store.ARGON2_AT_ONCE
    actions = [a.action for a in store.audit_log()]
    assert actions.count("login_failed") == 5 and actions.count("login_blocked") == 25


# -- password policy --------------------------------------------------------------------


@pytest.mark.parametrize(("password", "user", "role", "key"), [
    ("short pw", "bob", "integrator", "password_short"),
    ("aaaaaaaaaa", "root", "administrator", "password_repetitive"),
    ("ababababab12", "bob", "integrator", "password_repetitive"),
    ("my-name-is-robert!", "robert", "integrator", "password_has_name"),
    ("Azertyuiop", "bob", "integrator", "password_common"),
    ("sunlit meadow", "bob", "technical", "password_weak_role"),    # 13, no digit/upper
    ("sunlit meadows", "bob", "technical", "password_weak_role"),   # 14, 2 kinds
    ("Sunlit meadows", "bob", "administrator", None),               # 14, 3 kinds
    ("sunlit meadows by the", "bob", "administrator", None),        # a passphrase
    ("sunlit meadow", "bob", "integrator", None),
])
def test_policy(password: str, user: str, role: str, key: str | None) -> None:
    if key is None:
        policy.check(password, user, role)
    else:
        with pytest.raises(policy.PolicyError) as exc:
            policy.check(password, user, role)
        assert exc.value.key == key and "\n" not in str(exc.value)


def test_weak_administrator_password_refused_everywhere(
        base: str, store: ConsoleStore, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    admin = logged_in(base, "admin")
    admin.post("/users", {"username": "root2", "password": "aaaaaaaaaa",
                          "role": "administrator", "company": ""}, token_from="/users")
    page = admin.get("/users").text
    assert "au moins 5 caractères différents" in page
    assert store.user_by_name("root2") is None
    reply = admin.post("/password?lang=en", {"current": PASSWORD, "new": "Short pass1",
                                             "again": "Short pass1"}, token_from="/password")
    assert reply.status == 400 and "at least 14 characters" in reply.text
    monkeypatch.setenv("RECETTE_CONSOLE_PASSWORD", "aaaaaaaaaa")
    db = f"sqlite:///{tmp_path / 'gate.db'}"
    assert cli_main(["console", "user", "add", "root3", "--role", "administrator",
                     "--db", db]) == 2
    assert "5 different characters" in capsys.readouterr().err
    assert cli_main(["console", "user", "passwd", "admin", "--db", db]) == 2
    assert store.check_password("admin", PASSWORD) is not None


# -- audit ------------------------------------------------------------------------------


def multipart(files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"; filename="{n}"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
             for n, data in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def upload(base: str, token: str, files: dict[str, bytes]) -> int:
    import http.client
    import urllib.parse

    url = urllib.parse.urlsplit(base)
    body, boundary = multipart(files)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
    conn.request("POST", "/api/runs", body=body, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    status = conn.getresponse().status
    conn.close()
    return status


def run_files(customer: str, fw: str = "pass") -> dict[str, bytes]:
    results = {"schema_version": 2, "generated": "2026-11-02T09:00:00+00:00",
               "customer": customer, "site": "Lyon", "lang": "fr",
               "counts": {"pass": 1, "fail": 0, "error": 0, "skip": 0},
               "checks": [{"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall",
                           "status": fw, "reserves": []}], "incidents": []}
    prof = (f"customer:\n  name: '{customer}'\n  siret: '11111111100014'\n"
            "  integrator: Alpha Telecom\nsite:\n  name: Lyon\ntrunks:\n- name: trunk01\n")
    return {"results.json": json.dumps(results).encode(), "profile.yaml": prof.encode(),
            "sheet.html": b"<html>feuille</html>"}


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_audit_page_shows_filters_and_exports_every_kind(
        base: str, store: ConsoleStore, clock: Clock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    alpha, tech = store.user_by_name("alpha"), store.user_by_name("tech")
    assert alpha and tech
    admin = logged_in(base, "admin")
    # users and tokens
    admin.post("/users", {"username": "gamma", "password": PASSWORD, "role": "integrator",
                          "company": "Gamma"}, token_from="/users")
    admin.post("/users/active", {"user_id": str(tech.id), "active": "0"}, token_from="/users")
    admin.post("/users/active", {"user_id": str(tech.id), "active": "1"}, token_from="/users")
    admin.post("/users/grant", {"user_id": str(alpha.id), "site": "9/Brest"},
               token_from="/users")
    admin.post("/users/grant", {"user_id": str(alpha.id), "site": "9/Brest", "remove": "1"},
               token_from="/users")
    admin.post("/users/token", {"user_id": str(alpha.id), "label": "laptop"},
               token_from="/users")
    token = store.create_token(alpha.id, "second", created_by="admin")
    admin.post("/users/token/revoke", {"token_id": str(store.tokens()[0]["id"])},
               token_from="/users")
    # uploads, taken and refused, and a download
    assert upload(base, token, run_files(HYPERLINK)) == 201
    assert upload(base, "rct_forged", run_files("X")) == 401
    assert upload(base, token, {"results.json": b"not json"}) == 400
    site = "11111111100014/Lyon"
    run = store.runs(site)[0]
    assert admin.get(f"/runs/{run.id}/sheet.html").status == 200
    # logins, the password page, a reset, the gate
    Client(base, "127.0.0.5").login(HYPERLINK, "wrong wrong wrong")
    for _ in range(5):
        Client(base, "127.0.0.6").login("alpha", "wrong wrong wrong")
    Client(base, "127.0.0.6").login("alpha", PASSWORD)  # blocked
    me = logged_in(base, "alpha")
    me.post("/password", {"current": "nope nope nope", "new": "x", "again": "x"})
    me.post("/password", {"current": PASSWORD, "new": "another horse, stapled",
                          "again": "another horse, stapled"})
    me.post("/logout", {}, token_from="/")
    monkeypatch.setenv("RECETTE_CONSOLE_PASSWORD", "a third horse, reset")
    assert cli_main(["console", "user", "passwd", "alpha", "--db",
                     f"sqlite:///{tmp_path / 'gate.db'}"]) == 0
    store.gate.record(site, passed=True, actor="agent", evidence="fw-1", at=T0)
    t = logged_in(base, "tech")
    t.post(f"/sites/{site}/activate", {"trunk": "trunk01"}, token_from=f"/sites/{site}")
    clock.at = T0 + dt.timedelta(hours=25)
    t = logged_in(base, "tech")
    t.confirmed(f"/sites/{site}/activate", {"trunk": "trunk01"},
                token_from=f"/sites/{site}")
    t.confirmed(f"/sites/{site}/revoke", {"trunk": "trunk01", "reason": "fraude"},
                token_from=f"/sites/{site}")
    admin = logged_in(base, "admin")

    page = admin.get("/audit").text
    every = {"login", "login_failed", "login_blocked", "logout", "password_failed",
             "password_changed", "password_reset", "user_add", "user_disable", "user_enable",
             "grant", "ungrant", "token_add", "token_revoke", "upload", "upload_refused",
             "download", "activate", "activate_refused", "revoke"}
    shown = {a for a in every
             if f'data-action="{a}">{escape(label("act_" + a))}</td>' in page}
    assert shown == every  # each action said in French, its code kept for the filter
    assert 'id="audit-link"' in page
    assert 'id="audit-link"' not in logged_in(base, "tech").get("/").text
    assert logged_in(base, "tech").get("/audit").status == 404
    assert logged_in(base, "tech").get("/audit.csv").status == 404

    downloads = admin.get("/audit?action=download").text
    assert downloads.count('class="audit-row"') == 1 and "sheet.html" in downloads
    assert site in downloads and "127.0.0.1" in downloads
    by_actor = admin.get("/audit?actor=tech").text
    assert 'data-action="activate_refused"' in by_actor
    assert 'data-action="upload"' not in by_actor
    by_site = admin.get(f"/audit?site={site}").text
    assert 'data-action="login"' not in by_site and 'data-action="revoke"' in by_site
    assert admin.get("/audit?from=2026-11-03").text.count('class="audit-row"') == \
        len([a for a in store.audit_log(limit=1000) if a.at >= T0 + dt.timedelta(hours=14,
                                                                                  minutes=30)])
    assert admin.get("/audit?to=2026-11-01").text.count('class="audit-row"') == 0

    exported = rows_of(admin.get("/audit.csv?action=login_failed").text)
    assert exported[0] == ["Date (heure de Paris)", "Auteur", "Action", "Site", "Adresse",
                           "Détail"]
    actors = [r[1] for r in exported[1:]]
    assert "'" + HYPERLINK in actors and HYPERLINK not in actors
    sites = rows_of(admin.get("/sites.csv").text)
    customers = [r[3] for r in sites[1:]]
    assert customers == ["'" + HYPERLINK]


def test_audit_paging(base: str, store: ConsoleStore) -> None:
    for i in range(130):
        store.audit("bot", "test_entry", detail={"i": i}, at=T0 - dt.timedelta(minutes=i))
    admin = logged_in(base, "admin")
    first = admin.get("/audit?action=test_entry").text
    second = admin.get("/audit?action=test_entry&page=2").text
    assert first.count('class="audit-row"') == 100 and second.count('class="audit-row"') == 30
    assert "i : 0</td>" in first and "i : 129</td>" in second  # newest first
    assert len(rows_of(admin.get("/audit.csv?action=test_entry").text)) == 131


@pytest.mark.parametrize(("value", "safe"), [
    (HYPERLINK, "'" + HYPERLINK), ("+33 1 23", "'+33 1 23"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"),
    ("", ""), (None, ""), (3, "3"), ("a=b", "a=b")])
def test_csv_cells(value: object, safe: str) -> None:
    assert cell(value) == safe
