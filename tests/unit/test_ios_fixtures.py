"""Every IOS case (tests/data/ios/) walked for what the case runner does not check:

- each finding's cited lines exist, are quoted as the file has them, and say what the
  finding's explanation claims (a shadowing rule is a deny before the permit, an ALG is cited
  by NAT lines, a forward named in NAT_WRONG_HOST is a static naming that host...), so no
  explanation names a cause the configuration does not contain;
- the same configuration with every line at column 0 (a paste into a ticket) gives the same
  findings, or an error saying why it cannot be read, never a silent near-empty model;
- ``recette audit`` prints the LAN plan and the lines not evaluated, and a configuration it
  cannot read is a one-line error with a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import yaml

from harness import cli
from harness.messages import Msg
from router_checks.audit import Finding, _forwards_for
from router_checks.cisco_ios.operands import redacted
from router_checks.model import RouterModel
from tests.ios_cases import NAMES, case, keys, outcome

SERVER = "198.51.100.10"


def _ports(text: str) -> list[int]:
    """``5060, 10000-20000`` → the first port of each span."""
    return [int(part.strip().split("-")[0]) for part in text.split(",")]


def _has(lines: list[str], *words: str) -> bool:
    return any(w in line.split() for line in lines for w in words)


def _nat(line: str) -> bool:
    return line.split()[:2] in (["ip", "nat"], ["no", "ip"])


# code → does what the finding cites (its lines' texts, by cited place) back its claim?
Claim = Callable[[Finding, list[list[str]], RouterModel], bool]
CLAIMS: dict[str, Claim] = {
    # Nothing to cite: the claim is that no forward of those ports exists at all.
    "FW_NOT_FORWARDED": lambda f, cited, model: not cited and all(
        not _forwards_for(model, p) for p in _ports(str(f.message.params["ports"]))),
    "LAN_MISSING": lambda f, cited, model: not cited and not any(
        a.ip == IPv4Address(str(f.message.params["gateway"]))
        for i in model.interfaces for a in i.addresses),
    # A drop: a deny entry, a list applied with its implicit deny, a zone policy.
    "FW_CLOSED_TO_SERVER": lambda f, cited, model: bool(cited) and all(
        _has(c, "deny", "access-group", "drop", "zone-pair", "zone-member", "policy")
        for c in cited),
    # Something that lets traffic in: a permit, a zone class that passes or inspects, a
    # forward, or an interface with no list at all.
    "FW_OPEN_TO_OTHERS": lambda f, cited, model: bool(cited) and all(
        _has(c, "permit", "pass", "inspect", "static", "interface") for c in cited),
    # The shadowing rule is a deny cited first, above the permit it shadows.
    "ACL_BROAD_SHADOWED": lambda f, cited, model: len(cited) == 2 and _has(cited[0], "deny")
    and _has(cited[1], "permit"),
    "ACL_BROAD_UNFORWARDED": lambda f, cited, model: len(cited) == 1
    and _has(cited[0], "permit") and not _forwards_for(model, 5060),
    "ACL_BROAD_BLOCKED": lambda f, cited, model: len(cited) == 1 and _has(cited[0], "permit"),
    # Not evaluated: no interface faces the internet (nothing to cite), never with a WAN.
    "CONFIG_NO_WAN": lambda f, cited, model: not cited and not any(
        i.role == "wan" for i in model.interfaces),
    # Not evaluated: each cited line holds a redacted address.
    "FW_REDACTED_UNKNOWN": lambda f, cited, model: bool(cited) and all(
        any(redacted(w) for line in c for w in line.split()) for c in cited),
    # Each forward named is a static translation of that inside host.
    "NAT_WRONG_HOST": lambda f, cited, model: bool(cited) and all(
        any(str(d.params["to"]).split("/")[0] in line for c in cited for line in c)
        for d in f.message.params["detail"] if isinstance(d, Msg)) and all(
        _has(c, "static") for c in cited),
    # The ALG: NAT lines, never the line that turns it off for that transport.
    "SIP_ALG_ON": lambda f, cited, model: all(_nat(x) for c in cited for x in c) and not any(
        x.startswith("no ip nat service sip udp") for c in cited for x in c),
    "SIP_ALG_TCP_ON": lambda f, cited, model: all(_nat(x) for c in cited for x in c)
    and any(x.startswith("no ip nat service sip udp") for c in cited for x in c)
    and not any(x.startswith("no ip nat service sip tcp") for c in cited for x in c),
    "SIP_INSPECTION_ON": lambda f, cited, model: all(_has(c, "sip") for c in cited),
    # The interface named, with the address found, and not the WAN.
    "LAN_MISMATCH": lambda f, cited, model: any(
        c[0] == f"interface {f.message.params['interface']}"
        and str(f.message.params["found"]).split("/")[0] in " ".join(c) for c in cited)
    and all(i.role != "wan" for i in model.interfaces
            if i.name == f.message.params["interface"]),
    "DHCP_COVERS_GATEWAY": lambda f, cited, model: _has(cited[0], "pool"),
    "DHCP_OUTSIDE_LAN": lambda f, cited, model: _has(cited[0], "pool"),
    "LANS_NOT_SEPARATED": lambda f, cited, model: _has(cited[0], "interface"),
    "LANS_OPEN_TO_EACH_OTHER": lambda f, cited, model: all(
        _has(c, "permit", "interface", "pass", "inspect") for c in cited),
    # The router's administration: the lines that turn the service on, and what lets the
    # internet through (a permit, or the WAN interface with no list) or stops it (a deny).
    "ADMIN_TELNET_OPEN": lambda f, cited, model: _vty(cited) and _admits(cited),
    "ADMIN_SSH_OPEN": lambda f, cited, model: _vty(cited) and _admits(cited),
    "ADMIN_WEB_OPEN": lambda f, cited, model: _web(cited) and _admits(cited),
    "ADMIN_FILTERED": lambda f, cited, model: (_vty(cited) or _web(cited)) and any(
        _has(c, "deny", "drop") or c[0].startswith("ip access-group") for c in cited),
    "ADMIN_NOT_EVALUATED": lambda f, cited, model: "neither" in str(f.message) or any(
        _has(c, "zone-pair") or any(redacted(w) for x in c for w in x.split())
        for c in cited),
}


def _vty(cited: list[list[str]]) -> bool:
    return any(c[0].startswith("line vty") for c in cited)


def _web(cited: list[list[str]]) -> bool:
    return any(x in ("ip http server", "ip http secure-server") for c in cited for x in c)


def _admits(cited: list[list[str]]) -> bool:
    return any(_has(c, "permit") or c[0].startswith("interface ") for c in cited)


@pytest.mark.parametrize("name", NAMES)
def test_cited_lines_say_what_the_finding_claims(name: str) -> None:
    c = case(name)
    got = outcome(c)
    lines = c.text.split("\n")
    for f in got.findings:
        cited: list[list[str]] = []
        for s in f.sources:
            assert s.lines, f"{f.code}: a place with no line ({s.ref()})"
            assert all(1 <= n <= len(lines) for n in s.lines), (f.code, s.lines)
            assert list(s.text) == [lines[n - 1].strip() for n in s.lines], (f.code, s.ref())
            cited.append(list(s.text))
        assert f.code in CLAIMS, f"{f.code}: say what its cited lines must show"
        assert CLAIMS[f.code](f, cited, got.model), (name, f.line())


def _flat(text: str) -> str:
    return "".join(line.lstrip(" \t") for line in text.splitlines(keepends=True))


@pytest.mark.parametrize("name", NAMES)
def test_an_unindented_copy_gives_the_same_findings_or_says_why_not(name: str) -> None:
    c = case(name)
    indented, flat = outcome(c), outcome(c, _flat(c.text))
    if flat.errors:  # an error must name a reason, and only where reading failed
        assert flat.errors[0].code in ("CONFIG_LINES_LOST", "CONFIG_NOT_IOS",
                                       "CONFIG_NO_INTERFACE", "CONFIG_NO_WAN")
        assert indented.errors or flat.errors[0].code == "CONFIG_LINES_LOST"
        return
    assert not indented.errors
    assert keys(flat.findings) == keys(indented.findings)
    assert len(flat.model.interfaces) == len(indented.model.interfaces)


def test_the_unindented_fixture_is_the_indented_one(tmp_path: Path) -> None:
    """The paste reads as the device's own text: same interfaces, forwards, lists, pools."""
    c = case("unindented_881")
    assert all(not line.startswith(" ") for line in c.text.splitlines())
    model = outcome(c).model
    assert [(i.name, i.role) for i in model.interfaces] == [
        ("FastEthernet4", "wan"), ("Vlan1", "lan"), ("Vlan254", "lan")]
    assert len(model.forwards) == 2 and len(model.dhcp_pools) == 2
    (wan_in,) = [f for f in model.filters if f.direction == "inbound"]
    assert [r.action for r in wan_in.rules] == ["permit", "permit", "permit", "deny"]


