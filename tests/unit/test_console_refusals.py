"""Every refusal the console writes, said in the page's language (harness/console/refusals.py,
wording._why): each code of an upload's refusal crafted as a real bad upload through the
intake, its English line unchanged (the API's and the CLI's) and its French free of English
words; the form and the audit page (and its CSV) in French; every gatekeeper outcome, with
each cause harness.attest and the gatekeeper can write, in French without English words."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from harness.attest import Signer, generate
from harness.console import refusals, wording
from harness.console.app import create_app
from harness.console.gatekeeper import ProbeKey, Verification, decide
from harness.console.intake import UploadForbidden, UploadRefused, read
from harness.console.labels import LABELS
from harness.console.store import ConsoleStore, open_console
from tests import runzips
from tests.console_support import PUBLIC, Clock, firewall_results, scan_doc, sweep_doc
from tests.unit.test_console_intake import NOW, PROFILE, _check, files, sample

TZ = ZoneInfo("Europe/Paris")
WORD = re.compile(r"[A-Za-zÀ-ÿ']+")


def _words(text: str) -> set[str]:
    return {w.lower().strip("'") for w in WORD.findall(text)} - {""}


def _english_words(prefixes: tuple[str, ...]) -> set[str]:
    """The words of the English texts under ``prefixes`` that no French label uses: one of
    them on a French page is English left over."""
    english = set().union(*(_words(en) for k, (_, en) in LABELS.items()
                            if k.startswith(prefixes)))
    french = set().union(*(_words(fr) for fr, _ in LABELS.values()))
    return english - french - {"ports"}


REFUSAL_ENGLISH = _english_words(("refusal_",))
GATE_ENGLISH = _english_words(("why_", "refused_", "note_", "declared_", "doc_", "phase_",
                               "vantage_")) | {"the", "sweep", "outsider", "probe", "not",
                                               "run", "attacker", "refused"}


def _english_left(text: str, shown: list[str], english: set[str]) -> set[str]:
    for s in sorted(shown, key=len, reverse=True):
        text = text.replace(s, " ")
    return _words(text) & english


def _prof(old: str, new: str) -> dict[str, bytes]:
    return files(prof=PROFILE.replace(old, new))


# One bad upload per refusal code, through the intake as an upload reaches it: (code, parts,
# the English line as the API answers it, the French as the form and the audit page say it).
CASES: list[tuple[str, dict[str, bytes], str, str]] = [
    ("missing", files(_check(id=None), prof=None), "results.json: checks[0].id: missing",
     "results.json : checks[0].id : champ manquant"),
    ("not_text", _prof("name: Lab rct13e8", "name: [a]"),
     "profile.yaml: site.name: expected a text, got list",
     "profile.yaml : site.name : un texte est attendu, pas une liste"),
    ("too_long", files(_check(fr="x" * 1200), prof=None),
     "results.json: checks[0].fr: 1200 characters, more than 200",
     "results.json : checks[0].fr : 1\u00a0200 caractères, plus que 200"),
    ("control", files(sample(customer="x\ny"), prof=None),
     "results.json: customer: 'x\\ny' holds control characters",
     "results.json : customer : 'x\\ny' contient des caractères de contrôle"),
    ("not_utf8", {"results.json": b"\xff\xfe"}, "results.json: not UTF-8",
     "results.json : pas en UTF-8"),
    ("too_deep", {"results.json": b"[" * 70 + b"]" * 70},
     "results.json: nested deeper than 64", "results.json : imbriqué sur plus de 64 niveaux"),
    ("not_json", {"results.json": b'{\n"a": 1,\n    }'},
     "results.json: not JSON (Expecting property name enclosed in double quotes: line 3 "
     "column 5 (char 14))", "results.json : pas du JSON (ligne 3, colonne 5)"),
    ("json_constant", {"results.json": b'{"a": NaN}'},
     "results.json: not JSON (NaN is not a number)",
     "results.json : pas du JSON (NaN n'est pas un nombre)"),
    ("not_results", {"results.json": b"[]"},
     "results.json: not a recette results document (not an object)",
     "results.json : pas un document de résultats recette (pas un objet JSON)"),
    ("schema", files(sample(schema_version=1), prof=None),
     "results.json: schema_version: expected 2, got 1",
     "results.json : schema_version : version 2 attendue, 1 reçue"),
    ("not_counts", files(sample(counts=[1]), prof=None),
     "results.json: counts: expected an object of numbers",
     "results.json : counts : un objet de nombres est attendu"),
    ("not_one_of", files(_check(status="great"), prof=None),
     "results.json: checks[0].status: 'great' is not one of pass, fail, error, skip",
     "results.json : checks[0].status : 'great' n'est pas l'une des valeurs pass, fail, "
     "error, skip"),
    ("not_count", files(sample(counts={"pass": "5"}), prof=None),
     "results.json: counts.pass: '5' is not a count",
     "results.json : counts.pass : '5' n'est pas un entier positif ou nul"),
    ("not_list", files(sample(checks="all"), prof=None), "results.json: checks: expected a list",
     "results.json : checks : une liste est attendue"),
    ("too_many_checks", files(sample(checks=[{}] * 1001), prof=None),
     "results.json: checks: 1001 checks, more than 1000",
     "results.json : checks : 1\u00a0001 contrôles, plus que 1\u00a0000"),
    ("too_many_rows", files(sample(incidents=[{}] * 10_001), prof=None),
     "results.json: incidents: 10001 rows, more than 10000",
     "results.json : incidents : 10\u00a0001 lignes, plus que 10\u00a0000"),
    ("not_object", files(sample(checks=[1]), prof=None),
     "results.json: checks[0]: expected an object",
     "results.json : checks[0] : un objet est attendu"),
    ("not_number", files(_check(figures={"quality": [{"mos": "good", "loss_pct": 0}]}),
                         prof=None),
     "results.json: checks[0].figures.quality[0].mos: 'good' is not a number",
     "results.json : checks[0].figures.quality[0].mos : 'good' n'est pas un nombre"),
    ("not_message", files(_check(reserves=[{"params": {}}]), prof=None),
     "results.json: checks[0].reserves[0]: not a message (code, params, text)",
     "results.json : checks[0].reserves[0] : pas un message (il faut code, params et text)"),
    ("msg_too_long", files(sample(incidents=[{"symptom": {"code": "X", "text": "t" * 5000}}]),
                           prof=None),
     "results.json: incidents[0].symptom: more than 4096 characters",
     "results.json : incidents[0].symptom : plus de 4\u00a0096 caractères"),
    ("yaml_aliases", files(prof="a: &a [x, x]\nb: [*a, *a]\n" + PROFILE),
     "profile.yaml: YAML aliases are not accepted",
     "profile.yaml : les alias YAML (ancres, références) ne sont pas acceptés"),
    ("not_yaml_at", files(prof="customer: [unclosed\n"),
     "profile.yaml: not YAML (line 2: expected ',' or ']', but got '<stream end>')",
     "profile.yaml : pas du YAML valide (ligne 2)"),
    ("not_yaml", files(prof="customer: \x07\n"), "profile.yaml: not YAML (unreadable)",
     "profile.yaml : pas du YAML valide"),
    ("not_profile", files(prof="- a list\n"),
     "profile.yaml: expected a mapping (a masked recette profile)",
     "profile.yaml : un dictionnaire YAML est attendu (un profil recette masqué)"),
    ("not_mapping", files(prof="customer: [1]\n"), "profile.yaml: customer: expected a mapping",
     "profile.yaml : customer : un dictionnaire YAML est attendu"),
    ("siret_digits", _prof("'732 829 320 00074'", "'7328293200007'"),
     "profile.yaml: customer.siret: '7328293200007' is not 14 digits",
     "profile.yaml : customer.siret : '7328293200007' ne compte pas 14 chiffres"),
    ("siret_luhn", _prof("'732 829 320 00074'", "'73282932000075'"),
     "profile.yaml: customer.siret: 73282932000075 fails the Luhn check",
     "profile.yaml : customer.siret : le SIRET 732 829 320 00075 ne passe pas la clé de Luhn"),
    ("siret_la_poste", _prof("'732 829 320 00074'", "'35600000000048'"),
     "profile.yaml: customer.siret: 35600000000048 fails La Poste's digit sum",
     "profile.yaml : customer.siret : le SIRET 356 000 000 00048 ne passe pas la somme des "
     "chiffres de La Poste"),
    ("not_date", files(sample(generated=20261125)),
     "results.json: generated: 20261125 is not a date",
     "results.json : generated : 20261125 n'est pas une date"),
    ("not_iso", files(sample(generated="yesterday")),
     "results.json: generated: 'yesterday' is not an ISO 8601 date",
     "results.json : generated : 'yesterday' n'est pas une date ISO 8601"),
    ("no_zone", files(sample(generated="2026-11-25T16:52:58")),
     "results.json: generated: '2026-11-25T16:52:58' has no time zone",
     "results.json : generated : '2026-11-25T16:52:58' n'indique pas de fuseau horaire"),
    ("future", files(sample(generated="2099-01-01T00:00:00+00:00")),
     "results.json: generated: 2099-01-01T00:00:00+00:00 is in the future (the console's "
     "clock: 2026-11-26T09:00:00Z)",
     "results.json : generated : 01/01/2099 01:00:00 (heure de Paris) est dans le futur "
     "(horloge de la console : 26/11/2026 10:00:00 (heure de Paris))"),
    ("too_many_trunks", files(prof=PROFILE + "".join(f"- name: t{i}\n" for i in range(70))),
     "profile.yaml: trunks: 72 trunks, more than 64",
     "profile.yaml : trunks : 72 trunks, plus que 64"),
    ("not_phone", _prof("- name: trunk02\n", "- name: trunk02\n  dids: ['01 23']\n"),
     "profile.yaml: trunks[1].dids[0]: '01 23' is not a phone number (E.164 +33123456789 or "
     "national 0123456789)",
     "profile.yaml : trunks[1].dids[0] : '01 23' n'est pas un numéro de téléphone (E.164 "
     "+33123456789 ou national 0123456789)"),
    ("too_many_numbers", _prof("- name: trunk02\n", "- name: trunk02\n  dids: ["
                               + ", ".join(f"'+3312{k:07d}'" for k in range(10_001)) + "]\n"),
     "profile.yaml: trunks[1].dids[10000]: more than 10000 numbers for one site",
     "profile.yaml : trunks[1].dids[10000] : plus de 10\u00a0000 numéros pour un site"),
    ("too_many_accounts", files(prof=PROFILE + "centrex:\n" + "".join(
        f"- name: a{i}\n" for i in range(1001))),
     "profile.yaml: centrex: 1001 accounts, more than 1000",
     "profile.yaml : centrex : 1\u00a0001 comptes Centrex, plus que 1\u00a0000"),
    ("not_trunk", files(prof=PROFILE + "- just a name\n"),
     "profile.yaml: trunks[2]: expected a mapping with a name",
     "profile.yaml : trunks[2] : un dictionnaire avec un nom (name) est attendu"),
    ("key_too_long", _prof("name: Lab rct13e8", "name: " + "L" * 190),
     "profile.yaml: site.name: the site's key is more than 200 characters",
     "profile.yaml : site.name : la clé du site dépasse 200 caractères"),
    ("too_big", files(prof=PROFILE + "#" * 256 * 1024),
     f"profile.yaml: {len(PROFILE) + 256 * 1024} bytes, more than 262144",
     f"profile.yaml : {refusals.grouped(len(PROFILE) + 256 * 1024, 'fr')} octets, plus "
     "que 262\u00a0144"),
    ("not_taken", files(more={"../etc/passwd": b""}),
     "'../etc/passwd': not a file the console takes (results.json, sheet.html, sheet.pdf, "
     "report.html, incidents.csv, capture.pcapng, capture-operator.pcapng, junit.xml, "
     "profile.yaml)",
     "'../etc/passwd' : pas un fichier que la console accepte (results.json, sheet.html, "
     "sheet.pdf, report.html, incidents.csv, capture.pcapng, capture-operator.pcapng, "
     "junit.xml, profile.yaml)"),
    ("absent", {"sheet.html": b""}, "results.json: missing from the upload",
     "results.json : absent de l'envoi"),
]
# Raised outside the intake (files.py's multipart reader, the store's grant check); their
# paths are driven below through the API and in test_console_uploadform.py.
OUTSIDE = {"sent_twice", "not_granted"}


def test_every_code_has_a_case() -> None:
    codes = {k.removeprefix("refusal_") for k in LABELS if k.startswith("refusal_")}
    assert codes == {c for c, *_ in CASES} | OUTSIDE


@pytest.mark.parametrize(("code", "parts", "english", "french"), CASES,
                         ids=[c for c, *_ in CASES])
def test_each_refusal_in_english_and_in_french(code: str, parts: dict[str, bytes],
                                               english: str, french: str) -> None:
    with pytest.raises(UploadRefused) as err:
        read(parts, now=NOW)
    exc = err.value
    assert (exc.code, str(exc)) == (code, english)  # the API's line, as before
    why = json.loads(json.dumps(exc.why()))          # as the audit line keeps it
    assert refusals.say(why, "en", TZ) == english
    said = refusals.say(why, "fr", TZ)
    assert said == french
    shown = [why["part"], why["where"], *(str(v) for v in why["params"].values())]
    assert not _english_left(said, shown, REFUSAL_ENGLISH), said


def test_an_unknown_code_or_an_old_entry_keeps_its_english() -> None:
    assert refusals.say({"code": "from_a_newer_console"}, "fr", TZ, "x: y") == "x: y"
    assert wording.detail("upload_refused", {"reason": "results.json: not UTF-8"}, "fr",
                          TZ) == [("motif", "results.json: not UTF-8")]


def test_outside_codes_keep_their_english() -> None:
    assert str(UploadRefused("results.json", "", "sent_twice")) == "results.json: sent twice"
    forbidden = UploadForbidden("", "", "not_granted", site="S/L", user="beta")
    assert str(forbidden) == "site S/L is not granted to beta"
    assert refusals.say(forbidden.why(), "fr") == "le site S/L n'est pas attribué à beta"


# -- the form, the API, the audit page and its CSV

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> ConsoleStore:
    st = open_console(f"sqlite:///{tmp_path / 'gate.db'}")
    st.add_user("alpha", PASSWORD, "integrator", "Alpha Telecom")
    st.add_user("root", PASSWORD + " admin X1", "administrator")
    return st


@pytest.fixture
def client(store: ConsoleStore) -> Iterator[FlaskClient]:
    with create_app(store, now=Clock(), secure_cookies=False, testing=True
                    ).test_client() as c:
        yield c


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    assert found
    return found.group(1)


def _login(client: FlaskClient, user: str, password: str = PASSWORD) -> None:
    client.post("/login", data={"username": user, "password": password,
                                "csrf_token": _csrf(client, "/login")})


def _error(page: str) -> str:
    found = re.search(r'class="flash error"[^>]*>(.*?)</', page, re.S)
    assert found, page
    import html
    return html.unescape(found.group(1)).strip()


def test_the_form_says_the_refusal_in_french(client: FlaskClient) -> None:
    _login(client, "alpha")
    prof = runzips.folder()
    prof["profile.yaml"] = prof["profile.yaml"].replace(runzips.SIRET.encode(),
                                                        b"73282932000075")
    resp = client.post("/upload", content_type="multipart/form-data", data={
        "csrf_token": _csrf(client, "/upload"),
        "zip": (BytesIO(runzips.zipped(prof)), "recette.zip")})
    assert resp.status_code == 400
    said = _error(resp.get_data(True))
    assert said == ("Recette refusée : un fichier ne passe pas les contrôles de la console. "
                    "Détail : profile.yaml : customer.siret : le SIRET 732 829 320 00075 ne "
                    "passe pas la clé de Luhn")
    assert not _english_left(said, ["profile.yaml", "customer.siret"], REFUSAL_ENGLISH)


def test_the_audit_page_and_csv_say_a_refused_upload_in_french(client: FlaskClient,
                                                               store: ConsoleStore) -> None:
    alpha = store.user_by_name("alpha")
    assert alpha
    token = store.create_token(alpha.id, "laptop", created_by="root")
    parts = {**{k: v for k, v in runzips.folder().items() if k != "router-cisco_ios.txt"},
             "results.json": json.dumps(
        {**json.loads(runzips.results()), "checks": [{}] * 1001}).encode()}
    data: list[tuple[str, tuple[BytesIO, str]]] = [
        (k, (BytesIO(v), k)) for k, v in parts.items()]
    resp = client.post("/api/runs", headers={"Authorization": f"Bearer {token}"},
                       content_type="multipart/form-data", data=dict(data))
    assert resp.status_code == 400  # the API's line stays English
    assert resp.get_json()["error"] == "results.json: checks: 1001 checks, more than 1000"
    twice = client.post("/api/runs", headers={"Authorization": f"Bearer {token}"},
                        content_type="multipart/form-data",
                        data={"a": (BytesIO(b"{}"), "sheet.html"),
                              "b": (BytesIO(b"{}"), "sheet.html")})
    assert twice.get_json()["error"] == "sheet.html: sent twice"
    store.audit("alpha", "upload_refused", at=dt.datetime.now(dt.UTC),
                detail={"reason": "results.json: an old line without a code"})
    _login(client, "root", PASSWORD + " admin X1")
    page = client.get("/audit").get_data(True)
    import html
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert ("motif : results.json : checks : 1\u00a0001 contrôles, plus que 1\u00a0000"
            in text)
    assert "motif : sheet.html : envoyé deux fois" in text
    assert "results.json: an old line without a code" in text  # an old entry, as stored
    assert "more than 1000" not in text and "sent twice" not in text
    csv = client.get("/audit.csv").get_data(True)
    assert "checks : 1\u00a0001 contrôles, plus que 1\u00a0000" in csv
    english = client.get("/audit.csv?lang=en").get_data(True)
    assert "reason: results.json: checks: 1001 checks, more than 1000" in english


# -- the gatekeeper's outcomes

SITE = "73282932000074/Lyon"
RECEIVED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
PROBE = Signer.from_text(generate()[0])
KEYS = {PROBE.key_id: ProbeKey(PROBE.key_id, "probe 0", PROBE.public)}


def _run(status: str = "pass", *, exposure: str = "pass", scan: dict[str, Any] | None = None,
         at: dt.datetime = RECEIVED - dt.timedelta(minutes=3), site: str = SITE,
         public: str | None = PUBLIC, signer: Signer = PROBE, **kw: Any) -> dict[str, Any]:
    sweeps: list[dict[str, object]] = [
        {"phase": p, "attestation": signer.sign(sweep_doc(site, at, **kw))}
        for p in ("cold", "warm")]
    scans: list[dict[str, object]] | None = None if exposure == "none" else [
        {"phase": p, "attestation": signer.sign(scan_doc(site, at, **(scan or {})))}
        for p in ("cold", "warm")]
    return dict(json.loads(firewall_results(status, sweeps, generated=RECEIVED,
                                            public=public, scans=scans, exposure=exposure)))


def _sweeps(results: dict[str, Any]) -> list[dict[str, Any]]:
    return list(results["checks"][0]["figures"]["sweeps"])


def _with(change: Any, **kw: Any) -> dict[str, Any]:
    results = _run(**kw)
    for s in _sweeps(results):
        change(s)
    return results


def _resign(doc_change: Any) -> Any:
    def change(s: dict[str, Any]) -> None:
        doc = json.loads(s["attestation"]["doc"])
        doc_change(doc)
        s["attestation"] = PROBE.sign({k: v for k, v in doc.items() if k != "probe"})
    return change


def _set(key: str, value: Any) -> Any:
    def change(s: dict[str, Any]) -> None:
        s["attestation"][key] = value
    return change


def _forged(s: dict[str, Any]) -> None:
    s["attestation"]["doc"] = s["attestation"]["doc"].replace(PUBLIC, "192.0.2.99")


def _raw_doc(text: str) -> Any:
    """An attestation whose signed text is ``text`` (signed as is, by the registered key)."""
    def change(s: dict[str, Any]) -> None:
        sig = PROBE._private.sign(text.encode())
        s["attestation"] = {"doc": text, "sig": base64.b64encode(sig).decode(),
                            "key": PROBE.key_id}
    return change


def _used() -> tuple[dict[str, Any], set[str]]:
    results = _run()
    return results, set(decide(results, site=SITE, received=RECEIVED, keys=KEYS,
                               used=set()).digests)


OUTCOMES: dict[str, Any] = {
    "backed": lambda: _run(),
    "failure": lambda: _run("fail"),
    "nothing-proven": lambda: _run("error"),
    "no-firewall": lambda: {"checks": []},
    "exposure-failed": lambda: _run(exposure="fail"),
    "no-exposure-check": lambda: _run(exposure="none"),
    "exposure-error": lambda: _run(exposure="error"),
    "scan-found-open": lambda: _run(scan={"found_open": ["5060/tcp sip"]}),
    "scan-too-narrow": lambda: _run(scan={"ports": ["5060/udp"]}),
    "misaimed": lambda: _run(target="198.51.100.77"),
    "no-public": lambda: _run(public=None),
    "not-covered": lambda: _run(ports=[[5060, 5060], [10000, 15000]]),
    "stale": lambda: _run(at=RECEIVED - dt.timedelta(hours=25)),
    "ahead": lambda: _run(at=RECEIVED + dt.timedelta(minutes=6)),
    "elsewhere": lambda: _run(site="73282932000074/Brest"),
    "unknown-key": lambda: _run(signer=Signer.from_text(generate()[0])),
    "forged": lambda: _with(_forged),
    "unsigned": lambda: _with(lambda s: s.update(attestation=None)),
    "not-an-object": lambda: _with(lambda s: s.update(attestation={"doc": 1})),
    "too-long": lambda: _with(_set("sig", "A" * 5000)),
    "sig-not-base64": lambda: _with(_set("sig", "***")),
    "sig-length": lambda: _with(_set("sig", "AAAA")),
    "doc-not-json": lambda: _with(_raw_doc("not json")),
    "doc-not-object": lambda: _with(_raw_doc("[1]")),
    "doc-other-probe": lambda: _with(_raw_doc('{"probe": "someone"}')),
    "doc-version": lambda: _with(_raw_doc(json.dumps({"probe": PROBE.key_id, "v": 9}))),
    "wrong-kind": lambda: _with(_resign(lambda d: d.update(kind="scan"))),
    "time-not-iso": lambda: _with(_resign(lambda d: d.update(at="noon"))),
    "time-no-zone": lambda: _with(_resign(lambda d: d.update(at="2026-11-02T09:00:00"))),
    "too-few-datagrams": lambda: _with(_resign(lambda d: d.update(sent=3))),
    "server-vantage": lambda: _with(lambda s: s.update(vantage="server",
                                                       attestation=None)),
}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_each_gatekeeper_outcome_reads_in_french(outcome: str) -> None:
    results = OUTCOMES[outcome]()
    v = decide(results, site=SITE, received=RECEIVED, keys=KEYS, used=set())
    _no_english(v)


def test_an_attestation_used_twice_reads_in_french() -> None:
    results, used = _used()
    v = decide(results, site=SITE, received=RECEIVED, keys=KEYS, used=used)
    assert v.refused and all("already used" in r for r in v.refused)
    _no_english(v)


def _no_english(v: Verification) -> None:
    gate = v.summary()
    lines = [wording.note(gate, "fr", TZ),
             *(wording.refused(r, "fr", TZ) for r in v.refused),
             *(wording.declared(d, "fr", TZ) for d in v.declared)]
    assert lines[0], gate
    shown = ["security.exposure", "security.sip_from_outside", "firewall.openings",
             PROBE.key_id, "probe 0"]
    for line, english in zip(lines, [gate["note"], *v.refused, *v.declared], strict=True):
        assert "refusé (" not in line, (line, english)  # no fallback: every cause known
        left = _english_left(line, shown, GATE_ENGLISH)
        assert not left, (line, english, left)


def test_the_english_detector_sees_english() -> None:
    """The check above is not vacuous: the English lines themselves are caught."""
    assert _english_left("results.json: checks: expected a list", ["results.json", "checks"],
                         REFUSAL_ENGLISH) == {"list"}
    assert "address" in _english_left("sent to 192.0.2.1, not to the site's public address",
                                   [], GATE_ENGLISH)
