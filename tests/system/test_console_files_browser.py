"""Archive then delete a run in a real headless Chromium, at a desk's width (1366 px) and a
phone's (390 px): the technical service opens the site page, archives the run through its
confirmation page (the run leaves the list, its files stay), shows the archived runs,
deletes it through a confirmation that says the files go for good while the gate's trail
stays, and sees the tombstone. At 390 px no page scrolls sideways and every control used
is on screen and clickable. A screenshot per width goes to $RECETTE_SCREENSHOTS (or the
test's folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.console.blobs import FileBlobs
from harness.console.store import ConsoleStore, open_console
from tests.console_support import T0, Clock, serving
from tests.system.test_console_browser import PASSWORD, _flash, _login, _profile, _results

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

CAPTURE = b"\x0a\x0d\x0d\x0a" + b"\x00" * 150_000


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore, Path]]:
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store._blobs = FileBlobs(tmp_path / "files")
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    run, _ = store.add_run({"results.json": _results("Boulangerie", "Lyon", "pass"),
                            "profile.yaml": _profile("Boulangerie", "11111111100014", "Lyon",
                                                     "Alpha Telecom"),
                            "sheet.html": b"<html><body>Feuille Lyon</body></html>",
                            "capture.pcapng": CAPTURE}, uploader=alpha, at=T0)
    store.gate.record(run.site, passed=True, actor="console", evidence=f"run {run.id}",
                      at=T0)
    store.refresh_site(run.site, T0)
    with serving(store, Clock()) as base:
        yield base, store, tmp_path / "files"


def _fits(d: Any) -> None:
    """The page does not scroll sideways."""
    width = d.execute_script("return document.documentElement.scrollWidth")
    inner = d.execute_script("return window.innerWidth")
    assert width <= inner + 1, f"{d.current_url}: {width} px wide in {inner} px"


def _click(d: Any, by: str, what: str) -> None:
    """Scroll the control into view, check it is shown and clickable, click it, and wait
    for the next page."""
    el = d.find_element(by, what)
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    assert el.is_displayed()
    WebDriverWait(d, 10).until(ec.element_to_be_clickable(el))
    old = d.find_element(By.TAG_NAME, "html")
    el.click()
    WebDriverWait(d, 20).until(ec.staleness_of(old))


@pytest.mark.parametrize("width", [1366, 390])
def test_archive_then_delete_a_run(console: tuple[str, ConsoleStore, Path], browser: Any,
                                   width: int, tmp_path: Path) -> None:
    base, store, folder = console
    d = browser
    d.set_window_size(width, 900)
    shots = Path(os.environ.get("RECETTE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    _login(d, base, "tech")
    d.get(base + "/sites/11111111100014/Lyon")
    assert len(d.find_elements(By.CSS_SELECTOR, "#runs tr.run")) == 1
    if width < 500:
        _fits(d)

    _click(d, By.CSS_SELECTOR, "a.archive-run")
    consequence = d.find_element(By.ID, "consequence").text
    assert "disparaît de la liste des recettes" in consequence
    assert "sont conservés" in consequence
    if width < 500:
        _fits(d)
    _click(d, By.ID, "confirm-button")
    assert _flash(d, "ok") == "Recette archivée."
    assert d.find_elements(By.CSS_SELECTOR, "#runs tr.run") == []
    assert len(list(folder.rglob("*/*/*"))) == 3  # archived: the files stay

    _click(d, By.ID, "toggle-archived")
    assert "(archivé)" in d.find_element(By.CSS_SELECTOR, "#runs tr.run.archived").text
    _click(d, By.CSS_SELECTOR, "a.delete-run")
    consequence = d.find_element(By.ID, "consequence").text
    assert "seront effacés définitivement" in consequence
    assert "reste citée dans le journal de la porte internationale" in consequence
    assert "irréversible" in consequence
    if width < 500:
        _fits(d)
    d.save_screenshot(str(shots / f"files-confirm-delete-{width}.png"))
    _click(d, By.ID, "confirm-button")
    assert _flash(d, "ok").startswith("Recette supprimée : 3 fichiers effacés")
    d.get(base + "/sites/11111111100014/Lyon?archived=1")
    row = d.find_element(By.CSS_SELECTOR, "#runs tr.run.deleted")
    assert "Recette supprimée le 02/11/2026 10:30 (heure de Paris) par tech" in row.text
    assert "sheet.html (supprimé le 02/11/2026" in row.text
    assert not row.find_elements(By.CSS_SELECTOR, "a.delete-run")
    assert list(folder.rglob("*/*/*")) == []
    if width < 500:
        _fits(d)
    d.execute_script("document.getElementById('runs').scrollIntoView()")
    d.save_screenshot(str(shots / f"files-site-after-delete-{width}.png"))
    assert (store.gate.history("11111111100014/Lyon")[-1].evidence or "").startswith("run ")
