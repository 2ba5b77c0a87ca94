"""The field operator's shapes as the lab renders them, without building a lab: Kamailio's
sockets, the latching nftables table, the router firewall each mode writes, and the profile
the lab writes for each shape (declared, and forgotten by the integrator)."""

from __future__ import annotations

import re
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import get_args

import pytest

import harness.lab.profile as lab_profile
from harness.errors import LabError
from harness.lab import kamailio, latch, profile_data, shapes, testline
from harness.lab.firewall import FIREWALL_MODES, FirewallMode, RouterPolicy, ruleset
from harness.lab.state import LabState
from harness.lab.topology import INET_OP, OP_SERVER, PROBE
from harness.profile import Profile

EDGE, RELAY = IPv4Address("198.51.100.11"), IPv4Address("198.51.100.30")


@pytest.fixture(autouse=True)
def _state_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's password seed goes to a temporary folder, not /run/recette."""
    monkeypatch.setattr(lab_profile, "STATE_ROOT", tmp_path)


def _state(shape: str, *, declared: bool = True) -> LabState:
    media = shapes.get(shape).media_ip
    return LabState("rct0a0a", False, "strict", None, time.time(), operator="field",
                    media_ip=str(media), shape=shape, declared=declared)


def _profile(shape: str, *, declared: bool = True) -> Profile:
    return Profile.model_validate(profile_data(_state(shape, declared=declared)))


# -- the table ----------------------------------------------------------------------------------
def test_every_shape_lives_on_free_addresses_of_the_operators_network() -> None:
    net = IPv4Network("198.51.100.0/24")
    for shape in shapes.SHAPES.values():
        assert shape.addresses[0] == OP_SERVER  # the registrar first, as the profile has it
        for ip in shape.addresses:
            assert ip in net and ip not in (INET_OP, PROBE, net.network_address,
                                             net.broadcast_address), (shape.name, ip)
        assert set(shape.extra_addresses()) == set(shape.addresses) - {OP_SERVER}


def test_addresses_by_shape() -> None:
    got = {name: (s.invite_from, s.signalling_ips, s.media_ip, s.addresses, s.latching)
           for name, s in shapes.SHAPES.items()}
    assert got == {
        "default": ((OP_SERVER, 5062), (), OP_SERVER, (OP_SERVER,), False),
        "one-address": ((OP_SERVER, 5060), (), OP_SERVER, (OP_SERVER,), False),
        "three-address": ((EDGE, 5060), (EDGE,), RELAY, (OP_SERVER, EDGE, RELAY), False),
        "latching": ((OP_SERVER, 5062), (), OP_SERVER, (OP_SERVER,), True),
    }


def test_a_relay_moved_off_the_shape_gets_its_address_on_the_operator() -> None:
    assert shapes.DEFAULT.extra_addresses(RELAY) == (RELAY,)
    assert shapes.DEFAULT.extra_addresses(OP_SERVER) == ()


def test_an_unknown_shape_names_the_known_ones() -> None:
    with pytest.raises(LabError, match="expected one of default, one-address, three-address"):
        shapes.get("two-address")


# -- Kamailio ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "listen", "sends_from"), [
    ("default", ["udp:198.51.100.10:5060", "tcp:198.51.100.10:5060", "udp:198.51.100.10:5062"],
     "198.51.100.10:5062"),
    ("one-address", ["udp:198.51.100.10:5060", "tcp:198.51.100.10:5060"], "198.51.100.10:5060"),
    ("three-address", ["udp:198.51.100.10:5060", "tcp:198.51.100.10:5060",
                       "udp:198.51.100.11:5060"], "198.51.100.11:5060"),
    ("latching", ["udp:198.51.100.10:5060", "tcp:198.51.100.10:5060",
                  "udp:198.51.100.10:5062"], "198.51.100.10:5062"),
])
def test_kamailio_listens_and_calls_the_site_from_the_shapes_sockets(
        shape: str, listen: list[str], sends_from: str) -> None:
    cfg = kamailio.render(_profile(shape), field=True, shape=shapes.get(shape))
    assert re.findall(r"^listen=(\S+)$", cfg, re.MULTILINE) == listen
    # The call to the site and every branch of it (branch_route) leave from one socket.
    assert re.findall(r"force_send_socket\(udp:([\d.:]+)\)", cfg) == [sends_from] * 2
    assert "auto_aliases=no" in cfg and "@@" not in cfg


