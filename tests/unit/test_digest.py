"""Digest responses against the published test vectors (RFC 2617 §3.5, RFC 7616 §3.9.1)."""

from __future__ import annotations

import pytest

from sip_checks.toolkit.digest import DigestError, authorization, best, parse_challenge


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
