"""Acceptance of issue 22: one chain of trust from the site to the international option.

Runs reach the gate only through ``POST /api/runs`` with an integrator's token (the real
client, ``recette upload``'s), the console records each verification with its own (injected)
clock and the uploader's identity, and a pass starts the 24 h wait only with the outsider
probe's valid signatures: a forged, stale or foreign attestation starts nothing. The
technical service's activation is then refused at 23 h 59 and allowed at 24 h in Chromium;
and the sites page's light follows the gate through a later failure, a revocation and an
expiry."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from harness.attest import Signer, generate
from harness.console.app import create_app
from harness.console.store import ConsoleStore, open_console
from harness.console.upload import upload
from tests.console_support import (
    T0,
    Client,
    Clock,
    firewall_results,
    scan_doc,
    serving,
    sweep_doc,
)

PASSWORD = "Correct-horse-battery-42"
SITE = "73282932000074/Lyon"
PROFILE = (b"customer:\n  name: Boulangerie\n  siret: '73282932000074'\n  integrator: Alpha "
           b"Telecom\nsite:\n  name: Lyon\ntrunks:\n- name: trunk01\n")


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[str, ConsoleStore, Clock, str, Signer]]:
    """A console with a technical user, an integrator's token and one registered probe."""
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    token = store.create_token(alpha.id, "laptop", created_by="admin")
    probe = Signer.from_text(generate()[0])
    store.add_probe_key("outsider", probe.public, by="admin")
    clock = Clock()
    with serving(store, clock) as base:
        yield base, store, clock, token, probe


def _send(tmp: Path, base: str, token: str, results: bytes, name: str) -> dict[str, Any]:
    """A run folder sent as ``recette upload`` sends it."""
    folder = tmp / name
    folder.mkdir()
    (folder / "results.json").write_bytes(results)
    (folder / "profile.yaml").write_bytes(PROFILE)
    return upload(folder, base, token=token)


def _signed(probe: Signer, at: dt.datetime, **kw: Any) -> list[dict[str, object]]:
    return [{"phase": p, "attestation": probe.sign(sweep_doc(SITE, at, **kw))}
            for p in ("cold", "warm")]


def _scans(probe: Signer, at: dt.datetime) -> list[dict[str, object]]:
    """The exposure scans a pass needs beside its sweeps: nothing open, signed."""
    return [{"phase": p, "attestation": probe.sign(scan_doc(SITE, at))}
            for p in ("cold", "warm")]


def test_forged_stale_or_foreign_attestations_start_no_clock(
        chain: tuple[str, ConsoleStore, Clock, str, Signer], tmp_path: Path) -> None:
    base, store, _, token, probe = chain
    run_at = T0 - dt.timedelta(minutes=5)
    forged = _signed(probe, run_at)
    att = forged[0]["attestation"]
    assert isinstance(att, dict)
    att["doc"] = att["doc"].replace('"ports":[[5060,5061]', '"ports":[[5060,5060]')
    stranger = Signer.from_text(generate()[0])
    cases = {"forged": forged,
             "stale": _signed(probe, T0 - dt.timedelta(hours=25)),
             "foreign": _signed(stranger, run_at),
             "misaimed": _signed(probe, run_at, target="198.51.100.99"),
             "unsigned": [{"phase": "cold"}, {"phase": "warm"}]}
    for i, (name, sweeps) in enumerate(cases.items()):
        results = firewall_results("pass", sweeps, generated=run_at + dt.timedelta(seconds=i))
        answer = _send(tmp_path, base, token, results, name)
        assert answer["new"] and "starts nothing" in answer["gate"], (name, answer)
        run = store.run(answer["id"])
        assert run is not None and run.gate["kind"] == "verification_unattested", name
    assert [e.kind for e in store.gate.history(SITE)] == ["verification_unattested"] * 5
    assert [e.actor for e in store.gate.history(SITE)] == ["alpha"] * 5
    audited = [a for a in store.audit_log(SITE) if a.action == "verification_unattested"]
    assert len(audited) == 5 and audited[-1].detail["refused"]  # on the audit page too
    later = T0 + dt.timedelta(days=2)
    assert store.gate.status(SITE, "trunk01", at=later).state == "no-verification"
    # The same results.json again is the same run: nothing more is recorded.
    again = _send(tmp_path, base, token, firewall_results(
        "pass", cases["unsigned"], generated=run_at + dt.timedelta(seconds=4)), "again")
    assert not again["new"] and len(store.gate.history(SITE)) == 5


def _sites_row(client: Client) -> str:
    reply = client.get("/")
    assert reply.status == 200
    body = reply.text
    found = re.search(r'<tr class="site-row[^"]*">.*?</tr>', body, re.S)
    assert found, body[:500]
    return found.group(0)