def test_the_default_operators_kamailio_is_unchanged_by_shapes() -> None:
    """The default lab's operator has the default shape: its config is what it was."""
    prof = Profile.model_validate(lab_profile.lab_profile_data("rct0a0a"))
    assert kamailio.render(prof) == kamailio.render(prof, shape=shapes.DEFAULT)
    assert "listen=udp:198.51.100.10:5062" in kamailio.render(prof)


# -- latching ------------------------------------------------------------------------------------
def test_latching_rules_key_on_site_address_site_port_and_relay_port() -> None:
    text = latch.ruleset(RELAY, (30000, 39999))
    assert "type ipv4_addr . inet_service . inet_service" in text
    assert "flags dynamic, timeout" in text
    seen = next(ln.strip() for ln in text.splitlines() if "update @latched" in ln)
    assert seen == ('iifname "eth0" ip daddr 198.51.100.30 udp dport 30000-39999 '
                    "update @latched { ip saddr . udp sport . udp dport }")
    hold = next(ln.strip() for ln in text.splitlines() if ln.strip().endswith("drop"))
    assert hold == ('oifname "eth0" ip saddr 198.51.100.30 udp sport 30000-39999 '
                    "ip daddr . udp dport . udp sport != @latched counter drop")
    assert "hook prerouting" in text and "hook output" in text


# -- the router's firewall -------------------------------------------------------------------------
def test_firewall_modes_are_the_literals() -> None:
    assert set(FIREWALL_MODES) == set(get_args(FirewallMode))


def _inbound(mode: FirewallMode, operator: tuple[IPv4Address, ...]) -> list[str]:
    text = ruleset(RouterPolicy(mode=mode, operator=operator), wan="wan0", voice="voice0",
                   data="data0")
    return [ln.strip() for ln in text.splitlines() if "ct status dnat" in ln]


@pytest.mark.parametrize(("mode", "operator", "rule"), [
    ("strict", (OP_SERVER,), "ip saddr 198.51.100.10 "),
    ("strict", (OP_SERVER, EDGE, RELAY), "ip saddr { 198.51.100.10, 198.51.100.11, "
                                         "198.51.100.30 } "),
    ("registrar-only", (OP_SERVER, EDGE, RELAY), "ip saddr 198.51.100.10 "),
    ("open", (OP_SERVER, EDGE, RELAY), ""),
])
def test_each_mode_admits_its_sources(mode: FirewallMode, operator: tuple[IPv4Address, ...],
                                      rule: str) -> None:
    assert _inbound(mode, operator) == [
        f'iifname "wan0" oifname "voice0" ct status dnat {rule}'
        "udp dport { 5060, 10000-20000 } accept"]


def test_closed_admits_no_one() -> None:
    assert _inbound("closed", (OP_SERVER, EDGE, RELAY)) == []


# -- the profile ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "signalling", "media"), [
    ("default", [], []),
    ("one-address", [], []),
    ("three-address", [EDGE], [RELAY]),
    ("latching", [], []),
])
def test_the_profile_declares_what_the_handbook_says(shape: str, signalling: list[IPv4Address],
                                                     media: list[IPv4Address]) -> None:
    op = _profile(shape).operator
    assert (op.signalling_ips, op.media_ips) == (signalling, media)
    assert op.sources() == frozenset(shapes.get(shape).addresses)


def test_an_integrator_who_forgot_declares_the_registrar_only() -> None:
    op = _profile("three-address", declared=False).operator
    assert (op.signalling_ips, op.media_ips) == ([], [])
    assert op.sources() == frozenset({OP_SERVER})
    data = profile_data(_state("three-address", declared=False))
    assert "signalling_ips" not in data["operator"]  # type: ignore[operator]


def test_the_field_operator_routes_its_short_code_to_the_test_line() -> None:
    """The short code reaches the SIPp test line; every other number keeps its far end."""
    cfg = kamailio.render(_profile("default"), field=True, shape=shapes.DEFAULT)
    assert f'else if ($rU == "{testline.NUMBER}") {{ $du = "sip:198.51.100.10:5083"; }}' in cfg
    assert "@@" not in cfg
    assert testline.command(Path("/tmp/t.xml"), "198.51.100.10")[-7:-4] == [
        "-mp", str(testline.MEDIA_PORT), "-rtp_echo"]
