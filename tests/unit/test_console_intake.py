"""The console's intake (harness/console/intake.py) on uploads shaped like real ones: the
sample results.json of a lab run and a masked profile as ``recette run`` writes it. Each
refusal is one line naming the part and the field; what is taken is typed and bounded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from harness.console import app, intake
from harness.console.intake import UploadRefused, read
from harness.gate.record import site_key
from harness.messages import Msg
from harness.profile import load_profile

DATA = Path(__file__).parents[1] / "data"
SAMPLE = json.loads((DATA / "results-sample.json").read_text())
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # the sample ran the day before
PROFILE = ("customer:\n  name: Laboratoire recette\n  siret: '732 829 320 00074'\n"
           "  integrator: Alpha Telecom\nsite:\n  name: Lab rct13e8\n  address: 1 rue\n"
           "trunks:\n- name: trunk01\n  password: \"<redacted>\"\n- name: trunk02\n")


def files(doc: dict[str, Any] | None = None, prof: str | None = PROFILE,
          more: dict[str, bytes] | None = None) -> dict[str, bytes]:
    out = {"results.json": json.dumps(doc if doc is not None else SAMPLE).encode(),
           **(more or {})}
    if prof is not None:
        out["profile.yaml"] = prof.encode()
    return out


def refusal(parts: dict[str, bytes]) -> str:
    with pytest.raises(UploadRefused) as err:
        read(parts, now=NOW)
    said = str(err.value)
    assert "\n" not in said and len(said) < 300, said
    return said


def sample(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(SAMPLE))
    doc.update(changes)
    return doc


def test_a_real_upload_is_taken() -> None:
    up = read(files(more={"sheet.html": b"<html/>", "junit.xml": b"<x/>"}), now=NOW)
    assert up.site == "73282932000074/Lab rct13e8"
    assert (up.customer, up.site_name, up.integrator) == ("Laboratoire recette",
                                                          "Lab rct13e8", "Alpha Telecom")
    assert up.trunks == ["trunk01", "trunk02"]
    assert up.generated == dt.datetime(2026, 11, 25, 16, 52, 58, tzinfo=dt.UTC)
    assert up.generated_text == "2026-11-25T16:52:58+00:00"
    assert sorted(up.files) == ["junit.xml", "results.json", "sheet.html"]  # no profile
    assert up.results["counts"] == SAMPLE["counts"]
    assert len(up.run_id) == 64


def test_the_agent_and_the_console_name_the_site_alike(tmp_path: Path) -> None:
    """The profile loader, the gate's site_key and the intake normalise one SIRET alike."""
    prof = load_profile(DATA / "profiles" / "good" / "inline_secrets.yaml")
    text = (f"customer:\n  name: {prof.customer.name}\n  siret: '732.829.320-00074'\n"
            f"  integrator: x\nsite:\n  name: {prof.site.name}\n")
    assert read(files(prof=text), now=NOW).site == site_key(prof)


def test_without_profile_results_name_the_site() -> None:
    up = read(files(prof=None), now=NOW)
    assert up.site == "Laboratoire recette/Lab rct13e8" and up.trunks == []


def test_generated_is_normalised_to_utc() -> None:
    up = read(files(sample(generated="2026-11-25T18:52:58+02:00")), now=NOW)
    assert up.generated_text == "2026-11-25T16:52:58+00:00"


@pytest.mark.parametrize(("generated", "said"), [
    ("2099-01-01T00:00:00+00:00", "results.json: generated: 2099-01-01T00:00:00+00:00 is in "
     "the future (the console's clock: 2026-11-26T09:00:00Z)"),
    ("2026-11-25T16:52:58", "results.json: generated: '2026-11-25T16:52:58' has no time zone"),
    ("yesterday", "results.json: generated: 'yesterday' is not an ISO 8601 date"),
    (20261125, "results.json: generated: 20261125 is not a date"),
])
def test_run_times(generated: Any, said: str) -> None:
    assert refusal(files(sample(generated=generated))) == said


def test_a_little_ahead_and_long_ago_are_taken() -> None:
    for when in (NOW + dt.timedelta(minutes=4), NOW - dt.timedelta(days=200)):
        assert read(files(sample(generated=when.isoformat())), now=NOW).generated == when


def test_yaml_aliases_refused() -> None:
    bomb = "a: &a [x, x]\nb: [*a, *a]\n" + PROFILE
    assert refusal(files(prof=bomb)) == "profile.yaml: YAML aliases are not accepted"
    anchored = PROFILE.replace("trunks:\n", "trunks: &t\n")
    assert refusal(files(prof=anchored)) == "profile.yaml: YAML aliases are not accepted"


@pytest.mark.parametrize(("prof", "said"), [
    ("[" * 100 + "]" * 100, "profile.yaml: nested deeper than 64"),
    ("customer: [unclosed\n", "profile.yaml: not YAML"),
    ("- a list\n", "profile.yaml: expected a mapping"),
    ("customer: !!python/object:os.system {}\n", "profile.yaml: not YAML"),
    (PROFILE.replace("'732 829 320 00074'", "'73282932000075'"),
     "profile.yaml: customer.siret: 73282932000075 fails the Luhn check"),
    (PROFILE.replace("'732 829 320 00074'", "'35600000000048'"),
     "profile.yaml: customer.siret: 35600000000048 fails La Poste's digit sum"),
    (PROFILE.replace("'732 829 320 00074'", "'7328293200007'"),
     "profile.yaml: customer.siret: '7328293200007' is not 14 digits"),
    (PROFILE.replace("Laboratoire recette", "L" * 201),
     "profile.yaml: customer.name: 201 characters, more than 200"),
    (PROFILE.replace("Laboratoire recette", '"Labo\\u0007"'),
     "profile.yaml: customer.name: 'Labo\\x07' holds control characters"),
    (PROFILE.replace("name: Lab rct13e8", "name: [a]"),
     "profile.yaml: site.name: expected a text, got list"),
    (PROFILE + "".join(f"- name: t{i}\n" for i in range(70)),
     "profile.yaml: trunks: 72 trunks, more than 64"),
    (PROFILE + "- just a name\n", "profile.yaml: trunks[2]: expected a mapping with a name"),
])
def test_profile_refusals(prof: str, said: str) -> None:
    assert refusal(files(prof=prof)).startswith(said)


