"""The legs of one call through a B2BUA (an IPBX, an SBC): two INVITE dialogs, one call.

A B2BUA ends the incoming dialog and starts a new one (its own Call-ID, tags and often its
own number format) a moment later, and hangs one up when the other is. Read as two calls,
their common end looks like two calls torn down at the same time (a session timer or NAT
binding), which it is not. Two dialogs A and B are legs of one call when all of these hold:

- **the B2BUA's address**: an address A's INVITE was sent to is an address B's INVITE was
  sent from; or, for a B2BUA with one address per side (an SBC's inside and outside), B
  starts within :data:`SAME_MOMENT_S` of A, both numbers agree (called, in the request URI
  or the To header, and calling) and both legs were answered within :data:`END_S` of each
  other: two independent calls do not share all of that;
- **time**: B's INVITE follows A's within :data:`WINDOW_S`, and before A got its final
  response (a B2BUA answers the caller once the callee answered, or fails it);
- **numbers**: the same called number, or the same calling number, in any form (national
  ``0123456789``, E.164 ``+33123456789``, ``0033…``): a DID routed to an extension keeps the
  caller's number, a trunk call keeps the called one;
- **ends**: when both were answered, both ended within :data:`END_S` of each other (or both
  were still up when the capture ended).

When several earlier dialogs qualify, the latest is taken; one dialog can be the previous
leg of several (a ring group forking to phones) and legs can chain (SBC, then IPBX).
"""

from __future__ import annotations

from dataclasses import dataclass

from sip_checks.analyse.dialogs import Dialog, user_of

WINDOW_S = 10.0  # a B2BUA routes an incoming INVITE well within this
END_S = 2.0  # a B2BUA relays a BYE (or its own hang-up) well within this
SAME_MOMENT_S = 1.0  # a B2BUA relays an INVITE at once; without a shared address, this close
MIN_SUFFIX = 7  # digits two forms of one number share at least (subscriber number)


@dataclass(frozen=True)
class Leg:
    """A dialog that continues another one through a B2BUA at ``b2bua``."""

    dialog: Dialog
    previous: Dialog
    b2bua: str


def same_number(a: str, b: str) -> bool:
    """Whether two user parts name the same number: equal, or, leading zeros and ``+``
    dropped, equal or one ending the other over at least :data:`MIN_SUFFIX` digits (``0123456789``,
    ``+33123456789`` and ``0033123456789`` are one number)."""
    if a == "?" or b == "?":
        return False
    if a.lower() == b.lower():
        return True
    da, db = (x.lstrip("+").lstrip("0") for x in (a, b))
    if not (da.isdigit() and db.isdigit()):
        return False
    if da == db:
        return True  # an outside-line or trunk prefix 0 dropped
    short, long = sorted((da, db), key=len)
    return len(short) >= MIN_SUFFIX and long.endswith(short)


def _invites(d: Dialog) -> list[tuple[float, str, str]]:
    """(time, source address, destination address) of each copy of the first INVITE."""
    cseq = d.first.message.cseq
    return [(p.at, p.src[0], p.dst[0]) for p in d.packets
            if p.message.method == "INVITE" and p.message.cseq == cseq]


def _ends_agree(a: Dialog, b: Dialog, end: float) -> bool:
    if a.answered is None or b.answered is None:
        return True  # one leg failed or was cancelled: the other's end is its own
    bye_a, bye_b = a.bye, b.bye
    at_a = bye_a.at if bye_a is not None else end
    at_b = bye_b.at if bye_b is not None else end
    return abs(at_a - at_b) <= END_S


def is_leg(a: Dialog, b: Dialog, end: float) -> str | None:
    """The B2BUA's address when ``b`` continues ``a`` (see the module), None otherwise."""
    if a is b or a.method != "INVITE" or b.method != "INVITE":
        return None
    return _is_leg(a, b, end, _invites(a), _invites(b))


def _is_leg(a: Dialog, b: Dialog, end: float, copies_a: list[tuple[float, str, str]],
            copies_b: list[tuple[float, str, str]]) -> str | None:
    if a.call_id == b.call_id or not copies_a or not copies_b:
        return None
    start_a, start_b = copies_a[0][0], copies_b[0][0]
    if not start_a <= start_b <= start_a + WINDOW_S:
        return None
    shared = {dst for _, _, dst in copies_a} & {src for _, src, _ in copies_b}
    if not shared and not _one_moment(a, b, start_b - start_a):
        return None
    if not (_same_called(a, b) or same_number(a.calling, b.calling)):
        return None
    final = a.final
    if final is not None and final.at < start_b:
        return None
    if not _ends_agree(a, b, end):
        return None
    if shared:
        return sorted(shared)[0]
    return f"{copies_a[0][2]} / {copies_b[0][1]}"


def _called(d: Dialog) -> set[str]:
    """The called number as the request URI and the To header give it (a B2BUA may keep
    a suffix in one of them)."""
    return {d.called, user_of(d.first.message.get("To"))}


def _same_called(a: Dialog, b: Dialog) -> bool:
    return any(same_number(x, y) for x in _called(a) for y in _called(b))


def _one_moment(a: Dialog, b: Dialog, after: float) -> bool:
    """Legs with no address in common: B at once after A, the same called and calling
    numbers, both answered within :data:`END_S` of each other."""
    answered_a, answered_b = a.answered, b.answered
    return (after <= SAME_MOMENT_S and _same_called(a, b) and same_number(a.calling, b.calling)
            and answered_a is not None and answered_b is not None
            and abs(answered_a - answered_b) <= END_S)


def legs(dialogs: list[Dialog], end: float) -> list[Leg]:
    """Every dialog that continues an earlier one through a B2BUA, with that one."""
    invites = sorted((d for d in dialogs if d.method == "INVITE"),
                     key=lambda d: (d.packets[0].at, d.call_id))
    copies = [_invites(d) for d in invites]
    out = []
    for i, b in enumerate(invites):
        for j in range(i - 1, -1, -1):
            a = invites[j]
            if a.packets[0].at < b.packets[0].at - WINDOW_S:
                break  # earlier ones are all too early: linear in calls, not quadratic
            address = _is_leg(a, b, end, copies[j], copies[i])
            if address is not None:
                out.append(Leg(b, a, address))
                break
    return out
