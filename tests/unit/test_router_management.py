"""The router's own administration seen from the internet (router_checks/management.py):
what cannot be told is said "not evaluated", never "closed"; a restriction to named networks
is what the audit asks for, unless the network is as wide as the internet. The cases of
tests/data/ios/admin_* and tests/data/opios/admin_* walk the usual shapes; these are the
edges."""

from __future__ import annotations

import json

from router_checks.audit import audit_management
from router_checks.cisco_ios import parse
from router_checks.opios.parse import parse as parse_opios
from tests.opios_cases import DATA as OPIOS_DATA
from tests.opios_cases import case as opios_case

IOS = """\
version {version}
hostname r1
!
interface GigabitEthernet0
 ip address 192.0.2.2 255.255.255.0
 ip access-group WAN-IN in
 ip nat outside
!
interface Vlan1
 ip address 192.168.1.1 255.255.255.0
 ip nat inside
!
{http}
ip route 0.0.0.0 0.0.0.0 192.0.2.1
!
ip access-list extended WAN-IN
{wan}
 deny   ip any any
{acls}
line vty 0 4
{vty}
!
end
"""


def _ios(version: str = "15.7", http: str = "no ip http server\nno ip http secure-server",
         wan: str = "", acls: str = "", vty: str = " transport input ssh") -> list[str]:
    text = IOS.format(version=version, http=http, wan=wan, acls=acls, vty=vty)
    return [f"{f.severity} {f.code}" for f in audit_management(parse(text))]


def test_an_ios_xe_vty_without_transport_input_is_not_evaluated_where_the_wan_lets_it_in() -> None:
    """IOS XE changed the VTY default across releases: reachable, but whether telnet or SSH
    answers is not known, so not evaluated; on classic IOS the default takes telnet in."""
    wan = " permit tcp any any eq 22\n permit tcp any any eq telnet"
    assert _ios("17.3", wan=wan, vty=" login local") == [
        "warn ADMIN_NOT_EVALUATED", "warn ADMIN_NOT_EVALUATED"]
    assert _ios("15.4", wan=wan, vty=" login local") == [
        "fail ADMIN_TELNET_OPEN", "warn ADMIN_SSH_OPEN"]
    assert _ios("17.3", vty=" login local") == []  # stopped by the list: nothing unknown


def test_a_configuration_silent_on_the_web_server_is_not_evaluated_where_reachable() -> None:
    """(Beside it, the VTYs' SSH the list stops: ADMIN_FILTERED.)"""
    wan = " permit tcp any any eq www"
    assert _ios(http="", wan=wan) == ["warn ADMIN_NOT_EVALUATED", "info ADMIN_FILTERED"]
    assert _ios(http="ip http server\nno ip http secure-server", wan=wan) == [
        "fail ADMIN_WEB_OPEN", "info ADMIN_FILTERED"]
    assert _ios(http="", wan="") == ["info ADMIN_FILTERED"]  # the web: neither shown nor
    # reachable, nothing to say


def test_an_unreadable_wan_entry_before_the_decision_makes_it_unknown() -> None:
    """A redacted deny before the permit may or may not stop SSH: not evaluated, citing it."""
    wan = " deny   tcp x.x.x.x 0.0.0.255 any eq 22\n permit tcp any any eq 22"
    text = IOS.format(version="15.7", http="no ip http server\nno ip http secure-server",
                      wan=wan, acls="", vty=" transport input ssh")
    (found,) = audit_management(parse(text))
    assert found.code == "ADMIN_NOT_EVALUATED"
    assert any("x.x.x.x" in t for s in found.sources for t in s.text)


def test_the_access_class_of_a_named_network_restricts_unless_it_is_as_wide_as_the_internet(
        ) -> None:
    acl = "ip access-list standard MGMT\n permit {net}\n"
    wan = " permit tcp any any eq 22"
    vty = " access-class MGMT in\n transport input ssh"
    assert _ios(wan=wan, acls=acl.format(net="203.0.113.0 0.0.0.255"), vty=vty) == []
    assert _ios(wan=wan, acls=acl.format(net="20.0.0.0 0.255.255.255"), vty=vty) == [
        "warn ADMIN_SSH_OPEN"]
    assert _ios(wan=wan, acls=acl.format(net="any"), vty=vty) == ["warn ADMIN_SSH_OPEN"]


def test_a_zone_pair_to_self_is_not_evaluated() -> None:
    text = IOS.format(version="15.7", http="ip http server\nno ip http secure-server",
                      wan=" permit ip any any", acls="", vty=" transport input ssh")
    text = text.replace(" ip access-group WAN-IN in\n", " zone-member security out\n")
    text = text.replace("line vty 0 4", "zone security out\nzone-pair security out-self "
                        "source out destination self\n service-policy type inspect P\n"
                        "line vty 0 4")
    codes = sorted(f.code for f in audit_management(parse(text)))
    assert codes == ["ADMIN_NOT_EVALUATED", "ADMIN_NOT_EVALUATED"]
    without = text.replace("zone-pair security out-self source out destination self\n"
                           " service-policy type inspect P\n", "")
    assert sorted(f.code for f in audit_management(parse(without))) == [
        "ADMIN_SSH_OPEN", "ADMIN_WEB_OPEN"]  # no pair to self: IOS lets it through


def _opios_with_input(rule: str) -> list[str]:
    """The admin_lan_only_strict bundle with one rule's JSON inserted first in its input
    chain (nft's own JSON shapes; the listing's lines stay those of the case)."""
    bundle = opios_case("admin_lan_only_strict").bundle()
    doc = json.loads(bundle["nft -j list ruleset"])
    items = doc["nftables"]
    first = next(i for i, x in enumerate(items)
                 if "rule" in x and x["rule"]["chain"] == "input")
    new = dict(items[first]["rule"], handle=999, expr=json.loads(rule))
    items.insert(first, {"rule": new})
    model = parse_opios(addr_text=bundle["ip -o -4 addr show"], route_json=bundle["ip -j route"],
                        nft_json=json.dumps(doc), nft_text=bundle["nft -a list ruleset"],
                        dhcp_text=None)
    return [f"{f.severity} {f.code}" for f in audit_management(model)]


def test_nft_input_rules_for_the_wan_named_sets_and_other_protocols() -> None:
    assert (OPIOS_DATA / "admin_lan_only_strict").is_dir()
    assert _opios_with_input("[]") == []  # a rule with no verdict decides nothing
    accept = '{"accept": null}'
    wan = '{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "%s"}}'
    dport = ('{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": '
             '"dport"}}, "right": %s}}')
    saddr = ('{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": '
             '"saddr"}}, "right": "@admins"}}')
    udp = ('{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": '
           '"dport"}}, "right": 23}}')
    assert _opios_with_input(f"[{wan % 'wan0'}, {dport % 23}, {accept}]") == [
        "fail ADMIN_TELNET_OPEN"]
    assert _opios_with_input(f"[{wan % 'wan*'}, {dport % 8080}, {accept}]") == [
        "fail ADMIN_WEB_OPEN"]  # an interface wildcard matching the WAN
    assert _opios_with_input(f"[{wan % 'data0'}, {dport % 23}, {accept}]") == []
    assert _opios_with_input(f"[{udp}, {accept}]") == []  # UDP 23 is no telnet
    assert _opios_with_input(f"[{saddr}, {dport % 22}, {accept}]") == [
        "warn ADMIN_NOT_EVALUATED"]  # who is in the named set is not read
