"""The console (harness/console) through Flask's test client on SQLite: logins and their
rate limit, CSRF refusal, 404 isolation between integrators, the gate's 24 h rule through the
site page (clock injected), and the upload API's idempotency and token refusal."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from harness.cli import main as cli_main
from harness.console.app import create_app
from harness.console.labels import LABELS
from harness.console.store import ConsoleStore, light_of, open_console
from harness.errors import RecetteError
from tests.console_support import T0, Clock

PASSWORD = "correct horse battery"


def results(customer: str, site: str, *, fw: str = "pass", reserves: bool = False,
            generated: str = "2026-11-02T09:00:00+00:00") -> dict[str, Any]:
    checks = [{"id": "sip.options", "fr": "OPTIONS", "en": "OPTIONS", "status": "pass",
               "reserves": [{"code": "X", "params": {}, "text": "r"}] if reserves else []},
              {"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall", "status": fw,
               "reserves": []}]
    counts = {"pass": sum(c["status"] == "pass" for c in checks),
              "fail": sum(c["status"] == "fail" for c in checks), "error": 0, "skip": 0}
    return {"schema_version": 2, "generated": generated, "customer": customer, "site": site,
            "operator_server": "198.51.100.10", "lang": "fr", "counts": counts,
            "checks": checks, "incidents": []}


def profile(customer: str, siret: str, site: str, integrator: str) -> str:
    return (f"customer:\n  name: {customer}\n  siret: '{siret}'\n  integrator: {integrator}\n"
            f"site:\n  name: {site}\ntrunks:\n- name: trunk01\n  password: \"<redacted>\"\n")


def upload_files(customer: str, siret: str, site: str, integrator: str,
                 **kw: Any) -> dict[str, Any]:
    return {"results.json": (BytesIO(json.dumps(results(customer, site, **kw)).encode()),
                             "results.json"),
            "profile.yaml": (BytesIO(profile(customer, siret, site, integrator).encode()),
                             "profile.yaml"),
            "sheet.html": (BytesIO(b"<html><body>feuille</body></html>"), "sheet.html"),
            "capture.pcapng": (BytesIO(b"\x0a\x0d\x0d\x0a"), "capture.pcapng")}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    st = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    st.add_user("admin", PASSWORD, "administrator")
    st.add_user("tech", PASSWORD, "technical")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    st.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    return st


@pytest.fixture
def app(store: ConsoleStore, clock: Clock) -> Flask:
    return create_app(store, now=clock, secure_cookies=False, testing=True)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: FlaskClient, user: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": csrf(client)})


def confirmed(client: FlaskClient, path: str, form: dict[str, str]) -> str:
    """POST the site page's form, then its confirmation page's confirm button; the page the
    redirect led to (or the first answer when it was not a confirmation page)."""
    first = client.post(path, data=form, follow_redirects=True).get_data(as_text=True)
    found = re.search(r'name="token" value="([^"]+)"', first)
    if not found:
        return first
    key = path.rsplit("/", 1)[0]
    fields = {n: v for n, v in re.findall(r'name="(csrf_token|trunk|action)" value="([^"]+)"',
                                          first)}
    return client.post(f"{key}/confirm", data={**fields, "token": found.group(1),
                                               "choice": "confirm"},
                       follow_redirects=True).get_data(as_text=True)


def seeded(store: ConsoleStore, clock: Clock) -> tuple[str, str]:
    """Two sites, one per integrator, uploaded with tokens; the first verified at T0."""
    alpha, beta = store.user_by_name("alpha"), store.user_by_name("beta")
    assert alpha and beta
    files_a = {k: v[0].getvalue() for k, v in
               upload_files("Boulangerie", "11111111100014", "Lyon", "Alpha Telecom").items()}
    files_b = {k: v[0].getvalue() for k, v in
               upload_files("Garage", "22222222200028", "Nantes", "Beta Réseaux",
                            fw="fail").items()}
    run_a, _ = store.add_run(files_a, uploader=alpha, at=clock.at)
    run_b, _ = store.add_run(files_b, uploader=beta, at=clock.at)
    # A pass the console verified (tests/system/test_console_chain.py uploads signed ones);
    # the site's row follows the gate as it does after an upload.
    store.gate.record(run_a.site, passed=True, actor="console", evidence="run 1", at=T0)
    store.refresh_site(run_a.site, T0)
    return run_a.site, run_b.site


def test_every_label_has_both_languages() -> None:
    assert all(fr and en for fr, en in LABELS.values())


def test_light_from_the_run() -> None:
    assert light_of(results("c", "s")) == "green"
    assert light_of(results("c", "s", reserves=True)) == "orange"
    assert light_of(results("c", "s", fw="fail")) == "red"
    assert light_of({"checks": [], "counts": {}}) == "grey"


def test_login_logout_and_audit(client: FlaskClient, store: ConsoleStore) -> None:
    assert client.get("/").status_code == 302
    assert login(client, "tech", "wrong password").status_code == 401
    resp = login(client, "tech")
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/").get_data(as_text=True)
    assert "Sites" in page and "Déconnexion" in page  # French by default
    assert "Log out" in client.get("/?lang=en").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert client.get("/").status_code == 302
    actions = [a.action for a in store.audit_log()]
    assert actions == ["logout", "login", "login_failed"]
    assert store.check_password("tech", PASSWORD) is not None
    assert "argon2id" in store.engine.connect().exec_driver_sql(
        "SELECT password_hash FROM console_users WHERE username='tech'").scalar_one()


def test_secure_cookie_by_default(store: ConsoleStore, clock: Clock) -> None:
    app = create_app(store, now=clock, testing=True)
    with app.test_client() as c:
        resp = login(c, "tech")
        assert "Secure" in resp.headers["Set-Cookie"]


def test_csrf_refused(client: FlaskClient, store: ConsoleStore, clock: Clock) -> None:
    site_a, _ = seeded(store, clock)
    assert client.post("/login", data={"username": "tech", "password": PASSWORD}
                       ).status_code == 400
    login(client, "tech")
    clock.at = T0 + dt.timedelta(hours=25)
    resp = client.post(f"/sites/{site_a}/activate", data={"trunk": "trunk01"})
    assert resp.status_code == 400
    assert store.gate.status(site_a, "trunk01", at=clock.at).state == "eligible"


def test_login_rate_limited(client: FlaskClient, store: ConsoleStore, clock: Clock) -> None:
    for _ in range(5):
        assert login(client, "alpha", "nope nope nope").status_code == 401
    resp = login(client, "alpha")  # the right password, but too late
    assert resp.status_code == 429
    assert "Trop d&#39;essais" in resp.get_data(as_text=True)
    assert "login_blocked" in [a.action for a in store.audit_log()]
    clock.at = T0 + dt.timedelta(minutes=16)
    assert login(client, "alpha").status_code == 302


def test_integrators_see_only_their_sites(client: FlaskClient, store: ConsoleStore,
                                          clock: Clock) -> None:
    site_a, site_b = seeded(store, clock)
    run_b = store.runs(site_b)[0]
    login(client, "alpha")
    page = client.get("/").get_data(as_text=True)
    assert "Lyon" in page and "Nantes" not in page
    assert client.get(f"/sites/{site_a}").status_code == 200
    assert client.get(f"/sites/{site_b}").status_code == 404
    assert client.get("/sites/nowhere/at-all").status_code == 404
    assert client.get(f"/runs/{run_b.id}/sheet.html").status_code == 404
    assert client.get(f"/runs/{run_b.id}/capture.pcapng").status_code == 404
    run_a = store.runs(site_a)[0]
    sheet = client.get(f"/runs/{run_a.id}/sheet.html")
    assert sheet.status_code == 200 and b"feuille" in sheet.data
    assert "sandbox" in sheet.headers["Content-Security-Policy"]
    assert client.get("/sites.csv").get_data(as_text=True).count("\n") == 2
    assert client.get("/users").status_code == 404  # administrator only
    # no activation form for an integrator, and a direct POST is 404
    assert "activate" not in client.get(f"/sites/{site_a}").get_data(as_text=True)
    token = csrf(client, f"/sites/{site_a}")
    assert client.post(f"/sites/{site_a}/activate",
                       data={"trunk": "trunk01", "csrf_token": token}).status_code == 404


def test_sites_page_lights_options_filter_and_sort(client: FlaskClient, store: ConsoleStore,
                                                   clock: Clock) -> None:
    seeded(store, clock)
    store.gate.record("33333333300033/Brest", passed=False, actor="agent", evidence="fw-9",
                      at=T0)  # verified by a run never uploaded: the gate's row alone
    clock.at = T0 + dt.timedelta(hours=3, minutes=45)
    login(client, "tech")
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="site-row"') == 3
    brest = page[page.index(">Brest<") - 400:page.index(">Brest<")]
    assert "light red" in brest
    assert 'light green' in page and 'light red' in page
    assert "en attente (reste 20 h 15)" in page
    assert "pas de vérification" in page
    red = client.get("/?light=red").get_data(as_text=True)
    assert "Nantes" in red and "Brest" in red and "Lyon" not in red
    assert "Nantes" not in client.get("/?q=boulang").get_data(as_text=True)
    desc = client.get("/?sort=customer&dir=desc").get_data(as_text=True)
    assert desc.index("Garage") < desc.index("Boulangerie")
    csv = client.get("/sites.csv?lang=en").get_data(as_text=True)
    assert "waiting (20 h 15)" in csv and csv.startswith("Site;State;")
    assert client.get("/?light=green&page=9").get_data(as_text=True).count("site-row") == 1


def test_activation_obeys_the_gate(client: FlaskClient, store: ConsoleStore,
                                   clock: Clock) -> None:
    site_a, _ = seeded(store, clock)
    clock.at = T0 + dt.timedelta(hours=20)
    login(client, "tech")  # (a session idle for hours is over: log in at each jump)
    token = csrf(client, f"/sites/{site_a}")
    page = client.post(f"/sites/{site_a}/activate", data={"trunk": "trunk01",
                                                          "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Activation refusée (trunk01) : pare-feu vérifié le 02/11/2026 10:30" in page
    assert ("activable à partir du 03/11/2026 10:30 (heure de Paris), reste 4 h 00 min"
            in page)  # Paris time (CET, UTC+1 in November), labelled
    assert store.gate.status(site_a, "trunk01", at=clock.at).state == "waiting"
    clock.at = T0 + dt.timedelta(hours=24, minutes=1)
    login(client, "tech")
    token = csrf(client, f"/sites/{site_a}")
    page = confirmed(client, f"/sites/{site_a}/activate", {"trunk": "trunk01",
                                                          "csrf_token": token})
    assert "Option internationale activée" in page
    assert store.gate.status(site_a, "trunk01", at=clock.at).state == "active"
    # revocation needs a reason
    confirmed(client, f"/sites/{site_a}/revoke", {"trunk": "trunk01", "reason": "",
                                                  "csrf_token": token})
    assert store.gate.status(site_a, "trunk01", at=clock.at).state == "active"
    confirmed(client, f"/sites/{site_a}/revoke", {"trunk": "trunk01", "reason": "fraude",
                                                  "destinations": "+882 +225",
                                                  "csrf_token": token})
    st = store.gate.status(site_a, "trunk01", at=clock.at)
    assert st.state == "revoked" and "fraude" in st.reason
    actions = [a.action for a in store.audit_log(site_a)]
    assert actions[:3] == ["revoke", "activate", "activate_refused"]
    trail = client.get(f"/sites/{site_a}").get_data(as_text=True)
    assert "+882 +225" in trail and "révoquée" in trail


def test_upload_idempotent_and_token_refused(client: FlaskClient, store: ConsoleStore,
                                             clock: Clock) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha
    token = store.create_token(alpha.id, "laptop", created_by="admin")

    def post(tok: str | None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        return client.post("/api/runs", headers=headers, content_type="multipart/form-data",
                           data=upload_files("Boulangerie", "11111111100014", "Lyon",
                                             "Alpha Telecom", **kw))

    assert post(None).status_code == 401
    assert post("rct_forged").status_code == 401
    first = post(token)
    assert first.status_code == 201 and first.json["new"] is True
    again = post(token)
    assert again.status_code == 200 and again.json["new"] is False
    assert again.json["id"] == first.json["id"]
    site = first.json["site"]
    assert site == "11111111100014/Lyon"
    assert len(store.runs(site)) == 1
    names = [n for n, _ in store.runs(site)[0].files]
    assert "profile.yaml" not in names and "sheet.html" in names
    assert post(token, fw="fail").status_code == 201  # another run
    assert len(store.runs(site)) == 2
    assert [a.action for a in store.audit_log(site)].count("upload") == 2
    beta = store.user_by_name("beta")
    assert beta
    other = store.create_token(beta.id, "beta laptop", created_by="admin")
    forged = post(other, reserves=True)  # another integrator's site: no grant by upload
    assert forged.status_code == 403 and len(store.runs(site)) == 2
    assert not store.can_see(beta, site)
    store.revoke_token(store.tokens()[0]["id"])
    assert post(token, reserves=True).status_code == 401
    assert "rct_" not in json.dumps(store.tokens(), default=str)


def test_two_instances_share_sessions_and_data(store: ConsoleStore, clock: Clock,
                                               tmp_path: Path) -> None:
    """Stateless: a session opened on one instance is valid on another on the same store,
    and what one writes the other shows (a load balancer may alternate them)."""
    other = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    one = create_app(store, now=clock, secure_cookies=False, testing=True)
    two = create_app(other, now=clock, secure_cookies=False, testing=True)
    site_a, _ = seeded(store, clock)
    c1, c2 = one.test_client(), two.test_client()
    assert login(c1, "tech").status_code == 302
    cookie = c1.get_cookie("recette_console")
    assert cookie is not None
    c2.set_cookie("recette_console", cookie.value)
    page = c2.get(f"/sites/{site_a}")
    assert page.status_code == 200 and "Lyon" in page.get_data(as_text=True)
    clock.at = T0 + dt.timedelta(minutes=25)  # within the idle limit
    token = csrf(c1, f"/sites/{site_a}")  # a form of instance one, posted to two
    cookie = c1.get_cookie("recette_console")  # one browser, one cookie jar
    assert cookie is not None
    c2.set_cookie("recette_console", cookie.value)
    confirmed(c2, f"/sites/{site_a}/revoke", {"trunk": "trunk01", "reason": "test",
                                              "csrf_token": token})
    assert store.gate.status(site_a, "trunk01", at=clock.at).state == "revoked"


def test_site_history_incidents_and_quality_chart(client: FlaskClient, store: ConsoleStore,
                                                  clock: Clock) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha
    first = results("Boulangerie", "Lyon", generated="2026-11-01T09:00:00+00:00")
    second = results("Boulangerie", "Lyon", fw="fail", generated="2026-11-02T09:00:00+00:00")
    quality = {"direction": {"code": "X", "params": {}, "text": "far end→site"},
               "sent": None, "received": 98, "expected": 100, "loss_pct": 2.0,
               "jitter_ms": 1.0, "jitter_max_ms": 2.0, "rtt_ms": None, "one_way_ms": None,
               "r": 70.0, "mos": 3.6, "grade": "warn", "problems": []}
    second["checks"][0]["figures"] = {"quality": [quality]}
    second["incidents"] = [{"date": "02/11/2026", "time": "09:01:02", "calling": "0400000000",
                            "called": "0899000000",
                            "symptom": {"code": "NO_SUCH_CODE", "params": {},
                                        "text": "no audio from the site"}}]
    prof = profile("Boulangerie", "11111111100014", "Lyon", "Alpha Telecom").encode()
    for doc in (first, second):
        store.add_run({"results.json": json.dumps(doc).encode(), "profile.yaml": prof},
                      uploader=alpha, at=clock.at)
    site = "11111111100014/Lyon"
    login(client, "alpha")
    page = client.get(f"/sites/{site}").get_data(as_text=True)
    history = page[page.index('id="history"'):page.index('id="incidents"')]
    assert history.count("<tr>") == 2  # the header and one change: first passes are not
    assert "réussi → <strong>échec</strong>" in history and "firewall.openings" in history
    assert 'id="quality-chart"' in page and "MOS 3,60" in page
    assert "no audio from the site" in page
    csv_text = client.get(f"/sites/{site}/incidents.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1].endswith("0400000000;0899000000;no audio from the site")
    assert client.get("/sites/22222222200028/Nantes/incidents.csv").status_code == 404


def test_behind_a_proxy_the_rate_limit_counts_the_client(store: ConsoleStore,
                                                         clock: Clock) -> None:
    app = create_app(store, now=clock, secure_cookies=False, proxies=1, testing=True)
    client = app.test_client()
    for i in range(25):  # 25 clients failing once each: none is blocked by the others
        env = {"REMOTE_ADDR": "10.0.0.1"}
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True))
        assert token
        resp = client.post("/login", environ_base=env,
                           headers={"X-Forwarded-For": f"192.0.2.{i}"},
                           data={"username": f"nobody{i}", "password": "x" * 12,
                                 "csrf_token": token.group(1)})
        assert resp.status_code == 401
    assert {a.ip for a in store.audit_log()} == {f"192.0.2.{i}" for i in range(25)}


def test_administrator_creates_users_grants_and_tokens(client: FlaskClient,
                                                       store: ConsoleStore) -> None:
    login(client, "admin")
    token = csrf(client, "/users")
    client.post("/users", data={"username": "gamma", "password": PASSWORD,
                                "role": "integrator", "company": "Gamma",
                                "csrf_token": token})
    gamma = store.user_by_name("gamma")
    assert gamma and gamma.role == "integrator" and gamma.company == "Gamma"
    client.post("/users/grant", data={"user_id": gamma.id, "site": "1/Brest",
                                      "csrf_token": token})
    assert store.grants(gamma.id) == ["1/Brest"]
    made = client.post("/users/token", data={"user_id": gamma.id, "label": "laptop",
                                             "csrf_token": token})
    assert made.headers["Cache-Control"] == "no-store"
    shown = re.search(r'id="new-token">(rct_[^<]+)<', made.get_data(as_text=True))
    assert shown and store.token_user(shown.group(1)) == gamma
    admin = store.user_by_name("admin")
    assert admin
    client.post("/users/active", data={"user_id": admin.id, "active": "0",
                                       "csrf_token": token})
    assert store.user_by_name("admin") == admin  # still active
    actions = {a.action for a in store.audit_log()}
    assert {"user_add", "grant", "token_add"} <= actions


NEW_PASSWORD = "another horse, stapled"


def change_password(client: FlaskClient, current: str, new: str,
                    again: str | None = None) -> Any:
    return client.post("/password", data={"current": current, "new": new,
                                          "again": new if again is None else again,
                                          "csrf_token": csrf(client, "/password")})


def test_store_set_password_ends_sessions(store: ConsoleStore) -> None:
    tech = store.user_by_name("tech")
    assert tech
    token = store.sessions.open(tech.id, "192.0.2.1", T0)
    assert store.sessions.find(token, T0) is not None
    with pytest.raises(RecetteError, match="'nobody'"):
        store.set_password("nobody", NEW_PASSWORD)
    with pytest.raises(RecetteError, match="10 characters"):
        store.set_password("tech", "short")
    assert store.sessions.find(token, T0) is not None  # a refused password ends nothing
    changed = store.set_password("tech", NEW_PASSWORD, at=T0)
    assert changed == tech and store.sessions.find(token, T0) is None
    assert store.check_password("tech", PASSWORD) is None
    assert store.check_password("tech", NEW_PASSWORD) == changed
    stored = store.engine.connect().exec_driver_sql(
        "SELECT password_hash FROM console_users WHERE username='tech'").scalar_one()
    assert stored.startswith("$argon2id$")


def test_password_page_refusals(client: FlaskClient, store: ConsoleStore) -> None:
    login(client, "alpha")  # an integrator: every role has the page
    assert 'id="password-link"' in client.get("/").get_data(as_text=True)
    cases = [(("wrong password!", NEW_PASSWORD), 403, "Mot de passe actuel incorrect."),
             ((PASSWORD, "short"), 400, "au moins 10 caractères"),
             ((PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"), 400, "diffèrent"),
             ((PASSWORD, PASSWORD), 400, "est l&#39;actuel")]
    for args, status, words in cases:
        resp = change_password(client, *args)
        assert resp.status_code == status and words in resp.get_data(as_text=True)
    resp = client.post("/password?lang=en", data={
        "current": PASSWORD, "new": "short", "again": "short",
        "csrf_token": csrf(client, "/password")})
    assert "at least 10 characters" in resp.get_data(as_text=True)
    assert client.post("/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                          "again": NEW_PASSWORD}).status_code == 400  # CSRF
    assert store.check_password("alpha", PASSWORD) is not None  # nothing changed
    assert client.get("/").status_code == 200  # and still logged in
    assert [a.action for a in store.audit_log()].count("password_failed") == 1


def test_password_page_counts_wrong_current_passwords(client: FlaskClient,
                                                       store: ConsoleStore,
                                                       clock: Clock) -> None:
    login(client, "tech")
    for _ in range(5):
        assert change_password(client, "guess guess guess", NEW_PASSWORD).status_code == 403
    blocked = change_password(client, PASSWORD, NEW_PASSWORD)  # right, but too late
    assert blocked.status_code == 429 and "Trop d&#39;essais" in blocked.get_data(as_text=True)
    assert store.check_password("tech", PASSWORD) is not None
    with create_app(store, now=clock, secure_cookies=False, testing=True
                    ).test_client() as other:  # the login's limit is the same one
        assert login(other, "tech").status_code == 429
    clock.at = T0 + dt.timedelta(minutes=16)
    assert change_password(client, PASSWORD, NEW_PASSWORD).status_code == 302


def test_password_change_logs_out_the_other_sessions(app: Flask, store: ConsoleStore) -> None:
    mine, other = app.test_client(), app.test_client()  # two browsers
    login(mine, "tech")
    login(other, "tech")
    assert other.get("/").status_code == 200
    done = change_password(mine, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302
    assert "Mot de passe changé" in mine.get(done.headers["Location"]
                                             ).get_data(as_text=True)
    assert mine.get("/").status_code == 200  # this session stays in
    gone = other.get("/")  # the other one is out at its next click
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert login(other, "tech", PASSWORD).status_code == 401
    assert login(other, "tech", NEW_PASSWORD).status_code == 302
    assert other.get("/").status_code == 200
    entry = next(a for a in store.audit_log() if a.action == "password_changed")
    assert entry.actor == "tech" and entry.ip
    everything = json.dumps([vars(a) for a in store.audit_log()], default=str)
    assert PASSWORD not in everything and NEW_PASSWORD not in everything


def test_cli_reset_logs_out_sessions(app: Flask, store: ConsoleStore, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'gate.db'}"
    with app.test_client() as browser:
        login(browser, "alpha")
        assert browser.get("/").status_code == 200
        monkeypatch.setenv("RECETTE_CONSOLE_PASSWORD", NEW_PASSWORD)
        assert cli_main(["console", "user", "passwd", "alpha", "--db", db]) == 0
        assert "alpha" in capsys.readouterr().out
        assert browser.get("/").status_code == 302
        assert login(browser, "alpha", PASSWORD).status_code == 401
        assert login(browser, "alpha", NEW_PASSWORD).status_code == 302
    assert cli_main(["console", "user", "passwd", "nobody", "--db", db]) == 2
    assert "no console user 'nobody'" in capsys.readouterr().err
    monkeypatch.setenv("RECETTE_CONSOLE_PASSWORD", "short")
    assert cli_main(["console", "user", "passwd", "alpha", "--db", db]) == 2
    entry = next(a for a in store.audit_log() if a.action == "password_reset")
    assert entry.detail == {"user": "alpha", "via": "cli"}
    assert NEW_PASSWORD not in json.dumps([vars(a) for a in store.audit_log()], default=str)


def test_rehash_at_login_keeps_the_other_sessions(app: Flask, store: ConsoleStore) -> None:
    """A hash of older argon2 parameters (a library upgrade changed the defaults while
    sessions were open) is made again at the next login; the sessions opened before are
    rows, not marks of the hash, so they stay in."""
    def stored() -> str:
        with store.engine.connect() as conn:
            return str(conn.exec_driver_sql("SELECT password_hash FROM console_users "
                                            "WHERE username = 'tech'").scalar_one())

    first, second = app.test_client(), app.test_client()
    login(first, "tech")
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE console_users SET password_hash = ? "
                             "WHERE username = 'tech'", (old,))
    assert first.get("/").status_code == 200
    assert login(second, "tech").status_code == 302  # rehashes
    assert stored() != old and not PasswordHasher().check_needs_rehash(stored())
    assert first.get("/").status_code == 200 and second.get("/").status_code == 200
