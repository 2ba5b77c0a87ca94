"""pytest plugin: turns pytest into the recette check runner.

Registered through the ``pytest11`` entry point, and inert unless ``--recette-profile`` is
given. Then it loads the profile, moves the run into the lab's LAN namespace when the profile
says so, hands checks their fixtures (``profile``, ``evidence``), maps outcomes to
``pass``/``fail``/``error``/``skip``, redacts secrets, and writes ``results.json``.

Verdicts: an ``AssertionError`` (:func:`harness.errors.fail`) is a ``fail`` (the service does
not conform); any other exception means the check could not reach a verdict and is an
``error`` with its reason. Reasons and reserves are message codes
(:mod:`harness.messages`), so each report says them in its own language.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from harness import netns, rooms, schedule
from harness.claims import Context
from harness.errors import CheckError, CheckFailed, NotApplicable, RecetteError
from harness.evidence import Evidence, Redactor
from harness.incidents import Incident, csv_text
from harness.messages import Msg, msg
from harness.profile import Profile, load_profile
from harness.progress import Progress
from harness.results import STATUSES, CheckResult, PortSets, RunResults, Status

_M = TypeVar("_M", bound=BaseModel)

PROFILE_KEY = pytest.StashKey[Profile]()
REDACT_KEY = pytest.StashKey[Redactor]()
RESULTS_KEY = pytest.StashKey[dict[str, CheckResult]]()
HOME_NS_KEY = pytest.StashKey[int]()
EVIDENCE_KEY = pytest.StashKey[Evidence]()
INCIDENTS_KEY = pytest.StashKey[list[Incident]]()
RUN_STATE_KEY = pytest.StashKey["RunState"]()
FINAL_KEY = pytest.StashKey[set[str]]()  # nodeids whose verdict is in (call, or setup failed)


@dataclass
class RunState:
    """What one check leaves for a later one in the same run: the UDP ports the router's
    configuration predicts open and those the active firewall check measured open, which
    ``router.crosscheck`` compares, and whether a SIP ALG was seen."""

    predicted: PortSets | None = None
    measured: PortSets | None = None
    # Whether ``sip.alg`` saw the router rewrite SIP (None: not run or no witness): an ALG
    # opens pinholes from what it rewrites, which the firewall check must not take for rules.
    alg: bool | None = None


@pytest.fixture(scope="session")
def run_state(request: pytest.FixtureRequest) -> RunState:
    return request.config.stash.setdefault(RUN_STATE_KEY, RunState())


def incidents_of(config: pytest.Config) -> list[Incident]:
    """The run's failed-call rows (checks append; the run writes ``incidents.csv``)."""
    return config.stash.setdefault(INCIDENTS_KEY, [])


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("recette", "recette check runner")
    g.addoption("--recette-profile", default=None, help="site profile YAML to check")
    g.addoption("--recette-json", default=None, help="write check results as JSON here")
    g.addoption("--recette-only", action="append", default=[],
                help="keep only checks whose id or name contains this (repeatable)")
    g.addoption("--recette-lang", default="fr", choices=("fr", "en"))
    g.addoption("--recette-call-seconds", default=10.0, type=float,
                help="RTP time of each test call (default 10 s)")
    g.addoption("--recette-nat-idle-max", default=60.0, type=float,
                help="longest idle time tried on a UDP binding (default 60 s)")
    g.addoption("--recette-channels", default=None, type=int,
                help="sip.capacity places this many calls instead of the trunk's channels")
    g.addoption("--recette-beyond-contract", action="store_true", default=False,
                help="let --recette-channels exceed a trunk's ordered channels")
    g.addoption("--recette-serial", action="store_true", default=False,
                help="run the checks one after another (debugging), not at the same time")


def _active(config: pytest.Config) -> bool:
    return PROFILE_KEY in config.stash


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "check(id, fr, en, order): a recette check, its stable id, titles and rank"
    )
    path = config.getoption("--recette-profile", None)
    if not path:
        return
    try:
        profile = load_profile(path, require_env=True)
    except RecetteError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[PROFILE_KEY] = profile
    config.stash[REDACT_KEY] = Redactor(profile.secrets())
    config.stash[RESULTS_KEY] = {}
    progress = Progress(config.stash[RESULTS_KEY])
    config.pluginmanager.register(progress, "recette-progress")
    if not config.getoption("--recette-serial"):
        ctx = Context(profile, call_seconds=config.getoption("--recette-call-seconds"),
                      nat_idle_max=config.getoption("--recette-nat-idle-max"),
                      channels=config.getoption("--recette-channels"))
        config.pluginmanager.register(
            schedule.Scheduler(ctx, lambda it: check_meta(it)["id"], progress.view),
            "recette-scheduler")
    if config.pluginmanager.hasplugin("html"):
        html = rooms.load(rooms.HTML_PLUGIN)  # reports import the core, never the reverse
        config.pluginmanager.register(html.HtmlSheet(config.getoption("--recette-lang")),
                                      "recette-html")
    if profile.lab is not None:
        if not netns.exists(profile.lab.agent_netns):
            raise pytest.UsageError(
                f"{path}: lab.agent_netns: namespace {profile.lab.agent_netns} does not exist "
                "(is the lab up? `recette lab status`)"
            )
        config.stash[HOME_NS_KEY] = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        netns.enter(profile.lab.agent_netns)


