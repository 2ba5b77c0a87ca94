"""The operator's side of the lab: its Kamailio, the SIPp far ends, and the probe services.

These are the peers every check talks to through the site's router: Kamailio registers and
routes the trunks, SIPp answers and places calls with real media (the echo far end; in the
field lab also the announcement test number, behind the rtpengine relay of
:mod:`harness.lab.relay`), and the probe services (one beside the SIP server in the default lab
only, one on the outsider) report what crossed the router. Each is
started in its namespace and waited for until it answers, so no check races a half-started
peer; Kamailio can be stopped and restarted (another digest algorithm, an operator outage).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab import announcement, farend, kamailio, relay, shapes, testline
from harness.lab.procs import (
    kill_all,
    ns_pids,
    pid_alive,
    read_pid,
    run_kamailio,
    tcp_listening,
    udp_port_taken,
)
from harness.lab.profile import lab_password, lab_signing_key
from harness.lab.shapes import Shape
from harness.lab.state import lab_dir
from harness.lab.topology import OP_SERVER, OUTSIDER, PROBE, PROBE_PORT, ns
from harness.probe import deploy
from harness.probe.deploy import SIGNING_KEY_ENV
from harness.profile import Profile


def kamailio_pidfile(prefix: str) -> Path:
    return lab_dir(prefix) / "kamailio.pid"


def start_kamailio(prefix: str, profile: Profile, digest: str, timeout: float = 10.0, *,
                   field: bool = False, shape: Shape = shapes.DEFAULT) -> None:
    """Start the operator's Kamailio in ``op`` (the field lab's SBC when ``field``, with the
    sockets of ``shape``) and wait until it answers OPTIONS."""
    state_dir = lab_dir(prefix)
    run_kamailio(ns(prefix, "op"), state_dir / "kamailio.cfg",
                 kamailio.render(profile, algorithm=digest, field=field, shape=shape),
                 pidfile=kamailio_pidfile(prefix), log=state_dir / "kamailio.log",
                 memory=(32, 8), ping=(str(OP_SERVER), str(OP_SERVER), 5060),
                 timeout=timeout, name="kamailio")


def start_far_end(prefix: str, timeout: float = 5.0) -> None:
    """Start the SIPp far end in ``op`` and wait until its SIP port is bound."""
    pcap = lab_dir(prefix) / "farend.pcap"
    if not pcap.exists():
        farend.write_pcap(pcap)
    _start_sipp(prefix, "farend", farend.scenario(pcap),
                lambda scen: farend.command(scen, str(OP_SERVER), kamailio.FAR_END_PORT),
                kamailio.FAR_END_PORT, timeout)


def start_announcement(prefix: str, timeout: float = 5.0) -> None:
    """Start the field lab's announcement (the test number) in ``op``; wait for its port."""
    pcap = lab_dir(prefix) / "announcement.pcap"
    if not pcap.exists():
        announcement.write_pcap(pcap)
    _start_sipp(prefix, "announcement", announcement.scenario(pcap),
                lambda scen: announcement.command(scen, str(OP_SERVER)), announcement.PORT,
                timeout)


def start_test_line(prefix: str, timeout: float = 5.0) -> None:
    """Start the field lab's test line (short code, an SBC's habits) in ``op``; wait for its
    port."""
    _start_sipp(prefix, "testline", testline.scenario(),
                lambda scen: testline.command(scen, str(OP_SERVER)), testline.PORT, timeout)


def _start_sipp(prefix: str, name: str, scenario: str,
                argv: Callable[[Path], list[str]], port: int, timeout: float) -> None:
    """Run a SIPp UAS ``name`` in ``op`` (scenario, log and PID file ``<name>.*`` in the lab's
    folder) and wait until it has bound its SIP ``port``."""
    state_dir = lab_dir(prefix)
    scen = state_dir / f"{name}.xml"
    scen.write_text(scenario)
    log = open(state_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the process
    with log:
        proc = netns.popen(ns(prefix, "op"), argv(scen), stdout=log, stderr=log,
                           stdin=subprocess.DEVNULL, cwd=str(state_dir))
    (state_dir / f"{name}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"the SIPp {name} exited with {proc.returncode}: see "
                           f"{state_dir / f'{name}.log'}")
        if udp_port_taken(ns(prefix, "op"), str(OP_SERVER), port):
            return
        time.sleep(0.02)
    raise LabError(f"the SIPp {name} did not start within {timeout:.0f} s")


# The lab's probes by the name the console knows them under, and their namespaces.
PROBE_NAMES = {"op": "server", "out": "outsider"}


def start_probes(prefix: str, timeout: float = 10.0, *, server_side: bool = True) -> None:
    """``recette probe serve`` in ``op`` (SIP listeners, sending from the server IP; unless
    not ``server_side``) and in ``out`` (the outsider vantage point), keyed with the lab's
    probe key, each signing its sweeps with its own key (:func:`lab_signing_key`, in its
    environment as the unit's EnvironmentFile would give it; :meth:`Lab.probe_keys` has the
    public halves).

    The outsider runs exactly the systemd unit's ``ExecStart`` (``deploy/``, read now), as an
    integrator's VM would: no address in it, its JSON lines on stdout, which go to
    ``probe-out.jsonl`` as journald would keep them; stderr to ``probe-out.log``."""
    state_dir = lab_dir(prefix)
    env = {**os.environ, "RECETTE_PROBE_KEY": lab_password(prefix, "probe")}
    server = [sys.executable, "-m", "harness.cli", "probe", "serve", "--control",
              f"{PROBE}:{PROBE_PORT}", "--send-from", str(OP_SERVER),
              "--log", str(state_dir / "probe-op.jsonl"), "--sip-ip", str(PROBE)]
    outsider = deploy.runnable(deploy.unit_argv())
    # (role, control address, argv, where stdout goes: the outsider's is its JSON log)
    probes = (("op", PROBE, server, "probe-op.log"), ("out", OUTSIDER, outsider, "probe-out.jsonl"))
    for role, control, argv, stdout in probes[0 if server_side else 1:]:
        log = open(state_dir / f"probe-{role}.log", "ab")  # noqa: SIM115 - handed over
        out = open(state_dir / stdout, "ab")  # noqa: SIM115 - handed over
        signing = lab_signing_key(prefix, PROBE_NAMES[role])
        with log, out:
            proc = netns.popen(ns(prefix, role), argv, stdout=out, stderr=log,
                               stdin=subprocess.DEVNULL,
                               env={**env, SIGNING_KEY_ENV: signing})
        deadline = time.monotonic() + timeout
        while not tcp_listening(ns(prefix, role), str(control), PROBE_PORT):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"the {role} probe did not start: see "
                               f"{state_dir / f'probe-{role}.log'}")
            time.sleep(0.02)


def kamailio_running(prefix: str) -> bool:
    return pid_alive(kamailio_pidfile(prefix))


def stop_kamailio(prefix: str) -> None:
    """Stop the operator's Kamailio (all its children) and wait for them to exit; the far
    ends and the field lab's relay keep running."""
    spared = {read_pid(lab_dir(prefix) / f"{name}.pid")
              for name in ("farend", "announcement", "testline")} | {
                  read_pid(relay.pidfile(prefix))}
    kill_all([p for p in ns_pids(ns(prefix, "op")) if p not in spared])
    kamailio_pidfile(prefix).unlink(missing_ok=True)
