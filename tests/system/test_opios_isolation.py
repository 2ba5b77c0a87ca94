"""LAN isolation on OpIOS, judged from what the real `nft` and `ip` print.

Each case loads a forward chain into the kernel of a throwaway namespace (three veth
interfaces addressed like the OpIOS plan), collects the same four outputs as the SSH
collector, and audits them. Cases cover what the audit must not get wrong: an accept between
the LANs, a drop that spares all but one host, established-only rules, another family's chain,
and constructs it does not evaluate (named sets, wildcards, jumps), which must make the
verdict "not judged" rather than a pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest

from harness import netns
from harness.profile import Router
from router_checks.audit import audit
from router_checks.opios import OPIOS
from router_checks.opios.collect import COMMANDS

NS = f"recette-nfttest-{os.getpid()}"
SERVER = IPv4Address("198.51.100.10")
HEAD = """flush ruleset
table inet f {
  set lans { type ifname; elements = { "data0", "voice0" } }
  chain lanfw {
    drop
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname { "data0", "voice0" } oifname "wan0" accept
"""
TAIL = "  }\n}\n"


@pytest.fixture(scope="module")
def ns() -> Iterator[str]:
    netns.run(None, ["ip", "netns", "add", NS])
    try:
        for name, addr in (("wan0", "192.0.2.2/24"), ("data0", "192.168.1.1/24"),
                           ("voice0", "192.168.254.1/24")):
            netns.run(NS, ["ip", "link", "add", name, "type", "veth", "peer", "name",
                           f"{name}p"])
            netns.run(NS, ["ip", "addr", "add", addr, "dev", name])
            netns.run(NS, ["ip", "link", "set", name, "up"])
            netns.run(NS, ["ip", "link", "set", f"{name}p", "up"])
        netns.run(NS, ["ip", "route", "add", "default", "via", "192.0.2.1"])
        yield NS
    finally:
        netns.run(None, ["ip", "netns", "delete", NS], check=False)


def _findings(ns: str, rules: str, extra: str = "") -> list[tuple[str, str, list[str]]]:
    netns.run(ns, ["nft", "-f", "-"], input=HEAD + rules + TAIL + extra)
    out = {cmd: netns.run(ns, cmd.split()).stdout for cmd in COMMANDS}
    model = OPIOS.parse(out)
    router = Router.model_validate({"kind": "opios", "host": "192.168.254.1", "username": "a",
                                    "password": "x", "ipbx": "192.168.254.10",
                                    "lans": {"isolated": "true"}})
    findings, _ = audit(model, router, SERVER)
    listing = out["nft -a list ruleset"].splitlines()
    return [(f.code, str(f.message).split(" reaches ")[0],
             [listing[n - 1].split(" # handle")[0].strip() for s in f.sources for n in s.lines])
            for f in findings if f.code.startswith(("LANS_OPEN", "LAN_ISOLATION"))]


def test_nothing_between_the_lans_is_isolated(ns: str) -> None:
    assert _findings(ns, "") == []


def test_accept_between_the_lans_fails_both_ways_citing_the_rule(ns: str) -> None:
    got = _findings(ns, '    iifname { "data0", "voice0" } oifname { "data0", "voice0" } '
                        "accept\n")
    assert [(c, who) for c, who, _ in got] == [
        ("LANS_OPEN_TO_EACH_OTHER", "the data LAN 192.168.1.0/24"),
        ("LANS_OPEN_TO_EACH_OTHER", "the voice LAN 192.168.254.0/24")]
    assert all(len(lines) == 1 and 'oifname { "data0", "voice0" } accept' in lines[0]
               for _, _, lines in got)


def test_sparing_only_the_ipbx_is_no_isolation(ns: str) -> None:
    got = _findings(ns, "    ip daddr 192.168.254.10 drop\n"
                        '    iifname "data0" oifname "voice0" accept\n')
    assert [who for _, who, _ in got] == ["the data LAN 192.168.1.0/24"]


def test_established_only_and_wan_rules_do_not_open_the_lans(ns: str) -> None:
    assert _findings(ns, '    iifname "data0" oifname "voice0" ct state established accept\n'
                         '    iifname "wan0" oifname { "data0", "voice0" } ct status dnat '
                         "accept\n") == []


def test_another_familys_chain_does_not_close_an_open_ipv4_path(ns: str) -> None:
    got = _findings(ns, '    iifname "voice0" oifname "data0" accept\n',
                    "table ip6 f6 {\n  chain forward {\n    type filter hook forward "
                    "priority filter; policy drop;\n  }\n}\n")
    assert [who for _, who, _ in got] == ["the voice LAN 192.168.254.0/24"]


@pytest.mark.parametrize("rule", [
    "    iifname @lans oifname @lans accept\n",
    '    iifname "data*" accept\n',
    '    iifname "data0" jump lanfw\n',
    '    iifname "data0" oifname != "wan0" accept\n',
])
def test_what_is_not_evaluated_is_not_judged(ns: str, rule: str) -> None:
    got = _findings(ns, rule)
    assert [(c, lines) for c, _, lines in got] == [
        ("LAN_ISOLATION_UNKNOWN", [rule.strip()])], got
