"""Run checks at the same time where they cannot disturb each other (``--serial``: one by one).

Why: most of a recette is waiting (10 s calls, a 30 s idle NAT binding, a router's SSH), and a
technician runs it with the customer waiting. What may overlap is declared by each check's
claims (:mod:`harness.claims`); this module starts each check when its claims fit and reports
every check exactly as pytest would have, in the sheet's order of rows.

How, without making pytest thread-safe: the main thread sets each check up with pytest's own
setup (fixtures, skips, setup errors reported as usual) and tears its function fixtures down
at once (none of ours releases anything the check still uses); the check's function then runs
in a worker thread with the values it was given. When it ends, the main thread makes its call
report by replaying the outcome (:func:`pytest_pyfunc_call`), with the true start and duration.
Coroutines of every check run on one event loop (:func:`run_async`), so checks running at once
share the site's SIP port as an IPBX shares its socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from _pytest.logging import caplog_records_key
from _pytest.runner import call_and_report

from harness.claims import (
    ALONE,
    Claims,
    ClaimsFn,
    Context,
    Entry,
    Ledger,
    capacity,
    makespan,
    startable,
)

T = TypeVar("T")

JOB_KEY = pytest.StashKey["Job"]()

# Live figures rooms publish for the progress view (e.g. "calls up" from the RTP engine).
GAUGES: dict[str, Callable[[], int]] = {}

_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: threading.Thread | None = None


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a check's coroutine to its end. During a concurrent run every check's coroutines
    share one event loop (a socket opened by one check is visible to another, see
    :mod:`sip_checks.toolkit.site_port`); otherwise, as before, a loop of its own."""
    loop = _loop
    if loop is None:
        return asyncio.run(coro)
    return asyncio.run_coroutine_threadsafe(_settled(coro), loop).result()


async def _settled(coro: Coroutine[Any, Any, T]) -> T:
    """``coro``, then a turn of the loop: sockets it closed are closed on the loop's next
    iterations (asyncio defers it), and the next check may bind the same port at once (the
    firewall sweep binds 5060 right after the calls), as after ``asyncio.run``."""
    try:
        return await coro
    finally:
        for _ in range(2):
            await asyncio.sleep(0)


def start_loop() -> None:
    """The run's shared event loop, in a thread created now: it inherits the calling thread's
    network namespace (the agent's, in a lab)."""
    global _loop, _loop_thread
    if _loop is not None:
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="recette-loop", daemon=True)
    thread.start()
    _loop, _loop_thread = loop, thread


def stop_loop() -> None:
    global _loop, _loop_thread
    loop, thread = _loop, _loop_thread
    _loop = _loop_thread = None
    if loop is None or thread is None:
        return
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5.0)
    if not thread.is_alive():
        loop.close()


