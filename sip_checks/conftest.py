"""Fixtures for SIP checks: the seam between checks and the network they run on.

Checks ask for ``account``, ``did``, ``site``, ``inbound_caller``, ``server_probe``,
``outsider_probe`` and ``incidents``; this module decides what those are for the profile at
hand (the lab or a real site) and parametrizes the checks over the profile's accounts and
numbers.
"""

from __future__ import annotations

import socket

import pytest

from harness.errors import CheckError, not_applicable
from harness.incidents import Incident
from harness.messages import msg
from harness.plugin import PROFILE_KEY, incidents_of
from harness.probe.client import ProbeClient
from harness.profile import Profile
from sip_checks import claims
from sip_checks.session import InboundCaller, Site, probe_client


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
            raise CheckError(msg("NO_ROUTE_TO_SERVER", server=str(srv.ip),
                                 detail=exc.strerror or str(exc))) from None
        return Site(s.getsockname()[0])


@pytest.fixture
def inbound_caller(profile: Profile) -> InboundCaller | None:
    """The reference lab's operator-side caller; None where the operator calls nobody for us
    (a real site, the field lab): the inbound checks then call each DID from the site."""
    if profile.lab is None or not claims.operator_calls_us(profile):
        return None
    from harness.lab.farend import LabCaller
    from harness.lab.profile import STATE_ROOT

    return LabCaller(profile.lab.namespaces.get("op", f"{profile.lab.prefix}-op"),
                     STATE_ROOT / profile.lab.prefix, str(profile.operator.sip_server.ip),
                     profile.operator.sip_server.port)


@pytest.fixture(scope="session")
def test_number(profile: Profile) -> str:
    """Where outbound test calls go (the profile's operator.test_number)."""
    if profile.operator.test_number is None:
        not_applicable(msg("NO_TEST_NUMBER"))
    return profile.operator.test_number


@pytest.fixture
def server_probe(profile: Profile) -> ProbeClient | None:
    """The probe that sends from the operator's SIP server address, or None: no operator runs
    our software on its SBC, so a real site's profile usually names none. Checks then rest on
    the operator's own traffic, the outsider probe and the router's configuration."""
    if profile.vantage_points.server is None:
        return None
    return probe_client(profile, "server")


@pytest.fixture
def outsider_probe(profile: Profile) -> ProbeClient:
    """The probe on an unrelated internet address (the "anyone else" of the firewall rule)."""
    return probe_client(profile, "outsider")


@pytest.fixture(scope="session")
def call_seconds(request: pytest.FixtureRequest) -> float:
    """How long each test call carries RTP (``recette run --call-seconds``, default 10)."""
    return float(request.config.getoption("--recette-call-seconds"))


@pytest.fixture(scope="session")
def load_channels(request: pytest.FixtureRequest) -> tuple[int | None, bool]:
    """``recette run --channels N [--beyond-contract]``: the capacity test's call count
    instead of the trunk's ordered channels, and whether it may exceed them."""
    return (request.config.getoption("--recette-channels"),
            bool(request.config.getoption("--recette-beyond-contract")))


@pytest.fixture(scope="session")
def nat_idle_max(request: pytest.FixtureRequest) -> float:
    """Longest idle time tried on a UDP binding (``recette run --nat-idle-max``, default 60)."""
    return float(request.config.getoption("--recette-nat-idle-max"))


@pytest.fixture
def incidents(request: pytest.FixtureRequest) -> list[Incident]:
    """Failed calls of this check, as the support desk's five-timestamp rows."""
    return incidents_of(request.config)
