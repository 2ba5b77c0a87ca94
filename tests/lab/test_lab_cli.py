"""``recette lab up|status|down`` as a user runs them, including cleaning up after a killed run."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from harness import lab as labmod
from harness import netns

REPO = Path(__file__).resolve().parents[2]


def _recette(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _lab_pids(prefix: str) -> list[int]:
    return [pid for role in labmod.ROLES for pid in labmod._ns_pids(f"{prefix}-{role}")]


@pytest.mark.lab
def test_up_status_down_round_trip(tmp_path: Path, cli_lab: None) -> None:
    prefix = f"rct{secrets.token_hex(2)}"
    prof = tmp_path / "lab.yaml"
    try:
        up = _recette("lab", "up", "--prefix", prefix, "--alg", "on", "--firewall", "open",
                      "--profile-out", str(prof))
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == prefix
        assert "router: firewall open, SIP ALG on" in up.stderr
        check = _recette("profile", "check", str(prof))
        assert check.returncode == 0, check.stderr
        assert oct(prof.stat().st_mode & 0o777) == "0o600"
        st = _recette("lab", "status", "--json")
        mine = [s for s in json.loads(st.stdout) if s["prefix"] == prefix]
        assert mine and mine[0]["kamailio"] is True and mine[0]["alg"] is True
        assert all(mine[0]["namespaces"].values())
        rules = netns.run(f"{prefix}-rtr", ["nft", "list", "ruleset"]).stdout
        assert 'ct helper set "sip-5060"' in rules
    finally:
        down = _recette("lab", "down", "--prefix", prefix)
    assert down.returncode == 0, down.stderr
    assert not any(netns.exists(f"{prefix}-{r}") for r in labmod.ROLES)
    again = _recette("lab", "down", "--prefix", prefix)
    assert again.returncode == 0, again.stderr


@pytest.mark.lab
def test_down_cleans_what_a_killed_run_left_and_spares_live_runs(tmp_path: Path,
                                                                 every_cli_lab: None) -> None:
    """A lab whose building process was SIGKILLed, plus a half-built one: `lab down`
    removes both; a lab whose owner is alive (another test session) is kept."""
    dead = f"rct{secrets.token_hex(2)}"
    builder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from harness.lab import Lab; Lab.up(prefix=sys.argv[1]); "
         "print('up', flush=True); time.sleep(600)", dead],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    half = f"rct{secrets.token_hex(2)}"
    live = labmod.Lab.up(prefix=f"rct{secrets.token_hex(2)}")
    stray = None
    try:
        assert builder.stdout is not None and builder.stdout.readline() == "up\n"
        builder.kill()
        builder.wait(timeout=10)
        for role in ("lan", "rtr"):
            netns.run(None, ["ip", "netns", "add", f"{half}-{role}"])
        stray = netns.popen(f"{half}-rtr", ["sleep", "300"])
        kamailio_pids = _lab_pids(dead)
        assert kamailio_pids, "Kamailio should be running in the orphaned lab"
        down = _recette("lab", "down")
        assert down.returncode == 0, down.stderr
        assert dead in down.stderr and half in down.stderr
        assert f"kept {live.prefix}: its owner (pid {os.getpid()}) is still running" \
            in down.stderr
        left = labmod.existing_prefixes()
        assert dead not in left and half not in left and live.prefix in left
        assert stray.wait(timeout=10) is not None
        for pid in kamailio_pids:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
                f"/proc/{pid}/status").read_text().lower()
    finally:
        builder.kill()
        if stray is not None:
            stray.kill()
        for p in (dead, half):
            labmod.down(p)
        live.down()
    st = _recette("lab", "status", "--json")
    assert not any(s["prefix"] in (dead, half, live.prefix)
                   for s in (json.loads(st.stdout) if st.returncode == 0 else []))
