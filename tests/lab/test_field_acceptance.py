"""Acceptance of the field mode: every check gives a true verdict from what a real site has.

The field lab's operator runs nothing of ours (Kamailio + rtpengine, an announcement as the
test number, no probe at the SIP server); the profile has no ``lab:`` section and the run is
started on the voice LAN (the agent's namespace), as an integrator starts it on a site. With
the ALG off and the firewall strict, all 19 checks pass: none skips, none errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import netns
from harness.lab import Lab
from tests.lab.labrun import run_on_site
from tests.lab.wan import uploaded


@pytest.fixture
def short_udp_timeouts(field_lab: Lab) -> Iterator[Lab]:
    """The router forgets idle UDP bindings after 8 s, so nat.behaviour brackets the
    lifetime within ``--nat-idle-max 15`` instead of waiting minutes (kernel defaults
    restored after)."""
    def timeouts(unreplied: int, stream: int) -> None:
        netns.run(field_lab.ns("rtr"), ["sysctl", "-qw",
                                        f"net.netfilter.nf_conntrack_udp_timeout={unreplied}",
                                        f"net.netfilter.nf_conntrack_udp_timeout_stream={stream}"])
    field_lab.set_policy(alg=False, firewall="strict")
    timeouts(8, 8)
    try:
        yield field_lab
    finally:
        timeouts(30, 120)


@pytest.mark.lab
def test_every_check_gives_a_verdict_from_a_bare_profile_on_the_voice_lan(
        short_udp_timeouts: Lab, tmp_path: Path) -> None:
    proc, doc = run_on_site(short_udp_timeouts, tmp_path, "--call-seconds", "3",
                            "--nat-idle-max", "15")
    assert short_udp_timeouts.profile.vantage_points.server is None
    statuses = {c.id: c.status for c in doc.checks}
    assert len(statuses) == 19, (statuses, proc.stderr[-3000:])
    assert set(statuses.values()) == {"pass"}, [
        (c.id, c.status, c.reason()) for c in doc.checks if c.status != "pass"]
    assert proc.returncode == 0
    checks = {c.id: c for c in doc.checks}
    assert checks["firewall.openings"].facts["evidence"] == "operator traffic, outsider sweep"
    assert checks["router.crosscheck"].figures.crosscheck is not None
    # The run reaches the gate through a console that knows the lab's probe: the outsider's
    # signed sweeps back the pass, and the 24 h wait starts.
    (event,) = uploaded(tmp_path, short_udp_timeouts)
    assert event.kind == "verification_pass", event.detail["refused"]
    assert [(a["phase"], a["vantage"]) for a in event.detail["attested"]] == [
        ("cold", "outsider"), ("warm", "outsider")]
