"""The upload path attacked through real HTTP: the console served on a loopback port
(:func:`tests.console_support.serving`), multipart bodies built as ``recette upload`` builds
them, the site pages fetched by a logged-in browser-like client. One test per attack of the
issue-22 audit; each shows the refusal (400/403, one line), that nothing was stored, and that
the pages still answer."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from harness.console.store import RUNS, ConsoleStore, open_console
from harness.console.upload import _multipart, upload
from harness.errors import RecetteError
from tests.console_support import T0, Clock, serving

PASSWORD = "correct horse battery"
SIRET = "73282932000074"
SAMPLE = Path(__file__).parents[1] / "data" / "results-sample.json"


def results(*, fw: str = "pass", generated: str = "2026-11-02T09:00:00+00:00",
            incidents: list[dict[str, Any]] | None = None) -> bytes:
    """A results.json shaped like the sample's (tests/data/results-sample.json)."""
    doc = json.loads(SAMPLE.read_text())
    doc["generated"] = generated
    for c in doc["checks"]:
        if c["id"] == "firewall.openings":
            c["status"] = fw
    statuses = [c["status"] for c in doc["checks"]]
    doc["counts"] = {s: statuses.count(s) for s in ("pass", "fail", "error", "skip")}
    doc["incidents"] = incidents or []
    return json.dumps(doc).encode()


def profile(siret: str = SIRET, customer: str = "Boulangerie Martin",
            site: str = "Lyon") -> bytes:
    return (f"customer:\n  name: {customer}\n  siret: '{siret}'\n  integrator: Alpha Telecom\n"
            f"site:\n  name: {site}\n  address: 1 rue du Four\ntrunks:\n- name: trunk01\n"
            "  password: \"<redacted>\"\n").encode()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore, Clock, str]]:
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    token = store.create_token(alpha.id, "laptop", created_by="tech")
    clock = Clock(T0)
    with serving(store, clock) as base:
        yield base, store, clock, token


