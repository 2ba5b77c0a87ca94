"""What ``security.sip_from_outside`` asks the outsider probe to play, and how it judges what
the site's public address answered (issue 25; operator handbook §VIII-B).

After a scan, a toll-fraud attacker talks SIP to what answered: an OPTIONS (is it a PBX?),
REGISTERs to guessed users compared with made-up ones (which extensions exist? ``svwar``),
then an INVITE to an international number without credentials (will it route my call?).
The outsider probe plays these moves (:mod:`harness.probe.sipmoves`); this module judges them:

- an OPTIONS answered 2xx: a PBX answers the internet (a failure);
- a REGISTER answered 2xx without credentials: anyone can register (a failure);
- a named user answered otherwise than every made-up one (401 vs 404, 401 vs 403, another
  realm, an answer against silence): the extensions can be enumerated (a failure naming them);
- the unauthenticated international INVITE: silence, a challenge (401/407) or a final refusal
  are what a site must give. Any 18x, 2xx or 3xx is the call taken (a failure: toll fraud);
  a provisional that never turned into a final answer is the call being routed (a failure).
  A bare ``100 Trying`` followed by a refusal is a reserve only: 100 is hop-by-hop, sent by
  a proxy before any decision (Kamailio and most SBCs send it to every INVITE, RFC 3261
  §16.2), so it proves the INVITE was taken in, not that the call was allowed; the refusal
  that follows is the decision. It still tells the attacker something listens.

The users asked for are the site's own accounts (the profile's) and the extensions an
attacker tries first (:data:`FIRST_GUESSES`): the probe makes up as many beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.messages import Msg, msg
from harness.profile import Profile
from sip_checks import exposure
from sip_checks.probes.sip_moves import MoveResult, Moves

# The international number the INVITE asks for: in the ITU's spare country codes 280-289,
# which no operator routes, so a site that does route the call costs nobody anything
# (harness.probe.sipmoves refuses any number outside 28x/882/883).
NUMBER = "+28900000000"
# Short extensions: what svwar and its kin try first (its default range starts at 100).
FIRST_GUESSES = tuple(str(n) for n in range(100, 110))
MAX_USERS = 16  # harness.probe.sipmoves.MAX_USERS


def ports() -> list[tuple[int, str]]:
    """The ports where security.exposure's table expects SIP in clear (UDP and TCP)."""
    return [(s.port, s.transport) for s in exposure.PORTS if s.service == "SIP"]


def users(profile: Profile) -> list[str]:
    """The site's own account users, then the first guesses, at most :data:`MAX_USERS`."""
    names = [a.user for a in profile.accounts()] + list(FIRST_GUESSES)
    return list(dict.fromkeys(names))[:MAX_USERS]


@dataclass(frozen=True)
class Finding:
    """One thing the outsider's moves proved, and whether it fails the check."""

    where: str  # 5060/UDP
    move: str  # options, register, enumeration, invite
    reason: Msg
    fails: bool
    users: tuple[str, ...] = ()


def _shape(r: MoveResult) -> tuple[int, str | None] | None:
    """What a REGISTER tells an attacker: its final status and realm (None: silence)."""
    final = [a for a in r.answers if a.status >= 200]
    if not final:
        return None
    return final[-1].status, final[-1].realm


def _options(r: MoveResult) -> Finding | None:
    ok = next((a for a in r.answers if 200 <= a.status < 300), None)
    if ok is None:
        return None
    return Finding(r.where, "options", msg("SIPOUT_OPTIONS", where=r.where, said=r.got()),
                   True)


def _invite(r: MoveResult) -> Finding | None:
    codes = r.codes
    if not codes:
        return None
    final = next((c for c in codes if c >= 200), None)
    if any(180 <= c < 400 for c in codes):
        return Finding(r.where, "invite", msg("SIPOUT_INVITE_ACCEPTED", where=r.where,
                                              number=r.user or "", said=r.got()), True)
    if final is None or r.ended == "cancel":  # the 487 to our CANCEL is no refusal
        return Finding(r.where, "invite", msg("SIPOUT_INVITE_UNFINISHED", where=r.where,
                                              number=r.user or "", said=r.got()), True)
    if final in (401, 407) or len(codes) == 1:
        return None  # a challenge, or a refusal with nothing before it
    return Finding(r.where, "invite", msg("SIPOUT_INVITE_TRYING", where=r.where,
                                          said=r.got()), False)


def _registers(regs: list[MoveResult]) -> list[Finding]:
    out = []
    where = regs[0].where
    open_reg = [r for r in regs if any(200 <= a.status < 300 for a in r.answers)]
    if open_reg:
        out.append(Finding(where, "register", msg(
            "SIPOUT_REGISTER_OPEN", where=where,
            users=", ".join(str(r.user) for r in open_reg[:10])), True))
    unknown = {s for r in regs if r.made_up and (s := _shape(r)) is not None}
    found = [r for r in regs if not r.made_up and (s := _shape(r)) is not None
             and s not in unknown]
    if found:
        names = tuple(str(r.user) for r in found)
        told = sorted({f"{_shape(r)[0]}" for r in found if _shape(r)})  # type: ignore[index]
        made = sorted({str(s[0]) for s in unknown}) or ["silence"]
        out.append(Finding(where, "enumeration", msg(
            "SIPOUT_ENUMERATION", where=where, users=", ".join(names),
            existing="/".join(told), unknown="/".join(made)), True, names))
    return out


def judge(moves: Moves) -> list[Finding]:
    """Every finding of the moves, port by port in the order played."""
    out: list[Finding] = []
    keys = list(dict.fromkeys((r.port, r.transport) for r in moves.moves))
    for key in keys:
        mine = [r for r in moves.moves if (r.port, r.transport) == key]
        for r in mine:
            f = _options(r) if r.move == "options" else _invite(r) if r.move == "invite" \
                else None
            if f is not None:
                out.append(f)
        regs = [r for r in mine if r.move == "register"]
        if regs:
            out += _registers(regs)
    return out


def unproven(moves: Moves) -> list[str]:
    """The ports whose moves the probe's deadline cut (what they saw stands, not the rest)."""
    return list(dict.fromkeys(r.where for r in moves.moves if not r.complete))


def enumerated(findings: list[Finding]) -> list[str]:
    return list(dict.fromkeys(u for f in findings for u in f.users))