def pytest_unconfigure(config: pytest.Config) -> None:
    fd = config.stash.get(HOME_NS_KEY, None)
    if fd is not None:
        netns.restore(fd)
        os.close(fd)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    # The order a technician works in: reach the server, register, call, load. Checks say
    # where they stand with the marker's ``order`` (stable sort keeps file order otherwise).
    items.sort(key=lambda it: int((it.get_closest_marker("check") or
                                   pytest.mark.check()).kwargs.get("order", 100)))
    wanted = config.getoption("--recette-only")
    if not wanted:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        ident = f"{check_meta(item)['id']} {item.name}"
        (keep if any(w in ident for w in wanted) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


def check_meta(item: pytest.Item) -> dict[str, str]:
    """The check's id and titles from its ``@pytest.mark.check`` marker (name as fallback)."""
    mark = item.get_closest_marker("check")
    kw = dict(mark.kwargs) if mark else {}
    name = getattr(item, "originalname", item.name)
    ident = kw.get("id", name)
    callspec = getattr(item, "callspec", None)
    if callspec is not None:  # one check per account/number: say which
        ident = f"{ident}[{callspec.id}]"
    return {"id": ident, "fr": kw.get("fr", name), "en": kw.get("en", name)}


@pytest.fixture(scope="session")
def profile(request: pytest.FixtureRequest) -> Profile:
    """The site profile under test."""
    prof = request.config.stash.get(PROFILE_KEY, None)
    if prof is None:
        pytest.skip("no --recette-profile given")
    return prof


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Iterator[Evidence]:
    """Where a check records what it saw; shown under its verdict in every report."""
    ev = Evidence()
    request.node.stash[EVIDENCE_KEY] = ev
    yield ev


def _status(rep: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Status, list[Msg]]:
    """(status, reasons) for a phase report."""
    exc = call.excinfo.value if call.excinfo else None
    if rep.skipped:
        if isinstance(exc, NotApplicable):
            return "skip", [exc.message]
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        return "skip", [msg("SKIPPED", detail=str(reason).removeprefix("Skipped: "))]
    if rep.passed:
        return "pass", []
    if isinstance(exc, CheckFailed):
        return "fail", exc.reasons
    if rep.when == "call" and isinstance(exc, AssertionError):
        detail = str(exc).split("\nassert ")[0].strip() or "assertion failed"
        return "fail", [msg("ASSERTION_FAILED", detail=detail)]
    if isinstance(exc, CheckError):
        return "error", [exc.message]
    if exc is None:
        return "error", [msg("INTERNAL_ERROR", kind="error", detail=str(rep.longrepr)[-300:])]
    return "error", [msg("INTERNAL_ERROR", kind=type(exc).__name__, detail=str(exc))]


def _redacted(model: _M, redact: Redactor) -> _M:
    """The same model with every secret masked, wherever in it a secret hides."""
    return type(model).model_validate_json(redact(model.model_dump_json()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    config = item.config
    if not _active(config):
        return
    redact = config.stash[REDACT_KEY]
    if rep.longrepr is not None and not rep.skipped:
        rep.longrepr = redact(str(rep.longrepr))
    status, reasons = _status(rep, call)
    if status == "error" and rep.when == "call":
        # pytest, JUnit XML and pytest-html all classify a failure outside the call phase as
        # an error; a check that could not run must never be counted as a plain failure.
        rep.when = "setup"
    meta = check_meta(item)
    res = config.stash[RESULTS_KEY].setdefault(
        item.nodeid, CheckResult(id=meta["id"], fr=meta["fr"], en=meta["en"]))
    job = schedule.job_of(item)
    if job is not None and rep.when == "call":  # ran in a worker thread: its true times
        rep.duration, rep.start, rep.stop = job.duration, job.wall, job.wall + job.duration
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        res.started = dt.datetime.fromtimestamp(rep.start, dt.UTC).isoformat(
            timespec="milliseconds")
    res.duration_s = round(res.duration_s + rep.duration, 3)
    if status != "pass" and res.status == "pass":
        res.status, res.reasons = status, reasons
    ev = item.stash.get(EVIDENCE_KEY, None)
    if ev is not None:
        res.evidence, res.facts = list(ev.items), dict(ev.facts)
        res.reserves, res.figures = list(ev.reserves), ev.figures
    config.stash[RESULTS_KEY][item.nodeid] = res = _redacted(res, redact)
    if call.when == "call" or status != "pass":
        rep.recette = res  # type: ignore[attr-defined]  # the row pytest-html shows
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        config.stash.setdefault(FINAL_KEY, set()).add(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not _active(config):
        return
    out = config.getoption("--recette-json")
    if not out:
        return
    profile = config.stash[PROFILE_KEY]
    lang = config.getoption("--recette-lang")
    # A check set up but never finished (the run was stopped while it ran: checks run at the
    # same time, so several may be) has no verdict: an error, never the "pass" its setup left.
    final = config.stash.get(FINAL_KEY, set())
    for nodeid, res in config.stash[RESULTS_KEY].items():
        if nodeid not in final and res.status == "pass":
            res.status, res.reasons = "error", [msg("CHECK_INTERRUPTED")]
    # The sheet's order (the checks' ranks), whatever order they finished in.
    rank = {item.nodeid: i for i, item in enumerate(session.items)}
    results = [r for _, r in sorted(config.stash[RESULTS_KEY].items(),
                                    key=lambda kv: rank.get(kv[0], len(rank)))]
    redact = config.stash[REDACT_KEY]
    rows = incidents_of(config)
    Path(out).with_name("incidents.csv").write_text(redact(csv_text(rows, lang)),
                                                     encoding="utf-8")
    doc = RunResults(
        generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        customer=profile.customer.name,
        site=profile.site.name,
        operator_server=str(profile.operator.sip_server.ip),
        lang=lang,
        counts={s: sum(1 for r in results if r.status == s) for s in STATUSES},
        checks=results,
        incidents=[i.model() for i in rows],
    )
    Path(out).write_text(_redacted(doc, redact).model_dump_json(indent=2), encoding="utf-8")


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if _active(config) and report.when == "setup" and report.failed:
        return "error", "E", "ERROR"
    return None


