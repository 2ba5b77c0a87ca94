"""Every console page in one language: seeded with a site in each of the gate's states, an
unattested pass with its refused lines, a failed verification, an incident, and every audit
action, the pages (and CSV exports) are walked as technical service, integrator and
administrator in French and in English; a word of the other language in a visible text
node, a tooltip or a placeholder fails the test. Also the time zone preference and the
time and size formats (harness/console/localtime.py, wording.py, prefs.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from harness.console import localtime
from harness.console.app import create_app
from harness.console.labels import LABELS
from harness.console.store import ConsoleStore, open_console
from harness.messages import msg
from tests.console_support import T0, Clock

PASSWORD = "correct horse battery"
NOW = T0 + dt.timedelta(days=40)
# Words the French pages showed before (the gate's English reasons, raw audit codes, "ko",
# bare UTC times, the gatekeeper's notes, an English symptom).
LEAKED_EN = {"refused", "failed", "verified", "allowed", "since", "passed", "revoked",
             "password_changed", "activate_refused", "download", "upload", "utc",
             "one-way", "sweep", "probe", "nothing", "recorded", "backed", "wait",
             "run", "older", "needed", "attested", "declared", "login", "logout", "token"}
LEAKED_FR = {"heure", "ko", "recette", "réussi", "échec", "refusée", "vérifié", "sonde",
             "balayage", "révoquée", "depuis", "aucun", "aucune", "jeton", "mo"}
# Data the test itself stores (names are not words of a language), and the language switch.
DATA = {"acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne",
        "lyon", "nantes", "lille", "metz", "brest", "tours", "nice", "alpha", "telecom",
        "beta", "networks", "admin", "tech", "gamma", "english", "français", "fraude",
        "constatée", "the", "of"}


def _words(text: str) -> set[str]:
    text = re.sub(r"\w+(\.\w+)+", " ", text)  # check ids and file names: not words
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'_-]*[A-Za-zÀ-ÿ]", text)}


FR_WORDS = set().union(*(_words(fr) for fr, _ in LABELS.values()))
EN_WORDS = set().union(*(_words(en) for _, en in LABELS.values()))
ENGLISH_ONLY = {w for w in EN_WORDS - FR_WORDS if len(w) > 2} | LEAKED_EN
FRENCH_ONLY = {w for w in FR_WORDS - EN_WORDS if len(w) > 2} | LEAKED_FR


class Visible(HTMLParser):
    """The text a reader sees or hovers: text nodes (not script, style, code, or the zone
    names of the time zone list), titles and placeholders."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "style", "code") or (tag == "select" and a.get("id") == "tz"):
            self.hidden += 1
        for name in ("title", "placeholder"):
            if a.get(name):
                self.texts.append(str(a[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "select") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.texts.append(data)


def visible(html: str) -> str:
    p = Visible()
    p.feed(html)
    return " ".join(p.texts)


def results(customer: str, site: str, *, fw: str, generated: str,
            incident: bool = False) -> dict[str, Any]:
    checks = [{"id": "sip.options", "fr": "OPTIONS", "en": "OPTIONS", "status": "pass",
               "reserves": []},
              {"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall", "status": fw,
               "reserves": []}]
    doc = {"schema_version": 2, "generated": generated, "customer": customer, "site": site,
           "operator_server": "198.51.100.10", "lang": "fr",
           "counts": {"pass": 1 + (fw == "pass"), "fail": int(fw == "fail"), "error": 0,
                      "skip": 0},
           "checks": checks, "incidents": []}
    if incident:
        doc["incidents"] = [{"date": "02/11/2026", "time": "09:01:02", "calling": "0400000000",
                             "called": "0899000000",
                             "symptom": msg("AN_NO_AUDIO", calling="0400000000",
                                            called="0899000000").model_dump()}]
    return doc


def files(customer: str, siret: str, site: str, *, fw: str = "pass",
          generated: str = "2026-11-02T09:00:00+00:00", incident: bool = False
          ) -> dict[str, Any]:
    prof = (f"customer:\n  name: {customer}\n  siret: '{siret}'\n  integrator: Alpha Telecom\n"
            f"site:\n  name: {site}\ntrunks:\n- name: trunk01\n  password: \"<redacted>\"\n")
    doc = results(customer, site, fw=fw, generated=generated, incident=incident)
    return {"results.json": (BytesIO(json.dumps(doc).encode()), "results.json"),
            "profile.yaml": (BytesIO(prof.encode()), "profile.yaml"),
            "sheet.html": (BytesIO(b"<html><body>x</body></html>" * 100), "sheet.html")}


SITES = {  # state: (customer, siret, site name)
    "no-verification": ("Acme", "11111111100014", "Lyon"),
    "waiting": ("Globex", "22222222200028", "Nantes"),
    "eligible": ("Initech", "33333333300008", "Lille"),
    "active": ("Umbrella", "44444444400004", "Metz"),
    "revoked": ("Hooli", "55555555500005", "Brest"),
    "blocked": ("Vandelay", "66666666600001", "Tours"),
    "expired": ("Stark", "77777777700007", "Nice"),
}


def key(state: str) -> str:
    _, siret, name = SITES[state]
    return f"{siret}/{name}"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    st = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    st.add_user("admin", PASSWORD, "administrator")
    st.add_user("tech", PASSWORD, "technical")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    st.add_user("gamma", PASSWORD, "integrator", "Beta Networks")
    return st


@pytest.fixture
def app(store: ConsoleStore, clock: Clock) -> Flask:
    return create_app(store, now=clock, secure_cookies=False, testing=True)


def csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    assert found
    return found.group(1)


def login(client: FlaskClient, user: str, password: str = PASSWORD) -> None:
    client.post("/login", data={"username": user, "password": password,
                                "csrf_token": csrf(client, "/login")})


def post(client: FlaskClient, path: str, form: dict[str, str], page: str) -> str:
    return client.post(path, data={**form, "csrf_token": csrf(client, page)},
                       follow_redirects=True).get_data(as_text=True)


def confirmed(client: FlaskClient, path: str, form: dict[str, str], page: str) -> str:
    """``post``, then the confirmation page's confirm button when one came (activate and
    revoke take two steps; a refusal comes at once)."""
    first = post(client, path, form, page)
    found = re.search(r'name="token" value="([^"]+)"', first)
    if not found:
        return first
    fields = dict(re.findall(r'name="(csrf_token|trunk|action)" value="([^"]+)"', first))
    return client.post(path.rsplit("/", 1)[0] + "/confirm",
                       data={**fields, "token": found.group(1), "choice": "confirm"},
                       follow_redirects=True).get_data(as_text=True)


@pytest.fixture
def seeded(app: Flask, store: ConsoleStore, clock: Clock) -> Iterator[FlaskClient]:
    """Every gate state, every audit action the console writes, an incident; the
    administrator's client is yielded (logged in)."""
    alpha = store.user_by_name("alpha")
    assert alpha
    token = store.create_token(alpha.id, "laptop", created_by="admin", at=NOW)
    gate = store.gate
    with app.test_client() as c:
        def upload(state: str, **kw: Any) -> None:
            reply = c.post("/api/runs", headers={"Authorization": f"Bearer {token}"},
                           content_type="multipart/form-data", data=files(*SITES[state], **kw))
            assert reply.status_code == 201, reply.get_data(as_text=True)

        clock.at = NOW - dt.timedelta(hours=31)
        for state in SITES:
            upload(state, incident=state == "no-verification")  # unattested passes
        c.post("/api/runs", headers={"Authorization": "Bearer rct_forged"},
               content_type="multipart/form-data", data=files(*SITES["waiting"]))
        hours = {"waiting": 2, "eligible": 25, "active": 30, "revoked": 30, "blocked": 30}
        for state, h in hours.items():
            gate.record(key(state), passed=True, actor="console", evidence="run 1",
                        at=NOW - dt.timedelta(hours=h))
        gate.record(key("expired"), passed=True, actor="console", evidence="run 7", at=T0)
        clock.at = NOW - dt.timedelta(hours=5)
        upload("blocked", fw="fail", generated="2026-12-12T04:00:00+00:00")
        clock.at = NOW
        for state in SITES:
            store.refresh_site(key(state), NOW)
        login(c, "tech")
        for state in ("active", "revoked", "waiting"):  # activate, and activate_refused
            confirmed(c, f"/sites/{key(state)}/activate", {"trunk": "trunk01"},
                 f"/sites/{key(state)}")
        confirmed(c, f"/sites/{key('revoked')}/revoke",
             {"trunk": "trunk01", "reason": "fraude constatée", "destinations": "+882 +979"},
             f"/sites/{key('revoked')}")
        runs = store.runs(key("eligible"))
        assert c.get(f"/runs/{runs[0].id}/sheet.html").status_code == 200  # download
        post(c, "/preferences", {"tz": "Europe/Paris"}, "/preferences")
        post(c, "/logout", {}, "/")
        login(c, "tech", "wrong password!")  # login_failed
        # What the administrator's pages and the command line write, as they write it.
        for act, detail in (("user_add", {"user": "gamma", "role": "integrator",
                                          "company": "Beta Networks"}),
                            ("password_reset", {"user": "alpha", "via": "cli"}),
                            ("password_changed", None), ("password_failed", None),
                            ("password_blocked", None), ("login_blocked", None),
                            ("grant", {"user_id": 3, "user": "alpha"}),
                            ("ungrant", {"user_id": 3, "user": "alpha"}),
                            ("user_disable", {"user_id": 4, "user": "gamma"}),
                            ("user_enable", {"user_id": 4, "user": "gamma"}),
                            ("token_add", {"user_id": 3, "user": "alpha"}),
                            ("token_revoke", {"token_id": 1}),
                            ("probe_key_add", {"name": "sonde-paris", "key_id": "ab12"}),
                            ("probe_key_revoke", {"key_id": "ab12", "via": "cli"})):
            store.audit("admin", act, detail=detail, at=NOW)
        login(c, "admin")
        yield c


PAGES = {"technical": ["/", "/sites.csv", "/preferences", "/password", "/nowhere"],
         "administrator": ["/", "/audit", "/audit.csv", "/users", "/probes", "/preferences",
                           "/sites.csv"],
         "integrator": ["/", "/preferences", "/sites.csv"]}
USERS = {"technical": "tech", "administrator": "admin", "integrator": "alpha"}


def walk(app: Flask, role: str, lang: str) -> dict[str, str]:
    """Every page the role reaches (its sites' pages and their incident CSVs included)."""
    out = {}
    with app.test_client() as c:
        login(c, USERS[role])
        c.get(f"/?lang={lang}")
        paths = [*PAGES[role], *(f"/sites/{key(s)}" for s in SITES),
                 *(f"/sites/{key(s)}/incidents.csv" for s in SITES)]
        for path in paths:
            reply = c.get(path)
            out[path] = reply.get_data(as_text=True)
    return out


def leaks(text: str, wrong: set[str]) -> set[str]:
    return (_words(text) & wrong) - DATA


@pytest.mark.parametrize("role", ["technical", "integrator", "administrator"])
def test_french_pages_have_no_english(app: Flask, seeded: FlaskClient, role: str) -> None:
    pages = walk(app, role, "fr")
    site = visible(pages[f"/sites/{key('no-verification')}"])
    if role != "integrator" or "Acme" in site:
        assert "aucun audio dans un sens comme dans l'autre" in site  # the symptom's code
    for path, html in pages.items():
        text = html if path.endswith(".csv") else visible(html)
        assert not leaks(text, ENGLISH_ONLY), (role, path, leaks(text, ENGLISH_ONLY))


@pytest.mark.parametrize("role", ["technical", "integrator", "administrator"])
def test_english_pages_have_no_french(app: Flask, seeded: FlaskClient, role: str) -> None:
    for path, html in walk(app, role, "en").items():
        text = (html if path.endswith(".csv") else visible(html)).replace(
            "recette console", "")  # the product's name
        assert not re.search(r"\(heure de ", text), (role, path)
        assert not leaks(text, FRENCH_ONLY), (role, path, leaks(text, FRENCH_ONLY))


def test_every_state_and_action_is_said(app: Flask, seeded: FlaskClient) -> None:
    """The walk's data really holds every state and action (else the walk proves little)."""
    page = visible(seeded.get("/audit").get_data(as_text=True))
    for act in ("act_activate", "act_activate_refused", "act_revoke", "act_download",
                "act_upload", "act_upload_refused", "act_verification_unattested",
                "act_verification_fail", "act_login", "act_login_failed", "act_logout",
                "act_tz_set", "act_password_changed", "act_probe_key_add"):
        assert LABELS[act][0] in page, act
    states = visible(seeded.get("/").get_data(as_text=True))
    for state in SITES:
        assert LABELS[f"state_{state}"][0] in states, state
    refused = visible(seeded.get(f"/sites/{key('waiting')}").get_data(as_text=True))
    assert "aucun balayage à froid de la sonde extérieure dans la recette" in refused
    assert "réussite que les signatures de la sonde ne confirment pas" in refused
    assert "activable à partir du" in page  # activate_refused's reason, from its code
    blocked = visible(seeded.get(f"/sites/{key('blocked')}").get_data(as_text=True))
    assert "a échoué après la réussite du" in blocked
    assert "échec : l'option est bloquée jusqu'à une nouvelle réussite vérifiée" in blocked
    assert re.search(r"\d,\d k?o\)", refused)  # "(2,7 ko)": a French size


def test_times_follow_the_users_zone(app: Flask, seeded: FlaskClient) -> None:
    """Paris by default, labelled; Montréal once chosen, six hours earlier; the CSV header
    names the zone; an unknown zone is refused and changes nothing."""
    trail = f"/sites/{key('waiting')}"
    paris = visible(seeded.get(trail).get_data(as_text=True))
    # the pass at NOW - 2 h = 2026-12-12 07:30 UTC, 08:30 in Paris (CET), 02:30 in Montréal
    assert "12/12/2026 08:30:00 (heure de Paris)" in paris
    page = post(seeded, "/preferences", {"tz": "../../etc/passwd"}, "/preferences")
    assert LABELS["tz_unknown"][0].replace("'", "&#39;") in page
    assert seeded.get("/audit.csv").get_data(as_text=True).startswith(
        "Date (heure de Paris);")
    post(seeded, "/preferences", {"tz": "America/Montreal"}, "/preferences")
    montreal = visible(seeded.get(trail).get_data(as_text=True))
    assert "12/12/2026 02:30:00 (heure de Montréal)" in montreal
    assert "heure de Paris" not in montreal
    english = visible(seeded.get(trail + "?lang=en").get_data(as_text=True))
    assert "2026-12-12 02:30:00 EST" in english
    assert seeded.get("/audit.csv").get_data(as_text=True).startswith("When (EST);")


def test_formats() -> None:
    paris = ZoneInfo("Europe/Paris")
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert localtime.when(summer, "fr", paris) == "01/07/2026 14:00 (heure de Paris)"
    assert localtime.when(summer, "en", paris) == "2026-07-01 14:00 CEST"
    assert localtime.when("2026-12-06T22:38:00+00:00", "fr", paris) == \
        "06/12/2026 23:38 (heure de Paris)"
    assert localtime.when("not a time", "fr", paris) == "not a time"
    assert localtime.size(1_500_000, "fr") == "1,5 Mo"
    assert localtime.size(1_500_000, "en") == "1.5 MB"
    assert localtime.size(820, "fr") == "820 o"
    with pytest.raises(localtime.ZoneError, match=r"^tz: unknown time zone"):
        localtime.zone("Mars/Olympus")
    assert localtime.zone_or_default("Gone/Zone").key == "Europe/Paris"
