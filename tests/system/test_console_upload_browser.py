"""The browser upload (``/upload``) in a real headless Chromium at a desk's width (1366 px)
and a phone's (390 px): an integrator follows the header's link, chooses a run folder's ZIP
in the file input, sends it and lands on the site's page with the run listed and the gate's
note in the flash; an archive whose name climbs out of the folder is refused on the form in
French. At 390 px the form does not scroll sideways and its controls are visible and
clickable. A screenshot per width goes to ``$RECETTE_SCREENSHOTS`` (or the test's folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.console.store import ConsoleStore, open_console
from tests import runzips
from tests.console_support import Clock, serving

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

from tests.system.test_console_browser import _flash, _login, _submit  # noqa: E402

PASSWORD = "correct horse battery"
SITE = f"{runzips.SIRET}/Lyon"


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore]]:
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    with serving(store, Clock()) as base:
        yield base, store


def _fits(d: Any) -> None:
    """No sideways scrolling; the form's controls on screen, and a click at each one's
    centre reaches it (the file input lies, transparent, over its French button: the
    browser's own widget would speak the browser's language)."""
    assert d.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1")
    for shown, reached in ((".pick-button", "#zip"), ("#submit", "#submit"),
                           ("#upload-link", "#upload-link")):
        el = d.find_element(By.CSS_SELECTOR, shown)
        target = d.find_element(By.CSS_SELECTOR, reached)
        assert el.is_displayed() and target.is_enabled(), shown
        box = d.execute_script("const r = arguments[0].getBoundingClientRect();"
                               "return [r.left, r.right, r.width, r.height];", el)
        assert box[0] >= 0 and box[1] <= d.execute_script("return window.innerWidth") + 1 \
            and box[2] > 0 and box[3] > 0, (shown, box)
        assert d.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            "return e === arguments[1] || arguments[1].contains(e);", el, target), shown


@pytest.mark.parametrize("width", [1366, 390])
def test_upload_a_run_folder_from_the_browser(console: tuple[str, ConsoleStore],
                                              browser: Any, tmp_path: Path,
                                              width: int) -> None:
    base, store = console
    shots = Path(os.environ.get("RECETTE_SCREENSHOTS") or tmp_path)
    d = browser
    d.set_window_size(width, 900)
    good = tmp_path / "recette-lyon.zip"
    good.write_bytes(runzips.zipped(runzips.folder(fw="fail"), top="out-2026-11-02",
                                    finder=True))
    bad = tmp_path / "bidouille.zip"
    bad.write_bytes(runzips.entries(("../results.json", runzips.results())))

    _login(d, base, "alpha")
    _submit(d, "upload-link", By.ID)
    assert d.find_element(By.TAG_NAME, "h1").text == "Envoyer une recette depuis le navigateur"
    _fits(d)
    assert d.find_element(By.ID, "zip-name").text == "Aucun fichier choisi"
    d.find_element(By.ID, "zip").send_keys(str(bad))
    _submit(d, "submit", By.ID)
    shown = WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.ID, "error"))[0]
    assert shown.text.startswith("Archive refusée : ../results.json : nom de fichier interdit")
    _fits(d)
    d.save_screenshot(str(shots / f"upload-refused-{width}.png"))
    assert store.runs(SITE) == []

    d.find_element(By.ID, "zip").send_keys(str(good))
    assert d.find_element(By.ID, "zip-name").text == "recette-lyon.zip"
    _submit(d, "submit", By.ID)
    assert d.current_url == f"{base}/sites/{SITE}"
    note = _flash(d, "ok")
    assert note.startswith("Recette reçue pour le site Lyon. Option internationale : échec")
    assert "Fichiers ignorés : router-cisco_ios.txt" in note
    runs = d.find_element(By.ID, "runs").text
    assert "alpha" in runs and "sheet.html" in runs and "capture.pcapng" in runs
    d.save_screenshot(str(shots / f"upload-taken-{width}.png"))
    assert len(store.runs(SITE)) == 1
