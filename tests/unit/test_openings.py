"""What each operator address's opening rests on (sip_checks/openings.py): proven by the
operator's traffic, closed, unproven, or vouched for by the router's configuration; never a
pass on what nothing proved."""

from __future__ import annotations

from typing import Any

from harness.messages import msg
from harness.profile import Operator
from harness.results import PortSets
from sip_checks import openings
from sip_checks.probes.media_ports import MediaSample, Sampling, SipFlow

REGISTRAR, EDGE, RELAY = "198.51.100.10", "198.51.100.11", "198.51.100.30"
RANGE = list(range(10000, 20001))
INNER = [10000, 11250, 12500, 13750, 15000, 16250, 17500, 18750, 20000]


def _operator(**fields: Any) -> Operator:
    return Operator.model_validate({"sip_server": {"ip": REGISTRAR, "domain": "sip.example"},
                                    **fields})


THREE = _operator(signalling_ips=[EDGE], media_ips=[RELAY])
ONE = _operator()
CONFIG = PortSets(by_source={REGISTRAR: [5060], EDGE: [5060], RELAY: RANGE})  # strict


def _flow(source: str | None, *, opened: bool = False, port: int = 5062) -> SipFlow:
    if source is None:
        return SipFlow()
    return SipFlow(method="INVITE", source=(source, port), local_port=5060,
                   registered=(("192.168.254.10", 5060), (REGISTRAR, 5060)),
                   opened_before=1.0 if opened else None)


def _samples(outcome: str, relay: str, ports: list[int] = INNER) -> list[MediaSample]:
    out = [MediaSample(p, outcome, sources=[f"{relay}:30000"],  # type: ignore[arg-type]
                       sdp=f"{relay}:30000") for p in ports]
    return [*out, MediaSample(9999, "closed", sources=[f"{relay}:30002"]),
            MediaSample(20001, "closed", sources=[f"{relay}:30004"])]


def _state(ledger: openings.Ledger) -> dict[tuple[str, str], str]:
    return {(n.address, n.kind): n.status for n in ledger.needs}


def _codes(msgs: list[Any]) -> list[str]:
    return [m.code for m in msgs]


def test_a_silent_operator_leaves_every_address_unproven_never_a_pass() -> None:
    """The false pass of issue 21: no call could be sampled; only the outsider swept."""
    why = msg("SAMPLES_NO_ROUTE")
    ledger = openings.build(THREE, None, why, alg=False)
    assert _state(ledger) == {(REGISTRAR, "sip"): "unproven", (EDGE, "sip"): "unproven",
                              (RELAY, "rtp"): "unproven"}
    assert ledger.verdict_problems() == []
    questions = ledger.open_questions()
    assert _codes(questions) == ["FW_NOT_SAMPLED"] * 3
    assert [q.params["address"] for q in questions] == [REGISTRAR, EDGE, RELAY]
    assert questions[0].params["detail"] == why
    # no configuration: it stays unproven
    assert openings.vouch(ledger, None) == []
    assert ledger.open_questions() == questions


def test_the_configuration_vouches_per_address_and_only_for_whole_needs() -> None:
    ledger = openings.build(THREE, None, msg("SAMPLES_NO_ROUTE"), alg=False)
    only_registrar = PortSets(by_source={REGISTRAR: [5060, *RANGE], EDGE: [], RELAY: []})
    lines = openings.vouch(ledger, only_registrar)
    assert _state(ledger) == {(REGISTRAR, "sip"): "vouched", (EDGE, "sip"): "unproven",
                              (RELAY, "rtp"): "unproven"}
    assert _codes(ledger.open_questions()) == ["FW_UNPROVEN_CONFIG_CLOSED"] * 2
    assert any("does not open 5060 either" in line for line in lines)
    ledger = openings.build(THREE, None, msg("SAMPLES_NO_ROUTE"), alg=False)
    openings.vouch(ledger, CONFIG)
    assert set(_state(ledger).values()) == {"vouched"}
    assert ledger.open_questions() == []
    # a configuration that does not name the address was not judged for it
    ledger = openings.build(THREE, None, msg("SAMPLES_NO_ROUTE"), alg=False)
    openings.vouch(ledger, PortSets(server=[5060, *RANGE]))
    assert set(_state(ledger).values()) == {"unproven"}


