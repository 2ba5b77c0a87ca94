"""The site's side of the outsider probe's SIP moves (``POST /sip-moves``,
:mod:`harness.probe.sipmoves`): ask, read the answer into typed rows, and refuse an answer
the probe's own attestation does not cover.

As for the scan (:mod:`sip_checks.probes.exposure`), the agent checks what it can without the
probe's public key (the console verifies the signature): that the signed text is a run of the
moves against this address, on these ports, with these users and this number, and that its
digests are those of the results and of the exchanges' digests carried beside it. An answer
whose attestation speaks of something else is not evidence: the check stops with an error.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from harness.errors import CheckError
from harness.messages import msg
from harness.probe.client import ProbeClient, RateLimited
from harness.probe.scan import results_digest
from harness.probe.sipmoves import KIND_SIP_MOVES
from sip_checks.probes.firewall import attestation_of

TIMEOUT_S = 1.5  # per exchange
DEADLINE_S = 15.0
MOVES = frozenset({"options", "register", "invite"})


@dataclass(frozen=True)
class Answer:
    """One response a move got: status, and what tells a product or a realm."""

    status: int
    reason: str
    server: str | None
    realm: str | None  # None: no challenge; "": a challenge without a realm
    ms: float | None

    def text(self) -> str:
        return f"{self.status} {self.reason}".strip()


@dataclass(frozen=True)
class MoveResult:
    """What one move of the outsider got on one port of the site."""

    port: int
    transport: str
    move: str  # options, register, invite
    user: str | None  # the REGISTER's user, the INVITE's number
    made_up: bool
    answers: tuple[Answer, ...]
    state: str  # answered, silent, closed, filtered, or an error's name
    ended: str  # how the probe ended an INVITE: cancel, ack, ack+bye, or ""
    ended_with: tuple[int, ...]
    exchange: str  # the messages sent and received, cut, password lines replaced
    complete: bool

    @property
    def where(self) -> str:
        return f"{self.port}/{self.transport.upper()}"

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(a.status for a in self.answers)

    def got(self) -> str:
        """What it got, in a few words of the wire."""
        if not self.answers:
            return self.state
        said = ", ".join(a.text() for a in self.answers)
        server = next((a.server for a in self.answers if a.server), None)
        return said + (f" (server {server})" if server else "")

    def line(self) -> str:
        who = f" {self.user}" + (" (made up)" if self.made_up else "") if self.user else ""
        end = f"; ended by {self.ended}" + (
            f" → {','.join(map(str, self.ended_with))}" if self.ended_with else "") \
            if self.ended else ""
        cut = "" if self.complete else "; cut by the deadline"
        return f"{self.where:<9} {self.move.upper():<8}{who}: {self.got()}{end}{cut}"


@dataclass(frozen=True)
class Moves:
    """One run of the attacker's moves by the outsider probe."""

    source: str
    to: str
    seconds: float
    users: tuple[str, ...]
    made_up: tuple[str, ...]
    number: str
    moves: tuple[MoveResult, ...]
    attestation: dict[str, str] | None

    def attested(self) -> str:
        status = (f"signed by probe key {self.attestation['key']}" if self.attestation
                  else "unsigned: the console cannot verify it")
        return f"moves from outsider ({self.source}) to {self.to}: {status}"


def request(ports: list[tuple[int, str]], users: list[str], number: str,
            site: str | None) -> dict[str, Any]:
    """The /sip-moves request: no address in it, by design."""
    doc: dict[str, Any] = {"ports": [[p, t] for p, t in ports], "users": users,
                           "number": number, "timeout_s": TIMEOUT_S, "deadline_s": DEADLINE_S}
    if site is not None:
        doc["site"] = site
    return doc


def play(client: ProbeClient, ports: list[tuple[int, str]], users: list[str], number: str,
         site: str | None = None) -> Moves:
    """The moves against the site's public address by ``client``'s probe (a CheckError when
    the probe cannot, or its answer cannot be trusted to be about this request)."""
    req = request(ports, users, number, site)
    try:
        ans = client.post("/sip-moves", req)
    except RateLimited as exc:  # one scan or run of moves per requester at a time
        time.sleep(min(exc.retry_after, 10.0))
        ans = client.post("/sip-moves", req)
    return read(ans, ports, users, number)


