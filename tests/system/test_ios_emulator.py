"""The IOS emulator must satisfy netmiko's unmodified ``cisco_ios`` driver over real SSH.

No lab needed: every emulator binds 127.0.0.1 on a free port and is stopped (threads joined)
at the end of its fixture. The IOS cases it serves (tests/data/ios/) are checked here too:
full running-configs, and every line a case's expected.json cites is the line it names.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from netmiko import BaseConnection, ConnectHandler, NetmikoAuthenticationException
from netmiko.exceptions import NetmikoTimeoutException, ReadTimeout

from harness.lab.ios_emulator import (
    IosEmulator,
    config_hostname,
    nat_translations,
    vlan_table,
)
from tests.ios_cases import case

REPO = Path(__file__).resolve().parents[2]
# The cases built on good's skeleton (access-groups, no zones): one change each.
NAMES = ("good", "alg_on", "acl_too_broad", "acl_shadowed", "wrong_server_ip", "vlans_merged",
         "dhcp_overlapping", "nat_wrong_host")
USER, PASSWORD, SECRET = "admin", "Emu-pass-7f3c", "Emu-secret-91ab"
INVALID = "% Invalid input detected at '^' marker."


def _text(name: str) -> str:
    return case(name).text


def _header(config: str) -> str:
    return f"Building configuration...\n\nCurrent configuration : {len(config.encode())} bytes\n"


def _emu_threads(emu: IosEmulator) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(f"ios-emu-{emu.port}-")]


@pytest.fixture(scope="module")
def emulator() -> Iterator[IosEmulator]:
    emu = IosEmulator(host="127.0.0.1", port=0, username=USER, password=PASSWORD,
                      enable_secret=SECRET, config_text=_text("good"))
    with emu:
        yield emu
    assert not _emu_threads(emu), "emulator threads left running after stop()"


def _connect(emu: IosEmulator, **extra: object) -> BaseConnection:
    params: dict[str, object] = {
        "device_type": "cisco_ios", "host": "127.0.0.1", "port": emu.port, "username": USER,
        "password": PASSWORD, "secret": SECRET, "fast_cli": False, "conn_timeout": 10}
    params.update(extra)
    return ConnectHandler(**params)


def _cmd(c: BaseConnection, command: str) -> str:
    out = c.send_command(command)
    assert isinstance(out, str)
    return out


@pytest.fixture
def conn(emulator: IosEmulator) -> Iterator[BaseConnection]:
    c = _connect(emulator)
    try:
        yield c
    finally:
        c.disconnect()


def _shell(emu: IosEmulator, password: str = PASSWORD) -> tuple[paramiko.SSHClient,
                                                                    paramiko.Channel]:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", port=emu.port, username=USER, password=password,
                   allow_agent=False, look_for_keys=False, timeout=10)
    chan = client.invoke_shell(term="vt100", width=80, height=24)
    chan.settimeout(0.2)
    return client, chan


def _read_until(chan: paramiko.Channel, pattern: str, timeout: float = 5.0) -> str:
    buf = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, buf):
            return buf
        try:
            data = chan.recv(65536)
        except TimeoutError:
            continue
        if not data:
            break
        buf += data.decode()
    raise AssertionError(f"{pattern!r} not seen; got {buf[-400:]!r}")


# ---- the cases it serves ----------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_a_full_running_config(name: str) -> None:
    text = _text(name)
    lines = text.splitlines()
    assert lines[0].startswith(f"! recette fixture: {name} - ")
    assert lines[-1] == "end" and text.endswith("end\n")
    assert config_hostname(text) == "rtr-rennes"
    for needle in ("version 15.7", "enable secret 9 $9$", "username admin secret 9 $9$",
                   "interface GigabitEthernet8", " ip nat outside", " ip access-group WAN-IN in",
                   "interface Vlan1", "ip nat inside source list NAT-LAN interface "
                   "GigabitEthernet8 overload", "ip access-list extended WAN-IN",
                   " deny   ip any any log", "object-group network OPERATOR",
                   "object-group service VOICE", " udp eq 5060", " udp range 10000 20000"):
        assert needle in text, needle
    for number, expected in case(name).cited().items():  # what the audit tests cite
        assert lines[number - 1] == expected, (name, number)


def test_fixtures_differ_from_good_only_where_they_say() -> None:
    good = _text("good")
    assert "no ip nat service sip udp port 5060" not in _text("alg_on").splitlines()
    assert "interface Vlan254" not in _text("vlans_merged")
    assert "switchport access vlan 254" not in _text("vlans_merged")
    for name in NAMES[1:]:
        assert _text(name) != good
        assert len(_text(name).splitlines()) == len(good.splitlines()), name


def test_vlan_and_nat_views_follow_the_config() -> None:
    table = vlan_table(_text("good")) or ""
    assert re.search(r"^1    default\s+active    Gi0, Gi1, Gi2, Gi3$", table, re.M)
    assert re.search(r"^254  VLAN0254\s+active    Gi4, Gi5, Gi6, Gi7$", table, re.M)
    merged = vlan_table(_text("vlans_merged")) or ""
    assert "254 " not in merged
    assert re.search(r"^1    default\s+active    Gi0, Gi1, Gi2, Gi3, Gi4, Gi5,\n {48}Gi6, Gi7$",
                     merged, re.M)
    assert vlan_table("hostname r\ninterface GigabitEthernet0\n ip address 10.0.0.1 "
                      "255.0.0.0\n") is None
    nat = nat_translations(_text("nat_wrong_host"))
    assert "udp 192.0.2.2:5060        192.168.254.20:5060" in nat
    assert "--- 192.0.2.3             192.168.254.20 " in nat


# ---- netmiko against the emulator ---------------------------------------------------------


def test_netmiko_reads_the_running_config(conn: BaseConnection, emulator: IosEmulator) -> None:
    c = conn
    assert c.find_prompt() == "rtr-rennes>"
    user_mode = _cmd(c, "show running-config")
    assert INVALID in user_mode and "Building configuration" not in user_mode
    c.enable()
    assert c.find_prompt() == "rtr-rennes#"
    config = emulator.config_text
    out = _cmd(c, "show running-config")
    assert out.startswith(_header(config))
    assert out[len(_header(config)):] == config
    assert _cmd(c, "sh run") == out
    assert _cmd(c, "show running-config | include ^ip nat inside source static") == (
        "ip nat inside source static udp 192.168.254.10 5060 interface GigabitEthernet8 5060\n"
        "ip nat inside source static 192.168.254.10 192.0.2.3 extendable")


@pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")  # netmiko+textfsm
def test_netmiko_show_commands_and_errors(conn: BaseConnection) -> None:
    c = conn
    version = _cmd(c, "show version")
    assert "Cisco IOS Software, C800 Software" in version
    assert "Cisco C891F-K9 (revision 1.0) with" in version
    assert "rtr-rennes uptime is" in version
    bad = _cmd(c, "show runing-confg")
    assert bad.splitlines() == [" " * len("rtr-rennes>show ") + "^", INVALID]
    assert "% Unknown command or computer name" in _cmd(c, "frobnicate")
    assert _cmd(c, "show ip").strip() == "% Incomplete command."
    assert "% Ambiguous command" in _cmd(c, "s")
    vlans = _cmd(c, "show vlan-switch brief")
    assert re.search(r"^254\s+VLAN0254\s+active\s+Gi4, Gi5, Gi6, Gi7$", vlans, re.M)
    assert _cmd(c, "show vlan brief") == vlans
    nat = _cmd(c, "show ip nat translations")
    assert nat.splitlines()[0].startswith("Pro Inside global")
    assert "udp 192.0.2.2:5060        192.168.254.10:5060" in nat
    # the outputs are close enough to IOS for netmiko's TextFSM (ntc-templates) parsers
    parsed = c.send_command("show version", use_textfsm=True)
    assert isinstance(parsed, list) and parsed[0]["hardware"] == ["C891F-K9"]
    assert parsed[0]["version"] == "15.7(3)M8" and parsed[0]["hostname"] == "rtr-rennes"
    parsed = c.send_command("show vlan brief", use_textfsm=True)
    assert isinstance(parsed, list)
    assert {"vlan_id": "254", "vlan_name": "VLAN0254", "status": "active",
            "interfaces": ["Gi4", "Gi5", "Gi6", "Gi7"]} in parsed
    parsed = c.send_command("show ip nat translations", use_textfsm=True)
    assert isinstance(parsed, list)
    assert [(r["protocol"], r["inside_global_ip"], r["inside_local_ip"]) for r in parsed] == [
        ("udp", "192.0.2.2", "192.168.254.10"), ("---", "192.0.2.3", "192.168.254.10")]


def test_wrong_password_is_an_authentication_failure(emulator: IosEmulator) -> None:
    start = time.monotonic()
    with pytest.raises(NetmikoAuthenticationException):
        _connect(emulator, password="not-the-password")
    assert time.monotonic() - start < 15


def test_wrong_enable_secret_fails_and_stays_in_user_exec(emulator: IosEmulator) -> None:
    c = _connect(emulator, secret="not-the-secret")
    try:
        start = time.monotonic()
        with pytest.raises((ValueError, ReadTimeout, NetmikoTimeoutException)):
            c.enable()
        assert time.monotonic() - start < 15
        assert c.find_prompt() == "rtr-rennes>"
    finally:
        c.disconnect()


# ---- raw SSH: echo, enable dialogue, paging -----------------------------------------------


def test_raw_shell_echo_enable_and_paging(emulator: IosEmulator) -> None:
    client, chan = _shell(emulator)
    try:
        _read_until(chan, r"rtr-rennes>$")
        chan.send(b"\r\n")  # CR LF is one Enter: exactly one fresh prompt
        out = _read_until(chan, r"rtr-rennes>$")
        assert out == "\r\nrtr-rennes>"
        chan.send(b"\n")  # a bare LF (what netmiko sends) is an Enter too
        assert _read_until(chan, r"rtr-rennes>$") == "\r\nrtr-rennes>"
        chan.send(b"shw\x7fow privilege\r")  # backspace edits the line, as on a terminal
        out = _read_until(chan, r"rtr-rennes>$")
        assert out.startswith("shw\b \bow privilege\r\n")
        assert "Current privilege level is 1\r\n" in out
        chan.send(b"enable\r")
        out = _read_until(chan, r"Password: $")
        assert out.startswith("enable")  # echoed as typed
        chan.send(b"wrong\r")
        out = _read_until(chan, r"rtr-rennes>$")
        assert "% Access denied" in out and "wrong" not in out  # passwords are not echoed
        chan.send(b"enable\r")
        _read_until(chan, r"Password: $")
        chan.send(SECRET.encode() + b"\r")
        _read_until(chan, r"rtr-rennes#$")

        chan.send(b"show running-config\r")
        first = _read_until(chan, re.escape(" --More-- ") + "$")
        body = first.split("\r\n", 1)[1]  # after the echoed command
        shown = body[: -len(" --More-- ")].split("\r\n")
        assert shown[-1] == ""
        assert len(shown) - 1 == 23  # a 24-row screen: 23 lines then --More--
        assert shown[:4] == ["Building configuration...", "",
                             f"Current configuration : {len(emulator.config_text.encode())} "
                             "bytes", emulator.config_text.splitlines()[0]]
        chan.send(b" ")  # space: one more screen
        second = _read_until(chan, re.escape(" --More-- ") + "$")
        assert second.startswith("\b" * 10 + " " * 10 + "\b" * 10)
        assert emulator.config_text.splitlines()[20] in second
        chan.send(b"q")  # quit: straight back to the prompt
        after = _read_until(chan, r"rtr-rennes#$")
        assert "--More--" not in after and "end\r\n" not in after

        chan.send(b"terminal length 0\r")
        _read_until(chan, r"rtr-rennes#$")
        chan.send(b"show running-config\r")
        whole = _read_until(chan, r"\r\nend\r\n\r\nrtr-rennes#$")
        assert "--More--" not in whole
        chan.send(b"exit\r")
        deadline = time.monotonic() + 5
        while not chan.exit_status_ready() and not chan.closed and time.monotonic() < deadline:
            try:
                if not chan.recv(1024):
                    break
            except TimeoutError:
                continue
        assert chan.closed or chan.eof_received
    finally:
        client.close()


def test_model_and_hostname_are_configurable() -> None:
    with IosEmulator(host="127.0.0.1", port=0, username=USER, password=PASSWORD,
                     enable_secret=SECRET, config_text=_text("alg_on"), hostname="C1111-SITE",
                     model="C1111-8P") as emu:
        assert PASSWORD not in repr(emu) and SECRET not in repr(emu)
        client, chan = _shell(emu)
        try:
            _read_until(chan, r"C1111-SITE>$")
            chan.send(b"terminal length 0\rshow version\r")
            out = _read_until(chan, r"Configuration register is 0x2102\r\n\r\nC1111-SITE>$")
            assert "Cisco C1111-8P (revision 1.0) with" in out
        finally:
            client.close()
    assert not _emu_threads(emu)
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(2)
        s.connect(("127.0.0.1", emu.port))


def test_cli_reads_secrets_from_the_environment(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "IOS_EMU_PASSWORD": PASSWORD, "IOS_EMU_SECRET": SECRET}
    cmd = [sys.executable, "-m", "harness.lab.ios_emulator", "--listen", f"127.0.0.1:{port}",
           "--config", str(case("wrong_server_ip").path), "--username", USER]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert "listening on" in proc.stdout.readline()
        c = ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=port, username=USER,
                           password=PASSWORD, secret=SECRET, fast_cli=False, conn_timeout=10)
        try:
            c.enable()
            assert " host 198.51.100.11" in _cmd(c, "show running-config")
        finally:
            c.disconnect()
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert PASSWORD not in stdout + stderr and SECRET not in stdout + stderr

    missing = {k: v for k, v in os.environ.items() if not k.startswith("IOS_EMU_")}
    res = subprocess.run(cmd, cwd=REPO, env=missing, capture_output=True, text=True,
                         timeout=30)
    assert res.returncode != 0 and "IOS_EMU_PASSWORD" in res.stderr
