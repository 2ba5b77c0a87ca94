"""``recette lab up|status|down`` as a user runs them, including cleaning up after a killed run."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from harness import lab as labmod
from harness import netns

REPO = Path(__file__).resolve().parent.parent


def _recette(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _lab_pids(prefix: str) -> list[int]:
    return [pid for role in labmod.ROLES for pid in labmod._ns_pids(f"{prefix}-{role}")]


@pytest.mark.lab
def test_up_status_down_round_trip(tmp_path: Path) -> None:
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
def test_down_cleans_what_a_killed_run_left(tmp_path: Path) -> None:
    """A full lab whose builder died, plus a half-built one: `lab down` removes both."""
    full = labmod.Lab.up(prefix=f"rct{secrets.token_hex(2)}")
    half = f"rct{secrets.token_hex(2)}"
    for role in ("lan", "rtr"):
        netns.run(None, ["ip", "netns", "add", f"{half}-{role}"])
    stray = netns.popen(f"{half}-rtr", ["sleep", "300"])
    try:
        kamailio_pids = _lab_pids(full.prefix)
        assert kamailio_pids, "Kamailio should be running in the full lab"
        down = _recette("lab", "down")
        assert down.returncode == 0, down.stderr
        assert full.prefix in down.stderr and half in down.stderr
        assert labmod.existing_prefixes() == []
        assert stray.wait(timeout=10) is not None
        for pid in kamailio_pids:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
                f"/proc/{pid}/status").read_text().lower()
    finally:
        stray.kill()
        labmod.down(full.prefix)
        labmod.down(half)
    st = _recette("lab", "status")
    assert st.returncode == 3 and st.stdout.strip() == "no lab is up"
