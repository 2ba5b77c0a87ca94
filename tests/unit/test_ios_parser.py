"""Cisco IOS running-config parser: what it extracts, the lines it cites, and what the audits
conclude on the reference cases (tests/data/ios/<case>/: config.txt and expected.json)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from harness.profile import Router
from router_checks.audit import Finding, audit
from router_checks.cisco_ios import parse
from router_checks.model import PortRange, RouterModel, RuleList, Source
from tests.ios_cases import NAMES, case, keys, outcome, param_text

SERVER = IPv4Address("198.51.100.10")
IPBX = IPv4Address("192.168.254.10")


def _router() -> Router:
    return Router.model_validate({
        "kind": "cisco_ios", "host": "192.0.2.1", "username": "admin", "password": "x",
        "ipbx": str(IPBX), "model": "C891F-K9",
    })


def _n(config: str, needle: str) -> int:
    """1-based number of the one line of ``config`` that is (else contains) ``needle``."""
    lines = config.split("\n")
    hits = [i for i, line in enumerate(lines, 1) if line.strip() == needle] or [
        i for i, line in enumerate(lines, 1) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def _wan_list(model: RouterModel) -> RuleList:
    (lst,) = [f for f in model.filters if f.direction == "inbound"]
    return lst


def _net(text: str) -> IPv4Network:
    return IPv4Network(text)


BASE = """\
! Last configuration change at 10:42:17 CET Thu Mar 14 2024 by admin
!
version 15.7
hostname rtr-test
!
ip dhcp excluded-address 192.168.1.1 192.168.1.99
ip dhcp excluded-address 192.168.254.1
ip dhcp excluded-address 192.168.254.200 192.168.254.254
!
ip dhcp pool DATA
 network 192.168.1.0 255.255.255.0
 default-router 192.168.1.1
 dns-server 192.0.2.53
!
ip dhcp pool VOICE
 network 192.168.254.0 /24
 default-router 192.168.254.1
!
ip dhcp pool PRINTER
 host 192.168.1.50 255.255.255.0
 client-identifier 0100.1122.3344.55
!
license udi pid C891F-K9 sn FGL0000
!
object-group network OPERATOR
 description the trunk
 host 198.51.100.10
 198.51.100.128 255.255.255.192
 range 198.51.100.20 198.51.100.23
 group-object MORE
!
object-group network MORE
 host 203.0.113.9
!
object-group service VOICE
 udp eq 5060
 udp range 10000 20000
 tcp-udp eq 5061
!
interface GigabitEthernet4
 switchport access vlan 254
!
interface GigabitEthernet8
 description WAN
 ip address 192.0.2.2 255.255.255.0
 ip access-group WAN-IN in
 ip nat outside
!
interface Vlan1
 ip address 192.168.1.1 255.255.255.0
 ip nat inside
!
interface Vlan254
 ip address 192.168.254.1 255.255.255.0
 ip nat inside
!
interface GigabitEthernet9.20
 encapsulation dot1Q 20
 ip address 10.20.0.1 255.255.255.0
!
interface Loopback0
 ip address 203.0.113.77 255.255.255.255
!
no ip nat service sip udp port 5060
ip nat inside source list NAT-LAN interface GigabitEthernet8 overload
ip nat inside source static udp 192.168.254.10 5060 interface GigabitEthernet8 5080 extendable
ip nat inside source static 192.168.254.10 192.0.2.3 extendable
!
ip access-list extended WAN-IN
 remark operator only
 10 permit object-group VOICE object-group OPERATOR any
 20 permit udp host 192.0.2.200 eq 5060 host 192.0.2.3 range 10000 20000 log
 permit tcp any any established
 permit udp 203.0.113.0 0.0.0.255 host 192.168.254.10 eq 5060
 permit udp 10.0.0.0 0.0.255.0 any gt 30000
 deny udp any any lt 1024
 permit udp any any neq 5060 time-range OFFICE
 permit icmp any any echo-reply
 deny   ip any any log