def test_la_poste_siret_taken() -> None:
    prof = PROFILE.replace("'732 829 320 00074'", "'35600000000047'")
    assert read(files(prof=prof), now=NOW).site.startswith("35600000000047/")


def test_unquoted_siret_taken() -> None:
    prof = PROFILE.replace("'732 829 320 00074'", "73282932000074")
    assert read(files(prof=prof), now=NOW).site.startswith("73282932000074/")


def _check(**changes: Any) -> dict[str, Any]:
    doc = sample()
    doc["checks"][0].update(changes)
    return doc


@pytest.mark.parametrize(("doc", "said"), [
    (sample(schema_version=1), "results.json: schema_version: expected 2, got 1"),
    (sample(counts={"pass": "5"}), "results.json: counts.pass: '5' is not a count"),
    (sample(counts={"won": 1}), "results.json: counts: 'won' is not one of pass, fail"),
    (sample(counts=[1]), "results.json: counts: expected an object of numbers"),
    (sample(checks="all"), "results.json: checks: expected a list"),
    (sample(checks=[1]), "results.json: checks[0]: expected an object"),
    (_check(status="great"), "results.json: checks[0].status: 'great' is not one of"),
    (_check(id=None), "results.json: checks[0].id: missing"),
    (_check(fr="x" * 300), "results.json: checks[0].fr: 300 characters, more than 200"),
    (_check(reserves=[{"params": {}}]),
     "results.json: checks[0].reserves[0]: not a message (code, params, text)"),
    (_check(reasons=[{"code": "X", "params": {"a": {"b": 1}}}]),
     "results.json: checks[0].reasons[0]: not a message"),
    (_check(figures={"quality": [{"mos": "good", "loss_pct": 0}]}),
     "results.json: checks[0].figures.quality[0].mos: 'good' is not a number"),
    (sample(incidents=[{"date": "d", "time": "t", "calling": "1", "called": "2",
                        "symptom": "no audio"}]),
     "results.json: incidents[0].symptom: not a message"),
    (sample(incidents=[{"date": "d", "time": "t", "calling": "1\r\n2", "called": "2",
                        "symptom": {"code": "X", "text": "t"}}]),
     "results.json: incidents[0].calling: '1\\r\\n2' holds control characters"),
    (sample(incidents=[{"date": "d", "time": "t", "calling": "1", "called": "2",
                        "symptom": {"code": "X", "text": "t" * 5000}}]),
     "results.json: incidents[0].symptom: more than 4096 characters"),
    (sample(customer="x\ny"), "results.json: customer: 'x\\ny' holds control characters"),
])
def test_results_refusals(doc: dict[str, Any], said: str) -> None:
    assert refusal(files(doc, prof=None)).startswith(said)


@pytest.mark.parametrize(("raw", "said"), [
    (b"\xff\xfe", "results.json: not UTF-8"),
    (b"{\"a\": ", "results.json: not JSON"),
    (b"{\"a\": NaN}", "results.json: not JSON (NaN is not a number)"),
    (b"[" * 50_000 + b"]" * 50_000, "results.json: nested deeper than 64"),
    (b"[" * 70 + b"]" * 70, "results.json: nested deeper than 64"),
    (b"[]", "results.json: not a recette results document"),
])
def test_unreadable_results(raw: bytes, said: str) -> None:
    assert refusal({"results.json": raw}).startswith(said)


def test_known_code_without_params_is_taken() -> None:
    """Decided: taken; the renderer falls back to the stored English text."""
    symptom = {"code": "INTERNAL_ERROR", "params": {}, "text": "no audio"}
    doc = sample(incidents=[{"date": "d", "time": "t", "calling": "1", "called": "2",
                             "symptom": symptom}])
    read(files(doc), now=NOW)
    assert Msg.model_validate(symptom).render("fr") == "no audio"


def test_file_names_and_sizes() -> None:
    assert refusal(files(more={"../etc/passwd": b""})).startswith(
        "'../etc/passwd': not a file the console takes (results.json, sheet.html")
    assert refusal({"sheet.html": b""}) == "results.json: missing from the upload"
    big = files(prof=PROFILE + "#" * 256 * 1024)
    assert refusal(big).startswith("profile.yaml: 262") and "more than 262144" in refusal(big)


def test_limits_agree_with_the_app() -> None:
    assert intake.MAX_UPLOAD == app.MAX_UPLOAD
    assert set(intake.LIMITS) == {*intake.RUN_FILES, intake.PROFILE}


def test_profile_loader_normalises_dashes_too() -> None:
    from harness.profile import Customer

    assert Customer(name="x", siret="732-829-320-00074", integrator="y").siret == SIRET_DIGITS
    with pytest.raises(ValueError, match="valid check digit"):
        Customer(name="x", siret="732-829-320-00075", integrator="y")


SIRET_DIGITS = "73282932000074"
