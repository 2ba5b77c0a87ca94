"""Cisco IOS (800-series) ``show running-config`` → :class:`RouterModel`: the single entry
point of the IOS reader.

The configuration is split by indentation into its blocks (:mod:`.tree`), keeping every
line's position, so each fact cites the 1-based line of the text exactly as collected
(leading ``!`` lines included). Each section has its reader, because the audits need IOS's
own semantics (first match, implicit deny, ACL before NAT): :mod:`.interfaces`, :mod:`.nat`,
:mod:`.filters` (with :mod:`.acl` and :mod:`.zbf`), :mod:`.dhcp` and :mod:`.mgmt` (the
router's own management services). This module runs them
in order and assembles the model.

Only what decides the audits is interpreted. An access-list entry with a qualifier the model
cannot express is listed under ``model.sources["unevaluated"]`` and left out, never guessed
(as the OpIOS parser does).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from harness.messages import Msg, msg
from router_checks.cisco_ios.dhcp import dhcp_pools
from router_checks.cisco_ios.filters import read_filters
from router_checks.cisco_ios.inspect import sip_inspection
from router_checks.cisco_ios.interfaces import (
    lan_vrfs,
    model_interfaces,
    read_interfaces,
    roles_of,
    routed_lans,
)
from router_checks.cisco_ios.layout import noise, orphans, renest, unknown
from router_checks.cisco_ios.mgmt import read_management
from router_checks.cisco_ios.nat import read_nat
from router_checks.cisco_ios.sanitize import ios_config
from router_checks.cisco_ios.tree import Node, Note, source, tree
from router_checks.model import RouterModel

ORIGIN = "show running-config"
VERSION_ORIGIN = "show version"


def _model_name(version: str | None, top: list[Node]) -> str | None:
    """The hardware model: ``cisco C891F-K9 (revision ...)`` in ``show version``, else the
    ``license udi pid`` line of the running-config."""
    if version:
        m = re.search(r"^\s*cisco\s+(\S+)\s+\(", version, re.IGNORECASE | re.MULTILINE)
        if m:
            return m.group(1)
        m = re.search(r"^\s*Model number\s*:\s*(\S+)", version, re.IGNORECASE | re.MULTILINE)
        if m:
            return m.group(1)
    for n in top:
        w = n.words
        if w[:3] == ["license", "udi", "pid"] and len(w) >= 4:
            return w[3]
    return None


# Above this share of top-level lines that are no IOS command, the text is not a running-config.
MAX_UNKNOWN = 0.5


def _unusable(top: list[Node], origin: str, note: Note) -> list[Msg]:
    """Why the configuration cannot be audited as read: sub-commands whose block is lost
    (an unindented paste the grammar could not rebuild), or mostly text that is no IOS
    command (another vendor's configuration, a log). No interface and no WAN are the
    audit's own checks, whatever the kind."""
    out: list[Msg] = []
    lost = orphans(top)
    for n in lost:
        note(n, "sub-command outside any block: not read")
    if lost:
        out.append(msg("CONFIG_LINES_LOST", origin=origin, count=len(lost),
                       lines=_nums(lost)))
    strange = unknown(top)
    commands = [n for n in top if not n.text.startswith("!")]
    if commands and len(strange) > MAX_UNKNOWN * len(commands):
        out.append(msg("CONFIG_NOT_IOS", origin=origin, count=len(strange),
                       total=len(commands), lines=_nums(strange)))
    return out


def _nums(nodes: list[Node], most: int = 8) -> str:
    """``12, 13, 40 …`` : the first line numbers, so the reader can look."""
    shown = ", ".join(str(n.num) for n in nodes[:most])
    return shown + (" …" if len(nodes) > most else "")


def parse(config_text: str, *, version: str | None = None, origin: str = ORIGIN
          ) -> RouterModel:
    """Build the model from ``show running-config`` (and ``show version`` for the model)."""
    # Count lines as editors and ``grep -n`` do (only "\n" ends a line), so the cited numbers
    # match the file; str.splitlines() would also split on form feeds and the like.
    config_text = ios_config(config_text)  # a saved file may still hold its secrets
    lines = [x.removesuffix("\r") for x in config_text.split("\n")]
    unterminated: list[Node] = []
    top = tree(lines, unterminated, noise)
    renest(top)  # sub-commands pasted at column 0 go back under their block
    model = RouterModel(kind="cisco_ios")
    model.sources = {origin: config_text}
    if version is not None:
        model.sources[VERSION_ORIGIN] = version
    notes: list[str] = []

    def note(node: Node, why: str) -> None:
        notes.append(f"{origin}:{node.num}: {why} ('{node.text}')")

    for n in top:
        if n.words[:1] == ["hostname"] and len(n.words) == 2:
            model.hostname = n.words[1]
    model.model = _model_name(version, top)

    itfs = read_interfaces(top)
    roles = roles_of(itfs, top)
    model.interfaces = model_interfaces(itfs, roles, origin)
    for name, itf in itfs.items():
        if itf.hidden is not None:
            note(itf.hidden, f"address redacted: {name} taken as "
                             f"{'the WAN' if roles[name] == 'wan' else 'a ' + roles[name]}")
    routed = routed_lans(itfs, roles, origin)

    nat = read_nat(top, itfs, origin, note)
    model.forwards = [*(s.fwd for s in nat.statics), *routed]
    model.redacted = list(nat.redacted)
    model.masquerade = nat.masquerade
    model.sip_alg, model.sip_alg_sources = bool(nat.sip_alg), nat.sip_alg
    model.sip_alg_tcp = nat.sip_alg_tcp
    model.sip_inspection = sip_inspection(top, itfs, origin)
    model.listeners, model.local = read_management(top, itfs, roles, origin)

    model.filters = read_filters(top, itfs, roles, nat.statics, origin, note, notes,
                                 tuple(IPv4Network(f.inside) for f in routed if f.inside),
                                 model.redacted)
    for c in lan_vrfs(itfs, roles):
        note(c, "VRF on a LAN interface: traffic between the LANs is not evaluated")
        model.internal_unevaluated.append(source(origin, [c]))
    for b in unterminated:
        note(b, "banner never ends (no closing delimiter): the lines after it are not read")
    model.dhcp_pools = dhcp_pools(top, origin, note)
    model.unusable = _unusable(top, origin, note)
    if notes:
        model.sources["unevaluated"] = "".join(f"{m}\n" for m in notes)
    return model
