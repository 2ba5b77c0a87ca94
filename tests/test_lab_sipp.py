"""Acceptance: an independent SIP client (SIPp) registers to the lab's Kamailio through the
router's NAT with the right digest password, and is refused with a wrong one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness import lab as labmod
from harness import netns
from harness.lab import Lab

SCENARIO = Path(__file__).parent / "sipp" / "register.xml"


def _sipp_register(lab: Lab, tmp: Path, user: str, password: str, port: int) -> tuple[int, str]:
    inj = tmp / f"{port}.csv"
    inj.write_text(
        f"SEQUENTIAL\n{user};[authentication username={user} password={password}];"
        f"{lab.profile.operator.sip_server.domain}\n"
    )
    trace = tmp / f"{port}.msg"
    proc = netns.run(
        lab.ns("lan"),
        ["sipp", f"{labmod.OP_SERVER}:5060", "-sf", str(SCENARIO), "-inf", str(inj),
         "-m", "1", "-nostdin", "-p", str(port), "-timeout", "10s",
         "-trace_msg", "-message_file", str(trace)],
        check=False, timeout=30,
    )
    return proc.returncode, trace.read_text(errors="replace") if trace.exists() else ""


def _statuses(trace: str) -> list[int]:
    return [int(s) for s in re.findall(r"^SIP/2\.0 (\d{3})", trace, re.MULTILINE)]


@pytest.mark.lab
def test_sipp_registers_through_nat_with_right_password(strict_lab: Lab, tmp_path: Path) -> None:
    assert shutil.which("sipp"), "sipp (Debian package sip-tester) is required"
    trunk = strict_lab.profile.trunks[0]
    rc, trace = _sipp_register(strict_lab, tmp_path, trunk.user, trunk.secret(), 5071)
    assert rc == 0, trace
    assert _statuses(trace) == [401, 200]
    # Kamailio saw the NATed source: the 200 OK's Via carries received= the router's WAN.
    assert f"received={labmod.RTR_WAN}" in trace


@pytest.mark.lab
def test_sipp_refused_with_wrong_password(strict_lab: Lab, tmp_path: Path) -> None:
    trunk = strict_lab.profile.trunks[0]
    rc, trace = _sipp_register(strict_lab, tmp_path, trunk.user, "not-the-password", 5072)
    assert rc != 0
    statuses = _statuses(trace)
    assert statuses[0] == 401 and statuses[1] in (401, 403), statuses
    assert 200 not in statuses
