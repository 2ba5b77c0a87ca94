"""The operands every Cisco IOS section reader shares: addresses, masks, and the signal that
a construct cannot be expressed.

Why a module of its own: access lists, NAT, DHCP and the zone firewall all read addresses
the same way and all leave out, never guess, what the model cannot express. One definition
keeps them agreeing on both.
"""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError

ANY = IPv4Network("0.0.0.0/0")


class Unsupported(ValueError):
    """A construct the model cannot express faithfully; the caller records it as unevaluated."""


def ipv4(word: str) -> IPv4Address:
    try:
        return IPv4Address(word)
    except AddressValueError as exc:
        raise Unsupported(f"not an IPv4 address: {word}") from exc


def masked(addr: str, mask: str) -> IPv4Network:
    """``A M`` with a subnet mask (interfaces, DHCP, network object groups), or ``A /len``."""
    try:
        return IPv4Network(f"{addr}/{mask.lstrip('/')}", strict=False)
    except (AddressValueError, NetmaskValueError, ValueError) as exc:
        raise Unsupported(f"not a network: {addr} {mask}") from exc
