"""Acceptance: an independent SIP client (SIPp) registers to the lab's Kamailio through the
router's NAT with the right digest password, and is refused with a wrong one."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from harness import lab as labmod
from harness import netns
from harness.lab import Lab
from harness.lab.capture import UdpCapture
from sip_checks.toolkit.message import build_request, new_call_id, parse

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "sipp" / "register.xml"


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


@pytest.mark.lab
def test_invite_to_did_reaches_the_registered_trunk_through_nat(
    strict_lab: Lab, tmp_path: Path
) -> None:
    """Kamailio routes a call for a trunk DID to the contact SIPp registered, back through the
    router's NAT binding: what the inbound-call checks will rely on."""
    trunk = strict_lab.profile.trunks[0]
    rc, trace = _sipp_register(strict_lab, tmp_path, trunk.user, trunk.secret(), 5073)
    assert rc == 0, trace
    did = trunk.dids[0]
    with UdpCapture(strict_lab.ns("lan"), "eth0") as cap:
        with netns.inside(strict_lab.ns("out")):
            caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with caller:
            caller.bind((str(labmod.OUTSIDER), 0))
            port = caller.getsockname()[1]
            call_id = new_call_id("inbound-test")
            caller.sendto(
                build_request(
                    "INVITE", f"sip:{did}@{labmod.SIP_DOMAIN}",
                    via_host=str(labmod.OUTSIDER), via_port=port,
                    from_uri=f"sip:+33100000000@{labmod.OUTSIDER}",
                    to_uri=f"sip:{did}@{labmod.SIP_DOMAIN}", call_id=call_id, cseq=1,
                    extra=[("Contact", f"<sip:caller@{labmod.OUTSIDER}:{port}>")],
                ),
                (str(labmod.OP_SERVER), 5060),
            )
            got = cap.wait_for(lambda d: call_id.encode() in d.payload, timeout=3.0)
    assert got is not None, "the INVITE for the DID never reached the LAN host"
    assert got.dst == (str(labmod.VOICE_HOST), 5073)
    msg = parse(got.payload)
    assert msg.method == "INVITE"
    assert msg.first_line.startswith(f"INVITE sip:{trunk.user}@")
    assert len(msg.get_all("Via")) == 2  # the proxy added its own
