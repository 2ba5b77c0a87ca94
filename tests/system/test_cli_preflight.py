"""Not root, or a system package missing: one clear line saying what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import lab as labmod
from harness.errors import PreflightError

REPO = Path(__file__).resolve().parents[2]


def test_not_root_says_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PreflightError) as exc:
        labmod.preflight()
    assert str(exc.value) == (
        "the lab needs root (it creates network namespaces): run it with sudo"
    )


def test_not_root_cli_one_line(tmp_path: Path) -> None:
    """A real process whose effective uid is not 0 (uid 1000 in a user namespace, which still
    reads the interpreter under /root) gets the one-line answer, no traceback."""
    unshare = shutil.which("unshare")
    assert unshare, "unshare (util-linux) is required"
    proc = subprocess.run(
        [unshare, "--user", "--map-user=1000", "--map-group=1000",
         sys.executable, "-m", "harness.cli", "lab", "up", "--profile-out",
         str(tmp_path / "lab.yaml")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "recette: the lab needs root (it creates network namespaces): run it with sudo\n"
    )


def test_missing_package_names_it_and_the_fix(tmp_path: Path) -> None:
    """PATH without kamailio, nft and conntrack: the CLI names the Debian packages."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ip = shutil.which("ip")
    assert ip
    (bindir / "ip").symlink_to(ip)
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "lab", "up", "--profile-out",
         str(tmp_path / "lab.yaml")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": str(bindir)},
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "recette: missing system package(s): conntrack, kamailio, libcap2-bin, nftables, "
        "openssh-server: run `sudo ./setup.sh` (or apt-get install conntrack kamailio "
        "libcap2-bin nftables openssh-server)"
    )
