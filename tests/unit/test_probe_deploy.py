"""The probe's deployment files (deploy/) and their reader, harness/probe/deploy.py: the systemd
unit and the container recipe start the same command line, one that names no address of the
host it runs on, and the lab runs it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from harness.cli import build_parser, cmd_probe_serve
from harness.lab.topology import PROBE_PORT
from harness.probe import deploy
from harness.probe.deploy import DeployFileError, container_argv, runnable, unit_argv
from harness.profile import VantagePoint


def test_the_unit_and_the_container_start_the_same_probe() -> None:
    assert unit_argv() == container_argv()
    assert unit_argv()[:3] == ["/opt/recette/bin/recette", "probe", "serve"]


def test_the_command_line_works_unchanged_on_any_host() -> None:
    argv = unit_argv()
    assert re.findall(r"\d+\.\d+\.\d+\.\d+", " ".join(argv)) == ["0.0.0.0"]
    args = build_parser().parse_args(argv[1:])
    assert args.func is cmd_probe_serve
    assert args.control == f"0.0.0.0:{PROBE_PORT}"
    assert (args.send_from, args.sip_ip, args.no_sip) == (None, None, False)
    assert args.log == "-"  # to journald / the container log
    assert args.key_env == "RECETTE_PROBE_KEY"
    # the port a profile assumes when it names none
    assert VantagePoint.model_fields["control_port"].default == PROBE_PORT


def test_the_unit_keeps_its_hardening() -> None:
    text = deploy.UNIT.read_text()
    for line in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n",
                 "EnvironmentFile=/etc/recette/probe.env", "Restart=on-failure",
                 "StandardOutput=journal"):
        assert line in text
    assert "AmbientCapabilities=\n" in text  # no port below 1024: no capability


def test_the_container_runs_as_a_user() -> None:
    text = deploy.CONTAINERFILE.read_text()
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")


def test_runnable_runs_the_cli_module_of_this_interpreter() -> None:
    assert runnable(["/opt/recette/bin/recette", "probe", "serve", "--log", "-"]) == [
        sys.executable, "-m", "harness.cli", "probe", "serve", "--log", "-"]


# --- the readers, on small files ---------------------------------------------------------------

def _unit(tmp_path: Path, service: str) -> Path:
    path = tmp_path / "x.service"
    path.write_text(f"[Unit]\nDescription=x\nExecStart=/bin/false\n\n[Service]\n{service}")
    return path


def test_unit_continuations_prefixes_and_quotes(tmp_path: Path) -> None:
    path = _unit(tmp_path, "# a comment\nExecStart=-recette probe serve \\\n"
                           "  --control 0.0.0.0:5099 \\\n; between\n  --log '-'\nType=exec\n")
    assert unit_argv(path) == ["recette", "probe", "serve", "--control", "0.0.0.0:5099",
                               "--log", "-"]


def test_unit_reset_then_one_exec_start(tmp_path: Path) -> None:
    path = _unit(tmp_path, "ExecStart=recette probe serve --a\nExecStart=\n"
                           "ExecStart=recette probe serve --b\n")
    assert unit_argv(path) == ["recette", "probe", "serve", "--b"]


@pytest.mark.parametrize(("service", "said"), [
    ("Type=exec\n", "no ExecStart= in [Service]"),
    ("ExecStart=recette probe serve\nExecStart=recette probe serve\n", "a second ExecStart="),
    ("ExecStart=recette probe serve --send-from $ADDR\n", "$VARIABLE or a %specifier"),
    ("ExecStart=recette probe serve --log %L/x\n", "$VARIABLE or a %specifier"),
    ("ExecStart=recette probe serve --log 'x\n", "No closing quotation"),
    ("ExecStart=/usr/bin/python3 -m http.server\n", "is not `recette probe serve ...`"),
])
def test_unit_refusals(tmp_path: Path, service: str, said: str) -> None:
    with pytest.raises(DeployFileError, match=re.escape(said)):
        unit_argv(_unit(tmp_path, service))


def _containerfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Containerfile"
    path.write_text(text)
    return path


def test_container_last_stage_entrypoint_and_cmd(tmp_path: Path) -> None:
    path = _containerfile(tmp_path, (
        'FROM a AS build\nENTRYPOINT ["/x/recette", "probe", "serve", "--old"]\n'
        'FROM b\nCMD ["--control", \\\n  "0.0.0.0:1"]\n# note\n'
        'entrypoint ["/opt/recette/bin/recette", "probe", "serve"]\n'
        'HEALTHCHECK CMD ["true"]\n'))
    assert container_argv(path) == ["/opt/recette/bin/recette", "probe", "serve",
                                     "--control", "0.0.0.0:1"]


def test_container_entrypoint_drops_the_base_image_cmd(tmp_path: Path) -> None:
    path = _containerfile(tmp_path, 'FROM python\nENTRYPOINT ["recette", "probe", "serve"]\n')
    assert container_argv(path) == ["recette", "probe", "serve"]


@pytest.mark.parametrize(("text", "said"), [
    ("FROM a\n", "no ENTRYPOINT or CMD in the last stage"),
    ('FROM a\nENTRYPOINT ["recette", "probe", "serve"]\nFROM b\n', "no ENTRYPOINT or CMD"),
    ("FROM a\nCMD recette probe serve\n", "CMD must be a JSON list of strings"),
    ('FROM a\nENTRYPOINT ["recette", 1]\n', "ENTRYPOINT must be a JSON list of strings"),
    ('FROM a\nCMD ["recette", "lab", "up"]\n', "is not `recette probe serve ...`"),
])
def test_container_refusals(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(DeployFileError, match=re.escape(said)):
        container_argv(_containerfile(tmp_path, text))


def test_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(DeployFileError, match=r"cannot read .*deploy/ folder"):
        unit_argv(tmp_path / "nope.service")


def test_the_https_drop_in_replaces_the_command_and_loads_the_certificate() -> None:
    argv = unit_argv(dropins=[deploy.HTTPS_DROPIN])
    plain = unit_argv()
    assert argv[:len(plain)] == plain  # the same probe, plus TLS from the credentials
    assert argv[len(plain):] == ["--tls-cert", f"{deploy.CREDENTIALS_DIR}/probe.crt",
                                 "--tls-key", f"{deploy.CREDENTIALS_DIR}/probe.key"]
    # what `recette probe cert --out /etc/recette --name probe` writes
    assert deploy.credentials() == {"probe.crt": Path("/etc/recette/probe.crt"),
                                    "probe.key": Path("/etc/recette/probe.key")}
    assert str(deploy.CREDENTIALS_DIR) == "/run/credentials/recette-probe.service"


def test_a_drop_in_must_reset_exec_start_before_its_own(tmp_path: Path) -> None:
    unit = _unit(tmp_path, "ExecStart=recette probe serve --a\n")
    keeps = tmp_path / "keeps.conf"
    keeps.write_text("[Service]\nLimitNOFILE=8192\n")
    assert unit_argv(unit, [keeps]) == ["recette", "probe", "serve", "--a"]
    adds = tmp_path / "adds.conf"
    adds.write_text("[Service]\nExecStart=recette probe serve --b\n")
    with pytest.raises(DeployFileError, match=re.escape(f"{adds}:2: a second ExecStart=")):
        unit_argv(unit, [adds])
    resets = tmp_path / "resets.conf"
    resets.write_text("[Service]\nExecStart=\nExecStart=recette probe serve --b\n")
    assert unit_argv(unit, [keeps, resets]) == ["recette", "probe", "serve", "--b"]


@pytest.mark.parametrize("line", ["LoadCredential=probe.crt", "LoadCredential=:/etc/x",
                                  "LoadCredential=a/b:/etc/x", "LoadCredential=x:relative"])
def test_credential_refusals(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(f"[Service]\n{line}\n")
    with pytest.raises(DeployFileError, match=re.escape(f"{path}:2: LoadCredential=")):
        deploy.credentials(path)
