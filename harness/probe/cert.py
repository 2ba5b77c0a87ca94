"""A self-signed certificate for the probe's HTTPS control channel (``recette probe cert``).

An outsider probe is a VM known by its IP address, rarely by a DNS name, so no public CA will
certify it; the site agent instead pins the probe's own certificate (the profile's
``vantage_points.*.tls_ca``). The certificate therefore carries the address as an IP SAN
(what :mod:`ssl` checks when the host name is an IP) and the CN, is EC P-256 (small, fast on
a 1-vCPU VM, accepted everywhere TLS 1.2 is) and is its own CA (basicConstraints CA:TRUE), so
OpenSSL accepts it as a trust anchor. The key is written 0600 from its creation on.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.errors import RecetteError

DEFAULT_DAYS = 825  # what browsers long capped a server certificate at; renew with a new one


@dataclass(frozen=True)
class CertFiles:
    """Where ``write`` put the certificate (for the profile and --tls-cert) and its key."""

    cert: Path
    key: Path


def make(address: IPv4Address, days: int = DEFAULT_DAYS) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) for a probe at ``address``, valid ``days`` days
    from one minute ago (a site agent whose clock is a little behind still accepts it)."""
    if days < 1:
        raise RecetteError(f"--days: expected at least 1 day, got {days}")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(address))])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(address)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                       critical=False)  # OpenSSL's strict verification wants both
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def paths(address: IPv4Address, out: Path, name: str | None = None) -> CertFiles:
    """The two files for ``address`` in ``out``: ``name`` (``probe`` for the systemd drop-in
    ``deploy/recette-probe-https.conf``, which loads /etc/recette/probe.crt and .key), or by
    default named after the address, so certificates of several probes can share a folder."""
    base = name or f"probe-{address}"
    return CertFiles(out / f"{base}.crt", out / f"{base}.key")


def write(address: IPv4Address, out: Path, days: int = DEFAULT_DAYS,
          name: str | None = None) -> CertFiles:
    """Generate and write the pair into ``out``; refuse (RecetteError naming the file) if
    either exists, since a probe may already be serving with it and its sites pin it.

    Both files are created with O_EXCL (no race with another writer, no following a planted
    symlink) and the key with mode 0600 from the start, whatever the umask."""
    if not out.is_dir():
        raise RecetteError(f"--out: folder {out} does not exist")
    if name is not None and (not name or "/" in name or name.startswith(".")):
        raise RecetteError(f"--name: {name!r} is not a plain file name")
    files = paths(address, out, name)
    for path in (files.cert, files.key):
        if path.exists() or path.is_symlink():
            raise RecetteError(f"{path} exists (a probe may be serving it and sites pin it); "
                               "remove it or choose another --out")
    cert_pem, key_pem = make(address, days)
    written: list[Path] = []
    try:
        for path, data, mode in ((files.key, key_pem, 0o600), (files.cert, cert_pem, 0o644)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            written.append(path)
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(data)
    except FileExistsError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise RecetteError(f"{exc.filename} exists (created meanwhile); nothing written") \
            from None
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise RecetteError(f"cannot write {exc.filename or out}: {exc.strerror}") from None
    return files
