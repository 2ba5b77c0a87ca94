"""``/upload`` (harness/console/uploadform.py) through Flask's test client: login and CSRF
required, the bounds shown, a run folder's ZIP taken exactly as ``POST /api/runs`` takes its
parts (the same audit lines, the same run twice is one run, an integrator only for its
sites), and every refusal shown on the form in the page's language, nothing stored."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from harness.console.app import create_app
from harness.console.store import ConsoleStore, open_console
from tests import runzips
from tests.console_support import Clock

PASSWORD = "correct horse battery"
SITE = f"{runzips.SIRET}/Lyon"


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    st = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    st.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    return st


@pytest.fixture
def app(store: ConsoleStore) -> Flask:
    return create_app(store, now=Clock(), secure_cookies=False, testing=True)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    assert found
    return found.group(1)


def login(client: FlaskClient, user: str) -> None:
    client.post("/login", data={"username": user, "password": PASSWORD,
                                "csrf_token": csrf(client, "/login")})


def send(client: FlaskClient, archive: bytes, *, token: str | None = None,
         name: str = "recette-lyon.zip") -> Any:
    return client.post("/upload", content_type="multipart/form-data", data={
        "csrf_token": token if token is not None else csrf(client, "/upload"),
        "zip": (BytesIO(archive), name)})


def error(page: Any) -> str:
    found = re.search(r'id="error">([^<]*)<', page.get_data(True))
    assert found, page.get_data(True)[:2000]
    return html.unescape(found.group(1))


def actions(store: ConsoleStore, site: str | None = None) -> list[tuple[str, str]]:
    return [(a.actor, a.action) for a in store.audit_log(site)
            if a.action not in ("login", "logout")]


def test_login_csrf_and_the_bounds_on_the_form(client: FlaskClient) -> None:
    assert client.get("/upload").status_code == 302  # to the login page
    login(client, "alpha")
    page = html.unescape(client.get("/upload").get_data(True))
    assert 'id="upload-link"' in page and 'enctype="multipart/form-data"' in page
    for shown in ("results.json</td><td>64 Mo", "profile.yaml</td><td>256 Ko",
                  "l'archive entière</td><td>512 Mo", "<td>256</td>"):
        assert shown in page
    # the page's title is its name alone (a script once sat in the title block)
    assert re.search(r"<title>([^<]*)</title>", page).group(1) == (  # type: ignore[union-attr]
        "Envoyer une recette depuis le navigateur · Console recette")
    assert page.count("<script>") == 1
    assert send(client, runzips.zipped(runzips.folder()), token="forged").status_code == 400


def test_a_zip_is_taken_as_the_api_takes_the_folder(client: FlaskClient,
                                                    store: ConsoleStore) -> None:
    login(client, "alpha")
    archive = runzips.zipped(runzips.folder(fw="fail"), top="out-2026-11-02", finder=True)
    resp = send(client, archive)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/sites/{SITE}"
    page = html.unescape(client.get(resp.headers["Location"]).get_data(True))
    assert "Recette reçue pour le site Lyon. Option internationale : échec : l'option " \
           "reste bloquée" in page
    assert "Fichiers ignorés : router-cisco_ios.txt" in page
    runs = store.runs(SITE)
    assert len(runs) == 1 and runs[0].uploader == "alpha"
    assert {n for n, _ in runs[0].files} == set(runzips.folder()) - {
        "profile.yaml", "router-cisco_ios.txt"}
    # the API's audit lines: the upload, then the gate event it made
    log = store.audit_log(SITE)
    assert [(a.actor, a.action) for a in log][::-1] == [("alpha", "upload"),
                                                        ("alpha", "verification_fail")]
    assert sorted(log[-1].detail) == ["files", "run_id"] and sorted(log[0].detail) == [
        "note", "note_code", "note_params", "refused", "run"]

    again = send(client, runzips.zipped(runzips.folder(fw="fail")))  # no top folder now
    page = client.get(again.headers["Location"]).get_data(True)
    assert "Cette recette était déjà connue (envoyée par alpha le" in page
    assert len(store.runs(SITE)) == 1 and len(store.audit_log(SITE)) == 2


def test_another_integrators_site_is_refused(client: FlaskClient,
                                             store: ConsoleStore) -> None:
    login(client, "alpha")
    send(client, runzips.zipped(runzips.folder()))
    client.post("/logout", data={"csrf_token": csrf(client, "/upload")})
    login(client, "beta")
    resp = send(client, runzips.zipped(runzips.folder(fw="fail")))
    assert resp.status_code == 403
    assert error(resp) == ("Envoi refusé : ce site n'est pas attribué à votre société. "
                           f"Détail : le site {SITE} n'est pas attribué à beta")
    assert len(store.runs(SITE)) == 1
    assert ("beta", "upload_refused") in actions(store)


def test_refusals_on_the_form_in_the_pages_language(client: FlaskClient,
                                                    store: ConsoleStore) -> None:
    login(client, "alpha")
    resp = send(client, runzips.zipped(runzips.folder(schema=1)))
    assert resp.status_code == 400
    assert error(resp) == ("Recette refusée : un fichier ne passe pas les contrôles de la "
                           "console. Détail : results.json : schema_version : version 2 "
                           "attendue, 1 reçue")
    resp = send(client, runzips.entries(("../results.json", runzips.results())))
    assert error(resp) == ("Archive refusée : ../results.json : nom de fichier interdit "
                           "(chemin absolu, « .. », lecteur, barre oblique inverse ou "
                           "caractère de contrôle).")
    assert error(send(client, b"not a zip")) == \
        "Archive refusée : ce fichier n'est pas une archive ZIP lisible."
    assert error(send(client, b"", name="")) == \
        "Choisissez l'archive ZIP du dossier de recette."
    client.get("/upload?lang=en")
    assert error(send(client, b"not a zip")) == \
        "Archive refused: this file is not a readable ZIP archive."
    assert store.runs(SITE) == []
    assert [a for _, a in actions(store)].count("upload_refused") == 4  # one per archive


def test_a_body_above_the_bound_is_refused_on_the_form(app: Flask,
                                                       client: FlaskClient) -> None:
    login(client, "alpha")
    token = csrf(client, "/upload")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    resp = send(client, bytes(8192), token=token)
    assert resp.status_code == 413
    assert error(resp) == "Archive refusée : elle dépasse 512 Mo."


def test_the_form_and_the_api_write_the_same_audit_lines(client: FlaskClient,
                                                         store: ConsoleStore) -> None:
    """One run by the form, another by ``POST /api/runs``: the same actions with the same
    details, taken and refused (one path, :func:`harness.console.files.take`)."""
    alpha = store.user_by_name("alpha")
    assert alpha
    token = store.create_token(alpha.id, "laptop", created_by="admin")
    login(client, "alpha")
    send(client, runzips.zipped(runzips.folder(fw="fail")))
    send(client, runzips.zipped(runzips.folder(schema=1)))
    by_form = store.audit_log(limit=50)
    parts = {k: v for k, v in runzips.folder(fw="fail", generated="2026-11-02T09:10:00+00:00")
             .items() if k != "router-cisco_ios.txt"}  # another, later run
    for doc in (parts, {**parts, "results.json": runzips.results(schema=1)}):
        client.post("/api/runs", headers={"Authorization": f"Bearer {token}"},
                    content_type="multipart/form-data",
                    data={k: (BytesIO(v), k) for k, v in doc.items()})
    everything = store.audit_log(limit=50)
    by_api = everything[: len(everything) - len(by_form)]

    def shape(entries: list[Any]) -> list[tuple[str, str, list[str], str]]:
        return sorted((a.actor, a.action, sorted(a.detail), str(a.detail.get("reason", "")))
                      for a in entries if a.action != "login")  # one clock: sorted

    assert shape(by_form) == shape(by_api) == [
        ("alpha", "upload", ["files", "run_id"], ""),
        ("alpha", "upload_refused", ["reason", "why"],
         "results.json: schema_version: expected 2, got 1"),
        ("alpha", "verification_fail", ["note", "note_code", "note_params", "refused", "run"], "")]
