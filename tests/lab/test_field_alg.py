"""``sip.alg`` on the field lab, whose operator runs nothing of ours: the witnesses are the
outsider probe's SIP reflector and the operator's real registrar (Kamailio), the ALG the
router kernel's own (nf_conntrack_sip/nf_nat_sip on UDP 5060).

Also: no false positive from either witness in ten runs with the ALG off; with the outsider
probe out of reach the registrar alone still catches the kernel ALG
(through the ``received=`` it un-rewrites), with a reserve; with no witness at all the check
errors, never passes; and the verdict is the same from the agent's namespace with a profile
that has no ``lab:`` section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness import netns
from harness.lab import Lab
from harness.lab.capture import Datagram, UdpCapture
from harness.profile import load_profile
from harness.results import AlgProbe, CheckResult
from sip_checks import alg_registrar
from sip_checks.probes import alg
from sip_checks.session import Site, probe_client
from sip_checks.toolkit.message import parse
from tests.lab.labrun import codes, in_namespace, run, run_on_site

LAN, WAN = "192.168.254.10", "192.0.2.2"  # the agent (as the IPBX) and the router's WAN


@pytest.fixture
def healthy(field_lab: Lab) -> Lab:
    field_lab.set_policy(alg=False, firewall="strict")
    return field_lab


def _alg(lab: Lab, tmp_path: Path, edit: dict[str, object] | None = None) -> CheckResult:
    prof = tmp_path / "field.yaml"
    lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    assert "server" not in data["vantage_points"]  # the field lab's profile names no server
    for path, value in (edit or {}).items():
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    prof.write_text(yaml.safe_dump(data, sort_keys=False))
    proc, doc = run(prof, tmp_path / "out", "sip.alg")
    (check,) = doc.checks
    assert proc.returncode == {"pass": 0, "fail": 1}.get(check.status, proc.returncode)
    return check


def _by_label(check: CheckResult) -> dict[str, AlgProbe]:
    return {f"{p.direction} {p.method} {p.proto}/{p.port}": p for p in check.figures.alg}


@pytest.mark.lab
def test_alg_off_passes_on_both_witnesses(healthy: Lab, tmp_path: Path) -> None:
    check = _alg(healthy, tmp_path)
    assert check.status == "pass", check.reason()
    assert check.reserves == [] and check.facts["SIP ALG"] == "not detected"
    assert {p.vantage for p in check.figures.alg} == {"outsider", "registrar"}
    probes = _by_label(check)
    outsider = [p for p in check.figures.alg if p.vantage == "outsider"]
    assert len(outsider) == 9 and all(p.delivered and not p.changes for p in outsider)
    registrar = probes["site→registrar REGISTER udp/5060"]
    assert registrar.delivered and registrar.changes == []
    nat = {c.element: c.after for c in registrar.nat_only}
    # The registrar saw our public address, and stored the Contact as we sent it.
    assert nat["Via[0] received"] == WAN and nat["Via[0] rport"] == "5060"
    assert nat["Contact received"] == f"sip:{WAN}:5060"
    assert check.facts["witness: operator's registrar"] == \
        "nothing rewritten (1 message compared)"
    assert "none in the profile" in check.facts["witness: probe beside the SIP server"]


@pytest.mark.lab
def test_alg_off_no_false_positive_from_either_witness_in_ten_runs(healthy: Lab,
                                                                   tmp_path: Path) -> None:
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    profile = load_profile(prof)
    client = probe_client(profile, "outsider")
    for i in range(10):
        with netns.inside(healthy.ns("lan")):
            probes = alg.run_all(client, client.host, LAN, vantage="outsider")
        witness = in_namespace(healthy.ns("lan"),
                               lambda: alg_registrar.observe(profile, Site(LAN), public=WAN),
                               timeout=60)
        probes.append(witness.probe)
        said = (i, [alg.summary(p) for p in probes])
        assert len(probes) == 10 and all(p.delivered for p in probes), said
        assert not any(alg.is_alg(p) for p in probes), said


@pytest.mark.lab
def test_alg_on_fails_naming_what_the_outsider_reflector_saw_rewritten(
        healthy: Lab, tmp_path: Path) -> None:
    healthy.set_policy(alg=True)
    check = _alg(healthy, tmp_path)
    assert check.status == "fail"
    (rewrites,) = (m for m in check.reasons if m.code == "ALG_REWRITES")
    named = str(rewrites.params["elements"]).split(", ")
    probes = _by_label(check)
    invite = probes["site→outsider INVITE udp/5060"]
    changed = {c.element: (c.before, c.after) for c in invite.changes}
    assert changed["SDP c="] == (f"c=IN IP4 {LAN}", f"c=IN IP4 {WAN}")
    assert changed["Via[0] sent-by"][1].startswith(f"SIP/2.0/UDP {WAN}:")
    assert changed["Contact"][1].startswith(f"<sip:recette-alg@{WAN}:")
    for element in ("Via", "Contact", "SDP c=", "SDP o="):
        assert element in named
    outsider_saw = check.facts["witness: outsider probe's reflector"]
    assert all(e in outsider_saw for e in ("Via", "Contact", "SDP c=", "SDP o="))
    # The kernel helper is attached to UDP 5060 only.
    for label in ("site→outsider INVITE tcp/5060", "site→outsider INVITE udp/5088",
                  "site→outsider REGISTER tcp/5088"):
        assert probes[label].delivered and not probes[label].changes, label
    assert {c.element for c in probes["outsider→site INVITE udp/5060"].changes} >= {
        "Request-Line", "To"}
    # The registrar: the ALG maps our public address back in its answer, so sent-by and
    # Contact look untouched, but received= then names our own LAN address.
    registrar = probes["site→registrar REGISTER udp/5060"]
    assert [(c.element, c.after) for c in registrar.changes] == [("Via[0] received", LAN)]
    assert check.facts["witness: operator's registrar"] == "rewritten: Via"
    table = next(i.text for i in check.evidence if i.title.startswith("witnesses:"))
    assert f"{LAN}  [REWRITTEN]" in table


@pytest.mark.lab
def test_the_kernel_alg_rewrites_the_register_and_maps_the_registrars_answer_back(
        healthy: Lab, tmp_path: Path) -> None:
    """Why the registrar witness reads received=: the 200 OK as Kamailio sent it (captured on
    the router's WAN) names our public address in Via and Contact (it got the REGISTER
    rewritten); past the ALG the same answer reads as we sent it, except received=."""
    healthy.set_policy(alg=True)
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    profile = load_profile(prof)

    def ours(d: Datagram) -> bool:
        return d.src[1] == 5060 and b"SIP/2.0 200 OK" in d.payload and b"REGISTER" in d.payload

    with UdpCapture(healthy.ns("rtr"), "wan0") as cap:
        witness = in_namespace(healthy.ns("lan"),
                               lambda: alg_registrar.observe(profile, Site(LAN), public=None),
                               timeout=60)
        on_wan = cap.wait_for(ours, timeout=5)
    assert witness.view is not None and on_wan is not None
    sent_by_operator = parse(on_wan.payload)
    assert (sent_by_operator.get("Via") or "").startswith(f"SIP/2.0/UDP {WAN}:5060;")
    assert f";received={WAN}" in (sent_by_operator.get("Via") or "")
    assert f"@{WAN}:5060;x-recette=" in (sent_by_operator.get("Contact") or "")
    view = witness.view
    assert view.via_reported == view.via_sent == f"SIP/2.0/UDP {LAN}:5060"
    assert view.contact_stored == view.contact_sent
    assert view.received == LAN  # mapped back by the ALG: the one visible trace
    assert [c.element for c in view.changes] == ["Via[0] received"]


@pytest.mark.lab
def test_alg_on_with_the_outsider_probe_out_of_reach_the_registrar_still_sees_it(
        healthy: Lab, tmp_path: Path) -> None:
    healthy.set_policy(alg=True)
    check = _alg(healthy, tmp_path, {"vantage_points.outsider.control_port": 9})
    assert check.status == "fail"
    assert codes(check) == ["ALG_REWRITES"]
    assert check.reasons[0].params["elements"] == "Via"
    assert [m.code for m in check.reserves] == ["ALG_WITNESS_MISSING"]
    assert check.facts["witness: outsider probe's reflector"].startswith("could not run")
    assert {p.vantage for p in check.figures.alg} == {"registrar"}


@pytest.mark.lab
def test_no_witness_is_an_error_never_a_pass(healthy: Lab, tmp_path: Path) -> None:
    check = _alg(healthy, tmp_path, {"vantage_points.outsider.control_port": 9,
                                     "trunks.0.password": "not-the-password"})
    assert check.status == "error"
    (reason,) = check.reasons
    assert reason.code == "ALG_NO_WITNESS"
    said = reason.render("en")
    assert "outsider probe" in said and re.search(r"answered 40[13] ", said), said


@pytest.mark.lab
def test_a_profile_without_a_lab_section_gives_the_same_verdict(
        healthy: Lab, tmp_path: Path) -> None:
    """What a real site has: no ``lab:`` section, the run started on the voice LAN."""
    healthy.set_policy(alg=True)
    proc, doc = run_on_site(healthy, tmp_path, "--only", "sip.alg")
    (check,) = doc.checks
    assert proc.returncode == 1 and check.status == "fail", proc.stderr[-2000:]
    assert {p.vantage for p in check.figures.alg} == {"outsider", "registrar"}
    assert "SDP c=" in str(check.reasons[0].params["elements"])
