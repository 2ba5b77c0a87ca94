"""Helpers for tests that run ``recette run`` against a lab and read its results."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import yaml

from harness import netns
from harness.attest import key_id, verify
from harness.gate.record import site_key
from harness.lab import Lab
from harness.lab.profile import lab_signing_key
from harness.results import CheckResult, RunResults, load_results

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]


def recette(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def run(profile: Path, out: Path, *only: str, call_seconds: float = 3.0
        ) -> tuple[subprocess.CompletedProcess[str], RunResults]:
    """``recette run`` restricted to ``only`` (items starting with ``--`` are passed as
    options with the item after them); returns the process and results.json, typed."""
    args = ["run", "--profile", str(profile), "--out", str(out),
            "--call-seconds", str(call_seconds)]
    items = list(only)
    while items:
        o = items.pop(0)
        args += [o, items.pop(0)] if o.startswith("--") else ["--only", o]
    proc = recette(*args)
    results = out / "results.json"
    assert results.exists(), proc.stdout + proc.stderr
    return proc, load_results(results)


def run_on_site(lab: Lab, tmp: Path, *args: str, env: dict[str, str] | None = None,
                timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], RunResults]:
    """``recette run *args`` as an integrator starts it on a real site: the lab's profile
    without its ``lab:`` section, the process started on the voice LAN (the lab's agent
    namespace). Returns the process and results.json, typed."""
    prof = tmp / "field.yaml"
    lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    agent_ns = data.pop("lab")["agent_netns"]
    bare = tmp / "site.yaml"
    bare.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp / "out"
    setenv = ["env", *[f"{k}={v}" for k, v in (env or {}).items()]]
    proc = subprocess.run(["ip", "netns", "exec", agent_ns, *setenv, sys.executable, "-m",
                           "harness.cli", "run", "--profile", str(bare), "--out", str(out),
                           *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    results = out / "results.json"
    assert results.exists(), proc.stdout + proc.stderr
    return proc, load_results(results)


def by_id(doc: RunResults) -> dict[str, CheckResult]:
    return {c.id: c for c in doc.checks}


def codes(c: CheckResult) -> list[str]:
    """The message codes of a check's reasons (what tests assert on, not English text)."""
    return [m.code for m in c.reasons]


def in_namespace(ns: str, make: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
    """Run the coroutine ``make()`` on its own event loop in a thread moved into ``ns`` (so its
    sockets live there), and fail the test if it has not finished within ``timeout`` s."""
    out: list[T | BaseException] = []

    def body() -> None:
        netns.enter(ns)
        try:
            out.append(asyncio.run(make()))
        except BaseException as exc:
            out.append(exc)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive() and out, f"did not finish within {timeout:g} s (a hang)"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def assert_sweeps_attested(lab: Lab, check: CheckResult, out: Path) -> None:
    """Every sweep of ``check`` (firewall.openings) carries its probe's attestation, which
    verifies against the lab probe's PUBLIC key (as the console would, from its registry),
    names the lab's site and was sent to the public address the run saw; and no probe's
    private key is in anything the run wrote to ``out``."""
    keys = lab.probe_keys()
    registry = {key_id(k): k for k in keys.values()}
    public = check.figures.public_address
    assert public is not None, check.facts
    assert check.figures.sweeps, check.facts
    for s in check.figures.sweeps:
        assert s.attestation is not None, s
        doc = verify(s.attestation.model_dump(), registry)
        assert doc["probe"] == key_id(keys[s.vantage]) and doc["kind"] == "sweep"
        assert doc["target"] == public.address and doc["source"] == s.source
        assert doc["site"] == site_key(lab.profile) and doc["sent"] == s.sent
    (block,) = [i.text for i in check.evidence if i.title == "sweep attestations"]
    assert block.count("signed by probe key") == len(check.figures.sweeps), block
    written = b"".join(f.read_bytes() for f in out.rglob("*") if f.is_file())
    for name in keys:
        assert lab_signing_key(lab.prefix, name).encode() not in written


def sipvicious(lab: Lab, tool: str, *args: str, home: Path) -> str:
    """svmap or svwar (SIPVicious, the independent peer) from the lab's internet host ``out``
    against the site's public address, its state under ``home``; never ``-R``, which would
    send a report outside the lab. Its whole output."""
    from harness.lab.topology import RTR_WAN

    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(["ip", "netns", "exec", lab.ns("out"), tool, *args, str(RTR_WAN)],
                          capture_output=True, text=True, timeout=60, env=env)
    return done.stdout + done.stderr
