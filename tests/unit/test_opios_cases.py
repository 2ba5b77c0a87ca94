"""The OpIOS audit cases (tests/data/opios/<case>/: ruleset.nft, bundle.json as the collector
brought it back from a router running it, expected.json), and what the nftables reader makes
of the matchers they are about: ``ct status dnat`` (only translated flows), ``ct helper``
(only a helper's expected flows) and ``ct state established,related``."""

from __future__ import annotations

import json
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pytest

from harness.messages import render
from router_checks.kind import Bundle
from router_checks.model import Rule
from router_checks.opios.parse import NFT_TEXT
from tests.opios_cases import NAMES, case, differences, outcome

OPERATOR = [IPv4Address(a) for a in ("198.51.100.10", "198.51.100.20", "198.51.100.30")]


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str) -> None:
    """The one runner: exactly the expected findings, citing the expected ``nft -a`` lines
    with their text, the parameters the case is about, the prediction per operator address,
    to other sources and to any address, and no line left unevaluated."""
    c = case(name)
    assert differences(c, outcome(c), c.bundle()[NFT_TEXT]) == []


def _edit(bundle: Bundle, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
          ) -> Bundle:
    """The bundle with every rule's expressions in ``nft -j`` changed by ``change``."""
    doc = json.loads(bundle["nft -j list ruleset"])
    for item in doc["nftables"]:
        if "rule" in item:
            item["rule"]["expr"] = change(item["rule"]["expr"])
    return {**bundle, "nft -j list ruleset": json.dumps(doc)}


def _forward_rules(name: str) -> list[Rule]:
    model = outcome(case(name)).model
    (forward,) = [f for f in model.filters if f.direction == "inbound"]
    return forward.rules


def test_ct_status_dnat_is_a_rule_of_translated_flows_only() -> None:
    *_, ct_dnat = _forward_rules("registrar_only_ct_status_dnat")
    assert ct_dnat.source.text == ('iifname "wan0" oifname "voice0" ct status dnat accept',)
    assert ct_dnat.translated_only and not ct_dnat.established_only
    assert ct_dnat.src == (IPv4Network("0.0.0.0/0"),)  # its sources are the dnat's
    *_, plain = _forward_rules("broad_rule_behind_restricted_dnat")
    assert not plain.translated_only


def test_established_related_and_the_sip_helpers_flows_are_never_new_inbound_flows() -> None:
    """Replies and the ALG's pinholes (related, expected by the SIP helper) are not the
    ruleset's openings: the audit never counts them as admitting a new flow."""
    rules = {r.source.text[0]: r for r in _forward_rules("alg_on_related")}
    for text in ("ct state established,related accept", 'ct helper "sip" accept'):
        assert rules[text].established_only, text
        assert not rules[text].matches("udp", IPv4Address("203.0.113.66"),
                                       IPv4Address("192.168.254.10"), 12000)


def test_the_sip_alg_finding_cites_the_helper_and_what_admits_its_pinholes() -> None:
    got = outcome(case("alg_on_related"))
    (alg,) = got.findings
    assert [s.text for s in alg.sources] == [('udp dport 5060 ct helper set "sip-5060"',),
                                             ('ct helper "sip" accept',)]
    assert render(alg.message, "fr") == "Le SIP ALG du routeur est activé : le désactiver"
    assert got.predicted.sip_alg
    # Without the helper set on 5060, the same accept admits nothing and is not the ALG.
    unset = _edit(case("alg_on_related").bundle(),
                  lambda exprs: [e for e in exprs if "ct helper" not in e])
    quiet = outcome(case("alg_on_related"), unset)
    assert [f.code for f in quiet.findings] == [] and not quiet.predicted.sip_alg


def test_another_ct_status_is_not_evaluated_rather_than_read_as_any() -> None:
    def to_snat(exprs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"match": {**e["match"], "right": "snat"}}
                if e.get("match", {}).get("left") == {"ct": {"key": "status"}} else e
                for e in exprs]

    got = outcome(case("registrar_only_ct_status_dnat"),
                  _edit(case("registrar_only_ct_status_dnat").bundle(), to_snat))
    assert [line.split(": ", 1)[1] for line in got.unevaluated()] == ['{"ct": {"key": "status"}}']
    assert [f.code for f in got.findings] == ["FW_CLOSED_TO_SERVER"]  # nothing accepts now


def test_every_operator_address_is_predicted_for_the_firewall_check() -> None:
    """``firewall.openings`` looks each address up in the prediction: every one is there,
    open or not."""
    for name in NAMES:
        c = case(name)
        assert set(outcome(c).predicted.by_source) == set(c.operator()), name
    assert set(case("relay_closed").operator()) == set(OPERATOR)
