"""``recette demo``: what a newcomer runs first. Lab up, every check, report, lab down."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.errors import RecetteError
from harness.lab import Lab
from harness.lab.firewall import FirewallMode
from harness.runner import default_out, run_checks


def demo(*, alg: bool, firewall: FirewallMode, out: Path | None, lang: str,
         serial: bool = False, capture: bool = True) -> int:
    """Run the whole suite on a fresh lab; the lab is always torn down, even on Ctrl-C.
    Then the chain of trust end to end: the lab's outsider probe signed its sweeps, the run
    goes to a console through the upload path, and the console's gate says when the
    international option may be switched on."""
    t0 = time.monotonic()
    out = out or default_out()
    profile_path = out / "lab-profile.yaml"
    print(f"recette demo: building the reference lab (firewall {firewall}, SIP ALG "
          f"{'on' if alg else 'off'})", file=sys.stderr)
    lab = Lab.up(alg=alg, firewall=firewall, profile_path=profile_path,
                 progress=lambda m: print(f"  - {m}", file=sys.stderr))
    try:
        print(f"recette demo: lab {lab.prefix} up; running every check", file=sys.stderr)
        # NAT bindings are tried up to 30 s idle (not the 60 s default) to keep the wait short.
        code = run_checks(profile=profile_path, out=out, only=[], lang=lang, nat_idle_max=30,
                          serial=serial, capture=capture)
        keys = lab.probe_keys()
        trunks = [t.name for t in lab.profile.trunks]
    finally:
        lab.down()
        # The profile holds the lab's passwords; the lab that used them is gone, and the
        # report folder may be shared.
        profile_path.unlink(missing_ok=True)
        print(f"recette demo: lab {lab.prefix} removed; wall time "
              f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
    _through_the_console(out, keys, trunks)
    return code


def _through_the_console(out: Path, keys: dict[str, str], trunks: list[str]) -> None:
    """Upload the run to a console on loopback, as an integrator would, and print where the
    international option stands. The console's store is the demo's own (``out/console.db``):
    the lab's probe keys die with the lab and have no place in a real console's store."""
    from harness.console.demo import upload_to_demo_console

    try:
        lines = upload_to_demo_console(out, keys, trunks)
    except RecetteError as exc:
        print(f"console: the run did not reach the console's gate ({exc})")
        return
    for line in lines:
        print(line)