!
end
"""


def test_hostname_model_and_line_numbers() -> None:
    model = parse(BASE)
    assert model.kind == "cisco_ios"
    assert model.hostname == "rtr-test"
    assert model.model == "C891F-K9"  # from "license udi pid" when no show version
    version = "Cisco IOS Software, C800 Software (C800-UNIVERSALK9-M), Version 15.7(3)M4\n" \
              "cisco C891F-K9 (revision 1.0) with 488524K/35763K bytes of memory.\n"
    assert parse(BASE, version=version).model == "C891F-K9"
    assert parse(BASE, version=version).sources["show version"] == version
    assert model.sources["show running-config"] == BASE
    # Every cited line is the line of the text at that 1-based number, leading "!" included.
    lines = BASE.split("\n")
    cited = [i.source for i in model.interfaces] + [p.source for p in model.dhcp_pools] + [
        r.source for f in model.filters for r in f.rules] + [f.source for f in model.forwards]
    for src in cited:
        assert src.origin == "show running-config"
        assert src.text == tuple(lines[n - 1].strip() for n in src.lines)


def test_line_numbers_with_crlf_blank_lines_and_form_feed() -> None:
    text = "!\r\n\r\n! note \x0c here\r\nhostname r\r\n\r\ninterface Vlan1\r\n" \
           " ip address 192.168.1.1 255.255.255.0\r\n!\r\nend\r\n"
    model = parse(text, origin="running.txt")
    (itf,) = model.interfaces
    assert itf.source == Source("running.txt", (6, 7), (
        "interface Vlan1", "ip address 192.168.1.1 255.255.255.0"))


def test_banner_text_is_never_read_as_configuration() -> None:
    """A banner quoting config lines (here an interface) must not add them to the audit."""
    text = ("hostname r\nbanner motd ^C\nNo entry. Ask NOC about\ninterface Vlan9\n"
            " ip address 10.9.9.1 255.255.255.0\n^C\nbanner login ^C one line ^C\n"
            "interface Vlan1\n ip address 192.168.1.1 255.255.255.0\n!\nend\n")
    model = parse(text)
    assert [i.name for i in model.interfaces] == ["Vlan1"]
    assert model.interfaces[0].source.lines == (8, 9)


def test_interfaces_roles_and_vlans() -> None:
    model = parse(BASE)
    by = {i.name: i for i in model.interfaces}
    assert set(by) == {"GigabitEthernet8", "Vlan1", "Vlan254", "GigabitEthernet9.20",
                       "Loopback0"}  # switchports without an address are not interfaces here
    wan = by["GigabitEthernet8"]
    assert (wan.role, wan.addresses) == ("wan", (IPv4Interface("192.0.2.2/24"),))
    assert wan.source.lines == (_n(BASE, "interface GigabitEthernet8"),
                                _n(BASE, "ip address 192.0.2.2"))
    assert (by["Vlan254"].role, by["Vlan254"].vlan) == ("lan", 254)
    assert (by["Vlan1"].role, by["Vlan1"].vlan) == ("lan", 1)
    assert (by["GigabitEthernet9.20"].role, by["GigabitEthernet9.20"].vlan) == ("lan", 20)
    assert by["Loopback0"].role == "unknown"
    assert [i.name for i in model.lan_interfaces()] == ["Vlan1", "Vlan254",
                                                        "GigabitEthernet9.20"]


def test_roles_without_nat_and_secondary_order() -> None:
    text = """\
interface FastEthernet4
 ip address 192.0.2.9 255.255.255.248
!
interface Vlan1
 ip address 192.168.254.1 255.255.255.0 secondary
 ip address 192.168.1.1 255.255.255.0
!
interface Dialer0
 ip address negotiated
 ip nat outside
