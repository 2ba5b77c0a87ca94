"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616 algorithms, RFC 8760 for SIP).

Operators challenge REGISTER (401 WWW-Authenticate) and INVITE (407 Proxy-Authenticate).
A challenge may offer several algorithms; we answer the strongest we support (SHA-256 before
MD5) as RFC 8760 asks. The password only ever enters :func:`authorization`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')
SUPPORTED = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}
PREFERENCE = ("SHA-256-sess", "SHA-256", "MD5-sess", "MD5")


class DigestError(ValueError):
    """A challenge we cannot answer (unknown scheme or algorithm, missing realm/nonce)."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """Parse one ``Digest ...`` challenge header value."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"unsupported authentication scheme {scheme!r}")
    params: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        raw = m.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[m.group(1).lower()] = raw
    if "realm" not in params or "nonce" not in params:
        raise DigestError("challenge without realm or nonce")
    algorithm = params.get("algorithm", "MD5")
    base = algorithm.upper().removesuffix("-SESS")
    if base not in SUPPORTED:
        raise DigestError(f"unsupported digest algorithm {algorithm!r}")
    qop = tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip())
    if qop and "auth" not in qop:
        raise DigestError(f"unsupported qop {params['qop']!r} (only 'auth')")
    return Challenge(params["realm"], params["nonce"], algorithm, qop, params.get("opaque"),
                     params.get("stale", "").lower() == "true")


def best(challenges: list[str]) -> Challenge:
    """The challenge with the strongest algorithm we support among several headers."""
    parsed: list[Challenge] = []
    errors: list[str] = []
    for value in challenges:
        try:
            parsed.append(parse_challenge(value))
        except DigestError as exc:
            errors.append(str(exc))
    if not parsed:
        raise DigestError("; ".join(errors) or "no challenge")

    def rank(c: Challenge) -> int:
        upper = [p.upper() for p in PREFERENCE]
        return upper.index(c.algorithm.upper()) if c.algorithm.upper() in upper else 99

    return min(parsed, key=rank)


def _h(algorithm: str, data: str) -> str:
    fn = SUPPORTED[algorithm.upper().removesuffix("-SESS")]
    return fn(data.encode()).hexdigest()


def authorization(
    ch: Challenge, *, method: str, uri: str, username: str, password: str, nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The ``Authorization``/``Proxy-Authorization`` value answering ``ch``."""
    alg = ch.algorithm
    cnonce = cnonce or secrets.token_hex(8)
    ha1 = _h(alg, f"{username}:{ch.realm}:{password}")
    if alg.upper().endswith("-SESS"):
        ha1 = _h(alg, f"{ha1}:{ch.nonce}:{cnonce}")
    ha2 = _h(alg, f"{method}:{uri}")
    parts = [f'username="{username}"', f'realm="{ch.realm}"', f'nonce="{ch.nonce}"',
             f'uri="{uri}"']
    if ch.qop:
        ncv = f"{nc:08x}"
        response = _h(alg, f"{ha1}:{ch.nonce}:{ncv}:{cnonce}:auth:{ha2}")
        parts += [f'response="{response}"', f"algorithm={alg}", "qop=auth", f"nc={ncv}",
                  f'cnonce="{cnonce}"']
    else:
        response = _h(alg, f"{ha1}:{ch.nonce}:{ha2}")
        parts += [f'response="{response}"', f"algorithm={alg}"]
    if ch.opaque is not None:
        parts.append(f'opaque="{ch.opaque}"')
    return "Digest " + ", ".join(parts)
