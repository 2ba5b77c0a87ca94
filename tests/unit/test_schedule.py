"""harness.schedule: checks run at once where their claims allow, reported as pytest would.

Runs pytest itself (pytester, in a subprocess) on a check module written here: the checks
prove concurrency with a barrier (they can only pass together), exclusivity with a counter of
checks inside, and every outcome kind (pass, fail, error, skip, setup error) is compared with
a ``--recette-serial`` run of the same module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
ENV = {"RECETTE_TRUNK_MAIN_PASSWORD": "s3cret-trunk", "RECETTE_CENTREX101_PASSWORD": "s3cret-c",
       "RECETTE_ROUTER_PASSWORD": "s3cret-r", "RECETTE_PROBE_KEY": "k" * 32}

CHECKS = '''
import threading, time
import pytest
from harness.claims import Claims
from harness.errors import CheckError, fail, not_applicable
from harness.messages import msg

TOGETHER = threading.Barrier(3, timeout=30)
INSIDE = {"n": 0, "max_with_exclusive": 0}
LOCK = threading.Lock()

def _enter():
    with LOCK:
        INSIDE["n"] += 1

def _leave():
    with LOCK:
        INSIDE["n"] -= 1

def shared(_p, _c):
    return Claims(site="shared", expect_s=1.0)

def line(_p, _c):
    return Claims(site="shared", lines={"centrex101": 1})

def exclusive(_p, _c):
    return Claims(site="exclusive", after=("t.b",))

@pytest.mark.check(order=1, id="t.a", fr="a", en="a", claims=shared)
def check_a(profile, evidence):
    _enter()
    try:
        TOGETHER.wait()  # only passes if b and c run at the same time
        evidence.fact("who", "a")
    finally:
        _leave()

@pytest.mark.check(order=2, id="t.b", fr="b", en="b", claims=shared)
def check_b(profile, evidence):
    _enter()
    try:
        TOGETHER.wait()
        fail(msg("ASSERTION_FAILED", detail="b fails on purpose"))
    finally:
        _leave()

@pytest.mark.check(order=3, id="t.c", fr="c", en="c", claims=lambda _p, _c: Claims())
def check_c(profile, evidence):
    TOGETHER.wait()
    raise CheckError(msg("ASSERTION_FAILED", detail="c cannot run"))

@pytest.mark.check(order=4, id="t.x", fr="x", en="x", claims=exclusive)
def check_x(profile, evidence):
    _enter()
    try:
        time.sleep(0.3)  # long enough for an overlap to be seen if the scheduler allowed one
        with LOCK:
            assert INSIDE["n"] == 1, f"{INSIDE['n'] - 1} other checks inside"
    finally:
        _leave()

@pytest.mark.check(order=5, id="t.l1", fr="l", en="l", claims=line)
def check_l1(profile, evidence):
    _enter()
    try:
        time.sleep(0.2)
        assert INSIDE["n"] == 1, "a Centrex line had two checks at once"
    finally:
        _leave()

@pytest.mark.check(order=6, id="t.l2", fr="l", en="l", claims=line)
def check_l2(profile, evidence):
    _enter()
    try:
        time.sleep(0.2)
        assert INSIDE["n"] == 1, "a Centrex line had two checks at once"
    finally:
        _leave()

@pytest.mark.check(order=7, id="t.skip", fr="s", en="s", claims=shared)
def check_skip(profile, evidence):
    not_applicable(msg("NO_TEST_NUMBER"))

@pytest.fixture
def broken():
    raise CheckError(msg("ASSERTION_FAILED", detail="fixture failed"))

@pytest.mark.check(order=8, id="t.setup", fr="e", en="e", claims=shared)
def check_setup_error(profile, evidence, broken):
    pass

@pytest.mark.check(order=9, id="t.plain", fr="p", en="p")
def check_plain(profile, evidence):
    assert 1 + 1 == 3, "plain assert"
'''


def _run(pytester: pytest.Pytester, *extra: str) -> tuple[dict[str, object], Path]:
    profile = pytester.path / "site.yaml"
    shutil.copy(REPO / "profiles" / "example.yaml", profile)
    out = pytester.path / f"results{len(extra)}.json"
    junit = pytester.path / f"junit{len(extra)}.xml"
    pytester.makepyfile(check_t=CHECKS)
    for k, v in ENV.items():
        pytester._monkeypatch.setenv(k, v)
    res = pytester.runpytest_subprocess(
        f"--recette-profile={profile}", f"--recette-json={out}", f"--junitxml={junit}",
        "-o", "python_files=check_*.py", "-o", "python_functions=check_*",
        "-p", "no:cacheprovider", *extra)
    assert out.exists(), res.stdout.str() + res.stderr.str()
    return json.loads(out.read_text()), junit


def _statuses(doc: dict[str, object]) -> list[tuple[str, str]]:
    checks = doc["checks"]
    assert isinstance(checks, list)
    return [(c["id"], c["status"]) for c in checks]


def test_concurrent_run_gives_the_serial_verdicts_in_the_same_order(
        pytester: pytest.Pytester) -> None:
    concurrent, junit = _run(pytester)
    assert _statuses(concurrent) == [
        ("t.a", "pass"), ("t.b", "fail"), ("t.c", "error"), ("t.x", "pass"),
        ("t.l1", "pass"), ("t.l2", "pass"), ("t.skip", "skip"), ("t.setup", "error"),
        ("t.plain", "fail")]
    serial, _ = _run_serial(pytester)
    # Serially the barrier cannot be met: a, b and c are errors there, which is the proof
    # that they ran at the same time above; everything else is the same.
    same = {"t.x", "t.l1", "t.l2", "t.skip", "t.setup", "t.plain"}
    assert [s for s in _statuses(serial) if s[0] in same] == \
        [s for s in _statuses(concurrent) if s[0] in same]
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    assert len(list(cases)) == 9


def _run_serial(pytester: pytest.Pytester) -> tuple[dict[str, object], Path]:
    # The barrier would wait its full 30 s in a serial run: lower it for this run only.
    pytester.makepyfile(check_t=CHECKS.replace("timeout=30", "timeout=0.2"))
    return _run_with(pytester, "--recette-serial")


def _run_with(pytester: pytest.Pytester, *extra: str) -> tuple[dict[str, object], Path]:
    profile = pytester.path / "site.yaml"
    out = pytester.path / "serial.json"
    res = pytester.runpytest_subprocess(
        f"--recette-profile={profile}", f"--recette-json={out}",
        "-o", "python_files=check_*.py", "-o", "python_functions=check_*",
        "-p", "no:cacheprovider", *extra)
    assert out.exists(), res.stdout.str() + res.stderr.str()
    return json.loads(out.read_text()), out


def test_a_check_keeps_its_own_evidence_reasons_and_true_times(
        pytester: pytest.Pytester) -> None:
    doc, _ = _run(pytester)
    checks = {c["id"]: c for c in doc["checks"]}  # type: ignore[union-attr]
    assert checks["t.a"]["facts"] == {"who": "a"}
    assert checks["t.b"]["reasons"][0]["params"]["detail"] == "b fails on purpose"
    assert checks["t.c"]["reasons"][0]["params"]["detail"] == "c cannot run"
    assert checks["t.setup"]["reasons"][0]["params"]["detail"] == "fixture failed"
    # The exclusive check slept 0.3 s: its duration is its own, not the wait for its turn.
    assert 0.3 <= checks["t.x"]["duration_s"] < 5.0
    starts = {k: c["started"] for k, c in checks.items()}
    assert all(starts.values())
    # t.x comes after t.b (declared): it started once b was done.
    assert starts["t.x"] > starts["t.b"]


@pytest.mark.parametrize(("only", "element"), [("t.plain", "failure"), ("t.setup", "error"),
                                                ("t.skip", "skipped")])
def test_a_single_check_keeps_its_outcome_in_junit(pytester: pytest.Pytester, only: str,
                                                   element: str) -> None:
    """The last check set up is torn down at the very end, after its call is replayed: its
    outcome must still reach every report (it once reached results.json only)."""
    doc, junit = _run(pytester, f"--recette-only={only}")
    (case,) = ElementTree.parse(junit).getroot().iter("testcase")
    assert [child.tag for child in case] == [element]
    assert len(_statuses(doc)) == 1


INTERRUPTED = '''
import pathlib, time
import pytest
from harness.claims import Claims

def free(_p, _c):
    return Claims()

def after_quick(_p, _c):
    # Started once t.quick's verdict is in: when both files exist, only they can be running.
    return Claims(after=("t.quick",))

@pytest.mark.check(order=1, id="t.quick", fr="q", en="q", claims=free)
def check_quick(profile, evidence):
    pass

@pytest.mark.check(order=2, id="t.long1", fr="l", en="l", claims=after_quick)
def check_long1(profile, evidence):
    pathlib.Path("started1").write_text("yes")
    time.sleep(60)

@pytest.mark.check(order=3, id="t.long2", fr="l", en="l", claims=after_quick)
def check_long2(profile, evidence):
    pathlib.Path("started2").write_text("yes")
    time.sleep(60)
'''


def _interruptible() -> None:
    """Ctrl-C reaches the child even when this suite runs as a background job: a shell
    starts background commands with SIGINT ignored, the child inherits that, and Python then
    never turns SIGINT into KeyboardInterrupt (the run would go on to its checks' end)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_check_still_running_when_the_run_is_stopped_is_an_error_never_a_pass(
        pytester: pytest.Pytester) -> None:
    """Ctrl-C while two checks run at the same time: each unfinished one has no verdict (its
    setup report alone once left it "pass" in results.json and on the sheet); a check whose
    verdict was in keeps it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    profile = pytester.path / "site.yaml"
    shutil.copy(REPO / "profiles" / "example.yaml", profile)
    pytester.makepyfile(check_t=INTERRUPTED)
    out = pytester.path / "results.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", f"--recette-profile={profile}",
         f"--recette-json={out}", "-o", "python_files=check_*.py",
         "-o", "python_functions=check_*", "-p", "no:cacheprovider", "-q"],
        cwd=pytester.path, env={**os.environ, **ENV}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, preexec_fn=_interruptible)
    started = [pytester.path / "started1", pytester.path / "started2"]
    deadline = time.monotonic() + 60
    while not all(p.exists() for p in started):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stdout
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    doc = json.loads(out.read_text())
    got = {c["id"]: (c["status"], [r["code"] for r in c["reasons"]]) for c in doc["checks"]}
    assert got == {"t.quick": ("pass", []), "t.long1": ("error", ["CHECK_INTERRUPTED"]),
                   "t.long2": ("error", ["CHECK_INTERRUPTED"])}