"""
    by = {i.name: i for i in parse(text).interfaces}
    # 192.0.2.0/24 is a documentation range Python calls "private"; it is not RFC 1918. Alone
    # it would be the WAN; beside Dialer0 (`ip nat outside`), a public /29 with no NAT is a
    # routed LAN of public hosts, not a second WAN.
    assert {i.name: i.role for i in parse(text.split("interface Dialer0")[0]).interfaces}[
        "FastEthernet4"] == "wan"
    assert by["FastEthernet4"].role == "lan"
    assert by["Vlan1"].addresses == (IPv4Interface("192.168.1.1/24"),
                                     IPv4Interface("192.168.254.1/24"))
    assert by["Vlan1"].source.lines == (4, 5, 6)
    assert (by["Dialer0"].role, by["Dialer0"].addresses) == ("wan", ())


def test_dhcp_pools_minus_exclusions() -> None:
    model = parse(BASE)
    pools = {p.name: p for p in model.dhcp_pools}
    assert set(pools) == {"DATA", "VOICE"}  # PRINTER is a manual binding, not a range
    data = pools["DATA"]
    assert (data.network, data.start, data.end, data.gateway) == (
        _net("192.168.1.0/24"), IPv4Address("192.168.1.100"), IPv4Address("192.168.1.254"),
        IPv4Address("192.168.1.1"))
    assert data.source.lines == (_n(BASE, "excluded-address 192.168.1.1 "),
                                 _n(BASE, "pool DATA"), _n(BASE, "network 192.168.1.0"),
                                 _n(BASE, "default-router 192.168.1.1"))
    voice = pools["VOICE"]
    assert (voice.start, voice.end) == (IPv4Address("192.168.254.2"),
                                        IPv4Address("192.168.254.199"))
    assert voice.source.lines == (_n(BASE, "excluded-address 192.168.254.1"),
                                  _n(BASE, "excluded-address 192.168.254.200"),
                                  _n(BASE, "pool VOICE"), _n(BASE, "network 192.168.254.0"),
                                  _n(BASE, "default-router 192.168.254.1"))


def test_dhcp_pool_without_exclusion_covers_gateway_and_fully_excluded_pool() -> None:
    text = """\
ip dhcp excluded-address 10.9.0.1 10.9.0.254
ip dhcp pool GONE
 network 10.9.0.0 255.255.255.0
ip dhcp pool OPEN
 network 10.8.0.0 255.255.255.252
 default-router 10.8.0.1
"""
    model = parse(text)
    (pool,) = model.dhcp_pools
    assert (pool.name, pool.start, pool.end) == ("OPEN", IPv4Address("10.8.0.1"),
                                                 IPv4Address("10.8.0.2"))
    assert "every address of the pool is excluded" in model.sources["unevaluated"]


def test_acl_entries_in_order_with_sources() -> None:
    model = parse(BASE)
    lst = _wan_list(model)
    assert (lst.name, lst.direction, lst.default) == ("WAN-IN", "inbound", "deny")
    assert lst.source.lines == (_n(BASE, "ip access-group WAN-IN in"),)
    rules = lst.rules
    group_line = _n(BASE, "10 permit object-group VOICE")
    operator = (_net("198.51.100.10/32"), _net("198.51.100.128/26"),
                _net("198.51.100.20/30"), _net("203.0.113.9/32"))
    # One Rule per member of the service group, all citing the entry's line.
    head = [(r.proto, r.dst_ports, r.src, r.source.lines) for r in rules[:4]]
    assert head == [
        ("udp", (PortRange(5060, 5060),), operator, (group_line,)),
        ("udp", (PortRange(10000, 20000),), operator, (group_line,)),
        ("udp", (PortRange(5061, 5061),), operator, (group_line,)),
        ("tcp", (PortRange(5061, 5061),), operator, (group_line,)),
    ]
    r = rules[4]  # source port ignored; destination = the public address 192.0.2.3
    assert (r.src, r.dst, r.dst_ports) == ((_net("192.0.2.200/32"),), (_net("192.168.254.10/32"),),
                                           (PortRange(10000, 20000),))
    assert rules[5].established_only and rules[5].proto == "tcp"
    # An inbound ACL sees the public destination: the inside address never matches.
    assert rules[6].dst == ()
    assert not rules[6].matches("udp", IPv4Address("203.0.113.5"), IPBX, 5060)
    assert (rules[7].src, rules[7].dst_ports) == ((_net("10.0.0.0/16"),),
                                                  (PortRange(30001, 65535),))
    assert rules[8].dst_ports == (PortRange(0, 1023),) and rules[8].action == "deny"
    assert [x.proto for x in rules[9:]] == ["icmp", "ip"]
    assert rules[10].source.lines == (_n(BASE, "deny   ip any any log"),)
    assert "time-range OFFICE" in model.sources["unevaluated"]  # left out, never guessed
    assert "source port condition ignored" in model.sources["unevaluated"]


def test_wildcards() -> None:
    text = """\
