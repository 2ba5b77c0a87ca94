"""Digest responses against the published test vectors (RFC 2617 §3.5, RFC 7616 §3.9.1), and
the challenge reader against odd, hostile and RFC 4475 header values."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sip_checks.toolkit.digest import DigestError, _params, authorization, best, parse_challenge
from sip_checks.toolkit.message import parse
from tests.rfc4475 import TORTURE, needs_corpus


def _response(header: str) -> str:
    return header.split('response="', 1)[1].split('"', 1)[0]


def test_rfc2617_md5_qop_auth() -> None:
    ch = parse_challenge('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                         'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
                         'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    value = authorization(ch, method="GET", uri="/dir/index.html", username="Mufasa",
                          password="Circle Of Life", cnonce="0a4f113b")
    assert _response(value) == "6629fae49393a05397450978507c4ef1"
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value and "nc=00000001" in value


@pytest.mark.parametrize(("algorithm", "expected"), [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
])
def test_rfc7616_vectors(algorithm: str, expected: str) -> None:
    ch = parse_challenge(f'Digest realm="http-auth@example.org", qop="auth, auth-int", '
                         f'algorithm={algorithm}, '
                         'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
                         'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    value = authorization(ch, method="GET", uri="/dir/index.html", username="Mufasa",
                          password="Circle of Life",
                          cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert _response(value) == expected


def test_strongest_offered_algorithm_wins() -> None:
    ch = best(['Digest realm="r", nonce="n", algorithm=MD5',
               'Digest realm="r", nonce="n", algorithm=SHA-256'])
    assert ch.algorithm == "SHA-256"


@pytest.mark.parametrize(("header", "message"), [
    ('Basic realm="r"', "unsupported authentication scheme 'Basic'"),
    ('Digest realm="r", nonce="n", algorithm=SHA-512', "unsupported digest algorithm"),
    ('Digest nonce="n"', "challenge without realm or nonce"),
    ('Digest realm="r", nonce="n", qop="auth-int"', "unsupported qop"),
])
def test_unanswerable_challenges_say_why(header: str, message: str) -> None:
    with pytest.raises(DigestError, match=message):
        parse_challenge(header)


# --- hostile and odd challenges (issue 12) -----------------------------------------------------


def test_realm_is_written_back_escaped_as_one_parameter() -> None:
    """A realm ``a", evil="x`` (sent escaped) must not become two parameters in our answer."""
    ch = parse_challenge(r'Digest realm="a\", evil=\"x", nonce="n\\1", opaque="o\"", qop=auth')
    assert (ch.realm, ch.nonce, ch.opaque) == ('a", evil="x', "n\\1", 'o"')
    value = authorization(ch, method="REGISTER", uri="sip:example.com", username='u"ser',
                          password="p", cnonce="c")
    assert 'realm="a\\", evil=\\"x"' in value
    assert "evil" not in _params(value.removeprefix("Digest "))
    echoed = parse_challenge(value)  # our own reader sees the same values again
    assert (echoed.realm, echoed.nonce, echoed.opaque) == (ch.realm, ch.nonce, ch.opaque)
    assert _params(value.removeprefix("Digest "))["username"] == 'u"ser'


def test_long_run_without_equals_is_linear() -> None:
    """The old regex search retried the name at every offset: 30 000 bytes took 7 s. The
    scanner reads each byte a bounded number of times; 60 kB take well under a millisecond
    here, so 200 ms holds on any loaded machine while a quadratic parse cannot meet it."""
    value = 'Digest realm="r", nonce="n", ' + "a" * 60_000
    start = time.perf_counter()
    assert parse_challenge(value).realm == "r"
    assert time.perf_counter() - start < 0.2


@pytest.mark.parametrize(("header", "realm", "nonce", "algorithm", "qop"), [
    ('Digest realm = "r" ,nonce= n1 ,  algorithm = MD5', "r", "n1", "MD5", ()),
    ('Digest REALM="r", Nonce="n", ALGORITHM=sha-256', "r", "n", "sha-256", ()),
    ('Digest\trealm="r", nonce="n"', "r", "n", "MD5", ()),
    ('Digest realm="r", nonce="n", qop="auth-int, auth", stale=TRUE, x-new="a,b"', "r", "n",
     "MD5", ("auth-int", "auth")),
    ('Digest junk, realm="r", bare , nonce="n",,', "r", "n", "MD5", ()),
    ('Digest realm="with, comma", nonce="n"', "with, comma", "n", "MD5", ()),
    ('Digest realm="", nonce=""', "", "", "MD5", ()),
], ids=["lws-around-equals", "case", "tab-after-scheme", "unknown-params", "junk-skipped",
        "comma-in-quotes", "empty-values"])
def test_odd_but_answerable_challenges(header: str, realm: str, nonce: str, algorithm: str,
                                       qop: tuple[str, ...]) -> None:
    ch = parse_challenge(header)
    assert (ch.realm, ch.nonce, ch.algorithm, ch.qop) == (realm, nonce, algorithm, qop)


@pytest.mark.parametrize(("header", "message"), [
    ('Digest realm="r, nonce="n"', "challenge without realm or nonce"),
    ('Digest realm="unterminated', "unterminated quoted string in parameter 'realm'"),
    ('Digest realm="r", realm="s", nonce="n"', "parameter 'realm' repeated"),
    ('Digest realm="r\rX-Injected: 1", nonce="n"', "control character in parameter 'realm'"),
    ('Digest realm="r", nonce="n\x00"', "control character in parameter 'nonce'"),
    ("Digest " + "=" * 5000, "challenge without realm or nonce"),
], ids=["quote-swallows-next", "unterminated", "repeated", "cr-in-realm", "nul-in-nonce",
        "only-equals"])
def test_malformed_challenges_are_digest_errors(header: str, message: str) -> None:
    with pytest.raises(DigestError) as info:
        parse_challenge(header)
    assert str(info.value) == message


@needs_corpus
@pytest.mark.parametrize("path", sorted(TORTURE.glob("*.dat")) if TORTURE.is_dir() else [],
                         ids=lambda p: p.stem)
def test_rfc4475_header_values_are_challenges_or_digest_errors(path: Path) -> None:
    """Every header value of every torture message, read as a challenge, gives a Challenge or
    a DigestError with a reason. None is a Digest challenge; regaut01's Authorization is the
    one authentication header, of an unknown scheme, refused by name."""
    data = path.read_bytes()
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    for line in head.split("\r\n")[1:]:
        _, _, value = line.partition(":")
        try:
            parse_challenge(value)
        except DigestError as exc:
            assert str(exc)
    if path.stem == "regaut01":
        auth = parse(data).get("Authorization") or ""
        with pytest.raises(DigestError, match="unsupported authentication scheme "
                           "'NoOneKnowsThisScheme'"):
            parse_challenge(auth)