def test_a_signed_pass_waits_24_hours_then_light_and_gate_turn_together(
        chain: tuple[str, ConsoleStore, Clock, str, Signer], tmp_path: Path,
        browser: Any) -> None:
    from selenium.webdriver.common.by import By

    from tests.system.test_console_browser import _flash, _login, _submit

    base, store, clock, token, probe = chain
    sweeps = _signed(probe, T0 - dt.timedelta(minutes=4))
    scans = _scans(probe, T0 - dt.timedelta(minutes=4))
    answer = _send(tmp_path, base, token, firewall_results(
        "pass", sweeps, generated=T0 - dt.timedelta(minutes=3), scans=scans), "signed")
    assert "the 24 h wait starts now" in answer["gate"]
    # The same signatures in another run (a copied results.json, its time changed) back
    # nothing: one attestation, one run.
    copied = _send(tmp_path, base, token, firewall_results(
        "pass", sweeps, generated=T0 - dt.timedelta(minutes=2), scans=scans), "copied")
    run = store.run(copied["id"])
    assert run is not None and run.gate["refused"] == [
        "cold sweep from the outsider: already used by another run",
        "warm sweep from the outsider: already used by another run",
        "cold exposure scan: already used by another run",
        "warm exposure scan: already used by another run"]
    event, _ = store.gate.history(SITE)
    assert (event.kind, event.at, event.actor) == ("verification_pass", T0, "alpha")
    assert [a["phase"] for a in event.detail["attested"]] == ["cold", "warm"]

    d = browser
    clock.at = T0 + dt.timedelta(hours=23, minutes=59)
    _login(d, base, "tech", PASSWORD)  # (a session idles out in 30 min: log in at 23:59)
    _submit(d, "Lyon", By.LINK_TEXT)
    assert "en attente" in d.find_element(By.ID, "options").text
    assert ("Attesté par la sonde : balayage à froid de la sonde extérieure"
            in d.find_element(By.ID, "trail").text)
    assert "Déclaré par l'agent" in d.find_element(By.ID, "trail").text
    _submit(d, "button.activate")
    assert "Activation refusée" in _flash(d, "error")
    assert "reste 0 h 01" in d.find_element(By.ID, "options").text
    clock.at = T0 + dt.timedelta(hours=24)
    _submit(d, "button.activate")
    _submit(d, "confirm", By.ID)
    assert "activée" in _flash(d, "ok")
    assert store.gate.status(SITE, "trunk01", at=clock.at).state == "active"

    # The light and the gate turn together: a later failing run blocks both.
    client = Client(base)
    assert client.login("tech", PASSWORD).status == 302
    assert 'light green' in _sites_row(client)

    def later(days: int, status: str, name: str) -> str:
        """A run uploaded ``days`` after T0 (signed when it passes), then the sites page's
        row, logged in again (each jump of the clock idles the session out)."""
        clock.at = T0 + dt.timedelta(days=days)
        signed_at = clock.at - dt.timedelta(minutes=4)
        sweeps = _signed(probe, signed_at) if status == "pass" else []
        _send(tmp_path, base, token, firewall_results(
            status, sweeps, generated=clock.at - dt.timedelta(minutes=3),
            scans=_scans(probe, signed_at) if status == "pass" else None), name)
        assert client.login("tech", PASSWORD).status == 302
        return _sites_row(client)

    row = later(2, "fail", "failed")
    assert "light red" in row and "bloquée" in row
    # A new signed pass: green and waiting again; then a revocation: red and revoked.
    row = later(3, "pass", "fixed")
    assert "light green" in row and "en attente" in row
    revoked = client.confirmed(f"/sites/{SITE}/revoke", {"trunk": "trunk01",
                                                         "reason": "fraude suspectée"},
                               token_from=f"/sites/{SITE}")
    assert revoked.status == 302
    row = _sites_row(client)
    assert "light red" in row and "révoquée" in row
    # A verification never followed by an activation expires: grey and expired together.
    assert "light green" in later(4, "pass", "again-fixed")
    clock.at = T0 + dt.timedelta(days=35)
    assert client.login("tech", PASSWORD).status == 302
    row = _sites_row(client)
    assert "light grey" in row and "vérification périmée" in row
    assert "Lyon" in client.get("/?light=grey").text


def test_a_server_started_with_recette_now_keeps_its_own_clock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack of a server started with ``RECETTE_NOW`` a day ahead: a signed pass
    uploaded now and activated at once. The console's clock is the machine's (no clock is
    injected here, as `recette console serve` injects none): the pass waits 24 h."""
    monkeypatch.setenv("RECETTE_NOW", (dt.datetime.now(dt.UTC)
                                       + dt.timedelta(days=2)).isoformat())
    store = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    store.add_user("tech", PASSWORD, "technical")
    alpha = store.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    token = store.create_token(alpha.id, "laptop", created_by="admin")
    probe = Signer.from_text(generate()[0])
    store.add_probe_key("outsider", probe.public, by="admin")
    server = make_server("127.0.0.1", 0, create_app(store, key_file=tmp_path / "key",
                                                    secure_cookies=False), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        now = dt.datetime.now(dt.UTC)
        answer = _send(tmp_path, base, token, firewall_results(
            "pass", _signed(probe, now - dt.timedelta(seconds=30)), generated=now,
            scans=_scans(probe, now - dt.timedelta(seconds=30))), "run")
        assert "the 24 h wait starts now" in answer["gate"], answer
        (event,) = store.gate.history(SITE)
        assert abs((event.at - now).total_seconds()) < 60  # the machine's time, not +2 days
        tech = Client(base)
        assert tech.login("tech", PASSWORD).status == 302
        tech.post(f"/sites/{SITE}/activate", {"trunk": "trunk01"}, token_from=f"/sites/{SITE}")
        assert store.gate.status(SITE, "trunk01").state == "waiting"
        assert store.audit_log(SITE)[0].action == "activate_refused"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
