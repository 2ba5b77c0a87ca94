"""The probe's deployment command lines, read from ``deploy/`` so the lab runs what ships.

``deploy/recette-probe.service`` (systemd) and ``deploy/Containerfile`` (podman/docker) each
start ``recette probe serve`` with one command line. The lab starts its outsider probe with the
unit's, and the tests hold the container's equal to it and run it too, so a flag that works in
the lab but not on a rented VM (an address of the lab written in it, a log file the service
cannot write) cannot ship unnoticed. Only what these two files use is understood; anything
else (``$VARIABLES``, ``%`` specifiers, a shell-form ``CMD``) is refused with a clear error
rather than guessed.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.errors import RecetteError

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"  # beside harness/ in a checkout
UNIT = DEPLOY_DIR / "recette-probe.service"
CONTAINERFILE = DEPLOY_DIR / "Containerfile"
HTTPS_DROPIN = DEPLOY_DIR / "recette-probe-https.conf"  # the unit's drop-in for --tls-cert
CREDENTIALS_DIR = Path("/run/credentials") / UNIT.name  # where systemd puts LoadCredential=
PROGRAM = "recette"  # the console script the files run, by its base name
# What the unit's EnvironmentFile (and the container's --env-file) holds, as `recette probe
# keygen --env-file` writes it: the key shared with the agents, and the probe's own signing key
# (harness.attest), which the command lines name by these defaults, never by value.
SIGNING_KEY_ENV = "RECETTE_PROBE_SIGNING_KEY"


class DeployFileError(RecetteError):
    """A deployment file is missing or says something this module will not guess at."""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise DeployFileError(f"{path}: cannot read ({exc.strerror}); the lab needs a recette "
                              "checkout with its deploy/ folder") from None


def _logical_lines(text: str, comments: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with backslash continuations joined and comment lines (any
    line starting with one of ``comments``, also inside a continuation) dropped."""
    buf, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if (not buf and not line) or line[:1] in tuple(comments):
            continue
        if not buf:
            start = no
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield start, buf + line
        buf = ""
    if buf:
        yield start, buf


def _service_settings(path: Path, key: str) -> Iterator[tuple[int, str]]:
    """(line number, value) of each ``key=`` in the file's ``[Service]`` section."""
    section = ""
    for no, line in _logical_lines(_read(path), "#;"):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        name, eq, value = line.partition("=")
        if section == "Service" and eq and name.strip() == key:
            yield no, value.strip()


def unit_argv(path: Path = UNIT, dropins: Sequence[Path] = ()) -> list[str]:
    """The ``ExecStart=`` of the unit's ``[Service]`` section as an argv list, after the
    ``dropins`` (``recette-probe.service.d/*.conf``, in order) as systemd applies them: an
    empty ``ExecStart=`` resets the list, a second command is refused."""
    found: tuple[Path, int, str] | None = None
    for file in (path, *dropins):
        for no, value in _service_settings(file, "ExecStart"):
            if not value:
                found = None
            elif found is not None:
                raise DeployFileError(f"{file}:{no}: a second ExecStart=; the probe is one "
                                      "command (reset it first with an empty ExecStart=)")
            else:
                found = (file, no, value)
    if found is None:
        raise DeployFileError(f"{path}: no ExecStart= in [Service]")
    file, no, value = found
    value = value.lstrip("@-:+!")  # exec prefixes (ignore failure, full privileges, ...)
    if "$" in value or "%" in value:
        raise DeployFileError(f"{file}:{no}: ExecStart= uses a $VARIABLE or a %specifier; "
                              "keep the probe's command line literal")
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise DeployFileError(f"{file}:{no}: ExecStart=: {exc}") from None
    return _checked(argv, file)


def credentials(path: Path = HTTPS_DROPIN) -> dict[str, Path]:
    """The ``LoadCredential=ID:SOURCE`` lines of a unit or drop-in: what systemd copies to
    ``/run/credentials/<unit>/ID`` for the service (the lab places its files there)."""
    found: dict[str, Path] = {}
    for no, value in _service_settings(path, "LoadCredential"):
        ident, colon, source = value.partition(":")
        if not colon or not ident or "/" in ident or not source.startswith("/"):
            raise DeployFileError(f"{path}:{no}: LoadCredential= expects ID:/absolute/path")
        found[ident] = Path(source)
    return found


def container_argv(path: Path = CONTAINERFILE) -> list[str]:
    """``ENTRYPOINT`` + ``CMD`` of the Containerfile's last stage as an argv list (JSON form
    only: a shell form would run under ``/bin/sh -c``, not as the unit does)."""
    entry: list[str] = []
    cmd: list[str] | None = None  # None: inherited from the base image, unknown here
    cmd_set = False
    for no, line in _logical_lines(_read(path), "#"):
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            entry, cmd, cmd_set = [], None, False
        elif word in ("ENTRYPOINT", "CMD"):
            try:
                value = json.loads(rest)
            except ValueError:
                value = None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DeployFileError(f"{path}:{no}: {word} must be a JSON list of strings "
                                      "(exec form)")
            if word == "ENTRYPOINT":
                entry = value
                if not cmd_set:  # an ENTRYPOINT drops the base image's CMD
                    cmd = []
            else:
                cmd, cmd_set = value, True
    if cmd is None:
        raise DeployFileError(f"{path}: no ENTRYPOINT or CMD in the last stage")
    return _checked(entry + cmd, path)


def _checked(argv: list[str], path: Path) -> list[str]:
    if len(argv) < 3 or Path(argv[0]).name != PROGRAM or argv[1:3] != ["probe", "serve"]:
        raise DeployFileError(f"{path}: the command is not `{PROGRAM} probe serve ...`: "
                              f"{shlex.join(argv)}")
    return argv


def runnable(argv: list[str], python: str = sys.executable) -> list[str]:
    """``argv`` with its ``recette`` program replaced by this interpreter running the CLI
    module, so the lab runs the files' command line from the checkout under test."""
    return [python, "-m", "harness.cli", *argv[1:]]
