"""firewall.openings' bookkeeping: what it hands router.crosscheck (sip_checks/check_firewall.py).
What each operator address's opening rests on is tests/unit/test_openings.py."""

from __future__ import annotations

from harness.plugin import RunState
from harness.profile import Operator
from harness.results import PortSets
from sip_checks import openings
from sip_checks.check_firewall import _measured, alg_pinholes, alg_seen, public_address
from sip_checks.probes.firewall import EXPECTED, Sweep
from sip_checks.probes.media_ports import MediaSample, Sampling, SipFlow
from sip_checks.session import Site
from sip_checks.toolkit import sdp

SERVER = "198.51.100.10"
OPERATOR = Operator.model_validate({"sip_server": {"ip": SERVER, "domain": "sip.example"}})


def _sweep(vantage: str, phase: str, ports: set[int], source: str = "203.0.113.66") -> Sweep:
    return Sweep(vantage, phase, source, frozenset(ports), 20010, 0.4)


def _sampling(proven: bool | None) -> Sampling:
    flow = SipFlow(method="INVITE", source=(SERVER, 5062), local_port=5060,
                   opened_before=None if proven else 1.0) if proven is not None else SipFlow()
    relay = [f"{SERVER}:30000"]
    return Sampling("hairpin", [MediaSample(10000, "open", sources=relay),
                                MediaSample(17000, "closed", sources=relay),
                                MediaSample(18000, "silent"),
                                MediaSample(9999, "closed", sources=relay)],
                    flow, 6.0)


def _measure(sweeps: list[Sweep], s: Sampling | None) -> PortSets:
    ledger = openings.build(OPERATOR, s, None, alg=False)
    return _measured(sweeps, ledger, s, SERVER)


def test_samples_give_the_tested_ports_and_those_found_open() -> None:
    sweeps = [_sweep("outsider", "cold", set()), _sweep("outsider", "warm", set())]
    got = _measure(sweeps, _sampling(True))
    assert (got.server, got.others, got.tested) == ([5060, 10000], [],
                                                    [5060, 9999, 10000, 17000])
    # the relay's media reached 10000 first and 17000 only after: 17000 is closed to it
    assert got.by_source == {SERVER: [5060, 10000]}
    assert got.tested_by_source == {SERVER: [5060, 9999, 10000, 17000]}


def test_an_unproven_invite_leaves_5060_untested() -> None:
    got = _measure([_sweep("outsider", "cold", {5060})], _sampling(False))
    assert got.tested is not None and 5060 not in got.tested and got.others == [5060]


def test_a_server_sweep_is_every_port_of_its_address() -> None:
    sweeps = [_sweep("server", "cold", set(EXPECTED), SERVER), _sweep("outsider", "cold", set())]
    got = _measure(sweeps, None)
    assert got.tested is None and set(got.server) == EXPECTED
    assert set(got.by_source[SERVER]) == EXPECTED


def test_the_algs_pinholes_are_told_from_the_rules() -> None:
    """Ports an SDP of ours named to the outsider (and the next, RTCP) are the ALG's when an
    ALG was seen; anything else, or any port without an ALG, stays the firewall's."""
    sdp.OFFERED.clear()
    try:
        sdp.offered(16798, "203.0.113.66")
        sdp.offered(17000, "198.51.100.10")  # to the operator: not the outsider's pinhole
        swept = _sweep("outsider", "cold", {16798, 16799, 17000, 12000})
        rest, pinholes = alg_pinholes(swept, True, None)
        assert pinholes == {16798, 16799} and rest.open_ports == {17000, 12000}
        assert alg_pinholes(swept, False, None) == (swept, frozenset())
        # the configuration opens 16799 to any address: that one is a rule's
        rest, pinholes = alg_pinholes(swept, True, PortSets(any_source=[16799]))
        assert pinholes == {16798} and 16799 in rest.open_ports
    finally:
        sdp.OFFERED.clear()


def test_an_alg_is_known_from_the_alg_check_or_the_configuration() -> None:
    assert not alg_seen(RunState())
    assert alg_seen(RunState(alg=True))
    assert alg_seen(RunState(predicted=PortSets(sip_alg=True)))
    assert not alg_seen(RunState(alg=False, predicted=PortSets(sip_alg=False)))


def test_the_public_address_is_the_registrars_view_else_the_outsiders_target() -> None:
    sweeps = [_sweep("server", "cold", set(), SERVER),
              _sweep("outsider", "cold", set())]
    assert public_address(Site("192.168.10.5"), sweeps) is None  # an older probe: no "to"
    sweeps[0] = Sweep("server", "cold", SERVER, frozenset(), 1, 0.1, to="203.0.113.9")
    sweeps[1] = Sweep("outsider", "cold", "198.51.100.50", frozenset(), 1, 0.1,
                      to="203.0.113.7")
    got = public_address(Site("192.168.10.5"), sweeps)
    assert got is not None and (got.address, got.seen_by) == ("203.0.113.7", "probe")
    got = public_address(Site("192.168.10.5", public="203.0.113.8"), sweeps)
    assert got is not None and (got.address, got.seen_by) == ("203.0.113.8", "registrar")
