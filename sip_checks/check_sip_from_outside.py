"""The attacker's SIP moves from the internet (issue 25; operator handbook §VIII-B: on
suspected fraud the operator blocks the trunk's outbound calls).

``security.exposure`` says which ports an internet host reaches; this check says what an
attacker gets by talking SIP to the site's public address on the ports where SIP lives (UDP
and TCP 5060, 5080, 5160: security.exposure's table): the outsider probe sends an OPTIONS,
REGISTERs to the site's users and to as many users it makes up, and an unauthenticated INVITE
to an international number that connects nowhere, and ends whatever call it started
(:mod:`harness.probe.sipmoves`). The judgement is :mod:`sip_checks.sip_from_outside`'s.

It passes only on the probe's word that every move met silence or uniform refusals, and only
about the address the operator talks to (the registrar's view); what cannot be proven (no
outsider probe, probe unreachable, an answer its attestation does not cover, moves against
another address, moves the deadline cut, no public address) is an error, never a pass.
"""

from __future__ import annotations

import pytest

from harness.errors import CheckError, fail
from harness.evidence import Evidence
from harness.gate.record import site_key
from harness.messages import msg
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import Attestation, SipMove, SipMoves
from harness.schedule import run_async
from sip_checks import claims
from sip_checks import sip_from_outside as judge
from sip_checks.probes import sip_moves as probe
from sip_checks.session import Site, open_ua, register_behind_nat


@pytest.mark.check(
    order=66,
    id="security.sip_from_outside",
    claims=claims.sip_from_outside,
    fr="Fraude : les manœuvres SIP d'un attaquant depuis internet",
    en="Toll fraud: an attacker's SIP moves from the internet",
)
def check_security_sip_from_outside(profile: Profile, site: Site, evidence: Evidence,
                                    outsider_probe: ProbeClient) -> None:
    public = site.public or run_async(_learn_public(profile, site))
    users = judge.users(profile)
    moves = probe.play(outsider_probe, judge.ports(), users, judge.NUMBER, site_key(profile))
    _evidence(evidence, moves)
    if moves.to != public:
        raise CheckError(msg("SIPOUT_OTHER_ADDRESS", played=moves.to, public=public))
    findings = judge.judge(moves)
    evidence.figures.sip_moves = _figures(moves, findings)
    for f in findings:
        evidence.fact(f"{f.move} {f.where}", str(f.reason))
    cut = judge.unproven(moves)
    failing = [f.reason for f in findings if f.fails]
    for f in findings:
        if not f.fails:
            evidence.reserve(f.reason)
    if failing:
        if cut:
            evidence.reserve(msg("SIPOUT_INCOMPLETE", ports=", ".join(cut)))
        fail(*failing)
    if cut:
        raise CheckError(msg("SIPOUT_INCOMPLETE", ports=", ".join(cut)))


async def _learn_public(profile: Profile, site: Site) -> str:
    """The site's public address as the registrar sees it, from one registration of the
    first account (then removed): the moves must be against the address the operator talks
    to, and the probe plays them against whatever address the request came from."""
    account = next(iter(profile.accounts()), None)
    if account is None:
        raise CheckError(msg("SIPOUT_NO_PUBLIC", detail="no account to register"))
    try:
        ua = await open_ua(profile, account.user, site)
    except CheckError as exc:
        raise CheckError(msg("SIPOUT_NO_PUBLIC", detail=exc.message)) from None
    try:
        reg = await register_behind_nat(ua)
        if reg.status == 200:
            await ua.unregister()
    except CheckError as exc:
        raise CheckError(msg("SIPOUT_NO_PUBLIC", detail=exc.message)) from None
    finally:
        ua.ep.close()
    if reg.status != 200 or site.public is None:
        raise CheckError(msg("SIPOUT_NO_PUBLIC",
                             detail=f"{reg.status} {reg.reason}".strip()))
    return site.public


def _evidence(evidence: Evidence, moves: probe.Moves) -> None:
    """Each move in one line, each exchange that got an answer in full (the probe cut it and
    replaced password lines), and whether the console can verify the moves."""
    evidence.add(f"SIP moves from outside ({moves.source} → {moves.to}, "
                 f"{moves.seconds:.1f} s, number {moves.number}, made-up users "
                 f"{', '.join(moves.made_up)})", "\n".join(m.line() for m in moves.moves))
    for m in moves.moves:
        if m.answers:
            who = f" {m.user}" if m.user else ""
            evidence.add(f"{m.move.upper()}{who} on {m.where}", m.exchange, kind="messages")
    answered = sorted({m.where for m in moves.moves if m.answers})
    evidence.fact("SIP from outside", ", ".join(answered) + " answered" if answered
                  else "every move met silence")
    evidence.add("SIP moves attestation", moves.attested())


def _figures(moves: probe.Moves, findings: list[judge.Finding]) -> SipMoves:
    return SipMoves(
        source=moves.source, to=moves.to, seconds=round(moves.seconds, 3),
        number=moves.number, users=list(moves.users), made_up=list(moves.made_up),
        enumerated=judge.enumerated(findings), findings=[f.reason for f in findings],
        moves=[SipMove.model_validate({
            "port": m.port, "transport": m.transport, "move": m.move, "user": m.user,
            "made_up": m.made_up, "got": m.got()[:200], "ended": m.ended,
            "complete": m.complete}) for m in moves.moves],
        attestation=Attestation(**moves.attestation) if moves.attestation else None)