def post(base: str, token: str, files: dict[str, bytes]) -> tuple[int, dict[str, Any]]:
    body, ctype = _multipart(files)
    req = urllib.request.Request(base + "/api/runs", data=body, method="POST",
                                 headers={"Content-Type": ctype,
                                          "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Browser:
    """A logged-in user of the console (cookies kept, the login form's CSRF token sent)."""

    def __init__(self, base: str, user: str = "tech") -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.get("/login")[1]
        found = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert found
        data = urllib.parse.urlencode({"username": user, "password": PASSWORD,
                                       "csrf_token": found.group(1)}).encode()
        self.opener.open(base + "/login", data=data, timeout=30).read()

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def one_line(answer: dict[str, Any]) -> str:
    error = answer["error"]
    assert isinstance(error, str) and "\n" not in error and len(error) < 300, error
    return error


def test_alias_bomb_profile_refused(console: tuple[str, ConsoleStore, Clock, str]) -> None:
    base, store, _, token = console
    bomb = ("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            + "".join(f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                      for p, c in zip("abcdefgh", "bcdefghi", strict=True))
            + "customer:\n  name: *i\n  integrator: x\nsite:\n  name: Lyon\n").encode()
    assert len(bomb) < 600
    code, answer = post(base, token, {"results.json": results(), "profile.yaml": bomb})
    assert code == 400
    assert one_line(answer) == "profile.yaml: YAML aliases are not accepted"
    assert store.all_sites() == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar_one() == 0
    status, page = Browser(base).get("/")
    assert status == 200 and len(page) < 100_000


@pytest.mark.parametrize(("files", "said"), [
    ({"results.json": b"{\"schema_version\": 2, "}, "results.json: not JSON"),
    ({"results.json": b"[" * 100_000 + b"]" * 100_000}, "results.json: nested deeper"),
    ({"results.json": results().replace(b'"fail": ', b'"fail": "x", "z": ')},
     "results.json: counts"),
    ({"results.json": results(), "profile.yaml": b"customer: [unclosed\n"},
     "profile.yaml: not YAML"),
    ({"results.json": results(), "profile.yaml": b"customer: Boulangerie\n"},
     "profile.yaml: customer: expected a mapping"),
    ({"results.json": results(), "profile.yaml": profile(), "evil.sh": b"#!/bin/sh\n"},
     "'evil.sh': not a file the console takes"),
])
def test_malformed_parts_refused_and_pages_stay(
        console: tuple[str, ConsoleStore, Clock, str], files: dict[str, bytes],
        said: str) -> None:
    base, store, _, token = console
    code, answer = post(base, token, {"results.json": results(), "profile.yaml": profile()})
    assert code == 201
    site = answer["site"]
    code, answer = post(base, token, files)
    assert code == 400 and one_line(answer).startswith(said), answer
    assert len(store.runs(site)) == 1 and store.all_sites() == [site]
    browser = Browser(base)
    assert browser.get(f"/sites/{site}")[0] == 200
    assert browser.get("/")[0] == 200


def test_known_code_without_params_is_stored_and_rendered(
        console: tuple[str, ConsoleStore, Clock, str]) -> None:
    """Decided: a message with a known code and missing parameters is taken (a run of
    another version of recette may say a sentence with other parameters) and shown by its
    stored English text; a stored digest whose message cannot be read at all (stored before
    the intake checked uploads) is shown as it is. The site page answers 200 either way."""
    base, store, _, token = console
    row = {"date": "02/11/2026", "time": "09:01:02", "calling": "0400000000",
           "called": "0899000000",
           "symptom": {"code": "INTERNAL_ERROR", "params": {}, "text": "no audio at all"}}
    code, answer = post(base, token, {"results.json": results(incidents=[row]),
                                      "profile.yaml": profile()})
    assert code == 201
    site = answer["site"]
    browser = Browser(base)
    status, page = browser.get(f"/sites/{site}")
    assert status == 200 and "no audio at all" in page
    digest = {"checks": [{"id": "sip.options", "fr": "x", "en": "x", "status": "pass",
                          "reserves": 0}],
              "incidents": [dict(row, symptom={"code": "INTERNAL_ERROR",
                                               "params": {"kind": {"deep": [1]}}})],
              "quality": None}
    with store.engine.begin() as conn:
        conn.execute(RUNS.update().values(digest=json.dumps(digest)))
    assert browser.get(f"/sites/{site}")[0] == 200
    assert browser.get(f"/sites/{site}/incidents.csv")[0] == 200


def test_run_from_the_future_refused(console: tuple[str, ConsoleStore, Clock, str]) -> None:
    base, store, clock, token = console
    code, answer = post(base, token, {"results.json": results(generated="2099-01-01T00:00:00"
                                                                        "+00:00"),
                                      "profile.yaml": profile()})
    assert code == 400
    assert one_line(answer).startswith("results.json: generated: 2099-01-01T00:00:00+00:00 "
                                       "is in the future")
    assert store.all_sites() == []
    soon = (clock.at + dt.timedelta(minutes=4)).isoformat()  # a laptop's clock a bit ahead
    code, answer = post(base, token, {"results.json": results(generated=soon),
                                      "profile.yaml": profile()})
    assert code == 201
    site = answer["site"]
    # A real failing run, then an old passing one uploaded late: the site stays red.
    later = (clock.at + dt.timedelta(hours=1))
    clock.at = later
    assert post(base, token, {"results.json": results(fw="fail", generated=later.isoformat()),
                              "profile.yaml": profile()})[0] == 201
    old = (T0 - dt.timedelta(days=40)).astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert post(base, token, {"results.json": results(generated=old.isoformat()),
                              "profile.yaml": profile()})[0] == 201
    row = store.site_row(site)
    assert row is not None and row.light == "red"
    assert len(store.runs(site)) == 3


def test_siret_with_spaces_names_the_same_site(
        console: tuple[str, ConsoleStore, Clock, str]) -> None:
    base, store, _, token = console
    code, one = post(base, token, {"results.json": results(), "profile.yaml": profile()})
    assert code == 201
    code, two = post(base, token, {"results.json": results(fw="fail"),
                                   "profile.yaml": profile("732 829 320 00074")})
    assert code == 201
    code, three = post(base, token, {"results.json": results(generated="2026-11-01T09:00:00"
                                                                       "+00:00"),
                                     "profile.yaml": profile("732.829.320-00074")})
    assert code == 201
    assert one["site"] == two["site"] == three["site"] == f"{SIRET}/Lyon"
    assert store.all_sites() == [f"{SIRET}/Lyon"]


def test_bad_siret_refused(console: tuple[str, ConsoleStore, Clock, str]) -> None:
    base, store, _, token = console
    code, answer = post(base, token, {"results.json": results(),
                                      "profile.yaml": profile("73282932000075")})
    assert code == 400
    assert one_line(answer) == ("profile.yaml: customer.siret: 73282932000075 fails the "
                                "Luhn check")
    assert store.all_sites() == []


def test_symlinked_results_not_sent(console: tuple[str, ConsoleStore, Clock, str],
                                    tmp_path: Path) -> None:
    base, store, _, token = console
    secret = tmp_path / "secret.json"
    secret.write_bytes(results())
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "profile.yaml").write_bytes(profile())
    os.symlink(secret, folder / "results.json")
    with pytest.raises(RecetteError) as err:
        upload(folder, base, token=token)
    assert str(err.value) == (f"{folder / 'results.json'}: a symbolic link; recette upload "
                              "sends only the folder's own regular files (copy the file in)")
    os.unlink(folder / "results.json")
    os.mkfifo(folder / "results.json")
    with pytest.raises(RecetteError, match="not a regular file"):
        upload(folder, base, token=token)
    assert store.all_sites() == [] and store.audit_log() == []  # nothing reached it
    os.unlink(folder / "results.json")
    (folder / "results.json").write_bytes(results())
    link = tmp_path / "latest"
    os.symlink(folder, link)  # the folder itself may be a link: the user named it
    assert upload(link, base, token=token)["new"] is True


def test_gate_only_site_not_granted_by_upload(
        console: tuple[str, ConsoleStore, Clock, str]) -> None:
    base, store, _, token = console
    site = f"{SIRET}/Lyon"
    store.gate.record(site, passed=True, actor="agent", evidence="fw-1", at=T0)
    alpha = store.user_by_name("alpha")
    assert alpha is not None
    code, answer = post(base, token, {"results.json": results(), "profile.yaml": profile()})
    assert code == 403
    assert one_line(answer) == f"site {site} is not granted to alpha"
    assert store.grants(alpha.id) == [] and not store.can_see(alpha, site)
    assert store.runs(site) == []
    store.grant(alpha.id, site)  # the technical service grants it: then it uploads
    assert post(base, token, {"results.json": results(), "profile.yaml": profile()})[0] == 201
