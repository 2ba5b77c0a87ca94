"""The console in a real headless Chromium (Debian's, driven by Selenium through Debian's
chromedriver): an integrator logs in and sees only its sites, opens a sheet, gets 404 on
another integrator's site; the technical service tries to activate too early and sees the
refusal, activates after 24 h (injected clock) and revokes with a reason, each confirmed;
an administrator is refused a weak administrator's password on the users form, changes its
own password on the password form (a weak one refused first) and reads it all on the audit page."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.console.store import ConsoleStore, open_console
from tests.console_support import T0, Clock, serving

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

PASSWORD = "correct horse battery"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _results(customer: str, site: str, fw: str) -> bytes:
    import json

    return json.dumps({
        "schema_version": 2, "generated": "2026-11-02T09:00:00+00:00", "customer": customer,
        "site": site, "operator_server": "198.51.100.10", "lang": "fr",
        "counts": {"pass": 1 if fw == "pass" else 0, "fail": 1 if fw == "fail" else 0,
                   "error": 0, "skip": 0},
        "checks": [{"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall",
                    "status": fw, "reserves": []}], "incidents": []}).encode()


def _profile(customer: str, siret: str, site: str, integrator: str) -> bytes:
    return (f"customer:\n  name: {customer}\n  siret: '{siret}'\n  integrator: {integrator}\n"
            f"site:\n  name: {site}\ntrunks:\n- name: trunk01\n").encode()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore, Clock]]:
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    beta = store.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    store.add_run({"results.json": _results("Boulangerie", "Lyon", "pass"),
                   "profile.yaml": _profile("Boulangerie", "11111111100014", "Lyon",
                                            "Alpha Telecom"),
                   "sheet.html": b"<html><body><h1>Feuille de recette Lyon</h1></body></html>"},
                  uploader=alpha, at=T0)
    store.add_run({"results.json": _results("Garage", "Nantes", "fail"),
                   "profile.yaml": _profile("Garage", "22222222200028", "Nantes",
                                            "Beta Réseaux"),
                   "sheet.html": b"<html><body>Nantes</body></html>"}, uploader=beta, at=T0)
    # A pass the console verified (test_console_chain.py uploads signed ones).
    store.gate.record("11111111100014/Lyon", passed=True, actor="console", evidence="run 1",
                      at=T0)
    store.refresh_site("11111111100014/Lyon", T0)
    clock = Clock()
    with serving(store, clock) as base:
        yield base, store, clock


def _login(d: Any, base: str, user: str, password: str = PASSWORD) -> None:
    d.get(base + "/login")
    d.find_element(By.ID, "username").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.ID, "submit").click()
    # a form's submission does not block click(): wait for the sites page
    WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.ID, "sites"))


def _gone(old: Any) -> Any:
    """Whether ``old`` left the page. selenium's staleness_of knows only the stale-element
    error; chromedriver may instead say the node "does not belong to the document" when
    asked mid-replacement (CI failed once on it), which means the same thing."""
    def check(_: Any) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc.msg):
                return True
            raise
        return False
    return check


def _submit(d: Any, css: str, by: str = By.CSS_SELECTOR) -> None:
    """Click a button or a link and wait until the next page replaced this one."""
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(by, css).click()
    WebDriverWait(d, 20).until(_gone(old))


def _flash(d: Any, kind: str) -> str:
    """The flash message of the page the last form led to (the redirect's target)."""
    found = WebDriverWait(d, 20).until(
        lambda drv: drv.find_elements(By.CSS_SELECTOR, f".flash.{kind}"))
    return str(found[0].text)


def test_integrator_then_technical_service(console: tuple[str, ConsoleStore, Clock],
                                           browser: Any) -> None:
    base, store, clock = console
    d = browser
    _login(d, base, "alpha")
    rows = d.find_elements(By.CSS_SELECTOR, "#sites tr.site-row")
    assert len(rows) == 1
    assert "Lyon" in rows[0].text and "Nantes" not in d.page_source
    _submit(d, "Lyon", By.LINK_TEXT)
    assert "Vérifié sans réserve" in d.find_element(By.ID, "light").text
    assert not d.find_elements(By.CSS_SELECTOR, "button.activate")
    _submit(d, "sheet.html", By.LINK_TEXT)
    assert "Feuille de recette Lyon" in d.page_source
    d.get(base + "/sites/22222222200028/Nantes")
    assert "Page introuvable" in d.page_source
    d.get(base + "/")
    _submit(d, "logout", By.ID)

    clock.at = T0 + dt.timedelta(hours=2)  # log in after each jump: 30 min idle ends it
    _login(d, base, "tech")
    assert len(d.find_elements(By.CSS_SELECTOR, "#sites tr.site-row")) == 2
    _submit(d, "Lyon", By.LINK_TEXT)
    assert "reste 22 h 00" in d.find_element(By.ID, "options").text
    _submit(d, "button.activate")
    assert "Activation refusée" in _flash(d, "error")
    clock.at = T0 + dt.timedelta(hours=24, minutes=5)
    d.get(base + "/")
    assert "/login" in d.current_url  # the session idled out: log in again
    _login(d, base, "tech")
    _submit(d, "Lyon", By.LINK_TEXT)
    _submit(d, "button.activate")
    assert "seront autorisés sur le trunk trunk01" in d.find_element(By.ID, "sentence").text
    _submit(d, "confirm", By.ID)
    assert "activée" in _flash(d, "ok")
    assert "active" in d.find_element(By.ID, "options").text
    d.find_element(By.CSS_SELECTOR, "input.reason").send_keys("fraude suspectée")
    _submit(d, "button.revoke")
    _submit(d, "confirm", By.ID)
    assert "révoquée" in _flash(d, "ok")
    assert "révoquée" in d.find_element(By.ID, "options").text
    assert store.gate.status("11111111100014/Lyon", "trunk01", at=clock.at).state == "revoked"


def test_administrator_forms_and_audit_page(console: tuple[str, ConsoleStore, Clock],
                                            browser: Any) -> None:
    base, store, _ = console
    store.add_user("admin", PASSWORD, "administrator")
    d = browser
    _login(d, base, "admin")
    d.find_element(By.ID, "audit-link")  # in the navigation of an administrator
    d.get(base + "/users")
    form = d.find_element(By.CSS_SELECTOR, "fieldset form")
    form.find_element(By.NAME, "username").send_keys("root2")
    form.find_element(By.NAME, "password").send_keys("aaaaaaaaaa")
    form.find_element(By.CSS_SELECTOR, "select[name=role] option[value=administrator]"
                      ).click()
    _submit(d, "fieldset form button")
    assert "5 caractères différents" in _flash(d, "error")
    assert store.user_by_name("root2") is None

    d.get(base + "/password")
    d.find_element(By.ID, "current").send_keys(PASSWORD)
    for field in ("new", "again"):
        d.find_element(By.ID, field).send_keys("Tr0ub4dor&3x")  # 12: short for an admin
    assert d.find_element(By.ID, "new").get_attribute("minlength") == "14"
    d.execute_script("document.querySelector('form:not([action])').noValidate = true")
    _submit(d, "submit", By.ID)
    assert "au moins 14 caractères" in d.find_element(By.ID, "error").text
    strong = "Tr0ub4dor&3xylophone"
    d.find_element(By.ID, "current").send_keys(PASSWORD)
    for field in ("new", "again"):
        d.find_element(By.ID, field).send_keys(strong)
    _submit(d, "submit", By.ID)
    assert "Mot de passe changé" in _flash(d, "ok")
    assert store.check_password("admin", strong) is not None

    _submit(d, "audit-link", By.ID)
    actions = [td.text for td in d.find_elements(By.CSS_SELECTOR,
                                                 "#audit tr.audit-row td:nth-child(3)")]
    assert actions[0] == "mot de passe changé" and "connexion" in actions  # said in French
    d.find_element(By.ID, "action").find_element(
        By.CSS_SELECTOR, "option[value=password_changed]").click()
    _submit(d, "#audit-filter button")
    rows = d.find_elements(By.CSS_SELECTOR, "#audit tr.audit-row")
    assert len(rows) == 1 and "admin" in rows[0].text and "127.0.0.1" in rows[0].text
    _submit(d, "logout", By.ID)
    _login(d, base, "tech")
    d.get(base + "/audit")
    assert "Page introuvable" in d.page_source
    assert not d.find_elements(By.ID, "audit-link")