interface Gi8
 ip address 192.0.2.2 255.255.255.0
 ip nat outside
 ip access-group 101 in
access-list 101 remark numbered list
access-list 101 permit udp 10.0.0.0 0.0.255.0 any eq 5060 5061
access-list 101 permit udp 10.0.0.0 0.255.0.255 any
access-list 101 deny udp 10.0.0.0 0.255.0.255 any
access-list 101 permit ip 172.16.0.0 0.15.255.255 any
"""
    model = parse(text)
    lst = _wan_list(model)
    assert lst.name == "101"
    r0, r1, r2, r3 = lst.rules
    assert r0.src == (_net("10.0.0.0/16"),)
    assert r0.dst_ports == (PortRange(5060, 5060), PortRange(5061, 5061))
    assert r0.source.lines == (6,)
    # Too many networks to list: a permit is widened, a deny narrowed (never under-report).
    assert r1.src == (_net("10.0.0.0/8"),)
    assert r2.src == (_net("10.0.0.0/24"),)
    assert r3.src == (_net("172.16.0.0/12"),)
    assert "non-contiguous wildcard" in model.sources["unevaluated"]


def test_small_non_contiguous_wildcard_is_expanded_exactly() -> None:
    text = """\
interface Gi8
 ip address 192.0.2.2 255.255.255.0
 ip nat outside
 ip access-group IN in
ip access-list extended IN
 permit udp 10.0.0.0 0.0.3.255 any
 permit udp 10.0.0.0 0.0.2.255 any
"""
    r0, r1 = _wan_list(parse(text)).rules
    assert r0.src == (_net("10.0.0.0/22"),)
    assert r1.src == (_net("10.0.0.0/24"), _net("10.0.2.0/24"))


def test_standard_list_and_entries_left_out() -> None:
    text = """\
interface Dialer0
 ip address negotiated
 ip nat outside
 ip access-group 10 in
