"""The router audit on configurations as published (issue 23): routed public LANs, redacted
addresses, a bogon-filtering WAN list, no WAN at all. Each test is one conclusion the
fixtures' cases (tests/data/ios/) do not pin down alone."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from harness import cli
from harness.errors import CheckError, CheckFailed
from harness.evidence import Evidence
from harness.plugin import RunState
from harness.profile import Router, load_profile
from router_checks import check_router
from router_checks.audit import audit
from router_checks.cisco_ios import CISCO_IOS, parse
from router_checks.kind import Bundle
from router_checks.operator import ANY, witnesses
from tests.ios_cases import case

SERVER = IPv4Address("198.51.100.10")
REPO = Path(__file__).resolve().parents[2]
# The lab's, documentation, benchmarking and shared ranges: no witness of "any address".
NOT_ANY = [IPv4Network(n) for n in ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24",
                                    "198.18.0.0/15", "100.64.0.0/10", "192.0.0.0/24",
                                    "240.0.0.0/4")]

ROUTED = """\
hostname cpe
!
interface GigabitEthernet8
 ip address 192.0.2.2 255.255.255.252
{wan_acl}!
interface Vlan1
 description servers
 ip address 203.0.113.1 255.255.255.248
!
interface Vlan10
 ip address 192.168.1.1 255.255.255.0
!
ip route 0.0.0.0 0.0.0.0 192.0.2.1
{acl}end
"""
TO_OPERATOR = (" ip access-group WAN-IN in\n",
               "ip access-list extended WAN-IN\n"
               " permit udp host 198.51.100.10 host 203.0.113.2 eq 5060\n"
               " permit udp host 198.51.100.10 host 203.0.113.2 range 10000 20000\n"
               " permit tcp any host 203.0.113.3 eq 443\n"
               " deny   ip any any\n")


def _router(ipbx: str) -> Router:
    return Router.model_validate({"kind": "cisco_ios", "host": "192.0.2.1", "username": "a",
                                  "password": "x", "ipbx": ipbx, "model": "C891F-K9"})


def _codes(text: str, ipbx: str) -> list[str]:
    """The audit's codes, the LANs not compared with a plan and the router's own
    administration left out (they are the point elsewhere)."""
    findings, _ = audit(parse(text), _router(ipbx), SERVER, plan="none")
    return sorted(f.code for f in findings if not f.code.startswith("ADMIN_"))


def test_the_any_address_witness_is_no_lab_or_documentation_address() -> None:
    """Whatever the rules name or drop (a bogon list drops every documentation range), the
    witness of "any address" is an ordinary address none of them names."""
    (anyone,) = [w for w, n in witnesses([], {SERVER: ("registrar",)}).items() if n == ANY]
    assert anyone.is_global and not any(anyone in n for n in NOT_ANY)
    avoid = [IPv4Network(f"{a}.0.0.0/8") for a in range(1, 100)]
    (far,) = [w for w, n in witnesses([], {SERVER: ("registrar",)}, avoid).items() if n == ANY]
    assert not any(far in n for n in avoid)


def test_a_routed_lan_holding_the_ipbx_is_judged_on_its_own_addresses() -> None:
    """No NAT: the IPBX 203.0.113.2 on the routed /29 is reached at its own address. A WAN
    list open to the operator alone on it is a pass (no FW_NOT_FORWARDED: nothing needs
    forwarding); with no list, it is open to any address."""
    assert _codes(ROUTED.format(wan_acl=TO_OPERATOR[0], acl=TO_OPERATOR[1]), "203.0.113.2") == []
    assert _codes(ROUTED.format(wan_acl="", acl=""), "203.0.113.2") == ["FW_OPEN_TO_OTHERS"]
    roles = {i.name: i.role for i in parse(ROUTED.format(wan_acl="", acl="")).interfaces}
    assert roles == {"GigabitEthernet8": "wan", "Vlan1": "lan", "Vlan10": "lan"}


def test_a_routed_lan_without_the_ipbx_is_no_forward_to_it() -> None:
    """The IPBX on the private LAN, no NAT: nothing sends it the voice ports (a fact), and the
    public servers' LAN is not "voice ports forwarded elsewhere"."""
    assert _codes(ROUTED.format(wan_acl="", acl=""), "192.168.1.10") == ["FW_NOT_FORWARDED"]


REDACTED = """\
hostname r1
!
interface FastEthernet4
 ip address x.x.x.x 255.255.255.248
 ip access-group OUTSIDE_IN in
 ip nat outside
!
interface Vlan254
 ip address 192.168.254.1 255.255.255.0
 ip nat inside
!
ip nat inside source list 1 interface FastEthernet4 overload
{static}
ip access-list extended OUTSIDE_IN
{entry}
 deny   ip any any
access-list 1 permit 192.168.254.0 0.0.0.255
end
"""


@pytest.mark.parametrize(("static", "entry"), [
    # The static's inside address is hidden: where it sends traffic is unknown.
    ("ip nat inside source static <removed> x.x.x.x", " permit udp host 198.51.100.10 any"),
    # The forward is known, the list's permit for the operator hidden.
    ("ip nat inside source static 192.168.254.10 203.0.113.5", " permit udp host a.b.c.d any"),
])
def test_redacted_lines_make_closed_unknown_never_a_fact(static: str, entry: str) -> None:
    text = REDACTED.format(static=static, entry=entry)
    findings, _ = audit(parse(text), _router("192.168.254.10"), SERVER)
    codes = {f.code: f for f in findings}
    assert "FW_NOT_FORWARDED" not in codes and "FW_CLOSED_TO_SERVER" not in codes
    unknown = codes["FW_REDACTED_UNKNOWN"]
    assert unknown.severity == "warn"
    assert [s.text for s in unknown.sources] == [(static.strip(),)] if "<removed>" in static \
        else [(entry.strip(),)]


def test_no_wan_runs_the_lan_checks_and_never_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """router.audit on a configuration with no WAN: its DHCP findings are reported and fail
    the check with the firewall part said not evaluated; with nothing wrong on the LANs it is
    an error, never a pass; and no prediction is left for the firewall checks."""
    for name, fails in (("no_wan_dhcp_still_checked", True), ("no_wan_l3_switch", False)):
        text = case(name).text

        def collect(router: object, *, timeout: float = 10.0, text: str = text) -> Bundle:
            return {"show running-config": text}

        monkeypatch.setattr(CISCO_IOS, "collect", collect)
        prof = load_profile(REPO / "profiles" / "example.yaml")
        prof = prof.model_copy(update={"router": case(name).router()})
        evidence, state = Evidence(), RunState()
        with pytest.raises(CheckFailed if fails else CheckError) as exc:
            check_router.check_router_audit(prof, evidence, state)
        codes = [m.code for m in getattr(exc.value, "reasons", [])] or [exc.value.message.code]
        assert codes[-1] == "CONFIG_NO_WAN"
        assert ("DHCP_COVERS_GATEWAY" in codes) is fails
        assert state.predicted is None


def test_recette_audit_without_a_wan_prints_the_lan_findings_and_exits_non_zero(
        capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("no_wan_dhcp_still_checked", "no_wan_l3_switch"):
        c = case(name)
        code = cli.main(["audit", "--config", str(c.path), "--kind", "cisco_ios",
                         "--server", str(SERVER)])
        out = capsys.readouterr().out
        assert code == 1, out
        assert "[warn] CONFIG_NO_WAN: firewall, NAT and port forwards not evaluated" in out
        assert ("[fail] DHCP_COVERS_GATEWAY" in out) is (name == "no_wan_dhcp_still_checked")