@dataclass
class Job:
    """One check's function running in a worker thread."""

    item: pytest.Item
    entry: Entry
    started: float = 0.0  # monotonic
    wall: float = 0.0  # time.time() at start
    ended: float | None = None
    exc: BaseException | None = None
    reports: tuple[pytest.TestReport, pytest.TestReport | None] | None = None

    @property
    def duration(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started


@dataclass
class Snapshot:
    """What the progress view shows: running checks with their elapsed time, counts, the
    gauges and the time left."""

    running: list[tuple[str, float]]
    done: int
    total: int
    waiting: int
    gauges: dict[str, int]
    left_s: float
    elapsed_s: float = 0.0


def claims_of(item: pytest.Item, ctx: Context) -> Claims:
    mark = item.get_closest_marker("check")
    fn: ClaimsFn | None = mark.kwargs.get("claims") if mark else None
    if fn is None:
        return ALONE
    callspec = getattr(item, "callspec", None)
    return fn(dict(callspec.params) if callspec is not None else {}, ctx)


class Scheduler:
    """The run loop of a concurrent run (registered by the plugin unless ``--serial``)."""

    def __init__(self, ctx: Context, ident: Callable[[pytest.Item], str],
                 view: Callable[[Snapshot], None] | None = None) -> None:
        self.ctx = ctx
        self.ident = ident
        self.view = view
        self.caps = capacity(ctx.profile)
        self.cond = threading.Condition()
        self.ended: list[Job] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} errors during collection")
        if session.config.option.collectonly:
            return True
        start_loop()
        try:
            self._run(session)
        finally:
            stop_loop()
        return True

    def _run(self, session: pytest.Session) -> None:
        t0 = time.monotonic()
        items = list(session.items)
        # ``after`` names checks by id, without their parameters ("sip.register").
        entries = {it: Entry(self.ident(it).split("[")[0], claims_of(it, self.ctx))
                   for it in items}
        pending = list(items)
        running: dict[pytest.Item, Job] = {}
        ledger = Ledger(self.caps)
        last: pytest.Item | None = None  # set up last: its teardown ends the session
        last_reports: tuple[pytest.TestReport, pytest.TestReport | None] | None = None
        done = 0
        while pending or running:
            chosen = startable([entries[i] for i in pending],
                               [j.entry for j in running.values()], ledger)
            for entry in chosen:
                item = next(i for i in pending if entries[i] is entry)
                pending.remove(item)
                job, reports = self._start(session, item, entry, pending)
                if job is None:
                    ledger.give(entry.claims)
                    setup_rep, teardown_rep = reports
                    if teardown_rep is None:
                        last, last_reports = item, reports
                    else:
                        self._log(item, setup_rep, None, teardown_rep)
                    done += 1
                    continue
                running[item] = job
                if reports[1] is None:
                    last = item
                job.reports = reports
            if not chosen and not running and pending:
                raise RuntimeError("checks wait for each other: " +
                                   ", ".join(self.ident(i) for i in pending))
            with self.cond:
                if not self.ended:
                    self.cond.wait(0.25)
                ended, self.ended = self.ended, []
            for job in ended:
                running.pop(job.item)
                ledger.give(job.entry.claims)
                assert job.reports is not None
                setup_rep, teardown_rep = job.reports
                call_rep = self._replay(job.item)
                if teardown_rep is None:  # the last item set up: torn down at the very end
                    last_reports = (setup_rep, call_rep)
                    continue
                self._log(job.item, setup_rep, call_rep, teardown_rep)
                done += 1
            if self.view is not None:
                now = time.monotonic()
                left = makespan([(j.entry, j.entry.claims.expect_s - (now - j.started))
                                 for j in running.values()],
                                [entries[i] for i in pending], self.caps)
                self.view(Snapshot(
                    running=[(self.ident(j.item), now - j.started) for j in running.values()],
                    done=done, total=len(items), waiting=len(pending),
                    gauges={k: g() for k, g in GAUGES.items()}, left_s=left,
                    elapsed_s=now - t0))
        if last is not None and last_reports is not None:
            teardown_rep = call_and_report(last, "teardown", log=False, nextitem=None)
            first, second = last_reports  # no call report when its setup failed
            self._log(last, first, second, teardown_rep)

    def _start(self, session: pytest.Session, item: pytest.Item, entry: Entry,
               pending: list[pytest.Item]
               ) -> tuple[Job | None, tuple[pytest.TestReport, pytest.TestReport | None]]:
        """Set ``item`` up, start its function in a worker thread, tear its function fixtures
        down (the next item's setup needs pytest's stack free of it)."""
        # Leftovers of another module's chain; a module teardown error belongs to no check.
        with contextlib.suppress(Exception):
            session._setupstate.teardown_exact(item)
        setup_rep = call_and_report(item, "setup", log=False)
        job: Job | None = None
        if setup_rep.passed:
            fn = item.obj  # type: ignore[attr-defined]
            info = item._fixtureinfo  # type: ignore[attr-defined]
            kwargs = {a: item.funcargs[a] for a in info.argnames}  # type: ignore[attr-defined]
            job = Job(item, entry)
            item.stash[JOB_KEY] = job
            threading.Thread(target=self._body, args=(job, fn, kwargs),
                             name=f"check {entry.ident}", daemon=True).start()
        nextitem = pending[0] if pending else None
        if nextitem is None:
            return job, (setup_rep, None)
        teardown_rep = call_and_report(item, "teardown", log=False, nextitem=nextitem)
        return job, (setup_rep, teardown_rep)

    @staticmethod
    def _replay(item: pytest.Item) -> pytest.TestReport:
        """The call phase, after the item's teardown: pytest's logging plugin keeps its
        per-phase records in the item's stash from setup to teardown, so give it a fresh
        place (the check's own log lines were not captured per check in a thread anyway)."""
        item.stash.setdefault(caplog_records_key, {})
        return call_and_report(item, "call", log=False)

    def _body(self, job: Job, fn: Callable[..., object], kwargs: dict[str, object]) -> None:
        job.started, job.wall = time.monotonic(), time.time()
        try:
            fn(**kwargs)
        except BaseException as exc:
            job.exc = exc
        finally:
            job.ended = time.monotonic()
            with self.cond:
                self.ended.append(job)
                self.cond.notify()

    @staticmethod
    def _log(item: pytest.Item, setup_rep: pytest.TestReport,
             call_rep: pytest.TestReport | None, teardown_rep: pytest.TestReport) -> None:
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for rep in (setup_rep, call_rep, teardown_rep):
            if rep is not None:
                ihook.pytest_runtest_logreport(report=rep)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """The call phase of a check that ran in a worker thread: its outcome, replayed."""
        job = job_of(pyfuncitem)
        if job is None:
            return None
        if job.exc is not None:
            raise job.exc
        return True


def job_of(item: pytest.Item) -> Job | None:
    """The worker-thread run of ``item`` (None in a serial run)."""
    return item.stash.get(JOB_KEY, None)
