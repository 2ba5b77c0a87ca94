"""What ``router.crosscheck`` compares: the ports the router's configuration opens against
the ports the active firewall verification found open, address by address.

Why a module of its own: a disagreement is only one when both sides speak of the same
address and the same ports. The operator's traffic tries a few ports per address (its SIP
request, media on sampled ports), a probe at the server sweeps them all from one address,
and the outsider probe sweeps from an address of its own that no rule names. So:

- each operator address is compared on the ports its traffic tried (every predicted port
  when a probe swept from it), the configuration's ports for *that* address against what
  reached the site from it;
- what the outsider found is compared with what the configuration opens to *any* address
  (it must find those open) and to *some* other source (it may find those open, no more):
  a rule admitting one named network says nothing of an outsider elsewhere, and the
  operator's own addresses are never "other sources";
- ports found open to an operator address beyond the rules, on a router whose SIP ALG (or
  SIP-aware inspection) is on, are the ALG's pinholes: said as such, never as a rule the
  configuration lacks.

Each comparison leaves an evidence line: which address, which ports, configuration against
measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.messages import Msg, msg
from harness.portset import fmt
from harness.results import PortSets
from router_checks.audit import PREDICTED_PORTS
from router_checks.operator import operator_side

DOMAIN = frozenset(PREDICTED_PORTS)  # the ports the audit predicts


@dataclass
class Comparison:
    """The disagreements (the check fails on them), what the SIP ALG explains (reserves)
    and the evidence lines (label, text)."""

    problems: list[Msg] = field(default_factory=list)
    alg: list[Msg] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)


def compare(config: PortSets, measured: PortSets,
            roles: Mapping[str, tuple[str, ...]]) -> Comparison:
    """Compare the configuration's prediction with the measurement; ``roles``: the operator's
    addresses (as strings) with their roles, registrar first."""
    out = Comparison()
    if config.by_source and (measured.by_source or measured.tested_by_source):
        for address in [*roles, *sorted(
                (set(measured.by_source) | set(measured.tested_by_source)) - set(roles))]:
            _address(out, config, measured, address, roles.get(address))
    else:  # a measurement (or a prediction) without addresses: the registrar's column
        _server(out, config, measured, next(iter(roles), "?"), roles)
    _others(out, config, measured)
    return out


def _address(out: Comparison, config: PortSets, measured: PortSets, address: str,
             roles: tuple[str, ...] | None) -> None:
    """One operator address on the ports its traffic tried."""
    if roles is None or address not in config.by_source:
        if address in measured.by_source or address in measured.tested_by_source:
            out.lines.append((address, "not an operator address of the profile: the "
                              "configuration was not judged for it"))
        return
    label = f"{address} ({'/'.join(roles)}): config / measured"
    if address in measured.tested_by_source:
        tried = set(measured.tested_by_source[address])
        scope = f"of the tried {fmt(tried)}"
    elif address in measured.by_source:
        tried, scope = set(DOMAIN), "swept"
    else:
        out.lines.append((label, f"{fmt(config.by_source[address])} / not tried"))
        return
    judged = tried & DOMAIN
    predicted = set(config.by_source[address]) & judged
    found = set(measured.by_source.get(address, ())) & tried
    out.lines.append((label, f"{fmt(predicted)} / {fmt(found)} ({scope})"))
    who = operator_side(address, roles)
    _judge(out, predicted, found, judged, who, bool(config.sip_alg))


def _server(out: Comparison, config: PortSets, measured: PortSets, registrar: str,
            roles: Mapping[str, tuple[str, ...]]) -> None:
    """The registrar's column, for a side that does not give ports per address."""
    tried = set(measured.tested) if measured.tested is not None else set(DOMAIN)
    judged = tried & DOMAIN
    predicted = set(config.server) & judged
    found = set(measured.server) & tried
    scope = f"of the sampled {fmt(tried)}" if measured.tested is not None else "swept"
    out.lines.append(("server: config / measured", f"{fmt(predicted)} / {fmt(found)} "
                      f"({scope})"))
    who = operator_side(registrar, roles.get(registrar, ("registrar",)))
    _judge(out, predicted, found, judged, who, bool(config.sip_alg))


def _judge(out: Comparison, predicted: set[int], found: set[int], judged: set[int],
           who: Msg, alg: bool) -> None:
    """Ports the configuration opens that stayed closed, and ports found open that it does
    not open: the SIP ALG's when it is on, else a disagreement. Ports found open where
    the configuration was not judged are only noted."""
    if predicted - found:
        out.problems.append(msg("CONFIG_OPEN_FOUND_CLOSED", ports=fmt(predicted - found),
                                who=who))
    beyond = found - predicted
    if beyond and alg:
        out.alg.append(msg("CONFIG_ALG_OPENED", ports=fmt(beyond), who=who))
    elif beyond & judged:
        out.problems.append(msg("CONFIG_CLOSED_FOUND_OPEN", ports=fmt(beyond & judged),
                                who=who))
    if beyond - judged and not alg:
        out.lines.append((str(who), f"{fmt(beyond - judged)} found open where the "
                          "configuration was not judged"))


def _others(out: Comparison, config: PortSets, measured: PortSets) -> None:
    """The outsider's sweep against what the configuration opens to any address (a lower
    bound) and to some other source (an upper bound)."""
    some = set(config.others) & DOMAIN
    anyone = set(config.any_source if config.any_source is not None else config.others)
    found = set(measured.others)
    out.lines.append(("others: config / measured",
                      f"{fmt(anyone)} to any address, {fmt(some)} to some / {fmt(found)}"))
    if anyone - found:
        out.problems.append(msg("CONFIG_OPEN_FOUND_CLOSED", ports=fmt(anyone - found),
                                who=msg("WHO_ANY_OTHER")))
    if (found & DOMAIN) - some:
        out.problems.append(msg("CONFIG_CLOSED_FOUND_OPEN", ports=fmt((found & DOMAIN) - some),
                                who=msg("WHO_OTHERS")))
    named = (some - anyone) - found
    if named:
        out.lines.append(("others", f"{fmt(named)} open in the configuration only to the "
                          "networks its rules name: the outsider, elsewhere, cannot tell"))
