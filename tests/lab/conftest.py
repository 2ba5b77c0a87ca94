"""Shared fixtures: a real lab per test module (the reference operator, or the field one that
behaves like a carrier's SBC), always torn down."""

from __future__ import annotations

import contextlib
import fcntl
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.lab import Lab
from harness.lab.topology import OperatorKind


def _built(operator: OperatorKind, shape: str = "default") -> Iterator[Lab]:
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", operator=operator, shape=shape)
    try:
        yield built
    finally:
        built.down()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A freshly built lab (strict firewall, ALG off); tests may change its policy."""
    yield from _built("default")


@pytest.fixture(scope="module")
def field_lab() -> Iterator[Lab]:
    """A field lab (media on the SIP server's address, strict firewall, ALG off)."""
    yield from _built("field")


@pytest.fixture(scope="module")
def one_address_lab() -> Iterator[Lab]:
    """A field lab whose operator sends everything from 198.51.100.10:5060."""
    yield from _built("field", "one-address")


@pytest.fixture(scope="module")
def three_address_lab() -> Iterator[Lab]:
    """A field lab whose operator has a registrar (.10), an edge proxy sending the INVITEs
    (.11) and a media relay (.30), declared in the profile."""
    yield from _built("field", "three-address")


@pytest.fixture(scope="module")
def latching_lab() -> Iterator[Lab]:
    """A field lab whose relay sends media only once the site's first packet reached it."""
    yield from _built("field", "latching")


@pytest.fixture
def strict_lab(lab: Lab) -> Lab:
    """The module's lab reset to strict firewall, ALG off, Kamailio running."""
    lab.set_policy(alg=False, firewall="strict")
    if not lab.kamailio_running():
        lab.start_kamailio()
    return lab


# A lab built by `recette lab up` has no live owner once the command returns, so a `recette
# lab down` without --prefix removes it, by design. The one test of that global down takes
# this lock exclusively; every test holding a CLI-built lab holds it shared, so the global
# down never runs while another worker's CLI-built lab is up.
CLI_LABS_LOCK = Path(tempfile.gettempdir()) / "recette-tests-cli-labs.lock"


@contextlib.contextmanager
def _cli_labs(mode: int) -> Iterator[None]:
    with open(CLI_LABS_LOCK, "a") as f:
        fcntl.flock(f, mode)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture
def cli_lab() -> Iterator[None]:
    """Held by a test that builds a lab with `recette lab up` (shared)."""
    with _cli_labs(fcntl.LOCK_SH):
        yield


@pytest.fixture(scope="module")
def cli_lab_module() -> Iterator[None]:
    """:func:`cli_lab` for a module-scoped lab built with `recette lab up`."""
    with _cli_labs(fcntl.LOCK_SH):
        yield


@pytest.fixture
def every_cli_lab() -> Iterator[None]:
    """Held (exclusively) by the test of `recette lab down` without --prefix."""
    with _cli_labs(fcntl.LOCK_EX):
        yield
