"""The sites page's search and filters in a real headless Chromium, at a desktop's width
(1366 px) and a phone's (390 px): the technical service types a number as a customer reads
it ("01 23 45 67 89"), gets the one site that holds it with the number and its trunk said on
the row, and opens it; then ticks "activable maintenant": the URL holds the filter, a reload
keeps it, and only the site whose 24 h are up is listed. At 390 px the page does not scroll
sideways and every control is visible and clickable. A screenshot per width is saved in
``$RECETTE_SCREENSHOTS`` (else the test's temporary folder)."""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.console.store import ConsoleStore, open_console
from tests.console_support import T0, Clock, serving
from tests.unit.test_console_search import LYON, PARIS, PASSWORD, upload

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

CONTROLS = ("q", "light-filter", "gate-filter", "eligible-now", "search-button", "export")


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore, Clock]]:
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    upload(store, alpha, "Boulangerie Martin", "11111111100014", "Lyon", "Alpha Telecom",
           {"trunk01": ["+33 1 23 45 67 89", "0123456790"], "trunk02": ["0478004242"]})
    upload(store, alpha, "Pharmacie du Centre", "33333333300008", "Paris", "Alpha Telecom",
           {"trunk01": ["0155004242"]})
    for site, at in ((LYON, T0), (PARIS, T0 + dt.timedelta(hours=20))):
        store.gate.record(site, passed=True, actor="console", evidence="run 1", at=at)
        store.refresh_site(site, at)
    clock = Clock(T0 + dt.timedelta(hours=25))  # Lyon's 24 h are up, not Paris's
    with serving(store, clock) as base:
        yield base, store, clock


def _wait_page(d: Any, old: Any) -> None:
    WebDriverWait(d, 20).until(lambda drv: drv.find_element(By.TAG_NAME, "html") != old)
    WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.ID, "sites")
                               or drv.find_elements(By.ID, "options"))


def _click(d: Any, element: Any) -> None:
    old = d.find_element(By.TAG_NAME, "html")
    element.click()
    _wait_page(d, old)


def _no_sideways_scroll(d: Any) -> None:
    wide, inner = d.execute_script("return [document.documentElement.scrollWidth, "
                                   "window.innerWidth]")
    assert wide <= inner + 1, (wide, inner)


def _usable(d: Any, ident: str) -> None:
    """Visible, inside the window's width, and the element a click there would reach."""
    el = d.find_element(By.ID, ident)
    assert el.is_displayed() and el.is_enabled(), ident
    inside, on_top = d.execute_script(
        "const e = arguments[0]; e.scrollIntoView({block: 'center'});"
        "const r = e.getBoundingClientRect();"
        "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "return [r.left >= 0 && r.right <= window.innerWidth + 1 && r.width > 0,"
        "        hit === e || e.contains(hit) || (hit && hit.control === e)"
        "        || (hit && hit.contains(e))];", el)
    assert inside, f"{ident} is outside the window"
    assert on_top, f"{ident} is covered"


@pytest.mark.parametrize("width", [1366, 390])
def test_search_a_number_then_activable_now(console: tuple[str, ConsoleStore, Clock],
                                            browser: Any, width: int, tmp_path: Path
                                            ) -> None:
    base, _, _ = console
    d = browser
    d.set_window_size(width, 900)
    d.get(base + "/login")
    d.find_element(By.ID, "username").send_keys("tech")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    _click(d, d.find_element(By.ID, "submit"))
    assert len(d.find_elements(By.CSS_SELECTOR, "#sites tr.site-row")) == 2
    if width < 600:
        _no_sideways_scroll(d)
        for ident in CONTROLS:
            _usable(d, ident)

    box = d.find_element(By.ID, "q")
    box.send_keys("01 23 45 67 89")
    _click(d, d.find_element(By.ID, "search-button"))
    rows = d.find_elements(By.CSS_SELECTOR, "#sites tr.site-row")
    assert len(rows) == 1
    assert "Trouvé par : numéro +33 1 23 45 67 89 (trunk01)" in rows[0].text
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(d.current_url).query)["q"] == [
        "01 23 45 67 89"]
    shots = Path(os.environ.get("RECETTE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(shots / f"search-number-{width}.png"))
    if width < 600:
        _no_sideways_scroll(d)
    _click(d, rows[0].find_element(By.CSS_SELECTOR, "a.site-link"))
    assert urllib.parse.unquote(urllib.parse.urlsplit(d.current_url).path) == f"/sites/{LYON}"
    assert "trunk01" in d.find_element(By.ID, "options").text

    d.get(base + "/")
    _usable(d, "eligible-now")
    d.find_element(By.ID, "eligible-now").click()
    _click(d, d.find_element(By.ID, "search-button"))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(d.current_url).query)
    assert query["now"] == ["1"]

    def listed() -> list[str]:
        return [r.find_element(By.CSS_SELECTOR, "a.site-link").text
                for r in d.find_elements(By.CSS_SELECTOR, "#sites tr.site-row")]

    assert listed() == ["Lyon"]
    old = d.find_element(By.TAG_NAME, "html")
    d.refresh()
    _wait_page(d, old)
    assert d.find_element(By.ID, "eligible-now").is_selected()
    assert listed() == ["Lyon"]
    if width < 600:
        _no_sideways_scroll(d)
    d.save_screenshot(str(shots / f"search-eligible-now-{width}.png"))
