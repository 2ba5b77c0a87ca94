"""What each SIP, NAT and firewall check holds while it runs (see :mod:`harness.claims`).

One function per check, named in its marker (``claims=``). Why these rules:
- calls share the site's SIP port and RTP range, but take a channel of every line they use
  (both lines of a hairpin), so a Centrex line never has two test calls at once and a trunk
  never more than its ordered channels;
- a registration test and a capacity test take the whole line: one refreshes and removes the
  binding, the other counts what the operator refuses beyond the channels;
- the firewall verification binds the whole RTP range and port 5060 and sweeps them, and the
  ALG probe sends raw SIP from port 5060: each runs with no call or registration at all;
- the NAT trials use ports of their own and only wait: they run beside anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.claims import Claims, Context
from harness.profile import Profile
from harness.schedule import GAUGES
from sip_checks import hairpin
from sip_checks.toolkit import stream


def operator_calls_us(profile: Profile) -> bool:
    """Does something on the operator side call the site's numbers for us? Only the reference
    lab's default operator does; a real operator (and the field lab) calls nobody."""
    if profile.lab is None:
        return False
    from harness.lab.state import load_state

    return load_state(profile.lab.prefix).operator == "default"


def options(_: Mapping[str, Any], ctx: Context) -> Claims:
    return Claims(site="shared", expect_s=0.5)


def register(params: Mapping[str, Any], ctx: Context) -> Claims:
    return Claims(site="shared", lines={params["account"]: None}, expect_s=1.0)


def outbound(params: Mapping[str, Any], ctx: Context) -> Claims:
    account: str = params["account"]
    lines: dict[str, int | None] = {account: 1}
    expect = ctx.call_seconds + 1.5
    # A test number that may only play an announcement: our audio is then proven by a call
    # to a DID of another line of the site, which needs a channel of that line too.
    if ctx.profile.operator.test_number_kind != "echo":
        target = hairpin.pick_did(ctx.profile, account)
        if target is not None:
            lines[target[0]] = 1
            expect += ctx.call_seconds + 1.5
    return Claims(site="shared", lines=lines, expect_s=expect)


def inbound(params: Mapping[str, Any], ctx: Context) -> Claims:
    owner: str = params["did"][0]
    lines: dict[str, int | None] = {owner: 1}
    if not operator_calls_us(ctx.profile):
        caller = hairpin.pick_caller(ctx.profile, owner)
        if caller is not None:
            lines[caller] = 1
    return Claims(site="shared", lines=lines, expect_s=ctx.call_seconds + 1.0)


def capacity(params: Mapping[str, Any], ctx: Context) -> Claims:
    # The calls are set up at the operator's rate, then last together for call_seconds.
    channels = ctx.channels or next(
        (t.channels for t in ctx.profile.trunks if t.user == params["trunk"]), 1)
    ramp = channels / ctx.profile.operator.max_cps
    return Claims(site="shared", lines={params["trunk"]: None},
                  expect_s=ctx.call_seconds + ramp + 1.0)


def alg(_: Mapping[str, Any], ctx: Context) -> Claims:
    return Claims(site="exclusive", expect_s=1.0)


def nat(_: Mapping[str, Any], ctx: Context) -> Claims:
    return Claims(expect_s=ctx.nat_idle_max + 3.0)


def firewall(_: Mapping[str, Any], ctx: Context) -> Claims:
    # With no probe at the operator, a dozen short calls sample the RTP range (~20 s).
    expect = 8.0 if ctx.profile.vantage_points.server is not None else 25.0
    # After the ALG probe too: an ALG's pinholes would pass for the forwards it proves.
    return Claims(site="exclusive", after=("router.audit", "sip.alg"), expect_s=expect)


def exposure(_: Mapping[str, Any], ctx: Context) -> Claims:
    # Two scans of a few seconds around a registration of the first account from the site's
    # SIP port: alone on the site (a call's pinholes would pass for the site's exposure),
    # after the firewall check (the same outsider probe, one scan or sweep at a time).
    first = next(iter(ctx.profile.accounts()), None)
    return Claims(site="exclusive", lines={first.user: None} if first is not None else {},
                  after=("firewall.openings",), expect_s=8.0)


def sip_from_outside(_: Mapping[str, Any], ctx: Context) -> Claims:
    # A few seconds of SIP from the outsider to the site's public address, and perhaps one
    # registration of the first account to learn that address: alone on the site (strangers'
    # SIP reaching the site's port must not land in another check's dialogs), after
    # security.exposure (the same outsider probe, one scan or run of moves at a time).
    first = next(iter(ctx.profile.accounts()), None)
    return Claims(site="exclusive", lines={first.user: None} if first is not None else {},
                  after=("security.exposure",), expect_s=6.0)


# Our RTP streams sending now (a call has one, a hairpin two): the view's "calls up".
GAUGES["RTP streams up"] = stream.streams_up
