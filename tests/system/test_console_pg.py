"""The console on a real PostgreSQL (the gate's throw-away cluster fixture), served over
loopback HTTP by Werkzeug: ``recette upload`` of an output folder (twice: one run), a refused
token, the activation refused before 24 h and allowed after through the site page, and a
failed upload that keeps the files and says how to retry."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from harness.console.store import ConsoleStore, open_console
from harness.errors import RecetteError
from harness.runner import upload_folder
from tests.console_support import T0, Clock, serving
from tests.pg import fresh_database
from tests.system.test_gate import postgres_url  # noqa: F401  (the cluster fixture)

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def output_folder(base: Path) -> Path:
    out = base / "out"
    out.mkdir()
    checks = [{"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall",
               "status": "pass", "reserves": []}]
    (out / "results.json").write_text(json.dumps(
        {"schema_version": 2, "generated": "2026-11-02T09:00:00+00:00",
         "customer": "Boulangerie", "site": "Lyon", "operator_server": "198.51.100.10",
         "lang": "fr", "counts": {"pass": 1, "fail": 0, "error": 0, "skip": 0},
         "checks": checks, "incidents": []}), encoding="utf-8")
    (out / "profile.yaml").write_text(
        "customer:\n  name: Boulangerie\n  siret: '11111111100014'\n  integrator: Alpha\n"
        "site:\n  name: Lyon\ntrunks:\n- name: trunk01\n  password: \"<redacted>\"\n",
        encoding="utf-8")
    (out / "sheet.html").write_text("<html>feuille</html>", encoding="utf-8")
    (out / "incidents.csv").write_text("", encoding="utf-8")
    return out


@pytest.fixture
def served(postgres_url: str) -> Iterator[tuple[str, ConsoleStore, Clock]]:  # noqa: F811
    """The console on a fresh database of the cluster, on a loopback port."""
    store = open_console(fresh_database(postgres_url, "console"))
    clock = Clock()
    try:
        with serving(store, clock) as base:
            yield base, store, clock
    finally:
        store.engine.dispose()


def test_upload_and_activation_on_postgresql(served: tuple[str, ConsoleStore, Clock],
                                             tmp_path: Path) -> None:
    base, store, clock = served
    assert store.engine.dialect.name == "postgresql"
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha")
    token = store.create_token(alpha.id, "laptop", created_by="tech")
    out = output_folder(tmp_path)

    def cli(*argv: str, tok: str = token) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "RECETTE_CONSOLE_TOKEN": tok}
        return subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=60)

    first = cli("upload", str(out), "--url", base)
    assert first.returncode == 0, first.stderr
    assert "uploaded: run" in first.stdout and "11111111100014/Lyon" in first.stdout
    again = cli("upload", str(out), "--url", base)
    assert again.returncode == 0 and "already there" in again.stdout
    site = "11111111100014/Lyon"
    assert len(store.runs(site)) == 1
    refused = cli("upload", str(out), "--url", base, tok="rct_nope")
    assert refused.returncode == 2 and "HTTP 401" in refused.stderr
    assert f"recette upload {out} --url {base}" in refused.stderr

    store.gate.record(site, passed=True, actor="agent", evidence="fw-1", at=T0)
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def page(path: str, form: dict[str, str] | None = None) -> str:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with opener.open(base + path, data=data, timeout=30) as resp:
            return str(resp.read().decode())

    def token_of(text: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', text)
        assert found
        return found.group(1)

    def login() -> None:  # at each jump of the clock: a session idles out in 30 min
        page("/login", {"username": "tech", "password": PASSWORD,
                        "csrf_token": token_of(page("/login"))})

    login()
    listing = page("/?sort=light&q=lyon")  # the paged union query, on PostgreSQL
    assert listing.count('class="site-row"') == 1 and "Boulangerie" in listing
    path = "/sites/" + urllib.parse.quote(site)
    clock.at = T0 + dt.timedelta(hours=23)
    login()
    text = page(path)
    assert "en attente (reste 1 h 00)" in text and "feuille" not in text
    text = page(path + "/activate", {"trunk": "trunk01", "csrf_token": token_of(text)})
    assert "Activation refusée" in text
    clock.at = T0 + dt.timedelta(hours=24)
    login()
    text = page(path)
    text = page(path + "/activate", {"trunk": "trunk01", "csrf_token": token_of(text)})
    assert "Les appels internationaux seront autorisés sur le trunk trunk01" in text
    confirmation = re.search(r'name="token" value="([^"]+)"', text)
    assert confirmation  # the one-time token, a row of migration 0010 on PostgreSQL
    form = {"trunk": "trunk01", "action": "activate", "choice": "confirm",
            "token": confirmation.group(1), "csrf_token": token_of(text)}
    text = page(path + "/confirm", form)
    assert "Option internationale activée" in text
    assert "Confirmation déjà utilisée" in page(path + "/confirm", form)
    assert store.gate.status(site, "trunk01", at=clock.at).state == "active"
    actions = [a.action for a in store.audit_log()]
    assert {"upload", "login", "activate", "activate_refused", "upload_refused"} <= \
        set(actions)


def test_a_failed_upload_keeps_the_files_and_says_how_to_retry(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = output_folder(tmp_path)
    monkeypatch.setenv("RECETTE_CONSOLE_TOKEN", "rct_x")
    upload_folder(out, "http://127.0.0.1:9")  # discard port: nobody listens
    err = capsys.readouterr().err
    assert "upload to http://127.0.0.1:9 failed" in err
    assert f"recette upload {out} --url http://127.0.0.1:9" in err
    assert (out / "results.json").is_file()
    monkeypatch.delenv("RECETTE_CONSOLE_TOKEN")
    with pytest.raises(RecetteError, match="RECETTE_CONSOLE_TOKEN"):
        from harness.console.upload import upload
        upload(out, "http://127.0.0.1:9")


def test_two_instances_on_one_postgresql(postgres_url: str,  # noqa: F811
                                         tmp_path: Path) -> None:
    """Two console servers on one database, as behind a load balancer: a session opened on
    one is valid on the other, and a run uploaded to one shows on both."""
    from harness.console.upload import upload

    db = fresh_database(postgres_url, "console2")
    stores = [open_console(db), open_console(db)]
    stores[0].add_user("tech", PASSWORD, "technical")
    alpha = stores[0].add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    token = stores[0].create_token(alpha.id, "laptop", created_by="admin")
    out = output_folder(tmp_path)
    with contextlib.ExitStack() as running:
        for st in stores:  # disposed after the servers stop (the stack unwinds backwards)
            running.callback(st.engine.dispose)
        key = tmp_path / "console.key"  # one key file for both, as deployed
        bases = [running.enter_context(serving(s, Clock(), key_file=key)) for s in stores]
        assert upload(out, bases[0], token=token)["new"]
        assert not upload(out, bases[1], token=token)["new"]  # one run still
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(bases[0] + "/login", timeout=30) as resp:
            token = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode())
        assert token
        form = urllib.parse.urlencode({"username": "tech", "password": PASSWORD,
                                       "csrf_token": token.group(1)}).encode()
        with opener.open(bases[0] + "/login", data=form, timeout=30) as resp:
            assert resp.url.endswith("/")
        for base in bases:  # the cookie jar is per host: 127.0.0.1 serves both ports
            with opener.open(base + "/", timeout=30) as resp:
                text = resp.read().decode()
            assert resp.url == base + "/" and "Boulangerie" in text
        assert len(stores[1].runs("11111111100014/Lyon")) == 1


def test_thirty_parallel_wrong_passwords_on_postgresql(
        served: tuple[str, ConsoleStore, Clock], monkeypatch: pytest.MonkeyPatch) -> None:
    """The limiter's reservation on PostgreSQL (an advisory lock on the address): 30 wrong
    passwords at once from one address get exactly 5 argon2 checks, the rest 429; another
    address still logs the user in."""

    import harness.console.store as console_store
    from tests.console_support import Client, CountingHasher, parallel_wrong_logins

    base, store, _ = served
    store.add_user("tech", PASSWORD, "technical")
    counting = CountingHasher(console_store._hasher)
    monkeypatch.setattr(console_store, "_hasher", counting)
    replies = parallel_wrong_logins(base, "tech")
    assert sorted(r.status for r in replies) == [401] * 5 + [429] * 25
    assert counting.calls == 5 and counting.most <= console_store.ARGON2_AT_ONCE
    assert Client(base, "127.0.0.2").login("tech", PASSWORD).status == 302
