"""The sites page's search and filters (harness/console/numbers.py, search.py, the store's
page() and the sites page) on SQLite: numbers in every human form found through the index,
what matched said on the row, the latest run's terms only, an edited profile refused in one
line, the option-state filters following an injected clock (waiting, then activable at
+24 h, then expired at +30 days), and an integrator never finding another's site."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from harness.console import numbers, search
from harness.console.app import create_app
from harness.console.store import ConsoleStore, UploadRefused, User, open_console
from tests.console_support import T0, Clock

PASSWORD = "correct horse battery"
LYON = "11111111100014/Lyon"
NANTES = "22222222200028/Nantes"
PARIS = "33333333300008/Paris"


@pytest.mark.parametrize(("written", "digits"), [
    ("0123456789", "33123456789"),
    ("01 23 45 67 89", "33123456789"),
    ("01.23.45.67.89", "33123456789"),
    ("01-23-45-67-89", "33123456789"),
    ("+33123456789", "33123456789"),
    ("+33 1 23 45 67 89", "33123456789"),
    ("+44 20 7946 0958", "442079460958"),
    ("0033123456789", None),        # a profile writes + (the agent refuses 00)
    ("123456789", None),
    ("01234", None),
    ("+33 1 23 45 67 89 01 23 4", None),  # more than 15 digits
    ("01 23 45 67 8x", None),
    ("", None),
])
def test_canonical(written: str, digits: str | None) -> None:
    assert numbers.canonical(written) == digits


@pytest.mark.parametrize(("typed", "prefix", "suffix", "exact"), [
    ("01 23 45 67 89", "33123456789", None, True),
    ("+33 1 23 45 67 89", "33123456789", None, False),
    ("0033123456789", "33123456789", None, False),
    ("0033 1 23", "33123", None, False),
    ("123456789", "123456789", "987654321", False),
    ("0123 45", "3312345", None, False),
    ("(01) 23.45", "3312345", None, False),
    ("6789", "6789", "9876", False),
    ("012", None, None, False),         # too short to search as a number
    ("+33", None, None, False),
    ("client 0042", None, None, False),
    ("01 23 45 67 89 0", None, None, False),  # a national number has 10 digits
    ("١٢٣٤٥", None, None, False),       # digits, but not ASCII ones
])
def test_query(typed: str, prefix: str | None, suffix: str | None, exact: bool) -> None:
    got = numbers.query(typed)
    if prefix is None:
        assert got is None
    else:
        assert got == numbers.NumberQuery(prefix, suffix, exact)


@pytest.mark.parametrize(("digits", "shown"), [
    ("33123456789", "+33 1 23 45 67 89"), ("442079460958", "+442079460958")])
def test_shown(digits: str, shown: str) -> None:
    assert numbers.shown(digits) == shown


@pytest.mark.parametrize(("prefix", "top"), [("3312", "3313"), ("3399", "34"),
                                             ("9", None), ("0", "1")])
def test_upper(prefix: str, top: str | None) -> None:
    assert numbers.upper(prefix) == top


def results(customer: str, site: str, generated: str = "2026-11-02T09:00:00+00:00",
            fw: str = "pass") -> bytes:
    return json.dumps({
        "schema_version": 2, "generated": generated, "customer": customer, "site": site,
        "counts": {"pass": int(fw == "pass"), "fail": int(fw == "fail"), "error": 0,
                   "skip": 0},
        "checks": [{"id": "firewall.openings", "fr": "Pare-feu", "en": "Firewall",
                    "status": fw, "reserves": []}], "incidents": []}).encode()


def profile(customer: str, siret: str, site: str, integrator: str,
            trunks: dict[str, list[str]], centrex: dict[str, str] | None = None) -> bytes:
    text = (f"customer:\n  name: {customer}\n  siret: '{siret}'\n"
            f"  integrator: {integrator}\nsite:\n  name: {site}\ntrunks:\n")
    for name, dids in trunks.items():
        text += f"- name: {name}\n  password: '<redacted>'\n  dids: {json.dumps(dids)}\n"
    if centrex:
        text += "centrex:\n" + "".join(f"- name: {n}\n  user: {n}\n  password: '<redacted>'"
                                       f"\n  did: '{d}'\n" for n, d in centrex.items())
    return text.encode()


def upload(store: ConsoleStore, who: User, customer: str, siret: str, site: str,
           integrator: str, trunks: dict[str, list[str]], *,
           centrex: dict[str, str] | None = None,
           generated: str = "2026-11-02T09:00:00+00:00") -> None:
    store.add_run({"results.json": results(customer, site, generated),
                   "profile.yaml": profile(customer, siret, site, integrator, trunks,
                                           centrex)}, uploader=who, at=T0)


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    return seeded(open_console(f"sqlite:///{tmp_path / 'gate.db'}"))


def seeded(st: ConsoleStore) -> ConsoleStore:
    """Three sites of two integrators, their numbers in every form a profile writes."""
    st.add_user("tech", PASSWORD, "technical")
    alpha = st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    beta = st.add_user("beta", PASSWORD, "integrator", "Beta Réseaux")
    upload(st, alpha, "Boulangerie Martin", "11111111100014", "Lyon", "Alpha Telecom",
           {"trunk01": ["01 23 45 67 89", "+33 1 23 45 67 90"], "trunk02": ["0478004242"]},
           centrex={"accueil": "04.78.99.00.11"})
    upload(st, beta, "Garage Dupont", "22222222200028", "Nantes", "Beta Réseaux",
           {"sip-nantes": ["+33240004242", "+44 20 7946 0958"]})
    upload(st, alpha, "Pharmacie", "33333333300008", "Paris", "Alpha Telecom",
           {"trunk01": ["0155004242"]})
    return st


def found(store: ConsoleStore, q: str, user: User | None = None, **kw: object
          ) -> list[str]:
    rows, total = store.page(user, q=q, at=T0, **kw)  # type: ignore[arg-type]
    assert total == len(rows)
    return [r.site for r in rows]


@pytest.mark.parametrize(("typed", "sites"), [
    ("01 23 45 67 89", [LYON]),
    ("+33 1 23 45 67 89", [LYON]),
    ("0033123456789", [LYON]),
    ("123456789", [LYON]),               # the last nine digits
    ("0123 45", [LYON]),                 # the first digits, national
    ("+33 1 23 45 67", [LYON]),
    ("04 78 99 00 11", [LYON]),          # a Centrex account's number
    ("+44 20 7946 0958", [NANTES]),
    ("00 44 20", [NANTES]),
    ("4242", [LYON, NANTES, PARIS]),  # a suffix several sites end with (by site name)
    ("01 99 99 99 99", []),
    ("111 111 111 00014", [LYON]),       # the SIRET as written on a Kbis
    ("sip-nantes", [NANTES]),            # a trunk's name
    ("boulangerie", [LYON]),             # the customer, as before
    ("paris", [PARIS]),
    ("100%", []),                        # LIKE's wildcards are the user's text
])
def test_search_any_form(store: ConsoleStore, typed: str, sites: list[str]) -> None:
    assert found(store, typed) == sites


def test_row_says_what_matched(store: ConsoleStore, tmp_path: Path) -> None:
    rows, _ = store.page(None, q="01 23 45 67 89", at=T0)
    assert [(t.kind, t.shown, t.owner) for t in rows[0].matched] == [
        ("did", "+33 1 23 45 67 89", "trunk01")]
    app = create_app(store, key_file=tmp_path / "key", now=Clock(), secure_cookies=False)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": "tech", "password": PASSWORD})
    page = client.get("/?q=01+23+45+67+89").get_data(as_text=True)
    assert "Trouvé par : numéro +33 1 23 45 67 89 (trunk01)" in page
    assert "Nantes" not in page
    page = client.get("/?q=sip-nantes").get_data(as_text=True)
    assert "Trouvé par : trunk sip-nantes" in page


def test_number_search_uses_the_index(store: ConsoleStore) -> None:
    """A suffix is a range on the reversed digits, a prefix on the digits: SQLite's plan
    searches the index, never scans the table."""
    for typed, index in (("123456789", "ix_console_site_terms_rev"),
                         ("0123 45", "ix_console_site_terms_value")):
        nq = numbers.query(typed)
        assert nq is not None
        cond = search.term_condition(typed)
        assert cond is not None
        query = sa.select(search.TERMS.c.site).where(cond)
        sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as conn:
            plan = " | ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql))
        assert re.search(f"SEARCH console_site_terms USING (COVERING )?INDEX {index} ",
                         plan), plan
        assert "SCAN console_site_terms" not in plan, plan


def test_integrator_finds_only_its_sites(store: ConsoleStore) -> None:
    alpha, beta = store.user_by_name("alpha"), store.user_by_name("beta")
    assert alpha is not None and beta is not None
    assert found(store, "4242", alpha) == [LYON, PARIS]
    assert found(store, "+44 20 7946 0958", alpha) == []
    assert found(store, "+44 20 7946 0958", beta) == [NANTES]
    assert found(store, "01 23 45 67 89", beta) == []


def test_the_latest_run_replaces_the_terms(store: ConsoleStore) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha is not None
    upload(store, alpha, "Pharmacie", "33333333300008", "Paris", "Alpha Telecom",
           {"trunk09": ["0155000002"]}, generated="2026-11-02T09:10:00+00:00")
    assert found(store, "01 55 00 42 42") == []
    assert found(store, "01 55 00 00 02") == [PARIS]
    # an older run uploaded late is kept, but the site's terms stay the latest run's
    upload(store, alpha, "Pharmacie", "33333333300008", "Paris", "Alpha Telecom",
           {"trunk01": ["0155000003"]}, generated="2026-11-01T09:00:00+00:00")
    assert found(store, "01 55 00 00 03") == []
    assert found(store, "trunk09") == [PARIS]


@pytest.mark.parametrize(("trunks", "error"), [
    ({"t": ["0123456789", "01 23"]},
     "profile.yaml: trunks[0].dids[1]: '01 23' is not a phone number (E.164 "
     "+33123456789 or national 0123456789)"),
    ({"t": ["0" * 41]}, "profile.yaml: trunks[0].dids[0]: 41 characters, more than 40"),
])
def test_a_bad_number_is_refused_in_one_line(store: ConsoleStore,
                                             trunks: dict[str, list[str]],
                                             error: str) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha is not None
    with pytest.raises(UploadRefused) as exc:
        upload(store, alpha, "Fleuriste", "44444444400004", "Lille", "Alpha Telecom",
               trunks)
    assert str(exc.value) == error
    assert found(store, "fleuriste") == []
    assert not store.site_exists("44444444400004/Lille")


def test_too_many_numbers_are_refused(store: ConsoleStore, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    from harness.console import intake

    monkeypatch.setattr(intake, "MAX_NUMBERS", 3)
    alpha = store.user_by_name("alpha")
    assert alpha is not None
    with pytest.raises(UploadRefused, match=r"^profile.yaml: trunks\[1\].dids\[0\]: more "
                                            r"than 3 numbers for one site$"):
        upload(store, alpha, "Fleuriste", "44444444400004", "Lille", "Alpha Telecom",
               {"a": ["0100000001", "0100000002", "0100000003"], "b": ["0100000004"]})


def test_gate_filters_follow_the_clock(store: ConsoleStore) -> None:
    """Lyon verified at T0: waiting for 24 h, then activable, then expired after 30 days;
    Paris activated (active); Nantes without a verification; a failing verification after
    the pass blocks."""
    for site in (LYON, PARIS):
        store.gate.record(site, passed=True, actor="console", evidence="run", at=T0)
        store.refresh_site(site, T0)
    store.gate.activate(PARIS, "trunk01", actor="tech", at=T0 + dt.timedelta(days=2))
    store.refresh_site(PARIS, T0 + dt.timedelta(days=2))

    def state(gate: str, at: dt.datetime) -> list[str]:
        return [r.site for r in store.page(None, gate=gate, at=at)[0]]

    def now(at: dt.datetime) -> list[str]:
        return [r.site for r in store.page(None, eligible_now=True, at=at)[0]]

    hour = dt.timedelta(hours=1)
    assert state("waiting", T0 + hour) == [LYON]
    assert now(T0 + hour) == []
    assert now(T0 + 24 * hour) == [LYON]
    assert state("eligible", T0 + 24 * hour) == [LYON]
    assert state("waiting", T0 + 24 * hour) == []
    assert now(T0 + dt.timedelta(days=30) - hour) == [LYON]
    assert now(T0 + dt.timedelta(days=30)) == []
    assert state("expired", T0 + dt.timedelta(days=30)) == [LYON]
    assert state("active", T0 + dt.timedelta(days=40)) == [PARIS]
    assert state("no-verification", T0) == [NANTES]
    # filters combine with the search: activable and found by number
    assert [r.site for r in store.page(None, q="4242", eligible_now=True,
                                       at=T0 + 24 * hour)[0]] == [LYON]
    store.gate.record(LYON, passed=False, actor="console", evidence="run",
                      at=T0 + 25 * hour)
    store.refresh_site(LYON, T0 + 25 * hour)
    assert now(T0 + 26 * hour) == []
    assert state("blocked", T0 + 26 * hour) == [LYON]


@pytest.fixture
def tech(store: ConsoleStore, tmp_path: Path) -> Iterator[tuple[FlaskClient, Clock]]:
    clock = Clock(T0 + dt.timedelta(hours=25))
    app = create_app(store, key_file=tmp_path / "key", now=clock, secure_cookies=False)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_client() as client:
        client.post("/login", data={"username": "tech", "password": PASSWORD})
        yield client, clock


def test_csv_and_links_keep_the_filters(store: ConsoleStore,
                                        tech: tuple[FlaskClient, Clock]) -> None:
    client, _ = tech
    store.gate.record(LYON, passed=True, actor="console", evidence="run", at=T0)
    store.refresh_site(LYON, T0)
    page = client.get("/?q=4242&now=1&sort=customer").get_data(as_text=True)
    assert "Boulangerie Martin" in page and "Pharmacie" not in page
    assert 'id="eligible-now" checked' in page
    assert "/sites.csv?q=4242&amp;now=1&amp;sort=customer&amp;dir=asc" in page
    csv = client.get("/sites.csv?q=4242&now=1").get_data(as_text=True)
    assert LYON in csv and PARIS not in csv and NANTES not in csv
    csv = client.get("/sites.csv?gate=no-verification").get_data(as_text=True)
    assert NANTES in csv and PARIS in csv and LYON not in csv
    # an unknown filter is no filter, never an error
    assert client.get("/?gate=nonsense&now=yes").status_code == 200


def test_migration_0006_backfills_the_sites_already_uploaded(tmp_path: Path) -> None:
    """A database at 0005 with an uploaded site: after the upgrade its SIRET, trunk and
    gate state are searchable (its numbers come with its next upload)."""
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'gate.db'}"
    st = seeded(open_console(url))
    st.gate.record(LYON, passed=True, actor="console", evidence="run", at=T0)
    st.refresh_site(LYON, T0)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(search.__file__).parents[1] / "gate"
                                               / "migrations"))
    with st.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    st.engine.dispose()
    st = open_console(url)  # upgrades to head: 0006 again, with its backfill
    assert found(st, "111 111 111 00014") == [LYON]
    assert found(st, "sip-nantes") == [NANTES]
    assert found(st, "01 23 45 67 89") == []
    assert [r.site for r in st.page(None, eligible_now=True,
                                    at=T0 + dt.timedelta(hours=25))[0]] == [LYON]
