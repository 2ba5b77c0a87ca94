"""What a check holds while it runs, so checks that cannot disturb each other run at once.

A technician waits for the whole recette with the customer beside them, and most of a run is
waiting (10 s calls, a 30 s idle NAT binding). Checks say what they hold with the marker's
``claims``: a function of the site profile, the check's parameters and the run's options,
returning :class:`Claims`. The scheduler (:mod:`harness.schedule`) starts a check when its
claims fit beside those of the running checks and the checks it comes after are done; the
same rules estimate the time left (:func:`makespan`).

- ``site``: the site's SIP port and RTP range. Calls and registrations share it
  (``"shared"``); a check that binds the whole range or floods it (the firewall sweep, the ALG
  probe's raw sockets) takes it alone (``"exclusive"``), never during an RTP measurement.
- ``lines``: channels of each account (a trunk has its ordered channels, a Centrex line one);
  ``None`` takes every channel (a capacity test, a registration test).
- ``after``: ids of checks that must be finished first (the firewall reads what the router
  audit predicted).
- ``expect_s``: how long the check usually takes, for the time left only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.profile import Profile

SiteUse = Literal["shared", "exclusive"]


@dataclass(frozen=True)
class Context:
    """What a claims function may read: the profile and the run's options."""

    profile: Profile
    call_seconds: float = 10.0
    nat_idle_max: float = 60.0
    # ``recette run --channels N``: the capacity test's call count instead of the trunk's.
    channels: int | None = None


@dataclass(frozen=True)
class Claims:
    site: SiteUse | None = None
    lines: Mapping[str, int | None] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    expect_s: float = 1.0


ClaimsFn = Callable[[Mapping[str, Any], Context], Claims]

# A check that declares nothing holds everything: it runs alone, as before scheduling.
ALONE = Claims(site="exclusive", lines={"*": None})


def capacity(profile: Profile) -> dict[str, int]:
    """Channels per account: a trunk's ordered channels, one per Centrex line."""
    caps = {t.user: t.channels for t in profile.trunks}
    caps.update({c.user: 1 for c in profile.centrex})
    return caps


class Ledger:
    """What the running checks hold."""

    def __init__(self, caps: Mapping[str, int]) -> None:
        self.caps = dict(caps)
        self.running = 0
        self.site_shared = 0
        self.site_exclusive = False
        self.used: dict[str, int] = {}
        self.alone = False

    def _want(self, c: Claims) -> dict[str, int]:
        return {u: (self.caps.get(u, 1) if n is None else n) for u, n in c.lines.items()
                if u != "*"}

    def fits(self, c: Claims) -> bool:
        if self.alone or ("*" in c.lines and self.running):
            return False
        if c.site == "exclusive" and (self.site_shared or self.site_exclusive):
            return False
        if c.site == "shared" and self.site_exclusive:
            return False
        for user, n in self._want(c).items():
            held = self.used.get(user, 0)
            # More than a line has can still run alone on it (the operator then says no).
            if held and held + n > self.caps.get(user, 1):
                return False
        return True

    def take(self, c: Claims) -> None:
        self.running += 1
        self.alone = self.alone or "*" in c.lines
        if c.site == "exclusive":
            self.site_exclusive = True
        elif c.site == "shared":
            self.site_shared += 1
        for user, n in self._want(c).items():
            self.used[user] = self.used.get(user, 0) + n

    def give(self, c: Claims) -> None:
        self.running -= 1
        if "*" in c.lines:
            self.alone = False
        if c.site == "exclusive":
            self.site_exclusive = False
        elif c.site == "shared":
            self.site_shared -= 1
        for user, n in self._want(c).items():
            self.used[user] = self.used.get(user, 0) - n
            if self.used[user] <= 0:
                del self.used[user]


@dataclass
class Entry:
    """One check in the plan: its id (for ``after``) and claims."""

    ident: str
    claims: Claims


def ready(entry: Entry, unfinished: Iterable[Entry]) -> bool:
    """Are the checks ``entry`` comes after all finished?"""
    return not any(o is not entry and o.ident in entry.claims.after for o in unfinished)


def startable(pending: Sequence[Entry], running: Sequence[Entry], ledger: Ledger
              ) -> list[Entry]:
    """The pending checks to start now, in the sheet's order: each one whose claims fit
    beside what runs (and what this call already started) and whose predecessors are done.
    A check that does not fit does not hold back later ones (a firewall waiting for the
    calls to end does not stop a NAT trial from starting)."""
    chosen: list[Entry] = []
    unfinished = [*pending, *running]
    for e in pending:
        if ready(e, unfinished) and ledger.fits(e.claims):
            ledger.take(e.claims)
            chosen.append(e)
    return chosen


def makespan(running: Sequence[tuple[Entry, float]], pending: Sequence[Entry],
             caps: Mapping[str, int]) -> float:
    """Seconds until every check is done, if each takes its ``expect_s`` (running ones: the
    time they have left), by the scheduler's own rules: the progress view's time left."""
    ledger = Ledger(caps)
    ends: list[tuple[float, Entry]] = []
    for e, left in running:
        ledger.take(e.claims)
        ends.append((max(left, 0.0), e))
    now, waiting = 0.0, list(pending)
    while waiting or ends:
        run_now = [e for _, e in ends]
        for e in startable(waiting, run_now, ledger):
            waiting.remove(e)
            ends.append((now + e.claims.expect_s, e))
        if not ends:  # nothing can ever start: a cycle in ``after``; say what is known
            break
        ends.sort(key=lambda t: t[0])
        now, done = ends.pop(0)
        ledger.give(done.claims)
    return now
