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

# One auth-param (RFC 7235 §2.1, RFC 3261 §25.1), matched only where a parameter starts: a
# name, LWS, "=", then a quoted-string (quoted-pairs kept, unescaped later) or a token. Junk
# is skipped to the next comma by the caller, so every byte is looked at a bounded number of
# times: a regex search would retry the name at every offset of a long run without "=",
# which is quadratic (seconds on an 8 kB header, the event loop stalled meanwhile).
_NAME = re.compile(r"[ \t,]*([A-Za-z0-9_.!%*+`'~-]+)[ \t]*(=?)[ \t]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_TOKEN = re.compile(r'[^,\s"]*')
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
# Control characters (HTAB aside) never belong in a value we write back into a header.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
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
    scheme, _, rest = value.strip().replace("\t", " ").partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"unsupported authentication scheme {scheme!r}")
    params = _params(rest)
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


def _params(rest: str) -> dict[str, str]:
    """The ``name=value`` parameters of a challenge, unquoted. A repeated name is refused
    (RFC 7235 §2.2: each occurs once): which realm or nonce to answer would be a guess."""
    params: dict[str, str] = {}
    pos, end = 0, len(rest)
    while pos < end:
        name = _NAME.match(rest, pos)
        if name is None or not name.group(2):  # junk or a bare word: skip to the next comma
            comma = rest.find(",", pos + 1 if name is None else name.end())
            pos = end if comma < 0 else comma + 1
            continue
        pos = name.end()
        if rest.startswith('"', pos):
            quoted = _QUOTED.match(rest, pos)
            if quoted is None:
                raise DigestError(f"unterminated quoted string in parameter {name.group(1)!r}")
            value = _QUOTED_PAIR.sub(r"\1", quoted.group(1))
            pos = quoted.end()
        else:
            token = _TOKEN.match(rest, pos)
            assert token is not None  # the pattern matches the empty string
            value = token.group(0)
            pos = token.end()
        if _CONTROL.search(value):
            raise DigestError(f"control character in parameter {name.group(1)!r}")
        key = name.group(1).lower()
        if key in params:
            raise DigestError(f"parameter {key!r} repeated")
        params[key] = value
    return params


def _quote(value: str) -> str:
    """A quoted-string (RFC 3261 §25.1): backslash and double quote escaped, so a realm like
    ``a", evil="x`` stays one parameter when written back."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
    parts = [f"username={_quote(username)}", f"realm={_quote(ch.realm)}",
             f"nonce={_quote(ch.nonce)}", f"uri={_quote(uri)}"]
    if ch.qop:
        ncv = f"{nc:08x}"
        response = _h(alg, f"{ha1}:{ch.nonce}:{ncv}:{cnonce}:auth:{ha2}")
        parts += [f'response="{response}"', f"algorithm={alg}", "qop=auth", f"nc={ncv}",
                  f"cnonce={_quote(cnonce)}"]
    else:
        response = _h(alg, f"{ha1}:{ch.nonce}:{ha2}")
        parts += [f'response="{response}"', f"algorithm={alg}"]
    if ch.opaque is not None:
        parts.append(f"opaque={_quote(ch.opaque)}")
    return "Digest " + ", ".join(parts)
