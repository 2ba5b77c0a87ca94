"""Signed attestations: what a probe saw, in a form the console can check without trusting
the site agent that carries it.

The operator's technical service opens international calling on a verified firewall. The
site agent runs the checks and uploads ``results.json``, so on its own word a sweep's figures
could be anyone's. The probe therefore signs what it did (Ed25519, a key that never leaves
the probe host) and the agent only carries the signed text; the console, which registers
each probe's public key, calls :func:`verify` on it. The signed text is kept verbatim
(``doc``) rather than re-serialised on checking: no canonical-JSON subtleties between the
signer and the verifier, the signature covers exactly the bytes stored.

Core module: the standard library, ``cryptography`` and :mod:`harness.errors` only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from harness.errors import RecetteError

VERSION = 1
KIND_SWEEP = "sweep"
MAX_DOC = 4096  # characters of the signed JSON text: a sweep's doc is a few hundred
MAX_SIG = 200  # base64 of a 64-byte signature is 88 characters
MAX_KEY_ID = 64
KEY_ID_HEX = 16

_RAW = serialization.Encoding.Raw


class AttestationError(RecetteError):
    """An attestation (or a key) that cannot be trusted, with a one-line reason that never
    repeats key material."""


def _raw_key(text: object, what: str) -> bytes:
    """The 32 raw bytes of a key given as standard base64 (whitespace around it tolerated:
    keys travel through environment files and copy-paste)."""
    if not isinstance(text, str) or len(text) > 100:
        raise AttestationError(f"malformed {what}: expected base64 of 32 bytes")
    try:
        raw = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise AttestationError(f"malformed {what}: not base64") from None
    if len(raw) != 32:
        raise AttestationError(f"malformed {what}: expected 32 bytes, got {len(raw)}")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def generate() -> tuple[str, str]:
    """A new key pair: (private key text, public key text), standard base64 of the raw
    32-byte keys (one line each, fit for an environment file)."""
    private = Ed25519PrivateKey.generate()
    priv = private.private_bytes(_RAW, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    return _b64(priv), _b64(private.public_key().public_bytes(
        _RAW, serialization.PublicFormat.Raw))


def key_id(public: str) -> str:
    """A public key's short name: the first 16 hex digits of SHA-256 of its raw bytes (what
    an attestation names, and what an operator compares on both sides)."""
    return hashlib.sha256(_raw_key(public, "public key")).hexdigest()[:KEY_ID_HEX]


class Signer:
    """A probe's signing key. Built from its text with :meth:`from_text`; the private key
    stays inside (no attribute, repr or error shows it)."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = _b64(private.public_key().public_bytes(
            _RAW, serialization.PublicFormat.Raw))
        self.key_id = key_id(self.public)

    @classmethod
    def from_text(cls, private: str) -> Signer:
        try:
            raw = _raw_key(private, "signing key")
        except AttestationError as exc:
            raise AttestationError(str(exc)) from None
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"

    def sign(self, doc: Mapping[str, Any]) -> dict[str, str]:
        """``doc`` with ``probe`` set to this key's id, as compact sorted JSON, its signature
        over the UTF-8 bytes of that text, and the key id: what the agent carries as is."""
        text = json.dumps({**doc, "probe": self.key_id}, separators=(",", ":"),
                          sort_keys=True)
        if len(text) > MAX_DOC:
            raise AttestationError(f"attestation too long ({len(text)} > {MAX_DOC} "
                                   "characters)")
        sig = self._private.sign(text.encode("utf-8"))
        return {"doc": text, "sig": _b64(sig), "key": self.key_id}


def now_iso() -> str:
    """The probe's UTC time, milliseconds: when the attested thing happened."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def sweep_doc(*, target: str, source: str, ports: Sequence[Sequence[int]], repeat: int,
              sent: int, token: str, site: str | None) -> dict[str, Any]:
    """The document a probe signs for one sweep (``probe`` is added by :meth:`Signer.sign`):
    whom it sent to, from where, which ports, how many datagrams, the agent's token and
    site, when, and a nonce that makes two identical sweeps two attestations."""
    return {"v": VERSION, "kind": KIND_SWEEP, "at": now_iso(), "target": target,
            "source": source, "ports": [[int(lo), int(hi)] for lo, hi in ports],
            "repeat": repeat, "sent": sent, "token": token, "site": site,
            "nonce": secrets.token_hex(8)}


def verify(att: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, Any]:
    """The attested document, once its signature checks under the registered key it names.

    ``keys`` maps key id to public key text (the console's registry). Anything else than a
    good attestation raises :class:`AttestationError` with one line: the input comes from an
    upload, so no exception of another kind may escape, whatever it holds."""
    try:
        return _verify(att, keys)
    except AttestationError:
        raise
    except Exception as exc:  # a promise to callers: never anything but AttestationError
        raise AttestationError(f"unreadable attestation ({type(exc).__name__})") from None


def _verify(att: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(att, Mapping):
        raise AttestationError("attestation is not an object")
    doc, sig, kid = att.get("doc"), att.get("sig"), att.get("key")
    if not (isinstance(doc, str) and isinstance(sig, str) and isinstance(kid, str)):
        raise AttestationError("attestation needs doc, sig and key strings")
    if len(doc) > MAX_DOC or len(sig) > MAX_SIG or len(kid) > MAX_KEY_ID:
        raise AttestationError("attestation too long")
    shown = kid if kid.isascii() and kid.isalnum() else "(not a key id)"
    if kid not in keys:
        raise AttestationError(f"unknown probe key {shown}")
    raw_pub = _raw_key(keys[kid], f"registered public key {shown}")
    try:
        raw_sig = base64.b64decode(sig.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise AttestationError("signature is not base64") from None
    if len(raw_sig) != 64:
        raise AttestationError("signature is not 64 bytes")
    try:
        data = doc.encode("utf-8")
    except UnicodeEncodeError:
        raise AttestationError("doc is not UTF-8 text") from None
    try:
        Ed25519PublicKey.from_public_bytes(raw_pub).verify(raw_sig, data)
    except InvalidSignature:
        raise AttestationError(f"bad signature for probe key {shown}") from None
    try:
        parsed = json.loads(doc)
    except (ValueError, RecursionError):
        raise AttestationError("doc is not JSON") from None
    if not isinstance(parsed, dict):
        raise AttestationError("doc is not a JSON object")
    if parsed.get("probe") != kid:
        raise AttestationError(f"doc names another probe than key {shown}")
    v = parsed.get("v")
    if type(v) is not int or v != VERSION:
        raise AttestationError(f"unsupported attestation version (expected {VERSION})")
    return parsed
