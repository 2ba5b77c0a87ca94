"""``recette demo``: what a newcomer runs first. Lab up, every check, report, lab down."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.lab import Lab
from harness.lab.firewall import FirewallMode
from harness.runner import default_out, run_checks


def demo(*, alg: bool, firewall: FirewallMode, out: Path | None, lang: str,
         serial: bool = False, capture: bool = True) -> int:
    """Run the whole suite on a fresh lab; the lab is always torn down, even on Ctrl-C."""
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
        _gate_summary(lab)
    finally:
        lab.down()
        # The profile holds the lab's passwords; the lab that used them is gone, and the
        # report folder may be shared.
        profile_path.unlink(missing_ok=True)
        print(f"recette demo: lab {lab.prefix} removed; wall time "
              f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
    _console_summary(out)
    return code


def _console_summary(out: Path) -> None:
    """Put the demo's run (its masked files; the lab profile is gone) into the console's
    store on this machine, the same store as the gate, and say how to see it there."""
    from sqlalchemy.exc import SQLAlchemyError

    from harness.console.upload import import_local
    from harness.errors import RecetteError

    try:
        answer = import_local(out, None)
    except (RecetteError, SQLAlchemyError, OSError) as exc:
        print(f"console: the run was not put in the console's store ({exc})")
        return
    print(f"console: the demo's run is in the console's store (site {answer['site']}). To see "
          "it: recette console user add admin --role administrator (once), then recette "
          "console serve --insecure-cookies and open http://127.0.0.1:8080")


def _gate_summary(lab: Lab) -> None:
    """Where the international option stands after this run (the firewall check recorded its
    verification in the gate store)."""
    from harness.errors import RecetteError
    from harness.gate.record import site_key
    from harness.gate.store import open_store

    try:
        st = open_store().status(site_key(lab.profile), lab.profile.trunks[0].name)
    except RecetteError as exc:
        print(f"international option: gate store unavailable ({exc})")
        return
    print(f"international option ({st.trunk}): {st.state}: {st.reason}")