def read(ans: dict[str, Any], ports: list[tuple[int, str]], users: list[str],
         number: str) -> Moves:
    """The probe's answer as :class:`Moves`, once its shape and its attestation agree with
    the request; a one-line CheckError saying what does not."""
    results, made_up = ans.get("results"), ans.get("made_up")
    to, source = ans.get("to"), ans.get("from")
    if not (isinstance(results, list) and isinstance(to, str) and isinstance(source, str)
            and isinstance(made_up, list) and all(isinstance(u, str) for u in made_up)):
        raise CheckError(msg("SIPOUT_BAD_ANSWER", detail="no results, made-up users, from "
                             "or to"))
    try:
        rows = tuple(_row(r) for r in results)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckError(msg("SIPOUT_BAD_ANSWER", detail=str(exc)[:200])) from None
    named = list(dict.fromkeys(users))
    missing = [f"{p}/{t}" for p, t in ports
               if not {"options", "invite"} <= {r.move for r in rows if r.port == p
                                                and r.transport == t}]
    got_users = {r.user for r in rows if r.move == "register" and not r.made_up}
    if missing or (rows and not set(named) <= got_users):
        raise CheckError(msg("SIPOUT_BAD_ANSWER", detail="moves answered differ from those "
                             "asked" + (f" (missing {', '.join(missing[:5])})" if missing
                                        else "")))
    att = attestation_of(ans)
    if ans.get("attestation") is not None and att is None:
        raise CheckError(msg("SIPOUT_ATTESTATION", detail="malformed attestation"))
    if att is not None:
        problem = _attestation_problem(att, ans, ports, named, number)
        if problem:
            raise CheckError(msg("SIPOUT_ATTESTATION", detail=problem))
    seconds = ans.get("seconds")
    return Moves(source, to, float(seconds) if isinstance(seconds, int | float) else 0.0,
                 tuple(named), tuple(made_up), number, rows, att)


def _attestation_problem(att: dict[str, str], ans: dict[str, Any],
                         ports: list[tuple[int, str]], users: list[str], number: str
                         ) -> str | None:
    """What in the signed text disagrees with the answer it came with (None: nothing)."""
    try:
        doc = json.loads(att["doc"])
    except ValueError:
        return "its text is not JSON"
    if not isinstance(doc, dict) or doc.get("kind") != KIND_SIP_MOVES:
        return "it does not attest the SIP moves"
    if doc.get("target") != ans.get("to"):
        return f"it attests moves against {str(doc.get('target'))[:50]}, not {ans.get('to')}"
    if doc.get("results") != results_digest(ans["results"]):
        return "its digest is not the digest of the results it came with"
    wire = json.dumps(ans.get("wire"), sort_keys=True, separators=(",", ":"))
    if doc.get("wire") != hashlib.sha256(wire.encode()).hexdigest():
        return "its digest of the exchanges is not the one it came with"
    if doc.get("ports") != [f"{p}/{t}" for p, t in ports]:
        return "it names other ports than those asked"
    if doc.get("users") != users or doc.get("made_up") != ans.get("made_up"):
        return "it names other users than those asked and made up"
    if doc.get("number") != number:
        return "it names another number than the one asked"
    if doc.get("probe") != att.get("key"):
        return "it names another probe key than the one it is signed with"
    return None


def _text(value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field is not a string")
    return value[:limit]


def _opt(value: object, limit: int = 300) -> str | None:
    return None if value is None else _text(value, limit)


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} is not an integer")
    return value


def _answer(a: object) -> Answer:
    if not isinstance(a, dict):
        raise TypeError("an answer is not an object")
    status = _int(a["status"], "a status")
    if not 100 <= status <= 699:
        raise ValueError(f"status {status} is not a SIP status")
    ms = a.get("ms")
    return Answer(status, _text(a.get("reason", ""), 100), _opt(a.get("server")),
                  _opt(a.get("realm"), 100),
                  float(ms) if isinstance(ms, int | float) and not isinstance(ms, bool)
                  else None)


def _row(r: object) -> MoveResult:
    if not isinstance(r, dict):
        raise TypeError("a result is not an object")
    port = _int(r["port"], "a port")
    if not 0 < port < 65536 or r["transport"] not in ("udp", "tcp"):
        raise ValueError(f"port {port}: not a port or an unknown transport")
    if r["move"] not in MOVES:
        raise ValueError(f"port {port}: unknown move")
    answers = r.get("answers") or []
    if not isinstance(answers, list) or len(answers) > 20:
        raise ValueError("answers is not a short list")
    ended_with = r.get("ended_with") or []
    if not isinstance(ended_with, list):
        raise TypeError("ended_with is not a list")
    return MoveResult(
        port=port, transport=r["transport"], move=r["move"], user=_opt(r.get("user"), 40),
        made_up=r.get("made_up") is True, answers=tuple(_answer(a) for a in answers),
        state=_text(r.get("state", ""), 40), ended=_text(r.get("ended", ""), 20),
        ended_with=tuple(_int(c, "a status") for c in ended_with[:4]),
        exchange=_text(r.get("exchange", ""), 8000), complete=r.get("complete") is True)
