"""Acceptance: the OpIOS router audit over real SSH (OpenSSH in the router namespace, netmiko's
`linux` driver) gives the same verdict as the active firewall verification, cites the lines
behind each finding, and fails cleanly on SSH problems."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import lab as labmod
from harness import netns
from harness.lab import Lab
from harness.results import CheckResult
from tests.lab.labrun import by_id, run

REPO = Path(__file__).resolve().parents[2]


def _audit(lab: Lab, tmp: Path, *only: str, edit: dict[str, Any] | None = None
           ) -> dict[str, CheckResult]:
    prof = tmp / "lab.yaml"
    lab.write_profile(prof)
    if edit:
        data = yaml.safe_load(prof.read_text())
        data["router"].update(edit)
        prof.write_text(yaml.safe_dump(data))
    _, doc = run(prof, tmp / "out", *(only or ("router.audit",)))
    return by_id(doc)


@pytest.mark.lab
@pytest.mark.parametrize(("mode", "code", "cited"), [
    ("strict", None, None),
    ("open", "FW_OPEN_TO_OTHERS", "ct status dnat udp dport { 5060, 10000-20000 } accept"),
    ("closed", "FW_CLOSED_TO_SERVER", "type filter hook forward priority filter; policy drop;"),
])
def test_audit_agrees_with_active_verification(strict_lab: Lab, tmp_path: Path, mode: str,
                                               code: str | None, cited: str | None) -> None:
    strict_lab.set_policy(firewall=mode)  # type: ignore[arg-type]
    checks = _audit(strict_lab, tmp_path, "router", "firewall.openings")
    audit, active, cross = (checks["router.audit"], checks["firewall.openings"],
                            checks["router.crosscheck"])
    assert audit.status == active.status == ("pass" if mode == "strict" else "fail")
    assert cross.status == "pass", cross.reason()
    findings = audit.figures.findings
    if code is None:
        assert findings == []
        return
    assert findings is not None
    (finding,) = findings
    assert finding.code == code
    ref = finding.lines[0]
    assert ref.startswith("nft -a list ruleset:")
    listing = next(e.text for e in audit.evidence
                   if e.title == "collected: nft -a list ruleset")
    line_no = int(ref.rsplit(":", 1)[1])
    assert cited in listing.splitlines()[line_no - 1]


def _data_reaches_voice(lab: Lab) -> bool:
    """Does a datagram from the data-LAN host reach the IPBX on the voice LAN? (1 s wait;
    a dropped datagram cannot be observed any other way)."""
    token = f"lan-crossing-{lab.prefix}".encode()
    with netns.inside(lab.ns("lan")):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind((str(labmod.VOICE_HOST), 4444))
        rx.settimeout(1.0)
    with netns.inside(lab.ns("data")):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tx.sendto(token, (str(labmod.VOICE_HOST), 4444))
        try:
            return rx.recv(256) == token
        except TimeoutError:
            return False
    finally:
        tx.close()
        rx.close()


@pytest.mark.lab
@pytest.mark.parametrize("lans_open", [False, True])
def test_lan_isolation_audit_agrees_with_traffic_between_the_lans(
        strict_lab: Lab, tmp_path: Path, lans_open: bool) -> None:
    strict_lab.set_policy(lans_open=lans_open)
    try:
        audit = _audit(strict_lab, tmp_path)["router.audit"]
        crossed = _data_reaches_voice(strict_lab)
    finally:
        strict_lab.set_policy()
    assert crossed is lans_open  # the lab really does what the audit is about to judge
    found = [f for f in audit.figures.findings or () if f.code == "LANS_OPEN_TO_EACH_OTHER"]
    if not lans_open:
        assert (found, audit.status) == ([], "pass")
        return
    assert audit.status == "fail"
    assert [f.message.text.split(" reaches ")[0] for f in found] == [
        "the data LAN 192.168.1.0/24", "the voice LAN 192.168.254.0/24"]
    listing = next(e.text for e in audit.evidence
                   if e.title == "collected: nft -a list ruleset").splitlines()
    for f in found:
        (ref,) = f.lines
        line = listing[int(ref.rsplit(":", 1)[1]) - 1]
        assert 'oifname { "data0", "voice0" } accept' in line, line  # as nft lists it


@pytest.mark.lab
def test_sip_alg_is_found_in_the_ruleset(strict_lab: Lab, tmp_path: Path) -> None:
    strict_lab.set_policy(alg=True)
    audit = _audit(strict_lab, tmp_path)["router.audit"]
    assert audit.status == "fail"
    (finding,) = audit.figures.findings or ()
    assert finding.code == "SIP_ALG_ON"
    assert any(e.kind == "config" and e.ref == finding.lines[0]
               and e.title.startswith("SIP_ALG_ON at nft -a list ruleset:")
               and 'ct helper set "sip-5060"' in e.text for e in audit.evidence)
    # The run leaves the collected configuration beside the report; audited offline, it
    # gives the same finding without the device.
    saved = tmp_path / "out" / "router-opios.json"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "audit", "--config", str(saved),
                           "--kind", "opios", "--profile", str(tmp_path / "out" / "profile.yaml")],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("[fail] SIP_ALG_ON"), proc.stdout


@pytest.mark.lab
@pytest.mark.parametrize(("edit", "reason"), [
    ({"password": "not-the-router-password"},
     "authentication failed for user {user} (wrong password?)"),
    ({"host": "192.168.254.99"}, "router 192.168.254.99:22: unreachable"),
])
def test_ssh_problems_are_errors_in_bounded_time(strict_lab: Lab, tmp_path: Path,
                                                 edit: dict[str, str], reason: str) -> None:
    audit = _audit(strict_lab, tmp_path, edit=edit)["router.audit"]
    assert audit.status == "error"
    assert reason.format(user=strict_lab.prefix) in audit.reason()
    assert audit.duration_s < 15
    assert "not-the-router-password" not in (tmp_path / "out" / "results.json").read_text()


@pytest.mark.lab
def test_a_command_the_router_rejects_is_an_error(strict_lab: Lab, tmp_path: Path) -> None:
    nft = strict_lab.dir / "bin" / "nft"
    netns.run(None, ["setcap", "-r", str(nft)])  # the router user loses nft's capability
    try:
        audit = _audit(strict_lab, tmp_path)["router.audit"]
    finally:
        netns.run(None, ["setcap", "cap_net_admin+ep", str(nft)])
    assert audit.status == "error"
    assert audit.reason().startswith("router 192.168.254.1 rejected `nft -j list ruleset`:")
    assert audit.duration_s < 15


@pytest.mark.lab
def test_router_password_never_reaches_any_output(strict_lab: Lab, tmp_path: Path) -> None:
    _audit(strict_lab, tmp_path)
    secret = strict_lab.profile.router.password.get_secret_value()  # type: ignore[union-attr]
    for f in (tmp_path / "out").rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f
    log = (strict_lab.dir / "sshd.log").read_text(errors="replace")
    assert secret not in log


@pytest.mark.lab
def test_ports_the_sip_alg_opens_are_the_algs_in_the_crosscheck(
        field_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's SIP ALG on (field lab: the operator's media answers the site's SDP): it
    opens the out-of-range ports the site offers (9999, 20001) beside the rules. The audit
    says so with the ALG's finding, and the cross-check takes those ports for the ALG's,
    never for a rule the configuration lacks."""
    field_lab.set_policy(alg=True, firewall="strict")
    try:
        prof = tmp_path / "field.yaml"
        field_lab.write_profile(prof)
        _, doc = run(prof, tmp_path / "out", "router", "firewall.openings")
    finally:
        field_lab.set_policy(alg=False, firewall="strict")
    checks = by_id(doc)
    audit, cross = checks["router.audit"], checks["router.crosscheck"]
    assert [f.code for f in audit.figures.findings or ()] == ["SIP_ALG_ON"]
    traffic = checks["firewall.openings"].figures.operator_traffic
    assert traffic is not None
    beyond = sorted(s.port for s in traffic.samples
                    if not 10000 <= s.port <= 20000 and s.outcome == "open")
    assert beyond == [9999, 20001]  # the ALG's expectations, from the site's own SDP
    assert cross.status == "pass", cross.reason()
    assert [(m.code, m.params["ports"]) for m in cross.reserves] == [
        ("CONFIG_ALG_OPENED", "9999, 20001")]
