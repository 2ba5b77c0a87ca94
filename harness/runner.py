"""``recette run``: run the checks of a profile through pytest, write the report files.

Output folder: ``report.html`` (self-contained pytest-html), ``results.json`` (our verdicts
with evidence, redacted), ``junit.xml`` (for CI), ``sheet.html``/``sheet.pdf`` (the
acceptance sheet), ``incidents.csv``, the router's configuration as audited
(``router-opios.json`` or ``router-running-config.txt``, for ``recette audit``) and
``profile.yaml``, the profile as tested with its secrets masked, and ``capture.pcapng``
(the run's SIP and RTP, :mod:`harness.capture`; ``capture-operator.pcapng`` beside it in the
lab). A one-screen summary goes to stdout.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from harness import netns, rooms
from harness.capture import RunCapture
from harness.errors import RecetteError
from harness.profile import Profile, load_profile
from harness.profile_copy import write_copy
from harness.results import RunResults, load_results

MAX_LOAD_CHANNELS = 1000  # as the profile's trunks[].channels

SYMBOL = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR", "skip": "skip "}


def check_dirs() -> list[str]:
    """Folders holding the check modules (installed package or source checkout)."""
    dirs: list[str] = []
    for name in rooms.CHECK_PACKAGES:
        mod = rooms.load(name)
        dirs.extend(str(Path(p)) for p in mod.__path__)
    return dirs


def check_channels(prof: Profile, path: Path, channels: int, beyond_contract: bool) -> None:
    """``--channels N`` refused in one line before any call when no trunk of the profile
    ordered that many, unless ``--beyond-contract``: on a real trunk the calls beyond the
    contract are refused or billed (a one-off load test is the integrator's decision)."""
    if not 1 <= channels <= MAX_LOAD_CHANNELS:
        raise RecetteError(f"--channels: expected 1 to {MAX_LOAD_CHANNELS}, got {channels}")
    if not prof.trunks:
        raise RecetteError(f"{path}: trunks: --channels needs a trunk to load-test")
    most = max(t.channels for t in prof.trunks)
    if channels > most and not beyond_contract:
        raise RecetteError(
            f"--channels {channels}: above the {most} channels ordered in {path} "
            "(trunks[].channels); calls beyond the contract are refused or billed on a real "
            "trunk: add --beyond-contract to load-test anyway")


def default_out() -> Path:
    return Path("out") / dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def run_checks(*, profile: Path, out: Path | None, only: list[str], lang: str,
               call_seconds: float = 10.0, nat_idle_max: float = 60.0,
               serial: bool = False, capture: bool = True, upload: str | None = None,
               channels: int | None = None, beyond_contract: bool = False) -> int:
    """Run every check against ``profile``; 0 when all pass or skip, 1 otherwise.
    ``capture`` False (``--no-capture``) writes no capture.pcapng. ``upload`` (a console
    URL) sends the folder when the run ends; a failed upload keeps the files and says how to
    retry, without changing the run's exit status."""
    prof = load_profile(profile, require_env=True)  # one-line errors before pytest starts
    if channels is not None:
        check_channels(prof, profile, channels, beyond_contract)
    if prof.lab is not None and not netns.exists(prof.lab.agent_netns):
        raise RecetteError(
            f"{profile}: lab.agent_netns: namespace {prof.lab.agent_netns} does not exist; "
            "is the lab up? (`recette lab status`, `recette lab up`)"
        )
    out = out or default_out()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecetteError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    args = [
        *check_dirs(),
        f"--recette-profile={profile}",
        f"--recette-json={out / 'results.json'}",
        f"--recette-lang={lang}",
        f"--recette-call-seconds={call_seconds}",
        f"--recette-nat-idle-max={nat_idle_max}",
        f"--html={out / 'report.html'}",
        "--self-contained-html",
        f"--junitxml={out / 'junit.xml'}",
        "-o", "python_files=check_*.py",
        "-o", "python_functions=check_*",
        "-o", "junit_family=xunit2",
        "-p", "no:cacheprovider",
        # The checks run in this process, never under the test suite's options (its
        # pyproject spreads tests over workers): the scheduler decides what overlaps.
        "-o", "addopts=",
        "--rootdir", str(Path(check_dirs()[0]).parent),
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "-p", "no:terminal",
    ]
    for o in only:
        args.append(f"--recette-only={o}")
    if serial:
        args.append("--recette-serial")
    if channels is not None:
        args.append(f"--recette-channels={channels}")
    if beyond_contract:
        args.append("--recette-beyond-contract")
    # Started before the first check, stopped after the last (a Ctrl-C included).
    cap = RunCapture.start(prof, out, enabled=capture)
    try:
        code = pytest.main(args)
    finally:
        captured = cap.stop()
    results_path = out / "results.json"
    if not results_path.exists():
        raise RecetteError(f"the check run did not complete (pytest exit {int(code)})")
    doc = load_results(results_path)
    doc.capture = captured  # what the sheet's annex says about it, and results.json too
    results_path.write_text(doc.model_dump_json(indent=2), encoding="utf-8")
    write_sheet(doc, prof, out, lang)
    router_file = write_router_config(doc, out)
    try:
        kept: Path | None = write_copy(profile, prof, out / "profile.yaml")
    except RecetteError as exc:
        kept = None
        print(f"recette: no copy of the profile beside the report: {exc}", file=sys.stderr)
    summary(doc, out)
    if router_file is not None and prof.router is not None:
        again = (f"--profile {kept}" if kept is not None
                 else f"--server {prof.operator.sip_server.ip}")
        print(f"router: {router_file.resolve()} (offline: recette audit --config "
              f"{router_file} --kind {prof.router.kind} {again})")
    if upload:
        upload_folder(out, upload)
    counts = doc.counts
    if sum(counts.values()) == 0:
        raise RecetteError("no check matched (see --only)")
    return 0 if counts["fail"] == 0 and counts["error"] == 0 else 1


def upload_folder(out: Path, url: str) -> None:
    """Send the output folder to the console (:mod:`harness.console.upload`)."""
    from harness.console.upload import upload

    try:
        answer = upload(out, url)
    except RecetteError as exc:
        print(f"recette: {exc}", file=sys.stderr)
        return
    print(f"console: run {answer.get('id')} of {answer.get('site')} "
          f"({'uploaded' if answer.get('new') else 'already there'})")
    if answer.get("gate"):
        print(f"console: international option: {answer['gate']}")


def write_sheet(doc: RunResults, prof: Profile, out: Path, lang: str) -> None:
    """The acceptance sheet (sheet.html) and its PDF for signing (sheet.pdf); a missing
    chromium costs the PDF only, and says so."""
    html_path = out / "sheet.html"
    html_path.write_text(rooms.load(rooms.SHEET).render(doc, prof, lang=lang),
                         encoding="utf-8")
    try:
        rooms.load(rooms.PDF).write_pdf(html_path, out / "sheet.pdf")
    except RecetteError as exc:
        print(f"recette: no PDF of the sheet: {exc}", file=sys.stderr)


def write_router_config(results: RunResults, out: Path) -> Path | None:
    """The router's configuration as the audit collected it (secrets already masked),
    beside the report in the form `recette audit --config` reads: the audit can be shown,
    diffed against next year's, or re-run without the device. Its kind (from the router-kind
    table) names the file and writes it."""
    config = next((c.figures.router_config for c in results.checks
                   if c.figures.router_config is not None), None)
    if config is None:
        return None
    kind = rooms.load(rooms.ROUTER_KINDS).KINDS[config.kind]
    path: Path = out / kind.saved_name
    path.write_text(kind.dump(config.files), encoding="utf-8")
    return path


def summary(doc: RunResults, out: Path) -> None:
    """Print one line per check, its first reason in the run's language, and where the
    reports are."""
    print()
    for c in doc.checks:
        print(f"{SYMBOL.get(c.status, c.status)}  {c.id:<34} {c.title(doc.lang)}")
        if c.reasons:
            print(f"        {c.reason(doc.lang).splitlines()[0][:160]}")
    print("\n" + ", ".join(f"{n} {s}" for s, n in doc.counts.items()))
    print(f"report: {(out / 'report.html').resolve()}")
    print(f"sheet:  {(out / 'sheet.html').resolve()}"
          + (f" (PDF: {(out / 'sheet.pdf').resolve()})" if (out / "sheet.pdf").exists() else ""))
    cap = doc.capture
    if cap is not None and cap.state == "captured":
        print("capture: " + ", ".join(f"{(out / f.name).resolve()} ({f.size / 1e6:.1f} MB"
                                      + (f", {f.dropped} dropped" if f.dropped else "") + ")"
                                      for f in cap.files))
    elif cap is not None and cap.state == "unavailable":
        print(f"capture: none ({cap.detail})")
    sys.stdout.flush()