access-list 10 permit 198.51.100.10
access-list 10 permit host 198.51.100.11 log
access-list 10 dynamic TEMP permit ip any any
access-list 10 deny   any
"""
    model = parse(text)
    lst = _wan_list(model)
    assert [(r.action, r.proto, r.src, r.dst, r.source.lines) for r in lst.rules] == [
        ("permit", "ip", (_net("198.51.100.10/32"),), (_net("0.0.0.0/0"),), (5,)),
        ("permit", "ip", (_net("198.51.100.11/32"),), (_net("0.0.0.0/0"),), (6,)),
        ("deny", "ip", (_net("0.0.0.0/0"),), (_net("0.0.0.0/0"),), (8,)),
    ]
    assert "show running-config:7: left out" in model.sources["unevaluated"]


def test_no_acl_permits_and_undefined_acl_permits() -> None:
    none = parse("interface Gi8\n ip address 192.0.2.2 255.255.255.0\n ip nat outside\n")
    lst = _wan_list(none)
    assert (lst.rules, lst.default, lst.source.lines) == ([], "permit", (1,))
    undefined = parse("interface Gi8\n ip address 192.0.2.2 255.255.255.0\n"
                      " ip access-group NOPE in\n ip nat outside\n")
    lst = _wan_list(undefined)
    assert (lst.rules, lst.default, lst.source.lines) == ([], "permit", (3,))


def test_forwards_masquerade_and_alg_off() -> None:
    model = parse(BASE)
    f0, f1 = model.forwards
    assert (f0.proto, f0.ports, f0.to, f0.src) == ("udp", (PortRange(5080, 5080),), IPBX, ())
    assert f0.source.lines == (_n(BASE, "static udp 192.168.254.10 5060"),)
    assert (f1.proto, f1.ports, f1.to) == ("ip", (), IPBX)
    assert [s.lines for s in model.masquerade] == [(_n(BASE, "list NAT-LAN"),)]
    assert model.sip_alg is False and model.sip_alg_sources == []


def test_static_port_forward_to_an_address() -> None:
    text = "ip nat inside source static tcp 192.168.1.5 443 198.51.100.77 8443\n" \
           "ip nat inside source static udp 192.168.254.10 5060 192.0.2.2 5060\n"
    f0, f1 = parse(text).forwards
    assert (f0.proto, f0.ports, f0.to) == ("tcp", (PortRange(8443, 8443),),
                                           IPv4Address("192.168.1.5"))
    assert (f1.proto, f1.ports, f1.to, f1.source.lines) == ("udp", (PortRange(5060, 5060),),
                                                            IPBX, (2,))


def test_sip_alg_default_on_cites_nat_lines() -> None:
    text = BASE.replace("no ip nat service sip udp port 5060", "!")
    model = parse(text)
    assert model.sip_alg
    assert [s.lines for s in model.sip_alg_sources] == [
        (_n(text, " ip nat outside"),), (_n(text, "list NAT-LAN"),),
        (_n(text, "static udp 192.168.254.10"),), (_n(text, "192.0.2.3 extendable"),)]
    explicit = BASE.replace("no ip nat service sip udp port 5060",
                            "ip nat service sip udp port 5060")
    model = parse(explicit)
    assert model.sip_alg
    assert [s.lines for s in model.sip_alg_sources] == [
        (_n(explicit, "ip nat service sip udp port 5060"),)]
    # Only TCP disabled: UDP still on.
    assert parse(BASE.replace("no ip nat service sip udp", "no ip nat service sip tcp")).sip_alg
    # No NAT at all: the ALG has nothing to rewrite.
    assert not parse("hostname r\ninterface Vlan1\n ip address 192.168.1.1 255.255.255.0\n"
                     ).sip_alg


def test_audit_on_inline_config_opens_only_to_server() -> None:
    """The parsed model drives the audit: voice ports reach the IPBX from the server, and
    the operator group's wider members count as other sources, each named as the
    configuration names it (203.0.113.0/24 is named, so "any address" is tested elsewhere
    and found closed)."""
    findings, predicted = audit(parse(BASE), _router(), SERVER)
    (opened,) = [f for f in findings if f.code == "FW_OPEN_TO_OTHERS"]
    assert opened.message.params["ports"] == "5060, 10000-20000"
    assert [str(m) for m in opened.message.params["who"]] == [  # type: ignore[union-attr]
        "198.51.100.128/26", "198.51.100.20/30", "192.0.2.200 (UDP 10000-20000)",
        "203.0.113.9"]
    assert 5060 in predicted.server and 10000 in predicted.server
    assert predicted.by_source == {SERVER: predicted.server}
    assert predicted.anyone == set()


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str) -> None:
    """The one runner of the IOS cases: exactly the expected findings, citing the expected
    lines, and each cited line's text as the file has it; exactly the expected lines noted as
    not evaluated; or the expected error when the configuration cannot be audited."""
    c = case(name)
    got = outcome(c)
    assert [m.code for m in got.errors][:1] == ([c.error] if c.error else []), got.errors
    assert got.unevaluated() == c.unevaluated(), got.model.sources.get("unevaluated")
    assert keys(got.findings) == c.findings(), [f.line() for f in got.findings]
    for code, params in c.params().items():
        (found,) = [f for f in got.findings if f.code == code]
        assert {k: param_text(found.message.params[k]) for k in params} == params, found.line()
    lines = c.text.split("\n")
    for f in got.findings:
        for s in f.sources:
            assert s.text == tuple(lines[n - 1].strip() for n in s.lines)
    for n, text in c.cited().items():
        assert lines[n - 1] == text, (name, n)


def test_collected_output_keeps_its_own_line_numbers() -> None:
    """What the collector returns starts with IOS's preamble: lines are cited as collected."""
    c = case("acl_too_broad")
    text = c.text
    shown = f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n{text}\n"
    version = "Cisco IOS Software, C800 Software (C800-UNIVERSALK9-M), Version 15.7(3)M4\n" \
              "Cisco C891F-K9 (revision 1.0) with 488524K/35763K bytes of memory.\n"
    model = parse(shown, version=version)
    assert model.model == "C891F-K9"
    findings, _ = audit(model, _router(), SERVER)
    header = 3  # "Building configuration...", a blank line, "Current configuration : N bytes"
    assert sorted((f.code, sorted(n for s in f.sources for n in s.lines)) for f in findings) == \
        sorted((code, [n + header for n in lines]) for code, _, lines in c.findings())


