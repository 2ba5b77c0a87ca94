"""The confirmation step (harness/console/confirm.py, consequence.py and site.py's two
steps) on SQLite: a token is bound to its user, site, trunk and action, serves once, dies
after 5 minutes of the injected clock; the gate's rules are applied again at confirmation;
cancel changes nothing; the pages say the consequence in the page's language."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from harness.console.app import create_app
from harness.console.confirm import TTL, ConfirmRefused
from harness.console.store import ConsoleStore
from tests.console_support import T0, Clock
from tests.unit.test_console import PASSWORD, csrf, login, seeded


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    from harness.console.store import open_console

    st = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    st.add_user("tech", PASSWORD, "technical")
    st.add_user("tech2", PASSWORD, "technical")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    st.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    return st


def test_token_bound_once_and_expiring(store: ConsoleStore) -> None:
    c = store.confirmations
    tech, tech2 = store.user_by_name("tech"), store.user_by_name("tech2")
    assert tech and tech2
    act = {"site": "S/1", "trunk": "t1", "action": "activate"} | {"at": T0}
    token = c.issue(user_id=tech.id, detail={}, **act)  # type: ignore[arg-type]
    wrong: list[dict[str, object]] = [
        {"user_id": tech2.id}, {"site": "S/2"}, {"trunk": "t2"}, {"action": "revoke"}]
    for change in wrong:
        with pytest.raises(ConfirmRefused) as exc:
            c.take(token, **{"user_id": tech.id, **act, **change})  # type: ignore[arg-type]
        assert exc.value.why == "mismatch"
    with pytest.raises(ConfirmRefused) as exc:
        c.take("forged", user_id=tech.id, site="S/1", trunk="t1", action="activate", at=T0)
    assert exc.value.why == "unknown"
    # the mismatches did not spend it: its rightful use works, once
    done = c.take(token, user_id=tech.id, site="S/1", trunk="t1", action="activate",
                  at=T0 + TTL - dt.timedelta(seconds=1))
    assert (done.site, done.trunk, done.action) == ("S/1", "t1", "activate")
    with pytest.raises(ConfirmRefused) as exc:
        c.take(token, user_id=tech.id, site="S/1", trunk="t1", action="activate", at=T0)
    assert exc.value.why == "used"
    late = c.issue(user_id=tech.id, site="S/1", trunk="t1", action="revoke",
                   detail={"reason": "fraude", "destinations": ["+882"]}, at=T0)
    for why in ("expired", "used"):  # an expired token never comes back
        with pytest.raises(ConfirmRefused) as exc:
            c.take(late, user_id=tech.id, site="S/1", trunk="t1", action="revoke", at=T0 + TTL)
        assert exc.value.why == why
    kept = store.engine.connect().exec_driver_sql(
        "SELECT digest FROM console_confirmations").scalars().all()
    assert token not in kept and late not in kept and len(kept[0]) == 64  # digests only


def _confirm_form(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'name="(csrf_token|trunk|action|token)" value="([^"]+)"', page))
    assert {"csrf_token", "trunk", "action", "token"} <= set(fields), page[:800]
    return fields


def test_activate_cancel_then_confirm_revoke_and_refusals(store: ConsoleStore,
                                                         tmp_path: Path) -> None:
    clock = Clock()
    site, _ = seeded(store, clock)
    app = create_app(store, now=clock, secure_cookies=False, testing=True)
    client: FlaskClient = app.test_client()
    clock.at = T0 + dt.timedelta(hours=24, minutes=1)
    login(client, "tech")
    token = csrf(client, f"/sites/{site}")
    first = client.post(f"/sites/{site}/activate", data={"trunk": "trunk01",
                                                        "csrf_token": token})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert ("Les appels internationaux seront autorisés sur le trunk trunk01 du site Lyon "
            "dès maintenant") in page
    assert "Pare-feu vérifié par la recette n° 1 le 02/11/2026 10:30 (heure de Paris)" in page
    assert store.gate.status(site, "trunk01", at=clock.at).state == "eligible"  # asked only
    form = _confirm_form(page)
    gone = client.post(f"/sites/{site}/confirm", data={**form, "choice": "cancel"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Annulé : rien n&#39;a été modifié." in gone
    assert store.gate.status(site, "trunk01", at=clock.at).state == "eligible"
    again = client.post(f"/sites/{site}/confirm", data={**form, "choice": "confirm"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Confirmation déjà utilisée" in again  # the cancelled token is spent
    assert store.gate.status(site, "trunk01", at=clock.at).state == "eligible"

    # confirm; the same token a second time acts no more
    form = _confirm_form(client.post(f"/sites/{site}/activate", data={
        "trunk": "trunk01", "csrf_token": token}).get_data(as_text=True))
    done = client.post(f"/sites/{site}/confirm", data={**form, "choice": "confirm"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Option internationale activée" in done
    assert store.gate.status(site, "trunk01", at=clock.at).state == "active"

    # revocation: reason and destinations on the page, acted only at confirmation
    page = client.post(f"/sites/{site}/revoke?lang=en", data={
        "trunk": "trunk01", "csrf_token": token, "reason": "suspected fraud",
        "destinations": "+882 +225"}).get_data(as_text=True)
    assert ("International calls of trunk trunk01 will be refused from now on; a new "
            "firewall verification") in page
    assert "suspected fraud" in page and "+882 +225" in page
    assert "Les appels" not in page
    assert store.gate.status(site, "trunk01", at=clock.at).state == "active"
    form = _confirm_form(page)
    clock.at += TTL  # read for too long
    stale = client.post(f"/sites/{site}/confirm", data={**form, "choice": "confirm"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Confirmation expired" in stale
    assert store.gate.status(site, "trunk01", at=clock.at).state == "active"
    page = client.post(f"/sites/{site}/revoke?lang=fr", data={
        "trunk": "trunk01", "csrf_token": token, "reason": "fraude suspectée",
        "destinations": ""}).get_data(as_text=True)
    assert "Destinations signalées : aucune saisie" in page
    client.post(f"/sites/{site}/confirm", data={**_confirm_form(page), "choice": "confirm"})
    st = store.gate.status(site, "trunk01", at=clock.at)
    assert st.state == "revoked" and "fraude suspectée" in st.reason
    actions = [a.action for a in store.audit_log(site)]
    assert actions[:5] == ["revoke", "confirm_refused", "activate", "confirm_refused",
                           "confirm_cancelled"]


def test_the_gate_is_asked_again_at_confirmation(store: ConsoleStore) -> None:
    """Between the page and the click, a failing verification arrives: the confirmation is
    refused by the gate, as a direct activation would be."""
    clock = Clock()
    site, _ = seeded(store, clock)
    app = create_app(store, now=clock, secure_cookies=False, testing=True)
    client = app.test_client()
    clock.at = T0 + dt.timedelta(hours=25)
    login(client, "tech")
    form = _confirm_form(client.post(f"/sites/{site}/activate", data={
        "trunk": "trunk01", "csrf_token": csrf(client, f"/sites/{site}")}
    ).get_data(as_text=True))
    store.gate.record(site, passed=False, actor="console", evidence="run 2", at=clock.at)
    page = client.post(f"/sites/{site}/confirm", data={**form, "choice": "confirm"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Activation refusée (trunk01)" in page
    assert store.gate.status(site, "trunk01", at=clock.at).state == "blocked"
    assert store.audit_log(site)[0].action == "activate_refused"


def test_another_user_cannot_use_my_token_and_integrators_get_404(
        store: ConsoleStore) -> None:
    clock = Clock()
    site, _ = seeded(store, clock)
    app = create_app(store, now=clock, secure_cookies=False, testing=True)
    mine, theirs, alpha = app.test_client(), app.test_client(), app.test_client()
    clock.at = T0 + dt.timedelta(hours=25)
    login(mine, "tech")
    login(theirs, "tech2")
    login(alpha, "alpha")
    form = _confirm_form(mine.post(f"/sites/{site}/activate", data={
        "trunk": "trunk01", "csrf_token": csrf(mine, f"/sites/{site}")}
    ).get_data(as_text=True))
    stolen = {**form, "csrf_token": csrf(theirs, f"/sites/{site}"), "choice": "confirm"}
    page = theirs.post(f"/sites/{site}/confirm", data=stolen,
                       follow_redirects=True).get_data(as_text=True)
    assert "ne correspond pas à cette action" in page
    assert alpha.post(f"/sites/{site}/confirm", data={
        **form, "csrf_token": csrf(alpha, f"/sites/{site}"), "choice": "confirm"}
    ).status_code == 404
    assert store.gate.status(site, "trunk01", at=clock.at).state == "eligible"
    mine.post(f"/sites/{site}/confirm", data={**form, "choice": "confirm"})
    assert store.gate.status(site, "trunk01", at=clock.at).state == "active"
