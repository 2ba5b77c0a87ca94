"""The operator's addresses as the router audit judges them: what each one needs open, and
the other sources a rule admits, named as the configuration names them.

Why a module of its own: the operator's rule (UDP 5060 and 10000-20000 open to its servers,
and only to them) is about addresses, and an operator may use one address for everything
(the handbook's "operator server") or a registrar, an edge proxy that sends the INVITEs and
a media relay on three. The audit, the cross-check and the offline audit must agree on
which address needs what, and on how "another source" is said: "any address" when a rule
admits any, a network or host only when a rule names it, never the address the audit
happened to test with.

What each role needs (inbound new flows through the forward; the rule lives in
:func:`harness.profile.role_needs`, which the firewall check applies too):

- the registrar (``sip_server``): UDP 5060, as the handbook asks of the operator server;
  and UDP 10000-20000 too when the profile names no media address, since it is then the
  only documented source of the operator's media;
- a signalling address (edge proxy, SBC sending the INVITEs): UDP 5060;
- a media address (relay): UDP 10000-20000;
- an address with several roles: the union of what each needs.

Every operator address may be admitted on every voice port; only what it *needs* differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network

from harness.messages import Msg, msg
from harness.portset import fmt
from harness.profile import role_needs

SIP_PORT = 5060
RTP = range(10000, 20001)
VOICE_PORTS = (SIP_PORT, *RTP)
ANY = IPv4Network("0.0.0.0/0")

Roles = tuple[str, ...]
OperatorAddresses = Mapping[IPv4Address, Roles]


def _any_source_candidates() -> Iterable[IPv4Address]:
    """Addresses that may stand for "any address": ordinary public unicast addresses spread
    over the whole space, tried in a fixed order. Never the lab's nor documentation ones:
    published configurations use those ranges for themselves, and WAN lists drop them as
    bogons, so a witness taken there would be named as "the other source" or be stopped by
    a rule that stops no one else."""
    for first in range(1, 224):
        for k in range(4):
            a = IPv4Address(f"{first}.{(first * 37 + k * 71) % 256}."
                            f"{(first * 91 + k * 13) % 256}.{(first * 53 + k) % 253 + 1}")
            if a.is_global and not a.is_multicast:
                yield a


def addresses_of(operator: IPv4Address | OperatorAddresses) -> dict[IPv4Address, Roles]:
    """The operator's addresses with their roles, registrar first; a bare address is the
    handbook's one operator server (a registrar that also sends the media)."""
    if isinstance(operator, IPv4Address):
        return {operator: ("registrar",)}
    ordered = sorted(operator.items(), key=lambda kv: "registrar" not in kv[1])
    return {ip: tuple(roles) for ip, roles in ordered}


def registrar(operator: Mapping[IPv4Address, Roles]) -> IPv4Address:
    """The registrar's address (the first address when no role says so)."""
    return next((ip for ip, roles in operator.items() if "registrar" in roles),
                next(iter(operator)))


def needs(operator: Mapping[IPv4Address, Roles]) -> dict[IPv4Address, frozenset[int]]:
    """The voice ports each address needs open: the profile's one rule
    (:func:`harness.profile.role_needs`), shared with the firewall check."""
    return role_needs(operator)


def _role_word(role: str) -> Msg:
    if role == "signalling":
        return msg("ROLE_SIGNALLING")
    if role == "media":
        return msg("ROLE_MEDIA")
    return msg("ROLE_REGISTRAR")


def role_words(roles: Iterable[str]) -> Msg:
    """An address's roles as words of a sentence (``SIP server and media relay``)."""
    words = [_role_word(r) for r in roles] or [msg("ROLE_REGISTRAR")]
    out = words[-1]
    for word in reversed(words[:-1]):
        out = msg("ROLES_AND", first=word, then=out)
    return out


def operator_side(address: IPv4Address | str, roles: Iterable[str]) -> Msg:
    """One operator address in a sentence: ``the operator's media relay 198.51.100.30``."""
    return msg("WHO_OPERATOR_ADDRESS", role=role_words(roles), address=str(address))


def listed(operator: Mapping[IPv4Address, Roles]) -> str:
    """The operator's addresses, as the sentences that say "restrict to them" list them."""
    return ", ".join(str(ip) for ip in operator)


def only_operator(net: IPv4Network, operator: Mapping[IPv4Address, Roles]) -> bool:
    """Whether every address of ``net`` is an operator address (a rule naming it admits no
    one else)."""
    return net.num_addresses <= len(operator) and all(h in operator for h in net)


def witnesses(nets: Iterable[IPv4Network], operator: Mapping[IPv4Address, Roles],
              avoid: Iterable[IPv4Network] = ()) -> dict[IPv4Address, IPv4Network]:
    """Source addresses to test the rules with, none of them the operator's, each with the
    network it stands for: one address outside every network ``nets`` names, standing for
    any address (0.0.0.0/0), and one inside each named network (a network holding only
    operator addresses has none). A witness inside several named networks stands for the
    narrowest, the one the configuration certainly admits it by. The "any address" witness
    is also outside the networks ``avoid`` names (those deny rules name): a rule naming no
    network of its own is all that may decide for it, as for any address."""
    named = [n for n in dict.fromkeys(nets) if n.prefixlen > 0]
    shunned = [*named, *(n for n in avoid if n.prefixlen > 0)]
    out: dict[IPv4Address, IPv4Network] = {}
    anyone = next((a for a in _any_source_candidates()
                   if a not in operator and not any(a in n for n in shunned)), None)
    if anyone is not None:
        out[anyone] = ANY
    for n in named:
        host = next((h for h in _candidates(n) if h not in operator), None)
        if host is not None and host not in out:
            out[host] = min((m for m in named if host in m), key=lambda m: m.num_addresses)
    return out


def _candidates(net: IPv4Network) -> Iterable[IPv4Address]:
    """A few addresses of ``net`` to test it by: its first and last hosts, then the rest of
    a small network."""
    if net.prefixlen == 32:
        yield net.network_address
        return
    yield net.network_address + 1
    yield net.broadcast_address - 1
    if net.num_addresses <= 16:
        yield from net


def source_words(net: IPv4Network) -> Msg:
    """A network a rule names, as a sentence says it: ``any address``, a host, a network."""
    if net.prefixlen == 0:
        return msg("WHO_ANY")
    return msg("WHO_NETWORK", network=str(net.network_address) if net.prefixlen == 32
               else str(net))


def who(opened: Mapping[IPv4Network, set[int]], ports: set[int]) -> list[Msg]:
    """The other sources a finding names: each network (or "any address") with the voice
    ports open to it when they are not all of ``ports``, leaving out a network inside a
    wider one already named with at least its ports."""
    keep = [n for n, p in opened.items() if p and not any(
        m != n and n.subnet_of(m) and opened[m] >= p for m in opened)]
    out = []
    for n in sorted(keep, key=lambda n: (n.prefixlen, n)):
        words = source_words(n)
        out.append(words if opened[n] == ports
                   else msg("WHO_WITH_PORTS", who=words, ports=fmt(opened[n])))
    return out