def _isolated() -> Router:
    return Router.model_validate({
        "kind": "cisco_ios", "host": "192.0.2.1", "username": "admin", "password": "x",
        "ipbx": str(IPBX), "model": "C891F-K9", "lans": {"isolated": "true"},
    })


GOOD = case("good").text


def _isolation_findings(config: str) -> list[tuple[str, tuple[int, ...]]]:
    findings, _ = audit(parse(config), _isolated(), SERVER)
    return [(str(f.message).split(" reaches ")[0], tuple(n for s in f.sources for n in s.lines))
            for f in findings if f.code == "LANS_OPEN_TO_EACH_OTHER"]


def _with_lan_acls(vlan1: list[str], acls: str) -> str:
    """good.txt with lines added to interface Vlan1 (the data LAN) and access lists."""
    text = GOOD.replace(" description LAN-DATA\n",
                        " description LAN-DATA\n" + "".join(f" {x}\n" for x in vlan1))
    return text.replace("ip access-list extended NAT-LAN\n", acls + "ip access-list extended "
                        "NAT-LAN\n")


def test_isolation_fails_a_router_that_routes_between_its_lans_unfiltered() -> None:
    # IOS routes freely between Vlan1 and Vlan254: both directions, citing both interfaces.
    assert _isolation_findings(GOOD) == [
        ("the data LAN 192.168.1.0/24", (138, 140, 144, 146)),
        ("the voice LAN 192.168.254.0/24", (144, 146, 138, 140))]
    assert _firewall(GOOD) == []  # not asked for: not judged


def test_isolation_filtered_both_ways_by_the_data_lans_in_and_out_lists() -> None:
    text = _with_lan_acls(
        ["ip access-group DATA-IN in", "ip access-group DATA-OUT out"],
        "ip access-list extended DATA-IN\n deny ip 192.168.1.0 0.0.0.255 192.168.254.0 "
        "0.0.0.255\n permit ip any any\n"
        "ip access-list extended DATA-OUT\n permit tcp 192.168.254.0 0.0.0.255 any eq 443\n"
        " deny ip 192.168.254.0 0.0.0.255 any\n permit ip any any\n")
    assert _isolation_findings(text) == []


def test_isolation_names_the_permit_any_that_opens_one_direction() -> None:
    text = _with_lan_acls(
        ["ip access-group DATA-IN in"],
        "ip access-list extended DATA-IN\n permit udp any any eq 53\n permit ip any any\n")
    permit_any = _n(text, "permit ip any any")
    found = _isolation_findings(text)
    # data → voice: DATA-IN lets everything through (DNS by its own line, the rest by the
    # permit any); voice → data crosses no list at all.
    vlan1, vlan254 = _n(text, "interface Vlan1"), _n(text, "interface Vlan254")
    assert found == [("the data LAN 192.168.1.0/24", (permit_any - 1, permit_any)),
                     ("the voice LAN 192.168.254.0/24", (vlan254, vlan254 + 2, vlan1, vlan1 + 3))]


def test_isolation_undefined_list_permits_all_as_ios_does() -> None:
    text = _with_lan_acls(["ip access-group NO-SUCH-LIST in"], "")
    assert [who for who, _ in _isolation_findings(text)] == [
        "the data LAN 192.168.1.0/24", "the voice LAN 192.168.254.0/24"]


def test_isolation_sparing_only_the_ipbx_still_fails() -> None:
    text = _with_lan_acls(
        ["ip access-group DATA-IN in"],
        "ip access-list extended DATA-IN\n deny ip any host 192.168.254.10\n permit ip any any\n")
    assert [who for who, _ in _isolation_findings(text)][:1] == ["the data LAN 192.168.1.0/24"]


def test_isolation_with_a_vrf_on_a_lan_is_not_judged() -> None:
    line = "vrf forwarding DATA"
    findings, _ = audit(parse(_with_lan_acls([line], "")), _isolated(), SERVER)
    (unknown,) = [f for f in findings if f.code.startswith(("LAN_ISOLATION", "LANS_OPEN"))]
    assert (unknown.code, unknown.severity) == ("LAN_ISOLATION_UNKNOWN", "warn")
    assert [s.text for s in unknown.sources] == [(line,)]


ZBF_GOOD = case("zbf_good").text


