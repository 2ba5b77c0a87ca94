"""The notifications page in a real headless Chromium at 1366 and 390 px: a technical user
sets an e-mail address and a webhook on the preferences page, sees the webhook's secret once
(not on the next visit, not in the audit log), then the console's clock passes the 24 h of a
verified pass, a sweep runs, and the mail arrives at a real SMTP server (aiosmtpd) and the
signed POST at a real receiver that checks it with that secret. At 390 px the page does not
scroll sideways and its controls are visible and clickable. A screenshot per width goes to
``$RECETTE_SCREENSHOTS`` (or the test's folder)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.console import notify
from harness.console.mailer import Mailer
from tests.console_support import T0, Clock, serving
from tests.notify_support import LOOPBACK, LYON, PASSWORD, receiver, smtp_server, two_sites

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait


def _no_sideways_scroll(d: Any) -> None:
    assert d.execute_script("return document.documentElement.scrollWidth <= "
                            "window.innerWidth + 1")


def _usable(d: Any, element_id: str) -> Any:
    el = d.find_element(By.ID, element_id)
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    assert el.is_displayed() and el.is_enabled(), element_id
    return el


def _submit(d: Any, element_id: str) -> None:
    old = d.find_element(By.TAG_NAME, "html")
    _usable(d, element_id).click()
    WebDriverWait(d, 20).until(lambda drv: drv.find_element(By.TAG_NAME, "html") != old)


@pytest.mark.parametrize("width", [1366, 390])
def test_preferences_then_mail_and_webhook(width: int, browser: Any, tmp_path: Path) -> None:
    store = two_sites(f"sqlite:///{tmp_path / 'gate.db'}")
    clock = Clock(T0 + dt.timedelta(hours=1))
    shots = Path(os.environ.get("RECETTE_SCREENSHOTS") or tmp_path)
    d = browser
    d.set_window_size(width, 900)
    with serving(store, clock) as base, receiver("", clock) as (hook, got), \
            smtp_server() as (port, inbox):
        d.get(base + "/login")
        d.find_element(By.ID, "username").send_keys("tech")
        d.find_element(By.ID, "password").send_keys(PASSWORD)
        d.find_element(By.ID, "submit").click()
        WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.ID, "sites"))
        _submit(d, "prefs-link")
        assert d.find_element(By.TAG_NAME, "h2").text == "Notifications"
        _usable(d, "email").send_keys("technicien@operateur.example")
        _usable(d, "email-eligible").click()
        _usable(d, "webhook_url").send_keys(hook)
        _usable(d, "webhook-eligible").click()
        _no_sideways_scroll(d)
        _submit(d, "prefs-save")
        secret = d.find_element(By.ID, "new-secret").text
        assert secret.startswith("whsec_")
        assert "affiché une seule fois" in d.find_element(By.ID, "secret-once").text
        _no_sideways_scroll(d)
        _usable(d, "secret-new")
        d.save_screenshot(str(shots / f"notify-preferences-{width}.png"))
        got.secret = secret

        d.get(base + "/preferences")  # the next visit no longer shows it
        assert secret not in d.page_source
        assert "Secret de signature : en place" in d.find_element(By.ID, "secret-state").text
        assert d.find_element(By.ID, "email").get_attribute("value") == \
            "technicien@operateur.example"
        assert d.find_element(By.ID, "webhook-eligible").is_selected()
        assert not d.find_element(By.ID, "webhook-red").is_selected()
        _no_sideways_scroll(d)
        assert secret not in json.dumps([e.detail for e in store.audit_log()])

        notify.sweep(store, clock())
        clock.at = T0 + dt.timedelta(hours=24, minutes=1)
        notify.sweep(store, clock())
        notify.deliver(store, clock(), mailer=Mailer("127.0.0.1", port, "recette@op.example"),
                       base_url=base, webhook_allow=LOOPBACK)
        d.save_screenshot(str(shots / f"notify-after-{width}.png"))

    lyon = [m for rcpt, m in inbox.mails if "Lyon" in m["Subject"]]
    assert [r for r, _ in inbox.mails] == [["technicien@operateur.example"]] * 2
    assert "option internationale activable" in lyon[0]["Subject"]
    assert f"{base}/sites/11111111100014/Lyon" in lyon[0].get_content()
    assert secret not in lyon[0].as_string()
    assert got.refused == 0
    assert sorted((p["event"], p["site"]) for p in got.good) == [
        ("eligible", LYON), ("eligible", "22222222200028/Nantes")]