def _audit(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli.main(["audit", "--config", str(config), "--kind", "cisco_ios", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_recette_audit_prints_plan_and_not_evaluated_lines(
        capsys: pytest.CaptureFixture[str]) -> None:
    c = case("static_route_map_iosxe17")
    code, out = _audit(c.path, capsys, "--server", SERVER)
    assert code == 1
    assert "LAN plan: no LAN plan (no profile): LANs not compared; the configuration's own: " \
           "GigabitEthernet0/0/1.10 192.168.1.1/24, GigabitEthernet0/0/1.254 " \
           "192.168.254.1/24" in out
    (line,) = c.unevaluated()
    assert "not evaluated (1):" in out
    assert f"  {c.path}:{line}: static translation applies only under route-map RM-VOICE" in out


def test_recette_audit_says_the_plan_was_assumed(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The example profile gives no router.lans: the operator's default plan is assumed, and
    the output says so (it is what the LAN findings were judged against)."""
    example = Path(__file__).resolve().parents[2] / "profiles" / "example.yaml"
    doc = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert "lans" not in doc["router"]
    doc["router"]["kind"] = "cisco_ios"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out = _audit(case("lan_plan_wan_in_range_oxidized").path, capsys, "--profile",
                       str(path))
    assert code == 1
    assert "LAN plan: LAN plan assumed (the profile gives no router.lans): the operator's " \
           "default, data 192.168.1.0/24 (gateway 192.168.1.1)" in out, out
    assert "[fail] LAN_MISSING: no router interface for the data LAN 192.168.1.0/24" in out


@pytest.mark.parametrize("name", ["lines_lost_include", "not_ios_junos"])
def test_recette_audit_cannot_read_is_one_line_and_non_zero(
        name: str, capsys: pytest.CaptureFixture[str]) -> None:
    c = case(name)
    code, out = _audit(c.path, capsys, "--server", SERVER)
    assert code != 0 and code != 1  # not "findings": the audit did not run
    (line,) = out.strip().splitlines()
    assert f"{c.path}: cannot audit: " in line
    assert "[fail]" not in out


def test_recette_audit_takes_the_operators_addresses_by_role(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Without a profile, --signalling and --media name the operator's edge proxy and media
    relay: the audit then admits them as the operator's, and only the maintainer's host is
    another source; given only --server, they would be strangers."""
    c = case("operator_by_role_stranger")
    code, out = _audit(c.path, capsys, "--server", SERVER, "--signalling", "198.51.100.20",
                       "--media", "198.51.100.30")
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith("[") and "ADMIN_" not in x]
    assert line.startswith("[fail] FW_OPEN_TO_OTHERS: UDP 5060 also open to sources other "
                           "than the operator's addresses (198.51.100.10, 198.51.100.20, "
                           "198.51.100.30): 203.0.113.9 (")
    code, out = _audit(c.path, capsys, "--server", SERVER)
    assert ": 198.51.100.20 (UDP 5060); 198.51.100.30 (UDP 10000-20000); 203.0.113.9 " \
           "(UDP 5060) (" in out
    assert "[fail] FW_CLOSED_TO_SERVER: UDP 10000-20000 not open to the operator's SIP " \
           "server 198.51.100.10" in out  # alone, the SIP server also sends the media
    code, out = _audit(c.path, capsys, "--server", SERVER, "--media", "relay.example")
    assert code == 2 and "--media: expected an IPv4 address, got 'relay.example'" in out