def test_three_addresses_each_proven_by_its_own_traffic_the_registrar_by_the_config() -> None:
    """The registrar sends no INVITE here (the edge proxy does): its 5060, which the
    handbook asks for, rests on the configuration."""
    s = Sampling("hairpin", _samples("open", RELAY), _flow(EDGE, port=5060), 20.0)
    ledger = openings.build(THREE, s, None, alg=False)
    assert _state(ledger) == {(REGISTRAR, "sip"): "unproven", (EDGE, "sip"): "proven",
                              (RELAY, "rtp"): "proven"}
    assert _codes(ledger.open_questions()) == ["FW_NO_REQUEST_FROM"]
    assert ledger.verdict_problems() == [] and ledger.reserves == []
    openings.vouch(ledger, CONFIG)
    assert ledger.open_questions() == []
    assert ledger.summary() == {
        REGISTRAR: [{"ports": "UDP 5060", "roles": "registrar", "status": "vouched"}],
        EDGE: [{"ports": "UDP 5060", "roles": "signalling", "status": "proven"}],
        RELAY: [{"ports": "UDP 10000-20000", "roles": "media", "status": "proven"}]}


def test_an_invite_from_another_address_than_the_declared_edge_proves_nothing_for_it() -> None:
    s = Sampling("hairpin", _samples("open", RELAY), _flow(REGISTRAR), 20.0)
    ledger = openings.build(THREE, s, None, alg=False)
    assert _state(ledger) == {(REGISTRAR, "sip"): "proven", (EDGE, "sip"): "unproven",
                              (RELAY, "rtp"): "proven"}
    (edge,) = [n for n in ledger.needs if n.address == EDGE]
    assert edge.why is not None and edge.why.code == "FW_NO_REQUEST_FROM"
    assert edge.why.params["source"] == f"{REGISTRAR}:5062"
    assert ledger.reserves == []  # the registrar's 5060 is in the profile already


def test_an_undeclared_address_the_traffic_shows_is_judged_and_named() -> None:
    s = Sampling("hairpin", _samples("open", RELAY), _flow(EDGE, port=5060), 20.0)
    ledger = openings.build(ONE, s, None, alg=False)
    assert _state(ledger) == {(REGISTRAR, "sip"): "unproven", (REGISTRAR, "rtp"): "unproven",
                              (EDGE, "sip"): "proven", (RELAY, "rtp"): "proven"}
    assert [(m.code, m.params) for m in ledger.reserves] == [
        ("SIP_ELSEWHERE", {"address": EDGE}), ("MEDIA_ELSEWHERE", {"addresses": RELAY})]
    assert [n.declared for n in ledger.needs] == [True, True, False, False]
    assert _codes(ledger.open_questions()) == ["FW_NO_REQUEST_FROM", "FW_NO_MEDIA_FROM"]


def test_one_address_operator_riding_the_registers_flow_falls_to_the_configuration() -> None:
    s = Sampling("hairpin", _samples("open", REGISTRAR), _flow(REGISTRAR, opened=True,
                                                                 port=5060), 20.0)
    ledger = openings.build(ONE, s, None, alg=False)
    assert _state(ledger) == {(REGISTRAR, "sip"): "unproven", (REGISTRAR, "rtp"): "proven"}
    assert _codes(ledger.open_questions()) == ["SIP_FORWARD_UNPROVEN"]
    openings.vouch(ledger, PortSets(by_source={REGISTRAR: [5060, *RANGE]}))
    assert _state(ledger)[(REGISTRAR, "sip")] == "vouched"
    assert ledger.open_questions() == []