def _firewall(text: str, router: Router | None = None) -> list[Finding]:
    """The audit's findings but the router's own administration (the point elsewhere)."""
    findings, _ = audit(parse(text), router or _router(), SERVER)
    return [f for f in findings if not f.code.startswith("ADMIN_")]


def _codes(text: str, router: Router | None = None) -> dict[str, list[tuple[str, ...]]]:
    return {f.code: [t for s in f.sources for t in s.text] for f in _firewall(text, router)}


def test_zbf_without_a_zone_pair_to_the_lan_is_closed_to_the_server() -> None:
    text = ZBF_GOOD.replace("zone-pair security out-to-in source out-zone destination in-zone\n"
                            " service-policy type inspect OUT-TO-IN\n", "")
    assert _codes(text) == {"FW_CLOSED_TO_SERVER": [
        "zone-member security out-zone", "zone-member security in-zone"]}


def test_zbf_lan_outside_any_zone_is_closed_to_the_server() -> None:
    # The voice VLAN in no zone: IOS drops between a zone member and a non-member.
    text = ZBF_GOOD.replace(" ip nat inside\n zone-member security in-zone\n ip virtual-"
                            "reassembly in\n!\nip forward", " ip nat inside\n ip virtual-"
                            "reassembly in\n!\nip forward")
    assert text != ZBF_GOOD
    assert _codes(text) == {"FW_CLOSED_TO_SERVER": ["zone-member security out-zone"]}


def test_zbf_class_default_pass_opens_to_everyone() -> None:
    text = ZBF_GOOD.replace(" class class-default\n  drop log\n", " class class-default\n  pass\n")
    assert set(_codes(text)) == {"FW_OPEN_TO_OTHERS"}


def test_zbf_lans_in_different_zones_are_isolated_unless_a_pair_inspects_all() -> None:
    text = ZBF_GOOD.replace(" description LAN-DATA\n ip address 192.168.1.1 255.255.255.0\n"
                            " ip nat inside\n zone-member security in-zone\n",
                            " description LAN-DATA\n ip address 192.168.1.1 255.255.255.0\n"
                            " ip nat inside\n zone-member security data-zone\n")
    assert text != ZBF_GOOD
    assert _codes(text, _isolated()) == {}  # no pair between data-zone and in-zone
    opened = text.replace("zone security in-zone\n", "zone security in-zone\nzone-pair security"
                          " d2v source data-zone destination in-zone\n service-policy type "
                          "inspect IN-TO-OUT\n")
    assert list(_codes(opened, _isolated())) == ["LANS_OPEN_TO_EACH_OTHER"]
    # Same zone for both LANs: IOS passes everything inside a zone.
    assert list(_codes(ZBF_GOOD, _isolated())) == ["LANS_OPEN_TO_EACH_OTHER"]


def test_unterminated_banner_is_noted() -> None:
    model = parse("hostname r\nbanner motd ^C\nnever closed\ninterface Vlan1\n"
                  " ip address 192.168.1.1 255.255.255.0\n")
    assert model.interfaces == []
    assert "2: banner never ends" in model.sources["unevaluated"]


def _ports_of(text: str, router: Router | None = None) -> dict[str, str]:
    """Finding code → the "UDP …" port list its message names."""
    return {f.code: str(f.message).split("UDP ")[1].split(" ")[0].rstrip(",:")
            if "UDP " in str(f.message) else "" for f in _firewall(text, router)}


def test_zbf_sees_the_translated_port() -> None:
    # Outside 5060 is forwarded to inside 5080: the zone policy (after NAT) sees 5080, which
    # the operator class does not match, so class-default drops SIP from the server.
    text = ZBF_GOOD.replace("static udp 192.168.254.10 5060 interface GigabitEthernet8 5060",
                            "static udp 192.168.254.10 5080 interface GigabitEthernet8 5060")
    # The IPBX's one-to-one static is another way in for 5060 (to inside 5060, which the
    # class matches): every forward counts, so it must go for the point to hold.
    assert _ports_of(text) == {}
    text = text.replace("ip nat inside source static 192.168.254.10 192.0.2.3 extendable", "!")
    assert _ports_of(text) == {"FW_CLOSED_TO_SERVER": "5060", "FW_NOT_FORWARDED": "10000-20000"}


