"""firewall.openings on an operator shaped as many are: a registrar (198.51.100.10), an edge
proxy that sends every INVITE (198.51.100.11) and a media relay (198.51.100.30), run as an
integrator runs it (no probe at the operator), with every proof checked against the router's
WAN (tests/lab/wan.py).

The false pass of issue 21 was this shape behind a firewall that admits only the registrar:
the check passed on the outsider's sweep alone and the gate recorded it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.lab import Lab
from tests.lab.labrun import by_id, codes
from tests.lab.wan import gate_addresses, gate_events, judged, statuses

REGISTRAR, EDGE, RELAY = "198.51.100.10", "198.51.100.11", "198.51.100.30"


@pytest.mark.lab
def test_strict_passes_each_address_proven_by_its_own_traffic(
        three_address_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edge proxy's INVITE and the relay's media prove their openings; the registrar
    sends no INVITE, so its 5060 (which the handbook asks for) rests on the configuration."""
    doc = judged(three_address_lab, tmp_path, monkeypatch, firewall="strict")
    checks = by_id(doc)
    fw = checks["firewall.openings"]
    assert fw.status == "pass", (fw.reason(), fw.reserves)
    traffic = fw.figures.operator_traffic
    assert traffic is not None and traffic.sip_source == f"{EDGE}:5060" and traffic.sip_proven
    assert statuses(fw) == {(REGISTRAR, "5060"): "vouched", (EDGE, "5060"): "proven",
                            (RELAY, "10000-20000"): "proven"}
    assert fw.facts["evidence"] == "operator traffic, outsider sweep, router configuration"
    assert fw.reserves == []
    audit = checks["router.audit"]
    assert audit.status == "pass", (audit.reason(), audit.reserves)
    assert checks["router.crosscheck"].status == "pass", checks["router.crosscheck"].reason()
    assert gate_events(tmp_path) == ["verification_pass"]
    # the technical service reads, per address, what the pass rests on
    assert gate_addresses(tmp_path) == {REGISTRAR: {"UDP 5060": "vouched"},
                                        EDGE: {"UDP 5060": "proven"},
                                        RELAY: {"UDP 10000-20000": "proven"}}


@pytest.mark.lab
def test_registrar_only_fails_naming_the_edge_proxy_and_the_relay(
        three_address_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(three_address_lab, tmp_path, monkeypatch, firewall="registrar-only")
    fw = by_id(doc)["firewall.openings"]
    assert fw.status == "fail"
    assert codes(fw) == ["SIP_CLOSED_TO_SERVER", "RTP_CLOSED_TO_MEDIA"]
    assert fw.reasons[0].params["server"] == EDGE
    assert fw.reasons[1].params["sources"] == RELAY
    assert statuses(fw) == {(REGISTRAR, "5060"): "vouched", (EDGE, "5060"): "closed",
                            (RELAY, "10000-20000"): "closed"}
    audit = by_id(doc)["router.audit"]
    assert audit.status == "fail"
    assert {m.params["server"] for m in audit.reasons if m.code == "FW_CLOSED_TO_SERVER"} \
        == {EDGE, RELAY}
    assert gate_events(tmp_path) == ["verification_fail"]


@pytest.mark.lab
def test_a_profile_that_forgot_the_edge_and_relay_proves_them_and_asks_to_declare(
        three_address_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile names only the registrar (so it should send the INVITEs and the media);
    the traffic shows the edge proxy and the relay doing it: both proven and named, the
    registrar's own openings unproven (no configuration read): an error, not a pass."""
    def forget(data: dict[str, Any]) -> None:
        data["operator"].pop("signalling_ips")
        data["operator"].pop("media_ips")

    doc = judged(three_address_lab, tmp_path, monkeypatch, firewall="strict", profile=forget,
                 checks=("sip.alg", "firewall.openings"))
    fw = by_id(doc)["firewall.openings"]
    assert fw.status == "error", (fw.reason(), fw.reserves)
    assert statuses(fw) == {(REGISTRAR, "5060"): "unproven",
                            (REGISTRAR, "10000-20000"): "unproven",
                            (EDGE, "5060"): "proven", (RELAY, "10000-20000"): "proven"}
    assert codes(fw) == ["FW_NO_REQUEST_FROM"]
    assert [(m.code, m.params.get("address") or m.params.get("addresses"))
            for m in fw.reserves] == [("SIP_ELSEWHERE", EDGE), ("MEDIA_ELSEWHERE", RELAY),
                                      ("FW_NO_MEDIA_FROM", REGISTRAR)]
    assert {r.address: r.roles for r in fw.figures.operator_addresses} == {
        REGISTRAR: ["registrar"], EDGE: ["seen"], RELAY: ["seen"]}
    assert gate_events(tmp_path) == []


@pytest.mark.lab
def test_strict_behind_the_alg_rests_on_the_configuration_for_every_address(
        three_address_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(three_address_lab, tmp_path, monkeypatch, firewall="strict", alg=True)
    checks = by_id(doc)
    assert checks["sip.alg"].status == "fail"
    fw = checks["firewall.openings"]
    assert fw.status == "pass", (fw.reason(), fw.reserves)
    assert set(statuses(fw).values()) == {"vouched"}
    assert set(statuses(fw)) == {(REGISTRAR, "5060"), (EDGE, "5060"), (RELAY, "10000-20000")}
    assert fw.facts["evidence"] == "outsider sweep, router configuration"
    assert {m.code for m in fw.reserves} <= {"RTP_OPEN_BY_ALG", "OPENINGS_BY_ALG"}
