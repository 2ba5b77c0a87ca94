"""The agent's sweep (sip_checks/probes/firewall.py) against a real probe on loopback: the
request names the site, and the probe's attestation is kept exactly as it came, or None
from a probe without a signing key (no error: the console judges)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest

from harness.attest import Signer, generate, verify
from harness.probe.client import ProbeClient
from harness.probe.server import ProbeConfig, ProbeServer
from sip_checks.probes.firewall import SWEPT, Listener, Sweep, attestation_of, sweep

KEY = secrets.token_urlsafe(32)
SIGNING, PUBLIC = generate()


def _probe(signing: str | None) -> ProbeServer:
    srv = ProbeServer(ProbeConfig(control=("127.0.0.1", 0), send_from=None, key=KEY.encode(),
                                  sip_listen=False,
                                  signing_key=Signer.from_text(signing) if signing else None))
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    return srv


@pytest.fixture
def listener() -> Iterator[Listener]:
    """No port bound: the sweep's datagrams go nowhere (its attestation is what is tested)."""
    got = Listener("127.0.0.1", [])
    try:
        yield got
    finally:
        got.close()


@pytest.mark.parametrize("signing", [SIGNING, None], ids=["signed", "unsigned"])
def test_a_sweep_carries_the_site_and_keeps_the_attestation_verbatim(
        listener: Listener, signing: str | None) -> None:
    srv = _probe(signing)
    try:
        client = ProbeClient("127.0.0.1", srv.server_address[1], KEY.encode())
        got = sweep(listener, client, "outsider", "cold", "12345678900011/Lyon")
    finally:
        srv.shutdown()
        srv.server_close()
    assert got.to == "127.0.0.1" and got.sent == 2 * len(SWEPT)
    if signing is None:
        assert got.attestation is None
        assert got.attested() == "cold from outsider (127.0.0.1): unsigned: the console " \
                                 "cannot verify it"
        return
    signer = Signer.from_text(SIGNING)
    assert got.attestation is not None and got.attestation["key"] == signer.key_id
    doc = verify(got.attestation, {signer.key_id: PUBLIC})
    assert doc["site"] == "12345678900011/Lyon" and doc["target"] == got.to
    assert doc["ports"] == [[5060, 5061], [9999, 20001]] and doc["sent"] == got.sent
    assert got.attested() == f"cold from outsider (127.0.0.1): signed by probe key " \
                             f"{signer.key_id}"


@pytest.mark.parametrize("answer", [
    {}, {"attestation": None}, {"attestation": "text"}, {"attestation": {"doc": "x"}},
    {"attestation": {"doc": "x", "sig": 1, "key": "k"}},
    {"attestation": {"doc": "x" * 9000, "sig": "s", "key": "k"}},
])
def test_a_malformed_attestation_is_none_not_an_error(answer: dict[str, object]) -> None:
    assert attestation_of(answer) is None


def test_only_the_three_fields_are_kept() -> None:
    att = {"doc": "d", "sig": "s", "key": "k", "extra": "e"}
    assert attestation_of({"attestation": att}) == {"doc": "d", "sig": "s", "key": "k"}
    assert Sweep("outsider", "warm", "x", frozenset(), 0, 0.0).attestation is None
