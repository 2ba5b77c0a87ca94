"""``recette probe keygen`` and ``recette probe serve`` as a user runs them (harness/cli.py)."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harness.attest import Signer, generate, key_id
from harness.cli import main


def _key_bytes(key: str) -> bytes:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


def _env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_keygen_prints_fresh_keys_and_the_profile_lines(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "keygen"]) == 0
    first = capsys.readouterr()
    keys = _env(first.out)
    assert set(keys) == {"RECETTE_PROBE_KEY", "RECETTE_PROBE_SIGNING_KEY"}
    key, signing = keys["RECETTE_PROBE_KEY"], keys["RECETTE_PROBE_SIGNING_KEY"]
    assert len(_key_bytes(key)) >= 32
    signer = Signer.from_text(signing)
    assert "vantage_points:\n    outsider:\n" in first.err
    assert "control_port: 5099" in first.err and "key_env: RECETTE_PROBE_KEY" in first.err
    assert key not in first.err and signing not in first.err
    assert f"recette console probe add <name> {signer.public}\n" in first.err
    assert signer.key_id in first.err and "never leaves the probe" in first.err
    assert main(["probe", "keygen"]) == 0
    again = _env(capsys.readouterr().out)
    assert again["RECETTE_PROBE_KEY"] != key and again["RECETTE_PROBE_SIGNING_KEY"] != signing


def test_keygen_env_file_is_0600_and_never_overwritten_silently(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "probe.env"
    old = os.umask(0o022)
    try:
        assert main(["probe", "keygen", "--env-file", str(env)]) == 0
    finally:
        os.umask(old)
    out = capsys.readouterr()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text()
    keys = _env(text)
    assert list(keys) == ["RECETTE_PROBE_KEY", "RECETTE_PROBE_SIGNING_KEY"]
    key, signing = keys["RECETTE_PROBE_KEY"], keys["RECETTE_PROBE_SIGNING_KEY"]
    assert len(_key_bytes(key)) >= 32
    public = Signer.from_text(signing).public
    assert out.out == "" and key not in out.err and signing not in out.err
    assert str(env) in out.err and f"recette console probe add <name> {public}" in out.err

    assert main(["probe", "keygen", "--env-file", str(env)]) == 2
    err = capsys.readouterr().err
    assert err == f"recette: --env-file: {env} exists (its key may be in use); --force " \
                  "replaces it\n"
    assert env.read_text() == text

    env.chmod(0o644)
    assert main(["probe", "keygen", "--env-file", str(env), "--force"]) == 0
    capsys.readouterr()
    assert env.read_text() != text
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["probe.env"]  # no temporary file left


def test_pubkey_reads_the_signing_key_back_and_prints_only_public_things(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = generate()
    monkeypatch.setenv("RECETTE_PROBE_SIGNING_KEY", private)
    assert main(["probe", "pubkey"]) == 0
    out = capsys.readouterr().out
    assert out == (f"public key {public}\nkey id {key_id(public)}\n"
                   f"register it: recette console probe add <name> {public}\n")
    monkeypatch.setenv("OTHER", private)
    assert main(["probe", "pubkey", "--signing-key-env", "OTHER"]) == 0
    assert public in capsys.readouterr().out
    monkeypatch.setenv("RECETTE_PROBE_SIGNING_KEY", "garbage-" + private[:10])
    assert main(["probe", "pubkey"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recette: --signing-key-env: RECETTE_PROBE_SIGNING_KEY: malformed "
                          "signing key") and private[:10] not in err and err.count("\n") == 1
    monkeypatch.delenv("RECETTE_PROBE_SIGNING_KEY")
    assert main(["probe", "pubkey"]) == 2
    assert "RECETTE_PROBE_SIGNING_KEY is not set" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["--env-file", "{tmp}/missing/probe.env"], "recette: --env-file: folder {tmp}/missing "
                                               "does not exist\n"),
    (["--env-file", "{tmp}"], "recette: --env-file: {tmp} is a folder\n"),
    (["--key-env", "NOT-A-NAME"], "recette: --key-env: 'NOT-A-NAME' is not an environment "
                                  "variable name\n"),
    (["--signing-key-env", "A B"], "recette: --signing-key-env: 'A B' is not an environment "
                                   "variable name\n"),
    (["--signing-key-env", "RECETTE_PROBE_KEY"], "recette: --key-env and --signing-key-env "
                                                 "must differ\n"),
])
def test_keygen_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    argv: list[str], said: str) -> None:
    assert main(["probe", "keygen", *(a.format(tmp=tmp_path) for a in argv)]) == 2
    assert capsys.readouterr().err == said.format(tmp=tmp_path)


def test_serve_refuses_to_run_without_a_key(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECETTE_PROBE_KEY", raising=False)
    assert main(["probe", "serve", "--no-sip"]) == 2
    assert capsys.readouterr().err.startswith(
        "recette: --key-env: environment variable RECETTE_PROBE_KEY is not set")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_log_dash_puts_the_json_lines_on_stdout(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "RECETTE_PROBE_KEY": "k" * 43}
    env.pop("RECETTE_PROBE_SIGNING_KEY", None)
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "probe", "serve",
                                 "--control", f"127.0.0.1:{port}", "--no-sip", "--log", "-"],
                                stdout=out, stderr=err, env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert json.loads(r.read())["status"] == "ok"
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "err").read_text()
                assert time.monotonic() < deadline, "the probe did not answer in 20 s"
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)
    (start,) = [json.loads(x) for x in (tmp_path / "out").read_text().splitlines()]
    assert start["event"] == "start" and start["send_from"] == "auto"
    assert start["sip_ip"] is None and start["control"] == ["127.0.0.1", port]
    assert "k" * 43 not in (tmp_path / "out").read_text() + (tmp_path / "err").read_text()
    assert "sending from the kernel-chosen address" in (tmp_path / "err").read_text()
    assert start["signing_key"] is None
    assert ("recette probe: warning: no signing key (RECETTE_PROBE_SIGNING_KEY is not set): "
            "its sweeps are unsigned and the console cannot verify them\n"
            ) in (tmp_path / "err").read_text()


def test_serve_refuses_a_malformed_signing_key_without_echoing_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECETTE_PROBE_KEY", "k" * 43)
    monkeypatch.setenv("RECETTE_PROBE_SIGNING_KEY", "secret-but-not-a-key")
    assert main(["probe", "serve", "--no-sip"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recette: --signing-key-env: RECETTE_PROBE_SIGNING_KEY: malformed")
    assert "secret-but" not in err
