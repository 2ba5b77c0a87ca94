"""The operator's advised-against devices (handbook §VIII-A) are named when the profile says
which device the site uses."""

from __future__ import annotations

import pytest

from harness.profile import Router
from router_checks.audit import audit_device
from router_checks.model import RouterModel


@pytest.mark.parametrize(("model", "flagged"), [
    ("Livebox 4", True), ("Freebox Delta", True), ("Netgear DG834G v4", True),
    ("TP-Link Archer VR600", True), ("Cisco C891F-K9", False), ("OpIOS R200", False),
])
def test_advised_against_devices(model: str, flagged: bool) -> None:
    router = Router.model_validate({"kind": "cisco_ios", "host": "192.0.2.1",
                                    "username": "admin", "password": "x", "model": model})
    found = audit_device(RouterModel(kind="cisco_ios"), router)
    assert bool(found) == flagged
    if flagged:
        assert found[0].code == "DEVICE_ADVISED_AGAINST" and model in str(found[0].message)