def test_media_only_after_the_site_sent_is_closed_or_latching_until_something_decides() -> None:
    s = Sampling("hairpin", _samples("closed", RELAY), _flow(EDGE, port=5060), 20.0)
    latching = openings.build(THREE, s, None, alg=False)
    assert _state(latching)[(RELAY, "rtp")] == "unproven"
    assert latching.verdict_problems() == []  # not a fail: a latching relay does the same
    assert "FW_MEDIA_LATE" in _codes(latching.open_questions())
    # the configuration opens the range to the relay: a latching relay, vouched
    openings.vouch(latching, CONFIG)
    assert _state(latching)[(RELAY, "rtp")] == "vouched"
    # the configuration does not: the firewall drops it, both agree
    closed = openings.build(THREE, s, None, alg=False)
    openings.vouch(closed, PortSets(by_source={REGISTRAR: [5060], EDGE: [5060], RELAY: []}))
    assert _state(closed)[(RELAY, "rtp")] == "closed"
    (rtp,) = closed.verdict_problems()
    assert rtp.code == "RTP_CLOSED_TO_MEDIA" and rtp.params["sources"] == RELAY


def test_a_relay_that_sent_first_somewhere_makes_late_ports_closed() -> None:
    samples = _samples("open", RELAY, INNER[:5]) + _samples("closed", RELAY, INNER[5:])[:4]
    s = Sampling("hairpin", samples, _flow(EDGE, port=5060), 20.0)
    ledger = openings.build(THREE, s, None, alg=False)
    (rtp,) = ledger.verdict_problems()
    assert rtp.code == "RTP_CLOSED_TO_MEDIA"
    assert rtp.params == {"sources": RELAY, "ports": "16250, 17500, 18750, 20000"}


def test_no_invite_at_all_is_closed_to_every_signalling_address() -> None:
    s = Sampling("test number", _samples("closed", RELAY), _flow(None), 20.0,
                 hairpin_failed=msg("CALL_REJECTED", status=408, reason="Timeout"))
    ledger = openings.build(THREE, s, None, alg=False)
    problems = ledger.verdict_problems()
    assert _codes(problems) == ["SIP_CLOSED_TO_SERVER"]
    assert problems[0].params["server"] == EDGE  # it sends the INVITEs, not the registrar
    assert _state(ledger)[(REGISTRAR, "sip")] == "unproven"
    one = openings.build(ONE, s, None, alg=False)
    assert one.verdict_problems()[0].params["server"] == REGISTRAR


def test_the_alg_makes_every_traffic_proof_unproven_and_its_pinholes_its_own() -> None:
    samples = _samples("open", RELAY)
    samples[-2] = MediaSample(9999, "open", sources=[f"{RELAY}:30002"])
    s = Sampling("hairpin", samples, _flow(EDGE, port=5060), 20.0)
    ledger = openings.build(THREE, s, None, alg=True)
    assert set(_state(ledger).values()) == {"unproven"}
    assert _codes(ledger.open_questions()) == [
        "FW_NO_REQUEST_FROM", "FW_ALG_PINHOLES", "FW_ALG_PINHOLES"]
    assert _codes(ledger.reserves) == ["RTP_OPEN_BY_ALG"]
    assert ledger.verdict_problems() == []
    openings.vouch(ledger, CONFIG)
    assert set(_state(ledger).values()) == {"vouched"}
    # without the ALG seen, 9999 opening is the firewall's
    plain = openings.build(THREE, s, None, alg=False)
    assert _codes(plain.verdict_problems()) == ["RTP_OPEN_BEYOND"]


def test_blind_samples_are_unproven_unless_the_range_is_open_to_every_media_address() -> None:
    samples = _samples("open", RELAY)
    samples[3] = MediaSample(13750, "silent")
    s = Sampling("hairpin", samples, _flow(EDGE, port=5060), 20.0)
    ledger = openings.build(THREE, s, None, alg=False)
    assert _codes(ledger.open_questions()) == ["FW_NO_REQUEST_FROM", "RTP_UNPROVEN"]
    openings.vouch(ledger, PortSets(by_source={REGISTRAR: [5060], EDGE: [5060],
                                               RELAY: RANGE[:100]}))
    assert _codes(ledger.open_questions()) == ["RTP_UNPROVEN"]
    openings.vouch(ledger, CONFIG)
    assert ledger.open_questions() == []
