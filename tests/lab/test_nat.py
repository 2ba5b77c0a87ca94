"""Acceptance: NAT behaviour of the lab router (Linux masquerade) as the probes see it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import netns
from harness.lab import Lab
from tests.lab.labrun import run


def _udp_timeouts(lab: Lab, unreplied: int, stream: int) -> None:
    netns.run(lab.ns("rtr"), ["sysctl", "-qw",
                              f"net.netfilter.nf_conntrack_udp_timeout={unreplied}",
                              f"net.netfilter.nf_conntrack_udp_timeout_stream={stream}"])


@pytest.mark.lab
def test_nat_behaviour_and_binding_lifetime(strict_lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    _udp_timeouts(strict_lab, 8, 8)  # short, so the test does not wait minutes
    try:
        proc, doc = run(prof, tmp_path / "out", "nat.behaviour", "--nat-idle-max", "15")
    finally:
        _udp_timeouts(strict_lab, 30, 120)  # the kernel's defaults
    (check,) = doc.checks
    assert proc.returncode == 0, check.reason()
    facts = check.facts
    assert facts["port preservation"].startswith("yes")
    assert facts["mapping"].startswith("endpoint-independent")
    assert facts["UDP binding lifetime"] == (
        "UDP bindings expire between 5 and 10 s idle: send a keep-alive (or refresh the "
        "registration) every 4 s or less")
    nat = check.figures.nat
    assert nat is not None and nat.alive_max_s == 5 and nat.expired_min_s == 10
