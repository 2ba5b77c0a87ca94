"""The console for daily use in a real headless Chromium, at a desk's width (1366 px) and a
phone's (390 px): activation and revocation each go through their confirmation page (cancel
first, then confirm), a real pytest-html report opens from the site page with its rows drawn
by its own scripts, while a hostile report's scripts get nothing of the console (no cookie,
no request, no parent page), and no page scrolls sideways on a phone. Each test saves a
screenshot per width into ``$RECETTE_SCREENSHOTS`` (or its tmp_path)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.console.store import ConsoleStore, open_console
from tests.console_support import T0, Clock, serving
from tests.system.test_console_browser import PASSWORD, _flash, _login, _profile, _submit

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

WIDTHS = [1366, 390]
SITE = "11111111100014/Lyon"
HOSTILE = b"""<!DOCTYPE html><html><head><title>hostile</title></head><body>
<h1>rapport</h1><div id="stolen"></div><script>
var out = document.getElementById('stolen');
function put(k, v) { var d = document.createElement('div'); d.id = 'got-' + k;
  d.textContent = v; out.appendChild(d); }
try { put('cookie', 'value:' + document.cookie); } catch (e) { put('cookie', 'blocked'); }
try { put('parent', 'value:' + parent.document.body.innerHTML.slice(0, 300)); }
catch (e) { put('parent', 'blocked'); }
try { put('storage', 'value:' + localStorage.length); } catch (e) { put('storage', 'blocked'); }
try {
  fetch('/').then(function (r) { return r.text(); })
    .then(function (t) { put('fetch', 'value:' + t.slice(0, 300)); },
          function () { put('fetch', 'blocked'); });
} catch (e) { put('fetch', 'blocked'); }
put('ran', 'yes');
</script></body></html>"""


def _results(generated: str, mos: float, loss: float, fw: str = "pass") -> bytes:
    quality: dict[str, Any] = {"direction": {"code": "X", "params": {}, "text": "far end→site"},
               "sent": None, "received": 98, "expected": 100, "loss_pct": loss,
               "jitter_ms": 1.0, "jitter_max_ms": 2.0, "rtt_ms": None, "one_way_ms": None,
               "r": 70.0, "mos": mos, "grade": "warn", "problems": []}
    return json.dumps({
        "schema_version": 2, "generated": generated, "customer": "Boulangerie du Vieux Port",
        "site": "Lyon", "operator_server": "198.51.100.10", "lang": "fr",
        "counts": {"pass": int(fw == "pass"), "fail": int(fw == "fail"), "error": 0,
                   "skip": 0},
        "checks": [{"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall",
                    "status": fw, "reserves": [], "figures": {"quality": [quality]}}],
        "incidents": []}).encode()


def real_report(folder: Path) -> bytes:
    """A pytest-html report of a throw-away test folder: three passes and one failure."""
    folder.mkdir()
    (folder / "test_tiny.py").write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('n', range(3))\n"
        "def test_ok(n):\n    assert n >= 0\n\n\ndef test_bad():\n    assert 1 == 2\n")
    (folder / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "-n", "0", "--html=report.html",
                           "--self-contained-html", "test_tiny.py"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    assert "1 failed, 3 passed" in done.stdout, done.stdout + done.stderr
    return (folder / "report.html").read_bytes()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore, Clock]]:
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("tech", PASSWORD, "technical")
    store.add_user("admin", PASSWORD, "administrator")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Télécom Rhône-Alpes")
    profile = _profile("Boulangerie du Vieux Port", "11111111100014", "Lyon",
                       "Alpha Télécom Rhône-Alpes")
    report = real_report(tmp_path / "tiny")
    for k, (day, mos, loss) in enumerate([(1, 4.3, 0.2), (3, 3.6, 2.5), (4, 4.1, 0.8),
                                          (29, 4.2, 0.4)]):
        when = dt.datetime(2026, 10, day, 9, 30, tzinfo=dt.UTC).isoformat()
        files = {"results.json": _results(when, mos, loss), "profile.yaml": profile,
                 "report.html": HOSTILE if k == 0 else report}
        store.add_run(files, uploader=alpha, at=T0)
    store.gate.record(SITE, passed=True, actor="console", evidence="run 4", at=T0)
    store.refresh_site(SITE, T0)
    for i in range(12):  # a page of sites and audit lines long enough to matter
        store.audit("tech", "login", ip=f"192.0.2.{i}", at=T0,
                    detail={"note": "une ligne de détail assez longue pour une cellule " * 2})
    clock = Clock()
    with serving(store, clock) as base:
        yield base, store, clock


def shoot(d: Any, name: str, width: int, tmp_path: Path) -> None:
    folder = Path(os.environ.get("RECETTE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(folder / f"{name}-{width}.png"))


def no_sideways_scroll(d: Any, width: int) -> None:
    inner = d.execute_script("return window.innerWidth")
    assert abs(inner - width) <= 20, inner  # the window really is that narrow
    scroll = d.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= inner + 1, (d.current_url, scroll, inner)


def usable(d: Any, element_id: str, width: int) -> None:
    """The control is on screen, clickable, and at a phone's width a finger's height (a
    button or field)."""
    el = WebDriverWait(d, 20).until(lambda drv: drv.find_element(By.ID, element_id))
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    assert el.is_displayed() and el.is_enabled()
    rect = el.rect
    assert rect["x"] >= 0 and rect["x"] + rect["width"] <= width + 1, rect
    if width < 700 and el.tag_name in ("button", "input", "select"):
        assert rect["height"] >= 44, rect
    hit = d.execute_script(
        "var r = arguments[0].getBoundingClientRect();"
        "return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)"
        " === arguments[0]", el)
    assert hit, f"{element_id} is covered"


@pytest.mark.parametrize("width", WIDTHS)
def test_activate_and_revoke_with_confirmation(console: tuple[str, ConsoleStore, Clock],
                                               browser: Any, width: int,
                                               tmp_path: Path) -> None:
    base, store, clock = console
    d = browser
    d.set_window_size(width, 900)
    clock.at = T0 + dt.timedelta(hours=24, minutes=5)
    _login(d, base, "tech")
    _submit(d, "Lyon", By.LINK_TEXT)
    no_sideways_scroll(d, width)
    shoot(d, "site", width, tmp_path)
    usable(d, "quality-chart", width)
    shoot(d, "chart", width, tmp_path)
    ticks = d.find_elements(By.CSS_SELECTOR, "#quality-chart text.tick")
    assert [t.text for t in ticks] == ["01/10/2026", "10/10/2026", "20/10/2026",
                                       "29/10/2026"]
    boxes = [t.rect for t in ticks]
    for a, b in itertools.pairwise(boxes):
        assert a["x"] + a["width"] <= b["x"], (a, b)  # no tick label overlaps the next

    _submit(d, "button.activate")
    sentence = d.find_element(By.ID, "sentence").text
    assert ("Les appels internationaux seront autorisés sur le trunk trunk01 du site Lyon "
            "dès maintenant") in sentence
    grounds = d.find_element(By.ID, "grounds").text
    assert "Pare-feu vérifié par la recette n° 4 le 02/11/2026 10:30 (heure de Paris)" in grounds
    no_sideways_scroll(d, width)
    usable(d, "confirm", width)
    usable(d, "cancel", width)
    shoot(d, "confirm-activate", width, tmp_path)
    _submit(d, "cancel", By.ID)
    assert "rien n'a été modifié" in _flash(d, "ok")
    assert store.gate.status(SITE, "trunk01", at=clock.at).state == "eligible"

    _submit(d, "button.activate")
    _submit(d, "confirm", By.ID)
    assert "Option internationale activée" in _flash(d, "ok")
    assert store.gate.status(SITE, "trunk01", at=clock.at).state == "active"

    d.find_element(By.CSS_SELECTOR, "input.reason").send_keys("fraude suspectée")
    d.find_element(By.NAME, "destinations").send_keys("+882 +225")
    _submit(d, "button.revoke")
    text = d.find_element(By.ID, "consequence").text
    assert ("Les appels internationaux du trunk trunk01 seront refusés dès maintenant ; une "
            "nouvelle vérification du pare-feu sera nécessaire") in text
    assert "Motif : fraude suspectée" in text and "+882 +225" in text
    no_sideways_scroll(d, width)
    usable(d, "confirm", width)
    shoot(d, "confirm-revoke", width, tmp_path)
    assert store.gate.status(SITE, "trunk01", at=clock.at).state == "active"
    _submit(d, "confirm", By.ID)
    assert "Option internationale révoquée" in _flash(d, "ok")
    assert store.gate.status(SITE, "trunk01", at=clock.at).state == "revoked"
    actions = [a.action for a in store.audit_log(SITE)]
    assert actions[:3] == ["revoke", "activate", "confirm_cancelled"]


@pytest.mark.parametrize("width", WIDTHS)
def test_report_view_rows_and_a_hostile_report_gets_nothing(
        console: tuple[str, ConsoleStore, Clock], browser: Any, width: int,
        tmp_path: Path) -> None:
    base, _, _ = console
    d = browser
    d.set_window_size(width, 900)
    _login(d, base, "alpha")
    assert d.get_cookie("recette_console") is not None  # there is a session to steal
    _submit(d, "Lyon", By.LINK_TEXT)
    links = d.find_elements(By.LINK_TEXT, "report.html")
    assert len(links) == 4  # newest run first: the hostile one is the oldest
    links[0].click()
    frame = WebDriverWait(d, 20).until(lambda drv: drv.find_element(By.ID, "report-frame"))
    no_sideways_scroll(d, width)
    usable(d, "back", width)
    d.switch_to.frame(frame)
    rows = WebDriverWait(d, 20).until(lambda drv: drv.find_elements(
        By.CSS_SELECTOR, "#results-table tbody.results-table-row"))
    assert len(rows) == 4
    assert "1 Failed" in d.find_element(By.TAG_NAME, "body").text
    d.switch_to.default_content()
    shoot(d, "report", width, tmp_path)

    _submit(d, "back", By.ID)
    d.find_elements(By.LINK_TEXT, "report.html")[-1].click()
    frame = WebDriverWait(d, 20).until(lambda drv: drv.find_element(By.ID, "report-frame"))
    d.switch_to.frame(frame)
    got = WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.ID, "got-fetch"))
    seen = {el.get_attribute("id"): el.text for el in d.find_elements(
        By.CSS_SELECTOR, "#stolen div")}
    assert seen["got-ran"] == "yes"  # its script ran …
    assert got[0].text == "blocked"  # … but no request reached the console
    assert seen["got-cookie"] == "blocked"
    assert seen["got-parent"] == "blocked"
    assert seen["got-storage"] == "blocked"
    d.switch_to.default_content()
    assert "/runs/" in d.current_url and d.find_element(By.ID, "report-frame")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(console: tuple[str, ConsoleStore, Clock], browser: Any,
                                  width: int, tmp_path: Path) -> None:
    base, store, _ = console
    d = browser
    d.set_window_size(width, 900)
    _login(d, base, "admin")
    token_owner = store.user_by_name("alpha")
    assert token_owner
    store.create_token(token_owner.id, "portable de l'intégrateur", created_by="admin")
    for path, name, control in [("/", "sites", "filter"),
                                (f"/sites/{SITE}", "site-admin", "options"),
                                ("/audit", "audit", "audit-filter"),
                                ("/users", "users", "users"),
                                ("/probes", "probes", "add-probe"),
                                ("/password", "password", "submit")]:
        d.get(base + path)
        no_sideways_scroll(d, width)
        assert d.find_element(By.ID, control).is_displayed()
        shoot(d, name, width, tmp_path)
    usable(d, "submit", width)  # the password form's button
    d.get(base + "/")
    usable(d, "logout", width)
    if width < 700:  # the filter's search button and the sites table's first column
        button = d.find_element(By.CSS_SELECTOR, "#filter button")
        assert button.rect["height"] >= 44
        first = d.find_element(By.CSS_SELECTOR, "#sites tr.site-row td:first-child")
        assert first.is_displayed() and first.rect["x"] >= 0
