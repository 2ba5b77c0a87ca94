"""firewall.openings' bookkeeping: what it hands router.crosscheck, and when the router's
configuration may vouch for what the operator's traffic left unproven."""

from __future__ import annotations

from harness.evidence import Evidence
from harness.messages import msg
from harness.results import PortSets
from sip_checks.check_firewall import _config_covers, _measured
from sip_checks.probes.firewall import EXPECTED, Sweep
from sip_checks.probes.media_ports import MediaSample, Sampling, SipFlow


def _sweep(vantage: str, phase: str, ports: set[int]) -> Sweep:
    return Sweep(vantage, phase, "203.0.113.66", frozenset(ports), 20010, 0.4)


def _sampling(proven: bool | None) -> Sampling:
    flow = SipFlow(method="INVITE", source=("198.51.100.10", 5062), local_port=5060,
                   opened_before=None if proven else 1.0) if proven is not None else SipFlow()
    return Sampling("hairpin", [MediaSample(10000, "open"), MediaSample(17000, "closed"),
                                MediaSample(18000, "silent"), MediaSample(9999, "closed")],
                    flow, 6.0)


def test_samples_give_the_tested_ports_and_those_found_open() -> None:
    sweeps = [_sweep("outsider", "cold", set()), _sweep("outsider", "warm", set())]
    got = _measured(sweeps, _sampling(True))
    assert got == PortSets(server=[5060, 10000], others=[], tested=[5060, 9999, 10000, 17000])


def test_an_unproven_invite_leaves_5060_untested() -> None:
    got = _measured([_sweep("outsider", "cold", {5060})], _sampling(False))
    assert got.tested is not None and 5060 not in got.tested and got.others == [5060]


def test_a_server_sweep_is_every_port() -> None:
    sweeps = [_sweep("server", "cold", set(EXPECTED)), _sweep("outsider", "cold", set())]
    got = _measured(sweeps, None)
    assert got.tested is None and set(got.server) == EXPECTED


def test_the_configuration_vouches_only_when_it_opens_every_port_to_the_server() -> None:
    unproven = [msg("SIP_NO_CALL_IN")]
    ev = Evidence()
    assert _config_covers(unproven, PortSets(server=sorted(EXPECTED)), ev) == []
    assert "unproven by traffic, open in the router's configuration" in ev.facts
    partial = PortSets(server=[5060, *range(10000, 15001)])
    assert _config_covers(unproven, partial, Evidence()) == unproven
