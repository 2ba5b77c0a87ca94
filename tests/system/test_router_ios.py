"""Acceptance: Cisco IOS audit end to end: netmiko's unmodified `cisco_ios` driver pulls each
case of tests/data/ios from the IOS emulator over real SSH, and the audit gives exactly the
case's expected findings, at its line numbers (which the emulator's header shifts by
nothing: line numbers are those of the configuration itself)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import CheckError
from harness.lab.ios_emulator import IosEmulator
from harness.profile import Router
from router_checks.audit import audit
from router_checks.cisco_ios import CISCO_IOS
from tests.ios_cases import SERVED, case, keys

REPO = Path(__file__).resolve().parents[2]
PASSWORD, SECRET = "Rtr-Pa55-Lab!", "En4ble-Lab-S3cret"


def _router(emulator_port: int, name: str = "good", **over: object) -> Router:
    data: dict[str, object] = {"host": "127.0.0.1", "port": emulator_port, "username": "admin",
                               "password": PASSWORD, "enable_secret": SECRET}
    data.update(over)
    return case(name).router(**data)


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[IosEmulator]:
    name = getattr(request, "param", "good")
    emu = IosEmulator(host="127.0.0.1", port=0, username="admin", password=PASSWORD,
                      enable_secret=SECRET, config_text=case(name).text)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.mark.parametrize("emulator", SERVED, indirect=True)
def test_fixture_pulled_over_ssh_gives_exactly_its_findings(emulator: IosEmulator,
                                                            request: pytest.FixtureRequest
                                                            ) -> None:
    name = request.node.callspec.params["emulator"]
    router = _router(emulator.port, name)
    out = CISCO_IOS.collect(router)
    assert out["show running-config"].strip().endswith("end")
    model = CISCO_IOS.parse(out)
    assert model.model == "C891F-K9"
    findings, _ = audit(model, router, case(name).operator())
    assert keys(findings) == case(name).findings()
    blob = "\n".join(out.values()) + "\n".join(f.line() for f in findings)
    assert PASSWORD not in blob and SECRET not in blob
    # The device's own stored secrets (type 9 hashes in every fixture) are masked too.
    assert "$9$" in case(name).text and "$9$" not in blob
    assert "enable secret 9 <redacted>" in out["show running-config"]


@pytest.mark.parametrize(("over", "reason"), [
    ({"password": "wrong-password"}, "authentication failed for user admin"),
    ({"enable_secret": "wrong-secret"}, "enable refused (wrong enable secret?)"),
    ({"port": 1}, "127.0.0.1:1: "),
])
def test_ssh_and_enable_failures_are_clear_and_bounded(emulator: IosEmulator,
                                                       over: dict[str, object],
                                                       reason: str) -> None:
    router = _router(emulator.port, **over)
    t0 = time.monotonic()
    with pytest.raises(CheckError) as exc:
        CISCO_IOS.collect(router, timeout=10)
    assert time.monotonic() - t0 < 15
    assert reason in str(exc.value)
    for secret in ("wrong-password", "wrong-secret", PASSWORD, SECRET):
        assert secret not in str(exc.value)


def test_offline_audit_command_names_the_lines() -> None:
    shadowed = case("acl_shadowed")
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "audit", "--config",
         str(shadowed.path), "--kind", "cisco_ios", "--server", str(shadowed.server)],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("[fail] FW_OPEN_TO_OTHERS: UDP 5060, 10000-20000 also open")
    (line,) = [int(n) for f in shadowed.expected["findings"]
               if f["code"] == "FW_OPEN_TO_OTHERS" for n in f["lines"]]
    assert f"({shadowed.path}:{line})" in proc.stdout
    good = subprocess.run(
        [sys.executable, "-m", "harness.cli", "audit", "--config", str(case("good").path),
         "--kind", "cisco_ios", "--server", str(shadowed.server)],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    # Nothing to fix: exit 0, the only finding an information (SSH on, stopped by the WAN's
    # filter, with the filter's line).
    assert good.returncode == 0 and good.stdout.startswith("[info] ADMIN_FILTERED:"), good.stdout
    assert "[fail]" not in good.stdout and "[warn]" not in good.stdout
    # No profile: the LANs were not compared, and the output says so.
    assert "LAN plan: no LAN plan (no profile)" in good.stdout