OPEN_POLICY = ("policy-map type inspect OPEN\n class class-default\n  pass\n"
               "zone security cell-zone\n"
               "zone-pair security cell-to-in source cell-zone destination in-zone\n"
               " service-policy type inspect OPEN\n")
CELLULAR = ("interface Cellular0\n ip address 203.0.113.200 255.255.255.0\n ip nat outside\n"
            " zone-member security cell-zone\n!\n")


def test_zbf_every_wan_a_forward_may_arrive_on_is_tried() -> None:
    # A second WAN whose zone passes everything: the 1:1 static (no interface named) carries
    # every port, open through it; SIP's port static names GigabitEthernet8 and is closed
    # there, but 5060 still comes in through the 1:1 static (every forward counts).
    text = ZBF_GOOD.replace("zone security in-zone\n", OPEN_POLICY + "zone security in-zone\n")
    text = text.replace("interface GigabitEthernet8\n", CELLULAR + "interface GigabitEthernet8\n")
    (found,) = _firewall(text)
    assert str(found.message).startswith("UDP 5060, 10000-20000 also open")
    # Without the 1:1 static, only SIP's static remains: it names GigabitEthernet8, whose
    # zone admits the server only, and nothing forwards RTP any more.
    text = text.replace("ip nat inside source static 192.168.254.10 192.0.2.3 extendable", "!")
    assert _ports_of(text) == {"FW_NOT_FORWARDED": "10000-20000"}


def test_zbf_a_dropping_class_is_read_strictly() -> None:
    # BLOCK drops what its ACL permits; its entry needs an approximation (a source port),
    # which would widen the drop to every UDP datagram. It is left out, so ANYVOICE decides.
    text = ZBF_GOOD.replace(
        " class type inspect OPERATOR-VOICE\n  pass\n",
        " class type inspect OPERATOR-VOICE\n  pass\n class type inspect BLOCK\n  drop\n"
        " class type inspect ANYVOICE\n  pass\n")
    text = text.replace("policy-map type inspect OUT-TO-IN\n",
                        "class-map type inspect match-any BLOCK\n match access-group name B\n"
                        "class-map type inspect match-any ANYVOICE\n match access-group name A\n"
                        "policy-map type inspect OUT-TO-IN\n")
    text = text.replace("ip access-list extended VOICE-FROM-OPERATOR\n",
                        "ip access-list extended B\n permit udp any eq 12345 any\n"
                        "ip access-list extended A\n permit udp any host 192.168.254.10\n"
                        "ip access-list extended VOICE-FROM-OPERATOR\n")
    findings = _firewall(text)
    assert [str(f.message).split(" also open")[0] for f in findings] == ["UDP 5060, 10000-20000"]
    assert "left out of a class that drops" in parse(text).sources["unevaluated"]


def test_zbf_intra_zone_pair_and_default_zone_decide_between_the_lans() -> None:
    # Both LANs in in-zone: an in-zone → in-zone pair that drops isolates them.
    drop_all = ("policy-map type inspect NONE\n class class-default\n  drop\n"
                "zone-pair security in-in source in-zone destination in-zone\n"
                " service-policy type inspect NONE\n")
    isolated = ZBF_GOOD.replace("zone security in-zone\n", "zone security in-zone\n" + drop_all)
    assert "LANS_OPEN_TO_EACH_OTHER" not in _codes(isolated, _isolated())
    # IOS-XE: the voice VLAN in no zone belongs to "default"; a pair that inspects all from
    # in-zone to default opens data → voice.
    text = ZBF_GOOD.replace(" ip nat inside\n zone-member security in-zone\n ip virtual-"
                            "reassembly in\n!\nip forward", " ip nat inside\n ip virtual-"
                            "reassembly in\n!\nip forward")
    text = text.replace("zone security in-zone\n", "zone security in-zone\nzone security "
                        "default\nzone-pair security in-def source in-zone destination default\n"
                        " service-policy type inspect IN-TO-OUT\n")
    found = [f for f in audit(parse(text), _isolated(), SERVER)[0]
             if f.code == "LANS_OPEN_TO_EACH_OTHER"]
    assert [str(f.message).split(" reaches ")[0] for f in found] == ["the data LAN 192.168.1.0/24"]
