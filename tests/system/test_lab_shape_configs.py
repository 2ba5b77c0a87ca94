"""The configurations the lab renders per operator shape and firewall mode are accepted by the
programs that load them: ``kamailio -c`` for each shape's config, ``nft --check`` for the
latching table and for each router firewall mode (in a throw-away network namespace, so the
check can touch nothing of this host's). Seconds, no lab built; needs root and the binaries."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import harness.lab.profile as lab_profile
from harness.lab import kamailio, latch, shapes
from harness.lab.firewall import FIREWALL_MODES, FirewallMode, RouterPolicy, ruleset
from harness.profile import Profile

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None or shutil.which("nft") is None
    or shutil.which("unshare") is None, reason="needs kamailio, nft and unshare")


def _nft_check(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["unshare", "--net", "nft", "--check", "-f", "-"], input=text,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("shape", list(shapes.SHAPES))
def test_kamailio_accepts_each_shapes_config(shape: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_profile, "STATE_ROOT", tmp_path)
    prof = Profile.model_validate(lab_profile.lab_profile_data("rct0a0a", operator="field"))
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(kamailio.render(prof, field=True, shape=shapes.get(shape)))
    check = subprocess.run(["kamailio", "-c", "-f", str(cfg)], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr[-2000:]


def test_nft_accepts_the_latching_table() -> None:
    check = _nft_check(latch.ruleset(shapes.SHAPES["three-address"].media_ip))
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("mode", FIREWALL_MODES)
def test_nft_accepts_each_firewall_mode(mode: FirewallMode) -> None:
    policy = RouterPolicy(mode=mode, operator=shapes.SHAPES["three-address"].addresses)
    check = _nft_check(ruleset(policy, wan="wan0", voice="voice0", data="data0"))
    assert check.returncode == 0, check.stderr
