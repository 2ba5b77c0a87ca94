"""Secrets of an IOS running-config are masked in place; everything else is left as it was."""

from __future__ import annotations

import pytest

from router_checks import cisco_ios as ios
from router_checks.cisco_ios.sanitize import MASK, ios_config, redact_line

SECRET_LINES = [
    ("enable secret 9 $9$R6/rc26j7Yn7Cm$Hjv.eS0q", "enable secret 9 <redacted>"),
    ("enable password 7 0822455D0A16", "enable password 7 <redacted>"),
    ("enable secret level 5 5 $1$abcd$xyz", "enable secret level 5 5 <redacted>"),
    ("username admin privilege 15 secret 9 $9$AI23q/Nd", "username admin privilege 15 secret 9 "
     "<redacted>"),
    ("username voip password 7 094F471A1A0A", "username voip password 7 <redacted>"),
    (" password 7 13061E010803", " password 7 <redacted>"),
    ("snmp-server community s3cr3tRO RO 10", "snmp-server community <redacted> RO 10"),
    ("tacacs-server key 7 0822455D0A16", "tacacs-server key 7 <redacted>"),
    ("radius-server host 10.0.0.5 auth-port 1812 key s3cret", "radius-server host 10.0.0.5 "
     "auth-port 1812 key <redacted>"),
    (" key 7 0822455D0A16", " key 7 <redacted>"),
    (" key-string 7 0822455D0A16", " key-string 7 <redacted>"),
    ("crypto isakmp key 6 Abc123 address 203.0.113.9", "crypto isakmp key 6 <redacted> address "
     "203.0.113.9"),
    (" pre-shared-key local 0 Abc123", " pre-shared-key local 0 <redacted>"),
    (" ppp chap password 7 0822455D0A16", " ppp chap password 7 <redacted>"),
    (" ppp pap sent-username fti/abc password 7 0822455D", " ppp pap sent-username fti/abc "
     "password 7 <redacted>"),
    (" wpa-psk ascii 0 MyWifiKey", " wpa-psk ascii 0 <redacted>"),
    (" credentials username 0145670123 password 7 0822455D0A16 realm sip.example.net",
     " credentials username 0145670123 password 7 <redacted> realm sip.example.net"),
    (" authentication username trunk01 password 0 hunter2", " authentication username trunk01 "
     "password 0 <redacted>"),
    (" ip ospf message-digest-key 1 md5 7 0822455D0A16", " ip ospf message-digest-key 1 md5 7 "
     "<redacted>"),
    ("ntp authentication-key 1 md5 0822455D0A16 7", "ntp authentication-key 1 md5 <redacted> 7"),
    (" neighbor 192.0.2.1 password 7 0822455D0A16", " neighbor 192.0.2.1 password 7 <redacted>"),
    (" pre-shared-key address 0.0.0.0 0.0.0.0 key 6 XYZabc",
     " pre-shared-key address 0.0.0.0 0.0.0.0 key 6 <redacted>"),
    (" pre-shared-key hostname peer key plainkey", " pre-shared-key hostname peer key <redacted>"),
    (" key plainradkey", " key <redacted>"),
    ("snmp-server host 192.0.2.1 public", "snmp-server host 192.0.2.1 <redacted>"),
    ("snmp-server host 192.0.2.1 traps version 2c c0mmun1ty udp-port 162",
     "snmp-server host 192.0.2.1 traps version 2c <redacted> udp-port 162"),
    (" server-private 10.0.0.5 key 7 0822455D0A16", " server-private 10.0.0.5 key 7 <redacted>"),
    (" standby 1 authentication md5 key-string 7 0822455D0A16",
     " standby 1 authentication md5 key-string 7 <redacted>"),
    (" standby 1 authentication S3cr", " standby 1 authentication <redacted>"),
    (" vrrp 1 authentication text S3cr", " vrrp 1 authentication text <redacted>"),
    (" authentication local pre-share key 6 Abc123", " authentication local pre-share key 6 "
     "<redacted>"),
    (" ip nhrp authentication NhrpK3y", " ip nhrp authentication <redacted>"),
    ("ip ftp password 7 0822455D0A16", "ip ftp password 7 <redacted>"),
    (" wpa-psk hex 0 0123456789abcdef", " wpa-psk hex 0 <redacted>"),
    ("ntp authentication-key 1 hmac-sha2-256 NtpK3y 7", "ntp authentication-key 1 hmac-sha2-256 "
     "<redacted> 7"),
    (" some-future-feature password Unkn0wn", " some-future-feature password <redacted>"),
]

KEPT_LINES = [
    "service password-encryption",
    "no service password-recovery",
    "key chain RIP",
    " key 1",
    "crypto key generate rsa modulus 2048",
    "ip ssh version 2",
    "interface Vlan254",
    " ip address 192.168.254.1 255.255.255.0",
    " permit udp host 198.51.100.10 any eq 5060",
    "login block-for 120 attempts 3 within 60",
    "password encryption aes",
    " standby 1 authentication md5 key-chain HSRP",
    "security passwords min-length 8",
]


@pytest.mark.parametrize(("line", "masked"), SECRET_LINES)
def test_secret_value_is_masked_and_the_rest_kept(line: str, masked: str) -> None:
    assert redact_line(line) == masked
    assert redact_line(masked) == masked  # idempotent


@pytest.mark.parametrize("line", KEPT_LINES)
def test_ordinary_lines_are_untouched(line: str) -> None:
    assert redact_line(line) == line


def test_whole_config_keeps_line_numbers_endings_and_audit_facts() -> None:
    text = "\r\n".join(["!", "hostname r", *[x for x, _ in SECRET_LINES], "interface Vlan1",
                        " ip address 192.168.1.1 255.255.255.0", "end", ""])
    clean = ios_config(text)
    assert clean.count("\r\n") == text.count("\r\n")
    for secret in ("$9$", "0822455D0A16", "s3cr3tRO", "hunter2", "MyWifiKey", "Abc123",
                   "XYZabc", "plainradkey", "public", "NtpK3y", "Unkn0wn"):
        assert secret not in clean
    assert clean.count(MASK) == len(SECRET_LINES)
    assert [i.source.lines for i in ios.parse(clean).interfaces] == [
        (len(SECRET_LINES) + 3, len(SECRET_LINES) + 4)]
