"""The two router checks as the plugin calls them, without a device: what they leave in the
typed figures, the reserves and the reasons (message codes), and the skips."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

from harness.errors import CheckError, CheckFailed, NotApplicable
from harness.evidence import Evidence
from harness.messages import Msg, render
from harness.plugin import RunState
from harness.profile import Profile, load_profile
from harness.results import PortSets
from router_checks import check_router
from router_checks.cisco_ios import CISCO_IOS
from router_checks.kind import Bundle
from router_checks.model import RouterModel
from tests.ios_cases import case

REPO = Path(__file__).resolve().parents[2]


def _profile(name: str, **router: object) -> Profile:
    prof = load_profile(REPO / "profiles" / "example.yaml")
    return prof.model_copy(update={"router": case(name).router(**router)})


def _audit(monkeypatch: pytest.MonkeyPatch, text: str, profile: Profile
           ) -> tuple[Evidence, RunState, CheckFailed | None]:
    """router.audit on ``text`` as if collected from the device."""

    def collect(router: object, *, timeout: float = 10.0) -> Bundle:
        return {"show running-config": text, "show version": "Cisco C891F-K9 (revision 1.0)"}

    monkeypatch.setattr(CISCO_IOS, "collect", collect)
    evidence, state = Evidence(), RunState()
    try:
        check_router.check_router_audit(profile, evidence, state)
    except CheckFailed as exc:
        return evidence, state, exc
    return evidence, state, None


def test_a_failing_audit_leaves_typed_findings_config_blocks_and_coded_reasons(
        monkeypatch: pytest.MonkeyPatch) -> None:
    c = case("alg_on")
    evidence, state, failed = _audit(monkeypatch, c.text, _profile("alg_on"))
    figures = evidence.figures
    assert figures.router_config is not None
    assert figures.router_config.kind == "cisco_ios"
    assert "show running-config" in figures.router_config.files
    assert figures.findings is not None
    # Beside it, for information: the SSH the WAN's list stops (ADMIN_FILTERED).
    (finding,) = [f for f in figures.findings if f.severity != "info"]
    assert (finding.code, finding.severity, finding.message.code) == ("SIP_ALG_ON", "fail",
                                                                     "SIP_ALG_ON")
    (alg,) = [f for f in c.expected["findings"] if f["code"] == "SIP_ALG_ON"]
    assert finding.lines == [f"show running-config:{n}" for n in sorted(map(int, alg["lines"]))]
    # One config block per cited ref, found by the ref the findings list.
    blocks = {i.ref: i for i in evidence.items if i.kind == "config"}
    assert sorted(blocks) == sorted({ref for f in figures.findings for ref in f.lines})
    assert [i.title for i in evidence.items if i.kind == "collected"] == [
        "collected: show running-config"]
    assert failed is not None and [m.code for m in failed.reasons] == ["SIP_ALG_ON"]
    assert render(failed.reasons[0], "fr") == "Le SIP ALG du routeur est activé : le désactiver"
    assert state.predicted is not None and 5060 in state.predicted.server
    assert evidence.reserves == [] and figures.unevaluated == []


def test_warn_findings_are_reserves_one_each_and_unevaluated_lines_are_messages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = case("good").text.replace(" description LAN-DATA\n",
                                     " description LAN-DATA\n vrf forwarding DATA\n")
    evidence, _, failed = _audit(monkeypatch, text, _profile("good", lans={"isolated": True}))
    assert failed is None  # a warning does not fail the check
    assert [m.code for m in evidence.reserves] == ["LAN_ISOLATION_UNKNOWN"]
    (note,) = evidence.figures.unevaluated
    assert note.code == "RULE_NOT_EVALUATED"
    vrf = text.split("\n").index(" vrf forwarding DATA") + 1
    assert note.params["ref"] == f"show running-config:{vrf}"
    assert "VRF on a LAN interface" in str(note.params["detail"])
    assert render(note, "fr").startswith(f"{note.params['ref']} : non évalué")


def test_no_router_is_not_applicable() -> None:
    prof = load_profile(REPO / "profiles" / "example.yaml").model_copy(update={"router": None})
    with pytest.raises(NotApplicable) as exc:
        check_router.check_router_audit(prof, Evidence(), RunState())
    assert exc.value.message.code == "NO_ROUTER"


REGISTRAR, EDGE, RELAY = "198.51.100.10", "198.51.100.20", "198.51.100.30"
RTP = list(range(10000, 20001))


def _three() -> Profile:
    """The example profile with an edge proxy and a media relay beside the registrar."""
    prof = load_profile(REPO / "profiles" / "example.yaml")
    return prof.model_copy(update={"operator": prof.operator.model_copy(update={
        "signalling_ips": [IPv4Address(EDGE)], "media_ips": [IPv4Address(RELAY)]})})


def _cross(state: RunState, profile: Profile | None = None) -> tuple[Evidence, list[Msg]]:
    """router.crosscheck: its evidence and the reasons it failed on (none: it passed)."""
    evidence = Evidence()
    try:
        check_router.check_router_crosscheck(profile or _three(), state, evidence)
    except CheckFailed as exc:
        return evidence, list(exc.reasons)
    return evidence, []


def test_crosscheck_needs_both_sides_and_names_each_discrepancy() -> None:
    prof = load_profile(REPO / "profiles" / "example.yaml")
    state = RunState(predicted=PortSets(server=[5060, 10000], others=[]))
    with pytest.raises(NotApplicable) as skipped:
        check_router.check_router_crosscheck(prof, state, Evidence())
    assert skipped.value.message.code == "CROSSCHECK_NEEDS_BOTH"

    state.measured = PortSets(server=[5060, 10000], others=[])
    evidence, problems = _cross(state, prof)
    assert problems == [] and evidence.figures.crosscheck is not None

    state.measured = PortSets(server=[5060], others=[10000, 10001])
    _, problems = _cross(state, prof)
    assert [(m.code, m.params["ports"]) for m in problems] == [
        ("CONFIG_OPEN_FOUND_CLOSED", "10000"), ("CONFIG_CLOSED_FOUND_OPEN", "10000-10001")]
    assert str(problems[0]) == ("the configuration opens UDP 10000 to the operator's SIP "
                                "server 198.51.100.10 but they were found closed")
    assert str(problems[1]) == ("UDP 10000-10001 found open to other sources although the "
                                "configuration closes them")


def _predicted(**over: object) -> PortSets:
    """What router.audit predicts for the three addresses: each open on its voice ports."""
    base: dict[str, object] = {
        "server": [5060, *RTP], "others": [], "any_source": [], "sip_alg": False,
        "by_source": {REGISTRAR: [5060, *RTP], EDGE: [5060, *RTP], RELAY: [5060, *RTP]}}
    return PortSets.model_validate({**base, **over})


def test_crosscheck_compares_each_address_on_the_ports_its_traffic_tried() -> None:
    """The edge proxy's INVITE proved 5060, the relay's media two sampled ports; the
    configuration opens everything to both: they agree, though the traffic tried 3 ports of
    10 002, and the evidence says which address, which ports, config against measured."""
    measured = PortSets(server=[5060], others=[], tested=[5060],
                        by_source={EDGE: [5060], RELAY: [12000, 17000]},
                        tested_by_source={EDGE: [5060], RELAY: [12000, 17000]})
    evidence, problems = _cross(RunState(predicted=_predicted(), measured=measured))
    assert problems == []
    assert evidence.facts[f"{EDGE} (signalling): config / measured"] == (
        "5060 / 5060 (of the tried 5060)")
    assert evidence.facts[f"{RELAY} (media): config / measured"] == (
        "12000, 17000 / 12000, 17000 (of the tried 12000, 17000)")
    assert evidence.facts[f"{REGISTRAR} (registrar): config / measured"] == (
        "5060, 10000-20000 / not tried")


def test_crosscheck_names_the_address_the_configuration_and_the_traffic_disagree_on() -> None:
    """The configuration leaves the relay out; its media still reached a sampled port (an
    equipment upstream forwards it), and the edge proxy's INVITE did not get in although
    the configuration opens 5060 to it: each disagreement names its address and role."""
    predicted = _predicted(by_source={REGISTRAR: [5060, *RTP], EDGE: [5060, *RTP],
                                      RELAY: []})
    measured = PortSets(by_source={RELAY: [15000]},
                        tested_by_source={EDGE: [5060], RELAY: [15000, 18000]})
    _, problems = _cross(RunState(predicted=predicted, measured=measured))
    assert [(m.code, m.params["ports"], str(m.params["who"])) for m in problems] == [
        ("CONFIG_OPEN_FOUND_CLOSED", "5060", f"the operator's signalling proxy {EDGE}"),
        ("CONFIG_CLOSED_FOUND_OPEN", "15000", f"the operator's media relay {RELAY}")]
    assert render(problems[1], "fr") == (
        "Les ports UDP 15000 ont été trouvés ouverts pour le relais média de l'opérateur "
        f"{RELAY} alors que la configuration du routeur les ferme : chercher l'équipement "
        "qui les ouvre")


def test_crosscheck_operator_addresses_are_not_other_sources_nor_named_networks() -> None:
    """The configuration opens the voice ports to the operator's three addresses and 5060 to
    a maintainer's host; the outsider's sweep, from elsewhere, finds everything closed. No
    disagreement: the operator's addresses are no "others", and a rule naming one host says
    nothing of an outsider at another address. A port open to any address must be found
    open by the outsider, though."""
    predicted = _predicted(others=[5060], any_source=[])
    swept = PortSets(by_source={REGISTRAR: [5060, *RTP]}, others=[])  # a probe at the server
    evidence, problems = _cross(RunState(predicted=predicted, measured=swept))
    assert problems == []
    assert evidence.facts["others: config / measured"] == (
        "none to any address, 5060 to some / none")
    assert "5060 open in the configuration only to the networks its rules name" in (
        evidence.facts["others"])
    assert evidence.facts[f"{REGISTRAR} (registrar): config / measured"] == (
        "5060, 10000-20000 / 5060, 10000-20000 (swept)")
    _, problems = _cross(RunState(predicted=_predicted(others=[5060], any_source=[5060]),
                                  measured=swept))
    assert [(m.code, m.params["ports"], str(m.params["who"])) for m in problems] == [
        ("CONFIG_OPEN_FOUND_CLOSED", "5060", "any address other than the operator's")]


def test_crosscheck_an_address_the_profile_does_not_declare_is_noted_not_judged() -> None:
    measured = PortSets(by_source={"192.0.2.99": [12000]},
                        tested_by_source={"192.0.2.99": [12000]})
    evidence, problems = _cross(RunState(predicted=_predicted(), measured=measured))
    assert problems == []
    assert "not an operator address of the profile" in evidence.facts["192.0.2.99"]


def test_crosscheck_ports_the_sip_alg_opened_are_the_algs_not_a_missing_rule() -> None:
    """With the router's SIP ALG on, media reached 9999 and 20001 (outside the range, which
    the configuration does not open): the ALG's pinholes, a reserve naming the ALG, never
    "found open although the configuration closes them". Without the ALG they are a
    disagreement."""
    measured = PortSets(by_source={RELAY: [9999, 12000, 20001]},
                        tested_by_source={RELAY: [9999, 12000, 20001]})
    evidence, problems = _cross(RunState(predicted=_predicted(sip_alg=True), measured=measured))
    assert problems == []
    (reserve,) = evidence.reserves
    assert (reserve.code, reserve.params["ports"]) == ("CONFIG_ALG_OPENED", "9999, 20001")
    assert "SIP ALG" in render(reserve, "fr")
    _, problems = _cross(RunState(predicted=_predicted(sip_alg=False), measured=measured))
    assert [(m.code, m.params["ports"]) for m in problems] == [
        ("CONFIG_CLOSED_FOUND_OPEN", "9999, 20001")]


def test_the_audit_predicts_every_operator_address_by_role(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """router.audit leaves, for firewall.openings and the cross-check, the ports open to
    each of the profile's operator addresses; an edge proxy and a relay the router admits
    are no other source."""
    c = case("operator_three_addresses")
    prof = _three().model_copy(update={"router": c.router()})
    evidence, state, failed = _audit(monkeypatch, c.text, prof)
    assert failed is None, failed
    assert state.predicted is not None
    # The one-to-one static forwards every port, WAN-IN admits only the voice group: 5061,
    # 9999 and 20001 (predicted too, since the firewall check tries them) stay closed.
    assert state.predicted.by_source == {REGISTRAR: [5060, *RTP], EDGE: [5060, *RTP],
                                         RELAY: [5060, *RTP]}
    assert state.predicted.server == [5060, *RTP]
    assert state.predicted.others == [] and state.predicted.any_source == []
    assert state.predicted.sip_alg is False
    assert evidence.facts[f"predicted open to {RELAY} (media)"] == "5060, 10000-20000"


def test_unevaluated_lines_of_both_parsers_become_messages() -> None:
    model = RouterModel(kind="opios", sources={"unevaluated": (
        "nft -a list ruleset:12: match on @lans\n"
        "/tmp/r.txt:7,9: left out: protocol 'gre' ('permit gre any any')\n")})
    assert [(m.params["ref"], m.params["detail"]) for m in check_router.unevaluated(model)] == [
        ("nft -a list ruleset:12", "match on @lans"),
        ("/tmp/r.txt:7,9", "left out: protocol 'gre' ('permit gre any any')")]


@pytest.mark.parametrize(("name", "code"), [("lines_lost_include", "CONFIG_LINES_LOST"),
                                            ("not_ios_junos", "CONFIG_NOT_IOS")])
def test_an_unreadable_configuration_is_an_error_not_a_verdict(
        monkeypatch: pytest.MonkeyPatch, name: str, code: str) -> None:
    """No pass and no wall of LAN findings: the check errors with the reason, and the lines
    it could not place are still listed as not evaluated."""
    with pytest.raises(CheckError) as exc:
        _audit(monkeypatch, case(name).text, _profile(name))
    assert exc.value.message.code == code


def test_the_lan_plan_is_a_typed_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    evidence, _, _ = _audit(monkeypatch, case("good").text, _profile("good"))
    plan = evidence.figures.lan_plan
    assert plan is not None and plan.code == "LAN_PLAN_ASSUMED"  # the case gives no lans
    given = _profile("shadow_no_forward_1941")
    evidence, _, _ = _audit(monkeypatch, case("shadow_no_forward_1941").text, given)
    assert evidence.figures.lan_plan is not None
    assert evidence.figures.lan_plan.code == "LAN_PLAN_PROFILE"
    assert evidence.figures.lan_plan.params["data"] == "192.168.10.0/24"
