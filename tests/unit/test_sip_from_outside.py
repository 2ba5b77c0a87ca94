"""``security.sip_from_outside``'s judgement (sip_checks/sip_from_outside.py) on the shapes
real servers give a scanner: Kamailio as a strict registrar (one 401 for everyone, 407 to
every INVITE), Asterisk/FreePBX (401 for an extension, 404 or 403 for an unknown user, or the
same 401 with another realm; an open outbound route: 100/183/200), an SBC's uniform 403, a
proxy's 100 Trying before a refusal, and silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.profile import load_profile
from harness.results import CheckResult
from reports.sheet import front
from reports.sheet.annex import sip_moves as sip_moves_annex
from reports.sheet.page import Page
from sip_checks import sip_from_outside as judge
from sip_checks.probes.sip_moves import Answer, MoveResult, Moves

PROFILE = load_profile(Path(__file__).resolve().parents[1] / "data" / "profiles" / "good"
                       / "inline_secrets.yaml")
NAMED = ("trunk01", "100", "101")
MADE_UP = ("734019283", "918273645", "561029384")
KAMAILIO = "kamailio (5.7.4 (x86_64/linux))"


def _a(status: int, realm: str | None = None, server: str | None = None) -> Answer:
    reason = {100: "Trying", 183: "Session Progress", 200: "OK", 401: "Unauthorized",
              403: "Forbidden", 404: "Not Found", 407: "Proxy Authentication Required",
              487: "Request Terminated"}.get(status, "")
    return Answer(status, reason, server, realm, 1.0)


def _mv(move: str, answers: list[Answer], user: str | None = None, made_up: bool = False,
        ended: str = "", transport: str = "udp") -> MoveResult:
    return MoveResult(5060, transport, move, user, made_up, tuple(answers),
                      "answered" if answers else "silent", ended, (), "", True)


def _moves(options: list[Answer], invite: list[Answer], named: dict[str, list[Answer]],
           made_up: list[Answer], ended: str = "") -> Moves:
    rows = [_mv("options", options), _mv("invite", invite, judge.NUMBER, ended=ended)]
    rows += [_mv("register", named.get(u, []), u) for u in NAMED]
    rows += [_mv("register", made_up, u, made_up=True) for u in MADE_UP]
    return Moves("198.51.100.99", "203.0.113.2", 2.0, NAMED, MADE_UP, judge.NUMBER,
                 tuple(rows), None)


def _codes(moves: Moves) -> list[tuple[str, str, bool]]:
    return [(f.move, f.reason.code, f.fails) for f in judge.judge(moves)]


def test_a_strict_kamailio_answers_everyone_alike_and_passes() -> None:
    """Its OPTIONS 404 (no such user) and the same 401 realm for everyone: nothing told."""
    challenge = [_a(401, "203.0.113.2")]
    moves = _moves([_a(404)], [_a(100), _a(407, "203.0.113.2")],
                   {u: challenge for u in NAMED}, challenge)
    assert _codes(moves) == []


def test_an_sbc_refusing_everyone_with_403_passes() -> None:
    moves = _moves([_a(403)], [_a(403)], {u: [_a(403)] for u in NAMED}, [_a(403)])
    assert _codes(moves) == []


def test_silence_everywhere_passes() -> None:
    assert _codes(_moves([], [], {}, [])) == []


def test_freepbx_open_to_the_internet_fails_three_ways() -> None:
    server = "FPBX-16.0.40.7(18.20.0)"
    ext = [_a(401, "asterisk", server)]
    moves = _moves([_a(200, server=server)],
                   [_a(100, server=server), _a(183), _a(200)],
                   {"100": ext, "101": ext, "trunk01": [_a(404)]}, [_a(404)], ended="ack+bye")
    assert _codes(moves) == [("options", "SIPOUT_OPTIONS", True),
                             ("invite", "SIPOUT_INVITE_ACCEPTED", True),
                             ("enumeration", "SIPOUT_ENUMERATION", True)]
    found = judge.judge(moves)
    assert judge.enumerated(found) == ["100", "101"]
    enum = found[-1].reason
    assert enum.params["existing"] == "401" and enum.params["unknown"] == "404"
    assert server in found[0].reason.params["said"]


@pytest.mark.parametrize(("existing", "unknown"), [
    ([_a(401, "asterisk")], [_a(403)]),  # Asterisk: 401 for a peer, 403 for a stranger
    ([_a(401, "asterisk")], [_a(401, "unknown")]),  # the same status, another realm
    ([_a(401, "asterisk")], []),  # extensions answered, unknown users met silence
])
def test_any_difference_between_named_and_made_up_users_is_enumeration(
        existing: list[Answer], unknown: list[Answer]) -> None:
    moves = _moves([], [], {"100": existing}, unknown)
    assert _codes(moves) == [("enumeration", "SIPOUT_ENUMERATION", True)]
    assert judge.enumerated(judge.judge(moves)) == ["100"]


def test_a_named_user_lost_to_silence_is_not_called_enumerable() -> None:
    """UDP loses datagrams: a user that got nothing told the attacker nothing."""
    moves = _moves([], [], {"100": [], "101": [_a(401, "x")], "trunk01": [_a(401, "x")]},
                   [_a(401, "x")])
    assert _codes(moves) == []


def test_a_registration_without_password_accepted_fails() -> None:
    moves = _moves([], [], {u: [_a(200)] for u in NAMED}, [_a(200)])
    assert ("register", "SIPOUT_REGISTER_OPEN", True) in _codes(moves)


def test_a_bare_100_then_a_refusal_is_a_reserve_only() -> None:
    moves = _moves([], [_a(100), _a(403)], {}, [])
    assert _codes(moves) == [("invite", "SIPOUT_INVITE_TRYING", False)]


def test_a_100_never_followed_by_a_final_answer_fails() -> None:
    """The probe cancelled it: the 487 that follows is the answer to its CANCEL."""
    moves = _moves([], [_a(100), _a(487)], {}, [], ended="cancel")
    assert _codes(moves) == [("invite", "SIPOUT_INVITE_UNFINISHED", True)]


@pytest.mark.parametrize("codes", [[180, 487], [183, 486], [302], [100, 200]])
def test_ringing_answered_or_redirected_is_toll_fraud(codes: list[int]) -> None:
    moves = _moves([], [_a(c) for c in codes], {}, [])
    assert _codes(moves) == [("invite", "SIPOUT_INVITE_ACCEPTED", True)]


def test_the_users_asked_are_the_accounts_then_the_first_guesses() -> None:
    class _Acc:
        def __init__(self, user: str) -> None:
            self.user = user

    class _Prof:
        def accounts(self) -> list[_Acc]:
            return [_Acc("trunk01"), _Acc("centrex101"), _Acc("100")]

    got = judge.users(_Prof())  # type: ignore[arg-type]
    assert got[:3] == ["trunk01", "centrex101", "100"] and len(got) == 12
    assert judge.ports() == [(5060, "udp"), (5060, "tcp"), (5080, "udp"), (5080, "tcp"),
                             (5160, "udp"), (5160, "tcp")]


# -- on the sheet -----------------------------------------------------------------------------

def _sheet(status: str, moves: Moves) -> Page:
    from harness.results import RunResults, SipMove, SipMoves

    found = judge.judge(moves)
    figures = SipMoves(source=moves.source, to=moves.to, seconds=2.0, number=moves.number,
                       users=list(moves.users), made_up=list(moves.made_up),
                       enumerated=judge.enumerated(found), findings=[f.reason for f in found],
                       moves=[SipMove(port=m.port, transport="udp", move=m.move,  # type: ignore[arg-type]
                                      user=m.user, made_up=m.made_up, got=m.got(),
                                      ended=m.ended) for m in moves.moves])
    check = CheckResult.model_validate({
        "id": "security.sip_from_outside", "fr": "f", "en": "e", "status": status,
        "reasons": [f.reason for f in found if f.fails], "figures": {"sip_moves": figures}})
    results = RunResults(generated="2026-11-25T16:50:32+00:00", customer="c", site="s",
                         operator_server="198.51.100.10", lang="fr", counts={},
                         checks=[check], incidents=[])
    return Page(results, PROFILE, "fr")


def test_the_sheet_names_what_the_attacker_got() -> None:
    ext = [_a(401, "asterisk")]
    moves = _moves([_a(200)], [_a(100), _a(183), _a(200)], {"100": ext, "101": ext},
                   [_a(404)], ended="ack+bye")
    page = _sheet("fail", moves)
    block = front.fraud(page)
    assert "Exposition à la fraude" in block and "manœuvres SIP" in block
    assert "Un appel sans authentification vers le numéro international +28900000000 a été "\
           "accepté" in block
    assert "Les postes sont énumérables depuis internet" in block
    html = sip_moves_annex.render(page)
    assert "Postes énumérables depuis internet" in html and "100, 101" in html
    assert "ack+bye" in html and "404 Not Found" in html
    assert "734019283, 918273645, 561029384" in html  # made-up users, in one row


def test_the_sheet_says_silence_was_all_the_attacker_got() -> None:
    page = _sheet("pass", _moves([], [], {}, []))
    assert "silence ou des refus identiques" in front.fraud(page)
    assert "Postes énumérables" not in sip_moves_annex.render(page)


def test_moves_the_deadline_cut_are_unproven_not_silence() -> None:
    """A move the probe's deadline cut met no answer yet: its port is named unproven (the
    check's error), never counted as silence (a pass)."""
    moves = _moves([], [], {}, [])
    cut = MoveResult(5080, "tcp", "invite", judge.NUMBER, False, (), "silent", "", (), "",
                     False)
    moves = Moves(moves.source, moves.to, 15.0, moves.users, moves.made_up, moves.number,
                  (*moves.moves, cut), None)
    assert judge.judge(moves) == [] and judge.unproven(moves) == ["5080/TCP"]
