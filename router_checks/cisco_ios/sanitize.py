"""Mask the secrets a Cisco IOS running-config carries, before it goes anywhere.

A ``show running-config`` holds credentials: type 7 passwords (reversible by anyone), type
5/8/9 hashes (open to offline guessing), SNMP communities, RADIUS/TACACS/IKE keys, Wi-Fi and
PPP passwords and the SIP credentials of ``sip-ua``. The audit needs none of them, while the
report, results.json and the offline audit's output travel to customers and support desks.
Each value is replaced by ``<redacted>`` in place: lines keep their number and their
keywords, so every citation still points at the right line of the router's own text.
"""

from __future__ import annotations

import re

MASK = "<redacted>"

# Each pattern captures, in group "v", one secret value; the encryption type digit before it
# (0, 5, 6, 7, 8, 9) is kept, because it tells the reader how the secret was stored.
_T = r"(?:[0-9]\s+)?"
_NOT_A_VALUE = r"(?!encryption\b|address\b|hostname\b)"
_PATTERNS = [
    re.compile(rf"^\s*enable\s+(?:secret|password)\s+(?:level\s+\d+\s+)?{_T}(?P<v>\S+)"),
    re.compile(rf"^\s*username\s+\S+\s+(?:.*?\s)?(?:secret|password)\s+{_T}(?P<v>\S+)"),
    re.compile(rf"^\s+password\s+{_T}(?P<v>\S+)"),  # line con/vty, and others
    re.compile(r"^\s*snmp-server\s+community\s+(?P<v>\S+)"),
    # snmp-server host ADDR [informs|traps] [version 1|2c|3 LEVEL] COMMUNITY-or-USER ...
    re.compile(r"^\s*snmp-server\s+host\s+\S+\s+(?:(?:informs|traps)\s+)?"
               r"(?:version\s+(?:1|2c|3\s+\S+)\s+)?(?P<v>\S+)"),
    re.compile(r"^\s*snmp-server\s+user\s+.*?\bauth\s+\S+\s+(?P<v>\S+)"),
    re.compile(r"^\s*snmp-server\s+user\s+.*?\bpriv\s+(?:aes\s+\d+|\S+)\s+(?P<v>\S+)"),
    re.compile(rf"^\s*(?:tacacs-server|radius-server)\s+(?:host\s+\S+\s+.*?)?key\s+{_T}"
               r"(?P<v>\S+)"),
    re.compile(rf"^\s*server-private\s+\S+\s+(?:.*?\s)?key\s+{_T}(?P<v>\S+)"),
    # "key [type] VALUE" in radius/tacacs server blocks and EzVPN groups; a key chain's
    # bare " key 1" (an id, nothing after it) is not a secret.
    re.compile(r"^\s+key\s+[067]\s+(?P<v>\S+)"),
    re.compile(r"^\s+key\s+(?P<v>(?!\d+\s*$)\S+)\s*$"),
    re.compile(rf"\bkey-string\s+{_T}(?P<v>\S+)"),  # key chains, HSRP md5
    re.compile(rf"^\s*crypto\s+isakmp\s+key\s+{_T}(?P<v>\S+)"),
    re.compile(rf"^\s*pre-shared-key\s+(?:local\s+|remote\s+)?{_T}{_NOT_A_VALUE}(?P<v>\S+)"),
    re.compile(rf"^\s*pre-shared-key\s+(?:address\s+\S+(?:\s+\S+)?|hostname\s+\S+)\s+"
               rf"key\s+{_T}(?P<v>\S+)"),
    re.compile(rf"\bpre-share\s+key\s+{_T}(?P<v>\S+)"),  # IKEv2 profiles
    re.compile(rf"^\s*(?:ppp\s+chap|ppp\s+pap\s+sent-username\s+\S+)\s+password\s+{_T}"
               r"(?P<v>\S+)"),
    re.compile(rf"^\s*wpa-psk\s+(?:ascii|hex)\s+{_T}(?P<v>\S+)"),
    re.compile(rf"^\s*(?:credentials|authentication)\s+.*?\bpassword\s+{_T}(?P<v>\S+)"),
    re.compile(r"^\s*(?:standby|vrrp)\s+(?:\d+\s+)?authentication\s+(?:text\s+)?"
               r"(?P<v>(?!md5\b)\S+)"),
    re.compile(rf"\bmessage-digest-key\s+\d+\s+md5\s+{_T}(?P<v>\S+)"),
    re.compile(r"^\s*ntp\s+authentication-key\s+\d+\s+\S+\s+(?P<v>\S+)"),
    re.compile(rf"^\s*neighbor\s+\S+\s+password\s+{_T}(?P<v>\S+)"),
    re.compile(rf"^\s*ip\s+ospf\s+authentication-key\s+{_T}(?P<v>\S+)"),
    re.compile(r"^\s*ip\s+nhrp\s+authentication\s+(?P<v>\S+)"),
    re.compile(rf"^\s*ip\s+ftp\s+password\s+{_T}(?P<v>\S+)"),
]
# Last resort, for a line no pattern above knows: whatever follows "password" or "secret".
_FALLBACK = re.compile(rf"(?<![\w-])(?:password|secret)\s+{_T}{_NOT_A_VALUE}(?P<v>\S+)")


def redact_line(line: str) -> str:
    known = False
    for pat in _PATTERNS:
        m = pat.search(line)
        if m:
            known = True
            if m.group("v") != MASK:
                line = line[:m.start("v")] + MASK + line[m.end("v"):]
    if not known:
        m = _FALLBACK.search(line)
        if m and m.group("v") != MASK:
            line = line[:m.start("v")] + MASK + line[m.end("v"):]
    return line


def ios_config(text: str) -> str:
    """The configuration with every secret value masked; line count and endings unchanged."""
    return "".join(redact_line(x) for x in text.splitlines(keepends=True))
