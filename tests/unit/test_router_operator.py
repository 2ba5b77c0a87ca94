"""What each operator address needs open, the witnesses the audit tests other sources with,
and how a finding names those sources (router_checks/operator.py)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from harness.messages import render
from router_checks.operator import (
    ANY,
    RTP,
    SIP_PORT,
    addresses_of,
    needs,
    only_operator,
    operator_side,
    who,
    witnesses,
)

REG, EDGE, RELAY = (IPv4Address(a) for a in ("198.51.100.10", "198.51.100.20",
                                              "198.51.100.30"))
VOICE = frozenset({SIP_PORT, *RTP})


def test_what_each_role_needs() -> None:
    # The handbook's one operator server: everything.
    assert needs(addresses_of(REG)) == {REG: VOICE}
    # An edge proxy beside it: 5060 for both, the media still the registrar's.
    assert needs({REG: ("registrar",), EDGE: ("signalling",)}) == {
        REG: VOICE, EDGE: frozenset({SIP_PORT})}
    # A media relay named: the registrar needs 5060 only, the relay the range.
    assert needs({REG: ("registrar",), EDGE: ("signalling",), RELAY: ("media",)}) == {
        REG: frozenset({SIP_PORT}), EDGE: frozenset({SIP_PORT}), RELAY: frozenset(RTP)}
    # One address with several roles: all they need.
    assert needs({REG: ("registrar",), EDGE: ("signalling", "media")}) == {
        REG: frozenset({SIP_PORT}), EDGE: VOICE}


def test_an_address_is_named_with_its_roles_in_both_languages() -> None:
    both = operator_side(EDGE, ("signalling", "media"))
    assert str(both) == f"the operator's signalling proxy and media relay {EDGE}"
    assert render(both, "fr") == f"le proxy de signalisation et relais média de l'opérateur {EDGE}"


def test_witnesses_are_never_the_operators_and_stand_for_what_a_rule_names() -> None:
    named = [IPv4Network("203.0.113.0/24"), IPv4Network(f"{EDGE}/32"),
             IPv4Network("198.51.100.0/24"), IPv4Network("198.51.100.0/28"),
             IPv4Network(f"{REG}/31")]
    got = witnesses(named, addresses_of({REG: ("registrar",), EDGE: ("signalling",)}))
    assert all(w not in (REG, EDGE) for w in got)
    # "any address" is tested outside every named network (203.0.113.0/24 is named).
    (anyone,) = [w for w, n in got.items() if n == ANY]
    assert not any(anyone in n for n in named)
    # 198.51.100.1 is in the /24 and the /28: it stands for the narrower /28; the /31 holds
    # the registrar and 198.51.100.11, which stands for it.
    assert got[IPv4Address("198.51.100.1")] == IPv4Network("198.51.100.0/28")
    assert got[IPv4Address("198.51.100.11")] == IPv4Network(f"{REG}/31")
    assert IPv4Network(f"{EDGE}/32") not in got.values()  # the operator's own: no witness
    assert only_operator(IPv4Network(f"{EDGE}/32"), {EDGE: ("signalling",)})
    assert not only_operator(IPv4Network(f"{REG}/31"), {REG: ("registrar",)})


def test_other_sources_are_named_as_the_rules_name_them() -> None:
    """"any address" covers a named network open on no more ports; a network open on fewer
    ports than the finding's says which."""
    opened = {ANY: {SIP_PORT}, IPv4Network("203.0.113.0/24"): {SIP_PORT},
              IPv4Network("192.0.2.200/32"): set(RTP)}
    assert [str(m) for m in who(opened, {SIP_PORT, *RTP})] == [
        "any address (UDP 5060)", "192.0.2.200 (UDP 10000-20000)"]
    assert [render(m, "fr") for m in who({ANY: set(VOICE)}, set(VOICE))] == [
        "n'importe quelle adresse"]
