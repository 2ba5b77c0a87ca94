"""The operands every Cisco IOS section reader shares: addresses, masks, and the signal that
a construct cannot be expressed.

Why a module of its own: access lists, NAT, DHCP and the zone firewall all read addresses
the same way and all leave out, never guess, what the model cannot express. One definition
keeps them agreeing on both.
"""

from __future__ import annotations

import re
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError

ANY = IPv4Network("0.0.0.0/0")


class Unsupported(ValueError):
    """A construct the model cannot express faithfully; the caller records it as unevaluated."""


class Redacted(Unsupported):
    """An address a published copy of the configuration hid (``x.x.x.x``, ``<removed>``)."""


# What people put in place of an address they hide before publishing a configuration:
# letters or stars for some of its four parts (x.x.x.x, 203.0.113.X, a.b.c.d, *.*.*.*,
# xxx.xxx.xxx.xxx), or a placeholder in angle brackets (<removed>, <PUBLIC-IP>).
_REDACTED = re.compile(r"<[^<>\s]{1,40}>|(?=[\d.]*[A-Za-z*#])"
                       r"(?:\d{1,3}|[A-Za-z]{1,3}|[*#]{1,3})(?:\.(?:\d{1,3}|[A-Za-z]{1,3}|[*#]{1,3})){3}")


def redacted(word: str) -> bool:
    """Whether ``word`` stands for a hidden address."""
    return _REDACTED.fullmatch(word) is not None


def ipv4(word: str) -> IPv4Address:
    try:
        return IPv4Address(word)
    except AddressValueError as exc:
        if redacted(word):
            raise Redacted(f"address redacted: {word}") from exc
        raise Unsupported(f"not an IPv4 address: {word}") from exc


def masked(addr: str, mask: str) -> IPv4Network:
    """``A M`` with a subnet mask (interfaces, DHCP, network object groups), or ``A /len``."""
    try:
        return IPv4Network(f"{addr}/{mask.lstrip('/')}", strict=False)
    except (AddressValueError, NetmaskValueError, ValueError) as exc:
        if redacted(addr) or redacted(mask):
            raise Redacted(f"address redacted: {addr} {mask}") from exc
        raise Unsupported(f"not a network: {addr} {mask}") from exc
