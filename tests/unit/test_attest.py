"""Signed attestations (harness/attest.py): what a probe signs, the console verifies, and
nothing else; a hostile upload gets one AttestationError, never another exception."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
from typing import Any

import pytest

from harness.attest import (
    MAX_DOC,
    AttestationError,
    Signer,
    generate,
    key_id,
    sweep_doc,
    verify,
)
from harness.errors import RecetteError


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.from_text(generate()[0])


def _signed(signer: Signer) -> dict[str, str]:
    return signer.sign(sweep_doc(target="198.51.100.7", source="203.0.113.5",
                                 ports=[[5060, 5061], [10000, 20001]], repeat=2, sent=20004,
                                 token="00ff" * 4, site="12345678900011/Lyon"))


def test_generate_gives_base64_raw_keys_and_the_key_id_is_their_sha256() -> None:
    private, public = generate()
    assert len(base64.b64decode(private, validate=True)) == 32
    raw = base64.b64decode(public, validate=True)
    assert len(raw) == 32
    assert key_id(public) == hashlib.sha256(raw).hexdigest()[:16]
    signer = Signer.from_text(private)
    assert (signer.public, signer.key_id) == (public, key_id(public))
    assert private not in repr(signer) and generate() != (private, public)


def test_sign_then_verify_round_trips_the_sweep_doc(signer: Signer) -> None:
    att = _signed(signer)
    assert set(att) == {"doc", "sig", "key"} and att["key"] == signer.key_id
    assert att["doc"] == json.dumps(json.loads(att["doc"]), separators=(",", ":"),
                                    sort_keys=True)
    doc = verify(att, {signer.key_id: signer.public})
    assert doc["probe"] == signer.key_id and doc["v"] == 1 and doc["kind"] == "sweep"
    assert doc["target"] == "198.51.100.7" and doc["ports"] == [[5060, 5061], [10000, 20001]]
    assert doc["site"] == "12345678900011/Lyon" and len(doc["nonce"]) == 16
    at = dt.datetime.fromisoformat(doc["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - at).total_seconds()) < 5
    assert json.loads(_signed(signer)["doc"])["nonce"] != doc["nonce"]


def test_tampering_a_wrong_key_or_an_unknown_key_is_refused(signer: Signer) -> None:
    att = _signed(signer)
    keys = {signer.key_id: signer.public}
    tampered = att["doc"].replace("198.51.100.7", "198.51.100.8")
    with pytest.raises(AttestationError, match="bad signature"):
        verify({**att, "doc": tampered}, keys)
    sig = bytearray(base64.b64decode(att["sig"]))
    sig[0] ^= 1
    with pytest.raises(AttestationError, match="bad signature"):
        verify({**att, "sig": base64.b64encode(bytes(sig)).decode()}, keys)
    other = Signer.from_text(generate()[0])
    with pytest.raises(AttestationError, match="bad signature"):  # registered under its id
        verify(att, {signer.key_id: other.public})
    with pytest.raises(AttestationError, match=f"^unknown probe key {signer.key_id}$"):
        verify(att, {other.key_id: other.public})
    # Another registered probe's attestation relabelled as this one's: the doc says who.
    theirs = _signed(other)
    with pytest.raises(AttestationError):
        verify({**theirs, "key": signer.key_id}, {**keys, other.key_id: other.public})


def test_the_doc_must_name_its_key_and_version(signer: Signer) -> None:
    keys = {signer.key_id: signer.public}

    def raw(doc: dict[str, Any]) -> dict[str, str]:  # signed as is, no "probe" added
        text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
        return {"doc": text, "sig": base64.b64encode(signer._private.sign(text.encode())).decode(),
                "key": signer.key_id}

    with pytest.raises(AttestationError, match="another probe"):
        verify(raw({"v": 1, "probe": "0" * 16}), keys)
    for v in (2, True, "1", None):
        with pytest.raises(AttestationError, match="version"):
            verify(raw({"v": v, "probe": signer.key_id}), keys)
    with pytest.raises(AttestationError, match="not a JSON object"):
        text = "[1]"
        verify({"doc": text, "sig": base64.b64encode(signer._private.sign(b"[1]")).decode(),
                "key": signer.key_id}, keys)
    assert verify(raw({"v": 1, "probe": signer.key_id}), keys)["v"] == 1


def test_malformed_keys_are_one_line_errors_that_never_echo_the_key() -> None:
    for bad in ("", "not base64!", base64.b64encode(b"x" * 31).decode(), "A" * 500):
        with pytest.raises(AttestationError) as exc:
            Signer.from_text(bad)
        assert isinstance(exc.value, RecetteError) and "\n" not in str(exc.value)
        assert not bad or bad[:20] not in str(exc.value)
        with pytest.raises(AttestationError):
            key_id(bad)
    with pytest.raises(AttestationError, match="too long"):
        Signer.from_text(generate()[0]).sign({"x": "y" * MAX_DOC})


def test_verify_raises_only_attestation_errors_whatever_it_is_given(signer: Signer) -> None:
    good = _signed(signer)
    keys: dict[str, Any] = {signer.key_id: signer.public, "k": "bad key", "n": None}
    values: list[Any] = [None, 1, 1.5, True, "", "x" * 5000, [], {}, ["a"], {"a": 1},
                         "\ud800", "k", "n", good["doc"], good["sig"], signer.key_id,
                         "[" * 3000, '{"v":1}', base64.b64encode(b"\0" * 64).decode()]
    rng = random.Random(22)
    cases: list[Any] = [None, [], "doc", 5, {"doc": good["doc"]}]
    for _ in range(400):
        att: dict[str, Any] = dict(good)
        for field in rng.sample(["doc", "sig", "key", "extra"], rng.randint(1, 3)):
            att[field] = rng.choice(values)
        cases.append(att)
    for _ in range(200):  # the signed text itself, mutated byte by byte
        text = list(good["doc"])
        for _ in range(rng.randint(1, 4)):
            text[rng.randrange(len(text))] = chr(rng.randrange(0, 0x3000))
        cases.append({**good, "doc": "".join(text)})
    for case in cases:
        try:
            verify(case, keys)
        except AttestationError as exc:
            assert "\n" not in str(exc)
    assert verify(good, keys)["probe"] == signer.key_id
