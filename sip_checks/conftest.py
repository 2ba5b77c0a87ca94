"""Fixtures for SIP checks: the seam between checks and the network they run on.

Checks ask for ``account``, ``did``, ``site``, ``inbound_caller`` and ``incidents``; this module
decides what those are for the profile at hand (the lab or a real site) and parametrizes the
checks over the profile's accounts and numbers.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from harness.incidents import Incident
from harness.lab.farend import LabCaller
from harness.plugin import PROFILE_KEY, incidents_of
from harness.profile import Profile
from sip_checks.session import Site


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    profile: Profile | None = metafunc.config.stash.get(PROFILE_KEY, None)
    if profile is None:
        return
    if "account" in metafunc.fixturenames:
        accs = profile.accounts()
        metafunc.parametrize("account", [a.user for a in accs], ids=[a.name for a in accs])
    if "did" in metafunc.fixturenames:
        pairs = [(t.user, d) for t in profile.trunks for d in t.dids]
        pairs += [(c.user, c.did) for c in profile.centrex if c.did]
        metafunc.parametrize("did", pairs, ids=[d for _, d in pairs])
    if "trunk" in metafunc.fixturenames:
        metafunc.parametrize("trunk", [t.user for t in profile.trunks],
                             ids=[t.name for t in profile.trunks])


@pytest.fixture(scope="session")
def site(profile: Profile) -> Site:
    """The agent's own address on the voice LAN: the one the kernel uses to reach the server."""
    srv = profile.operator.sip_server
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((str(srv.ip), srv.port))
        except OSError as exc:
            pytest.fail(f"no route to the operator server {srv.ip}: {exc.strerror}")
        return Site(s.getsockname()[0])


@pytest.fixture
def inbound_caller(profile: Profile) -> Any:
    """Something on the operator side that can call the site's numbers."""
    if profile.lab is None:
        pytest.skip("no operator-side caller for this site: call the DIDs by hand, or use "
                    "the operator probe service")
    from harness.lab.profile import STATE_ROOT

    return LabCaller(profile.lab.namespaces.get("op", f"{profile.lab.prefix}-op"),
                     STATE_ROOT / profile.lab.prefix, str(profile.operator.sip_server.ip),
                     profile.operator.sip_server.port)


@pytest.fixture(scope="session")
def test_number(profile: Profile) -> str:
    """Where outbound test calls go (the profile's operator.test_number)."""
    if profile.operator.test_number is None:
        pytest.skip("no operator.test_number in the profile: nothing to call")
    return profile.operator.test_number


@pytest.fixture(scope="session")
def call_seconds(request: pytest.FixtureRequest) -> float:
    """How long each test call carries RTP (``recette run --call-seconds``, default 10)."""
    return float(request.config.getoption("--recette-call-seconds"))


@pytest.fixture(scope="session")
def nat_idle_max(request: pytest.FixtureRequest) -> float:
    """Longest idle time tried on a UDP binding (``recette run --nat-idle-max``, default 60)."""
    return float(request.config.getoption("--recette-nat-idle-max"))


@pytest.fixture
def incidents(request: pytest.FixtureRequest) -> list[Incident]:
    """Failed calls of this check, as the support desk's five-timestamp rows."""
    return incidents_of(request.config)
