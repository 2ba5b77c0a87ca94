"""Shared fixtures: a real reference lab per test module, always torn down."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from harness.lab import Lab


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A freshly built lab (strict firewall, ALG off); tests may change its policy."""
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}")
    try:
        yield built
    finally:
        built.down()


@pytest.fixture
def strict_lab(lab: Lab) -> Lab:
    """The module's lab reset to strict firewall, ALG off, Kamailio running."""
    lab.set_policy(alg=False, firewall="strict")
    if not lab.kamailio_running():
        lab.start_kamailio()
    return lab
