"""One run of every check on a lab that fails most of them (SIP ALG on, firewall open), read
twice: no secret of the profile reaches any output, and the French acceptance sheet speaks
only French (no English reason, reserve, finding or symptom reaches the page the customer
signs), while the same results rendered in English do carry those texts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.lab import Lab
from harness.messages import Msg
from harness.results import RunResults
from reports.sheet import render
from tests.lab.labrun import run


@dataclass
class FailingRun:
    lab: Lab
    out: Path
    doc: RunResults
    stdout: str
    stderr: str
    returncode: int


@pytest.fixture(scope="module")
def failing_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailingRun]:
    tmp = tmp_path_factory.mktemp("failing")
    lab.set_policy(alg=True, firewall="open")
    if not lab.kamailio_running():
        lab.start_kamailio()
    prof = tmp / "lab.yaml"
    lab.write_profile(prof)
    out = tmp / "out"
    proc, doc = run(prof, out, "--nat-idle-max", "5", call_seconds=2)
    yield FailingRun(lab, out, doc, proc.stdout, proc.stderr, proc.returncode)


@pytest.mark.lab
def test_no_lab_secret_in_any_output(failing_run: FailingRun) -> None:
    secrets = failing_run.lab.profile.secrets()
    assert len(secrets) >= 5  # 3 SIP accounts, the router, the probes
    assert failing_run.returncode == 1
    assert failing_run.doc.counts["fail"] >= 3  # ALG, firewall, router audit at least
    files = [f for f in failing_run.out.rglob("*") if f.is_file()]
    assert {f.name for f in files} >= {"report.html", "results.json", "junit.xml",
                                       "incidents.csv", "sheet.html"}
    for f in files:
        data = f.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"{s[:3]}… leaked into {f.name}"
    for stream in (failing_run.stdout, failing_run.stderr):
        assert not any(s in stream for s in secrets)


def _messages(doc: RunResults) -> list[Msg]:
    """Every user-facing message of the run, wherever the model carries one."""
    out: list[Msg] = []
    for c in doc.checks:
        out += c.reasons + c.reserves + c.figures.unevaluated
        out += [p for q in c.figures.quality for p in q.problems]
        out += [f.message for f in c.figures.findings or []]
        out += [a.note for a in c.figures.alg if a.note is not None]
    out += [i.symptom for i in doc.incidents]
    return out


def _text(html: str) -> str:
    """What a reader sees: tags dropped, entities for quotes and brackets undone."""
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (("&#x27;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return " ".join(text.split())


@pytest.mark.lab
def test_the_french_sheet_of_a_failing_run_says_no_reason_in_english(
        failing_run: FailingRun) -> None:
    doc = failing_run.doc
    said = _messages(doc)
    assert {m.code for c in doc.checks for m in c.reasons} >= {"ALG_REWRITES"}
    english = {" ".join(m.render("en").split()) for m in said}
    french = {" ".join(m.render("fr").split()) for m in said}
    assert len(english) >= 5
    sheet_fr = _text((failing_run.out / "sheet.html").read_text(encoding="utf-8"))
    leaked = sorted(e for e in english - french if e in sheet_fr)
    assert leaked == []
    assert all(f in sheet_fr for f in french - english), "a French reason is missing"
    # The same results in English carry the English texts: the test can see a leak.
    sheet_en = _text(render(doc, failing_run.lab.profile, lang="en"))
    assert all(e in sheet_en for e in english - french)
